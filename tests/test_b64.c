/*
 * Copyright (C) Digin gateway developers
 *
 * digin_b64.c: base64url without padding (RFC 4648 section 5), decoded
 * strictly (RFC 7515 section 2 and appendix C).
 */


#include "digin_test.h"


static const char  b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


typedef struct {
    const char  *plain;
    const char  *encoded;
} b64_vector_t;


/* RFC 4648 section 10, without the padding */
static const b64_vector_t  rfc4648_vectors[] = {
    { "",       "" },
    { "f",      "Zg" },
    { "fo",     "Zm8" },
    { "foo",    "Zm9v" },
    { "foob",   "Zm9vYg" },
    { "fooba",  "Zm9vYmE" },
    { "foobar", "Zm9vYmFy" },
};


typedef struct {
    const char  *name;
    const char  *input;
    size_t       len;
} b64_bad_t;


static const b64_bad_t  bad_inputs[] = {
    { "'+' first",               "+m9v", 4 },
    { "'+' inside",              "Zm+v", 4 },
    { "'+' last",                "Zm9+", 4 },
    { "'/' first",               "/m9v", 4 },
    { "'/' last of 2",           "Z/", 2 },
    { "'/' inside 8",            "Zm9vY/Fy", 8 },
    { "padding '=='",            "Zg==", 4 },
    { "padding '='",             "Zm8=", 4 },
    { "padding alone",           "====", 4 },
    { "'=' inside",              "Zm=v", 4 },
    { "space",                   "Zm9v Zm8", 8 },
    { "leading space",           " Zm9", 4 },
    { "trailing newline",        "Zm9\n", 4 },
    { "CR LF",                   "Zm9vYg\r\n", 8 },
    { "tab",                     "Zm\tv", 4 },
    { "NUL inside",              "Zm\0v", 4 },
    { "NUL last",                "Zm9\0", 4 },
    { "dot",                     "Zm.v", 4 },
    { "byte 0x80",               "Zm\x80v", 4 },
    { "byte 0xff",               "Zm9\xff", 4 },
    { "length 1",                "Z", 1 },
    { "length 5",                "Zm9vY", 5 },
    { "length 9",                "Zm9vYmFyZ", 9 },
    { "non-canonical 2 (Zh)",    "Zh", 2 },
    { "non-canonical 2 (Zv)",    "Zv", 2 },
    { "non-canonical 2 (Z_)",    "Z_", 2 },
    { "non-canonical 3 (Zm9)",   "Zm9", 3 },
    { "non-canonical 3 (Zm-)",   "Zm-", 3 },
    { "non-canonical 6",         "Zm9vYh", 6 },
    { "non-canonical 7",         "Zm9vYmF", 7 },
};


/* a fixed-seed generator, so that a failure can be reproduced */

static uint32_t
test_random(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;

    return *state;
}


static void
test_rfc4648_vectors(void **state)
{
    long            n;
    size_t          i, len, elen;
    unsigned char   buf[32];
    char            enc[32];

    for (i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]);
         i++)
    {
        len = strlen(rfc4648_vectors[i].plain);
        elen = strlen(rfc4648_vectors[i].encoded);

        memset(enc, 0, sizeof(enc));
        assert_int_equal(digin_b64url_encode((unsigned char *) enc,
                             (const unsigned char *) rfc4648_vectors[i].plain,
                             len),
                         elen);
        assert_string_equal(enc, rfc4648_vectors[i].encoded);
        assert_int_equal(digin_b64url_encoded_len(len), elen);

        memset(buf, 0, sizeof(buf));
        n = digin_b64url_decode(buf,
                         (const unsigned char *) rfc4648_vectors[i].encoded,
                         elen);
        assert_int_equal(n, (long) len);
        assert_memory_equal(buf, rfc4648_vectors[i].plain, len);
        assert_true(digin_b64url_decoded_len(elen) >= len);
    }
}


/* '-' and '_' stand where standard base64 has '+' and '/' */

static void
test_url_alphabet(void **state)
{
    long                 n;
    char                 enc[128];
    unsigned char        buf[64];
    static const char    marks[] = "\xfb\xff\xbf";

    assert_int_equal(digin_b64url_encode((unsigned char *) enc,
                                         (const unsigned char *) marks, 3),
                     4);
    enc[4] = '\0';
    assert_string_equal(enc, "-_-_");

    /* every character of the alphabet in one string, both ways */
    n = digin_b64url_decode(buf, (const unsigned char *) b64url_alphabet, 64);
    assert_int_equal(n, 48);
    assert_int_equal(digin_b64url_encode((unsigned char *) enc, buf, 48), 64);
    assert_memory_equal(enc, b64url_alphabet, 64);
}


