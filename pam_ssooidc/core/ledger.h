/* ledger.h - the accounts the module made (provision = login), and the files
 * the NSS module serves them from (docs/provisioning.md has the formats).
 *
 * Everything lives in one fixed directory, SSO_DATA_DIR (a build setting,
 * never an option or the environment: the NSS module must find the same
 * place in every process). The ledger (ledger.json, root-only) holds one
 * record per person, keyed by an identifier the provider cannot reassign
 * (OpenID: iss + sub, AWS: the Identity Center user name as STS proves it),
 * with the uid, the local name, the state and the times. The public files
 * (passwd, group) are rendered from it on every commit. Ids come from one
 * counter that only grows: a uid or gid once handed out is never handed
 * out again, whatever happens to its account (removed records stay as
 * tombstones).
 *
 * A writer takes the lock (ledger_open), reads, changes records in memory,
 * and commits: ledger.json, passwd and group, each replaced whole (temp
 * file, fsync, rename), then the directory synced. Readers need no lock. */
#ifndef SSO_LEDGER_H
#define SSO_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/util.h"

#ifndef SSO_DATA_DIR
#define SSO_DATA_DIR "/var/lib/pam_ssooidc"
#endif

#define LEDGER_FILE "ledger.json" /* in SSO_DATA_DIR */
#define LEDGER_PASSWD "passwd"     /* what the NSS module serves, beside it */
#define LEDGER_GROUP "group"
#define LEDGER_NAME_MAX 32     /* the name rule: ^[a-z_][a-z0-9_-]{0,31}$ */
#define LEDGER_KEY_MAX 800     /* "openid:" + iss (< 512) + " oid:" + id (< 256) fits */
#define LEDGER_GROUPS_MAX 32   /* local groups one account is given */
#define LEDGER_DEFAULT_UID_MIN 65536
#define LEDGER_DEFAULT_UID_MAX 99999

enum ledger_state { LEDGER_ACTIVE, LEDGER_LOCKED, LEDGER_REMOVED };

struct ledger_account {
    char key[LEDGER_KEY_MAX + 1];      /* the person, as the provider proves them */
    char name[LEDGER_NAME_MAX + 1];    /* the local name */
    char approver[256];                /* who approved last, for people reading the ledger */
    uid_t uid;                         /* == the personal group's gid */
    enum ledger_state state;
    int64_t created, last_login;       /* Unix seconds */
    char home[512], shell[256];
    /* The local groups group_map gives this person, by name, as of the last
     * login: existing groups of the host or groups the ledger made. */
    char groups[LEDGER_GROUPS_MAX][LEDGER_NAME_MAX + 1];
    size_t n_groups;
};

/* A group the ledger made because group_map named it and no other source
 * had it. Never removed: its gid stays reserved. */
struct ledger_group {
    char name[LEDGER_NAME_MAX + 1];
    gid_t gid;
};

/* How the files are rendered: the id range and the expiry. */
struct ledger_policy {
    uid_t uid_min, uid_max;    /* uid_range */
    long expire_days;          /* provision_expire_days; 0: never */
};

struct ledger; /* opaque: the records in memory, the lock held */

/* The name rule: ^[a-z_][a-z0-9_-]{0,31}$. */
bool ledger_name_ok(const char *name);

/* Take the lock (waiting at most wait_seconds) and read the ledger (none
 * yet: an empty one). dir NULL: SSO_DATA_DIR (tests pass their own), made
 * root's 0755 if missing; it must be a trusted path (trust.h).
 * PAM_SUCCESS; PAM_SERVICE_ERR for an unsafe directory or a ledger that
 * does not parse (never overwritten then: an administrator looks first);
 * PAM_AUTHINFO_UNAVAIL when the lock is not had in time; PAM_BUF_ERR. */
int ledger_open(struct ledger **l, const char *dir, double wait_seconds,
                struct sso_error *err);
/* Read without the lock, for pam_ssooidc_users list/show and the check. */
int ledger_open_readonly(struct ledger **l, const char *dir, struct sso_error *err);
/* Release the lock and free everything, writing nothing. */
void ledger_close(struct ledger *l);

