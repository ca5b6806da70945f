/*
 * Copyright (C) Digin gateway developers
 *
 * digin_ent.c: the entitlements document (valid documents, defaults,
 * grants, one table row per validation error with its exact message),
 * quota periods, budget months and media names.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "digin_ent.h"


/* the example document of the README, in parts a row can replace */

#define VERSION   "\"version\": 1"

#define VENDORS                                                              \
    "\"vendors\": {"                                                         \
    " \"bokskya\": { \"name\": \"Bokskya\", \"media\": [\"ebook\"] },"       \
    " \"lydhuset\": { \"name\": \"Lydhuset\", \"media\": [\"audio\"],"       \
    " \"loan_cost\": 12 } }"

#define PACKAGES                                                             \
    "\"packages\": {"                                                        \
    " \"basis\": { \"name\": \"Basispakke\","                                \
    " \"vendors\": [\"bokskya\", \"lydhuset\"] },"                           \
    " \"skole\": { \"name\": \"Skolepakke\", \"vendors\": [\"bokskya\"],"    \
    " \"media\": [\"ebook\"] } }"

#define LIBRARIES                                                            \
    "\"libraries\": {"                                                       \
    " \"0301\": { \"name\": \"Deichman\", \"county\": \"03\","               \
    " \"status\": \"active\", \"packages\": [\"basis\"],"                    \
    " \"quota\": { \"period_days\": 30, \"ebook\": 3, \"audio\": 2 },"       \
    " \"monthly_budget\": 5000, \"loan_days\": 21 } }"

#define PATRONS                                                              \
    "\"patrons\": { \"https://login.example\": {"                            \
    " \"patron-7\": { \"library\": \"0301\" },"                              \
    " \"patron-9\": { \"library\": \"0301\", \"blocked\": true } } }"

#define DOC4(v, p, l, pat)                                                   \
    "{ " VERSION ", " v ", " p ", " l ", " pat " }"

#define EXAMPLE   DOC4(VENDORS, PACKAGES, LIBRARIES, PATRONS)

/* one library "L" (name "L") with these members, the example's rest */
#define LIB(members)                                                         \
    DOC4(VENDORS, PACKAGES,                                                  \
         "\"libraries\": { \"L\": { \"name\": \"L\"" members " } }",         \
         "\"patrons\": {}")

/* the example with one vendor "v" (name "V") of these members */
#define VENDOR(members)                                                      \
    DOC4("\"vendors\": { \"v\": { \"name\": \"V\"" members " } }",           \
         "\"packages\": {}", "\"libraries\": {}", "\"patrons\": {}")

/* the example's vendors and one package "p" of these members */
#define PACKAGE(members)                                                     \
    DOC4(VENDORS,                                                            \
         "\"packages\": { \"p\": { \"name\": \"P\"" members " } }",          \
         "\"libraries\": {}", "\"patrons\": {}")

/* the example's library 0301 and one patron object under issuer "i" */
#define PATRON(sub, members)                                                 \
    DOC4(VENDORS, PACKAGES, LIBRARIES,                                       \
         "\"patrons\": { \"i\": { \"" sub "\": " members " } }")

#define X16    "xxxxxxxxxxxxxxxx"
#define X32    X16 X16
#define X64    X32 X32
#define X256   X64 X64 X64 X64


typedef struct {
    const char      *name;
    const char      *doc;
    const char      *library;
    const char      *grants;
    int              suspended;
    const char      *county;
    int              period_days;
    int64_t          quota_ebook;
    int64_t          quota_audio;
    int64_t          budget;
    int              loan_days;
} valid_case_t;


typedef struct {
    const char      *name;
    const char      *doc;
    const char      *error;     /* the whole message */
} invalid_case_t;


