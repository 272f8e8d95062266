/* ledger.c - see ledger.h and docs/provisioning.md ("The ledger"): the
 * records and their rules (ids, adding, renaming, groups, committing);
 * ledger.json itself is ledger_json.c's. */
#define _GNU_SOURCE
#include "core/ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <jansson.h>
#include <pwd.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "core/store.h"


/* ---- small rules ---- */

bool ledger_name_ok(const char *name)
{
    if (!name || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
        return false;
    size_t i = 1;
    for (; name[i]; i++) {
        char c = name[i];
        if (i >= LEDGER_NAME_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

const char *ledger_state_name(enum ledger_state s)
{
    switch (s) {
    case LEDGER_ACTIVE: return "active";
    case LEDGER_LOCKED: return "locked";
    case LEDGER_REMOVED: return "removed";
    }
    return "unknown";
}

/* No control characters: `show` prints these strings to a terminal. The
 * JSON writer needs UTF-8, checked by making the string once. */
bool ledger_text_ok(const char *s, size_t max, bool may_be_empty)
{
    size_t n = strlen(s);
    if (n > max || (n == 0 && !may_be_empty))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    json_t *t = json_stringn(s, n);
    json_decref(t);
    return t != NULL;
}

/* A home or shell goes into a passwd line: absolute, no ':' to split it. */
bool ledger_path_ok(const char *s, size_t max)
{
    return s[0] == '/' && !strchr(s, ':') && ledger_text_ok(s, max, false);
}

int ledger_policy_check(const struct ledger_policy *pol, struct sso_error *err)
{
    if (!pol || pol->uid_min < LEDGER_RANGE_FLOOR || (long long)pol->uid_max > LEDGER_ID_MAX ||
        pol->uid_min > pol->uid_max)
        return sso_fail(err, PAM_SERVICE_ERR, "uid_range must lie within %d-%lld",
                        LEDGER_RANGE_FLOOR, LEDGER_ID_MAX);
    if (pol->expire_days < 0 || pol->expire_days > LEDGER_EXPIRE_DAYS_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "provision_expire_days must be 0-%d",
                        LEDGER_EXPIRE_DAYS_MAX);
    return PAM_SUCCESS;
}

int64_t ledger_expires(const struct ledger_account *a, const struct ledger_policy *pol)
{
    if (pol->expire_days <= 0)
        return 0;
    return a->last_login + (int64_t)pol->expire_days * LEDGER_DAY;
}

bool ledger_served(const struct ledger_account *a, const struct ledger_policy *pol, int64_t now)
{
    if (a->state != LEDGER_ACTIVE || a->uid < pol->uid_min || a->uid > pol->uid_max)
        return false;
    int64_t exp = ledger_expires(a, pol);
    return exp == 0 || exp > now;
}

/* ---- records in memory ---- */

struct ledger_account *ledger_push_account(struct ledger *l)
{
    if (l->n_acc == l->cap_acc) {
        size_t cap = l->cap_acc ? l->cap_acc * 2 : 16;
        struct ledger_account *p = realloc(l->acc, cap * sizeof(*p));
        if (!p)
            return NULL;
        l->acc = p;
        l->cap_acc = cap;
    }
    struct ledger_account *a = &l->acc[l->n_acc++];
    memset(a, 0, sizeof(*a));
    return a;
}

struct ledger_group *ledger_push_group(struct ledger *l)
{
    if (l->n_grp == l->cap_grp) {
        size_t cap = l->cap_grp ? l->cap_grp * 2 : 8;
        struct ledger_group *p = realloc(l->grp, cap * sizeof(*p));
        if (!p)
            return NULL;
        l->grp = p;
        l->cap_grp = cap;
    }
    struct ledger_group *g = &l->grp[l->n_grp++];
    memset(g, 0, sizeof(*g));
    return g;
}

struct ledger_account *ledger_find_key(struct ledger *l, const char *key)
{
    for (size_t i = 0; key && i < l->n_acc; i++)
        if (strcmp(l->acc[i].key, key) == 0)
            return &l->acc[i];
    return NULL;
}

/* The record holding the name (active or locked); else the newest
 * tombstone of that name, for `show` to say what became of it. */
struct ledger_account *ledger_find_name(struct ledger *l, const char *name)
{
    struct ledger_account *removed = NULL;
    for (size_t i = 0; name && i < l->n_acc; i++)
        if (strcmp(l->acc[i].name, name) == 0) {
            if (l->acc[i].state != LEDGER_REMOVED)
                return &l->acc[i];
            removed = &l->acc[i];
        }
    return removed;
}

size_t ledger_count(const struct ledger *l) { return l->n_acc; }

struct ledger_account *ledger_at(struct ledger *l, size_t i)
{
    return i < l->n_acc ? &l->acc[i] : NULL;
}

size_t ledger_group_count(const struct ledger *l) { return l->n_grp; }

const struct ledger_group *ledger_group_at(const struct ledger *l, size_t i)
{
    return i < l->n_grp ? &l->grp[i] : NULL;
}

bool ledger_policy_recorded(const struct ledger *l, struct ledger_policy *pol)
{
    if (l->have_policy && pol)
        *pol = l->policy;
    return l->have_policy;
}

static const struct ledger_group *group_named(const struct ledger *l, const char *name)
{
    for (size_t i = 0; i < l->n_grp; i++)
        if (strcmp(l->grp[i].name, name) == 0)
            return &l->grp[i];
    return NULL;
}

static bool holds_name(const struct ledger_account *a, const char *name)
{
    return a->state != LEDGER_REMOVED && strcmp(a->name, name) == 0;
}

static const struct ledger_account *holder_of(const struct ledger *l, const char *name)
{
    for (size_t i = 0; i < l->n_acc; i++)
        if (holds_name(&l->acc[i], name))
            return &l->acc[i];
    return NULL;
}

static bool id_in_ledger(const struct ledger *l, long long id)
{
    for (size_t i = 0; i < l->n_acc; i++)
        if ((long long)l->acc[i].uid == id)
            return true;
    for (size_t i = 0; i < l->n_grp; i++)
        if ((long long)l->grp[i].gid == id)
            return true;
    return false;
}

/* ---- what the other NSS sources know ----
 * Through whatever nsswitch.conf names (files, sssd, LDAP, our own module),
 * with a buffer grown on ERANGE up to a bound. A lookup that fails (not
 * "not found") is an error: an id we cannot check is never handed out. */

enum nss_kind { NSS_UID, NSS_GID, NSS_USER_NAME, NSS_GROUP_NAME };

static bool nss_not_found(int rc)
{
    return rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM;
}

static int nss_call(enum nss_kind kind, long long id, const char *name, char *buf, size_t len,
                    bool *found, long long *out)
{
    struct passwd pw, *pwr = NULL;
    struct group gr, *grr = NULL;
    int rc = 0;
    switch (kind) {
    case NSS_UID: rc = getpwuid_r((uid_t)id, &pw, buf, len, &pwr); break;
    case NSS_GID: rc = getgrgid_r((gid_t)id, &gr, buf, len, &grr); break;
    case NSS_USER_NAME: rc = getpwnam_r(name, &pw, buf, len, &pwr); break;
    case NSS_GROUP_NAME: rc = getgrnam_r(name, &gr, buf, len, &grr); break;
    }
    *found = pwr || grr;
    if (pwr)
        *out = (long long)pwr->pw_uid;
    if (grr)
        *out = (long long)grr->gr_gid;
    if (*found || nss_not_found(rc))
        return 0;
    return rc;
}

static int nss_lookup(enum nss_kind kind, long long id, const char *name, bool *found,
                      long long *out, struct sso_error *err)
{
    *found = false;
    int rc = ERANGE;
    for (size_t len = 16384; rc == ERANGE && len <= LEDGER_NSS_BUF_MAX; len *= 2) {
        char *buf = malloc(len);
        if (!buf)
            return sso_fail(err, PAM_BUF_ERR, "out of memory");
        rc = nss_call(kind, id, name, buf, len, found, out);
        free(buf);
    }
    if (rc == 0)
        return PAM_SUCCESS;
    static const char *const what[] = {"uid", "gid", "user", "group"};
    if (name)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot look up %s %s: %s", what[kind], name,
                        strerror(rc));
    return sso_fail(err, PAM_SERVICE_ERR, "cannot look up %s %lld: %s", what[kind], id,
                    strerror(rc));
}

/* The next id of the counter that neither the ledger nor any NSS source
 * has, within the range; the counter starts at uid_min when below it. The
 * caller moves next_id past it once the record is made. */
static int next_free_id(const struct ledger *l, const struct ledger_policy *pol, long long *id,
                        struct sso_error *err)
{
    long long c = l->next_id < (long long)pol->uid_min ? (long long)pol->uid_min : l->next_id;
    for (int scanned = 0; c <= (long long)pol->uid_max; c++, scanned++) {
        if (scanned >= LEDGER_SCAN_MAX)
            return sso_fail(err, PAM_SERVICE_ERR, "no free id among %d in uid_range %u-%u "
                            "after %lld", LEDGER_SCAN_MAX, (unsigned)pol->uid_min,
                            (unsigned)pol->uid_max, l->next_id);
        if (id_in_ledger(l, c))
            continue;
        bool used = false;
        long long ignored;
        int rc = nss_lookup(NSS_UID, c, NULL, &used, &ignored, err);
        if (rc == PAM_SUCCESS && !used)
            rc = nss_lookup(NSS_GID, c, NULL, &used, &ignored, err);
        if (rc != PAM_SUCCESS)
            return rc;
        if (!used) {
            *id = c;
            return PAM_SUCCESS;
        }
    }
    return sso_fail(err, PAM_SERVICE_ERR, "uid_range %u-%u is exhausted",
                    (unsigned)pol->uid_min, (unsigned)pol->uid_max);
}

/* ---- opening ---- */

static struct ledger *ledger_new(const char *dir)
{
    struct ledger *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->dir_fd = l->lock_fd = -1;
    l->next_id = 1;
    if (!sso_strlcpy(l->dir, dir, sizeof(l->dir))) {
        free(l);
        return NULL;
    }
    return l;
}

static int ledger_start(struct ledger **out, const char *dir, bool writer, double wait_seconds,
                        struct sso_error *err)
{
    *out = NULL;
    if (!dir)
        dir = SSO_DATA_DIR;
    struct ledger *l = ledger_new(dir);
    if (!l)
        return sso_fail(err, PAM_BUF_ERR, "out of memory or data directory path too long");
    int rc = store_dir_open_as(dir, "data directory", 0755, writer, &l->dir_fd, err);
    if (rc == PAM_NO_MODULE_DATA && !writer) {
        *out = l; /* nothing provisioned yet: an empty ledger */
        return PAM_SUCCESS;
    }
    if (rc == PAM_SUCCESS && writer)
        rc = store_lock(l->dir_fd, dir, LEDGER_LOCK, "ledger", wait_seconds, &l->lock_fd, err);
    if (rc == PAM_SUCCESS)
        rc = ledger_read(l, err);
    if (rc != PAM_SUCCESS) {
        ledger_close(l);
        return rc == PAM_NO_MODULE_DATA ? PAM_SERVICE_ERR : rc;
    }
    *out = l;
    return PAM_SUCCESS;
}

int ledger_open(struct ledger **l, const char *dir, double wait_seconds, struct sso_error *err)
{
    return ledger_start(l, dir, true, wait_seconds, err);
}

int ledger_open_readonly(struct ledger **l, const char *dir, struct sso_error *err)
{
    return ledger_start(l, dir, false, 0, err);
}

void ledger_close(struct ledger *l)
{
    if (!l)
        return;
    if (l->lock_fd >= 0)
        store_unlock(l->lock_fd);
    if (l->dir_fd >= 0)
        close(l->dir_fd);
    free(l->acc);
    free(l->grp);
    free(l);
}

/* ---- adding ---- */

static int add_checks(struct ledger *l, const char *key, const char *name, const char *approver,
                      const char *home, const char *shell, struct sso_error *err)
{
    if (!ledger_name_ok(name))
        return sso_fail(err, PAM_SERVICE_ERR, "name fails the name rule "
                        "^[a-z_][a-z0-9_-]{0,31}$; not provisioned");
    if (!key || !ledger_text_ok(key, LEDGER_KEY_MAX, false) ||
        !ledger_text_ok(approver ? approver : "", LEDGER_APPROVER_MAX, true))
        return sso_fail(err, PAM_SERVICE_ERR, "invalid key or approver for %s", name);
    if (!home || !shell || !ledger_path_ok(home, sizeof(l->acc->home) - 1) ||
        !ledger_path_ok(shell, sizeof(l->acc->shell) - 1))
        return sso_fail(err, PAM_SERVICE_ERR, "invalid home or shell for %s", name);
    const struct ledger_account *same = ledger_find_key(l, key);
    if (same)
        return sso_fail(err, PAM_SERVICE_ERR, "the ledger already has %s (%s) for that person",
                        same->name, ledger_state_name(same->state));
    if (holder_of(l, name))
        return sso_fail(err, PAM_SERVICE_ERR, "the ledger's name %s belongs to someone else",
                        name);
    if (group_named(l, name))
        return sso_fail(err, PAM_SERVICE_ERR, "%s is a group the ledger made; not a user name",
                        name);
    if (l->n_acc >= LEDGER_ACCOUNTS_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "the ledger holds %d accounts, its most",
                        LEDGER_ACCOUNTS_MAX);
    return PAM_SUCCESS;
}

/* The name must be no other source's user or group (its personal group
 * shares it). One of our own ids is fine: a removed or expired account's
 * line still served until the next commit. */
static int add_nss_checks(struct ledger *l, const char *name, struct sso_error *err)
{
    bool found = false;
    long long id = 0;
    int rc = nss_lookup(NSS_USER_NAME, 0, name, &found, &id, err);
    if (rc == PAM_SUCCESS && found && !id_in_ledger(l, id))
        return sso_fail(err, PAM_SERVICE_ERR, "%s is already a user of this host (uid %lld)",
                        name, id);
    if (rc == PAM_SUCCESS)
        rc = nss_lookup(NSS_GROUP_NAME, 0, name, &found, &id, err);
    if (rc == PAM_SUCCESS && found && !id_in_ledger(l, id))
        return sso_fail(err, PAM_SERVICE_ERR, "%s is already a group of this host (gid %lld)",
                        name, id);
    return rc;
}

int ledger_add(struct ledger *l, const struct ledger_policy *pol, const char *key,
               const char *name, const char *approver, const char *home, const char *shell,
               int64_t now, struct ledger_account **out, struct sso_error *err)
{
    if (out)
        *out = NULL;
    long long id = 0;
    int rc = ledger_policy_check(pol, err);
    if (rc == PAM_SUCCESS)
        rc = add_checks(l, key, name, approver, home, shell, err);
    if (rc == PAM_SUCCESS)
        rc = add_nss_checks(l, name, err);
    if (rc == PAM_SUCCESS)
        rc = next_free_id(l, pol, &id, err);
    if (rc != PAM_SUCCESS)
        return rc;
    struct ledger_account *a = ledger_push_account(l);
    if (!a)
        return sso_fail(err, PAM_BUF_ERR, "out of memory");
    /* Each fits: add_checks measured them. */
    sso_strlcpy(a->key, key, sizeof(a->key));
    sso_strlcpy(a->name, name, sizeof(a->name));
    sso_strlcpy(a->approver, approver ? approver : "", sizeof(a->approver));
    sso_strlcpy(a->home, home, sizeof(a->home));
    sso_strlcpy(a->shell, shell, sizeof(a->shell));
    a->uid = (uid_t)id;
    a->state = LEDGER_ACTIVE;
    a->created = a->last_login = now;
    l->next_id = id + 1;
    if (out)
        *out = a;
    return PAM_SUCCESS;
}

int ledger_name_unclaimed(struct ledger *l, const char *name, struct sso_error *err)
{
    return add_nss_checks(l, name, err);
}

int ledger_name_free_for(struct ledger *l, const struct ledger_account *a, const char *name,
                         struct sso_error *err)
{
    const struct ledger_account *holder = holder_of(l, name);
    if (holder && holder != a)
        return sso_fail(err, PAM_SERVICE_ERR, "the ledger's name %s belongs to someone else "
                        "(uid %u)", name, (unsigned)holder->uid);
    if (group_named(l, name))
        return sso_fail(err, PAM_SERVICE_ERR, "%s is a group the ledger made; not a user name",
                        name);
    return ledger_name_unclaimed(l, name, err);
}

/* A new name for a record (a person renamed at the provider): the same
 * rules as a new account's name. No other record nor a group the ledger
 * made holds it, and no other source has a user or a group of that name:
 * the personal group takes the name too, and a program that matches groups
 * by name (sudo's %group) would take the account for a member of the
 * host's group of that name. */
int ledger_rename(struct ledger *l, struct ledger_account *a, const char *name,
                  const char *home, struct sso_error *err)
{
    if (!ledger_name_ok(name))
        return sso_fail(err, PAM_SERVICE_ERR, "name fails the name rule "
                        "^[a-z_][a-z0-9_-]{0,31}$; not renamed");
    if (!home || !ledger_path_ok(home, sizeof(a->home) - 1))
        return sso_fail(err, PAM_SERVICE_ERR, "invalid home for %s", name);
    int rc = ledger_name_free_for(l, a, name, err);
    if (rc != PAM_SUCCESS)
        return rc;
    sso_strlcpy(a->name, name, sizeof(a->name));
    sso_strlcpy(a->home, home, sizeof(a->home));
    return PAM_SUCCESS;
}

/* ---- groups ---- */

enum resolved { RESOLVED, REFUSED, FAILED }; /* REFUSED: never to be written */

static enum resolved resolve_group(struct ledger *l, const struct ledger_policy *pol,
                                   const char *name, gid_t *gid, struct sso_error *err)
{
    if (!ledger_name_ok(name)) {
        sso_fail(err, PAM_SERVICE_ERR, "group_map names a group that fails the name rule");
        return REFUSED;
    }
    /* The ledger's own first: our NSS module would otherwise answer for it. */
    const struct ledger_group *g = group_named(l, name);
    if (g) {
        *gid = g->gid;
        return RESOLVED;
    }
    bool found = false;
    long long id = 0;
    if (nss_lookup(NSS_GROUP_NAME, 0, name, &found, &id, err) != PAM_SUCCESS)
        return FAILED;
    if (found && id == 0) {
        sso_fail(err, PAM_SERVICE_ERR, "group_map names a group with gid 0 (%s)", name);
        return REFUSED;
    }
    if ((found && id_in_ledger(l, id)) || (!found && holder_of(l, name))) {
        sso_fail(err, PAM_SERVICE_ERR, "group_map names %s, a provisioned account's personal "
                 "group", name);
        return REFUSED;
    }
    if (found) {
        *gid = (gid_t)id;
        return RESOLVED;
    }
    if (l->n_grp >= LEDGER_GROUP_RECORDS_MAX) {
        sso_fail(err, PAM_SERVICE_ERR, "the ledger holds %d groups, its most",
                 LEDGER_GROUP_RECORDS_MAX);
        return FAILED;
    }
    if (next_free_id(l, pol, &id, err) != PAM_SUCCESS)
        return FAILED;
    struct ledger_group *ng = ledger_push_group(l);
    if (!ng) {
        sso_fail(err, PAM_BUF_ERR, "out of memory");
        return FAILED;
    }
    sso_strlcpy(ng->name, name, sizeof(ng->name));
    ng->gid = (gid_t)id;
    l->next_id = id + 1;
    *gid = ng->gid;
    return RESOLVED;
}

int ledger_group_gid(struct ledger *l, const struct ledger_policy *pol, const char *name,
                     gid_t *gid, struct sso_error *err)
{
    int rc = ledger_policy_check(pol, err);
    if (rc != PAM_SUCCESS)
        return rc;
    return resolve_group(l, pol, name, gid, err) == RESOLVED ? PAM_SUCCESS : PAM_SERVICE_ERR;
}

/* ---- rendering ---- */

/* A growing text buffer, bounded by what the NSS module reads. */
struct lbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void lbuf_printf(struct lbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lbuf_printf(struct lbuf *b, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2 && !b->failed; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
        } else if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        } else {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap - b->len <= (size_t)n && cap <= (size_t)LEDGER_PUBLIC_MAX)
                cap *= 2;
            char *q = cap - b->len > (size_t)n ? realloc(b->p, cap) : NULL;
            if (!q)
                b->failed = true;
            else {
                b->p = q;
                b->cap = cap;
            }
        }
    }
}

