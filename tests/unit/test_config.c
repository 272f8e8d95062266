/* test_config.c - option parsing: defaults, file syntax, precedence, every
 * class of configuration error, and the config file's safety checks.
 *
 * The file tests create root-owned temp files and chown one to uid 1, so
 * they need root (as in CI); run unprivileged they are skipped. */
#define _GNU_SOURCE /* nftw, for trusted_tmp.h's trusted_rmtree */
#include <dirent.h>
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

#include "settings.h"
#include "trusted_tmp.h"

#define ARGV(...) ((const char *[]){__VA_ARGS__})
#define NARGS(...) ((int)(sizeof(ARGV(__VA_ARGS__)) / sizeof(const char *)))
/* settings_load_text with the stanza given inline */
#define LOAD_TEXT(c, text, err, ...) \
    settings_load_text((c), (text), NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), (err))
#define LOAD_FILE(c, err, ...) settings_load((c), NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), (err))

/* rc must be PAM_SERVICE_ERR and err.msg must mention every needle. */
#define ASSERT_FAILS(rc, err, ...)                                                          \
    do {                                                                                    \
        const char *needles_[] = {__VA_ARGS__};                                             \
        assert_int_equal((rc), PAM_SERVICE_ERR);                                            \
        for (size_t i_ = 0; i_ < sizeof(needles_) / sizeof(needles_[0]); i_++)              \
            if (!strstr((err).msg, needles_[i_]))                                           \
                fail_msg("error message \"%s\" does not mention \"%s\"", (err).msg,         \
                         needles_[i_]);                                                     \
    } while (0)

#define ASSERT_OK(rc, err)                                                                  \
    do {                                                                                    \
        if ((rc) != PAM_SUCCESS)                                                            \
            fail_msg("expected success, got %d: %s", (rc), (err).msg);                      \
    } while (0)

#define START "start_url=https://example.awsapps.com/start"
#define POLICY "account_id=123456789012", "role_name=LinuxLogin"
#define TEXT_NAME "(config text)" /* how settings_load_text names its text */
#define BASE_TEXT "start_url = https://example.awsapps.com/start\nallow_any_approver\n"

static char tmpdir[64];

/* --------------------------------------------------------- helpers */

static const char *tmp_path(const char *name)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

/* Write a root-owned file with the given mode; returns its path. */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
    const char *path = tmp_path(name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static void conf_arg(char *buf, size_t len, const char *path)
{
    snprintf(buf, len, "conf=%s", path);
}

static int group_setup(void **state)
{
    (void)state;
    return trusted_mkdtemp(tmpdir, sizeof(tmpdir), "test_config", 0755) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(d);
    rmdir(tmpdir);
    return 0;
}

static void need_root(void)
{
    if (geteuid() != 0) {
        print_message("not root: file ownership tests skipped\n");
        skip();
    }
}

/* -------------------------------------------------------- defaults */

static void test_defaults(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, NULL, &err, START, "allow_any_approver");
    ASSERT_OK(rc, err);

    assert_string_equal(c.common.conf_path, CFG_DEFAULT_FILE);
    assert_string_equal(c.aws.start_url, "https://example.awsapps.com/start");
    assert_string_equal(c.aws.region, "us-east-1");
    assert_string_equal(c.aws.oidc_endpoint, "https://oidc.us-east-1.amazonaws.com");
    assert_string_equal(c.aws.portal_endpoint, "https://portal.sso.us-east-1.amazonaws.com");
    assert_string_equal(c.aws.sts_endpoint, "https://sts.us-east-1.amazonaws.com");
    assert_string_equal(c.common.ca_file, "");
    assert_string_equal(c.common.cache_dir, CFG_DEFAULT_CACHE_DIR);
    assert_int_equal(c.common.timeout, 300);
    assert_int_equal(c.common.http_timeout, 10);
    assert_int_equal(c.common.prompt, CFG_PROMPT_AUTO);
    assert_true(c.common.allow_any_approver);
    assert_false(c.common.debug);
    assert_false(c.common.qr);
    assert_string_equal(c.aws.account_id, "");
    assert_string_equal(c.aws.role_name, "");
    assert_string_equal(c.common.username_suffix, "");
    assert_string_equal(c.common.user_map, "");

    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    assert_true(strncmp(c.aws.client_name, "pam_ssooidc", 11) == 0);
    if (host[0]) {
        char expect[300];
        snprintf(expect, sizeof(expect), "pam_ssooidc on %s", host);
        expect[127] = '\0';
        assert_string_equal(c.aws.client_name, expect);
    }
    assert_true(strlen(c.aws.client_name) >= 1 && strlen(c.aws.client_name) <= 127);
}

static void test_defaults_reset_each_load(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, NULL, &err, START, "allow_any_approver", "debug", "qr",
                       "timeout=60", "region=eu-west-1", "prompt=never");
    ASSERT_OK(rc, err);
    assert_true(c.common.debug);
    rc = LOAD_TEXT(&c, NULL, &err, START, POLICY);
    ASSERT_OK(rc, err);
    assert_false(c.common.debug);
    assert_false(c.common.qr);
    assert_false(c.common.allow_any_approver);
    assert_int_equal(c.common.timeout, 300);
    assert_int_equal(c.common.prompt, CFG_PROMPT_AUTO);
    assert_string_equal(c.aws.region, "us-east-1");
    assert_string_equal(c.aws.oidc_endpoint, "https://oidc.us-east-1.amazonaws.com");
}

static void test_derived_endpoints(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, NULL, &err, START, POLICY, "region=eu-west-2");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.oidc_endpoint, "https://oidc.eu-west-2.amazonaws.com");
    assert_string_equal(c.aws.portal_endpoint, "https://portal.sso.eu-west-2.amazonaws.com");
    assert_string_equal(c.aws.sts_endpoint, "https://sts.eu-west-2.amazonaws.com");

    rc = LOAD_TEXT(&c, NULL, &err, START, POLICY, "region=us-gov-west-1");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.oidc_endpoint, "https://oidc.us-gov-west-1.amazonaws.com");
}

static void test_derived_endpoints_china(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, "region = cn-north-1\n", &err, START, POLICY);
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.region, "cn-north-1");
    assert_string_equal(c.aws.oidc_endpoint, "https://oidc.cn-north-1.amazonaws.com.cn");
    assert_string_equal(c.aws.portal_endpoint, "https://portal.sso.cn-north-1.amazonaws.com.cn");
    assert_string_equal(c.aws.sts_endpoint, "https://sts.cn-north-1.amazonaws.com.cn");
}

static void test_explicit_endpoints(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c,
                       "region = eu-west-1\n"
                       "oidc_endpoint = https://127.0.0.1:8443/oidc/\n"
                       "portal_endpoint = https://localhost:8443\n",
                       &err, START, POLICY, "sts_endpoint=https://[::1]:9443//");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.oidc_endpoint, "https://127.0.0.1:8443/oidc"); /* one '/' dropped */
    assert_string_equal(c.aws.portal_endpoint, "https://localhost:8443");
    assert_string_equal(c.aws.sts_endpoint, "https://[::1]:9443/"); /* only one */
    /* start_url is kept exactly as written */
    rc = LOAD_TEXT(&c, NULL, &err, "start_url=https://d-1234567890.awsapps.com/start/",
                   "allow_any_approver");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.start_url, "https://d-1234567890.awsapps.com/start/");
}

