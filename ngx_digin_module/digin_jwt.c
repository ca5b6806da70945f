/*
 * Copyright (C) Digin gateway developers
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "digin_b64.h"
#include "digin_jwt.h"


#define DIGIN_KID_MAX          256
#define DIGIN_HEADER_MEMO      4
#define DIGIN_HEADER_MEMO_LEN  256


/* what a valid JOSE header says */
typedef struct {
    digin_alg_e       alg;
    size_t            kid_len;       /* 0: no kid */
    char              kid[DIGIN_KID_MAX + 1];
} digin_header_t;


/*
 * Every token an issuer signs with one key carries the same header
 * segment, so the last valid ones are remembered with what they said: a
 * new token with a known header skips decoding and parsing it.  The
 * answer depends on the segment's bytes alone.  Per process; a worker
 * is single-threaded.
 */
static struct {
    size_t            len;
    unsigned char     seg[DIGIN_HEADER_MEMO_LEN];
    digin_header_t    header;
} digin_header_memo[DIGIN_HEADER_MEMO];

static unsigned  digin_header_memo_next;


static const struct {
    const char  *name;
    const char  *text;
} digin_results[DIGIN_RESULT_MAX] = {
    [DIGIN_OK] =
        { "ok", "the token is valid" },
    [DIGIN_TOKEN_MISSING] =
        { "token_missing", "no token was sent" },
    [DIGIN_TOKEN_MALFORMED] =
        { "token_malformed", "the token is not a well-formed JWT" },
    [DIGIN_TOKEN_TOO_LARGE] =
        { "token_too_large", "the token is too large" },
    [DIGIN_TOKEN_EXPIRED] =
        { "token_expired", "the token has expired" },
    [DIGIN_TOKEN_NOT_YET_VALID] =
        { "token_not_yet_valid", "the token is not valid yet" },
    [DIGIN_SIGNATURE_INVALID] =
        { "signature_invalid", "the token signature is invalid" },
    [DIGIN_ISSUER_UNKNOWN] =
        { "issuer_unknown", "the token issuer is not trusted" },
    [DIGIN_AUDIENCE_MISMATCH] =
        { "audience_mismatch", "the token is meant for another audience" },
    [DIGIN_ALGORITHM_NOT_ALLOWED] =
        { "algorithm_not_allowed",
          "the token algorithm is not allowed for this key" },
    [DIGIN_KEY_UNKNOWN] =
        { "key_unknown", "the token names no known key" },
    [DIGIN_CLAIM_INVALID] =
        { "claim_invalid", "a required claim is missing or invalid" },
    [DIGIN_NOT_ENTITLED] =
        { "not_entitled", "the library gives no access to this" },
    [DIGIN_LIBRARY_SUSPENDED] =
        { "library_suspended", "the library's access is suspended" },
    [DIGIN_PATRON_BLOCKED] =
        { "patron_blocked", "the patron is blocked by the library" },
    [DIGIN_TOKEN_REVOKED] =
        { "token_revoked", "the token was revoked" },
    [DIGIN_QUOTA_EXHAUSTED] =
        { "quota_exhausted", "no loans are left in this period" },
    [DIGIN_BUDGET_EXHAUSTED] =
        { "budget_exhausted", "the library's budget for the month is spent" },
    [DIGIN_ENTITLEMENTS_UNAVAILABLE] =
        { "entitlements_unavailable", "entitlements cannot be checked now" },
    [DIGIN_TITLE_MISSING] =
        { "title_missing", "the loan names no title" },
};


static int digin_json_depth_ok(json_t *v, int depth);
static json_t *digin_segment_json(const unsigned char *seg, size_t len,
    unsigned char *buf);
static digin_result_e digin_jwt_claims(const digin_trust_t *trust,
    const digin_issuer_t *iss, json_t *payload, time_t now,
    digin_claims_t *claims);
static int digin_claim_time(json_t *payload, const char *name,
    int64_t *value);
static int digin_claim_copy(json_t *v, char *dst, size_t max);
static int digin_header_read(const unsigned char *seg, size_t len,
    unsigned char *buf, digin_header_t *h);
