/* test_discovery.c - the OpenID discovery document parser (discovery.h):
 * documents shaped like Keycloak's, Entra ID's and Google's, then every
 * rule it enforces, each with its exact code and reason. */
#include <security/pam_modules.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "openid/discovery.h"
#include "openid/jose.h"

#define S(x) x, strlen(x)
#define KC "https://kc.example.com/realms/corp"

#define REFUSED(rc_, want_, err_, frag_)                                                   \
    do {                                                                                   \
        int r__ = (rc_);                                                                   \
        if (r__ != (want_) || !strstr((err_).msg, (frag_))) {                              \
            print_error("got %d \"%s\"\nwant %d with \"%s\"\n", r__, (err_).msg, (want_), \
                        (frag_));                                                          \
            fail();                                                                        \
        }                                                                                  \
    } while (0)

static const char keycloak[] =
    "{\"issuer\":\"" KC "\","
    "\"authorization_endpoint\":\"" KC "/protocol/openid-connect/auth\","
    "\"token_endpoint\":\"" KC "/protocol/openid-connect/token\","
    "\"jwks_uri\":\"" KC "/protocol/openid-connect/certs\","
    "\"device_authorization_endpoint\":\"" KC "/protocol/openid-connect/auth/device\","
    "\"grant_types_supported\":[\"authorization_code\",\"urn:ietf:params:oauth:grant-type:"
    "device_code\"],"
    "\"id_token_signing_alg_values_supported\":[\"PS384\",\"ES384\",\"RS384\",\"HS256\","
    "\"HS512\",\"ES256\",\"RS256\",\"HS384\",\"ES512\",\"PS256\",\"PS512\",\"RS512\",\"none\"],"
    "\"token_endpoint_auth_methods_supported\":[\"private_key_jwt\",\"client_secret_basic\","
    "\"client_secret_post\",\"tls_client_auth\",\"client_secret_jwt\"],"
    "\"mtls_endpoint_aliases\":{\"token_endpoint\":\"" KC "/protocol/openid-connect/token\"},"
    "\"claims_parameter_supported\":true,\"frontchannel_logout_session_supported\":true}";

#define ENTRA "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
static const char entra[] =
    "{\"token_endpoint\":\"https://login.microsoftonline.com/"
    "9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/token\","
    "\"token_endpoint_auth_methods_supported\":[\"client_secret_post\",\"private_key_jwt\","
    "\"client_secret_basic\"],"
    "\"jwks_uri\":\"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/"
    "discovery/v2.0/keys\","
    "\"response_modes_supported\":[\"query\",\"fragment\",\"form_post\"],"
    "\"id_token_signing_alg_values_supported\":[\"RS256\"],"
    "\"issuer\":\"" ENTRA "\","
    "\"request_uri_parameter_supported\":false,"
    "\"device_authorization_endpoint\":\"https://login.microsoftonline.com/"
    "9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/devicecode\","
    "\"tenant_region_scope\":null,\"cloud_instance_name\":\"microsoftonline.com\"}";

static const char google[] =
    "{\"issuer\":\"https://accounts.google.com\","
    "\"authorization_endpoint\":\"https://accounts.google.com/o/oauth2/v2/auth\","
    "\"device_authorization_endpoint\":\"https://oauth2.googleapis.com/device/code\","
    "\"token_endpoint\":\"https://oauth2.googleapis.com/token\","
    "\"userinfo_endpoint\":\"https://openidconnect.googleapis.com/v1/userinfo\","
    "\"jwks_uri\":\"https://www.googleapis.com/oauth2/v3/certs\","
    "\"id_token_signing_alg_values_supported\":[\"RS256\"]}";

/* The minimal document with member `name` set to `value` (raw JSON; NULL
 * leaves it out). */
static void doc_with(char *buf, size_t n, const char *name, const char *value)
{
    static const char *const names[] = {"issuer", "device_authorization_endpoint",
                                        "token_endpoint", "jwks_uri"};
    static const char *const values[] = {"\"" KC "\"", "\"" KC "/device\"", "\"" KC "/token\"",
                                         "\"" KC "/certs\""};
    size_t o = (size_t)snprintf(buf, n, "{");
    for (size_t i = 0; i < 4; i++) {
        const char *v = strcmp(names[i], name) == 0 ? value : values[i];
        if (v)
            o += (size_t)snprintf(buf + o, n - o, "%s\"%s\":%s", o > 1 ? "," : "", names[i], v);
    }
    if (strcmp(name, "issuer") && strcmp(name, "device_authorization_endpoint") &&
        strcmp(name, "token_endpoint") && strcmp(name, "jwks_uri") && value)
        o += (size_t)snprintf(buf + o, n - o, ",\"%s\":%s", name, value);
    assert_true(o + 2 < n);
    snprintf(buf + o, n - o, "}");
}

