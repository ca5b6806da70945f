/*
 * Copyright (C) Digin gateway developers
 *
 * Unit tests of digin_grant.c: grants lists and the entitlement
 * decision.
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


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_grants_allow),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_number),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
