/*
 * Copyright (C) Digin gateway developers
 *
 * digin_key.c: algorithm names, JWKS and PEM loading, the key/algorithm
 * matrix and JWS signature checks (RFC 7515 appendix A, RFC 8037
 * appendix A.4, and keys generated here for the other algorithms).
 */


#include <unistd.h>

#include <openssl/sha.h>

#include "digin_test.h"


#define TEST_NOW  1700000000


/* RFC 7515 A.1: the HMAC key */
#define RFC_A1_K                                                             \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hc" \
    "gUuTwjAzZr1Z9CAow"

/* RFC 7515 A.2: the RSA public key */
#define RFC_A2_N                                                             \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-" \
    "4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r" \
    "2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UT" \
    "o7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxX" \
    "FvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define RFC_A2_E  "AQAB"

/* RFC 7515 A.3: the P-256 public key */
#define RFC_A3_X  "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC_A3_Y  "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"

/* RFC 8037 A.2: the Ed25519 public key */
#define RFC8037_X  "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

/* the payload of RFC 7515 A.1 to A.3, {"iss":"joe",\r\n "exp":... */
#define RFC_PAYLOAD                                                          \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"       \
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

#define RFC_A1_INPUT                                                         \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." RFC_PAYLOAD
#define RFC_A1_SIG  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

#define RFC_A2_INPUT  "eyJhbGciOiJSUzI1NiJ9." RFC_PAYLOAD
#define RFC_A2_SIG                                                           \
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"       \
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"       \
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"       \
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"       \
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"       \
    "p0igcN_IoypGlUPQGe77Rw"

#define RFC_A3_INPUT  "eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD
#define RFC_A3_SIG                                                           \
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"       \
    "pmWQxfKTUJqPP3-Kg6NU1Q"

/* RFC 8037 A.4 */
#define RFC8037_INPUT                                                        \
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define RFC8037_SIG                                                          \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9" \
    "g7sVvpAr_MuM0KAg"

#define JWK_A1   "{\"kty\":\"oct\",\"kid\":\"a1\",\"k\":\"" RFC_A1_K "\"}"
#define JWK_A2   "{\"kty\":\"RSA\",\"kid\":\"a2\",\"n\":\"" RFC_A2_N          \
                 "\",\"e\":\"AQAB\"}"
#define JWK_A3   "{\"kty\":\"EC\",\"kid\":\"a3\",\"crv\":\"P-256\",\"x\":\""  \
                 RFC_A3_X "\",\"y\":\"" RFC_A3_Y "\"}"
#define JWK_ED   "{\"kty\":\"OKP\",\"kid\":\"ed\",\"crv\":\"Ed25519\","       \
                 "\"x\":\"" RFC8037_X "\"}"

/* 31, 32 and 48 zero bytes */
#define B64_16   "AAAAAAAAAAAAAAAA"
#define B64_31   B64_16 B64_16 "AAAAAAAAAA"
#define B64_32   B64_16 B64_16 "AAAAAAAAAAA"
#define B64_48   B64_16 B64_16 B64_16 B64_16

#define ALGS_RSA                                                             \
    (DIGIN_ALG_BIT(DIGIN_ALG_RS256) | DIGIN_ALG_BIT(DIGIN_ALG_RS384)         \
     | DIGIN_ALG_BIT(DIGIN_ALG_RS512) | DIGIN_ALG_BIT(DIGIN_ALG_PS256)       \
     | DIGIN_ALG_BIT(DIGIN_ALG_PS384) | DIGIN_ALG_BIT(DIGIN_ALG_PS512))


typedef struct {
    EVP_PKEY        *rsa;
    EVP_PKEY        *rsa1024;
    EVP_PKEY        *ec256;
    EVP_PKEY        *ec384;
    EVP_PKEY        *ec521;
    EVP_PKEY        *ed25519;
    EVP_PKEY        *x25519;
    EVP_PKEY        *ed448;
    EVP_PKEY        *secp256k1;
    digin_keyset_t  *rfc;           /* JWK_A1, JWK_A2, JWK_A3, JWK_ED */
} key_state_t;


static const struct {
    digin_alg_e   alg;
    const char   *name;
} alg_names[] = {
    { DIGIN_ALG_HS256, "HS256" },
    { DIGIN_ALG_HS384, "HS384" },
    { DIGIN_ALG_HS512, "HS512" },
    { DIGIN_ALG_RS256, "RS256" },
    { DIGIN_ALG_RS384, "RS384" },
    { DIGIN_ALG_RS512, "RS512" },
    { DIGIN_ALG_PS256, "PS256" },
    { DIGIN_ALG_PS384, "PS384" },
    { DIGIN_ALG_PS512, "PS512" },
    { DIGIN_ALG_ES256, "ES256" },
    { DIGIN_ALG_ES384, "ES384" },
    { DIGIN_ALG_ES512, "ES512" },
    { DIGIN_ALG_EDDSA, "EdDSA" },
};

#define NALGS  (sizeof(alg_names) / sizeof(alg_names[0]))


static int
group_setup(void **state)
{
    key_state_t  *ks;

    ks = calloc(1, sizeof(key_state_t));
    assert_non_null(ks);

    ks->rsa = dt_rsa(2048);
    ks->rsa1024 = dt_rsa(1024);
    ks->ec256 = dt_ec("P-256");
    ks->ec384 = dt_ec("P-384");
    ks->ec521 = dt_ec("P-521");
    ks->ed25519 = dt_keygen("ED25519");
    ks->x25519 = dt_keygen("X25519");
    ks->ed448 = dt_keygen("ED448");
    ks->secp256k1 = dt_ec("secp256k1");
    ks->rfc = dt_keyset("{\"keys\":[" JWK_A1 "," JWK_A2 "," JWK_A3 ","
                        JWK_ED "]}");

    *state = ks;

    return 0;
}


static int
group_teardown(void **state)
{
    key_state_t  *ks;

    ks = *state;

    EVP_PKEY_free(ks->rsa);
    EVP_PKEY_free(ks->rsa1024);
    EVP_PKEY_free(ks->ec256);
    EVP_PKEY_free(ks->ec384);
    EVP_PKEY_free(ks->ec521);
    EVP_PKEY_free(ks->ed25519);
    EVP_PKEY_free(ks->x25519);
    EVP_PKEY_free(ks->ed448);
    EVP_PKEY_free(ks->secp256k1);
    digin_keyset_free(ks->rfc);
    free(ks);

    return 0;
}


static digin_key_t *
find_kid(const digin_keyset_t *ks, const char *kid)
{
    size_t  i;

    for (i = 0; i < ks->nkeys; i++) {
        if (ks->keys[i].kid != NULL && strcmp(ks->keys[i].kid, kid) == 0) {
            return &ks->keys[i];
        }
    }

    print_error("no key \"%s\" in the key set\n", kid);
    fail();

    return NULL;
}


/* names */

static void
test_alg_names(void **state)
{
    size_t  i;

    for (i = 0; i < NALGS; i++) {
        assert_string_equal(digin_alg_name(alg_names[i].alg),
                            alg_names[i].name);
        assert_int_equal(digin_alg_by_name(alg_names[i].name,
                                           strlen(alg_names[i].name)),
                         alg_names[i].alg);
    }

    /* every value has its row */
    assert_int_equal(NALGS, DIGIN_ALG_MAX - 1);

    assert_string_equal(digin_alg_name(DIGIN_ALG_UNKNOWN), "");
    assert_string_equal(digin_alg_name(DIGIN_ALG_MAX), "");

    /* the length is honoured, not a NUL */
    assert_int_equal(digin_alg_by_name("RS256junk", 5), DIGIN_ALG_RS256);
}


