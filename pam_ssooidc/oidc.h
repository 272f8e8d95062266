/* oidc.h - the three SSO OIDC calls of the device authorization flow
 * (botocore model sso-oidc 2019-06-10, restJson1, unsigned). */
#ifndef SSO_OIDC_H
#define SSO_OIDC_H

#include <stdint.h>

#include "config.h"
#include "http.h"
#include "util.h"

struct oidc_registration {
    char client_id[512];
    char client_secret[4096];
    int64_t issued_at;  /* clientIdIssuedAt, epoch seconds */
    int64_t expires_at; /* clientSecretExpiresAt, epoch seconds */
};

struct oidc_device {
    char device_code[2048];
    char user_code[64];
    char verification_uri[1024];
    char verification_uri_complete[1024];
    long expires_in; /* seconds */
    long interval;   /* seconds; 5 when absent */
};

struct oidc_token {
    char access_token[8192];
};

enum oidc_poll_result {
    OIDC_APPROVED,  /* token holds a Bearer access token */
    OIDC_PENDING,   /* AuthorizationPendingException */
    OIDC_SLOW_DOWN, /* SlowDownException: add 5 s to the interval */
    OIDC_POLL_FAILED, /* a transient failure (err says which): a missed poll */
};

/* Each returns PAM_SUCCESS, or a PAM code with err set:
 *  - PAM_AUTHINFO_UNAVAIL: network/TLS, 5xx, unparseable or ill-typed answer;
 *  - PAM_AUTH_ERR: AccessDenied, ExpiredToken (the login is over);
 *  - PAM_CRED_EXPIRED: InvalidClientException (caller may re-register once).
 * Register and start retry transient failures (retry.h); a poll is made
 * once, and a transient failure is OIDC_POLL_FAILED with PAM_SUCCESS. */
int oidc_register(struct http_client *h, const struct cfg *c, struct oidc_registration *out,
                  struct sso_error *err);
int oidc_start(struct http_client *h, const struct cfg *c, const struct oidc_registration *reg,
               struct oidc_device *out, struct sso_error *err);
int oidc_poll(struct http_client *h, const struct cfg *c, const struct oidc_registration *reg,
              const struct oidc_device *dev, enum oidc_poll_result *result,
              struct oidc_token *token, struct sso_error *err);

/* Parsers, apart from the network so tests and fuzzers can drive them. */
int oidc_parse_registration(const char *body, size_t len, struct oidc_registration *out,
                            struct sso_error *err);
int oidc_parse_device(const char *body, size_t len, struct oidc_device *out,
                      struct sso_error *err);
int oidc_parse_token(const char *body, size_t len, struct oidc_token *out,
                     struct sso_error *err);

#endif
