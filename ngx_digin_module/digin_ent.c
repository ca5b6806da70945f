/*
 * Copyright (C) Digin gateway developers
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "digin_ent.h"
#include "digin_jwt.h"


#define DIGIN_ENT_PATH_MAX   1024
#define DIGIN_ENT_KEY_SHOWN  64       /* bytes of an id shown in a path */


typedef struct {
    char                *err;
    size_t               errlen;
    size_t               used;
    unsigned             nerrors;
    size_t               pathlen;
    char                 path[DIGIN_ENT_PATH_MAX];
    /* id -> index, for references between sections */
    json_t              *vendor_index;
    json_t              *package_index;
    json_t              *library_index;
} digin_ent_ctx_t;


static void digin_ent_error(digin_ent_ctx_t *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void digin_ent_path_append(digin_ent_ctx_t *ctx, const char *s);
static size_t digin_ent_path_member(digin_ent_ctx_t *ctx,
    const char *name);
static size_t digin_ent_path_key(digin_ent_ctx_t *ctx, const char *key);
static size_t digin_ent_path_index(digin_ent_ctx_t *ctx, size_t i);
static void digin_ent_path_set(digin_ent_ctx_t *ctx, size_t len);
static void digin_ent_quote(const char *s, char *buf, size_t len);
static int digin_ent_object(digin_ent_ctx_t *ctx, json_t *obj,
    const char *const *members);
static json_t *digin_ent_member(digin_ent_ctx_t *ctx, json_t *obj,
    const char *name, int required);
static const char *digin_ent_text(digin_ent_ctx_t *ctx, json_t *obj,
    const char *name, int required, const char *def);
static int digin_ent_int(digin_ent_ctx_t *ctx, json_t *obj,
    const char *name, int64_t min, int64_t max, int64_t def,
    int64_t *out);
static int digin_ent_media(digin_ent_ctx_t *ctx, json_t *obj,
    const char *name, int required, unsigned *out);
static size_t *digin_ent_refs(digin_ent_ctx_t *ctx, json_t *obj,
    const char *name, int required, json_t *index, const char *what,
    size_t *n);
static void digin_ent_vendors(digin_ent_ctx_t *ctx, json_t *root,
    digin_ent_doc_t *doc);
static void digin_ent_packages(digin_ent_ctx_t *ctx, json_t *root,
    digin_ent_doc_t *doc);
static void digin_ent_libraries(digin_ent_ctx_t *ctx, json_t *root,
    digin_ent_doc_t *doc);
static void digin_ent_quota(digin_ent_ctx_t *ctx, json_t *lib,
    digin_ent_library_t *l);
static void digin_ent_patrons(digin_ent_ctx_t *ctx, json_t *root,
    digin_ent_doc_t *doc);
static int digin_ent_index(digin_ent_ctx_t *ctx, json_t *index,
    const char *id, size_t i);
static int digin_ent_cmp(const void *a, const void *b);


static const char *const  digin_ent_top_members[] = {
    "version", "vendors", "packages", "libraries", "patrons", NULL
};

static const char *const  digin_ent_vendor_members[] = {
    "name", "media", "loan_cost", NULL
};

static const char *const  digin_ent_package_members[] = {
    "name", "vendors", "media", NULL
};

static const char *const  digin_ent_library_members[] = {
    "name", "county", "status", "packages", "quota", "monthly_budget",
    "loan_days", NULL
};

static const char *const  digin_ent_quota_members[] = {
    "period_days", "ebook", "audio", NULL
};

static const char *const  digin_ent_patron_members[] = {
    "library", "blocked", NULL
};


static const char  *digin_media[DIGIN_MEDIUM_MAX] = {
    [DIGIN_MEDIUM_EBOOK] = "ebook",
    [DIGIN_MEDIUM_AUDIO] = "audio",
};


int
digin_medium_by_name(const char *name, size_t len)
{
    int  i;

    for (i = 0; i < DIGIN_MEDIUM_MAX; i++) {
        if (strlen(digin_media[i]) == len
            && memcmp(digin_media[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
digin_medium_name(digin_medium_e m)
{
    if ((unsigned) m >= DIGIN_MEDIUM_MAX) {
        return "";
    }

    return digin_media[m];
}


void
digin_quota_period(time_t now, int period_days, time_t *start,
    time_t *reset)
{
    int64_t  len;

    if (period_days < 1) {
        period_days = 1;
    }

    len = (int64_t) period_days * 86400;

    *start = (time_t) (((int64_t) now / len) * len);
    *reset = *start + (time_t) len;
}


void
digin_budget_month(time_t now, char month[8], time_t *reset)
{
    int        y, m;
    struct tm  tm;

    gmtime_r(&now, &tm);

    y = tm.tm_year + 1900;
    m = tm.tm_mon + 1;

    snprintf(month, 8, "%04u-%02u", (unsigned) y % 10000, (unsigned) m % 100);

    /* the first second of the next month */
    memset(&tm, 0, sizeof(struct tm));
    tm.tm_year = (m == 12 ? y + 1 : y) - 1900;
    tm.tm_mon = (m == 12) ? 0 : m;
    tm.tm_mday = 1;

    *reset = timegm(&tm);
}


int
digin_ent_vendor_id_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > DIGIN_ENT_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '_' || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
digin_ent_library_id_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > DIGIN_LIBRARY_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
digin_ent_issuer_ok(const char *s, size_t len)
{
    return len <= DIGIN_ENT_ISSUER_MAX && digin_claim_value_ok(s, len)
           && memchr(s, ' ', len) == NULL;
}


int
digin_ent_patron_ok(const char *s, size_t len)
{
    return len <= DIGIN_PATRON_MAX && digin_claim_value_ok(s, len);
}


size_t
digin_ent_media_text(unsigned media, char *buf, size_t len)
{
    int     m;
    char    text[DIGIN_MEDIUM_MAX * 8];
    size_t  n;

    n = 0;
    text[0] = '\0';

    for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
        if (media & DIGIN_MEDIUM_BIT(m)) {
            n += sprintf(text + n, "%s%s", n > 0 ? " " : "",
                         digin_medium_name((digin_medium_e) m));
        }
    }

    if (len > 0) {
        snprintf(buf, len, "%s", text);
    }

    return n;
}


digin_ent_doc_t *
digin_ent_parse(const char *data, size_t len, char *err, size_t errlen)
{
    char             *p;
    json_t           *root, *v;
    json_error_t      jerr;
    digin_ent_ctx_t   ctx;
    digin_ent_doc_t  *doc;

    memset(&ctx, 0, sizeof(digin_ent_ctx_t));
    ctx.err = err;
    ctx.errlen = errlen;

    if (errlen > 0) {
        err[0] = '\0';
    }

    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        snprintf(err, errlen, "line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);

        /* jansson quotes the input: keep the message on one line */

        for (p = err; errlen > 0 && *p != '\0'; p++) {
            if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                *p = '?';
            }
        }

        return NULL;
    }

    doc = calloc(1, sizeof(digin_ent_doc_t));
    ctx.vendor_index = json_object();
    ctx.package_index = json_object();
    ctx.library_index = json_object();

    if (doc == NULL || ctx.vendor_index == NULL || ctx.package_index == NULL
        || ctx.library_index == NULL)
    {
        snprintf(err, errlen, "out of memory");
        json_decref(root);
        free(doc);
        doc = NULL;
        goto failed;
    }

    doc->json = root;

    if (!json_is_object(root)) {
        digin_ent_error(&ctx, "expected an object");
        goto failed;
    }

    digin_ent_object(&ctx, root, digin_ent_top_members);

    v = digin_ent_member(&ctx, root, "version", 1);

    if (v != NULL && !(json_is_integer(v) && json_integer_value(v) == 1)) {
        digin_ent_path_set(&ctx, 0);
        digin_ent_path_member(&ctx, "version");
        digin_ent_error(&ctx, "expected 1");
    }

    digin_ent_vendors(&ctx, root, doc);
    digin_ent_packages(&ctx, root, doc);
    digin_ent_libraries(&ctx, root, doc);
    digin_ent_patrons(&ctx, root, doc);

    if (ctx.nerrors == 0) {
        json_decref(ctx.vendor_index);
        json_decref(ctx.package_index);
        json_decref(ctx.library_index);
        return doc;
    }

failed:

    if (ctx.nerrors > DIGIN_ENT_ERRORS && ctx.used + 1 < errlen) {
        snprintf(err + ctx.used, errlen - ctx.used, "\n(%u more errors)",
                 ctx.nerrors - DIGIN_ENT_ERRORS);
    }

    json_decref(ctx.vendor_index);
    json_decref(ctx.package_index);
    json_decref(ctx.library_index);
    digin_ent_free(doc);

    return NULL;
}


void
digin_ent_free(digin_ent_doc_t *doc)
{
    size_t  i;

    if (doc == NULL) {
        return;
    }

    for (i = 0; i < doc->npackages; i++) {
        free(doc->packages[i].vendors);
    }

    for (i = 0; i < doc->nlibraries; i++) {
        free(doc->libraries[i].packages);
    }

    free(doc->vendors);
    free(doc->packages);
    free(doc->libraries);
    free(doc->patrons);
    json_decref(doc->json);
    free(doc);
}


const digin_ent_library_t *
digin_ent_library(const digin_ent_doc_t *doc, const char *id)
{
    size_t  i;

    for (i = 0; i < doc->nlibraries; i++) {
        if (strcmp(doc->libraries[i].id, id) == 0) {
            return &doc->libraries[i];
        }
    }

    return NULL;
}


int
digin_ent_allows(const digin_ent_doc_t *doc, const digin_ent_library_t *lib,
    const char *vendor, digin_medium_e m)
{
    size_t                      i, j;
    const digin_ent_vendor_t   *v;
    const digin_ent_package_t  *p;

    if ((unsigned) m >= DIGIN_MEDIUM_MAX) {
        return 0;
    }

    for (i = 0; i < lib->npackages; i++) {
        p = &doc->packages[lib->packages[i]];

        if (!(p->media & DIGIN_MEDIUM_BIT(m))) {
            continue;
        }

        for (j = 0; j < p->nvendors; j++) {
            v = &doc->vendors[p->vendors[j]];

            if ((v->media & DIGIN_MEDIUM_BIT(m))
                && strcmp(v->id, vendor) == 0)
            {
                return 1;
            }
        }
    }

    return 0;
}


char *
digin_ent_grants(const digin_ent_doc_t *doc, const digin_ent_library_t *lib)
{
    int                         m;
    char                       *out, *p, **pairs;
    size_t                      i, j, n, max, len;
    const char                 *name;
    const digin_ent_vendor_t   *v;
    const digin_ent_package_t  *pkg;

    max = 0;

    for (i = 0; i < lib->npackages; i++) {
        max += doc->packages[lib->packages[i]].nvendors * DIGIN_MEDIUM_MAX;
    }

    pairs = calloc(max + 1, sizeof(char *));
    if (pairs == NULL) {
        return NULL;
    }

    n = 0;
    len = 1;
    out = NULL;

    for (i = 0; i < lib->npackages; i++) {
        pkg = &doc->packages[lib->packages[i]];

        for (j = 0; j < pkg->nvendors; j++) {
            v = &doc->vendors[pkg->vendors[j]];

            for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
                if (!(pkg->media & v->media & DIGIN_MEDIUM_BIT(m))) {
                    continue;
                }

                name = digin_medium_name((digin_medium_e) m);

                pairs[n] = malloc(strlen(v->id) + 1 + strlen(name) + 1);
                if (pairs[n] == NULL) {
                    goto done;
                }

                sprintf(pairs[n], "%s/%s", v->id, name);
                n++;
            }
        }
    }

    qsort(pairs, n, sizeof(char *), digin_ent_cmp);

    for (i = 0; i < n; i++) {
        len += strlen(pairs[i]) + 1;
    }

    out = malloc(len);
    if (out == NULL) {
        goto done;
    }

    p = out;
    *p = '\0';

    for (i = 0; i < n; i++) {
        if (i > 0 && strcmp(pairs[i], pairs[i - 1]) == 0) {
            continue;
        }

        if (p != out) {
            *p++ = ' ';
        }

        len = strlen(pairs[i]);
        memcpy(p, pairs[i], len + 1);
        p += len;
    }

done:

    for (i = 0; i < n; i++) {
        free(pairs[i]);
    }

    free(pairs);

    return out;
}


static int
digin_ent_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


/* the sections */

static void
digin_ent_vendors(digin_ent_ctx_t *ctx, json_t *root, digin_ent_doc_t *doc)
{
    size_t               mark;
    json_t              *obj, *v;
    int64_t              n;
    const char          *id;
    digin_ent_vendor_t  *vendor;

    digin_ent_path_set(ctx, 0);

    obj = digin_ent_member(ctx, root, "vendors", 1);
    if (obj == NULL) {
        return;
    }

    digin_ent_path_member(ctx, "vendors");
    mark = ctx->pathlen;

    if (!json_is_object(obj)) {
        digin_ent_error(ctx, "expected an object of vendors");
        return;
    }

    doc->vendors = calloc(json_object_size(obj) + 1,
                          sizeof(digin_ent_vendor_t));
    if (doc->vendors == NULL) {
        digin_ent_error(ctx, "out of memory");
        return;
    }

    json_object_foreach(obj, id, v) {
        vendor = &doc->vendors[doc->nvendors];
        vendor->id = id;
        vendor->name = "";

        digin_ent_path_set(ctx, mark);
        digin_ent_path_key(ctx, id);

        if (digin_ent_index(ctx, ctx->vendor_index, id, doc->nvendors++)
            != 0)
        {
            return;
        }

        if (!digin_ent_vendor_id_ok(id, strlen(id))) {
            digin_ent_error(ctx, "invalid vendor id (expected 1 to %d of "
                            "a-z 0-9 _ -)", DIGIN_ENT_ID_MAX);
        }

        if (digin_ent_object(ctx, v, digin_ent_vendor_members)
            != 0)
        {
            continue;
        }

        vendor->name = digin_ent_text(ctx, v, "name", 1, "");
        digin_ent_media(ctx, v, "media", 1, &vendor->media);

        if (digin_ent_int(ctx, v, "loan_cost", 1, DIGIN_ENT_COUNT_MAX,
                          DIGIN_DEFAULT_LOAN_COST, &n)
            == 0)
        {
            vendor->loan_cost = n;
        }
    }

    digin_ent_path_set(ctx, 0);
}


static void
digin_ent_packages(digin_ent_ctx_t *ctx, json_t *root, digin_ent_doc_t *doc)
{
    size_t                mark;
    json_t               *obj, *v;
    const char           *id;
    digin_ent_package_t  *pkg;

    digin_ent_path_set(ctx, 0);

    obj = digin_ent_member(ctx, root, "packages", 1);
    if (obj == NULL) {
        return;
    }

    digin_ent_path_member(ctx, "packages");
    mark = ctx->pathlen;

    if (!json_is_object(obj)) {
        digin_ent_error(ctx, "expected an object of packages");
        return;
    }

    doc->packages = calloc(json_object_size(obj) + 1,
                           sizeof(digin_ent_package_t));
    if (doc->packages == NULL) {
        digin_ent_error(ctx, "out of memory");
        return;
    }

    json_object_foreach(obj, id, v) {
        pkg = &doc->packages[doc->npackages];
        pkg->id = id;
        pkg->name = "";
        pkg->media = DIGIN_MEDIA_ALL;

        digin_ent_path_set(ctx, mark);
        digin_ent_path_key(ctx, id);

        if (digin_ent_index(ctx, ctx->package_index, id, doc->npackages++)
            != 0)
        {
            return;
        }

        if (!digin_ent_vendor_id_ok(id, strlen(id))) {
            digin_ent_error(ctx, "invalid package id (expected 1 to %d of "
                            "a-z 0-9 _ -)", DIGIN_ENT_ID_MAX);
        }

        if (digin_ent_object(ctx, v, digin_ent_package_members)
            != 0)
        {
            continue;
        }

        pkg->name = digin_ent_text(ctx, v, "name", 1, "");
        pkg->vendors = digin_ent_refs(ctx, v, "vendors", 1,
                                      ctx->vendor_index, "vendor",
                                      &pkg->nvendors);
        digin_ent_media(ctx, v, "media", 0, &pkg->media);
    }

    digin_ent_path_set(ctx, 0);
}


static void
digin_ent_libraries(digin_ent_ctx_t *ctx, json_t *root, digin_ent_doc_t *doc)
{
    char                 *grants;
    size_t                mark, m;
    json_t               *obj, *v, *q;
    int64_t               n;
    const char           *id, *status;
    digin_ent_library_t  *lib;

    digin_ent_path_set(ctx, 0);

    obj = digin_ent_member(ctx, root, "libraries", 1);
    if (obj == NULL) {
        return;
    }

    digin_ent_path_member(ctx, "libraries");
    mark = ctx->pathlen;

    if (!json_is_object(obj)) {
        digin_ent_error(ctx, "expected an object of libraries");
        return;
    }

    doc->libraries = calloc(json_object_size(obj) + 1,
                            sizeof(digin_ent_library_t));
    if (doc->libraries == NULL) {
        digin_ent_error(ctx, "out of memory");
        return;
    }

    json_object_foreach(obj, id, v) {
        lib = &doc->libraries[doc->nlibraries];
        lib->id = id;
        lib->name = "";
        lib->county = "";
        lib->period_days = DIGIN_DEFAULT_PERIOD_DAYS;
        lib->loan_days = DIGIN_DEFAULT_LOAN_DAYS;
        lib->budget = DIGIN_UNLIMITED;

        for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
            lib->quota[m] = DIGIN_UNLIMITED;
        }

        digin_ent_path_set(ctx, mark);
        digin_ent_path_key(ctx, id);

        if (digin_ent_index(ctx, ctx->library_index, id, doc->nlibraries++)
            != 0)
        {
            return;
        }

        if (!digin_ent_library_id_ok(id, strlen(id))) {
            digin_ent_error(ctx, "invalid library id (expected 1 to %d of "
                            "A-Z a-z 0-9 _ -)", DIGIN_LIBRARY_MAX);
        }

        if (digin_ent_object(ctx, v, digin_ent_library_members)
            != 0)
        {
            continue;
        }

        lib->name = digin_ent_text(ctx, v, "name", 1, "");
        lib->county = digin_ent_text(ctx, v, "county", 0, "");

        status = digin_ent_text(ctx, v, "status", 0, "active");

        if (strcmp(status, "suspended") == 0) {
            lib->suspended = 1;

        } else if (strcmp(status, "active") != 0) {
            m = digin_ent_path_member(ctx, "status");
            digin_ent_error(ctx, "expected \"active\" or \"suspended\"");
            digin_ent_path_set(ctx, m);
        }

        lib->packages = digin_ent_refs(ctx, v, "packages", 0,
                                       ctx->package_index, "package",
                                       &lib->npackages);

        /* the gateway reads no more of a library's grants */
        grants = (lib->packages != NULL) ? digin_ent_grants(doc, lib) : NULL;

        if (grants != NULL && strlen(grants) > DIGIN_ENT_GRANTS_MAX) {
            m = digin_ent_path_member(ctx, "packages");
            digin_ent_error(ctx, "the packages grant %zu bytes of "
                            "\"vendor/medium\" pairs, more than the "
                            "gateway reads (%d): fewer vendors or shorter "
                            "vendor ids", strlen(grants),
                            DIGIN_ENT_GRANTS_MAX);
            digin_ent_path_set(ctx, m);
        }

        free(grants);

        q = digin_ent_member(ctx, v, "quota", 0);

        if (q != NULL) {
            m = digin_ent_path_member(ctx, "quota");

            if (digin_ent_object(ctx, q, digin_ent_quota_members)
                == 0)
            {
                digin_ent_quota(ctx, q, lib);
            }

            digin_ent_path_set(ctx, m);
        }

        if (digin_ent_int(ctx, v, "monthly_budget", 0, DIGIN_ENT_COUNT_MAX,
                          DIGIN_UNLIMITED, &n)
            == 0)
        {
            lib->budget = n;
        }

        if (digin_ent_int(ctx, v, "loan_days", 1, DIGIN_ENT_LOAN_DAYS_MAX,
                          DIGIN_DEFAULT_LOAN_DAYS, &n)
            == 0)
        {
            lib->loan_days = (int) n;
        }
    }

    digin_ent_path_set(ctx, 0);
}


static void
digin_ent_quota(digin_ent_ctx_t *ctx, json_t *q, digin_ent_library_t *lib)
{
    int      m;
    int64_t  n;

    if (digin_ent_int(ctx, q, "period_days", 1, DIGIN_ENT_PERIOD_MAX,
                      DIGIN_DEFAULT_PERIOD_DAYS, &n)
        == 0)
    {
        lib->period_days = (int) n;
    }

    for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
        if (digin_ent_int(ctx, q, digin_medium_name((digin_medium_e) m), 0,
                          DIGIN_ENT_COUNT_MAX, DIGIN_UNLIMITED, &n)
            == 0)
        {
            lib->quota[m] = n;
        }
    }
}


static void
digin_ent_patrons(digin_ent_ctx_t *ctx, json_t *root, digin_ent_doc_t *doc)
{
    char                 quoted[DIGIN_ENT_KEY_SHOWN * 6 + 8];
    size_t               mark, imark, smark, n;
    json_t              *obj, *subs, *v, *lib, *idx, *blocked;
    const char          *iss, *sub;
    digin_ent_patron_t  *pat;

    digin_ent_path_set(ctx, 0);

    obj = digin_ent_member(ctx, root, "patrons", 0);
    if (obj == NULL) {
        return;
    }

    digin_ent_path_member(ctx, "patrons");
    mark = ctx->pathlen;

    if (!json_is_object(obj)) {
        digin_ent_error(ctx, "expected an object of issuers");
        digin_ent_path_set(ctx, 0);
        return;
    }

    n = 0;

    json_object_foreach(obj, iss, subs) {
        if (json_is_object(subs)) {
            n += json_object_size(subs);
        }
    }

    doc->patrons = calloc(n + 1, sizeof(digin_ent_patron_t));
    if (doc->patrons == NULL) {
        digin_ent_error(ctx, "out of memory");
        digin_ent_path_set(ctx, 0);
        return;
    }

    json_object_foreach(obj, iss, subs) {
        digin_ent_path_set(ctx, mark);
        digin_ent_path_key(ctx, iss);
        imark = ctx->pathlen;

        if (!digin_ent_issuer_ok(iss, strlen(iss))) {
            digin_ent_error(ctx, "invalid issuer (expected 1 to %d "
                            "printable ASCII bytes without spaces, quotes "
                            "or backslashes)", DIGIN_ENT_ISSUER_MAX);
        }

        if (!json_is_object(subs)) {
            digin_ent_error(ctx, "expected an object of patrons");
            continue;
        }

        json_object_foreach(subs, sub, v) {
            digin_ent_path_set(ctx, imark);
            digin_ent_path_key(ctx, sub);
            smark = ctx->pathlen;

            pat = &doc->patrons[doc->npatrons++];
            pat->issuer = iss;
            pat->sub = sub;

            if (!digin_ent_patron_ok(sub, strlen(sub))) {
                digin_ent_error(ctx, "invalid patron id (expected 1 to %d "
                                "printable ASCII bytes without quotes or "
                                "backslashes)", DIGIN_PATRON_MAX);
            }

            if (digin_ent_object(ctx, v, digin_ent_patron_members) != 0) {
                continue;
            }

            lib = digin_ent_member(ctx, v, "library", 1);

            if (lib != NULL) {
                digin_ent_path_member(ctx, "library");

                if (!json_is_string(lib)) {
                    digin_ent_error(ctx, "expected a library id");

                } else {
                    idx = json_object_get(ctx->library_index,
                                          json_string_value(lib));

                    if (idx == NULL) {
                        digin_ent_quote(json_string_value(lib), quoted,
                                        sizeof(quoted));
                        digin_ent_error(ctx, "unknown library \"%s\"",
                                        quoted);

                    } else {
                        pat->library = (size_t) json_integer_value(idx);
                    }
                }

                digin_ent_path_set(ctx, smark);
            }

            blocked = json_object_get(v, "blocked");

            if (blocked != NULL) {
                if (json_is_boolean(blocked)) {
                    pat->blocked = json_is_true(blocked);

                } else {
                    digin_ent_path_member(ctx, "blocked");
                    digin_ent_error(ctx, "expected true or false");
                }
            }
        }
    }

    digin_ent_path_set(ctx, 0);
}


/* helpers: members, values and the path of the value being checked */

static json_t *
digin_ent_member(digin_ent_ctx_t *ctx, json_t *obj, const char *name,
    int required)
{
    size_t   mark;
    json_t  *v;

    v = json_object_get(obj, name);

    if (v == NULL && required) {
        mark = digin_ent_path_member(ctx, name);
        digin_ent_error(ctx, "required member is missing");
        digin_ent_path_set(ctx, mark);
    }

    return v;
}


/* reports v not being an object, or its unknown members */

static int
digin_ent_object(digin_ent_ctx_t *ctx, json_t *v, const char *const *members)
{
    size_t              mark;
    json_t             *item;
    const char         *key;
    const char *const  *m;

    if (!json_is_object(v)) {
        digin_ent_error(ctx, "expected an object");
        return -1;
    }

    json_object_foreach(v, key, item) {
        for (m = members; *m != NULL; m++) {
            if (strcmp(*m, key) == 0) {
                break;
            }
        }

        if (*m == NULL) {
            mark = digin_ent_path_member(ctx, key);
            digin_ent_error(ctx, "unknown member");
            digin_ent_path_set(ctx, mark);
        }
    }

    return 0;
}


/* a name or other text: 1 to DIGIN_ENT_NAME_MAX bytes, no controls */

static const char *
digin_ent_text(digin_ent_ctx_t *ctx, json_t *obj, const char *name,
    int required, const char *def)
{
    size_t       i, len, mark;
    json_t      *v;
    const char  *s;

    v = digin_ent_member(ctx, obj, name, required);
    if (v == NULL) {
        return def;
    }

    if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);

        for (i = 0; i < len; i++) {
            if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
                break;
            }
        }

        if (len > 0 && len <= DIGIN_ENT_NAME_MAX && i == len) {
            return s;
        }
    }

    mark = digin_ent_path_member(ctx, name);
    digin_ent_error(ctx, "expected a non-empty string of at most %d bytes "
                    "without control characters", DIGIN_ENT_NAME_MAX);
    digin_ent_path_set(ctx, mark);

    return def;
}


