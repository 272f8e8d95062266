/* test_sync_attack.c - attacks on the directory sync's rules (core/sync.h):
 * a record the sync serves again must not take a name another record or a
 * group of the ledger holds; a swap of two people's names in one run; a
 * rename onto a ledger group; a person renamed onto a departed person's
 * name. Each case states the invariant it checks: never two served
 * records of one name, never a served account named as a ledger group.
 * Runs as root, on a ledger in a directory of its own. */
#define _GNU_SOURCE
#include <security/pam_modules.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config_values.h"
#include "core/ledger.h"
#include "core/provision.h"
#include "core/sync.h"
#include "trusted_tmp.h"

#include "sync_fixture.h"

static int setup(void **state)
{
    return sync_fixture_setup(state, "test_sync_attack", "100%");
}

static void run(struct fx *f, const struct sync_person *people, size_t n)
{
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    struct sync_report r;
    int orc = ledger_open(&l, f->dir, 5, &err);
    if (orc != PAM_SUCCESS)
        print_error("open: %s\n", err.msg);
    assert_int_equal(orc, PAM_SUCCESS);
    assert_int_equal(sync_plan(l, &f->c, &f->um, &f->src, people, n, NOW, &r, &err),
                     PAM_SUCCESS);
    const struct ledger_policy pol = provision_policy(&f->c);
    int rc = ledger_commit(l, &pol, NOW, &err);
    if (rc != PAM_SUCCESS)
        print_error("commit: %s\n", err.msg);
    assert_int_equal(rc, PAM_SUCCESS);
    ledger_close(l);
    sync_report_free(&r);
}

/* Records not removed (served or locked) that hold `name`. */
static size_t holders(struct fx *f, const char *name)
{
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    size_t n = 0;
    int rc = ledger_open_readonly(&l, f->dir, &err);
    if (rc != PAM_SUCCESS)
        print_error("the ledger the run wrote does not read back: %s\n", err.msg);
    assert_int_equal(rc, PAM_SUCCESS);
    for (size_t i = 0; i < ledger_count(l); i++) {
        const struct ledger_account *a = ledger_at(l, i);
        if (a->state != LEDGER_REMOVED && strcmp(a->name, name) == 0)
            n++;
    }
    ledger_close(l);
    return n;
}

static bool ledger_group_named(struct fx *f, const char *name)
{
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    bool found = false;
    assert_int_equal(ledger_open_readonly(&l, f->dir, &err), PAM_SUCCESS);
    for (size_t i = 0; i < ledger_group_count(l); i++)
        found = found || strcmp(ledger_group_at(l, i)->name, name) == 0;
    ledger_close(l);
    return found;
}

/* Lines of the rendered file whose first field is `name`. */
static int lines_named(struct fx *f, const char *file, const char *name)
{
    char path[256], line[1024];
    int n = 0;
    size_t len = strlen(name);
    snprintf(path, sizeof(path), "%s/%s", f->dir, file);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp))
        if (strncmp(line, name, len) == 0 && line[len] == ':')
            n++;
    fclose(fp);
    return n;
}

static const char *U1 = "11111111-1111-1111-1111-111111111111";
static const char *U2 = "22222222-2222-2222-2222-222222222222";

/* A disabled person's record keeps its name while removed; the name is
 * given to someone else meanwhile (holds_name skips removed records). The
 * first person enabled again under that name is served again through
 * ledger_name_unclaimed, which checks other NSS sources only, and lets
 * the ledger's own uid through: two served records named alice. */
static void test_renew_onto_a_held_name(void **state)
{
    struct fx *f = *state;
    struct sync_person a = person(U1, "alice", NULL), b = person(U2, "alice", NULL);
    run(f, &a, 1);                       /* alice: U1 */
    a.enabled = false;
    run(f, &a, 1);                       /* U1 disabled: removed */
    a.name = "alice-old";                /* renamed while disabled: not applied */
    struct sync_person two[] = {a, b};
    run(f, two, 2);                      /* U2 gets the free name alice */
    assert_int_equal(holders(f, "alice"), 1);
    two[0].name = "alice";               /* U1 enabled again as alice ... */
    two[0].enabled = true;
    two[1].name = "Bob.Smith";           /* ... U2 renamed to a name the rule refuses */
    run(f, two, 2);
    assert_int_equal(holders(f, "alice"), 1);
    assert_int_equal(lines_named(f, "passwd", "alice"), 1);
    assert_int_equal(lines_named(f, "group", "alice"), 1);
}

/* A removed record named as the local group sync_groups gives, made
 * while the person was away: served again, the account's personal group
 * and the ledger's group share the name (getgrnam takes the first line,
 * the personal one: %devs in sudoers then matches the person). */
