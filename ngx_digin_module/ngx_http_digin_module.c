/*
 * Copyright (C) Digin gateway developers
 *
 * ngx_http_digin_module: patron token verification in the access phase.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "digin_ent.h"
#include "digin_jwt.h"
#include "ngx_http_digin_cache.h"
#include "ngx_http_digin_ent.h"
#include "ngx_http_digin_module.h"
#include "ngx_http_digin_redis.h"
#include "ngx_http_digin_vendor.h"


/* bytes of a key set's fingerprint kept with a cached token */
#define NGX_HTTP_DIGIN_FP_LEN  8

/* digests a worker remembers: of short inputs, and of long ones */
#define NGX_HTTP_DIGIN_MEMO_SHORT      512
#define NGX_HTTP_DIGIN_MEMO_SHORT_MAX  128
#define NGX_HTTP_DIGIN_MEMO_LONG       128
#define NGX_HTTP_DIGIN_JOIN_MAX        1152    /* tokens of up to 1 KiB */


static ngx_int_t ngx_http_digin_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_digin_token(ngx_http_request_t *r,
    ngx_http_digin_loc_conf_t *dlcf, ngx_str_t *token);
static ngx_int_t ngx_http_digin_verify(ngx_http_request_t *r,
    ngx_http_digin_main_conf_t *dmcf, ngx_str_t *token,
    ngx_http_digin_ctx_t *ctx);
static ngx_int_t ngx_http_digin_cache_key(ngx_http_digin_main_conf_t *dmcf,
    ngx_str_t *token, u_char *key);
static ngx_int_t ngx_http_digin_set_identity(ngx_http_request_t *r,
    ngx_http_digin_main_conf_t *dmcf, ngx_http_digin_ctx_t *ctx,
    ngx_uint_t issuer, ngx_str_t *id);
static ngx_int_t ngx_http_digin_deny(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx);
static ngx_uint_t ngx_http_digin_status_of(digin_result_e rc);
static void ngx_http_digin_count(ngx_http_digin_main_conf_t *dmcf,
    digin_result_e rc);
static ngx_uint_t ngx_http_digin_has_error_page(ngx_http_request_t *r,
    ngx_uint_t status);

static ngx_int_t ngx_http_digin_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_digin_result_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_digin_county_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_digin_quota_left_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

static void ngx_http_digin_keys_check(ngx_event_t *ev);
static ngx_int_t ngx_http_digin_load_keys(ngx_log_t *log,
    ngx_http_digin_issuer_t *di, char *err, size_t errlen);
static void ngx_http_digin_cleanup_keys(void *data);
static void ngx_http_digin_cleanup_md(void *data);

static ngx_int_t ngx_http_digin_add_variables(ngx_conf_t *cf);
static void *ngx_http_digin_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_digin_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_digin_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_digin_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void ngx_http_digin_conf_at(ngx_conf_t *cf,
    ngx_http_digin_conf_at_t *at);
static void ngx_cdecl ngx_http_digin_merge_error(ngx_conf_t *cf,
    ngx_http_digin_conf_at_t *at, const char *fmt, ...);