static const valid_case_t  valid_cases[] = {

    { "the example",
      EXAMPLE, "0301", "bokskya/ebook lydhuset/audio", 0, "03", 30, 3, 2,
      5000, 21 },

    { "defaults",
      LIB(", \"packages\": [\"basis\"]"),
      "L", "bokskya/ebook lydhuset/audio", 0, "", 30, -1, -1, -1, 21 },

    { "no packages: entitled to nothing",
      LIB(""), "L", "", 0, "", 30, -1, -1, -1, 21 },

    { "an empty package list",
      LIB(", \"packages\": []"), "L", "", 0, "", 30, -1, -1, -1, 21 },

    { "a package narrowed to e-books",
      LIB(", \"packages\": [\"skole\"]"), "L", "bokskya/ebook", 0, "", 30,
      -1, -1, -1, 21 },

    { "overlapping packages: pairs once",
      LIB(", \"packages\": [\"skole\", \"basis\"]"), "L",
      "bokskya/ebook lydhuset/audio", 0, "", 30, -1, -1, -1, 21 },

    { "narrowing to a medium the vendor lacks grants nothing",
      DOC4(VENDORS,
           "\"packages\": { \"p\": { \"name\": \"P\","
           " \"vendors\": [\"bokskya\"], \"media\": [\"audio\"] } }",
           "\"libraries\": { \"L\": { \"name\": \"L\","
           " \"packages\": [\"p\"] } }", "\"patrons\": {}"),
      "L", "", 0, "", 30, -1, -1, -1, 21 },

    { "grants sorted by byte value, vendors of both media",
      DOC4("\"vendors\": {"
           " \"zz\": { \"name\": \"Z\", \"media\": [\"audio\", \"ebook\"] },"
           " \"a_b\": { \"name\": \"A\", \"media\": [\"audio\"] },"
           " \"a-b\": { \"name\": \"A\", \"media\": [\"ebook\"] },"
           " \"a\": { \"name\": \"A\", \"media\": [\"ebook\", \"audio\"] } }",
           "\"packages\": { \"p\": { \"name\": \"P\","
           " \"vendors\": [\"zz\", \"a_b\", \"a-b\", \"a\"] } }",
           "\"libraries\": { \"L\": { \"name\": \"L\","
           " \"packages\": [\"p\"] } }", "\"patrons\": {}"),
      "L", "a-b/ebook a/audio a/ebook a_b/audio zz/audio zz/ebook", 0, "",
      30, -1, -1, -1, 21 },

    { "suspended, quota of one medium, zero budget, bounds",
      LIB(", \"status\": \"suspended\", \"county\": \"46\","
          " \"quota\": { \"period_days\": 366, \"audio\": 0 },"
          " \"monthly_budget\": 0, \"loan_days\": 365"),
      "L", "", 1, "46", 366, -1, 0, 0, 365 },

    { "lower bounds and the largest counts",
      LIB(", \"quota\": { \"period_days\": 1, \"ebook\": 2147483647 },"
          " \"monthly_budget\": 2147483647, \"loan_days\": 1"),
      "L", "", 0, "", 1, 2147483647, -1, 2147483647, 1 },

    { "an empty quota object",
      LIB(", \"quota\": {}"), "L", "", 0, "", 30, -1, -1, -1, 21 },

    { "longest ids",
      DOC4("\"vendors\": { \"" X32 "\": { \"name\": \"V\","
           " \"media\": [\"ebook\"] } }",
           "\"packages\": { \"" X32 "\": { \"name\": \"P\","
           " \"vendors\": [\"" X32 "\"] } }",
           "\"libraries\": { \"" X32 X16 "xxxxxxxxxxxxxxx\": {"
           " \"name\": \"L\", \"packages\": [\"" X32 "\"] } }",
           "\"patrons\": {}"),
      X32 X16 "xxxxxxxxxxxxxxx", X32 "/ebook", 0, "", 30, -1, -1, -1, 21 },

    { "patrons optional",
      "{ " VERSION ", " VENDORS ", " PACKAGES ", " LIBRARIES " }",
      "0301", "bokskya/ebook lydhuset/audio", 0, "03", 30, 3, 2, 5000, 21 },

    { "UTF-8 names",
      LIB(", \"county\": \"Tr\xc3\xb8ndelag\""), "L", "", 0,
      "Tr\xc3\xb8ndelag", 30, -1, -1, -1, 21 },
};


