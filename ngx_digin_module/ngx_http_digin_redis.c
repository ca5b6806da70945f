/*
 * Copyright (C) Digin gateway developers
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/async.h>
#include <openssl/sha.h>

#include "ngx_http_digin_redis.h"


/*
 * reconnects: 100 ms doubling to 1 s, so that Redis's return after a
 * long outage is noticed within a second, at one attempt a second per
 * worker and connection meanwhile
 */
#define NGX_HTTP_DIGIN_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_DIGIN_REDIS_BACKOFF_MAX  1000


struct ngx_http_digin_redis_s {
    ngx_http_digin_redis_conf_t     *conf;
    redisAsyncContext               *ac;
    ngx_connection_t                *conn;
    ngx_log_t                       *log;
    ngx_event_t                      connect_timer;
    ngx_event_t                      retry;
    ngx_msec_t                       backoff;
    ngx_http_digin_redis_script_t   *scripts;
    ngx_uint_t                       nscripts;
    ngx_http_digin_stats_t          *stats;

    const char                      *channel;
    void                           (*on_message)(void *data, ngx_str_t *msg);
    void                           (*on_subscribed)(void *data,
                                                    ngx_uint_t again);
    void                            *sub_data;

    unsigned                         connected:1;     /* now */
    unsigned                         was_connected:1; /* ever before */
    unsigned                         destroyed:1;
};


struct ngx_http_digin_redis_cmd_s {
    ngx_http_digin_redis_t          *rd;
    ngx_http_digin_redis_handler_pt  handler;
    void                            *data;
    ngx_event_t                      timer;
    ngx_msec_t                       sent;
};


