/* pending.h - fair limits on the device authorizations a host starts and
 * polls for people who have not yet proved who they are.
 *
 * Every SSH connection with a user name, and every sudo or su run, makes
 * the module start a device authorization and poll for it. The limits bound
 * what that costs the provider, and keep any one source from taking what
 * another person's login needs:
 *
 *   max_pending              logins polling at once on the host
 *   max_pending_per_source   ... for one source
 *   max_starts               device authorizations started per minute on the host
 *   max_starts_per_source    ... for one source
 *
 * A source is who asks (source.h): a remote address (IPv6 by /64), or the
 * real uid of a setuid host such as sudo or su. The host-wide limits count
 * each class apart, network and local: strangers on the network never fill
 * the places that sudo, su and the console need.
 *
 * Nothing here is a lock. Each login owns one record file in cache_dir
 * (lease-<class>-<source>-<random>, written whole under a temporary name
 * first): its boot id and pid, when it started, and until when it holds a
 * lease on a polling place. The lease is renewed before every poll and
 * lasts one poll interval plus a margin, so a login that stops polling (it
 * waits for the person at a prompt, or it was SIGSTOPped, or its host hangs)
 * holds nothing once its lease runs out; a record outlives its login for
 * the one-minute start window, then anyone removes it. Admission is
 * count-after-create: a login writes its record, then counts every live
 * record, and withdraws when it finds itself over a limit. Two logins
 * racing for the last place may both withdraw; neither can push the count
 * over the limit. docs/reliability.md gives the model and its numbers. */
#ifndef SSO_PENDING_H
#define SSO_PENDING_H

#include <stdbool.h>

#include "core/util.h"

#define PENDING_SOURCE_MAX 96
#define PENDING_LEASE_MARGIN 5.0 /* seconds a lease outlasts the poll interval */

struct pending_limits {
    long max_pending, max_pending_per_source; /* 0: no cap */
    long max_starts, max_starts_per_source;   /* per minute; 0: no cap */
};

struct pending {
    int dir_fd;       /* -1: no record (no limits, or none taken) */
    int fd;           /* our record, open for renewals */
    char name[80];    /* lease-<class>-<source>-<token> */
    char boot[40];    /* this boot's id, read once */
    char source[PENDING_SOURCE_MAX];
    struct pending_limits lim;
    long long started_ms, expires_ms; /* CLOCK_BOOTTIME; expires 0: holding nothing */
};

#define PENDING_INIT {.dir_fd = -1, .fd = -1}

/* Admit one more device authorization for `source` under `lim`: checks
 * both start rates and both polling caps, and records the start with a
 * lease of `lease_seconds`. PAM_SUCCESS; PAM_AUTHINFO_UNAVAIL with the case
 * SSO_CASE_BUSY_HOST or SSO_CASE_BUSY_SOURCE and err naming the limit;
 * PAM_SERVICE_ERR for an unsafe cache_dir. No limits set: nothing done. */
int pending_begin(struct pending *p, const char *cache_dir, const struct pending_limits *lim,
                  const char *source, double lease_seconds, struct sso_error *err);

/* Hold a polling place for another lease_seconds (before each poll). A
 * lease that ran out meanwhile (the login was stopped) is taken again only
 * within the polling caps. PAM_SUCCESS, or as pending_begin. */
int pending_hold(struct pending *p, double lease_seconds, struct sso_error *err);

/* Hold nothing while the person reads the code (a prompt waits for them). */
void pending_pause(struct pending *p);

/* The login is over: its place is free at once; its record stays until the
 * start window has passed, then anyone removes it. Safe when nothing was
 * begun. */
void pending_end(struct pending *p);

#endif