static int
digin_ent_int(digin_ent_ctx_t *ctx, json_t *obj, const char *name,
    int64_t min, int64_t max, int64_t def, int64_t *out)
{
    size_t       mark;
    json_t      *v;
    json_int_t   n;
    const char  *kind;

    v = json_object_get(obj, name);

    if (v == NULL) {
        *out = def;
        return 0;
    }

    if (json_is_integer(v)) {
        n = json_integer_value(v);

        if (n >= min && n <= max) {
            *out = n;
            return 0;
        }
    }

    mark = digin_ent_path_member(ctx, name);

    if (min == max) {
        digin_ent_error(ctx, "expected %lld", (long long) min);

    } else if (max == DIGIN_ENT_COUNT_MAX && (min == 0 || min == 1)) {
        kind = (min == 0) ? "a non-negative" : "a positive";

        if (json_is_integer(v) && json_integer_value(v) > max) {
            digin_ent_error(ctx, "expected %s integer of at most %lld",
                            kind, (long long) max);

        } else {
            digin_ent_error(ctx, "expected %s integer", kind);
        }

    } else {
        digin_ent_error(ctx, "expected an integer from %lld to %lld",
                        (long long) min, (long long) max);
    }

    digin_ent_path_set(ctx, mark);

    return -1;
}


