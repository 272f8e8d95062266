/* sigv4.h - AWS Signature Version 4 (HMAC-SHA256 via OpenSSL). */
#ifndef SSO_SIGV4_H
#define SSO_SIGV4_H

#include <stddef.h>

struct sigv4_header {
    const char *name;  /* as sent; canonicalised (lower-cased, trimmed) inside */
    const char *value;
};

struct sigv4_request {
    const char *method;       /* "GET", "POST" */
    const char *path;         /* raw path as sent, e.g. "/" or "/example space/" */
    const char *query;        /* raw query string without '?', may be "" */
    const struct sigv4_header *headers; /* all headers to sign (must include host, x-amz-date) */
    size_t n_headers;
    const char *payload;
    size_t payload_len;
};

struct sigv4_key {
    const char *access_key_id;
    const char *secret_access_key;
    const char *region;
    const char *service;
    const char *amz_date; /* "YYYYMMDDTHHMMSSZ" */
};

/* Outputs, each heap-allocated and NUL-terminated; free with sigv4_free. */
struct sigv4_result {
    char *canonical_request;
    char *string_to_sign;
    char *authorization; /* value of the Authorization header */
};

/* 0 on success, -1 on allocation failure or malformed input. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_key *key,
               struct sigv4_result *out);
void sigv4_free(struct sigv4_result *r);

/* Format `now` (epoch seconds) as x-amz-date. buf must hold 17 bytes. */
void sigv4_amz_date(long long now, char buf[17]);

#endif
