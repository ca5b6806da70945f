/*
 * Copyright (C) Digin gateway developers
 *
 * libFuzzer target: digin_jwt_verify() against a fixed trust set, the
 * keys of tests/fuzz/keys/ (RSA, EC P-256, Ed25519, two oct keys) under
 * three issuers, at a fixed clock.
 *
 * An input is taken one of two ways:
 *
 *   - as a compact token, byte for byte (the attacker's view: every
 *     header, payload and signature the gateway might be sent);
 *   - when it starts with '{', as a header JSON text, a line break, and
 *     a payload JSON text, which the target encodes and signs (HS256
 *     with the oct key, or ES256 with the EC key when the header names
 *     ES256), so that mutations reach the claim checks behind a good
 *     signature.
 *
 * What must hold for every input: no crash or sanitizer report, and a
 * token that passes has claims fit for headers and logs.
 */


#define _GNU_SOURCE     /* memmem() */

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "digin_b64.h"
#include "digin_jwt.h"
#include "digin_key.h"

#include "fuzz_common.h"


#define FZ_NOW       1800000000
#define FZ_MAX_SIZE  8192


static digin_trust_t    fz_trust;
static digin_issuer_t  *fz_issuers[3];
static unsigned char   *fz_secret;
static size_t           fz_secret_len;
static EVP_PKEY        *fz_ec;
static int              fz_signer;      /* 'H', 'E', or 0: not signed here */


static digin_keyset_t *
fz_keyset(const char *file, int jwks)
{
    char             err[256];
    char            *data;
    size_t           len;
    digin_keyset_t  *ks;

    data = fz_key_file(file, &len);

    ks = jwks ? digin_keyset_from_jwks(data, len, err, sizeof(err))
              : digin_keyset_from_pem(data, len, NULL, err, sizeof(err));

    if (ks == NULL) {
        fprintf(stderr, "%s: %s\n", file, err);
        exit(1);
    }

    free(data);

    return ks;
}


static digin_issuer_t *
fz_issuer(const char *name, digin_keyset_t *ks, unsigned algorithms,
    char *library_claim)
{
    digin_issuer_t  *iss;

    iss = calloc(1, sizeof(digin_issuer_t));
    fz_check(iss != NULL);

    iss->name = (char *) name;
    iss->name_len = strlen(name);
    iss->audience = "digin";
    iss->algorithms = algorithms;
    iss->patron_claim = "sub";
    iss->library_claim = library_claim;
    iss->keys = ks;

    return iss;
}


/* the three key sets of the idp issuer as one JWKS text */

static digin_keyset_t *
fz_idp_keys(void)
{
    char             err[256], *text, *files[3];
    size_t           i, len, total;
    digin_keyset_t  *ks;

    total = 64;

    for (i = 0; i < 3; i++) {
        files[i] = fz_key_file(i == 0 ? "rsa.jwks.json"
                               : i == 1 ? "ec.jwks.json" : "ed.jwks.json",
                               &len);
        total += len;
    }

    text = malloc(total);
    fz_check(text != NULL);

    /* each file is {"keys": [ ONE ]}: the members, joined */
    strcpy(text, "{\"keys\":[");

    for (i = 0; i < 3; i++) {
        char  *a, *b;

        a = strchr(files[i], '[');
        b = strrchr(files[i], ']');
        fz_check(a != NULL && b != NULL && a < b);

        strncat(text, a + 1, (size_t) (b - a - 1));
        strcat(text, i < 2 ? "," : "]}");
        free(files[i]);
    }

    ks = digin_keyset_from_jwks(text, strlen(text), err, sizeof(err));
    if (ks == NULL) {
        fprintf(stderr, "idp keys: %s\n", err);
        exit(1);
    }

    free(text);

    return ks;
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char  *pem;
    BIO   *bio;

    fz_issuers[0] = fz_issuer("https://idp.fuzz", fz_idp_keys(),
                              DIGIN_ALGS_DEFAULT
                              | DIGIN_ALG_BIT(DIGIN_ALG_HS256),
                              "library");
    fz_issuers[1] = fz_issuer("https://hmac.fuzz",
                              fz_keyset("oct.jwks.json", 1),
                              DIGIN_ALGS_HMAC, NULL);
    fz_issuers[2] = fz_issuer("https://pem.fuzz",
                              fz_keyset("rsa.pub.pem", 0),
                              DIGIN_ALG_BIT(DIGIN_ALG_RS256)
                              | DIGIN_ALG_BIT(DIGIN_ALG_PS256),
                              "library");

    fz_trust.issuers = fz_issuers;
    fz_trust.nissuers = 3;
    fz_trust.leeway = 30;
    fz_trust.max_size = FZ_MAX_SIZE;

    fz_secret = (unsigned char *) fz_key_file("oct.secret", &fz_secret_len);

    pem = fz_key_file("ec.pem", NULL);
    bio = BIO_new_mem_buf(pem, -1);
    fz_ec = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    fz_check(fz_ec != NULL);
    BIO_free(bio);
    free(pem);

    return 0;
}


