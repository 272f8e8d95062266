/* awserr.c - which error did an AWS restJson1 service answer with? */
#include "aws/awserr.h"

#include <string.h>

#include "core/json.h"
#include "aws/sts.h"
#include "core/util.h"

/* OAuth error codes (RFC 6749/8628 style) as SSO OIDC writes them in the
 * body's `error` member, with the modelled exception each stands for. */
static const struct {
    const char *oauth;
    const char *shape;
} oauth_errors[] = {
    {"authorization_pending", "AuthorizationPendingException"},
    {"slow_down", "SlowDownException"},
    {"access_denied", "AccessDeniedException"},
    {"expired_token", "ExpiredTokenException"},
    {"invalid_client", "InvalidClientException"},
    {"invalid_grant", "InvalidGrantException"},
    {"invalid_request", "InvalidRequestException"},
    {"invalid_scope", "InvalidScopeException"},
    {"unauthorized_client", "UnauthorizedClientException"},
    {"unsupported_grant_type", "UnsupportedGrantTypeException"},
    {"server_error", "InternalServerException"},
};

/* Keep only the name: "Shape:http://..." -> "Shape", "ns#Shape" -> "Shape"
 * (after the last '#' before any ':'). */
static void set_type(struct aws_error *out, const char *raw)
{
    size_t end = strcspn(raw, ":");
    const char *start = raw;
    for (size_t i = 0; i < end; i++)
        if (raw[i] == '#')
            start = raw + i + 1;
    size_t n = (size_t)(raw + end - start);
    if (n == 0 || n >= sizeof(out->type))
        return;
    memcpy(out->type, start, n);
    out->type[n] = '\0';
}

static const char *oauth_to_shape(const char *oauth)
{
    for (size_t i = 0; i < sizeof(oauth_errors) / sizeof(oauth_errors[0]); i++)
        if (strcmp(oauth, oauth_errors[i].oauth) == 0)
            return oauth_errors[i].shape;
    return NULL;
}

static void decode_body(json_t *root, struct aws_error *out)
{
    char buf[256];
    if (!out->type[0] && sso_json_string(root, "__type", buf, sizeof(buf)) == SSO_JSON_OK)
        set_type(out, buf);
    if (!out->type[0] && sso_json_string(root, "code", buf, sizeof(buf)) == SSO_JSON_OK)
        set_type(out, buf);
    if (!out->type[0] && sso_json_string(root, "error", buf, sizeof(buf)) == SSO_JSON_OK) {
        const char *shape = oauth_to_shape(buf);
        set_type(out, shape ? shape : buf);
    }
    if (sso_json_string(root, "error_description", out->message, sizeof(out->message)) !=
        SSO_JSON_OK)
        if (sso_json_string(root, "message", out->message, sizeof(out->message)) != SSO_JSON_OK)
            sso_json_string(root, "Message", out->message, sizeof(out->message));
}

_Static_assert(AWS_HDR_COUNT <= HTTP_KEPT_MAX, "the HTTP client keeps at most HTTP_KEPT_MAX headers");
const struct http_kept_header aws_kept_headers[AWS_HDR_COUNT] = {
    [AWS_HDR_ERROR_TYPE] = {"x-amzn-ErrorType", ':', HTTP_KEPT_DETAIL},
    [AWS_HDR_REQUEST_ID] = {"x-amzn-RequestId", '\0', HTTP_KEPT_REQUEST_ID},
};

void aws_error_decode(const char *header_type, const char *body, size_t body_len,
                      struct aws_error *out)
{
    memset(out, 0, sizeof(*out));
    if (header_type && header_type[0])
        set_type(out, header_type);
    json_t *root = sso_json_parse_object(body, body_len);
    if (root)
        decode_body(root, out);
    sso_json_free(root);
}

bool aws_throttled(const struct http_response *r)
{
    static const char *const throttling[] = {"ThrottlingException", "TooManyRequestsException",
                                             "RequestLimitExceeded", "SlowDownException",
                                             "Throttling", "ThrottledException"};
    struct aws_error e;
    aws_error_decode(aws_error_type(r), r->body, r->body_len, &e);
    if (!e.type[0] && r->body && memchr(r->body, '<', r->body_len)) { /* STS's XML */
        char msg[8];
        sts_parse_error(r->body, r->body_len, e.type, sizeof(e.type), msg, sizeof(msg));
    }
    for (size_t i = 0; i < sizeof(throttling) / sizeof(throttling[0]); i++)
        if (strcmp(e.type, throttling[i]) == 0)
            return true;
    return false;
}

double aws_retry_after_body(const struct http_response *r)
{
    if (r->status == 200 || !r->body || r->body_len == 0 || r->body[0] != '{')
        return -1; /* only error answers say how long to wait */
    json_t *root = sso_json_parse_object(r->body, r->body_len);
    long long secs = -1;
    if (!root || sso_json_integer(root, "RetryAfterSeconds", 0, 86400, &secs) != SSO_JSON_OK)
        secs = -1;
    sso_json_free(root);
    return (double)secs;
}
