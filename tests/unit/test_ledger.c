/* test_ledger.c - the ledger of provisioned accounts (core/ledger.h): round
 * trips, the rendered passwd and group files line by line, the id counter
 * against the host's own users and groups, tombstones, expiry, a corrupt
 * ledger left alone, and writers in parallel processes. Runs as root; each
 * test works in its own directory under a trusted path. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <security/pam_modules.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/ledger.h"
#include "nss/nssfile.h"
#include "trusted_tmp.h"

#define NOW ((int64_t)1700000000)
#define DAY ((int64_t)86400)
/* Ids nothing on a Debian host uses; the tests that need a collision find
 * one at run time. */
#define POL(lo, hi, days) ((struct ledger_policy){.uid_min = (lo), .uid_max = (hi), .expire_days = (days)})

struct fx {
    char root[64];  /* mkdtemp, 0755 */
    char dir[128];  /* root/data: the data directory, made by ledger_open */
};

/* ---- helpers ---------------------------------------------------------- */

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f || !trusted_mkdtemp(f->root, sizeof(f->root), "test_ledger", 0755)) {
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "%s/data", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = trusted_rmtree(f->root);
    free(f);
    return rc;
}

static void path_of(const struct fx *f, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", f->dir, name);
}

/* The whole file, NUL-terminated (the caller frees it), or NULL. */
static char *slurp(const struct fx *f, const char *name)
{
    char path[256];
    path_of(f, name, path, sizeof(path));
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, fp) : 0;
    (void)n;
    fclose(fp);
    return buf;
}