static const invalid_case_t  invalid_cases[] = {

    /* syntax, the document */

    { "syntax error", "{\n  \"version\": 1,\n  \"vendors\": {,\n}",
      "line 3, column 15: string or '}' expected near ','" },
    { "duplicate member", "{ \"version\": 1, \"version\": 1 }",
      "line 1, column 25: duplicate object key near '\"version\"'" },
    { "empty input", "",
      "line 1, column 0: '[' or '{' expected near end of file" },
    { "not an object", "[1]", "document: expected an object" },
    { "version 2",
      "{ \"version\": 2, " VENDORS ", " PACKAGES ", " LIBRARIES " }",
      "version: expected 1" },
    { "version as a string",
      "{ \"version\": \"1\", " VENDORS ", " PACKAGES ", " LIBRARIES " }",
      "version: expected 1" },
    { "version missing",
      "{ " VENDORS ", " PACKAGES ", " LIBRARIES " }",
      "version: required member is missing" },
    { "vendors missing",
      "{ " VERSION ", " PACKAGES ", \"libraries\": {} }",
      "vendors: required member is missing\n"
      "packages[\"basis\"].vendors[0]: unknown vendor \"bokskya\"\n"
      "packages[\"basis\"].vendors[1]: unknown vendor \"lydhuset\"\n"
      "packages[\"skole\"].vendors[0]: unknown vendor \"bokskya\"" },
    { "unknown top-level member",
      "{ " VERSION ", " VENDORS ", " PACKAGES ", " LIBRARIES
      ", \"librarys\": {} }",
      "librarys: unknown member" },
    { "a member name that is no identifier",
      "{ " VERSION ", " VENDORS ", " PACKAGES ", " LIBRARIES
      ", \"a b\": 1 }",
      "[\"a b\"]: unknown member" },
    { "libraries not an object",
      "{ " VERSION ", " VENDORS ", " PACKAGES ", \"libraries\": [] }",
      "libraries: expected an object of libraries" },

    /* vendors */

    { "vendor: unknown member", VENDOR(", \"media\": [\"ebook\"],"
                                       " \"medias\": [\"ebook\"]"),
      "vendors[\"v\"].medias: unknown member" },
    { "vendor: not an object",
      DOC4("\"vendors\": { \"v\": [] }", "\"packages\": {}",
           "\"libraries\": {}", "\"patrons\": {}"),
      "vendors[\"v\"]: expected an object" },
    { "vendor: upper case id",
      DOC4("\"vendors\": { \"Bokskya\": { \"name\": \"B\","
           " \"media\": [\"ebook\"] } }", "\"packages\": {}",
           "\"libraries\": {}", "\"patrons\": {}"),
      "vendors[\"Bokskya\"]: invalid vendor id (expected 1 to 32 of "
      "a-z 0-9 _ -)" },
    { "vendor: id too long",
      DOC4("\"vendors\": { \"" X32 "x\": { \"name\": \"B\","
           " \"media\": [\"ebook\"] } }", "\"packages\": {}",
           "\"libraries\": {}", "\"patrons\": {}"),
      "vendors[\"" X32 "x\"]: invalid vendor id (expected 1 to 32 of "
      "a-z 0-9 _ -)" },
    { "vendor: empty id",
      DOC4("\"vendors\": { \"\": { \"name\": \"B\","
           " \"media\": [\"ebook\"] } }", "\"packages\": {}",
           "\"libraries\": {}", "\"patrons\": {}"),
      "vendors[\"\"]: invalid vendor id (expected 1 to 32 of "
      "a-z 0-9 _ -)" },
    { "vendor: name missing",
      DOC4("\"vendors\": { \"v\": { \"media\": [\"ebook\"] } }",
           "\"packages\": {}", "\"libraries\": {}", "\"patrons\": {}"),
      "vendors[\"v\"].name: required member is missing" },
    { "vendor: empty name",
      DOC4("\"vendors\": { \"v\": { \"name\": \"\","
           " \"media\": [\"ebook\"] } }",
           "\"packages\": {}", "\"libraries\": {}", "\"patrons\": {}"),
      "vendors[\"v\"].name: expected a non-empty string of at most 200 "
      "bytes without control characters" },
    { "vendor: name with a line break",
      DOC4("\"vendors\": { \"v\": { \"name\": \"a\\nb\","
           " \"media\": [\"ebook\"] } }",
           "\"packages\": {}", "\"libraries\": {}", "\"patrons\": {}"),
      "vendors[\"v\"].name: expected a non-empty string of at most 200 "
      "bytes without control characters" },
    { "vendor: name of 201 bytes",
      DOC4("\"vendors\": { \"v\": { \"name\": \"" X64 X64 X64 "xxxxxxx"
           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\","
           " \"media\": [\"ebook\"] } }",
           "\"packages\": {}", "\"libraries\": {}", "\"patrons\": {}"),
      "vendors[\"v\"].name: expected a non-empty string of at most 200 "
      "bytes without control characters" },
    { "vendor: name a number",
      DOC4("\"vendors\": { \"v\": { \"name\": 7, \"media\": [\"ebook\"] } }",
           "\"packages\": {}", "\"libraries\": {}", "\"patrons\": {}"),
      "vendors[\"v\"].name: expected a non-empty string of at most 200 "
      "bytes without control characters" },
    { "vendor: media missing", VENDOR(""),
      "vendors[\"v\"].media: required member is missing" },
    { "vendor: media empty", VENDOR(", \"media\": []"),
      "vendors[\"v\"].media: expected a non-empty array of media "
      "(\"ebook\", \"audio\")" },
    { "vendor: media a string", VENDOR(", \"media\": \"ebook\""),
      "vendors[\"v\"].media: expected a non-empty array of media "
      "(\"ebook\", \"audio\")" },
    { "vendor: unknown medium", VENDOR(", \"media\": [\"ebook\", \"video\"]"),
      "vendors[\"v\"].media[1]: unknown medium \"video\"" },
    { "vendor: medium in capitals", VENDOR(", \"media\": [\"Ebook\"]"),
      "vendors[\"v\"].media[0]: unknown medium \"Ebook\"" },
    { "vendor: duplicate medium",
      VENDOR(", \"media\": [\"audio\", \"audio\"]"),
      "vendors[\"v\"].media[1]: duplicate medium \"audio\"" },
    { "vendor: medium a number", VENDOR(", \"media\": [1]"),
      "vendors[\"v\"].media[0]: expected a medium (\"ebook\", \"audio\")" },
    { "vendor: loan_cost 0", VENDOR(", \"media\": [\"ebook\"],"
                                    " \"loan_cost\": 0"),
      "vendors[\"v\"].loan_cost: expected a positive integer" },
    { "vendor: loan_cost 1.5", VENDOR(", \"media\": [\"ebook\"],"
                                      " \"loan_cost\": 1.5"),
      "vendors[\"v\"].loan_cost: expected a positive integer" },
    { "vendor: loan_cost too large", VENDOR(", \"media\": [\"ebook\"],"
                                            " \"loan_cost\": 2147483648"),
      "vendors[\"v\"].loan_cost: expected a positive integer of at most "
      "2147483647" },
    { "vendor: loan_cost a string", VENDOR(", \"media\": [\"ebook\"],"
                                           " \"loan_cost\": \"12\""),
      "vendors[\"v\"].loan_cost: expected a positive integer" },

    /* packages */

    { "package: unknown vendor",
      PACKAGE(", \"vendors\": [\"bokskya\", \"x\"]"),
      "packages[\"p\"].vendors[1]: unknown vendor \"x\"" },
    { "package: duplicate vendor",
      PACKAGE(", \"vendors\": [\"bokskya\", \"bokskya\"]"),
      "packages[\"p\"].vendors[1]: duplicate vendor \"bokskya\"" },
    { "package: vendor a number", PACKAGE(", \"vendors\": [3]"),
      "packages[\"p\"].vendors[0]: expected a vendor id" },
    { "package: vendors missing", PACKAGE(""),
      "packages[\"p\"].vendors: required member is missing" },
    { "package: vendors an object", PACKAGE(", \"vendors\": {}"),
      "packages[\"p\"].vendors: expected an array of vendor ids" },
    { "package: unknown medium",
      PACKAGE(", \"vendors\": [\"bokskya\"], \"media\": [\"print\"]"),
      "packages[\"p\"].media[0]: unknown medium \"print\"" },
    { "package: empty media",
      PACKAGE(", \"vendors\": [\"bokskya\"], \"media\": []"),
      "packages[\"p\"].media: expected a non-empty array of media "
      "(\"ebook\", \"audio\")" },
    { "package: unknown member",
      PACKAGE(", \"vendors\": [\"bokskya\"], \"vendor\": []"),
      "packages[\"p\"].vendor: unknown member" },
    { "package: id with a dot",
      DOC4(VENDORS, "\"packages\": { \"p.1\": { \"name\": \"P\","
           " \"vendors\": [] } }", "\"libraries\": {}", "\"patrons\": {}"),
      "packages[\"p.1\"]: invalid package id (expected 1 to 32 of "
      "a-z 0-9 _ -)" },

    /* libraries */

    { "library: unknown package", LIB(", \"packages\": [\"basis\", \"x\"]"),
      "libraries[\"L\"].packages[1]: unknown package \"x\"" },
    { "library: duplicate package",
      LIB(", \"packages\": [\"basis\", \"basis\"]"),
      "libraries[\"L\"].packages[1]: duplicate package \"basis\"" },
    { "library: packages a string", LIB(", \"packages\": \"basis\""),
      "libraries[\"L\"].packages: expected an array of package ids" },
    { "library: name missing",
      DOC4(VENDORS, PACKAGES, "\"libraries\": { \"L\": {} }",
           "\"patrons\": {}"),
      "libraries[\"L\"].name: required member is missing" },
    { "library: status", LIB(", \"status\": \"closed\""),
      "libraries[\"L\"].status: expected \"active\" or \"suspended\"" },
    { "library: county empty", LIB(", \"county\": \"\""),
      "libraries[\"L\"].county: expected a non-empty string of at most 200 "
      "bytes without control characters" },
    { "library: quota ebook negative", LIB(", \"quota\": { \"ebook\": -1 }"),
      "libraries[\"L\"].quota.ebook: expected a non-negative integer" },
    { "library: quota audio real", LIB(", \"quota\": { \"audio\": 2.0 }"),
      "libraries[\"L\"].quota.audio: expected a non-negative integer" },
    { "library: quota ebook null", LIB(", \"quota\": { \"ebook\": null }"),
      "libraries[\"L\"].quota.ebook: expected a non-negative integer" },
    { "library: quota too large",
      LIB(", \"quota\": { \"ebook\": 2147483648 }"),
      "libraries[\"L\"].quota.ebook: expected a non-negative integer of at "
      "most 2147483647" },
    { "library: quota unknown medium",
      LIB(", \"quota\": { \"ebooks\": 3 }"),
      "libraries[\"L\"].quota.ebooks: unknown member" },
    { "library: quota not an object", LIB(", \"quota\": 3"),
      "libraries[\"L\"].quota: expected an object" },
    { "library: period_days 0", LIB(", \"quota\": { \"period_days\": 0 }"),
      "libraries[\"L\"].quota.period_days: expected an integer from 1 to "
      "366" },
    { "library: period_days 367",
      LIB(", \"quota\": { \"period_days\": 367 }"),
      "libraries[\"L\"].quota.period_days: expected an integer from 1 to "
      "366" },
    { "library: budget negative", LIB(", \"monthly_budget\": -5"),
      "libraries[\"L\"].monthly_budget: expected a non-negative integer" },
    { "library: loan_days 0", LIB(", \"loan_days\": 0"),
      "libraries[\"L\"].loan_days: expected an integer from 1 to 365" },
    { "library: loan_days 366", LIB(", \"loan_days\": 366"),
      "libraries[\"L\"].loan_days: expected an integer from 1 to 365" },
    { "library: unknown member", LIB(", \"budget\": 5"),
      "libraries[\"L\"].budget: unknown member" },
    { "library: id with a space",
      DOC4(VENDORS, PACKAGES, "\"libraries\": { \"03 01\": {"
           " \"name\": \"L\" } }", "\"patrons\": {}"),
      "libraries[\"03 01\"]: invalid library id (expected 1 to 63 of "
      "A-Z a-z 0-9 _ -)" },
    { "library: id of 64 bytes",
      DOC4(VENDORS, PACKAGES, "\"libraries\": { \"" X64 "\": {"
           " \"name\": \"L\" } }", "\"patrons\": {}"),
      "libraries[\"" X64 "\"]: invalid library id (expected 1 to 63 of "
      "A-Z a-z 0-9 _ -)" },

    /* patrons */

    { "patron: unknown library",
      PATRON("patron-7", "{ \"library\": \"9999\" }"),
      "patrons[\"i\"][\"patron-7\"].library: unknown library \"9999\"" },
    { "patron: unknown library, as in the README",
      DOC4(VENDORS, PACKAGES, LIBRARIES,
           "\"patrons\": { \"https://login.example\": {"
           " \"patron-7\": { \"library\": \"9999\" } } }"),
      "patrons[\"https://login.example\"][\"patron-7\"].library: unknown "
      "library \"9999\"" },
    { "patron: library missing", PATRON("p", "{}"),
      "patrons[\"i\"][\"p\"].library: required member is missing" },
    { "patron: library a number", PATRON("p", "{ \"library\": 301 }"),
      "patrons[\"i\"][\"p\"].library: expected a library id" },
    { "patron: blocked a string",
      PATRON("p", "{ \"library\": \"0301\", \"blocked\": \"yes\" }"),
      "patrons[\"i\"][\"p\"].blocked: expected true or false" },
    { "patron: unknown member",
      PATRON("p", "{ \"library\": \"0301\", \"block\": true }"),
      "patrons[\"i\"][\"p\"].block: unknown member" },
    { "patron: not an object", PATRON("p", "\"0301\""),
      "patrons[\"i\"][\"p\"]: expected an object" },
    { "patron: sub with a quote",
      PATRON("p\\\"q", "{ \"library\": \"0301\" }"),
      "patrons[\"i\"][\"p\\\"q\"]: invalid patron id (expected 1 to 255 "
      "printable ASCII bytes without quotes or backslashes)" },
    { "patron: sub with a control character",
      PATRON("p\\u0001", "{ \"library\": \"0301\" }"),
      "patrons[\"i\"][\"p\\u0001\"]: invalid patron id (expected 1 to 255 "
      "printable ASCII bytes without quotes or backslashes)" },
    { "patron: sub of 256 bytes",
      PATRON(X256, "{ \"library\": \"0301\" }"),
      "patrons[\"i\"][\"" X64 "...\"]: invalid patron id (expected 1 to "
      "255 printable ASCII bytes without quotes or backslashes)" },
    { "patron: sub not ASCII",
      PATRON("\xc3\xb8", "{ \"library\": \"0301\" }"),
      "patrons[\"i\"][\"\xc3\xb8\"]: invalid patron id (expected 1 to 255 "
      "printable ASCII bytes without quotes or backslashes)" },
    { "patron: issuer with a space",
      DOC4(VENDORS, PACKAGES, LIBRARIES,
           "\"patrons\": { \"https://login example\": {} }"),
      "patrons[\"https://login example\"]: invalid issuer (expected 1 to "
      "255 printable ASCII bytes without spaces, quotes or backslashes)" },
    { "patron: empty issuer",
      DOC4(VENDORS, PACKAGES, LIBRARIES, "\"patrons\": { \"\": {} }"),
      "patrons[\"\"]: invalid issuer (expected 1 to 255 printable ASCII "
      "bytes without spaces, quotes or backslashes)" },
    { "patron: issuer not an object",
      DOC4(VENDORS, PACKAGES, LIBRARIES, "\"patrons\": { \"i\": [] }"),
      "patrons[\"i\"]: expected an object of patrons" },
    { "patrons an array",
      DOC4(VENDORS, PACKAGES, LIBRARIES, "\"patrons\": []"),
      "patrons: expected an object of issuers" },

    /* several errors, each on its line, in document order */

    { "three errors",
      DOC4(VENDORS, PACKAGES,
           "\"libraries\": { \"L\": { \"name\": \"L\","
           " \"quota\": { \"ebook\": -1, \"audio\": \"2\" },"
           " \"loan_days\": 0 } }", "\"patrons\": {}"),
      "libraries[\"L\"].quota.ebook: expected a non-negative integer\n"
      "libraries[\"L\"].quota.audio: expected a non-negative integer\n"
      "libraries[\"L\"].loan_days: expected an integer from 1 to 365" },
};


