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

#include "digin_jwt.h"


/* how often each worker looks for replaced key files */
#define NGX_HTTP_DIGIN_KEYS_CHECK  2000


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
    ngx_event_t                keys_check;
} ngx_http_digin_main_conf_t;


typedef struct {
    ngx_flag_t                 enable;
    ngx_str_t                  cookie;
} ngx_http_digin_loc_conf_t;


typedef struct {
    digin_result_e             result;
    ngx_str_t                  issuer;
    ngx_str_t                  patron;
    ngx_str_t                  library;
} ngx_http_digin_ctx_t;


extern ngx_module_t  ngx_http_digin_module;


#endif /* _NGX_HTTP_DIGIN_MODULE_H_INCLUDED_ */
