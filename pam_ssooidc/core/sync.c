/* sync.c - see sync.h. */
#include "core/sync.h"

#include <errno.h>
#include <jansson.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/provision.h"
#include "core/sanitize.h"
#include "core/store.h"

#define SYNC_STATUS_MAX 4096 /* bytes of the status file */

const char *sync_kind_name(enum sync_kind k)
{
    static const char *const names[] = {"added",   "renewed", "renamed",  "regrouped",
                                        "adopted", "removed", "disowned", "skipped"};
    return (unsigned)k <= SYNC_SKIPPED ? names[k] : "?";
}

void sync_report_free(struct sync_report *r)
{
    free(r->changes);
    memset(r, 0, sizeof(*r));
}

static struct sync_change *report(struct sync_report *r, enum sync_kind kind, const char *who,
                                  const char *name, uid_t uid, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static struct sync_change *report(struct sync_report *r, enum sync_kind kind, const char *who,
                                  const char *name, uid_t uid, const char *fmt, ...)
{
    r->count[kind]++;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct sync_change *grown = realloc(r->changes, cap * sizeof(*grown));
        if (!grown)
            return NULL; /* counted, not listed: the caller sees n < the counts */
        r->changes = grown;
        r->cap = cap;
    }
    struct sync_change *ch = &r->changes[r->n++];
    memset(ch, 0, sizeof(*ch));
    ch->kind = kind;
    ch->uid = uid;
    sanitize_display(ch->who, sizeof(ch->who), who ? who : "", 120);
    sso_strlcpy(ch->name, name ? name : "", sizeof(ch->name));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ch->detail, sizeof(ch->detail), fmt, ap);
    va_end(ap);
    return ch;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return prefix && prefix[0] && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- finding a member's record without a scan per member ---- */

struct keyed {
    const char *key; /* into the ledger: valid until the first record is added */
    size_t idx;
};

static int keyed_cmp(const void *a, const void *b)
{
    return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

/* The source's records as they were before the run, sorted by key. */
static struct keyed *index_records(struct ledger *l, const struct sync_source *src, size_t *n)
{
    size_t total = ledger_count(l);
    struct keyed *ix = calloc(total ? total : 1, sizeof(*ix));
    *n = 0;
    if (!ix)
        return NULL;
    for (size_t i = 0; i < total; i++) {
        const char *key = ledger_at(l, i)->key;
        if (has_prefix(key, src->key_prefix) || has_prefix(key, src->login_prefix))
            ix[(*n)++] = (struct keyed){key, i};
    }
    qsort(ix, *n, sizeof(*ix), keyed_cmp);
    return ix;
}

static long find_keyed(const struct keyed *ix, size_t n, const char *key)
{
    const struct keyed probe = {key, 0};
    const struct keyed *hit = bsearch(&probe, ix, n, sizeof(*ix), keyed_cmp);
    return hit ? (long)hit->idx : -1;
}

/* A login's record of this person: its key is login_prefix, the account
 * the login proved them in, a space and the user name. Only one still in
 * use (active or locked): a removed one belonged to whoever had the name
 * then, and a member who has it now is a new person to it, who gets a new
 * account by the new account's checks (its old home among them). */
static long find_login_record(struct ledger *l, const struct cfg *c, const struct keyed *ix,
                              size_t n, const struct sync_source *src, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!has_prefix(ix[i].key, src->login_prefix) ||
            ledger_at(l, ix[i].idx)->state == LEDGER_REMOVED)
            continue;
        /* The user name is the key's last word (the model's UserName holds
         * no space). */
        const char *sp = strrchr(ix[i].key, ' ');
        if (sp && usermap_is_account_name(c, name, sp + 1))
            return (long)ix[i].idx;
    }
    return -1;
}

/* ---- names reused ---- */

/* Who holds which name now, sorted: a name held by two users is nobody's. */
struct named {
    const char *name;
    const char *id;
    bool fold;       /* compare ignoring ASCII case (fold_case) */
    bool ambiguous;  /* another entry has the same name */
};

