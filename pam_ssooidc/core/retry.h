/* retry.h - the one retry policy of every call, after the AWS SDKs'
 * "standard" retry mode (docs/reliability.md, "Retries").
 *
 * Transient: a connection refused, reset or timed out, a name that did not
 * resolve, an HTTP 5xx or 429, or a throttling error type (the caller says
 * which answers are throttling). Never retried: TLS verification failures,
 * answers that are too large, every modelled 4xx. At most `retries` extra
 * attempts per call, each after a capped exponential backoff with full
 * jitter (a random wait in [0, min(CAP, BASE * 2^attempt))), at least as
 * long as a Retry-After header asks, and never past the login's deadline.
 * Pure functions: the loop lives in http.c, polling in the entry file. */
#ifndef SSO_RETRY_H
#define SSO_RETRY_H

#include <stdbool.h>

#define RETRY_BACKOFF_BASE 1.0 /* seconds: the first retry waits up to 1 s */
#define RETRY_BACKOFF_CAP 20.0 /* seconds: no single wait is longer */

/* Is this libcurl result (a CURLcode) a transient transport failure? */
bool retry_transport_transient(int curl_code);

/* Is this HTTP status transient (5xx, 429)? */
bool retry_status_transient(long status);

/* Seconds to wait before retry number `attempt` (0 for the first retry):
 * full jitter from `random01` in [0, 1), raised to `retry_after` when that
 * is larger (negative: none), capped at RETRY_BACKOFF_CAP. */
double retry_delay(long attempt, double retry_after, double random01);

/* A Retry-After header value in delta-seconds ("3"), or -1 when absent or
 * not a plain number (an HTTP-date is not honoured). */
double retry_after_seconds(const char *value);

/* A uniformly random number in [0, 1) from getrandom (no global state). */
double retry_random01(void);

#endif