/* Records, whatever their state (NULL: none). */
struct ledger_account *ledger_find_key(struct ledger *l, const char *key);
struct ledger_account *ledger_find_name(struct ledger *l, const char *name);
size_t ledger_count(const struct ledger *l);
struct ledger_account *ledger_at(struct ledger *l, size_t i);
size_t ledger_group_count(const struct ledger *l);
const struct ledger_group *ledger_group_at(const struct ledger *l, size_t i);

/* A new active account for `key` named `name` (the name rule holds, no
 * record of any state has the key, no active or locked one has the name):
 * the next id of the counter that no NSS source (getpwuid, getgrgid: files
 * and every other) uses, inside pol's range. PAM_SUCCESS with *out;
 * PAM_SERVICE_ERR when the range is exhausted or the arguments break the
 * rules above. */
int ledger_add(struct ledger *l, const struct ledger_policy *pol, const char *key,
               const char *name, const char *approver, const char *home, const char *shell,
               int64_t now, struct ledger_account **out, struct sso_error *err);

/* No NSS source has a user or a group named `name` but with one of the
 * ledger's own ids (what a record about to be served again must hold:
 * a locked or expired account is not served, and useradd or groupadd may
 * have taken its name meanwhile). PAM_SUCCESS, or PAM_SERVICE_ERR saying
 * who has it or that the lookup failed. */
int ledger_name_unclaimed(struct ledger *l, const char *name, struct sso_error *err);

/* May record `a` be served under `name` (a renamed record, or a removed or
 * expired one served again)? No other active or locked record and no
 * group of the ledger holds it, and no NSS source has a user or group of
 * that name but with one of the ledger's ids (ledger_name_unclaimed).
 * PAM_SUCCESS, or PAM_SERVICE_ERR saying who holds it. */
int ledger_name_free_for(struct ledger *l, const struct ledger_account *a, const char *name,
                         struct sso_error *err);

/* Rename record `a` (a person renamed at the provider) to `name` with
 * home `home`, by the rules of ledger_add's name: no other active or
 * locked record and no group of the ledger holds it, and no NSS source has
 * a user or group of that name. PAM_SUCCESS, or PAM_SERVICE_ERR with the
 * record unchanged. */
int ledger_rename(struct ledger *l, struct ledger_account *a, const char *name,
                  const char *home, struct sso_error *err);

/* The gid of local group `name` for an account's group list: the ledger's
 * group of that name, else an existing group of any NSS source (looked up
 * after the ledger's own, which our NSS module would otherwise answer
 * for), else a new ledger group with the next free id. PAM_SUCCESS or
 * PAM_SERVICE_ERR (range exhausted, name fails the rule, a group with gid
 * 0, a provisioned account's personal group). */
int ledger_group_gid(struct ledger *l, const struct ledger_policy *pol, const char *name,
                     gid_t *gid, struct sso_error *err);

/* Write ledger.json, passwd and group (each whole, atomically), rendered
 * with pol. A record is served when it is active and (expire_days == 0 or
 * last_login + expire_days days is still ahead); its groups are resolved
 * through ledger_group_gid (gid 0 is never written). PAM_SUCCESS or
 * PAM_SERVICE_ERR (the old files stay as they were). */
int ledger_commit(struct ledger *l, const struct ledger_policy *pol, int64_t now,
                  struct sso_error *err);

/* The same with the policy the last commit recorded in ledger.json (for
 * pam_ssooidc_users, which reads no configuration). PAM_SERVICE_ERR when
 * no commit has recorded one yet. */
int ledger_commit_recorded(struct ledger *l, int64_t now, struct sso_error *err);
/* That policy: true with *pol set, false when none is recorded. */
bool ledger_policy_recorded(const struct ledger *l, struct ledger_policy *pol);

/* When the account's lines stop being served under pol: last_login +
 * expire_days days, 0 for never. */
int64_t ledger_expires(const struct ledger_account *a, const struct ledger_policy *pol);
/* Whether a commit at `now` with pol writes its lines: active, inside the
 * range, not expired. */
bool ledger_served(const struct ledger_account *a, const struct ledger_policy *pol, int64_t now);

const char *ledger_state_name(enum ledger_state s); /* "active", "locked", "removed" */

#endif
