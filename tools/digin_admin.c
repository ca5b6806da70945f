/*
 * Copyright (C) Digin gateway developers
 *
 * digin-admin: the operator's tool for the entitlements in Redis.
 *
 *   digin-admin load FILE            validates the whole document, writes
 *                                    it as a new generation and switches
 *                                    the gateway to it in one step;
 *   digin-admin block ISSUER SUB     the operator's block list;
 *   digin-admin unblock ISSUER SUB
 *   digin-admin revoke JTI [EXPIRY]  a token that must stop working;
 *   digin-admin show library ID      what the gateway will read, with
 *   digin-admin show patron ISS SUB  the counters of the current periods.
 *
 * The key layout is in digin_ent.h.  A load reserves a generation
 * number N (greater than the current one), writes every key of N with
 * pipelined commands (each batch of keys is added to digin:N:keys
 * before it is written, so an interrupted load leaves nothing
 * unrecorded), then a script switches digin:gen to N only if it still
 * holds the generation read at the start, and publishes "all N".  The
 * previous generation, and the leftovers of loads that failed since
 * then, are deleted afterwards.
 *
 * Exit status: 0 success, 1 Redis, I/O or lookup errors, 2 usage
 * errors, 3 an invalid document.
 */


#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "digin_ent.h"
#include "digin_jwt.h"


#define DIGIN_ADMIN_OK           0
#define DIGIN_ADMIN_FAILED       1    /* Redis, I/O, not found */
#define DIGIN_ADMIN_USAGE        2
#define DIGIN_ADMIN_INVALID      3    /* the document */

#define DIGIN_ADMIN_MAX_FILE     (256 * 1024 * 1024)
#define DIGIN_ADMIN_MAX_SECRET   4096
#define DIGIN_ADMIN_CONNECT_MS   5000
#define DIGIN_ADMIN_TIMEOUT_S    60
#define DIGIN_ADMIN_PIPELINE     1000  /* commands per round trip */
#define DIGIN_ADMIN_CHUNK        500   /* keys per SADD */
#define DIGIN_ADMIN_SCAN         1000  /* SSCAN COUNT, keys per UNLINK */
#define DIGIN_ADMIN_ORPHANS      1000  /* generations looked at */
#define DIGIN_ADMIN_ARGS         (2 + 2 * DIGIN_ADMIN_SCAN)
#define DIGIN_ADMIN_REVOKE_TTL   86400

#define DIGIN_ADMIN_PREFIX       "digin:"


/*
 * Reserves a generation number: digin:gen:next goes up by one, and
 * past the current generation if it ever fell behind.  Returns the
 * current generation ("" when none) and the new number, read at once.
 */
#define DIGIN_ADMIN_LUA_RESERVE                                              \
    "local cur = redis.call('GET', KEYS[1]) "                                \
    "local n = redis.call('INCR', KEYS[2]) "                                 \
    "local g = tonumber(cur or '0') or 0 "                                   \
    "if n <= g then n = g + 1 redis.call('SET', KEYS[2], n) end "            \
    "return {cur or '', n}"

/* switches to ARGV[2] only if the generation is still ARGV[1] */
#define DIGIN_ADMIN_LUA_SWITCH                                               \
    "local cur = redis.call('GET', KEYS[1]) or '' "                          \
    "if cur ~= ARGV[1] then return 0 end "                                   \
    "redis.call('SET', KEYS[1], ARGV[2]) "                                   \
    "redis.call('PUBLISH', ARGV[3], 'all ' .. ARGV[2]) "                     \
    "return 1"

/* the generation and a library's record, read at once */
#define DIGIN_ADMIN_LUA_LIBRARY                                              \
    "local g = redis.call('GET', KEYS[1]) "                                  \
    "if not g then return {} end "                                           \
    "return {g, redis.call('HGETALL', "                                      \
    "'" DIGIN_ADMIN_PREFIX "' .. g .. ':lib:' .. ARGV[1])}"

/* the generation, a patron's record, its library's, the block time */
#define DIGIN_ADMIN_LUA_PATRON                                               \
    "local g = redis.call('GET', KEYS[1]) "                                  \
    "if not g then return {} end "                                           \
    "local pk = '" DIGIN_ADMIN_PREFIX "' .. g .. ':pat:' .. ARGV[1] "        \
    "local lib = redis.call('HGET', pk, 'library') "                         \
    "local l = {} "                                                          \
    "if lib then l = redis.call('HGETALL', "                                 \
    "'" DIGIN_ADMIN_PREFIX "' .. g .. ':lib:' .. lib) end "                  \
    "return {g, redis.call('HGETALL', pk), l, "                              \
    "redis.call('HGET', KEYS[2], ARGV[1])}"


typedef struct {
    const char           *redis;          /* IP:PORT, HOST:PORT, unix:PATH */
    const char           *password_file;
    const char           *user;
    long                  db;
    int                   json;
    time_t                now;
    redisContext         *ctx;
} digin_admin_t;


/* one command's arguments, binary safe */
typedef struct {
    int                   argc;
    const char           *argv[DIGIN_ADMIN_ARGS];
    size_t                lens[DIGIN_ADMIN_ARGS];
} digin_admin_cmd_t;


/* pipelined commands whose replies are read in batches */
typedef struct {
    redisContext         *ctx;
    size_t                pending;
    size_t                sent;
    char                  error[256];     /* the first error reply */
} digin_admin_pipe_t;


typedef enum {
    DIGIN_ADMIN_VENDOR = 0,
    DIGIN_ADMIN_LIBRARY,
    DIGIN_ADMIN_PATRON,
    DIGIN_ADMIN_KINDS
} digin_admin_kind_e;


