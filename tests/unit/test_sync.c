/* test_sync.c - the directory sync's rules (core/sync.h) on a real ledger
 * in a directory of its own: new members get accounts with their groups,
 * a second run changes nothing, a rename keeps the uid, a disabled or
 * departed member stops being served and comes back with the same uid, a
 * member whose record fails the checks keeps the account as it was, a
 * login's record is adopted by name, hostile and taken names are skipped;
 * sync_max_removals' arithmetic, the status file, and the login's owner
 * check for a synced record. Runs as root. */
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
    return sync_fixture_setup(state, "test_sync", "10%");
}

/* One run: open, plan, commit when anything changed; the report is r's. */
static void run(struct fx *f, const struct sync_person *people, size_t n, struct sync_report *r)
{
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_open(&l, f->dir, 5, &err), PAM_SUCCESS);
    assert_int_equal(sync_plan(l, &f->c, &f->um, &f->src, people, n, NOW, r, &err),
                     PAM_SUCCESS);
    const struct ledger_policy pol = provision_policy(&f->c);
    assert_int_equal(ledger_commit(l, &pol, NOW, &err), PAM_SUCCESS);
    ledger_close(l);
}

static const struct ledger_account *record(struct fx *f, struct ledger **l, const char *name)
{
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_open_readonly(l, f->dir, &err), PAM_SUCCESS);
    return ledger_find_name(*l, name);
}

static const char *U1 = "11111111-1111-1111-1111-111111111111";
static const char *U2 = "22222222-2222-2222-2222-222222222222";
static const char *U3 = "33333333-3333-3333-3333-333333333333";

static void test_adds_then_nothing(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", "devs"), person(U2, "bob", NULL)};
    struct sync_report r;
    run(f, p, 2, &r);
    assert_int_equal(r.count[SYNC_ADDED], 2);
    assert_int_equal(r.served_before, 0);
    assert_int_equal(r.served_after, 2);
    sync_report_free(&r);
    struct ledger *l = NULL;
    const struct ledger_account *a = record(f, &l, "alice");
    assert_non_null(a);
    assert_string_equal(a->key, "directory:identitystore:d-1234567890 user:11111111-1111-1111-1111-111111111111");
    assert_string_equal(a->approver, "alice");
    assert_int_equal(a->n_groups, 1);
    assert_string_equal(a->groups[0], "devs");
    assert_int_equal(a->state, LEDGER_ACTIVE);
    ledger_close(l);
    run(f, p, 2, &r);
    for (int k = SYNC_ADDED; k <= SYNC_SKIPPED; k++)
        assert_int_equal(r.count[k], 0);
    assert_int_equal(r.served_before, 2);
    sync_report_free(&r);
}

static void test_rename_keeps_uid(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", NULL)};
    struct sync_report r;
    run(f, p, 1, &r);
    sync_report_free(&r);
    struct ledger *l = NULL;
    uid_t uid = record(f, &l, "alice")->uid;
    ledger_close(l);
    p[0].name = "alicia";
    run(f, p, 1, &r);
    assert_int_equal(r.count[SYNC_RENAMED], 1);
    assert_string_equal(r.changes[0].old_name, "alice");
    sync_report_free(&r);
    const struct ledger_account *a = record(f, &l, "alicia");
    assert_non_null(a);
    assert_int_equal(a->uid, uid);
    assert_null(ledger_find_name(l, "alice"));
    ledger_close(l);
}

static void test_disabled_and_departed(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", NULL), person(U2, "bob", NULL),
                              person(U3, "carol", NULL)};
    struct sync_report r;
    sso_strlcpy(f->c.sync_max_removals, "100%", sizeof(f->c.sync_max_removals));
    run(f, p, 3, &r);
    sync_report_free(&r);
    struct ledger *l = NULL;
    uid_t bob = record(f, &l, "bob")->uid;
    ledger_close(l);
    p[1].enabled = false; /* bob disabled, carol gone from every group */
    run(f, p, 2, &r);
    assert_int_equal(r.count[SYNC_REMOVED], 2);
    assert_int_equal(r.served_before, 3);
    assert_int_equal(r.served_after, 1);
    bool saw_disabled = false, saw_departed = false;
    for (size_t i = 0; i < r.n; i++) {
        saw_disabled |= strcmp(r.changes[i].name, "bob") == 0 &&
                        strstr(r.changes[i].detail, "disabled") != NULL;
        saw_departed |= strcmp(r.changes[i].name, "carol") == 0 &&
                        strstr(r.changes[i].detail, "none of sync_groups") != NULL;
    }
    assert_true(saw_disabled);
    assert_true(saw_departed);
    sync_report_free(&r);
    assert_int_equal(record(f, &l, "bob")->state, LEDGER_REMOVED);
    ledger_close(l);
    p[1].enabled = true; /* back: the same uid */
    run(f, p, 2, &r);
    assert_int_equal(r.count[SYNC_RENEWED], 1);
    sync_report_free(&r);
    const struct ledger_account *a = record(f, &l, "bob");
    assert_int_equal(a->state, LEDGER_ACTIVE);
    assert_int_equal(a->uid, bob);
    ledger_close(l);
}

