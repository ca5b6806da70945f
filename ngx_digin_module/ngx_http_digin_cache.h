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
#define NGX_HTTP_DIGIN_VALUE_MAX  2048

/* upper bounds of the Redis latency histogram, in milliseconds */
#define NGX_HTTP_DIGIN_LATENCY_BUCKETS  \
    { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000 }
#define NGX_HTTP_DIGIN_NLATENCY         10


/* counters shared by all workers, served by digin_status */
typedef struct {
    ngx_atomic_t                    results[32];
    ngx_atomic_t                    cache_hits;
    ngx_atomic_t                    cache_misses;
    ngx_atomic_t                    cache_stale;
    ngx_atomic_t                    cache_evictions;
    ngx_atomic_t                    redis_requests;
    ngx_atomic_t                    redis_errors;
    ngx_atomic_t                    redis_timeouts;
    ngx_atomic_t                    redis_reconnects;
    ngx_atomic_t                    invalidations;
    ngx_atomic_t                    latency[NGX_HTTP_DIGIN_NLATENCY + 1];
    ngx_atomic_t                    latency_us;
} ngx_http_digin_stats_t;


ngx_int_t ngx_http_digin_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);

/*
 * Copies the value of an entry into buf (of NGX_HTTP_DIGIN_VALUE_MAX
 * bytes) and marks it recently used.  NGX_OK when it is fresh,
 * NGX_AGAIN when it is past its freshness but still kept (a stale
 * answer, for when Redis cannot be asked), NGX_DECLINED when absent.
 */
ngx_int_t ngx_http_digin_cache_get(ngx_shm_zone_t *shm_zone,
    const u_char *key, time_t now, u_char *buf, size_t *len);

/*
 * Stores a value, fresh until fresh and kept until keep (>= fresh),
 * replacing an entry with the same key and evicting the least recently
 * used entries when the zone is full.
 */
ngx_int_t ngx_http_digin_cache_put(ngx_shm_zone_t *shm_zone,
    const u_char *key, time_t now, time_t fresh, time_t keep,
    const u_char *value, size_t len);

void ngx_http_digin_cache_delete_key(ngx_shm_zone_t *shm_zone,
    const u_char *key);

/*
 * The epoch is part of every entitlement cache key: moving it on makes
 * every earlier answer unreachable at once (they age out by LRU).
 */
ngx_atomic_uint_t ngx_http_digin_cache_epoch(ngx_shm_zone_t *shm_zone);
void ngx_http_digin_cache_new_epoch(ngx_shm_zone_t *shm_zone);

/*
 * The last entitlement generation seen in Redis: returns 1 (and moves
 * the epoch on) when gen differs from it.
 */
ngx_uint_t ngx_http_digin_cache_see_generation(ngx_shm_zone_t *shm_zone,
    ngx_atomic_uint_t gen);

ngx_http_digin_stats_t *ngx_http_digin_cache_stats(ngx_shm_zone_t *shm_zone);


#endif /* _NGX_HTTP_DIGIN_CACHE_H_INCLUDED_ */