/* ----------------------------------------------------- file syntax */

static void test_file_syntax(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    const char *text =
        "# pam_ssooidc test configuration\n"
        "\n"
        "   # an indented comment\n"
        "start_url=https://example.awsapps.com/start   # trailing comment\n"
        "\tregion\t=\teu-central-1\t\r\n"
        "client_name = \"login gateway # 1\"   # quoted: spaces and '#' kept\n"
        "username_suffix =@example.com\n"
        "ca_file= /etc/ssl/certs/corp#1.pem\n" /* '#' not after whitespace */
        "account_id = 123456789012\n"
        "role_name = \"LinuxLogin\"\n"
        "debug\n"
        "qr = yes\n"
        "allow_any_approver = off\n"
        "prompt = Always\n"
        "timeout = 120\n"
        "http_timeout=5\n"
        "user_map = /etc/security/pam_ssooidc.users\n"
        "cache_dir = \"/var/cache/pam sso\"\n"
        "   \t  \n"
        "sts_endpoint = https://sts.example.test"; /* no final newline */
    int rc = LOAD_TEXT(&c, text, &err, "debug=0");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.start_url, "https://example.awsapps.com/start");
    assert_string_equal(c.aws.region, "eu-central-1");
    assert_string_equal(c.aws.client_name, "login gateway # 1");
    assert_string_equal(c.common.username_suffix, "@example.com");
    assert_string_equal(c.common.ca_file, "/etc/ssl/certs/corp#1.pem");
    assert_string_equal(c.aws.account_id, "123456789012");
    assert_string_equal(c.aws.role_name, "LinuxLogin");
    assert_false(c.common.debug); /* the stanza said debug=0 */
    assert_true(c.common.qr);
    assert_false(c.common.allow_any_approver);
    assert_int_equal(c.common.prompt, CFG_PROMPT_ALWAYS);
    assert_int_equal(c.common.timeout, 120);
    assert_int_equal(c.common.http_timeout, 5);
    assert_string_equal(c.common.user_map, "/etc/security/pam_ssooidc.users");
    assert_string_equal(c.common.cache_dir, "/var/cache/pam sso");
    assert_string_equal(c.aws.oidc_endpoint, "https://oidc.eu-central-1.amazonaws.com");
    assert_string_equal(c.aws.sts_endpoint, "https://sts.example.test");
}

static void test_flag_spellings(void **state)
{
    (void)state;
    static const char *const on[] = {"yes", "true", "1", "on", "YES", "True"};
    static const char *const off[] = {"no", "false", "0", "off", "NO", "Off"};
    struct settings c;
    struct sso_error err;
    char text[128], arg[64];
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        snprintf(text, sizeof(text), BASE_TEXT "debug = %s\n", on[i]);
        int rc = LOAD_TEXT(&c, text, &err, "qr");
        ASSERT_OK(rc, err);
        assert_true(c.common.debug);
        assert_true(c.common.qr);
        snprintf(arg, sizeof(arg), "debug=%s", off[i]);
        rc = LOAD_TEXT(&c, text, &err, arg);
        ASSERT_OK(rc, err);
        assert_false(c.common.debug);
        snprintf(arg, sizeof(arg), "qr=%s", on[i]);
        rc = LOAD_TEXT(&c, NULL, &err, START, "allow_any_approver=yes", arg);
        ASSERT_OK(rc, err);
        assert_true(c.common.qr);
        assert_true(c.common.allow_any_approver);
    }
}

static void test_empty_value_restores_default(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c,
                       BASE_TEXT "region = eu-west-1\noidc_endpoint = https://o.example\n"
                                 "username_suffix = @example.com\nca_file = /etc/ca.pem\n",
                       &err, "region=", "oidc_endpoint=", "username_suffix=", "ca_file=\"\"");
    /* a quoted empty value is only special in the file; on the stanza the
     * quotes are literal, so ca_file="" is a relative path */
    ASSERT_FAILS(rc, err, "ca_file", "absolute");
    rc = LOAD_TEXT(&c,
                   BASE_TEXT "region = eu-west-1\noidc_endpoint = https://o.example\n"
                             "username_suffix = @example.com\nca_file = \"\"\n",
                   &err, "region=", "oidc_endpoint=", "username_suffix=");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.region, "us-east-1");
    assert_string_equal(c.aws.oidc_endpoint, "https://oidc.us-east-1.amazonaws.com");
    assert_string_equal(c.common.username_suffix, "");
    assert_string_equal(c.common.ca_file, "");
}

/* ------------------------------------------------------ precedence */

static void test_stanza_overrides_file(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    const char *text = "start_url = https://file.awsapps.com/start\n"
                       "region = eu-west-1\n"
                       "timeout = 100\n"
                       "prompt = never\n"
                       "debug\n"
                       "account_id = 111111111111\n"
                       "role_name = FileRole\n";
    int rc = LOAD_TEXT(&c, text, &err, "start_url=https://stanza.awsapps.com/start",
                       "timeout=200", "prompt=always", "debug=no", "role_name=StanzaRole");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.start_url, "https://stanza.awsapps.com/start");
    assert_string_equal(c.aws.region, "eu-west-1"); /* from the file */
    assert_int_equal(c.common.timeout, 200);
    assert_int_equal(c.common.prompt, CFG_PROMPT_ALWAYS);
    assert_false(c.common.debug);
    assert_string_equal(c.aws.account_id, "111111111111");
    assert_string_equal(c.aws.role_name, "StanzaRole");
}

static void test_stanza_repeat_last_wins(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, NULL, &err, START, POLICY, "timeout=20", "timeout=30",
                       "region=eu-west-1", "region=ap-south-1");
    ASSERT_OK(rc, err);
    assert_int_equal(c.common.timeout, 30);
    assert_string_equal(c.aws.region, "ap-south-1");
}

static void test_file_repeat_is_error(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT "timeout = 20\n\ntimeout = 30\n", &err, POLICY);
    ASSERT_FAILS(rc, err, "line 5", "timeout", "already set on line 3");
}

/* ---------------------------------------------------------- errors */