static char *ngx_http_digin_enable(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_digin_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_digin_issuer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_digin_issuer_algorithms(ngx_conf_t *cf,
    ngx_http_digin_issuer_t *di, ngx_str_t *list);
static char *ngx_http_digin_cstr(ngx_conf_t *cf, ngx_str_t *s);
static char *ngx_http_digin_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_digin_cache_ttl(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_digin_vendor(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_digin_loan(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_digin_handler_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_digin_medium_param(ngx_conf_t *cf,
    ngx_str_t *value, ngx_int_t *medium);
static ngx_int_t ngx_http_digin_read_secret(ngx_conf_t *cf, ngx_str_t *path,
    ngx_str_t *out);
static ngx_int_t ngx_http_digin_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_digin_init_process(ngx_cycle_t *cycle);
static void ngx_http_digin_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_digin_failure[] = {
    { ngx_string("deny"), NGX_HTTP_DIGIN_FAIL_DENY },
    { ngx_string("stale"), NGX_HTTP_DIGIN_FAIL_STALE },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_digin_commands[] = {

    { ngx_string("digin_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_digin_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("digin_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_digin_issuer,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("digin_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_digin_main_conf_t, leeway),
      NULL },

    { ngx_string("digin_token_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_digin_main_conf_t, max_size),
      NULL },

    { ngx_string("digin_token_cookie"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_digin_loc_conf_t, cookie),
      NULL },

    { ngx_string("digin"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_digin_enable,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_digin_loc_conf_t, enable),
      NULL },

    { ngx_string("digin_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_digin_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_digin_main_conf_t, redis),
      NULL },

    { ngx_string("digin_redis_primary"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_digin_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_digin_main_conf_t, redis_primary),
      NULL },

    { ngx_string("digin_cache_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_digin_cache_ttl,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("digin_redis_failure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_digin_loc_conf_t, failure),
      &ngx_http_digin_failure },

    { ngx_string("digin_vendor"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_digin_vendor,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("digin_loan"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE12,
      ngx_http_digin_loan,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("digin_whoami"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_digin_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("digin_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_digin_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("digin_pseudonym_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_digin_pseudonym_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("digin_vendor_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_digin_vendor_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("digin_assertion_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_digin_main_conf_t, assertion_issuer),
      NULL },

    { ngx_string("digin_strip_credentials"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_digin_loc_conf_t, strip),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_digin_module_ctx = {
    ngx_http_digin_add_variables,          /* preconfiguration */
    ngx_http_digin_init,                   /* postconfiguration */

    ngx_http_digin_create_main_conf,       /* create main configuration */
    ngx_http_digin_init_main_conf,         /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_digin_create_loc_conf,        /* create location configuration */
    ngx_http_digin_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_digin_module = {
    NGX_MODULE_V1,
    &ngx_http_digin_module_ctx,            /* module context */
    ngx_http_digin_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_digin_init_process,           /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_digin_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_digin_vars[] = {

    { ngx_string("digin_result"), NULL, ngx_http_digin_result_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("digin_issuer"), NULL, ngx_http_digin_variable,
      offsetof(ngx_http_digin_ctx_t, issuer), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("digin_patron"), NULL, ngx_http_digin_variable,
      offsetof(ngx_http_digin_ctx_t, patron), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("digin_library"), NULL, ngx_http_digin_variable,
      offsetof(ngx_http_digin_ctx_t, library), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("digin_county"), NULL, ngx_http_digin_county_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("digin_quota_left"), NULL,
      ngx_http_digin_quota_left_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("digin_pseudonym"), NULL, ngx_http_digin_pseudonym_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("digin_vendor_token"), NULL,
      ngx_http_digin_vendor_token_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_digin_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    token;
    digin_str_t                  vendor;
    ngx_http_digin_ctx_t        *ctx;
    ngx_http_digin_loc_conf_t   *dlcf;
    ngx_http_digin_main_conf_t  *dmcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_digin_module);

    if (!dlcf->enable) {
        return NGX_DECLINED;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_digin_module);

    ctx = ngx_http_get_module_ctx(r, ngx_http_digin_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_digin_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_digin_module);
    }

    /*
     * The handler runs again each time Redis answers: ctx->state says
     * how far the request got.
     */

    switch (ctx->state) {

    case NGX_HTTP_DIGIN_START:

        if (ngx_http_digin_token(r, dlcf, &token) != NGX_OK) {
            ctx->result = DIGIN_TOKEN_MISSING;

        } else if (ngx_http_digin_verify(r, dmcf, &token, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ctx->result != DIGIN_OK) {
            goto deny;
        }

        ctx->state = NGX_HTTP_DIGIN_TOKEN;

        /* fall through */

    case NGX_HTTP_DIGIN_TOKEN:

        if (dlcf->vendor.len == 0 && !dlcf->whoami) {
            goto done;
        }

        rc = ngx_http_digin_ent_lookup(r, dmcf, dlcf, ctx);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_DECLINED) {
            goto deny;
        }

        /* fall through */

    case NGX_HTTP_DIGIN_ENTITLED:

        if (dlcf->whoami) {
            /* a blocked patron may still see why */
            ctx->result = ctx->who.revoked ? DIGIN_TOKEN_REVOKED : DIGIN_OK;

        } else {
            vendor.s = (const char *) dlcf->vendor.data;
            vendor.len = dlcf->vendor.len;

            ctx->result = digin_grant_decide(&ctx->who, &ctx->lib, &vendor,
                                             dlcf->medium);
        }

        if (ctx->result != DIGIN_OK) {
            goto deny;
        }

        if (!dlcf->loan) {
            goto done;
        }

        rc = ngx_http_digin_ent_loan(r, dmcf, dlcf, ctx);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        goto deny;

    case NGX_HTTP_DIGIN_WAIT:
        return NGX_AGAIN;

    case NGX_HTTP_DIGIN_LOANED:
    case NGX_HTTP_DIGIN_DONE:

        if (ctx->result != DIGIN_OK) {
            goto deny;
        }

        goto done;
    }

done:

    if (ctx->state != NGX_HTTP_DIGIN_DONE) {
        ctx->state = NGX_HTTP_DIGIN_DONE;
        ngx_http_digin_count(dmcf, ctx->result);

        if (dlcf->strip
            && ngx_http_digin_strip_credentials(r, dlcf) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_OK;

deny:

    ctx->state = NGX_HTTP_DIGIN_DONE;
    ngx_http_digin_count(dmcf, ctx->result);

    /* under "satisfy any" another module may still let the request in */
    if (dlcf->strip && ngx_http_digin_strip_credentials(r, dlcf) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* what the client did wrong, never what the token said */
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "digin: access denied: %s",
                  digin_result_name(ctx->result));

    return ngx_http_digin_deny(r, ctx);
}


static void
ngx_http_digin_count(ngx_http_digin_main_conf_t *dmcf, digin_result_e rc)
{
    if (dmcf->shm_zone != NULL) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_digin_cache_stats(dmcf->shm_zone)->results[rc],
                   1);
    }
}


/*
 * The token from "Authorization: Bearer", else from the configured
 * cookie.  Query arguments are never read: they end up in logs and in
 * Referer headers.
 */

static ngx_int_t
ngx_http_digin_token(ngx_http_request_t *r, ngx_http_digin_loc_conf_t *dlcf,
    ngx_str_t *token)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h != NULL && h->value.len > sizeof("Bearer ") - 1
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) == 0)
    {
        p = h->value.data + sizeof("Bearer ") - 1;
        last = h->value.data + h->value.len;

        while (p < last && *p == ' ') {
            p++;
        }

        while (last > p && last[-1] == ' ') {
            last--;
        }

        if (p < last) {
            token->data = p;
            token->len = last - p;
            return NGX_OK;
        }
    }

    if (dlcf->cookie.len
        && ngx_http_parse_multi_header_lines(&r->headers_in.cookies,
                                             &dlcf->cookie, token)
           != NGX_DECLINED
        && token->len)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * Sets ctx->result, and the identity when the token is good: from the
 * cache when the token was verified before, else by a full check.
 * NGX_ERROR only for a failure of the gateway itself.
 *
 * A cached token holds the first bytes of its issuer's key set
 * fingerprint, the issuer's index, and the lengths and bytes of the
 * patron, library and jti claims.
 */

static ngx_int_t
ngx_http_digin_verify(ngx_http_request_t *r, ngx_http_digin_main_conf_t *dmcf,
    ngx_str_t *token, ngx_http_digin_ctx_t *ctx)
{
    u_char                    key[NGX_HTTP_DIGIN_KEY_LEN];
    u_char                    value[NGX_HTTP_DIGIN_VALUE_MAX], *p;
    size_t                    len;
    time_t                    now, expire;
    ngx_str_t                 id[3];
    ngx_uint_t                idx, i;
    digin_claims_t            claims;
    ngx_http_digin_issuer_t  *issuers;

    if (token->len > dmcf->max_size) {
        ctx->result = DIGIN_TOKEN_TOO_LARGE;
        return NGX_OK;
    }

    issuers = dmcf->issuers.elts;
    now = ngx_time();

    if (dmcf->shm_zone != NULL) {
        if (ngx_http_digin_cache_key(dmcf, token, key) != NGX_OK) {
            return NGX_ERROR;
        }

        /* a token is never used past its expiry: no stale answers here */
        if (ngx_http_digin_cache_get(dmcf->shm_zone, key, now, value, &len)
            == NGX_OK
            && len >= NGX_HTTP_DIGIN_FP_LEN + 5)
        {
            idx = value[NGX_HTTP_DIGIN_FP_LEN]
                  | (value[NGX_HTTP_DIGIN_FP_LEN + 1] << 8);
            p = value + NGX_HTTP_DIGIN_FP_LEN + 5;

            for (i = 0; i < 3; i++) {
                id[i].len = value[NGX_HTTP_DIGIN_FP_LEN + 2 + i];
                id[i].data = p;
                p += id[i].len;
            }

            /* a hit counts only while the issuer's keys are unchanged */
            if (idx < dmcf->issuers.nelts
                && ngx_memcmp(value, issuers[idx].issuer.keys->fingerprint,
                              NGX_HTTP_DIGIN_FP_LEN) == 0
                && (size_t) (p - value) == len)
            {
                ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "digin: token cache hit");

                ctx->result = DIGIN_OK;

                return ngx_http_digin_set_identity(r, dmcf, ctx, idx, id);
            }
        }
    }

    ctx->result = digin_jwt_verify(&dmcf->trust, token->data, token->len,
                                   now, &claims);

    if (ctx->result != DIGIN_OK) {
        return NGX_OK;
    }

    id[0].data = (u_char *) claims.patron;
    id[1].data = (u_char *) claims.library;
    id[2].data = (u_char *) claims.jti;

    for (i = 0; i < 3; i++) {
        id[i].len = ngx_strlen(id[i].data);
    }

    if (ngx_http_digin_set_identity(r, dmcf, ctx, claims.issuer, id)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (dmcf->shm_zone != NULL) {
        p = ngx_cpymem(value, issuers[claims.issuer].issuer.keys->fingerprint,
                       NGX_HTTP_DIGIN_FP_LEN);
        *p++ = (u_char) (claims.issuer & 0xff);
        *p++ = (u_char) (claims.issuer >> 8);

        for (i = 0; i < 3; i++) {
            *p++ = (u_char) id[i].len;
        }

        for (i = 0; i < 3; i++) {
            p = ngx_cpymem(p, id[i].data, id[i].len);
        }

        /* valid for as long as the leeway lets the token live */
        expire = (time_t) (claims.exp + dmcf->leeway);

        (void) ngx_http_digin_cache_put(dmcf->shm_zone, key, now, expire,
                                        expire, value, p - value);
    }

    ngx_explicit_memzero(&claims, sizeof(digin_claims_t));

    return NGX_OK;
}


/*
 * The token's key: SHA-256 over the trust configuration's digest and
 * the whole token, collision resistant, and a reload that changes whom
 * we trust cannot reuse an answer cached under the old configuration.
 */

static ngx_int_t
ngx_http_digin_cache_key(ngx_http_digin_main_conf_t *dmcf, ngx_str_t *token,
    u_char *key)
{
    ngx_str_t  parts[2];

    parts[0].data = dmcf->trust_id;
    parts[0].len = sizeof(dmcf->trust_id);
    parts[1] = *token;

    return ngx_http_digin_digest(dmcf, parts, 2, key);
}


/*
 * A worker hashes the same inputs again and again: a patron's browser
 * sends the same token with each request, and each request asks for the
 * same patron's, library's and assertion's answers.  Hashing is most of
 * what a cached request costs, so the digests of the last inputs are
 * remembered: in two tables, of short inputs (the answers' keys) and of
 * long ones (tokens), placed by a cheap hash and compared whole.
 * Nothing in them can go stale: all an input means is in its bytes (the
 * zone's epoch, the trust configuration's id).
 */

typedef struct {
    size_t                        len;
    u_char                        key[NGX_HTTP_DIGIN_KEY_LEN];
    u_char                        input[1];     /* of max bytes */
} ngx_http_digin_memo_slot_t;


typedef struct {
    ngx_uint_t                    slots;
    size_t                        max;
    size_t                        size;         /* of a slot */
    u_char                       *start;
} ngx_http_digin_memo_table_t;


struct ngx_http_digin_memo_s {
    ngx_http_digin_memo_table_t   tables[2];
};


static ngx_http_digin_memo_t *
ngx_http_digin_memo_create(void)
{
    size_t                        size[2];
    u_char                       *p;
    ngx_uint_t                    i;
    ngx_http_digin_memo_t        *memo;
    ngx_http_digin_memo_table_t  *t;
    static const ngx_uint_t       slots[2] = { NGX_HTTP_DIGIN_MEMO_SHORT,
                                               NGX_HTTP_DIGIN_MEMO_LONG };
    static const size_t           max[2] = { NGX_HTTP_DIGIN_MEMO_SHORT_MAX,
                                             NGX_HTTP_DIGIN_JOIN_MAX };

    for (i = 0; i < 2; i++) {
        size[i] = ngx_align(offsetof(ngx_http_digin_memo_slot_t, input)
                            + max[i], sizeof(size_t));
    }

    p = ngx_calloc(sizeof(ngx_http_digin_memo_t) + slots[0] * size[0]
                   + slots[1] * size[1], ngx_cycle->log);
    if (p == NULL) {
        return NULL;
    }

    memo = (ngx_http_digin_memo_t *) p;
    p += sizeof(ngx_http_digin_memo_t);

    for (i = 0; i < 2; i++) {
        t = &memo->tables[i];
        t->slots = slots[i];
        t->max = max[i];
        t->size = size[i];
        t->start = p;
        p += slots[i] * size[i];
    }

    return memo;
}


static ngx_http_digin_memo_slot_t *
ngx_http_digin_memo_slot(ngx_http_digin_memo_t *memo, u_char *input,
    size_t len)
{
    size_t                        n;
    uint32_t                      hash;
    ngx_http_digin_memo_table_t  *t;

    t = &memo->tables[len > memo->tables[0].max];

    if (len > t->max) {
        return NULL;
    }

    /* a short input whole; of a token, its signature's last bytes */
    n = (t == &memo->tables[0]) ? len : 32;
    hash = ngx_murmur_hash2(input + len - n, n) ^ (uint32_t) len;

    return (ngx_http_digin_memo_slot_t *)
               (t->start + (hash % t->slots) * t->size);
}


ngx_int_t
ngx_http_digin_digest(ngx_http_digin_main_conf_t *dmcf, ngx_str_t *parts,
    ngx_uint_t n, u_char *key)
{
    u_char                      *p, *last;
    u_char                       buf[NGX_HTTP_DIGIN_JOIN_MAX];
    ngx_int_t                    rc;
    ngx_uint_t                   i;
    EVP_MD_CTX                  *md;
    ngx_http_digin_memo_slot_t  *slot;

    /* one context per worker, initialised again for each digest */
    if (dmcf->digest == NULL) {
        dmcf->digest = EVP_MD_CTX_new();
        if (dmcf->digest == NULL) {
            return NGX_ERROR;
        }
    }

    if (dmcf->memo == NULL) {
        dmcf->memo = ngx_http_digin_memo_create();
    }

    md = dmcf->digest;

    /* the parts joined, as they are hashed */

    p = buf;
    last = buf + sizeof(buf);

    for (i = 0; i < n; i++) {
        if ((size_t) (last - p) <= parts[i].len) {
            break;
        }

        p = ngx_cpymem(p, parts[i].data, parts[i].len);
        *p++ = '\0';
    }

    if (i < n) {
        /* too long to join (a huge token): hashed part by part */

        if (EVP_DigestInit_ex(md, dmcf->sha256, NULL) != 1) {
            return NGX_ERROR;
        }

        for (i = 0; i < n; i++) {
            if (EVP_DigestUpdate(md, parts[i].data, parts[i].len) != 1
                || EVP_DigestUpdate(md, "", 1) != 1)
            {
                return NGX_ERROR;
            }
        }

        return (EVP_DigestFinal_ex(md, key, NULL) == 1) ? NGX_OK : NGX_ERROR;
    }

    slot = (dmcf->memo != NULL)
           ? ngx_http_digin_memo_slot(dmcf->memo, buf, p - buf) : NULL;

    if (slot != NULL && slot->len == (size_t) (p - buf)
        && ngx_memcmp(slot->input, buf, p - buf) == 0)
    {
        ngx_memcpy(key, slot->key, NGX_HTTP_DIGIN_KEY_LEN);
        return NGX_OK;
    }

    rc = (EVP_DigestInit_ex(md, dmcf->sha256, NULL) == 1
          && EVP_DigestUpdate(md, buf, p - buf) == 1
          && EVP_DigestFinal_ex(md, key, NULL) == 1)
         ? NGX_OK : NGX_ERROR;

    if (rc == NGX_OK && slot != NULL) {
        slot->len = p - buf;
        ngx_memcpy(slot->key, key, NGX_HTTP_DIGIN_KEY_LEN);
        ngx_memcpy(slot->input, buf, p - buf);
    }

    return rc;
}


/* id: the patron, library and jti claims, copied into the request */

static ngx_int_t
ngx_http_digin_set_identity(ngx_http_request_t *r,
    ngx_http_digin_main_conf_t *dmcf, ngx_http_digin_ctx_t *ctx,
    ngx_uint_t issuer, ngx_str_t *id)
{
    u_char                   *p;
    ngx_http_digin_issuer_t  *issuers;

    issuers = dmcf->issuers.elts;

    ctx->issuer.data = (u_char *) issuers[issuer].issuer.name;
    ctx->issuer.len = issuers[issuer].issuer.name_len;

    p = ngx_pnalloc(r->pool, id[0].len + id[1].len + id[2].len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->patron.data = p;
    ctx->patron.len = id[0].len;
    p = ngx_cpymem(p, id[0].data, id[0].len);

    ctx->library.data = p;
    ctx->library.len = id[1].len;
    p = ngx_cpymem(p, id[1].data, id[1].len);

    ctx->jti.data = p;
    ctx->jti.len = id[2].len;
    ngx_memcpy(p, id[2].data, id[2].len);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_digin_status_of(digin_result_e rc)
{
    if (rc <= DIGIN_CLAIM_INVALID) {
        return NGX_HTTP_UNAUTHORIZED;
    }

    switch (rc) {

    case DIGIN_QUOTA_EXHAUSTED:
    case DIGIN_BUDGET_EXHAUSTED:
        return NGX_HTTP_TOO_MANY_REQUESTS;

    case DIGIN_ENTITLEMENTS_UNAVAILABLE:
        return NGX_HTTP_SERVICE_UNAVAILABLE;

    case DIGIN_TITLE_MISSING:
        return NGX_HTTP_BAD_REQUEST;

    default:
        return NGX_HTTP_FORBIDDEN;
    }
}


static ngx_table_elt_t *
ngx_http_digin_add_header(ngx_http_request_t *r, const char *key,
    size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);

    h->value.data = ngx_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        return NULL;
    }

    h->value.len = 0;

    return h;
}


/*
 * A refusal: the status for the reason, an RFC 6750 challenge on 401,
 * Retry-After where waiting helps, and a JSON body with the reason code
 * (and the numbers behind a 429) that the front end translates.  With
 * "satisfy any", or an error_page for the status, nginx makes the
 * response so that those keep their meaning.
 */

static ngx_int_t
ngx_http_digin_deny(ngx_http_request_t *r, ngx_http_digin_ctx_t *ctx)
{
    u_char                    *p;
    time_t                     retry;
    ngx_int_t                  status;
    ngx_buf_t                 *b;
    const char                *name, *text;
    digin_result_e             rc;
    ngx_table_elt_t           *h;
    ngx_http_core_loc_conf_t  *clcf;

    rc = ctx->result;
    status = ngx_http_digin_status_of(rc);
    name = digin_result_name(rc);
    text = digin_result_text(rc);

    if (status == NGX_HTTP_UNAUTHORIZED) {
        h = ngx_http_digin_add_header(r, "WWW-Authenticate",
                                      sizeof("Bearer realm=\"digin\", "
                                             "error=\"invalid_token\", "
                                             "error_description=\"\"")
                                      + ngx_strlen(text));
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* no error attribute when the client simply sent no credentials */
        if (rc == DIGIN_TOKEN_MISSING) {
            h->value.len = ngx_sprintf(h->value.data,
                                       "Bearer realm=\"digin\"")
                           - h->value.data;

        } else {
            h->value.len = ngx_sprintf(h->value.data,
                                       "Bearer realm=\"digin\", "
                                       "error=\"invalid_token\", "
                                       "error_description=\"%s\"", text)
                           - h->value.data;
        }

        r->headers_out.www_authenticate = h;
    }

    retry = 0;

    if (rc == DIGIN_QUOTA_EXHAUSTED) {
        retry = ctx->loan_reset - ngx_time();

    } else if (rc == DIGIN_BUDGET_EXHAUSTED) {
        retry = ctx->budget_reset - ngx_time();

    } else if (rc == DIGIN_ENTITLEMENTS_UNAVAILABLE) {
        retry = 5;
    }

    if (retry > 0) {
        h = ngx_http_digin_add_header(r, "Retry-After", NGX_TIME_T_LEN);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->value.len = ngx_sprintf(h->value.data, "%T", retry)
                       - h->value.data;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->satisfy != NGX_HTTP_SATISFY_ALL
        || ngx_http_digin_has_error_page(r, status))
    {
        return status;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_create_temp_buf(r->pool, 256);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(b->pos, "{\"error\":\"%s\"", name);

    if (rc == DIGIN_QUOTA_EXHAUSTED) {
        p = ngx_sprintf(p, ",\"medium\":\"%s\",\"limit\":%L,\"used\":%L,"
                        "\"resets_at\":",
                        digin_medium_name(ctx->loan_medium), ctx->loan_limit,
                        ctx->loan_used);
        p = ngx_http_digin_json_time(p, ctx->loan_reset);

    } else if (rc == DIGIN_BUDGET_EXHAUSTED) {
        p = ngx_sprintf(p, ",\"limit\":%L,\"spent\":%L,\"resets_at\":",
                        ctx->budget_limit, ctx->budget_spent);
        p = ngx_http_digin_json_time(p, ctx->budget_reset);
    }

    b->last = ngx_cpymem(p, "}\n", 2);

    ngx_http_finalize_request(r, ngx_http_digin_send_json(r, status, b));

    return NGX_DONE;
}


ngx_int_t
ngx_http_digin_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b)
{
    ngx_int_t           rc;
    ngx_chain_t         out;
    static ngx_str_t    type = ngx_string("application/json");

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    r->headers_out.status = status;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


static ngx_uint_t
ngx_http_digin_has_error_page(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->error_pages == NULL) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if ((ngx_uint_t) err_page[i].status == status) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_digin_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t             *s;
    ngx_http_digin_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_digin_module);

    if (ctx == NULL || ctx->result != DIGIN_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_digin_result_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char            *name;
    ngx_http_digin_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_digin_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = digin_result_name(ctx->result);

    v->len = ngx_strlen(name);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = (u_char *) name;

    return NGX_OK;
}


static ngx_int_t
ngx_http_digin_county_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_digin_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_digin_module);

    if (ctx == NULL || ctx->result != DIGIN_OK || !ctx->lib.found) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->lib.county.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = (u_char *) ctx->lib.county.s;

    return NGX_OK;
}


/* after a loan: loans left for the medium this period; "" if unlimited */

static ngx_int_t
ngx_http_digin_quota_left_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                *p;
    ngx_http_digin_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_digin_module);

    if (ctx == NULL || ctx->result != DIGIN_OK || ctx->loan_limit < 0
        || ctx->loan_used == 0)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%L", ngx_max(ctx->loan_limit - ctx->loan_used,
                                          0))
             - p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


/*
 * Each worker looks at its issuers' key files every few seconds and
 * loads a replaced file, so keys rotate without a reload.  A file that
 * fails to load leaves the previous keys in use.
 */

static void
ngx_http_digin_keys_check(ngx_event_t *ev)
{
    char                         err[256];
    ngx_uint_t                   i;
    ngx_file_info_t              fi;
    ngx_http_digin_issuer_t     *di;
    ngx_http_digin_main_conf_t  *dmcf;

    dmcf = ev->data;
    di = dmcf->issuers.elts;

    for (i = 0; i < dmcf->issuers.nelts; i++) {

        if (ngx_file_info(di[i].path.data, &fi) == NGX_FILE_ERROR) {
            continue;
        }

        if (fi.st_ino == di[i].st.st_ino && fi.st_size == di[i].st.st_size
            && fi.st_mtim.tv_sec == di[i].st.st_mtim.tv_sec
            && fi.st_mtim.tv_nsec == di[i].st.st_mtim.tv_nsec)
        {
            continue;
        }

        if (ngx_http_digin_load_keys(ev->log, &di[i], err, sizeof(err))
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                          "digin: issuer \"%s\": keeping the previous keys, "
                          "cannot load \"%V\": %s",
                          di[i].issuer.name, &di[i].path, err);
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                      "digin: issuer \"%s\": loaded %uz keys from \"%V\"",
                      di[i].issuer.name, di[i].issuer.keys->nkeys,
                      &di[i].path);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_DIGIN_KEYS_CHECK);
    }
}


/*
 * Loads the issuer's key file into a new key set and swaps it in.  The
 * file's identity is recorded even when loading fails, so that a bad
 * file is reported once and a fixed one is picked up.
 */

static ngx_int_t
ngx_http_digin_load_keys(ngx_log_t *log, ngx_http_digin_issuer_t *di,
    char *err, size_t errlen)
{
    struct stat      st;
    digin_keyset_t  *ks;

    if (stat((char *) di->path.data, &st) == 0) {
        di->st = st;
    }

    ks = digin_keyset_load_file((char *) di->path.data, di->jwks, di->kid,
                                err, errlen);
    if (ks == NULL) {
        return NGX_ERROR;
    }

    digin_keyset_free(di->issuer.keys);
    di->issuer.keys = ks;

    return NGX_OK;
}


static void
ngx_http_digin_cleanup_keys(void *data)
{
    ngx_http_digin_issuer_t  *di = data;

    digin_keyset_free(di->issuer.keys);
    di->issuer.keys = NULL;
}


static void
ngx_http_digin_cleanup_md(void *data)
{
    EVP_MD_free(data);
}


static ngx_int_t
ngx_http_digin_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_digin_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_digin_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_digin_main_conf_t  *dmcf;

    dmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_digin_main_conf_t));
    if (dmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     dmcf->trust = { NULL, 0, 0, 0 };
     *     dmcf->shm_zone = NULL;
     *     dmcf->redis = NULL;
     *     dmcf->redis_primary = NULL;
     *     dmcf->rd_read = NULL, rd_write = NULL, rd_sub = NULL;
     *     dmcf->pseudonym_key = NULL;
     *     dmcf->assertion_issuer = { 0, NULL };
     *     dmcf->trust_id = { 0 };
     *     dmcf->digest = NULL;
     *     dmcf->memo = NULL;
     *     dmcf->keys_check = { 0 };
     */

    if (ngx_array_init(&dmcf->issuers, cf->pool, 2,
                       sizeof(ngx_http_digin_issuer_t))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&dmcf->signers, cf->pool, 2,
                       sizeof(ngx_http_digin_signer_t))
        != NGX_OK)
    {
        return NULL;
    }

    dmcf->leeway = NGX_CONF_UNSET;
    dmcf->max_size = NGX_CONF_UNSET_SIZE;
    dmcf->cache_ttl = NGX_CONF_UNSET;
    dmcf->negative_ttl = NGX_CONF_UNSET;
    dmcf->stale_ttl = NGX_CONF_UNSET;

    return dmcf;
}


static char *
ngx_http_digin_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_digin_main_conf_t  *dmcf = conf;

    u_char                    buf[64], *p;
    ngx_uint_t                i;
    EVP_MD_CTX               *md;
    ngx_pool_cleanup_t       *cln;
    ngx_http_digin_issuer_t  *di;

    ngx_conf_init_value(dmcf->leeway, 30);
    ngx_conf_init_size_value(dmcf->max_size, 8192);
    ngx_conf_init_value(dmcf->cache_ttl, 60);
    ngx_conf_init_value(dmcf->negative_ttl, 10);
    ngx_conf_init_value(dmcf->stale_ttl, 3600);

    if (dmcf->assertion_issuer.data == NULL) {
        ngx_str_set(&dmcf->assertion_issuer, "urn:digin:gateway");

    } else {
        /* NUL-terminated for the nginx-free signing code */
        p = ngx_pnalloc(cf->pool, dmcf->assertion_issuer.len + 1);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(p, dmcf->assertion_issuer.data,
                   dmcf->assertion_issuer.len);
        p[dmcf->assertion_issuer.len] = '\0';
        dmcf->assertion_issuer.data = p;
    }

    if (dmcf->signers.nelts && dmcf->pseudonym_key == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"digin_vendor_key\" needs \"digin_pseudonym_key\": "
                      "an assertion names the patron by a pseudonym");
        return NGX_CONF_ERROR;
    }

    if (dmcf->redis != NULL && dmcf->shm_zone == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"digin_redis\" needs a \"digin_zone\" to cache "
                      "entitlement answers in");
        return NGX_CONF_ERROR;
    }

    if (dmcf->redis_primary != NULL && dmcf->redis == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"digin_redis_primary\" needs \"digin_redis\"");
        return NGX_CONF_ERROR;
    }

    if (dmcf->redis_primary == NULL) {
        dmcf->redis_primary = dmcf->redis;
    }

    di = dmcf->issuers.elts;

    dmcf->trust.issuers = ngx_palloc(cf->pool, (dmcf->issuers.nelts + 1)
                                               * sizeof(digin_issuer_t *));
    if (dmcf->trust.issuers == NULL) {
        return NGX_CONF_ERROR;
    }

    dmcf->trust.nissuers = dmcf->issuers.nelts;
    dmcf->trust.leeway = (long) dmcf->leeway;
    dmcf->trust.max_size = dmcf->max_size;

    /* an explicit fetch: the implicit one costs a look-up per request */
    dmcf->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (dmcf->sha256 == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        EVP_MD_free(dmcf->sha256);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_digin_cleanup_md;
    cln->data = dmcf->sha256;

    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, dmcf->sha256, NULL) != 1) {
        EVP_MD_CTX_free(md);
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(buf, "%T %uz%Z", dmcf->leeway, dmcf->max_size);
    EVP_DigestUpdate(md, buf, ngx_strlen(buf) + 1);

    for (i = 0; i < dmcf->issuers.nelts; i++) {
        dmcf->trust.issuers[i] = &di[i].issuer;

        ngx_sprintf(buf, "%ud%Z", di[i].issuer.algorithms);
        EVP_DigestUpdate(md, buf, ngx_strlen(buf) + 1);
        EVP_DigestUpdate(md, di[i].issuer.name, di[i].issuer.name_len + 1);
        EVP_DigestUpdate(md, di[i].issuer.audience,
                         ngx_strlen(di[i].issuer.audience) + 1);
        EVP_DigestUpdate(md, di[i].issuer.patron_claim,
                         ngx_strlen(di[i].issuer.patron_claim) + 1);

        if (di[i].issuer.library_claim != NULL) {
            EVP_DigestUpdate(md, di[i].issuer.library_claim,
                             ngx_strlen(di[i].issuer.library_claim) + 1);
        }

        EVP_DigestUpdate(md, "\n", 1);
    }

    EVP_DigestFinal_ex(md, dmcf->trust_id, NULL);
    EVP_MD_CTX_free(md);

    return NGX_CONF_OK;
}