static void ngx_http_digin_redis_connect(ngx_http_digin_redis_t *rd);
static void ngx_http_digin_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_digin_redis_setup_done(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_digin_redis_subscribed(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_digin_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_digin_redis_retry(ngx_event_t *ev);
static void ngx_http_digin_redis_read(ngx_event_t *ev);
static void ngx_http_digin_redis_write(ngx_event_t *ev);
static void ngx_http_digin_redis_add_read(void *privdata);
static void ngx_http_digin_redis_del_read(void *privdata);
static void ngx_http_digin_redis_add_write(void *privdata);
static void ngx_http_digin_redis_del_write(void *privdata);
static void ngx_http_digin_redis_cleanup(void *privdata);
static void ngx_http_digin_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_digin_redis_timeout(ngx_event_t *ev);
static void ngx_http_digin_redis_latency(ngx_http_digin_stats_t *stats,
    ngx_msec_t ms);


char *
ngx_http_digin_redis_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_digin_redis_conf_t *rc)
{
    ngx_url_t   u;
    u_char     *p;

    rc->name = *value;

    if (value->len > 5 && ngx_strncmp(value->data, "unix:", 5) == 0) {
        rc->path.len = value->len - 5;
        rc->path.data = ngx_pnalloc(cf->pool, rc->path.len + 1);
        if (rc->path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(rc->path.data, value->data + 5, rc->path.len);
        rc->path.data[rc->path.len] = '\0';

        return NGX_CONF_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *value;
    u.default_port = 6379;

    /* names are resolved now: a blocking look-up has no place later */
    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Redis address \"%V\"%s%s", value,
                           u.err ? ": " : "", u.err ? u.err : "");
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    rc->host.data = p;
    rc->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                                 p, NGX_SOCKADDR_STRLEN, 0);
    p[rc->host.len] = '\0';
    rc->port = u.port;

    return NGX_CONF_OK;
}


void
ngx_http_digin_redis_script_init(ngx_http_digin_redis_script_t *s,
    const char *body)
{
    u_char  md[SHA_DIGEST_LENGTH];

    s->body.data = (u_char *) body;
    s->body.len = ngx_strlen(body);

    SHA1(s->body.data, s->body.len, md);
    ngx_hex_dump(s->sha1, md, SHA_DIGEST_LENGTH);
    s->sha1[40] = '\0';
}


ngx_http_digin_redis_t *
ngx_http_digin_redis_create(ngx_cycle_t *cycle,
    ngx_http_digin_redis_conf_t *conf, ngx_http_digin_redis_script_t *scripts,
    ngx_uint_t nscripts, ngx_shm_zone_t *zone)
{
    ngx_http_digin_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_digin_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->conf = conf;
    rd->log = cycle->log;
    rd->scripts = scripts;
    rd->nscripts = nscripts;
    rd->stats = (zone != NULL) ? ngx_http_digin_cache_stats(zone) : NULL;
    rd->backoff = NGX_HTTP_DIGIN_REDIS_BACKOFF_MIN;

    rd->connect_timer.handler = ngx_http_digin_redis_connect_timeout;
    rd->connect_timer.data = rd;
    rd->connect_timer.log = rd->log;
    rd->connect_timer.cancelable = 1;

    rd->retry.handler = ngx_http_digin_redis_retry;
    rd->retry.data = rd;
    rd->retry.log = rd->log;
    rd->retry.cancelable = 1;

    ngx_http_digin_redis_connect(rd);

    return rd;
}


ngx_int_t
ngx_http_digin_redis_subscribe(ngx_http_digin_redis_t *rd,
    const char *channel, void (*on_message)(void *data, ngx_str_t *msg),
    void (*on_subscribed)(void *data, ngx_uint_t again), void *data)
{
    rd->channel = channel;
    rd->on_message = on_message;
    rd->on_subscribed = on_subscribed;
    rd->sub_data = data;

    if (rd->ac != NULL
        && redisAsyncCommand(rd->ac, ngx_http_digin_redis_subscribed, rd,
                             "SUBSCRIBE %s", channel)
           != REDIS_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_digin_redis_destroy(ngx_http_digin_redis_t *rd)
{
    rd->destroyed = 1;

    if (rd->retry.timer_set) {
        ngx_del_timer(&rd->retry);
    }

    if (rd->ac != NULL) {
        redisAsyncFree(rd->ac);
    }
}


static void
ngx_http_digin_redis_connect(ngx_http_digin_redis_t *rd)
{
    ngx_uint_t                      i;
    ngx_connection_t               *c;
    redisAsyncContext              *ac;
    ngx_http_digin_redis_conf_t    *conf;
    ngx_http_digin_redis_script_t  *s;

    conf = rd->conf;

    if (conf->path.len) {
        ac = redisAsyncConnectUnix((char *) conf->path.data);

    } else {
        ac = redisAsyncConnect((char *) conf->host.data, conf->port);
    }

    if (ac == NULL || ac->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "digin: cannot connect to Redis \"%V\": %s",
                      &conf->name, ac ? ac->errstr : "out of memory");
        if (ac != NULL) {
            redisAsyncFree(ac);
        }

        goto retry;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        goto retry;
    }

    c->data = rd;
    c->read->handler = ngx_http_digin_redis_read;
    c->write->handler = ngx_http_digin_redis_write;
    c->read->log = rd->log;
    c->write->log = rd->log;

    rd->ac = ac;
    rd->conn = c;
    ac->data = rd;

    ac->ev.data = rd;
    ac->ev.addRead = ngx_http_digin_redis_add_read;
    ac->ev.delRead = ngx_http_digin_redis_del_read;
    ac->ev.addWrite = ngx_http_digin_redis_add_write;
    ac->ev.delWrite = ngx_http_digin_redis_del_write;
    ac->ev.cleanup = ngx_http_digin_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_digin_redis_connected);

    /* queued now, sent first once the connection is up */

    if (conf->password.len) {
        redisAsyncCommand(ac, ngx_http_digin_redis_setup_done, rd,
                          "AUTH %b", conf->password.data,
                          conf->password.len);
    }

    if (conf->db) {
        redisAsyncCommand(ac, ngx_http_digin_redis_setup_done, rd,
                          "SELECT %d", (int) conf->db);
    }

    s = rd->scripts;

    for (i = 0; i < rd->nscripts; i++) {
        redisAsyncCommand(ac, ngx_http_digin_redis_setup_done, rd,
                          "SCRIPT LOAD %b", s[i].body.data, s[i].body.len);
    }

    if (rd->channel != NULL) {
        redisAsyncCommand(ac, ngx_http_digin_redis_subscribed, rd,
                          "SUBSCRIBE %s", rd->channel);
    }

    /* writable means connected (or failed), which hiredis then tells */
    ngx_http_digin_redis_add_read(rd);
    ngx_http_digin_redis_add_write(rd);

    ngx_add_timer(&rd->connect_timer, conf->connect_timeout);

    return;

retry:

    if (!rd->destroyed && !ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&rd->retry, rd->backoff);
        rd->backoff = ngx_min(rd->backoff * 2,
                              NGX_HTTP_DIGIN_REDIS_BACKOFF_MAX);
    }
}