static void
test_alg_unknown(void **state)
{
    size_t       i;
    static const char  *unknown[] = {
        "none", "None", "rs256", "Rs256", "", "RS", "RS25", "RS2560",
        "RS256 ", " RS256", "EDDSA", "eddsa", "Ed25519", "HS1024", "ES256K",
        "RSA-OAEP", "dir",
    };

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        if (digin_alg_by_name(unknown[i], strlen(unknown[i]))
            != DIGIN_ALG_UNKNOWN)
        {
            print_error("\"%s\" is known\n", unknown[i]);
            fail();
        }
    }

    /* a prefix of a name, by length */
    assert_int_equal(digin_alg_by_name("RS256", 4), DIGIN_ALG_UNKNOWN);
}


/* JWKS loading */

static void
test_jwks_key_types(void **state)
{
    char             *jwk[4], *jwks;
    key_state_t      *st;
    digin_keyset_t   *ks;
    digin_key_t      *k;

    st = *state;
    ks = st->rfc;

    assert_int_equal(ks->nkeys, 4);

    k = find_kid(ks, "a1");
    assert_int_equal(k->kty, DIGIN_KTY_OCT);
    assert_int_equal(k->secret_len, 64);
    assert_null(k->pkey);
    assert_int_equal(k->alg, DIGIN_ALG_UNKNOWN);

    k = find_kid(ks, "a2");
    assert_int_equal(k->kty, DIGIN_KTY_RSA);
    assert_non_null(k->pkey);
    assert_int_equal(EVP_PKEY_get_bits(k->pkey), 2048);
    assert_null(k->secret);

    k = find_kid(ks, "a3");
    assert_int_equal(k->kty, DIGIN_KTY_EC);
    assert_int_equal(k->curve_nid, NID_X9_62_prime256v1);
    assert_non_null(k->pkey);

    k = find_kid(ks, "ed");
    assert_int_equal(k->kty, DIGIN_KTY_OKP);
    assert_int_equal(k->curve_nid, NID_ED25519);
    assert_non_null(k->pkey);

    /* generated keys, one with a pinned algorithm, one without kid */
    jwk[0] = dt_jwk(st->ec384, "p384", "ES384");
    jwk[1] = dt_jwk(st->ec521, "p521", NULL);
    jwk[2] = dt_jwk(st->rsa, NULL, "PS256");
    jwk[3] = dt_jwk(st->ed25519, "gen-ed", "EdDSA");
    jwks = dt_jwks(jwk[0], jwk[1], jwk[2], jwk[3], NULL);

    ks = dt_keyset(jwks);
    assert_int_equal(ks->nkeys, 4);

    assert_string_equal(ks->keys[0].kid, "p384");
    assert_int_equal(ks->keys[0].kty, DIGIN_KTY_EC);
    assert_int_equal(ks->keys[0].curve_nid, NID_secp384r1);
    assert_int_equal(ks->keys[0].alg, DIGIN_ALG_ES384);

    assert_string_equal(ks->keys[1].kid, "p521");
    assert_int_equal(ks->keys[1].kty, DIGIN_KTY_EC);
    assert_int_equal(ks->keys[1].curve_nid, NID_secp521r1);
    assert_int_equal(ks->keys[1].alg, DIGIN_ALG_UNKNOWN);

    assert_null(ks->keys[2].kid);
    assert_int_equal(ks->keys[2].kty, DIGIN_KTY_RSA);
    assert_int_equal(ks->keys[2].alg, DIGIN_ALG_PS256);

    assert_string_equal(ks->keys[3].kid, "gen-ed");
    assert_int_equal(ks->keys[3].kty, DIGIN_KTY_OKP);
    assert_int_equal(ks->keys[3].alg, DIGIN_ALG_EDDSA);

    /* the loaded public keys are the generated ones */
    assert_int_equal(EVP_PKEY_eq(ks->keys[0].pkey, st->ec384), 1);
    assert_int_equal(EVP_PKEY_eq(ks->keys[1].pkey, st->ec521), 1);
    assert_int_equal(EVP_PKEY_eq(ks->keys[2].pkey, st->rsa), 1);
    assert_int_equal(EVP_PKEY_eq(ks->keys[3].pkey, st->ed25519), 1);

    digin_keyset_free(ks);
    free(jwks);
    free(jwk[0]);
    free(jwk[1]);
    free(jwk[2]);
    free(jwk[3]);
}


static void
test_jwks_skips(void **state)
{
    char             err[DT_ERRLEN];
    digin_keyset_t   *ks;
    static const char  jwks[] =
        "{\"keys\":["
        "{\"kty\":\"RSA\",\"use\":\"enc\",\"kid\":\"enc\",\"n\":\"" RFC_A2_N
        "\",\"e\":\"AQAB\"},"
        "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"kid\":\"x\","
        "\"x\":\"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo\"},"
        "{\"kty\":\"oct\",\"use\":\"enc\",\"k\":\"" RFC_A1_K "\"},"
        "{\"kty\":\"RSA\",\"key_ops\":[\"encrypt\"],\"kid\":\"ops\","
        "\"n\":\"" RFC_A2_N "\",\"e\":\"AQAB\"},"
        "{\"kty\":\"EC\",\"use\":\"sig\",\"kid\":\"sig\",\"crv\":\"P-256\","
        "\"key_ops\":[\"sign\",\"verify\"],"
        "\"x\":\"" RFC_A3_X "\",\"y\":\"" RFC_A3_Y "\"}"
        "]}";
    static const char  only_skipped[] =
        "{\"keys\":["
        "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"+++\"},"
        "{\"kty\":\"EC\",\"use\":\"\",\"crv\":\"P-1\"},"
        "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"\"}"
        "]}";

    ks = dt_keyset(jwks);
    assert_int_equal(ks->nkeys, 1);
    assert_string_equal(ks->keys[0].kid, "sig");
    assert_int_equal(ks->keys[0].kty, DIGIN_KTY_EC);
    digin_keyset_free(ks);

    /* skipped keys alone are no key set; and their errors do not count */
    assert_null(digin_keyset_from_jwks(only_skipped, strlen(only_skipped),
                                       err, sizeof(err)));
    dt_assert_contains(err, "no signature key");
}


typedef struct {
    const char  *name;
    const char  *jwks;
    const char  *where;         /* both must be in the message */
    const char  *why;
} jwks_error_t;


