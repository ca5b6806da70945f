/*
 * Copyright (C) Digin gateway developers
 *
 * Entitlements: the operator's document (vendors, packages, libraries,
 * quotas, patrons), its validation, the Redis key layout that
 * digin-admin writes and the gateway reads, and the quota periods.
 * No nginx headers here.
 */


#ifndef _DIGIN_ENT_H_INCLUDED_
#define _DIGIN_ENT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>


/*
 * Redis key layout.  A load writes a whole new generation N under
 * "digin:N:", then switches DIGIN_KEY_GEN to N in one step, so that a
 * reader (a Lua script reading the generation and its keys at once)
 * never sees half of a document.  Counters, blocks and revocations live
 * outside generations and survive loads.
 *
 *   digin:gen                      current generation N
 *   digin:gen:next                 the last generation number handed
 *                                  out to a load (digin-admin only)
 *   digin:N:keys                   set: every key of generation N
 *   digin:N:vendor:<vendor>        hash: name, media ("ebook audio"),
 *                                  loan_cost
 *   digin:N:lib:<library>          hash: name, county, status
 *                                  ("active" | "suspended"), grants
 *                                  ("vendor/medium ..."), period_days,
 *                                  quota_ebook, quota_audio, budget,
 *                                  loan_days  (-1: no limit)
 *   digin:N:pat:<iss> <sub>        hash: library, blocked ("0" | "1")
 *   digin:block                    hash: "<iss> <sub>" -> unix time the
 *                                  operator blocked the patron
 *   digin:revoked:<jti>            "1", expiring with the token
 *   digin:loan:<iss> <sub>:<vendor>:<title>
 *                                  medium; expires with the loan period
 *   digin:quota:<iss> <sub>:<medium>:<period start>
 *                                  loans made in the period
 *   digin:loans:<iss> <sub>        hash: "vendor title" -> "vendor medium
 *                                  until",
 *                                  the patron's loans (for digin_whoami)
 *   digin:budget:<library>:<YYYY-MM>
 *                                  cost of the library's loans in the
 *                                  month (UTC)
 *
 * Invalidations are published on DIGIN_CHANNEL as "all <N>",
 * "patron <iss> <sub>" and "jti <jti>".
 */

#define DIGIN_KEY_GEN           "digin:gen"
#define DIGIN_KEY_GEN_NEXT      "digin:gen:next"  /* digin-admin only */
#define DIGIN_KEY_BLOCK         "digin:block"
#define DIGIN_KEY_REVOKED       "digin:revoked:"
#define DIGIN_KEY_LOAN          "digin:loan:"
#define DIGIN_KEY_QUOTA         "digin:quota:"
#define DIGIN_KEY_BUDGET        "digin:budget:"
#define DIGIN_KEY_LOANS         "digin:loans:"
#define DIGIN_CHANNEL           "digin:invalidate"

#define DIGIN_DEFAULT_PERIOD_DAYS   30
#define DIGIN_DEFAULT_LOAN_DAYS     21
#define DIGIN_DEFAULT_LOAN_COST     1
#define DIGIN_UNLIMITED             (-1)


typedef enum {
    DIGIN_MEDIUM_EBOOK = 0,
    DIGIN_MEDIUM_AUDIO,
    DIGIN_MEDIUM_MAX
} digin_medium_e;


/* "ebook" -> DIGIN_MEDIUM_EBOOK; -1 for anything else */
int digin_medium_by_name(const char *name, size_t len);
const char *digin_medium_name(digin_medium_e m);

/*
 * Quota periods are fixed windows of period_days days counted from the
 * Unix epoch (UTC), so every gateway and digin-admin agree on them
 * without talking.  *start is the window holding now, *reset its end.
 */
void digin_quota_period(time_t now, int period_days, time_t *start,
    time_t *reset);

/* the UTC calendar month of now as "YYYY-MM", and when it ends */
void digin_budget_month(time_t now, char month[8], time_t *reset);


/*
 * The entitlements document, one JSON file written by the operator:
 *
 *   {
 *     "version": 1,
 *     "vendors": {
 *       "<vendor>": { "name": "...", "media": ["ebook", "audio"],
 *                     "loan_cost": 1 }
 *     },
 *     "packages": {
 *       "<package>": { "name": "...", "vendors": ["<vendor>", ...],
 *                      "media": ["ebook"] }
 *     },
 *     "libraries": {
 *       "<library>": { "name": "...", "county": "...",
 *                      "status": "active" | "suspended",
 *                      "packages": ["<package>", ...],
 *                      "quota": { "period_days": 30, "ebook": 3,
 *                                 "audio": 2 },
 *                      "monthly_budget": 5000, "loan_days": 21 }
 *     },
 *     "patrons": {
 *       "<issuer>": { "<sub>": { "library": "<library>",
 *                                "blocked": false } }
 *     }
 *   }
 *
 * "version", "vendors", "packages" and "libraries" are required, as are
 * every "name", a vendor's "media", a package's "vendors" and a
 * patron's "library"; everything else is optional.  Unknown and
 * duplicate members are errors.  Patrons of a library may use vendor V
 * for medium M when one of the library's packages lists V, the
 * package's "media" (all media when absent) hold M and the vendor
 * offers M.
 */

