/*
 * Copyright (C) Digin gateway developers
 *
 * libFuzzer target: what a Redis (or anything posing as one) can send
 * the gateway in answer to its lookup script.  The bytes go through
 * hiredis's reply reader, as on a worker's connection; each reply is
 * then handled the way ngx_http_digin_ent_store() handles it (the
 * elements as strings, digin_lookup_parse() for the shape and the two
 * cache values, into buffers of the cache's NGX_HTTP_DIGIN_VALUE_MAX
 * bytes), and the values are read back as a cache hit reads them, down
 * to the entitlement decision.  Inputs are RESP bytes as they come, or
 * (see fz_fields_to_resp()) a list of fields to send as one array.
 *
 * What must hold: no crash or sanitizer report (a value written past
 * its buffer is one), values that read back whole, and numbers and
 * periods that the quota arithmetic can use.
 */


#include <hiredis/hiredis.h>

#include "digin_ent.h"
#include "digin_grant.h"

#include "fuzz_common.h"


/* as NGX_HTTP_DIGIN_VALUE_MAX in ngx_http_digin_cache.h */
#define FZ_VALUE_MAX  2048
#define FZ_NOW_EPOCH  ((time_t) 1800000000)


static void
fz_lookup(redisReply *reply)
{
    int              m;
    time_t           start, reset;
    size_t           i;
    unsigned         blocked;
    digin_str_t      f[DIGIN_LOOKUP_FIELDS], library, vendor;
    digin_lookup_t   lk;
    digin_patron_t   who;
    digin_library_t  lib;
    unsigned char   *pv, *lv;

    if (reply->type != REDIS_REPLY_ARRAY
        || reply->elements != DIGIN_LOOKUP_FIELDS)
    {
        return;
    }

    for (i = 0; i < DIGIN_LOOKUP_FIELDS; i++) {
        f[i].s = (reply->element[i]->type == REDIS_REPLY_STRING)
                 ? reply->element[i]->str : NULL;
        f[i].len = reply->element[i]->len;
    }

    /* exact sizes on the heap, so that ASan sees a byte too many */
    pv = malloc(FZ_VALUE_MAX);
    lv = malloc(FZ_VALUE_MAX);
    fz_check(pv != NULL && lv != NULL);

    if (digin_lookup_parse(f, DIGIN_LOOKUP_FIELDS, &lk, pv, lv,
                           FZ_VALUE_MAX)
        != 0)
    {
        goto done;
    }

    fz_check(lk.plen <= FZ_VALUE_MAX && lk.llen <= FZ_VALUE_MAX);
    fz_check((lk.llen == 0) == (lk.library.len == 0));

    /* a cache hit reads the values back */

    fz_check(digin_lookup_patron(pv, lk.plen, &blocked, &library) == 0);
    fz_check(library.len == f[DIGIN_LOOKUP_PAT_LIBRARY].len);

    memset(&who, 0, sizeof(who));
    who.blocked = blocked;
    who.revoked = lk.revoked;

    memset(&lib, 0, sizeof(lib));

    if (lk.llen) {
        fz_check(digin_lookup_library(lv, lk.llen, &lib) == 0);
        fz_check(lib.id.len == lk.library.len);
        fz_check(lib.grants.len == f[DIGIN_LOOKUP_LIB_GRANTS].len);

        /* a value cut short never reads as a library */
        fz_check(digin_lookup_library(lv, lk.llen - 1, &lib) != 0);
        fz_check(digin_lookup_library(lv, lk.llen, &lib) == 0);
    }

    /* the decision, and what whoami and loans compute from it */

    vendor.s = "bokskya";
    vendor.len = 7;

    for (m = -1; m < DIGIN_MEDIUM_MAX; m++) {
        (void) digin_grant_decide(&who, &lib, &vendor, m);
    }

    /* (the gateway reads grants only of a library it found) */
    if (lib.found) {
        fz_check((digin_grants_media(&lib.grants, &vendor)
                  & ~DIGIN_MEDIA_ALL)
                 == 0);
    }

    digin_quota_period(FZ_NOW_EPOCH, (int) lib.period_days, &start, &reset);
    fz_check(start <= FZ_NOW_EPOCH && FZ_NOW_EPOCH < reset);

done:

    free(pv);
    free(lv);
}


/*
 * An input that starts with \x01 (no RESP type) is a list of fields
 * separated by \x00, sent as an array of bulk strings ("\xff" alone: a
 * null bulk string): byte mutations then change a field's length and
 * its RESP length prefix together.
 */

static char *
fz_fields_to_resp(const uint8_t *data, size_t size, size_t *len)
{
    char           *out, *p;
    size_t          n, flen;
    const uint8_t  *f, *end, *z;

    end = data + size;
    n = 1;

    for (f = data; f < end; f++) {
        n += (*f == '\0');
    }

    /* "$<len>\r\n...\r\n" per field, "*<n>\r\n" in front */
    out = malloc(32 + n * 32 + size);
    fz_check(out != NULL);

    p = out + sprintf(out, "*%zu\r\n", n);

    for (f = data; ; f = z + 1) {
        z = memchr(f, '\0', end - f);
        flen = (z ? z : end) - f;

        if (flen == 1 && f[0] == 0xff) {
            p += sprintf(p, "$-1\r\n");

        } else {
            p += sprintf(p, "$%zu\r\n", flen);
            memcpy(p, f, flen);
            p += flen;
            *p++ = '\r';
            *p++ = '\n';
        }

        if (z == NULL) {
            break;
        }
    }

    *len = p - out;

    return out;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           n, rc;
    char         *resp;
    void         *reply;
    size_t        len;
    redisReader  *reader;

    reader = redisReaderCreate();
    fz_check(reader != NULL);

    if (size > 0 && data[0] == 0x01) {
        resp = fz_fields_to_resp(data + 1, size - 1, &len);
        rc = redisReaderFeed(reader, resp, len);
        free(resp);

    } else {
        rc = redisReaderFeed(reader, (const char *) data, size);
    }

    if (rc != REDIS_OK) {
        redisReaderFree(reader);
        return 0;
    }

    /* every whole reply in the bytes, as a connection reads them */
    for (n = 0; n < 64; n++) {
        reply = NULL;

        if (redisReaderGetReply(reader, &reply) != REDIS_OK
            || reply == NULL)
        {
            break;
        }

        fz_lookup(reply);
        freeReplyObject(reply);
    }

    redisReaderFree(reader);

    return 0;
}