static void test_renew_onto_a_ledger_group(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "devs", NULL), person(U2, "bob", NULL)};
    run(f, p, 2);                        /* an account named devs */
    p[0].enabled = false;
    run(f, p, 2);                        /* removed */
    p[1].groups[p[1].n_groups++] = "devs";
    run(f, p, 2);                        /* sync_groups' local group devs made */
    assert_true(ledger_group_named(f, "devs"));
    p[0].enabled = true;
    run(f, p, 2);                        /* devs enabled again */
    assert_int_equal(holders(f, "devs"), 0);
    assert_int_equal(lines_named(f, "group", "devs"), 1);
}

/* Held up: A renamed to B's name and B to A's in the same run. */
static void test_swap_is_refused(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", NULL), person(U2, "bob", NULL)};
    run(f, p, 2);
    p[0].name = "bob";
    p[1].name = "alice";
    run(f, p, 2);
    assert_int_equal(holders(f, "alice"), 1);
    assert_int_equal(holders(f, "bob"), 1);
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_open_readonly(&l, f->dir, &err), PAM_SUCCESS);
    assert_string_equal(ledger_find_name(l, "alice")->key, PREFIX "11111111-1111-1111-1111-111111111111");
    ledger_close(l);
}

/* Held up: a rename onto a ledger group's name, or a new member with it. */
static void test_rename_onto_ledger_group_is_refused(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", "devs"), person(U2, "bob", NULL)};
    run(f, p, 2);
    assert_true(ledger_group_named(f, "devs"));
    p[1].name = "devs";
    run(f, p, 2);
    assert_int_equal(holders(f, "devs"), 0);
    assert_int_equal(holders(f, "bob"), 1);
}


/* Held up: names the host has (users, or groups only), with fold_case;
 * a Cyrillic homoglyph; names the rule refuses. Nothing is made. */
static void test_host_names_are_refused(void **state)
{
    struct fx *f = *state;
    f->c.fold_case = true;
    const char *names[] = {"root", "ROOT", "daemon", "Daemon", "nobody", "sudo", "adm",
                           "shadow", "\xd0\xb0lice", "-rf", "a:b", "../etc", ".", "a b"};
    char ids[sizeof(names) / sizeof(names[0])][40];
    struct sync_person p[sizeof(names) / sizeof(names[0])];
    size_t n = sizeof(names) / sizeof(names[0]);
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof(ids[i]), "%08zx-1111-1111-1111-111111111111", i + 16);
        p[i] = person(ids[i], names[i], NULL);
    }
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    struct sync_report r;
    assert_int_equal(ledger_open(&l, f->dir, 5, &err), PAM_SUCCESS);
    assert_int_equal(sync_plan(l, &f->c, &f->um, &f->src, p, n, NOW, &r, &err), PAM_SUCCESS);
    assert_int_equal(r.count[SYNC_ADDED], 0);
    assert_int_equal(r.count[SYNC_SKIPPED], n);
    sync_report_free(&r);
    ledger_close(l);
}

/* Held up: a person renamed to a host group's name (sudo's %sudo would
 * take the personal group for the host's) keeps the old name. */
static void test_rename_onto_host_group_is_refused(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", NULL)};
    run(f, p, 1);
    p[0].name = "sudo";
    run(f, p, 1);
    assert_int_equal(holders(f, "sudo"), 0);
    assert_int_equal(holders(f, "alice"), 1);
}

/* A login's record (provision = login, keyed "aws:ACCOUNT NAME") that an
 * administrator removed, its home still there: a directory member who
 * only shares the user name (a name reused after its person left) adopts
 * it by name and is served again with the old uid and the old home, past
 * the check a new account gets (no home of that name exists). */
static void test_removed_login_record_not_adopted_by_name(void **state)
{
    struct fx *f = *state;
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    struct ledger_account *a = NULL;
    const struct ledger_policy pol = provision_policy(&f->c);
    char home[256];
    snprintf(home, sizeof(home), "%s/alice", f->home);
    assert_int_equal(ledger_open(&l, f->dir, 5, &err), PAM_SUCCESS);
    assert_int_equal(ledger_add(l, &pol, "aws:999999999999 alice", "alice", "alice", home,
                                "/bin/bash", NOW, &a, &err), PAM_SUCCESS);
    a->state = LEDGER_REMOVED;
    assert_int_equal(ledger_commit(l, &pol, NOW, &err), PAM_SUCCESS);
    ledger_close(l);
    assert_int_equal(mkdir(home, 0700), 0); /* the departed person's files */
    struct sync_person p[] = {person(U1, "alice", NULL)};
    run(f, p, 1);
    assert_int_equal(holders(f, "alice"), 0);
}


/* Whether a login proving `approver` passes the owner check on the record
 * named `name` (core/provision.c provision_owner_is, as check_owner calls
 * it after usermap_allows mapped the approver to that local name). */
