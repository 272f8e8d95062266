/* discovery.c - see discovery.h. Every URL here will receive the client
 * secret or tell us which keys to trust, so each is checked as strictly as
 * the configuration's own URLs. */
#include "openid/discovery.h"

#include <security/pam_modules.h>
#include <string.h>

#include "openid/jose.h"
#include "core/json.h"
#include "core/sanitize.h"

static int refuse(struct sso_error *err, const char *member, const char *why)
{
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "discovery document: %s %s", member, why);
}

static bool url_host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr(".-_:[]", ch);
}

/* NULL when v (n bytes) is an acceptable endpoint, else the rule broken. */
static const char *url_problem(const char *v, size_t n)
{
    static const char https[] = "https://";
    if (n >= DISCOVERY_URL_MAX)
        return "is too long";
    if (strncmp(v, https, sizeof(https) - 1) != 0)
        return "is not an https:// URL";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f ||
            strchr("\"<>\\^`{|}", v[i]))
            return "holds a space, a control, quote or non-ASCII character";
    const char *host = v + sizeof(https) - 1, *p = host;
    for (; *p && *p != '/' && *p != '?' && *p != '#'; p++)
        if (!url_host_char(*p)) /* '@' too: no user@ in front of the host */
            return "has an invalid host";
    if (p == host)
        return "has no host";
    if (strchr(p, '#'))
        return "has a fragment";
    return NULL;
}

/* An endpoint member into dst: PAM_SUCCESS (dst "" when absent and
 * optional), else a refusal. */
static int endpoint(json_t *doc, const char *name, bool required, char *dst,
                    struct sso_error *err)
{
    json_t *v = json_object_get(doc, name);
    dst[0] = '\0';
    if (!v && !required)
        return PAM_SUCCESS;
    if (!json_is_string(v))
        return refuse(err, name, v ? "is not a string" : "is missing");
    const char *why = url_problem(json_string_value(v), json_string_length(v));
    if (why)
        return refuse(err, name, why);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return PAM_SUCCESS;
}

/* A *_supported array of strings: calls pick for each to build *mask. */
static int name_list(json_t *doc, const char *name, unsigned (*pick)(const char *),
                     unsigned *mask, bool *listed, struct sso_error *err)
{
    json_t *v = json_object_get(doc, name), *e;
    size_t i;
    *mask = 0;
    *listed = v != NULL;
    if (!v)
        return PAM_SUCCESS;
    if (!json_is_array(v) || json_array_size(v) > DISCOVERY_LIST_MAX)
        return refuse(err, name, "is not an array of at most 64 strings");
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e))
            return refuse(err, name, "holds a non-string");
        *mask |= pick(json_string_value(e));
    }
    return PAM_SUCCESS;
}

static unsigned auth_method(const char *s)
{
    if (strcmp(s, "client_secret_basic") == 0)
        return DISCOVERY_AUTH_BASIC;
    if (strcmp(s, "client_secret_post") == 0)
        return DISCOVERY_AUTH_POST;
    if (strcmp(s, "none") == 0)
        return DISCOVERY_AUTH_NONE;
    return 0; /* private_key_jwt, tls_client_auth, ...: not ours */
}

static int check_issuer(json_t *doc, const char *issuer, char *dst, struct sso_error *err)
{
    json_t *v = json_object_get(doc, "issuer");
    char shown[112];
    if (!json_is_string(v))
        return refuse(err, "issuer", "is missing or not a string");
    if (json_string_length(v) != strlen(issuer) || strcmp(json_string_value(v), issuer) != 0) {
        sanitize_display(shown, sizeof(shown), json_string_value(v), 96);
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "discovery document: issuer %s is not the configured issuer", shown);
    }
    memcpy(dst, issuer, strlen(issuer) + 1); /* fits: the caller checked its length */
    return PAM_SUCCESS;
}

int discovery_parse(const char *body, size_t len, const char *issuer, struct discovery *out,
                    struct sso_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!issuer || !issuer[0] || strlen(issuer) >= DISCOVERY_URL_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "discovery: no issuer, or a too long one");
    json_t *doc = jose_json_object(body, len, DISCOVERY_MAX, DISCOVERY_DEPTH);
    int rc = PAM_SUCCESS;
    if (!doc)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                      "discovery document: not one JSON object of at most %d bytes (nested at "
                      "most %d deep, no duplicate members)",
                      DISCOVERY_MAX, DISCOVERY_DEPTH);
    if (rc == PAM_SUCCESS)
        rc = check_issuer(doc, issuer, out->issuer, err);
    if (rc == PAM_SUCCESS)
        rc = endpoint(doc, "device_authorization_endpoint", false,
                      out->device_authorization_endpoint, err);
    if (rc == PAM_SUCCESS)
        rc = endpoint(doc, "token_endpoint", true, out->token_endpoint, err);
    if (rc == PAM_SUCCESS)
        rc = endpoint(doc, "jwks_uri", true, out->jwks_uri, err);
    if (rc == PAM_SUCCESS)
        rc = name_list(doc, "token_endpoint_auth_methods_supported", auth_method,
                       &out->auth_methods, &out->auth_methods_listed, err);
    if (rc == PAM_SUCCESS)
        rc = name_list(doc, "id_token_signing_alg_values_supported", jose_alg_from_name,
                       &out->id_token_algs, &out->id_token_algs_listed, err);
    sso_json_free(doc);
    if (rc != PAM_SUCCESS) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    if (!out->auth_methods_listed)
        out->auth_methods = DISCOVERY_AUTH_BASIC;
    return PAM_SUCCESS;
}