static int parse(const char *doc, const char *issuer, struct discovery *d, struct sso_error *err)
{
    memset(d, 0xA5, sizeof(*d));
    memset(err, 0, sizeof(*err));
    int rc = discovery_parse(doc, strlen(doc), issuer, d, err);
    if (rc != PAM_SUCCESS) { /* nothing half-filled survives */
        const unsigned char *b = (const unsigned char *)d;
        for (size_t i = 0; i < sizeof(*d); i++)
            assert_int_equal(b[i], 0);
    }
    return rc;
}

static void test_keycloak(void **state)
{
    (void)state;
    struct discovery d;
    struct sso_error err;
    assert_int_equal(parse(keycloak, KC, &d, &err), PAM_SUCCESS);
    assert_string_equal(d.issuer, KC);
    assert_string_equal(d.device_authorization_endpoint, KC "/protocol/openid-connect/auth/device");
    assert_string_equal(d.token_endpoint, KC "/protocol/openid-connect/token");
    assert_string_equal(d.jwks_uri, KC "/protocol/openid-connect/certs");
    assert_true(d.auth_methods_listed);
    assert_int_equal(d.auth_methods, DISCOVERY_AUTH_BASIC | DISCOVERY_AUTH_POST);
    assert_true(d.id_token_algs_listed);
    assert_int_equal(d.id_token_algs, JOSE_RS256 | JOSE_RS384 | JOSE_RS512 | JOSE_PS256 |
                                          JOSE_PS384 | JOSE_PS512 | JOSE_ES256 | JOSE_ES384 |
                                          JOSE_ES512); /* no HS*, no none */
}

static void test_entra_and_google(void **state)
{
    (void)state;
    struct discovery d;
    struct sso_error err;
    assert_int_equal(parse(entra, ENTRA, &d, &err), PAM_SUCCESS);
    assert_string_equal(d.device_authorization_endpoint,
                        "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/"
                        "oauth2/v2.0/devicecode");
    assert_int_equal(d.auth_methods, DISCOVERY_AUTH_BASIC | DISCOVERY_AUTH_POST);
    assert_int_equal(d.id_token_algs, JOSE_RS256);
    /* Entra's multi-tenant issuer is a template: it never equals a real one */
    REFUSED(parse(entra, "https://login.microsoftonline.com/{tenantid}/v2.0", &d, &err),
            PAM_AUTHINFO_UNAVAIL, err, "is not the configured issuer");
    assert_int_equal(parse(google, "https://accounts.google.com", &d, &err), PAM_SUCCESS);
    assert_string_equal(d.token_endpoint, "https://oauth2.googleapis.com/token");
    assert_false(d.auth_methods_listed);
    assert_int_equal(d.auth_methods, DISCOVERY_AUTH_BASIC); /* RFC 8414's default */
}

static void test_issuer_exact(void **state)
{
    (void)state;
    struct discovery d;
    struct sso_error err;
    REFUSED(parse(keycloak, KC "/", &d, &err), PAM_AUTHINFO_UNAVAIL, err,
            "issuer " KC " is not the configured issuer");
    REFUSED(parse(keycloak, "https://KC.example.com/realms/corp", &d, &err), PAM_AUTHINFO_UNAVAIL,
            err, "is not the configured issuer");
    REFUSED(parse(keycloak, "https://kc.example.com/realms/cor", &d, &err), PAM_AUTHINFO_UNAVAIL,
            err, "is not the configured issuer");
    char doc[1024];
    doc_with(doc, sizeof(doc), "issuer", NULL);
    REFUSED(parse(doc, KC, &d, &err), PAM_AUTHINFO_UNAVAIL, err, "issuer is missing");
    doc_with(doc, sizeof(doc), "issuer", "[\"" KC "\"]");
    REFUSED(parse(doc, KC, &d, &err), PAM_AUTHINFO_UNAVAIL, err, "issuer is missing or not a string");
    doc_with(doc, sizeof(doc), "issuer", "\"\\u001b[31m" KC "\"");
    REFUSED(parse(doc, KC, &d, &err), PAM_AUTHINFO_UNAVAIL, err,
            "issuer " KC " is not"); /* shown without the escape sequence */
    assert_null(strchr(err.msg, '\x1b'));
    REFUSED(parse(keycloak, "", &d, &err), PAM_SERVICE_ERR, err, "no issuer");
    REFUSED(parse(keycloak, NULL, &d, &err), PAM_SERVICE_ERR, err, "no issuer");
}