static void put_file(const struct fx *f, const char *name, const char *text, mode_t mode)
{
    char path[256];
    path_of(f, name, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static struct ledger *open_ok(const struct fx *f)
{
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    int rc = ledger_open(&l, f->dir, 5, &err);
    if (rc != PAM_SUCCESS)
        fail_msg("ledger_open: %d %s", rc, err.msg);
    return l;
}

static struct ledger *open_ro(const struct fx *f)
{
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    int rc = ledger_open_readonly(&l, f->dir, &err);
    if (rc != PAM_SUCCESS)
        fail_msg("ledger_open_readonly: %d %s", rc, err.msg);
    return l;
}

static struct ledger_account *add_ok(struct ledger *l, const struct ledger_policy *pol,
                                     const char *key, const char *name, int64_t now)
{
    struct ledger_account *a = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    char home[64];
    snprintf(home, sizeof(home), "/home/%s", name);
    int rc = ledger_add(l, pol, key, name, "approver@example.com", home, "/bin/bash", now, &a,
                        &err);
    if (rc != PAM_SUCCESS)
        fail_msg("ledger_add %s: %d %s", name, rc, err.msg);
    assert_non_null(a);
    return a;
}

static void commit_ok(struct ledger *l, const struct ledger_policy *pol, int64_t now)
{
    struct sso_error err = SSO_ERROR_INIT;
    int rc = ledger_commit(l, pol, now, &err);
    if (rc != PAM_SUCCESS)
        fail_msg("ledger_commit: %d %s", rc, err.msg);
}

static void set_groups(struct ledger_account *a, const char *g1, const char *g2)
{
    a->n_groups = 0;
    if (g1)
        snprintf(a->groups[a->n_groups++], sizeof(a->groups[0]), "%s", g1);
    if (g2)
        snprintf(a->groups[a->n_groups++], sizeof(a->groups[0]), "%s", g2);
}

static bool id_known(long long id)
{
    return getpwuid((uid_t)id) != NULL || getgrgid((gid_t)id) != NULL;
}

/* ---- tests ------------------------------------------------------------ */

static void test_name_rule(void **state)
{
    (void)state;
    assert_true(ledger_name_ok("alice"));
    assert_true(ledger_name_ok("_svc-01"));
    assert_true(ledger_name_ok("a2345678901234567890123456789012")); /* 32 */
    assert_false(ledger_name_ok("a23456789012345678901234567890123")); /* 33 */
    assert_false(ledger_name_ok(""));
    assert_false(ledger_name_ok("Alice"));
    assert_false(ledger_name_ok("1alice"));
    assert_false(ledger_name_ok("-alice"));
    assert_false(ledger_name_ok("al:ce"));
    assert_false(ledger_name_ok("al.ce"));
    assert_false(ledger_name_ok(NULL));
}

/* The directory is made root 0755, the files get their modes, and what was
 * committed reads back field for field. */
static void test_roundtrip(void **state)
{
    struct fx *f = *state;
    struct ledger_policy pol = POL(70000, 70099, 0);
    struct ledger *l = open_ok(f);
    assert_int_equal(ledger_count(l), 0);
    struct ledger_account *a = add_ok(l, &pol, "openid:https://idp.example sub-1", "alice", NOW);
    assert_int_equal(a->uid, 70000);
    set_groups(a, "ssotest-devs", NULL);
    commit_ok(l, &pol, NOW);
    ledger_close(l);

    struct stat st;
    assert_int_equal(stat(f->dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(st.st_uid, 0);
    const char *names[] = {"ledger.json", "passwd", "group"};
    const mode_t modes[] = {0600, 0644, 0644};
    for (int i = 0; i < 3; i++) {
        char path[256];
        path_of(f, names[i], path, sizeof(path));
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, modes[i]);
        assert_int_equal(st.st_uid, 0);
    }

    l = open_ro(f);
    assert_int_equal(ledger_count(l), 1);
    struct ledger_account *b = ledger_find_key(l, "openid:https://idp.example sub-1");
    assert_non_null(b);
    assert_ptr_equal(ledger_find_name(l, "alice"), b);
    assert_ptr_equal(ledger_at(l, 0), b);
    assert_null(ledger_find_key(l, "openid:https://idp.example sub-2"));
    assert_string_equal(b->name, "alice");
    assert_string_equal(b->approver, "approver@example.com");
    assert_string_equal(b->home, "/home/alice");
    assert_string_equal(b->shell, "/bin/bash");
    assert_int_equal(b->uid, 70000);
    assert_int_equal(b->state, LEDGER_ACTIVE);
    assert_int_equal(b->created, NOW);
    assert_int_equal(b->last_login, NOW);
    assert_int_equal(b->n_groups, 1);
    assert_string_equal(b->groups[0], "ssotest-devs");
    assert_int_equal(ledger_group_count(l), 1);
    assert_string_equal(ledger_group_at(l, 0)->name, "ssotest-devs");
    assert_int_equal(ledger_group_at(l, 0)->gid, 70001);
    struct ledger_policy rec;
    assert_true(ledger_policy_recorded(l, &rec));
    assert_int_equal(rec.uid_min, 70000);
    assert_int_equal(rec.uid_max, 70099);
    /* Read only: no commit. */
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_commit(l, &pol, NOW, &err), PAM_SERVICE_ERR);
    ledger_close(l);

    /* The counter survives: the next person gets the next id. */
    l = open_ok(f);
    a = add_ok(l, &pol, "openid:https://idp.example sub-2", "bob", NOW);
    assert_int_equal(a->uid, 70002);
    ledger_close(l);
}

/* The files, exactly as docs/provisioning.md shows them. */
static void test_rendered_lines(void **state)
{
    struct fx *f = *state;
    assert_null(getgrnam("ssotest-devs")); /* the test's premise: a group no source has */
    struct group *nog = getgrnam("nogroup");
    assert_non_null(nog);
    gid_t nogroup = nog->gr_gid;
    struct ledger_policy pol = POL(70000, 70099, 0);
    struct ledger *l = open_ok(f);
    struct ledger_account *a = add_ok(l, &pol, "k-alice", "alice", NOW);
    struct ledger_account *b = add_ok(l, &pol, "k-bob", "bob", NOW);
    struct ledger_account *c = add_ok(l, &pol, "k-carol", "carol", NOW);
    set_groups(a, "ssotest-devs", "nogroup");
    set_groups(b, "ssotest-devs", "root"); /* gid 0: never written */
    c->state = LEDGER_LOCKED;
    commit_ok(l, &pol, NOW);
    ledger_close(l);

    char want[1024];
    snprintf(want, sizeof(want),
             "# pam_ssooidc passwd 1 uid_range=70000-70099\n"
             "alice:*:70000:70000:alice (via pam_ssooidc):/home/alice:/bin/bash:0:70003,%u\n"
             "bob:*:70001:70001:bob (via pam_ssooidc):/home/bob:/bin/bash:0:70003\n",
             (unsigned)nogroup);
    char *pw = slurp(f, "passwd");
    assert_non_null(pw);
    assert_string_equal(pw, want);
    free(pw);
    char *gr = slurp(f, "group");
    assert_non_null(gr);
    assert_string_equal(gr, "# pam_ssooidc group 1 uid_range=70000-70099\n"
                            "alice:x:70000::0\n"
                            "bob:x:70001::0\n"
                            "ssotest-devs:x:70003:alice,bob:0\n");
    free(gr);

    /* Asked directly, gid 0 is refused with its reason. */
    l = open_ok(f);
    gid_t gid = 1;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_group_gid(l, &pol, "root", &gid, &err), PAM_SERVICE_ERR);
    assert_non_null(strstr(err.msg, "group_map names a group with gid 0"));
    assert_int_equal(ledger_group_gid(l, &pol, "ssotest-devs", &gid, &err), PAM_SUCCESS);
    assert_int_equal(gid, 70003);
    assert_int_equal(ledger_group_gid(l, &pol, "nogroup", &gid, &err), PAM_SUCCESS);
    assert_int_equal(gid, nogroup);
    /* A provisioned account's personal group is nobody's supplementary group. */
    assert_int_equal(ledger_group_gid(l, &pol, "alice", &gid, &err), PAM_SERVICE_ERR);
    assert_int_equal(ledger_group_gid(l, &pol, "Bad", &gid, &err), PAM_SERVICE_ERR);
    ledger_close(l);
}

/* A group the ledger made with many members: its line must still be one
 * the NSS module serves (at most NSSFILE_LINE_MAX bytes), or the group
 * vanishes for getgrnam, getgrgid and sudo's %group the moment it grows. */
static void test_big_group_served(void **state)
{
    struct fx *f = *state;
    assert_null(getgrnam("ssotest-devs"));
    struct ledger_policy pol = POL(70000, 70999, 0);
    struct ledger *l = open_ok(f);
    for (int i = 0; i < 130; i++) { /* 130 names of 32 bytes: over 4096 as a list */
        char name[40], key[40];
        snprintf(name, sizeof(name), "ssotest-long-member-name-%07d", i);
        snprintf(key, sizeof(key), "k-%d", i);
        set_groups(add_ok(l, &pol, key, name, NOW), "ssotest-devs", NULL);
    }
    commit_ok(l, &pol, NOW);
    ledger_close(l);
    char *gr = slurp(f, "group");
    assert_non_null(gr);
    char *line = strstr(gr, "\nssotest-devs:");
    char *end = line ? strchr(line + 1, '\n') : NULL;
    struct nssfile_range range = {70000, 70999};
    struct nssfile_grline gl = {.gid = 0};
    size_t len = end ? (size_t)(end - line - 1) : 0;
    int rc = end ? nssfile_gr_parse(line + 1, len, &range, NOW, &gl) : NSSFILE_SKIP;
    free(gr);
    if (rc != NSSFILE_OK)
        fail_msg("the ssotest-devs line (%zu bytes) is missing or one the NSS module skips",
                 len);
    assert_int_equal(gl.gid, 70130);
}

/* Expiry: written into the lines; an expired account is not written. */
static void test_expiry(void **state)
{
    struct fx *f = *state;
    struct ledger_policy pol = POL(70000, 70099, 30);
    struct ledger *l = open_ok(f);
    struct ledger_account *a = add_ok(l, &pol, "k-alice", "alice", NOW);
    add_ok(l, &pol, "k-bob", "bob", NOW - 40 * DAY);
    assert_true(ledger_served(a, &pol, NOW));
    assert_int_equal(ledger_expires(a, &pol), NOW + 30 * DAY);
    commit_ok(l, &pol, NOW);
    ledger_close(l);

    char want[512];
    snprintf(want, sizeof(want),
             "# pam_ssooidc passwd 1 uid_range=70000-70099\n"
             "alice:*:70000:70000:alice (via pam_ssooidc):/home/alice:/bin/bash:%lld\n",
             (long long)(NOW + 30 * DAY));
    char *pw = slurp(f, "passwd");
    assert_string_equal(pw, want);
    free(pw);
    snprintf(want, sizeof(want), "# pam_ssooidc group 1 uid_range=70000-70099\n"
                                 "alice:x:70000::%lld\n", (long long)(NOW + 30 * DAY));
    char *gr = slurp(f, "group");
    assert_string_equal(gr, want);
    free(gr);

    /* 31 days on, nobody is served; the record stays. */
    l = open_ok(f);
    commit_ok(l, &pol, NOW + 31 * DAY);
    assert_false(ledger_served(ledger_find_name(l, "alice"), &pol, NOW + 31 * DAY));
    assert_int_equal(ledger_count(l), 2);
    ledger_close(l);
    pw = slurp(f, "passwd");
    assert_string_equal(pw, "# pam_ssooidc passwd 1 uid_range=70000-70099\n");
    free(pw);
}

/* The first candidate is an id the host already has (a group's gid, found
 * at run time): it is skipped, and so is every other id NSS knows. */
static void test_skips_host_ids(void **state)
{
    struct fx *f = *state;
    gid_t taken = 0, fallback = 0;
    setgrent();
    for (struct group *g; (g = getgrent()) != NULL;) {
        if (g->gr_gid < 1000 || g->gr_gid > 2000000000)
            continue;
        if (!fallback)
            fallback = g->gr_gid;
        if (!taken && getpwuid(g->gr_gid) == NULL)
            taken = g->gr_gid; /* a gid with no user: only getgrgid knows it */
    }
    endgrent();
    if (!taken)
        taken = fallback;
    if (!taken)
        skip(); /* no group at or above 1000 on this host */
    struct ledger_policy pol = POL(taken, taken + 50, 0);
    struct ledger *l = open_ok(f);
    struct ledger_account *a = add_ok(l, &pol, "k-alice", "alice", NOW);
    assert_true(a->uid > taken);
    assert_false(id_known(a->uid));
    for (uid_t id = taken; id < a->uid; id++)
        assert_true(id_known(id)); /* only known ids were passed over */
    struct ledger_account *b = add_ok(l, &pol, "k-bob", "bob", NOW);
    assert_true(b->uid > a->uid);
    assert_false(id_known(b->uid));
    ledger_close(l);
}

/* A removed account keeps its uid: the name is free again, the uid is not. */
static void test_tombstone(void **state)
{
    struct fx *f = *state;
    struct ledger_policy pol = POL(70000, 70099, 0);
    struct ledger *l = open_ok(f);
    uid_t old = add_ok(l, &pol, "k-alice-1", "alice", NOW)->uid;
    commit_ok(l, &pol, NOW);
    ledger_close(l);

    l = open_ok(f);
    ledger_find_name(l, "alice")->state = LEDGER_REMOVED;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_commit_recorded(l, NOW, &err), PAM_SUCCESS);
    ledger_close(l);
    char *pw = slurp(f, "passwd");
    assert_null(strstr(pw, "alice"));
    free(pw);

    l = open_ok(f);
    /* The same person again is refused (the key is kept) ... */
    struct ledger_account *a = NULL;
    assert_int_equal(ledger_add(l, &pol, "k-alice-1", "alice", "", "/home/alice", "/bin/sh", NOW,
                                &a, &err),
                     PAM_SERVICE_ERR);
    /* ... someone new may take the name, never the uid. */
    a = add_ok(l, &pol, "k-alice-2", "alice", NOW);
    assert_int_not_equal(a->uid, old);
    assert_true(a->uid > old);
    commit_ok(l, &pol, NOW);
    ledger_close(l);

    l = open_ro(f);
    assert_int_equal(ledger_count(l), 2);
    struct ledger_account *t = ledger_find_key(l, "k-alice-1");
    assert_int_equal(t->state, LEDGER_REMOVED);
    assert_int_equal(t->uid, old);
    assert_string_equal(ledger_find_name(l, "alice")->key, "k-alice-2");
    ledger_close(l);
}