/* ES256: DER from OpenSSL to the JWS R||S form */

static size_t
fz_sign_es256(const unsigned char *in, size_t len, unsigned char *sig)
{
    size_t           dlen;
    EVP_MD_CTX      *md;
    ECDSA_SIG       *es;
    const BIGNUM    *r, *s;
    unsigned char    der[128];
    const unsigned char  *p;

    md = EVP_MD_CTX_new();
    fz_check(md != NULL);

    dlen = sizeof(der);
    fz_check(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, fz_ec) == 1);
    fz_check(EVP_DigestSign(md, der, &dlen, in, len) == 1);
    EVP_MD_CTX_free(md);

    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long) dlen);
    fz_check(es != NULL);

    ECDSA_SIG_get0(es, &r, &s);
    fz_check(BN_bn2binpad(r, sig, 32) == 32);
    fz_check(BN_bn2binpad(s, sig + 32, 32) == 32);
    ECDSA_SIG_free(es);

    return 64;
}


/* "{header}\n{payload}" -> a signed compact token in out */

static size_t
fz_signed_token(const uint8_t *data, size_t size, unsigned char *out,
    size_t max)
{
    size_t          hlen, plen, n;
    unsigned int    mlen;
    const uint8_t  *nl;
    unsigned char   sig[EVP_MAX_MD_SIZE > 64 ? EVP_MAX_MD_SIZE : 64];

    nl = memchr(data, '\n', size);
    if (nl == NULL) {
        return 0;
    }

    hlen = nl - data;
    plen = size - hlen - 1;

    if (digin_b64url_encoded_len(hlen) + digin_b64url_encoded_len(plen)
        + 2 + digin_b64url_encoded_len(sizeof(sig)) > max)
    {
        return 0;
    }

    n = digin_b64url_encode(out, data, hlen);
    out[n++] = '.';
    n += digin_b64url_encode(out + n, nl + 1, plen);

    if (memmem(data, hlen, "ES256", 5) != NULL) {
        mlen = (unsigned int) fz_sign_es256(out, n, sig);
        fz_signer = 'E';

    } else {
        fz_signer = 'H';
        fz_check(HMAC(EVP_sha256(), fz_secret, (int) fz_secret_len, out, n,
                      sig, &mlen)
                 != NULL);
    }

    out[n++] = '.';
    n += digin_b64url_encode(out + n, sig, mlen);

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               len;
    digin_claims_t       claims;
    digin_result_e       rc;
    const unsigned char *token;
    static unsigned char buf[4 * FZ_MAX_SIZE];

    token = data;
    len = size;
    fz_signer = 0;

    if (size > 0 && data[0] == '{') {
        len = fz_signed_token(data, size, buf, sizeof(buf));
        if (len == 0) {
            return 0;
        }

        token = buf;
    }

    memset(&claims, 0xa5, sizeof(claims));

    rc = digin_jwt_verify(&fz_trust, token, len, FZ_NOW, &claims);

    fz_check((unsigned) rc < DIGIN_RESULT_MAX);
    fz_check(*digin_result_name(rc) != '\0');

    if (len == 0) {
        fz_check(rc == DIGIN_TOKEN_MISSING);
    }

    if (len > FZ_MAX_SIZE) {
        fz_check(rc == DIGIN_TOKEN_TOO_LARGE);
    }

    if (rc != DIGIN_OK) {
        return 0;
    }

    /* what passes goes into variables, headers and logs */

    fz_check(claims.issuer < fz_trust.nissuers);
    fz_check(claims.exp > FZ_NOW - fz_trust.leeway);

    fz_check(memchr(claims.patron, '\0', sizeof(claims.patron)) != NULL);
    fz_check(memchr(claims.library, '\0', sizeof(claims.library)) != NULL);
    fz_check(memchr(claims.jti, '\0', sizeof(claims.jti)) != NULL);

    fz_check(digin_claim_value_ok(claims.patron, strlen(claims.patron)));
    fz_check(claims.library[0] == '\0'
             || digin_claim_value_ok(claims.library,
                                     strlen(claims.library)));
    fz_check(claims.jti[0] == '\0'
             || digin_claim_value_ok(claims.jti, strlen(claims.jti)));

    /*
     * A token the target signed passes only with the key that signed
     * it: an HMAC one under the oct keys' issuer alone (the idp issuer
     * lists HS256 but holds public keys only), an ES256 one under the
     * idp issuer.
     */
    if (fz_signer == 'H') {
        fz_check(claims.issuer == 1);

    } else if (fz_signer == 'E') {
        fz_check(claims.issuer == 0);
    }

    return 0;
}