static void test_endpoints(void **state)
{
    (void)state;
    struct discovery d;
    struct sso_error err;
    char doc[2048];
    static const struct {
        const char *value, *want; /* want NULL: accepted */
    } cases[] = {
        {"\"http://kc.example.com/token\"", "is not an https:// URL"},
        {"\"HTTPS://kc.example.com/token\"", "is not an https:// URL"},
        {"\"https://kc.example.com/to ken\"", "holds a space"},
        {"\"https://kc.example.com/token\\t\"", "holds a space, a control"},
        {"\"https://kc.example.com/t\\u00f6ken\"", "non-ASCII"},
        {"\"https://kc.example.com/t\\\"oken\"", "quote"},
        {"\"https://kc.example.com@evil.example/token\"", "has an invalid host"},
        {"\"https://user:pw@kc.example.com/token\"", "has an invalid host"},
        {"\"https:///token\"", "has no host"},
        {"\"https://\"", "has no host"},
        {"\"https://kc.example.com/token#frag\"", "has a fragment"},
        {"\"\"", "is not an https:// URL"},
        {"7", "is not a string"},
        {"null", "is not a string"},
        {"\"https://kc.example.com/token?tenant=1\"", NULL},
        {"\"https://kc.example.com:8443/token\"", NULL},
        {"\"https://[::1]:8443/token\"", NULL},
    };
    static const char *const members[] = {"token_endpoint", "jwks_uri",
                                          "device_authorization_endpoint"};
    for (size_t m = 0; m < 3; m++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            doc_with(doc, sizeof(doc), members[m], cases[i].value);
            int rc = parse(doc, KC, &d, &err);
            if (!cases[i].want) {
                assert_int_equal(rc, PAM_SUCCESS);
                continue;
            }
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, cases[i].want);
            assert_non_null(strstr(err.msg, members[m]));
        }
    }
    /* too long: 511 bytes is the most that fits */
    char url[600];
    for (int len = 510; len <= 512; len++) {
        snprintf(url, sizeof(url), "\"https://kc.example.com/%0*d\"", len - 23, 0);
        doc_with(doc, sizeof(doc), "jwks_uri", url);
        int rc = parse(doc, KC, &d, &err);
        if (len <= 511) {
            assert_int_equal(rc, PAM_SUCCESS);
            assert_int_equal(strlen(d.jwks_uri), (size_t)len);
        } else {
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, "jwks_uri is too long");
        }
    }
    doc_with(doc, sizeof(doc), "token_endpoint", NULL);
    REFUSED(parse(doc, KC, &d, &err), PAM_AUTHINFO_UNAVAIL, err, "token_endpoint is missing");
    doc_with(doc, sizeof(doc), "jwks_uri", NULL);
    REFUSED(parse(doc, KC, &d, &err), PAM_AUTHINFO_UNAVAIL, err, "jwks_uri is missing");
    doc_with(doc, sizeof(doc), "device_authorization_endpoint", NULL);
    assert_int_equal(parse(doc, KC, &d, &err), PAM_SUCCESS); /* optional: an option may set it */
    assert_string_equal(d.device_authorization_endpoint, "");
}