static void test_exhausted(void **state)
{
    struct fx *f = *state;
    struct ledger_policy pol = POL(70200, 70201, 0);
    struct ledger *l = open_ok(f);
    add_ok(l, &pol, "k-a", "a", NOW);
    add_ok(l, &pol, "k-b", "b", NOW);
    struct ledger_account *c = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_add(l, &pol, "k-c", "c", "", "/home/c", "/bin/sh", NOW, &c, &err),
                     PAM_SERVICE_ERR);
    assert_null(c);
    assert_string_equal(err.msg, "uid_range 70200-70201 is exhausted");
    gid_t gid = 0;
    assert_int_equal(ledger_group_gid(l, &pol, "ssotest-new", &gid, &err), PAM_SERVICE_ERR);
    assert_int_equal(ledger_count(l), 2);
    /* A wider range goes on from the counter, not from its start. */
    struct ledger_policy wider = POL(70200, 70210, 0);
    c = add_ok(l, &wider, "k-c", "c", NOW);
    assert_int_equal(c->uid, 70202);
    ledger_close(l);
}

/* What ledger_add refuses, and that nothing is added then. */
static void test_add_preconditions(void **state)
{
    struct fx *f = *state;
    struct ledger_policy pol = POL(70000, 70099, 0);
    struct ledger *l = open_ok(f);
    add_ok(l, &pol, "k-alice", "alice", NOW);
    struct ledger_account *a = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    struct {
        const char *key, *name, *home;
    } bad[] = {
        {"k-x", "Xavier", "/home/x"},   /* name rule */
        {"k-alice", "alice2", "/home/a"}, /* the key has a record */
        {"k-y", "alice", "/home/y"},    /* the name is held */
        {"k-z", "root", "/root"},       /* a user of this host */
        {"k-w", "w", "home/w"},         /* not absolute */
        {"k-v", "v", "/home/v:x"},      /* would split the line */
        {"k\n", "u", "/home/u"},        /* control character */
        {"", "t", "/home/t"},           /* no key */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = ledger_add(l, &pol, bad[i].key, bad[i].name, "", bad[i].home, "/bin/sh", NOW,
                            &a, &err);
        if (rc != PAM_SERVICE_ERR)
            fail_msg("case %zu (%s) was accepted: %d", i, bad[i].name, rc);
    }
    /* A range the NSS module would refuse. */
    struct ledger_policy low = POL(10, 2000, 0);
    assert_int_equal(ledger_add(l, &low, "k-s", "s", "", "/home/s", "/bin/sh", NOW, &a, &err),
                     PAM_SERVICE_ERR);
    assert_int_equal(ledger_count(l), 1);
    ledger_close(l);
}

