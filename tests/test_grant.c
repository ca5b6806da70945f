/*
 * Copyright (C) Digin gateway developers
 *
 * Unit tests of digin_grant.c: grants lists, the entitlement decision,
 * and the lookup script's answer as the cache keeps it.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "digin_grant.h"


#define S(str)  { str, sizeof(str) - 1 }


static void
test_grants_allow(void **state)
{
    size_t  i;
    static const struct {
        const char  *grants;
        const char  *vendor;
        int          medium;
        int          allow;
        unsigned     media;
    } rows[] = {
        { "bokskya/ebook lydhuset/audio", "bokskya", DIGIN_MEDIUM_EBOOK, 1,
          1u << DIGIN_MEDIUM_EBOOK },
        { "bokskya/ebook lydhuset/audio", "bokskya", DIGIN_MEDIUM_AUDIO, 0,
          1u << DIGIN_MEDIUM_EBOOK },
        { "bokskya/ebook lydhuset/audio", "lydhuset", -1, 1,
          1u << DIGIN_MEDIUM_AUDIO },
        { "bokskya/ebook bokskya/audio", "bokskya", DIGIN_MEDIUM_AUDIO, 1,
          (1u << DIGIN_MEDIUM_EBOOK) | (1u << DIGIN_MEDIUM_AUDIO) },
        /* a vendor is matched whole, never by prefix */
        { "bokskya/ebook", "boks", -1, 0, 0 },
        { "bokskya/ebook", "bokskyax", -1, 0, 0 },
        { "", "bokskya", -1, 0, 0 },
        { "  bokskya/ebook  ", "bokskya", DIGIN_MEDIUM_EBOOK, 1,
          1u << DIGIN_MEDIUM_EBOOK },
        /* unknown media and words without a medium are passed over */
        { "bokskya/video bokskya", "bokskya", -1, 0, 0 },
    };

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        digin_str_t  g = { rows[i].grants, strlen(rows[i].grants) };
        digin_str_t  v = { rows[i].vendor, strlen(rows[i].vendor) };

        assert_int_equal(digin_grants_allow(&g, &v, rows[i].medium),
                         rows[i].allow);
        assert_int_equal(digin_grants_media(&g, &v), rows[i].media);
    }
}


static void
test_decide(void **state)
{
    size_t           i;
    digin_str_t      vendor = S("bokskya");
    digin_str_t      none = S("");
    digin_library_t  lib;
    static const struct {
        unsigned         revoked:1;
        unsigned         blocked:1;
        unsigned         found:1;
        unsigned         suspended:1;
        const char      *grants;
        int              medium;
        int              any_vendor;
        digin_result_e   expect;
    } rows[] = {
        { 0, 0, 1, 0, "bokskya/ebook", DIGIN_MEDIUM_EBOOK, 0, DIGIN_OK },
        { 0, 0, 1, 0, "bokskya/ebook", -1, 0, DIGIN_OK },
        { 0, 0, 1, 0, "bokskya/ebook", DIGIN_MEDIUM_AUDIO, 0,
          DIGIN_NOT_ENTITLED },
        { 0, 0, 1, 0, "lydhuset/audio", -1, 0, DIGIN_NOT_ENTITLED },
        { 0, 0, 0, 0, "", -1, 0, DIGIN_NOT_ENTITLED },
        { 0, 0, 1, 1, "bokskya/ebook", -1, 0, DIGIN_LIBRARY_SUSPENDED },
        { 0, 1, 1, 1, "bokskya/ebook", -1, 0, DIGIN_PATRON_BLOCKED },
        { 1, 1, 1, 1, "bokskya/ebook", -1, 0, DIGIN_TOKEN_REVOKED },
        /* with no vendor only who and which library count */
        { 0, 0, 1, 0, "", -1, 1, DIGIN_OK },
        { 0, 0, 0, 0, "", -1, 1, DIGIN_NOT_ENTITLED },
    };

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        digin_patron_t  who = { rows[i].revoked, rows[i].blocked };

        memset(&lib, 0, sizeof(lib));
        lib.found = rows[i].found;
        lib.suspended = rows[i].suspended;
        lib.grants.s = rows[i].grants;
        lib.grants.len = strlen(rows[i].grants);

        assert_int_equal(digin_grant_decide(&who, &lib,
                                            rows[i].any_vendor ? &none
                                                               : &vendor,
                                            rows[i].medium),
                         rows[i].expect);
    }
}


