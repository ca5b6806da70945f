/*
 * Copyright (C) Digin gateway developers
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "digin_b64.h"
#include "digin_key.h"


#define DIGIN_KEY_FILE_MAX      (1024 * 1024)
#define DIGIN_KID_MAX           256
#define DIGIN_RSA_MIN_BITS      2048
#define DIGIN_HMAC_MIN_BYTES    32


typedef struct {
    const char      *name;
    digin_kty_e      kty;
    int              curve_nid;     /* 0: any curve of the type */
    const char      *md;            /* NULL for EdDSA */
    unsigned         pss:1;
} digin_alg_info_t;


static const digin_alg_info_t  digin_algs[DIGIN_ALG_MAX] = {
    [DIGIN_ALG_UNKNOWN] = { "",      0,             0, NULL,     0 },
    [DIGIN_ALG_HS256] =   { "HS256", DIGIN_KTY_OCT, 0, "SHA256", 0 },
    [DIGIN_ALG_HS384] =   { "HS384", DIGIN_KTY_OCT, 0, "SHA384", 0 },
    [DIGIN_ALG_HS512] =   { "HS512", DIGIN_KTY_OCT, 0, "SHA512", 0 },
    [DIGIN_ALG_RS256] =   { "RS256", DIGIN_KTY_RSA, 0, "SHA256", 0 },
    [DIGIN_ALG_RS384] =   { "RS384", DIGIN_KTY_RSA, 0, "SHA384", 0 },
    [DIGIN_ALG_RS512] =   { "RS512", DIGIN_KTY_RSA, 0, "SHA512", 0 },
    [DIGIN_ALG_PS256] =   { "PS256", DIGIN_KTY_RSA, 0, "SHA256", 1 },
    [DIGIN_ALG_PS384] =   { "PS384", DIGIN_KTY_RSA, 0, "SHA384", 1 },
    [DIGIN_ALG_PS512] =   { "PS512", DIGIN_KTY_RSA, 0, "SHA512", 1 },
    [DIGIN_ALG_ES256] =   { "ES256", DIGIN_KTY_EC,
                            NID_X9_62_prime256v1, "SHA256", 0 },
    [DIGIN_ALG_ES384] =   { "ES384", DIGIN_KTY_EC, NID_secp384r1,
                            "SHA384", 0 },
    [DIGIN_ALG_ES512] =   { "ES512", DIGIN_KTY_EC, NID_secp521r1,
                            "SHA512", 0 },
    [DIGIN_ALG_EDDSA] =   { "EdDSA", DIGIN_KTY_OKP, NID_ED25519, NULL, 0 },
};


/*
 * Message digests fetched once per process: an implicit fetch inside
 * every verification costs a provider lookup each time.
 */
static EVP_MD  *digin_mds[DIGIN_ALG_MAX];


static const EVP_MD *digin_alg_md(digin_alg_e alg);
static int digin_jwk_bytes(json_t *jwk, const char *name, unsigned char **out,
    size_t *outlen);
static EVP_PKEY *digin_jwk_rsa(json_t *jwk, const char **why);
static EVP_PKEY *digin_jwk_ec(json_t *jwk, int *nid, const char **why);
static EVP_PKEY *digin_jwk_okp(json_t *jwk, int *nid, const char **why);
static int digin_pkey_describe(EVP_PKEY *pkey, digin_key_t *key,
    const char **why);
static int digin_ec_field_bytes(int nid);
static unsigned char *digin_es_sig_to_der(int nid, const unsigned char *sig,
    size_t siglen, int *derlen);


digin_alg_e
digin_alg_by_name(const char *name, size_t len)
{
    int  i;

    for (i = DIGIN_ALG_UNKNOWN + 1; i < DIGIN_ALG_MAX; i++) {
        if (strlen(digin_algs[i].name) == len
            && memcmp(digin_algs[i].name, name, len) == 0)
        {
            return (digin_alg_e) i;
        }
    }

    return DIGIN_ALG_UNKNOWN;
}


const char *
digin_alg_name(digin_alg_e alg)
{
    if (alg <= DIGIN_ALG_UNKNOWN || alg >= DIGIN_ALG_MAX) {
        return "";
    }

    return digin_algs[alg].name;
}


void
digin_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
}


static const EVP_MD *
digin_alg_md(digin_alg_e alg)
{
    if (digin_algs[alg].md == NULL) {
        return NULL;
    }

    if (digin_mds[alg] == NULL) {
        digin_mds[alg] = EVP_MD_fetch(NULL, digin_algs[alg].md, NULL);
    }

    return digin_mds[alg];
}


