/*
 * Copyright (C) Digin gateway developers
 *
 * Toward vendors: the patron's credentials taken out of the proxied
 * request, per-vendor pseudonyms and gateway-signed assertions.
 */


#ifndef _NGX_HTTP_DIGIN_VENDOR_H_INCLUDED_
#define _NGX_HTTP_DIGIN_VENDOR_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_digin_module.h"


char *ngx_http_digin_pseudonym_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_digin_vendor_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_digin_signer_t *ngx_http_digin_find_signer(
    ngx_http_digin_main_conf_t *dmcf, ngx_str_t *vendor);

ngx_int_t ngx_http_digin_pseudonym_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
ngx_int_t ngx_http_digin_vendor_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/*
 * Takes the patron's credential out of the request headers: a Bearer
 * Authorization header and the token cookie (other cookies stay).
 * Every upstream module (proxy, grpc, fastcgi, uwsgi, scgi) forwards
 * from the same header list, so none of them sees it.
 */
ngx_int_t ngx_http_digin_strip_credentials(ngx_http_request_t *r,
    ngx_http_digin_loc_conf_t *dlcf);


#endif /* _NGX_HTTP_DIGIN_VENDOR_H_INCLUDED_ */
