/* provider_openid.c - any OpenID provider with the device grant, behind the
 * provider seam (provider.h): the discovery document and the JWKS
 * (documents.h), the client secret from a
 * root-only file, RFC 8628's two calls (device_grant.h), and the approver
 * read from an ID token verified before a single claim is believed
 * (jose.h; docs/id-token-verification.md). */
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "openid/device_grant.h"
#include "openid/discovery.h"
#include "openid/documents.h"
#include "openid/jose.h"
#include "openid/openid_config.h"
#include "provider.h"
#include "core/sanitize.h"
#include "core/trust.h"

#define SECRET_MAX 1024         /* bytes of a client secret */
#define ID_TOKEN_LIFETIME_MAX 86400 /* seconds from iat to exp: providers say minutes or hours */

struct openid_state {
    struct discovery disco; /* the endpoints, after the options' overrides */
    unsigned algs;          /* id_token_algs */
    char secret[SECRET_MAX];
    char scope[600];
    struct grant_client client;
    struct jose_jwks *keys;
    bool keys_fetched; /* fetched from the provider during this login */
    char *id_token;    /* the approval's, until identify has read it */
    time_t started;    /* wall clock when the device authorization was asked for */
    json_t *claims;    /* the verified claims, kept for facts under provision */
};

static int load_keys(struct provider_ctx *p)
{
    struct openid_state *s = p->state;
    return documents_keys(p, s->disco.jwks_uri, &s->keys, &s->keys_fetched);
}

/* The token names a key we do not hold: the provider may have rotated its
 * keys. Fetch the JWKS again - once per login, and not if any login did so
 * within the floor (then its copy is the one to use). */
static int reload_keys(struct provider_ctx *p)
{
    struct openid_state *s = p->state;
    if (s->keys_fetched)
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "%s (in a JWKS fetched during this login)",
                        p->err->msg);
    char unknown[sizeof(p->err->msg)];
    sso_strlcpy(unknown, p->err->msg, sizeof(unknown));
    bool fetched;
    int rc = documents_refresh_keys(p, s->disco.jwks_uri, &s->keys, &fetched);
    s->keys_fetched = true;
    if (rc == PAM_SUCCESS)
        provider_log(p, LOG_NOTICE, "%s; %s", unknown,
                     fetched ? "fetched the JWKS again"
                             : "another login fetched the JWKS within 10 s: using its copy");
    return rc;
}

/* ---- the client ---- */

/* The secret: root's file, mode 0600 or stricter, one line. */
static int load_secret(struct provider_ctx *p, struct openid_state *s)
{
    const char *path = OPENID_CFG(p)->client_secret_file;
    int fd = -1;
    if (!path[0])
        return PAM_SUCCESS; /* a public client */
    int rc = trust_open_file(path, "client_secret_file", &fd, p->err);
    if (rc == PAM_NO_MODULE_DATA)
        return sso_fail(p->err, PAM_SERVICE_ERR, "client_secret_file %s does not exist", path);
    if (rc != PAM_SUCCESS)
        return rc;
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) != 0)
        rc = sso_fail(p->err, PAM_SERVICE_ERR, "client_secret_file %s: cannot stat it", path);
    else if (st.st_mode & 077)
        rc = sso_fail(p->err, PAM_SERVICE_ERR, "client_secret_file %s has mode %04o: others "
                      "may read it (chmod 600)", path, (unsigned)(st.st_mode & 07777));
    else if ((n = read(fd, s->secret, sizeof(s->secret))) < 0)
        rc = sso_fail(p->err, PAM_SERVICE_ERR, "client_secret_file %s: read error", path);
    close(fd);
    if (rc != PAM_SUCCESS)
        return rc;
    size_t len = (size_t)n;
    if (len == sizeof(s->secret))
        rc = sso_fail(p->err, PAM_SERVICE_ERR, "client_secret_file %s: longer than %d bytes",
                      path, SECRET_MAX - 1);
    if (rc == PAM_SUCCESS && len && s->secret[len - 1] == '\n')
        len--;
    if (rc == PAM_SUCCESS && len && s->secret[len - 1] == '\r')
        len--;
    for (size_t i = 0; rc == PAM_SUCCESS && i < len; i++)
        if ((unsigned char)s->secret[i] < 0x20 || (unsigned char)s->secret[i] > 0x7e)
            rc = sso_fail(p->err, PAM_SERVICE_ERR, "client_secret_file %s: the secret must be "
                          "one line of printable ASCII", path);
    if (rc == PAM_SUCCESS && len == 0)
        rc = sso_fail(p->err, PAM_SERVICE_ERR, "client_secret_file %s is empty", path);
    if (rc != PAM_SUCCESS) {
        sso_cleanse(s->secret, sizeof(s->secret));
        return rc;
    }
    s->secret[len] = '\0';
    return PAM_SUCCESS;
}

