/*
 * Copyright (C) Digin gateway developers
 */


#include <stdio.h>
#include <string.h>

#include "digin_ent.h"


static const char  *digin_media[DIGIN_MEDIUM_MAX] = {
    [DIGIN_MEDIUM_EBOOK] = "ebook",
    [DIGIN_MEDIUM_AUDIO] = "audio",
};


int
digin_medium_by_name(const char *name, size_t len)
{
    int  i;

    for (i = 0; i < DIGIN_MEDIUM_MAX; i++) {
        if (strlen(digin_media[i]) == len
            && memcmp(digin_media[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
digin_medium_name(digin_medium_e m)
{
    if ((unsigned) m >= DIGIN_MEDIUM_MAX) {
        return "";
    }

    return digin_media[m];
}


void
digin_quota_period(time_t now, int period_days, time_t *start,
    time_t *reset)
{
    int64_t  len;

    if (period_days < 1) {
        period_days = 1;
    }

    len = (int64_t) period_days * 86400;

    *start = (time_t) (((int64_t) now / len) * len);
    *reset = *start + (time_t) len;
}


void
digin_budget_month(time_t now, char month[8], time_t *reset)
{
    int        y, m;
    struct tm  tm;

    gmtime_r(&now, &tm);

    y = tm.tm_year + 1900;
    m = tm.tm_mon + 1;

    snprintf(month, 8, "%04d-%02d", y % 10000, m);

    /* the first second of the next month */
    memset(&tm, 0, sizeof(struct tm));
    tm.tm_year = (m == 12 ? y + 1 : y) - 1900;
    tm.tm_mon = (m == 12) ? 0 : m;
    tm.tm_mday = 1;

    *reset = timegm(&tm);
}
