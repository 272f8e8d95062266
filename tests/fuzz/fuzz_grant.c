/* fuzz_grant - an OpenID provider's device grant answers (RFC 8628):
 * the device authorization answer, the token answer and the OAuth error
 * member (openid/device_grant.h).
 *
 * Input: one selector byte, then the answer.
 *   '0' (and 3, 6, ...): grant_parse_device
 *   '1': grant_parse_token
 *   '2': grant_error_code
 * Invariants:
 *   - parsers return PAM_SUCCESS, PAM_AUTHINFO_UNAVAIL (with a reason) or
 *     PAM_BUF_ERR;
 *   - device: on success every required string non-empty and terminated, the
 *     user code and URIs of the allow-listed shape, interval 1..600 and
 *     expires_in 1..86400; on failure the whole struct is zero;
 *   - token: on success an id_token of 1..JOSE_TOKEN_MAX bytes without NUL;
 *     on failure none;
 *   - error code: true only for a non-empty code of printable ASCII without
 *     quote or backslash that fits; false leaves it empty. */
#include <security/pam_modules.h>

#include "openid/device_grant.h"
#include "fuzz_common.h"
#include "openid/jose.h"
#include "core/sanitize.h"
#include "core/util.h"

static void check_rc(int rc, const struct sso_error *err)
{
    FUZZ_CHECK(rc == PAM_SUCCESS || rc == PAM_AUTHINFO_UNAVAIL || rc == PAM_BUF_ERR,
               "parsers return PAM_SUCCESS, PAM_AUTHINFO_UNAVAIL or PAM_BUF_ERR");
    FUZZ_CHECK(fuzz_terminated(err->msg, sizeof(err->msg)), "error message terminated");
    if (rc != PAM_SUCCESS)
        FUZZ_CHECK(err->msg[0] != '\0', "a failure carries a reason");
}

static void device(const char *body, size_t len)
{
    struct device_auth d;
    struct sso_error err = SSO_ERROR_INIT;
    memset(&d, 0xA5, sizeof(d));
    int rc = grant_parse_device(body, len, &d, &err);
    check_rc(rc, &err);
    if (rc != PAM_SUCCESS) {
        FUZZ_CHECK(fuzz_all_zero(&d, sizeof(d)), "failed device parse leaves *out zeroed");
        return;
    }
    FUZZ_CHECK(fuzz_terminated(d.device_code, sizeof(d.device_code)) && d.device_code[0],
               "device_code non-empty and terminated");
    FUZZ_CHECK(sanitize_is_user_code(d.user_code), "user_code of the allowed shape");
    FUZZ_CHECK(sanitize_is_https_uri(d.verification_uri), "verification_uri an https URI");
    FUZZ_CHECK(!d.verification_uri_complete[0] ||
                   sanitize_is_https_uri(d.verification_uri_complete),
               "verification_uri_complete empty or an https URI");
    FUZZ_CHECK(d.interval >= 1 && d.interval <= 600, "interval in 1..600");
    FUZZ_CHECK(d.expires_in >= 1 && d.expires_in <= 86400, "expires_in in 1..86400");
}

static void token(const char *body, size_t len)
{
    char *id_token = (char *)0x1;
    struct sso_error err = SSO_ERROR_INIT;
    int rc = grant_parse_token(body, len, &id_token, &err);
    check_rc(rc, &err);
    if (rc != PAM_SUCCESS) {
        FUZZ_CHECK(id_token == NULL, "no id_token after a failure");
        return;
    }
    FUZZ_CHECK(id_token != NULL, "an id_token on success");
    size_t n = strlen(id_token);
    FUZZ_CHECK(n >= 1 && n <= JOSE_TOKEN_MAX, "id_token of 1..JOSE_TOKEN_MAX bytes");
    free(id_token);
}

static void error_code(const char *body, size_t len)
{
    char code[64];
    memset(code, 0xA5, sizeof(code));
    bool ok = grant_error_code(body, len, code, sizeof(code));
    FUZZ_CHECK(fuzz_terminated(code, sizeof(code)), "code terminated");
    if (!ok) {
        FUZZ_CHECK(code[0] == '\0', "no code unless one was found");
        return;
    }
    FUZZ_CHECK(code[0] != '\0', "a found code is non-empty");
    for (const char *p = code; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p <= 0x7e && *p != '"' && *p != '\\',
                   "a found code is printable ASCII without quote or backslash");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % 3;
    char *body = fuzz_dup_exact(data + 1, size - 1);
    if (which == 0)
        device(body, size - 1);
    else if (which == 1)
        token(body, size - 1);
    else
        error_code(body, size - 1);
    free(body);
    return 0;
}
