/*
 * Copyright (C) Digin gateway developers
 *
 * ngx_http_digin_module: configuration and request state shared by the
 * module's glue files.
 */


#ifndef _NGX_HTTP_DIGIN_MODULE_H_INCLUDED_
#define _NGX_HTTP_DIGIN_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "digin_assert.h"
#include "digin_grant.h"
#include "digin_jwt.h"
#include "ngx_http_digin_redis.h"


/* how often each worker looks for replaced key files */
#define NGX_HTTP_DIGIN_KEYS_CHECK  2000


typedef struct ngx_http_digin_memo_s  ngx_http_digin_memo_t;


typedef struct {
    digin_issuer_t             issuer;
    ngx_str_t                  path;         /* jwks= or key= file */
    unsigned                   jwks:1;
    char                      *kid;          /* key= only; NULL if none */
    struct stat                st;           /* the file as last loaded */
} ngx_http_digin_issuer_t;


typedef struct {
    ngx_array_t                issuers;      /* ngx_http_digin_issuer_t */
    digin_trust_t              trust;
    time_t                     leeway;
    size_t                     max_size;
    ngx_shm_zone_t            *shm_zone;
    /* digest of everything the trust decision depends on */
    u_char                     trust_id[32];
    EVP_MD                    *sha256;       /* fetched once */
    EVP_MD_CTX                *digest;       /* this worker's, reused */
    ngx_http_digin_memo_t     *memo;         /* this worker's */
    ngx_event_t                keys_check;

    /* entitlements */
    ngx_http_digin_redis_conf_t  *redis;          /* reads */
    ngx_http_digin_redis_conf_t  *redis_primary;  /* loan counters */
    time_t                     cache_ttl;
    time_t                     negative_ttl;
    time_t                     stale_ttl;
    ngx_http_digin_redis_t    *rd_read;      /* this worker's */
    ngx_http_digin_redis_t    *rd_write;
    ngx_http_digin_redis_t    *rd_sub;
    ngx_queue_t                flights;      /* this worker's lookups */

    /* toward vendors */
    digin_pseudonym_key_t     *pseudonym_key;
    ngx_str_t                  assertion_issuer;   /* NUL-terminated */
    ngx_array_t                signers;      /* ngx_http_digin_signer_t */
} ngx_http_digin_main_conf_t;


typedef struct {
    ngx_str_t                  vendor;
    digin_signer_t            *signer;
    time_t                     ttl;
} ngx_http_digin_signer_t;


/* a lookup in flight; id: issuer, patron, library claim, jti */
typedef struct {
    ngx_queue_t                queue;        /* in flights */
    u_char                     key[32];
    ngx_queue_t                waiters;      /* ctx->flight */
    ngx_http_digin_main_conf_t  *dmcf;
    ngx_str_t                  id[4];
} ngx_http_digin_flight_t;


#define NGX_HTTP_DIGIN_FAIL_DENY   0
#define NGX_HTTP_DIGIN_FAIL_STALE  1


/* where a directive was written, for the errors found when merging */
typedef struct {
    u_char                    *file;         /* NULL: not written here */
    ngx_uint_t                 line;
} ngx_http_digin_conf_at_t;


typedef struct {
    ngx_flag_t                 enable;
    ngx_str_t                  cookie;
    ngx_uint_t                 failure;
    ngx_str_t                  vendor;       /* digin_vendor */
    ngx_int_t                  medium;       /* -1: any */
    ngx_flag_t                 loan;         /* digin_loan */
    ngx_http_complex_value_t  *loan_title;
    ngx_int_t                  loan_medium;  /* -1: from the vendor */
    ngx_flag_t                 whoami;
    ngx_flag_t                 strip;
    ngx_http_digin_signer_t   *signer;       /* for digin_vendor */
    ngx_http_digin_conf_at_t   on_at;        /* digin, or inherited */
    ngx_http_digin_conf_at_t   use_at;       /* digin_vendor, digin_whoami */
    ngx_http_digin_conf_at_t   loan_at;      /* digin_loan */
} ngx_http_digin_loc_conf_t;


typedef enum {
    NGX_HTTP_DIGIN_START = 0,
    NGX_HTTP_DIGIN_TOKEN,        /* token verified */
    NGX_HTTP_DIGIN_WAIT,         /* a Redis reply is awaited */
    NGX_HTTP_DIGIN_ENTITLED,     /* entitlement answer in hand */
    NGX_HTTP_DIGIN_LOANED,       /* loan counted (or refused) */
    NGX_HTTP_DIGIN_DONE
} ngx_http_digin_state_e;


typedef struct {
    digin_result_e             result;
    ngx_http_digin_state_e     state;
    ngx_str_t                  issuer;
    ngx_str_t                  patron;
    ngx_str_t                  library;       /* the token's claim */
    ngx_str_t                  jti;
    ngx_http_request_t        *request;
    ngx_http_digin_redis_cmd_t  *cmd;
    ngx_queue_t                flight;       /* waiting for a lookup */
    unsigned                   in_flight:1;
    unsigned                   cleanup_set:1;
    unsigned                   redis_failed:1;
    unsigned                   stale:1;
    /* the entitlement answer */
    digin_patron_t             who;
    digin_library_t            lib;
    u_char                    *lib_data;      /* lib's strings */
    /* the loan */
    ngx_str_t                  pseudonym;     /* computed when asked */
    int64_t                    loan_used;
    int64_t                    loan_limit;
    time_t                     loan_reset;
    int64_t                    budget_spent;
    int64_t                    budget_limit;
    time_t                     budget_reset;
    ngx_int_t                  loan_medium;
} ngx_http_digin_ctx_t;


extern ngx_module_t  ngx_http_digin_module;


/*
 * SHA-256 over n parts, each followed by a NUL so that parts cannot run
 * into one another: the keys of digin_zone.
 */
ngx_int_t ngx_http_digin_digest(ngx_http_digin_main_conf_t *dmcf,
    ngx_str_t *parts, ngx_uint_t n, u_char *key);

/* sends b as an application/json response; for ngx_http_finalize_request */
ngx_int_t ngx_http_digin_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b);


#endif /* _NGX_HTTP_DIGIN_MODULE_H_INCLUDED_ */
