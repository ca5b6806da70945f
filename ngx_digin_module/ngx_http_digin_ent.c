/*
 * Copyright (C) Digin gateway developers
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "digin_ent.h"
#include "digin_grant.h"
#include "ngx_http_digin_cache.h"
#include "ngx_http_digin_ent.h"
#include "ngx_http_digin_module.h"
#include "ngx_http_digin_redis.h"


/*
 * One read-only round trip for everything a decision needs: the
 * generation, the patron's record and operator block, the token's
 * revocation, and the library (from the token's claim, else from the
 * patron's record).  ARGV: "<iss> <sub>", library claim, jti.  The
 * answer's fields are the DIGIN_LOOKUP_* of digin_grant.h, where
 * digin_lookup_parse() checks them.
 */
static const char  ngx_http_digin_lookup_lua[] =
    "#!lua flags=no-writes\n"
    "local gen = redis.call('GET', 'digin:gen')\n"
    "if not gen then return {} end\n"
    "local pre = 'digin:' .. gen .. ':'\n"
    "local who = ARGV[1]\n"
    "local p = redis.call('HMGET', pre .. 'pat:' .. who, 'library',"
    " 'blocked')\n"
    "local lib = ARGV[2]\n"
    "if lib == '' then lib = p[1] or '' end\n"
    "local l = {}\n"
    "if lib ~= '' then\n"
    "  l = redis.call('HMGET', pre .. 'lib:' .. lib, 'status', 'county',"
    " 'name', 'grants', 'period_days', 'quota_ebook', 'quota_audio',"
    " 'budget', 'loan_days')\n"
    "end\n"
    "local revoked = 0\n"
    "if ARGV[3] ~= '' then\n"
    "  revoked = redis.call('EXISTS', 'digin:revoked:' .. ARGV[3])\n"
    "end\n"
    "local r = { gen, p[1] and '1' or '0', p[1] or '', p[2] or '0',\n"
    "  tostring(redis.call('HEXISTS', 'digin:block', who)),"
    " tostring(revoked), lib, l[1] and '1' or '0' }\n"
    "for i = 1, 9 do r[#r + 1] = l[i] or '' end\n"
    "return r\n";


/*
 * A loan, atomically on the primary: the same title from the same
 * vendor within the loan period is no new loan (an e-book and the
 * audiobook of one ISBN are two loans); otherwise the patron's quota
 * for the medium in the current period and the library's budget for
 * the month must have room, and both are counted.  Quota periods are
 * fixed windows counted from the epoch, as digin_quota_period()
 * computes them.
 * ARGV: "<iss> <sub>", library, vendor, medium, title, now, month,
 * month end.  Answers { status, used, limit, reset, spent, budget,
 * month end }, status 1 a new loan, 2 the same loan again, -1 quota
 * used up, -2 budget spent, -3 no such library.
 */
static const char  ngx_http_digin_loan_lua[] =
    "local gen = redis.call('GET', 'digin:gen')\n"
    "if not gen then return { -3 } end\n"
    "local pre = 'digin:' .. gen .. ':'\n"
    "local who, lib, vendor = ARGV[1], ARGV[2], ARGV[3]\n"
    "local medium, title = ARGV[4], ARGV[5]\n"
    "local now, month, mend = tonumber(ARGV[6]), ARGV[7],"
    " tonumber(ARGV[8])\n"
    "local l = redis.call('HMGET', pre .. 'lib:' .. lib, 'period_days',"
    " 'quota_' .. medium, 'budget', 'loan_days')\n"
    "if not l[1] then return { -3 } end\n"
    "local period = tonumber(l[1]) * 86400\n"
    "local limit = tonumber(l[2] or '-1')\n"
    "local budget = tonumber(l[3] or '-1')\n"
    "local start = math.floor(now / period) * period\n"
    "local reset = start + period\n"
    "local qkey = 'digin:quota:' .. who .. ':' .. medium .. ':' .. start\n"
    "local bkey = 'digin:budget:' .. lib .. ':' .. month\n"
    "local used = tonumber(redis.call('GET', qkey) or '0')\n"
    "local spent = tonumber(redis.call('GET', bkey) or '0')\n"
    "local lkey = 'digin:loan:' .. who .. ':' .. vendor .. ':' .. title\n"
    "if redis.call('EXISTS', lkey) == 1 then\n"
    "  return { 2, used, limit, reset, spent, budget, mend }\n"
    "end\n"
    "if limit >= 0 and used >= limit then\n"
    "  return { -1, used, limit, reset, spent, budget, mend }\n"
    "end\n"
    "local cost = tonumber(redis.call('HGET', pre .. 'vendor:' .. vendor,"
    " 'loan_cost') or '1')\n"
    "if budget >= 0 and spent + cost > budget then\n"
    "  return { -2, used, limit, reset, spent, budget, mend }\n"
    "end\n"
    "local days = tonumber(l[4] or '21') * 86400\n"
    "redis.call('SET', lkey, medium, 'EX', days)\n"
    "local loans = 'digin:loans:' .. who\n"
    "redis.call('HSET', loans, vendor .. ' ' .. title, vendor .. ' '"
    " .. medium .. ' ' .. (now + days))\n"
    "redis.call('EXPIRE', loans, days)\n"
    "used = redis.call('INCR', qkey)\n"
    "redis.call('EXPIREAT', qkey, reset + 86400)\n"
    "spent = redis.call('INCRBY', bkey, cost)\n"
    "redis.call('EXPIREAT', bkey, mend + 86400)\n"
    "return { 1, used, limit, reset, spent, budget, mend }\n";


/*
 * The patron's counters and active loans, read-only.  ARGV: the quota
 * keys for ebook and audio, the budget key, the loans key, now.
 * Answers { ebook used, audio used, spent, { "vendor title", "vendor
 * medium until", ... } } with loans that ended left out.
 */
static const char  ngx_http_digin_whoami_lua[] =
    "#!lua flags=no-writes\n"
    "local c = redis.call('MGET', ARGV[1], ARGV[2], ARGV[3])\n"
    "local all = redis.call('HGETALL', ARGV[4])\n"
    "local now, loans = tonumber(ARGV[5]), {}\n"
    "for i = 1, #all, 2 do\n"
    "  local ends = tonumber(string.match(all[i + 1], '(%d+)$') or '0')\n"
    "  if ends > now then\n"
    "    loans[#loans + 1] = all[i]\n"
    "    loans[#loans + 1] = all[i + 1]\n"
    "  end\n"
    "end\n"
    "return { c[1] or '0', c[2] or '0', c[3] or '0', loans }\n";


