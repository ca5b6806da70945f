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


#endif /* _DIGIN_GRANT_H_INCLUDED_ */
