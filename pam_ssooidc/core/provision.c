/* provision.c - see provision.h. */
#include "core/provision.h"

#include <errno.h>
#include <pwd.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/usermap.h"

/* Seconds a login waits for another login's write to the ledger: each
 * holds it for a few file writes. Only approved logins take it. */
#define PROVISION_LOCK_WAIT 10.0
/* A refresh after the login was decided waits less: it may be skipped. */
#define PROVISION_REFRESH_WAIT 2.0
/* Seconds a recorded last login may age before a login rewrites it. */
#define PROVISION_LOGIN_RECORD_AGE 86400

int provision_check_name(const struct cfg *c, const char *typed, struct sso_error *err)
{
    (void)c;
    if (!ledger_name_ok(typed))
        return sso_fail(err, PAM_USER_UNKNOWN, "no such local user, and the name cannot be "
                        "made (provision = login: names follow ^[a-z_][a-z0-9_-]{0,31}$)");
    return PAM_SUCCESS;
}

struct ledger_policy provision_policy(const struct cfg *c)
{
    unsigned long lo, hi;
    cfg_uid_range(c, &lo, &hi);
    return (struct ledger_policy){(uid_t)lo, (uid_t)hi, c->provision_expire_days};
}

/* The local groups group_map gives, into the record. */
static void set_groups(struct ledger_account *a, const struct provision_login *pl)
{
    char local[LEDGER_GROUPS_MAX][GROUPMAP_LOCAL_MAX + 1];
    size_t n = groupmap_resolve(pl->groups, (const char (*)[256])pl->facts->groups,
                                pl->facts->n_groups, local, LEDGER_GROUPS_MAX);
    _Static_assert(sizeof(local[0]) == sizeof(a->groups[0]), "one name size");
    memcpy(a->groups, local, n * sizeof(local[0]));
    a->n_groups = n;
}

bool provision_name_known(const char *name, uid_t *uid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    errno = 0;
    int e = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
    if (res)
        *uid = res->pw_uid;
    return res != NULL || (e != 0 && e != ENOENT && e != ESRCH);
}

int provision_home_of(const struct cfg *c, const char *name, char *out, size_t len,
                   struct sso_error *err)
{
    const char *base = c->provision_home;
    size_t n = strlen(base);
    while (n > 1 && base[n - 1] == '/')
        n--;
    int w = snprintf(out, len, "%.*s/%s", (int)n, base, name);
    if (w < 0 || (size_t)w >= len)
        return sso_fail(err, PAM_SERVICE_ERR, "provision_home %s is too long", base);
    return PAM_SUCCESS;
}

int provision_home_is_free(const char *home, struct sso_error *err)
{
    struct stat st;
    if (lstat(home, &st) == 0)
        return sso_fail(err, PAM_AUTH_ERR, "%s exists already (uid %u): a new account is never "
                        "given another's files; move it away to let this person in",
                        home, (unsigned)st.st_uid);
    /* Only "no such file" is free: a home that cannot be looked at (a
     * directory root may not search without capabilities, NFS with
     * root_squash, an I/O error) may well exist. */
    if (errno != ENOENT)
        return sso_fail(err, PAM_AUTH_ERR, "cannot tell whether %s exists (%s): a new account "
                        "is never given a home that may be another's", home, strerror(errno));
    return PAM_SUCCESS;
}

/* The person's earlier record, active again under this name. */
static int renew(struct ledger *l, const struct cfg *c, struct ledger_account *a,
                 const struct provision_login *pl, struct sso_error *err)
{
    if (a->state == LEDGER_LOCKED)
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_NOT_PERMITTED, "approved by %s, whose "
                           "account %s (uid %u) an administrator locked (pam_ssooidc_users "
                           "unlock)", pl->approver, a->name, (unsigned)a->uid);
    /* Renewed outside the range it would never be served: the person would
     * be told to connect again, and again. */
    const struct ledger_policy pol = provision_policy(c);
    if (a->uid < pol.uid_min || a->uid > pol.uid_max)
        return sso_fail(err, PAM_SERVICE_ERR, "account %s of %s keeps uid %u, outside uid_range "
                        "%s, so it is not served: widen uid_range to hold it", a->name,
                        pl->approver, (unsigned)a->uid, c->uid_range);
    /* Another name for the same person is a rename only when the provider
     * now names them differently; a person user_map maps to two names keeps
     * the account they have, and gets no second one. */
    if (strcmp(a->name, pl->name) != 0 && a->state == LEDGER_ACTIVE &&
        strcmp(a->approver, pl->approver) == 0)
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_WRONG_ACCOUNT, "approved by %s, who "
                           "has the account %s (uid %u) on this host already: one account per "
                           "person", pl->approver, a->name, (unsigned)a->uid);
    if (strcmp(a->name, pl->name) != 0) { /* renamed at the provider */
        char home[sizeof(a->home)];
        int rc = provision_home_of(c, pl->name, home, sizeof(home), err);
        if (rc == PAM_SUCCESS)
            rc = provision_home_is_free(home, err);
        if (rc == PAM_SUCCESS) /* a name no other source has, user or group */
            rc = ledger_rename(l, a, pl->name, home, err);
        if (rc != PAM_SUCCESS)
            return rc;
    } else {
        /* Removed or expired, it was not served: useradd or groupadd may
         * have taken the name meanwhile, or another record or a group the
         * ledger made. */
        int rc = ledger_name_free_for(l, a, a->name, err);
        if (rc != PAM_SUCCESS)
            return rc;
    }
    a->state = LEDGER_ACTIVE;
    return PAM_SUCCESS;
}