/* lookup and whoami read (a replica), loan writes (the primary) */
static ngx_http_digin_redis_script_t  ngx_http_digin_scripts[3];

#define ngx_http_digin_lookup_script  (&ngx_http_digin_scripts[0])
#define ngx_http_digin_whoami_script  (&ngx_http_digin_scripts[1])
#define ngx_http_digin_loan_script    (&ngx_http_digin_scripts[2])


typedef struct {
    u_char                       p[NGX_HTTP_DIGIN_KEY_LEN];
    u_char                       l[NGX_HTTP_DIGIN_KEY_LEN];
    u_char                       j[NGX_HTTP_DIGIN_KEY_LEN];
} ngx_http_digin_ent_keys_t;


static ngx_int_t ngx_http_digin_ent_key(ngx_http_digin_main_conf_t *dmcf,
    u_char kind, ngx_atomic_uint_t epoch, ngx_str_t *a, ngx_str_t *b,
    u_char *key);
static ngx_int_t ngx_http_digin_ent_keys(ngx_http_digin_main_conf_t *dmcf,
    ngx_str_t *id, ngx_str_t *library, ngx_http_digin_ent_keys_t *keys);
static ngx_int_t ngx_http_digin_ent_who(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx, ngx_str_t *who);
static ngx_int_t ngx_http_digin_ent_wait(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx, ngx_http_digin_redis_t *rd,
    ngx_http_digin_redis_handler_pt handler, int argc, const char **argv,
    size_t *argvlen);
static void ngx_http_digin_ent_cleanup(void *data);
static void ngx_http_digin_ent_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_digin_flight_join(ngx_http_request_t *r,
    ngx_http_digin_main_conf_t *dmcf, ngx_http_digin_ctx_t *ctx,
    ngx_str_t *id);
static void ngx_http_digin_flight_done(void *data, redisReply *reply);
static ngx_int_t ngx_http_digin_ent_store(ngx_http_digin_main_conf_t *dmcf,
    ngx_str_t *id, redisReply *reply, u_char *pv, size_t *plen, u_char *lv,
    size_t *llen, ngx_uint_t *revoked);
static ngx_int_t ngx_http_digin_ent_decode_patron(ngx_http_digin_ctx_t *ctx,
    u_char *v, size_t len, ngx_str_t *library);
