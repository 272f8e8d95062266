/* ledger.c - see ledger.h and docs/provisioning.md ("The ledger"). */
#define _GNU_SOURCE
#include "core/ledger.h"

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

#define LEDGER_LOCK "ledger.lock"
#define LEDGER_PASSWD "passwd"
#define LEDGER_GROUP "group"
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

static bool state_parse(const char *s, enum ledger_state *out)
{
    for (int i = LEDGER_ACTIVE; i <= LEDGER_REMOVED; i++)
        if (strcmp(s, ledger_state_name((enum ledger_state)i)) == 0) {
            *out = (enum ledger_state)i;
            return true;
        }
    return false;
}

/* No control characters: `show` prints these strings to a terminal. The
 * JSON writer needs UTF-8, checked by making the string once. */
static bool text_ok(const char *s, size_t max, bool may_be_empty)
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
static bool path_ok(const char *s, size_t max)
{
    return s[0] == '/' && !strchr(s, ':') && text_ok(s, max, false);
}

static int policy_check(const struct ledger_policy *pol, struct sso_error *err)
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

static struct ledger_account *push_account(struct ledger *l)
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

static struct ledger_group *push_group(struct ledger *l)
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

/* ---- reading ledger.json ---- */

/* A reason a record is refused, or NULL. */
static const char *account_from_json(json_t *o, struct ledger_account *a)
{
    char state[16];
    long long uid = 0, created = 0, last = 0;
    if (!json_is_object(o))
        return "is not an object";
    if (sso_json_string(o, "key", a->key, sizeof(a->key)) != SSO_JSON_OK ||
        !text_ok(a->key, LEDGER_KEY_MAX, false))
        return "has no valid key";
    if (sso_json_string(o, "name", a->name, sizeof(a->name)) != SSO_JSON_OK ||
        !ledger_name_ok(a->name))
        return "has a name that fails the name rule";
    if (sso_json_string(o, "approver", a->approver, sizeof(a->approver)) == SSO_JSON_BAD ||
        !text_ok(a->approver, LEDGER_APPROVER_MAX, true))
        return "has an invalid approver";
    if (sso_json_integer(o, "uid", 1, LEDGER_ID_MAX, &uid) != SSO_JSON_OK)
        return "has no valid uid";
    if (sso_json_string(o, "state", state, sizeof(state)) != SSO_JSON_OK ||
        !state_parse(state, &a->state))
        return "has no valid state";
    if (sso_json_integer(o, "created", 0, LEDGER_TIME_MAX, &created) != SSO_JSON_OK ||
        sso_json_integer(o, "last_login", 0, LEDGER_TIME_MAX, &last) != SSO_JSON_OK)
        return "has no valid created or last_login";
    if (sso_json_string(o, "home", a->home, sizeof(a->home)) != SSO_JSON_OK ||
        !path_ok(a->home, sizeof(a->home) - 1) ||
        sso_json_string(o, "shell", a->shell, sizeof(a->shell)) != SSO_JSON_OK ||
        !path_ok(a->shell, sizeof(a->shell) - 1))
        return "has an invalid home or shell";
    json_t *groups = json_object_get(o, "groups");
    if (!json_is_array(groups) || json_array_size(groups) > LEDGER_GROUPS_MAX)
        return "has no valid groups list";
    for (size_t i = 0; i < json_array_size(groups); i++) {
        json_t *g = json_array_get(groups, i);
        if (!json_is_string(g) || !ledger_name_ok(json_string_value(g)))
            return "names a group that fails the name rule";
        strcpy(a->groups[i], json_string_value(g)); /* fits: the rule bounds it */
    }
    a->n_groups = json_array_size(groups);
    a->uid = (uid_t)uid;
    a->created = created;
    a->last_login = last;
    return NULL;
}

static const char *group_from_json(json_t *o, struct ledger_group *g)
{
    long long gid = 0;
    if (!json_is_object(o))
        return "is not an object";
    if (sso_json_string(o, "name", g->name, sizeof(g->name)) != SSO_JSON_OK ||
        !ledger_name_ok(g->name))
        return "has a name that fails the name rule";
    if (sso_json_integer(o, "gid", 1, LEDGER_ID_MAX, &gid) != SSO_JSON_OK)
        return "has no valid gid";
    g->gid = (gid_t)gid;
    return NULL;
}

