/* Unit tests for registration_key.h: the cached AWS registration is keyed
 * by the trust settings it was fetched under, not just the endpoint. */
#include <security/pam_modules.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "aws/registration.h"
#include "settings.h"

static void stanza(struct settings *c, const char *ca_file, const char *proxy)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->aws.oidc_endpoint, "https://oidc.eu-west-1.amazonaws.com");
    strcpy(c->aws.client_name, "pam_ssooidc on host1");
    strcpy(c->common.ca_file, ca_file);
    strcpy(c->common.proxy, proxy);
}

static void key_of(const struct settings *c, char *out)
{
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(aws_registration_key(&c->common, &c->aws, out, AWS_REGISTRATION_KEY_MAX, &err),
                     PAM_SUCCESS);
}

static void test_trust_settings_are_part_of_the_key(void **state)
{
    (void)state;
    struct settings strict, test_ca, proxied, strict_again;
    stanza(&strict, "", "");
    stanza(&test_ca, "/etc/pam_ssooidc/test-ca.pem", "");
    stanza(&proxied, "", "http://127.0.0.1:3128");
    stanza(&strict_again, "", "");
    char a[AWS_REGISTRATION_KEY_MAX], b[AWS_REGISTRATION_KEY_MAX], p[AWS_REGISTRATION_KEY_MAX],
        again[AWS_REGISTRATION_KEY_MAX];
    key_of(&strict, a);
    key_of(&test_ca, b);
    key_of(&proxied, p);
    key_of(&strict_again, again);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, p);
    assert_string_not_equal(b, p);
    assert_string_equal(a, again);
    /* The same text moved from one setting to the other is another key. */
    stanza(&test_ca, "x", "");
    stanza(&proxied, "", "x");
    key_of(&test_ca, b);
    key_of(&proxied, p);
    assert_string_not_equal(b, p);
}

static void test_every_value_at_its_longest_fits(void **state)
{
    (void)state;
    struct settings c;
    memset(&c, 'a', sizeof(c));
    c.aws.oidc_endpoint[sizeof(c.aws.oidc_endpoint) - 1] = '\0';
    c.aws.client_name[sizeof(c.aws.client_name) - 1] = '\0';
    c.common.ca_file[sizeof(c.common.ca_file) - 1] = '\0';
    c.common.proxy[sizeof(c.common.proxy) - 1] = '\0';
    char key[AWS_REGISTRATION_KEY_MAX];
    key_of(&c, key);
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(aws_registration_key(&c.common, &c.aws, key, 100, &err), PAM_SERVICE_ERR);
}

static void test_newline_refused(void **state)
{
    (void)state;
    /* "a\nb" in ca_file and "" in proxy would otherwise be the key of
     * ca_file "a" with proxy "b". */
    struct settings c;
    stanza(&c, "/a\nhttp://127.0.0.1:3128", "");
    char key[AWS_REGISTRATION_KEY_MAX];
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(aws_registration_key(&c.common, &c.aws, key, sizeof(key), &err),
                     PAM_SERVICE_ERR);
    assert_non_null(strstr(err.msg, "newline"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trust_settings_are_part_of_the_key),
        cmocka_unit_test(test_every_value_at_its_longest_fits),
        cmocka_unit_test(test_newline_refused),
    };
    return cmocka_run_group_tests_name("registration_key", tests, NULL, NULL);
}
