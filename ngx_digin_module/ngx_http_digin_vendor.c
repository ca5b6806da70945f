/*
 * Copyright (C) Digin gateway developers
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "digin_assert.h"
#include "digin_ent.h"
#include "ngx_http_digin_cache.h"
#include "ngx_http_digin_module.h"
#include "ngx_http_digin_vendor.h"


#define NGX_HTTP_DIGIN_PSEUDONYM_KEY_MAX  4096


static ngx_int_t ngx_http_digin_pseudonym_of(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx, ngx_http_digin_loc_conf_t *dlcf);
static ngx_int_t ngx_http_digin_vendor_ids(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx, ngx_http_digin_loc_conf_t *dlcf, u_char *key,
    ngx_str_t *assertion);
static ngx_int_t ngx_http_digin_assertion_cached(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx, ngx_http_digin_loc_conf_t *dlcf, u_char *key,
    ngx_str_t *assertion);
static const char *ngx_http_digin_assertion_medium(
    ngx_http_digin_ctx_t *ctx, ngx_http_digin_loc_conf_t *dlcf);
static char *ngx_http_digin_pcstr(ngx_pool_t *pool, const char *s,
    size_t len);
static ngx_int_t ngx_http_digin_strip_cookie(ngx_http_request_t *r,
    ngx_table_elt_t *h, ngx_str_t *name);
static void ngx_http_digin_pseudonym_key_cleanup(void *data);
static void ngx_http_digin_signer_cleanup(void *data);


char *
ngx_http_digin_pseudonym_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_digin_main_conf_t *dmcf = conf;

    u_char               key[NGX_HTTP_DIGIN_PSEUDONYM_KEY_MAX];
    ssize_t              n;
    ngx_str_t           *value, path;
    ngx_file_t           file;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (dmcf->pseudonym_key != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = path;
    file.log = cf->log;

    file.fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"digin_pseudonym_key\" cannot open \"%V\"",
                           &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_close_file(file.fd);
        return NGX_CONF_ERROR;
    }

    /* a secret others on the host can read is no secret */
    if (fi.st_mode & (S_IROTH|S_IWOTH)) {
        ngx_close_file(file.fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_pseudonym_key\" \"%V\" is "
                           "world-readable: chmod o-rw it", &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_file_size(&fi) < DIGIN_PSEUDONYM_KEY_MIN
        || ngx_file_size(&fi) > NGX_HTTP_DIGIN_PSEUDONYM_KEY_MAX)
    {
        ngx_close_file(file.fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_pseudonym_key\" \"%V\" must hold %d to "
                           "%d bytes (e.g. head -c 64 /dev/urandom)",
                           &path, DIGIN_PSEUDONYM_KEY_MIN,
                           NGX_HTTP_DIGIN_PSEUDONYM_KEY_MAX);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_file(&file, key, ngx_file_size(&fi), 0);
    ngx_close_file(file.fd);

    if (n != ngx_file_size(&fi)) {
        ngx_explicit_memzero(key, sizeof(key));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_pseudonym_key\" cannot read \"%V\"",
                           &path);
        return NGX_CONF_ERROR;
    }

    dmcf->pseudonym_key = digin_pseudonym_key_new(key, n);
    ngx_explicit_memzero(key, sizeof(key));

    if (dmcf->pseudonym_key == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_pseudonym_key\": OpenSSL has no "
                           "HMAC-SHA256");
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        digin_pseudonym_key_free(dmcf->pseudonym_key);
        dmcf->pseudonym_key = NULL;
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_digin_pseudonym_key_cleanup;
    cln->data = dmcf->pseudonym_key;

    return NGX_CONF_OK;
}


static void
ngx_http_digin_pseudonym_key_cleanup(void *data)
{
    digin_pseudonym_key_free(data);
}