static void test_err_unknown_option(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT "\ntimout = 20\n", &err, "x=1");
    ASSERT_FAILS(rc, err, TEXT_NAME, "line 4", "unknown option", "timout");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "debug", "verbose");
    ASSERT_FAILS(rc, err, "PAM stanza", "unknown option", "verbose");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "use_first_pass=1");
    ASSERT_FAILS(rc, err, "unknown option", "use_first_pass");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "=1");
    ASSERT_FAILS(rc, err, "missing option name");
    rc = LOAD_TEXT(&c, BASE_TEXT "= 5\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "missing option name");
    /* prefixes and case variants are not options */
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "time=20");
    ASSERT_FAILS(rc, err, "unknown option", "time");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "Debug");
    ASSERT_FAILS(rc, err, "unknown option", "Debug");
    /* a near miss names the option meant, of either provider; a far one none */
    rc = LOAD_TEXT(&c, BASE_TEXT "regoin = us-east-1\n", &err, "x=1");
    ASSERT_FAILS(rc, err, "line 3", "unknown option 'regoin' (did you mean region?)");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "isuser=https://x");
    ASSERT_FAILS(rc, err, "unknown option 'isuser' (did you mean issuer?)");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "frobnicate=1");
    assert_null(strstr(err.msg, "did you mean"));
}

/* The check tool's reading: every error listed with its place, and what
 * could be read kept; the module's reading still stops at the first. */
static void test_err_every_error_listed(void **state)
{
    (void)state;
    struct settings c;
    struct cfg_trace trace;
    struct cfg_problems *problems = calloc(1, sizeof(*problems));
    struct sso_error err = SSO_ERROR_INIT;
    assert_non_null(problems);
    memset(&trace, 0, sizeof(trace));
    trace.problems = problems;
    const char *argv[] = {"conf=/nonexistent/pam_ssooidc.conf", "Debug", "timeout=5",
                          "start_url=https://x.awsapps.com/start", "client_id=x"};
    int rc = settings_load_traced(&c, 5, argv, 0, &trace, &err);
    assert_int_equal(rc, PAM_SERVICE_ERR);
    assert_true(problems->count >= 4);
    assert_string_equal(problems->of[0].file, "/nonexistent/pam_ssooidc.conf");
    assert_string_equal(problems->of[1].option, "Debug");
    assert_non_null(strstr(problems->of[1].msg, "(did you mean debug?)"));
    assert_string_equal(problems->of[2].option, "timeout");
    assert_string_equal(problems->of[3].option, "client_id");
    /* what could be read is kept for the tool to show */
    assert_string_equal(c.aws.start_url, "https://x.awsapps.com/start");
    free(problems);
    /* the module: the first error only, and nothing kept */
    rc = settings_load(&c, 5, argv, &err);
    assert_int_equal(rc, PAM_SERVICE_ERR);
    assert_non_null(strstr(err.msg, "/nonexistent does not exist"));
    assert_string_equal(c.aws.start_url, "");
}

static void test_err_malformed_number(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT "timeout = 5min\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "timeout", "5min", "not a whole number");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "http_timeout=ten");
    ASSERT_FAILS(rc, err, "PAM stanza", "http_timeout", "not a whole number");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "http_timeout= 5");
    ASSERT_FAILS(rc, err, "http_timeout", "not a whole number");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "http_timeout=0x10");
    ASSERT_FAILS(rc, err, "http_timeout", "not a whole number");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "timeout=");
    ASSERT_FAILS(rc, err, "timeout", "not a whole number");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "timeout");
    ASSERT_FAILS(rc, err, "timeout", "needs a value");
}

static void test_err_out_of_range(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "timeout=9", "timeout=3601", "timeout=-300", "http_timeout=0", "http_timeout=121",
        "timeout=99999999999999999999999999",
    };
    struct settings c;
    struct sso_error err;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = LOAD_TEXT(&c, BASE_TEXT, &err, bad[i]);
        ASSERT_FAILS(rc, err, "out of range");
        assert_true(strncmp(err.msg, "PAM stanza: ", 12) == 0);
        assert_non_null(strstr(err.msg, "timeout"));
    }
    int rc = LOAD_TEXT(&c, BASE_TEXT "timeout = 3601\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "timeout", "out of range", "10..3600");
    /* the bounds themselves are fine */
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "timeout=10", "http_timeout=120");
    ASSERT_OK(rc, err);
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "timeout=3600", "http_timeout=1");
    ASSERT_OK(rc, err);
    assert_int_equal(c.common.timeout, 3600);
    assert_int_equal(c.common.http_timeout, 1);
}

/* ------------------------------------------------ the directory sync */

#define GROUP1 "9067a3c5-e0a1-70f5-3b4c-1234567890ab"
#define GROUP2 "1234567890-1234a3c5-e0a1-70f5-3b4c-1234567890ab"

static void test_sync_options(void **state)
{
    (void)state;
    struct settings s;
    struct sso_error err;
    int rc = LOAD_TEXT(&s, "", &err, START, POLICY, "provision=sync",
                       "identity_store_id=d-1234567890",
                       "sync_groups=" GROUP1 ":developers, " GROUP2);
    ASSERT_OK(rc, err);
    assert_int_equal(s.common.provision, CFG_PROVISION_SYNC);
    assert_string_equal(s.common.sync_max_removals, "10%");
    assert_string_equal(s.aws.imds_endpoint, "http://169.254.169.254");
    assert_string_equal(s.aws.identity_store_endpoint, "https://identitystore.us-east-1.amazonaws.com");
    struct aws_sync_group g[AWS_SYNC_GROUPS_MAX];
    assert_int_equal(aws_sync_groups(&s.aws, g, AWS_SYNC_GROUPS_MAX), 2);
    assert_string_equal(g[0].id, GROUP1);
    assert_string_equal(g[0].local, "developers");
    assert_string_equal(g[1].id, GROUP2);
    assert_string_equal(g[1].local, "");
    /* the store id with a UUID, a loopback IMDS with a port */
    rc = LOAD_TEXT(&s, "", &err, START, POLICY, "identity_store_id=" GROUP1,
                   "sync_groups=" GROUP1, "imds_endpoint=http://127.0.0.1:8080",
                   "imds_endpoint=http://[fd00:ec2::254]", "sync_max_removals=25");
    ASSERT_OK(rc, err);
}

static void test_sync_options_refused(void **state)
{
    (void)state;
    struct settings s;
    struct sso_error err;
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "provision=sync"), err,
                 "provision = sync", "identity_store_id");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "identity_store_id=d-1234567890"), err,
                 "must be set together");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "sync_groups=" GROUP1), err,
                 "must be set together");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "identity_store_id=d-12345"), err,
                 "identity_store_id");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "identity_store_id=d-ABCDEF0123"), err,
                 "identity_store_id");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "identity_store_id=d-1234567890",
                           "sync_groups=developers"), err, "group ID");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "identity_store_id=d-1234567890",
                           "sync_groups=" GROUP1 ":Root!"), err, "name rule");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "identity_store_id=d-1234567890",
                           "sync_groups=" GROUP1 ",,"), err, "empty entry");
    const char *bad_imds[] = {"https://169.254.169.254", "http://metadata.google.internal",
                              "http://169.254.169.254/latest", "http://169.254.169.254:0",
                              "http://169.254.169.254:99999", "http://10.0.0.1",
                              "http://user@169.254.169.254"};
    for (size_t i = 0; i < sizeof(bad_imds) / sizeof(bad_imds[0]); i++) {
        char opt[128];
        snprintf(opt, sizeof(opt), "imds_endpoint=%s", bad_imds[i]);
        ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, opt), err, "imds_endpoint");
    }
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "sync_max_removals=101%"), err,
                 "sync_max_removals");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, POLICY, "provision=sync",
                           "identity_store_id=d-1234567890", "sync_groups=" GROUP1,
                           "provision_expire_days=30"), err, "provision_expire_days");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, START, "allow_any_approver", "provision=sync",
                           "identity_store_id=d-1234567890", "sync_groups=" GROUP1), err,
                 "allow_any_approver");
    ASSERT_FAILS(LOAD_TEXT(&s, "", &err, "issuer=https://login.example.com", "client_id=x",
                           "required_groups=g", "provision=sync"), err, "provision = sync");
}

