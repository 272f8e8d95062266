/* fuzz_oidc - the SSO OIDC answer parsers and the restJson1 error decoder.
 *
 * Input: one selector byte, then the answer.
 *   '0' (and 4, 8, ...): ssooidc_parse_registration (RegisterClient body)
 *   '1': ssooidc_parse_device (StartDeviceAuthorization body)
 *   '2': ssooidc_parse_token (CreateToken body)
 *   '3': aws_error_decode: the first line is the x-amzn-ErrorType header
 *        value, the rest the error body.
 * Invariants:
 *   - the return code is PAM_SUCCESS or PAM_AUTHINFO_UNAVAIL (with a reason);
 *   - PAM_SUCCESS: every required string non-empty and NUL-terminated inside
 *     its array, integers within the documented ranges (interval 1..600,
 *     expires_in 1..86400, times within 0..2^40);
 *   - failure: the whole output struct is zero (nothing half-filled or
 *     secret survives);
 *   - aws_error: type and message terminated, type empty or free of ':' and
 *     '#', and decoding is deterministic. */
#include <security/pam_modules.h>

#include "aws/awserr.h"
#include "fuzz_common.h"
#include "aws/ssooidc.h"
#include "core/util.h"

static void check_rc(int rc, const struct sso_error *err)
{
    FUZZ_CHECK(rc == PAM_SUCCESS || rc == PAM_AUTHINFO_UNAVAIL,
               "parsers return PAM_SUCCESS or PAM_AUTHINFO_UNAVAIL");
    FUZZ_CHECK(fuzz_terminated(err->msg, sizeof(err->msg)), "error message terminated");
    if (rc != PAM_SUCCESS)
        FUZZ_CHECK(err->msg[0] != '\0', "a failure carries a reason");
}

static void registration(const char *body, size_t len)
{
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    memset(&r, 0xA5, sizeof(r)); /* stale garbage must not survive */
    int rc = ssooidc_parse_registration(body, len, &r, &err);
    check_rc(rc, &err);
    if (rc != PAM_SUCCESS) {
        FUZZ_CHECK(fuzz_all_zero(&r, sizeof(r)), "failed registration parse leaves *out zeroed");
        return;
    }
    FUZZ_CHECK(fuzz_terminated(r.client_id, sizeof(r.client_id)) && r.client_id[0],
               "clientId non-empty and terminated");
    FUZZ_CHECK(fuzz_terminated(r.client_secret, sizeof(r.client_secret)) && r.client_secret[0],
               "clientSecret non-empty and terminated");
    FUZZ_CHECK(r.issued_at >= 0 && r.issued_at <= (1LL << 40), "clientIdIssuedAt in range");
    FUZZ_CHECK(r.expires_at >= 1 && r.expires_at <= (1LL << 40), "clientSecretExpiresAt in range");
}

static void device(const char *body, size_t len)
{
    struct device_auth d;
    struct sso_error err = SSO_ERROR_INIT;
    memset(&d, 0xA5, sizeof(d));
    int rc = ssooidc_parse_device(body, len, &d, &err);
    check_rc(rc, &err);
    if (rc != PAM_SUCCESS) {
        FUZZ_CHECK(fuzz_all_zero(&d, sizeof(d)), "failed device parse leaves *out zeroed");
        FUZZ_CHECK(d.device_code[0] == '\0', "no device code after a failure");
        return;
    }
    FUZZ_CHECK(fuzz_terminated(d.device_code, sizeof(d.device_code)) && d.device_code[0],
               "deviceCode non-empty and terminated");
    FUZZ_CHECK(fuzz_terminated(d.user_code, sizeof(d.user_code)) && d.user_code[0],
               "userCode non-empty and terminated");
    FUZZ_CHECK(fuzz_terminated(d.verification_uri, sizeof(d.verification_uri)) &&
                   d.verification_uri[0],
               "verificationUri non-empty and terminated");
    FUZZ_CHECK(fuzz_terminated(d.verification_uri_complete, sizeof(d.verification_uri_complete)),
               "verificationUriComplete terminated (it is optional)");
    FUZZ_CHECK(d.interval >= 1 && d.interval <= 600, "interval in 1..600");
    FUZZ_CHECK(d.expires_in >= 1 && d.expires_in <= 86400, "expiresIn in 1..86400");
}

static void token(const char *body, size_t len)
{
    struct ssooidc_token t;
    struct sso_error err = SSO_ERROR_INIT;
    memset(&t, 0xA5, sizeof(t));
    int rc = ssooidc_parse_token(body, len, &t, &err);
    check_rc(rc, &err);
    if (rc != PAM_SUCCESS) {
        FUZZ_CHECK(fuzz_all_zero(&t, sizeof(t)), "failed token parse leaves *out zeroed");
        return;
    }
    FUZZ_CHECK(fuzz_terminated(t.access_token, sizeof(t.access_token)) && t.access_token[0],
               "accessToken non-empty and terminated");
}

static void check_aws_error(const struct aws_error *e)
{
    FUZZ_CHECK(fuzz_terminated(e->type, sizeof(e->type)), "error type terminated");
    FUZZ_CHECK(fuzz_terminated(e->message, sizeof(e->message)), "error message terminated");
    FUZZ_CHECK(strchr(e->type, ':') == NULL, "error type holds no ':' (namespace cut off)");
    FUZZ_CHECK(strchr(e->type, '#') == NULL,
               "error type holds no '#' (namespace cut off)");
}

static void error_answer(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    char *header = fuzz_line(&in); /* ends at the first NUL, like a C string */
    char *body = fuzz_dup_exact(in.p, in.n);
    struct aws_error e1, e2;
    memset(&e1, 0xA5, sizeof(e1));
    memset(&e2, 0x5A, sizeof(e2));
    aws_error_decode(header, body, in.n, &e1);
    check_aws_error(&e1);
    aws_error_decode(header, body, in.n, &e2);
    FUZZ_CHECK(strcmp(e1.type, e2.type) == 0 && strcmp(e1.message, e2.message) == 0,
               "aws_error_decode is deterministic");
    /* Without the header, the body alone must also decode sanely. */
    aws_error_decode(NULL, body, in.n, &e2);
    check_aws_error(&e2);
    FUZZ_CHECK(strcmp(e1.message, e2.message) == 0, "the message comes from the body only");
    FUZZ_CHECK(strcmp(e1.type, e2.type) == 0 || (e1.type[0] && strstr(header, e1.type)),
               "the type differs from the body's only when the header supplied it");
    free(header);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % 4;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    if (which == 3) {
        error_answer(rest, n);
        return 0;
    }
    char *body = fuzz_dup_exact(rest, n);
    if (which == 0)
        registration(body, n);
    else if (which == 1)
        device(body, n);
    else
        token(body, n);
    free(body);
    return 0;
}
