/* sts.h - STS GetCallerIdentity, SigV4-signed with the role credentials. */
#ifndef SSO_STS_H
#define SSO_STS_H

#include <stddef.h>

#include "aws/aws_config.h"
#include "core/http.h"
#include "aws/portal.h"
#include "core/util.h"

/* The caller's ARN. PAM_AUTHINFO_UNAVAIL for every failure: an STS refusal
 * means we cannot establish who approved (a "Signature expired" answer is
 * reported as probable clock skew). */
int sts_caller_arn(struct http_client *h, const struct aws_cfg *c,
                   const struct role_credentials *creds, char *arn, size_t arnlen,
                   struct sso_error *err);

/* Strict extraction of GetCallerIdentityResult/Arn from the XML answer:
 * exactly one Arn element, of ARN characters only. 0 or -1. */
int sts_parse_arn(const char *xml, size_t len, char *arn, size_t arnlen);

/* Code and Message of an STS ErrorResponse, sanitized to ARN-safe text. */
void sts_parse_error(const char *xml, size_t len, char *code, size_t codelen, char *msg,
                     size_t msglen);

#endif