static digin_key_t *digin_key_select(const digin_keyset_t *ks,
    const digin_header_t *h, digin_result_e *rc);


const char *
digin_result_name(digin_result_e rc)
{
    if ((unsigned) rc >= DIGIN_RESULT_MAX) {
        return "";
    }

    return digin_results[rc].name;
}


const char *
digin_result_text(digin_result_e rc)
{
    if ((unsigned) rc >= DIGIN_RESULT_MAX) {
        return "";
    }

    return digin_results[rc].text;
}


int
digin_claim_value_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] >= 0x7f
            || s[i] == '"' || s[i] == '\\')
        {
            return 0;
        }
    }

    return 1;
}


static int
digin_json_depth_ok(json_t *v, int depth)
{
    size_t       i;
    json_t      *item;
    const char  *key;

    if ((json_is_object(v) || json_is_array(v)) && depth > DIGIN_JSON_DEPTH)
    {
        return 0;
    }

    if (json_is_object(v)) {
        json_object_foreach(v, key, item) {
            if (!digin_json_depth_ok(item, depth + 1)) {
                return 0;
            }
        }

    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            if (!digin_json_depth_ok(item, depth + 1)) {
                return 0;
            }
        }
    }

    return 1;
}


/* a base64url segment holding a JSON object, within the depth limit */

static json_t *
digin_segment_json(const unsigned char *seg, size_t len, unsigned char *buf)
{
    long     n;
    json_t  *v;

    n = digin_b64url_decode(buf, seg, len);
    if (n <= 0) {
        return NULL;
    }

    v = json_loadb((const char *) buf, (size_t) n, JSON_REJECT_DUPLICATES,
                   NULL);
    if (v == NULL) {
        return NULL;
    }

    if (!json_is_object(v) || !digin_json_depth_ok(v, 1)) {
        json_decref(v);
        return NULL;
    }

    return v;
}


/* the header segment: from the memo, or decoded, checked and memoised */

static int
digin_header_read(const unsigned char *seg, size_t len, unsigned char *buf,
    digin_header_t *h)
{
    int      ok;
    size_t   i;
    json_t  *header, *v, *kid;

    for (i = 0; i < DIGIN_HEADER_MEMO; i++) {
        if (digin_header_memo[i].len == len
            && memcmp(digin_header_memo[i].seg, seg, len) == 0)
        {
            *h = digin_header_memo[i].header;
            return 0;
        }
    }

    header = digin_segment_json(seg, len, buf);
    if (header == NULL) {
        return -1;
    }

    v = json_object_get(header, "alg");
    kid = json_object_get(header, "kid");

    ok = json_is_string(v)

         /* no JWS extension is understood, so none may be critical */
         && json_object_get(header, "crit") == NULL

         && (kid == NULL
             || (json_is_string(kid)
                 && json_string_length(kid) > 0
                 && json_string_length(kid) <= DIGIN_KID_MAX))

         && (json_object_get(header, "typ") == NULL
             || json_is_string(json_object_get(header, "typ")));

    if (ok) {
        h->alg = digin_alg_by_name(json_string_value(v),
                                   json_string_length(v));
        h->kid_len = (kid != NULL) ? json_string_length(kid) : 0;

        if (h->kid_len) {
            memcpy(h->kid, json_string_value(kid), h->kid_len);
        }

        h->kid[h->kid_len] = '\0';
    }

    json_decref(header);

    if (!ok) {
        return -1;
    }

    if (len <= DIGIN_HEADER_MEMO_LEN) {
        i = digin_header_memo_next++ % DIGIN_HEADER_MEMO;
        memcpy(digin_header_memo[i].seg, seg, len);
        digin_header_memo[i].len = len;
        digin_header_memo[i].header = *h;
    }

    return 0;
}


/*
 * A kid selects exactly one key.  Without a kid the issuer's key set
 * must hold exactly one key for the algorithm: keys are never tried one
 * after another.
 */