struct name_index {
    struct named *v;
    size_t n;
};


static int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = (*a >= 'A' && *a <= 'Z') ? *a - 'A' + 'a' : (unsigned char)*a;
        int y = (*b >= 'A' && *b <= 'Z') ? *b - 'A' + 'a' : (unsigned char)*b;
        if (x != y || x == 0)
            return x - y;
    }
}

static int named_cmp(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    return x->fold ? ascii_casecmp(x->name, y->name) : strcmp(x->name, y->name);
}

/* The directory's names (src->names, else the people given), sorted, each
 * marked when another user holds the same one. The login compares names as
 * usermap_is_account_name does (fold_case: ASCII case aside): so here. */
static int index_names(struct name_index *ix, const struct cfg *c,
                       const struct sync_source *src, const struct sync_person *people,
                       size_t n, struct sso_error *err)
{
    size_t total = src->names ? src->n_names : n;
    ix->n = 0;
    ix->v = calloc(total ? total : 1, sizeof(*ix->v));
    if (!ix->v)
        return sso_fail(err, PAM_BUF_ERR, "out of memory");
    for (size_t i = 0; i < total; i++) {
        const char *name = src->names ? src->names[i].name : people[i].name;
        const char *id = src->names ? src->names[i].id : people[i].id;
        if (!src->names && (people[i].problem && people[i].problem[0]))
            continue;
        if (name && name[0] && id)
            ix->v[ix->n++] = (struct named){name, id, c->fold_case, false};
    }
    qsort(ix->v, ix->n, sizeof(*ix->v), named_cmp);
    for (size_t i = 1; i < ix->n; i++)
        if (named_cmp(&ix->v[i - 1], &ix->v[i]) == 0 && strcmp(ix->v[i - 1].id, ix->v[i].id))
            ix->v[i - 1].ambiguous = ix->v[i].ambiguous = true;
    /* A run of equal names: every entry of it (bsearch may land on any). */
    for (size_t i = 1; i < ix->n; i++)
        if (named_cmp(&ix->v[i - 1], &ix->v[i]) == 0 && ix->v[i - 1].ambiguous)
            ix->v[i].ambiguous = true;
    for (size_t i = ix->n; i-- > 1;)
        if (named_cmp(&ix->v[i - 1], &ix->v[i]) == 0 && ix->v[i].ambiguous)
            ix->v[i - 1].ambiguous = true;
    return PAM_SUCCESS;
}

/* Whether `name` is the directory's name of exactly the user `id` now. */
static bool name_is_only(const struct name_index *ix, const char *name, const char *id,
                         bool fold)
{
    const struct named probe = {name, NULL, fold, false};
    const struct named *hit = bsearch(&probe, ix->v, ix->n, sizeof(*ix->v), named_cmp);
    return hit && !hit->ambiguous && strcmp(hit->id, id) == 0;
}

/* Whether another user (or two at once) holds `name` now. */
static bool name_is_anothers(const struct name_index *ix, const char *name, const char *id,
                             bool fold)
{
    const struct named probe = {name, NULL, fold, false};
    const struct named *hit = bsearch(&probe, ix->v, ix->n, sizeof(*ix->v), named_cmp);
    return hit && (hit->ambiguous || strcmp(hit->id, id) != 0);
}

static void disown(const struct name_index *ix, struct ledger *l, const struct cfg *c,
                   const struct sync_source *src, struct sync_report *r)
{
    size_t plen = strlen(src->key_prefix);
    for (size_t i = 0; i < ledger_count(l); i++) {
        struct ledger_account *a = ledger_at(l, i);
        if (a->state == LEDGER_REMOVED || !a->approver[0] || strncmp(a->key, src->key_prefix, plen))
            continue;
        if (!name_is_anothers(ix, a->approver, a->key + plen, c->fold_case))
            continue;
        report(r, SYNC_DISOWNED, a->approver, a->name, a->uid, "its directory name is "
               "another person's now (reused after its person left or was renamed, or held "
               "twice): no login to it until its own person is seen again");
        a->approver[0] = '\0';
    }
}