static void test_err_bad_enum(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT, &err, "prompt=sometimes");
    ASSERT_FAILS(rc, err, "prompt", "sometimes", "always|never");
    rc = LOAD_TEXT(&c, BASE_TEXT "prompt\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "prompt", "needs a value");
}

static void test_err_bad_flag_value(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT, &err, "debug=maybe");
    ASSERT_FAILS(rc, err, "debug", "maybe", "not a flag value");
    rc = LOAD_TEXT(&c, BASE_TEXT "qr = 2\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "qr", "not a flag value");
    rc = LOAD_TEXT(&c, NULL, &err, START, "allow_any_approver=");
    ASSERT_FAILS(rc, err, "allow_any_approver", "not a flag value");
}

static void test_err_endpoints_need_https(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "oidc_endpoint=http://oidc.us-east-1.amazonaws.com",
        "portal_endpoint=HTTP://portal.sso.us-east-1.amazonaws.com",
        "sts_endpoint=http://sts.us-east-1.amazonaws.com",
        "start_url=http://example.awsapps.com/start",
    };
    struct settings c;
    struct sso_error err;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)(strchr(bad[i], '=') - bad[i]), bad[i]);
        int rc = LOAD_TEXT(&c, BASE_TEXT, &err, bad[i]);
        ASSERT_FAILS(rc, err, name, "https://", "http:// is refused");
    }
    int rc = LOAD_TEXT(&c, BASE_TEXT "oidc_endpoint = http://127.0.0.1:8080\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "oidc_endpoint", "http:// is refused");
}

static void test_err_malformed_url(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT, &err, "sts_endpoint=ftp://sts.example");
    ASSERT_FAILS(rc, err, "sts_endpoint", "must be an https:// URL");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "sts_endpoint=sts.amazonaws.com");
    ASSERT_FAILS(rc, err, "sts_endpoint", "must be an https:// URL");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "oidc_endpoint=https://");
    ASSERT_FAILS(rc, err, "oidc_endpoint", "no host");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "oidc_endpoint=https:///path");
    ASSERT_FAILS(rc, err, "oidc_endpoint", "no host");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "oidc_endpoint=https://user@evil.example");
    ASSERT_FAILS(rc, err, "oidc_endpoint", "host");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "oidc_endpoint=https://o.example/x?y=1");
    ASSERT_FAILS(rc, err, "oidc_endpoint", "query");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "portal_endpoint=https://p.example/a b");
    ASSERT_FAILS(rc, err, "portal_endpoint", "spaces");
    rc = LOAD_TEXT(&c, BASE_TEXT "portal_endpoint = \"https://p.example /x\"\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "portal_endpoint", "spaces");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "portal_endpoint=https://p.example/\xc3\xa9");
    ASSERT_FAILS(rc, err, "portal_endpoint", "non-ASCII");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "portal_endpoint=https://p.example/\x1b[2J");
    ASSERT_FAILS(rc, err, "portal_endpoint", "control character");
}

static void test_err_missing_start_url(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, "allow_any_approver\n", &err, "debug");
    ASSERT_FAILS(rc, err, "start_url is required");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "start_url=");
    ASSERT_FAILS(rc, err, "start_url is required");
}

static void test_err_missing_policy(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, NULL, &err, START);
    assert_int_equal(rc, PAM_SERVICE_ERR);
    assert_string_equal(err.msg,
                        "no identity policy: set account_id and role_name, or allow_any_approver "
                        "(anyone who can approve at start_url may then log in)");
    rc = LOAD_TEXT(&c, "allow_any_approver = yes\n", &err, START, "allow_any_approver=no");
    ASSERT_FAILS(rc, err, "no identity policy");
}

static void test_err_policy_half(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, NULL, &err, START, "account_id=123456789012");
    ASSERT_FAILS(rc, err, "account_id and role_name", "only account_id");
    rc = LOAD_TEXT(&c, NULL, &err, START, "role_name=LinuxLogin");
    ASSERT_FAILS(rc, err, "account_id and role_name", "only role_name");
    /* allow_any_approver does not excuse half a policy */
    rc = LOAD_TEXT(&c, NULL, &err, START, "allow_any_approver", "account_id=123456789012");
    ASSERT_FAILS(rc, err, "only account_id");
    rc = LOAD_TEXT(&c, NULL, &err, START, "allow_any_approver", "role_name=LinuxLogin");
    ASSERT_FAILS(rc, err, "only role_name");
    /* both is the policy; adding allow_any_approver would silently void it */
    rc = LOAD_TEXT(&c, NULL, &err, START, POLICY);
    ASSERT_OK(rc, err);
    rc = LOAD_TEXT(&c, NULL, &err, START, POLICY, "allow_any_approver");
    ASSERT_FAILS(rc, err, "allow_any_approver contradicts", "account_id/role_name");
    rc = LOAD_TEXT(&c, NULL, &err, START, "allow_any_approver", "username_suffix=@example.com");
    ASSERT_FAILS(rc, err, "allow_any_approver contradicts", "user mapping");
}

static void test_err_value_too_long(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    char arg[900];
    int n = snprintf(arg, sizeof(arg), "start_url=https://example.awsapps.com/");
    memset(arg + n, 'a', 600);
    arg[n + 600] = '\0';
    int rc = LOAD_TEXT(&c, NULL, &err, arg, "allow_any_approver");
    ASSERT_FAILS(rc, err, "start_url", "too long", "511");

    snprintf(arg, sizeof(arg), "role_name=%065d", 0);
    rc = LOAD_TEXT(&c, NULL, &err, START, "account_id=123456789012", arg);
    ASSERT_FAILS(rc, err, "role_name", "64");
    snprintf(arg, sizeof(arg), "role_name=%064d", 0);
    rc = LOAD_TEXT(&c, NULL, &err, START, "account_id=123456789012", arg);
    ASSERT_OK(rc, err);

    n = snprintf(arg, sizeof(arg), "client_name = ");
    memset(arg + n, 'x', 128);
    arg[n + 128] = '\0';
    char text[1024];
    snprintf(text, sizeof(text), BASE_TEXT "%s\n", arg);
    rc = LOAD_TEXT(&c, text, &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "client_name", "too long", "127");

    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "region=us-northeast-southwest-central-1");
    ASSERT_FAILS(rc, err, "region", "too long");
}

