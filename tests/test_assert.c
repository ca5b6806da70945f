/*
 * Copyright (C) Digin gateway developers
 *
 * Unit tests of digin_assert.c: pseudonyms, and assertions signed with
 * every supported algorithm and checked with the gateway's own
 * verifier, as a vendor using this module would check them.
 */


#include "digin_test.h"

#include <openssl/hmac.h>
#include <unistd.h>

#include "digin_assert.h"


#define KEY32  "0123456789abcdef0123456789abcdef"


static void
test_pseudonym(void **state)
{
    char                    a[DIGIN_PSEUDONYM_LEN + 1];
    char                    b[DIGIN_PSEUDONYM_LEN + 1];
    char                   *expect;
    unsigned int            len;
    unsigned char           mac[32];
    digin_pseudonym_key_t  *k, *k2;
    static const char  msg[] = "https://idp\0ola\0bokskya";

    /* HMAC-SHA256 of issuer, patron and vendor, each ended by a NUL */
    HMAC(EVP_sha256(), KEY32, 32, (const unsigned char *) msg, sizeof(msg),
         mac, &len);
    expect = dt_b64url(mac, len);

    k = digin_pseudonym_key_new((const unsigned char *) KEY32, 32);
    assert_non_null(k);

    assert_int_equal(digin_pseudonym(k, "https://idp", 11, "ola", 3,
                                     "bokskya", 7, a), 0);
    assert_int_equal(strlen(a), DIGIN_PSEUDONYM_LEN);
    assert_string_equal(a, expect);
    free(expect);

    /* stable: the key's context restarts for each pseudonym */
    assert_int_equal(digin_pseudonym(k, "https://idp", 11, "ola", 3,
                                     "bokskya", 7, b), 0);
    assert_string_equal(a, b);

    /* another vendor, another pseudonym */
    assert_int_equal(digin_pseudonym(k, "https://idp", 11, "ola", 3,
                                     "lydhuset", 8, b), 0);
    assert_string_not_equal(a, b);

    /* the parts cannot run into each other */
    assert_int_equal(digin_pseudonym(k, "https://idp", 11, "olab", 4,
                                     "okskya", 6, b), 0);
    assert_string_not_equal(a, b);

    /* another key, another pseudonym */
    k2 = digin_pseudonym_key_new((const unsigned char *)
                                 "abcdef0123456789abcdef0123456789", 32);
    assert_non_null(k2);
    assert_int_equal(digin_pseudonym(k2, "https://idp", 11, "ola", 3,
                                     "bokskya", 7, b), 0);
    assert_string_not_equal(a, b);

    /* and the first key unchanged by the second */
    assert_int_equal(digin_pseudonym(k, "https://idp", 11, "ola", 3,
                                     "bokskya", 7, b), 0);
    assert_string_equal(a, b);

    digin_pseudonym_key_free(k);
    digin_pseudonym_key_free(k2);
}


static char *
write_temp(const void *data, size_t len)
{
    int    fd;
    char  *path;

    path = strdup("/tmp/digin-assert-XXXXXX");
    assert_non_null(path);

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    close(fd);

    return path;
}


static char *
write_private_pem(EVP_PKEY *pkey)
{
    BIO    *bio;
    char   *data, *path;
    long    len;

    bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
                                              NULL, NULL), 1);
    len = BIO_get_mem_data(bio, &data);
    path = write_temp(data, (size_t) len);
    BIO_free(bio);

    return path;
}


/* signs with signer and verifies with the JWK as a vendor would */

static void
roundtrip(digin_signer_t *signer, const char *jwk, digin_alg_e alg)
{
    long                   n;
    char                   token[DIGIN_ASSERTION_MAX];
    char                   token2[DIGIN_ASSERTION_MAX];
    char                  *jwks;
    digin_trust_t          trust;
    digin_claims_t         claims;
    digin_issuer_t        *iss, *list[1];
    digin_assertion_t      a;

    memset(&a, 0, sizeof(a));
    a.iss = "urn:digin:gateway";
    a.aud = "bokskya";
    a.sub = "W4jD3bc9n_fTqcSq-89IhSWLUJfRfaeKbJaQ-LUxPHI";
    a.library = "0301";
    a.county = "03";
    a.medium = "ebook";
    a.iat = 1700000000;
    a.exp = 1700000060;

    n = digin_assertion_sign(signer, &a, token, sizeof(token));
    assert_true(n > 0);
    assert_int_equal(strlen(token), (size_t) n);

    jwks = dt_jwks(jwk, NULL);
    iss = dt_issuer("urn:digin:gateway", "bokskya", DIGIN_ALG_BIT(alg),
                    "sub", "library", dt_keyset(jwks));
    free(jwks);

    list[0] = iss;
    trust.issuers = list;
    trust.nissuers = 1;
    trust.leeway = 0;
    trust.max_size = 8192;

    assert_int_equal(digin_jwt_verify(&trust, (unsigned char *) token,
                                      (size_t) n, 1700000030, &claims),
                     DIGIN_OK);
    assert_string_equal(claims.patron, a.sub);
    assert_string_equal(claims.library, "0301");
    assert_true(strlen(claims.jti) > 0);
    assert_int_equal(claims.exp, 1700000060);

    /* expired after its ttl */
    assert_int_equal(digin_jwt_verify(&trust, (unsigned char *) token,
                                      (size_t) n, 1700000060, &claims),
                     DIGIN_TOKEN_EXPIRED);

    /* meant for one vendor only */
    free(iss->audience);
    iss->audience = strdup("lydhuset");
    assert_int_equal(digin_jwt_verify(&trust, (unsigned char *) token,
                                      (size_t) n, 1700000030, &claims),
                     DIGIN_AUDIENCE_MISMATCH);

    /* every assertion has its own jti */
    assert_true(digin_assertion_sign(signer, &a, token2, sizeof(token2))
                > 0);
    assert_string_not_equal(token, token2);

    dt_issuer_free(iss);
}