/* random data of 0..100 bytes, against OpenSSL's codec as the oracle */

static void
test_round_trip(void **state)
{
    long            n;
    char           *ref;
    size_t          len, i, elen;
    uint32_t        seed;
    unsigned char   data[100], enc[140], dec[100 + 1];

    seed = 0x2545f491;

    for (len = 0; len <= 100; len++) {
        for (i = 0; i < len; i++) {
            data[i] = (unsigned char) test_random(&seed);
        }

        /* the buffer sizes the header promises are enough */
        memset(enc, 0xa5, sizeof(enc));
        elen = digin_b64url_encode(enc, data, len);
        assert_int_equal(elen, digin_b64url_encoded_len(len));
        assert_int_equal(enc[elen], 0xa5);

        ref = dt_b64url(data, len);
        assert_int_equal(elen, strlen(ref));
        assert_memory_equal(enc, ref, elen);
        free(ref);

        memset(dec, 0xa5, sizeof(dec));
        n = digin_b64url_decode(dec, enc, elen);
        assert_int_equal(n, (long) len);
        assert_true(digin_b64url_decoded_len(elen) >= len);
        assert_int_equal(dec[digin_b64url_decoded_len(elen)], 0xa5);
        assert_memory_equal(dec, data, len);
    }
}


static void
test_rejects(void **state)
{
    long            n;
    size_t          i, failed;
    unsigned char   buf[32];

    failed = 0;

    for (i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
        n = digin_b64url_decode(buf,
                                (const unsigned char *) bad_inputs[i].input,
                                bad_inputs[i].len);
        if (n != -1) {
            print_error("%s: decoded to %ld bytes, expected -1\n",
                        bad_inputs[i].name, n);
            failed++;
        }
    }

    assert_int_equal(failed, 0);
}


/*
 * Exhaustive over the last character: of "Z?" only the four characters
 * whose low 4 bits are zero are canonical, and of "Zm?" the sixteen
 * whose low 2 bits are zero.
 */

static void
test_canonical_last_char(void **state)
{
    long           n;
    size_t         v, failed;
    unsigned char  in[4], buf[8];

    failed = 0;

    for (v = 0; v < 64; v++) {
        in[0] = 'Z';
        in[1] = b64url_alphabet[v];
        n = digin_b64url_decode(buf, in, 2);

        if (n != ((v & 0x0f) == 0 ? 1 : -1)) {
            print_error("\"Z%c\" decoded to %ld\n", in[1], n);
            failed++;

        } else if (n == 1 && buf[0] != (unsigned char) ((25 << 2) | (v >> 4)))
        {
            print_error("\"Z%c\" decoded to 0x%02x\n", in[1], buf[0]);
            failed++;
        }

        in[1] = 'm';
        in[2] = b64url_alphabet[v];
        n = digin_b64url_decode(buf, in, 3);

        if (n != ((v & 0x03) == 0 ? 2 : -1)) {
            print_error("\"Zm%c\" decoded to %ld\n", in[2], n);
            failed++;
        }
    }

    assert_int_equal(failed, 0);

    /* canonical: "Zg" is "f"; in a longer string too */
    assert_int_equal(digin_b64url_decode(buf, (const unsigned char *) "Zg",
                                         2), 1);
    assert_int_equal(buf[0], 'f');
    assert_int_equal(digin_b64url_decode(buf,
                                         (const unsigned char *) "Zm9vYg", 6),
                     4);
    assert_memory_equal(buf, "foob", 4);
}


/* every byte value outside the alphabet, at every position of a group */

static void
test_rejects_every_foreign_byte(void **state)
{
    size_t         c, pos, failed;
    unsigned char  in[4], buf[8];

    failed = 0;

    for (c = 0; c < 256; c++) {
        if (c != 0 && strchr(b64url_alphabet, (int) c) != NULL) {
            continue;
        }

        for (pos = 0; pos < 4; pos++) {
            memcpy(in, "QUFB", 4);      /* "AAA" */
            in[pos] = (unsigned char) c;

            if (digin_b64url_decode(buf, in, 4) != -1) {
                print_error("byte 0x%02zx at %zu accepted\n", c, pos);
                failed++;
            }
        }
    }

    assert_int_equal(failed, 0);
}


static void
test_empty(void **state)
{
    unsigned char  buf[4];

    assert_int_equal(digin_b64url_decode(buf, (const unsigned char *) "", 0),
                     0);
    assert_int_equal(digin_b64url_encode(buf, (const unsigned char *) "", 0),
                     0);
    assert_int_equal(digin_b64url_encoded_len(0), 0);
    assert_int_equal(digin_b64url_decoded_len(0), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_canonical_last_char),
        cmocka_unit_test(test_rejects_every_foreign_byte),
        cmocka_unit_test(test_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
