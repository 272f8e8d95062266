/* util.h - small helpers shared by every part of the module: errors carried
 * with context, bounded string copies, secret cleansing, monotonic time. */
#ifndef SSO_UTIL_H
#define SSO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which case the person logging in is told about (conv.c words each one),
 * where the PAM code alone does not say it. */
enum sso_case {
    SSO_CASE_NONE = 0,       /* the PAM code decides */
    SSO_CASE_DENIED,         /* the request was denied at the approval page */
    SSO_CASE_EXPIRED,        /* the code expired */
    SSO_CASE_TIMEOUT,        /* no approval within timeout */
    SSO_CASE_WRONG_ACCOUNT,  /* approved by someone who does not map to this user */
    SSO_CASE_NOT_PERMITTED,  /* the approver lacks the permission set or group */
    SSO_CASE_CANCELLED,      /* Ctrl-C */
    SSO_CASE_BUSY_HOST,      /* a host-wide limit of pending.h refused a new login */
    SSO_CASE_BUSY_SOURCE,    /* this source's share of those limits is taken */
    SSO_CASE_OTHER_NAME,     /* the name typed is another spelling of the account's;
                                conv_tell_account_name has said which */
    SSO_CASE_PROVISIONED,    /* the account was made (provision.h): connect again;
                                conv_tell_provisioned has said so */
};

/* An error travels up the call chain as a PAM return code plus one sentence
 * of context; the entry file writes that sentence to syslog exactly once. */
struct sso_error {
    char msg[384];
    enum sso_case kase;
};

#define SSO_ERROR_INIT {.msg = "", .kase = SSO_CASE_NONE}

/* Format e->msg and return pam_code, so callers can write
 *   return sso_fail(err, PAM_AUTH_ERR, "denied by %s", who);
 * The case is reset; sso_fail_as sets it. */
int sso_fail(struct sso_error *e, int pam_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sso_fail_as(struct sso_error *e, int pam_code, enum sso_case kase, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copy src into dst (size dstlen). Returns false, leaving dst empty, when src
 * does not fit: a silently truncated identifier is worse than none. */
bool sso_strlcpy(char *dst, const char *src, size_t dstlen);

/* Wipe a secret in a way the compiler may not optimise away. */
void sso_cleanse(void *p, size_t len);

/* Give a file the module just created to root's group. Under su (setuid,
 * not setgid) new files get the caller's group; the modes (0700, 0600)
 * keep it out anyway, so this is tidiness, and a failure is ignored. */
void sso_chown_root(int fd);

/* Seconds on CLOCK_MONOTONIC (never jumps with wall-clock changes). */
double sso_monotonic(void);

/* Sleep on CLOCK_MONOTONIC until the absolute time `until` (as returned by
 * sso_monotonic), restarting after signal interruptions. */
void sso_sleep_until(double until);

#endif