static void test_err_line_too_long(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    static char text[2048];
    /* exactly 1024 bytes: accepted (a comment) */
    int n = snprintf(text, sizeof(text), BASE_TEXT "#");
    memset(text + n, 'c', 1023);
    strcpy(text + n + 1023, "\ndebug\n");
    int rc = LOAD_TEXT(&c, text, &err, "qr");
    ASSERT_OK(rc, err);
    assert_true(c.common.debug);
    /* 1025 bytes: refused, even as a comment, even without a final newline */
    text[n + 1023] = 'c';
    text[n + 1024] = '\0';
    rc = LOAD_TEXT(&c, text, &err, "qr");
    ASSERT_FAILS(rc, err, "line 3", "longer than 1024");
}

static void test_err_text_too_large(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    size_t len = 64 * 1024 + 1;
    char *text = malloc(len + 1);
    assert_non_null(text);
    for (size_t i = 0; i < len; i++)
        text[i] = (i % 64 == 63) ? '\n' : '#';
    text[len] = '\0';
    int rc = LOAD_TEXT(&c, text, &err, START, "allow_any_approver");
    ASSERT_FAILS(rc, err, "larger than 65536");
    text[len - 1] = '\0'; /* exactly 64 KiB of comments */
    rc = LOAD_TEXT(&c, text, &err, START, "allow_any_approver");
    ASSERT_OK(rc, err);
    free(text);
}

static void test_err_file_syntax(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT "client_name = \"unterminated\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "unterminated");
    rc = LOAD_TEXT(&c, BASE_TEXT "client_name = \"a\" b\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "after the closing quote");
    rc = LOAD_TEXT(&c, BASE_TEXT "region eu-west-1\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "expected '='", "region");
    rc = LOAD_TEXT(&c, BASE_TEXT "region = eu-west-1\0ignored", &err, "debug");
    ASSERT_OK(rc, err); /* a C string ends at its NUL */
    rc = LOAD_TEXT(&c, BASE_TEXT "client_name = a\tb\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "client_name", "control character");
    rc = LOAD_TEXT(&c, BASE_TEXT "client_name = a\x01\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "client_name", "control character");
    rc = LOAD_TEXT(&c, BASE_TEXT "\x7f\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "unknown option");
    /* text that is not an option name is not copied into the log */
    rc = LOAD_TEXT(&c, "root:$6$salt$hash:19000:0:99999:7:::\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 1", "unknown option", "not an option name");
    assert_null(strstr(err.msg, "salt"));
    rc = LOAD_TEXT(&c, "secret$ value\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 1", "expected '='");
    assert_null(strstr(err.msg, "secret"));
}

static void test_err_conf_option(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT "conf = /etc/other.conf\n", &err, "debug");
    ASSERT_FAILS(rc, err, "line 3", "conf", "PAM stanza");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "conf=relative.conf");
    ASSERT_FAILS(rc, err, "conf", "absolute path");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "conf");
    ASSERT_FAILS(rc, err, "conf", "needs a value");
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "conf=");
    ASSERT_FAILS(rc, err, "conf", "non-empty");
    /* settings_load_text records conf= but never opens it */
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "conf=/nonexistent/pam_ssooidc.conf");
    ASSERT_OK(rc, err);
    assert_string_equal(c.common.conf_path, "/nonexistent/pam_ssooidc.conf");
}

static void test_err_field_rules(void **state)
{
    (void)state;
    static const struct {
        const char *arg, *needle;
    } bad[] = {
        {"region=US-EAST-1", "region"},
        {"region=us-east", "region"},
        {"region=us_east_1", "region"},
        {"region=us-east-1a", "region"},
        {"region=-us-east-1", "region"},
        {"region=us--east-1", "region"},
        {"region=us.evil.com/x-1", "region"},
        {"account_id=12345678901", "12 digits"},
        {"account_id=1234567890123", "12 digits"},
        {"account_id=12345678901a", "12 digits"},
        {"role_name=Linux Login", "role_name"},
        {"role_name=a/b", "role_name"},
        {"username_suffix=example.com", "username_suffix"},
        {"username_suffix=@", "username_suffix"},
        {"username_suffix=@exa mple.com", "username_suffix"},
        {"username_suffix=@a@b", "username_suffix"},
        {"client_name=caf\xc3\xa9", "printable"},
        {"cache_dir=var/cache/x", "absolute path"},
        {"ca_file=ca.pem", "absolute path"},
        {"user_map=~/map", "absolute path"},
    };
    struct settings c;
    struct sso_error err;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = LOAD_TEXT(&c, NULL, &err, START, POLICY, "allow_any_approver", bad[i].arg);
        if (rc != PAM_SERVICE_ERR)
            fail_msg("%s was accepted", bad[i].arg);
        ASSERT_FAILS(rc, err, bad[i].needle);
    }
    int rc = LOAD_TEXT(&c, NULL, &err, START, "account_id=000000000001",
                       "role_name=Admin+Ops=1,x.y@z_w-v", "username_suffix=@corp-1.example.com",
                       "region=eusc-de-east-1", "client_name=Gateway (prod) #1");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.role_name, "Admin+Ops=1,x.y@z_w-v");
    assert_string_equal(c.aws.client_name, "Gateway (prod) #1");
}

static void test_failure_clears_config(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT "debug\n", &err, "timeout=1");
    assert_int_equal(rc, PAM_SERVICE_ERR);
    assert_false(c.common.allow_any_approver);
    assert_false(c.common.debug);
    assert_string_equal(c.aws.start_url, "");
    /* a NULL err is tolerated */
    rc = settings_load_text(&c, NULL, 0, NULL, NULL);
    assert_int_equal(rc, PAM_SERVICE_ERR);
    rc = settings_load_text(NULL, NULL, 0, NULL, &err);
    assert_int_equal(rc, PAM_SERVICE_ERR);
    /* NULL entries in argv are skipped */
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, NULL, "debug", NULL);
    ASSERT_OK(rc, err);
    assert_true(c.common.debug);
}

/* ------------------------------------------------------ file checks */

static void test_file_ok(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200];
    const char *path = write_file("ok.conf",
                                  "# sample\nstart_url = https://example.awsapps.com/start\n"
                                  "account_id = 123456789012\nrole_name = LinuxLogin\n"
                                  "timeout = 60\nqr\n",
                                  0644);
    conf_arg(conf, sizeof(conf), path);
    int rc = LOAD_FILE(&c, &err, conf, "timeout=90");
    ASSERT_OK(rc, err);
    assert_string_equal(c.common.conf_path, path);
    assert_string_equal(c.aws.account_id, "123456789012");
    assert_true(c.common.qr);
    assert_int_equal(c.common.timeout, 90); /* the stanza wins */

    path = write_file("ro.conf", "start_url = https://example.awsapps.com/start\n", 0400);
    conf_arg(conf, sizeof(conf), path);
    rc = LOAD_FILE(&c, &err, conf, "allow_any_approver");
    ASSERT_OK(rc, err);
}

