/* fuzz_discovery - discovery_parse (OpenID discovery document).
 *
 * Input: the configured issuer on the first line, then the document.
 * Invariants:
 *   - the code is PAM_SUCCESS, PAM_AUTHINFO_UNAVAIL, or PAM_SERVICE_ERR
 *     exactly when the configured issuer is empty or 512 bytes or more; a
 *     failure has a printable reason and leaves the struct all zero;
 *   - success: issuer equals the configured one; token_endpoint and
 *     jwks_uri non-empty; every endpoint present is "https://", a host of
 *     [A-Za-z0-9.-_:[]], then printable ASCII without space, quote, '<',
 *     '>', '\', '^', '`', '{', '|', '}' or '#', terminated inside its array;
 *     auth_methods only the three known bits, client_secret_basic when not
 *     listed; id_token_algs only known algorithm bits;
 *   - parsing twice gives identical bytes. */
#include <security/pam_modules.h>

#include "openid/discovery.h"
#include "fuzz_common.h"
#include "openid/jose.h"

static void check_url(const char *u, size_t size, bool required)
{
    FUZZ_CHECK(fuzz_terminated(u, size), "endpoint terminated inside its array");
    if (!required && !u[0])
        return;
    FUZZ_CHECK(strncmp(u, "https://", 8) == 0, "endpoint is https://");
    const char *p = u + 8;
    size_t host = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]");
    FUZZ_CHECK(host > 0 && (p[host] == '\0' || p[host] == '/' || p[host] == '?'),
               "endpoint has a host (no userinfo) followed by a path or query");
    for (; *p; p++)
        FUZZ_CHECK(*p > 0x20 && *p < 0x7f && !strchr("\"<>\\^`{|}#", *p),
                   "endpoint is printable ASCII without spaces or fragment");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    char *issuer = fuzz_line(&in);
    char *body = fuzz_dup_exact(in.p, in.n);
    struct discovery *d = malloc(sizeof(*d)), *again = malloc(sizeof(*d));
    struct sso_error err = SSO_ERROR_INIT, err2 = SSO_ERROR_INIT;
    if (!d || !again)
        abort();
    memset(d, 0xA5, sizeof(*d));
    int rc = discovery_parse(body, in.n, issuer, d, &err);
    FUZZ_CHECK(rc == PAM_SUCCESS || rc == PAM_AUTHINFO_UNAVAIL || rc == PAM_SERVICE_ERR,
               "PAM_SUCCESS, PAM_AUTHINFO_UNAVAIL or PAM_SERVICE_ERR");
    FUZZ_CHECK((rc == PAM_SERVICE_ERR) == (!issuer[0] || strlen(issuer) >= DISCOVERY_URL_MAX),
               "PAM_SERVICE_ERR exactly for an unusable configured issuer");
    int rc2 = discovery_parse(body, in.n, issuer, again, &err2);
    FUZZ_CHECK(rc2 == rc && memcmp(d, again, sizeof(*d)) == 0 && strcmp(err.msg, err2.msg) == 0,
               "deterministic");
    if (rc != PAM_SUCCESS) {
        FUZZ_CHECK(fuzz_all_zero(d, sizeof(*d)), "a failure leaves the struct zeroed");
        FUZZ_CHECK(fuzz_terminated(err.msg, sizeof(err.msg)) && err.msg[0], "reason set");
        for (const char *p = err.msg; *p; p++)
            FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "the reason is printable");
    } else {
        FUZZ_CHECK(strcmp(d->issuer, issuer) == 0, "issuer is the configured one");
        check_url(d->token_endpoint, sizeof(d->token_endpoint), true);
        check_url(d->jwks_uri, sizeof(d->jwks_uri), true);
        check_url(d->device_authorization_endpoint, sizeof(d->device_authorization_endpoint),
                  false);
        FUZZ_CHECK(!(d->auth_methods & ~7u), "only known auth method bits");
        FUZZ_CHECK(d->auth_methods_listed || d->auth_methods == DISCOVERY_AUTH_BASIC,
                   "client_secret_basic when the list is absent");
        FUZZ_CHECK(!(d->id_token_algs & ~JOSE_ALGS_ALL), "only known algorithm bits");
        FUZZ_CHECK(d->id_token_algs_listed || d->id_token_algs == 0, "no algorithms unlisted");
    }
    free(d);
    free(again);
    free(body);
    free(issuer);
    return 0;
}