/* a base64url member of a JWK, decoded into a new buffer */

static int
digin_jwk_bytes(json_t *jwk, const char *name, unsigned char **out,
    size_t *outlen)
{
    long            n;
    size_t          len;
    json_t         *v;
    const char     *s;
    unsigned char  *buf;

    v = json_object_get(jwk, name);
    if (!json_is_string(v)) {
        return -1;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    buf = malloc(digin_b64url_decoded_len(len) + 1);
    if (buf == NULL) {
        return -1;
    }

    n = digin_b64url_decode(buf, (const unsigned char *) s, len);
    if (n <= 0) {
        free(buf);
        return -1;
    }

    *out = buf;
    *outlen = (size_t) n;

    return 0;
}


/* a public key of the given type from the parameters built in bld */

static EVP_PKEY *
digin_pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY      *pkey;
    OSSL_PARAM    *params;
    EVP_PKEY_CTX  *ctx;

    pkey = NULL;
    ctx = NULL;

    params = OSSL_PARAM_BLD_to_param(bld);

    if (params == NULL
        || (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL
        || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);

    return pkey;
}


static EVP_PKEY *
digin_jwk_rsa(json_t *jwk, const char **why)
{
    size_t           nlen, elen;
    BIGNUM          *n, *e;
    EVP_PKEY        *pkey;
    unsigned char   *nbuf, *ebuf;
    OSSL_PARAM_BLD  *bld;

    nbuf = NULL;
    ebuf = NULL;
    n = NULL;
    e = NULL;
    bld = NULL;
    pkey = NULL;

    if (digin_jwk_bytes(jwk, "n", &nbuf, &nlen) != 0) {
        *why = "RSA member \"n\" is missing or not base64url";
        goto done;
    }

    if (digin_jwk_bytes(jwk, "e", &ebuf, &elen) != 0) {
        *why = "RSA member \"e\" is missing or not base64url";
        goto done;
    }

    n = BN_bin2bn(nbuf, (int) nlen, NULL);
    e = BN_bin2bn(ebuf, (int) elen, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (n == NULL || e == NULL || bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
        || (pkey = digin_pkey_fromdata("RSA", bld)) == NULL)
    {
        *why = "RSA key is not valid";
    }

done:

    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(nbuf);
    free(ebuf);

    return pkey;
}


/*
 * RSA public keys we accept: at least 2048 bits, and an odd public
 * exponent of at least 3 (with e = 1 every message is its own
 * signature, RFC 8017 3.1).
 */

static int
digin_rsa_check(EVP_PKEY *pkey, const char **why)
{
    int      ok;
    BIGNUM  *e;

    if (EVP_PKEY_get_bits(pkey) < DIGIN_RSA_MIN_BITS) {
        *why = "RSA key is shorter than 2048 bits";
        return -1;
    }

    e = NULL;

    ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)
         && BN_is_odd(e) && !BN_is_one(e);

    BN_free(e);

    if (!ok) {
        *why = "RSA public exponent must be odd and at least 3";
        return -1;
    }

    return 0;
}


static int
digin_ec_field_bytes(int nid)
{
    switch (nid) {
    case NID_X9_62_prime256v1:
        return 32;
    case NID_secp384r1:
        return 48;
    case NID_secp521r1:
        return 66;
    default:
        return 0;
    }
}


static EVP_PKEY *
digin_jwk_ec(json_t *jwk, int *nid, const char **why)
{
    int              field;
    size_t           xlen, ylen;
    json_t          *crv;
    EVP_PKEY        *pkey;
    const char      *group;
    unsigned char   *x, *y, point[1 + 2 * 66];
    OSSL_PARAM_BLD  *bld;

    crv = json_object_get(jwk, "crv");
    group = json_is_string(crv) ? json_string_value(crv) : "";

    if (strcmp(group, "P-256") == 0) {
        *nid = NID_X9_62_prime256v1;

    } else if (strcmp(group, "P-384") == 0) {
        *nid = NID_secp384r1;

    } else if (strcmp(group, "P-521") == 0) {
        *nid = NID_secp521r1;

    } else {
        *why = "EC member \"crv\" is not P-256, P-384 or P-521";
        return NULL;
    }

    field = digin_ec_field_bytes(*nid);
    x = NULL;
    y = NULL;
    bld = NULL;
    pkey = NULL;

    if (digin_jwk_bytes(jwk, "x", &x, &xlen) != 0
        || digin_jwk_bytes(jwk, "y", &y, &ylen) != 0
        || xlen != (size_t) field || ylen != (size_t) field)
    {
        *why = "EC members \"x\" and \"y\" must be base64url coordinates "
               "of the curve's size";
        goto done;
    }

    point[0] = 0x04;    /* uncompressed point */
    memcpy(point + 1, x, field);
    memcpy(point + 1 + field, y, field);

    bld = OSSL_PARAM_BLD_new();

    if (bld == NULL
        || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            OBJ_nid2sn(*nid), 0)
        || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                             point, 1 + 2 * field)
        || (pkey = digin_pkey_fromdata("EC", bld)) == NULL)
    {
        *why = "EC key is not a point on its curve";
    }

