/* identity.h - who approved, on AWS: role credentials from the portal, the
 * caller's identity from STS. (Mapping that name to the local user is the
 * core's, usermap.h.) */
#ifndef SSO_IDENTITY_H
#define SSO_IDENTITY_H

#include <stddef.h>

#include "aws/aws_config.h"
#include "core/http.h"
#include "aws/ssooidc.h"
#include "core/util.h"

/* The Identity Center user name of whoever approved, into session:
 * PAM_SUCCESS only when they hold one of role_name's permission sets in
 * account_id and STS names that session. PAM_AUTH_ERR for a missing
 * permission set, PAM_AUTHINFO_UNAVAIL when the answers cannot be had or
 * trusted. */
int identity_approver(struct http_client *h, const struct aws_cfg *c,
                      const struct ssooidc_token *token, char *session, size_t len,
                      struct sso_error *err);

/* The permission sets of role_name the approver holds in account_id (one
 * GetRoleCredentials each; the credentials are wiped unused), into held
 * (at most max): for group_map. PAM_SUCCESS with *n; PAM_AUTHINFO_UNAVAIL
 * when an answer cannot be had. */
int identity_held_roles(struct http_client *h, const struct aws_cfg *c,
                        const struct ssooidc_token *token, char (*held)[256], size_t max,
                        size_t *n, struct sso_error *err);

/* arn:PARTITION:sts::ACCOUNT:assumed-role/AWSReservedSSO_ROLE_SUFFIX/SESSION,
 * with PARTITION, ACCOUNT and ROLE exactly as given: copies SESSION out (0),
 * or -1. */
int identity_session_from_arn(const char *arn, const char *partition, const char *account,
                              const char *role, char *session, size_t len);

/* The AWS partition of a region: "aws", "aws-cn", "aws-us-gov", "aws-iso",
 * "aws-iso-b", "aws-iso-e", "aws-iso-f" or "aws-eusc". */
const char *identity_partition(const char *region);

#endif
