/*
 * Copyright (C) Digin gateway developers
 *
 * Helpers shared by the unit tests: an independent base64url codec
 * (OpenSSL's standard base64 with the alphabet swapped), key
 * generation, JWK and PEM export, JWS signing and token building.
 * Everything is static inline: each test is a single translation unit.
 */


#ifndef _DIGIN_TEST_H_INCLUDED_
#define _DIGIN_TEST_H_INCLUDED_


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "digin_b64.h"
#include "digin_key.h"
#include "digin_jwt.h"


#define DT_ERRLEN  256


/* fails the test with both strings shown when needle is not in hay */
#define dt_assert_contains(hay, needle)                                      \
    do {                                                                     \
        if (strstr((hay), (needle)) == NULL) {                               \
            print_error("\"%s\" does not contain \"%s\"\n", (hay),          \
                        (needle));                                           \
            fail();                                                          \
        }                                                                    \
    } while (0)


typedef struct {
    EVP_PKEY             *pkey;         /* RSA, EC, Ed25519 private key */
    const unsigned char  *secret;       /* HMAC, when pkey is NULL */
    size_t                secret_len;
} dt_signer_t;


/* base64url of len bytes, as a new NUL-terminated string */

static inline char *
dt_b64url(const unsigned char *src, size_t len)
{
    int    n;
    char  *s, *p;

    s = malloc(4 * ((len + 2) / 3) + 1);
    assert_non_null(s);

    n = EVP_EncodeBlock((unsigned char *) s, src, (int) len);
    s[n] = '\0';

    for (p = s; *p != '\0'; p++) {
        if (*p == '+') {
            *p = '-';

        } else if (*p == '/') {
            *p = '_';

        } else if (*p == '=') {
            *p = '\0';
            break;
        }
    }

    return s;
}


static inline char *
dt_b64url_str(const char *s)
{
    return dt_b64url((const unsigned char *) s, strlen(s));
}


/* decodes unpadded base64url into a new buffer; fails the test if bad */

static inline unsigned char *
dt_unb64url(const char *s, size_t *outlen)
{
    int             n;
    char           *std;
    size_t          i, len, pad;
    unsigned char  *out;

    len = strlen(s);
    pad = (4 - len % 4) % 4;
    assert_int_not_equal(pad, 3);

    std = malloc(len + pad + 1);
    out = malloc(len + 3);
    assert_non_null(std);
    assert_non_null(out);

    for (i = 0; i < len; i++) {
        std[i] = (s[i] == '-') ? '+' : (s[i] == '_') ? '/' : s[i];
    }

    memset(std + len, '=', pad);
    std[len + pad] = '\0';

    n = EVP_DecodeBlock(out, (unsigned char *) std, (int) (len + pad));
    assert_true(n >= 0);

    free(std);
    *outlen = (size_t) n - pad;

    return out;
}


/* key generation; each fails the test when OpenSSL cannot make the key */

static inline EVP_PKEY *
dt_rsa(size_t bits)
{
    EVP_PKEY  *pkey;

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
    assert_non_null(pkey);

    return pkey;
}


static inline EVP_PKEY *
dt_ec(const char *curve)
{
    EVP_PKEY  *pkey;

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    assert_non_null(pkey);

    return pkey;
}


static inline EVP_PKEY *
dt_keygen(const char *type)
{
    EVP_PKEY  *pkey;

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, type);
    assert_non_null(pkey);

    return pkey;
}


static inline const char *
dt_alg_md(digin_alg_e alg)
{
    switch (alg) {
    case DIGIN_ALG_HS256:
    case DIGIN_ALG_RS256:
    case DIGIN_ALG_PS256:
    case DIGIN_ALG_ES256:
        return "SHA256";
    case DIGIN_ALG_HS384:
    case DIGIN_ALG_RS384:
    case DIGIN_ALG_PS384:
    case DIGIN_ALG_ES384:
        return "SHA384";
    case DIGIN_ALG_HS512:
    case DIGIN_ALG_RS512:
    case DIGIN_ALG_PS512:
    case DIGIN_ALG_ES512:
        return "SHA512";
    default:
        return NULL;
    }
}


static inline size_t
dt_ec_field_bytes(digin_alg_e alg)
{
    switch (alg) {
    case DIGIN_ALG_ES256:
        return 32;
    case DIGIN_ALG_ES384:
        return 48;
    case DIGIN_ALG_ES512:
        return 66;
    default:
        return 0;
    }
}


/* RFC 7518 3.4: the DER ECDSA-Sig-Value as raw R||S, n bytes each */

static inline size_t
dt_der_to_raw(const unsigned char *der, size_t derlen, size_t n,
    unsigned char *raw)
{
    ECDSA_SIG            *es;
    const BIGNUM         *r, *s;
    const unsigned char  *p;

    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long) derlen);
    assert_non_null(es);

    ECDSA_SIG_get0(es, &r, &s);
    assert_int_equal(BN_bn2binpad(r, raw, (int) n), n);
    assert_int_equal(BN_bn2binpad(s, raw + n, (int) n), n);

    ECDSA_SIG_free(es);

    return 2 * n;
}