static void
test_number(void **state)
{
    assert_int_equal(digin_grant_number("30", 2, 7), 30);
    assert_int_equal(digin_grant_number("-1", 2, 7), -1);
    assert_int_equal(digin_grant_number("", 0, 7), 7);
    assert_int_equal(digin_grant_number("-", 1, 7), 7);
    assert_int_equal(digin_grant_number("3x", 2, 7), 7);
    assert_int_equal(digin_grant_number("1234567890123456789", 19, 7), 7);
}


/* the lookup script's answer for patron p of library 0301 */

static void
lookup_answer(digin_str_t *f)
{
    static const char  *v[DIGIN_LOOKUP_FIELDS] = {
        "7", "1", "0301", "0", "0", "0",
        "0301", "1", "active", "03", "Deichman", "bokskya/ebook",
        "30", "3", "-1", "5000", "21",
    };
    size_t  i;

    for (i = 0; i < DIGIN_LOOKUP_FIELDS; i++) {
        f[i].s = v[i];
        f[i].len = strlen(v[i]);
    }
}


static void
test_lookup_roundtrip(void **state)
{
    unsigned         blocked;
    digin_str_t      f[DIGIN_LOOKUP_FIELDS], lib_of_record;
    digin_lookup_t   lk;
    digin_library_t  lib;
    unsigned char    pv[2048], lv[2048];

    lookup_answer(f);

    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                                        sizeof(pv)), 0);
    assert_int_equal(lk.gen.len, 1);
    assert_memory_equal(lk.gen.s, "7", 1);
    assert_int_equal(lk.library.len, 4);
    assert_true(lk.patron_found);
    assert_true(lk.library_found);
    assert_false(lk.revoked);

    assert_int_equal(digin_lookup_patron(pv, lk.plen, &blocked,
                                         &lib_of_record), 0);
    assert_false(blocked);
    assert_int_equal(lib_of_record.len, 4);
    assert_memory_equal(lib_of_record.s, "0301", 4);

    assert_int_equal(digin_lookup_library(lv, lk.llen, &lib), 0);
    assert_true(lib.found);
    assert_false(lib.suspended);
    assert_int_equal(lib.name.len, 8);
    assert_memory_equal(lib.name.s, "Deichman", 8);
    assert_int_equal(lib.grants.len, 13);
    assert_int_equal(lib.period_days, 30);
    assert_int_equal(lib.quota[DIGIN_MEDIUM_EBOOK], 3);
    assert_int_equal(lib.quota[DIGIN_MEDIUM_AUDIO], DIGIN_UNLIMITED);
    assert_int_equal(lib.budget, 5000);
    assert_int_equal(lib.loan_days, 21);

    /* an operator's block, a revoked token, a suspended library */
    f[DIGIN_LOOKUP_OP_BLOCKED].s = "1";
    f[DIGIN_LOOKUP_REVOKED].s = "1";
    f[DIGIN_LOOKUP_LIB_STATUS].s = "suspended";
    f[DIGIN_LOOKUP_LIB_STATUS].len = 9;

    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                                        sizeof(pv)), 0);
    assert_true(lk.revoked);
    assert_int_equal(digin_lookup_patron(pv, lk.plen, &blocked,
                                         &lib_of_record), 0);
    assert_true(blocked);
    assert_int_equal(digin_lookup_library(lv, lk.llen, &lib), 0);
    assert_true(lib.suspended);

    /* no library to speak of: no library value */
    lookup_answer(f);
    f[DIGIN_LOOKUP_LIB_ID].len = 0;

    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                                        sizeof(pv)), 0);
    assert_int_equal(lk.llen, 0);
}