/* Each served account's supplementary gids, resolved once per commit. */
struct resolved_gids {
    gid_t gid[LEDGER_GROUPS_MAX];
    size_t n;
};

/* One commit resolves each group name once, however many accounts hold
 * it: a host group mapped for every person would otherwise be looked up in
 * every NSS source, and checked against every record, once per account. */
#define GROUP_CACHE_MAX 64
struct group_cache {
    size_t n;
    struct {
        char name[LEDGER_NAME_MAX + 1];
        enum resolved res;
        gid_t gid;
    } of[GROUP_CACHE_MAX];
};

static enum resolved resolve_cached(struct ledger *l, const struct ledger_policy *pol,
                                    struct group_cache *gc, const char *name, gid_t *gid,
                                    struct sso_error *err)
{
    for (size_t i = 0; i < gc->n; i++)
        if (strcmp(gc->of[i].name, name) == 0) {
            *gid = gc->of[i].gid;
            return gc->of[i].res;
        }
    enum resolved res = resolve_group(l, pol, name, gid, err);
    if (res != FAILED && gc->n < GROUP_CACHE_MAX &&
        sso_strlcpy(gc->of[gc->n].name, name, sizeof(gc->of[0].name))) {
        gc->of[gc->n].res = res;
        gc->of[gc->n].gid = res == RESOLVED ? *gid : 0;
        gc->n++;
    }
    return res;
}