static digin_ent_doc_t *
parse(const char *text, char *err)
{
    digin_ent_doc_t  *doc;

    err[0] = '\0';
    doc = digin_ent_parse(text, strlen(text), err, DIGIN_ENT_ERRLEN);

    return doc;
}


static void
test_valid(void **state)
{
    char                        err[DIGIN_ENT_ERRLEN], *grants;
    size_t                      i, failed;
    digin_ent_doc_t            *doc;
    const valid_case_t         *c;
    const digin_ent_library_t  *lib;

    failed = 0;

    for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
        c = &valid_cases[i];

        doc = parse(c->doc, err);

        if (doc == NULL) {
            print_error("%s: rejected: %s\n", c->name, err);
            failed++;
            continue;
        }

        lib = digin_ent_library(doc, c->library);

        if (lib == NULL) {
            print_error("%s: no library %s\n", c->name, c->library);
            failed++;
            digin_ent_free(doc);
            continue;
        }

        grants = digin_ent_grants(doc, lib);
        assert_non_null(grants);

        if (strcmp(grants, c->grants) != 0
            || lib->suspended != c->suspended
            || strcmp(lib->county, c->county) != 0
            || lib->period_days != c->period_days
            || lib->quota[DIGIN_MEDIUM_EBOOK] != c->quota_ebook
            || lib->quota[DIGIN_MEDIUM_AUDIO] != c->quota_audio
            || lib->budget != c->budget
            || lib->loan_days != c->loan_days)
        {
            print_error("%s: got grants \"%s\" suspended %d county \"%s\" "
                        "period %d quota %lld/%lld budget %lld loan %d\n",
                        c->name, grants, lib->suspended, lib->county,
                        lib->period_days,
                        (long long) lib->quota[DIGIN_MEDIUM_EBOOK],
                        (long long) lib->quota[DIGIN_MEDIUM_AUDIO],
                        (long long) lib->budget, lib->loan_days);
            failed++;
        }

        free(grants);
        digin_ent_free(doc);
    }

    assert_int_equal(failed, 0);
}


