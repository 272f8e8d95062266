/* http.c - HTTPS requests over one reused libcurl easy handle.
 *
 * Security choices, all deliberate: HTTPS only (also for redirects, which are
 * never followed), peer and host verification always on, TLS 1.2 minimum,
 * CURLOPT_NOSIGNAL because we live inside sshd/sudo and must not touch their
 * signal handling, and a hard cap on every answer's size and duration. */
#include "http.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct http_client {
    CURL *curl;
    long timeout;
    long connections;
    char last_request_id[128];
    char errbuf[CURL_ERROR_SIZE];
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
};

/* What the callbacks fill while one answer arrives. */
struct http_sink {
    struct http_response *resp;
    size_t cap;
    int too_big;
    int oom;
};

static void sink_release(char *buf, size_t cap)
{
    sso_cleanse(buf, cap);
    free(buf);
}

/* Grow by copying rather than realloc, so no copy of a secret-bearing body
 * is left behind uncleansed in freed memory. */
static int sink_reserve(struct http_sink *s, size_t need)
{
    if (need <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < need)
        cap *= 2;
    if (cap > HTTP_BODY_MAX + 1)
        cap = HTTP_BODY_MAX + 1;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    if (s->resp->body) {
        memcpy(buf, s->resp->body, s->resp->body_len);
        sink_release(s->resp->body, s->cap);
    }
    s->resp->body = buf;
    s->cap = cap;
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct http_sink *s = userp;
    size_t n = size * nmemb;
    if (s->resp->body_len + n > HTTP_BODY_MAX) {
        s->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (sink_reserve(s, s->resp->body_len + n + 1) != 0) {
        s->oom = 1;
        return 0;
    }
    memcpy(s->resp->body + s->resp->body_len, data, n);
    s->resp->body_len += n;
    s->resp->body[s->resp->body_len] = '\0';
    return n;
}

/* Copy a header's value (trimmed, printable ASCII only, cut at stop_at) when
 * the line names it; header values are attacker-controlled. */
static void take_header(const char *line, size_t len, const char *name, char *dst,
                        size_t dstlen, char stop_at)
{
    size_t nlen = strlen(name);
    if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
        return;
    size_t i = nlen + 1, o = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    for (; i < len && o + 1 < dstlen; i++) {
        char ch = line[i];
        if (ch == '\r' || ch == '\n' || (stop_at && ch == stop_at))
            break;
        if (ch >= 0x20 && ch < 0x7f)
            dst[o++] = ch;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    dst[o] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct http_sink *s = userp;
    size_t n = size * nmemb;
    struct http_response *r = s->resp;
    take_header(data, n, "x-amzn-ErrorType", r->error_type, sizeof(r->error_type), ':');
    take_header(data, n, "x-amzn-RequestId", r->request_id, sizeof(r->request_id), 0);
    take_header(data, n, "Content-Type", r->content_type, sizeof(r->content_type), 0);
    return n;
}

int http_open(struct http_client **out, const struct cfg *c, struct sso_error *err)
{
    *out = NULL;
    /* Reference-counted by libcurl; balanced by curl_global_cleanup in http_close. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return sso_fail(err, PAM_SERVICE_ERR, "libcurl global initialisation failed");
    /* OpenSSL 3.0 can report success while an allocation failure left its
     * default library context unmade; the next digest would then crash on
     * its missing lock (found by the allocation-failure sweep). */
    if (OSSL_LIB_CTX_get0_global_default() == NULL) {
        curl_global_cleanup();
        return sso_fail(err, PAM_BUF_ERR, "OpenSSL initialisation failed (out of memory?)");
    }
    struct http_client *h = calloc(1, sizeof(*h));
    CURL *curl = h ? curl_easy_init() : NULL;
    if (!curl) {
        free(h);
        curl_global_cleanup();
        return sso_fail(err, PAM_BUF_ERR, "out of memory creating the HTTP client");
    }
    h->curl = curl;
    h->timeout = c->http_timeout;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) \
    if (rc == CURLE_OK) rc = curl_easy_setopt(curl, opt, val)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_CONNECTTIMEOUT, c->http_timeout);
    SET(CURLOPT_TIMEOUT, c->http_timeout);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_BODY_MAX);
    SET(CURLOPT_USERAGENT, "pam_ssooidc/1.0");
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_ACCEPT_ENCODING, NULL);
    /* One connection per login, so TLS session resumption never helps; and
     * libcurl 7.88's session cache can double-free when an allocation fails
     * while it stores a ticket (found by the allocation-failure sweep). */
    SET(CURLOPT_SSL_SESSIONID_CACHE, 0L);
    if (c->ca_file[0])
        SET(CURLOPT_CAINFO, c->ca_file);
