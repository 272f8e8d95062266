/* device_grant.c - see device_grant.h. */
#include "openid/device_grant.h"

#include <openssl/evp.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openid/jose.h"
#include "core/json.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define FORM_MAX 8192  /* bytes of a request body */
#define AUTH_MAX 2048  /* bytes of the Authorization header */
#define ERROR_CODE_MAX 64

/* A form body in a fixed buffer we can wipe: it carries the device code
 * and perhaps the client secret. */
struct form {
    char buf[FORM_MAX];
    size_t len;
    bool overflow;
};

static void form_put(struct form *f, const char *s, size_t n)
{
    if (f->overflow || f->len + n >= sizeof(f->buf)) {
        f->overflow = true;
        return;
    }
    memcpy(f->buf + f->len, s, n);
    f->len += n;
    f->buf[f->len] = '\0';
}

/* application/x-www-form-urlencoded, RFC 6749 appendix B: everything but
 * the unreserved characters percent-encoded. */
static void form_encode(struct form *f, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        if (plain)
            form_put(f, (const char *)p, 1);
        else
            form_put(f, esc, 3);
    }
}

static void form_field(struct form *f, const char *name, const char *value)
{
    if (f->len)
        form_put(f, "&", 1);
    form_put(f, name, strlen(name));
    form_put(f, "=", 1);
    form_encode(f, value);
}

static bool confidential(const struct grant_client *cl)
{
    return cl->secret && cl->secret[0];
}

/* client_id always in the body (RFC 8628 3.1 asks for it even with Basic,
 * and some providers need it), the secret there only without Basic. */
static void form_client(struct form *f, const struct grant_client *cl)
{
    form_field(f, "client_id", cl->client_id);
    if (confidential(cl) && !cl->basic)
        form_field(f, "client_secret", cl->secret);
}

/* "Authorization: Basic base64(urlencode(id):urlencode(secret))", RFC 6749
 * 2.3.1, into hdr (wiped by the caller). */
static bool basic_header(const struct grant_client *cl, char *hdr, size_t len)
{
    struct form pair = {.len = 0, .overflow = false};
    pair.buf[0] = '\0';
    form_encode(&pair, cl->client_id);
    form_put(&pair, ":", 1);
    form_encode(&pair, cl->secret);
    static const char prefix[] = "Authorization: Basic ";
    bool ok = !pair.overflow && sizeof(prefix) + 4 * (pair.len / 3 + 1) < len;
    if (ok) {
        memcpy(hdr, prefix, sizeof(prefix) - 1);
        EVP_EncodeBlock((unsigned char *)hdr + sizeof(prefix) - 1, (unsigned char *)pair.buf,
                        (int)pair.len);
    }
    sso_cleanse(&pair, sizeof(pair));
    return ok;
}

/* An error code as RFC 6749 5.2 allows it (%x20-21 / %x23-5B / %x5D-7E),
 * short enough to log. */
bool grant_error_code(const char *body, size_t len, char *code, size_t codelen)
{
    code[0] = '\0';
    json_t *o = sso_json_parse_object(body, len);
    if (!o)
        return false;
    bool ok = sso_json_string(o, "error", code, codelen) == SSO_JSON_OK && code[0];
    for (const char *p = code; ok && *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            ok = false;
    sso_json_free(o);
    if (!ok)
        code[0] = '\0';
    return ok;
}

/* POST the form; the body and header are wiped whatever happens. With
 * `transient` (polling) the call is made once and *transient says whether
 * a failure may pass. */
static int post_form(struct http_client *h, const struct grant_client *cl, const char *what,
                     const char *url, struct form *f, struct http_response *resp,
                     bool *transient, struct sso_error *err)
{
    char auth[AUTH_MAX] = "";
    const char *headers[4] = {"Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", NULL, NULL};
    int rc = PAM_SUCCESS;
    if (f->overflow)
        rc = sso_fail(err, PAM_SERVICE_ERR, "%s: request too large (client_id, secret or "
                      "scopes too long)", what);
    else if (confidential(cl) && cl->basic && !basic_header(cl, auth, sizeof(auth)))
        rc = sso_fail(err, PAM_SERVICE_ERR, "%s: client_id and secret too long", what);
    if (rc == PAM_SUCCESS) {
        headers[2] = auth[0] ? auth : NULL;
        rc = transient ? http_request_once(h, what, "POST", url, headers, f->buf, resp,
                                           transient, err)
                       : http_request(h, what, "POST", url, headers, f->buf, resp, err);
    }
    sso_cleanse(auth, sizeof(auth));
    sso_cleanse(f, sizeof(*f));
    return rc;
}

/* An endpoint as errors name it (http_url_shown: no query string). */
struct shown_url {
    char s[HTTP_URL_SHOWN_MAX + 1];
};
static struct shown_url shown(const char *url)
{
    struct shown_url u;
    http_url_shown(url, u.s, sizeof(u.s));
    return u;
}

/* The configuration's fault: the provider does not know the client, does
 * not let it use this grant or these scopes. */
static bool client_refused(const char *code)
{
    return strcmp(code, "invalid_client") == 0 || strcmp(code, "unauthorized_client") == 0 ||
           strcmp(code, "invalid_scope") == 0;
}

static int refused_client(const char *what, const char *code, struct sso_error *err)
{
    return sso_fail(err, PAM_SERVICE_ERR, "%s: the provider refused the client (%s): check "
                    "client_id, client_secret_file, client_auth and scopes, and that the "
                    "device grant is enabled for the client", what, code);
}

int grant_start(struct http_client *h, const struct grant_client *cl, const char *url,
                struct device_auth *out, struct sso_error *err)
{
    static const char what[] = "device authorization";
    struct form f = {.len = 0, .overflow = false};
    f.buf[0] = '\0';
    form_client(&f, cl);
    form_field(&f, "scope", cl->scope);
    struct http_response resp;
    memset(out, 0, sizeof(*out));
    int rc = post_form(h, cl, what, url, &f, &resp, NULL, err);
    if (rc != PAM_SUCCESS)
        return rc;
    char code[ERROR_CODE_MAX];
    /* An OAuth error is an error whatever the status, 200 included. */
    bool error = grant_error_code(resp.body, resp.body_len, code, sizeof(code));
    if (resp.status == 200 && !error) {
        rc = grant_parse_device(resp.body, resp.body_len, out, err);
    } else if (error) {
        rc = client_refused(code) ? refused_client(what, code, err)
                                  : sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: HTTP %ld, error "
                                             "%s, from %s", what, resp.status, code,
                                             shown(url).s);
    } else {
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: HTTP %ld with no OAuth error from %s",
                      what, resp.status, shown(url).s);
    }
    http_response_free(&resp);
    return rc;
}

