/* credcheck.h - the shape of the host's AWS credentials (from IMDSv2 or a
 * credentials file) before anything signs with them. Each check returns
 * NULL when the value is fine, else the rule it breaks (never the value:
 * these are secrets). */
#ifndef SSO_CREDCHECK_H
#define SSO_CREDCHECK_H

#include <stdint.h>

/* [A-Z0-9]{16,128}. */
const char *credcheck_access_key_id(const char *v);

/* 1..255 printable ASCII characters. */
const char *credcheck_secret(const char *v);

/* 0..4095 characters of base64 (standard or URL-safe alphabet, '='). */
const char *credcheck_token(const char *v);

/* "YYYY-MM-DDTHH:MM:SSZ" into Unix seconds. 0, or -1 when not that. */
int credcheck_iso8601(const char *v, int64_t *out);

#endif