static int
digin_ent_media(digin_ent_ctx_t *ctx, json_t *obj, const char *name,
    int required, unsigned *out)
{
    int          m, rc;
    char         quoted[DIGIN_ENT_KEY_SHOWN * 6 + 8];
    size_t       i, mark, imark;
    json_t      *v, *item;
    unsigned     media;
    const char  *s;

    v = digin_ent_member(ctx, obj, name, required);
    if (v == NULL) {
        return 0;
    }

    mark = digin_ent_path_member(ctx, name);

    if (!json_is_array(v) || json_array_size(v) == 0) {
        digin_ent_error(ctx, "expected a non-empty array of media "
                        "(\"ebook\", \"audio\")");
        digin_ent_path_set(ctx, mark);
        return -1;
    }

    rc = 0;
    media = 0;

    json_array_foreach(v, i, item) {
        imark = digin_ent_path_index(ctx, i);

        if (!json_is_string(item)) {
            digin_ent_error(ctx, "expected a medium (\"ebook\", \"audio\")");
            rc = -1;

        } else {
            s = json_string_value(item);
            m = digin_medium_by_name(s, json_string_length(item));
            digin_ent_quote(s, quoted, sizeof(quoted));

            if (m < 0) {
                digin_ent_error(ctx, "unknown medium \"%s\"", quoted);
                rc = -1;

            } else if (media & DIGIN_MEDIUM_BIT(m)) {
                digin_ent_error(ctx, "duplicate medium \"%s\"", quoted);
                rc = -1;

            } else {
                media |= DIGIN_MEDIUM_BIT(m);
            }
        }

        digin_ent_path_set(ctx, imark);
    }

    digin_ent_path_set(ctx, mark);

    if (rc == 0) {
        *out = media;
    }

    return rc;
}