/* A token request's error answer (`code`: its OAuth error, "" when it has
 * none), as the polling loop's next step. */
static int poll_error(const char *url, long status, const char *code,
                      enum poll_result *result, struct sso_error *err)
{
    static const char what[] = "token request";
    bool have = code[0] != '\0';
    /* Any status: Google answers pending with 428, others with 400. */
    if (have && strcmp(code, "authorization_pending") == 0) {
        *result = POLL_PENDING;
        return PAM_SUCCESS;
    }
    if (have && strcmp(code, "slow_down") == 0) {
        *result = POLL_SLOW_DOWN;
        return PAM_SUCCESS;
    }
    if (status == 429 || status >= 500) {
        *result = POLL_FAILED;
        return sso_fail(err, PAM_SUCCESS, "%s: HTTP %ld%s%s", what, status,
                        have ? ", error " : "", have ? code : "");
    }
    if (!have)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: HTTP %ld with no OAuth error from %s",
                        what, status, shown(url).s);
    /* RFC 8628 3.5: any other error ends the polling. */
    if (strcmp(code, "access_denied") == 0 || strcmp(code, "authorization_declined") == 0)
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_DENIED,
                           "the sign-in request was denied at the provider (%s)", code);
    if (strcmp(code, "expired_token") == 0)
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_EXPIRED,
                           "the device code expired before approval");
    if (strcmp(code, "invalid_grant") == 0) /* oidc-provider, once the code has expired */
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_EXPIRED,
                           "the provider no longer accepts the device code (invalid_grant: "
                           "expired or already used)");
    if (client_refused(code))
        return refused_client(what, code, err);
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: HTTP %ld, error %s, from %s", what, status,
                    code, shown(url).s);
}

int grant_poll(struct http_client *h, const struct grant_client *cl, const char *url,
               const struct device_auth *dev, enum poll_result *result, char **id_token,
               struct sso_error *err)
{
    *id_token = NULL;
    *result = POLL_PENDING;
    struct form f = {.len = 0, .overflow = false};
    f.buf[0] = '\0';
    form_field(&f, "grant_type", DEVICE_GRANT);
    form_field(&f, "device_code", dev->device_code);
    form_client(&f, cl);
    struct http_response resp;
    bool transient = false;
    int rc = post_form(h, cl, "token request", url, &f, &resp, &transient, err);
    if (rc == PAM_AUTHINFO_UNAVAIL && transient) {
        *result = POLL_FAILED; /* a missed poll: err says why */
        return PAM_SUCCESS;
    }
    if (rc != PAM_SUCCESS)
        return rc;
    /* An OAuth error is an error whatever the status (200 and Google's 428 too). */
    char code[ERROR_CODE_MAX];
    bool error = grant_error_code(resp.body, resp.body_len, code, sizeof(code));
    if (resp.status == 200 && !error) {
        rc = grant_parse_token(resp.body, resp.body_len, id_token, err);
        if (rc == PAM_SUCCESS)
            *result = POLL_APPROVED;
    } else {
        rc = poll_error(url, resp.status, code, result, err);
    }
    http_response_free(&resp);
    return rc;
}

/* ---- parsers: an answer is either entirely valid or refused ---- */

int grant_parse_device(const char *body, size_t len, struct device_auth *out,
                       struct sso_error *err)
{
    static const struct device_names names = {
        "device authorization", "device_code", "user_code", "verification_uri",
        "verification_url", "verification_uri_complete", "expires_in", "interval", 0};
    return device_parse(body, len, &names, out, err);
}

int grant_parse_token(const char *body, size_t len, char **id_token, struct sso_error *err)
{
    static const char what[] = "token response";
    *id_token = NULL;
    json_t *o = sso_json_parse_object(body, len);
    if (!o)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: answer is not a JSON object", what);
    json_t *v = json_object_get(o, "id_token");
    int rc = PAM_SUCCESS;
    if (!v || json_is_null(v))
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: no id_token (is openid among the "
                      "scopes, and the client an OpenID Connect client?)", what);
    else if (!json_is_string(v) || json_string_length(v) == 0)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: ill-typed id_token", what);
    else if (json_string_length(v) > JOSE_TOKEN_MAX)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: id_token larger than %d bytes", what,
                      JOSE_TOKEN_MAX);
    else if (!(*id_token = strndup(json_string_value(v), json_string_length(v))))
        rc = sso_fail(err, PAM_BUF_ERR, "out of memory");
    else if (strlen(*id_token) != json_string_length(v)) { /* a NUL inside */
        sso_cleanse(*id_token, strlen(*id_token));
        free(*id_token);
        *id_token = NULL;
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: ill-typed id_token", what);
    }
    sso_json_free(o); /* cleanses the access and refresh tokens too */
    return rc;
}