static int resolve_account(struct ledger *l, const struct ledger_policy *pol,
                           struct group_cache *gc, const struct ledger_account *a,
                           struct resolved_gids *r, struct sso_error *err)
{
    r->n = 0;
    for (size_t i = 0; i < a->n_groups; i++) {
        gid_t gid = 0;
        enum resolved res = resolve_cached(l, pol, gc, a->groups[i], &gid, err);
        if (res == FAILED)
            return PAM_SERVICE_ERR;
        if (res == REFUSED || gid == 0 || gid == a->uid)
            continue; /* gid 0 is never written; the primary group is implied */
        bool dup = false;
        for (size_t k = 0; k < r->n; k++)
            dup = dup || r->gid[k] == gid;
        if (!dup)
            r->gid[r->n++] = gid;
    }
    return PAM_SUCCESS;
}

static void render_passwd(const struct ledger *l, const struct ledger_policy *pol, int64_t now,
                          const struct resolved_gids *r, struct lbuf *b)
{
    lbuf_printf(b, "# pam_ssooidc passwd 1 uid_range=%u-%u\n", (unsigned)pol->uid_min,
                (unsigned)pol->uid_max);
    for (size_t i = 0; i < l->n_acc; i++) {
        const struct ledger_account *a = &l->acc[i];
        if (!ledger_served(a, pol, now))
            continue;
        lbuf_printf(b, "%s:*:%u:%u:%s (via pam_ssooidc):%s:%s:%" PRId64, a->name,
                    (unsigned)a->uid, (unsigned)a->uid, a->name, a->home, a->shell,
                    ledger_expires(a, pol));
        for (size_t k = 0; k < r[i].n; k++)
            lbuf_printf(b, "%c%u", k == 0 ? ':' : ',', (unsigned)r[i].gid[k]);
        lbuf_printf(b, "\n");
    }
}

