/* fuzz_portal - portal_parse_credentials (GetRoleCredentials answer).
 *
 * Input: the answer body.
 * Invariants: PAM_SUCCESS or PAM_AUTHINFO_UNAVAIL (with a reason); success
 * means three non-empty, terminated fields and an access key id of
 * [A-Z0-9]+ only; failure leaves the struct zeroed (no secret survives);
 * the parse is deterministic. */
#include <security/pam_modules.h>

#include "fuzz_common.h"
#include "aws/portal.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_dup_exact(data, size);
    struct role_credentials c, again;
    struct sso_error err = SSO_ERROR_INIT;
    memset(&c, 0xA5, sizeof(c));
    int rc = portal_parse_credentials(body, size, &c, &err);
    FUZZ_CHECK(rc == PAM_SUCCESS || rc == PAM_AUTHINFO_UNAVAIL,
               "PAM_SUCCESS or PAM_AUTHINFO_UNAVAIL");
    FUZZ_CHECK(fuzz_terminated(err.msg, sizeof(err.msg)), "reason terminated");
    if (rc != PAM_SUCCESS) {
        FUZZ_CHECK(err.msg[0] != '\0', "a failure carries a reason");
        FUZZ_CHECK(fuzz_all_zero(&c, sizeof(c)), "failure leaves the credentials zeroed");
    } else {
        FUZZ_CHECK(fuzz_terminated(c.access_key_id, sizeof(c.access_key_id)) &&
                       c.access_key_id[0],
                   "accessKeyId non-empty and terminated");
        FUZZ_CHECK(fuzz_only(c.access_key_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                   "accessKeyId is [A-Z0-9]+");
        FUZZ_CHECK(fuzz_terminated(c.secret_access_key, sizeof(c.secret_access_key)) &&
                       c.secret_access_key[0],
                   "secretAccessKey non-empty and terminated");
        FUZZ_CHECK(fuzz_terminated(c.session_token, sizeof(c.session_token)) &&
                       c.session_token[0],
                   "sessionToken non-empty and terminated");
    }
    memset(&again, 0x5A, sizeof(again));
    int rc2 = portal_parse_credentials(body, size, &again, &err);
    FUZZ_CHECK(rc2 == rc, "deterministic verdict");
    if (rc == PAM_SUCCESS)
        FUZZ_CHECK(strcmp(c.access_key_id, again.access_key_id) == 0 &&
                       strcmp(c.secret_access_key, again.secret_access_key) == 0 &&
                       strcmp(c.session_token, again.session_token) == 0,
                   "deterministic fields");
    free(body);
    return 0;
}