/* "openid" first, then the configured scopes, space-separated. */
static void build_scope(const struct openid_cfg *c, char *dst, size_t len)
{
    size_t used = (size_t)snprintf(dst, len, "openid");
    for (const char *q = c->scopes; *q && used < len;) {
        size_t n = strcspn(q, ",");
        if (!(n == 6 && strncmp(q, "openid", 6) == 0))
            used += (size_t)snprintf(dst + used, len - used, " %.*s", (int)n, q);
        q += n + (q[n] == ',');
    }
}

/* HTTP Basic or the body, as client_auth says; `auto` follows the
 * discovery document (Basic when it lists it or lists nothing: RFC 8414). */
static int choose_client_auth(struct provider_ctx *p, struct openid_state *s)
{
    const struct openid_cfg *c = OPENID_CFG(p);
    s->client.basic = false;
    if (!s->secret[0])
        return PAM_SUCCESS;
    if (c->client_auth != OPENID_AUTH_AUTO) {
        s->client.basic = c->client_auth == OPENID_AUTH_BASIC;
        return PAM_SUCCESS;
    }
    if (s->disco.auth_methods & DISCOVERY_AUTH_BASIC)
        s->client.basic = true;
    else if (!(s->disco.auth_methods & DISCOVERY_AUTH_POST))
        return sso_fail(p->err, PAM_SERVICE_ERR, "the provider lists neither "
                        "client_secret_basic nor client_secret_post for client "
                        "authentication: set client_auth if it accepts one of them");
    return PAM_SUCCESS;
}

/* The options' endpoints over the discovery document's. */
static int apply_overrides(struct provider_ctx *p, struct openid_state *s)
{
    const struct openid_cfg *c = OPENID_CFG(p);
    struct discovery *d = &s->disco;
    if (c->device_authorization_endpoint[0])
        sso_strlcpy(d->device_authorization_endpoint, c->device_authorization_endpoint,
                    sizeof(d->device_authorization_endpoint));
    if (c->token_endpoint[0])
        sso_strlcpy(d->token_endpoint, c->token_endpoint, sizeof(d->token_endpoint));
    if (c->jwks_uri[0])
        sso_strlcpy(d->jwks_uri, c->jwks_uri, sizeof(d->jwks_uri));
    if (!d->device_authorization_endpoint[0])
        return sso_fail(p->err, PAM_SERVICE_ERR, "the provider's discovery document names no "
                        "device_authorization_endpoint (is the device grant enabled?): set "
                        "device_authorization_endpoint");
    return PAM_SUCCESS;
}

/* ---- the seam ---- */

static int openid_open(struct provider_ctx *p)
{
    struct openid_state *s = calloc(1, sizeof(*s));
    if (!s)
        return sso_fail(p->err, PAM_BUF_ERR, "out of memory");
    p->state = s;
    build_scope(OPENID_CFG(p), s->scope, sizeof(s->scope));
    s->client = (struct grant_client){OPENID_CFG(p)->client_id, s->secret, false, s->scope};
    int rc = openid_allowed_algs(OPENID_CFG(p), &s->algs, p->err);
    if (rc == PAM_SUCCESS)
        rc = load_secret(p, s);
    if (rc == PAM_SUCCESS)
        rc = documents_discover(p, &s->disco);
    if (rc == PAM_SUCCESS)
        rc = apply_overrides(p, s);
    if (rc == PAM_SUCCESS)
        rc = choose_client_auth(p, s);
    /* Before the person is shown a code: a provider whose keys cannot be
     * had would waste their approval. */
    if (rc == PAM_SUCCESS)
        rc = load_keys(p);
    return rc;
}

static int openid_start(struct provider_ctx *p, struct device_auth *dev)
{
    struct openid_state *s = p->state;
    s->started = time(NULL);
    return grant_start(p->http, &s->client, s->disco.device_authorization_endpoint, dev,
                       p->err);
}

static int openid_poll(struct provider_ctx *p, const struct device_auth *dev,
                       enum poll_result *result)
{
    struct openid_state *s = p->state;
    char *id_token = NULL;
    int rc = grant_poll(p->http, &s->client, s->disco.token_endpoint, dev, result, &id_token,
                        p->err);
    if (id_token)
        s->id_token = id_token;
    return rc;
}

