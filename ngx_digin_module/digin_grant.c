/*
 * Copyright (C) Digin gateway developers
 */


#include <string.h>

#include "digin_grant.h"


/* calls back for each "vendor/medium" pair; stops when it returns 1 */

static int
digin_grants_each(digin_str_t *grants, digin_str_t *vendor,
    unsigned *media)
{
    int          m;
    const char  *p, *end, *word, *slash;

    p = grants->s;
    end = grants->s + grants->len;

    while (p < end) {
        while (p < end && *p == ' ') {
            p++;
        }

        word = p;

        while (p < end && *p != ' ') {
            p++;
        }

        if (p == word) {
            break;
        }

        slash = memchr(word, '/', p - word);
        if (slash == NULL) {
            continue;
        }

        if ((size_t) (slash - word) != vendor->len
            || memcmp(word, vendor->s, vendor->len) != 0)
        {
            continue;
        }

        m = digin_medium_by_name(slash + 1, p - (slash + 1));

        if (m >= 0) {
            *media |= 1u << m;
        }
    }

    return 0;
}


unsigned
digin_grants_media(digin_str_t *grants, digin_str_t *vendor)
{
    unsigned  media;

    media = 0;
    (void) digin_grants_each(grants, vendor, &media);

    return media;
}


int
digin_grants_allow(digin_str_t *grants, digin_str_t *vendor, int medium)
{
    unsigned  media;

    media = digin_grants_media(grants, vendor);

    if (medium < 0) {
        return media != 0;
    }

    return (media & (1u << medium)) != 0;
}


digin_result_e
digin_grant_decide(digin_patron_t *patron, digin_library_t *lib,
    digin_str_t *vendor, int medium)
{
    if (patron->revoked) {
        return DIGIN_TOKEN_REVOKED;
    }

    if (patron->blocked) {
        return DIGIN_PATRON_BLOCKED;
    }

    if (!lib->found) {
        return DIGIN_NOT_ENTITLED;
    }

    if (lib->suspended) {
        return DIGIN_LIBRARY_SUSPENDED;
    }

    if (vendor->len && !digin_grants_allow(&lib->grants, vendor, medium)) {
        return DIGIN_NOT_ENTITLED;
    }

    return DIGIN_OK;
}


int64_t
digin_grant_number(const char *s, size_t len, int64_t def)
{
    size_t   i;
    int64_t  n;
    int      neg;

    if (len == 0 || len > 18) {
        return def;
    }

    neg = (s[0] == '-');
    i = neg ? 1 : 0;

    if (i == len) {
        return def;
    }

    for (n = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return def;
        }

        n = n * 10 + (s[i] - '0');
    }

    return neg ? -n : n;
}