static int create(struct ledger *l, const struct cfg *c, const struct provision_login *pl,
                  int64_t now, enum provision_outcome *outcome, struct ledger_account **out,
                  struct sso_error *err)
{
    const struct ledger_policy pol = provision_policy(c);
    struct ledger_account *mine = ledger_find_key(l, pl->facts->key);
    struct ledger_account *named = ledger_find_name(l, pl->name);
    if (named && named != mine && named->state != LEDGER_REMOVED)
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_WRONG_ACCOUNT, "approved by %s, but "
                           "the account %s the module made (uid %u) is another person's",
                           pl->approver, pl->name, (unsigned)named->uid);
    uid_t known_uid = 0;
    if (provision_name_known(pl->name, &known_uid)) {
        /* Under the lock now: a login of the same person that finished
         * first made it, or someone made it locally meanwhile. */
        if (mine && mine->state == LEDGER_ACTIVE && strcmp(mine->name, pl->name) == 0 &&
            known_uid == mine->uid) {
            *out = mine;
            *outcome = PROVISION_CREATED;
            return PAM_SUCCESS;
        }
        return sso_fail(err, PAM_AUTH_ERR, "the name %s exists on this host now (uid %u) or "
                        "could not be looked up: not made", pl->name, (unsigned)known_uid);
    }
    int rc;
    if (mine) {
        rc = renew(l, c, mine, pl, err);
        *outcome = PROVISION_RENEWED;
    } else {
        char home[512];
        rc = provision_home_of(c, pl->name, home, sizeof(home), err);
        if (rc == PAM_SUCCESS)
            rc = provision_home_is_free(home, err);
        if (rc == PAM_SUCCESS)
            rc = ledger_add(l, &pol, pl->facts->key, pl->name, pl->approver, home,
                            c->provision_shell, now, &mine, err);
        *outcome = PROVISION_CREATED;
    }
    *out = mine;
    return rc;
}

static int commit(struct ledger *l, const struct cfg *c, struct ledger_account *a,
                  const struct provision_login *pl, int64_t now, struct sso_error *err)
{
    const struct ledger_policy pol = provision_policy(c);
    a->last_login = now;
    sso_strlcpy(a->approver, pl->approver, sizeof(a->approver));
    set_groups(a, pl);
    return ledger_commit(l, &pol, now, err);
}

bool provision_owner_is(const struct cfg *c, const struct ledger_account *a,
                        const struct provision_login *pl)
{
    /* The sync keys a record on the directory's id for the person, which no
     * login proves; what a login proves of them is their user name, which
     * the directory gave the record (the store's names are unique). */
    if (strncmp(a->key, PROVISION_DIRECTORY_KEY, strlen(PROVISION_DIRECTORY_KEY)) == 0)
        /* A record the sync disowned has no name: nobody is its owner, not
         * even an approver whose proven name came out empty. */
        return a->approver[0] != '\0' && usermap_is_account_name(c, pl->approver, a->approver);
    return strcmp(a->key, pl->facts->key) == 0;
}

/* The ledger's record with uid `uid`, whatever its name and state. */
static const struct ledger_account *record_of_uid(struct ledger *l, uid_t uid)
{
    for (size_t i = 0; i < ledger_count(l); i++)
        if (ledger_at(l, i)->uid == uid)
            return ledger_at(l, i);
    return NULL;
}

/* Whether the record needs writing: its groups or approver changed, or its
 * last login is a day old. Most logins then only read the ledger: a write
 * renders and replaces every file, which at thousands of accounts is the
 * bulk of a login's cost. The expiry counts from a last login that may be
 * up to a day old (docs/provisioning.md). */
static bool record_stale(const struct ledger_account *a, const struct provision_login *pl,
                         int64_t now)
{
    char local[LEDGER_GROUPS_MAX][GROUPMAP_LOCAL_MAX + 1];
    size_t n = groupmap_resolve(pl->groups, (const char (*)[256])pl->facts->groups,
                                pl->facts->n_groups, local, LEDGER_GROUPS_MAX);
    if (n != a->n_groups || strcmp(a->approver, pl->approver) != 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp(local[i], a->groups[i]) != 0)
            return true;
    return now < a->last_login || now - a->last_login >= PROVISION_LOGIN_RECORD_AGE;
}

/* An account the module made, logged in to: it must be this person's.
 * Decided on a read without the lock, so that nobody holding the lock (a
 * login stopped in its write) can keep anyone out. A uid the ledger
 * handed out but not under this name as an active account (passwd older
 * than the ledger after a crash between a commit's renames: a renamed,
 * locked or removed account still served) is nobody's to log in to. */
