/* ledger_int.h - the ledger's insides, shared by its two files: ledger.c
 * (the records and their rules: ids, adding, renaming, groups, committing)
 * and ledger_json.c (the file formats: ledger.json read and written).
 * Nothing outside core/ledger*.c includes it. */
#ifndef SSO_LEDGER_INT_H
#define SSO_LEDGER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ledger.h"

#define LEDGER_LOCK "ledger.lock"
#define LEDGER_VERSION 1
#define LEDGER_FILE_MAX (32L * 1024 * 1024)   /* bytes of ledger.json, read or written */
#define LEDGER_PUBLIC_MAX (64L * 1024 * 1024) /* what the NSS module still reads */
#define LEDGER_ACCOUNTS_MAX 65536             /* records, tombstones included */
#define LEDGER_GROUP_RECORDS_MAX 4096         /* groups the ledger made */
#define LEDGER_ID_MAX 2147483647LL            /* the NSS module's ceiling */
#define LEDGER_RANGE_FLOOR 1000               /* ... and floor (system ids below) */
#define LEDGER_EXPIRE_DAYS_MAX 36500
#define LEDGER_TIME_MAX 253402300799LL        /* 9999-12-31: keeps the sums in range */
#define LEDGER_SCAN_MAX 65536                 /* candidate ids one allocation tries */
#define LEDGER_NSS_BUF_MAX (8 * 1024 * 1024)  /* a getgr*_r buffer (big LDAP groups) */
#define LEDGER_APPROVER_MAX 255
#define LEDGER_DAY 86400LL
#define LEDGER_LINE_MAX 4096                  /* the NSS module skips longer lines */

struct ledger {
    int dir_fd;             /* -1: no directory yet (read only) */
    int lock_fd;            /* -1: read only, commits refused */
    char dir[4096];         /* for messages */
    struct ledger_account *acc;
    size_t n_acc, cap_acc;
    struct ledger_group *grp;
    size_t n_grp, cap_grp;
    long long next_id;      /* the one counter of uids and ledger gids */
    bool have_policy;       /* the policy of the last commit, recorded */
    struct ledger_policy policy;
};

/* A string of at most max bytes with no control character (empty only if
 * may_be_empty); an absolute path with no ':' besides. */
bool ledger_text_ok(const char *s, size_t max, bool may_be_empty);
bool ledger_path_ok(const char *s, size_t max);
/* The policy's range and expiry within bounds. */
int ledger_policy_check(const struct ledger_policy *pol, struct sso_error *err);
/* One more record or group at the end (NULL: out of memory or full). */
struct ledger_account *ledger_push_account(struct ledger *l);
struct ledger_group *ledger_push_group(struct ledger *l);

/* ledger_json.c: read ledger.json into l (none: an empty ledger, unless
 * passwd is there), every invariant checked; PAM_SUCCESS, or
 * PAM_SERVICE_ERR / PAM_BUF_ERR with err saying why. */
int ledger_read(struct ledger *l, struct sso_error *err);
/* The ids, the keys and the names in use each unique, as ledger_read
 * insists (a commit checks it too: a state the reader would refuse is
 * never written). PAM_SUCCESS, or PAM_SERVICE_ERR / PAM_BUF_ERR. */
int ledger_check_unique(struct ledger *l, struct sso_error *err);
/* ledger.json's text (malloc'd, *len bytes), or NULL (out of memory). */
char *ledger_to_json(const struct ledger *l, size_t *len);

#endif
