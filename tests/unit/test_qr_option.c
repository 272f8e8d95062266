/* test_qr_option.c - the qr option against what the build can do.
 *
 * Built like every unit test: with libqrencode (HAVE_QRENCODE defined) it
 * checks that qr is accepted and a code is drawn; built with QR=no (see
 * tests/qr/test_noqr.py) it checks that qr is refused as a configuration
 * error that says why, that qr=no and an overridden qr are fine, and that
 * qr_render draws nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <security/pam_modules.h>

#include "settings.h"
#include "core/qr.h"

#define ARGV(...) ((const char *[]){__VA_ARGS__})
#define NARGS(...) ((int)(sizeof(ARGV(__VA_ARGS__)) / sizeof(const char *)))
#define LOAD_TEXT(c, text, err, ...) \
    settings_load_text((c), (text), NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), (err))

#define BASE_TEXT "start_url = https://example.awsapps.com/start\nallow_any_approver\n"
#define NO_QR_MSG "built without QR code support"
#define URL "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH"

static void expect_ok(int rc, const struct sso_error *err)
{
    if (rc != PAM_SUCCESS)
        fail_msg("expected success, got %d: %s", rc, err->msg);
}

/* qr = no, or no qr at all, is always fine. */
static void qr_off_is_fine(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    expect_ok(LOAD_TEXT(&c, BASE_TEXT, &err, "debug"), &err);
    assert_false(c.common.qr);
    expect_ok(LOAD_TEXT(&c, BASE_TEXT "qr = no\n", &err, "debug"), &err);
    assert_false(c.common.qr);
    expect_ok(LOAD_TEXT(&c, BASE_TEXT, &err, "qr=no"), &err);
    assert_false(c.common.qr);
}

/* The value that counts is the final one: a stanza's qr=no overrides the
 * file's qr = yes in either build. */
static void qr_overridden_is_fine(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    expect_ok(LOAD_TEXT(&c, BASE_TEXT "qr = yes\n", &err, "qr=no"), &err);
    assert_false(c.common.qr);
}

#ifdef HAVE_QRENCODE

static void qr_on_is_accepted(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    assert_true(qr_available());
    expect_ok(LOAD_TEXT(&c, BASE_TEXT "qr = yes\n", &err, "debug"), &err);
    assert_true(c.common.qr);
    expect_ok(LOAD_TEXT(&c, BASE_TEXT, &err, "qr"), &err);
    assert_true(c.common.qr);
}

static void qr_render_draws(void **state)
{
    (void)state;
    char *q = qr_render(URL);
    assert_non_null(q);
    assert_non_null(strchr(q, '\n'));
    free(q);
}

#else /* built with QR=no */

static void expect_refused(int rc, const struct sso_error *err)
{
    assert_int_equal(rc, PAM_SERVICE_ERR);
    if (!strstr(err->msg, NO_QR_MSG) || !strstr(err->msg, "qr"))
        fail_msg("error message \"%s\" does not say \"%s\"", err->msg, NO_QR_MSG);
}

static void qr_on_is_refused(void **state)
{
    (void)state;
    struct settings c;
    struct sso_error err;
    assert_false(qr_available());
    /* in the file */
    expect_refused(LOAD_TEXT(&c, BASE_TEXT "qr = yes\n", &err, "debug"), &err);
    /* as a bare flag and as qr=yes on the stanza */
    expect_refused(LOAD_TEXT(&c, BASE_TEXT, &err, "qr"), &err);
    expect_refused(LOAD_TEXT(&c, BASE_TEXT, &err, "qr=yes"), &err);
    /* the stanza turns on what the file left off */
    expect_refused(LOAD_TEXT(&c, BASE_TEXT "qr = no\n", &err, "qr=on"), &err);
    /* a refused configuration leaves nothing half-applied */
    assert_false(c.common.qr);
    assert_string_equal(c.aws.start_url, "");
}

static void qr_render_draws_nothing(void **state)
{
    (void)state;
    assert_null(qr_render(URL));
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qr_off_is_fine),
        cmocka_unit_test(qr_overridden_is_fine),
#ifdef HAVE_QRENCODE
        cmocka_unit_test(qr_on_is_accepted),
        cmocka_unit_test(qr_render_draws),
#else
        cmocka_unit_test(qr_on_is_refused),
        cmocka_unit_test(qr_render_draws_nothing),
#endif
    };
#ifdef HAVE_QRENCODE
    const char *name = "qr option (built with libqrencode)";
#else
    const char *name = "qr option (built without libqrencode)";
#endif
    return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}
