/*
 * Copyright (C) Digin gateway developers
 *
 * libFuzzer target: digin_ent_parse(), the validator of the operator's
 * entitlements document (what "digin-admin load" reads before it
 * writes anything to Redis), and what digin-admin then derives from an
 * accepted document: each library's grants, the access decision for
 * every vendor and medium, the media text.
 *
 * What must hold: no crash, leak or sanitizer report; a refusal is at
 * most DIGIN_ENT_ERRORS lines in a terminated string; an accepted
 * document keeps the limits it promises (ids, names, quotas, periods)
 * and its grants list only vendor/medium pairs the decision allows.
 */


#include "digin_ent.h"
#include "digin_grant.h"

#include "fuzz_common.h"


static char  fz_err[DIGIN_ENT_ERRLEN];


static void
fz_library(const digin_ent_doc_t *doc, const digin_ent_library_t *lib)
{
    int          m;
    char        *grants;
    size_t       v;
    digin_str_t  g, vendor;

    fz_check(digin_ent_library_id_ok(lib->id, strlen(lib->id)));
    fz_check(digin_ent_library(doc, lib->id) == lib);
    fz_check(strlen(lib->name) <= DIGIN_ENT_NAME_MAX);
    fz_check(lib->period_days >= 1
             && lib->period_days <= DIGIN_ENT_PERIOD_MAX);
    fz_check(lib->loan_days >= 1 && lib->loan_days <= DIGIN_ENT_LOAN_DAYS_MAX);

    for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
        fz_check(lib->quota[m] == DIGIN_UNLIMITED
                 || (lib->quota[m] >= 0
                     && lib->quota[m] <= DIGIN_ENT_COUNT_MAX));
    }

    grants = digin_ent_grants(doc, lib);
    fz_check(grants != NULL);

    g.s = grants;
    g.len = strlen(grants);

    /* what the grants list says is what the decision says */
    for (v = 0; v < doc->nvendors; v++) {
        vendor.s = doc->vendors[v].id;
        vendor.len = strlen(vendor.s);

        for (m = 0; m < DIGIN_MEDIUM_MAX; m++) {
            fz_check(digin_ent_allows(doc, lib, vendor.s, m)
                     == digin_grants_allow(&g, &vendor, m));
        }
    }

    free(grants);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char              text[32];
    size_t            i, lines;
    unsigned          media;
    const char       *p;
    digin_ent_doc_t  *doc;

    memset(fz_err, 0x5a, sizeof(fz_err));

    doc = digin_ent_parse((const char *) data, size, fz_err, sizeof(fz_err));

    if (doc == NULL) {
        fz_check(memchr(fz_err, '\0', sizeof(fz_err)) != NULL);
        fz_check(fz_err[0] != '\0');

        lines = 1;
        for (p = fz_err; *p != '\0'; p++) {
            lines += (*p == '\n');
        }

        /* the errors, and a last "(N more errors)" line */
        fz_check(lines <= DIGIN_ENT_ERRORS + 1);

        return 0;
    }

    for (i = 0; i < doc->nvendors; i++) {
        media = doc->vendors[i].media;

        fz_check(digin_ent_vendor_id_ok(doc->vendors[i].id,
                                        strlen(doc->vendors[i].id)));
        fz_check(media != 0 && (media & ~DIGIN_MEDIA_ALL) == 0);
        fz_check(digin_ent_media_text(media, text, sizeof(text))
                 < sizeof(text));
    }

    for (i = 0; i < doc->npatrons; i++) {
        fz_check(doc->patrons[i].library < doc->nlibraries);
        fz_check(digin_ent_issuer_ok(doc->patrons[i].issuer,
                                     strlen(doc->patrons[i].issuer)));
        fz_check(digin_ent_patron_ok(doc->patrons[i].sub,
                                     strlen(doc->patrons[i].sub)));
    }

    for (i = 0; i < doc->nlibraries; i++) {
        fz_library(doc, &doc->libraries[i]);
    }

    digin_ent_free(doc);

    return 0;
}
