#define _GNU_SOURCE
/* Unit tests for the trusted-path walk (trust.c): a file or directory is
 * trusted only when it and every directory above it are root's and not
 * writable by group or others, with no symbolic link on the way and no
 * exception for sticky directories. Needs root (chown). */
#include <errno.h>
#include <fcntl.h>
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
#include <security/pam_modules.h>

#include "core/trust.h"
#include "trusted_tmp.h"

static char top[128]; /* root 0755, under TRUSTED_TMP_BASE */

static const char *at(const char *rel)
{
    static char buf[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, rel);
    return buf[i];
}

static void mkdir_mode(const char *rel, mode_t mode, uid_t uid)
{
    assert_int_equal(mkdir(at(rel), 0700), 0);
    assert_int_equal(chown(at(rel), uid, 0), 0);
    assert_int_equal(chmod(at(rel), mode), 0);
}

static void file_mode(const char *rel, mode_t mode, uid_t uid, const char *text)
{
    int fd = open(at(rel), O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chown(at(rel), uid, 0), 0);
    assert_int_equal(chmod(at(rel), mode), 0);
}

static int setup(void **state)
{
    (void)state;
    if (geteuid() != 0)
        return 0;
    return trusted_mkdtemp(top, sizeof(top), "test_trust", 0755) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (top[0])
        trusted_rmtree(top);
    top[0] = '\0';
    return 0;
}

static void need_root(void)
{
    if (geteuid() != 0)
        skip();
}

/* Open a file; expect rc, and every fragment in the message. */
static void expect_file(const char *path, int want, const char *frag1, const char *frag2)
{
    struct sso_error err = SSO_ERROR_INIT;
    int fd = -1;
    int rc = trust_open_file(path, "config file", &fd, &err);
    if (rc != want)
        fail_msg("%s: rc %d, want %d (%s)", path, rc, want, err.msg);
    if (rc == PAM_SUCCESS) {
        assert_true(fd >= 0);
        close(fd);
        return;
    }
    assert_int_equal(fd, -1);
    if (frag1 && !strstr(err.msg, frag1))
        fail_msg("\"%s\" lacks \"%s\"", err.msg, frag1);
    if (frag2 && !strstr(err.msg, frag2))
        fail_msg("\"%s\" lacks \"%s\"", err.msg, frag2);
}

static void test_good_file(void **state)
{
    (void)state;
    need_root();
    mkdir_mode("etc", 0755, 0);
    file_mode("etc/a.conf", 0600, 0, "x");
    expect_file(at("etc/a.conf"), PAM_SUCCESS, NULL, NULL);
    expect_file(at("etc//a.conf"), PAM_SUCCESS, NULL, NULL); /* repeated slashes are fine */
    file_mode("etc/r.conf", 0644, 0, "x");
    expect_file(at("etc/r.conf"), PAM_SUCCESS, NULL, NULL); /* readable by others is fine */
}

static void test_missing(void **state)
{
    (void)state;
    need_root();
    mkdir_mode("etc", 0755, 0);
    expect_file(at("etc/none.conf"), PAM_NO_MODULE_DATA, "does not exist", NULL);
    expect_file(at("nodir/none.conf"), PAM_NO_MODULE_DATA, "does not exist", NULL);
}

static void test_group_writable_parent(void **state)
{
    (void)state;
    need_root();
    mkdir_mode("g", 0775, 0);
    file_mode("g/a.conf", 0600, 0, "x");
    expect_file(at("g/a.conf"), PAM_SERVICE_ERR, "writable by group or others", at("g"));
    mkdir_mode("g/sub", 0755, 0); /* a good directory below a bad one is no better */
    file_mode("g/sub/a.conf", 0600, 0, "x");
    expect_file(at("g/sub/a.conf"), PAM_SERVICE_ERR, "writable by group or others", NULL);
}