static int digin_admin_error(int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void digin_admin_usage(FILE *fp);
static int digin_admin_option(int argc, char **argv, int *i,
    const char *name, const char **value);
static int digin_admin_number(const char *s, long long min, long long max,
    long long *n);
static int digin_admin_read_file(const char *path, size_t max, char **data,
    size_t *len);
static int digin_admin_connect(digin_admin_t *a);
static void digin_admin_disconnect(digin_admin_t *a);
static int digin_admin_redis_error(digin_admin_t *a, const char *what);
static void digin_admin_arg(digin_admin_cmd_t *cmd, const char *s);
static void digin_admin_argn(digin_admin_cmd_t *cmd, const char *s,
    size_t len);
static int digin_admin_run(digin_admin_t *a, digin_admin_cmd_t *cmd,
    redisReply **reply);
static int digin_admin_pipe_append(digin_admin_pipe_t *p,
    digin_admin_cmd_t *cmd);
static int digin_admin_pipe_drain(digin_admin_pipe_t *p);
static char *digin_admin_key(long long gen, digin_admin_kind_e kind,
    const digin_ent_doc_t *doc, size_t i);
static int digin_admin_write_record(digin_admin_pipe_t *p,
    const char *key, digin_admin_kind_e kind, const digin_ent_doc_t *doc,
    size_t i);
static int digin_admin_write(digin_admin_t *a, const digin_ent_doc_t *doc,
    long long gen);
static int digin_admin_drop(digin_admin_t *a, long long gen);
static void digin_admin_drop_orphans(digin_admin_t *a, long long old,
    long long gen);
static void digin_admin_iso8601(time_t t, char *buf, size_t len);
static const char *digin_admin_field(redisReply *hash, const char *name);
static long long digin_admin_field_int(redisReply *hash, const char *name,
    long long def);
static int digin_admin_load(digin_admin_t *a, int argc, char **argv);
static int digin_admin_block(digin_admin_t *a, int argc, char **argv,
    int block);
static int digin_admin_revoke(digin_admin_t *a, int argc, char **argv);
static int digin_admin_show(digin_admin_t *a, int argc, char **argv);
static int digin_admin_show_library(digin_admin_t *a, const char *id);
static int digin_admin_show_patron(digin_admin_t *a, const char *iss,
    const char *sub);
static void digin_admin_print(digin_admin_t *a, json_t *obj);
static void digin_admin_print_value(const char *name, json_t *v,
    const char *null);
static json_t *digin_admin_limit(long long n);


static const char  *digin_admin_kinds[DIGIN_ADMIN_KINDS] = {
    [DIGIN_ADMIN_VENDOR] = "vendor",
    [DIGIN_ADMIN_LIBRARY] = "lib",
    [DIGIN_ADMIN_PATRON] = "pat",
};


int
main(int argc, char **argv)
{
    int             i, rc;
    char           *end;
    long long       n;
    const char     *cmd, *env, *db;
    digin_admin_t   a;

    memset(&a, 0, sizeof(digin_admin_t));
    a.redis = "127.0.0.1:6379";
    db = NULL;
    a.now = time(NULL);

    /* a fixed clock, for tests */
    env = getenv("DIGIN_ADMIN_NOW");

    if (env != NULL && *env != '\0') {
        errno = 0;
        n = strtoll(env, &end, 10);

        if (errno != 0 || *end != '\0' || n < 0) {
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "invalid DIGIN_ADMIN_NOW \"%s\"", env);
        }

        a.now = (time_t) n;
    }

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }

        if (strncmp(argv[i], "--", 2) != 0) {
            break;
        }

        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            digin_admin_usage(stdout);
            return DIGIN_ADMIN_OK;
        }

        if (strcmp(argv[i], "--json") == 0) {
            a.json = 1;
            continue;
        }

        rc = digin_admin_option(argc, argv, &i, "--redis", &a.redis);

        if (rc == -1) {
            rc = digin_admin_option(argc, argv, &i, "--password-file",
                                    &a.password_file);
        }

        if (rc == -1) {
            rc = digin_admin_option(argc, argv, &i, "--user", &a.user);
        }

        if (rc == -1) {
            rc = digin_admin_option(argc, argv, &i, "--db", &db);
        }

        if (rc == -2) {
            return DIGIN_ADMIN_USAGE;
        }

        if (rc == -1) {
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "unknown option \"%s\" (see "
                                     "digin-admin help)", argv[i]);
        }
    }

    if (db != NULL) {
        if (digin_admin_number(db, 0, INT_MAX, &n) != 0) {
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "invalid --db \"%s\"", db);
        }

        a.db = (long) n;
    }

    if (i >= argc) {
        return digin_admin_error(DIGIN_ADMIN_USAGE,
                                 "no command (see digin-admin help)");
    }

    cmd = argv[i];
    argc -= i + 1;
    argv += i + 1;

    if (strcmp(cmd, "help") == 0) {
        digin_admin_usage(stdout);
        return DIGIN_ADMIN_OK;
    }

    if (strcmp(cmd, "load") == 0) {
        rc = digin_admin_load(&a, argc, argv);

    } else if (strcmp(cmd, "block") == 0) {
        rc = digin_admin_block(&a, argc, argv, 1);

    } else if (strcmp(cmd, "unblock") == 0) {
        rc = digin_admin_block(&a, argc, argv, 0);

    } else if (strcmp(cmd, "revoke") == 0) {
        rc = digin_admin_revoke(&a, argc, argv);

    } else if (strcmp(cmd, "show") == 0) {
        rc = digin_admin_show(&a, argc, argv);

    } else {
        return digin_admin_error(DIGIN_ADMIN_USAGE,
                                 "unknown command \"%s\" (see digin-admin "
                                 "help)", cmd);
    }

    digin_admin_disconnect(&a);

    return rc;
}