static digin_key_t *
digin_key_select(const digin_keyset_t *ks, const digin_header_t *h,
    digin_result_e *rc)
{
    size_t        i, n;
    digin_key_t  *found;
    digin_alg_e   alg;

    found = NULL;
    alg = h->alg;

    /* a key set without kids (one PEM key) cannot be chosen by kid */
    for (i = 0; h->kid_len && i < ks->nkeys; i++) {
        if (ks->keys[i].kid != NULL) {
            break;
        }
    }

    if (h->kid_len && i < ks->nkeys) {
        for (i = 0; i < ks->nkeys; i++) {
            if (ks->keys[i].kid != NULL
                && strlen(ks->keys[i].kid) == h->kid_len
                && memcmp(ks->keys[i].kid, h->kid, h->kid_len) == 0)
            {
                found = &ks->keys[i];
                break;
            }
        }

        if (found == NULL) {
            *rc = DIGIN_KEY_UNKNOWN;
            return NULL;
        }

        if (!digin_key_allows(found, alg)) {
            *rc = DIGIN_ALGORITHM_NOT_ALLOWED;
            return NULL;
        }

        return found;
    }

    n = 0;

    for (i = 0; i < ks->nkeys; i++) {
        if (digin_key_allows(&ks->keys[i], alg)) {
            found = &ks->keys[i];
            n++;
        }
    }

    if (n == 0) {
        *rc = DIGIN_ALGORITHM_NOT_ALLOWED;
        return NULL;
    }

    if (n > 1) {
        *rc = DIGIN_KEY_UNKNOWN;
        return NULL;
    }

    return found;
}


digin_result_e
digin_jwt_verify(const digin_trust_t *trust, const unsigned char *token,
    size_t len, time_t now, digin_claims_t *claims)
{
    long                   siglen;
    size_t                 i, hlen, plen, slen;
    json_t                *payload, *v;
    unsigned char         *buf;
    digin_result_e         rc;
    digin_key_t           *key;
    digin_header_t         header;
    const unsigned char   *dot1, *dot2;
    const digin_issuer_t  *iss;

    if (len == 0) {
        return DIGIN_TOKEN_MISSING;
    }

    if (len > trust->max_size) {
        return DIGIN_TOKEN_TOO_LARGE;
    }

    dot1 = memchr(token, '.', len);
    if (dot1 == NULL) {
        return DIGIN_TOKEN_MALFORMED;
    }

    dot2 = memchr(dot1 + 1, '.', len - (dot1 + 1 - token));
    if (dot2 == NULL
        || memchr(dot2 + 1, '.', len - (dot2 + 1 - token)) != NULL)
    {
        return DIGIN_TOKEN_MALFORMED;
    }

    hlen = dot1 - token;
    plen = dot2 - (dot1 + 1);
    slen = len - (dot2 + 1 - token);

    if (hlen == 0 || plen == 0) {
        return DIGIN_TOKEN_MALFORMED;
    }

    /* one buffer for each decoded segment in turn */
    buf = malloc(digin_b64url_decoded_len(len) + 1);
    if (buf == NULL) {
        return DIGIN_TOKEN_MALFORMED;
    }

    payload = NULL;
    rc = DIGIN_TOKEN_MALFORMED;

    if (digin_header_read(token, hlen, buf, &header) != 0) {
        goto done;
    }

    payload = digin_segment_json(dot1 + 1, plen, buf);
    if (payload == NULL) {
        goto done;
    }

    /* "none" and anything unknown */
    if (header.alg == DIGIN_ALG_UNKNOWN) {
        rc = DIGIN_ALGORITHM_NOT_ALLOWED;
        goto done;
    }

    v = json_object_get(payload, "iss");
    iss = NULL;

    if (json_is_string(v)) {
        for (i = 0; i < trust->nissuers; i++) {
            if (trust->issuers[i]->name_len == json_string_length(v)
                && memcmp(trust->issuers[i]->name, json_string_value(v),
                          json_string_length(v)) == 0)
            {
                iss = trust->issuers[i];
                break;
            }
        }
    }

    if (iss == NULL) {
        rc = DIGIN_ISSUER_UNKNOWN;
        goto done;
    }

    if ((iss->algorithms & DIGIN_ALG_BIT(header.alg)) == 0) {
        rc = DIGIN_ALGORITHM_NOT_ALLOWED;
        goto done;
    }

    key = digin_key_select(iss->keys, &header, &rc);
    if (key == NULL) {
        goto done;
    }

    siglen = digin_b64url_decode(buf, dot2 + 1, slen);

    if (siglen <= 0
        || !digin_key_verify(key, header.alg, token, dot2 - token, buf,
                             (size_t) siglen))
    {
        rc = DIGIN_SIGNATURE_INVALID;
        goto done;
    }

    claims->issuer = i;
    rc = digin_jwt_claims(trust, iss, payload, now, claims);

done:

    json_decref(payload);
    free(buf);

    return rc;
}