static void *
ngx_http_digin_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_digin_loc_conf_t  *dlcf;

    dlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_digin_loc_conf_t));
    if (dlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     dlcf->cookie = { 0, NULL };
     *     dlcf->vendor = { 0, NULL };
     *     dlcf->loan_title = NULL;
     *     dlcf->signer = NULL;
     *     dlcf->on_at = dlcf->use_at = dlcf->loan_at = { NULL, 0 };
     */

    dlcf->enable = NGX_CONF_UNSET;
    dlcf->failure = NGX_CONF_UNSET_UINT;
    dlcf->medium = NGX_CONF_UNSET;
    dlcf->loan = NGX_CONF_UNSET;
    dlcf->loan_medium = NGX_CONF_UNSET;
    dlcf->whoami = NGX_CONF_UNSET;
    dlcf->strip = NGX_CONF_UNSET;

    return dlcf;
}


static char *
ngx_http_digin_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_digin_loc_conf_t *prev = parent;
    ngx_http_digin_loc_conf_t *conf = child;

    ngx_http_digin_main_conf_t  *dmcf;

    ngx_conf_merge_str_value(conf->cookie, prev->cookie, "");
    ngx_conf_merge_uint_value(conf->failure, prev->failure,
                              NGX_HTTP_DIGIN_FAIL_DENY);
    ngx_conf_merge_value(conf->strip, prev->strip, 1);

    /* vendor, loan and whoami belong to their own location only */
    ngx_conf_init_value(conf->medium, -1);
    ngx_conf_init_value(conf->loan, 0);
    ngx_conf_init_value(conf->loan_medium, -1);
    ngx_conf_init_value(conf->whoami, 0);

    if (conf->vendor.len || conf->whoami) {
        conf->enable = 1;
    }

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    if (conf->on_at.file == NULL) {
        conf->on_at = prev->on_at;
    }

    /*
     * The errors below are found only here, at the end of http{}, so
     * they name the line of the directive they are about.
     */

    dmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_digin_module);

    if (conf->loan && conf->vendor.len == 0) {
        ngx_http_digin_merge_error(cf, &conf->loan_at,
                                   "\"digin_loan\" needs \"digin_vendor\" "
                                   "in the same location");
        return NGX_CONF_ERROR;
    }

    if (conf->vendor.len) {
        conf->signer = ngx_http_digin_find_signer(dmcf, &conf->vendor);
    }

    if ((conf->vendor.len || conf->whoami) && dmcf->redis == NULL) {
        ngx_http_digin_merge_error(cf, &conf->use_at,
                                   "\"%s\" needs \"digin_redis\"",
                                   conf->whoami ? "digin_whoami"
                                                : "digin_vendor");
        return NGX_CONF_ERROR;
    }

    /* fail closed: "digin on" with nobody to trust is a mistake */
    if (conf->enable && dmcf->issuers.nelts == 0) {
        ngx_http_digin_merge_error(cf, conf->use_at.file ? &conf->use_at
                                                         : &conf->on_at,
                                   "\"digin\" is on but no \"digin_issuer\" "
                                   "is configured");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_digin_conf_at(ngx_conf_t *cf, ngx_http_digin_conf_at_t *at)
{
    /* the file name lives as long as the configuration's pool */
    at->file = cf->conf_file->file.name.data;
    at->line = cf->conf_file->line;
}


/* an [emerg] "in FILE:LINE" of the directive "at", as nginx -t shows it */

static void ngx_cdecl
ngx_http_digin_merge_error(ngx_conf_t *cf, ngx_http_digin_conf_at_t *at,
    const char *fmt, ...)
{
    u_char   *p, errstr[NGX_MAX_CONF_ERRSTR];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(errstr, errstr + NGX_MAX_CONF_ERRSTR, fmt, args);
    va_end(args);

    if (at->file == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%*s", p - errstr, errstr);
        return;
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%*s in %s:%ui",
                  p - errstr, errstr, at->file, at->line);
}


static char *
ngx_http_digin_enable(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_digin_loc_conf_t *dlcf = conf;

    char  *rv;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);

    if (rv == NGX_CONF_OK) {
        ngx_http_digin_conf_at(cf, &dlcf->on_at);
    }

    return rv;
}


