/* portal.h - the IAM Identity Center portal API: GetRoleCredentials. */
#ifndef SSO_PORTAL_H
#define SSO_PORTAL_H

#include "aws/aws_config.h"
#include "core/http.h"
#include "aws/ssooidc.h"
#include "core/util.h"

struct role_credentials {
    char access_key_id[128];
    char secret_access_key[256];
    char session_token[4096];
};

/* Short-lived credentials for permission set `role` in account_id, for
 * whoever approved. PAM_AUTH_ERR when the approver lacks that permission
 * set (401/403/404), PAM_AUTHINFO_UNAVAIL for 5xx, throttling, network or
 * malformed answers. */
int portal_role_credentials(struct http_client *h, const struct aws_cfg *c, const char *role,
                            const struct ssooidc_token *token, struct role_credentials *out,
                            struct sso_error *err);

int portal_parse_credentials(const char *body, size_t len, struct role_credentials *out,
                             struct sso_error *err);

#endif