char *
ngx_http_digin_vendor_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_digin_main_conf_t *dmcf = conf;

    char                      err[256], *kid;
    ngx_str_t                *value, path, s;
    ngx_uint_t                i;
    digin_alg_e               alg;
    ngx_pool_cleanup_t       *cln;
    ngx_http_digin_signer_t  *sg;

    value = cf->args->elts;

    if (ngx_http_digin_find_signer(dmcf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_vendor_key\" for \"%V\" is duplicate",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    path = value[2];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    alg = DIGIN_ALG_ES256;
    kid = NULL;

    sg = ngx_array_push(&dmcf->signers);
    if (sg == NULL) {
        return NGX_CONF_ERROR;
    }

    sg->vendor = value[1];
    sg->signer = NULL;
    sg->ttl = 60;

    for (i = 3; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            alg = digin_alg_by_name((char *) value[i].data + 4,
                                    value[i].len - 4);

            if (alg != DIGIN_ALG_ES256 && alg != DIGIN_ALG_EDDSA
                && alg != DIGIN_ALG_RS256 && alg != DIGIN_ALG_HS256)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0 && value[i].len > 4) {
            kid = ngx_http_digin_pcstr(cf->pool, (char *) value[i].data + 4,
                                       value[i].len - 4);
            if (kid == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            sg->ttl = ngx_parse_time(&s, 1);

            if (sg->ttl == (time_t) NGX_ERROR || sg->ttl < 2
                || sg->ttl > 3600)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"digin_vendor_key\" ttl= must be "
                                   "2s to 1h, not \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    sg->signer = digin_signer_load_file((char *) path.data, alg, kid, err,
                                        sizeof(err));
    if (sg->signer == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"digin_vendor_key\" cannot load \"%V\" for "
                           "%s: %s", &path, digin_alg_name(alg), err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        digin_signer_free(sg->signer);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_digin_signer_cleanup;
    cln->data = sg->signer;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"digin_vendor_key\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


static void
ngx_http_digin_signer_cleanup(void *data)
{
    digin_signer_free(data);
}


ngx_http_digin_signer_t *
ngx_http_digin_find_signer(ngx_http_digin_main_conf_t *dmcf,
    ngx_str_t *vendor)
{
    ngx_uint_t                i;
    ngx_http_digin_signer_t  *sg;

    sg = dmcf->signers.elts;

    for (i = 0; i < dmcf->signers.nelts; i++) {
        if (sg[i].vendor.len == vendor->len
            && ngx_strncmp(sg[i].vendor.data, vendor->data, vendor->len) == 0)
        {
            return &sg[i];
        }
    }

    return NULL;
}


static char *
ngx_http_digin_pcstr(ngx_pool_t *pool, const char *s, size_t len)
{
    char  *p;

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


static ngx_int_t
ngx_http_digin_pseudonym_of(ngx_http_request_t *r, ngx_http_digin_ctx_t *ctx,
    ngx_http_digin_loc_conf_t *dlcf)
{
    u_char                      *p;
    ngx_http_digin_main_conf_t  *dmcf;

    if (ctx->pseudonym.len) {
        return NGX_OK;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_digin_module);

    if (dmcf->pseudonym_key == NULL || dlcf->vendor.len == 0) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, DIGIN_PSEUDONYM_LEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (digin_pseudonym(dmcf->pseudonym_key,
                        (char *) ctx->issuer.data, ctx->issuer.len,
                        (char *) ctx->patron.data, ctx->patron.len,
                        (char *) dlcf->vendor.data, dlcf->vendor.len,
                        (char *) p)
        != 0)
    {
        return NGX_ERROR;
    }

    ctx->pseudonym.data = p;
    ctx->pseudonym.len = DIGIN_PSEUDONYM_LEN;

    return NGX_OK;
}


/*
 * The patron's pseudonym toward this location's vendor and, when
 * assertion is not NULL, the vendor assertion cached for them
 * (assertion->len 0 when there is none; key is then the cache key to
 * put a new one under).  A cached assertion carries its pseudonym, so
 * whichever of $digin_pseudonym and $digin_vendor_token is read first,
 * a hit computes no HMAC.  NGX_DECLINED: no pseudonym can be made.
 */

static ngx_int_t
ngx_http_digin_vendor_ids(ngx_http_request_t *r, ngx_http_digin_ctx_t *ctx,
    ngx_http_digin_loc_conf_t *dlcf, u_char *key, ngx_str_t *assertion)
{
    ngx_int_t                    rc;
    ngx_http_digin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_digin_module);

    if (assertion != NULL) {
        ngx_str_null(assertion);
    }

    if (dlcf->signer != NULL && dmcf->shm_zone != NULL
        && (ctx->pseudonym.len == 0 || assertion != NULL))
    {
        rc = ngx_http_digin_assertion_cached(r, ctx, dlcf, key, assertion);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    return ngx_http_digin_pseudonym_of(r, ctx, dlcf);
}


ngx_int_t
ngx_http_digin_pseudonym_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                       key[NGX_HTTP_DIGIN_KEY_LEN];
    ngx_int_t                    rc;
    ngx_http_digin_ctx_t        *ctx;
    ngx_http_digin_loc_conf_t   *dlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_digin_module);
    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_digin_module);

    if (ctx == NULL || ctx->result != DIGIN_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    rc = ngx_http_digin_vendor_ids(r, ctx, dlcf, key, NULL);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->pseudonym.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ctx->pseudonym.data;

    return NGX_OK;
}


static const char *
ngx_http_digin_assertion_medium(ngx_http_digin_ctx_t *ctx,
    ngx_http_digin_loc_conf_t *dlcf)
{
    unsigned     media;
    digin_str_t  vendor;

    if (dlcf->loan) {
        return digin_medium_name(ctx->loan_medium);
    }

    if (dlcf->medium >= 0) {
        return digin_medium_name(dlcf->medium);
    }

    vendor.s = (const char *) dlcf->vendor.data;
    vendor.len = dlcf->vendor.len;
    media = digin_grants_media(&ctx->lib.grants, &vendor);

    if (media == (1u << DIGIN_MEDIUM_EBOOK)) {
        return digin_medium_name(DIGIN_MEDIUM_EBOOK);
    }

    if (media == (1u << DIGIN_MEDIUM_AUDIO)) {
        return digin_medium_name(DIGIN_MEDIUM_AUDIO);
    }

    return NULL;
}


/*
 * The assertion for this patron and vendor: reused from digin_zone for
 * the first half of its lifetime, so that a stream of audio segment
 * requests does not sign each time.  The entry holds the pseudonym
 * first, then the assertion: a hit needs no HMAC for $digin_pseudonym
 * either.
 */

static ngx_int_t
ngx_http_digin_assertion_cached(ngx_http_request_t *r,
    ngx_http_digin_ctx_t *ctx, ngx_http_digin_loc_conf_t *dlcf, u_char *key,
    ngx_str_t *assertion)
{
    u_char                       buf[NGX_HTTP_DIGIN_VALUE_MAX];
    size_t                       len;
    ngx_str_t                    parts[5];
    const char                  *medium;
    ngx_http_digin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_digin_module);

    medium = ngx_http_digin_assertion_medium(ctx, dlcf);

    parts[0] = ctx->issuer;
    parts[1] = ctx->patron;
    parts[2] = dlcf->vendor;
    parts[3].data = (u_char *) ctx->lib.id.s;
    parts[3].len = ctx->lib.id.len;
    parts[4].data = (u_char *) (medium ? medium : "");
    parts[4].len = medium ? ngx_strlen(medium) : 0;

    if (ngx_http_digin_digest(dmcf, parts, 5, key) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_digin_cache_get(dmcf->shm_zone, key, ngx_time(), buf, &len)
        != NGX_OK
        || len <= DIGIN_PSEUDONYM_LEN)
    {
        return NGX_DECLINED;
    }

    if (ctx->pseudonym.len == 0) {
        ctx->pseudonym.data = ngx_pnalloc(r->pool, DIGIN_PSEUDONYM_LEN);
        if (ctx->pseudonym.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->pseudonym.data, buf, DIGIN_PSEUDONYM_LEN);
        ctx->pseudonym.len = DIGIN_PSEUDONYM_LEN;
    }

    if (assertion != NULL) {
        assertion->len = len - DIGIN_PSEUDONYM_LEN;
        assertion->data = ngx_pnalloc(r->pool, assertion->len);
        if (assertion->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(assertion->data, buf + DIGIN_PSEUDONYM_LEN,
                   assertion->len);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_digin_vendor_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                       key[NGX_HTTP_DIGIN_KEY_LEN];
    u_char                       buf[NGX_HTTP_DIGIN_VALUE_MAX];
    long                         n;
    time_t                       now;
    ngx_int_t                    rc;
    ngx_str_t                    assertion;
    digin_assertion_t            a;
    ngx_http_digin_ctx_t        *ctx;
    ngx_http_digin_loc_conf_t   *dlcf;
    ngx_http_digin_main_conf_t  *dmcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_digin_module);
    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_digin_module);
    dmcf = ngx_http_get_module_main_conf(r, ngx_http_digin_module);

    if (ctx == NULL || ctx->result != DIGIN_OK || dlcf->signer == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    rc = ngx_http_digin_vendor_ids(r, ctx, dlcf, key, &assertion);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (assertion.len) {
        goto found;
    }

    now = ngx_time();

    ngx_memzero(&a, sizeof(digin_assertion_t));

    a.iss = (const char *) dmcf->assertion_issuer.data;
    a.aud = ngx_http_digin_pcstr(r->pool, (char *) dlcf->vendor.data,
                                 dlcf->vendor.len);
    a.sub = ngx_http_digin_pcstr(r->pool, (char *) ctx->pseudonym.data,
                                 ctx->pseudonym.len);
    a.medium = ngx_http_digin_assertion_medium(ctx, dlcf);
    a.iat = now;
    a.exp = now + dlcf->signer->ttl;

    if (ctx->lib.found) {
        a.library = ngx_http_digin_pcstr(r->pool, ctx->lib.id.s,
                                         ctx->lib.id.len);
        a.county = ngx_http_digin_pcstr(r->pool, ctx->lib.county.s,
                                        ctx->lib.county.len);
    }

    if (a.aud == NULL || a.sub == NULL
        || (ctx->lib.found && (a.library == NULL || a.county == NULL)))
    {
        return NGX_ERROR;
    }

    /* the pseudonym, then the assertion: the entry's value */

    ngx_memcpy(buf, ctx->pseudonym.data, DIGIN_PSEUDONYM_LEN);

    n = digin_assertion_sign(dlcf->signer->signer, &a,
                             (char *) buf + DIGIN_PSEUDONYM_LEN,
                             sizeof(buf) - DIGIN_PSEUDONYM_LEN);

    if (n < 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "digin: cannot sign an assertion for \"%V\"",
                      &dlcf->vendor);
        return NGX_ERROR;
    }

    if (dmcf->shm_zone != NULL) {
        (void) ngx_http_digin_cache_put(dmcf->shm_zone, key, now,
                                        now + dlcf->signer->ttl / 2,
                                        now + dlcf->signer->ttl / 2,
                                        buf, DIGIN_PSEUDONYM_LEN + n);
    }

    assertion.len = n;
    assertion.data = ngx_pnalloc(r->pool, n);
    if (assertion.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(assertion.data, buf + DIGIN_PSEUDONYM_LEN, n);

found:

    v->data = assertion.data;
    v->len = assertion.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_digin_strip_credentials(ngx_http_request_t *r,
    ngx_http_digin_loc_conf_t *dlcf)
{
    ngx_uint_t        i, n;
    ngx_list_t        headers;
    ngx_table_elt_t  *h, *nh, **cookies;
    ngx_list_part_t  *part;

    if (ngx_list_init(&headers, r->pool, 20, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Authorization") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Authorization",
                               sizeof("Authorization") - 1) == 0
            && h[i].value.len >= sizeof("Bearer ") - 1
            && ngx_strncasecmp(h[i].value.data, (u_char *) "Bearer ",
                               sizeof("Bearer ") - 1) == 0)
        {
            continue;
        }

        if (dlcf->cookie.len
            && h[i].key.len == sizeof("Cookie") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Cookie",
                               sizeof("Cookie") - 1) == 0)
        {
            if (ngx_http_digin_strip_cookie(r, &h[i], &dlcf->cookie)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (h[i].value.len == 0) {
                continue;
            }
        }

        nh = ngx_list_push(&headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    r->headers_in.headers = headers;

    /* $http_cookie reads these: no element left empty */
    cookies = r->headers_in.cookies.elts;
    n = 0;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        if (cookies[i]->value.len) {
            cookies[n++] = cookies[i];
        }
    }

    r->headers_in.cookies.nelts = n;

    if (r->headers_in.authorization != NULL
        && r->headers_in.authorization->value.len >= sizeof("Bearer ") - 1
        && ngx_strncasecmp(r->headers_in.authorization->value.data,
                           (u_char *) "Bearer ", sizeof("Bearer ") - 1) == 0)
    {
        r->headers_in.authorization = NULL;
    }

    return NGX_OK;
}


/*
 * Drops "name=..." from a Cookie header, in place (the element is also
 * what $http_cookie reads), keeping the other cookies as they were.
 */

static ngx_int_t
ngx_http_digin_strip_cookie(ngx_http_request_t *r, ngx_table_elt_t *h,
    ngx_str_t *name)
{
    u_char  *p, *last, *start, *end, *out, *o;

    p = h->value.data;
    last = p + h->value.len;

    /* "a=1;b=2" comes out as "a=1; b=2": room for the added spaces */
    out = ngx_pnalloc(r->pool, 2 * h->value.len + 1);
    if (out == NULL) {
        return NGX_ERROR;
    }

    o = out;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == ';')) {
            p++;
        }

        start = p;

        /* the token cookie is long: memchr() skips it fast */
        end = memchr(p, ';', last - p);
        if (end == NULL) {
            end = last;
        }

        p = end;

        if (start == end) {
            continue;
        }

        /* matched as the token was read: without regard to case */
        if ((size_t) (end - start) > name->len
            && start[name->len] == '='
            && ngx_strncasecmp(start, name->data, name->len) == 0)
        {
            continue;
        }

        if (o != out) {
            *o++ = ';';
            *o++ = ' ';
        }

        o = ngx_cpymem(o, start, end - start);
    }

    h->value.data = out;
    h->value.len = o - out;

    return NGX_OK;
}