static const jwks_error_t  jwks_errors[] = {

    { "bad base64 in n",
      "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"bad-n\",\"n\":\"ofgW+CuLjybR\","
      "\"e\":\"AQAB\"}]}",
      "key 1 (kid \"bad-n\")", "\"n\"" },

    { "padded n",
      "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"pad-n\",\"n\":\"" RFC_A2_N "==\","
      "\"e\":\"AQAB\"}]}",
      "key 1 (kid \"pad-n\")", "\"n\"" },

    { "RSA without e",
      "{\"keys\":[" JWK_A3 ",{\"kty\":\"RSA\",\"kid\":\"no-e\",\"n\":\""
      RFC_A2_N "\"}]}",
      "key 2 (kid \"no-e\")", "\"e\"" },

    { "EC x of 31 bytes",
      "{\"keys\":[" JWK_A2 ",{\"kty\":\"EC\",\"kid\":\"short-x\","
      "\"crv\":\"P-256\",\"x\":\"" B64_31 "\",\"y\":\"" RFC_A3_Y "\"}]}",
      "key 2 (kid \"short-x\")", "\"x\"" },

    { "EC x of 48 bytes on P-256",
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"long-x\",\"crv\":\"P-256\","
      "\"x\":\"" B64_48 "\",\"y\":\"" RFC_A3_Y "\"}]}",
      "key 1 (kid \"long-x\")", "\"x\"" },

    { "EC without y",
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"no-y\",\"crv\":\"P-256\","
      "\"x\":\"" RFC_A3_X "\"}]}",
      "key 1 (kid \"no-y\")", "\"y\"" },

    { "EC point not on the curve",
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"off\",\"crv\":\"P-256\","
      "\"x\":\"" B64_32 "\",\"y\":\"" B64_32 "\"}]}",
      "key 1 (kid \"off\")", "curve" },

    { "EC unknown crv",
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"p192\",\"crv\":\"P-192\","
      "\"x\":\"" RFC_A3_X "\",\"y\":\"" RFC_A3_Y "\"}]}",
      "key 1 (kid \"p192\")", "\"crv\"" },

    { "EC crv secp256k1",
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k1\",\"crv\":\"secp256k1\","
      "\"x\":\"" RFC_A3_X "\",\"y\":\"" RFC_A3_Y "\"}]}",
      "key 1 (kid \"k1\")", "\"crv\"" },

    { "EC without crv",
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"nocrv\","
      "\"x\":\"" RFC_A3_X "\",\"y\":\"" RFC_A3_Y "\"}]}",
      "key 1 (kid \"nocrv\")", "\"crv\"" },

    { "OKP crv Ed448",
      "{\"keys\":[{\"kty\":\"OKP\",\"kid\":\"ed448\",\"crv\":\"Ed448\","
      "\"x\":\"" RFC8037_X "\"}]}",
      "key 1 (kid \"ed448\")", "\"crv\"" },

    { "OKP x of 31 bytes",
      "{\"keys\":[{\"kty\":\"OKP\",\"kid\":\"ed31\",\"crv\":\"Ed25519\","
      "\"x\":\"" B64_31 "\"}]}",
      "key 1 (kid \"ed31\")", "\"x\"" },

    { "unknown kty",
      "{\"keys\":[" JWK_A1 ",{\"kty\":\"DSA\",\"kid\":\"dsa\"}]}",
      "key 2 (kid \"dsa\")", "\"kty\"" },

    { "kty missing",
      "{\"keys\":[{\"kid\":\"nokty\",\"n\":\"" RFC_A2_N "\","
      "\"e\":\"AQAB\"}]}",
      "key 1 (kid \"nokty\")", "\"kty\"" },

    { "kty lower case",
      "{\"keys\":[{\"kty\":\"rsa\",\"kid\":\"lc\",\"n\":\"" RFC_A2_N "\","
      "\"e\":\"AQAB\"}]}",
      "key 1 (kid \"lc\")", "\"kty\"" },

    { "RSA key with alg ES256",
      "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa-es\",\"alg\":\"ES256\","
      "\"n\":\"" RFC_A2_N "\",\"e\":\"AQAB\"}]}",
      "key 1 (kid \"rsa-es\")", "\"alg\"" },

    { "RSA key with alg HS256",
      "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa-hs\",\"alg\":\"HS256\","
      "\"n\":\"" RFC_A2_N "\",\"e\":\"AQAB\"}]}",
      "key 1 (kid \"rsa-hs\")", "\"alg\"" },

    { "P-256 key with alg ES384",
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"p256-es384\",\"alg\":\"ES384\","
      "\"crv\":\"P-256\",\"x\":\"" RFC_A3_X "\",\"y\":\"" RFC_A3_Y "\"}]}",
      "key 1 (kid \"p256-es384\")", "\"alg\"" },

    { "P-256 key with alg RS256",
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"p256-rs\",\"alg\":\"RS256\","
      "\"crv\":\"P-256\",\"x\":\"" RFC_A3_X "\",\"y\":\"" RFC_A3_Y "\"}]}",
      "key 1 (kid \"p256-rs\")", "\"alg\"" },

    { "Ed25519 key with alg ES256",
      "{\"keys\":[{\"kty\":\"OKP\",\"kid\":\"ed-es\",\"alg\":\"ES256\","
      "\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\"}]}",
      "key 1 (kid \"ed-es\")", "\"alg\"" },

    { "alg none",
      "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"none\",\"alg\":\"none\","
      "\"k\":\"" RFC_A1_K "\"}]}",
      "key 1 (kid \"none\")", "\"alg\"" },

    { "alg not a string",
      "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"algnum\",\"alg\":256,"
      "\"k\":\"" RFC_A1_K "\"}]}",
      "key 1 (kid \"algnum\")", "\"alg\"" },

    { "oct of 31 bytes",
      "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"short\",\"k\":\"" B64_31 "\"}]}",
      "key 1 (kid \"short\")", "256 bits" },

    { "oct without k",
      "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"nok\"}]}",
      "key 1 (kid \"nok\")", "\"k\"" },

    { "oct with empty k",
      "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"emptyk\",\"k\":\"\"}]}",
      "key 1 (kid \"emptyk\")", "\"k\"" },

    { "kid empty",
      "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"\",\"k\":\"" RFC_A1_K "\"}]}",
      "key 1", "\"kid\"" },

    { "kid not a string",
      "{\"keys\":[" JWK_A1 ",{\"kty\":\"oct\",\"kid\":7,\"k\":\"" RFC_A1_K
      "\"}]}",
      "key 2", "\"kid\"" },

    { "key not an object",
      "{\"keys\":[" JWK_A1 ",\"" RFC_A1_K "\"]}",
      "key 2", "object" },

    { "duplicate kid",
      "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"dup\",\"k\":\"" RFC_A1_K "\"},"
      "{\"kty\":\"EC\",\"kid\":\"dup\",\"crv\":\"P-256\",\"x\":\"" RFC_A3_X
      "\",\"y\":\"" RFC_A3_Y "\"}]}",
      "key 2", "\"dup\" is duplicate" },

    { "duplicate kid after a skipped key",
      "{\"keys\":[" JWK_A1 ",{\"kty\":\"oct\",\"use\":\"enc\",\"k\":\""
      RFC_A1_K "\"}," JWK_A1 "]}",
      "key 3", "\"a1\" is duplicate" },

    { "duplicate member",
      "{\"keys\":[{\"kty\":\"oct\",\"k\":\"" B64_31 "\",\"k\":\"" RFC_A1_K
      "\"}]}",
      "invalid JSON", "line 1" },

    { "duplicate keys member",
      "{\"keys\":[" JWK_A1 "],\"keys\":[" JWK_A2 "]}",
      "invalid JSON", "line 1" },

    { "no keys array",
      "{\"key\":[" JWK_A1 "]}",
      "\"keys\" array", "JWKS" },

    { "keys an object",
      "{\"keys\":" JWK_A1 "}",
      "\"keys\" array", "JWKS" },

    { "a JWK, not a JWKS",
      JWK_A1,
      "\"keys\" array", "JWKS" },

    { "a top-level array",
      "[" JWK_A1 "]",
      "\"keys\" array", "JWKS" },

    { "empty keys",
      "{\"keys\":[]}",
      "no signature key", "JWKS" },

    { "only encryption keys",
      "{\"keys\":[{\"kty\":\"oct\",\"use\":\"enc\",\"k\":\"" RFC_A1_K "\"},"
      "{\"kty\":\"OKP\",\"crv\":\"X25519\","
      "\"x\":\"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo\"}]}",
      "no signature key", "JWKS" },

    { "use not a string",
      "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"use5\",\"use\":5,\"n\":\""
      RFC_A2_N "\",\"e\":\"AQAB\"}]}",
      "key 1 (kid \"use5\")", "\"use\"" },

    { "key_ops not an array",
      "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"ops\",\"key_ops\":\"verify\","
      "\"n\":\"" RFC_A2_N "\",\"e\":\"AQAB\"}]}",
      "key 1 (kid \"ops\")", "\"key_ops\"" },

    { "a published private RSA key",
      "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"priv\",\"n\":\"" RFC_A2_N
      "\",\"e\":\"AQAB\",\"d\":\"AQAB\"}]}",
      "key 1 (kid \"priv\")", "private" },

    { "a published private EC key",
      "{\"keys\":[" JWK_A2 ",{\"kty\":\"EC\",\"kid\":\"priv-ec\","
      "\"crv\":\"P-256\",\"x\":\"" RFC_A3_X "\",\"y\":\"" RFC_A3_Y "\","
      "\"d\":\"AQAB\"}]}",
      "key 2 (kid \"priv-ec\")", "private" },

    { "invalid JSON on line 3",
      "{\n  \"keys\": [\n    {\"kty\": \"oct\",}\n  ]\n}\n",
      "invalid JSON", "line 3" },

    { "truncated JSON",
      "{\"keys\":[" JWK_A1,
      "invalid JSON", "line 1" },

    { "empty document",
      "",
      "invalid JSON", "line" },
};


