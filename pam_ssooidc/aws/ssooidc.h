/* ssooidc.h - the three AWS SSO OIDC calls of the device authorization
 * flow (botocore model sso-oidc 2019-06-10, restJson1, unsigned). */
#ifndef SSO_SSOOIDC_H
#define SSO_SSOOIDC_H

#include <stdint.h>

#include "aws/registration.h"
#include "core/status.h"
#include "aws/aws_config.h"
#include "core/device.h"
#include "core/http.h"
#include "core/util.h"

struct ssooidc_token {
    char access_token[8192];
};

/* Each returns PAM_SUCCESS, or a PAM code with err set:
 *  - PAM_AUTHINFO_UNAVAIL: network/TLS, 5xx, unparseable or ill-typed answer;
 *  - PAM_AUTH_ERR: AccessDenied, ExpiredToken (the login is over);
 *  - SSO_CLIENT_REFUSED: InvalidClientException (caller may re-register once).
 * Register and start retry transient failures (retry.h); a poll is made
 * once, and a transient failure is POLL_FAILED with PAM_SUCCESS. */
int ssooidc_register(struct http_client *h, const struct aws_cfg *c,
                     struct client_registration *out, struct sso_error *err);
int ssooidc_start(struct http_client *h, const struct aws_cfg *c,
                  const struct client_registration *reg, struct device_auth *out,
                  struct sso_error *err);
int ssooidc_poll(struct http_client *h, const struct aws_cfg *c,
                 const struct client_registration *reg, const struct device_auth *dev,
                 enum poll_result *result, struct ssooidc_token *token,
                 struct sso_error *err);

/* Parsers, apart from the network so tests and fuzzers can drive them. */
int ssooidc_parse_registration(const char *body, size_t len, struct client_registration *out,
                            struct sso_error *err);
int ssooidc_parse_device(const char *body, size_t len, struct device_auth *out,
                      struct sso_error *err);
int ssooidc_parse_token(const char *body, size_t len, struct ssooidc_token *out,
                     struct sso_error *err);

#endif
