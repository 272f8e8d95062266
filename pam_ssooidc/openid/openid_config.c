/* openid_config.c - see openid_config.h. */
#include "openid/openid_config.h"

#include <security/pam_modules.h>
#include <string.h>

#include "openid/jose.h"

/* RFC 6749 appendix A.1: client_id is VSCHAR (printable ASCII); a space
 * could not be given on a PAM stanza, so it is refused everywhere. */
static const char *check_client_id(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p <= 0x20 || *p > 0x7e)
            return "must be printable ASCII without spaces";
    return NULL;
}

/* RFC 6749 section 3.3: scope-token = 1*NQCHAR (no space, '"' or '\'). */
static bool is_scope_char(char ch)
{
    return ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != ',';
}

static const char *check_scopes(const char *v)
{
    return cfg_check_list(v, OPENID_SCOPES_MAX, 128, is_scope_char, false,
                          "may contain only printable ASCII other than space, '\"' and '\\' "
                          "(commas separate scopes)",
                          "lists more than 16 scopes");
}

/* Names like RS256 (what they mean is checked against the list of
 * algorithms we verify, by openid_configure). */
static const char *check_alg_names(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!cfg_is_alnum(*p) && *p != ',')
            return "must be algorithm names separated by commas, e.g. RS256,ES256";
    return NULL;
}

/* A claim is one top-level member of the ID token: "groups",
 * "cognito:groups", "https://example.com/roles". */
static const char *check_claim_name(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p <= 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return "must be printable ASCII without spaces, quotes or backslashes";
    return NULL;
}

/* Group names as providers write them: "/linux/admins" (Keycloak), a GUID
 * (Entra), "admins@example.com", "Linux Admins". */
static bool is_group_char(char ch)
{
    return ch > 0x20 && ch < 0x7f && ch != ',';
}

static const char *check_groups(const char *v)
{
    return cfg_check_list(v, OPENID_GROUPS_MAX, 255, is_group_char, true,
                          "may contain only printable ASCII (commas separate groups)",
                          "lists more than 32 groups");
}

static const struct opt_choice client_auth_choices[] = {
    {"auto", OPENID_AUTH_AUTO},
    {"basic", OPENID_AUTH_BASIC},
    {"post", OPENID_AUTH_POST},
    {NULL, 0},
};

_Static_assert(sizeof(enum openid_client_auth) == sizeof(int), "enum options are stored as int");

static const struct opt_choice id_claim_choices[] = {
    {"sub", OPENID_ID_SUB},
    {"oid", OPENID_ID_OID},
    {NULL, 0},
};

_Static_assert(sizeof(enum openid_id_claim) == sizeof(int), "enum options are stored as int");

#define FIELD(f) FIELD_OF(struct openid_cfg, f)

const struct opt openid_options[OPENID_OPTION_COUNT] = {
    {.name = "issuer", .kind = OPT_URL, FIELD(issuer), .flags = OPT_NO_QUERY},
    {.name = "client_id", .kind = OPT_STRING, FIELD(client_id), .check = check_client_id},
    {.name = "client_secret_file", .kind = OPT_PATH, FIELD(client_secret_file)},
    {.name = "client_auth", .kind = OPT_ENUM, FIELD(client_auth), .num_def = OPENID_AUTH_AUTO,
     .choices = client_auth_choices},
    {.name = "scopes", .kind = OPT_STRING, FIELD(scopes), .def = "openid",
     .check = check_scopes},
    {.name = "device_authorization_endpoint", .kind = OPT_URL,
     FIELD(device_authorization_endpoint), .flags = OPT_NO_FRAGMENT},
    {.name = "token_endpoint", .kind = OPT_URL, FIELD(token_endpoint), .flags = OPT_NO_FRAGMENT},
    {.name = "jwks_uri", .kind = OPT_URL, FIELD(jwks_uri), .flags = OPT_NO_FRAGMENT},
    {.name = "id_token_algs", .kind = OPT_STRING, FIELD(id_token_algs),
     .def = "RS256,PS256,ES256", .check = check_alg_names},
    {.name = "username_claim", .kind = OPT_STRING, FIELD(username_claim),
     .def = "preferred_username", .check = check_claim_name},
    {.name = "groups_claim", .kind = OPT_STRING, FIELD(groups_claim), .def = "groups",
     .check = check_claim_name},
    {.name = "required_groups", .kind = OPT_STRING, FIELD(required_groups),
     .check = check_groups},
    {.name = "provision_id_claim", .kind = OPT_ENUM, FIELD(provision_id_claim),
     .num_def = OPENID_ID_SUB, .choices = id_claim_choices},
};

/* A client_id, and required_groups (the counterpart of AWS's permission
 * sets) or allow_any_approver. */
static int policy(const struct cfg *c, const struct openid_cfg *o, unsigned flags,
                  struct sso_error *err)
{
    bool have_mapping = c->username_suffix[0] != '\0' || c->user_map[0] != '\0';
    bool have_groups = o->required_groups[0] != '\0';
    if (o->client_id[0] == '\0' && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "client_id is required with issuer (the client "
                        "registered for this host at the provider)");
    if (o->client_auth != OPENID_AUTH_AUTO && !o->client_secret_file[0])
        return sso_fail(err, PAM_SERVICE_ERR, "client_auth = %s needs client_secret_file (a "
                        "public client sends no secret)",
                        o->client_auth == OPENID_AUTH_BASIC ? "basic" : "post");
    if (c->allow_any_approver && (have_groups || have_mapping))
        return sso_fail(err, PAM_SERVICE_ERR, "allow_any_approver contradicts %s: choose one "
                        "policy", have_groups ? "required_groups" : "the user mapping");
    if (!have_groups && !c->allow_any_approver && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "no identity policy: set required_groups (the "
                        "groups in the ID token's %s claim that may log in), or "
                        "allow_any_approver (anyone the provider signs in may then log in)",
                        o->groups_claim);
    return PAM_SUCCESS;
}

int openid_allowed_algs(const struct openid_cfg *o, unsigned *algs, struct sso_error *err)
{
    struct sso_error why = SSO_ERROR_INIT;
    if (jose_alg_list(o->id_token_algs, algs, &why) != PAM_SUCCESS)
        return sso_fail(err, PAM_SERVICE_ERR, "id_token_algs: %s", why.msg);
    return PAM_SUCCESS;
}

int openid_configure(const struct cfg *c, void *part, unsigned flags, struct sso_error *err)
{
    const struct openid_cfg *o = part;
    unsigned algs;
    if (c->provision == CFG_PROVISION_SYNC)
        return sso_fail(err, PAM_SERVICE_ERR, "provision = sync reads an IAM Identity Center "
                        "directory (start_url, identity_store_id): with an OpenID provider use "
                        "provision = login");
    int rc = policy(c, o, flags, err);
    return rc == PAM_SUCCESS ? openid_allowed_algs(o, &algs, err) : rc;
}