static void
test_invalid(void **state)
{
    char                   err[DIGIN_ENT_ERRLEN];
    size_t                 i, failed;
    digin_ent_doc_t       *doc;
    const invalid_case_t  *c;

    failed = 0;

    for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
        c = &invalid_cases[i];

        doc = parse(c->doc, err);

        if (doc != NULL) {
            print_error("%s: accepted\n", c->name);
            digin_ent_free(doc);
            failed++;
            continue;
        }

        if (strcmp(err, c->error) != 0) {
            print_error("%s:\n  got      %s\n  expected %s\n", c->name, err,
                        c->error);
            failed++;
        }
    }

    assert_int_equal(failed, 0);
}


/* the example, section by section */

static void
test_example(void **state)
{
    char                        err[DIGIN_ENT_ERRLEN];
    digin_ent_doc_t            *doc;
    const digin_ent_library_t  *lib;

    doc = parse(EXAMPLE, err);
    assert_non_null(doc);

    assert_int_equal(doc->nvendors, 2);
    assert_string_equal(doc->vendors[0].id, "bokskya");
    assert_string_equal(doc->vendors[0].name, "Bokskya");
    assert_int_equal(doc->vendors[0].media,
                     DIGIN_MEDIUM_BIT(DIGIN_MEDIUM_EBOOK));
    assert_int_equal(doc->vendors[0].loan_cost, 1);
    assert_string_equal(doc->vendors[1].id, "lydhuset");
    assert_int_equal(doc->vendors[1].loan_cost, 12);

    assert_int_equal(doc->npackages, 2);
    assert_string_equal(doc->packages[0].id, "basis");
    assert_int_equal(doc->packages[0].nvendors, 2);
    assert_int_equal(doc->packages[0].media, DIGIN_MEDIA_ALL);
    assert_string_equal(doc->packages[1].id, "skole");
    assert_int_equal(doc->packages[1].media,
                     DIGIN_MEDIUM_BIT(DIGIN_MEDIUM_EBOOK));

    assert_int_equal(doc->nlibraries, 1);
    lib = &doc->libraries[0];
    assert_string_equal(lib->id, "0301");
    assert_string_equal(lib->name, "Deichman");
    assert_int_equal(lib->npackages, 1);

    assert_true(digin_ent_allows(doc, lib, "bokskya", DIGIN_MEDIUM_EBOOK));
    assert_true(digin_ent_allows(doc, lib, "lydhuset", DIGIN_MEDIUM_AUDIO));
    assert_false(digin_ent_allows(doc, lib, "bokskya", DIGIN_MEDIUM_AUDIO));
    assert_false(digin_ent_allows(doc, lib, "lydhuset", DIGIN_MEDIUM_EBOOK));
    assert_false(digin_ent_allows(doc, lib, "other", DIGIN_MEDIUM_EBOOK));
    assert_false(digin_ent_allows(doc, lib, "bokskya", DIGIN_MEDIUM_MAX));

    assert_null(digin_ent_library(doc, "0302"));

    assert_int_equal(doc->npatrons, 2);
    assert_string_equal(doc->patrons[0].issuer, "https://login.example");
    assert_string_equal(doc->patrons[0].sub, "patron-7");
    assert_int_equal(doc->patrons[0].library, 0);
    assert_int_equal(doc->patrons[0].blocked, 0);
    assert_string_equal(doc->patrons[1].sub, "patron-9");
    assert_int_equal(doc->patrons[1].blocked, 1);

    digin_ent_free(doc);
}