static void
ngx_http_digin_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_digin_redis_t  *rd = ac->data;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "digin: cannot connect to Redis \"%V\": %s",
                      &rd->conf->name, ac->errstr);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "digin: connected to Redis \"%V\"", &rd->conf->name);

    if (rd->was_connected && rd->stats != NULL) {
        (void) ngx_atomic_fetch_add(&rd->stats->redis_reconnects, 1);
    }

    rd->connected = 1;
    rd->backoff = NGX_HTTP_DIGIN_REDIS_BACKOFF_MIN;
}


static void
ngx_http_digin_redis_setup_done(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply              *r = reply;
    ngx_http_digin_redis_t  *rd = privdata;

    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "digin: Redis \"%V\" refused the connection set-up: "
                      "%*s", &rd->conf->name, (size_t) r->len, r->str);
        redisAsyncDisconnect(ac);
    }
}


static void
ngx_http_digin_redis_subscribed(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply              *r = reply;
    ngx_str_t                msg;
    ngx_http_digin_redis_t  *rd = privdata;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 3
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    if (ngx_strcmp(r->element[0]->str, "subscribe") == 0) {
        if (rd->on_subscribed != NULL) {
            rd->on_subscribed(rd->sub_data, rd->was_connected);
        }

        rd->was_connected = 1;
        return;
    }

    if (ngx_strcmp(r->element[0]->str, "message") == 0
        && r->element[2]->type == REDIS_REPLY_STRING)
    {
        msg.data = (u_char *) r->element[2]->str;
        msg.len = r->element[2]->len;

        rd->on_message(rd->sub_data, &msg);
    }
}


static void
ngx_http_digin_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_digin_redis_t  *rd = ev->data;

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "digin: connecting to Redis \"%V\" timed out",
                  &rd->conf->name);

    if (rd->ac != NULL) {
        redisAsyncFree(rd->ac);
    }
}


static void
ngx_http_digin_redis_retry(ngx_event_t *ev)
{
    ngx_http_digin_redis_t  *rd = ev->data;

    if (rd->ac == NULL && !rd->destroyed) {
        ngx_http_digin_redis_connect(rd);
    }
}


static void
ngx_http_digin_redis_read(ngx_event_t *ev)
{
    ngx_connection_t        *c = ev->data;
    ngx_http_digin_redis_t  *rd = c->data;

    if (rd->ac != NULL) {
        redisAsyncHandleRead(rd->ac);
    }
}


static void
ngx_http_digin_redis_write(ngx_event_t *ev)
{
    ngx_connection_t        *c = ev->data;
    ngx_http_digin_redis_t  *rd = c->data;

    if (rd->ac != NULL) {
        redisAsyncHandleWrite(rd->ac);
    }
}


/*
 * Level-triggered events: hiredis reads at most 16k a call, and what is
 * left in the socket must wake us again (edge-triggered it would not).
 */

