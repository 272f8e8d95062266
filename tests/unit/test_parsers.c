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

#include "aws/awserr.h"
#include "aws/identity.h"
#include "aws/ssooidc.h"
#include "core/outcome.h"
#include "aws/portal.h"
#include "core/sanitize.h"
#include "aws/sts.h"
#include "core/usermap.h"

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
    struct device_auth d;
    struct sso_error err;
    const char *ok = "{\"deviceCode\":\"dc\",\"userCode\":\"ABCD-EFGH\",\"verificationUri\":"
                     "\"https://d/\",\"verificationUriComplete\":\"https://d/?user_code=ABCD-EFGH\","
                     "\"expiresIn\":600,\"interval\":1}";
    assert_int_equal(ssooidc_parse_device(S(ok), &d, &err), PAM_SUCCESS);
    assert_int_equal(d.interval, 1);
    assert_int_equal(d.expires_in, 600);
    const char *no_interval = "{\"deviceCode\":\"dc\",\"userCode\":\"U\",\"verificationUri\":"
                              "\"https://d/\",\"expiresIn\":600}";
    assert_int_equal(ssooidc_parse_device(S(no_interval), &d, &err), PAM_SUCCESS);
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
        assert_int_equal(ssooidc_parse_device(S(bad[i]), &d, &err), PAM_AUTHINFO_UNAVAIL);
        assert_string_equal(d.device_code, ""); /* nothing half-filled survives */
    }
}