/* the rows that fail; 0 when every row was refused with its message */

static size_t
jwks_errors_check(const jwks_error_t *rows, size_t n)
{
    char             err[DT_ERRLEN];
    size_t           i, failed;
    digin_keyset_t  *ks;

    failed = 0;

    for (i = 0; i < n; i++) {
        strcpy(err, "(no message)");
        ks = digin_keyset_from_jwks(rows[i].jwks, strlen(rows[i].jwks), err,
                                    sizeof(err));

        if (ks != NULL) {
            print_error("%s: accepted, with %zu key(s)\n", rows[i].name,
                        ks->nkeys);
            digin_keyset_free(ks);
            failed++;
            continue;
        }

        if (strstr(err, rows[i].where) == NULL
            || strstr(err, rows[i].why) == NULL)
        {
            print_error("%s: \"%s\" lacks \"%s\" or \"%s\"\n", rows[i].name,
                        err, rows[i].where, rows[i].why);
            failed++;
        }
    }

    return failed;
}


static void
test_jwks_errors(void **state)
{
    assert_int_equal(jwks_errors_check(jwks_errors,
                         sizeof(jwks_errors) / sizeof(jwks_errors[0])), 0);

    /* no error string is fine too */
    assert_null(digin_keyset_from_jwks("{}", 2, NULL, 0));

    assert_int_equal(ERR_peek_error(), 0);
}


/*
 * A pinned "alg" (RFC 7517 4.4) must fit the key type, as it must for
 * RSA, EC and OKP keys: an oct key names HS256, HS384, HS512 or nothing.
 */

static const jwks_error_t  jwks_oct_alg[] = {

    { "oct key with alg RS256",
      "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"oct-rs\",\"alg\":\"RS256\","
      "\"k\":\"" RFC_A1_K "\"}]}",
      "key 1 (kid \"oct-rs\")", "\"alg\"" },

    { "oct key with alg EdDSA",
      "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"oct-ed\",\"alg\":\"EdDSA\","
      "\"k\":\"" RFC_A1_K "\"}]}",
      "key 1 (kid \"oct-ed\")", "\"alg\"" },
};


static void
test_jwks_oct_alg_must_fit(void **state)
{
    assert_int_equal(jwks_errors_check(jwks_oct_alg,
                         sizeof(jwks_oct_alg) / sizeof(jwks_oct_alg[0])), 0);
}


static const jwks_error_t  jwks_rsa_exponent[] = {

    /* RFC 8017 3.1: 3 <= e; with e = 1 any "signature" is its own proof */
    { "RSA with e = 1",
      "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"e1\",\"n\":\"" RFC_A2_N "\","
      "\"e\":\"AQ\"}]}",
      "key 1 (kid \"e1\")", "RSA" },
};


static void
test_jwks_rsa_exponent(void **state)
{
    assert_int_equal(jwks_errors_check(jwks_rsa_exponent,
                         sizeof(jwks_rsa_exponent)
                         / sizeof(jwks_rsa_exponent[0])), 0);
}


static void
test_jwks_rsa_too_short(void **state)
{
    char          err[DT_ERRLEN], *jwk, *jwks;
    key_state_t  *st;

    st = *state;

    jwk = dt_jwk(st->rsa1024, "rsa1024", NULL);
    jwks = dt_jwks(JWK_A1, jwk, NULL);

    assert_null(digin_keyset_from_jwks(jwks, strlen(jwks), err,
                                       sizeof(err)));
    dt_assert_contains(err, "key 2 (kid \"rsa1024\")");
    dt_assert_contains(err, "2048 bits");

    free(jwks);
    free(jwk);
}


static void
test_jwks_fingerprint(void **state)
{
    size_t           len;
    const char      *a, *b;
    unsigned char    md[SHA256_DIGEST_LENGTH];
    digin_keyset_t  *ks1, *ks2;

    a = "{\"keys\":[" JWK_A1 "]}";
    b = "{\"keys\": [" JWK_A1 "]}";

    ks1 = dt_keyset(a);
    ks2 = dt_keyset(b);

    len = strlen(a);
    SHA256((const unsigned char *) a, len, md);
    assert_memory_equal(ks1->fingerprint, md, sizeof(md));
    assert_memory_not_equal(ks1->fingerprint, ks2->fingerprint, sizeof(md));

    digin_keyset_free(ks1);
    digin_keyset_free(ks2);
}


/* PEM */

static void
test_pem(void **state)
{
    char             err[DT_ERRLEN], *pem;
    size_t           i;
    key_state_t     *st;
    digin_keyset_t  *ks;
    struct {
        EVP_PKEY     *pkey;
        digin_kty_e   kty;
        int           nid;
    } good[5];

    st = *state;

    good[0].pkey = st->rsa;
    good[0].kty = DIGIN_KTY_RSA;
    good[0].nid = 0;
    good[1].pkey = st->ec256;
    good[1].kty = DIGIN_KTY_EC;
    good[1].nid = NID_X9_62_prime256v1;
    good[2].pkey = st->ec384;
    good[2].kty = DIGIN_KTY_EC;
    good[2].nid = NID_secp384r1;
    good[3].pkey = st->ec521;
    good[3].kty = DIGIN_KTY_EC;
    good[3].nid = NID_secp521r1;
    good[4].pkey = st->ed25519;
    good[4].kty = DIGIN_KTY_OKP;
    good[4].nid = NID_ED25519;

    for (i = 0; i < 5; i++) {
        pem = dt_pem(good[i].pkey);

        ks = digin_keyset_from_pem(pem, strlen(pem), i ? "k" : NULL, err,
                                   sizeof(err));
        if (ks == NULL) {
            print_error("PEM %zu rejected: %s\n", i, err);
            fail();
        }

        assert_int_equal(ks->nkeys, 1);
        assert_int_equal(ks->keys[0].kty, good[i].kty);
        assert_int_equal(ks->keys[0].curve_nid, good[i].nid);
        assert_int_equal(ks->keys[0].alg, DIGIN_ALG_UNKNOWN);
        assert_int_equal(EVP_PKEY_eq(ks->keys[0].pkey, good[i].pkey), 1);

        if (i == 0) {
            assert_null(ks->keys[0].kid);

        } else {
            assert_string_equal(ks->keys[0].kid, "k");
        }

        digin_keyset_free(ks);
        free(pem);
    }
}


