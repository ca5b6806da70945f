/*
 * Copyright (C) Digin gateway developers
 *
 * What the libFuzzer targets share: reading the fixed keys of
 * tests/fuzz/keys/ (DIGIN_FUZZ_KEYS, set by the Makefile) once, and
 * stopping with a message when an invariant does not hold (libFuzzer
 * then keeps the input as a crash).
 */


#ifndef _DIGIN_FUZZ_COMMON_H_INCLUDED_
#define _DIGIN_FUZZ_COMMON_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#ifndef DIGIN_FUZZ_KEYS
#define DIGIN_FUZZ_KEYS  "tests/fuzz/keys"
#endif


#define fz_check(cond)                                                       \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,       \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)


/* a file of tests/fuzz/keys/ as a new NUL-terminated string */

static inline char *
fz_key_file(const char *name, size_t *len)
{
    char    path[512];
    long    n;
    FILE   *f;
    char   *data;

    snprintf(path, sizeof(path), "%s/%s", DIGIN_FUZZ_KEYS, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }

    data = malloc((size_t) n + 1);
    if (data == NULL || fread(data, 1, (size_t) n, f) != (size_t) n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }

    fclose(f);
    data[n] = '\0';

    if (len != NULL) {
        *len = (size_t) n;
    }

    return data;
}


#endif /* _DIGIN_FUZZ_COMMON_H_INCLUDED_ */