static void test_parse_token(void **state)
{
    (void)state;
    struct ssooidc_token t;
    struct sso_error err;
    assert_int_equal(ssooidc_parse_token(S("{\"accessToken\":\"a\",\"tokenType\":\"Bearer\"}"), &t,
                                      &err), PAM_SUCCESS);
    assert_int_equal(ssooidc_parse_token(S("{\"accessToken\":\"\",\"tokenType\":\"Bearer\"}"), &t,
                                      &err), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(ssooidc_parse_token(S("{\"accessToken\":\"a\",\"tokenType\":\"MAC\"}"), &t,
                                      &err), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(ssooidc_parse_token(S("{\"accessToken\":7,\"tokenType\":\"Bearer\"}"), &t,
                                      &err), PAM_AUTHINFO_UNAVAIL);
    assert_string_equal(t.access_token, "");
}

static void test_parse_registration(void **state)
{
    (void)state;
    struct client_registration r;
    struct sso_error err;
    assert_int_equal(ssooidc_parse_registration(S("{\"clientId\":\"c\",\"clientSecret\":\"s\","
                                               "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":2}"),
                                             &r, &err), PAM_SUCCESS);
    assert_int_equal(r.expires_at, 2);
    assert_int_equal(ssooidc_parse_registration(S("{\"clientId\":\"c\",\"clientSecret\":\"s\"}"), &r,
                                             &err), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(ssooidc_parse_registration(S("{\"clientId\":\"c\",\"clientId\":\"d\","
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

/* Strict: one Arn, at GetCallerIdentityResponse/GetCallerIdentityResult,
 * unprefixed, in well-formed XML. */
static void test_sts_strict(void **state)
{
    (void)state;
    char arn[256];
    const char *ok = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                     "<GetCallerIdentityResult><Arn>arn:aws:sts::1:assumed-role/R/s</Arn>"
                     "<UserId>AROA:s</UserId><Account>1</Account></GetCallerIdentityResult>"
                     "<ResponseMetadata><RequestId>x-1</RequestId></ResponseMetadata>"
                     "<!-- c --></GetCallerIdentityResponse>\n";
    assert_int_equal(sts_parse_arn(S(ok), arn, sizeof(arn)), 0);
    const char *bad[] = {
        /* a namespace-prefixed Arn beside the real one */
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::1:a/b/c</Arn>"
        "<x:Arn xmlns:x=\"y\">arn:aws:sts::2:a/b/d</x:Arn></GetCallerIdentityResult>"
        "</GetCallerIdentityResponse>",
        /* only a prefixed one */
        "<GetCallerIdentityResponse><GetCallerIdentityResult><sts:Arn>arn:aws:sts::1:a/b/c</sts:Arn>"
        "</GetCallerIdentityResult></GetCallerIdentityResponse>",
        /* a second Arn elsewhere */
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::1:a/b/c</Arn>"
        "</GetCallerIdentityResult><ResponseMetadata><Arn>arn:aws:sts::2:a/b/d</Arn>"
        "</ResponseMetadata></GetCallerIdentityResponse>",
        /* Arn at the wrong depth */
        "<GetCallerIdentityResponse><Arn>arn:aws:sts::1:a/b/c</Arn></GetCallerIdentityResponse>",
        /* malformed: unclosed, crossed, two roots, trailing text, DOCTYPE, CDATA */
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::1:a/b/c</Arn>"
        "</GetCallerIdentityResult>",
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::1:a/b/c"
        "</GetCallerIdentityResult></Arn></GetCallerIdentityResponse>",
        GCI("arn:aws:sts::1:a/b/c") GCI("arn:aws:sts::1:a/b/c"),
        GCI("arn:aws:sts::1:a/b/c") "junk",
        "<!DOCTYPE x [<!ENTITY e \"arn:aws:sts::1:a/b/c\">]>" GCI("&e;"),
        GCI("<![CDATA[arn:aws:sts::1:a/b/c]]>"),
        GCI("arn:aws:sts::1:a/b/c<!-- x -->"),
        GCI("arn:aws:sts::1:a/b/c") "<!-- a -- b -->",
        "<GetCallerIdentityResponse a=\"&#0;\"><GetCallerIdentityResult><Arn>arn:aws:sts::1:a/b/c"
        "</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
        "<GetCallerIdentityResponse a=\"1><GetCallerIdentityResult><Arn>arn:aws:sts::1:a/b/c</Arn>"
        "</GetCallerIdentityResult></GetCallerIdentityResponse>",
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn/></GetCallerIdentityResult>"
        "</GetCallerIdentityResponse>",
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::1:a/b/c</Arn >"
        "</GetCallerIdentityResult></GetCallerIdentityResponse>x",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sts_parse_arn(S(bad[i]), arn, sizeof(arn)) != -1)
            fail_msg("accepted case %zu: %s", i, bad[i]);
        assert_string_equal(arn, "");
    }
    /* A deeply nested document is refused, not recursed into. */
    char deep[4096] = "";
    for (int i = 0; i < 100; i++)
        strcat(deep, "<a>");
    assert_int_equal(sts_parse_arn(S(deep), arn, sizeof(arn)), -1);
}

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
                         "aws", acct, role, s, sizeof(s)), 0);
    assert_string_equal(s, "a@b.c");
    assert_int_equal(identity_session_from_arn(
                         "arn:aws-cn:sts::111122223333:assumed-role/AWSReservedSSO_Linux_Login_0f/x",
                         "aws-cn", acct, role, s, sizeof(s)), 0);
    /* The partition must be the configured region's. */
    assert_int_equal(identity_session_from_arn(
                         "arn:aws-cn:sts::111122223333:assumed-role/AWSReservedSSO_Linux_Login_0f/x",
                         "aws", acct, role, s, sizeof(s)), -1);
    assert_int_equal(identity_session_from_arn(
                         "arn:aws-evil:sts::111122223333:assumed-role/AWSReservedSSO_Linux_Login_0f/x",
                         "aws", acct, role, s, sizeof(s)), -1);
    assert_int_equal(identity_session_from_arn(
                         "arn:awsx:sts::111122223333:assumed-role/AWSReservedSSO_Linux_Login_0f/x",
                         "aws", acct, role, s, sizeof(s)), -1);
    assert_string_equal(identity_partition("us-east-1"), "aws");
    assert_string_equal(identity_partition("cn-northwest-1"), "aws-cn");
    assert_string_equal(identity_partition("us-gov-west-1"), "aws-us-gov");
    assert_string_equal(identity_partition("us-isob-east-1"), "aws-iso-b");
    assert_string_equal(identity_partition("eusc-de-east-1"), "aws-eusc");
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
        assert_int_equal(identity_session_from_arn(bad[i], "aws", acct, role, s, sizeof(s)), -1);
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
    const struct usermap none = {NULL, 0};
    memset(&c, 0, sizeof(c));
    assert_int_equal(usermap_allows(&c, &none, "alice", &(struct local_account){"alice", 1000}, &err), PAM_SUCCESS);
    assert_int_equal(usermap_allows(&c, &none, "Alice", &(struct local_account){"alice", 1000}, &err), PAM_AUTH_ERR);
    strcpy(c.username_suffix, "@example.com");
    assert_int_equal(usermap_allows(&c, &none, "alice@EXAMPLE.COM", &(struct local_account){"alice", 1000}, &err), PAM_SUCCESS);
    assert_int_equal(usermap_allows(&c, &none, "alice@example.com.evil", &(struct local_account){"alice", 1000}, &err), PAM_AUTH_ERR);
    assert_int_equal(usermap_allows(&c, &none, "alice", &(struct local_account){"alice", 1000}, &err), PAM_AUTH_ERR);
    assert_int_equal(usermap_allows(&c, &none, "xalice@example.com", &(struct local_account){"alice", 1000}, &err), PAM_AUTH_ERR);
}

/* The name as typed must be the account's own (pw_name); fold_case lets
 * them differ in ASCII case only, never by an alias. */
static void test_usermap_account_name(void **state)
{
    (void)state;
    struct cfg c;
    memset(&c, 0, sizeof(c));
    assert_true(usermap_is_account_name(&c, "rtvictim", "rtvictim"));
    assert_false(usermap_is_account_name(&c, "RTVICTIM", "rtvictim"));
    assert_false(usermap_is_account_name(&c, "Alice", "alice"));
    assert_false(usermap_is_account_name(&c, "rt.alias", "rtvictim"));
    c.fold_case = true;
    assert_true(usermap_is_account_name(&c, "Alice", "alice"));
    assert_true(usermap_is_account_name(&c, "RTVICTIM", "rtvictim"));
    assert_true(usermap_is_account_name(&c, "alice", "ALICE"));
    assert_false(usermap_is_account_name(&c, "rt.alias", "rtvictim"));
    assert_false(usermap_is_account_name(&c, "alice2", "alice"));
    assert_false(usermap_is_account_name(&c, "alic", "alice"));
    /* ASCII only: U+00C4 and U+00E4 are two accounts, whatever the locale */
    assert_false(usermap_is_account_name(&c, "\xc3\x84nne", "\xc3\xa4nne"));
}

/* Before anything is sent: could any approval admit this account? */
static void test_usermap_reachable(void **state)
{
    (void)state;
    struct cfg c;
    struct sso_error err;
    const struct usermap none = {NULL, 0};
    static const char text[] = "# ops.lead root\nops.lead alice\nops.backup backup # tapes\n";
    const struct usermap m = {(char *)text, sizeof(text) - 1};
    memset(&c, 0, sizeof(c));
    assert_false(usermap_names_local(&none, "root"));
    assert_false(usermap_names_local(&m, "root")); /* only in a comment */
    assert_true(usermap_names_local(&m, "backup"));
    assert_true(usermap_names_local(&m, "alice"));
    assert_false(usermap_names_local(&m, "ops.lead")); /* an sso-name, not a local one */
    assert_int_equal(usermap_reachable(&c, &none, &(struct local_account){"alice", 1000}, &err), PAM_SUCCESS);
    assert_int_equal(usermap_reachable(&c, &none, &(struct local_account){"root", 0}, &err), PAM_AUTH_ERR);
    assert_non_null(strstr(err.msg, "root can log in only through a user_map line naming it"));
    assert_int_equal(usermap_reachable(&c, &m, &(struct local_account){"root", 0}, &err), PAM_AUTH_ERR);
    assert_int_equal(usermap_reachable(&c, &none, &(struct local_account){"backup", 34}, &err), PAM_AUTH_ERR);
    assert_non_null(strstr(err.msg, "system account"));
    assert_int_equal(usermap_reachable(&c, &m, &(struct local_account){"backup", 34}, &err), PAM_SUCCESS);
    assert_int_equal(usermap_reachable(&c, &m, &(struct local_account){"www-data", 33}, &err), PAM_AUTH_ERR);
    static const char rtext[] = "ops.lead root\n";
    const struct usermap rm = {(char *)rtext, sizeof(rtext) - 1};
    assert_int_equal(usermap_reachable(&c, &rm, &(struct local_account){"root", 0}, &err), PAM_SUCCESS);
    c.allow_any_approver = true;
    assert_int_equal(usermap_reachable(&c, &none, &(struct local_account){"root", 0}, &err), PAM_AUTH_ERR);
    assert_non_null(strstr(err.msg, "never admits"));
    assert_int_equal(usermap_reachable(&c, &none, &(struct local_account){"alice", 1000}, &err), PAM_SUCCESS);
}

/* uid 0 only through an explicit user_map line. */
static void test_usermap_root(void **state)
{
    (void)state;
    struct cfg c;
    struct sso_error err;
    const struct usermap none = {NULL, 0};
    memset(&c, 0, sizeof(c));
    assert_int_equal(usermap_allows(&c, &none, "root", &(struct local_account){"root", 0}, &err), PAM_AUTH_ERR);
    assert_non_null(strstr(err.msg, "uid 0"));
    assert_int_equal(usermap_allows(&c, &none, "toor", &(struct local_account){"toor", 0}, &err), PAM_AUTH_ERR); /* any uid-0 name */
    strcpy(c.username_suffix, "@example.com");
    assert_int_equal(usermap_allows(&c, &none, "root@example.com", &(struct local_account){"root", 0}, &err), PAM_AUTH_ERR);
    assert_int_equal(usermap_allows(&c, &none, "root@example.com", &(struct local_account){"root", 1000}, &err), PAM_SUCCESS);
}

/* System accounts (below UID_MIN) only through an explicit user_map line:
 * an approver named "backup" is not the backup account. */
static void test_usermap_system_accounts(void **state)
{
    (void)state;
    struct cfg c;
    struct sso_error err;
    const struct usermap none = {NULL, 0};
    memset(&c, 0, sizeof(c));
    assert_int_equal(usermap_allows(&c, &none, "backup", &(struct local_account){"backup", 34}, &err), PAM_AUTH_ERR);
    assert_non_null(strstr(err.msg, "system account"));
    assert_int_equal(usermap_allows(&c, &none, "postgres", &(struct local_account){"postgres", 999}, &err), PAM_AUTH_ERR);
    assert_int_equal(usermap_allows(&c, &none, "alice", &(struct local_account){"alice", 1000}, &err), PAM_SUCCESS);
    strcpy(c.username_suffix, "@example.com");
    assert_int_equal(usermap_allows(&c, &none, "www-data@example.com", &(struct local_account){"www-data", 33}, &err), PAM_AUTH_ERR);
    /* an explicit line still admits one */
    memset(&c, 0, sizeof(c));
    strcpy(c.user_map, "/etc/security/map");
    static const char text[] = "ops.backup backup\n";
    const struct usermap m = {(char *)text, sizeof(text) - 1};
    assert_int_equal(usermap_allows(&c, &m, "ops.backup", &(struct local_account){"backup", 34}, &err), PAM_SUCCESS);
}

/* ---- what may reach a terminal ---- */

static void test_display_allow_lists(void **state)
{
    (void)state;
    const char *codes_ok[] = {"ABCD-EFGH", "FHLGDVN5C", "wdjb-mjht", "7",
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"};
    const char *codes_bad[] = {"", "ABCD EFGH", "ABCD\x1b[2J", "ABCD\xe2\x80\xaeHGFE", "AB_CD",
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", "AB\tCD", "\xc3\x84" "BCD"};
    for (size_t i = 0; i < sizeof(codes_ok) / sizeof(codes_ok[0]); i++)
        assert_true(sanitize_is_user_code(codes_ok[i]));
    for (size_t i = 0; i < sizeof(codes_bad) / sizeof(codes_bad[0]); i++)
        assert_false(sanitize_is_user_code(codes_bad[i]));
    const char *names_ok[] = {"alice", "rtvictim", "a.smith-2", "svc_backup", "alice@example.com",
                              "HOST01$", "a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    const char *names_bad[] = {"", "-rf", "al ice", "alice\x1b[2J", "ali\xe2\x80\xae" "ce",
                               "alice\n", "a/b", "\xc3\xa4nne",
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof(names_ok) / sizeof(names_ok[0]); i++)
        assert_true(sanitize_is_account_name(names_ok[i]));
    for (size_t i = 0; i < sizeof(names_bad) / sizeof(names_bad[0]); i++)
        assert_false(sanitize_is_account_name(names_bad[i]));
    assert_true(sanitize_is_https_uri("https://device.sso.eu-west-1.amazonaws.com/"));
    assert_true(sanitize_is_https_uri("https://d.example/?user_code=ABCD-EFGH&x=%20"));
    assert_true(sanitize_is_https_uri("https://[::1]:8443/device"));
    const char *uris_bad[] = {
        "http://d.example/", "https://", "https:///x", "https://d.example/ x",
        "https://d/\x1b]0;t\x07", "https://d.example/\xe2\x80\xae", "https://d.example/\"x\"",
        "https://d.example/<x>", "javascript:alert(1)", "https://d.example/\n",
        "HTTPS://d.example/", "https://?x",
        "https://device.sso.us-east-1.amazonaws.com@evil.example/",
        "https://user:pw@d.example/device",
    };
    for (size_t i = 0; i < sizeof(uris_bad) / sizeof(uris_bad[0]); i++)
        assert_false(sanitize_is_https_uri(uris_bad[i]));
    char longuri[600];
    memset(longuri, 'a', sizeof(longuri));
    memcpy(longuri, "https://", 8);
    longuri[512] = '\0';
    assert_true(sanitize_is_https_uri(longuri)); /* exactly 512 */
    longuri[512] = 'a';
    longuri[513] = '\0';
    assert_false(sanitize_is_https_uri(longuri));
}

/* Hostile device answers are refused, not filtered into shape. */
static void test_parse_device_hostile(void **state)
{
    (void)state;
    struct device_auth d;
    struct sso_error err;
    const char *bad[] = {
        "{\"deviceCode\":\"dc\",\"userCode\":\"ABCD EFGH\",\"verificationUri\":\"https://d/\",\"expiresIn\":600}",
        "{\"deviceCode\":\"dc\",\"userCode\":\"AB\\u001b[2J\",\"verificationUri\":\"https://d/\",\"expiresIn\":600}",
        "{\"deviceCode\":\"dc\",\"userCode\":\"AB\\u202eCD\",\"verificationUri\":\"https://d/\",\"expiresIn\":600}",
        "{\"deviceCode\":\"dc\",\"userCode\":\"ABCD\",\"verificationUri\":\"https://d/ x\",\"expiresIn\":600}",
        "{\"deviceCode\":\"dc\",\"userCode\":\"ABCD\",\"verificationUri\":\"http://d/\",\"expiresIn\":600}",
        "{\"deviceCode\":\"dc\",\"userCode\":\"ABCD\",\"verificationUri\":\"https://d/\","
        "\"verificationUriComplete\":\"https://d/\\u200b\",\"expiresIn\":600}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ssooidc_parse_device(S(bad[i]), &d, &err), PAM_AUTHINFO_UNAVAIL);
        assert_non_null(strstr(err.msg, "shape"));
        assert_string_equal(d.user_code, "");
    }
}

static void test_sanitize_invisible(void **state)
{
    (void)state;
    char out[128];
    /* soft hyphen, ZWSP, RLO, LRI, word joiner, BOM, line/paragraph
     * separators, a tag character, variation selectors 1 and 17, ALM */
    sanitize_display(out, sizeof(out),
                     "a\xc2\xad" "b\xe2\x80\x8b" "c\xe2\x80\xae" "d\xe2\x81\xa6" "e\xe2\x81\xa0"
                     "f\xef\xbb\xbf" "g\xe2\x80\xa8" "h\xe2\x80\xa9" "i\xf3\xa0\x80\x81"
                     "j\xef\xb8\x80" "k\xf3\xa0\x84\x80" "l\xd8\x9c" "m", 100);
    assert_string_equal(out, "abcdefghijklm");
    sanitize_display(out, sizeof(out), "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", 100);
    assert_string_equal(out, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"); /* visible text stays */
}

/* The outcome line read the naive way a SIEM rule or a shell script
 * would: split on spaces and double quotes, each piece at its first '=',
 * the value percent-decoded. Returns the number of key=value pieces. */
static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static void percent_decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '%') {
            assert_true(i + 2 < n && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0);
            out[o++] = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
}

static size_t parse_outcome(const char *line, char keys[32][32], char vals[32][1100])
{
    size_t n = 0;
    assert_true(strncmp(line, "login ", 6) == 0);
    for (const char *p = line + 6; *p && n < 32;) {
        size_t len = strcspn(p, " \"");
        const char *eq = memchr(p, '=', len);
        if (eq) {
            size_t k = (size_t)(eq - p);
            assert_true(k > 0 && k < 32);
            memcpy(keys[n], p, k);
            keys[n][k] = '\0';
            percent_decode(eq + 1, len - k - 1, vals[n]);
            n++;
        }
        p += len;
        p += strspn(p, " \"");
    }
    return n;
}

static const char *const outcome_keys[] = {"result", "user", "rhost", "service", "approver",
                                           "seconds", "retries", "request_id", "reason"};

static void assert_outcome_keys(char keys[32][32], size_t n)
{
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(keys[i], outcome_keys[i]);
}

/* The attack: an rhost (the client's, from sshd) and an approver name
 * (chosen at the provider) made to add result=PAM_SUCCESS and user=root
 * for a parser that splits on spaces and quotes. Neither may add a field,
 * and neither text may appear in the line at all. */
static void test_outcome_naive_parser_cannot_be_forged(void **state)
{
    (void)state;
    char line[OUTCOME_LINE_MAX], keys[32][32], vals[32][1100];
    struct outcome o = {.pam_code = PAM_AUTH_ERR, .user = "alice",
                        .rhost = "203.0.113.7 result=PAM_SUCCESS user=root",
                        .service = "sshd",
                        .approver = "bob\" result=\"PAM_SUCCESS\" user=\"root",
                        .request_id = "0f1e-AB", .reason = "the names differ",
                        .seconds = 1.0, .retries = 0};
    size_t n = parse_outcome(outcome_format(line, sizeof(line), &o), keys, vals);
    assert_outcome_keys(keys, n);
    assert_string_equal(vals[0], "PAM_AUTH_ERR");
    assert_string_equal(vals[1], "alice");
    assert_string_equal(vals[2], "203.0.113.7 result=PAM_SUCCESS user=root");
    assert_string_equal(vals[4], "bob\" result=\"PAM_SUCCESS\" user=\"root");
    assert_null(strstr(line, "result=PAM_SUCCESS"));
    assert_null(strstr(line, "user=root"));
    assert_null(strchr(line, '"'));
}

/* The outcome line parses as key=value pairs whatever the values hold. */
static void test_outcome_line(void **state)
{
    (void)state;
    char line[OUTCOME_LINE_MAX], keys[32][32], vals[32][1100];
    struct outcome o = {.pam_code = PAM_AUTH_ERR, .user = "al\"ice result=PAM_SUCCESS",
                        .rhost = "h\\\" approver=\"root", .service = "sshd",
                        .approver = "bob\n reason=\"ok\"\xe2\x80\xae",
                        .request_id = "abc def result=PAM_SUCCESS",
                        .reason = "server said: \" result=PAM_SUCCESS 100% \x1b[2J",
                        .seconds = 12.34, .retries = 2};
    size_t n = parse_outcome(outcome_format(line, sizeof(line), &o), keys, vals);
    assert_outcome_keys(keys, n);
    assert_string_equal(vals[0], "PAM_AUTH_ERR");
    assert_string_equal(vals[1], "al\"ice result=PAM_SUCCESS");
    assert_string_equal(vals[2], "h\\\" approver=\"root");
    assert_string_equal(vals[3], "sshd");
    assert_string_equal(vals[4], "bob reason=\"ok\"");
    assert_string_equal(vals[5], "12.3");
    assert_string_equal(vals[6], "2");
    assert_string_equal(vals[7], "-"); /* not [A-Za-z0-9-]: replaced */
    assert_string_equal(vals[8], "server said: \" result=PAM_SUCCESS 100% ");
    /* Exactly nine '=' and eight spaces after "login": none in a value. */
    size_t eqs = 0, spaces = 0;
    for (const char *q = line + 5; *q; q++) {
        eqs += *q == '=';
        spaces += *q == ' ';
        assert_true(*q != '"' && *q != '\\' && *q != ',' && *q != '+');
    }
    assert_int_equal(eqs, 9);
    assert_int_equal(spaces, 9);
    /* Readable where nothing needs encoding. */
    struct outcome plain = {.pam_code = PAM_SUCCESS, .user = "alice",
                            .rhost = "2001:db8::7", .service = "sshd",
                            .approver = "alice@example.com", .request_id = "8c1e-2f",
                            .reason = "approved", .seconds = 12.4};
    assert_string_equal(outcome_format(line, sizeof(line), &plain),
                        "login result=PAM_SUCCESS user=alice rhost=2001:db8::7 service=sshd "
                        "approver=alice@example.com seconds=12.4 retries=0 request_id=8c1e-2f "
                        "reason=approved");
    /* ASCII only: fullwidth quote and equals (NFKC would make them real)
     * are encoded byte by byte, and decode back to the UTF-8 sent. */
    struct outcome uni = {.pam_code = PAM_SUCCESS,
                          .user = "jos\xc3\xa9\xef\xbc\x82 a\xef\xbc\x9d" "1",
                          .seconds = 0.05};
    n = parse_outcome(outcome_format(line, sizeof(line), &uni), keys, vals);
    assert_outcome_keys(keys, n);
    assert_non_null(strstr(line, " user=jos%C3%A9%EF%BC%82%20a%EF%BC%9D1 "));
    assert_string_equal(vals[1], "jos\xc3\xa9\xef\xbc\x82 a\xef\xbc\x9d" "1");
    assert_string_equal(vals[5], "0.1");
    for (const char *q = line; *q; q++)
        assert_true(*q == ' ' || ((unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f));
    /* "-" means not known; a value that is "-" itself is told apart. */
    struct outcome dash = {.pam_code = PAM_SUCCESS, .user = "-", .rhost = ""};
    n = parse_outcome(outcome_format(line, sizeof(line), &dash), keys, vals);
    assert_non_null(strstr(line, " user=%2D rhost=- "));
    /* Absent values and the longest ones still parse. */
    char huge[3000];
    memset(huge, '"', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    struct outcome big = {.pam_code = 12345, .user = huge, .rhost = huge, .service = huge,
                          .approver = huge, .request_id = "0f1e-AB", .reason = huge};
    n = parse_outcome(outcome_format(line, sizeof(line), &big), keys, vals);
    assert_outcome_keys(keys, n);
    assert_string_equal(vals[0], "PAM_OTHER");
    assert_string_equal(vals[7], "0f1e-AB");
    assert_int_equal(strlen(vals[8]), 512); /* cut, with "..." counted within */
    assert_string_equal(vals[8] + 509, "...");
    struct outcome none = {.pam_code = PAM_SUCCESS};
    n = parse_outcome(outcome_format(line, sizeof(line), &none), keys, vals);
    assert_outcome_keys(keys, n);
    assert_string_equal(vals[1], "-");
    assert_string_equal(vals[7], "-");
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
        cmocka_unit_test(test_usermap_account_name),
        cmocka_unit_test(test_usermap_reachable),
        cmocka_unit_test(test_usermap_root),
        cmocka_unit_test(test_usermap_system_accounts),
        cmocka_unit_test(test_display_allow_lists),
        cmocka_unit_test(test_parse_device_hostile),
        cmocka_unit_test(test_sanitize_invisible),
        cmocka_unit_test(test_sts_strict),
        cmocka_unit_test(test_outcome_naive_parser_cannot_be_forged),
        cmocka_unit_test(test_outcome_line),
    };
    return cmocka_run_group_tests_name("parsers", tests, NULL, NULL);
}