static char *
ngx_http_digin_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_digin_main_conf_t *dmcf = conf;

    u_char      *p;
    ssize_t      size;
    ngx_str_t   *value, name, s;

    if (dmcf->shm_zone != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\" in \"digin_zone\", "
                           "expected NAME:SIZE", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\" in \"digin_zone\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" in \"digin_zone\" is too small, "
                           "it needs at least %uzk", &value[1],
                           8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    dmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_digin_module);
    if (dmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (dmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_zone\" \"%V\" is already used",
                           &name);
        return NGX_CONF_ERROR;
    }

    dmcf->shm_zone->init = ngx_http_digin_cache_init_zone;
    dmcf->shm_zone->data = ngx_pcalloc(cf->pool, sizeof(void *) * 2);
    if (dmcf->shm_zone->data == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a NUL-terminated copy for the nginx-free code */

static char *
ngx_http_digin_cstr(ngx_conf_t *cf, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(cf->pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return (char *) p;
}


static char *
ngx_http_digin_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_digin_main_conf_t *dmcf = conf;

    char                      err[256];
    ngx_str_t                *value, s, algorithms, kid;
    ngx_uint_t                i, j, have_alg;
    ngx_pool_cleanup_t       *cln;
    ngx_http_digin_issuer_t  *di, *other;

    value = cf->args->elts;
    other = dmcf->issuers.elts;

    for (i = 0; i < dmcf->issuers.nelts; i++) {
        if (other[i].issuer.name_len == value[1].len
            && ngx_strncmp(other[i].issuer.name, value[1].data,
                           value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"digin_issuer\" \"%V\" is duplicate",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    di = ngx_array_push(&dmcf->issuers);
    if (di == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(di, sizeof(ngx_http_digin_issuer_t));

    ngx_str_null(&algorithms);
    ngx_str_null(&kid);

    di->issuer.name = ngx_http_digin_cstr(cf, &value[1]);
    if (di->issuer.name == NULL) {
        return NGX_CONF_ERROR;
    }

    di->issuer.name_len = value[1].len;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "jwks=", 5) == 0
            || ngx_strncmp(value[i].data, "key=", 4) == 0)
        {
            if (di->path.len) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"digin_issuer\" \"%V\" takes one of "
                                   "jwks= or key=, once", &value[1]);
                return NGX_CONF_ERROR;
            }

            di->jwks = (value[i].data[0] == 'j');
            s.len = value[i].len - (di->jwks ? 5 : 4);
            s.data = value[i].data + (di->jwks ? 5 : 4);

            if (s.len == 0 || ngx_conf_full_name(cf->cycle, &s, 1)
                              != NGX_OK)
            {
                goto invalid;
            }

            di->path = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0 && value[i].len > 4) {
            kid.len = value[i].len - 4;
            kid.data = value[i].data + 4;
            continue;
        }

        if (ngx_strncmp(value[i].data, "audience=", 9) == 0
            && value[i].len > 9)
        {
            s.len = value[i].len - 9;
            s.data = value[i].data + 9;
            di->issuer.audience = ngx_http_digin_cstr(cf, &s);
            if (di->issuer.audience == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "algorithms=", 11) == 0
            && value[i].len > 11)
        {
            algorithms.len = value[i].len - 11;
            algorithms.data = value[i].data + 11;
            continue;
        }

        if (ngx_strncmp(value[i].data, "patron_claim=", 13) == 0
            && value[i].len > 13)
        {
            s.len = value[i].len - 13;
            s.data = value[i].data + 13;
            di->issuer.patron_claim = ngx_http_digin_cstr(cf, &s);
            if (di->issuer.patron_claim == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "library_claim=", 14) == 0
            && value[i].len > 14)
        {
            s.len = value[i].len - 14;
            s.data = value[i].data + 14;
            di->issuer.library_claim = ngx_http_digin_cstr(cf, &s);
            if (di->issuer.library_claim == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    if (di->path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_issuer\" \"%V\" needs jwks=FILE or "
                           "key=PEMFILE", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (di->issuer.audience == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_issuer\" \"%V\" needs audience=",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (kid.len) {
        if (di->jwks) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"digin_issuer\" \"%V\": kid= goes with "
                               "key=, a JWKS names its own keys",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        di->kid = ngx_http_digin_cstr(cf, &kid);
        if (di->kid == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (di->issuer.patron_claim == NULL) {
        di->issuer.patron_claim = "sub";
    }

    if (algorithms.len) {
        if (ngx_http_digin_issuer_algorithms(cf, di, &algorithms)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else {
        di->issuer.algorithms = DIGIN_ALGS_DEFAULT;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_digin_cleanup_keys;
    cln->data = di;

    if (ngx_http_digin_load_keys(cf->log, di, err, sizeof(err)) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_issuer\" cannot load keys from \"%V\": "
                           "%s", &di->path, err);
        return NGX_CONF_ERROR;
    }

    /* the issuer must be able to accept something */
    have_alg = 0;

    for (i = 0; i < di->issuer.keys->nkeys; i++) {
        for (j = DIGIN_ALG_UNKNOWN + 1; j < DIGIN_ALG_MAX; j++) {
            if ((di->issuer.algorithms & DIGIN_ALG_BIT(j))
                && digin_key_allows(&di->issuer.keys->keys[i],
                                    (digin_alg_e) j))
            {
                have_alg = 1;
            }
        }
    }

    if (!have_alg) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_issuer\" \"%V\": no allowed algorithm "
                           "fits the keys in \"%V\"%s", &value[1], &di->path,
                           (di->issuer.algorithms & DIGIN_ALGS_HMAC)
                           ? ""
                           : " (HMAC algorithms must be listed in "
                             "algorithms=)");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"digin_issuer\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_digin_issuer_algorithms(ngx_conf_t *cf, ngx_http_digin_issuer_t *di,
    ngx_str_t *list)
{
    u_char       *p, *last, *comma;
    digin_alg_e   alg;

    p = list->data;
    last = list->data + list->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        alg = digin_alg_by_name((const char *) p, comma - p);

        if (alg == DIGIN_ALG_UNKNOWN) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"digin_issuer\" has an unknown algorithm "
                               "\"%*s\"", comma - p, p);
            return NGX_CONF_ERROR;
        }

        di->issuer.algorithms |= DIGIN_ALG_BIT(alg);
        p = comma + 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_digin_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t                     *value, s;
    ngx_int_t                      n;
    ngx_uint_t                     i;
    ngx_http_digin_redis_conf_t  **field, *rc;

    field = (ngx_http_digin_redis_conf_t **) (p + cmd->offset);

    if (*field != NULL) {
        return "is duplicate";
    }

    rc = ngx_pcalloc(cf->pool, sizeof(ngx_http_digin_redis_conf_t));
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (ngx_http_digin_redis_parse(cf, &value[1], rc) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    rc->connect_timeout = 1000;
    rc->timeout = 500;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            s.len = value[i].len - 14;
            s.data = value[i].data + 14;

            if (ngx_conf_full_name(cf->cycle, &s, 1) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            if (ngx_http_digin_read_secret(cf, &s, &rc->password) != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            rc->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            s.len = value[i].len - 16;
            s.data = value[i].data + 16;

            rc->connect_timeout = ngx_parse_time(&s, 0);
            if (rc->connect_timeout == (ngx_msec_t) NGX_ERROR
                || rc->connect_timeout == 0)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.len = value[i].len - 8;
            s.data = value[i].data + 8;

            rc->timeout = ngx_parse_time(&s, 0);
            if (rc->timeout == (ngx_msec_t) NGX_ERROR || rc->timeout == 0) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    *field = rc;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\"", &value[i],
                       &cmd->name);
    return NGX_CONF_ERROR;
}


/* a Redis password from a file, without its final newline */

static ngx_int_t
ngx_http_digin_read_secret(ngx_conf_t *cf, ngx_str_t *path, ngx_str_t *out)
{
    ssize_t          n;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    ngx_memzero(&file, sizeof(ngx_file_t));

    file.name = *path;
    file.log = cf->log;

    file.fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot open password_file \"%V\"", path);
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 1024)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "password_file \"%V\" is not a small file",
                           path);
        ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(cf->pool, 1025);
    if (out->data == NULL) {
        ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    n = ngx_read_file(&file, out->data, 1024, 0);
    ngx_close_file(file.fd);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    while (n > 0 && (out->data[n - 1] == '\n' || out->data[n - 1] == '\r')) {
        n--;
    }

    out->len = n;

    return NGX_OK;
}


static char *
ngx_http_digin_cache_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_digin_main_conf_t *dmcf = conf;

    time_t       *t;
    ngx_str_t    *value, s;
    ngx_uint_t    i;

    if (dmcf->cache_ttl != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = value[i];

        if (i == 1) {
            t = &dmcf->cache_ttl;

        } else if (ngx_strncmp(s.data, "negative=", 9) == 0) {
            t = &dmcf->negative_ttl;
            s.data += 9;
            s.len -= 9;

        } else if (ngx_strncmp(s.data, "stale=", 6) == 0) {
            t = &dmcf->stale_ttl;
            s.data += 6;
            s.len -= 6;

        } else {
            goto invalid;
        }

        /* 0 keeps no answers: every request asks Redis */
        *t = ngx_parse_time(&s, 1);

        if (*t == (time_t) NGX_ERROR) {
            goto invalid;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"digin_cache_ttl\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_digin_medium_param(ngx_conf_t *cf, ngx_str_t *value,
    ngx_int_t *medium)
{
    int  m;

    if (value->len <= 7 || ngx_strncmp(value->data, "medium=", 7) != 0) {
        return NGX_DECLINED;
    }

    m = digin_medium_by_name((const char *) value->data + 7, value->len - 7);

    if (m < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid medium \"%V\", expected medium=ebook "
                           "or medium=audio", value);
        return NGX_ERROR;
    }

    *medium = m;

    return NGX_OK;
}


static char *
ngx_http_digin_vendor(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_digin_loc_conf_t *dlcf = conf;

    ngx_int_t   rc;
    ngx_str_t  *value;

    if (dlcf->vendor.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > 32) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid vendor \"%V\" in \"digin_vendor\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    dlcf->vendor = value[1];
    ngx_http_digin_conf_at(cf, &dlcf->use_at);

    if (cf->args->nelts == 3) {
        rc = ngx_http_digin_medium_param(cf, &value[2], &dlcf->medium);

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in "
                               "\"digin_vendor\"", &value[2]);
        }

        if (rc != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_digin_loan(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_digin_loc_conf_t *dlcf = conf;

    ngx_int_t                          rc;
    ngx_str_t                         *value, title;
    ngx_uint_t                         i;
    ngx_http_compile_complex_value_t   ccv;

    if (dlcf->loan != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_set(&title, "$uri");

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "title=", 6) == 0
            && value[i].len > 6)
        {
            title.data = value[i].data + 6;
            title.len = value[i].len - 6;
            continue;
        }

        rc = ngx_http_digin_medium_param(cf, &value[i], &dlcf->loan_medium);

        if (rc == NGX_OK) {
            continue;
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"digin_loan\"",
                               &value[i]);
        }

        return NGX_CONF_ERROR;
    }

    dlcf->loan_title = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (dlcf->loan_title == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &title;
    ccv.complex_value = dlcf->loan_title;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    dlcf->loan = 1;
    ngx_http_digin_conf_at(cf, &dlcf->loan_at);

    return NGX_CONF_OK;
}


/* digin_whoami and digin_status: content handlers of their location */

static char *
ngx_http_digin_handler_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_digin_loc_conf_t *dlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate";
    }

    if (ngx_strcmp(cmd->name.data, "digin_whoami") == 0) {
        clcf->handler = ngx_http_digin_whoami_handler;
        dlcf->whoami = 1;
        ngx_http_digin_conf_at(cf, &dlcf->use_at);

    } else {
        clcf->handler = ngx_http_digin_status_handler;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_digin_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_digin_access_handler;

    ngx_http_digin_ent_init_scripts();

    return NGX_OK;
}


static ngx_int_t
ngx_http_digin_init_process(ngx_cycle_t *cycle)
{
    ngx_http_digin_main_conf_t  *dmcf;

    dmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_digin_module);

    if (dmcf == NULL || dmcf->issuers.nelts == 0) {
        return NGX_OK;
    }

    dmcf->keys_check.handler = ngx_http_digin_keys_check;
    dmcf->keys_check.data = dmcf;
    dmcf->keys_check.log = cycle->log;
    dmcf->keys_check.cancelable = 1;

    ngx_add_timer(&dmcf->keys_check, NGX_HTTP_DIGIN_KEYS_CHECK);

    return ngx_http_digin_ent_init_process(cycle, dmcf);
}


static void
ngx_http_digin_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_digin_main_conf_t  *dmcf;

    dmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_digin_module);

    if (dmcf != NULL) {
        ngx_http_digin_ent_exit_process(dmcf);
        EVP_MD_CTX_free(dmcf->digest);
        dmcf->digest = NULL;
        ngx_free(dmcf->memo);
        dmcf->memo = NULL;
    }
}
