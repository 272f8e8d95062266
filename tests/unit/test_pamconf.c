/* Unit tests for the PAM configuration reader (pamconf) and the "is it this
 * package's module" match (pammodule) behind pam_ssooidc_check --pam-users.
 * Each test builds a throw-away root (a prefix, as dpkg's DPKG_ROOT) and
 * asks which lines load the module there. The first tests are the ones a
 * grep-based removal guard got wrong. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/pamconf.h"
#include "cmd/pammodule.h"

#define SECDIR "/lib/x86_64-linux-gnu/security"
#define INSTALLED SECDIR "/pam_ssooidc.so"

static char root[256];

static void make_parents(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            fail_msg("mkdir %s: %s", dir, strerror(errno));
        *p = '/';
    }
}

/* REL (absolute inside the root) with TEXT. */
static void put(const char *rel, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    make_parents(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void link_in_root(const char *target, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    make_parents(path);
    assert_int_equal(symlink(target, path), 0);
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/test_pamconf.XXXXXX");
    if (!mkdtemp(root))
        return -1;
    put(INSTALLED, "the installed module\n");
    put("/etc/pam.d/other", "auth required pam_deny.so\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* "FILE:LINE[ via VIA]" of each line of SERVICE that loads the installed
 * module, joined by "; ". Fails the test when the reading was incomplete
 * unless `complete` is false. */
static char *uses_of(const char *service, const char *installed, bool complete)
{
    static char out[8192];
    struct pamconf_env env = {root};
    struct pamconf_stack s;
    bool ok = pamconf_parse_service(&env, service, &s);
    if (complete && !ok)
        fail_msg("incomplete: %s", s.problem);
    struct pammodule m;
    char problem[256];
    assert_true(pammodule_init(&m, root, installed, problem, sizeof(problem)));
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s.count; i++) {
        const struct pamconf_line *l = &s.lines[i];
        int hit = pammodule_loaded_by(&m, l, problem, sizeof(problem));
        assert_int_not_equal(hit, -1);
        if (hit)
            used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s:%u%s%s",
                                     used ? "; " : "", l->file, l->line, l->via[0] ? " via " : "",
                                     l->via);
    }
    pamconf_stack_free(&s);
    return out;
}

#define USES(service) uses_of(service, INSTALLED, true)

/* ------------------------------------------------ what the grep missed */

static void test_continuation_line_naming_module(void **state)
{
    (void)state;
    put("/etc/pam.d/sshd", "auth required pam_unix.so\n"
                           "auth [success=done default=die] \\\n"
                           "    pam_ssooidc.so debug\n");
    assert_string_equal(USES("sshd"), "/etc/pam.d/sshd:2");
}

static void test_absolute_include_outside_pam_d(void **state)
{
    (void)state;
    put("/opt/x/sso-auth", "# the sign-in\n\nauth required pam_ssooidc.so\n");
    put("/etc/pam.d/sshd", "auth include /opt/x/sso-auth\naccount required pam_unix.so\n");
    assert_string_equal(USES("sshd"), "/opt/x/sso-auth:3 via /etc/pam.d/sshd:1");
    put("/etc/pam.d/sudo", "auth substack /opt/x/sso-auth\n");
    assert_string_equal(USES("sudo"), "/opt/x/sso-auth:3 via /etc/pam.d/sudo:1");
}

static void test_foreign_copy_is_not_this_module(void **state)
{
    (void)state;
    put("/run/x/pam_ssooidc.so", "another copy\n");
    put("/etc/pam.d/sshd", "auth required /run/x/pam_ssooidc.so\n"
                           "auth required /nowhere/pam_ssooidc.so\n"
                           "auth required " SECDIR "/pam_ssooidc.so.old\n");
    assert_string_equal(USES("sshd"), "");
}

/* ------------------------------------------------ module paths */

static void test_bare_name_and_absolute_path_match(void **state)
{
    (void)state;
    put("/etc/pam.d/sshd", "auth required pam_ssooidc.so\n"
                           "auth required " INSTALLED "\n"
                           "auth required " SECDIR "/./pam_ssooidc.so\n"
                           "auth required " SECDIR "/$ISA/pam_ssooidc.so\n"
                           "auth required [pam_ssooidc.so]\n");
    assert_string_equal(USES("sshd"),
                        "/etc/pam.d/sshd:1; /etc/pam.d/sshd:2; /etc/pam.d/sshd:3; "
                        "/etc/pam.d/sshd:4; /etc/pam.d/sshd:5");
}

/* Merged /usr: /lib is a link to usr/lib (an absolute one, which must
 * resolve inside the root, not on this system). */
static void test_merged_usr_same_file(void **state)
{
    (void)state;
    char moved[PATH_MAX], from[PATH_MAX];
    snprintf(from, sizeof(from), "%s/lib", root);
    snprintf(moved, sizeof(moved), "%s/usr/lib", root);
    make_parents(moved);
    assert_int_equal(rename(from, moved), 0);
    link_in_root("/usr/lib", "/lib");
    put("/etc/pam.d/sshd", "auth required /usr" INSTALLED "\n");
    assert_string_equal(USES("sshd"), "/etc/pam.d/sshd:1");
}

static void test_absent_module_matches_packaged_names(void **state)
{
    (void)state;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s%s", root, INSTALLED);
    assert_int_equal(unlink(path), 0);
    put("/etc/pam.d/sshd", "auth required pam_ssooidc.so\n"
                           "auth required /usr" INSTALLED "\n"
                           "auth required /run/x/pam_ssooidc.so\n"
                           "auth required " INSTALLED "\n");
    assert_string_equal(USES("sshd"), "/etc/pam.d/sshd:1; /etc/pam.d/sshd:2; /etc/pam.d/sshd:4");
}

/* ------------------------------------------------ lines */

static void test_comments(void **state)
{
    (void)state;
    put("/etc/pam.d/sshd", "#auth required pam_ssooidc.so\n"
                           "   # auth required pam_ssooidc.so\n"
                           "auth required pam_unix.so # pam_ssooidc.so\n"
                           "auth required pam_unix.so \\ # the backslash is before a '#'\n"
                           "pam_ssooidc.so\n");
    assert_string_equal(USES("sshd"), "");
}

/* libpam skips blank and comment lines inside a continuation. */
static void test_comment_inside_continuation(void **state)
{
    (void)state;
    put("/etc/pam.d/sshd", "auth required \\\n# why\n\n\t\n pam_ssooidc.so\n");
    assert_string_equal(USES("sshd"), "/etc/pam.d/sshd:1");
}

static void test_type_case_and_dash(void **state)
{
    (void)state;
    put("/etc/pam.d/sshd", "AUTH required pam_ssooidc.so\n"
                           "-auth sufficient pam_ssooidc.so\n"
                           "Session optional pam_ssooidc.so\n");
    assert_string_equal(USES("sshd"), "/etc/pam.d/sshd:1; /etc/pam.d/sshd:2; /etc/pam.d/sshd:3");
    struct pamconf_env env = {root};
    struct pamconf_stack s;
    assert_true(pamconf_parse_service(&env, "sshd", &s));
    assert_int_equal(s.count, 3);
    assert_false(s.lines[0].silent);
    assert_true(s.lines[1].silent);
    assert_int_equal(s.lines[1].type, PAMCONF_AUTH);
    assert_int_equal(s.lines[2].type, PAMCONF_SESSION);
    pamconf_stack_free(&s);
}

static void test_bracketed_control_and_args(void **state)
{
    (void)state;
    put("/etc/pam.d/sshd",
        "auth [success=done new_authtok_reqd=done default=die]\tpam_ssooidc.so "
        "[qr=yes a\\]b] debug\n");
    struct pamconf_env env = {root};
    struct pamconf_stack s;
    assert_true(pamconf_parse_service(&env, "sshd", &s));
    assert_int_equal(s.count, 1);
    assert_string_equal(s.lines[0].control, "success=done new_authtok_reqd=done default=die");
    assert_string_equal(s.lines[0].module, "pam_ssooidc.so");
    assert_string_equal(s.lines[0].args, "qr=yes a]b debug");
    /* as libpam's argv: a bracketed argument is one, spaces and all */
    assert_string_equal(s.lines[0].argv, "qr=yes a]b\ndebug");
    assert_string_equal(s.lines[0].file, "/etc/pam.d/sshd");
    assert_int_equal(s.lines[0].line, 1);
    pamconf_stack_free(&s);
}

/* libpam installs these to fail: it loads no module for them. */
static void test_broken_lines_load_nothing(void **state)
{
    (void)state;
    put("/etc/pam.d/sshd", "auth\nauth required\nautth required pam_ssooidc.so\n"
                           "[auth] required\n");
    assert_string_equal(USES("sshd"), "");
}

/* ... but an include on a bad type is still followed (for auth). */
static void test_include_on_bad_type_is_followed(void **state)
{
    (void)state;
    put("/opt/x/sso-auth", "auth required pam_ssooidc.so\n");
    put("/etc/pam.d/sshd", "bogus include /opt/x/sso-auth\n");
    assert_string_equal(USES("sshd"), "/opt/x/sso-auth:1 via /etc/pam.d/sshd:1");
}

/* A physical line longer than libpam's buffer is read in pieces of 1023
 * bytes, and the piece after is a stanza of its own. */
static void test_long_line_read_in_pieces(void **state)
{
    (void)state;
    char text[2048];
    int n = snprintf(text, sizeof(text), "auth optional pam_echo.so ");
    memset(text + n, 'x', (size_t)(1023 - n));
    snprintf(text + 1023, sizeof(text) - 1023, "auth required pam_ssooidc.so\n");
    put("/etc/pam.d/sshd", text);
    assert_string_equal(USES("sshd"), "/etc/pam.d/sshd:1");
}

/* A stanza (continued) longer than 1023 bytes, or a continuation cut by the
 * end of the file: libpam stops reading the file there. */
static void test_overflow_stops_the_file(void **state)
{
    (void)state;
    char text[4096];
    int n = snprintf(text, sizeof(text), "auth required pam_ssooidc.so\nauth optional \\\n");
    for (int i = 0; i < 120; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "argument%02d \\\n", i);
    snprintf(text + n, sizeof(text) - (size_t)n, "end\nauth required pam_ssooidc.so\n");
    put("/etc/pam.d/sshd", text);
    assert_string_equal(USES("sshd"), "/etc/pam.d/sshd:1");
    put("/etc/pam.d/login", "auth required pam_ssooidc.so \\\n");
    assert_string_equal(USES("login"), "");
}

/* ------------------------------------------------ includes */

static void test_relative_includes(void **state)
{
    (void)state;
    put("/etc/pam.d/common-auth", "auth required pam_ssooidc.so\n");
    put("/usr/lib/pam.d/vendor", "auth required pam_ssooidc.so\n");
    put("/etc/pam.d/sshd", "@include common-auth\n"
                           "auth include vendor\n"
                           "auth SubStack common-auth\n");
    assert_string_equal(USES("sshd"), "/etc/pam.d/common-auth:1 via /etc/pam.d/sshd:1; "
                                      "/usr/lib/pam.d/vendor:1 via /etc/pam.d/sshd:2; "
                                      "/etc/pam.d/common-auth:1 via /etc/pam.d/sshd:3");
    /* The vendor directory also holds services of its own. */
    assert_string_equal(USES("vendor"), "/usr/lib/pam.d/vendor:1");
}

/* Debian's @include looks in /etc/pam.d only; one it cannot open stops the
 * reading of the file that names it. */
static void test_at_include_forms(void **state)
{
    (void)state;
    put("/opt/x/sso-auth", "auth required pam_ssooidc.so\n");
    put("/usr/lib/pam.d/vendor", "auth required pam_ssooidc.so\n");
    put("/etc/pam.d/sshd", "  @INCLUDE   [/opt/x/sso-auth] ignored\n"
                           "-@include /opt/x/sso-auth\n"
                           "@include vendor\n"
                           "auth required pam_ssooidc.so\n");
    assert_string_equal(USES("sshd"), "/opt/x/sso-auth:1 via /etc/pam.d/sshd:1; "
                                      "/opt/x/sso-auth:1 via /etc/pam.d/sshd:2");
}

static void test_include_takes_its_type_only(void **state)
{
    (void)state;
    put("/opt/x/mixed", "auth required pam_ssooidc.so\n"
                        "session optional pam_ssooidc.so\n"
                        "@include /opt/x/more\n");
    put("/opt/x/more", "auth required pam_ssooidc.so\nsession required pam_ssooidc.so\n");
    put("/etc/pam.d/sshd", "session include /opt/x/mixed\n");
    assert_string_equal(USES("sshd"), "/opt/x/mixed:2 via /etc/pam.d/sshd:1; "
                                      "/opt/x/more:2 via /etc/pam.d/sshd:1 -> /opt/x/mixed:3");
}

static void test_include_cycle_ends(void **state)
{
    (void)state;
    put("/etc/pam.d/a", "auth include b\nauth required pam_ssooidc.so\n");
    put("/etc/pam.d/b", "auth include a\n@include /etc/pam.d/b\n");
    assert_string_equal(USES("a"), "/etc/pam.d/a:2");
}

/* libpam refuses a substack 16 levels down (the service file is level 0). */
static void test_substack_depth_as_libpam(void **state)
{
    (void)state;
    char name[64], text[128];
    for (int level = 1; level <= 16; level++) {
        snprintf(name, sizeof(name), "/opt/s/%d", level);
        snprintf(text, sizeof(text), "auth required pam_ssooidc.so\nauth substack /opt/s/%d\n",
                 level + 1);
        put(name, text);
    }
    put("/etc/pam.d/sshd", "auth substack /opt/s/1\n");
    char *uses = USES("sshd");
    assert_non_null(strstr(uses, "/opt/s/15:1 via"));
    assert_null(strstr(uses, "/opt/s/16:1"));
}

static void test_include_nesting_is_bounded(void **state)
{
    (void)state;
    char name[64], text[128];
    for (int level = 1; level <= PAMCONF_NEST_MAX + 2; level++) {
        snprintf(name, sizeof(name), "/opt/i/%d", level);
        snprintf(text, sizeof(text), "auth include /opt/i/%d\n", level + 1);
        put(name, text);
    }
    put("/etc/pam.d/sshd", "auth include /opt/i/1\n");
    struct pamconf_env env = {root};
    struct pamconf_stack s;
    assert_false(pamconf_parse_service(&env, "sshd", &s));
    assert_non_null(strstr(s.problem, "nested"));
    pamconf_stack_free(&s);
}

/* ------------------------------------------------ what cannot be read */

static void test_unreadable_files_are_reported(void **state)
{
    (void)state;
    char fifo[PATH_MAX];
    snprintf(fifo, sizeof(fifo), "%s/opt/fifo", root);
    make_parents(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0); /* would block a reader that waits */
    put("/etc/pam.d/sshd", "auth include /opt/fifo\nauth include /opt/missing\n");
    struct pamconf_env env = {root};
    struct pamconf_stack s;
    assert_false(pamconf_parse_service(&env, "sshd", &s));
    assert_non_null(strstr(s.problem, "/opt/fifo is not a regular file"));
    pamconf_stack_free(&s);

    put("/etc/pam.d/login", "auth include /opt/missing\n"); /* libpam cannot either */
    assert_true(pamconf_parse_service(&env, "login", &s));
    pamconf_stack_free(&s);

    char big[PATH_MAX];
    snprintf(big, sizeof(big), "%s/etc/pam.d/big", root);
    int fd = open(big, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, PAMCONF_FILE_MAX + 1), 0);
    close(fd);
    assert_false(pamconf_parse_service(&env, "big", &s));
    assert_non_null(strstr(s.problem, "larger than"));
    pamconf_stack_free(&s);
}

/* ------------------------------------------------ services */

static void test_service_list(void **state)
{
    (void)state;
    put("/etc/pam.d/sshd", "auth required pam_unix.so\n");
    put("/usr/lib/pam.d/sshd", "auth required pam_unix.so\n");
    put("/usr/lib/pam.d/polkit-1", "auth required pam_unix.so\n");
    struct pamconf_env env = {root};
    char **names = NULL, problem[256];
    size_t n = 0;
    assert_true(pamconf_list_services(&env, &names, &n, problem, sizeof(problem)));
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "other");
    assert_string_equal(names[1], "polkit-1");
    assert_string_equal(names[2], "sshd");
    pamconf_services_free(names, n);
}