static int
digin_admin_error(int rc, const char *fmt, ...)
{
    va_list  args;

    fputs("digin-admin: ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputc('\n', stderr);

    return rc;
}


static void
digin_admin_usage(FILE *fp)
{
    fputs(
"usage: digin-admin [OPTIONS] COMMAND ...\n"
"\n"
"commands:\n"
"  load FILE               validate the entitlements document FILE, write\n"
"                          it as a new generation, switch the gateway to\n"
"                          it and delete the previous one\n"
"  block ISSUER SUB        block a patron (takes effect at once)\n"
"  unblock ISSUER SUB      lift the operator's block\n"
"  revoke JTI [EXPIRY]     reject the token with this jti until EXPIRY\n"
"                          (a unix time, the token's exp; default now +\n"
"                          1 day)\n"
"  show library ID         a library's record, quotas and budget\n"
"  show patron ISSUER SUB  a patron's record, blocks and quotas left\n"
"  help                    this text\n"
"\n"
"options:\n"
"  --redis ADDR            IP:PORT, HOST:PORT, [IPV6]:PORT or unix:PATH\n"
"                          (default 127.0.0.1:6379)\n"
"  --password-file FILE    AUTH with the password on the file's first line\n"
"  --user NAME             AUTH as this ACL user (with --password-file)\n"
"  --db N                  SELECT this database (default 0)\n"
"  --json                  show: one JSON object instead of key: value "
"lines\n"
"\n"
"exit status: 0 success, 1 Redis or I/O error, 2 usage error,\n"
"3 invalid document.  DIGIN_ADMIN_NOW=<unix time> fixes the clock "
"(tests).\n", fp);
}


/*
 * "--name VALUE" or "--name=VALUE" at argv[*i]: 0 and the value, -1 when
 * argv[*i] is another option, -2 (reported) when the value is missing
 */

static int
digin_admin_option(int argc, char **argv, int *i, const char *name,
    const char **value)
{
    size_t  len;

    len = strlen(name);

    if (strncmp(argv[*i], name, len) != 0) {
        return -1;
    }

    if (argv[*i][len] == '=') {
        *value = argv[*i] + len + 1;
        return 0;
    }

    if (argv[*i][len] != '\0') {
        return -1;
    }

    if (*i + 1 >= argc) {
        digin_admin_error(DIGIN_ADMIN_USAGE, "%s needs a value", name);
        return -2;
    }

    *value = argv[++*i];

    return 0;
}


static int
digin_admin_number(const char *s, long long min, long long max,
    long long *n)
{
    char  *end;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    errno = 0;
    *n = strtoll(s, &end, 10);

    if (errno != 0 || *end != '\0' || *n < min || *n > max) {
        return -1;
    }

    return 0;
}


static int
digin_admin_read_file(const char *path, size_t max, char **data,
    size_t *len)
{
    char        *buf;
    FILE        *fp;
    size_t       n;
    struct stat  st;

    fp = fopen(path, "rb");
    if (fp == NULL) {
        return digin_admin_error(DIGIN_ADMIN_FAILED, "%s: %s", path,
                                 strerror(errno));
    }

    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return digin_admin_error(DIGIN_ADMIN_FAILED,
                                 "%s: not a regular file", path);
    }

    if ((unsigned long long) st.st_size > max) {
        fclose(fp);
        return digin_admin_error(DIGIN_ADMIN_FAILED,
                                 "%s: larger than %zu bytes", path, max);
    }

    buf = malloc((size_t) st.st_size + 1);
    if (buf == NULL) {
        fclose(fp);
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    n = fread(buf, 1, (size_t) st.st_size, fp);

    if (ferror(fp)) {
        fclose(fp);
        free(buf);
        return digin_admin_error(DIGIN_ADMIN_FAILED, "%s: read error",
                                 path);
    }

    fclose(fp);

    buf[n] = '\0';
    *data = buf;
    *len = n;

    return DIGIN_ADMIN_OK;
}


/* Redis */

static int
digin_admin_connect(digin_admin_t *a)
{
    int                 rc;
    char               *host, *colon, *secret, *nl;
    size_t              len;
    long long           port;
    redisReply         *reply;
    struct timeval      tv;
    digin_admin_cmd_t   cmd;

    tv.tv_sec = DIGIN_ADMIN_CONNECT_MS / 1000;
    tv.tv_usec = (DIGIN_ADMIN_CONNECT_MS % 1000) * 1000;

    if (strncmp(a->redis, "unix:", 5) == 0) {
        if (a->redis[5] == '\0') {
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "invalid --redis \"%s\"", a->redis);
        }

        a->ctx = redisConnectUnixWithTimeout(a->redis + 5, tv);

    } else {
        host = strdup(a->redis);
        if (host == NULL) {
            return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
        }

        colon = strrchr(host, ':');

        if (colon == NULL || colon == host
            || digin_admin_number(colon + 1, 1, 65535, &port) != 0)
        {
            free(host);
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "invalid --redis \"%s\" (expected "
                                     "IP:PORT or unix:PATH)", a->redis);
        }

        *colon = '\0';

        if (host[0] == '[' && colon[-1] == ']') {
            colon[-1] = '\0';
            a->ctx = redisConnectWithTimeout(host + 1, (int) port, tv);

        } else {
            a->ctx = redisConnectWithTimeout(host, (int) port, tv);
        }

        free(host);
    }

    if (a->ctx == NULL) {
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    if (a->ctx->err) {
        return digin_admin_error(DIGIN_ADMIN_FAILED,
                                 "cannot connect to Redis at %s: %s",
                                 a->redis, a->ctx->errstr);
    }

    tv.tv_sec = DIGIN_ADMIN_TIMEOUT_S;
    tv.tv_usec = 0;

    if (redisSetTimeout(a->ctx, tv) != REDIS_OK) {
        return digin_admin_redis_error(a, "setting a timeout");
    }

    if (a->user != NULL && a->password_file == NULL) {
        return digin_admin_error(DIGIN_ADMIN_USAGE,
                                 "--user needs --password-file");
    }

    if (a->password_file != NULL) {
        rc = digin_admin_read_file(a->password_file, DIGIN_ADMIN_MAX_SECRET,
                                   &secret, &len);
        if (rc != DIGIN_ADMIN_OK) {
            return rc;
        }

        nl = memchr(secret, '\n', len);
        if (nl != NULL) {
            len = (size_t) (nl - secret);
        }

        if (len > 0 && secret[len - 1] == '\r') {
            len--;
        }

        if (len == 0) {
            free(secret);
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "%s: no password on the first line",
                                     a->password_file);
        }

        cmd.argc = 0;
        digin_admin_arg(&cmd, "AUTH");

        if (a->user != NULL) {
            digin_admin_arg(&cmd, a->user);
        }

        digin_admin_argn(&cmd, secret, len);

        reply = redisCommandArgv(a->ctx, cmd.argc, cmd.argv, cmd.lens);

        memset(secret, 0, len);
        free(secret);

        if (reply == NULL) {
            return digin_admin_redis_error(a, "AUTH");
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                                   "Redis at %s refused AUTH: %s", a->redis,
                                   reply->str);
            freeReplyObject(reply);
            return rc;
        }

        freeReplyObject(reply);
    }

    if (a->db != 0) {
        reply = redisCommand(a->ctx, "SELECT %ld", a->db);

        if (reply == NULL) {
            return digin_admin_redis_error(a, "SELECT");
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                                   "Redis at %s: SELECT %ld: %s", a->redis,
                                   a->db, reply->str);
            freeReplyObject(reply);
            return rc;
        }

        freeReplyObject(reply);
    }

    return DIGIN_ADMIN_OK;
}


static void
digin_admin_disconnect(digin_admin_t *a)
{
    if (a->ctx != NULL) {
        redisFree(a->ctx);
        a->ctx = NULL;
    }
}


static int
digin_admin_redis_error(digin_admin_t *a, const char *what)
{
    return digin_admin_error(DIGIN_ADMIN_FAILED, "Redis at %s: %s: %s",
                             a->redis, what,
                             a->ctx->err ? a->ctx->errstr : "no reply");
}


static void
digin_admin_arg(digin_admin_cmd_t *cmd, const char *s)
{
    digin_admin_argn(cmd, s, strlen(s));
}


static void
digin_admin_argn(digin_admin_cmd_t *cmd, const char *s, size_t len)
{
    if (cmd->argc < DIGIN_ADMIN_ARGS) {
        cmd->argv[cmd->argc] = s;
        cmd->lens[cmd->argc] = len;
        cmd->argc++;
    }
}


/* one command; an error reply is reported and freed */

static int
digin_admin_run(digin_admin_t *a, digin_admin_cmd_t *cmd, redisReply **reply)
{
    int          rc;
    redisReply  *r;

    r = redisCommandArgv(a->ctx, cmd->argc, cmd->argv, cmd->lens);

    if (r == NULL) {
        return digin_admin_redis_error(a, cmd->argv[0]);
    }

    if (r->type == REDIS_REPLY_ERROR) {
        rc = digin_admin_error(DIGIN_ADMIN_FAILED, "Redis at %s: %s: %s",
                               a->redis, cmd->argv[0], r->str);
        freeReplyObject(r);
        return rc;
    }

    if (reply != NULL) {
        *reply = r;

    } else {
        freeReplyObject(r);
    }

    return DIGIN_ADMIN_OK;
}


static int
digin_admin_pipe_append(digin_admin_pipe_t *p, digin_admin_cmd_t *cmd)
{
    if (redisAppendCommandArgv(p->ctx, cmd->argc, cmd->argv, cmd->lens)
        != REDIS_OK)
    {
        return -1;
    }

    p->pending++;
    p->sent++;

    if (p->pending >= DIGIN_ADMIN_PIPELINE) {
        return digin_admin_pipe_drain(p);
    }

    return 0;
}


/* reads every pending reply; -1 on a lost connection or an error reply */

