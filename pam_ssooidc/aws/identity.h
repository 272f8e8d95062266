/* identity.h - who approved? Role credentials from the portal, the caller's
 * identity from STS, and the mapping of that identity to the local user. */
#ifndef SSO_IDENTITY_H
#define SSO_IDENTITY_H

#include <sys/types.h>

#include "config.h"
#include "http.h"
#include "ssooidc.h"
#include "usermap.h"
#include "util.h"

struct identity {
    char session_name[128]; /* the Identity Center user name that approved */
    char local_name[128];   /* what it maps to */
};

/* PAM_SUCCESS only when the approver holds role_name in account_id and maps
 * to pam_user. PAM_AUTH_ERR for a missing permission set or another person,
 * PAM_AUTHINFO_UNAVAIL when the answers cannot be had or trusted,
 * PAM_SERVICE_ERR for an unusable user_map. who is filled as far as known. */
int identity_verify(struct http_client *h, const struct cfg *c, const struct usermap *map,
                    const struct local_account *local, const struct ssooidc_token *token,
                    struct identity *who, struct sso_error *err);

/* arn:PARTITION:sts::ACCOUNT:assumed-role/AWSReservedSSO_ROLE_SUFFIX/SESSION,
 * with PARTITION, ACCOUNT and ROLE exactly as given: copies SESSION out (0),
 * or -1. */
int identity_session_from_arn(const char *arn, const char *partition, const char *account,
                              const char *role, char *session, size_t len);

/* The AWS partition of a region: "aws", "aws-cn", "aws-us-gov", "aws-iso",
 * "aws-iso-b", "aws-iso-e", "aws-iso-f" or "aws-eusc". */
const char *identity_partition(const char *region);

#endif