/* the other way round: a DER signature in a new buffer */

static inline unsigned char *
dt_raw_to_der(const unsigned char *raw, size_t rawlen, size_t *derlen)
{
    int             n;
    BIGNUM         *r, *s;
    ECDSA_SIG      *es;
    unsigned char  *der;

    r = BN_bin2bn(raw, (int) rawlen / 2, NULL);
    s = BN_bin2bn(raw + rawlen / 2, (int) rawlen / 2, NULL);
    es = ECDSA_SIG_new();
    assert_non_null(r);
    assert_non_null(s);
    assert_non_null(es);
    assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);

    der = NULL;
    n = i2d_ECDSA_SIG(es, &der);
    assert_true(n > 0);
    ECDSA_SIG_free(es);

    *derlen = (size_t) n;

    return der;
}


/*
 * A JWS signature over data with alg, made with OpenSSL directly: sig
 * must hold 1024 bytes.  Returns the signature length.
 */

static inline size_t
dt_sign(const dt_signer_t *signer, digin_alg_e alg,
    const unsigned char *data, size_t len, unsigned char *sig)
{
    size_t          siglen, derlen;
    EVP_MD         *md;
    EVP_MD_CTX     *mdctx;
    const char     *mdname;
    unsigned int    maclen;
    EVP_PKEY_CTX   *pctx;
    unsigned char   der[256];

    mdname = dt_alg_md(alg);
    md = NULL;

    if (mdname != NULL) {
        md = EVP_MD_fetch(NULL, mdname, NULL);
        assert_non_null(md);
    }

    if (signer->pkey == NULL) {
        assert_non_null(md);
        assert_non_null(HMAC(md, signer->secret, (int) signer->secret_len,
                             data, len, sig, &maclen));
        EVP_MD_free(md);

        return maclen;
    }

    mdctx = EVP_MD_CTX_new();
    assert_non_null(mdctx);
    pctx = NULL;

    assert_int_equal(EVP_DigestSignInit(mdctx, &pctx, md, NULL,
                                        signer->pkey), 1);

    if (alg == DIGIN_ALG_PS256 || alg == DIGIN_ALG_PS384
        || alg == DIGIN_ALG_PS512)
    {
        assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx,
                                                 RSA_PKCS1_PSS_PADDING) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                 RSA_PSS_SALTLEN_DIGEST) > 0);
    }

    if (dt_ec_field_bytes(alg) != 0) {
        derlen = sizeof(der);
        assert_int_equal(EVP_DigestSign(mdctx, der, &derlen, data, len), 1);
        siglen = dt_der_to_raw(der, derlen, dt_ec_field_bytes(alg), sig);

    } else {
        siglen = 1024;
        assert_int_equal(EVP_DigestSign(mdctx, sig, &siglen, data, len), 1);
    }

    EVP_MD_CTX_free(mdctx);
    EVP_MD_free(md);

    return siglen;
}


/*
 * A compact JWS: base64url(header) "." base64url(payload) "." and the
 * base64url signature made by signer with alg (empty when signer is
 * NULL).  Returns a new string.
 */

static inline char *
dt_token(const dt_signer_t *signer, digin_alg_e alg, const char *header,
    const char *payload)
{
    char           *h, *p, *s, *token;
    size_t          siglen, len;
    unsigned char   sig[1024];

    h = dt_b64url_str(header);
    p = dt_b64url_str(payload);

    len = strlen(h) + 1 + strlen(p);
    token = malloc(len + 1 + 4 * sizeof(sig) / 3 + 4);
    assert_non_null(token);

    sprintf(token, "%s.%s", h, p);

    siglen = 0;

    if (signer != NULL) {
        siglen = dt_sign(signer, alg, (unsigned char *) token, len, sig);
    }

    s = dt_b64url(sig, siglen);
    sprintf(token + len, ".%s", s);

    free(h);
    free(p);
    free(s);

    return token;
}


/* the public half of pkey as a JWK JSON object text, in a new string */