static void test_foreign_owner(void **state)
{
    (void)state;
    need_root();
    mkdir_mode("u", 0755, 1000);
    file_mode("u/a.conf", 0600, 0, "x");
    expect_file(at("u/a.conf"), PAM_SERVICE_ERR, "not owned by root", "owner uid 1000");
    mkdir_mode("ok", 0755, 0);
    file_mode("ok/b.conf", 0600, 1000, "x");
    expect_file(at("ok/b.conf"), PAM_SERVICE_ERR, "not owned by root", at("ok/b.conf"));
    file_mode("ok/w.conf", 0622, 0, "x");
    expect_file(at("ok/w.conf"), PAM_SERVICE_ERR, "writable by group or others", NULL);
}

static void test_symlinked_component(void **state)
{
    (void)state;
    need_root();
    mkdir_mode("real", 0755, 0);
    file_mode("real/a.conf", 0600, 0, "x");
    assert_int_equal(symlink(at("real"), at("link")), 0);
    expect_file(at("link/a.conf"), PAM_SERVICE_ERR, "symbolic link", at("link"));
    assert_int_equal(symlink(at("real/a.conf"), at("real/l.conf")), 0);
    expect_file(at("real/l.conf"), PAM_SERVICE_ERR, "symbolic link", NULL);
}

/* /tmp-like: root's, sticky, world-writable. Any user can create a name
 * there first; the file being root's own changes nothing. */
static void test_sticky_directory(void **state)
{
    (void)state;
    need_root();
    mkdir_mode("tmp", 01777, 0);
    file_mode("tmp/squatted.conf", 0600, 1000, "x");
    expect_file(at("tmp/squatted.conf"), PAM_SERVICE_ERR, "writable by group or others",
                at("tmp"));
    file_mode("tmp/roots.conf", 0600, 0, "x");
    expect_file(at("tmp/roots.conf"), PAM_SERVICE_ERR, "writable by group or others", NULL);
    struct sso_error err = SSO_ERROR_INIT;
    int fd = -1;
    bool created = false;
    assert_int_equal(trust_open_dir(at("tmp/cache"), "cache_dir", true, &fd, &created, &err),
                     PAM_SERVICE_ERR);
    struct stat st;
    assert_int_equal(lstat(at("tmp/cache"), &st), -1); /* nothing made in an untrusted place */
}

static void test_not_a_plain_path(void **state)
{
    (void)state;
    need_root();
    mkdir_mode("etc", 0755, 0);
    file_mode("etc/a.conf", 0600, 0, "x");
    expect_file(at("etc/../etc/a.conf"), PAM_SERVICE_ERR, "'..'", NULL);
    expect_file(at("etc/./a.conf"), PAM_SERVICE_ERR, "'.'", NULL);
    expect_file("etc/a.conf", PAM_SERVICE_ERR, "absolute", NULL);
    expect_file(at("etc"), PAM_SERVICE_ERR, "not a regular file", NULL);
    assert_int_equal(mkfifo(at("etc/fifo"), 0600), 0);
    expect_file(at("etc/fifo"), PAM_SERVICE_ERR, "not a regular file", NULL);
}

static void test_dir_created_and_read_bounds(void **state)
{
    (void)state;
    need_root();
    mkdir_mode("var", 0755, 0);
    struct sso_error err = SSO_ERROR_INIT;
    int fd = -1;
    bool created = false;
    assert_int_equal(trust_open_dir(at("var/cache"), "cache_dir", true, &fd, &created, &err),
                     PAM_SUCCESS);
    assert_true(created);
    close(fd);
    struct stat st;
    assert_int_equal(stat(at("var/cache"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(trust_open_dir(at("var/none/cache"), "cache_dir", true, &fd, &created, &err),
                     PAM_NO_MODULE_DATA); /* parents are never made */
    file_mode("var/ca.pem", 0644, 0, "0123456789");
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(trust_read_file(at("var/ca.pem"), "ca_file", 10, &text, &len, &err),
                     PAM_SUCCESS);
    assert_int_equal(len, 10);
    assert_string_equal(text, "0123456789");
    free(text);
    assert_int_equal(trust_read_file(at("var/ca.pem"), "ca_file", 9, &text, &len, &err),
                     PAM_SERVICE_ERR);
    assert_null(text);
    assert_non_null(strstr(err.msg, "larger than 9 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_writable_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinked_component, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sticky_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_plain_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_created_and_read_bounds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
