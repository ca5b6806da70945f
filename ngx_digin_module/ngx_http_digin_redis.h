/*
 * Copyright (C) Digin gateway developers
 *
 * Redis for the gateway: hiredis's asynchronous API bound to nginx's
 * event loop.  One connection per worker and server, commands
 * pipelined on it, nginx timers for connect and command timeouts
 * (hiredis 0.14 has none), reconnects with backoff, and commands that
 * outlive the request that sent them without ever touching it again.
 */


#ifndef _NGX_HTTP_DIGIN_REDIS_H_INCLUDED_
#define _NGX_HTTP_DIGIN_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "ngx_http_digin_cache.h"


typedef struct {
    ngx_str_t                   name;          /* as configured */
    ngx_str_t                   host;          /* IP, NUL-terminated */
    ngx_str_t                   path;          /* unix:PATH */
    in_port_t                   port;
    ngx_str_t                   password;
    ngx_int_t                   db;
    ngx_msec_t                  connect_timeout;
    ngx_msec_t                  timeout;
} ngx_http_digin_redis_conf_t;


/* the reply, or NULL when Redis could not answer (error, timeout) */
typedef void (*ngx_http_digin_redis_handler_pt)(void *data,
    redisReply *reply);

/* a script sent with EVALSHA, loaded on every new connection */
typedef struct {
    ngx_str_t                   body;
    u_char                      sha1[41];
} ngx_http_digin_redis_script_t;

typedef struct ngx_http_digin_redis_s      ngx_http_digin_redis_t;
typedef struct ngx_http_digin_redis_cmd_s  ngx_http_digin_redis_cmd_t;


/* parses "IP:PORT" or "unix:PATH"; a host name is resolved here */
char *ngx_http_digin_redis_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_digin_redis_conf_t *rc);

void ngx_http_digin_redis_script_init(ngx_http_digin_redis_script_t *s,
    const char *body);

/*
 * A connection for this worker; with on_message it subscribes to
 * channel and calls on_message for each message.
 */
ngx_http_digin_redis_t *ngx_http_digin_redis_create(ngx_cycle_t *cycle,
    ngx_http_digin_redis_conf_t *conf, ngx_http_digin_redis_script_t *scripts,
    ngx_uint_t nscripts, ngx_shm_zone_t *zone);
ngx_int_t ngx_http_digin_redis_subscribe(ngx_http_digin_redis_t *rd,
    const char *channel, void (*on_message)(void *data, ngx_str_t *msg),
    void (*on_subscribed)(void *data, ngx_uint_t again), void *data);
void ngx_http_digin_redis_destroy(ngx_http_digin_redis_t *rd);

/*
 * Sends a command; handler is called once with the reply, or with NULL
 * on error or after conf->timeout.  Returns NULL when Redis cannot be
 * asked at all now (down, reconnecting): the caller answers at once.
 */
ngx_http_digin_redis_cmd_t *ngx_http_digin_redis_send(
    ngx_http_digin_redis_t *rd, ngx_http_digin_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen);

/* the handler is never called: for a request that went away */
void ngx_http_digin_redis_cancel(ngx_http_digin_redis_cmd_t *cmd);


#endif /* _NGX_HTTP_DIGIN_REDIS_H_INCLUDED_ */