static void render_group(const struct ledger *l, const struct ledger_policy *pol, int64_t now,
                         const struct resolved_gids *r, struct lbuf *b)
{
    lbuf_printf(b, "# pam_ssooidc group 1 uid_range=%u-%u\n", (unsigned)pol->uid_min,
                (unsigned)pol->uid_max);
    for (size_t i = 0; i < l->n_acc; i++)
        if (ledger_served(&l->acc[i], pol, now))
            lbuf_printf(b, "%s:x:%u::%" PRId64 "\n", l->acc[i].name, (unsigned)l->acc[i].uid,
                        ledger_expires(&l->acc[i], pol));
    for (size_t g = 0; g < l->n_grp; g++) {
        const struct ledger_group *lg = &l->grp[g];
        if (lg->gid < pol->uid_min || lg->gid > pol->uid_max)
            continue; /* the NSS module would skip it */
        size_t start = b->len;
        lbuf_printf(b, "%s:x:%u:", lg->name, (unsigned)lg->gid);
        size_t members = b->len;
        bool first = true;
        for (size_t i = 0; i < l->n_acc; i++) {
            if (!ledger_served(&l->acc[i], pol, now))
                continue;
            for (size_t k = 0; k < r[i].n; k++)
                if (r[i].gid[k] == lg->gid) {
                    lbuf_printf(b, "%s%s", first ? "" : ",", l->acc[i].name);
                    first = false;
                }
        }
        /* A line the NSS module would skip takes the group with it: then
         * the members go (initgroups gives them the group from their
         * passwd lines all the same) and the group stays served. */
        if (!b->failed && b->len - start + strlen(":0") > LEDGER_LINE_MAX)
            b->len = members;
        lbuf_printf(b, ":0\n");
    }
}

