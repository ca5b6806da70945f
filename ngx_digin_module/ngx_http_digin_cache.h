/*
 * Copyright (C) Digin gateway developers
 *
 * The digin_zone: a shared-memory cache of small answers (verified
 * tokens, later entitlements) keyed by a 32-byte digest, with expiry
 * and LRU eviction, as ngx_http_limit_req_module keeps its states.
 */


#ifndef _NGX_HTTP_DIGIN_CACHE_H_INCLUDED_
#define _NGX_HTTP_DIGIN_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_DIGIN_KEY_LEN    32
#define NGX_HTTP_DIGIN_VALUE_MAX  1024


ngx_int_t ngx_http_digin_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);

/*
 * Copies the value of a live entry into buf (of NGX_HTTP_DIGIN_VALUE_MAX
 * bytes) and marks it recently used.  NGX_OK when found, NGX_DECLINED
 * when absent or expired.
 */
ngx_int_t ngx_http_digin_cache_get(ngx_shm_zone_t *shm_zone,
    const u_char *key, time_t now, u_char *buf, size_t *len);

/*
 * Stores a value until expire, replacing an entry with the same key and
 * evicting the least recently used entries when the zone is full.
 */
ngx_int_t ngx_http_digin_cache_put(ngx_shm_zone_t *shm_zone,
    const u_char *key, time_t now, time_t expire, const u_char *value,
    size_t len);


#endif /* _NGX_HTTP_DIGIN_CACHE_H_INCLUDED_ */