static void
ngx_http_digin_redis_add_read(void *privdata)
{
    ngx_http_digin_redis_t  *rd = privdata;

    if (rd->conn != NULL && !rd->conn->read->active) {
        (void) ngx_add_event(rd->conn->read, NGX_READ_EVENT,
                             NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_digin_redis_del_read(void *privdata)
{
    ngx_http_digin_redis_t  *rd = privdata;

    if (rd->conn != NULL && rd->conn->read->active) {
        (void) ngx_del_event(rd->conn->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_digin_redis_add_write(void *privdata)
{
    ngx_http_digin_redis_t  *rd = privdata;

    if (rd->conn != NULL && !rd->conn->write->active) {
        (void) ngx_add_event(rd->conn->write, NGX_WRITE_EVENT,
                             NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_digin_redis_del_write(void *privdata)
{
    ngx_http_digin_redis_t  *rd = privdata;

    if (rd->conn != NULL && rd->conn->write->active) {
        (void) ngx_del_event(rd->conn->write, NGX_WRITE_EVENT, 0);
    }
}


/*
 * hiredis frees the context: it has already failed every pending
 * command.  The nginx connection goes before hiredis closes the socket
 * (a descriptor number is reused at once), then a reconnect is planned.
 */

static void
ngx_http_digin_redis_cleanup(void *privdata)
{
    ngx_connection_t        *c;
    ngx_http_digin_redis_t  *rd = privdata;

    c = rd->conn;

    if (c != NULL) {
        if (c->read->active) {
            (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
        }

        if (c->write->active) {
            (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
        }

        if (c->read->posted) {
            ngx_delete_posted_event(c->read);
        }

        if (c->write->posted) {
            ngx_delete_posted_event(c->write);
        }

        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
    }

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    rd->conn = NULL;
    rd->ac = NULL;

    /* a worker that exits closes its connections: nothing was lost */
    if (rd->connected && !rd->destroyed) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "digin: lost the connection to Redis \"%V\"",
                      &rd->conf->name);
        rd->was_connected = 1;
    }

    rd->connected = 0;

    if (!rd->destroyed && !ngx_exiting && !ngx_terminate && !ngx_quit
        && !rd->retry.timer_set)
    {
        ngx_add_timer(&rd->retry, rd->backoff);
        rd->backoff = ngx_min(rd->backoff * 2,
                              NGX_HTTP_DIGIN_REDIS_BACKOFF_MAX);
    }
}


ngx_http_digin_redis_cmd_t *
ngx_http_digin_redis_send(ngx_http_digin_redis_t *rd,
    ngx_http_digin_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_http_digin_redis_cmd_t  *cmd;

    if (rd == NULL) {
        return NULL;
    }

    if (rd->ac == NULL) {
        /* down, waiting to connect again: the request fails now */
        if (rd->stats != NULL) {
            (void) ngx_atomic_fetch_add(&rd->stats->redis_errors, 1);
        }

        return NULL;
    }

    cmd = ngx_alloc(sizeof(ngx_http_digin_redis_cmd_t), rd->log);
    if (cmd == NULL) {
        return NULL;
    }

    ngx_memzero(cmd, sizeof(ngx_http_digin_redis_cmd_t));

    cmd->rd = rd;
    cmd->handler = handler;
    cmd->data = data;
    cmd->sent = ngx_current_msec;

    if (redisAsyncCommandArgv(rd->ac, ngx_http_digin_redis_reply, cmd,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NULL;
    }

    cmd->timer.handler = ngx_http_digin_redis_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = rd->log;

    ngx_add_timer(&cmd->timer, rd->conf->timeout);

    if (rd->stats != NULL) {
        (void) ngx_atomic_fetch_add(&rd->stats->redis_requests, 1);
    }

    return cmd;
}


void
ngx_http_digin_redis_cancel(ngx_http_digin_redis_cmd_t *cmd)
{
    cmd->handler = NULL;
    cmd->data = NULL;
}


static void
ngx_http_digin_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                  *r = reply;
    ngx_http_digin_redis_t      *rd;
    ngx_http_digin_redis_cmd_t  *cmd = privdata;

    rd = cmd->rd;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);

        if (rd->stats != NULL) {
            if (r == NULL || r->type == REDIS_REPLY_ERROR) {
                (void) ngx_atomic_fetch_add(&rd->stats->redis_errors, 1);

            } else {
                ngx_http_digin_redis_latency(rd->stats,
                                             ngx_current_msec - cmd->sent);
            }
        }
    }

    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "digin: Redis \"%V\" answered an error: %*s",
                      &rd->conf->name, (size_t) r->len, r->str);

        /* the script cache was flushed: a new connection loads them */
        if (ngx_strncmp(r->str, "NOSCRIPT", 8) == 0) {
            redisAsyncDisconnect(ac);
        }

        r = NULL;
    }

    if (cmd->handler != NULL) {
        cmd->handler(cmd->data, r);
    }

    ngx_free(cmd);
}


/*
 * A command that takes longer than the timeout fails its request, and
 * the connection is dropped: what is queued behind a stalled reply
 * would wait as long.  A reconnect follows with backoff.
 */

static void
ngx_http_digin_redis_timeout(ngx_event_t *ev)
{
    ngx_http_digin_redis_t      *rd;
    ngx_http_digin_redis_cmd_t  *cmd = ev->data;

    rd = cmd->rd;

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "digin: Redis \"%V\" did not answer within %M ms",
                  &rd->conf->name, rd->conf->timeout);

    if (rd->stats != NULL) {
        (void) ngx_atomic_fetch_add(&rd->stats->redis_timeouts, 1);
    }

    if (cmd->handler != NULL) {
        cmd->handler(cmd->data, NULL);
        cmd->handler = NULL;
    }

    if (rd->ac != NULL) {
        redisAsyncFree(rd->ac);
    }
}


static void
ngx_http_digin_redis_latency(ngx_http_digin_stats_t *stats, ngx_msec_t ms)
{
    ngx_uint_t         i;
    static ngx_msec_t  bounds[] = NGX_HTTP_DIGIN_LATENCY_BUCKETS;

    for (i = 0; i < NGX_HTTP_DIGIN_NLATENCY; i++) {
        if (ms <= bounds[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&stats->latency[i], 1);
    (void) ngx_atomic_fetch_add(&stats->latency_us, ms * 1000);
}