static int
digin_admin_pipe_drain(digin_admin_pipe_t *p)
{
    void        *r;
    redisReply  *reply;

    while (p->pending > 0) {
        if (redisGetReply(p->ctx, &r) != REDIS_OK || r == NULL) {
            return -1;
        }

        p->pending--;
        reply = r;

        if (reply->type == REDIS_REPLY_ERROR && p->error[0] == '\0') {
            snprintf(p->error, sizeof(p->error), "%s", reply->str);
        }

        freeReplyObject(reply);
    }

    return p->error[0] == '\0' ? 0 : -1;
}


/* load */

static int
digin_admin_load(digin_admin_t *a, int argc, char **argv)
{
    int                 rc;
    char               *data, *err, *line, *next, old_text[32],
                        gen_text[32];
    size_t              len;
    long long           gen, old;
    redisReply         *reply;
    digin_ent_doc_t    *doc;
    digin_admin_cmd_t   cmd;

    if (argc != 1) {
        return digin_admin_error(DIGIN_ADMIN_USAGE,
                                 "usage: digin-admin load FILE");
    }

    rc = digin_admin_read_file(argv[0], DIGIN_ADMIN_MAX_FILE, &data, &len);
    if (rc != DIGIN_ADMIN_OK) {
        return rc;
    }

    err = malloc(DIGIN_ENT_ERRLEN);
    if (err == NULL) {
        free(data);
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    doc = digin_ent_parse(data, len, err, DIGIN_ENT_ERRLEN);
    free(data);

    if (doc == NULL) {
        for (line = err; line != NULL; line = next) {
            next = strchr(line, '\n');

            if (next != NULL) {
                *next++ = '\0';
            }

            digin_admin_error(DIGIN_ADMIN_INVALID, "%s: %s", argv[0], line);
        }

        free(err);
        return DIGIN_ADMIN_INVALID;
    }

    free(err);

    rc = digin_admin_connect(a);
    if (rc != DIGIN_ADMIN_OK) {
        goto done;
    }

    /* a new generation number, and the generation it replaces */

    cmd.argc = 0;
    digin_admin_arg(&cmd, "EVAL");
    digin_admin_arg(&cmd, DIGIN_ADMIN_LUA_RESERVE);
    digin_admin_arg(&cmd, "2");
    digin_admin_arg(&cmd, DIGIN_KEY_GEN);
    digin_admin_arg(&cmd, DIGIN_KEY_GEN_NEXT);

    rc = digin_admin_run(a, &cmd, &reply);
    if (rc != DIGIN_ADMIN_OK) {
        goto done;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_INTEGER)
    {
        freeReplyObject(reply);
        rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                               "Redis at %s: unexpected reply reserving a "
                               "generation", a->redis);
        goto done;
    }

    gen = reply->element[1]->integer;
    snprintf(old_text, sizeof(old_text), "%s", reply->element[0]->str);
    snprintf(gen_text, sizeof(gen_text), "%lld", gen);

    if (digin_admin_number(old_text, 1, LLONG_MAX, &old) != 0) {
        old = 0;
    }

    freeReplyObject(reply);

    rc = digin_admin_write(a, doc, gen);

    if (rc != DIGIN_ADMIN_OK) {
        digin_admin_drop(a, gen);
        goto done;
    }

    /* the switch, only from the generation read at the start */

    cmd.argc = 0;
    digin_admin_arg(&cmd, "EVAL");
    digin_admin_arg(&cmd, DIGIN_ADMIN_LUA_SWITCH);
    digin_admin_arg(&cmd, "1");
    digin_admin_arg(&cmd, DIGIN_KEY_GEN);
    digin_admin_arg(&cmd, old_text);
    digin_admin_arg(&cmd, gen_text);
    digin_admin_arg(&cmd, DIGIN_CHANNEL);

    rc = digin_admin_run(a, &cmd, &reply);

    if (rc != DIGIN_ADMIN_OK) {
        /* the switch may or may not have happened: keep generation N */
        goto done;
    }

    if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
        freeReplyObject(reply);
        digin_admin_drop(a, gen);
        rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                               "%s changed during the load (another load "
                               "finished first); nothing was switched, run "
                               "the load again", DIGIN_KEY_GEN);
        goto done;
    }

    freeReplyObject(reply);

    /* what readers no longer see */

    if (old > 0 && old != gen) {
        digin_admin_drop(a, old);
    }

    digin_admin_drop_orphans(a, old, gen);

    printf("loaded generation %lld: %zu vendors, %zu packages, "
           "%zu libraries, %zu patrons\n", gen, doc->nvendors,
           doc->npackages, doc->nlibraries, doc->npatrons);

    rc = DIGIN_ADMIN_OK;

done:

    digin_ent_free(doc);

    return rc;
}


/* every key of the document under generation gen */

static int
digin_admin_write(digin_admin_t *a, const digin_ent_doc_t *doc, long long gen)
{
    int                  rc;
    char                *keys[DIGIN_ADMIN_CHUNK], set[64];
    size_t               i, j, n, count;
    digin_admin_cmd_t   *cmd;
    digin_admin_kind_e   kind;
    digin_admin_pipe_t   p;

    cmd = malloc(sizeof(digin_admin_cmd_t));
    if (cmd == NULL) {
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    memset(&p, 0, sizeof(digin_admin_pipe_t));
    p.ctx = a->ctx;

    snprintf(set, sizeof(set), DIGIN_ADMIN_PREFIX "%lld:keys", gen);

    rc = DIGIN_ADMIN_OK;
    n = 0;

    for (kind = 0; kind < DIGIN_ADMIN_KINDS; kind++) {
        count = (kind == DIGIN_ADMIN_VENDOR) ? doc->nvendors
                : (kind == DIGIN_ADMIN_LIBRARY) ? doc->nlibraries
                : doc->npatrons;

        for (i = 0; i < count; i += n) {
            n = count - i;

            if (n > DIGIN_ADMIN_CHUNK) {
                n = DIGIN_ADMIN_CHUNK;
            }

            cmd->argc = 0;
            digin_admin_arg(cmd, "SADD");
            digin_admin_arg(cmd, set);

            for (j = 0; j < n; j++) {
                keys[j] = digin_admin_key(gen, kind, doc, i + j);

                if (keys[j] == NULL) {
                    while (j-- > 0) {
                        free(keys[j]);
                    }

                    rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                                           "out of memory");
                    goto done;
                }

                digin_admin_arg(cmd, keys[j]);
            }

            /* recorded before written: an interrupted load can be undone */

            if (digin_admin_pipe_append(&p, cmd) != 0) {
                rc = -1;
            }

            for (j = 0; j < n; j++) {
                if (rc == DIGIN_ADMIN_OK
                    && digin_admin_write_record(&p, keys[j], kind, doc,
                                                i + j)
                       != 0)
                {
                    rc = -1;
                }

                free(keys[j]);
            }

            if (rc != DIGIN_ADMIN_OK) {
                goto done;
            }
        }
    }

    if (digin_admin_pipe_drain(&p) != 0) {
        rc = -1;
    }

done:

    free(cmd);

    if (rc == -1) {
        if (p.error[0] != '\0') {
            return digin_admin_error(DIGIN_ADMIN_FAILED,
                                     "Redis at %s: writing generation %lld: "
                                     "%s", a->redis, gen, p.error);
        }

        return digin_admin_redis_error(a, "writing the generation");
    }

    return rc;
}


