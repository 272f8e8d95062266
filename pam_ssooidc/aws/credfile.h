/* credfile.h - the host's AWS keys from a root-only file in the AWS shared
 * credentials format (sync_credentials_file), for hosts outside EC2. */
#ifndef SSO_CREDFILE_H
#define SSO_CREDFILE_H

#include "aws/portal.h" /* struct role_credentials */
#include "core/util.h"

#define CREDFILE_MAX (64 * 1024)

/* Only a [default] section (any other is refused, so that nobody wonders
 * which one is read): aws_access_key_id and aws_secret_access_key,
 * optional aws_session_token; "key = value" lines, '#' and ';' comment
 * lines; other keys (region, ...) are ignored. The file must be trusted
 * (trust.h) and of mode 0600 or 0400. PAM_SUCCESS, or PAM_SERVICE_ERR
 * (missing, unsafe, malformed: err says which line or key) / PAM_BUF_ERR. */
int credfile_read(const char *path, struct role_credentials *out, struct sso_error *err);

/* The parser alone (for the tests): text, NUL-terminated, is cut into
 * lines in place; path only names it in errors. */
int credfile_parse(const char *path, char *text, struct role_credentials *out,
                   struct sso_error *err);

#endif