/* an array of ids of another section, as indexes into it */

static size_t *
digin_ent_refs(digin_ent_ctx_t *ctx, json_t *obj, const char *name,
    int required, json_t *index, const char *what, size_t *n)
{
    char         quoted[DIGIN_ENT_KEY_SHOWN * 6 + 8];
    size_t       i, j, mark, imark, *refs;
    json_t      *v, *item, *idx;
    const char  *s;

    *n = 0;

    v = digin_ent_member(ctx, obj, name, required);
    if (v == NULL) {
        return NULL;
    }

    mark = digin_ent_path_member(ctx, name);

    if (!json_is_array(v)) {
        digin_ent_error(ctx, "expected an array of %s ids", what);
        digin_ent_path_set(ctx, mark);
        return NULL;
    }

    refs = calloc(json_array_size(v) + 1, sizeof(size_t));
    if (refs == NULL) {
        digin_ent_error(ctx, "out of memory");
        digin_ent_path_set(ctx, mark);
        return NULL;
    }

    json_array_foreach(v, i, item) {
        imark = digin_ent_path_index(ctx, i);

        if (!json_is_string(item)) {
            digin_ent_error(ctx, "expected a %s id", what);
            digin_ent_path_set(ctx, imark);
            continue;
        }

        s = json_string_value(item);
        digin_ent_quote(s, quoted, sizeof(quoted));

        for (j = 0; j < i; j++) {
            if (json_equal(json_array_get(v, j), item)) {
                break;
            }
        }

        idx = json_object_get(index, s);

        if (j < i) {
            digin_ent_error(ctx, "duplicate %s \"%s\"", what, quoted);

        } else if (idx == NULL) {
            digin_ent_error(ctx, "unknown %s \"%s\"", what, quoted);

        } else {
            refs[(*n)++] = (size_t) json_integer_value(idx);
        }

        digin_ent_path_set(ctx, imark);
    }

    digin_ent_path_set(ctx, mark);

    return refs;
}


