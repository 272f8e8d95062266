/* fuzz_config - settings_load_text: the config file parser, the PAM stanza
 * parser and the validation that runs after both.
 *
 * Input: one digit N (the byte's value mod 4), then N lines that become
 * argv (the stanza), then the config file text.
 * Invariants:
 *   - PAM_SUCCESS or PAM_SERVICE_ERR (with a reason); a failure leaves the
 *     whole struct zeroed (no half-applied policy);
 *   - success: every string terminated within its array; exactly one of
 *     start_url and issuer; timeout 10..3600, http_timeout 1..120; prompt
 *     one of the three values; paths absolute where set;
 *     AWS: start_url and the three endpoints https:// URLs, endpoints
 *     without query or fragment; an identity policy: allow_any_approver, or
 *     account_id (12 digits) and role_name both set; region well-formed;
 *     no OpenID option set;
 *     OpenID: issuer an https:// URL without query or fragment, client_id
 *     set, an identity policy: allow_any_approver or required_groups (not
 *     both); no AWS option set, nothing of AWS derived; client_auth other
 *     than auto only with client_secret_file;
 *   - loading the same input twice gives the same struct. */
#include <security/pam_modules.h>
#include <strings.h>

#include "settings.h"
#include "fuzz_common.h"
#include "core/util.h"

#define MAX_ARGS 3

static bool https_url(const char *s)
{
    return strncasecmp(s, "https://", 8) == 0 && s[8] != '\0' && s[8] != '/';
}

static bool base_url(const char *s)
{
    return https_url(s) && !strpbrk(s, "?# ");
}

static bool abs_path_or_empty(const char *s)
{
    return s[0] == '\0' || s[0] == '/';
}

static void check_aws(const struct settings *c)
{
    FUZZ_CHECK(https_url(c->aws.start_url), "start_url is an https:// URL");
    FUZZ_CHECK(base_url(c->aws.oidc_endpoint), "oidc_endpoint is an https:// base URL");
    FUZZ_CHECK(base_url(c->aws.portal_endpoint), "portal_endpoint is an https:// base URL");
    FUZZ_CHECK(base_url(c->aws.sts_endpoint), "sts_endpoint is an https:// base URL");
    bool have_account = c->aws.account_id[0] != '\0', have_role = c->aws.role_name[0] != '\0';
    FUZZ_CHECK(have_account == have_role, "account_id and role_name set together");
    FUZZ_CHECK(c->common.allow_any_approver || (have_account && have_role),
               "an identity policy: allow_any_approver or account_id + role_name");
    if (have_account)
        FUZZ_CHECK(strlen(c->aws.account_id) == 12 && fuzz_only(c->aws.account_id, "0123456789"),
                   "account_id is 12 digits");
    if (have_role)
        FUZZ_CHECK(strlen(c->aws.role_name) <= 64 &&
                       fuzz_only(c->aws.role_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                                               "VWXYZ0123456789+=,.@_-"),
                   "role_name is URL-safe (it is pasted into the portal URL)");
    FUZZ_CHECK(c->aws.region[0] &&
                   fuzz_only(c->aws.region, "abcdefghijklmnopqrstuvwxyz0123456789-"),
               "region well-formed");
    FUZZ_CHECK(c->aws.client_name[0] != '\0', "client_name set (explicitly or from the host name)");
    FUZZ_CHECK(!c->openid.client_id[0] && !c->openid.required_groups[0] &&
                   !c->openid.client_secret_file[0],
               "no OpenID option with start_url");
}

static void check_openid(const struct settings *c)
{
    FUZZ_CHECK(base_url(c->openid.issuer), "issuer is an https:// URL without query or fragment");
    FUZZ_CHECK(c->openid.client_id[0] != '\0', "client_id set");
    FUZZ_CHECK(c->common.allow_any_approver != (c->openid.required_groups[0] != '\0'),
               "an identity policy: allow_any_approver or required_groups, not both");
    FUZZ_CHECK(!c->aws.account_id[0] && !c->aws.role_name[0] && !c->aws.oidc_endpoint[0] &&
                   !c->aws.sts_endpoint[0] && !c->aws.client_name[0],
               "no AWS option set or derived with issuer");
    FUZZ_CHECK(c->openid.client_auth == OPENID_AUTH_AUTO || c->openid.client_secret_file[0],
               "client_auth basic/post only with client_secret_file");
    FUZZ_CHECK(c->openid.scopes[0] && c->openid.username_claim[0] && c->openid.groups_claim[0] &&
                   c->openid.id_token_algs[0],
               "scopes, username_claim, groups_claim and id_token_algs never empty");
    FUZZ_CHECK(!strpbrk(c->openid.device_authorization_endpoint, "#") &&
                   !strpbrk(c->openid.token_endpoint, "#") && !strpbrk(c->openid.jwks_uri, "#"),
               "endpoint overrides without fragment");
}