/* Any one of required_groups in the groups claim. A refusal says which of
 * the ways it failed: the claim is absent (the provider was not asked for
 * it or has no mapper: the names of the claims present, never their
 * values), or it lists other groups, or none (its count, never the
 * groups). A claim of another type, or one Entra ID left out (overage),
 * is refused by jose_claim_has_group with its own reason. */
static int group_gate(struct provider_ctx *p, const struct jose_claims *claims,
                      const char *approver)
{
    const struct openid_cfg *c = OPENID_CFG(p);
    char group[256];
    for (const char *q = c->required_groups; *q;) {
        size_t n = strcspn(q, ",");
        snprintf(group, sizeof(group), "%.*s", (int)n, q);
        q += n + (q[n] == ',');
        bool member = false;
        struct sso_error why = SSO_ERROR_INIT;
        if (jose_claim_has_group(claims, c->groups_claim, group, &member, &why) != PAM_SUCCESS)
            return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "%s", why.msg);
        if (member)
            return PAM_SUCCESS;
    }
    const json_t *v = json_object_get(jose_claims_json(claims), c->groups_claim);
    if (!v || json_is_null(v)) {
        char names[160];
        jose_claim_names(claims, names, sizeof(names));
        return sso_fail_as(p->err, PAM_AUTH_ERR, SSO_CASE_NOT_PERMITTED,
                           "approved by %s, who is in none of required_groups: the ID token "
                           "has %s %s claim (claims present: %s; ask for the scope that "
                           "carries groups or add a group mapper at the provider)",
                           approver, v ? "a null" : "no", c->groups_claim,
                           names[0] ? names : "none");
    }
    /* jose_claim_has_group took it: one string, or an array of strings */
    size_t count = json_is_array(v) ? json_array_size(v) : 1;
    return sso_fail_as(p->err, PAM_AUTH_ERR, SSO_CASE_NOT_PERMITTED,
                       "approved by %s, who is in none of required_groups (ID token claim %s "
                       "has %zu %s)",
                       approver, c->groups_claim, count, count == 1 ? "entry" : "entries");
}

static int verify(struct provider_ctx *p, struct jose_claims **claims)
{
    struct openid_state *s = p->state;
    const struct jose_policy policy = {OPENID_CFG(p)->issuer, OPENID_CFG(p)->client_id, s->algs,
                                       JOSE_LEEWAY_DEFAULT, 0};
    size_t len = strlen(s->id_token);
    int rc = jose_verify_id_token(s->id_token, len, s->keys, &policy, claims, p->err);
    if (rc == SSO_UNKNOWN_KID && (rc = reload_keys(p)) == PAM_SUCCESS)
        rc = jose_verify_id_token(s->id_token, len, s->keys, &policy, claims, p->err);
    if (rc == SSO_UNKNOWN_KID) /* an internal signal: never out of here */
        rc = PAM_AUTHINFO_UNAVAIL;
    return rc;
}

/* The token is this login's: issued after the device authorization was
 * asked for (within the leeway), and not meant to live for days. A token
 * captured elsewhere cannot be replayed here through a token endpoint the
 * attacker answers. */
static int fresh(struct provider_ctx *p, const struct jose_claims *claims)
{
    struct openid_state *s = p->state;
    const json_t *o = jose_claims_json(claims);
    double iat = json_number_value(json_object_get(o, "iat"));
    double exp = json_number_value(json_object_get(o, "exp"));
    if (iat < (double)s->started - JOSE_LEEWAY_DEFAULT)
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "the ID token was issued %.0f s before "
                        "this login asked for a code: not this login's token",
                        (double)s->started - iat);
    if (exp - iat > ID_TOKEN_LIFETIME_MAX)
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "the ID token is valid for %.0f s (more "
                        "than %d): refused", exp - iat, ID_TOKEN_LIFETIME_MAX);
    return PAM_SUCCESS;
}

/* An email address names the person only once the provider has verified
 * that they own it. */
static int email_verified(struct provider_ctx *p, const struct jose_claims *claims)
{
    const struct openid_cfg *c = OPENID_CFG(p);
    if (strcmp(c->username_claim, "email") != 0 &&
        !(c->required_groups[0] && strcmp(c->groups_claim, "email") == 0))
        return PAM_SUCCESS;
    if (json_is_true(json_object_get(jose_claims_json(claims), "email_verified")))
        return PAM_SUCCESS;
    return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "the ID token's email is not marked "
                    "email_verified: it cannot name the person");
}

