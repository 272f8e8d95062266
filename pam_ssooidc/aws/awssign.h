/* awssign.h - the headers of one SigV4-signed POST to an AWS endpoint
 * (STS's query API, the Identity Store's JSON 1.1): Host, X-Amz-Date,
 * X-Amz-Security-Token when the credentials carry one, Authorization, and
 * the caller's own signed headers, as "Name: value" lines for http_request. */
#ifndef SSO_AWSSIGN_H
#define SSO_AWSSIGN_H

#include <stddef.h>

#include "aws/portal.h" /* struct role_credentials */
#include "core/config.h"

#define AWSSIGN_EXTRA_MAX 4   /* the caller's signed headers */
#define AWSSIGN_EXTRA_LEN 160 /* "Name: value" of each */

/* One header the caller wants signed and sent (Content-Type, X-Amz-Target). */
struct awssign_header {
    const char *name;
    const char *value;
};

/* The lines, NULL-terminated in `lines`; they hold the session token:
 * awssign_cleanse when done. */
struct awssign_headers {
    char host[CFG_URL_MAX + 8];
    char date[32];
    char token[4200];
    char auth[512];
    char extra[AWSSIGN_EXTRA_MAX][AWSSIGN_EXTRA_LEN];
    const char *lines[4 + AWSSIGN_EXTRA_MAX + 1];
};

/* What one signature covers. endpoint: https://host[:port], no path. */
struct awssign_post {
    const char *endpoint;
    const char *region;
    const char *service; /* "sts", "identitystore" */
    const struct awssign_header *extra;
    size_t n_extra;
    const char *body;
    size_t body_len;
};

/* Sign `p` with `creds` at the current time and fill `out`. 0, or -1 (the
 * endpoint is not https://host, a header does not fit, out of memory). */
int awssign_sign_post(const struct awssign_post *p, const struct role_credentials *creds,
                      struct awssign_headers *out);
void awssign_cleanse(struct awssign_headers *out);

/* host[:port] of an https:// endpoint, exactly as it is sent. 0 or -1. */
int awssign_endpoint_host(const char *endpoint, char *host, size_t len);

#endif
