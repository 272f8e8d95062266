/* identity.h - who approved? Role credentials from the portal, the caller's
 * identity from STS, and the mapping of that identity to the local user. */
#ifndef SSO_IDENTITY_H
#define SSO_IDENTITY_H

#include "config.h"
#include "http.h"
#include "oidc.h"
#include "util.h"

struct identity {
    char session_name[128]; /* the Identity Center user name that approved */
    char local_name[128];   /* what it maps to */
};

/* PAM_SUCCESS only when the approver holds role_name in account_id and maps
 * to pam_user. PAM_AUTH_ERR for a missing permission set or another person,
 * PAM_AUTHINFO_UNAVAIL when the answers cannot be had or trusted,
 * PAM_SERVICE_ERR for an unusable user_map. who is filled as far as known. */
int identity_verify(struct http_client *h, const struct cfg *c, const char *pam_user,
                    const struct oidc_token *token, struct identity *who, struct sso_error *err);

/* arn:PARTITION:sts::ACCOUNT:assumed-role/AWSReservedSSO_ROLE_SUFFIX/SESSION,
 * with ACCOUNT and ROLE exactly as configured: copies SESSION out (0), or -1. */
int identity_session_from_arn(const char *arn, const char *account, const char *role,
                              char *session, size_t len);

#endif
