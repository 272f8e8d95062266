/* sync.h - the directory sync's rules (pam_ssooidc_sync, provision = sync):
 * what the ledger becomes, given who a directory says its members are. The
 * caller reads the directory (aws/directory.h), holds the ledger's lock,
 * calls sync_plan, looks at the report (sync_max_removals, --dry-run) and
 * commits or not. Nothing here touches the network or a file.
 *
 * A member's record is keyed on the directory's id for them (the key
 * prefix + id), which no rename changes: a person renamed keeps their uid.
 * A record a login made earlier (provision = login, keyed on the user name
 * the login proved) is matched to its member by that name and re-keyed.
 * A member who is disabled, or in none of the groups, is no longer served:
 * the record stays with its uid, state removed, and comes back if they do.
 * A member whose directory record failed the checks, or whose name maps to
 * no usable local name, is skipped: their account, if any, stays as it was.
 * docs/sync.md. */
#ifndef SSO_SYNC_H
#define SSO_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/ledger.h"
#include "core/usermap.h"
#include "core/util.h"

#define SYNC_GROUPS_MAX 20 /* local groups one member gets */

/* One member, as the directory gives them (sorted or not). */
struct sync_person {
    const char *id;      /* the directory's id for the person */
    const char *name;    /* their user name there (mapped like a login's approver) */
    bool enabled;
    const char *problem; /* non-empty: their directory record failed the checks */
    const char *groups[SYNC_GROUPS_MAX]; /* local groups they get (sync_groups) */
    size_t n_groups;
};

/* A user of the directory, member or not, and the name they hold now. */
struct sync_name {
    const char *id;
    const char *name;
};

/* Whose records the sync decides about. */
struct sync_source {
    const char *key_prefix;   /* e.g. "directory:identitystore:d-1234567890 user:" */
    const char *login_prefix; /* a login's records of the same provider, e.g.
                               * "aws:111122223333 "; their key ends in " " + the
                               * proven user name */
    /* Every user the directory lists, members or not (names == NULL: the
     * people given are all there is): who holds which name now. */
    const struct sync_name *names;
    size_t n_names;
};

enum sync_kind {
    SYNC_ADDED,     /* a new account */
    SYNC_RENEWED,   /* a removed account served again (back in a group, enabled) */
    SYNC_RENAMED,   /* renamed at the directory: same uid, new name */
    SYNC_REGROUPED, /* its local groups changed */
    SYNC_ADOPTED,   /* a login's record, now keyed on the directory's id */
    SYNC_REMOVED,   /* no longer served: disabled, or in none of the groups */
    SYNC_DISOWNED,  /* its directory name is another person's now: no login until
                       its own person is seen again */
    SYNC_SKIPPED,   /* left as it was: what is wrong is in detail */
};

struct sync_change {
    enum sync_kind kind;
    char name[LEDGER_NAME_MAX + 1];     /* the local name ("" when none could be made) */
    char old_name[LEDGER_NAME_MAX + 1]; /* SYNC_RENAMED: the name before */
    char who[200];  /* the directory's name for the person, made safe to print */
    uid_t uid;      /* 0 when none */
    char detail[240];
};

struct sync_report {
    struct sync_change *changes;
    size_t n, cap;
    size_t count[SYNC_SKIPPED + 1]; /* changes of each kind */
    size_t served_before;           /* the source's accounts served before the run */
    size_t served_after;
    size_t members;                 /* people the directory gave */
};

/* Apply the directory's word to the ledger in memory (l is open for
 * writing). PAM_SUCCESS with r filled (free with sync_report_free either
 * way); PAM_BUF_ERR, or PAM_SERVICE_ERR when the ledger cannot take it (the
 * uid range exhausted): nothing of it is to be committed then. */
int sync_plan(struct ledger *l, const struct cfg *c, const struct usermap *um,
              const struct sync_source *src, const struct sync_person *people, size_t n,
              int64_t now, struct sync_report *r, struct sso_error *err);
void sync_report_free(struct sync_report *r);

/* The one part of a plan that is never held back (sync_plan does it
 * first): a record whose directory name a user of the directory with
 * another id holds now (the name reused after its person left or was
 * renamed; src->names, members or not), or that two users hold at once
 * (with fold_case: ASCII case aside), gets no directory name, so that no
 * login matches it (provision.h) until its own person is seen again under
 * a name of their own. A run that sync_max_removals refuses still writes
 * this. PAM_SUCCESS (r counts SYNC_DISOWNED), or PAM_BUF_ERR. */
int sync_disown(struct ledger *l, const struct cfg *c, const struct sync_source *src,
                const struct sync_person *people, size_t n, struct sync_report *r,
                struct sso_error *err);

const char *sync_kind_name(enum sync_kind k); /* "added", "renamed", ... */

/* The last run's result, beside the ledger (SYNC_STATUS_FILE in the data
 * directory, root's, 0600 like every file the store reads back: counts and
 * a message, for pam_ssooidc_check and monitoring). */
#define SYNC_STATUS_FILE "sync-status.json"
struct sync_status {
    int64_t time;        /* when the run ended */
    int64_t last_success; /* the last run that wrote, or found nothing to write (0: never) */
    bool ok;
    char message[320];   /* the failure, or "" */
    long added, removed, renamed, skipped, served, requests;
};
/* Write st (atomically) into dir (NULL: SSO_DATA_DIR). PAM_SUCCESS or
 * PAM_SERVICE_ERR. */
int sync_status_write(const char *dir, const struct sync_status *st, struct sso_error *err);
/* Read it: PAM_SUCCESS, PAM_NO_MODULE_DATA when there is none yet,
 * PAM_SERVICE_ERR when it is not root's or does not parse. */
int sync_status_read(const char *dir, struct sync_status *st, struct sso_error *err);

#endif
