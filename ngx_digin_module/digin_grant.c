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


/* the values the cache keeps: fields with a two-byte length before each */

static unsigned char *
digin_lookup_put(unsigned char *p, const digin_str_t *s)
{
    *p++ = (unsigned char) (s->len >> 8);
    *p++ = (unsigned char) s->len;

    if (s->len) {
        memcpy(p, s->s, s->len);
    }

    return p + s->len;
}


static const unsigned char *
digin_lookup_get(const unsigned char *p, const unsigned char *last,
    digin_str_t *s)
{
    if (last - p < 2) {
        return NULL;
    }

    s->len = ((size_t) p[0] << 8) | p[1];
    p += 2;

    if ((size_t) (last - p) < s->len) {
        return NULL;
    }

    s->s = (const char *) p;

    return p + s->len;
}


static int
digin_lookup_is(const digin_str_t *s, const char *value)
{
    size_t  len;

    len = strlen(value);

    return s->len == len && memcmp(s->s, value, len) == 0;
}


int
digin_lookup_parse(const digin_str_t *f, size_t n, digin_lookup_t *lk,
    unsigned char *pv, unsigned char *lv, size_t size)
{
    size_t          i, need;
    unsigned char  *p;

    if (n != DIGIN_LOOKUP_FIELDS) {
        return -1;
    }

    for (i = 0; i < DIGIN_LOOKUP_FIELDS; i++) {
        if (f[i].s == NULL || f[i].len > DIGIN_LOOKUP_FIELD_MAX) {
            return -1;
        }
    }

    /* each value must fit its buffer whole: a Redis may answer anything */

    if (2 + 2 + f[DIGIN_LOOKUP_PAT_LIBRARY].len > size) {
        return -1;
    }

    need = 0;

    for (i = DIGIN_LOOKUP_LIB_ID; i < DIGIN_LOOKUP_FIELDS; i++) {
        need += 2 + f[i].len;
    }

    if (need > size) {
        return -1;
    }

    lk->gen = f[DIGIN_LOOKUP_GEN];
    lk->library = f[DIGIN_LOOKUP_LIB_ID];
    lk->patron_found = (f[DIGIN_LOOKUP_PAT_FOUND].len
                        && f[DIGIN_LOOKUP_PAT_FOUND].s[0] == '1');
    lk->library_found = (f[DIGIN_LOOKUP_LIB_FOUND].len
                         && f[DIGIN_LOOKUP_LIB_FOUND].s[0] == '1');
    lk->revoked = digin_lookup_is(&f[DIGIN_LOOKUP_REVOKED], "1");

    /* the patron */

    p = pv;
    *p++ = lk->patron_found ? '1' : '0';
    *p++ = (digin_lookup_is(&f[DIGIN_LOOKUP_PAT_BLOCKED], "1")
            || digin_lookup_is(&f[DIGIN_LOOKUP_OP_BLOCKED], "1"))
           ? '1' : '0';
    p = digin_lookup_put(p, &f[DIGIN_LOOKUP_PAT_LIBRARY]);
    lk->plen = p - pv;

    /* the library, when there is one to speak of */

    lk->llen = 0;

    if (lk->library.len) {
        p = lv;

        for (i = DIGIN_LOOKUP_LIB_ID; i < DIGIN_LOOKUP_FIELDS; i++) {
            p = digin_lookup_put(p, &f[i]);
        }

        lk->llen = p - lv;
    }

    return 0;
}


int
digin_lookup_patron(const unsigned char *v, size_t len, unsigned *blocked,
    digin_str_t *library)
{
    if (len < 2 || digin_lookup_get(v + 2, v + len, library) == NULL) {
        return -1;
    }

    *blocked = (v[1] == '1');

    return 0;
}


int
digin_lookup_library(const unsigned char *v, size_t len,
    digin_library_t *lib)
{
    size_t                i;
    digin_str_t           f[DIGIN_LOOKUP_FIELDS - DIGIN_LOOKUP_LIB_ID];
    const unsigned char  *p, *last;

    p = v;
    last = v + len;

    for (i = 0; i < DIGIN_LOOKUP_FIELDS - DIGIN_LOOKUP_LIB_ID; i++) {
        p = digin_lookup_get(p, last, &f[i]);
        if (p == NULL) {
            return -1;
        }
    }

#define F(n)  f[DIGIN_LOOKUP_ ## n - DIGIN_LOOKUP_LIB_ID]

    memset(lib, 0, sizeof(digin_library_t));

    lib->found = digin_lookup_is(&F(LIB_FOUND), "1");
    lib->suspended = digin_lookup_is(&F(LIB_STATUS), "suspended");

    lib->id = F(LIB_ID);
    lib->name = F(LIB_NAME);
    lib->county = F(LIB_COUNTY);
    lib->grants = F(LIB_GRANTS);

    lib->period_days = digin_grant_number(F(LIB_PERIOD).s, F(LIB_PERIOD).len,
                                          DIGIN_DEFAULT_PERIOD_DAYS);
    lib->quota[DIGIN_MEDIUM_EBOOK] =
        digin_grant_number(F(LIB_QUOTA_EBOOK).s, F(LIB_QUOTA_EBOOK).len,
                           DIGIN_UNLIMITED);
    lib->quota[DIGIN_MEDIUM_AUDIO] =
        digin_grant_number(F(LIB_QUOTA_AUDIO).s, F(LIB_QUOTA_AUDIO).len,
                           DIGIN_UNLIMITED);
    lib->budget = digin_grant_number(F(LIB_BUDGET).s, F(LIB_BUDGET).len,
                                     DIGIN_UNLIMITED);
    lib->loan_days = digin_grant_number(F(LIB_LOAN_DAYS).s,
                                        F(LIB_LOAN_DAYS).len,
                                        DIGIN_DEFAULT_LOAN_DAYS);

#undef F

    return 0;
}