static char *
digin_admin_key(long long gen, digin_admin_kind_e kind,
    const digin_ent_doc_t *doc, size_t i)
{
    int     n;
    char   *key;
    size_t  len;

    len = sizeof(DIGIN_ADMIN_PREFIX) + 24 + 8 + DIGIN_ENT_ISSUER_MAX
          + DIGIN_PATRON_MAX + 2;

    key = malloc(len);
    if (key == NULL) {
        return NULL;
    }

    switch (kind) {

    case DIGIN_ADMIN_VENDOR:
        n = snprintf(key, len, DIGIN_ADMIN_PREFIX "%lld:%s:%s", gen,
                     digin_admin_kinds[kind], doc->vendors[i].id);
        break;

    case DIGIN_ADMIN_LIBRARY:
        n = snprintf(key, len, DIGIN_ADMIN_PREFIX "%lld:%s:%s", gen,
                     digin_admin_kinds[kind], doc->libraries[i].id);
        break;

    default:
        n = snprintf(key, len, DIGIN_ADMIN_PREFIX "%lld:%s:%s %s", gen,
                     digin_admin_kinds[kind], doc->patrons[i].issuer,
                     doc->patrons[i].sub);
        break;
    }

    if (n < 0 || (size_t) n >= len) {
        free(key);
        return NULL;
    }

    return key;
}


static int
digin_admin_write_record(digin_admin_pipe_t *p, const char *key,
    digin_admin_kind_e kind, const digin_ent_doc_t *doc, size_t i)
{
    int                         rc;
    char                        media[64], cost[24], period[24], loan[24],
                                budget[24], quota[DIGIN_MEDIUM_MAX][24],
                                fields[DIGIN_MEDIUM_MAX][32], *grants;
    digin_medium_e              m;
    digin_admin_cmd_t           cmd;
    const digin_ent_vendor_t   *v;
    const digin_ent_library_t  *lib;
    const digin_ent_patron_t   *pat;

    cmd.argc = 0;
    digin_admin_arg(&cmd, "HSET");
    digin_admin_arg(&cmd, key);

    switch (kind) {

    case DIGIN_ADMIN_VENDOR:
        v = &doc->vendors[i];
        digin_ent_media_text(v->media, media, sizeof(media));
        snprintf(cost, sizeof(cost), "%lld", (long long) v->loan_cost);

        digin_admin_arg(&cmd, "name");
        digin_admin_arg(&cmd, v->name);
        digin_admin_arg(&cmd, "media");
        digin_admin_arg(&cmd, media);
        digin_admin_arg(&cmd, "loan_cost");
        digin_admin_arg(&cmd, cost);

        return digin_admin_pipe_append(p, &cmd);

    case DIGIN_ADMIN_LIBRARY:
        lib = &doc->libraries[i];

        grants = digin_ent_grants(doc, lib);
        if (grants == NULL) {
            return -1;
        }

        snprintf(period, sizeof(period), "%d", lib->period_days);
        snprintf(loan, sizeof(loan), "%d", lib->loan_days);
        snprintf(budget, sizeof(budget), "%lld", (long long) lib->budget);

        digin_admin_arg(&cmd, "name");
        digin_admin_arg(&cmd, lib->name);
        digin_admin_arg(&cmd, "county");
        digin_admin_arg(&cmd, lib->county);
        digin_admin_arg(&cmd, "status");
        digin_admin_arg(&cmd, lib->suspended ? "suspended" : "active");
        digin_admin_arg(&cmd, "grants");
        digin_admin_arg(&cmd, grants);
        digin_admin_arg(&cmd, "period_days");
        digin_admin_arg(&cmd, period);

        for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
            snprintf(fields[m], sizeof(fields[m]), "quota_%s",
                     digin_medium_name(m));
            snprintf(quota[m], sizeof(quota[m]), "%lld",
                     (long long) lib->quota[m]);
            digin_admin_arg(&cmd, fields[m]);
            digin_admin_arg(&cmd, quota[m]);
        }

        digin_admin_arg(&cmd, "budget");
        digin_admin_arg(&cmd, budget);
        digin_admin_arg(&cmd, "loan_days");
        digin_admin_arg(&cmd, loan);

        rc = digin_admin_pipe_append(p, &cmd);
        free(grants);

        return rc;

    default:
        pat = &doc->patrons[i];

        digin_admin_arg(&cmd, "library");
        digin_admin_arg(&cmd, doc->libraries[pat->library].id);
        digin_admin_arg(&cmd, "blocked");
        digin_admin_arg(&cmd, pat->blocked ? "1" : "0");

        return digin_admin_pipe_append(p, &cmd);
    }
}


/* deletes generation gen: the keys digin:<gen>:keys lists, then the set */

static int
digin_admin_drop(digin_admin_t *a, long long gen)
{
    int                 rc;
    char                set[64], cursor[32];
    size_t              i;
    redisReply         *reply, *keys;
    digin_admin_cmd_t  *cmd;

    if (a->ctx == NULL || a->ctx->err) {
        return DIGIN_ADMIN_FAILED;
    }

    cmd = malloc(sizeof(digin_admin_cmd_t));
    if (cmd == NULL) {
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    snprintf(set, sizeof(set), DIGIN_ADMIN_PREFIX "%lld:keys", gen);
    strcpy(cursor, "0");

    do {
        cmd->argc = 0;
        digin_admin_arg(cmd, "SSCAN");
        digin_admin_arg(cmd, set);
        digin_admin_arg(cmd, cursor);
        digin_admin_arg(cmd, "COUNT");
        digin_admin_arg(cmd, "1000");

        rc = digin_admin_run(a, cmd, &reply);
        if (rc != DIGIN_ADMIN_OK) {
            goto done;
        }

        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
            || reply->element[0]->type != REDIS_REPLY_STRING
            || reply->element[1]->type != REDIS_REPLY_ARRAY
            || reply->element[0]->len >= sizeof(cursor))
        {
            freeReplyObject(reply);
            rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                                   "Redis at %s: unexpected SSCAN reply",
                                   a->redis);
            goto done;
        }

        memcpy(cursor, reply->element[0]->str, reply->element[0]->len + 1);
        keys = reply->element[1];

        if (keys->elements > 0) {
            cmd->argc = 0;
            digin_admin_arg(cmd, "UNLINK");

            for (i = 0; i < keys->elements; i++) {
                if (keys->element[i]->type == REDIS_REPLY_STRING) {
                    digin_admin_argn(cmd, keys->element[i]->str,
                                     keys->element[i]->len);
                }
            }

            rc = digin_admin_run(a, cmd, NULL);
        }

        freeReplyObject(reply);

        if (rc != DIGIN_ADMIN_OK) {
            goto done;
        }

    } while (strcmp(cursor, "0") != 0);

    cmd->argc = 0;
    digin_admin_arg(cmd, "UNLINK");
    digin_admin_arg(cmd, set);

    rc = digin_admin_run(a, cmd, NULL);

done:

    free(cmd);

    return rc;
}


/*
 * Generations between the one replaced and the new one are leftovers
 * of loads that failed or were interrupted: any load still running
 * with such a number will find digin:gen changed and not switch.
 */