static void
test_pem_errors(void **state)
{
    BIO          *bio;
    char          err[DT_ERRLEN], *pem, *data;
    long          len;
    size_t        i;
    key_state_t  *st;
    struct {
        EVP_PKEY    *pkey;
        const char  *why;
    } bad[4];

    st = *state;

    /* not PEM at all */
    assert_null(digin_keyset_from_pem("garbage\n", 8, NULL, err,
                                      sizeof(err)));
    dt_assert_contains(err, "no PEM public key");

    assert_null(digin_keyset_from_pem("", 0, NULL, err, sizeof(err)));
    dt_assert_contains(err, "no PEM public key");

    pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    assert_null(digin_keyset_from_pem(pem, strlen(pem), NULL, err,
                                      sizeof(err)));
    dt_assert_contains(err, "no PEM public key");

    /* a JWKS given as PEM */
    pem = "{\"keys\":[" JWK_A2 "]}";
    assert_null(digin_keyset_from_pem(pem, strlen(pem), NULL, err,
                                      sizeof(err)));
    dt_assert_contains(err, "no PEM public key");

    /* a private key is not what the gateway needs */
    bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, st->ec256, NULL, NULL, 0,
                                              NULL, NULL), 1);
    len = BIO_get_mem_data(bio, &data);
    assert_null(digin_keyset_from_pem(data, (size_t) len, NULL, err,
                                      sizeof(err)));
    dt_assert_contains(err, "no PEM public key");
    BIO_free(bio);

    bad[0].pkey = st->rsa1024;
    bad[0].why = "shorter than 2048 bits";
    bad[1].pkey = st->x25519;
    bad[1].why = "key type";
    bad[2].pkey = st->ed448;
    bad[2].why = "key type";
    bad[3].pkey = st->secp256k1;
    bad[3].why = "P-256, P-384 or P-521";

    for (i = 0; i < 4; i++) {
        pem = dt_pem(bad[i].pkey);
        strcpy(err, "(no message)");

        assert_null(digin_keyset_from_pem(pem, strlen(pem), "kid", err,
                                          sizeof(err)));
        dt_assert_contains(err, bad[i].why);

        free(pem);
    }

    assert_int_equal(ERR_peek_error(), 0);
}


/* files; the tests run in tests/ */

static void
test_load_file(void **state)
{
    int                  fd;
    char                 err[DT_ERRLEN], path[64], *big;
    size_t               i, len;
    unsigned char       *sig;
    digin_keyset_t      *ks;
    digin_key_t         *k;
    static const struct {
        const char   *path;
        digin_alg_e   alg;
        const char   *input;
        const char   *sig;
    } pems[] = {
        { "fixtures/rfc7515-a2.pem", DIGIN_ALG_RS256, RFC_A2_INPUT,
          RFC_A2_SIG },
        { "fixtures/rfc7515-a3.pem", DIGIN_ALG_ES256, RFC_A3_INPUT,
          RFC_A3_SIG },
        { "fixtures/rfc8037-a.pem", DIGIN_ALG_EDDSA, RFC8037_INPUT,
          RFC8037_SIG },
    };

    ks = digin_keyset_load_file("fixtures/rfc7515.jwks.json", 1, NULL, err,
                                sizeof(err));
    if (ks == NULL) {
        print_error("%s\n", err);
        fail();
    }

    assert_int_equal(ks->nkeys, 4);
    assert_int_equal(find_kid(ks, "rfc7515-a1")->kty, DIGIN_KTY_OCT);
    assert_int_equal(find_kid(ks, "2010-12-29")->kty, DIGIN_KTY_RSA);
    k = find_kid(ks, "e9bc097a-ce51-4036-9562-d2ade882db0d");
    assert_int_equal(k->kty, DIGIN_KTY_EC);
    assert_int_equal(k->alg, DIGIN_ALG_ES256);
    assert_int_equal(find_kid(ks, "rfc8037-a")->kty, DIGIN_KTY_OKP);

    sig = dt_unb64url(RFC_A3_SIG, &len);
    assert_int_equal(digin_key_verify(k, DIGIN_ALG_ES256,
                                      (const unsigned char *) RFC_A3_INPUT,
                                      strlen(RFC_A3_INPUT), sig, len), 1);
    free(sig);
    digin_keyset_free(ks);

    for (i = 0; i < sizeof(pems) / sizeof(pems[0]); i++) {
        ks = digin_keyset_load_file(pems[i].path, 0, "file", err,
                                    sizeof(err));
        if (ks == NULL) {
            print_error("%s: %s\n", pems[i].path, err);
            fail();
        }

        assert_int_equal(ks->nkeys, 1);
        assert_string_equal(ks->keys[0].kid, "file");

        sig = dt_unb64url(pems[i].sig, &len);
        assert_int_equal(digin_key_verify(&ks->keys[0], pems[i].alg,
                             (const unsigned char *) pems[i].input,
                             strlen(pems[i].input), sig, len), 1);
        free(sig);
        digin_keyset_free(ks);
    }

    /* each loader refuses the other's file */
    assert_null(digin_keyset_load_file("fixtures/rfc7515-a2.pem", 1, NULL,
                                       err, sizeof(err)));
    dt_assert_contains(err, "invalid JSON");
    assert_null(digin_keyset_load_file("fixtures/rfc7515.jwks.json", 0,
                                       NULL, err, sizeof(err)));
    dt_assert_contains(err, "no PEM public key");

    assert_null(digin_keyset_load_file("fixtures/no-such-file.pem", 0, NULL,
                                       err, sizeof(err)));
    dt_assert_contains(err, "cannot open file");

    /* larger than 1 MiB */
    strcpy(path, "/tmp/digin-test-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    len = 1024 * 1024 + 1;
    big = malloc(len);
    assert_non_null(big);
    memset(big, ' ', len);
    assert_int_equal(write(fd, big, len), (ssize_t) len);
    close(fd);
    free(big);

    assert_null(digin_keyset_load_file(path, 1, NULL, err, sizeof(err)));
    unlink(path);
    dt_assert_contains(err, "larger than 1 MiB");
}


/* which algorithm each kind of key allows */

static void
test_allows_matrix(void **state)
{
    int           alg;
    size_t        i, failed;
    unsigned      got;
    digin_key_t   key;
    static const struct {
        const char   *name;
        digin_kty_e   kty;
        int           nid;
        digin_alg_e   pinned;
        unsigned      allowed;
    } rows[] = {
        { "RSA", DIGIN_KTY_RSA, 0, DIGIN_ALG_UNKNOWN, ALGS_RSA },
        { "EC P-256", DIGIN_KTY_EC, NID_X9_62_prime256v1, DIGIN_ALG_UNKNOWN,
          DIGIN_ALG_BIT(DIGIN_ALG_ES256) },
        { "EC P-384", DIGIN_KTY_EC, NID_secp384r1, DIGIN_ALG_UNKNOWN,
          DIGIN_ALG_BIT(DIGIN_ALG_ES384) },
        { "EC P-521", DIGIN_KTY_EC, NID_secp521r1, DIGIN_ALG_UNKNOWN,
          DIGIN_ALG_BIT(DIGIN_ALG_ES512) },
        { "OKP Ed25519", DIGIN_KTY_OKP, NID_ED25519, DIGIN_ALG_UNKNOWN,
          DIGIN_ALG_BIT(DIGIN_ALG_EDDSA) },
        { "oct", DIGIN_KTY_OCT, 0, DIGIN_ALG_UNKNOWN, DIGIN_ALGS_HMAC },
        { "RSA pinned PS384", DIGIN_KTY_RSA, 0, DIGIN_ALG_PS384,
          DIGIN_ALG_BIT(DIGIN_ALG_PS384) },
        { "RSA pinned RS256", DIGIN_KTY_RSA, 0, DIGIN_ALG_RS256,
          DIGIN_ALG_BIT(DIGIN_ALG_RS256) },
        { "RSA pinned ES256", DIGIN_KTY_RSA, 0, DIGIN_ALG_ES256, 0 },
        { "RSA pinned HS256", DIGIN_KTY_RSA, 0, DIGIN_ALG_HS256, 0 },
        { "EC P-256 pinned ES256", DIGIN_KTY_EC, NID_X9_62_prime256v1,
          DIGIN_ALG_ES256, DIGIN_ALG_BIT(DIGIN_ALG_ES256) },
        { "EC P-256 pinned ES384", DIGIN_KTY_EC, NID_X9_62_prime256v1,
          DIGIN_ALG_ES384, 0 },
        { "EC P-521 pinned ES512", DIGIN_KTY_EC, NID_secp521r1,
          DIGIN_ALG_ES512, DIGIN_ALG_BIT(DIGIN_ALG_ES512) },
        { "OKP pinned EdDSA", DIGIN_KTY_OKP, NID_ED25519, DIGIN_ALG_EDDSA,
          DIGIN_ALG_BIT(DIGIN_ALG_EDDSA) },
        { "oct pinned HS512", DIGIN_KTY_OCT, 0, DIGIN_ALG_HS512,
          DIGIN_ALG_BIT(DIGIN_ALG_HS512) },
        { "oct pinned RS256", DIGIN_KTY_OCT, 0, DIGIN_ALG_RS256, 0 },
    };

    /* HMAC keys are at least as long as the hash (RFC 7518 3.2) */
    static const struct {
        size_t        len;
        unsigned      allowed;
    } octs[] = {
        { 32, DIGIN_ALG_BIT(DIGIN_ALG_HS256) },
        { 48, DIGIN_ALG_BIT(DIGIN_ALG_HS256)
              | DIGIN_ALG_BIT(DIGIN_ALG_HS384) },
        { 64, DIGIN_ALGS_HMAC },
    };

    failed = 0;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        memset(&key, 0, sizeof(key));
        key.kty = rows[i].kty;
        key.curve_nid = rows[i].nid;
        key.alg = rows[i].pinned;
        key.secret_len = 64;

        got = 0;

        for (alg = DIGIN_ALG_UNKNOWN; alg <= DIGIN_ALG_MAX; alg++) {
            if (digin_key_allows(&key, (digin_alg_e) alg)) {
                got |= 1u << alg;
            }
        }

        if (got != rows[i].allowed) {
            print_error("%s: allows 0x%04x, expected 0x%04x\n",
                        rows[i].name, got, rows[i].allowed);
            failed++;
        }
    }

    for (i = 0; i < sizeof(octs) / sizeof(octs[0]); i++) {
        memset(&key, 0, sizeof(key));
        key.kty = DIGIN_KTY_OCT;
        key.secret_len = octs[i].len;

        got = 0;

        for (alg = DIGIN_ALG_UNKNOWN; alg <= DIGIN_ALG_MAX; alg++) {
            if (digin_key_allows(&key, (digin_alg_e) alg)) {
                got |= 1u << alg;
            }
        }

        if (got != octs[i].allowed) {
            print_error("oct of %zu bytes: allows 0x%04x, expected 0x%04x\n",
                        octs[i].len, got, octs[i].allowed);
            failed++;
        }
    }

    assert_int_equal(failed, 0);
}


