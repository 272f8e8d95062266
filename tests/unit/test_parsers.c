/* Unit tests for everything that reads outside input besides config, cache
 * and SigV4: error decoding, the display sanitizer, the OIDC/portal answer
 * parsers, the STS XML, the ARN policy and the user map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <security/pam_modules.h>
#include <string.h>

#include "awserr.h"
#include "identity.h"
#include "oidc.h"
#include "portal.h"
#include "sanitize.h"
#include "sts.h"
#include "usermap.h"

#define S(x) x, strlen(x)

/* ---- error decoding: header, __type, code, then the OAuth error ---- */

static void test_error_header_wins(void **state)
{
    (void)state;
    struct aws_error e;
    aws_error_decode("AuthorizationPendingException",
                     S("{\"__type\":\"x#SlowDownException\",\"error\":\"access_denied\"}"), &e);
    assert_string_equal(e.type, "AuthorizationPendingException");
}

static void test_error_type_field(void **state)
{
    (void)state;
    struct aws_error e;
    aws_error_decode("", S("{\"__type\":\"com.amazonaws.ssooidc#SlowDownException\"}"), &e);
    assert_string_equal(e.type, "SlowDownException");
    aws_error_decode(NULL, S("{\"code\":\"ExpiredTokenException\",\"error\":\"slow_down\"}"), &e);
    assert_string_equal(e.type, "ExpiredTokenException");
    aws_error_decode("a#b#SlowDownException:http://x#y", S("{}"), &e); /* last '#' before ':' */
    assert_string_equal(e.type, "SlowDownException");
}

static void test_error_oauth_member(void **state)
{
    (void)state;
    struct aws_error e;
    aws_error_decode("", S("{\"error\":\"authorization_pending\",\"error_description\":\"wait\"}"),
                     &e);
    assert_string_equal(e.type, "AuthorizationPendingException");
    assert_string_equal(e.message, "wait");
    aws_error_decode("", S("{\"error\":\"access_denied\"}"), &e);
    assert_string_equal(e.type, "AccessDeniedException");
}

static void test_error_undecodable(void **state)
{
    (void)state;
    struct aws_error e;
    aws_error_decode("", S("<html>500</html>"), &e);
    assert_string_equal(e.type, "");
    aws_error_decode("", S("{\"error\":42}"), &e);
    assert_string_equal(e.type, "");
    aws_error_decode("", NULL, 0, &e);
    assert_string_equal(e.type, "");
}

/* ---- sanitizer ---- */