static int check_owner(const struct cfg *c, const struct provision_login *pl, bool *ours, bool *stale,
                       struct sso_error *err)
{
    struct ledger *l = NULL;
    *ours = *stale = false;
    int rc = ledger_open_readonly(&l, NULL, err);
    if (rc != PAM_SUCCESS)
        return rc;
    struct ledger_account *a = ledger_find_name(l, pl->name);
    const struct ledger_account *by_uid = record_of_uid(l, pl->uid);
    if (a && a->uid == pl->uid && a->state == LEDGER_ACTIVE) {
        *ours = true;
        *stale = record_stale(a, pl, (int64_t)time(NULL));
        if (!provision_owner_is(c, a, pl))
            rc = sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_WRONG_ACCOUNT, "approved by %s, who "
                             "is not the person the module made account %s (uid %u) for",
                             pl->approver, a->name, (unsigned)a->uid);
    } else if (by_uid) {
        rc = sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_WRONG_ACCOUNT, "uid %u of %s is the "
                         "module's account %s (%s) in the ledger: passwd is older than the "
                         "ledger; not logged in to", (unsigned)pl->uid, pl->name, by_uid->name,
                         ledger_state_name(by_uid->state));
    }
    ledger_close(l);
    return rc;
}

bool provision_is_ledgers(const char *name, uid_t uid)
{
    struct ledger *l = NULL;
    struct sso_error ignored = SSO_ERROR_INIT;
    if (ledger_open_readonly(&l, NULL, &ignored) != PAM_SUCCESS)
        return true;
    const struct ledger_account *a = ledger_find_name(l, name);
    bool ours = (a && a->uid == uid && a->state == LEDGER_ACTIVE) || record_of_uid(l, uid);
    ledger_close(l);
    return ours;
}

/* Its groups and last login, under the lock, waiting briefly: the login is
 * decided already, and a refresh missed now is made at the next one. */
static void refresh(const struct cfg *c, const struct provision_login *pl, bool *done,
                    struct sso_error *note)
{
    struct ledger *l = NULL;
    *done = false;
    if (ledger_open(&l, NULL, PROVISION_REFRESH_WAIT, note) != PAM_SUCCESS)
        return;
    struct ledger_account *a = ledger_find_name(l, pl->name);
    if (a && a->uid == pl->uid && a->state == LEDGER_ACTIVE && provision_owner_is(c, a, pl))
        *done = commit(l, c, a, pl, (int64_t)time(NULL), note) == PAM_SUCCESS;
    ledger_close(l);
}

static int make(const struct cfg *c, const struct provision_login *pl,
                enum provision_outcome *outcome, uid_t *uid, struct sso_error *err)
{
    struct ledger *l = NULL;
    int rc = ledger_open(&l, NULL, PROVISION_LOCK_WAIT, err);
    if (rc != PAM_SUCCESS)
        return rc;
    const int64_t now = (int64_t)time(NULL);
    struct ledger_account *a = NULL;
    rc = create(l, c, pl, now, outcome, &a, err);
    if (rc == PAM_SUCCESS)
        rc = commit(l, c, a, pl, now, err);
    if (rc == PAM_SUCCESS)
        *uid = a->uid;
    ledger_close(l);
    if (rc != PAM_SUCCESS) {
        *outcome = PROVISION_UNTOUCHED;
        return rc;
    }
    return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_PROVISIONED, "account %s %s (uid %u) for "
                       "%s: the person connects again to log in", pl->name,
                       *outcome == PROVISION_CREATED ? "created" : "served again",
                       (unsigned)*uid, pl->approver);
}

/* The module has made accounts: a ledger, or what the NSS module serves
 * from it (ledger.json lost, its accounts still served: the check then
 * fails closed, as reading the ledger refuses that state). */
bool provision_ledger_exists(void)
{
    struct stat st;
    return lstat(SSO_DATA_DIR "/" LEDGER_FILE, &st) == 0 ||
           lstat(SSO_DATA_DIR "/" LEDGER_PASSWD, &st) == 0 ||
           lstat(SSO_DATA_DIR "/" LEDGER_GROUP, &st) == 0;
}

int provision_login(const struct cfg *c, const struct provision_login *pl,
                    enum provision_outcome *outcome, uid_t *uid, struct sso_error *err,
                    struct sso_error *note)
{
    *outcome = PROVISION_UNTOUCHED;
    if (pl->creating)
        return make(c, pl, outcome, uid, err);
    bool ours = false, stale = false, done = false;
    int rc = check_owner(c, pl, &ours, &stale, err);
    /* Under sync the directory's run writes the ledger, never a login. */
    if (rc != PAM_SUCCESS || !ours || !stale || c->provision != CFG_PROVISION_LOGIN) {
        *uid = pl->uid;
        return rc;
    }
    refresh(c, pl, &done, note);
    *outcome = done ? PROVISION_REFRESHED : PROVISION_UNTOUCHED;
    *uid = pl->uid;
    return PAM_SUCCESS;
}