/*
 * Answers of the wrong shape, and answers whose values would not fit
 * the cache's buffers (each field within the limit, together too long:
 * this overflowed a stack buffer of the gateway's before the check).
 */

static void
test_lookup_refused(void **state)
{
    size_t          i;
    char            big[DIGIN_LOOKUP_FIELD_MAX + 1];
    digin_str_t     f[DIGIN_LOOKUP_FIELDS];
    digin_lookup_t  lk;
    unsigned char   pv[2048], lv[2048 + 16];

    memset(big, 'x', sizeof(big));

    /* too few, too many fields */
    lookup_answer(f);
    assert_int_equal(digin_lookup_parse(f, 0, &lk, pv, lv, 2048), -1);
    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS - 1, &lk, pv,
                                        lv, 2048), -1);
    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS + 1, &lk, pv,
                                        lv, 2048), -1);

    /* an element that is not a string */
    for (i = 0; i < DIGIN_LOOKUP_FIELDS; i++) {
        lookup_answer(f);
        f[i].s = NULL;
        assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv,
                                            lv, 2048), -1);
    }

    /* one field over the limit */
    lookup_answer(f);
    f[DIGIN_LOOKUP_LIB_NAME].s = big;
    f[DIGIN_LOOKUP_LIB_NAME].len = DIGIN_LOOKUP_FIELD_MAX + 1;
    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                                        2048), -1);

    /* every library field at the limit: 11 * 1002 bytes */
    lookup_answer(f);

    for (i = DIGIN_LOOKUP_LIB_FOUND; i < DIGIN_LOOKUP_FIELDS; i++) {
        f[i].s = big;
        f[i].len = DIGIN_LOOKUP_FIELD_MAX;
    }

    memset(lv + 2048, 0xa5, 16);
    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                                        2048), -1);

    for (i = 2048; i < sizeof(lv); i++) {
        assert_int_equal(lv[i], 0xa5);
    }

    /* exactly as much as fits, and one byte more */
    lookup_answer(f);
    f[DIGIN_LOOKUP_LIB_NAME].s = big;
    f[DIGIN_LOOKUP_LIB_COUNTY].s = big;
    f[DIGIN_LOOKUP_LIB_NAME].len = DIGIN_LOOKUP_FIELD_MAX;
    f[DIGIN_LOOKUP_LIB_COUNTY].len = 0;

    for (i = DIGIN_LOOKUP_LIB_ID; i < DIGIN_LOOKUP_FIELDS; i++) {
        if (i != DIGIN_LOOKUP_LIB_COUNTY) {
            f[DIGIN_LOOKUP_LIB_COUNTY].len -= 2 + f[i].len;
        }
    }

    f[DIGIN_LOOKUP_LIB_COUNTY].len += 2048 - 2;
    assert_true(f[DIGIN_LOOKUP_LIB_COUNTY].len <= DIGIN_LOOKUP_FIELD_MAX);
    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                                        2048), 0);
    assert_int_equal(lk.llen, 2048);

    f[DIGIN_LOOKUP_LIB_COUNTY].len++;
    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                                        2048), -1);
}


/* cached values cut short are refused, never read past their end */

static void
test_lookup_truncated(void **state)
{
    size_t           n;
    unsigned         blocked;
    digin_str_t      f[DIGIN_LOOKUP_FIELDS], lib_of_record;
    digin_lookup_t   lk;
    digin_library_t  lib;
    unsigned char    pv[2048], lv[2048];

    lookup_answer(f);
    assert_int_equal(digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                                        sizeof(pv)), 0);

    for (n = 0; n < lk.plen; n++) {
        assert_int_equal(digin_lookup_patron(pv, n, &blocked,
                                             &lib_of_record), -1);
    }

    for (n = 0; n < lk.llen; n++) {
        assert_int_equal(digin_lookup_library(lv, n, &lib), -1);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_grants_allow),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_lookup_roundtrip),
        cmocka_unit_test(test_lookup_refused),
        cmocka_unit_test(test_lookup_truncated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