static void test_sanitize_strips_controls(void **state)
{
    (void)state;
    char out[128];
    sanitize_display(out, sizeof(out), "\x1b[2J\x1b]0;pwned\x07" "AB\x7f" "CD\xc2\x9b" "31m", 100);
    assert_string_equal(out, "ABCD");
    for (const char *p = out; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
}

static void test_sanitize_sequences(void **state)
{
    (void)state;
    char out[128];
    sanitize_display(out, sizeof(out), "a\x1b]8;;http://evil\x1b\\b\xc2\x9d" "0;t\x07" "c", 100);
    assert_string_equal(out, "abc"); /* OSC hyperlink with ST; C1 OSC with BEL */
    sanitize_display(out, sizeof(out), "x\x1b(0y\x1b[", 100);
    assert_string_equal(out, "x0y"); /* ESC ( drops two bytes; a cut CSI drops the rest */
    sanitize_display(out, sizeof(out), "\x1b]unterminated", 100);
    assert_string_equal(out, "");
}

static void test_sanitize_utf8(void **state)
{
    (void)state;
    char out[64];
    sanitize_display(out, sizeof(out), "caf\xc3\xa9 \xe2\x80\xae" "evil", 100); /* RLO dropped */
    assert_string_equal(out, "caf\xc3\xa9 evil");
    sanitize_display(out, sizeof(out), "a\xff" "b\xc0\xaf" "c", 100); /* invalid, overlong */
    assert_string_equal(out, "a?b??c");
}

static void test_sanitize_bounds(void **state)
{
    (void)state;
    char out[16];
    size_t n = sanitize_display(out, sizeof(out), "0123456789abcdefghijklmnop", 100);
    assert_true(n < sizeof(out));
    assert_string_equal(out + n - 3, "...");
    char out2[64];
    sanitize_display(out2, sizeof(out2), "0123456789", 6);
    assert_string_equal(out2, "012..."); /* the dots count among the 6 */
    char c1[8], c2[8]; /* a cut by characters after multi-byte text stays put */
    sanitize_display(c1, sizeof(c1), "ab\xe2\x82\xac\xe2\x82\xac", 3);
    sanitize_display(c2, sizeof(c2), c1, 3);
    assert_string_equal(c1, "...");
    assert_string_equal(c2, c1);
    /* A cut text sanitized again stays as it is. */
    char a[6], b[6];
    sanitize_display(a, sizeof(a), "caf\xc3\xa9!", 64);
    assert_string_equal(a, "ca...");
    sanitize_display(b, sizeof(b), a, 64);
    assert_string_equal(b, a);
    sanitize_display(a, sizeof(a), "caf\xc3\xa9", 64); /* exactly fits: kept whole */
    assert_string_equal(a, "caf\xc3\xa9");
}

/* ---- OIDC answers: fully valid or refused ---- */

static void test_parse_device(void **state)
{
    (void)state;
    struct oidc_device d;
    struct sso_error err;
    const char *ok = "{\"deviceCode\":\"dc\",\"userCode\":\"ABCD-EFGH\",\"verificationUri\":"
                     "\"https://d/\",\"verificationUriComplete\":\"https://d/?user_code=ABCD-EFGH\","
                     "\"expiresIn\":600,\"interval\":1}";
    assert_int_equal(oidc_parse_device(S(ok), &d, &err), PAM_SUCCESS);
    assert_int_equal(d.interval, 1);
    assert_int_equal(d.expires_in, 600);
    const char *no_interval = "{\"deviceCode\":\"dc\",\"userCode\":\"U\",\"verificationUri\":"
                              "\"https://d/\",\"expiresIn\":600}";
    assert_int_equal(oidc_parse_device(S(no_interval), &d, &err), PAM_SUCCESS);
    assert_int_equal(d.interval, 5);
    const char *bad[] = {
        "{\"deviceCode\":\"dc\",\"userCode\":\"U\",\"verificationUri\":\"u\",\"expiresIn\":\"600\"}",
        "{\"deviceCode\":\"dc\",\"userCode\":\"U\",\"verificationUri\":\"u\",\"expiresIn\":600,"
        "\"interval\":\"fast\"}",
        "{\"deviceCode\":7,\"userCode\":\"U\",\"verificationUri\":\"u\",\"expiresIn\":600}",
        "{\"userCode\":\"U\",\"verificationUri\":\"u\",\"expiresIn\":600}",
        "{\"deviceCode\":\"\",\"userCode\":\"U\",\"verificationUri\":\"u\",\"expiresIn\":600}",
        "[1,2]", "garbage", "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(oidc_parse_device(S(bad[i]), &d, &err), PAM_AUTHINFO_UNAVAIL);
        assert_string_equal(d.device_code, ""); /* nothing half-filled survives */
    }
}

static void test_parse_token(void **state)
{
    (void)state;
    struct oidc_token t;
    struct sso_error err;
    assert_int_equal(oidc_parse_token(S("{\"accessToken\":\"a\",\"tokenType\":\"Bearer\"}"), &t,
                                      &err), PAM_SUCCESS);
    assert_int_equal(oidc_parse_token(S("{\"accessToken\":\"\",\"tokenType\":\"Bearer\"}"), &t,
                                      &err), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(oidc_parse_token(S("{\"accessToken\":\"a\",\"tokenType\":\"MAC\"}"), &t,
                                      &err), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(oidc_parse_token(S("{\"accessToken\":7,\"tokenType\":\"Bearer\"}"), &t,
                                      &err), PAM_AUTHINFO_UNAVAIL);
    assert_string_equal(t.access_token, "");
}

static void test_parse_registration(void **state)
{
    (void)state;
    struct oidc_registration r;
    struct sso_error err;
    assert_int_equal(oidc_parse_registration(S("{\"clientId\":\"c\",\"clientSecret\":\"s\","
                                               "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":2}"),
                                             &r, &err), PAM_SUCCESS);
    assert_int_equal(r.expires_at, 2);
    assert_int_equal(oidc_parse_registration(S("{\"clientId\":\"c\",\"clientSecret\":\"s\"}"), &r,
                                             &err), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(oidc_parse_registration(S("{\"clientId\":\"c\",\"clientId\":\"d\","
                                               "\"clientSecret\":\"s\",\"clientSecretExpiresAt\":2}"),
                                             &r, &err), PAM_AUTHINFO_UNAVAIL); /* duplicate key */
}

static void test_parse_credentials(void **state)
{
    (void)state;
    struct role_credentials c;
    struct sso_error err;
    assert_int_equal(portal_parse_credentials(S("{\"roleCredentials\":{\"accessKeyId\":\"ASIA1\","
                                                "\"secretAccessKey\":\"k\",\"sessionToken\":\"t\","
                                                "\"expiration\":1}}"), &c, &err), PAM_SUCCESS);
    assert_int_equal(portal_parse_credentials(S("{\"roleCredentials\":\"x\"}"), &c, &err),
                     PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(portal_parse_credentials(S("{\"roleCredentials\":{\"accessKeyId\":\"AS/IA\","
                                                "\"secretAccessKey\":\"k\",\"sessionToken\":\"t\"}}"),
                                              &c, &err), PAM_AUTHINFO_UNAVAIL);
}

/* ---- STS XML and the ARN policy ---- */

#define GCI(arn) "<GetCallerIdentityResponse xmlns=\"x\"><GetCallerIdentityResult><Arn>" arn \
    "</Arn><UserId>AROA:x</UserId><Account>1</Account></GetCallerIdentityResult>" \
    "</GetCallerIdentityResponse>"

static void test_sts_arn(void **state)
{
    (void)state;
    char arn[256];
    assert_int_equal(sts_parse_arn(S(GCI("arn:aws:sts::1:assumed-role/R/s")), arn, sizeof(arn)), 0);
    assert_string_equal(arn, "arn:aws:sts::1:assumed-role/R/s");
    assert_int_equal(sts_parse_arn(S(GCI("arn:aws:sts::1:a/b</Arn><Arn>x")), arn, sizeof(arn)), -1);
    assert_int_equal(sts_parse_arn(S(GCI("arn:aws:sts::1:a/<b/>")), arn, sizeof(arn)), -1);
    assert_int_equal(sts_parse_arn(S(GCI("arn&amp;x")), arn, sizeof(arn)), -1);
    assert_int_equal(sts_parse_arn(S("<Arn>arn:aws:sts::1:x</Arn>"), arn, sizeof(arn)), -1);
    char code[32], msg[128];
    sts_parse_error(S("<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature "
                      "expired\x1b[0m</Message></Error></ErrorResponse>"), code, sizeof(code), msg,
                    sizeof(msg));
    assert_string_equal(code, "SignatureDoesNotMatch");
    assert_null(strchr(msg, 0x1b));
}

static void test_session_from_arn(void **state)
{
    (void)state;
    char s[64];
    const char *acct = "111122223333", *role = "Linux_Login";
    assert_int_equal(identity_session_from_arn(
                         "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Linux_Login_abc123/a@b.c",
                         acct, role, s, sizeof(s)), 0);
    assert_string_equal(s, "a@b.c");
    assert_int_equal(identity_session_from_arn(
                         "arn:aws-cn:sts::111122223333:assumed-role/AWSReservedSSO_Linux_Login_0f/x",
                         acct, role, s, sizeof(s)), 0);
    const char *bad[] = {
        "arn:aws:sts::111122223334:assumed-role/AWSReservedSSO_Linux_Login_abc/a",
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Linux_LoginX_abc/a",
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Linux_Login_/a",
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Linux_Login_abc/",
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Linux_Login_abc/a/b",
        "arn:aws:iam::111122223333:user/a",
        "arn:aws:sts::1111222233331:assumed-role/AWSReservedSSO_Linux_Login_abc/a",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(identity_session_from_arn(bad[i], acct, role, s, sizeof(s)), -1);
}

/* ---- user map ---- */

static void test_usermap_text(void **state)
{
    (void)state;
    struct sso_error err;
    const char *map = "# comment\n alice.smith  alice \n\nbob bob # trailing\nalice.smith ops\n";
    assert_int_equal(usermap_match_text(S(map), "alice.smith", "alice", &err), 1);
    assert_int_equal(usermap_match_text(S(map), "alice.smith", "ops", &err), 1);
    assert_int_equal(usermap_match_text(S(map), "bob", "alice", &err), 0);
    assert_int_equal(usermap_match_text(S("alice\n"), "alice", "alice", &err), -1);
    assert_int_equal(usermap_match_text(S("a b c\n"), "a", "b", &err), -1);
}

static void test_usermap_policies(void **state)
{
    (void)state;
    struct cfg c;
    struct sso_error err;
    memset(&c, 0, sizeof(c));
    assert_int_equal(usermap_allows(&c, "alice", "alice", &err), PAM_SUCCESS);
    assert_int_equal(usermap_allows(&c, "Alice", "alice", &err), PAM_AUTH_ERR);
    strcpy(c.username_suffix, "@example.com");
    assert_int_equal(usermap_allows(&c, "alice@EXAMPLE.COM", "alice", &err), PAM_SUCCESS);
    assert_int_equal(usermap_allows(&c, "alice@example.com.evil", "alice", &err), PAM_AUTH_ERR);
    assert_int_equal(usermap_allows(&c, "alice", "alice", &err), PAM_AUTH_ERR);
    assert_int_equal(usermap_allows(&c, "xalice@example.com", "alice", &err), PAM_AUTH_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_header_wins),
        cmocka_unit_test(test_error_type_field),
        cmocka_unit_test(test_error_oauth_member),
        cmocka_unit_test(test_error_undecodable),
        cmocka_unit_test(test_sanitize_strips_controls),
        cmocka_unit_test(test_sanitize_sequences),
        cmocka_unit_test(test_sanitize_utf8),
        cmocka_unit_test(test_sanitize_bounds),
        cmocka_unit_test(test_parse_device),
        cmocka_unit_test(test_parse_token),
        cmocka_unit_test(test_parse_registration),
        cmocka_unit_test(test_parse_credentials),
        cmocka_unit_test(test_sts_arn),
        cmocka_unit_test(test_session_from_arn),
        cmocka_unit_test(test_usermap_text),
        cmocka_unit_test(test_usermap_policies),
    };
    return cmocka_run_group_tests_name("parsers", tests, NULL, NULL);
}