static int
digin_ent_index(digin_ent_ctx_t *ctx, json_t *index, const char *id,
    size_t i)
{
    if (json_object_set_new(index, id, json_integer((json_int_t) i)) != 0) {
        digin_ent_error(ctx, "out of memory");
        return -1;
    }

    return 0;
}


static void
digin_ent_error(digin_ent_ctx_t *ctx, const char *fmt, ...)
{
    int      n;
    size_t   left;
    va_list  args;

    if (++ctx->nerrors > DIGIN_ENT_ERRORS || ctx->used + 1 >= ctx->errlen) {
        return;
    }

    left = ctx->errlen - ctx->used;

    n = snprintf(ctx->err + ctx->used, left, "%s%s: ",
                 ctx->used > 0 ? "\n" : "",
                 ctx->pathlen > 0 ? ctx->path : "document");

    if (n < 0 || (size_t) n >= left) {
        ctx->used = ctx->errlen - 1;
        return;
    }

    ctx->used += n;
    left -= n;

    va_start(args, fmt);
    n = vsnprintf(ctx->err + ctx->used, left, fmt, args);
    va_end(args);

    if (n < 0 || (size_t) n >= left) {
        ctx->used = ctx->errlen - 1;
        return;
    }

    ctx->used += n;
}


static void
digin_ent_path_append(digin_ent_ctx_t *ctx, const char *s)
{
    size_t  len;

    len = strlen(s);

    if (ctx->pathlen + len >= DIGIN_ENT_PATH_MAX) {
        len = DIGIN_ENT_PATH_MAX - 1 - ctx->pathlen;
    }

    memcpy(ctx->path + ctx->pathlen, s, len);
    ctx->pathlen += len;
    ctx->path[ctx->pathlen] = '\0';
}