#undef SET
    if (rc != CURLE_OK) {
        http_close(h);
        return sso_fail(err, PAM_SERVICE_ERR, "libcurl refused an option: %s",
                        curl_easy_strerror(rc));
    }
    *out = h;
    return PAM_SUCCESS;
}

void http_close(struct http_client *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
    curl_global_cleanup();
}

void http_set_debug(struct http_client *h, void (*log)(void *ctx, const char *line), void *ctx)
{
    h->log = log;
    h->log_ctx = ctx;
}

const char *http_last_request_id(const struct http_client *h)
{
    return h ? h->last_request_id : "";
}

long http_connections(const struct http_client *h)
{
    return h ? h->connections : 0;
}

/* Build the header list; "Expect:" stops libcurl's 100-continue dance. */
static struct curl_slist *build_headers(const char *const *headers)
{
    struct curl_slist *list = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; list && headers && headers[i]; i++) {
        struct curl_slist *next = curl_slist_append(list, headers[i]);
        if (!next) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

/* Header values may carry a bearer token: wipe libcurl's copies too. */
static void free_headers(struct curl_slist *list)
{
    for (struct curl_slist *p = list; p; p = p->next)
        sso_cleanse(p->data, strlen(p->data));
    curl_slist_free_all(list);
}

static int set_method(CURL *curl, const char *method, const char *body)
{
    CURLcode rc;
    if (strcmp(method, "GET") == 0) {
        rc = curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        rc = curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                                  (curl_off_t)(body ? strlen(body) : 0));
    }
    return rc == CURLE_OK ? 0 : -1;
}

/* The path part of a URL for log lines (no query, which may carry ids). */
static void url_path(const char *url, char *dst, size_t dstlen)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    size_t n = p ? strcspn(p, "?") : 0;
    if (!p || n == 0 || n >= dstlen) {
        sso_strlcpy(dst, "/", dstlen);
        return;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void debug_line(struct http_client *h, const char *what, const char *method,
                       const char *url, const struct http_response *r, double secs)
{
    if (!h->log)
        return;
    char path[128], line[512];
    url_path(url, path, sizeof(path));
    snprintf(line, sizeof(line), "%s: %s %s -> %ld%s%s request_id=%s %.3fs connections=%ld",
             what, method, path, r->status, r->error_type[0] ? " " : "", r->error_type,
             r->request_id[0] ? r->request_id : "-", secs, h->connections);
    h->log(h->log_ctx, line);
}

static int transfer_error(struct http_client *h, const char *what, CURLcode rc,
                          const struct http_sink *s, struct sso_error *err)
{
    if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: answer larger than %d bytes; refused",
                        what, HTTP_BODY_MAX);
    if (s->oom || rc == CURLE_OUT_OF_MEMORY)
        return sso_fail(err, PAM_BUF_ERR, "%s: out of memory", what);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: no answer within http_timeout=%lds",
                        what, h->timeout);
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s (%s)", what, curl_easy_strerror(rc),
                    h->errbuf[0] ? h->errbuf : "no detail");
}

int http_request(struct http_client *h, const char *what, const char *method, const char *url,
                 const char *const *headers, const char *body, struct http_response *resp,
                 struct sso_error *err)
{
    memset(resp, 0, sizeof(*resp));
    struct http_sink sink = {.resp = resp};
    struct curl_slist *list = build_headers(headers);
    if (!list)
        return sso_fail(err, PAM_BUF_ERR, "%s: out of memory", what);
    h->errbuf[0] = '\0';
    CURLcode rc = curl_easy_setopt(h->curl, CURLOPT_URL, url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &sink);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &sink);
    if (rc == CURLE_OK && set_method(h->curl, method, body) != 0)
        rc = CURLE_BAD_FUNCTION_ARGUMENT;
    double t0 = sso_monotonic();
    if (rc == CURLE_OK)
        rc = curl_easy_perform(h->curl);
    long connects = 0;
    curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &connects);
    h->connections += connects;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    /* Do not leave pointers to this call's stack and headers in the handle. */
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
    free_headers(list);
    sso_strlcpy(h->last_request_id, resp->request_id, sizeof(h->last_request_id));
    debug_line(h, what, method, url, resp, sso_monotonic() - t0);
    if (rc != CURLE_OK) {
        int code = transfer_error(h, what, rc, &sink, err);
        http_response_free(resp);
        return code;
    }
    if (!resp->body && sink_reserve(&sink, 1) == 0)
        resp->body[0] = '\0';
    if (!resp->body)
        return sso_fail(err, PAM_BUF_ERR, "%s: out of memory", what);
    return PAM_SUCCESS;
}

void http_response_free(struct http_response *r)
{
    if (!r)
        return;
    if (r->body)
        sink_release(r->body, r->body_len + 1);
    memset(r, 0, sizeof(*r));
}