/* more than DIGIN_ENT_ERRORS errors: the first ones and a count */

/* a library's grants fit what the gateway reads of them, or are refused */

static void
test_grants_limit(void **state)
{
    char              err[DIGIN_ENT_ERRLEN], text[8192], *p, *grants;
    size_t            i, k;
    digin_ent_doc_t  *doc;

    /*
     * k pairs of a 32-byte vendor id and a medium take 39 k - 1 bytes:
     * 25 fit (974), 26 do not (1013).  Vendors with both media, the last
     * one with e-books only when k is odd.
     */

    for (k = 25; k <= 26; k++) {
        p = text;
        p += sprintf(p, "{ " VERSION ", \"vendors\": {");

        for (i = 0; i < (k + 1) / 2; i++) {
            p += sprintf(p, "%s \"v%031zu\": { \"name\": \"V\", "
                         "\"media\": [\"ebook\"%s] }", i > 0 ? "," : "", i,
                         (2 * i + 1 < k) ? ", \"audio\"" : "");
        }

        p += sprintf(p, " }, \"packages\": { \"all\": { \"name\": \"A\", "
                     "\"vendors\": [");

        for (i = 0; i < (k + 1) / 2; i++) {
            p += sprintf(p, "%s\"v%031zu\"", i > 0 ? ", " : "", i);
        }

        sprintf(p, "] } }, \"libraries\": { \"L\": { \"name\": \"L\", "
                "\"packages\": [\"all\"] } } }");

        doc = parse(text, err);

        if (k == 25) {
            assert_non_null(doc);
            grants = digin_ent_grants(doc, &doc->libraries[0]);
            assert_non_null(grants);
            assert_int_equal(strlen(grants), 974);
            free(grants);
            digin_ent_free(doc);
            continue;
        }

        assert_null(doc);
        assert_non_null(strstr(err, "libraries[\"L\"].packages: the "
                                    "packages grant 1013 bytes of "
                                    "\"vendor/medium\" pairs, more than "
                                    "the gateway reads (1000)"));
    }
}