done:

    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);

    return pkey;
}


static EVP_PKEY *
digin_jwk_okp(json_t *jwk, int *nid, const char **why)
{
    size_t          xlen;
    json_t         *crv;
    EVP_PKEY       *pkey;
    unsigned char  *x;

    x = NULL;
    crv = json_object_get(jwk, "crv");

    if (!json_is_string(crv) || strcmp(json_string_value(crv), "Ed25519"))
    {
        *why = "OKP member \"crv\" is not Ed25519";
        return NULL;
    }

    if (digin_jwk_bytes(jwk, "x", &x, &xlen) != 0 || xlen != 32) {
        free(x);
        *why = "OKP member \"x\" must be a base64url 32-byte key";
        return NULL;
    }

    *nid = NID_ED25519;
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
    free(x);

    if (pkey == NULL) {
        *why = "OKP key is not valid";
    }

    return pkey;
}


/* kty and curve of a key that came from a PEM file */

static int
digin_pkey_describe(EVP_PKEY *pkey, digin_key_t *key, const char **why)
{
    char  group[64];

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        key->kty = DIGIN_KTY_RSA;
        break;

    case EVP_PKEY_EC:
        key->kty = DIGIN_KTY_EC;

        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), NULL))
        {
            *why = "EC key has no named curve";
            return -1;
        }

        key->curve_nid = OBJ_sn2nid(group);

        if (digin_ec_field_bytes(key->curve_nid) == 0) {
            *why = "EC key is not on P-256, P-384 or P-521";
            return -1;
        }

        break;

    case EVP_PKEY_ED25519:
        key->kty = DIGIN_KTY_OKP;
        key->curve_nid = NID_ED25519;
        break;

    default:
        *why = "key type is not RSA, EC or Ed25519";
        return -1;
    }

    if (key->kty == DIGIN_KTY_RSA) {
        return digin_rsa_check(pkey, why);
    }

    return 0;
}


static void
digin_key_clear(digin_key_t *key)
{
    int  i;

    for (i = 0; i < DIGIN_ALG_MAX; i++) {
        EVP_PKEY_CTX_free(key->verify_ctx[i]);
    }

    free(key->kid);
    EVP_PKEY_free(key->pkey);

    if (key->secret != NULL) {
        OPENSSL_cleanse(key->secret, key->secret_len);
        free(key->secret);
    }

    memset(key, 0, sizeof(digin_key_t));
}


void
digin_keyset_free(digin_keyset_t *ks)
{
    size_t  i;

    if (ks == NULL) {
        return;
    }

    for (i = 0; i < ks->nkeys; i++) {
        digin_key_clear(&ks->keys[i]);
    }

    free(ks->keys);
    free(ks);
}


static digin_keyset_t *
digin_keyset_new(size_t nkeys, const char *data, size_t len)
{
    digin_keyset_t  *ks;

    ks = calloc(1, sizeof(digin_keyset_t));
    if (ks == NULL) {
        return NULL;
    }

    ks->keys = calloc(nkeys ? nkeys : 1, sizeof(digin_key_t));
    if (ks->keys == NULL) {
        free(ks);
        return NULL;
    }

    SHA256((const unsigned char *) data, len, ks->fingerprint);

    return ks;
}


/* one JWK; returns 1 when loaded, 0 when skipped, -1 on error */