static void
digin_admin_drop_orphans(digin_admin_t *a, long long old, long long gen)
{
    char                set[64];
    void               *r;
    long long           g, from;
    redisReply         *reply;
    unsigned char       found[DIGIN_ADMIN_ORPHANS];
    digin_admin_cmd_t   cmd;

    from = old + 1;

    if (gen - from > DIGIN_ADMIN_ORPHANS) {
        from = gen - DIGIN_ADMIN_ORPHANS;
    }

    if (from >= gen) {
        return;
    }

    for (g = from; g < gen; g++) {
        snprintf(set, sizeof(set), DIGIN_ADMIN_PREFIX "%lld:keys", g);

        cmd.argc = 0;
        digin_admin_arg(&cmd, "EXISTS");
        digin_admin_arg(&cmd, set);

        if (redisAppendCommandArgv(a->ctx, cmd.argc, cmd.argv, cmd.lens)
            != REDIS_OK)
        {
            return;
        }
    }

    for (g = from; g < gen; g++) {
        if (redisGetReply(a->ctx, &r) != REDIS_OK || r == NULL) {
            return;
        }

        reply = r;
        found[g - from] = (reply->type == REDIS_REPLY_INTEGER
                           && reply->integer == 1);
        freeReplyObject(reply);
    }

    for (g = from; g < gen; g++) {
        if (found[g - from]) {
            digin_admin_drop(a, g);
        }
    }
}


/* block, unblock, revoke */

static int
digin_admin_block(digin_admin_t *a, int argc, char **argv, int block)
{
    int                 rc;
    char               *field, *message, since[24];
    size_t              len;
    redisReply         *reply;
    digin_admin_cmd_t   cmd;

    if (argc != 2) {
        return digin_admin_error(DIGIN_ADMIN_USAGE,
                                 "usage: digin-admin %s ISSUER SUB",
                                 block ? "block" : "unblock");
    }

    if (!digin_ent_issuer_ok(argv[0], strlen(argv[0]))) {
        return digin_admin_error(DIGIN_ADMIN_USAGE,
                                 "invalid issuer (expected 1 to %d "
                                 "printable ASCII bytes without spaces, "
                                 "quotes or backslashes)",
                                 DIGIN_ENT_ISSUER_MAX);
    }

    if (!digin_ent_patron_ok(argv[1], strlen(argv[1]))) {
        return digin_admin_error(DIGIN_ADMIN_USAGE,
                                 "invalid patron id (expected 1 to %d "
                                 "printable ASCII bytes without quotes or "
                                 "backslashes)", DIGIN_PATRON_MAX);
    }

    rc = digin_admin_connect(a);
    if (rc != DIGIN_ADMIN_OK) {
        return rc;
    }

    len = strlen(argv[0]) + 1 + strlen(argv[1]);
    field = malloc(len + 1);
    message = malloc(sizeof("patron ") + len);

    if (field == NULL || message == NULL) {
        free(field);
        free(message);
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    sprintf(field, "%s %s", argv[0], argv[1]);
    sprintf(message, "patron %s", field);
    snprintf(since, sizeof(since), "%lld", (long long) a->now);

    cmd.argc = 0;

    if (block) {
        digin_admin_arg(&cmd, "HSET");
        digin_admin_arg(&cmd, DIGIN_KEY_BLOCK);
        digin_admin_arg(&cmd, field);
        digin_admin_arg(&cmd, since);

    } else {
        digin_admin_arg(&cmd, "HDEL");
        digin_admin_arg(&cmd, DIGIN_KEY_BLOCK);
        digin_admin_arg(&cmd, field);
    }

    rc = digin_admin_run(a, &cmd, &reply);

    if (rc == DIGIN_ADMIN_OK) {
        cmd.argc = 0;
        digin_admin_arg(&cmd, "PUBLISH");
        digin_admin_arg(&cmd, DIGIN_CHANNEL);
        digin_admin_arg(&cmd, message);

        rc = digin_admin_run(a, &cmd, NULL);

        if (rc == DIGIN_ADMIN_OK) {
            if (block) {
                printf("blocked %s\n", field);

            } else if (reply->type == REDIS_REPLY_INTEGER
                       && reply->integer == 0)
            {
                printf("not blocked %s\n", field);

            } else {
                printf("unblocked %s\n", field);
            }
        }

        freeReplyObject(reply);
    }

    free(field);
    free(message);

    return rc;
}


static int
digin_admin_revoke(digin_admin_t *a, int argc, char **argv)
{
    int                 rc;
    char               *key, *message, expiry[24], until[32];
    size_t              len;
    long long           exp;
    digin_admin_cmd_t   cmd;

    if (argc != 1 && argc != 2) {
        return digin_admin_error(DIGIN_ADMIN_USAGE,
                                 "usage: digin-admin revoke JTI [EXPIRY]");
    }

    len = strlen(argv[0]);

    if (len > DIGIN_JTI_MAX || !digin_claim_value_ok(argv[0], len)) {
        return digin_admin_error(DIGIN_ADMIN_USAGE,
                                 "invalid jti (expected 1 to %d printable "
                                 "ASCII bytes without quotes or "
                                 "backslashes)", DIGIN_JTI_MAX);
    }

    if (argc == 2) {
        if (digin_admin_number(argv[1], 0, LLONG_MAX, &exp) != 0) {
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "invalid EXPIRY \"%s\" (expected a "
                                     "unix time)", argv[1]);
        }

        if (exp <= (long long) a->now) {
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "EXPIRY %lld is not in the future "
                                     "(now is %lld)", exp,
                                     (long long) a->now);
        }

    } else {
        exp = (long long) a->now + DIGIN_ADMIN_REVOKE_TTL;
    }

    rc = digin_admin_connect(a);
    if (rc != DIGIN_ADMIN_OK) {
        return rc;
    }

    key = malloc(sizeof(DIGIN_KEY_REVOKED) + len);
    message = malloc(sizeof("jti ") + len);

    if (key == NULL || message == NULL) {
        free(key);
        free(message);
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    sprintf(key, DIGIN_KEY_REVOKED "%s", argv[0]);
    sprintf(message, "jti %s", argv[0]);
    snprintf(expiry, sizeof(expiry), "%lld", exp);

    cmd.argc = 0;
    digin_admin_arg(&cmd, "SET");
    digin_admin_arg(&cmd, key);
    digin_admin_arg(&cmd, "1");
    digin_admin_arg(&cmd, "EXAT");
    digin_admin_arg(&cmd, expiry);

    rc = digin_admin_run(a, &cmd, NULL);

    if (rc == DIGIN_ADMIN_OK) {
        cmd.argc = 0;
        digin_admin_arg(&cmd, "PUBLISH");
        digin_admin_arg(&cmd, DIGIN_CHANNEL);
        digin_admin_arg(&cmd, message);

        rc = digin_admin_run(a, &cmd, NULL);
    }

    if (rc == DIGIN_ADMIN_OK) {
        digin_admin_iso8601((time_t) exp, until, sizeof(until));
        printf("revoked %s until %s\n", argv[0], until);
    }

    free(key);
    free(message);

    return rc;
}


/* show */

