/* awserr.h - decode an AWS restJson1 error answer into its error type. */
#ifndef SSO_AWSERR_H
#define SSO_AWSERR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/http.h"

struct aws_error {
    char type[96];     /* e.g. "AuthorizationPendingException"; empty if none */
    char message[256]; /* error_description / message, raw (sanitize before display) */
};

/* The response headers AWS's answers carry, kept by the HTTP client
 * (http_keep_headers, installed when the provider opens), by their index in
 * http_response.kept: x-amzn-ErrorType (cut at the first ':') and
 * x-amzn-RequestId. */
enum { AWS_HDR_ERROR_TYPE, AWS_HDR_REQUEST_ID, AWS_HDR_COUNT };
extern const struct http_kept_header aws_kept_headers[AWS_HDR_COUNT];

/* The error type header of an answer ("" when absent). */
static inline const char *aws_error_type(const struct http_response *r)
{
    return r->kept[AWS_HDR_ERROR_TYPE];
}

/* Sources, in order: the x-amzn-ErrorType header (already cut at ':'), the
 * body's __type (cut after '#'), its `code`, then the OAuth `error` member
 * (mapped to the exception name, e.g. authorization_pending ->
 * AuthorizationPendingException). Never fails; an undecodable answer leaves
 * type empty. */
void aws_error_decode(const char *header_type, const char *body, size_t body_len,
                      struct aws_error *out);

/* Is this answer one of AWS's throttling errors (ThrottlingException,
 * TooManyRequestsException, RequestLimitExceeded, SlowDownException, STS's
 * Throttling), whatever its status? For the retry policy (retry.h). */
bool aws_throttled(const struct http_response *r);

/* The wait a JSON error answer asks for in its RetryAfterSeconds member
 * (the Identity Store's ThrottlingException and InternalServerException),
 * in seconds, or -1 when it has none. For http_set_retry_after_reader. */
double aws_retry_after_body(const struct http_response *r);

#endif