#define DIGIN_ENT_ID_MAX        32      /* vendor and package ids */
#define DIGIN_ENT_GRANTS_MAX    1000    /* a library's grants, as stored */
#define DIGIN_ENT_NAME_MAX      200
#define DIGIN_ENT_ISSUER_MAX    255
#define DIGIN_ENT_COUNT_MAX     2147483647  /* quotas, budgets, costs */
#define DIGIN_ENT_PERIOD_MAX    366
#define DIGIN_ENT_LOAN_DAYS_MAX 365
#define DIGIN_ENT_ERRORS        20      /* reported at most, one a line */
#define DIGIN_ENT_ERRLEN        4096    /* enough for DIGIN_ENT_ERRORS */

#define DIGIN_MEDIUM_BIT(m)     (1u << (m))
#define DIGIN_MEDIA_ALL         ((1u << DIGIN_MEDIUM_MAX) - 1)


/* strings point into the parsed document and live as long as it */

typedef struct {
    const char          *id;
    const char          *name;
    unsigned             media;           /* DIGIN_MEDIUM_BIT() set */
    int64_t              loan_cost;
} digin_ent_vendor_t;


typedef struct {
    const char          *id;
    const char          *name;
    size_t              *vendors;         /* indexes into doc->vendors */
    size_t               nvendors;
    unsigned             media;           /* DIGIN_MEDIA_ALL: no narrowing */
} digin_ent_package_t;


typedef struct {
    const char          *id;
    const char          *name;
    const char          *county;          /* "" when absent */
    int                  suspended;
    size_t              *packages;        /* indexes into doc->packages */
    size_t               npackages;
    int                  period_days;
    int64_t              quota[DIGIN_MEDIUM_MAX];   /* DIGIN_UNLIMITED */
    int64_t              budget;          /* DIGIN_UNLIMITED: none */
    int                  loan_days;
} digin_ent_library_t;


typedef struct {
    const char          *issuer;
    const char          *sub;
    size_t               library;         /* index into doc->libraries */
    int                  blocked;
} digin_ent_patron_t;


typedef struct {
    digin_ent_vendor_t  *vendors;         /* in document order */
    size_t               nvendors;
    digin_ent_package_t *packages;
    size_t               npackages;
    digin_ent_library_t *libraries;
    size_t               nlibraries;
    digin_ent_patron_t  *patrons;
    size_t               npatrons;
    void                *json;            /* the parsed text */
} digin_ent_doc_t;


/*
 * Parses and validates a whole document.  On error returns NULL with
 * err holding up to DIGIN_ENT_ERRORS lines (no final newline), each
 * "<path>: <reason>", e.g. 'libraries["0301"].quota.ebook: expected a
 * non-negative integer', or "line L, column C: <reason>" for a syntax
 * error; a last line "(N more errors)" when there were more.
 */
digin_ent_doc_t *digin_ent_parse(const char *data, size_t len, char *err,
    size_t errlen);
void digin_ent_free(digin_ent_doc_t *doc);

/* the library with that id, or NULL */
const digin_ent_library_t *digin_ent_library(const digin_ent_doc_t *doc,
    const char *id);

/* 1 when the library's patrons may use the vendor for the medium */
int digin_ent_allows(const digin_ent_doc_t *doc,
    const digin_ent_library_t *lib, const char *vendor, digin_medium_e m);

/*
 * The library's grants as the "grants" field stores them: distinct
 * "vendor/medium" pairs sorted by byte value, joined by single spaces;
 * "" for none.  A new string for free(), NULL when out of memory.
 */
char *digin_ent_grants(const digin_ent_doc_t *doc,
    const digin_ent_library_t *lib);

/*
 * A media set as the "media" field stores it ("ebook audio", in
 * digin_medium_e order) into buf; returns the length, or the length
 * needed (as snprintf) when len is too small.
 */
size_t digin_ent_media_text(unsigned media, char *buf, size_t len);

/* the id and claim rules of the document, for arguments of the tools */
int digin_ent_vendor_id_ok(const char *s, size_t len);
int digin_ent_library_id_ok(const char *s, size_t len);
int digin_ent_issuer_ok(const char *s, size_t len);
int digin_ent_patron_ok(const char *s, size_t len);


#endif /* _DIGIN_ENT_H_INCLUDED_ */