static EVP_PKEY *
keygen(const char *type)
{
    if (strcmp(type, "ec") == 0) {
        return dt_ec("P-256");
    }

    if (strcmp(type, "rsa") == 0) {
        return dt_rsa(2048);
    }

    return dt_keygen("ED25519");
}


static void
test_sign_asymmetric(void **state)
{
    size_t  i;
    char    err[256], *path, *jwk;
    static const struct {
        const char   *type;
        digin_alg_e   alg;
    } rows[] = {
        { "ec", DIGIN_ALG_ES256 },
        { "ed25519", DIGIN_ALG_EDDSA },
        { "rsa", DIGIN_ALG_RS256 },
    };

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        EVP_PKEY        *pkey;
        digin_signer_t  *s;

        pkey = keygen(rows[i].type);
        path = write_private_pem(pkey);

        s = digin_signer_load_file(path, rows[i].alg, "gw-1", err,
                                   sizeof(err));
        if (s == NULL) {
            print_error("%s: %s\n", rows[i].type, err);
        }
        assert_non_null(s);

        jwk = dt_jwk(pkey, "gw-1", digin_alg_name(rows[i].alg));
        roundtrip(s, jwk, rows[i].alg);

        free(jwk);
        digin_signer_free(s);
        unlink(path);
        free(path);
        EVP_PKEY_free(pkey);
    }
}


static void
test_sign_hmac(void **state)
{
    char            err[256], *path, *k, jwk[256];
    digin_signer_t  *s;
    static const char  secret[] = KEY32 "0123456789abcdef";

    path = write_temp(secret, sizeof(secret) - 1);

    s = digin_signer_load_file(path, DIGIN_ALG_HS256, NULL, err,
                               sizeof(err));
    assert_non_null(s);

    k = dt_b64url((const unsigned char *) secret, sizeof(secret) - 1);
    snprintf(jwk, sizeof(jwk), "{\"kty\":\"oct\",\"k\":\"%s\"}", k);
    roundtrip(s, jwk, DIGIN_ALG_HS256);

    free(k);
    digin_signer_free(s);
    unlink(path);
    free(path);
}


static void
test_signer_errors(void **state)
{
    char       err[256], *path;
    EVP_PKEY  *ec, *ec384;

    /* missing */
    assert_null(digin_signer_load_file("/nonexistent/key.pem",
                                       DIGIN_ALG_ES256, NULL, err,
                                       sizeof(err)));
    assert_non_null(strstr(err, "cannot open"));

    /* a key that does not fit the algorithm */
    ec = keygen("ec");
    path = write_private_pem(ec);
    assert_null(digin_signer_load_file(path, DIGIN_ALG_RS256, NULL, err,
                                       sizeof(err)));
    assert_non_null(strstr(err, "does not fit RS256"));
    assert_null(digin_signer_load_file(path, DIGIN_ALG_EDDSA, NULL, err,
                                       sizeof(err)));
    unlink(path);
    free(path);
    EVP_PKEY_free(ec);

    /* ES256 wants P-256 */
    ec384 = dt_ec("P-384");
    path = write_private_pem(ec384);
    assert_null(digin_signer_load_file(path, DIGIN_ALG_ES256, NULL, err,
                                       sizeof(err)));
    unlink(path);
    free(path);
    EVP_PKEY_free(ec384);

    /* no private key, and a short HMAC secret */
    path = write_temp("not a key\n", 10);
    assert_null(digin_signer_load_file(path, DIGIN_ALG_ES256, NULL, err,
                                       sizeof(err)));
    assert_non_null(strstr(err, "no PEM private key"));
    assert_null(digin_signer_load_file(path, DIGIN_ALG_HS256, NULL, err,
                                       sizeof(err)));
    assert_non_null(strstr(err, "32 bytes"));
    unlink(path);
    free(path);

    /* an algorithm assertions are not signed with */
    ec = keygen("ec");
    path = write_private_pem(ec);
    assert_null(digin_signer_load_file(path, DIGIN_ALG_PS256, NULL, err,
                                       sizeof(err)));
    unlink(path);
    free(path);
    EVP_PKEY_free(ec);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_pseudonym),
        cmocka_unit_test(test_sign_asymmetric),
        cmocka_unit_test(test_sign_hmac),
        cmocka_unit_test(test_signer_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