static void check_ok(const struct settings *c)
{
#define TERM(f) FUZZ_CHECK(fuzz_terminated(c->f, sizeof(c->f)), #f " terminated")
    TERM(common.conf_path);
    TERM(aws.start_url);
    TERM(openid.issuer);
    TERM(openid.client_id);
    TERM(openid.client_secret_file);
    TERM(openid.scopes);
    TERM(openid.device_authorization_endpoint);
    TERM(openid.token_endpoint);
    TERM(openid.jwks_uri);
    TERM(openid.id_token_algs);
    TERM(openid.username_claim);
    TERM(openid.groups_claim);
    TERM(openid.required_groups);
    TERM(aws.region);
    TERM(aws.oidc_endpoint);
    TERM(aws.portal_endpoint);
    TERM(aws.sts_endpoint);
    TERM(common.ca_file);
    TERM(common.cache_dir);
    TERM(aws.client_name);
    TERM(aws.account_id);
    TERM(aws.role_name);
    TERM(common.username_suffix);
    TERM(common.user_map);
#undef TERM
    FUZZ_CHECK(c->common.timeout >= 10 && c->common.timeout <= 3600, "timeout in 10..3600");
    FUZZ_CHECK(c->common.http_timeout >= 1 && c->common.http_timeout <= 120,
               "http_timeout in 1..120");
    FUZZ_CHECK(c->common.prompt == CFG_PROMPT_AUTO || c->common.prompt == CFG_PROMPT_ALWAYS ||
                   c->common.prompt == CFG_PROMPT_NEVER,
               "prompt is auto, always or never");
    FUZZ_CHECK(c->common.conf_path[0] == '/', "conf_path absolute");
    FUZZ_CHECK(c->common.cache_dir[0] == '/', "cache_dir absolute");
    FUZZ_CHECK(abs_path_or_empty(c->common.ca_file), "ca_file absolute or unset");
    FUZZ_CHECK(abs_path_or_empty(c->common.user_map), "user_map absolute or unset");
    FUZZ_CHECK(c->common.username_suffix[0] == '\0' || c->common.username_suffix[0] == '@',
               "username_suffix empty or starts with '@'");
    FUZZ_CHECK((c->aws.start_url[0] != '\0') != (c->openid.issuer[0] != '\0'),
               "exactly one of start_url and issuer");
    if (provider_select(c) == &provider_openid)
        check_openid(c);
    else
        check_aws(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    int argc = fuzz_byte(&in) % (MAX_ARGS + 1);
    char *args[MAX_ARGS] = {NULL};
    for (int i = 0; i < argc; i++)
        args[i] = fuzz_line(&in);
    char *text = fuzz_dup_cstr(in.p, in.n);

    struct settings *c = malloc(sizeof(*c)), *again = malloc(sizeof(*again));
    if (!c || !again)
        abort();
    struct sso_error err = SSO_ERROR_INIT;
    memset(c, 0xA5, sizeof(*c));
    int rc = settings_load_text(c, text, argc, (const char **)args, &err);
    FUZZ_CHECK(rc == PAM_SUCCESS || rc == PAM_SERVICE_ERR, "PAM_SUCCESS or PAM_SERVICE_ERR");
    FUZZ_CHECK(fuzz_terminated(err.msg, sizeof(err.msg)), "reason terminated");
    if (rc == PAM_SUCCESS) {
        check_ok(c);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0', "a failure carries a reason");
        FUZZ_CHECK(fuzz_all_zero(c, sizeof(*c)), "a failure leaves the struct zeroed");
    }
    memset(again, 0x5A, sizeof(*again));
    int rc2 = settings_load_text(again, text, argc, (const char **)args, &err);
    FUZZ_CHECK(rc2 == rc && memcmp(c, again, sizeof(*c)) == 0, "deterministic");

    free(c);
    free(again);
    free(text);
    for (int i = 0; i < argc; i++)
        free(args[i]);
    return 0;
}
