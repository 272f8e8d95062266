/* Unit tests for complete_uri.h: the complete link of a device
 * authorization is shown only on verification_uri's origin and carrying
 * the user code; lookalikes on another host or port are not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/complete_uri.h"

#define URI "https://device.sso.eu-west-1.amazonaws.com/"
#define CODE "ABCD-EFGH"

static enum complete_uri_verdict check(const char *complete)
{
    return complete_uri_check(URI, complete, CODE);
}

static void test_same_origin_with_code_is_shown(void **state)
{
    (void)state;
    assert_int_equal(check(URI "?user_code=" CODE), COMPLETE_URI_SHOWN);
    /* Case of scheme and host, an explicit default port, another path,
     * the code as any parameter's value, a fragment after it. */
    assert_int_equal(check("HTTPS://Device.SSO.eu-west-1.amazonaws.com:443/activate?x=1&code="
                           CODE "#top"), COMPLETE_URI_SHOWN);
    assert_int_equal(complete_uri_check("https://idp.example:8443/device",
                                        "https://IDP.example:08443/device?user_code=" CODE, CODE),
                     COMPLETE_URI_SHOWN);
    assert_int_equal(complete_uri_check("https://[2001:db8::1]/device",
                                        "https://[2001:DB8::1]:443/device?c=" CODE, CODE),
                     COMPLETE_URI_SHOWN);
    assert_int_equal(complete_uri_check("https://idp.example:/device",
                                        "https://idp.example/device?c=" CODE, CODE),
                     COMPLETE_URI_SHOWN); /* an empty port is the default one */
}

static void test_absent(void **state)
{
    (void)state;
    assert_int_equal(check(""), COMPLETE_URI_ABSENT);
    assert_int_equal(check(NULL), COMPLETE_URI_ABSENT);
}

static void test_another_host_is_not_shown(void **state)
{
    (void)state;
    static const char *const lookalikes[] = {
        "https://device.sso.eu-west-1.amazonaws.com.evil.example/?user_code=" CODE,
        "https://device-sso-eu-west-1-amazonaws.com/?user_code=" CODE,
        "https://evil.example/device.sso.eu-west-1.amazonaws.com/?user_code=" CODE,
        "https://device.sso.eu-west-1.amazonaws.com@evil.example/?user_code=" CODE,
        "https://device.sso.eu-west-1.amazonaws.com./?user_code=" CODE,
        "http://device.sso.eu-west-1.amazonaws.com/?user_code=" CODE,
        "javascript:alert(1)//?user_code=" CODE,
        "https:///?user_code=" CODE,
    };
    for (size_t i = 0; i < sizeof(lookalikes) / sizeof(lookalikes[0]); i++)
        if (check(lookalikes[i]) != COMPLETE_URI_OTHER_ORIGIN)
            fail_msg("shown: %s", lookalikes[i]);
}

static void test_another_port_is_not_shown(void **state)
{
    (void)state;
    assert_int_equal(check("https://device.sso.eu-west-1.amazonaws.com:8443/?user_code=" CODE),
                     COMPLETE_URI_OTHER_ORIGIN);
    assert_int_equal(complete_uri_check("https://idp.example:8443/d",
                                        "https://idp.example/d?c=" CODE, CODE),
                     COMPLETE_URI_OTHER_ORIGIN);
    /* Ports that are not ports: never taken as the default. */
    static const char *const bad[] = {
        "https://device.sso.eu-west-1.amazonaws.com:443x/?c=" CODE,
        "https://device.sso.eu-west-1.amazonaws.com:000443/?c=" CODE,
        "https://device.sso.eu-west-1.amazonaws.com:65979/?c=" CODE,
        "https://device.sso.eu-west-1.amazonaws.com:0/?c=" CODE,
        "https://device.sso.eu-west-1.amazonaws.com:-443/?c=" CODE,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (check(bad[i]) != COMPLETE_URI_OTHER_ORIGIN)
            fail_msg("shown: %s", bad[i]);
}

static void test_same_origin_without_code_is_not_shown(void **state)
{
    (void)state;
    static const char *const without[] = {
        URI,
        URI "?user_code=",
        URI "?user_code=WXYZ-ABCD",
        URI "?user_code=" CODE "X",
        URI "?user_code=X" CODE,
        URI "?user_code=abcd-efgh", /* the code as sent, not another case of it */
        URI CODE,                   /* in the path */
        URI "?" CODE,               /* a name, not a value */
        URI "#user_code=" CODE,     /* in the fragment */
        URI "#x?user_code=" CODE,   /* a '?' in the fragment starts no query */
        URI "?a=1#&user_code=" CODE,
    };
    for (size_t i = 0; i < sizeof(without) / sizeof(without[0]); i++)
        if (check(without[i]) != COMPLETE_URI_WITHOUT_CODE)
            fail_msg("shown: %s", without[i]);
    assert_int_equal(complete_uri_check(URI, URI "?c=", ""), COMPLETE_URI_WITHOUT_CODE);
}

static void test_origin_parse(void **state)
{
    (void)state;
    struct uri_origin o;
    assert_true(uri_origin_parse("https://Host.Example/x", &o));
    assert_string_equal(o.host, "Host.Example");
    assert_int_equal(o.port, 443);
    assert_true(uri_origin_parse("https://[::1]:8443?x", &o));
    assert_string_equal(o.host, "[::1]");
    assert_int_equal(o.port, 8443);
    assert_false(uri_origin_parse("https://[::1/x", &o));
    assert_false(uri_origin_parse("https://:443/x", &o));
    assert_false(uri_origin_parse("ftp://host/", &o));
    assert_false(uri_origin_parse("https://user@host/", &o));
    assert_false(uri_origin_parse("https://host:123456/", &o));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_origin_with_code_is_shown),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_another_host_is_not_shown),
        cmocka_unit_test(test_another_port_is_not_shown),
        cmocka_unit_test(test_same_origin_without_code_is_not_shown),
        cmocka_unit_test(test_origin_parse),
    };
    return cmocka_run_group_tests_name("complete_uri", tests, NULL, NULL);
}