int sync_disown(struct ledger *l, const struct cfg *c, const struct sync_source *src,
                const struct sync_person *people, size_t n, struct sync_report *r,
                struct sso_error *err)
{
    struct name_index ix;
    int rc = index_names(&ix, c, src, people, n, err);
    if (rc == PAM_SUCCESS)
        disown(&ix, l, c, src, r);
    free(ix.v);
    return rc;
}

/* ---- one member ---- */

struct plan {
    struct name_index names;
    struct ledger *l;
    const struct cfg *c;
    const struct usermap *um;
    const struct sync_source *src;
    struct ledger_policy pol;
    int64_t now;
    struct sync_report *r;
    bool *kept;     /* per record present before the run: a member's, left served */
    bool *disabled; /* ... a disabled member's (for the report) */
    size_t n_before;
};

static bool same_groups(const struct ledger_account *a, const struct sync_person *p)
{
    if (a->n_groups != p->n_groups)
        return false;
    for (size_t i = 0; i < p->n_groups; i++)
        if (strcmp(a->groups[i], p->groups[i]) != 0)
            return false;
    return true;
}

static void set_groups(struct ledger_account *a, const struct sync_person *p)
{
    a->n_groups = 0;
    for (size_t i = 0; i < p->n_groups && a->n_groups < LEDGER_GROUPS_MAX; i++)
        sso_strlcpy(a->groups[a->n_groups++], p->groups[i], sizeof(a->groups[0]));
}

/* A name for the person by the login's rules, and the name rule. */
static int local_name(struct plan *pl, const struct sync_person *p, char *out, size_t len,
                      struct sso_error *why)
{
    int rc = usermap_local_name(pl->c, pl->um, p->name, out, len, why);
    if (rc != PAM_SUCCESS)
        return rc;
    if (!ledger_name_ok(out))
        return sso_fail(why, PAM_USER_UNKNOWN, "the local name it maps to breaks the name "
                        "rule ^[a-z_][a-z0-9_-]{0,31}$");
    return PAM_SUCCESS;
}

/* A new account. Everything the login checks before making one: no NSS
 * source knows the name, no record holds it, the home is nobody's. */
static int add(struct plan *pl, const struct sync_person *p, const char *key, const char *name)
{
    struct sso_error why = SSO_ERROR_INIT;
    uid_t known = 0;
    char home[512];
    struct ledger_account *a = NULL;
    if (provision_name_known(name, &known)) {
        report(pl->r, SYNC_SKIPPED, p->name, name, 0, "the host has a user %s already (uid "
               "%u), or the lookup failed: not made", name, (unsigned)known);
        return PAM_SUCCESS;
    }
    int rc = provision_home_of(pl->c, name, home, sizeof(home), &why);
    if (rc == PAM_SUCCESS)
        rc = provision_home_is_free(home, &why);
    if (rc == PAM_SUCCESS)
        rc = ledger_add(pl->l, &pl->pol, key, name, p->name, home, pl->c->provision_shell,
                        pl->now, &a, &why);
    if (rc == PAM_BUF_ERR)
        return rc;
    if (rc != PAM_SUCCESS || !a) {
        report(pl->r, SYNC_SKIPPED, p->name, name, 0, "not made: %s", why.msg);
        return PAM_SUCCESS;
    }
    set_groups(a, p);
    report(pl->r, SYNC_ADDED, p->name, name, a->uid, "new account");
    return PAM_SUCCESS;
}

