/* fuzz_config - cfg_load_text: the config file parser, the PAM stanza
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

#include "core/config.h"
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

static void check_aws(const struct cfg *c)
{
    FUZZ_CHECK(https_url(c->start_url), "start_url is an https:// URL");
    FUZZ_CHECK(base_url(c->oidc_endpoint), "oidc_endpoint is an https:// base URL");
    FUZZ_CHECK(base_url(c->portal_endpoint), "portal_endpoint is an https:// base URL");
    FUZZ_CHECK(base_url(c->sts_endpoint), "sts_endpoint is an https:// base URL");
    bool have_account = c->account_id[0] != '\0', have_role = c->role_name[0] != '\0';
    FUZZ_CHECK(have_account == have_role, "account_id and role_name set together");
    FUZZ_CHECK(c->allow_any_approver || (have_account && have_role),
               "an identity policy: allow_any_approver or account_id + role_name");
    if (have_account)
        FUZZ_CHECK(strlen(c->account_id) == 12 && fuzz_only(c->account_id, "0123456789"),
                   "account_id is 12 digits");
    if (have_role)
        FUZZ_CHECK(strlen(c->role_name) <= 64 &&
                       fuzz_only(c->role_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                                               "VWXYZ0123456789+=,.@_-"),
                   "role_name is URL-safe (it is pasted into the portal URL)");
    FUZZ_CHECK(c->region[0] && fuzz_only(c->region, "abcdefghijklmnopqrstuvwxyz0123456789-"),
               "region well-formed");
    FUZZ_CHECK(c->client_name[0] != '\0', "client_name set (explicitly or from the host name)");
    FUZZ_CHECK(!c->client_id[0] && !c->required_groups[0] && !c->client_secret_file[0],
               "no OpenID option with start_url");
}

static void check_openid(const struct cfg *c)
{
    FUZZ_CHECK(base_url(c->issuer), "issuer is an https:// URL without query or fragment");
    FUZZ_CHECK(c->client_id[0] != '\0', "client_id set");
    FUZZ_CHECK(c->allow_any_approver != (c->required_groups[0] != '\0'),
               "an identity policy: allow_any_approver or required_groups, not both");
    FUZZ_CHECK(!c->account_id[0] && !c->role_name[0] && !c->oidc_endpoint[0] &&
                   !c->sts_endpoint[0] && !c->client_name[0],
               "no AWS option set or derived with issuer");
    FUZZ_CHECK(c->client_auth == CFG_AUTH_AUTO || c->client_secret_file[0],
               "client_auth basic/post only with client_secret_file");
    FUZZ_CHECK(c->scopes[0] && c->username_claim[0] && c->groups_claim[0] && c->id_token_algs[0],
               "scopes, username_claim, groups_claim and id_token_algs never empty");
    FUZZ_CHECK(!strpbrk(c->device_authorization_endpoint, "#") &&
                   !strpbrk(c->token_endpoint, "#") && !strpbrk(c->jwks_uri, "#"),
               "endpoint overrides without fragment");
}

static void check_ok(const struct cfg *c)
{
#define TERM(f) FUZZ_CHECK(fuzz_terminated(c->f, sizeof(c->f)), #f " terminated")
    TERM(conf_path);
    TERM(start_url);
    TERM(issuer);
    TERM(client_id);
    TERM(client_secret_file);
    TERM(scopes);
    TERM(device_authorization_endpoint);
    TERM(token_endpoint);
    TERM(jwks_uri);
    TERM(id_token_algs);
    TERM(username_claim);
    TERM(groups_claim);
    TERM(required_groups);
    TERM(region);
    TERM(oidc_endpoint);
    TERM(portal_endpoint);
    TERM(sts_endpoint);
    TERM(ca_file);
    TERM(cache_dir);
    TERM(client_name);
    TERM(account_id);
    TERM(role_name);
    TERM(username_suffix);
    TERM(user_map);
#undef TERM
    FUZZ_CHECK(c->timeout >= 10 && c->timeout <= 3600, "timeout in 10..3600");
    FUZZ_CHECK(c->http_timeout >= 1 && c->http_timeout <= 120, "http_timeout in 1..120");
    FUZZ_CHECK(c->prompt == CFG_PROMPT_AUTO || c->prompt == CFG_PROMPT_ALWAYS ||
                   c->prompt == CFG_PROMPT_NEVER,
               "prompt is auto, always or never");
    FUZZ_CHECK(c->conf_path[0] == '/', "conf_path absolute");
    FUZZ_CHECK(c->cache_dir[0] == '/', "cache_dir absolute");
    FUZZ_CHECK(abs_path_or_empty(c->ca_file), "ca_file absolute or unset");
    FUZZ_CHECK(abs_path_or_empty(c->user_map), "user_map absolute or unset");
    FUZZ_CHECK(c->username_suffix[0] == '\0' || c->username_suffix[0] == '@',
               "username_suffix empty or starts with '@'");
    FUZZ_CHECK((c->start_url[0] != '\0') != (c->issuer[0] != '\0'),
               "exactly one of start_url and issuer");
    if (cfg_is_openid(c))
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

    struct cfg *c = malloc(sizeof(*c)), *again = malloc(sizeof(*again));
    if (!c || !again)
        abort();
    struct sso_error err = SSO_ERROR_INIT;
    memset(c, 0xA5, sizeof(*c));
    int rc = cfg_load_text(c, text, argc, (const char **)args, &err);
    FUZZ_CHECK(rc == PAM_SUCCESS || rc == PAM_SERVICE_ERR, "PAM_SUCCESS or PAM_SERVICE_ERR");
    FUZZ_CHECK(fuzz_terminated(err.msg, sizeof(err.msg)), "reason terminated");
    if (rc == PAM_SUCCESS) {
        check_ok(c);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0', "a failure carries a reason");
        FUZZ_CHECK(fuzz_all_zero(c, sizeof(*c)), "a failure leaves the struct zeroed");
    }
    memset(again, 0x5A, sizeof(*again));
    int rc2 = cfg_load_text(again, text, argc, (const char **)args, &err);
    FUZZ_CHECK(rc2 == rc && memcmp(c, again, sizeof(*c)) == 0, "deterministic");

    free(c);
    free(again);
    free(text);
    for (int i = 0; i < argc; i++)
        free(args[i]);
    return 0;
}