static void test_lists(void **state)
{
    (void)state;
    struct discovery d;
    struct sso_error err;
    char doc[4096];
    doc_with(doc, sizeof(doc), "token_endpoint_auth_methods_supported", "[\"none\"]");
    assert_int_equal(parse(doc, KC, &d, &err), PAM_SUCCESS);
    assert_int_equal(d.auth_methods, DISCOVERY_AUTH_NONE);
    doc_with(doc, sizeof(doc), "token_endpoint_auth_methods_supported", "[\"private_key_jwt\"]");
    assert_int_equal(parse(doc, KC, &d, &err), PAM_SUCCESS);
    assert_true(d.auth_methods_listed);
    assert_int_equal(d.auth_methods, 0); /* listed, but nothing we can do */
    doc_with(doc, sizeof(doc), "id_token_signing_alg_values_supported", "[\"HS256\",\"none\"]");
    assert_int_equal(parse(doc, KC, &d, &err), PAM_SUCCESS);
    assert_true(d.id_token_algs_listed);
    assert_int_equal(d.id_token_algs, 0);
    doc_with(doc, sizeof(doc), "id_token_signing_alg_values_supported", "[]");
    assert_int_equal(parse(doc, KC, &d, &err), PAM_SUCCESS);
    assert_true(d.id_token_algs_listed);
    static const struct {
        const char *name, *value, *want;
    } bad[] = {
        {"token_endpoint_auth_methods_supported", "\"client_secret_basic\"", "is not an array"},
        {"token_endpoint_auth_methods_supported", "[\"client_secret_basic\",1]", "holds a non-string"},
        {"id_token_signing_alg_values_supported", "{\"RS256\":1}", "is not an array"},
        {"id_token_signing_alg_values_supported", "[null]", "holds a non-string"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc_with(doc, sizeof(doc), bad[i].name, bad[i].value);
        REFUSED(parse(doc, KC, &d, &err), PAM_AUTHINFO_UNAVAIL, err, bad[i].want);
        assert_non_null(strstr(err.msg, bad[i].name));
    }
    char list[1024] = "[";
    for (int i = 0; i < 65; i++)
        strcat(list, i ? ",\"x\"" : "\"x\"");
    strcat(list, "]");
    doc_with(doc, sizeof(doc), "id_token_signing_alg_values_supported", list);
    REFUSED(parse(doc, KC, &d, &err), PAM_AUTHINFO_UNAVAIL, err, "at most 64 strings");
}

static void test_structure(void **state)
{
    (void)state;
    struct discovery d;
    struct sso_error err;
    static const char *const bad[] = {
        "", "[]", "null", "{\"issuer\":", "{} {}",
        /* two issuers: whichever one a parser keeps, refuse the document */
        "{\"issuer\":\"https://evil.example\",\"issuer\":\"" KC "\",\"token_endpoint\":\"" KC
        "/t\",\"jwks_uri\":\"" KC "/c\"}",
        "{\"issuer\":\"" KC "\",\"issuer\":\"" KC "\",\"token_endpoint\":\"" KC
        "/t\",\"jwks_uri\":\"" KC "/c\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        REFUSED(parse(bad[i], KC, &d, &err), PAM_AUTHINFO_UNAVAIL, err, "not one JSON object");
    /* nesting: 16 levels pass, 17 do not */
    char doc[1024], deep[128];
    for (int levels = 15; levels <= 16; levels++) {
        char *p = deep;
        for (int i = 0; i < levels; i++)
            *p++ = '[';
        for (int i = 0; i < levels; i++)
            *p++ = ']';
        *p = '\0';
        doc_with(doc, sizeof(doc), "x_extension", deep);
        int rc = parse(doc, KC, &d, &err);
        if (levels == 15)
            assert_int_equal(rc, PAM_SUCCESS);
        else
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, "nested at most 16 deep");
    }
    /* larger than 64 KiB */
    size_t n = DISCOVERY_MAX + 100;
    char *big = malloc(n + 200);
    assert_non_null(big);
    int o = snprintf(big, n + 200, "{\"issuer\":\"" KC "\",\"token_endpoint\":\"" KC
                                   "/t\",\"jwks_uri\":\"" KC "/c\",\"pad\":\"");
    memset(big + o, 'x', n - (size_t)o);
    strcpy(big + n, "\"}");
    REFUSED(parse(big, KC, &d, &err), PAM_AUTHINFO_UNAVAIL, err, "at most 65536 bytes");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keycloak),  cmocka_unit_test(test_entra_and_google),
        cmocka_unit_test(test_issuer_exact), cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_lists),     cmocka_unit_test(test_structure),
    };
    return cmocka_run_group_tests_name("discovery", tests, NULL, NULL);
}