static ngx_int_t ngx_http_digin_ent_decode_library(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx, u_char *v, size_t len);
static void ngx_http_digin_ent_loan_done(void *data, redisReply *reply);
static int64_t ngx_http_digin_reply_int(redisReply *r);
static void ngx_http_digin_whoami_done(void *data, redisReply *reply);
static ngx_int_t ngx_http_digin_whoami_send(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_digin_loan_parse(redisReply *v, ngx_str_t *vendor,
    ngx_str_t *medium, time_t *until);
static u_char *ngx_http_digin_json_str(u_char *p, ngx_str_t *s);
static u_char *ngx_http_digin_json_limit(u_char *p, int64_t n);
static int64_t ngx_http_digin_reply_count(redisReply *reply, ngx_uint_t i);
static void ngx_http_digin_invalidate(void *data, ngx_str_t *msg);
static void ngx_http_digin_subscribed(void *data, ngx_uint_t again);


void
ngx_http_digin_ent_init_scripts(void)
{
    ngx_http_digin_redis_script_init(ngx_http_digin_lookup_script,
                                     ngx_http_digin_lookup_lua);
    ngx_http_digin_redis_script_init(ngx_http_digin_whoami_script,
                                     ngx_http_digin_whoami_lua);
    ngx_http_digin_redis_script_init(ngx_http_digin_loan_script,
                                     ngx_http_digin_loan_lua);
}


/*
 * SHA-256 over the kind, the zone's epoch and the parts: a new epoch
 * (a new generation, a lost subscription) makes every older answer
 * unreachable at once.
 */

static ngx_int_t
ngx_http_digin_ent_key(ngx_http_digin_main_conf_t *dmcf, u_char kind,
    ngx_atomic_uint_t epoch, ngx_str_t *a, ngx_str_t *b, u_char *key)
{
    ngx_str_t  parts[4];

    parts[0].data = &kind;
    parts[0].len = 1;
    parts[1].data = (u_char *) &epoch;
    parts[1].len = sizeof(epoch);
    parts[2] = *a;

    if (b != NULL) {
        parts[3] = *b;
    }

    return ngx_http_digin_digest(dmcf, parts, b ? 4 : 3, key);
}


/* id: the issuer, patron, library claim and jti of the token */

static ngx_int_t
ngx_http_digin_ent_keys(ngx_http_digin_main_conf_t *dmcf, ngx_str_t *id,
    ngx_str_t *library, ngx_http_digin_ent_keys_t *keys)
{
    ngx_atomic_uint_t  epoch;

    epoch = ngx_http_digin_cache_epoch(dmcf->shm_zone);

    if (ngx_http_digin_ent_key(dmcf, 'P', epoch, &id[0], &id[1], keys->p)
        != NGX_OK
        || (library->len
            && ngx_http_digin_ent_key(dmcf, 'L', epoch, library, NULL,
                                      keys->l)
               != NGX_OK)
        || (id[3].len
            && ngx_http_digin_ent_key(dmcf, 'J', epoch, &id[3], NULL,
                                      keys->j)
               != NGX_OK))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "<iss> <sub>": how the patron is named in Redis keys */

static ngx_int_t
ngx_http_digin_ent_who(ngx_http_request_t *r, ngx_http_digin_ctx_t *ctx,
    ngx_str_t *who)
{
    who->len = ctx->issuer.len + 1 + ctx->patron.len;
    who->data = ngx_pnalloc(r->pool, who->len);
    if (who->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(who->data, "%V %V", &ctx->issuer, &ctx->patron);

    return NGX_OK;
}


ngx_int_t
ngx_http_digin_ent_lookup(ngx_http_request_t *r,
    ngx_http_digin_main_conf_t *dmcf, ngx_http_digin_loc_conf_t *dlcf,
    ngx_http_digin_ctx_t *ctx)
{
    u_char                     pv[NGX_HTTP_DIGIN_VALUE_MAX];
    u_char                     lv[NGX_HTTP_DIGIN_VALUE_MAX];
    u_char                     jv[NGX_HTTP_DIGIN_VALUE_MAX];
    size_t                     plen, llen, jlen;
    time_t                     now;
    ngx_int_t                  prc, lrc, jrc, rc;
    ngx_str_t                  library, id[4];
    ngx_http_digin_stats_t    *stats;
    ngx_http_digin_ent_keys_t  keys;

    now = ngx_time();
    stats = ngx_http_digin_cache_stats(dmcf->shm_zone);
    library = ctx->library;

    id[0] = ctx->issuer;
    id[1] = ctx->patron;
    id[2] = ctx->library;
    id[3] = ctx->jti;

    if (ngx_http_digin_ent_keys(dmcf, id, &library, &keys) != NGX_OK) {
        return NGX_ERROR;
    }

    prc = ngx_http_digin_cache_get(dmcf->shm_zone, keys.p, now, pv, &plen);

    if (prc != NGX_DECLINED) {
        if (ngx_http_digin_ent_decode_patron(ctx, pv, plen, &library)
            != NGX_OK)
        {
            prc = NGX_DECLINED;

        } else if (ctx->library.len == 0 && library.len) {
            /* the library comes from the patron's record */
            if (ngx_http_digin_ent_key(dmcf, 'L',
                                   ngx_http_digin_cache_epoch(dmcf->shm_zone),
                                   &library, NULL, keys.l)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    lrc = library.len ? ngx_http_digin_cache_get(dmcf->shm_zone, keys.l,
                                                 now, lv, &llen)
                      : (prc == NGX_DECLINED ? NGX_DECLINED : NGX_OK);

    jrc = ctx->jti.len ? ngx_http_digin_cache_get(dmcf->shm_zone, keys.j,
                                                  now, jv, &jlen)
                       : NGX_OK;

    if (prc == NGX_OK && lrc == NGX_OK && jrc == NGX_OK) {
        (void) ngx_atomic_fetch_add(&stats->cache_hits, 1);
        goto decide;
    }

    (void) ngx_atomic_fetch_add(&stats->cache_misses, 1);

    if (!ctx->redis_failed) {
        rc = ngx_http_digin_flight_join(r, dmcf, ctx, id);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    /* Redis cannot be asked: the last known answer, if allowed */

    if (dlcf->failure == NGX_HTTP_DIGIN_FAIL_STALE
        && prc != NGX_DECLINED && lrc != NGX_DECLINED && jrc != NGX_DECLINED)
    {
        (void) ngx_atomic_fetch_add(&stats->cache_stale, 1);
        ctx->stale = 1;
        goto decide;
    }

    ctx->result = DIGIN_ENTITLEMENTS_UNAVAILABLE;

    return NGX_DECLINED;

decide:

    if (library.len) {
        if (ngx_http_digin_ent_decode_library(r, ctx, lv, llen) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    ctx->who.revoked = (ctx->jti.len && jlen == 1 && jv[0] == '1');
    ctx->state = NGX_HTTP_DIGIN_ENTITLED;

    return NGX_OK;
}


/*
 * Sends a command for the request and arranges that a reply, a
 * timeout, or the request's end each find the other side in order.
 */

static ngx_int_t
ngx_http_digin_ent_wait(ngx_http_request_t *r, ngx_http_digin_ctx_t *ctx,
    ngx_http_digin_redis_t *rd, ngx_http_digin_redis_handler_pt handler,
    int argc, const char **argv, size_t *argvlen)
{
    ngx_pool_cleanup_t  *cln;

    if (!ctx->cleanup_set) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_digin_ent_cleanup;
        cln->data = ctx;
        ctx->cleanup_set = 1;
    }

    ctx->request = r;
    ctx->cmd = ngx_http_digin_redis_send(rd, handler, ctx, argc, argv,
                                         argvlen);
    if (ctx->cmd == NULL) {
        return NGX_DECLINED;
    }

    ctx->state = NGX_HTTP_DIGIN_WAIT;

    /* a client that goes away while we wait ends the request */
    r->read_event_handler = ngx_http_test_reading;

    return NGX_OK;
}


static void
ngx_http_digin_ent_cleanup(void *data)
{
    ngx_http_digin_ctx_t  *ctx = data;

    if (ctx->cmd != NULL) {
        ngx_http_digin_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }

    /* the flight lands without this request */
    if (ctx->in_flight) {
        ngx_queue_remove(&ctx->flight);
        ctx->in_flight = 0;
    }
}


static void
ngx_http_digin_ent_resume(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/*
 * Lookups in flight in this worker: a request whose answer is already
 * being fetched waits for that reply instead of asking again, so that
 * a crowd arriving at once (a class signing in, many segment requests
 * of one stream) makes one round trip.
 */

static ngx_int_t
ngx_http_digin_flight_join(ngx_http_request_t *r,
    ngx_http_digin_main_conf_t *dmcf, ngx_http_digin_ctx_t *ctx,
    ngx_str_t *id)
{
    u_char                    key[NGX_HTTP_DIGIN_KEY_LEN], *p;
    size_t                    len, argvlen[6];
    ngx_str_t                 parts[5], who;
    ngx_uint_t                i;
    ngx_queue_t              *q;
    const char               *argv[6];
    ngx_atomic_uint_t         epoch;
    ngx_pool_cleanup_t       *cln;
    ngx_http_digin_flight_t  *f;

    epoch = ngx_http_digin_cache_epoch(dmcf->shm_zone);

    parts[0].data = (u_char *) &epoch;
    parts[0].len = sizeof(epoch);

    for (i = 0; i < 4; i++) {
        parts[i + 1] = id[i];
    }

    if (ngx_http_digin_digest(dmcf, parts, 5, key) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!ctx->cleanup_set) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_digin_ent_cleanup;
        cln->data = ctx;
        ctx->cleanup_set = 1;
    }

    for (q = ngx_queue_head(&dmcf->flights);
         q != ngx_queue_sentinel(&dmcf->flights);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_digin_flight_t, queue);

        if (ngx_memcmp(f->key, key, NGX_HTTP_DIGIN_KEY_LEN) == 0) {
            goto wait;
        }
    }

    /* the first: a flight of its own, which outlives any one request */

    len = sizeof(ngx_http_digin_flight_t);

    for (i = 0; i < 4; i++) {
        len += id[i].len;
    }

    f = ngx_alloc(len, r->connection->log);
    if (f == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(f->key, key, NGX_HTTP_DIGIN_KEY_LEN);
    ngx_queue_init(&f->waiters);
    f->dmcf = dmcf;

    p = (u_char *) (f + 1);

    for (i = 0; i < 4; i++) {
        f->id[i].data = p;
        f->id[i].len = id[i].len;
        p = ngx_cpymem(p, id[i].data, id[i].len);
    }

    if (ngx_http_digin_ent_who(r, ctx, &who) != NGX_OK) {
        ngx_free(f);
        return NGX_ERROR;
    }

    argv[0] = "EVALSHA";
    argvlen[0] = sizeof("EVALSHA") - 1;
    argv[1] = (const char *) ngx_http_digin_lookup_script->sha1;
    argvlen[1] = 40;
    argv[2] = "0";
    argvlen[2] = 1;
    argv[3] = (const char *) who.data;
    argvlen[3] = who.len;
    argv[4] = (const char *) id[2].data;
    argvlen[4] = id[2].len;
    argv[5] = (const char *) id[3].data;
    argvlen[5] = id[3].len;

    if (ngx_http_digin_redis_send(dmcf->rd_read, ngx_http_digin_flight_done,
                                  f, 6, argv, argvlen)
        == NULL)
    {
        ngx_free(f);
        return NGX_DECLINED;
    }

    ngx_queue_insert_tail(&dmcf->flights, &f->queue);

wait:

    ngx_queue_insert_tail(&f->waiters, &ctx->flight);
    ctx->in_flight = 1;
    ctx->request = r;
    ctx->state = NGX_HTTP_DIGIN_WAIT;

    /* a client that goes away while we wait ends the request */
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


static void
ngx_http_digin_flight_done(void *data, redisReply *reply)
{
    ngx_http_digin_flight_t *f = data;

    u_char                       pv[NGX_HTTP_DIGIN_VALUE_MAX];
    u_char                       lv[NGX_HTTP_DIGIN_VALUE_MAX];
    size_t                       plen, llen;
    ngx_int_t                    ok;
    ngx_str_t                    library;
    ngx_uint_t                   revoked;
    ngx_queue_t                 *q;
    ngx_http_request_t          *r;
    ngx_http_digin_ctx_t        *ctx;
    ngx_http_digin_loc_conf_t   *dlcf;

    ngx_queue_remove(&f->queue);

    ok = (reply != NULL
          && ngx_http_digin_ent_store(f->dmcf, f->id, reply, pv, &plen, lv,
                                      &llen, &revoked)
             == NGX_OK);

    while (!ngx_queue_empty(&f->waiters)) {
        q = ngx_queue_head(&f->waiters);
        ngx_queue_remove(q);

        ctx = ngx_queue_data(q, ngx_http_digin_ctx_t, flight);
        ctx->in_flight = 0;
        r = ctx->request;

        /* the token's library claim, else the one of the patron's record */
        library = ctx->library;

        if (ok
            && ngx_http_digin_ent_decode_patron(ctx, pv, plen, &library)
               == NGX_OK
            && (library.len == 0
                || ngx_http_digin_ent_decode_library(r, ctx, lv, llen)
                   == NGX_OK))
        {
            ctx->who.revoked = revoked;
            ctx->state = NGX_HTTP_DIGIN_ENTITLED;

        } else {
            /*
             * No answer: the lookup runs again from the cache only,
             * which gives a stale answer where the location allows it.
             */
            dlcf = ngx_http_get_module_loc_conf(r, ngx_http_digin_module);

            ctx->redis_failed = 1;
            ctx->state = NGX_HTTP_DIGIN_TOKEN;

            if (dlcf->failure != NGX_HTTP_DIGIN_FAIL_STALE) {
                ctx->result = DIGIN_ENTITLEMENTS_UNAVAILABLE;
                ctx->state = NGX_HTTP_DIGIN_DONE;
            }
        }

        ngx_http_digin_ent_resume(r);
    }

    ngx_free(f);
}


/*
 * The script's answer goes into the cache in three parts, each of
 * which can be invalidated alone: the patron ('P': found, blocked, the
 * library of the record), the library ('L') and the token's revocation
 * ('J').  The patron's and library's values are left in pv and lv for
 * the requests waiting on them.
 */

static ngx_int_t
ngx_http_digin_ent_store(ngx_http_digin_main_conf_t *dmcf, ngx_str_t *id,
    redisReply *reply, u_char *pv, size_t *plen, u_char *lv, size_t *llen,
    ngx_uint_t *revoked)
{
    u_char                      v;
    time_t                      now, ttl;
    ngx_str_t                   library;
    ngx_uint_t                  i;
    digin_str_t                 f[DIGIN_LOOKUP_FIELDS];
    digin_lookup_t              lk;
    ngx_atomic_uint_t           gen;
    ngx_http_digin_ent_keys_t   keys;

    if (reply->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    if (reply->elements == 0) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "digin: no entitlements are loaded in Redis "
                      "(run \"digin-admin load\")");
        return NGX_ERROR;
    }

    if (reply->elements != DIGIN_LOOKUP_FIELDS) {
        return NGX_ERROR;
    }

    for (i = 0; i < DIGIN_LOOKUP_FIELDS; i++) {
        f[i].s = (reply->element[i]->type == REDIS_REPLY_STRING)
                 ? reply->element[i]->str : NULL;
        f[i].len = reply->element[i]->len;
    }

    /* the shape, and that both values fit their buffers */
    if (digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                           NGX_HTTP_DIGIN_VALUE_MAX)
        != 0)
    {
        return NGX_ERROR;
    }

    gen = (ngx_atomic_uint_t) ngx_atoi((u_char *) lk.gen.s, lk.gen.len);

    /* a new generation: every answer from an older one goes */
    (void) ngx_http_digin_cache_see_generation(dmcf->shm_zone, gen);

    library.data = (u_char *) lk.library.s;
    library.len = lk.library.len;

    if (ngx_http_digin_ent_keys(dmcf, id, &library, &keys) != NGX_OK) {
        return NGX_ERROR;
    }

    now = ngx_time();

    /* the patron */

    *plen = lk.plen;

    ttl = lk.patron_found ? dmcf->cache_ttl : dmcf->negative_ttl;

    (void) ngx_http_digin_cache_put(dmcf->shm_zone, keys.p, now, now + ttl,
                                    now + ttl + dmcf->stale_ttl, pv, *plen);

    /* the library */

    *llen = lk.llen;

    if (library.len) {
        ttl = lk.library_found ? dmcf->cache_ttl : dmcf->negative_ttl;

        (void) ngx_http_digin_cache_put(dmcf->shm_zone, keys.l, now,
                                        now + ttl,
                                        now + ttl + dmcf->stale_ttl, lv,
                                        *llen);
    }

    /* the token's revocation */

    *revoked = lk.revoked;

    if (id[3].len) {
        v = *revoked ? '1' : '0';

        (void) ngx_http_digin_cache_put(dmcf->shm_zone, keys.j, now,
                                        now + dmcf->cache_ttl,
                                        now + dmcf->cache_ttl
                                        + dmcf->stale_ttl, &v, 1);
    }

    return NGX_OK;
}


/* a cached patron: found, blocked, then the library of the record */

static ngx_int_t
ngx_http_digin_ent_decode_patron(ngx_http_digin_ctx_t *ctx, u_char *v,
    size_t len, ngx_str_t *library)
{
    unsigned     blocked;
    digin_str_t  lib;

    if (digin_lookup_patron(v, len, &blocked, &lib) != 0) {
        return NGX_ERROR;
    }

    ctx->who.blocked = blocked;

    /* the token's claim wins over the record */
    if (ctx->library.len == 0) {
        library->data = (u_char *) lib.s;
        library->len = lib.len;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_digin_ent_decode_library(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx, u_char *v, size_t len)
{
    u_char  *p;

    /* the strings outlive the caller's buffer */
    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, v, len);

    if (digin_lookup_library(p, len, &ctx->lib) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_digin_ent_loan(ngx_http_request_t *r,
    ngx_http_digin_main_conf_t *dmcf, ngx_http_digin_loc_conf_t *dlcf,
    ngx_http_digin_ctx_t *ctx)
{
    u_char        now_s[NGX_TIME_T_LEN], mend_s[NGX_TIME_T_LEN];
    char          month[8];
    time_t        now, mend;
    unsigned      media;
    ngx_int_t     medium;
    ngx_str_t     title, who, vendor;
    const char   *argv[11];
    size_t        argvlen[11];
    digin_str_t   v;

    if (ngx_http_complex_value(r, dlcf->loan_title, &title) != NGX_OK) {
        return NGX_ERROR;
    }

    if (title.len == 0) {
        ctx->result = DIGIN_TITLE_MISSING;
        return NGX_DECLINED;
    }

    vendor = dlcf->vendor;
    medium = (dlcf->loan_medium >= 0) ? dlcf->loan_medium : dlcf->medium;

    if (medium < 0) {
        /* the vendor's only medium for this library */
        v.s = (const char *) vendor.data;
        v.len = vendor.len;
        media = digin_grants_media(&ctx->lib.grants, &v);

        medium = (media == (1u << DIGIN_MEDIUM_AUDIO)) ? DIGIN_MEDIUM_AUDIO
                                                       : DIGIN_MEDIUM_EBOOK;
    }

    ctx->loan_medium = medium;

    if (ngx_http_digin_ent_who(r, ctx, &who) != NGX_OK) {
        return NGX_ERROR;
    }

    now = ngx_time();
    digin_budget_month(now, month, &mend);

    argv[0] = "EVALSHA";
    argv[1] = (const char *) ngx_http_digin_loan_script->sha1;
    argv[2] = "0";
    argv[3] = (const char *) who.data;
    argvlen[3] = who.len;
    argv[4] = ctx->lib.id.s;
    argvlen[4] = ctx->lib.id.len;
    argv[5] = (const char *) vendor.data;
    argvlen[5] = vendor.len;
    argv[6] = digin_medium_name(medium);
    argv[7] = (const char *) title.data;
    argvlen[7] = title.len;
    argv[8] = (const char *) now_s;
    argvlen[8] = ngx_sprintf(now_s, "%T", now) - now_s;
    argv[9] = month;
    argv[10] = (const char *) mend_s;
    argvlen[10] = ngx_sprintf(mend_s, "%T", mend) - mend_s;

    argvlen[0] = 7;
    argvlen[1] = 40;
    argvlen[2] = 1;
    argvlen[6] = ngx_strlen(argv[6]);
    argvlen[9] = 7;

    if (ngx_http_digin_ent_wait(r, ctx, dmcf->rd_write,
                                ngx_http_digin_ent_loan_done, 11, argv,
                                argvlen)
        == NGX_OK)
    {
        return NGX_AGAIN;
    }

    /* a loan is never counted on a stale answer */
    ctx->result = DIGIN_ENTITLEMENTS_UNAVAILABLE;

    return NGX_DECLINED;
}


static int64_t
ngx_http_digin_reply_int(redisReply *r)
{
    return (r->type == REDIS_REPLY_INTEGER) ? (int64_t) r->integer : 0;
}


static void
ngx_http_digin_ent_loan_done(void *data, redisReply *reply)
{
    ngx_http_digin_ctx_t  *ctx = data;

    int64_t              status;
    ngx_http_request_t  *r;

    r = ctx->request;
    ctx->cmd = NULL;
    ctx->state = NGX_HTTP_DIGIN_LOANED;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements < 1)
    {
        ctx->result = DIGIN_ENTITLEMENTS_UNAVAILABLE;
        ngx_http_digin_ent_resume(r);
        return;
    }

    status = ngx_http_digin_reply_int(reply->element[0]);

    if (reply->elements == 7) {
        ctx->loan_used = ngx_http_digin_reply_int(reply->element[1]);
        ctx->loan_limit = ngx_http_digin_reply_int(reply->element[2]);
        ctx->loan_reset = (time_t) ngx_http_digin_reply_int(reply->element[3]);
        ctx->budget_spent = ngx_http_digin_reply_int(reply->element[4]);
        ctx->budget_limit = ngx_http_digin_reply_int(reply->element[5]);
        ctx->budget_reset =
            (time_t) ngx_http_digin_reply_int(reply->element[6]);
    }

    switch (status) {

    case 1:
    case 2:
        ctx->result = (reply->elements == 7) ? DIGIN_OK
                                             : DIGIN_ENTITLEMENTS_UNAVAILABLE;
        break;

    case -1:
        ctx->result = DIGIN_QUOTA_EXHAUSTED;
        break;

    case -2:
        ctx->result = DIGIN_BUDGET_EXHAUSTED;
        break;

    default:
        ctx->result = DIGIN_NOT_ENTITLED;
        break;
    }

    ngx_http_digin_ent_resume(r);
}


/* whoami: the entitlement answer plus this period's counters */

ngx_int_t
ngx_http_digin_whoami_handler(ngx_http_request_t *r)
{
    u_char                       qkey[DIGIN_MEDIUM_MAX][512];
    u_char                       bkey[128], lkey[512];
    u_char                       now_s[NGX_TIME_T_LEN];
    char                         month[8];
    time_t                       now, start, reset, mend;
    ngx_int_t                    rc, m;
    ngx_str_t                    who;
    const char                  *argv[8];
    size_t                       argvlen[8];
    ngx_http_digin_ctx_t        *ctx;
    ngx_http_digin_main_conf_t  *dmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_digin_module);
    dmcf = ngx_http_get_module_main_conf(r, ngx_http_digin_module);

    if (ctx == NULL || ctx->result != DIGIN_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ctx->lib.found || dmcf->rd_read == NULL
        || ngx_http_digin_ent_who(r, ctx, &who) != NGX_OK
        || who.len > 400 || ctx->lib.id.len > 63)
    {
        return ngx_http_digin_whoami_send(r, ctx, NULL);
    }

    now = ngx_time();
    digin_quota_period(now, (int) ctx->lib.period_days, &start, &reset);
    digin_budget_month(now, month, &mend);

    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argv[1] = (const char *) ngx_http_digin_whoami_script->sha1;
    argvlen[1] = 40;
    argv[2] = "0";
    argvlen[2] = 1;

    for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
        argv[3 + m] = (const char *) qkey[m];
        argvlen[3 + m] = ngx_sprintf(qkey[m], DIGIN_KEY_QUOTA "%V:%s:%T",
                                     &who, digin_medium_name(m), start)
                         - qkey[m];
    }

    argv[5] = (const char *) bkey;
    argvlen[5] = ngx_sprintf(bkey, DIGIN_KEY_BUDGET "%*s:%s",
                             ctx->lib.id.len, ctx->lib.id.s, month)
                 - bkey;
    argv[6] = (const char *) lkey;
    argvlen[6] = ngx_sprintf(lkey, DIGIN_KEY_LOANS "%V", &who) - lkey;
    argv[7] = (const char *) now_s;
    argvlen[7] = ngx_sprintf(now_s, "%T", now) - now_s;

    if (ngx_http_digin_ent_wait(r, ctx, dmcf->rd_read,
                                ngx_http_digin_whoami_done, 8, argv,
                                argvlen)
        != NGX_OK)
    {
        /* the counters are unknown, the rest is still worth telling */
        return ngx_http_digin_whoami_send(r, ctx, NULL);
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_digin_whoami_done(void *data, redisReply *reply)
{
    ngx_http_digin_ctx_t  *ctx = data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;
    ctx->cmd = NULL;
    r->read_event_handler = ngx_http_block_reading;

    if (reply != NULL
        && (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4
            || reply->element[3]->type != REDIS_REPLY_ARRAY))
    {
        reply = NULL;
    }

    /* the request may be freed by its finalization: not read after it */
    ngx_http_finalize_request(r, ngx_http_digin_whoami_send(r, ctx, reply));
    ngx_http_run_posted_requests(c);
}


static u_char *
ngx_http_digin_json_str(u_char *p, ngx_str_t *s)
{
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s->data, s->len);
    *p++ = '"';

    return p;
}


static u_char *
ngx_http_digin_json_limit(u_char *p, int64_t n)
{
    if (n < 0) {
        return ngx_cpymem(p, "null", 4);
    }

    return ngx_sprintf(p, "%L", n);
}


u_char *
ngx_http_digin_json_time(u_char *p, time_t t)
{
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    return ngx_sprintf(p, "\"%4d-%02d-%02dT%02d:%02d:%02dZ\"",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
}


static int64_t
ngx_http_digin_reply_count(redisReply *reply, ngx_uint_t i)
{
    redisReply  *e;

    if (reply == NULL) {
        return -1;
    }

    e = reply->element[i];

    if (e->type != REDIS_REPLY_STRING) {
        return 0;
    }

    return digin_grant_number(e->str, e->len, 0);
}


/* "vendor medium until" of a loan */

static ngx_int_t
ngx_http_digin_loan_parse(redisReply *v, ngx_str_t *vendor, ngx_str_t *medium,
    time_t *until)
{
    u_char  *p, *last, *sp;

    p = (u_char *) v->str;
    last = p + v->len;

    sp = ngx_strlchr(p, last, ' ');
    if (sp == NULL) {
        return NGX_ERROR;
    }

    vendor->data = p;
    vendor->len = sp - p;

    p = sp + 1;
    sp = ngx_strlchr(p, last, ' ');
    if (sp == NULL) {
        return NGX_ERROR;
    }

    medium->data = p;
    medium->len = sp - p;

    *until = ngx_atotm(sp + 1, last - (sp + 1));

    return (*until == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}


static ngx_int_t
ngx_http_digin_whoami_send(ngx_http_request_t *r, ngx_http_digin_ctx_t *ctx,
    redisReply *reply)
{
    u_char           *p;
    size_t            len;
    time_t            start, reset, mend;
    char              month[8];
    int64_t           used, limit, spent;
    ngx_buf_t        *b;
    ngx_str_t         s;
    ngx_uint_t        m, first;
    time_t            until;
    ngx_str_t         vendor_s, medium_s;
    ngx_uint_t        i;
    redisReply       *loans;
    digin_str_t       vendor, before;
    const char       *g, *end, *slash, *sp;
    digin_library_t  *lib;

    lib = &ctx->lib;

    /* everything escaped may grow sixfold */
    len = 1024 + 6 * (ctx->issuer.len + ctx->patron.len + lib->id.len
                      + lib->name.len + lib->county.len)
          + 16 * lib->grants.len;

    loans = (reply != NULL) ? reply->element[3] : NULL;

    for (i = 0; loans != NULL && i < loans->elements; i++) {
        len += 64 + 6 * loans->element[i]->len;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    p = ngx_cpymem(p, "{\"issuer\":", 10);
    p = ngx_http_digin_json_str(p, &ctx->issuer);
    p = ngx_cpymem(p, ",\"patron\":", 10);
    p = ngx_http_digin_json_str(p, &ctx->patron);
    p = ngx_sprintf(p, ",\"blocked\":%s", ctx->who.blocked ? "true" : "false");

    if (!lib->found) {
        p = ngx_cpymem(p, ",\"library\":null,\"access\":[],\"loans\":[]}\n",
                       41);
        goto send;
    }

    p = ngx_cpymem(p, ",\"library\":{\"id\":", 17);
    s.data = (u_char *) lib->id.s;
    s.len = lib->id.len;
    p = ngx_http_digin_json_str(p, &s);
    p = ngx_cpymem(p, ",\"name\":", 8);
    s.data = (u_char *) lib->name.s;
    s.len = lib->name.len;
    p = ngx_http_digin_json_str(p, &s);
    p = ngx_cpymem(p, ",\"county\":", 10);
    s.data = (u_char *) lib->county.s;
    s.len = lib->county.len;
    p = ngx_http_digin_json_str(p, &s);
    p = ngx_sprintf(p, ",\"status\":\"%s\"}",
                    lib->suspended ? "suspended" : "active");

    /* access: each vendor once, with its media */
    p = ngx_cpymem(p, ",\"access\":[", 11);
    first = 1;
    g = lib->grants.s;
    end = g + lib->grants.len;

    while (g < end) {
        sp = (const char *) ngx_strlchr((u_char *) g, (u_char *) end, ' ');
        if (sp == NULL) {
            sp = end;
        }

        slash = (const char *) ngx_strlchr((u_char *) g, (u_char *) sp, '/');

        if (slash != NULL) {
            vendor.s = g;
            vendor.len = slash - g;
            before.s = lib->grants.s;
            before.len = g - lib->grants.s;

            /* the vendor's first pair speaks for all of its media */
            if (digin_grants_media(&before, &vendor) == 0) {
                p = ngx_cpymem(p, first ? "{\"vendor\":" : ",{\"vendor\":",
                               first ? 10 : 11);
                s.data = (u_char *) vendor.s;
                s.len = vendor.len;
                p = ngx_http_digin_json_str(p, &s);
                p = ngx_cpymem(p, ",\"media\":[", 10);

                for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
                    if (digin_grants_media(&lib->grants, &vendor) & (1u << m))
                    {
                        p = ngx_sprintf(p, "%s\"%s\"",
                                        p[-1] == '[' ? "" : ",",
                                        digin_medium_name(m));
                    }
                }

                p = ngx_cpymem(p, "]}", 2);
                first = 0;
            }
        }

        g = sp + 1;
    }

    *p++ = ']';

    /* quota and budget */

    digin_quota_period(ngx_time(), (int) lib->period_days, &start, &reset);

    p = ngx_sprintf(p, ",\"quota\":{\"period_days\":%L,\"resets_at\":",
                    lib->period_days);
    p = ngx_http_digin_json_time(p, reset);

    for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
        limit = lib->quota[m];
        used = ngx_http_digin_reply_count(reply, m);

        p = ngx_sprintf(p, ",\"%s\":{\"limit\":", digin_medium_name(m));
        p = ngx_http_digin_json_limit(p, limit);
        p = ngx_cpymem(p, ",\"used\":", 8);
        p = ngx_http_digin_json_limit(p, used);
        p = ngx_cpymem(p, ",\"left\":", 8);
        p = ngx_http_digin_json_limit(p, (limit < 0 || used < 0)
                                         ? -1
                                         : ngx_max(limit - used, 0));
        *p++ = '}';
    }

    digin_budget_month(ngx_time(), month, &mend);
    spent = ngx_http_digin_reply_count(reply, DIGIN_MEDIUM_MAX);

    p = ngx_cpymem(p, "},\"budget\":{\"limit\":", 20);
    p = ngx_http_digin_json_limit(p, lib->budget);
    p = ngx_cpymem(p, ",\"spent\":", 9);
    p = ngx_http_digin_json_limit(p, spent);
    p = ngx_cpymem(p, ",\"left\":", 8);
    p = ngx_http_digin_json_limit(p, (lib->budget < 0 || spent < 0)
                                     ? -1
                                     : ngx_max(lib->budget - spent, 0));
    p = ngx_cpymem(p, ",\"resets_at\":", 13);
    p = ngx_http_digin_json_time(p, mend);

    /* the active loans: "vendor title", then "vendor medium until" */
    p = ngx_cpymem(p, "},\"loans\":[", 11);

    for (i = 0; loans != NULL && i + 1 < loans->elements; i += 2) {
        if (loans->element[i]->type != REDIS_REPLY_STRING
            || loans->element[i + 1]->type != REDIS_REPLY_STRING
            || ngx_http_digin_loan_parse(loans->element[i + 1], &vendor_s,
                                         &medium_s, &until)
               != NGX_OK)
        {
            continue;
        }

        /* the field is "vendor title" */
        s.data = (u_char *) loans->element[i]->str;
        s.len = loans->element[i]->len;

        if (s.len <= vendor_s.len || s.data[vendor_s.len] != ' ') {
            continue;
        }

        s.data += vendor_s.len + 1;
        s.len -= vendor_s.len + 1;

        p = ngx_cpymem(p, (p[-1] == '[') ? "{\"title\":" : ",{\"title\":",
                       (p[-1] == '[') ? 9 : 10);
        p = ngx_http_digin_json_str(p, &s);
        p = ngx_cpymem(p, ",\"vendor\":", 10);
        p = ngx_http_digin_json_str(p, &vendor_s);
        p = ngx_cpymem(p, ",\"medium\":", 10);
        p = ngx_http_digin_json_str(p, &medium_s);
        p = ngx_cpymem(p, ",\"until\":", 9);
        p = ngx_http_digin_json_time(p, until);
        *p++ = '}';
    }

    p = ngx_cpymem(p, "]}\n", 3);

send:

    b->last = p;

    return ngx_http_digin_send_json(r, NGX_HTTP_OK, b);
}


/* digin_status: the zone's counters in Prometheus text format */

ngx_int_t
ngx_http_digin_status_handler(ngx_http_request_t *r)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_buf_t                   *b;
    ngx_uint_t                   i;
    ngx_atomic_uint_t            cum;
    ngx_http_digin_stats_t      *st;
    ngx_http_digin_main_conf_t  *dmcf;
    static ngx_msec_t            bounds[] = NGX_HTTP_DIGIN_LATENCY_BUCKETS;
    static ngx_str_t             type =
                                     ngx_string("text/plain; version=0.0.4");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_digin_module);

    if (dmcf->shm_zone == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    st = ngx_http_digin_cache_stats(dmcf->shm_zone);

    b = ngx_create_temp_buf(r->pool, 8192);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    p = ngx_sprintf(p, "# HELP digin_requests_total Requests the gate "
                    "decided, by result.\n"
                    "# TYPE digin_requests_total counter\n");

    for (i = 0; i < DIGIN_RESULT_MAX; i++) {
        p = ngx_sprintf(p, "digin_requests_total{result=\"%s\"} %uA\n",
                        digin_result_name(i), st->results[i]);
    }

#define COUNTER(name, help, field)                                           \
    p = ngx_sprintf(p, "# HELP " name " " help "\n# TYPE " name " counter\n" \
                    name " %uA\n", st->field)

    COUNTER("digin_cache_hits_total",
            "Entitlement answers found fresh in digin_zone.", cache_hits);
    COUNTER("digin_cache_misses_total",
            "Entitlement answers that needed Redis.", cache_misses);
    COUNTER("digin_cache_stale_total",
            "Stale answers served while Redis could not answer.",
            cache_stale);
    COUNTER("digin_cache_evictions_total",
            "Live entries evicted from a full digin_zone.", cache_evictions);
    COUNTER("digin_redis_requests_total", "Commands sent to Redis.",
            redis_requests);
    COUNTER("digin_redis_errors_total",
            "Redis commands that failed or answered an error.",
            redis_errors);
    COUNTER("digin_redis_timeouts_total",
            "Redis commands that timed out.", redis_timeouts);
    COUNTER("digin_redis_reconnects_total",
            "Connections to Redis made again after a loss.",
            redis_reconnects);
    COUNTER("digin_invalidations_total",
            "Invalidation messages received.", invalidations);

#undef COUNTER

    p = ngx_sprintf(p, "# HELP digin_redis_latency_seconds Redis round "
                    "trips.\n# TYPE digin_redis_latency_seconds "
                    "histogram\n");

    cum = 0;

    for (i = 0; i < NGX_HTTP_DIGIN_NLATENCY; i++) {
        cum += st->latency[i];
        p = ngx_sprintf(p, "digin_redis_latency_seconds_bucket{le=\"%.3f\"}"
                        " %uA\n", (double) bounds[i] / 1000, cum);
    }

    cum += st->latency[NGX_HTTP_DIGIN_NLATENCY];

    p = ngx_sprintf(p, "digin_redis_latency_seconds_bucket{le=\"+Inf\"} %uA\n"
                    "digin_redis_latency_seconds_sum %.6f\n"
                    "digin_redis_latency_seconds_count %uA\n",
                    cum, (double) st->latency_us / 1000000, cum);

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_length_n = p - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &(ngx_chain_t) { b, NULL });
}


/*
 * Invalidations: "all N" after a load, "patron <iss> <sub>" after a
 * block or unblock, "jti <jti>" after a revocation.  One worker listens
 * for the zone all workers share.
 */

static void
ngx_http_digin_invalidate(void *data, ngx_str_t *msg)
{
    ngx_http_digin_main_conf_t *dmcf = data;

    u_char      key[NGX_HTTP_DIGIN_KEY_LEN], *sp;
    ngx_str_t   a, b;

    (void) ngx_atomic_fetch_add(
                &ngx_http_digin_cache_stats(dmcf->shm_zone)->invalidations, 1);

    if (msg->len > 7 && ngx_strncmp(msg->data, "patron ", 7) == 0) {
        a.data = msg->data + 7;
        sp = ngx_strlchr(a.data, msg->data + msg->len, ' ');

        if (sp != NULL) {
            a.len = sp - a.data;
            b.data = sp + 1;
            b.len = msg->data + msg->len - b.data;

            if (ngx_http_digin_ent_key(dmcf, 'P',
                                   ngx_http_digin_cache_epoch(dmcf->shm_zone),
                                   &a, &b, key)
                == NGX_OK)
            {
                ngx_http_digin_cache_delete_key(dmcf->shm_zone, key);
                return;
            }
        }

    } else if (msg->len > 4 && ngx_strncmp(msg->data, "jti ", 4) == 0) {
        a.data = msg->data + 4;
        a.len = msg->len - 4;

        if (ngx_http_digin_ent_key(dmcf, 'J',
                                   ngx_http_digin_cache_epoch(dmcf->shm_zone),
                                   &a, NULL, key)
            == NGX_OK)
        {
            ngx_http_digin_cache_delete_key(dmcf->shm_zone, key);
            return;
        }
    }

    /* "all", or anything not understood: forget every answer */
    ngx_http_digin_cache_new_epoch(dmcf->shm_zone);
}


static void
ngx_http_digin_subscribed(void *data, ngx_uint_t again)
{
    ngx_http_digin_main_conf_t *dmcf = data;

    /* messages may have been missed while the connection was down */
    if (again) {
        ngx_http_digin_cache_new_epoch(dmcf->shm_zone);
    }
}


ngx_int_t
ngx_http_digin_ent_init_process(ngx_cycle_t *cycle,
    ngx_http_digin_main_conf_t *dmcf)
{
    ngx_uint_t  same;

    if (dmcf->redis == NULL) {
        return NGX_OK;
    }

    ngx_queue_init(&dmcf->flights);

    same = (dmcf->redis_primary == dmcf->redis);

    dmcf->rd_read = ngx_http_digin_redis_create(cycle, dmcf->redis,
                                                ngx_http_digin_scripts,
                                                same ? 3 : 2,
                                                dmcf->shm_zone);
    if (dmcf->rd_read == NULL) {
        return NGX_ERROR;
    }

    if (same) {
        dmcf->rd_write = dmcf->rd_read;

    } else {
        dmcf->rd_write = ngx_http_digin_redis_create(cycle,
                                                     dmcf->redis_primary,
                                                     ngx_http_digin_loan_script,
                                                     1, dmcf->shm_zone);
        if (dmcf->rd_write == NULL) {
            return NGX_ERROR;
        }
    }

    if (ngx_worker != 0) {
        return NGX_OK;
    }

    dmcf->rd_sub = ngx_http_digin_redis_create(cycle, dmcf->redis, NULL, 0,
                                               dmcf->shm_zone);
    if (dmcf->rd_sub == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_digin_redis_subscribe(dmcf->rd_sub, DIGIN_CHANNEL,
                                          ngx_http_digin_invalidate,
                                          ngx_http_digin_subscribed, dmcf);
}


void
ngx_http_digin_ent_exit_process(ngx_http_digin_main_conf_t *dmcf)
{
    if (dmcf->rd_sub != NULL) {
        ngx_http_digin_redis_destroy(dmcf->rd_sub);
    }

    if (dmcf->rd_write != NULL && dmcf->rd_write != dmcf->rd_read) {
        ngx_http_digin_redis_destroy(dmcf->rd_write);
    }

    if (dmcf->rd_read != NULL) {
        ngx_http_digin_redis_destroy(dmcf->rd_read);
    }
}