static int bad_ledger(struct ledger *l, struct sso_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad_ledger(struct ledger *l, struct sso_error *err, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return sso_fail(err, PAM_SERVICE_ERR, "ledger %s/%s %s; not changed: an administrator "
                    "must look at it", l->dir, LEDGER_FILE, why);
}

static int policy_from_json(struct ledger *l, json_t *root, struct sso_error *err)
{
    json_t *p = json_object_get(root, "policy");
    if (!p || json_is_null(p))
        return PAM_SUCCESS; /* never committed with a policy yet */
    long long lo = 0, hi = 0, days = 0;
    if (!json_is_object(p) ||
        sso_json_integer(p, "uid_min", LEDGER_RANGE_FLOOR, LEDGER_ID_MAX, &lo) != SSO_JSON_OK ||
        sso_json_integer(p, "uid_max", lo, LEDGER_ID_MAX, &hi) != SSO_JSON_OK ||
        sso_json_integer(p, "expire_days", 0, LEDGER_EXPIRE_DAYS_MAX, &days) != SSO_JSON_OK)
        return bad_ledger(l, err, "has an invalid policy");
    l->policy = (struct ledger_policy){.uid_min = (uid_t)lo, .uid_max = (uid_t)hi,
                                       .expire_days = (long)days};
    l->have_policy = true;
    return PAM_SUCCESS;
}

static int records_from_json(struct ledger *l, json_t *root, struct sso_error *err)
{
    json_t *accs = json_object_get(root, "accounts"), *grps = json_object_get(root, "groups");
    if (!json_is_array(accs) || !json_is_array(grps))
        return bad_ledger(l, err, "has no accounts or groups list");
    if (json_array_size(accs) > LEDGER_ACCOUNTS_MAX ||
        json_array_size(grps) > LEDGER_GROUP_RECORDS_MAX)
        return bad_ledger(l, err, "holds more than %d accounts or %d groups",
                          LEDGER_ACCOUNTS_MAX, LEDGER_GROUP_RECORDS_MAX);
    for (size_t i = 0; i < json_array_size(accs); i++) {
        struct ledger_account *a = push_account(l);
        if (!a)
            return sso_fail(err, PAM_BUF_ERR, "out of memory");
        const char *why = account_from_json(json_array_get(accs, i), a);
        if (why)
            return bad_ledger(l, err, "account %zu %s", i + 1, why);
        if ((long long)a->uid >= l->next_id)
            return bad_ledger(l, err, "account %s has uid %u, not below next_id %lld", a->name,
                              (unsigned)a->uid, l->next_id);
    }
    for (size_t i = 0; i < json_array_size(grps); i++) {
        struct ledger_group *g = push_group(l);
        if (!g)
            return sso_fail(err, PAM_BUF_ERR, "out of memory");
        const char *why = group_from_json(json_array_get(grps, i), g);
        if (why)
            return bad_ledger(l, err, "group %zu %s", i + 1, why);
        if ((long long)g->gid >= l->next_id)
            return bad_ledger(l, err, "group %s has gid %u, not below next_id %lld", g->name,
                              (unsigned)g->gid, l->next_id);
    }
    return PAM_SUCCESS;
}

static int cmp_id(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted copies, so that 65536 records are checked in n log n. */
static int check_unique_ids(struct ledger *l, struct sso_error *err)
{
    size_t n = l->n_acc + l->n_grp;
    long long *ids = calloc(n ? n : 1, sizeof(*ids));
    if (!ids)
        return sso_fail(err, PAM_BUF_ERR, "out of memory");
    for (size_t i = 0; i < l->n_acc; i++)
        ids[i] = (long long)l->acc[i].uid;
    for (size_t i = 0; i < l->n_grp; i++)
        ids[l->n_acc + i] = (long long)l->grp[i].gid;
    qsort(ids, n, sizeof(*ids), cmp_id);
    long long dup = 0;
    for (size_t i = 1; i < n && !dup; i++)
        if (ids[i] == ids[i - 1])
            dup = ids[i];
    free(ids);
    return dup ? bad_ledger(l, err, "gives id %lld twice", dup) : PAM_SUCCESS;
}

static int check_unique_strings(struct ledger *l, const char **s, size_t n, const char *what,
                                struct sso_error *err)
{
    qsort(s, n, sizeof(*s), cmp_str);
    for (size_t i = 1; i < n; i++)
        if (strcmp(s[i], s[i - 1]) == 0)
            return bad_ledger(l, err, "holds %s %.64s twice", what, s[i]);
    return PAM_SUCCESS;
}

/* The keys are unique; so are the names in use: those of active and locked
 * accounts (their personal groups) and of the ledger's groups, which share
 * the group file. */
static int check_unique_names(struct ledger *l, struct sso_error *err)
{
    size_t n = l->n_acc + l->n_grp;
    const char **s = calloc(n ? n : 1, sizeof(*s));
    if (!s)
        return sso_fail(err, PAM_BUF_ERR, "out of memory");
    for (size_t i = 0; i < l->n_acc; i++)
        s[i] = l->acc[i].key;
    int rc = check_unique_strings(l, s, l->n_acc, "the key", err);
    size_t k = 0;
    for (size_t i = 0; i < l->n_acc; i++)
        if (l->acc[i].state != LEDGER_REMOVED)
            s[k++] = l->acc[i].name;
    for (size_t i = 0; i < l->n_grp; i++)
        s[k++] = l->grp[i].name;
    if (rc == PAM_SUCCESS)
        rc = check_unique_strings(l, s, k, "the name", err);
    free(s);
    return rc;
}

static int ledger_from_json(struct ledger *l, const char *text, size_t len,
                            struct sso_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bad_ledger(l, err, "does not parse (line %d: %.80s)", jerr.line, jerr.text);
    long long version = 0, next = 0;
    int rc = PAM_SUCCESS;
    if (!json_is_object(root))
        rc = bad_ledger(l, err, "is not a JSON object");
    else if (sso_json_integer(root, "version", 1, 1000, &version) != SSO_JSON_OK ||
             version != LEDGER_VERSION)
        rc = bad_ledger(l, err, "is not version %d", LEDGER_VERSION);
    else if (sso_json_integer(root, "next_id", 1, LEDGER_ID_MAX + 1, &next) != SSO_JSON_OK)
        rc = bad_ledger(l, err, "has no valid next_id");
    if (rc == PAM_SUCCESS) {
        l->next_id = next;
        rc = policy_from_json(l, root, err);
    }
    if (rc == PAM_SUCCESS)
        rc = records_from_json(l, root, err);
    json_decref(root);
    if (rc == PAM_SUCCESS)
        rc = check_unique_ids(l, err);
    if (rc == PAM_SUCCESS)
        rc = check_unique_names(l, err);
    return rc;
}

/* No ledger.json: a new, empty ledger - unless passwd is there, which only
 * a lost ledger leaves (ledger.json is always written first): starting
 * afresh would hand its uids out again. */
static int ledger_missing(struct ledger *l, struct sso_error *err)
{
    struct stat st;
    if (fstatat(l->dir_fd, LEDGER_PASSWD, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return sso_fail(err, PAM_SERVICE_ERR, "ledger %s/%s is missing but %s is there; "
                        "refusing to start a new ledger over it (restore %s, or remove %s "
                        "and %s to start afresh)", l->dir, LEDGER_FILE, LEDGER_PASSWD,
                        LEDGER_FILE, LEDGER_PASSWD, LEDGER_GROUP);
    return PAM_SUCCESS;
}

static int ledger_read(struct ledger *l, struct sso_error *err)
{
    struct stat st;
    if (fstatat(l->dir_fd, LEDGER_FILE, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return ledger_missing(l, err);
        return bad_ledger(l, err, "cannot be examined: %s", strerror(errno));
    }
    /* Checked here first: store_open_read would remove a symlink, and a
     * ledger must never vanish by itself. */
    if (!S_ISREG(st.st_mode))
        return bad_ledger(l, err, "is not a regular file");
    int fd = -1;
    int rc = store_open_read(l->dir_fd, LEDGER_FILE, "ledger", "refusing to use it",
                             LEDGER_FILE_MAX, &fd, &st, err);
    if (rc != PAM_SUCCESS)
        return PAM_SERVICE_ERR; /* err says why (owner, mode, size) */
    char *buf = malloc((size_t)st.st_size + 1);
    size_t len = 0;
    int r = buf ? store_read_all(fd, buf, (size_t)st.st_size, &len) : -1;
    close(fd);
    if (r != 0) {
        free(buf);
        return buf ? bad_ledger(l, err, "cannot be read (it changed while read?)")
                   : sso_fail(err, PAM_BUF_ERR, "out of memory");
    }
    rc = ledger_from_json(l, buf, len, err);
    free(buf);
    return rc;
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
    if (!key || !text_ok(key, LEDGER_KEY_MAX, false) ||
        !text_ok(approver ? approver : "", LEDGER_APPROVER_MAX, true))
        return sso_fail(err, PAM_SERVICE_ERR, "invalid key or approver for %s", name);
    if (!home || !shell || !path_ok(home, sizeof(l->acc->home) - 1) ||
        !path_ok(shell, sizeof(l->acc->shell) - 1))
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
    int rc = policy_check(pol, err);
    if (rc == PAM_SUCCESS)
        rc = add_checks(l, key, name, approver, home, shell, err);
    if (rc == PAM_SUCCESS)
        rc = add_nss_checks(l, name, err);
    if (rc == PAM_SUCCESS)
        rc = next_free_id(l, pol, &id, err);
    if (rc != PAM_SUCCESS)
        return rc;
    struct ledger_account *a = push_account(l);
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
    if (!home || !path_ok(home, sizeof(a->home) - 1))
        return sso_fail(err, PAM_SERVICE_ERR, "invalid home for %s", name);
    const struct ledger_account *holder = holder_of(l, name);
    if (holder && holder != a)
        return sso_fail(err, PAM_SERVICE_ERR, "the ledger's name %s belongs to someone else",
                        name);
    if (group_named(l, name))
        return sso_fail(err, PAM_SERVICE_ERR, "%s is a group the ledger made; not a user name",
                        name);
    int rc = ledger_name_unclaimed(l, name, err);
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
    struct ledger_group *ng = push_group(l);
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
    int rc = policy_check(pol, err);
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

static int resolve_account(struct ledger *l, const struct ledger_policy *pol,
                           const struct ledger_account *a, struct resolved_gids *r,
                           struct sso_error *err)
{
    r->n = 0;
    for (size_t i = 0; i < a->n_groups; i++) {
        gid_t gid = 0;
        enum resolved res = resolve_group(l, pol, a->groups[i], &gid, err);
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

static json_t *account_to_json(const struct ledger_account *a)
{
    json_t *groups = json_array();
    for (size_t i = 0; groups && i < a->n_groups; i++)
        json_array_append_new(groups, json_string(a->groups[i]));
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:s, s:s, s:o?}", "key", a->key,
                     "name", a->name, "approver", a->approver, "uid", (json_int_t)a->uid,
                     "state", ledger_state_name(a->state), "created", (json_int_t)a->created,
                     "last_login", (json_int_t)a->last_login, "home", a->home, "shell",
                     a->shell, "groups", groups);
}

/* ledger.json, or NULL (out of memory, a string jansson refused). */
static char *ledger_to_json(const struct ledger *l, size_t *len)
{
    json_t *accs = json_array(), *grps = json_array();
    bool ok = accs && grps;
    for (size_t i = 0; ok && i < l->n_acc; i++)
        ok = json_array_append_new(accs, account_to_json(&l->acc[i])) == 0;
    for (size_t i = 0; ok && i < l->n_grp; i++)
        ok = json_array_append_new(grps, json_pack("{s:s, s:I}", "name", l->grp[i].name, "gid",
                                                   (json_int_t)l->grp[i].gid)) == 0;
    json_t *root = NULL;
    if (ok)
        root = json_pack("{s:i, s:I, s:{s:I, s:I, s:I}, s:O, s:O}", "version", LEDGER_VERSION,
                         "next_id", (json_int_t)l->next_id, "policy", "uid_min",
                         (json_int_t)l->policy.uid_min, "uid_max", (json_int_t)l->policy.uid_max,
                         "expire_days", (json_int_t)l->policy.expire_days, "accounts", accs,
                         "groups", grps);
    json_decref(accs);
    json_decref(grps);
    char *text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
    json_decref(root);
    *len = text ? strlen(text) : 0;
    return text;
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
    int rc = PAM_SUCCESS;
    for (size_t i = 0; i < l->n_acc && rc == PAM_SUCCESS; i++)
        if (ledger_served(&l->acc[i], pol, now))
            rc = resolve_account(l, pol, &l->acc[i], &r[i], err);
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
    int rc = policy_check(pol, err);
    if (rc != PAM_SUCCESS)
        return rc;
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