static bool owner_check_passes(struct fx *f, const char *name, const char *approver)
{
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    struct approver_facts facts;
    memset(&facts, 0, sizeof(facts));
    assert_int_equal(ledger_open_readonly(&l, f->dir, &err), PAM_SUCCESS);
    const struct ledger_account *a = ledger_find_name(l, name);
    bool ok = false;
    if (a && a->state == LEDGER_ACTIVE) {
        const struct provision_login pl = {name, false, a->uid, approver, &facts, NULL};
        ok = provision_owner_is(&f->c, a, &pl);
    }
    ledger_close(l);
    return ok;
}

static const char *U3 = "33333333-3333-3333-3333-333333333333";

/* The record's own person is seen, renamed to a directory name that maps
 * to no local name (an e-mail style name, a dot): member() skips them
 * before update(), so the record keeps the old directory name as its
 * owner. Whoever is given the old name next (here someone outside
 * sync_groups, who the sync never sees, so sync_disown cannot help) logs
 * in to the first person's uid. The sync has just seen that the record's
 * person is no longer called alice: the record must stop answering to it. */
static void test_renamed_to_no_local_name_keeps_old_owner_name(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", NULL)};
    run(f, p, 1);
    assert_true(owner_check_passes(f, "alice", "alice"));
    p[0].name = "alice.smith@example.com"; /* breaks the local name rule */
    run(f, p, 1);
    assert_int_equal(holders(f, "alice"), 1); /* kept, as the docs say */
    /* A new directory user "alice" (not a sync member) proves "alice". */
    assert_false(owner_check_passes(f, "alice", "alice"));
}

/* Same, with the record's own person's directory entry failing the checks
 * (a UserName with a control character): kept as it was, old owner name
 * and all. */
static void test_member_with_problem_keeps_old_owner_name(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", NULL)};
    run(f, p, 1);
    p[0].name = "";
    p[0].problem = "UserName holds control characters";
    run(f, p, 1);
    assert_false(owner_check_passes(f, "alice", "alice"));
}

/* fold_case: two enabled members whose names differ only in case (or the
 * same name twice in one read, a rename racing the pages). sync_disown
 * finds one of them by bsearch; then update() gives the record its own
 * person's name back. The login compares folded: the other person passes
 * the owner check on the first person's account. */
static void test_fold_case_twin_passes_owner_check(void **state)
{
    struct fx *f = *state;
    f->c.fold_case = true;
    struct sync_person p[] = {person(U1, "Alice", NULL), person(U3, "bob", NULL)};
    run(f, p, 2);
    assert_true(owner_check_passes(f, "alice", "Alice"));
    struct sync_person q[] = {person(U1, "Alice", NULL), person(U2, "alice", NULL),
                              person(U3, "bob", NULL)};
    run(f, q, 3);
    /* U2 proves "alice": it must not be taken for U1. */
    assert_false(owner_check_passes(f, "alice", "alice"));
}

/* The same name twice in one read (a rename racing the ListUsers pages:
 * U1 listed as alice before being renamed, U2 after taking the name):
 * U1's record keeps answering to alice, though the read says U2 has it.
 * Two people under one name is ambiguous: neither should own the record
 * by that name until a read gives it to one. */
static void test_name_twice_in_one_read_keeps_owner_name(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", NULL), person(U3, "bob", NULL)};
    run(f, p, 2);
    struct sync_person q[] = {person(U2, "alice", NULL), person(U1, "alice", NULL),
                              person(U3, "bob", NULL)};
    run(f, q, 3);
    assert_false(owner_check_passes(f, "alice", "alice"));
}

/* Held up: a chain in one run (U1 takes U2's name, U2 takes U3's, U3
 * leaves): no record answers to a name (approver) that the directory now
 * gives another person, whatever the renames the run could apply. */
static void test_chain_of_renames_no_wrong_owner(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "aa", NULL), person(U2, "bb", NULL),
                              person(U3, "cc", NULL)};
    run(f, p, 3);
    for (int round = 0; round < 3; round++) {
        struct sync_person q[] = {person(U1, "bb", NULL), person(U2, "cc", NULL)};
        run(f, q, 2);
        struct ledger *l = NULL;
        struct sso_error err = SSO_ERROR_INIT;
        assert_int_equal(ledger_open_readonly(&l, f->dir, &err), PAM_SUCCESS);
        for (size_t i = 0; i < ledger_count(l); i++) {
            const struct ledger_account *a = ledger_at(l, i);
            if (a->state == LEDGER_REMOVED || !a->approver[0])
                continue;
            const char *own = strcmp(a->approver, "bb") == 0 ? U1
                              : strcmp(a->approver, "cc") == 0 ? U2 : NULL;
            assert_non_null(own);
            assert_string_equal(a->key + strlen(PREFIX), own);
        }
        ledger_close(l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_renew_onto_a_held_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renew_onto_a_ledger_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_login_record_not_adopted_by_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_host_names_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_onto_host_group_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rename_onto_ledger_group_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_renamed_to_no_local_name_keeps_old_owner_name,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_with_problem_keeps_old_owner_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fold_case_twin_passes_owner_check, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_name_twice_in_one_read_keeps_owner_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_chain_of_renames_no_wrong_owner, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