/* A ledger that does not parse or breaks a rule is refused, by name, and
 * left exactly as it was. */
static void test_corrupt_refused(void **state)
{
    struct fx *f = *state;
    assert_int_equal(mkdir(f->dir, 0755), 0);
#define ACC(key, name, uid, st) \
    "{\"key\":\"" key "\",\"name\":\"" name "\",\"approver\":\"\",\"uid\":" #uid \
    ",\"state\":\"" st "\",\"created\":1,\"last_login\":1,\"home\":\"/h\",\"shell\":\"/s\"," \
    "\"groups\":[]}"
#define LEDGER(next, accs, groups) \
    "{\"version\":1,\"next_id\":" #next ",\"accounts\":[" accs "],\"groups\":[" groups "]}"
    const char *bad[] = {
        "not json at all",
        "{\"version\":1,\"next_id\":70001,\"accounts\":[",
        "[1,2]",
        LEDGER(70001, ACC("k1", "alice", 70000, "active"), "") "x",
        "{\"version\":2,\"next_id\":70001,\"accounts\":[],\"groups\":[]}",
        LEDGER(70002, ACC("k1", "alice", 70000, "active") "," ACC("k2", "bob", 70000, "active"), ""),
        LEDGER(70002, ACC("k1", "alice", 70000, "active") "," ACC("k1", "bob", 70001, "active"), ""),
        LEDGER(70002, ACC("k1", "alice", 70000, "active") "," ACC("k2", "alice", 70001, "locked"), ""),
        LEDGER(70000, ACC("k1", "alice", 70000, "active"), ""),
        LEDGER(70001, ACC("k1", "alice", 0, "active"), ""),
        LEDGER(70001, ACC("k1", "Alice", 70000, "active"), ""),
        LEDGER(70001, ACC("k1", "alice", 70000, "asleep"), ""),
        LEDGER(70002, ACC("k1", "alice", 70000, "active"), "{\"name\":\"devs\",\"gid\":70000}"),
        LEDGER(70002, ACC("k1", "alice", 70000, "active"), "{\"name\":\"alice\",\"gid\":70001}"),
        LEDGER(70001, "", "{\"name\":\"devs\",\"gid\":70001}"),
        "{\"version\":1,\"version\":1,\"next_id\":1,\"accounts\":[],\"groups\":[]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put_file(f, "ledger.json", bad[i], 0600);
        struct ledger *l = NULL;
        struct sso_error err = SSO_ERROR_INIT;
        int rc = ledger_open(&l, f->dir, 5, &err);
        if (rc != PAM_SUCCESS && rc != PAM_SERVICE_ERR)
            fail_msg("case %zu: %d", i, rc);
        if (rc == PAM_SUCCESS)
            fail_msg("case %zu was accepted: %s", i, bad[i]);
        assert_null(l);
        assert_non_null(strstr(err.msg, "ledger.json"));
        assert_non_null(strstr(err.msg, "not changed"));
        char *now = slurp(f, "ledger.json");
        assert_string_equal(now, bad[i]);
        free(now);
    }
    /* The same shapes within the rules are accepted: a removed record
     * frees its name, and the checks above are not refusing everything. */
    const char *good = LEDGER(70002, ACC("k1", "alice", 70000, "removed") ","
                                     ACC("k2", "alice", 70001, "active"), "");
    put_file(f, "ledger.json", good, 0600);
    struct ledger *l = open_ok(f);
    assert_int_equal(ledger_count(l), 2);
    ledger_close(l);
    /* Wrong mode: refused too. */
    put_file(f, "ledger.json", good, 0644);
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_open(&l, f->dir, 5, &err), PAM_SERVICE_ERR);
#undef ACC
#undef LEDGER
}

