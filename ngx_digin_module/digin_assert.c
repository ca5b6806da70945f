/*
 * Copyright (C) Digin gateway developers
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "digin_assert.h"
#include "digin_b64.h"


#define DIGIN_SIGNER_FILE_MAX  (64 * 1024)


/*
 * A pseudonym key holds an HMAC context keyed once: the SHA-256 states
 * after the padded key's inner and outer blocks are computed here, and
 * each pseudonym only restarts from them (EVP_MAC_init with no key).
 * Keying, fetching the digest and allocating the context per call cost
 * more than the MAC itself.
 */

struct digin_pseudonym_key_s {
    EVP_MAC_CTX     *ctx;
};


digin_pseudonym_key_t *
digin_pseudonym_key_new(const unsigned char *key, size_t keylen)
{
    EVP_MAC                *mac;
    OSSL_PARAM              params[2];
    digin_pseudonym_key_t  *k;

    k = calloc(1, sizeof(digin_pseudonym_key_t));
    if (k == NULL) {
        return NULL;
    }

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    k->ctx = (mac != NULL) ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);

    params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (k->ctx == NULL || EVP_MAC_init(k->ctx, key, keylen, params) != 1) {
        ERR_clear_error();
        digin_pseudonym_key_free(k);
        return NULL;
    }

    return k;
}


void
digin_pseudonym_key_free(digin_pseudonym_key_t *k)
{
    if (k == NULL) {
        return;
    }

    EVP_MAC_CTX_free(k->ctx);
    free(k);
}


int
digin_pseudonym(digin_pseudonym_key_t *k, const char *iss, size_t iss_len,
    const char *sub, size_t sub_len, const char *vendor, size_t vendor_len,
    char *out)
{
    int             ok;
    size_t          len;
    unsigned char   mac[EVP_MAX_MD_SIZE];
    static const unsigned char  nul = '\0';

    len = 0;

    ok = EVP_MAC_init(k->ctx, NULL, 0, NULL) == 1
         && EVP_MAC_update(k->ctx, (const unsigned char *) iss, iss_len) == 1
         && EVP_MAC_update(k->ctx, &nul, 1) == 1
         && EVP_MAC_update(k->ctx, (const unsigned char *) sub, sub_len) == 1
         && EVP_MAC_update(k->ctx, &nul, 1) == 1
         && EVP_MAC_update(k->ctx, (const unsigned char *) vendor,
                           vendor_len) == 1
         && EVP_MAC_update(k->ctx, &nul, 1) == 1
         && EVP_MAC_final(k->ctx, mac, &len, sizeof(mac)) == 1
         && len == 32;

    if (!ok) {
        ERR_clear_error();
        return -1;
    }

    len = digin_b64url_encode((unsigned char *) out, mac, len);
    out[len] = '\0';

    OPENSSL_cleanse(mac, sizeof(mac));

    return 0;
}


digin_signer_t *
digin_signer_load_file(const char *path, digin_alg_e alg, const char *kid,
    char *err, size_t errlen)
{
    int              type, bits;
    BIO             *bio;
    FILE            *f;
    size_t           len;
    char            *data;
    digin_signer_t  *s;

    f = fopen(path, "r");
    if (f == NULL) {
        digin_err(err, errlen, "cannot open file: %s",
                         strerror(errno));
        return NULL;
    }

    data = malloc(DIGIN_SIGNER_FILE_MAX + 1);
    s = calloc(1, sizeof(digin_signer_t));

    if (data == NULL || s == NULL) {
        fclose(f);
        free(data);
        free(s);
        digin_err(err, errlen, "out of memory");
        return NULL;
    }

    len = fread(data, 1, DIGIN_SIGNER_FILE_MAX + 1, f);
    fclose(f);

    s->alg = alg;

    if (len > DIGIN_SIGNER_FILE_MAX) {
        digin_err(err, errlen, "file is larger than 64 KiB");
        goto failed;
    }

    if (kid != NULL) {
        s->kid = strdup(kid);
        if (s->kid == NULL) {
            goto failed;
        }
    }

    if (alg == DIGIN_ALG_HS256) {
        if (len < 32) {
            digin_err(err, errlen, "an HS256 secret needs at least "
                             "32 bytes");
            goto failed;
        }

        s->secret = malloc(len);
        if (s->secret == NULL) {
            goto failed;
        }

        memcpy(s->secret, data, len);
        s->secret_len = len;

        OPENSSL_cleanse(data, len);
        free(data);

        return s;
    }

    bio = BIO_new_mem_buf(data, (int) len);
    s->pkey = (bio != NULL) ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                            : NULL;
    BIO_free(bio);

    if (s->pkey == NULL) {
        ERR_clear_error();
        digin_err(err, errlen, "no PEM private key in the file");
        goto failed;
    }

    type = EVP_PKEY_get_base_id(s->pkey);
    bits = EVP_PKEY_get_bits(s->pkey);

    if ((alg == DIGIN_ALG_ES256 && (type != EVP_PKEY_EC || bits != 256))
        || (alg == DIGIN_ALG_EDDSA && type != EVP_PKEY_ED25519)
        || (alg == DIGIN_ALG_RS256 && (type != EVP_PKEY_RSA || bits < 2048)))
    {
        digin_err(err, errlen, "the key does not fit %s (ES256 needs "
                         "a P-256 key, EdDSA an Ed25519 key, RS256 an RSA "
                         "key of 2048 bits or more)", digin_alg_name(alg));
        goto failed;
    }

    if (alg != DIGIN_ALG_ES256 && alg != DIGIN_ALG_EDDSA
        && alg != DIGIN_ALG_RS256)
    {
        digin_err(err, errlen, "assertions are signed with ES256, "
                         "EdDSA, RS256 or HS256");
        goto failed;
    }

    OPENSSL_cleanse(data, len);
    free(data);

    return s;

failed:

    OPENSSL_cleanse(data, len < DIGIN_SIGNER_FILE_MAX ? len : 0);
    free(data);
    digin_signer_free(s);

    return NULL;
}