/* The approver's name: username_claim, as a string a person can read in
 * the log (no control, invisible or reordering characters: "alice" plus a
 * zero-width space must not be logged as alice). With allow_any_approver no
 * name is needed to decide, so "sub" stands in when the claim is absent. */
static int approver_name(struct provider_ctx *p, const struct jose_claims *claims,
                         char *approver, size_t len)
{
    const struct openid_cfg *c = OPENID_CFG(p);
    struct sso_error why = SSO_ERROR_INIT;
    int rc = jose_claim_string(claims, c->username_claim, approver, len, &why);
    if (rc != PAM_SUCCESS && p->cfg->allow_any_approver)
        rc = jose_claim_string(claims, "sub", approver, len, &why);
    if (rc != PAM_SUCCESS)
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "the verified ID token has no usable %s "
                        "claim (username_claim): %s", c->username_claim, why.msg);
    char shown[256];
    sanitize_display(shown, sizeof(shown), approver, sizeof(shown));
    if (strcmp(shown, approver) != 0) {
        approver[0] = '\0';
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "the ID token's %s holds characters that "
                        "cannot be shown as they are (control or invisible): refused",
                        c->username_claim);
    }
    return PAM_SUCCESS;
}

static int openid_identify(struct provider_ctx *p, char *approver, size_t len)
{
    struct openid_state *s = p->state;
    const struct openid_cfg *c = OPENID_CFG(p);
    struct jose_claims *claims = NULL;
    approver[0] = '\0';
    if (!s->id_token)
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "no ID token to verify");
    int rc = verify(p, &claims);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = fresh(p, claims);
    if (rc == PAM_SUCCESS)
        rc = email_verified(p, claims);
    if (rc == PAM_SUCCESS)
        rc = approver_name(p, claims, approver, len);
    if (rc == PAM_SUCCESS && c->required_groups[0])
        rc = group_gate(p, claims, approver);
    if (rc == PAM_SUCCESS)
        provider_log(p, LOG_DEBUG, "ID token verified (alg %s, kid %s)",
                     jose_claims_alg(claims), jose_claims_kid(claims));
    /* Kept for facts: provisioning, and the ownership check of an account
     * the module made (even with provision off). */
    if (rc == PAM_SUCCESS && !(s->claims = json_deep_copy(jose_claims_json(claims))))
        rc = sso_fail(p->err, PAM_BUF_ERR, "out of memory keeping the verified claims");
    jose_claims_free(claims);
    return rc;
}

/* A claim's string value as a part of the key: present, at most 255
 * bytes, and nothing a person reading the ledger could be misled by. */
static int key_part(struct provider_ctx *p, const char *name, char *out, size_t len)
{
    json_t *v = json_object_get(p->state ? ((struct openid_state *)p->state)->claims : NULL,
                                name);
    const char *str = json_string_value(v);
    char shown[256];
    if (!str || !str[0] || !sso_strlcpy(out, str, len) ||
        sanitize_display(shown, sizeof(shown), str, sizeof(shown)) == 0 || strcmp(shown, str) != 0
        || strchr(str, ' '))
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "the verified ID token has no usable %s "
                        "claim to key the account on (provision_id_claim)", name);
    return PAM_SUCCESS;
}

/* The groups claim's string values that group_map names (a single string
 * counts as one); other entries are no business of the host's and are
 * passed over, so that a person in many groups needs no room for them. */
static int claim_groups(struct provider_ctx *p, const struct groupmap *gm,
                        struct approver_facts *f)
{
    const json_t *v = json_object_get(((struct openid_state *)p->state)->claims,
                                      OPENID_CFG(p)->groups_claim);
    if (json_is_string(v)) {
        if (groupmap_names(gm, json_string_value(v)))
            sso_strlcpy(f->groups[f->n_groups++], json_string_value(v), sizeof(f->groups[0]));
        return PAM_SUCCESS;
    }
    size_t i;
    const json_t *g;
    json_array_foreach(v, i, g) {
        const char *name = json_string_value(g);
        if (!name || strlen(name) >= sizeof(f->groups[0]) || !groupmap_names(gm, name))
            continue;
        if (f->n_groups == PROVISION_GROUPS_MAX)
            return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "the ID token's %s claim lists more "
                            "than %d groups that group_map names: it cannot be applied",
                            OPENID_CFG(p)->groups_claim, PROVISION_GROUPS_MAX);
        sso_strlcpy(f->groups[f->n_groups++], name, sizeof(f->groups[0]));
    }
    return PAM_SUCCESS;
}

