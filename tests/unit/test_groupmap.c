/* Unit tests for group_map (core/groupmap.h) and uid_range's check: the
 * lines a root-owned file may hold, and what a person's provider groups
 * give them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/config_values.h"
#include "core/groupmap.h"

#define S(x) x, strlen(x)

static int check(const char *text)
{
    struct sso_error err = SSO_ERROR_INIT;
    return groupmap_check_text(text, strlen(text), &err);
}

static void test_good_lines(void **state)
{
    (void)state;
    assert_int_equal(check(""), 0);
    assert_int_equal(check("# a comment\n\n   \nlinux-admins sudo\n"), 0);
    assert_int_equal(check("/team a/devs   developers\r\n"), 0); /* spaces in the provider's */
    assert_int_equal(check("LinuxLogin\tusers"), 0);
}

static void test_bad_lines(void **state)
{
    (void)state;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(groupmap_check_text(S("ok users\nonlyoneword\n"), &err), -1);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(check("admins Wheel\n"), -1);        /* upper case */
    assert_int_equal(check("admins 9lives\n"), -1);       /* starts with a digit */
    assert_int_equal(check("admins a.b\n"), -1);          /* '.' */
    assert_int_equal(check("admins aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"), -1); /* 33 bytes */
    /* A comment after a mapping is no comment: its last word would be the
     * local group ("admins", or "sudo" in "everyone users # was sudo") and
     * the rest the provider group. Refused rather than misread. */
    assert_int_equal(check("linux-admins sudo # the admins\n"), -1);
    assert_int_equal(check("linux-everyone users\t#was sudo\n"), -1);
    assert_int_equal(check("C# developers\n"), 0); /* '#' inside a provider group's name */
    char nul[] = "admins sudo\0\n";
    assert_int_equal(groupmap_check_text(nul, sizeof(nul) - 1, &err), -1);
    char longline[700];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    longline[600] = ' ';
    assert_int_equal(check(longline), -1);
}

static void test_resolve(void **state)
{
    (void)state;
    char text[] = "linux-admins sudo\nlinux-devs devs\n/team a/devs devs\nlinux-admins devs\n";
    struct groupmap m = {text, strlen(text)};
    const char given[3][256] = {"linux-admins", "/team a/devs", "unmapped"};
    char out[8][GROUPMAP_LOCAL_MAX + 1];
    size_t n = groupmap_resolve(&m, given, 3, out, 8);
    assert_int_equal(n, 2); /* sudo, devs: each once */
    assert_string_equal(out[0], "sudo");
    assert_string_equal(out[1], "devs");
    assert_true(groupmap_names(&m, "/team a/devs"));
    assert_true(groupmap_names(&m, "linux-admins"));
    assert_false(groupmap_names(&m, "unmapped"));
    assert_false(groupmap_names(&m, "linux-admins sudo"));
    assert_false(groupmap_names(&m, "sudo")); /* a local group, not a provider's */
    assert_false(groupmap_names(NULL, "linux-admins"));
    const char partial[1][256] = {"linux-admin"}; /* a prefix is not the group */
    assert_int_equal(groupmap_resolve(&m, partial, 1, out, 8), 0);
    assert_int_equal(groupmap_resolve(&m, given, 3, out, 1), 1); /* bounded by max */
    struct groupmap none = {NULL, 0};
    assert_int_equal(groupmap_resolve(&none, given, 3, out, 8), 0);
}

static void test_uid_range(void **state)
{
    (void)state;
    assert_null(cfg_check_uid_range("65536-99999"));
    assert_null(cfg_check_uid_range("1000-59999"));
    assert_null(cfg_check_uid_range("100000-100000"));
    assert_non_null(cfg_check_uid_range("999-5000"));       /* system ids */
    assert_non_null(cfg_check_uid_range("60000-70000"));    /* holds 65534 */
    assert_non_null(cfg_check_uid_range("65535-70000"));    /* holds 65535 */
    assert_non_null(cfg_check_uid_range("70000-65536"));    /* backwards */
    assert_non_null(cfg_check_uid_range("65536-2147483648"));
    assert_non_null(cfg_check_uid_range("65536- 99999"));
    assert_non_null(cfg_check_uid_range("-65536-99999"));
    assert_non_null(cfg_check_uid_range("65536"));
    assert_non_null(cfg_check_uid_range("65536-99999x"));
    assert_non_null(cfg_check_uid_range("00000000065536-99999"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_lines),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_uid_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