/* alice leaves and a new person gets her user name: her record loses its
 * directory name at once (no login matches it), whether or not the run's
 * removals are written; the new person gets her own account later. */
static void test_reused_name_is_disowned(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", NULL), person(U2, "bob", NULL)};
    struct sync_report r;
    run(f, p, 2, &r);
    sync_report_free(&r);
    struct sync_person q[] = {person(U2, "bob", NULL), person(U3, "alice", NULL)};
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(ledger_open(&l, f->dir, 5, &err), PAM_SUCCESS);
    assert_int_equal(sync_disown(l, &f->c, &f->src, q, 2, &r, &err), PAM_SUCCESS);
    assert_int_equal(r.count[SYNC_DISOWNED], 1);
    assert_string_equal(r.changes[0].name, "alice");
    assert_string_equal(ledger_find_name(l, "alice")->approver, "");
    assert_string_equal(ledger_find_name(l, "bob")->approver, "bob");
    ledger_close(l);
    sync_report_free(&r);
    /* A whole run: disowned, then removed; alice's name is not given to the
     * new person in the same run (her record still held it). */
    sso_strlcpy(f->c.sync_max_removals, "100%", sizeof(f->c.sync_max_removals));
    run(f, q, 2, &r);
    assert_int_equal(r.count[SYNC_DISOWNED], 1);
    assert_int_equal(r.count[SYNC_REMOVED], 1);
    sync_report_free(&r);
    const struct ledger_account *a = record(f, &l, "alice");
    assert_true(a == NULL || a->state == LEDGER_REMOVED ||
                strcmp(a->key, PREFIX "33333333-3333-3333-3333-333333333333") == 0);
    ledger_close(l);
}

static void test_problem_keeps_account(void **state)
{
    struct fx *f = *state;
    struct sync_person p[] = {person(U1, "alice", NULL)};
    struct sync_report r;
    run(f, p, 1, &r);
    sync_report_free(&r);
    p[0].problem = "UserName holds a control character";
    p[0].name = "al\nice";
    run(f, p, 1, &r);
    assert_int_equal(r.count[SYNC_SKIPPED], 1);
    assert_int_equal(r.count[SYNC_REMOVED], 0);
    assert_null(strchr(r.changes[0].who, '\n'));
    sync_report_free(&r);
    struct ledger *l = NULL;
    assert_int_equal(record(f, &l, "alice")->state, LEDGER_ACTIVE);
    ledger_close(l);
}

static void test_hostile_and_taken_names(void **state)
{
    struct fx *f = *state;
    char longname[201];
    memset(longname, 'a', 200);
    longname[200] = '\0';
    struct sync_person p[] = {person(U1, "root", NULL), person(U2, "../x", NULL),
                              person(U3, longname, NULL)};
    struct sync_report r;
    run(f, p, 3, &r);
    assert_int_equal(r.count[SYNC_ADDED], 0);
    assert_int_equal(r.count[SYNC_SKIPPED], 3);
    assert_non_null(strstr(r.changes[0].detail, "the host has a user root"));
    sync_report_free(&r);
}

static void test_adopts_login_record(void **state)
{
    struct fx *f = *state;
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    struct ledger_account *a = NULL;
    const struct ledger_policy pol = provision_policy(&f->c);
    char home[256];
    snprintf(home, sizeof(home), "%s/alice", f->home);
    assert_int_equal(ledger_open(&l, f->dir, 5, &err), PAM_SUCCESS);
    assert_int_equal(ledger_add(l, &pol, "aws:123456789012 alice", "alice", "alice", home,
                                "/bin/bash", NOW, &a, &err), PAM_SUCCESS);
    uid_t uid = a->uid;
    /* Another account's login record of the same name: not this directory's. */
    snprintf(home, sizeof(home), "%s/alice2", f->home);
    assert_int_equal(ledger_add(l, &pol, "aws:999999999999 alice", "alice2", "alice", home,
                                "/bin/bash", NOW, &a, &err), PAM_SUCCESS);
    f->src.login_prefix = "aws:123456789012 ";
    assert_int_equal(ledger_commit(l, &pol, NOW, &err), PAM_SUCCESS);
    ledger_close(l);
    struct sync_person p[] = {person(U1, "alice", NULL)};
    struct sync_report r;
    run(f, p, 1, &r);
    assert_int_equal(r.count[SYNC_ADOPTED], 1);
    assert_int_equal(r.count[SYNC_ADDED], 0);
    sync_report_free(&r);
    const struct ledger_account *b = record(f, &l, "alice");
    assert_int_equal(b->uid, uid);
    assert_int_equal(strncmp(b->key, PREFIX, strlen(PREFIX)), 0);
    const struct ledger_account *other = ledger_find_name(l, "alice2");
    assert_non_null(other);
    assert_string_equal(other->key, "aws:999999999999 alice");
    assert_int_equal(other->state, LEDGER_ACTIVE); /* neither adopted nor removed */
    ledger_close(l);
}