/* No ledger.json beside a passwd: a lost ledger, not a new one. */
static void test_lost_ledger_refused(void **state)
{
    struct fx *f = *state;
    struct ledger_policy pol = POL(70000, 70099, 0);
    struct ledger *l = open_ok(f);
    add_ok(l, &pol, "k-alice", "alice", NOW);
    commit_ok(l, &pol, NOW);
    ledger_close(l);
    char path[256];
    path_of(f, "ledger.json", path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_open(&l, f->dir, 5, &err), PAM_SERVICE_ERR);
    assert_non_null(strstr(err.msg, "missing"));
    assert_int_equal(ledger_open_readonly(&l, f->dir, &err), PAM_SERVICE_ERR);
}

static void test_unsafe_dir_and_lock(void **state)
{
    struct fx *f = *state;
    struct ledger *l = open_ok(f);
    /* The lock is held: a second writer waits (a short bound) and gives up. */
    struct ledger *l2 = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_open(&l2, f->dir, 0.1, &err), PAM_AUTHINFO_UNAVAIL);
    assert_null(l2);
    /* A reader needs no lock. */
    l2 = open_ro(f);
    ledger_close(l2);
    ledger_close(l);
    l = open_ok(f); /* released */
    ledger_close(l);

    assert_int_equal(chmod(f->dir, 0775), 0);
    assert_int_equal(ledger_open(&l, f->dir, 5, &err), PAM_SERVICE_ERR);
    assert_non_null(strstr(err.msg, "writable"));
    assert_int_equal(ledger_open_readonly(&l, f->dir, &err), PAM_SERVICE_ERR);
    assert_int_equal(chmod(f->dir, 0755), 0);
    /* A missing directory reads as an empty ledger, and is not made. */
    char other[160];
    snprintf(other, sizeof(other), "%s/none", f->root);
    l = NULL;
    assert_int_equal(ledger_open_readonly(&l, other, &err), PAM_SUCCESS);
    assert_int_equal(ledger_count(l), 0);
    ledger_close(l);
    struct stat st;
    assert_int_equal(stat(other, &st), -1);
}

