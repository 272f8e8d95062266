/* device_grant.h - RFC 8628's two calls to an OpenID provider, as the
 * providers in the field answer them: the device authorization request and
 * the token request polled with the device code. Form-encoded bodies,
 * client authentication by HTTP Basic or in the body (RFC 6749 2.3.1), the
 * OAuth "error" member read whatever the HTTP status. */
#ifndef SSO_DEVICE_GRANT_H
#define SSO_DEVICE_GRANT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/device.h"
#include "core/http.h"
#include "core/util.h"


/* Who asks: a public client sends client_id in the body; a confidential one
 * its secret too, by HTTP Basic (basic) or as client_secret (!basic). */
struct grant_client {
    const char *client_id;
    const char *secret; /* NULL or "": a public client */
    bool basic;
    const char *scope;  /* space-separated, openid among them */
};

/* POST the device authorization request. PAM_SUCCESS with *out holding an
 * allow-listed code and https:// URIs; PAM_SERVICE_ERR when the provider
 * refuses the client or its scopes (a configuration matter);
 * PAM_AUTHINFO_UNAVAIL for anything else. */
int grant_start(struct http_client *h, const struct grant_client *cl, const char *url,
                struct device_auth *out, struct sso_error *err);

/* One token request. PAM_SUCCESS with *result: POLL_APPROVED (*id_token
 * malloc'd; the caller cleanses and frees it), POLL_PENDING,
 * POLL_SLOW_DOWN, or POLL_FAILED for a transient failure (err says which).
 * PAM_AUTH_ERR for a refusal or an expired code (err's case says which),
 * PAM_SERVICE_ERR when the client is refused, PAM_AUTHINFO_UNAVAIL for an
 * answer we cannot use (an approval without an id_token among them). */
int grant_poll(struct http_client *h, const struct grant_client *cl, const char *url,
               const struct device_auth *dev, enum poll_result *result, char **id_token,
               struct sso_error *err);

/* The parsers behind them, for tests and fuzzing. */
int grant_parse_device(const char *body, size_t len, struct device_auth *out,
                       struct sso_error *err);
int grant_parse_token(const char *body, size_t len, char **id_token, struct sso_error *err);

/* The OAuth error code of an error answer ("authorization_pending"), into
 * code (codelen bytes): true when the body is a JSON object whose "error"
 * is a string of RFC 6749's error characters that fits. */
bool grant_error_code(const char *body, size_t len, char *code, size_t codelen);

#endif