static void
test_many_errors(void **state)
{
    char              err[DIGIN_ENT_ERRLEN], text[8192], *p, *line;
    size_t            i, lines;
    digin_ent_doc_t  *doc;

    p = text;
    p += sprintf(p, "{ " VERSION ", " VENDORS ", " PACKAGES ", "
                 "\"libraries\": {");

    for (i = 0; i < 25; i++) {
        p += sprintf(p, "%s \"l%zu\": { \"name\": \"L\", \"loan_days\": 0 }",
                     i > 0 ? "," : "", i);
    }

    sprintf(p, " } }");

    doc = parse(text, err);
    assert_null(doc);

    lines = 1;

    for (line = err; (line = strchr(line, '\n')) != NULL; line++) {
        lines++;
    }

    assert_int_equal(lines, DIGIN_ENT_ERRORS + 1);
    assert_non_null(strstr(err, "libraries[\"l0\"].loan_days: expected an "
                                "integer from 1 to 365\n"));
    assert_non_null(strstr(err, "libraries[\"l19\"].loan_days"));
    assert_null(strstr(err, "libraries[\"l20\"]"));
    assert_non_null(strstr(err, "\n(5 more errors)"));

    /* a short buffer is cut, never overrun */

    memset(err, 'Z', sizeof(err));
    doc = digin_ent_parse(text, strlen(text), err, 40);
    assert_null(doc);
    assert_int_equal(strlen(err), 39);
    assert_int_equal(err[40], 'Z');
}


/* ids and claims, at their limits */

static void
test_ids(void **state)
{
    assert_true(digin_ent_vendor_id_ok("a", 1));
    assert_true(digin_ent_vendor_id_ok("a-b_9", 5));
    assert_true(digin_ent_vendor_id_ok(X32, 32));
    assert_false(digin_ent_vendor_id_ok(X32 "x", 33));
    assert_false(digin_ent_vendor_id_ok("", 0));
    assert_false(digin_ent_vendor_id_ok("A", 1));
    assert_false(digin_ent_vendor_id_ok("a.b", 3));
    assert_false(digin_ent_vendor_id_ok("a/b", 3));

    assert_true(digin_ent_library_id_ok("0301", 4));
    assert_true(digin_ent_library_id_ok("Skole-4601_A", 12));
    assert_true(digin_ent_library_id_ok(X32 X16 "xxxxxxxxxxxxxxx", 63));
    assert_false(digin_ent_library_id_ok(X64, 64));
    assert_false(digin_ent_library_id_ok("03 01", 5));
    assert_false(digin_ent_library_id_ok("03:01", 5));
    assert_false(digin_ent_library_id_ok("", 0));

    assert_true(digin_ent_issuer_ok("https://login.example", 21));
    assert_false(digin_ent_issuer_ok("https://login example", 21));
    assert_false(digin_ent_issuer_ok("a\"b", 3));
    assert_false(digin_ent_issuer_ok("", 0));
    assert_true(digin_ent_issuer_ok(X256, 255));
    assert_false(digin_ent_issuer_ok(X256, 256));

    assert_true(digin_ent_patron_ok("patron 7", 8));
    assert_true(digin_ent_patron_ok(X256, 255));
    assert_false(digin_ent_patron_ok(X256, 256));
    assert_false(digin_ent_patron_ok("a\\b", 3));
    assert_false(digin_ent_patron_ok("a\tb", 3));
    assert_false(digin_ent_patron_ok("\xc3\xb8", 2));
}


