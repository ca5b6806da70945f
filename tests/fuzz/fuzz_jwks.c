/*
 * Copyright (C) Digin gateway developers
 *
 * libFuzzer target: the key loaders, digin_keyset_from_jwks() (and
 * digin_keyset_from_pem() for inputs that look like PEM), as a key file
 * replaced on disk reaches them in a running gateway.
 *
 * What must hold: no crash, leak or sanitizer report; a refusal says
 * why in a terminated string; a key set that loads holds keys each of
 * which is what it says (HMAC only for oct keys of 256 bits or more,
 * a public key fitting some algorithm), and a check of a signature that
 * cannot be right fails.
 */


#include "digin_key.h"

#include "fuzz_common.h"


static const unsigned char  fz_data[] = "eyJhbGciOiJub25lIn0.e30";
static unsigned char        fz_sig[512];


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              any;
    char             err[256];
    size_t           i, siglen;
    digin_alg_e      alg;
    digin_key_t     *key;
    digin_keyset_t  *ks;

    memset(err, 0x5a, sizeof(err));

    if (size >= 5 && memcmp(data, "-----", 5) == 0) {
        ks = digin_keyset_from_pem((const char *) data, size,
                                   size > 40 ? "kid" : NULL, err,
                                   sizeof(err));

    } else {
        ks = digin_keyset_from_jwks((const char *) data, size, err,
                                    sizeof(err));
    }

    if (ks == NULL) {
        fz_check(memchr(err, '\0', sizeof(err)) != NULL);
        fz_check(err[0] != '\0');
        return 0;
    }

    fz_check(ks->nkeys > 0);

    for (i = 0; i < ks->nkeys; i++) {
        key = &ks->keys[i];
        any = 0;

        fz_check(key->kty >= DIGIN_KTY_RSA && key->kty <= DIGIN_KTY_OCT);
        fz_check((key->kty == DIGIN_KTY_OCT) == (key->pkey == NULL));
        fz_check(key->kty != DIGIN_KTY_OCT || key->secret_len >= 32);

        for (alg = DIGIN_ALG_HS256; alg < DIGIN_ALG_MAX; alg++) {
            if (!digin_key_allows(key, alg)) {
                continue;
            }

            any = 1;

            /* HMAC only with oct keys, never with a public key */
            fz_check((key->kty == DIGIN_KTY_OCT)
                     == ((DIGIN_ALG_BIT(alg) & DIGIN_ALGS_HMAC) != 0));

            /* a signature of zeros, of each plausible length */
            for (siglen = 0; siglen <= sizeof(fz_sig); siglen += 32) {
                fz_check(digin_key_verify(key, alg, fz_data,
                                          sizeof(fz_data) - 1, fz_sig,
                                          siglen)
                         == 0);
            }
        }

        /*
         * a public key fits some algorithm (an oct key pinned to an
         * HMAC longer than its secret fits none, and is never used)
         */
        fz_check(any || key->kty == DIGIN_KTY_OCT);
    }

    digin_keyset_free(ks);

    return 0;
}