/* The member's record, brought in line: served, named, grouped. */
static void update(struct plan *pl, const struct sync_person *p, size_t idx, const char *key,
                   const char *name)
{
    struct ledger_account *a = ledger_at(pl->l, idx);
    struct sso_error why = SSO_ERROR_INIT;
    if (idx < pl->n_before)
        pl->kept[idx] = true;
    if (strcmp(a->key, key) != 0) { /* a login's record of this person */
        sso_strlcpy(a->key, key, sizeof(a->key));
        report(pl->r, SYNC_ADOPTED, p->name, a->name, a->uid, "made at a login, now kept "
               "by the sync");
    }
    if (a->state != LEDGER_LOCKED && (a->uid < pl->pol.uid_min || a->uid > pl->pol.uid_max)) {
        report(pl->r, SYNC_SKIPPED, p->name, a->name, a->uid, "uid %u is outside uid_range "
               "%s: not served; widen uid_range to hold it", (unsigned)a->uid,
               pl->c->uid_range);
        return;
    }
    if (strcmp(a->name, name) != 0) {
        char home[512], old[LEDGER_NAME_MAX + 1];
        sso_strlcpy(old, a->name, sizeof(old));
        int rc = provision_home_of(pl->c, name, home, sizeof(home), &why);
        if (rc == PAM_SUCCESS)
            rc = provision_home_is_free(home, &why);
        if (rc == PAM_SUCCESS)
            rc = ledger_rename(pl->l, a, name, home, &why);
        if (rc != PAM_SUCCESS) {
            report(pl->r, SYNC_SKIPPED, p->name, a->name, a->uid, "not renamed to %s: %s",
                   name, why.msg);
            return;
        }
        struct sync_change *ch = report(pl->r, SYNC_RENAMED, p->name, name, a->uid,
                                        "renamed from %s", old);
        if (ch)
            sso_strlcpy(ch->old_name, old, sizeof(ch->old_name));
    } else if (a->state == LEDGER_REMOVED &&
               ledger_name_free_for(pl->l, a, a->name, &why) != PAM_SUCCESS) {
        report(pl->r, SYNC_SKIPPED, p->name, a->name, a->uid, "not served again: %s", why.msg);
        return;
    }
    if (a->state == LEDGER_REMOVED) {
        a->state = LEDGER_ACTIVE;
        report(pl->r, SYNC_RENEWED, p->name, a->name, a->uid, "served again");
    }
    if (!same_groups(a, p)) {
        set_groups(a, p);
        report(pl->r, SYNC_REGROUPED, p->name, a->name, a->uid, "groups changed");
    }
}

/* The directory's id goes into the key as it is: printable ASCII without
 * spaces (the client checked its form already). */
static bool id_ok(const char *id)
{
    if (!id || !id[0])
        return false;
    for (const char *q = id; *q; q++)
        if (*q <= ' ' || *q > '~')
            return false;
    return true;
}

/* The name a login must prove for record `a` of person p: p's name now,
 * when it passed the checks and is theirs alone; else none (no login
 * matches). Set before anything can skip the person: a record left
 * answering to a name its person no longer holds would let the name's next
 * holder in. */
static void set_owner_name(struct plan *pl, struct ledger_account *a,
                           const struct sync_person *p)
{
    bool trusted = !(p->problem && p->problem[0]) && p->name && p->name[0] &&
                   name_is_only(&pl->names, p->name, p->id, pl->c->fold_case);
    if (!trusted || !sso_strlcpy(a->approver, p->name, sizeof(a->approver)))
        a->approver[0] = '\0';
}

