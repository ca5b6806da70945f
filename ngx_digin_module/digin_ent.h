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
 *   digin:loan:<iss> <sub>:<title> medium; expires with the loan period
 *   digin:quota:<iss> <sub>:<medium>:<period start>
 *                                  loans made in the period
 *   digin:budget:<library>:<YYYY-MM>
 *                                  cost of the library's loans in the
 *                                  month (UTC)
 *
 * Invalidations are published on DIGIN_CHANNEL as "all <N>",
 * "patron <iss> <sub>" and "jti <jti>".
 */

#define DIGIN_KEY_GEN           "digin:gen"
#define DIGIN_KEY_BLOCK         "digin:block"
#define DIGIN_KEY_REVOKED       "digin:revoked:"
#define DIGIN_KEY_LOAN          "digin:loan:"
#define DIGIN_KEY_QUOTA         "digin:quota:"
#define DIGIN_KEY_BUDGET        "digin:budget:"
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


#endif /* _DIGIN_ENT_H_INCLUDED_ */
