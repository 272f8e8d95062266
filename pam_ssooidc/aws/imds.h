/* imds.h - the instance role's credentials from the EC2 instance metadata
 * service, IMDSv2 only: a token first (PUT), then every GET with it. A
 * service that refuses the token is an error, never a reason to ask
 * without one (IMDSv1 is what SSRF attacks read). */
#ifndef SSO_IMDS_H
#define SSO_IMDS_H

#include <stdint.h>

#include "aws/portal.h" /* struct role_credentials */
#include "core/util.h"

#define IMDS_BODY_MAX (16 * 1024)  /* larger answers are refused */
#define IMDS_CONNECT_TIMEOUT 2L    /* seconds */
#define IMDS_TIMEOUT 5L            /* seconds, per request */
#define IMDS_TOKEN_TTL "60"        /* seconds: the token serves this one read */

/* endpoint: http://ADDRESS[:PORT] (aws_check_imds_endpoint). PAM_SUCCESS
 * with out and *expires (Unix seconds) set; else PAM_AUTHINFO_UNAVAIL (or
 * PAM_BUF_ERR) with err saying which step failed, never a secret. */
int imds_credentials(const char *endpoint, struct role_credentials *out, int64_t *expires,
                     struct sso_error *err);

#endif