/* ".name", or ["name"] when name is not an identifier; the old length */

static size_t
digin_ent_path_member(digin_ent_ctx_t *ctx, const char *name)
{
    size_t       mark;
    const char  *p;

    mark = ctx->pathlen;

    for (p = name; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || *p == '_' || (p != name && *p >= '0' && *p <= '9')))
        {
            break;
        }
    }

    if (*p != '\0' || p == name) {
        digin_ent_path_key(ctx, name);
        return mark;
    }

    if (mark > 0) {
        digin_ent_path_append(ctx, ".");
    }

    digin_ent_path_append(ctx, name);

    return mark;
}


static size_t
digin_ent_path_key(digin_ent_ctx_t *ctx, const char *key)
{
    char    quoted[DIGIN_ENT_KEY_SHOWN * 6 + 8];
    size_t  mark;

    mark = ctx->pathlen;

    digin_ent_quote(key, quoted, sizeof(quoted));
    digin_ent_path_append(ctx, "[\"");
    digin_ent_path_append(ctx, quoted);
    digin_ent_path_append(ctx, "\"]");

    return mark;
}


static size_t
digin_ent_path_index(digin_ent_ctx_t *ctx, size_t i)
{
    char    buf[32];
    size_t  mark;

    mark = ctx->pathlen;

    snprintf(buf, sizeof(buf), "[%zu]", i);
    digin_ent_path_append(ctx, buf);

    return mark;
}


static void
digin_ent_path_set(digin_ent_ctx_t *ctx, size_t len)
{
    ctx->pathlen = len;
    ctx->path[len] = '\0';
}


/*
 * s as it may appear between double quotes on one line of a message:
 * quotes and backslashes escaped, control characters as \u00XX, cut
 * after DIGIN_ENT_KEY_SHOWN bytes (at a UTF-8 character) with "...".
 * buf holds at least DIGIN_ENT_KEY_SHOWN * 6 + 8 bytes.
 */

static void
digin_ent_quote(const char *s, char *buf, size_t len)
{
    size_t          i, n;
    unsigned char   c;

    n = 0;

    for (i = 0; s[i] != '\0' && n + 8 < len; i++) {
        c = (unsigned char) s[i];

        if (i >= DIGIN_ENT_KEY_SHOWN && (c & 0xc0) != 0x80) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }

        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char) c;

        } else if (c < 0x20 || c == 0x7f) {
            n += snprintf(buf + n, len - n, "\\u%04x", c);

        } else {
            buf[n++] = (char) c;
        }
    }

    buf[n] = '\0';
}