static void
test_media_text(void **state)
{
    char  buf[16];

    assert_int_equal(digin_ent_media_text(DIGIN_MEDIA_ALL, buf, sizeof(buf)),
                     11);
    assert_string_equal(buf, "ebook audio");

    assert_int_equal(digin_ent_media_text(DIGIN_MEDIUM_BIT(
                                              DIGIN_MEDIUM_AUDIO),
                                          buf, sizeof(buf)), 5);
    assert_string_equal(buf, "audio");

    assert_int_equal(digin_ent_media_text(0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");

    /* too small: the length needed, a terminated prefix */
    assert_int_equal(digin_ent_media_text(DIGIN_MEDIA_ALL, buf, 8), 11);
    assert_string_equal(buf, "ebook a");
    assert_int_equal(digin_ent_media_text(DIGIN_MEDIA_ALL, buf, 11), 11);
    assert_string_equal(buf, "ebook audi");
    assert_int_equal(digin_ent_media_text(DIGIN_MEDIA_ALL, buf, 12), 11);
    assert_string_equal(buf, "ebook audio");
}


static void
test_medium_by_name(void **state)
{
    static const struct {
        const char  *name;
        size_t       len;
        int          medium;
    } cases[] = {
        { "ebook", 5, DIGIN_MEDIUM_EBOOK },
        { "audio", 5, DIGIN_MEDIUM_AUDIO },
        { "ebookX", 5, DIGIN_MEDIUM_EBOOK },    /* length honoured */
        { "ebooks", 6, -1 },
        { "ebook", 4, -1 },
        { "Ebook", 5, -1 },
        { "AUDIO", 5, -1 },
        { "", 0, -1 },
        { "video", 5, -1 },
        { "e-book", 6, -1 },
    };

    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(digin_medium_by_name(cases[i].name, cases[i].len),
                         cases[i].medium);
    }

    assert_string_equal(digin_medium_name(DIGIN_MEDIUM_EBOOK), "ebook");
    assert_string_equal(digin_medium_name(DIGIN_MEDIUM_AUDIO), "audio");
    assert_string_equal(digin_medium_name(DIGIN_MEDIUM_MAX), "");
}


static void
test_quota_period(void **state)
{
    static const struct {
        time_t   now;
        int      days;
        time_t   start;
        time_t   reset;
    } cases[] = {
        /* 2023-11-14T22:13:20Z, 30-day windows from the epoch */
        { 1700000000, 30, 1697760000, 1700352000 },
        { 1700000000, 1, 1699920000, 1700006400 },
        { 1700000000, 7, 1699488000, 1700092800 },
        { 1700000000, 366, 1675987200, 1707609600 },
        /* the first and the last second of a window */
        { 1697760000, 30, 1697760000, 1700352000 },
        { 1700351999, 30, 1697760000, 1700352000 },
        { 1700352000, 30, 1700352000, 1702944000 },
        { 0, 30, 0, 2592000 },
        /* nonsense lengths are one day */
        { 1700000000, 0, 1699920000, 1700006400 },
        { 1700000000, -5, 1699920000, 1700006400 },
    };

    size_t  i;
    time_t  start, reset;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        digin_quota_period(cases[i].now, cases[i].days, &start, &reset);
        assert_int_equal(start, cases[i].start);
        assert_int_equal(reset, cases[i].reset);
    }
}


static void
test_budget_month(void **state)
{
    static const struct {
        time_t       now;
        const char  *month;
        time_t       reset;
    } cases[] = {
        /* 2023-11-14T22:13:20Z */
        { 1700000000, "2023-11", 1701388800 },
        /* December -> January: 2023-12-31T23:59:59Z */
        { 1704067199, "2023-12", 1704067200 },
        /* 2024-01-01T00:00:00Z */
        { 1704067200, "2024-01", 1706745600 },
        /* February of a leap year: 2024-02-29T12:00:00Z */
        { 1709208000, "2024-02", 1709251200 },
        /* 2023-02-28T00:00:00Z, no leap year */
        { 1677542400, "2023-02", 1677628800 },
        /* 2000-02-29 (divisible by 400: a leap year) */
        { 951782400, "2000-02", 951868800 },
        /* 2100-02-28 (divisible by 100: none) */
        { 4107456000, "2100-02", 4107542400 },
        /* 2024-12-31T00:00:00Z */
        { 1735603200, "2024-12", 1735689600 },
        { 0, "1970-01", 2678400 },
    };

    char    month[8];
    size_t  i;
    time_t  reset;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        digin_budget_month(cases[i].now, month, &reset);
        assert_string_equal(month, cases[i].month);
        assert_int_equal(reset, cases[i].reset);
    }
}


/* the demo's document, conf-examples/entitlements.json (cwd: tests/) */

static void
test_conf_example(void **state)
{
    char                        err[DIGIN_ENT_ERRLEN], *text, *grants;
    long                        len;
    FILE                       *fp;
    digin_ent_doc_t            *doc;
    const digin_ent_library_t  *lib;

    fp = fopen("../conf-examples/entitlements.json", "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    len = ftell(fp);
    assert_true(len > 0);
    rewind(fp);

    text = malloc((size_t) len);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t) len, fp), (size_t) len);
    fclose(fp);

    err[0] = '\0';
    doc = digin_ent_parse(text, (size_t) len, err, sizeof(err));

    if (doc == NULL) {
        print_error("conf-examples/entitlements.json: %s\n", err);
    }

    assert_non_null(doc);

    lib = digin_ent_library(doc, "0301");
    assert_non_null(lib);
    grants = digin_ent_grants(doc, lib);
    assert_string_equal(grants, "bokskya/ebook lydhuset/audio");
    free(grants);
    assert_int_equal(lib->quota[DIGIN_MEDIUM_EBOOK], 3);
    assert_int_equal(lib->quota[DIGIN_MEDIUM_AUDIO], 2);
    assert_int_equal(lib->budget, 5000);
    assert_int_equal(lib->period_days, 30);

    lib = digin_ent_library(doc, "4601");
    assert_non_null(lib);
    assert_int_equal(lib->quota[DIGIN_MEDIUM_EBOOK], 5);
    assert_int_equal(lib->quota[DIGIN_MEDIUM_AUDIO], 1);

    lib = digin_ent_library(doc, "1103");
    assert_non_null(lib);
    assert_int_equal(lib->suspended, 1);

    lib = digin_ent_library(doc, "skole-4601-001");
    assert_non_null(lib);
    grants = digin_ent_grants(doc, lib);
    assert_string_equal(grants, "bokskya/ebook");
    free(grants);

    free(text);
    digin_ent_free(doc);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_grants_limit),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_media_text),
        cmocka_unit_test(test_medium_by_name),
        cmocka_unit_test(test_quota_period),
        cmocka_unit_test(test_budget_month),
        cmocka_unit_test(test_conf_example),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