void
digin_signer_free(digin_signer_t *s)
{
    if (s == NULL) {
        return;
    }

    free(s->kid);
    EVP_PKEY_free(s->pkey);

    if (s->secret != NULL) {
        OPENSSL_cleanse(s->secret, s->secret_len);
        free(s->secret);
    }

    free(s);
}


/* DER ECDSA to the fixed-size R||S of RFC 7518 */

static int
digin_es_der_to_raw(const unsigned char *der, size_t len, unsigned char *out,
    int n)
{
    ECDSA_SIG            *es;
    const BIGNUM         *r, *s;
    const unsigned char  *p;

    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long) len);
    if (es == NULL) {
        return -1;
    }

    ECDSA_SIG_get0(es, &r, &s);

    if (BN_bn2binpad(r, out, n) != n || BN_bn2binpad(s, out + n, n) != n) {
        ECDSA_SIG_free(es);
        return -1;
    }

    ECDSA_SIG_free(es);

    return 2 * n;
}


static long
digin_sign(digin_signer_t *s, const unsigned char *data, size_t len,
    unsigned char *sig, size_t siglen)
{
    int             ok;
    size_t          n;
    unsigned int    maclen;
    EVP_MD_CTX     *md;
    unsigned char   der[160];

    if (s->alg == DIGIN_ALG_HS256) {
        if (siglen < 32
            || HMAC(EVP_sha256(), s->secret, (int) s->secret_len, data, len,
                    sig, &maclen) == NULL)
        {
            return -1;
        }

        return maclen;
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    n = (s->alg == DIGIN_ALG_ES256) ? sizeof(der) : siglen;

    ok = EVP_DigestSignInit(md, NULL,
                            (s->alg == DIGIN_ALG_EDDSA) ? NULL : EVP_sha256(),
                            NULL, s->pkey) == 1
         && EVP_DigestSign(md, (s->alg == DIGIN_ALG_ES256) ? der : sig, &n,
                           data, len) == 1;

    EVP_MD_CTX_free(md);

    if (!ok) {
        ERR_clear_error();
        return -1;
    }

    if (s->alg == DIGIN_ALG_ES256) {
        return (siglen < 64) ? -1 : digin_es_der_to_raw(der, n, sig, 32);
    }

    return (long) n;
}


long
digin_assertion_sign(digin_signer_t *s, const digin_assertion_t *a,
    char *out, size_t outlen)
{
    long            siglen;
    char           *hjson, *pjson;
    size_t          hlen, plen, len;
    json_t         *header, *payload;
    unsigned char   rnd[16], sig[512];
    char            jti[32];

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return -1;
    }

    jti[digin_b64url_encode((unsigned char *) jti, rnd, sizeof(rnd))] = '\0';

    header = json_pack("{s:s, s:s}", "alg", digin_alg_name(s->alg),
                       "typ", "JWT");
    payload = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}",
                        "iss", a->iss, "aud", a->aud, "sub", a->sub,
                        "iat", (json_int_t) a->iat,
                        "exp", (json_int_t) a->exp, "jti", jti);

    if (header == NULL || payload == NULL) {
        json_decref(header);
        json_decref(payload);
        return -1;
    }

    if (s->kid != NULL) {
        json_object_set_new(header, "kid", json_string(s->kid));
    }

    if (a->library != NULL) {
        json_object_set_new(payload, "library", json_string(a->library));
    }

    if (a->county != NULL) {
        json_object_set_new(payload, "county", json_string(a->county));
    }

    if (a->medium != NULL) {
        json_object_set_new(payload, "medium", json_string(a->medium));
    }

    hjson = json_dumps(header, JSON_COMPACT);
    pjson = json_dumps(payload, JSON_COMPACT);

    json_decref(header);
    json_decref(payload);

    if (hjson == NULL || pjson == NULL) {
        free(hjson);
        free(pjson);
        return -1;
    }

    hlen = strlen(hjson);
    plen = strlen(pjson);

    if (digin_b64url_encoded_len(hlen) + digin_b64url_encoded_len(plen)
        + digin_b64url_encoded_len(sizeof(sig)) + 3 > outlen)
    {
        free(hjson);
        free(pjson);
        return -1;
    }

    len = digin_b64url_encode((unsigned char *) out,
                              (unsigned char *) hjson, hlen);
    out[len++] = '.';
    len += digin_b64url_encode((unsigned char *) out + len,
                               (unsigned char *) pjson, plen);

    free(hjson);
    free(pjson);

    siglen = digin_sign(s, (unsigned char *) out, len, sig, sizeof(sig));
    if (siglen < 0) {
        return -1;
    }

    out[len++] = '.';
    len += digin_b64url_encode((unsigned char *) out + len, sig,
                               (size_t) siglen);
    out[len] = '\0';

    return (long) len;
}