static int member(struct plan *pl, const struct sync_person *p, long idx)
{
    char key[LEDGER_KEY_MAX + 1], name[LEDGER_NAME_MAX + 1];
    struct sso_error why = SSO_ERROR_INIT;
    if (idx >= 0 && (size_t)idx < pl->n_before)
        pl->kept[idx] = true; /* whatever happens below, not a departure */
    if (idx >= 0)
        set_owner_name(pl, ledger_at(pl->l, (size_t)idx), p);
    if (p->problem && p->problem[0]) {
        report(pl->r, SYNC_SKIPPED, p->name, idx >= 0 ? ledger_at(pl->l, (size_t)idx)->name : "",
               0, "the directory's record fails the checks: %s", p->problem);
        return PAM_SUCCESS;
    }
    if (!p->enabled) {
        if (idx >= 0 && (size_t)idx < pl->n_before) {
            pl->kept[idx] = false; /* disabled: goes, as if not a member */
            pl->disabled[idx] = true;
        }
        return PAM_SUCCESS;
    }
    int w = snprintf(key, sizeof(key), "%s%s", pl->src->key_prefix, p->id);
    if (w < 0 || (size_t)w >= sizeof(key) || !id_ok(p->id)) {
        report(pl->r, SYNC_SKIPPED, p->name, "", 0, "the directory's id is unusable");
        return PAM_SUCCESS;
    }
    if (local_name(pl, p, name, sizeof(name), &why) != PAM_SUCCESS) {
        report(pl->r, SYNC_SKIPPED, p->name, idx >= 0 ? ledger_at(pl->l, (size_t)idx)->name : "",
               0, "no local name: %s", why.msg);
        return PAM_SUCCESS;
    }
    if (idx < 0)
        return add(pl, p, key, name);
    update(pl, p, (size_t)idx, key, name);
    return PAM_SUCCESS;
}

/* Records of the source present before the run whose person the directory
 * no longer gives as an enabled member: not served any more. */
static void departures(struct plan *pl, const struct keyed *ix, size_t n_ix)
{
    for (size_t k = 0; k < n_ix; k++) {
        size_t i = ix[k].idx;
        struct ledger_account *a = ledger_at(pl->l, i);
        if (pl->kept[i] || a->state != LEDGER_ACTIVE)
            continue;
        a->state = LEDGER_REMOVED;
        report(pl->r, SYNC_REMOVED, a->approver, a->name, a->uid, "%s",
               pl->disabled[i] ? "disabled in the directory" : "in none of sync_groups");
    }
}

static size_t served_of(struct ledger *l, const struct sync_source *src,
                        const struct ledger_policy *pol, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < ledger_count(l); i++) {
        const struct ledger_account *a = ledger_at(l, i);
        if ((has_prefix(a->key, src->key_prefix) || has_prefix(a->key, src->login_prefix)) &&
            ledger_served(a, pol, now))
            n++;
    }
    return n;
}

int sync_plan(struct ledger *l, const struct cfg *c, const struct usermap *um,
              const struct sync_source *src, const struct sync_person *people, size_t n,
              int64_t now, struct sync_report *r, struct sso_error *err)
{
    memset(r, 0, sizeof(*r));
    struct plan pl = {{NULL, 0}, l, c, um, src, provision_policy(c), now, r, NULL, NULL, ledger_count(l)};
    r->members = n;
    r->served_before = served_of(l, src, &pl.pol, now);
    int drc = index_names(&pl.names, c, src, people, n, err);
    if (drc != PAM_SUCCESS)
        return drc;
    disown(&pl.names, l, c, src, r);
    size_t n_ix = 0;
    struct keyed *ix = index_records(l, src, &n_ix);
    long *found = calloc(n ? n : 1, sizeof(*found));
    pl.kept = calloc(pl.n_before ? pl.n_before : 1, sizeof(*pl.kept));
    pl.disabled = calloc(pl.n_before ? pl.n_before : 1, sizeof(*pl.disabled));
    bool *claimed = calloc(pl.n_before ? pl.n_before : 1, sizeof(*claimed));
    int rc = (ix && found && pl.kept && pl.disabled && claimed)
                 ? PAM_SUCCESS
                 : sso_fail(err, PAM_BUF_ERR, "out of memory");
    /* Every lookup first, while the index's keys still point into the
     * ledger: an account added below may move the records. */
    for (size_t i = 0; i < n && rc == PAM_SUCCESS; i++) {
        char key[LEDGER_KEY_MAX + 1];
        int w = snprintf(key, sizeof(key), "%s%s", src->key_prefix, people[i].id);
        found[i] = (w > 0 && (size_t)w < sizeof(key)) ? find_keyed(ix, n_ix, key) : -1;
        if (found[i] < 0 && people[i].name && people[i].enabled) {
            long lr = find_login_record(l, c, ix, n_ix, src, people[i].name);
            /* One login record, one person: fold_case could match two. */
            if (lr >= 0 && !claimed[lr])
                found[i] = lr;
        }
        if (found[i] >= 0)
            claimed[found[i]] = true;
    }
    /* The departures are decided on the records as they were, before the
     * members' changes; marking is by index, so the order is free. */
    for (size_t i = 0; i < n && rc == PAM_SUCCESS; i++)
        rc = member(&pl, &people[i], found[i]);
    if (rc == PAM_SUCCESS) {
        for (size_t k = 0; k < n_ix; k++) /* keys may have moved: by index only now */
            ix[k].key = NULL;
        departures(&pl, ix, n_ix);
        r->served_after = served_of(l, src, &pl.pol, now);
    }
    free(ix);
    free(found);
    free(pl.kept);
    free(pl.disabled);
    free(claimed);
    free(pl.names.v);
    return rc;
}