/* Without /etc/pam.d and /usr/lib/pam.d, libpam reads /etc/pam.conf. */
static void test_pam_conf_only_without_pam_d(void **state)
{
    (void)state;
    put("/etc/pam.conf", "sshd auth required pam_ssooidc.so\nSSHD account required pam_unix.so\n"
                         "login auth required pam_ssooidc.so\n");
    put("/etc/pam.d/sshd", "auth required pam_unix.so\n");
    assert_string_equal(USES("sshd"), ""); /* pam.d exists: pam.conf is ignored */
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/etc/pam.d", root);
    assert_int_equal(nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS), 0);
    assert_string_equal(USES("sshd"), "/etc/pam.conf:1");
    struct pamconf_env env = {root};
    char **names = NULL, problem[256];
    size_t n = 0;
    assert_true(pamconf_list_services(&env, &names, &n, problem, sizeof(problem)));
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "SSHD");
    assert_string_equal(names[1], "login");
    assert_string_equal(names[2], "sshd");
    pamconf_services_free(names, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_continuation_line_naming_module),
        T(test_absolute_include_outside_pam_d),
        T(test_foreign_copy_is_not_this_module),
        T(test_bare_name_and_absolute_path_match),
        T(test_merged_usr_same_file),
        T(test_absent_module_matches_packaged_names),
        T(test_comments),
        T(test_comment_inside_continuation),
        T(test_type_case_and_dash),
        T(test_bracketed_control_and_args),
        T(test_broken_lines_load_nothing),
        T(test_include_on_bad_type_is_followed),
        T(test_long_line_read_in_pieces),
        T(test_overflow_stops_the_file),
        T(test_relative_includes),
        T(test_at_include_forms),
        T(test_include_takes_its_type_only),
        T(test_include_cycle_ends),
        T(test_substack_depth_as_libpam),
        T(test_include_nesting_is_bounded),
        T(test_unreadable_files_are_reported),
        T(test_service_list),
        T(test_pam_conf_only_without_pam_d),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
