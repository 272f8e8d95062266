/* fuzz_directory - what pam_ssooidc_sync reads from outside: the
 * credentials file (aws/credfile.h) and an Identity Store user record
 * (aws/diruser.h), then the mapping of its name to a local name
 * (core/usermap.h) as the sync makes it.
 *
 * Input: the first byte chooses; 'c' and the rest is a credentials file,
 * anything else and the rest is a User object's JSON.
 * Invariants: the credentials parser succeeds only with both keys set and
 * otherwise says why; a user record either marks the person's problem or
 * gives a name of 1..128 bytes of valid UTF-8 with no control character
 * and a status the model knows; the problem text holds no control
 * character; a local name made from an accepted name is never longer than
 * the name and, with fold_case, holds no ASCII capital. */
#include "fuzz_common.h"

#include <jansson.h>
#include <security/pam_modules.h>

#include "aws/credfile.h"
#include "aws/diruser.h"
#include "core/config.h"
#include "core/usermap.h"
#include "core/util.h"

static void credentials(const uint8_t *data, size_t size)
{
    char *text = fuzz_dup_cstr(data, size);
    struct role_credentials rc_out;
    struct sso_error err = SSO_ERROR_INIT;
    memset(&rc_out, 0, sizeof(rc_out));
    int rc = credfile_parse("/fuzz/credentials", text, &rc_out, &err);
    if (rc == PAM_SUCCESS)
        FUZZ_CHECK(rc_out.access_key_id[0] && rc_out.secret_access_key[0],
                   "a file that parses gives both keys");
    else
        FUZZ_CHECK(err.msg[0] != '\0', "a refusal says why");
    free(text);
}

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

static void user_record(const uint8_t *data, size_t size)
{
    json_t *user = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    if (!json_is_object(user)) {
        json_decref(user);
        return;
    }
    struct directory_person p;
    memset(&p, 0, sizeof(p));
    diruser_fill(&p, user);
    FUZZ_CHECK(!has_control(p.problem), "the problem text is safe to print");
    if (!p.problem[0]) {
        size_t n = strlen(p.user_name);
        bool control = true;
        FUZZ_CHECK(n >= 1 && n <= DIRECTORY_NAME_MAX, "an accepted name has 1..128 bytes");
        FUZZ_CHECK(diruser_utf8(p.user_name, n, &control) && !control,
                   "an accepted name is valid UTF-8 without a control character");
        struct cfg c;
        memset(&c, 0, sizeof(c));
        c.fold_case = (data[0] & 1) != 0;
        struct usermap m = {NULL, 0};
        char local[64];
        struct sso_error err = SSO_ERROR_INIT;
        if (usermap_local_name(&c, &m, p.user_name, local, sizeof(local), &err) == PAM_SUCCESS) {
            FUZZ_CHECK(strlen(local) <= n, "a local name is never longer than the name");
            for (const char *q = local; c.fold_case && *q; q++)
                FUZZ_CHECK(!(*q >= 'A' && *q <= 'Z'), "fold_case leaves no ASCII capital");
        }
    }
    json_decref(user);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] == 'c')
        credentials(data + 1, size - 1);
    else
        user_record(data + 1, size - 1);
    return 0;
}