/* a NumericDate claim; 0 when absent, 1 when present, -1 when invalid */

static int
digin_claim_time(json_t *payload, const char *name, int64_t *value)
{
    double   d;
    json_t  *v;

    v = json_object_get(payload, name);
    if (v == NULL) {
        return 0;
    }

    if (json_is_integer(v)) {
        *value = (int64_t) json_integer_value(v);
        return 1;
    }

    if (json_is_real(v)) {
        d = json_real_value(v);

        /* far beyond any real date either way: clamp, never overflow */
        if (d > 1e15) {
            *value = (int64_t) 1e15;

        } else if (d < -1e15) {
            *value = (int64_t) -1e15;

        } else {
            *value = (int64_t) d;
        }

        return 1;
    }

    return -1;
}


/* a string claim that may reach a header; -1 when it may not */

static int
digin_claim_copy(json_t *v, char *dst, size_t max)
{
    size_t  len;

    if (!json_is_string(v)) {
        return -1;
    }

    len = json_string_length(v);

    if (len > max || !digin_claim_value_ok(json_string_value(v), len)) {
        return -1;
    }

    memcpy(dst, json_string_value(v), len);
    dst[len] = '\0';

    return 0;
}


static digin_result_e
digin_jwt_claims(const digin_trust_t *trust, const digin_issuer_t *iss,
    json_t *payload, time_t now, digin_claims_t *claims)
{
    int      found;
    size_t   i;
    json_t  *aud, *v;
    int64_t  exp, nbf, iat;

    if (digin_claim_time(payload, "exp", &exp) != 1) {
        return DIGIN_CLAIM_INVALID;
    }

    if (digin_claim_time(payload, "nbf", &nbf) < 0
        || digin_claim_time(payload, "iat", &iat) < 0)
    {
        return DIGIN_CLAIM_INVALID;
    }

    if ((int64_t) now - trust->leeway >= exp) {
        return DIGIN_TOKEN_EXPIRED;
    }

    if ((json_object_get(payload, "nbf") != NULL
         && nbf > (int64_t) now + trust->leeway)
        || (json_object_get(payload, "iat") != NULL
            && iat > (int64_t) now + trust->leeway))
    {
        return DIGIN_TOKEN_NOT_YET_VALID;
    }

    aud = json_object_get(payload, "aud");
    found = 0;

    if (json_is_string(aud)) {
        found = (strcmp(json_string_value(aud), iss->audience) == 0);

    } else if (json_is_array(aud)) {
        json_array_foreach(aud, i, v) {
            if (json_is_string(v)
                && strcmp(json_string_value(v), iss->audience) == 0)
            {
                found = 1;
                break;
            }
        }
    }

    if (!found) {
        return DIGIN_AUDIENCE_MISMATCH;
    }

    if (digin_claim_copy(json_object_get(payload, iss->patron_claim),
                         claims->patron, DIGIN_PATRON_MAX) != 0)
    {
        return DIGIN_CLAIM_INVALID;
    }

    claims->library[0] = '\0';

    if (iss->library_claim != NULL) {
        v = json_object_get(payload, iss->library_claim);

        if (v != NULL
            && digin_claim_copy(v, claims->library, DIGIN_LIBRARY_MAX) != 0)
        {
            return DIGIN_CLAIM_INVALID;
        }
    }

    claims->jti[0] = '\0';
    v = json_object_get(payload, "jti");

    if (v != NULL && digin_claim_copy(v, claims->jti, DIGIN_JTI_MAX) != 0) {
        return DIGIN_CLAIM_INVALID;
    }

    claims->exp = exp;

    return DIGIN_OK;
}