static void test_file_error_names_file_and_line(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200];
    const char *path = write_file("bad.conf", BASE_TEXT "\n# x\ntimeout = soon\n", 0600);
    conf_arg(conf, sizeof(conf), path);
    int rc = LOAD_FILE(&c, &err, conf);
    ASSERT_FAILS(rc, err, path, "line 5", "timeout", "soon");
}

static void test_file_empty_everything_on_stanza(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200];
    conf_arg(conf, sizeof(conf), write_file("empty.conf", "", 0644));
    int rc = LOAD_FILE(&c, &err, conf, START, POLICY, "region=eu-north-1");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.sts_endpoint, "https://sts.eu-north-1.amazonaws.com");
}

static void test_file_default_missing_is_fine(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    if (access(CFG_DEFAULT_FILE, F_OK) == 0 || errno != ENOENT) {
        print_message("%s exists: test skipped\n", CFG_DEFAULT_FILE);
        skip();
    }
    int rc = LOAD_FILE(&c, &err, START, POLICY);
    ASSERT_OK(rc, err);
    assert_string_equal(c.common.conf_path, CFG_DEFAULT_FILE);
    /* ...but the stanza alone must still be complete */
    rc = LOAD_FILE(&c, &err, START);
    ASSERT_FAILS(rc, err, "no identity policy");
}

static void test_file_explicit_missing(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    char conf[200];
    conf_arg(conf, sizeof(conf), tmp_path("missing.conf"));
    int rc = LOAD_FILE(&c, &err, conf, START, POLICY);
    ASSERT_FAILS(rc, err, "missing.conf", "does not exist");
}

static void test_file_not_owned_by_root(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200];
    const char *path = write_file("uid1.conf", BASE_TEXT, 0644);
    assert_int_equal(chown(path, 1, 1), 0);
    conf_arg(conf, sizeof(conf), path);
    int rc = LOAD_FILE(&c, &err, conf);
    ASSERT_FAILS(rc, err, path, "not owned by root", "owner uid 1");
}

static void test_file_group_writable(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200];
    const char *path = write_file("g.conf", BASE_TEXT, 0664);
    conf_arg(conf, sizeof(conf), path);
    int rc = LOAD_FILE(&c, &err, conf);
    ASSERT_FAILS(rc, err, path, "writable by group or others", "0664");
}

static void test_file_world_writable(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200];
    const char *path = write_file("o.conf", BASE_TEXT, 0602);
    conf_arg(conf, sizeof(conf), path);
    int rc = LOAD_FILE(&c, &err, conf);
    ASSERT_FAILS(rc, err, path, "writable by group or others", "0602");
}

static void test_file_symlink_refused(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200], target[160];
    snprintf(target, sizeof(target), "%s", write_file("target.conf", BASE_TEXT, 0644));
    const char *link = tmp_path("link.conf");
    unlink(link);
    assert_int_equal(symlink(target, link), 0);
    conf_arg(conf, sizeof(conf), link);
    int rc = LOAD_FILE(&c, &err, conf);
    ASSERT_FAILS(rc, err, "link.conf", "symbolic link");
    /* the target itself is fine */
    conf_arg(conf, sizeof(conf), target);
    rc = LOAD_FILE(&c, &err, conf);
    ASSERT_OK(rc, err);
}

static void test_file_not_regular(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200];
    const char *dir = tmp_path("dir.conf");
    assert_int_equal(mkdir(dir, 0755), 0);
    conf_arg(conf, sizeof(conf), dir);
    int rc = LOAD_FILE(&c, &err, conf, START, POLICY);
    ASSERT_FAILS(rc, err, "dir.conf", "not a regular file");

    const char *fifo = tmp_path("fifo.conf");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    conf_arg(conf, sizeof(conf), fifo);
    rc = LOAD_FILE(&c, &err, conf, START, POLICY); /* must not block */
    ASSERT_FAILS(rc, err, "fifo.conf", "not a regular file");
}

static void test_file_too_large(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200];
    size_t len = 64 * 1024 + 1;
    char *text = malloc(len + 1);
    assert_non_null(text);
    for (size_t i = 0; i < len; i++)
        text[i] = (i % 80 == 79) ? '\n' : '#';
    text[len] = '\0';
    conf_arg(conf, sizeof(conf), write_file("big.conf", text, 0644));
    free(text);
    int rc = LOAD_FILE(&c, &err, conf, START, POLICY);
    ASSERT_FAILS(rc, err, "big.conf", "larger than 65536");
}

static void test_file_line_too_long(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200], text[6000];
    /* the long line straddles the reader's 4 KiB buffers */
    int n = snprintf(text, sizeof(text), BASE_TEXT);
    memset(text + n, '#', 4000);
    n += 4000;
    text[n++] = '\n';
    memset(text + n, 'x', 1500);
    text[n + 1500] = '\0';
    conf_arg(conf, sizeof(conf), write_file("long.conf", text, 0644));
    int rc = LOAD_FILE(&c, &err, conf);
    ASSERT_FAILS(rc, err, "long.conf", "line 3", "longer than 1024");
}

static void test_file_nul_byte(void **state)
{
    (void)state;
    need_root();
    struct settings c;
    struct sso_error err;
    char conf[200];
    const char *path = write_file("nul.conf", "", 0644);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    static const char text[] = BASE_TEXT "debug\0 = no\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    conf_arg(conf, sizeof(conf), path);
    int rc = LOAD_FILE(&c, &err, conf);
    ASSERT_FAILS(rc, err, "nul.conf", "line 3", "NUL");
}

/* conf/pam_ssooidc.conf, the sample installed by `make install`, parses;
 * with its policy lines commented out it is refused until one is chosen. */
/* The shipped config is a template: every line a comment, so it sets
 * nothing (the stanza must or the admin will); and its commented-out
 * examples, uncommented, are a valid configuration. */
