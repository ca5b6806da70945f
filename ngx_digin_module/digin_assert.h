/*
 * Copyright (C) Digin gateway developers
 *
 * Toward vendors: per-vendor pseudonyms and the short-lived assertions
 * the gateway signs for them.  No nginx headers here.
 */


#ifndef _DIGIN_ASSERT_H_INCLUDED_
#define _DIGIN_ASSERT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "digin_key.h"


#define DIGIN_PSEUDONYM_LEN      43      /* base64url of 32 bytes */
#define DIGIN_PSEUDONYM_KEY_MIN  32
#define DIGIN_ASSERTION_MAX      2048


typedef struct {
    digin_alg_e      alg;
    char            *kid;            /* NULL: none */
    EVP_PKEY        *pkey;           /* ES256, EdDSA, RS256 */
    unsigned char   *secret;         /* HS256 */
    size_t           secret_len;
} digin_signer_t;


typedef struct {
    const char      *iss;
    const char      *aud;            /* the vendor */
    const char      *sub;            /* the pseudonym */
    const char      *library;        /* NULL: left out */
    const char      *county;         /* NULL: left out */
    const char      *medium;         /* NULL: left out */
    int64_t          iat;
    int64_t          exp;
} digin_assertion_t;


typedef struct digin_pseudonym_key_s  digin_pseudonym_key_t;


/*
 * The HMAC key of pseudonyms, keyed once; NULL when OpenSSL cannot.  One
 * process uses it at a time (a worker's copy after fork is its own).
 */
digin_pseudonym_key_t *digin_pseudonym_key_new(const unsigned char *key,
    size_t keylen);
void digin_pseudonym_key_free(digin_pseudonym_key_t *k);

/*
 * HMAC-SHA256 of issuer, patron and vendor (each followed by a NUL)
 * under the key, base64url: stable for one patron at one vendor,
 * unlinkable across vendors, and no patron id can be recovered from it.
 * out holds DIGIN_PSEUDONYM_LEN + 1 bytes.
 */
int digin_pseudonym(digin_pseudonym_key_t *k, const char *iss,
    size_t iss_len, const char *sub, size_t sub_len, const char *vendor,
    size_t vendor_len, char *out);

/*
 * A signing key: a private key PEM for ES256, EdDSA and RS256, the
 * secret's bytes for HS256.  NULL with a reason in err.
 */
digin_signer_t *digin_signer_load_file(const char *path, digin_alg_e alg,
    const char *kid, char *err, size_t errlen);
void digin_signer_free(digin_signer_t *s);

/*
 * Signs the assertion as a compact JWS with a fresh random jti; returns
 * its length, or -1.  out holds DIGIN_ASSERTION_MAX bytes.
 */
long digin_assertion_sign(digin_signer_t *s, const digin_assertion_t *a,
    char *out, size_t outlen);


#endif /* _DIGIN_ASSERT_H_INCLUDED_ */
