/*
 * Copyright (C) Digin gateway developers
 *
 * Verification keys: JWKS documents and PEM files parsed once into
 * OpenSSL EVP_PKEY objects, and JWS signature checks with them.
 * No nginx headers here: the code is unit tested with plain cc.
 */


#ifndef _DIGIN_KEY_H_INCLUDED_
#define _DIGIN_KEY_H_INCLUDED_


#include <stddef.h>
#include <openssl/evp.h>


typedef enum {
    DIGIN_ALG_UNKNOWN = 0,
    DIGIN_ALG_HS256,
    DIGIN_ALG_HS384,
    DIGIN_ALG_HS512,
    DIGIN_ALG_RS256,
    DIGIN_ALG_RS384,
    DIGIN_ALG_RS512,
    DIGIN_ALG_PS256,
    DIGIN_ALG_PS384,
    DIGIN_ALG_PS512,
    DIGIN_ALG_ES256,
    DIGIN_ALG_ES384,
    DIGIN_ALG_ES512,
    DIGIN_ALG_EDDSA,
    DIGIN_ALG_MAX
} digin_alg_e;

#define DIGIN_ALG_BIT(alg)      (1u << (alg))
#define DIGIN_ALGS_HMAC                                                      \
    (DIGIN_ALG_BIT(DIGIN_ALG_HS256) | DIGIN_ALG_BIT(DIGIN_ALG_HS384)         \
     | DIGIN_ALG_BIT(DIGIN_ALG_HS512))
#define DIGIN_ALGS_ALL                                                       \
    (((1u << DIGIN_ALG_MAX) - 1) & ~DIGIN_ALG_BIT(DIGIN_ALG_UNKNOWN))
/* what an issuer accepts when its configuration names no algorithms */
#define DIGIN_ALGS_DEFAULT      (DIGIN_ALGS_ALL & ~DIGIN_ALGS_HMAC)


typedef enum {
    DIGIN_KTY_RSA = 1,
    DIGIN_KTY_EC,
    DIGIN_KTY_OKP,
    DIGIN_KTY_OCT
} digin_kty_e;


typedef struct {
    char            *kid;         /* NULL when the key has none */
    digin_kty_e      kty;
    int              curve_nid;   /* EC and OKP: NID_X9_62_prime256v1 ... */
    digin_alg_e      alg;         /* pinned by the JWK "alg"; or UNKNOWN */
    EVP_PKEY        *pkey;        /* RSA, EC, OKP */
    unsigned char   *secret;      /* oct */
    size_t           secret_len;
    /* RSA and EC: verification contexts prepared once per algorithm */
    EVP_PKEY_CTX    *verify_ctx[DIGIN_ALG_MAX];
} digin_key_t;


typedef struct {
    digin_key_t     *keys;
    size_t           nkeys;
    /* SHA-256 of the source file: tells one key set from another */
    unsigned char    fingerprint[32];
} digin_keyset_t;


/* formats a one-line reason into err (when err is not NULL) */
void digin_err(char *err, size_t errlen, const char *fmt, ...);

/* "RS256" -> DIGIN_ALG_RS256; DIGIN_ALG_UNKNOWN for anything else */
digin_alg_e digin_alg_by_name(const char *name, size_t len);
const char *digin_alg_name(digin_alg_e alg);

/*
 * Each loader returns a new key set, or NULL with a one-line reason in
 * err (which names the key by position or kid when it can).  A JWKS
 * must hold at least one usable signature key; keys with "use" other
 * than "sig" are skipped.
 */
digin_keyset_t *digin_keyset_from_jwks(const char *data, size_t len,
    char *err, size_t errlen);
/* kid may be NULL */
digin_keyset_t *digin_keyset_from_pem(const char *data, size_t len,
    const char *kid, char *err, size_t errlen);
/* reads path and calls the loader that fits; is_jwks selects which */
digin_keyset_t *digin_keyset_load_file(const char *path, int is_jwks,
    const char *kid, char *err, size_t errlen);
void digin_keyset_free(digin_keyset_t *ks);

/* does this key's type (and pinned alg) allow the algorithm? */
int digin_key_allows(const digin_key_t *key, digin_alg_e alg);

/*
 * Checks a JWS signature (for ES*, the raw R||S form of RFC 7518) over
 * data.  Returns 1 when valid, 0 otherwise.  The caller has already
 * checked digin_key_allows().
 */
int digin_key_verify(digin_key_t *key, digin_alg_e alg,
    const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen);


#endif /* _DIGIN_KEY_H_INCLUDED_ */