/* signatures: the RFC examples */

typedef struct {
    const char   *name;
    const char   *kid;          /* in the state's RFC key set */
    digin_alg_e   alg;
    const char   *input;
    const char   *sig;
} rfc_vector_t;


static const rfc_vector_t  rfc_vectors[] = {
    { "RFC 7515 A.1 HS256", "a1", DIGIN_ALG_HS256, RFC_A1_INPUT,
      RFC_A1_SIG },
    { "RFC 7515 A.2 RS256", "a2", DIGIN_ALG_RS256, RFC_A2_INPUT,
      RFC_A2_SIG },
    { "RFC 7515 A.3 ES256", "a3", DIGIN_ALG_ES256, RFC_A3_INPUT,
      RFC_A3_SIG },
    { "RFC 8037 A.4 EdDSA", "ed", DIGIN_ALG_EDDSA, RFC8037_INPUT,
      RFC8037_SIG },
};


/* 0 when digin_key_verify() answers expect, else 1 with a message */

static size_t
verify_is(int expect, const char *name, const char *what,
    digin_key_t *k, digin_alg_e alg, const unsigned char *data,
    size_t len, const unsigned char *sig, size_t siglen)
{
    if (digin_key_verify(k, alg, data, len, sig, siglen) == expect) {
        return 0;
    }

    print_error("%s, %s: expected %d\n", name, what, expect);

    return 1;
}


static void
test_verify_rfc(void **state)
{
    size_t               i, bit, len, inlen, failed;
    key_state_t         *st;
    unsigned char       *sig, *in;
    digin_key_t         *k;
    const rfc_vector_t  *v;

    st = *state;
    failed = 0;

    for (i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
        v = &rfc_vectors[i];

        k = find_kid(st->rfc, v->kid);
        sig = dt_unb64url(v->sig, &len);
        in = (unsigned char *) strdup(v->input);
        assert_non_null(in);
        inlen = strlen(v->input);

        failed += verify_is(1, v->name, "as published", k, v->alg, in, inlen,
                            sig, len);

        /* single-bit changes all over the signature, and the last bit */
        for (bit = 0; bit < 8 * len; bit += 8 * len / 61 + 1) {
            sig[bit / 8] ^= (unsigned char) (1 << (bit % 8));
            failed += verify_is(0, v->name, "one bit flipped", k, v->alg, in,
                                inlen, sig, len);
            sig[bit / 8] ^= (unsigned char) (1 << (bit % 8));
        }

        sig[len - 1] ^= 0x01;
        failed += verify_is(0, v->name, "last bit flipped", k, v->alg, in,
                            inlen, sig, len);
        sig[len - 1] ^= 0x01;

        /* truncated, empty, and one byte too many */
        failed += verify_is(0, v->name, "truncated", k, v->alg, in, inlen,
                            sig, len - 1);
        failed += verify_is(0, v->name, "empty", k, v->alg, in, inlen, sig,
                            0);
        sig = realloc(sig, len + 1);
        assert_non_null(sig);
        sig[len] = 0;
        failed += verify_is(0, v->name, "a byte appended", k, v->alg, in,
                            inlen, sig, len + 1);

        /* the signed data changed: one byte of the payload, one less byte */
        in[inlen - 3] ^= 0x20;
        failed += verify_is(0, v->name, "data changed", k, v->alg, in, inlen,
                            sig, len);
        in[inlen - 3] ^= 0x20;
        failed += verify_is(0, v->name, "data shortened", k, v->alg, in,
                            inlen - 1, sig, len);

        /* and still good afterwards: nothing was kept between calls */
        failed += verify_is(1, v->name, "again", k, v->alg, in, inlen, sig,
                            len);

        free(sig);
        free(in);
    }

    assert_int_equal(failed, 0);
    assert_int_equal(ERR_peek_error(), 0);
}