static void test_sample_config(void **state)
{
    (void)state;
    static char text[64 * 1024 + 1], uncommented[64 * 1024 + 1];
    FILE *f = fopen("conf/pam_ssooidc.conf", "r");
    if (!f) {
        print_message("conf/pam_ssooidc.conf not found (run from the repo root): skipped\n");
        skip();
    }
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, text, &err, "debug=no");
    ASSERT_FAILS(rc, err, "start_url is required");
    rc = LOAD_TEXT(&c, text, &err, START, POLICY);
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.start_url, "https://example.awsapps.com/start");
    assert_string_equal(c.aws.region, "us-east-1");
    assert_string_equal(c.common.ca_file, "");
    assert_string_equal(c.common.cache_dir, CFG_DEFAULT_CACHE_DIR);
    assert_int_equal(c.common.timeout, 300);
    assert_int_equal(c.common.http_timeout, 10);
    assert_int_equal(c.common.prompt, CFG_PROMPT_AUTO);
    assert_false(c.common.allow_any_approver);
    assert_false(c.common.debug);
    assert_false(c.common.qr);

    /* "#name = value" lines, uncommented; prose comments stay. */
    size_t o = 0;
    int examples = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        size_t k = 1;
        while (line[0] == '#' && k < len && ((line[k] >= 'a' && line[k] <= 'z') || line[k] == '_'))
            k++;
        if (line[0] == '#' && k > 1 && k + 2 < len && line[k] == ' ' && line[k + 1] == '=') {
            line++, len--; /* drop the '#' */
            examples++;
        }
        memcpy(uncommented + o, line, len);
        o += len;
        line += len;
    }
    uncommented[o] = '\0';
    assert_true(examples >= 15);
    rc = LOAD_TEXT(&c, uncommented, &err, "debug=no");
    ASSERT_OK(rc, err);
    assert_string_equal(c.aws.start_url, "https://example.awsapps.com/start");
    assert_string_equal(c.aws.account_id, "123456789012");
    assert_string_equal(c.aws.role_name, "LinuxLogin");
    assert_string_equal(c.aws.client_name, "pam_ssooidc on bastion-1");
    assert_string_equal(c.common.cache_dir, CFG_DEFAULT_CACHE_DIR);
    assert_int_equal(c.common.timeout, 300);
    assert_false(c.common.qr);
}

/* ---------------------------------------------------------- prompt */

static void test_prompt_for_service(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    int rc = LOAD_TEXT(&c, BASE_TEXT, &err, "debug");
    ASSERT_OK(rc, err);
    assert_int_equal(c.common.prompt, CFG_PROMPT_AUTO);
    assert_int_equal(cfg_prompt_for_service(&c.common, "sshd"), CFG_PROMPT_ALWAYS);
    assert_int_equal(cfg_prompt_for_service(&c.common, "sudo"), CFG_PROMPT_NEVER);
    assert_int_equal(cfg_prompt_for_service(&c.common, "login"), CFG_PROMPT_NEVER);
    assert_int_equal(cfg_prompt_for_service(&c.common, "sshd-extra"), CFG_PROMPT_NEVER);
    assert_int_equal(cfg_prompt_for_service(&c.common, NULL), CFG_PROMPT_NEVER);

    rc = LOAD_TEXT(&c, BASE_TEXT "prompt = always\n", &err, "debug");
    ASSERT_OK(rc, err);
    assert_int_equal(cfg_prompt_for_service(&c.common, "sudo"), CFG_PROMPT_ALWAYS);
    rc = LOAD_TEXT(&c, BASE_TEXT, &err, "prompt=never");
    ASSERT_OK(rc, err);
    assert_int_equal(cfg_prompt_for_service(&c.common, "sshd"), CFG_PROMPT_NEVER);
    rc = LOAD_TEXT(&c, BASE_TEXT "prompt = never\n", &err, "prompt=auto");
    ASSERT_OK(rc, err);
    assert_int_equal(cfg_prompt_for_service(&c.common, "sshd"), CFG_PROMPT_ALWAYS);
}

/* ------------------------------------------------------- robustness */

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Random bytes and random recombinations of valid fragments: never a crash,
 * always a definite answer, and an error always comes with a message. */
/* ---------------------------------------------------- OpenID mode */

#define ISSUER "issuer=https://id.example.com/realms/corp"
#define CLIENT "client_id=pam-host"
#define GROUPS "required_groups=linux-users,/linux/admins"

static void test_openid_defaults(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err = SSO_ERROR_INIT;
    ASSERT_OK(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS), err);
    assert_true(provider_select(&c) == &provider_openid);
    assert_string_equal(c.openid.issuer, "https://id.example.com/realms/corp");
    assert_string_equal(c.openid.scopes, "openid");
    assert_string_equal(c.openid.id_token_algs, "RS256,PS256,ES256");
    assert_string_equal(c.openid.username_claim, "preferred_username");
    assert_string_equal(c.openid.groups_claim, "groups");
    assert_int_equal(c.openid.client_auth, OPENID_AUTH_AUTO);
    /* nothing of AWS is derived for an OpenID provider */
    assert_string_equal(c.aws.oidc_endpoint, "");
    assert_string_equal(c.aws.sts_endpoint, "");
    assert_string_equal(c.aws.client_name, "");
}

static void test_openid_issuer_kept_exactly(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err = SSO_ERROR_INIT;
    /* Authentik's issuers end in '/': compared byte for byte, so kept. */
    ASSERT_OK(LOAD_TEXT(&c, "", &err, "issuer=https://auth.example.com/application/o/pam/",
                        CLIENT, GROUPS), err);
    assert_string_equal(c.openid.issuer, "https://auth.example.com/application/o/pam/");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, "issuer=https://id.example.com/?x=1", CLIENT, GROUPS),
                 err, "issuer", "query or fragment");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, "issuer=http://id.example.com", CLIENT, GROUPS), err,
                 "issuer", "https://");
}

static void test_openid_exactly_one_provider(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err = SSO_ERROR_INIT;
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, START, ISSUER, CLIENT, GROUPS), err,
                 "start_url and issuer are both set");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, "allow_any_approver"), err, "start_url is required",
                 "or issuer");
}

static void test_openid_foreign_options(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err = SSO_ERROR_INIT;
    static const char *const aws_only[] = {"region=eu-west-1", "account_id=123456789012",
                                           "role_name=Login", "client_name=x",
                                           "oidc_endpoint=https://o.example.com"};
    for (size_t i = 0; i < sizeof(aws_only) / sizeof(aws_only[0]); i++) {
        const char *argv[] = {ISSUER, CLIENT, GROUPS, aws_only[i]};
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(aws_only[i], "="), aws_only[i]);
        ASSERT_FAILS(settings_load_text(&c, "", 4, argv, &err), err, name,
                     "AWS IAM Identity Center option");
    }
    static const char *const oidc_only[] = {"client_id=x", "scopes=openid,email",
                                            "required_groups=a", "username_claim=email",
                                            "client_auth=post", "jwks_uri=https://k.example.com"};
    for (size_t i = 0; i < sizeof(oidc_only) / sizeof(oidc_only[0]); i++) {
        const char *argv[] = {START, "allow_any_approver", oidc_only[i]};
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(oidc_only[i], "="), oidc_only[i]);
        ASSERT_FAILS(settings_load_text(&c, "", 3, argv, &err), err, name,
                     "OpenID provider option");
    }
    /* the same option in the file is named with its line */
    ASSERT_FAILS(LOAD_TEXT(&c, "region = eu-west-1\n", &err, ISSUER, CLIENT, GROUPS), err,
                 "region");
}

static void test_openid_policy(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err = SSO_ERROR_INIT;
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, GROUPS), err, "client_id is required");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT), err, "no identity policy",
                 "required_groups", "allow_any_approver");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "allow_any_approver"), err,
                 "allow_any_approver contradicts required_groups");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, "allow_any_approver",
                           "username_suffix=@example.com"),
                 err, "allow_any_approver contradicts the user mapping");
    ASSERT_OK(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, "allow_any_approver"), err);
    ASSERT_OK(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "username_suffix=@example.com"),
              err);
}

