/*
 * Copyright (C) Digin gateway developers
 *
 * Entitlements at the gateway: the lookup (one Redis round trip on a
 * cache miss), answers cached in digin_zone, loans counted on the
 * primary, invalidations, and the whoami and status handlers.
 */


#ifndef _NGX_HTTP_DIGIN_ENT_H_INCLUDED_
#define _NGX_HTTP_DIGIN_ENT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_digin_module.h"


/*
 * Brings ctx from NGX_HTTP_DIGIN_TOKEN to NGX_HTTP_DIGIN_ENTITLED (then
 * NGX_OK) or to NGX_HTTP_DIGIN_WAIT (NGX_AGAIN: the phase handler runs
 * again when Redis answers).  On failure ctx->result says why.
 */
ngx_int_t ngx_http_digin_ent_lookup(ngx_http_request_t *r,
    ngx_http_digin_main_conf_t *dmcf, ngx_http_digin_loc_conf_t *dlcf,
    ngx_http_digin_ctx_t *ctx);

/* from NGX_HTTP_DIGIN_ENTITLED to NGX_HTTP_DIGIN_LOANED, likewise */
ngx_int_t ngx_http_digin_ent_loan(ngx_http_request_t *r,
    ngx_http_digin_main_conf_t *dmcf, ngx_http_digin_loc_conf_t *dlcf,
    ngx_http_digin_ctx_t *ctx);

ngx_int_t ngx_http_digin_whoami_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_digin_status_handler(ngx_http_request_t *r);

/* "YYYY-MM-DDTHH:MM:SSZ", quoted, for JSON */
u_char *ngx_http_digin_json_time(u_char *p, time_t t);

void ngx_http_digin_ent_init_scripts(void);
ngx_int_t ngx_http_digin_ent_init_process(ngx_cycle_t *cycle,
    ngx_http_digin_main_conf_t *dmcf);
void ngx_http_digin_ent_exit_process(ngx_http_digin_main_conf_t *dmcf);


#endif /* _NGX_HTTP_DIGIN_ENT_H_INCLUDED_ */
