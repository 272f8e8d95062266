/* ledger_json.c - ledger.json, the ledger's file (see ledger_int.h and
 * docs/provisioning.md, "The ledger"): read with every invariant checked,
 * and written whole. */
#define _GNU_SOURCE
#include "core/ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "core/store.h"

static bool state_parse(const char *s, enum ledger_state *out)
{
    for (int i = LEDGER_ACTIVE; i <= LEDGER_REMOVED; i++)
        if (strcmp(s, ledger_state_name((enum ledger_state)i)) == 0) {
            *out = (enum ledger_state)i;
            return true;
        }
    return false;
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
        !ledger_text_ok(a->key, LEDGER_KEY_MAX, false))
        return "has no valid key";
    if (sso_json_string(o, "name", a->name, sizeof(a->name)) != SSO_JSON_OK ||
        !ledger_name_ok(a->name))
        return "has a name that fails the name rule";
    if (sso_json_string(o, "approver", a->approver, sizeof(a->approver)) == SSO_JSON_BAD ||
        !ledger_text_ok(a->approver, LEDGER_APPROVER_MAX, true))
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
        !ledger_path_ok(a->home, sizeof(a->home) - 1) ||
        sso_json_string(o, "shell", a->shell, sizeof(a->shell)) != SSO_JSON_OK ||
        !ledger_path_ok(a->shell, sizeof(a->shell) - 1))
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
        struct ledger_account *a = ledger_push_account(l);
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
        struct ledger_group *g = ledger_push_group(l);
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

int ledger_check_unique(struct ledger *l, struct sso_error *err)
{
    int rc = check_unique_ids(l, err);
    return rc == PAM_SUCCESS ? check_unique_names(l, err) : rc;
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

int ledger_read(struct ledger *l, struct sso_error *err)
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

/* ---- writing ledger.json ---- */

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
char *ledger_to_json(const struct ledger *l, size_t *len)
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
