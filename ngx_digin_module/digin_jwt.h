/*
 * Copyright (C) Digin gateway developers
 *
 * Patron token (JWS compact serialisation) parsing and verification
 * against a set of trusted issuers.  No nginx headers here.
 */


#ifndef _DIGIN_JWT_H_INCLUDED_
#define _DIGIN_JWT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "digin_key.h"


/*
 * Stable reason codes: they are the values of $digin_result and the
 * "error" member of the JSON bodies the front end translates.  Append
 * new codes; never renumber or rename.
 */
typedef enum {
    DIGIN_OK = 0,
    DIGIN_TOKEN_MISSING,
    DIGIN_TOKEN_MALFORMED,
    DIGIN_TOKEN_TOO_LARGE,
    DIGIN_TOKEN_EXPIRED,
    DIGIN_TOKEN_NOT_YET_VALID,
    DIGIN_SIGNATURE_INVALID,
    DIGIN_ISSUER_UNKNOWN,
    DIGIN_AUDIENCE_MISMATCH,
    DIGIN_ALGORITHM_NOT_ALLOWED,
    DIGIN_KEY_UNKNOWN,
    DIGIN_CLAIM_INVALID,
    DIGIN_NOT_ENTITLED,
    DIGIN_LIBRARY_SUSPENDED,
    DIGIN_PATRON_BLOCKED,
    DIGIN_TOKEN_REVOKED,
    DIGIN_QUOTA_EXHAUSTED,
    DIGIN_BUDGET_EXHAUSTED,
    DIGIN_ENTITLEMENTS_UNAVAILABLE,
    DIGIN_TITLE_MISSING,
    DIGIN_RESULT_MAX
} digin_result_e;


#define DIGIN_PATRON_MAX    255
#define DIGIN_LIBRARY_MAX   63
#define DIGIN_JTI_MAX       127
#define DIGIN_JSON_DEPTH    8


typedef struct {
    char                *name;            /* the "iss" value */
    size_t               name_len;
    char                *audience;
    unsigned             algorithms;      /* DIGIN_ALG_BIT() set */
    char                *patron_claim;    /* "sub" by default */
    char                *library_claim;   /* NULL: none */
    digin_keyset_t      *keys;            /* replaced when the file does */
} digin_issuer_t;


typedef struct {
    digin_issuer_t     **issuers;
    size_t               nissuers;
    long                 leeway;          /* seconds */
    size_t               max_size;        /* bytes of the whole token */
} digin_trust_t;


typedef struct {
    size_t               issuer;          /* index into trust->issuers */
    int64_t              exp;
    char                 patron[DIGIN_PATRON_MAX + 1];
    char                 library[DIGIN_LIBRARY_MAX + 1];  /* "" if none */
    char                 jti[DIGIN_JTI_MAX + 1];          /* "" if none */
} digin_claims_t;


/* "token_expired" etc.; "" for out-of-range values */
const char *digin_result_name(digin_result_e rc);
/* a short English sentence for error_description and logs */
const char *digin_result_text(digin_result_e rc);

/*
 * Verifies a compact JWS at time now.  On DIGIN_OK fills claims.  The
 * order of checks is: size, structure, header, issuer, algorithm, key,
 * signature, then time and audience claims, so that nothing but the
 * issuer selection is read from an unverified payload.
 */
digin_result_e digin_jwt_verify(const digin_trust_t *trust,
    const unsigned char *token, size_t len, time_t now,
    digin_claims_t *claims);

/*
 * A claim value that may go into a variable and from there into a
 * header or a log: 1 to len printable bytes, no control characters
 * (bytes < 0x20 and 0x7f) and no quotes or backslashes.
 */
int digin_claim_value_ok(const char *s, size_t len);


#endif /* _DIGIN_JWT_H_INCLUDED_ */