static inline char *
dt_jwk(EVP_PKEY *pkey, const char *kid, const char *alg)
{
    char           *text, *b1, *b2, group[64];
    size_t          n, len;
    json_t         *jwk;
    BIGNUM         *x, *y;
    unsigned char   buf[1024], buf2[128];

    jwk = json_object();
    assert_non_null(jwk);

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        x = NULL;
        y = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N,
                                               &x), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E,
                                               &y), 1);
        b1 = dt_b64url(buf, (size_t) BN_bn2bin(x, buf));
        b2 = dt_b64url(buf, (size_t) BN_bn2bin(y, buf));
        json_object_set_new(jwk, "kty", json_string("RSA"));
        json_object_set_new(jwk, "n", json_string(b1));
        json_object_set_new(jwk, "e", json_string(b2));
        BN_free(x);
        BN_free(y);
        free(b1);
        free(b2);

    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        assert_int_equal(EVP_PKEY_get_utf8_string_param(pkey,
                             OSSL_PKEY_PARAM_GROUP_NAME, group,
                             sizeof(group), NULL), 1);

        if (strcmp(group, "prime256v1") == 0) {
            n = 32;
            json_object_set_new(jwk, "crv", json_string("P-256"));

        } else if (strcmp(group, "secp384r1") == 0) {
            n = 48;
            json_object_set_new(jwk, "crv", json_string("P-384"));

        } else {
            assert_string_equal(group, "secp521r1");
            n = 66;
            json_object_set_new(jwk, "crv", json_string("P-521"));
        }

        x = NULL;
        y = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(pkey,
                                               OSSL_PKEY_PARAM_EC_PUB_X,
                                               &x), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(pkey,
                                               OSSL_PKEY_PARAM_EC_PUB_Y,
                                               &y), 1);
        assert_int_equal(BN_bn2binpad(x, buf, (int) n), n);
        assert_int_equal(BN_bn2binpad(y, buf2, (int) n), n);
        b1 = dt_b64url(buf, n);
        b2 = dt_b64url(buf2, n);
        json_object_set_new(jwk, "kty", json_string("EC"));
        json_object_set_new(jwk, "x", json_string(b1));
        json_object_set_new(jwk, "y", json_string(b2));
        BN_free(x);
        BN_free(y);
        free(b1);
        free(b2);

    } else {
        assert_true(EVP_PKEY_is_a(pkey, "ED25519"));
        len = sizeof(buf);
        assert_int_equal(EVP_PKEY_get_raw_public_key(pkey, buf, &len), 1);
        b1 = dt_b64url(buf, len);
        json_object_set_new(jwk, "kty", json_string("OKP"));
        json_object_set_new(jwk, "crv", json_string("Ed25519"));
        json_object_set_new(jwk, "x", json_string(b1));
        free(b1);
    }

    if (kid != NULL) {
        json_object_set_new(jwk, "kid", json_string(kid));
    }

    if (alg != NULL) {
        json_object_set_new(jwk, "alg", json_string(alg));
    }

    text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(text);
    json_decref(jwk);

    return text;
}


/* the public half of pkey as PEM ("BEGIN PUBLIC KEY"), a new string */

static inline char *
dt_pem(EVP_PKEY *pkey)
{
    BIO    *bio;
    char   *data, *text;
    long    len;

    bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);

    len = BIO_get_mem_data(bio, &data);
    text = malloc((size_t) len + 1);
    assert_non_null(text);
    memcpy(text, data, (size_t) len);
    text[len] = '\0';

    BIO_free(bio);

    return text;
}


/* a key set from JWKS text; fails the test with the loader's reason */

static inline digin_keyset_t *
dt_keyset(const char *jwks)
{
    char             err[DT_ERRLEN];
    digin_keyset_t  *ks;

    err[0] = '\0';
    ks = digin_keyset_from_jwks(jwks, strlen(jwks), err, sizeof(err));

    if (ks == NULL) {
        print_error("JWKS rejected: %s\n%s\n", err, jwks);
        fail();
    }

    return ks;
}


/* a JWKS document of up to 8 JWKs (NULL-terminated), a new string */

static inline char *
dt_jwks(const char *jwk, ...)
{
    char        *s;
    size_t       len;
    va_list      args;
    const char  *part, *parts[8];
    size_t       i, n;

    n = 0;
    len = sizeof("{\"keys\":[]}");

    va_start(args, jwk);

    for (part = jwk; part != NULL; part = va_arg(args, const char *)) {
        assert_true(n < 8);
        parts[n++] = part;
        len += strlen(part) + 1;
    }

    va_end(args);

    s = malloc(len);
    assert_non_null(s);
    strcpy(s, "{\"keys\":[");

    for (i = 0; i < n; i++) {
        if (i > 0) {
            strcat(s, ",");
        }

        strcat(s, parts[i]);
    }

    strcat(s, "]}");

    return s;
}


static inline digin_issuer_t *
dt_issuer(const char *name, const char *audience, unsigned algorithms,
    const char *patron_claim, const char *library_claim,
    digin_keyset_t *keys)
{
    digin_issuer_t  *iss;

    iss = calloc(1, sizeof(digin_issuer_t));
    assert_non_null(iss);

    iss->name = strdup(name);
    iss->name_len = strlen(name);
    iss->audience = strdup(audience);
    iss->algorithms = algorithms;
    iss->patron_claim = strdup(patron_claim);
    iss->library_claim = library_claim ? strdup(library_claim) : NULL;
    iss->keys = keys;

    return iss;
}


static inline void
dt_issuer_free(digin_issuer_t *iss)
{
    if (iss == NULL) {
        return;
    }

    free(iss->name);
    free(iss->audience);
    free(iss->patron_claim);
    free(iss->library_claim);
    digin_keyset_free(iss->keys);
    free(iss);
}


#endif /* _DIGIN_TEST_H_INCLUDED_ */