static int
digin_jwk_load(json_t *jwk, digin_key_t *key, const char **why)
{
    json_t         *v, *op;
    size_t          i, len;
    const char     *kty;
    unsigned char  *secret;

    if (!json_is_object(jwk)) {
        *why = "is not a JSON object";
        return -1;
    }

    /* first, so that every later error can name the key */
    v = json_object_get(jwk, "kid");
    if (v != NULL) {
        if (!json_is_string(v) || json_string_length(v) == 0
            || json_string_length(v) > DIGIN_KID_MAX)
        {
            *why = "member \"kid\" must be a string of 1 to 256 bytes";
            return -1;
        }

        key->kid = strdup(json_string_value(v));
        if (key->kid == NULL) {
            *why = "out of memory";
            return -1;
        }
    }

    v = json_object_get(jwk, "use");
    if (v != NULL) {
        if (!json_is_string(v)) {
            *why = "member \"use\" is not a string";
            return -1;
        }

        if (strcmp(json_string_value(v), "sig") != 0) {
            return 0;       /* an encryption key */
        }
    }

    v = json_object_get(jwk, "key_ops");
    if (v != NULL) {
        if (!json_is_array(v)) {
            *why = "member \"key_ops\" is not an array";
            return -1;
        }

        json_array_foreach(v, i, op) {
            if (json_is_string(op)
                && strcmp(json_string_value(op), "verify") == 0)
            {
                break;
            }
        }

        if (i == json_array_size(v)) {
            return 0;       /* not meant for verifying signatures */
        }
    }

    v = json_object_get(jwk, "kty");
    kty = json_is_string(v) ? json_string_value(v) : "";

    /* a key set published with private parts is a leak, not a key */
    if (strcmp(kty, "oct") != 0
        && (json_object_get(jwk, "d") != NULL
            || json_object_get(jwk, "p") != NULL))
    {
        *why = "holds a private key (member \"d\"): publish public keys "
               "only, and replace this key";
        return -1;
    }

    v = json_object_get(jwk, "alg");
    if (v != NULL) {
        if (!json_is_string(v)) {
            *why = "member \"alg\" is not a string";
            return -1;
        }

        key->alg = digin_alg_by_name(json_string_value(v),
                                     json_string_length(v));
        if (key->alg == DIGIN_ALG_UNKNOWN) {
            *why = "member \"alg\" names an unsupported algorithm";
            return -1;
        }
    }

    if (strcmp(kty, "RSA") == 0) {
        key->kty = DIGIN_KTY_RSA;
        key->pkey = digin_jwk_rsa(jwk, why);

        if (key->pkey != NULL && digin_rsa_check(key->pkey, why) != 0) {
            return -1;
        }

    } else if (strcmp(kty, "EC") == 0) {
        key->kty = DIGIN_KTY_EC;
        key->pkey = digin_jwk_ec(jwk, &key->curve_nid, why);

    } else if (strcmp(kty, "OKP") == 0) {
        v = json_object_get(jwk, "crv");
        if (json_is_string(v) && strcmp(json_string_value(v), "X25519") == 0)
        {
            return 0;       /* a key-agreement key, not for signatures */
        }

        key->kty = DIGIN_KTY_OKP;
        key->pkey = digin_jwk_okp(jwk, &key->curve_nid, why);

    } else if (strcmp(kty, "oct") == 0) {
        key->kty = DIGIN_KTY_OCT;

        if (digin_jwk_bytes(jwk, "k", &secret, &len) != 0) {
            *why = "oct member \"k\" is missing or not base64url";
            return -1;
        }

        key->secret = secret;
        key->secret_len = len;

        if (len < DIGIN_HMAC_MIN_BYTES) {
            *why = "oct key is shorter than 256 bits";
            return -1;
        }

    } else {
        *why = "member \"kty\" is not RSA, EC, OKP or oct";
        return -1;
    }

    if (key->kty != DIGIN_KTY_OCT && key->pkey == NULL) {
        return -1;
    }

    if (key->alg != DIGIN_ALG_UNKNOWN
        && (digin_algs[key->alg].kty != key->kty
            || (digin_algs[key->alg].curve_nid
                && digin_algs[key->alg].curve_nid != key->curve_nid)))
    {
        *why = "member \"alg\" does not fit the key type or curve";
        return -1;
    }

    return 1;
}