/* ---- committing ---- */

struct staged {
    const char *name;
    char tmp[STORE_TMP_NAME_MAX];
    bool ready;
};

/* ledger.json first: a crash after its rename leaves public files older
 * than the ledger, which the next commit renders again; the other way round
 * a served uid could be missing from the ledger and be handed out twice.
 * Every file is written and synced before the first rename, so a failure
 * before then changes nothing. */
static int write_all_files(struct ledger *l, const char *const text[3], const size_t len[3],
                           struct sso_error *err)
{
    struct staged st[3] = {{.name = LEDGER_FILE}, {.name = LEDGER_PASSWD},
                           {.name = LEDGER_GROUP}};
    const mode_t mode[3] = {0600, 0644, 0644};
    const char *failed = NULL;
    int e = 0;
    for (int i = 0; i < 3 && e == 0; i++) {
        e = store_stage(l->dir_fd, st[i].name, text[i], len[i], mode[i], 0, st[i].tmp,
                        sizeof(st[i].tmp));
        st[i].ready = e == 0;
        failed = st[i].name;
    }
    for (int i = 0; i < 3 && e == 0; i++) {
        e = store_publish(l->dir_fd, st[i].tmp, st[i].name);
        st[i].ready = false;
        failed = st[i].name;
    }
    if (e == 0 && fsync(l->dir_fd) != 0) {
        e = errno;
        failed = "the directory";
    }
    for (int i = 0; i < 3; i++)
        if (st[i].ready)
            unlinkat(l->dir_fd, st[i].tmp, 0);
    if (e != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot write %s in %s: %s", failed, l->dir,
                        strerror(e));
    return PAM_SUCCESS;
}

