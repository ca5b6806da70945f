/*
 * Copyright (C) Digin gateway developers
 *
 * Who may use what: a library's record as the gateway reads it from
 * Redis, and the decision for one patron, vendor and medium.  No nginx
 * headers here.
 */


#ifndef _DIGIN_GRANT_H_INCLUDED_
#define _DIGIN_GRANT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "digin_ent.h"
#include "digin_jwt.h"


typedef struct {
    const char      *s;
    size_t           len;
} digin_str_t;


/* a library as the lookup script returns it; strings point into it */
typedef struct {
    unsigned         found:1;
    unsigned         suspended:1;
    digin_str_t      id;
    digin_str_t      name;
    digin_str_t      county;
    digin_str_t      grants;            /* "vendor/medium ..." */
    int64_t          period_days;
    int64_t          quota[DIGIN_MEDIUM_MAX];   /* DIGIN_UNLIMITED: none */
    int64_t          budget;
    int64_t          loan_days;
} digin_library_t;


/* what stands against a patron, besides the library */
typedef struct {
    unsigned         revoked:1;         /* the token's jti */
    unsigned         blocked:1;         /* document or operator */
} digin_patron_t;


/*
 * Does the grants list let the library's patrons use vendor for medium
 * (or, with medium -1, for any medium)?
 */
int digin_grants_allow(digin_str_t *grants, digin_str_t *vendor,
    int medium);

/* the media granted for vendor, as DIGIN_MEDIUM bits */
unsigned digin_grants_media(digin_str_t *grants, digin_str_t *vendor);

/*
 * The decision, most specific refusal first: a revoked token, a blocked
 * patron, an unknown library, a suspended library, no grant.  With an
 * empty vendor only the first four are checked.
 */
digin_result_e digin_grant_decide(digin_patron_t *patron,
    digin_library_t *lib, digin_str_t *vendor, int medium);

/* an integer field ("-1", "30"); def when empty or invalid */
int64_t digin_grant_number(const char *s, size_t len, int64_t def);


/*
 * The answer of the gateway's lookup script (ngx_http_digin_ent.c):
 * DIGIN_LOOKUP_FIELDS strings in this order.
 */
typedef enum {
    DIGIN_LOOKUP_GEN = 0,
    DIGIN_LOOKUP_PAT_FOUND,
    DIGIN_LOOKUP_PAT_LIBRARY,
    DIGIN_LOOKUP_PAT_BLOCKED,
    DIGIN_LOOKUP_OP_BLOCKED,
    DIGIN_LOOKUP_REVOKED,
    DIGIN_LOOKUP_LIB_ID,
    DIGIN_LOOKUP_LIB_FOUND,
    DIGIN_LOOKUP_LIB_STATUS,
    DIGIN_LOOKUP_LIB_COUNTY,
    DIGIN_LOOKUP_LIB_NAME,
    DIGIN_LOOKUP_LIB_GRANTS,
    DIGIN_LOOKUP_LIB_PERIOD,
    DIGIN_LOOKUP_LIB_QUOTA_EBOOK,
    DIGIN_LOOKUP_LIB_QUOTA_AUDIO,
    DIGIN_LOOKUP_LIB_BUDGET,
    DIGIN_LOOKUP_LIB_LOAN_DAYS,
    DIGIN_LOOKUP_FIELDS
} digin_lookup_field_e;

/* the longest field accepted: a library's grants, which the loader keeps
   within this */
#define DIGIN_LOOKUP_FIELD_MAX  DIGIN_ENT_GRANTS_MAX


/*
 * A checked answer.  The cache keeps it as two values that can be
 * invalidated apart: the patron's (found, blocked, the library of the
 * record) and the library's (its fields, each with a two-byte length).
 */
typedef struct {
    digin_str_t      gen;
    digin_str_t      library;           /* the library looked up, or "" */
    unsigned         patron_found:1;
    unsigned         library_found:1;
    unsigned         revoked:1;
    size_t           plen;              /* bytes of the patron's value */
    size_t           llen;              /* of the library's, 0: none */
} digin_lookup_t;


/*
 * Checks an answer, given as its n elements (s is NULL for an element
 * that is not a string), and writes the patron's value into pv and the
 * library's into lv, each of size bytes.  Returns 0, or -1 when the
 * answer does not have the script's shape or a value would not fit.
 */
int digin_lookup_parse(const digin_str_t *f, size_t n, digin_lookup_t *lk,
    unsigned char *pv, unsigned char *lv, size_t size);

/* a patron's value: blocked, and the library of the record; 0 or -1 */
int digin_lookup_patron(const unsigned char *v, size_t len,
    unsigned *blocked, digin_str_t *library);

/* a library's value into lib, whose strings then point into v; 0 or -1 */
int digin_lookup_library(const unsigned char *v, size_t len,
    digin_library_t *lib);


#endif /* _DIGIN_GRANT_H_INCLUDED_ */
