/*
 * Copyright (C) Digin gateway developers
 */


#include "digin_b64.h"


static const unsigned char  digin_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for the alphabet, 0xff for everything else */
static const unsigned char  digin_b64url_values[256] = {
#define X 0xff
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X
#undef X
};


long
digin_b64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    size_t          i;
    unsigned char  *d;
    unsigned int    acc, v;

    if (len % 4 == 1) {
        return -1;
    }

    d = dst;
    acc = 0;

    for (i = 0; i < len; i++) {
        v = digin_b64url_values[src[i]];

        if (v == 0xff) {
            return -1;
        }

        acc = (acc << 6) | v;

        if (i % 4 == 3) {
            *d++ = (unsigned char) (acc >> 16);
            *d++ = (unsigned char) (acc >> 8);
            *d++ = (unsigned char) acc;
            acc = 0;
        }
    }

    switch (len % 4) {

    case 2:
        if (acc & 0x0f) {
            return -1;
        }

        *d++ = (unsigned char) (acc >> 4);
        break;

    case 3:
        if (acc & 0x03) {
            return -1;
        }

        *d++ = (unsigned char) (acc >> 10);
        *d++ = (unsigned char) (acc >> 2);
        break;
    }

    return (long) (d - dst);
}


size_t
digin_b64url_encode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    unsigned char  *d;

    d = dst;

    while (len > 2) {
        *d++ = digin_b64url_alphabet[src[0] >> 2];
        *d++ = digin_b64url_alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = digin_b64url_alphabet[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = digin_b64url_alphabet[src[2] & 0x3f];

        src += 3;
        len -= 3;
    }

    if (len) {
        *d++ = digin_b64url_alphabet[src[0] >> 2];

        if (len == 1) {
            *d++ = digin_b64url_alphabet[(src[0] & 0x03) << 4];

        } else {
            *d++ = digin_b64url_alphabet[((src[0] & 0x03) << 4)
                                         | (src[1] >> 4)];
            *d++ = digin_b64url_alphabet[(src[1] & 0x0f) << 2];
        }
    }

    return (size_t) (d - dst);
}
