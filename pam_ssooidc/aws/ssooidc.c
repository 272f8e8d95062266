/* oidc.c - RegisterClient, StartDeviceAuthorization and CreateToken, exactly
 * as botocore's sso-oidc model describes them: POST, JSON bodies with
 * camelCase members, no request signing. */
#include "aws/ssooidc.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/awserr.h"
#include "core/json.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define BODY_MAX 16384

/* A request body assembled in a fixed buffer we can wipe: the bodies carry
 * the client secret and the device code. */
struct body {
    char buf[BODY_MAX];
    size_t len;
    int overflow;
};

static void body_begin(struct body *b)
{
    b->buf[0] = '{', b->buf[1] = '\0';
    b->len = 1;
    b->overflow = 0;
}

static void body_raw(struct body *b, const char *s)
{
    size_t n = strlen(s);
    if (b->overflow || b->len + n >= sizeof(b->buf)) {
        b->overflow = 1;
        return;
    }
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
}

/* Append "name":"value" with JSON escaping; values come from the server, so
 * quotes and control characters must not be able to reshape the body. */
static void body_member(struct body *b, const char *name, const char *value)
{
    body_raw(b, b->len > 1 ? ",\"" : "\"");
    body_raw(b, name);
    body_raw(b, "\":\"");
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\')
            snprintf(esc, sizeof(esc), "\\%c", *p);
        else if (*p < 0x20)
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
        else
            esc[0] = (char)*p, esc[1] = '\0';
        body_raw(b, esc);
    }
    body_raw(b, "\"");
}

static const char *const json_headers[] = {"Content-Type: application/json",
                                           "Accept: application/json", NULL};

/* POST a body and map a non-200 answer to a PAM code. On PAM_SUCCESS resp
 * holds a 200 answer; on any other code it has been freed. With `transient`
 * (polling) the call is made once, and *transient says whether a failure
 * was of the kind a later poll may not meet again. */
static int ssooidc_call(struct http_client *h, const struct aws_cfg *c, const char *what,
                     const char *path, struct body *b, struct http_response *resp,
                     struct aws_error *aerr, bool *transient, struct sso_error *err)
{
    char url[CFG_URL_MAX + 64];
    memset(aerr, 0, sizeof(*aerr));
    body_raw(b, "}");
    if (b->overflow) {
        sso_cleanse(b, sizeof(*b));
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: request too large", what);
    }
    snprintf(url, sizeof(url), "%s%s", c->oidc_endpoint, path);
    int rc = transient ? http_request_once(h, what, "POST", url, json_headers, b->buf, resp,
                                           transient, err)
                       : http_request(h, what, "POST", url, json_headers, b->buf, resp, err);
    sso_cleanse(b, sizeof(*b));
    if (rc != PAM_SUCCESS)
        return rc;
    if (resp->status == 200)
        return PAM_SUCCESS;
    aws_error_decode(aws_error_type(resp), resp->body, resp->body_len, aerr);
    long status = resp->status;
    bool throttled = aws_throttled(resp);
    http_response_free(resp);
    if (status >= 500 || status == 429)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: service error HTTP %ld %s", what, status,
                        aerr->type[0] ? aerr->type : "(no error type)");
    if (throttled && !(transient && strcmp(aerr->type, "SlowDownException") == 0))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: throttled (%s)", what, aerr->type);
    if (strcmp(aerr->type, "InvalidClientException") == 0)
        return sso_fail(err, SSO_CLIENT_REFUSED, "%s: InvalidClientException", what);
    char shown[HTTP_URL_SHOWN_MAX + 1];
    http_url_shown(url, shown, sizeof(shown));
    if (!aerr->type[0])
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: HTTP %ld with no recognisable error "
                        "from %s", what, status, shown);
    return SSO_MODELLED_ERROR; /* the caller interprets aerr */
}

static int unexpected_error(const char *what, const struct aws_error *aerr, struct sso_error *err)
{
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: service answered %s", what, aerr->type);
}

int ssooidc_register(struct http_client *h, const struct aws_cfg *c,
                     struct client_registration *out, struct sso_error *err)
{
    struct body b;
    body_begin(&b);
    body_member(&b, "clientName", c->client_name);
    body_member(&b, "clientType", "public");
    struct http_response resp;
    struct aws_error aerr;
    int rc = ssooidc_call(h, c, "RegisterClient", "/client/register", &b, &resp, &aerr, NULL, err);
    if (rc == SSO_CLIENT_REFUSED || rc == SSO_MODELLED_ERROR)
        return unexpected_error("RegisterClient", &aerr, err);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = ssooidc_parse_registration(resp.body, resp.body_len, out, err);
    http_response_free(&resp);
    return rc;
}

int ssooidc_start(struct http_client *h, const struct aws_cfg *c,
                  const struct client_registration *reg, struct device_auth *out,
                  struct sso_error *err)
{
    struct body b;
    body_begin(&b);
    body_member(&b, "clientId", reg->client_id);
    body_member(&b, "clientSecret", reg->client_secret);
    body_member(&b, "startUrl", c->start_url);
    struct http_response resp;
    struct aws_error aerr;
    int rc = ssooidc_call(h, c, "StartDeviceAuthorization", "/device_authorization", &b, &resp,
                       &aerr, NULL, err);
    if (rc == SSO_MODELLED_ERROR)
        return unexpected_error("StartDeviceAuthorization", &aerr, err);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = ssooidc_parse_device(resp.body, resp.body_len, out, err);
    http_response_free(&resp);
    return rc;
}

