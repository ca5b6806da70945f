/*
 * Copyright (C) Digin gateway developers
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_digin_cache.h"


typedef struct {
    ngx_rbtree_node_t               node;   /* key: first bytes of key */
    ngx_queue_t                     queue;  /* LRU, most recent first */
    time_t                          fresh;
    time_t                          expire; /* removed from then on */
    u_char                          key[NGX_HTTP_DIGIN_KEY_LEN];
    u_short                         len;
    u_char                          value[1];
} ngx_http_digin_cache_node_t;


typedef struct {
    ngx_rbtree_t                    rbtree;
    ngx_rbtree_node_t               sentinel;
    ngx_queue_t                     queue;
    ngx_atomic_t                    epoch;
    ngx_atomic_t                    generation;
    ngx_http_digin_stats_t          stats;
} ngx_http_digin_cache_sh_t;


typedef struct {
    ngx_http_digin_cache_sh_t      *sh;
    ngx_slab_pool_t                *shpool;
} ngx_http_digin_cache_t;


static void ngx_http_digin_cache_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_digin_cache_node_t *ngx_http_digin_cache_lookup(
    ngx_http_digin_cache_t *cache, const u_char *key);
static void ngx_http_digin_cache_delete(ngx_http_digin_cache_t *cache,
    ngx_http_digin_cache_node_t *cn);
static ngx_uint_t ngx_http_digin_cache_expire(ngx_http_digin_cache_t *cache,
    time_t now, ngx_uint_t force);