digin_keyset_t *
digin_keyset_from_jwks(const char *data, size_t len, char *err,
    size_t errlen)
{
    int              rc;
    size_t           i, j, n;
    json_t          *doc, *keys;
    const char      *why;
    json_error_t     jerr;
    digin_key_t     *key;
    digin_keyset_t  *ks;

    doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        digin_err(err, errlen, "invalid JSON at line %d: %s",
                  jerr.line, jerr.text);
        return NULL;
    }

    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        digin_err(err, errlen, "no \"keys\" array (not a JWKS document)");
        json_decref(doc);
        return NULL;
    }

    ks = digin_keyset_new(json_array_size(keys), data, len);
    if (ks == NULL) {
        digin_err(err, errlen, "out of memory");
        json_decref(doc);
        return NULL;
    }

    n = 0;

    for (i = 0; i < json_array_size(keys); i++) {
        key = &ks->keys[n];
        why = "is not valid";

        rc = digin_jwk_load(json_array_get(keys, i), key, &why);

        if (rc < 0) {
            if (key->kid != NULL) {
                digin_err(err, errlen, "key %zu (kid \"%s\"): %s",
                          i + 1, key->kid, why);

            } else {
                digin_err(err, errlen, "key %zu: %s", i + 1, why);
            }

            digin_key_clear(key);
            goto failed;
        }

        if (rc == 0) {
            digin_key_clear(key);
            continue;
        }

        for (j = 0; j < n; j++) {
            if (key->kid != NULL && ks->keys[j].kid != NULL
                && strcmp(key->kid, ks->keys[j].kid) == 0)
            {
                digin_err(err, errlen, "key %zu: kid \"%s\" is duplicate",
                          i + 1, key->kid);
                digin_key_clear(key);
                goto failed;
            }
        }

        n++;
    }

    ks->nkeys = n;

    if (n == 0) {
        digin_err(err, errlen, "no signature key in the JWKS");
        goto failed;
    }

    json_decref(doc);

    return ks;

failed:

    ks->nkeys = n;
    digin_keyset_free(ks);
    json_decref(doc);
    ERR_clear_error();

    return NULL;
}


digin_keyset_t *
digin_keyset_from_pem(const char *data, size_t len, const char *kid,
    char *err, size_t errlen)
{
    BIO             *bio;
    EVP_PKEY        *pkey;
    const char      *why;
    digin_keyset_t  *ks;

    bio = BIO_new_mem_buf(data, (int) len);
    if (bio == NULL) {
        digin_err(err, errlen, "out of memory");
        return NULL;
    }

    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (pkey == NULL) {
        ERR_clear_error();
        digin_err(err, errlen, "no PEM public key (\"BEGIN PUBLIC KEY\") "
                  "in the file");
        return NULL;
    }

    ks = digin_keyset_new(1, data, len);
    if (ks == NULL) {
        EVP_PKEY_free(pkey);
        digin_err(err, errlen, "out of memory");
        return NULL;
    }

    ks->keys[0].pkey = pkey;
    ks->nkeys = 1;

    if (digin_pkey_describe(pkey, &ks->keys[0], &why) != 0) {
        digin_err(err, errlen, "%s", why);
        digin_keyset_free(ks);
        return NULL;
    }

    if (kid != NULL) {
        ks->keys[0].kid = strdup(kid);
        if (ks->keys[0].kid == NULL) {
            digin_err(err, errlen, "out of memory");
            digin_keyset_free(ks);
            return NULL;
        }
    }

    return ks;
}


digin_keyset_t *
digin_keyset_load_file(const char *path, int is_jwks, const char *kid,
    char *err, size_t errlen)
{
    FILE            *f;
    char            *data, why[256];
    size_t           len;
    digin_keyset_t  *ks;

    f = fopen(path, "r");
    if (f == NULL) {
        digin_err(err, errlen, "cannot open file: %s", strerror(errno));
        return NULL;
    }

    data = malloc(DIGIN_KEY_FILE_MAX + 1);
    if (data == NULL) {
        fclose(f);
        digin_err(err, errlen, "out of memory");
        return NULL;
    }

    len = fread(data, 1, DIGIN_KEY_FILE_MAX + 1, f);

    if (ferror(f)) {
        digin_err(err, errlen, "cannot read file: %s", strerror(errno));
        ks = NULL;

    } else if (len > DIGIN_KEY_FILE_MAX) {
        digin_err(err, errlen, "file is larger than 1 MiB");
        ks = NULL;

    } else if (is_jwks) {
        ks = digin_keyset_from_jwks(data, len, why, sizeof(why));

        if (ks == NULL) {
            digin_err(err, errlen, "invalid JWKS: %s", why);
        }

    } else {
        ks = digin_keyset_from_pem(data, len, kid, err, errlen);
    }

    fclose(f);
    free(data);

    return ks;
}