/* ES256 in the DER form OpenSSL produces is not a JWS signature */

static void
test_verify_es256_der(void **state)
{
    size_t               len, derlen;
    key_state_t         *st;
    unsigned char       *sig, *der;
    digin_key_t         *k;

    st = *state;
    k = find_kid(st->rfc, "a3");

    sig = dt_unb64url(RFC_A3_SIG, &len);
    assert_int_equal(len, 64);
    der = dt_raw_to_der(sig, len, &derlen);

    assert_int_equal(digin_key_verify(k, DIGIN_ALG_ES256,
                                      (const unsigned char *) RFC_A3_INPUT,
                                      strlen(RFC_A3_INPUT), der, derlen), 0);

    /* R and S swapped; R||S of zeros; all ones (beyond the group order) */
    memcpy(der, sig + 32, 32);
    memcpy(der + 32, sig, 32);
    assert_int_equal(digin_key_verify(k, DIGIN_ALG_ES256,
                                      (const unsigned char *) RFC_A3_INPUT,
                                      strlen(RFC_A3_INPUT), der, 64), 0);
    memset(sig, 0, 64);
    assert_int_equal(digin_key_verify(k, DIGIN_ALG_ES256,
                                      (const unsigned char *) RFC_A3_INPUT,
                                      strlen(RFC_A3_INPUT), sig, 64), 0);
    memset(sig, 0xff, 64);
    assert_int_equal(digin_key_verify(k, DIGIN_ALG_ES256,
                                      (const unsigned char *) RFC_A3_INPUT,
                                      strlen(RFC_A3_INPUT), sig, 64), 0);

    OPENSSL_free(der);
    free(sig);

    assert_int_equal(ERR_peek_error(), 0);
}


/* a valid signature presented under another algorithm is refused */

static void
test_verify_cross_algorithm(void **state)
{
    char                *pem;
    size_t               i, len;
    key_state_t         *st;
    unsigned char       *sig, mac[1024];
    digin_key_t         *k, *a2;
    dt_signer_t          signer;
    static const struct {
        const char   *kid;
        digin_alg_e   alg;
        const char   *input;
        const char   *sig;
    } misuse[] = {
        { "a2", DIGIN_ALG_HS256, RFC_A2_INPUT, RFC_A2_SIG },
        { "a2", DIGIN_ALG_RS384, RFC_A2_INPUT, RFC_A2_SIG },
        { "a2", DIGIN_ALG_PS256, RFC_A2_INPUT, RFC_A2_SIG },
        { "a2", DIGIN_ALG_ES256, RFC_A2_INPUT, RFC_A2_SIG },
        { "a1", DIGIN_ALG_HS384, RFC_A1_INPUT, RFC_A1_SIG },
        { "a1", DIGIN_ALG_RS256, RFC_A1_INPUT, RFC_A1_SIG },
        { "a3", DIGIN_ALG_ES384, RFC_A3_INPUT, RFC_A3_SIG },
        { "a3", DIGIN_ALG_EDDSA, RFC_A3_INPUT, RFC_A3_SIG },
        { "a3", DIGIN_ALG_HS256, RFC_A3_INPUT, RFC_A3_SIG },
        { "ed", DIGIN_ALG_ES256, RFC8037_INPUT, RFC8037_SIG },
        { "ed", DIGIN_ALG_HS512, RFC8037_INPUT, RFC8037_SIG },
        { "a2", DIGIN_ALG_UNKNOWN, RFC_A2_INPUT, RFC_A2_SIG },
        { "a2", DIGIN_ALG_MAX, RFC_A2_INPUT, RFC_A2_SIG },
    };

    st = *state;

    for (i = 0; i < sizeof(misuse) / sizeof(misuse[0]); i++) {
        k = find_kid(st->rfc, misuse[i].kid);
        sig = dt_unb64url(misuse[i].sig, &len);

        if (digin_key_verify(k, misuse[i].alg,
                             (const unsigned char *) misuse[i].input,
                             strlen(misuse[i].input), sig, len) != 0)
        {
            print_error("key %s accepted alg %d\n", misuse[i].kid,
                        (int) misuse[i].alg);
            fail();
        }

        free(sig);
    }

    /*
     * The alg-confusion attack: an HMAC made with the RSA public key's
     * PEM as the secret, checked as HS256 over the RSA key, must fail.
     */
    a2 = find_kid(st->rfc, "a2");
    pem = dt_pem(a2->pkey);

    signer.pkey = NULL;
    signer.secret = (const unsigned char *) pem;
    signer.secret_len = strlen(pem);
    len = dt_sign(&signer, DIGIN_ALG_HS256,
                  (const unsigned char *) RFC_A2_INPUT, strlen(RFC_A2_INPUT),
                  mac);
    assert_int_equal(digin_key_verify(a2, DIGIN_ALG_HS256,
                                      (const unsigned char *) RFC_A2_INPUT,
                                      strlen(RFC_A2_INPUT), mac, len), 0);
    free(pem);

    assert_int_equal(ERR_peek_error(), 0);
}


/* RFC 7518 3.5: PSS with a salt as long as the hash, and nothing else */

static void
test_verify_pss_salt(void **state)
{
    char                *jwk, *jwks;
    size_t               siglen;
    EVP_MD_CTX          *mdctx;
    key_state_t         *st;
    EVP_PKEY_CTX        *pctx;
    unsigned char        sig[512];
    digin_keyset_t      *ks;
    static const char    data[] = "eyJhbGciOiJQUzI1NiJ9.e30";

    st = *state;

    jwk = dt_jwk(st->rsa, "rsa", NULL);
    jwks = dt_jwks(jwk, NULL);
    ks = dt_keyset(jwks);

    mdctx = EVP_MD_CTX_new();
    assert_non_null(mdctx);
    assert_int_equal(EVP_DigestSignInit(mdctx, &pctx, EVP_sha256(), NULL,
                                        st->rsa), 1);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING)
                > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 0) > 0);
    siglen = sizeof(sig);
    assert_int_equal(EVP_DigestSign(mdctx, sig, &siglen,
                                    (const unsigned char *) data,
                                    sizeof(data) - 1), 1);
    EVP_MD_CTX_free(mdctx);

    assert_int_equal(digin_key_verify(&ks->keys[0], DIGIN_ALG_PS256,
                                      (const unsigned char *) data,
                                      sizeof(data) - 1, sig, siglen), 0);
    assert_int_equal(ERR_peek_error(), 0);

    digin_keyset_free(ks);
    free(jwks);
    free(jwk);
}


/*
 * Every algorithm with keys generated here, signed with OpenSSL, checked
 * with digin_key_verify() and then as a whole token by
 * digin_jwt_verify().
 */

