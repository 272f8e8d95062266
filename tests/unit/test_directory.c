/* Unit tests for the directory sync's readers of outside input: the
 * credential checks (IMDS, credentials file), the credentials file parser,
 * the user record checks and the body's RetryAfterSeconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>

#include "aws/awserr.h"
#include "aws/credcheck.h"
#include "aws/credfile.h"
#include "aws/diruser.h"

#define AKID "ASIAABCDEFGHIJKLMNOP"

static void test_credcheck(void **state)
{
    (void)state;
    assert_null(credcheck_access_key_id(AKID));
    assert_non_null(credcheck_access_key_id("ASIA123"));        /* too short */
    assert_non_null(credcheck_access_key_id("asiaabcdefghijklmnop")); /* lower case */
    assert_null(credcheck_secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
    assert_non_null(credcheck_secret(""));
    assert_non_null(credcheck_secret("has space"));
    assert_non_null(credcheck_secret("nl\n"));
    assert_null(credcheck_token(""));
    assert_null(credcheck_token("IQoJb3JpZ2luX2Vj-_+/="));
    assert_non_null(credcheck_token("a b"));
    char big[4097];
    memset(big, 'A', 4096);
    big[4096] = '\0';
    assert_non_null(credcheck_token(big));
    big[4095] = '\0';
    assert_null(credcheck_token(big));
}