/* Writers in separate processes: each takes the lock, adds, commits. */
static void writer(const char *dir, const char *key, const char *name, int rounds)
{
    struct ledger_policy pol = POL(70000, 79999, 0);
    for (int i = 0; i < rounds; i++) {
        struct ledger *l = NULL;
        struct sso_error err = SSO_ERROR_INIT;
        char k[64], n[33];
        snprintf(k, sizeof(k), "%s-%d", key, key[0] == '=' ? 0 : i);
        snprintf(n, sizeof(n), "%s%d", name, key[0] == '=' ? 0 : i);
        if (ledger_open(&l, dir, 30, &err) != PAM_SUCCESS)
            _exit(10);
        struct ledger_account *a = NULL;
        if (!ledger_find_key(l, k) &&
            ledger_add(l, &pol, k, n, "", "/home/x", "/bin/sh", NOW, &a, &err) != PAM_SUCCESS)
            _exit(11);
        if (ledger_commit(l, &pol, NOW, &err) != PAM_SUCCESS)
            _exit(12);
        ledger_close(l);
    }
    _exit(0);
}

static void run_writers(const struct fx *f, const char *k1, const char *n1, const char *k2,
                        const char *n2, int rounds)
{
    pid_t p[2];
    const char *keys[2] = {k1, k2}, *names[2] = {n1, n2};
    for (int i = 0; i < 2; i++) {
        p[i] = fork();
        assert_true(p[i] >= 0);
        if (p[i] == 0)
            writer(f->dir, keys[i], names[i], rounds);
    }
    for (int i = 0; i < 2; i++) {
        int status = 0;
        assert_int_equal(waitpid(p[i], &status, 0), p[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

static void test_concurrent_writers(void **state)
{
    struct fx *f = *state;
    run_writers(f, "k-a", "a", "k-b", "b", 10);
    struct ledger *l = open_ro(f);
    assert_int_equal(ledger_count(l), 20);
    for (size_t i = 0; i < 20; i++)
        for (size_t j = i + 1; j < 20; j++)
            assert_int_not_equal(ledger_at(l, i)->uid, ledger_at(l, j)->uid);
    ledger_close(l);
    char *pw = slurp(f, "passwd");
    int lines = 0;
    for (char *p = pw; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 21); /* the header and every account */
    free(pw);
}

static void test_concurrent_same_key(void **state)
{
    struct fx *f = *state;
    run_writers(f, "=same", "same", "=same", "same", 5);
    struct ledger *l = open_ro(f);
    assert_int_equal(ledger_count(l), 1);
    assert_non_null(ledger_find_key(l, "=same-0"));
    ledger_close(l);
}

/* commit_recorded needs a recorded policy; with one, it renders as before. */
static void test_commit_recorded(void **state)
{
    struct fx *f = *state;
    struct ledger *l = open_ok(f);
    struct sso_error err = SSO_ERROR_INIT;
    assert_false(ledger_policy_recorded(l, NULL));
    assert_int_equal(ledger_commit_recorded(l, NOW, &err), PAM_SERVICE_ERR);
    struct ledger_policy pol = POL(71000, 71999, 7);
    add_ok(l, &pol, "k-alice", "alice", NOW);
    commit_ok(l, &pol, NOW);
    ledger_close(l);
    char *before = slurp(f, "passwd");

    l = open_ok(f);
    assert_int_equal(ledger_commit_recorded(l, NOW, &err), PAM_SUCCESS);
    ledger_close(l);
    char *after = slurp(f, "passwd");
    assert_string_equal(before, after);
    assert_non_null(strstr(after, "uid_range=71000-71999"));
    free(before);
    free(after);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_name_rule),
        T(test_roundtrip),
        T(test_rendered_lines),
        T(test_big_group_served),
        T(test_expiry),
        T(test_skips_host_ids),
        T(test_tombstone),
        T(test_exhausted),
        T(test_add_preconditions),
        T(test_corrupt_refused),
        T(test_lost_ledger_refused),
        T(test_unsafe_dir_and_lock),
        T(test_concurrent_writers),
        T(test_concurrent_same_key),
        T(test_commit_recorded),
    };
#undef T
    return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}