static void
test_verify_generated(void **state)
{
    char                 *jwk[6], *jwks, *token, header[64];
    size_t                i, n, len, failed;
    const char           *name;
    key_state_t          *st;
    dt_signer_t           signer;
    unsigned char         sig[1024];
    digin_trust_t         trust;
    digin_claims_t        claims;
    digin_issuer_t       *iss;
    digin_result_e        rc;
    digin_keyset_t       *ks;
    digin_key_t          *k;
    const unsigned char  *data;
    static const unsigned char  secret[64] =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static const char     payload[] =
        "{\"iss\":\"https://keys.example.org\",\"aud\":\"digin\","
        "\"sub\":\"patron-7\",\"exp\":1700000600}";
    static const struct {
        digin_alg_e   alg;
        const char   *kid;
    } rows[] = {
        { DIGIN_ALG_HS256, "hs" },
        { DIGIN_ALG_HS384, "hs" },
        { DIGIN_ALG_HS512, "hs" },
        { DIGIN_ALG_RS256, "rsa" },
        { DIGIN_ALG_RS384, "rsa" },
        { DIGIN_ALG_RS512, "rsa" },
        { DIGIN_ALG_PS256, "rsa" },
        { DIGIN_ALG_PS384, "rsa" },
        { DIGIN_ALG_PS512, "rsa" },
        { DIGIN_ALG_ES256, "ec256" },
        { DIGIN_ALG_ES384, "ec384" },
        { DIGIN_ALG_ES512, "ec521" },
        { DIGIN_ALG_EDDSA, "ed25519" },
    };

    st = *state;
    failed = 0;

    jwk[0] = dt_jwk(st->rsa, "rsa", NULL);
    jwk[1] = dt_jwk(st->ec256, "ec256", NULL);
    jwk[2] = dt_jwk(st->ec384, "ec384", "ES384");
    jwk[3] = dt_jwk(st->ec521, "ec521", NULL);
    jwk[4] = dt_jwk(st->ed25519, "ed25519", NULL);
    jwk[5] = strdup("{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":"
                    "\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2"
                    "Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg\"}");
    jwks = dt_jwks(jwk[0], jwk[1], jwk[2], jwk[3], jwk[4], jwk[5], NULL);
    ks = dt_keyset(jwks);
    assert_int_equal(ks->nkeys, 6);

    iss = dt_issuer("https://keys.example.org", "digin", DIGIN_ALGS_ALL,
                    "sub", NULL, ks);
    trust.issuers = &iss;
    trust.nissuers = 1;
    trust.leeway = 30;
    trust.max_size = 8192;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        name = digin_alg_name(rows[i].alg);
        k = find_kid(ks, rows[i].kid);

        signer.pkey = NULL;
        signer.secret = secret;
        signer.secret_len = sizeof(secret);

        if (strcmp(rows[i].kid, "rsa") == 0) {
            signer.pkey = st->rsa;

        } else if (strcmp(rows[i].kid, "ec256") == 0) {
            signer.pkey = st->ec256;

        } else if (strcmp(rows[i].kid, "ec384") == 0) {
            signer.pkey = st->ec384;

        } else if (strcmp(rows[i].kid, "ec521") == 0) {
            signer.pkey = st->ec521;

        } else if (strcmp(rows[i].kid, "ed25519") == 0) {
            signer.pkey = st->ed25519;
        }

        /*
         * Several messages: for P-521 about half the signatures have an
         * R or S with a leading zero byte in its 66.
         */
        for (n = 0; n < 8; n++) {
            data = (const unsigned char *) payload;
            len = dt_sign(&signer, rows[i].alg, data, n + 10, sig);

            failed += verify_is(1, name, "generated", k, rows[i].alg, data,
                                n + 10, sig, len);

            sig[len / 2] ^= 0x10;
            failed += verify_is(0, name, "one bit flipped", k, rows[i].alg,
                                data, n + 10, sig, len);
            sig[len / 2] ^= 0x10;

            failed += verify_is(0, name, "truncated", k, rows[i].alg, data,
                                n + 10, sig, len - 1);
        }

        snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"%s\"}",
                 digin_alg_name(rows[i].alg), rows[i].kid);
        token = dt_token(&signer, rows[i].alg, header, payload);

        memset(&claims, 0, sizeof(claims));
        rc = digin_jwt_verify(&trust, (const unsigned char *) token,
                              strlen(token), TEST_NOW, &claims);
        if (rc != DIGIN_OK) {
            print_error("%s token: %s\n", digin_alg_name(rows[i].alg),
                        digin_result_name(rc));
            fail();
        }

        assert_string_equal(claims.patron, "patron-7");
        assert_int_equal(claims.exp, 1700000600);

        /* the last character of the signature changed */
        len = strlen(token);
        token[len - 1] = (token[len - 1] == 'A') ? 'Q' : 'A';
        rc = digin_jwt_verify(&trust, (const unsigned char *) token, len,
                              TEST_NOW, &claims);
        if (rc != DIGIN_SIGNATURE_INVALID) {
            print_error("%s token with another signature: %s\n",
                        digin_alg_name(rows[i].alg), digin_result_name(rc));
            fail();
        }

        free(token);
    }

    /* the ES384 key is pinned: ES384 only, even where its kid is named */
    k = find_kid(ks, "ec384");
    assert_int_equal(k->alg, DIGIN_ALG_ES384);

    assert_int_equal(failed, 0);
    assert_int_equal(ERR_peek_error(), 0);

    dt_issuer_free(iss);
    free(jwks);

    for (i = 0; i < 6; i++) {
        free(jwk[i]);
    }
}


/* the RFC 7515 A.2 and A.3 tokens through digin_jwt_verify() */

static void
test_rfc_tokens(void **state)
{
    size_t           i;
    digin_trust_t    trust;
    digin_claims_t   claims;
    digin_issuer_t  *iss;
    static const struct {
        const char      *token;
        time_t           now;
        digin_result_e   expect;
    } rows[] = {
        /* no "aud" in the examples: the signature was accepted */
        { RFC_A2_INPUT "." RFC_A2_SIG, 1300819300, DIGIN_AUDIENCE_MISMATCH },
        { RFC_A3_INPUT "." RFC_A3_SIG, 1300819300, DIGIN_AUDIENCE_MISMATCH },
        { RFC_A2_INPUT "." RFC_A2_SIG, 1300819411, DIGIN_TOKEN_EXPIRED },
        { RFC_A3_INPUT "." RFC_A3_SIG, 1300819411, DIGIN_TOKEN_EXPIRED },
        /* A.1 is HS256, which this issuer does not accept */
        { RFC_A1_INPUT "." RFC_A1_SIG, 1300819300,
          DIGIN_ALGORITHM_NOT_ALLOWED },
    };

    iss = dt_issuer("joe", "digin", DIGIN_ALGS_DEFAULT, "sub", NULL,
                    dt_keyset("{\"keys\":[" JWK_A2 "," JWK_A3 "]}"));
    trust.issuers = &iss;
    trust.nissuers = 1;
    trust.leeway = 30;
    trust.max_size = 8192;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(digin_jwt_verify(&trust,
                             (const unsigned char *) rows[i].token,
                             strlen(rows[i].token), rows[i].now, &claims),
                         rows[i].expect);
    }

    dt_issuer_free(iss);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_alg_unknown),
        cmocka_unit_test(test_jwks_key_types),
        cmocka_unit_test(test_jwks_skips),
        cmocka_unit_test(test_jwks_errors),
        cmocka_unit_test(test_jwks_oct_alg_must_fit),
        cmocka_unit_test(test_jwks_rsa_exponent),
        cmocka_unit_test(test_jwks_rsa_too_short),
        cmocka_unit_test(test_jwks_fingerprint),
        cmocka_unit_test(test_pem),
        cmocka_unit_test(test_pem_errors),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_allows_matrix),
        cmocka_unit_test(test_verify_rfc),
        cmocka_unit_test(test_verify_es256_der),
        cmocka_unit_test(test_verify_cross_algorithm),
        cmocka_unit_test(test_verify_pss_salt),
        cmocka_unit_test(test_verify_generated),
        cmocka_unit_test(test_rfc_tokens),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