ngx_int_t
ngx_http_digin_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_digin_cache_t  *ocache = data;

    size_t                   len;
    ngx_http_digin_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        /* a reload with the same zone: keep what is cached */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_calloc(cache->shpool,
                                sizeof(ngx_http_digin_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_digin_cache_insert);
    ngx_queue_init(&cache->sh->queue);

    len = sizeof(" in digin_zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in digin_zone \"%V\"%Z",
                &shm_zone->shm.name);

    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_digin_cache_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t            **p;
    ngx_http_digin_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = (ngx_http_digin_cache_node_t *) node;
            cnt = (ngx_http_digin_cache_node_t *) temp;

            p = (ngx_memcmp(cn->key, cnt->key, NGX_HTTP_DIGIN_KEY_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_digin_cache_node_t *
ngx_http_digin_cache_lookup(ngx_http_digin_cache_t *cache, const u_char *key)
{
    ngx_int_t                     rc;
    ngx_rbtree_key_t              hash;
    ngx_rbtree_node_t            *node, *sentinel;
    ngx_http_digin_cache_node_t  *cn;

    /* the key is already a digest: its first bytes are a fine hash */
    ngx_memcpy(&hash, key, sizeof(ngx_rbtree_key_t));

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_digin_cache_node_t *) node;

        rc = ngx_memcmp(key, cn->key, NGX_HTTP_DIGIN_KEY_LEN);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_digin_cache_delete(ngx_http_digin_cache_t *cache,
    ngx_http_digin_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);
    ngx_slab_free_locked(cache->shpool, cn);
}


/*
 * Frees up to two expired entries from the LRU end, or with force the
 * least recently used ones whatever their expiry.  Returns how many it
 * freed.  Called with the zone locked.
 */

static ngx_uint_t
ngx_http_digin_cache_expire(ngx_http_digin_cache_t *cache, time_t now,
    ngx_uint_t force)
{
    ngx_uint_t                    n;
    ngx_queue_t                  *q;
    ngx_http_digin_cache_node_t  *cn;

    for (n = 0; n < 2 + force * 8; n++) {

        if (ngx_queue_empty(&cache->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_http_digin_cache_node_t, queue);

        if (!force && cn->expire > now) {
            break;
        }

        if (cn->expire > now) {
            (void) ngx_atomic_fetch_add(&cache->sh->stats.cache_evictions,
                                        1);
        }

        ngx_http_digin_cache_delete(cache, cn);
    }

    return n;
}


ngx_int_t
ngx_http_digin_cache_get(ngx_shm_zone_t *shm_zone, const u_char *key,
    time_t now, u_char *buf, size_t *len)
{
    ngx_int_t                     rc;
    ngx_http_digin_cache_t       *cache;
    ngx_http_digin_cache_node_t  *cn;

    cache = shm_zone->data;
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_digin_cache_lookup(cache, key);

    if (cn != NULL) {
        if (cn->expire > now) {
            ngx_queue_remove(&cn->queue);
            ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

            ngx_memcpy(buf, cn->value, cn->len);
            *len = cn->len;
            rc = (cn->fresh > now) ? NGX_OK : NGX_AGAIN;

        } else {
            ngx_http_digin_cache_delete(cache, cn);
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_http_digin_cache_put(ngx_shm_zone_t *shm_zone, const u_char *key,
    time_t now, time_t fresh, time_t expire, const u_char *value, size_t len)
{
    size_t                        size;
    ngx_http_digin_cache_t       *cache;
    ngx_http_digin_cache_node_t  *cn;

    if (len > NGX_HTTP_DIGIN_VALUE_MAX || fresh <= now) {
        return NGX_DECLINED;
    }

    if (expire < fresh) {
        expire = fresh;
    }

    cache = shm_zone->data;
    size = offsetof(ngx_http_digin_cache_node_t, value) + len;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_digin_cache_lookup(cache, key);
    if (cn != NULL) {
        ngx_http_digin_cache_delete(cache, cn);
    }

    ngx_http_digin_cache_expire(cache, now, 0);

    for ( ;; ) {
        cn = ngx_slab_alloc_locked(cache->shpool, size);

        if (cn != NULL) {
            break;
        }

        /*
         * The zone is full: the least recently used entries make room.
         * Entries differ in size, and the slab allocator keeps each
         * size class apart, so a few evictions may free nothing this
         * entry can use: evict on until it fits.
         */
        if (ngx_http_digin_cache_expire(cache, now, 1) == 0) {
            ngx_shmtx_unlock(&cache->shpool->mutex);

            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "digin: could not allocate a cache entry "
                          "in digin_zone \"%V\"", &shm_zone->shm.name);

            return NGX_ERROR;
        }
    }

    ngx_memcpy(&cn->node.key, key, sizeof(ngx_rbtree_key_t));
    ngx_memcpy(cn->key, key, NGX_HTTP_DIGIN_KEY_LEN);
    cn->fresh = fresh;
    cn->expire = expire;
    cn->len = (u_short) len;
    ngx_memcpy(cn->value, value, len);

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return NGX_OK;
}


void
ngx_http_digin_cache_delete_key(ngx_shm_zone_t *shm_zone, const u_char *key)
{
    ngx_http_digin_cache_t       *cache;
    ngx_http_digin_cache_node_t  *cn;

    cache = shm_zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_digin_cache_lookup(cache, key);
    if (cn != NULL) {
        ngx_http_digin_cache_delete(cache, cn);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


ngx_atomic_uint_t
ngx_http_digin_cache_epoch(ngx_shm_zone_t *shm_zone)
{
    ngx_http_digin_cache_t  *cache = shm_zone->data;

    return cache->sh->epoch;
}


void
ngx_http_digin_cache_new_epoch(ngx_shm_zone_t *shm_zone)
{
    ngx_http_digin_cache_t  *cache = shm_zone->data;

    (void) ngx_atomic_fetch_add(&cache->sh->epoch, 1);
}


ngx_uint_t
ngx_http_digin_cache_see_generation(ngx_shm_zone_t *shm_zone,
    ngx_atomic_uint_t gen)
{
    ngx_atomic_uint_t        old;
    ngx_http_digin_cache_t  *cache;

    cache = shm_zone->data;
    old = cache->sh->generation;

    if (old == gen) {
        return 0;
    }

    /* one worker moves the epoch on for each new generation */
    if (ngx_atomic_cmp_set(&cache->sh->generation, old, gen)) {
        ngx_http_digin_cache_new_epoch(shm_zone);
    }

    return 1;
}


ngx_http_digin_stats_t *
ngx_http_digin_cache_stats(ngx_shm_zone_t *shm_zone)
{
    ngx_http_digin_cache_t  *cache = shm_zone->data;

    return &cache->sh->stats;
}