static void test_suffix_and_fold(void **state)
{
    struct fx *f = *state;
    f->c.fold_case = true;
    sso_strlcpy(f->c.username_suffix, "@example.com", sizeof(f->c.username_suffix));
    struct sync_person p[] = {person(U1, "Alice@Example.COM", NULL),
                              person(U2, "bob@elsewhere.org", NULL)};
    struct sync_report r;
    run(f, p, 2, &r);
    assert_int_equal(r.count[SYNC_ADDED], 1);
    assert_int_equal(r.count[SYNC_SKIPPED], 1);
    sync_report_free(&r);
    struct ledger *l = NULL;
    assert_non_null(record(f, &l, "alice"));
    ledger_close(l);
}

static void test_max_removals(void **state)
{
    struct fx *f = *state;
    sso_strlcpy(f->c.sync_max_removals, "10%", sizeof(f->c.sync_max_removals));
    assert_int_equal(cfg_sync_max_removals(&f->c, 0), 0);
    assert_int_equal(cfg_sync_max_removals(&f->c, 3), 1);
    assert_int_equal(cfg_sync_max_removals(&f->c, 100), 10);
    assert_int_equal(cfg_sync_max_removals(&f->c, 101), 11);
    sso_strlcpy(f->c.sync_max_removals, "25", sizeof(f->c.sync_max_removals));
    assert_int_equal(cfg_sync_max_removals(&f->c, 3), 25);
    assert_null(cfg_check_sync_max_removals("0%"));
    assert_null(cfg_check_sync_max_removals("100%"));
    assert_non_null(cfg_check_sync_max_removals("101%"));
    assert_non_null(cfg_check_sync_max_removals("-1"));
    assert_non_null(cfg_check_sync_max_removals("10 %"));
    assert_non_null(cfg_check_sync_max_removals(""));
}

static void test_status_round_trip(void **state)
{
    struct fx *f = *state;
    struct sync_status st = {.time = NOW, .last_success = NOW - 5, .ok = false, .added = 3,
                             .removed = 1, .served = 7, .requests = 42};
    struct sync_status back;
    struct sso_error err = SSO_ERROR_INIT;
    sso_strlcpy(st.message, "AccessDeniedException\x1b[2J", sizeof(st.message));
    assert_int_equal(sync_status_read(f->dir, &back, &err), PAM_NO_MODULE_DATA);
    assert_int_equal(sync_status_write(f->dir, &st, &err), PAM_SUCCESS);
    assert_int_equal(sync_status_read(f->dir, &back, &err), PAM_SUCCESS);
    assert_int_equal(back.time, NOW);
    assert_int_equal(back.last_success, NOW - 5);
    assert_false(back.ok);
    assert_int_equal(back.added, 3);
    assert_int_equal(back.requests, 42);
    assert_null(strchr(back.message, '\x1b'));
}

static void test_owner_of_synced_record(void **state)
{
    struct fx *f = *state;
    struct ledger_account a = {0};
    struct approver_facts facts = {0};
    sso_strlcpy(a.key, PREFIX "11111111-1111-1111-1111-111111111111", sizeof(a.key));
    sso_strlcpy(a.approver, "Alice", sizeof(a.approver));
    sso_strlcpy(facts.key, "aws:123456789012 Alice", sizeof(facts.key));
    struct provision_login pl = {.name = "alice", .approver = "Alice", .facts = &facts};
    f->c.fold_case = false;
    assert_true(provision_owner_is(&f->c, &a, &pl));
    pl.approver = "alice";
    assert_false(provision_owner_is(&f->c, &a, &pl));
    f->c.fold_case = true;
    assert_true(provision_owner_is(&f->c, &a, &pl));
    pl.approver = "mallory";
    assert_false(provision_owner_is(&f->c, &a, &pl));
    /* disowned: no name, nobody's, not even an empty proven name's */
    a.approver[0] = '\0';
    pl.approver = "";
    assert_false(provision_owner_is(&f->c, &a, &pl));
    sso_strlcpy(a.approver, "Alice", sizeof(a.approver));
    /* a login's record: the key decides, not the name */
    sso_strlcpy(a.key, "aws:123456789012 Alice", sizeof(a.key));
    pl.approver = "Alice";
    sso_strlcpy(facts.key, "aws:999999999999 Alice", sizeof(facts.key));
    assert_false(provision_owner_is(&f->c, &a, &pl));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_adds_then_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_keeps_uid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_and_departed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reused_name_is_disowned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_problem_keeps_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_and_taken_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopts_login_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suffix_and_fold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_removals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_of_synced_record, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
