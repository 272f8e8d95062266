/* util.c - see util.h. */
#define _GNU_SOURCE
#include "core/util.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sso_fail(struct sso_error *e, int pam_code, const char *fmt, ...)
{
    if (e) {
        char msg[sizeof(e->msg)]; /* fmt's arguments may point into e->msg */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        memcpy(e->msg, msg, sizeof(msg));
        e->kase = SSO_CASE_NONE;
    }
    return pam_code;
}

int sso_fail_as(struct sso_error *e, int pam_code, enum sso_case kase, const char *fmt, ...)
{
    if (e) {
        char msg[sizeof(e->msg)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        memcpy(e->msg, msg, sizeof(msg));
        e->kase = kase;
    }
    return pam_code;
}

bool sso_strlcpy(char *dst, const char *src, size_t dstlen)
{
    if (!dst || dstlen == 0)
        return false;
    size_t n = src ? strlen(src) : 0;
    if (!src || n >= dstlen) {
        dst[0] = '\0';
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

void sso_cleanse(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}

void sso_chown_root(int fd)
{
    if (fchown(fd, 0, 0) != 0)
        return; /* best effort, see util.h */
}

double sso_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sso_sleep_until(double until)
{
    struct timespec ts;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec < 0)
        ts.tv_nsec = 0;
    if (ts.tv_nsec > 999999999L)
        ts.tv_nsec = 999999999L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}