static int render_all(struct ledger *l, const struct ledger_policy *pol, int64_t now,
                      struct lbuf *pw, struct lbuf *gr, struct sso_error *err)
{
    struct resolved_gids *r = calloc(l->n_acc ? l->n_acc : 1, sizeof(*r));
    if (!r)
        return sso_fail(err, PAM_BUF_ERR, "out of memory");
    struct group_cache *gc = calloc(1, sizeof(*gc));
    int rc = gc ? PAM_SUCCESS : sso_fail(err, PAM_BUF_ERR, "out of memory");
    for (size_t i = 0; i < l->n_acc && rc == PAM_SUCCESS; i++)
        if (ledger_served(&l->acc[i], pol, now))
            rc = resolve_account(l, pol, gc, &l->acc[i], &r[i], err);
    free(gc);
    if (rc == PAM_SUCCESS) {
        render_passwd(l, pol, now, r, pw);
        render_group(l, pol, now, r, gr);
        if (pw->failed || gr->failed || pw->len > (size_t)LEDGER_PUBLIC_MAX ||
            gr->len > (size_t)LEDGER_PUBLIC_MAX)
            rc = sso_fail(err, PAM_SERVICE_ERR, "the passwd and group files would be larger "
                          "than the NSS module reads (or out of memory)");
    }
    free(r);
    return rc;
}