int
digin_key_allows(const digin_key_t *key, digin_alg_e alg)
{
    if (alg <= DIGIN_ALG_UNKNOWN || alg >= DIGIN_ALG_MAX) {
        return 0;
    }

    if (key->alg != DIGIN_ALG_UNKNOWN && key->alg != alg) {
        return 0;
    }

    if (digin_algs[alg].kty != key->kty) {
        return 0;
    }

    /* RFC 7518 3.2: an HMAC key at least as long as the hash output */
    if (key->kty == DIGIN_KTY_OCT
        && key->secret_len < (size_t) EVP_MD_get_size(digin_alg_md(alg)))
    {
        return 0;
    }

    return digin_algs[alg].curve_nid == 0
           || digin_algs[alg].curve_nid == key->curve_nid;
}


/* RFC 7518 3.4: JWS carries R||S; OpenSSL verifies DER */

static unsigned char *
digin_es_sig_to_der(int nid, const unsigned char *sig, size_t siglen,
    int *derlen)
{
    int             n;
    BIGNUM         *r, *s;
    ECDSA_SIG      *es;
    unsigned char  *der;

    n = digin_ec_field_bytes(nid);

    if (n == 0 || siglen != (size_t) (2 * n)) {
        return NULL;
    }

    r = BN_bin2bn(sig, n, NULL);
    s = BN_bin2bn(sig + n, n, NULL);
    es = ECDSA_SIG_new();

    if (r == NULL || s == NULL || es == NULL || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return NULL;
    }

    der = NULL;
    *derlen = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);

    if (*derlen <= 0) {
        return NULL;
    }

    return der;
}


/*
 * An RSA or EC verification context set up once per key and algorithm
 * and reused: setting one up costs more than the RSA public operation
 * itself (provider and algorithm look-ups on every call).
 */

static EVP_PKEY_CTX *
digin_key_verify_ctx(digin_key_t *key, digin_alg_e alg, const EVP_MD *md)
{
    EVP_PKEY_CTX  *ctx;

    if (key->verify_ctx[alg] != NULL) {
        return key->verify_ctx[alg];
    }

    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);

    if (ctx == NULL
        || EVP_PKEY_verify_init(ctx) <= 0
        || (digin_algs[alg].pss
            && (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0
                || EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx,
                                                RSA_PSS_SALTLEN_DIGEST) <= 0))
        || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
    {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }

    key->verify_ctx[alg] = ctx;

    return ctx;
}


int
digin_key_verify(digin_key_t *key, digin_alg_e alg,
    const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen)
{
    int             ok, derlen;
    unsigned int    maclen, dlen;
    EVP_MD_CTX     *mdctx;
    EVP_PKEY_CTX   *ctx;
    const EVP_MD   *md;
    unsigned char  *der, mac[EVP_MAX_MD_SIZE], dgst[EVP_MAX_MD_SIZE];

    if (!digin_key_allows(key, alg)) {
        return 0;
    }

    md = digin_alg_md(alg);

    if (key->kty == DIGIN_KTY_OCT) {
        if (md == NULL
            || HMAC(md, key->secret, (int) key->secret_len, data, len, mac,
                    &maclen) == NULL)
        {
            return 0;
        }

        ok = (siglen == maclen && CRYPTO_memcmp(mac, sig, maclen) == 0);
        OPENSSL_cleanse(mac, sizeof(mac));

        return ok;
    }

    ok = 0;

    if (key->kty == DIGIN_KTY_OKP) {
        /* Ed25519 signs the message itself, not a digest of it */
        mdctx = EVP_MD_CTX_new();

        if (mdctx != NULL
            && EVP_DigestVerifyInit(mdctx, NULL, NULL, NULL, key->pkey) == 1)
        {
            ok = (EVP_DigestVerify(mdctx, sig, siglen, data, len) == 1);
        }

        EVP_MD_CTX_free(mdctx);
        goto done;
    }

    der = NULL;

    if (key->kty == DIGIN_KTY_EC) {
        der = digin_es_sig_to_der(key->curve_nid, sig, siglen, &derlen);
        if (der == NULL) {
            goto done;
        }

        sig = der;
        siglen = (size_t) derlen;
    }

    ctx = (md != NULL) ? digin_key_verify_ctx(key, alg, md) : NULL;

    if (ctx != NULL && EVP_Digest(data, len, dgst, &dlen, md, NULL) == 1) {
        ok = (EVP_PKEY_verify(ctx, sig, siglen, dgst, dlen) == 1);
    }

    OPENSSL_free(der);

done:

    if (!ok) {
        /* a failed check must not leave errors for nginx's TLS code */
        ERR_clear_error();
    }

    return ok;
}