/* iss and sub (or Entra ID's oid: provision_id_claim) key the account: a
 * provider never gives one person's sub to another, whatever the names. */
static int openid_facts(struct provider_ctx *p, const struct groupmap *groups,
                        struct approver_facts *f)
{
    const struct openid_cfg *c = OPENID_CFG(p);
    memset(f, 0, sizeof(*f));
    char iss[CFG_URL_MAX], id[256];
    bool oid = c->provision_id_claim == OPENID_ID_OID;
    int rc = key_part(p, "iss", iss, sizeof(iss));
    if (rc == PAM_SUCCESS)
        rc = key_part(p, oid ? "oid" : "sub", id, sizeof(id));
    if (rc != PAM_SUCCESS)
        return rc;
    /* Each claim under its own name: a sub that reads "oid:X" is not Entra's oid X. */
    int w = snprintf(f->key, sizeof(f->key), "openid:%s %s:%s", iss, oid ? "oid" : "sub", id);
    if (w < 0 || (size_t)w >= sizeof(f->key))
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "the account's key is too long");
    return groups ? claim_groups(p, groups, f) : PAM_SUCCESS;
}

static void openid_close(struct provider_ctx *p)
{
    struct openid_state *s = p->state;
    if (!s)
        return;
    if (s->id_token) {
        sso_cleanse(s->id_token, strlen(s->id_token));
        free(s->id_token);
    }
    jose_jwks_free(s->keys);
    json_decref(s->claims);
    sso_cleanse(s, sizeof(*s));
    free(s);
    p->state = NULL;
}

/* ---- pam_ssooidc_check ---- */

static size_t openid_endpoints(const void *part, struct provider_place *out)
{
    const struct openid_cfg *o = part;
    out[0] = (struct provider_place){"issuer", o->issuer, true};
    return 1;
}

/* The secret's stricter mode is open's check (load_secret). */
static size_t openid_files(const void *part, struct provider_place *out)
{
    const struct openid_cfg *o = part;
    if (!o->client_secret_file[0])
        return 0;
    out[0] = (struct provider_place){"client_secret_file", o->client_secret_file, false};
    return 1;
}

static void openid_ready_text(const void *part, char *buf, size_t len)
{
    const struct openid_cfg *o = part;
    snprintf(buf, len, "discovery document of %s, client %s%s and JWKS ready", o->issuer,
             o->client_id, o->client_secret_file[0] ? " (with secret)" : "");
}

/* One device authorization request, as openid_start makes it: the
 * provider's answer says whether it knows the client, its authentication
 * and its scopes. The device code and user code are wiped unseen. */
static int openid_verify_client(struct provider_ctx *p, char *buf, size_t len)
{
    struct openid_state *s = p->state;
    const char *id = OPENID_CFG(p)->client_id;
    struct device_auth dev;
    char url[HTTP_URL_SHOWN_MAX + 1];
    http_url_shown(s->disco.device_authorization_endpoint, url, sizeof(url));
    int rc = grant_start(p->http, &s->client, s->disco.device_authorization_endpoint, &dev,
                         p->err);
    sso_cleanse(&dev, sizeof(dev));
    if (rc == PAM_SUCCESS) {
        snprintf(buf, len, "client %s%s accepted by %s (one device authorization made, left "
                 "to expire unused)", id, s->secret[0] ? " with its secret" : "", url);
        return PAM_SUCCESS;
    }
    char why[sizeof(p->err->msg)];
    sso_strlcpy(why, p->err->msg, sizeof(why));
    return sso_fail(p->err, rc, "client %s: %s", id, why);
}

const struct provider provider_openid = {
    .name = "openid",
    .title = "Sign in with your organization's identity provider.",
    .where = "a browser where you are signed in to your identity provider",
    .options = openid_options,
    .n_options = OPENID_OPTION_COUNT,
    .configure = openid_configure,
    .open = openid_open,
    .start = openid_start,
    .poll = openid_poll,
    .renew = NULL, /* the client is configured, not registered: nothing to renew */
    .identify = openid_identify,
    .identify_always = true,
    .facts = openid_facts,
    .close = openid_close,
    .endpoints = openid_endpoints,
    .files = openid_files,
    .clock_fail = 60, /* the ID token's leeway */
    .clock_warn = 30,
    .clock_judge = "ID token verification",
    .check_stored = NULL, /* its documents are fetched afresh when opened */
    .ready_text = openid_ready_text,
    .verify_client = openid_verify_client,
};