static void test_iso8601(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(credcheck_iso8601("2026-12-07T22:00:00Z", &t), 0);
    assert_int_equal(t, 1796680800);
    assert_int_equal(credcheck_iso8601("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(credcheck_iso8601("2026-12-07 22:00:00Z", &t), -1);
    assert_int_equal(credcheck_iso8601("2026-12-07T22:00:00", &t), -1);
    assert_int_equal(credcheck_iso8601("2026-13-07T22:00:00Z", &t), -1);
    assert_int_equal(credcheck_iso8601("2026-1 -07T22:00:00Z", &t), -1);
    assert_int_equal(credcheck_iso8601("+026-12-07T22:00:00Z", &t), -1);
    assert_int_equal(credcheck_iso8601("2026-12-07T22:00:00.000Z", &t), -1);
}

static int parse(const char *text, struct role_credentials *out, struct sso_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", text);
    return credfile_parse("creds", buf, out, err);
}

static void test_credfile(void **state)
{
    (void)state;
    struct role_credentials c;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(parse("# keys\n[default]\r\naws_access_key_id = " AKID "\n; x\n"
                           "aws_secret_access_key=abc/DEF+1\nregion = eu-west-1\n", &c, &err),
                     PAM_SUCCESS);
    assert_string_equal(c.access_key_id, AKID);
    assert_string_equal(c.secret_access_key, "abc/DEF+1");
    assert_string_equal(c.session_token, "");
    assert_int_equal(parse("[default]\naws_access_key_id=" AKID "\naws_secret_access_key=s\n"
                           "aws_session_token = tok=\n", &c, &err), PAM_SUCCESS);
    assert_string_equal(c.session_token, "tok=");
    assert_int_equal(parse("[default]\naws_access_key_id=" AKID "\n", &c, &err),
                     PAM_SERVICE_ERR);
    assert_non_null(strstr(err.msg, "aws_secret_access_key"));
    assert_int_equal(parse("[default]\naws_access_key_id=" AKID "\naws_secret_access_key=s\n"
                           "[profile x]\n", &c, &err), PAM_SERVICE_ERR);
    assert_non_null(strstr(err.msg, "only [default]"));
    assert_string_equal(c.access_key_id, ""); /* nothing kept on failure */
    assert_int_equal(parse("aws_access_key_id=" AKID "\n[default]\n", &c, &err),
                     PAM_SERVICE_ERR);
    assert_int_equal(parse("[default]\naws_access_key_id=" AKID "\naws_access_key_id=" AKID
                           "\naws_secret_access_key=s\n", &c, &err), PAM_SERVICE_ERR);
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(parse("[default]\naws_access_key_id=" AKID "\n"
                           "aws_secret_access_key=top secret\n", &c, &err), PAM_SERVICE_ERR);
    assert_null(strstr(err.msg, "top secret"));
    assert_int_equal(parse("[default]\njunk line\n", &c, &err), PAM_SERVICE_ERR);
}

static void fill(const char *json, struct directory_person *p)
{
    json_t *u = json_loads(json, JSON_ALLOW_NUL, NULL);
    assert_non_null(u);
    memset(p, 0, sizeof(*p));
    diruser_fill(p, u);
    json_decref(u);
}

static void test_diruser(void **state)
{
    (void)state;
    struct directory_person p;
    fill("{\"UserName\":\"alice\",\"UserStatus\":\"ENABLED\"}", &p);
    assert_string_equal(p.user_name, "alice");
    assert_true(p.enabled);
    assert_string_equal(p.problem, "");
    fill("{\"UserName\":\"b\\u00e9a\",\"UserStatus\":\"DISABLED\"}", &p);
    assert_string_equal(p.user_name, "b\xc3\xa9" "a");
    assert_false(p.enabled);
    fill("{\"UserName\":\"carol\"}", &p); /* no status: enabled */
    assert_true(p.enabled);
    assert_string_equal(p.problem, "");
    static const char *const bad[] = {
        "{\"UserName\":\"eve\\nroot\"}",     "{\"UserName\":\"a\\u001b[2J\"}",
        "{\"UserName\":\"del\\u007f\"}",     "{\"UserName\":\"c1\\u0085x\"}",
        "{\"UserName\":\"nul\\u0000x\"}",    "{\"UserName\":\"\"}",
        "{\"UserName\":42}",                 "{\"UserStatus\":\"ENABLED\"}",
        "{\"UserName\":\"ok\",\"UserStatus\":\"SUSPENDED\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fill(bad[i], &p);
        assert_true(p.problem[0] != '\0');
        for (const char *q = p.problem; *q; q++)
            assert_true((unsigned char)*q >= 0x20 && *q != 0x7f);
    }
    char big[300];
    snprintf(big, sizeof(big), "{\"UserName\":\"%0129d\"}", 0);
    fill(big, &p);
    assert_non_null(strstr(p.problem, "longer than 128"));
    snprintf(big, sizeof(big), "{\"UserName\":\"%0128d\"}", 0);
    fill(big, &p);
    assert_string_equal(p.problem, "");
}

static void test_utf8(void **state)
{
    (void)state;
    bool control;
    assert_true(diruser_utf8("plain", 5, &control));
    assert_false(control);
    assert_false(diruser_utf8("\xc0\xaf", 2, &control));         /* overlong '/' */
    assert_false(diruser_utf8("\xed\xa0\x80", 3, &control));     /* surrogate */
    assert_false(diruser_utf8("\xf4\x90\x80\x80", 4, &control)); /* > U+10FFFF */
    assert_false(diruser_utf8("\xe2\x82", 2, &control));         /* cut short */
    assert_true(diruser_utf8("\xc2\x85", 2, &control));          /* NEL: a C1 control */
    assert_true(control);
    assert_true(diruser_utf8("\xf0\x9f\x98\x80", 4, &control));
    assert_false(control);
}

static void test_retry_after_body(void **state)
{
    (void)state;
    char body[] = "{\"__type\":\"ThrottlingException\",\"RetryAfterSeconds\":7}";
    struct http_response r = {.status = 400, .body = body, .body_len = strlen(body)};
    assert_true(aws_retry_after_body(&r) == 7.0);
    char none[] = "{\"__type\":\"ThrottlingException\"}";
    r.body = none;
    r.body_len = strlen(none);
    assert_true(aws_retry_after_body(&r) < 0);
    char neg[] = "{\"RetryAfterSeconds\":-3}";
    r.body = neg;
    r.body_len = strlen(neg);
    assert_true(aws_retry_after_body(&r) < 0);
    r.status = 200;
    r.body = body;
    r.body_len = strlen(body);
    assert_true(aws_retry_after_body(&r) < 0); /* only error answers */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credcheck),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_credfile),
        cmocka_unit_test(test_diruser),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_retry_after_body),
    };
    return cmocka_run_group_tests_name("directory", tests, NULL, NULL);
}
