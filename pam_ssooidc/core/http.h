/* http.h - one HTTPS client per login. Every request of a login reuses one
 * libcurl easy handle, so the whole login costs one TCP+TLS connection. */
#ifndef SSO_HTTP_H
#define SSO_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/util.h"

#define HTTP_BODY_MAX (64 * 1024) /* larger answers are refused, not truncated */
#define HTTP_BODY_LIMIT (4 * 1024 * 1024) /* the most http_set_body_max allows */

struct http_client;

/* A response header the provider asks the client to keep
 * (http_keep_headers): its value, trimmed, printable ASCII only, cut at
 * cut_at when that is not NUL. `role` says what the value means to the
 * shared log lines; HTTP_KEPT_PLAIN headers are only the provider's. */
enum http_kept_role {
    HTTP_KEPT_PLAIN,
    HTTP_KEPT_DETAIL,     /* qualifies the status in debug and retry lines */
    HTTP_KEPT_REQUEST_ID, /* names the request at the service (the outcome line) */
};
struct http_kept_header {
    const char *name;
    char cut_at;
    enum http_kept_role role;
};
#define HTTP_KEPT_MAX 4
#define HTTP_KEPT_LEN 128

struct http_response {
    long status;
    char *body; /* NUL-terminated, body_len bytes; cleansed by http_response_free */
    size_t body_len;
    char kept[HTTP_KEPT_MAX][HTTP_KEPT_LEN]; /* the kept headers, in the order asked;
                                              * empty when absent */
    char content_type[128];
    char retry_after[16]; /* Retry-After, as sent */
    char date[64];        /* Date, as sent (pam_ssooidc_check: clock skew) */
};

/* PAM_SUCCESS, or PAM_BUF_ERR / PAM_SERVICE_ERR with err set (an untrusted
 * or unreadable ca_file is PAM_SERVICE_ERR). */
int http_open(struct http_client **out, const struct cfg *c, struct sso_error *err);
void http_close(struct http_client *h);

/* libcurl's global initialisation as http_open does it (SSLKEYLOGFILE hidden,
 * OpenSSL's configuration from its fixed file), for code with an easy handle
 * of its own (aws/imds.c); each PAM_SUCCESS is balanced by one unref. */
int http_library_ref(struct sso_error *err);
void http_library_unref(void);

/* One call, retried by the policy of retry.h. headers: NULL-terminated
 * "Name: value" list, may be NULL. body: may be NULL (no body). Returns
 * PAM_SUCCESS when an HTTP answer of at most HTTP_BODY_MAX bytes (or what
 * http_set_body_max set) arrived (whatever its status: a transient one that
 * outlived the retries is the caller's to map), else PAM_AUTHINFO_UNAVAIL
 * with err saying what failed (DNS, TCP, TLS, timeout, oversized body), or
 * PAM_AUTH_ERR when the person cancelled. `what` names the call in errors
 * and debug logs. */
int http_request(struct http_client *h, const char *what, const char *method, const char *url,
                 const char *const *headers, const char *body, struct http_response *resp,
                 struct sso_error *err);

/* The same, one attempt only; *was_transient says whether a failure (or the
 * answer's status or throttling type) is of the kind a retry could cure. For
 * polling, where a failed poll is a missed poll. */
int http_request_once(struct http_client *h, const char *what, const char *method,
                      const char *url, const char *const *headers, const char *body,
                      struct http_response *resp, bool *was_transient, struct sso_error *err);

/* The retry policy: at most max_retries extra attempts per call, no wait
 * past deadline (sso_monotonic seconds). */
void http_set_retry(struct http_client *h, long max_retries, double deadline);

/* The provider's word on which response headers to keep (at most
 * HTTP_KEPT_MAX; list must outlive the client; NULL: none). */
void http_keep_headers(struct http_client *h, const struct http_kept_header *list, size_t n);

/* The value of the kept header with this role in r ("" when none). */
const char *http_kept(const struct http_client *h, const struct http_response *r,
                      enum http_kept_role role);

/* The provider's word on which 4xx answers are throttling (may be NULL). */
void http_set_retry_classifier(struct http_client *h,
                               bool (*throttled)(const struct http_response *r));
void http_set_deadline(struct http_client *h, double deadline);

/* The provider's reader of a wait the answer's body asks for (seconds, -1
 * for none; AWS JSON: RetryAfterSeconds). The retry loop waits at least the
 * larger of it (held to RETRY_BACKOFF_CAP) and Retry-After, never past the
 * deadline. NULL: the header alone. */
void http_set_retry_after_reader(struct http_client *h,
                                 double (*read)(const struct http_response *r));

/* Raise (or lower) the size cap of answers from HTTP_BODY_MAX, for a
 * command that reads large listings (1024..HTTP_BODY_LIMIT bytes). The
 * module keeps the default. 0, or -1 when out of range. */
int http_set_body_max(struct http_client *h, size_t max);

/* Answers so far that the retry classifier called throttling. */
long http_throttled(const struct http_client *h);

/* Extra attempts made so far (and missed polls counted by the caller). */
long http_retries(const struct http_client *h);
void http_count_retry(struct http_client *h);
void http_response_free(struct http_response *r);

/* The request id of the most recent answer (for the per-login log line):
 * the kept header of role HTTP_KEPT_REQUEST_ID, or empty. */
const char *http_last_request_id(const struct http_client *h);

/* Number of new connections libcurl opened so far (for debug and tests). */
long http_connections(const struct http_client *h);

/* A check libcurl calls during transfers, and the sleep used between
 * retries (it returns true when the person cancelled); either way the
 * request ends with PAM_AUTH_ERR ("cancelled by the person"). */
void http_set_cancel(struct http_client *h, bool (*cancelled)(void *ctx),
                     bool (*sleep_until)(void *ctx, double until), void *ctx);

/* When one call (http_request with its retries, or http_request_once) has
 * taken `after` seconds and is still going, notice(ctx) is called, once per
 * call: from libcurl's progress callback while a transfer waits, or between
 * the parts of a retry wait. The caller decides what to say and how often
 * (the module says it once per login). */
void http_set_slow_notice(struct http_client *h, double after, void (*notice)(void *ctx),
                          void *ctx);

/* A URL as log lines and errors show it: scheme, host, port and path,
 * never a user:password@ or what follows '?' (shown as "?...") or '#';
 * filtered (sanitize_display) and cut to HTTP_URL_SHOWN_MAX characters. */
#define HTTP_URL_SHOWN_MAX 120
void http_url_shown(const char *url, char *dst, size_t dstlen);

/* With debug on, one syslog line per request (method, path, status, the
 * provider's detail and request id headers; never bodies or other headers). */
void http_set_debug(struct http_client *h, void (*log)(void *ctx, const char *line), void *ctx);

#endif
