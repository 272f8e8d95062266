/* test_http_url.c - a URL as errors and log lines name it
 * (http_url_shown, core/http.h): scheme, host, port and path; never a
 * user:password@, a query string (which may carry ids) or a fragment; no
 * control or escape character; cut to HTTP_URL_SHOWN_MAX characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/http.h"

static void shown_is(const char *url, const char *want)
{
    char got[HTTP_URL_SHOWN_MAX + 1];
    http_url_shown(url, got, sizeof(got));
    if (strcmp(got, want) != 0) {
        print_error("%s\n  shown as %s\n  want     %s\n", url, got, want);
        fail();
    }
}

static void test_plain(void **state)
{
    (void)state;
    shown_is("https://idp.example.com/.well-known/openid-configuration",
             "https://idp.example.com/.well-known/openid-configuration");
    shown_is("https://127.0.0.1:8443/", "https://127.0.0.1:8443/");
    shown_is("https://[::1]:8443/token", "https://[::1]:8443/token");
    shown_is("https://idp.example.com", "https://idp.example.com");
}

static void test_no_secrets(void **state)
{
    (void)state;
    shown_is("https://idp.example.com/token?device_code=SECRET&x=1",
             "https://idp.example.com/token?...");
    shown_is("https://idp.example.com?code=SECRET", "https://idp.example.com?...");
    shown_is("https://user:SECRET@idp.example.com/jwks", "https://idp.example.com/jwks");
    shown_is("https://idp.example.com/jwks#SECRET", "https://idp.example.com/jwks");
}

static void test_filtered_and_bounded(void **state)
{
    (void)state;
    shown_is("https://idp.example.com/a\x1b[31mred\n", "https://idp.example.com/ared");
    char url[600] = "https://idp.example.com/";
    memset(url + strlen(url), 'a', 400);
    char got[HTTP_URL_SHOWN_MAX + 1];
    http_url_shown(url, got, sizeof(got));
    assert_int_equal(strlen(got), HTTP_URL_SHOWN_MAX);
    assert_string_equal(got + HTTP_URL_SHOWN_MAX - 3, "...");
    http_url_shown(url, got, 16); /* a small buffer is never overrun */
    assert_true(strlen(got) < 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_no_secrets),
        cmocka_unit_test(test_filtered_and_bounded),
    };
    return cmocka_run_group_tests_name("http_url_shown", tests, NULL, NULL);
}