static int
digin_admin_show(digin_admin_t *a, int argc, char **argv)
{
    while (argc > 0 && strcmp(argv[0], "--json") == 0) {
        a->json = 1;
        argc--;
        argv++;
    }

    if (argc == 2 && strcmp(argv[0], "library") == 0) {
        if (!digin_ent_library_id_ok(argv[1], strlen(argv[1]))) {
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "invalid library id (expected 1 to %d "
                                     "of A-Z a-z 0-9 _ -)",
                                     DIGIN_LIBRARY_MAX);
        }

        return digin_admin_show_library(a, argv[1]);
    }

    if (argc == 3 && strcmp(argv[0], "patron") == 0) {
        if (!digin_ent_issuer_ok(argv[1], strlen(argv[1]))
            || !digin_ent_patron_ok(argv[2], strlen(argv[2])))
        {
            return digin_admin_error(DIGIN_ADMIN_USAGE,
                                     "invalid issuer or patron id");
        }

        return digin_admin_show_patron(a, argv[1], argv[2]);
    }

    return digin_admin_error(DIGIN_ADMIN_USAGE,
                             "usage: digin-admin show library ID | "
                             "show patron ISSUER SUB");
}


static int
digin_admin_show_library(digin_admin_t *a, const char *id)
{
    int                 rc;
    char                month[8], reset[32], *key;
    time_t              month_reset;
    json_t             *out, *quota, *budget;
    long long           limit, spent, n;
    redisReply         *reply, *hash, *r;
    digin_medium_e      m;
    digin_admin_cmd_t   cmd;
    char                field[32];

    rc = digin_admin_connect(a);
    if (rc != DIGIN_ADMIN_OK) {
        return rc;
    }

    cmd.argc = 0;
    digin_admin_arg(&cmd, "EVAL");
    digin_admin_arg(&cmd, DIGIN_ADMIN_LUA_LIBRARY);
    digin_admin_arg(&cmd, "1");
    digin_admin_arg(&cmd, DIGIN_KEY_GEN);
    digin_admin_arg(&cmd, id);

    rc = digin_admin_run(a, &cmd, &reply);
    if (rc != DIGIN_ADMIN_OK) {
        return rc;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        freeReplyObject(reply);
        return digin_admin_error(DIGIN_ADMIN_FAILED,
                                 "no entitlements loaded (%s is not set)",
                                 DIGIN_KEY_GEN);
    }

    hash = reply->element[1];

    if (hash->type != REDIS_REPLY_ARRAY || hash->elements == 0) {
        rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                               "unknown library \"%s\" in generation %s",
                               id, reply->element[0]->str);
        freeReplyObject(reply);
        return rc;
    }

    digin_budget_month(a->now, month, &month_reset);
    digin_admin_iso8601(month_reset, reset, sizeof(reset));

    key = malloc(sizeof(DIGIN_KEY_BUDGET) + strlen(id) + 1 + sizeof(month));
    if (key == NULL) {
        freeReplyObject(reply);
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    sprintf(key, DIGIN_KEY_BUDGET "%s:%s", id, month);

    cmd.argc = 0;
    digin_admin_arg(&cmd, "GET");
    digin_admin_arg(&cmd, key);

    rc = digin_admin_run(a, &cmd, &r);
    free(key);

    if (rc != DIGIN_ADMIN_OK) {
        freeReplyObject(reply);
        return rc;
    }

    spent = 0;

    if (r->type == REDIS_REPLY_STRING) {
        spent = strtoll(r->str, NULL, 10);
    }

    freeReplyObject(r);

    limit = digin_admin_field_int(hash, "budget", DIGIN_UNLIMITED);

    out = json_object();
    quota = json_object();
    budget = json_object();

    if (out == NULL || quota == NULL || budget == NULL) {
        json_decref(out);
        json_decref(quota);
        json_decref(budget);
        freeReplyObject(reply);
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    json_object_set_new(out, "library", json_string(id));
    json_object_set_new(out, "generation",
                        json_integer(strtoll(reply->element[0]->str, NULL,
                                             10)));
    json_object_set_new(out, "name",
                        json_string(digin_admin_field(hash, "name")));
    json_object_set_new(out, "county",
                        json_string(digin_admin_field(hash, "county")));
    json_object_set_new(out, "status",
                        json_string(digin_admin_field(hash, "status")));
    json_object_set_new(out, "grants",
                        json_string(digin_admin_field(hash, "grants")));
    json_object_set_new(out, "loan_days",
                        json_integer(digin_admin_field_int(hash, "loan_days",
                                         DIGIN_DEFAULT_LOAN_DAYS)));

    json_object_set_new(quota, "period_days",
                        json_integer(digin_admin_field_int(hash,
                                         "period_days",
                                         DIGIN_DEFAULT_PERIOD_DAYS)));

    for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
        snprintf(field, sizeof(field), "quota_%s", digin_medium_name(m));
        n = digin_admin_field_int(hash, field, DIGIN_UNLIMITED);
        json_object_set_new(quota, digin_medium_name(m),
                            digin_admin_limit(n));
    }

    json_object_set_new(out, "quota", quota);

    json_object_set_new(budget, "limit", digin_admin_limit(limit));
    json_object_set_new(budget, "month", json_string(month));
    json_object_set_new(budget, "spent", json_integer(spent));
    json_object_set_new(budget, "left",
                        digin_admin_limit(limit < 0 ? limit
                                          : spent >= limit ? 0
                                          : limit - spent));
    json_object_set_new(budget, "reset", json_string(reset));
    json_object_set_new(out, "budget", budget);

    freeReplyObject(reply);

    digin_admin_print(a, out);
    json_decref(out);

    return DIGIN_ADMIN_OK;
}