int ledger_commit(struct ledger *l, const struct ledger_policy *pol, int64_t now,
                  struct sso_error *err)
{
    if (l->lock_fd < 0)
        return sso_fail(err, PAM_SERVICE_ERR, "the ledger was opened read-only");
    int rc = ledger_policy_check(pol, err);
    if (rc != PAM_SUCCESS)
        return rc;
    /* What the next read would refuse (a name served twice, an id given
     * twice) is never written: one write fails instead of every read after
     * it. The rules above keep it from happening; this keeps a mistake in
     * them from locking everyone out. */
    struct sso_error why = SSO_ERROR_INIT;
    rc = ledger_check_unique(l, &why);
    if (rc != PAM_SUCCESS)
        return sso_fail(err, rc, "refusing to write the ledger: %s", why.msg);
    struct ledger_policy keep = l->policy;
    bool had = l->have_policy;
    struct lbuf pw = {0}, gr = {0};
    char *json = NULL;
    size_t json_len = 0;
    rc = render_all(l, pol, now, &pw, &gr, err);
    if (rc == PAM_SUCCESS) {
        l->policy = *pol; /* recorded for ledger_commit_recorded */
        l->have_policy = true;
        json = ledger_to_json(l, &json_len);
        if (!json || json_len > (size_t)LEDGER_FILE_MAX)
            rc = sso_fail(err, PAM_SERVICE_ERR, "cannot render the ledger (out of memory, or "
                          "larger than %ld bytes)", LEDGER_FILE_MAX);
    }
    if (rc == PAM_SUCCESS) {
        const char *const text[3] = {json, pw.p, gr.p};
        const size_t len[3] = {json_len, pw.len, gr.len};
        rc = write_all_files(l, text, len, err);
    }
    if (rc != PAM_SUCCESS) {
        l->policy = keep;
        l->have_policy = had;
    }
    free(json);
    free(pw.p);
    free(gr.p);
    return rc;
}

int ledger_commit_recorded(struct ledger *l, int64_t now, struct sso_error *err)
{
    if (!l->have_policy)
        return sso_fail(err, PAM_SERVICE_ERR, "the ledger records no policy yet (no login "
                        "has committed it); nothing to render with");
    struct ledger_policy pol = l->policy;
    return ledger_commit(l, &pol, now, err);
}