/* ---- the status file ---- */

int sync_status_write(const char *dir, const struct sync_status *st, struct sso_error *err)
{
    int fd = -1;
    int rc = store_dir_open_as(dir ? dir : SSO_DATA_DIR, "data directory", 0755, true, &fd, err);
    if (rc != PAM_SUCCESS)
        return rc;
    json_t *o = json_pack("{s:I, s:I, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "time",
                          (json_int_t)st->time, "last_success", (json_int_t)st->last_success,
                          "ok", st->ok, "message", st->message, "added", (json_int_t)st->added,
                          "removed", (json_int_t)st->removed, "renamed",
                          (json_int_t)st->renamed, "skipped", (json_int_t)st->skipped, "served",
                          (json_int_t)st->served, "requests", (json_int_t)st->requests);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    int e = text ? store_replace(fd, SYNC_STATUS_FILE, text, strlen(text), 0) : ENOMEM;
    free(text);
    close(fd);
    if (e != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot write %s: %s", SYNC_STATUS_FILE,
                        strerror(e));
    return PAM_SUCCESS;
}

static long member_long(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

int sync_status_read(const char *dir, struct sync_status *st, struct sso_error *err)
{
    int dfd = -1, fd = -1;
    struct stat sb;
    char buf[SYNC_STATUS_MAX + 1];
    size_t len = 0;
    memset(st, 0, sizeof(*st));
    int rc = store_dir_open_as(dir ? dir : SSO_DATA_DIR, "data directory", 0755, false, &dfd,
                               err);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = store_open_read(dfd, SYNC_STATUS_FILE, "sync status", "none shown", SYNC_STATUS_MAX,
                         &fd, &sb, err);
    close(dfd);
    if (rc != PAM_SUCCESS)
        return rc;
    int got = store_read_all(fd, buf, SYNC_STATUS_MAX, &len);
    close(fd);
    if (got != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot read %s", SYNC_STATUS_FILE);
    buf[len] = '\0';
    json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *ok = json_object_get(o, "ok"), *msg = json_object_get(o, "message");
    if (!json_is_object(o) || !json_is_boolean(ok) || !json_is_string(msg)) {
        json_decref(o);
        return sso_fail(err, PAM_SERVICE_ERR, "%s does not parse", SYNC_STATUS_FILE);
    }
    st->time = member_long(o, "time");
    st->last_success = member_long(o, "last_success");
    st->ok = json_is_true(ok);
    sanitize_display(st->message, sizeof(st->message), json_string_value(msg), 300);
    st->added = member_long(o, "added");
    st->removed = member_long(o, "removed");
    st->renamed = member_long(o, "renamed");
    st->skipped = member_long(o, "skipped");
    st->served = member_long(o, "served");
    st->requests = member_long(o, "requests");
    json_decref(o);
    return PAM_SUCCESS;
}