/* Map CreateToken's modelled errors to the poll loop's next step. */
static int poll_error(const struct aws_error *aerr, enum poll_result *result,
                      struct sso_error *err)
{
    if (strcmp(aerr->type, "AuthorizationPendingException") == 0) {
        *result = POLL_PENDING;
        return PAM_SUCCESS;
    }
    if (strcmp(aerr->type, "SlowDownException") == 0) {
        *result = POLL_SLOW_DOWN;
        return PAM_SUCCESS;
    }
    if (strcmp(aerr->type, "AccessDeniedException") == 0)
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_DENIED,
                           "the sign-in request was denied at the portal");
    if (strcmp(aerr->type, "ExpiredTokenException") == 0)
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_EXPIRED,
                           "the device code expired before approval");
    return unexpected_error("CreateToken", aerr, err);
}

int ssooidc_poll(struct http_client *h, const struct aws_cfg *c,
                 const struct client_registration *reg, const struct device_auth *dev,
                 enum poll_result *result, struct ssooidc_token *token,
                 struct sso_error *err)
{
    struct body b;
    body_begin(&b);
    body_member(&b, "clientId", reg->client_id);
    body_member(&b, "clientSecret", reg->client_secret);
    body_member(&b, "grantType", DEVICE_GRANT);
    body_member(&b, "deviceCode", dev->device_code);
    struct http_response resp;
    struct aws_error aerr;
    bool transient = false;
    int rc = ssooidc_call(h, c, "CreateToken", "/token", &b, &resp, &aerr, &transient, err);
    if (rc == SSO_MODELLED_ERROR)
        return poll_error(&aerr, result, err);
    if (rc == PAM_AUTHINFO_UNAVAIL && transient) {
        *result = POLL_FAILED; /* a missed poll: err says why */
        return PAM_SUCCESS;
    }
    if (rc != PAM_SUCCESS)
        return rc;
    rc = ssooidc_parse_token(resp.body, resp.body_len, token, err);
    http_response_free(&resp);
    if (rc == PAM_SUCCESS)
        *result = POLL_APPROVED;
    return rc;
}

/* ---- parsers: an answer is either entirely valid or refused ---- */

static int malformed(const char *what, const char *member, struct sso_error *err)
{
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: answer has a missing or ill-typed %s", what,
                    member);
}

/* Required strings must be present, strings, non-empty and fit. */
static int need_string(json_t *o, const char *key, char *dst, size_t len)
{
    return sso_json_string(o, key, dst, len) == SSO_JSON_OK && dst[0] ? 0 : -1;
}

int ssooidc_parse_registration(const char *body, size_t len, struct client_registration *out,
                            struct sso_error *err)
{
    static const char what[] = "RegisterClient";
    memset(out, 0, sizeof(*out));
    json_t *o = sso_json_parse_object(body, len);
    int rc = PAM_SUCCESS;
    long long issued = 0, expires = 0;
    if (!o)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: answer is not a JSON object", what);
    else if (need_string(o, "clientId", out->client_id, sizeof(out->client_id)))
        rc = malformed(what, "clientId", err);
    else if (need_string(o, "clientSecret", out->client_secret, sizeof(out->client_secret)))
        rc = malformed(what, "clientSecret", err);
    else if (sso_json_integer(o, "clientIdIssuedAt", 0, 1LL << 40, &issued) == SSO_JSON_BAD)
        rc = malformed(what, "clientIdIssuedAt", err);
    else if (sso_json_integer(o, "clientSecretExpiresAt", 1, 1LL << 40, &expires) != SSO_JSON_OK)
        rc = malformed(what, "clientSecretExpiresAt", err);
    sso_json_free(o);
    if (rc != PAM_SUCCESS) {
        sso_cleanse(out, sizeof(*out));
        return rc;
    }
    out->issued_at = issued;
    out->expires_at = expires;
    return PAM_SUCCESS;
}

int ssooidc_parse_device(const char *body, size_t len, struct device_auth *out,
                         struct sso_error *err)
{
    static const struct device_names names = {
        "StartDeviceAuthorization", "deviceCode", "userCode", "verificationUri", NULL,
        "verificationUriComplete", "expiresIn", "interval", 1};
    return device_parse(body, len, &names, out, err);
}

int ssooidc_parse_token(const char *body, size_t len, struct ssooidc_token *out,
                     struct sso_error *err)
{
    static const char what[] = "CreateToken";
    char token_type[32];
    memset(out, 0, sizeof(*out));
    json_t *o = sso_json_parse_object(body, len);
    int rc = PAM_SUCCESS;
    if (!o)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: answer is not a JSON object", what);
    else if (need_string(o, "accessToken", out->access_token, sizeof(out->access_token)))
        rc = malformed(what, "accessToken", err);
    else if (need_string(o, "tokenType", token_type, sizeof(token_type)))
        rc = malformed(what, "tokenType", err);
    else if (strcasecmp(token_type, "Bearer") != 0)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: token type is not Bearer", what);
    sso_json_free(o);
    if (rc != PAM_SUCCESS)
        sso_cleanse(out, sizeof(*out));
    return rc;
}