static void test_openid_value_rules(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err = SSO_ERROR_INIT;
    /* group names as providers write them */
    ASSERT_OK(LOAD_TEXT(&c, "required_groups = /linux/admins,Linux Admins,"
                            "0b1c2d3e-aaaa-bbbb-cccc-123456789012,ops@example.com\n",
                        &err, ISSUER, CLIENT), err);
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, "required_groups=a,,b"), err,
                 "required_groups", "empty entry");
    ASSERT_FAILS(LOAD_TEXT(&c, "required_groups = a, b\n", &err, ISSUER, CLIENT), err,
                 "required_groups", "space");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "scopes=openid,\"x"), err,
                 "scopes");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "scopes=openid email"), err,
                 "scopes");
    ASSERT_OK(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS,
                        "scopes=openid,profile,api://pam/login"), err);
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "id_token_algs=RS256 ES256"),
                 err, "id_token_algs");
    ASSERT_OK(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "groups_claim=cognito:groups",
                        "username_claim=https://example.com/login"), err);
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "username_claim=a\"b"), err,
                 "username_claim");
    ASSERT_FAILS(LOAD_TEXT(&c, "client_id = a b\n", &err, ISSUER, GROUPS), err, "client_id");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "client_auth=jwt"), err,
                 "client_auth", "auto|basic|post");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS,
                           "token_endpoint=http://id.example.com/token"), err, "token_endpoint");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "client_secret_file=secret"),
                 err, "client_secret_file", "absolute");
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "client_auth=post"), err,
                 "client_auth = post needs client_secret_file");
    ASSERT_OK(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS, "client_auth=auto"), err);
    ASSERT_FAILS(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS,
                           "jwks_uri=https://id.example.com/keys#x"), err, "jwks_uri",
                 "fragment");
    ASSERT_OK(LOAD_TEXT(&c, "", &err, ISSUER, CLIENT, GROUPS,
                        "token_endpoint=https://b2c.example.com/token?p=B2C_1_signin"), err);
}

static void test_arbitrary_input(void **state)
{
    (void)state;
    static const char *const frags[] = {
        "start_url", "region", "timeout", "debug", "qr", "prompt", "account_id", "role_name",
        "allow_any_approver", "oidc_endpoint", "conf", "client_name", " = ", "=", "\"", "#",
        " ", "\t", "\n", "\r\n", "https://", "http://", "example.com", "/", "123456789012",
        "us-east-1", "cn-north-1", "yes", "no", "300", "-1", "\x01", "\xff", "@",
    };
    static char text[4096];
    uint32_t seed = 0x9e3779b9u;
    struct settings c;
    struct sso_error err;
    for (int round = 0; round < 4000; round++) {
        size_t n = 0, want = rng_next(&seed) % (sizeof(text) - 64);
        if (round % 2) {
            while (n < want) {
                unsigned char b = (unsigned char)rng_next(&seed);
                text[n++] = b ? (char)b : '\n';
            }
        } else {
            while (n < want) {
                const char *f = frags[rng_next(&seed) % (sizeof(frags) / sizeof(frags[0]))];
                size_t fl = strlen(f);
                if (n + fl >= sizeof(text))
                    break;
                memcpy(text + n, f, fl);
                n += fl;
            }
        }
        text[n] = '\0';
        memset(&err, 0x5a, sizeof(err));
        int rc = settings_load_text(&c, text, 0, NULL, &err);
        assert_true(rc == PAM_SUCCESS || rc == PAM_SERVICE_ERR);
        if (rc == PAM_SERVICE_ERR) {
            assert_true(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
            assert_true(err.msg[0] != '\0');
        } else {
            assert_true(strncmp(c.aws.oidc_endpoint, "https://", 8) == 0);
            assert_true(c.common.timeout >= 10 && c.common.timeout <= 3600);
        }
        /* the same text as a stanza argument */
        const char *argv[] = {text};
        rc = settings_load_text(&c, NULL, 1, argv, &err);
        assert_true(rc == PAM_SUCCESS || rc == PAM_SERVICE_ERR);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_openid_defaults),
        cmocka_unit_test(test_openid_issuer_kept_exactly),
        cmocka_unit_test(test_openid_exactly_one_provider),
        cmocka_unit_test(test_openid_foreign_options),
        cmocka_unit_test(test_openid_policy),
        cmocka_unit_test(test_openid_value_rules),
        cmocka_unit_test(test_defaults_reset_each_load),
        cmocka_unit_test(test_derived_endpoints),
        cmocka_unit_test(test_derived_endpoints_china),
        cmocka_unit_test(test_explicit_endpoints),
        cmocka_unit_test(test_file_syntax),
        cmocka_unit_test(test_flag_spellings),
        cmocka_unit_test(test_empty_value_restores_default),
        cmocka_unit_test(test_stanza_overrides_file),
        cmocka_unit_test(test_stanza_repeat_last_wins),
        cmocka_unit_test(test_file_repeat_is_error),
        cmocka_unit_test(test_err_unknown_option),
        cmocka_unit_test(test_err_every_error_listed),
        cmocka_unit_test(test_err_malformed_number),
        cmocka_unit_test(test_err_out_of_range),
        cmocka_unit_test(test_err_bad_enum),
        cmocka_unit_test(test_sync_options),
        cmocka_unit_test(test_sync_options_refused),
        cmocka_unit_test(test_err_bad_flag_value),
        cmocka_unit_test(test_err_endpoints_need_https),
        cmocka_unit_test(test_err_malformed_url),
        cmocka_unit_test(test_err_missing_start_url),
        cmocka_unit_test(test_err_missing_policy),
        cmocka_unit_test(test_err_policy_half),
        cmocka_unit_test(test_err_value_too_long),
        cmocka_unit_test(test_err_line_too_long),
        cmocka_unit_test(test_err_text_too_large),
        cmocka_unit_test(test_err_file_syntax),
        cmocka_unit_test(test_err_conf_option),
        cmocka_unit_test(test_err_field_rules),
        cmocka_unit_test(test_failure_clears_config),
        cmocka_unit_test(test_file_ok),
        cmocka_unit_test(test_file_error_names_file_and_line),
        cmocka_unit_test(test_file_empty_everything_on_stanza),
        cmocka_unit_test(test_file_default_missing_is_fine),
        cmocka_unit_test(test_file_explicit_missing),
        cmocka_unit_test(test_file_not_owned_by_root),
        cmocka_unit_test(test_file_group_writable),
        cmocka_unit_test(test_file_world_writable),
        cmocka_unit_test(test_file_symlink_refused),
        cmocka_unit_test(test_file_not_regular),
        cmocka_unit_test(test_file_too_large),
        cmocka_unit_test(test_file_line_too_long),
        cmocka_unit_test(test_file_nul_byte),
        cmocka_unit_test(test_sample_config),
        cmocka_unit_test(test_prompt_for_service),
        cmocka_unit_test(test_arbitrary_input),
    };
    return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