static int
digin_admin_show_patron(digin_admin_t *a, const char *iss, const char *sub)
{
    int                 rc, period_days;
    char               *who, *key, start_text[32], reset_text[32],
                        field[32], since[32];
    size_t              len;
    time_t              start, reset;
    json_t             *out, *quota, *q;
    long long           limit, used, n;
    redisReply         *reply, *pat, *lib, *block, *r;
    digin_medium_e      m;
    digin_admin_cmd_t   cmd;

    rc = digin_admin_connect(a);
    if (rc != DIGIN_ADMIN_OK) {
        return rc;
    }

    len = strlen(iss) + 1 + strlen(sub);

    who = malloc(len + 1);
    key = malloc(sizeof(DIGIN_KEY_QUOTA) + len + 64);

    if (who == NULL || key == NULL) {
        free(who);
        free(key);
        return digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
    }

    sprintf(who, "%s %s", iss, sub);

    cmd.argc = 0;
    digin_admin_arg(&cmd, "EVAL");
    digin_admin_arg(&cmd, DIGIN_ADMIN_LUA_PATRON);
    digin_admin_arg(&cmd, "2");
    digin_admin_arg(&cmd, DIGIN_KEY_GEN);
    digin_admin_arg(&cmd, DIGIN_KEY_BLOCK);
    digin_admin_arg(&cmd, who);

    rc = digin_admin_run(a, &cmd, &reply);
    if (rc != DIGIN_ADMIN_OK) {
        goto failed;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        freeReplyObject(reply);
        rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                               "no entitlements loaded (%s is not set)",
                               DIGIN_KEY_GEN);
        goto failed;
    }

    if (reply->elements != 4) {
        freeReplyObject(reply);
        rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                               "Redis at %s: unexpected reply", a->redis);
        goto failed;
    }

    pat = reply->element[1];
    lib = reply->element[2];
    block = reply->element[3];

    if (pat->type != REDIS_REPLY_ARRAY || pat->elements == 0) {
        rc = digin_admin_error(DIGIN_ADMIN_FAILED,
                               "unknown patron \"%s\" of issuer \"%s\" in "
                               "generation %s", sub, iss,
                               reply->element[0]->str);
        freeReplyObject(reply);
        goto failed;
    }

    out = json_object();
    quota = json_object();

    if (out == NULL || quota == NULL) {
        json_decref(out);
        json_decref(quota);
        freeReplyObject(reply);
        rc = digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
        goto failed;
    }

    json_object_set_new(out, "issuer", json_string(iss));
    json_object_set_new(out, "sub", json_string(sub));
    json_object_set_new(out, "generation",
                        json_integer(strtoll(reply->element[0]->str, NULL,
                                             10)));
    json_object_set_new(out, "library",
                        json_string(digin_admin_field(pat, "library")));
    json_object_set_new(out, "library_status",
                        json_string(digin_admin_field(lib, "status")));
    json_object_set_new(out, "grants",
                        json_string(digin_admin_field(lib, "grants")));
    json_object_set_new(out, "blocked",
                        json_boolean(strcmp(digin_admin_field(pat,
                                                              "blocked"),
                                            "1") == 0));
    json_object_set_new(out, "blocked_by_operator",
                        json_boolean(block->type == REDIS_REPLY_STRING));

    if (block->type == REDIS_REPLY_STRING) {
        digin_admin_iso8601((time_t) strtoll(block->str, NULL, 10), since,
                            sizeof(since));
        json_object_set_new(out, "blocked_since", json_string(since));

    } else {
        json_object_set_new(out, "blocked_since", json_null());
    }

    period_days = (int) digin_admin_field_int(lib, "period_days",
                                              DIGIN_DEFAULT_PERIOD_DAYS);
    digin_quota_period(a->now, period_days, &start, &reset);
    digin_admin_iso8601(start, start_text, sizeof(start_text));
    digin_admin_iso8601(reset, reset_text, sizeof(reset_text));

    rc = DIGIN_ADMIN_OK;

    for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
        snprintf(field, sizeof(field), "quota_%s", digin_medium_name(m));
        limit = digin_admin_field_int(lib, field, DIGIN_UNLIMITED);

        sprintf(key, DIGIN_KEY_QUOTA "%s:%s:%lld", who, digin_medium_name(m),
                (long long) start);

        cmd.argc = 0;
        digin_admin_arg(&cmd, "GET");
        digin_admin_arg(&cmd, key);

        rc = digin_admin_run(a, &cmd, &r);
        if (rc != DIGIN_ADMIN_OK) {
            break;
        }

        used = 0;

        if (r->type == REDIS_REPLY_STRING) {
            used = strtoll(r->str, NULL, 10);
        }

        freeReplyObject(r);

        n = (limit < 0) ? limit : (used >= limit) ? 0 : limit - used;

        q = json_object();
        if (q == NULL) {
            rc = digin_admin_error(DIGIN_ADMIN_FAILED, "out of memory");
            break;
        }

        json_object_set_new(q, "limit", digin_admin_limit(limit));
        json_object_set_new(q, "used", json_integer(used));
        json_object_set_new(q, "left", digin_admin_limit(n));
        json_object_set_new(q, "period_start", json_string(start_text));
        json_object_set_new(q, "reset", json_string(reset_text));
        json_object_set_new(quota, digin_medium_name(m), q);
    }

    json_object_set_new(out, "quota", quota);
    freeReplyObject(reply);

    if (rc == DIGIN_ADMIN_OK) {
        digin_admin_print(a, out);
    }

    json_decref(out);

failed:

    free(who);
    free(key);

    return rc;
}


/* limits: a number, or null (JSON) / "unlimited" (text) for -1 */

static json_t *
digin_admin_limit(long long n)
{
    return n < 0 ? json_null() : json_integer(n);
}


/*
 * The show output: JSON, or "key: value" lines with nested objects
 * flattened: "quota_ebook: 3", "budget_left: 10", and for a patron's
 * media "ebook_quota: 3", "ebook_used: 1".  Booleans are yes/no, a
 * missing limit "unlimited", a missing time "none".
 */

static void
digin_admin_print(digin_admin_t *a, json_t *obj)
{
    char        *text, name[64];
    json_t      *v, *sub, *item;
    const char  *key, *skey, *ikey;

    if (a->json) {
        text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

        if (text != NULL) {
            puts(text);
            free(text);
        }

        return;
    }

    json_object_foreach(obj, key, v) {
        if (!json_is_object(v)) {
            digin_admin_print_value(key, v, "none");
            continue;
        }

        json_object_foreach(v, skey, sub) {
            if (!json_is_object(sub)) {
                if (strcmp(key, "budget") == 0
                    && strcmp(skey, "limit") == 0)
                {
                    snprintf(name, sizeof(name), "budget");

                } else {
                    snprintf(name, sizeof(name), "%s_%s", key, skey);
                }

                digin_admin_print_value(name, sub, "unlimited");
                continue;
            }

            /* a patron's quota of one medium */

            json_object_foreach(sub, ikey, item) {
                snprintf(name, sizeof(name), "%s_%s", skey,
                         strcmp(ikey, "limit") == 0 ? "quota" : ikey);
                digin_admin_print_value(name, item, "unlimited");
            }
        }
    }
}


static void
digin_admin_print_value(const char *name, json_t *v, const char *null)
{
    if (json_is_null(v)) {
        printf("%s: %s\n", name, null);

    } else if (json_is_boolean(v)) {
        printf("%s: %s\n", name, json_is_true(v) ? "yes" : "no");

    } else if (json_is_integer(v)) {
        printf("%s: %lld\n", name, (long long) json_integer_value(v));

    } else {
        printf("%s: %s\n", name, json_string_value(v));
    }
}


static void
digin_admin_iso8601(time_t t, char *buf, size_t len)
{
    struct tm  tm;

    if (gmtime_r(&t, &tm) == NULL
        || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        snprintf(buf, len, "%lld", (long long) t);
    }
}


/* a field of an HGETALL reply; "" when absent */

static const char *
digin_admin_field(redisReply *hash, const char *name)
{
    size_t  i;

    if (hash == NULL || hash->type != REDIS_REPLY_ARRAY) {
        return "";
    }

    for (i = 0; i + 1 < hash->elements; i += 2) {
        if (hash->element[i]->type == REDIS_REPLY_STRING
            && hash->element[i + 1]->type == REDIS_REPLY_STRING
            && strcmp(hash->element[i]->str, name) == 0)
        {
            return hash->element[i + 1]->str;
        }
    }

    return "";
}


static long long
digin_admin_field_int(redisReply *hash, const char *name, long long def)
{
    char        *end;
    long long    n;
    const char  *s;

    s = digin_admin_field(hash, name);

    if (*s == '\0') {
        return def;
    }

    errno = 0;
    n = strtoll(s, &end, 10);

    if (errno != 0 || *end != '\0') {
        return def;
    }

    return n;
}
