/* http.c - HTTPS requests over one reused libcurl easy handle.
 *
 * Security choices, all deliberate: HTTPS only (also for redirects, which are
 * never followed), peer and host verification always on, TLS 1.2 minimum,
 * CURLOPT_NOSIGNAL because we live inside sshd/sudo and must not touch their
 * signal handling, and a hard cap on every answer's size and duration.
 *
 * Nothing network- or TLS-related comes from the environment: in sudo and su
 * it belongs to the user being authenticated (docs/threat-model.md). libcurl
 * reads proxies from it on every transfer (switched off below by explicit
 * empty CURLOPT_PROXY and CURLOPT_NOPROXY), and SSLKEYLOGFILE once, when the
 * library is initialised (see init_library_quarantined). Trust comes from ca_file,
 * read by us through the trusted-path walk, or from libcurl's built-in
 * system store paths - never from SSL_CERT_FILE or SSL_CERT_DIR. */
#include "core/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/retry.h"
#include "core/sanitize.h"
#include "core/trust.h"

#define CA_FILE_MAX (4 * 1024 * 1024) /* a PEM bundle; the system one is ~220 KiB */

struct http_client {
    CURL *curl;
    long timeout;
    long connections;
    char ca_file[CFG_PATH_MAX]; /* for the hint on an untrusted certificate */
    bool proxied;               /* connections go to the proxy, not the URL's host */
    char last_request_id[128];
    char errbuf[CURL_ERROR_SIZE];
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    bool (*cancelled)(void *ctx);
    bool (*sleep_until)(void *ctx, double until);
    void *cancel_ctx;
    bool was_cancelled;
    /* the slow-call notice (http_set_slow_notice) */
    double slow_after;
    void (*slow_notice)(void *ctx);
    void *slow_ctx;
    double call_started; /* sso_monotonic() when the current call began */
    bool slow_noticed;   /* the current call's notice was given */
    /* the retry policy (retry.h) */
    long max_retries;
    double deadline;
    bool (*throttled)(const struct http_response *r);
    const struct http_kept_header *kept; /* the provider's (http_keep_headers) */
    size_t n_kept;
    long retries; /* extra attempts made so far, for the outcome line */
    long throttled_answers; /* answers the classifier called throttling */
    double (*retry_after_read)(const struct http_response *r); /* the body's word */
    size_t body_max; /* HTTP_BODY_MAX unless raised (http_set_body_max) */
};

/* What the callbacks fill while one answer arrives. */
struct http_sink {
    const struct http_client *h;
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
    if (cap > s->h->body_max + 1)
        cap = s->h->body_max + 1;
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
    if (s->resp->body_len + n > s->h->body_max) {
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
    for (size_t i = 0; i < s->h->n_kept; i++)
        take_header(data, n, s->h->kept[i].name, r->kept[i], sizeof(r->kept[i]),
                    s->h->kept[i].cut_at);
    take_header(data, n, "Content-Type", r->content_type, sizeof(r->content_type), 0);
    take_header(data, n, "Retry-After", r->retry_after, sizeof(r->retry_after), 0);
    take_header(data, n, "Date", r->date, sizeof(r->date), 0);
    return n;
}

/* libcurl opens SSLKEYLOGFILE (for appending, creating it as root) when it
 * initialises its TLS layer, and no option stops it. When the variable is
 * visible - through environ, or through a host that answers getenv itself,
 * as sudo's plugin does - it is unset for the moment of the initialisation
 * and set again, unchanged, right after it: the host's environment is
 * what it was, and no file is created or written. In the common case (no
 * such variable) nothing process-wide is touched. The lock keeps two logins
 * of one threaded host from interleaving; a host thread calling setenv at
 * that very moment is not guarded against (setenv is not thread-safe).
 *
 * OpenSSL's configuration is loaded first, from the system's file named
 * explicitly, so OPENSSL_CONF is never consulted (OpenSSL reads it through
 * secure_getenv, which covers setuid hosts but not root-run ones). If the
 * host loaded OpenSSL's configuration already, that was the host's doing. */
static pthread_mutex_t env_quarantine_lock = PTHREAD_MUTEX_INITIALIZER;

#define KEYLOG_VARIABLE "SSLKEYLOGFILE"

static void load_openssl_config(void)
{
    char path[1024];
    const char *dir = OPENSSL_info(OPENSSL_INFO_CONFIG_DIR);
    OPENSSL_INIT_SETTINGS *settings = OPENSSL_INIT_new();
    if (settings && dir && snprintf(path, sizeof(path), "%s/openssl.cnf", dir) < (int)sizeof(path))
        OPENSSL_INIT_set_config_filename(settings, path);
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, settings);
    OPENSSL_INIT_free(settings);
}

static CURLcode init_library_quarantined(bool *refused)
{
    CURLcode rc = CURLE_FAILED_INIT;
    *refused = false;
    pthread_mutex_lock(&env_quarantine_lock);
    load_openssl_config();
    const char *visible = getenv(KEYLOG_VARIABLE);
    char *keep = visible ? strdup(visible) : NULL;
    if (visible && (!keep || unsetenv(KEYLOG_VARIABLE) != 0 || getenv(KEYLOG_VARIABLE)))
        *refused = true; /* could not hide it: do not initialise at all */
    else
        rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (keep) {
        setenv(KEYLOG_VARIABLE, keep, 1);
        free(keep);
    }
    pthread_mutex_unlock(&env_quarantine_lock);
    return rc;
}

/* Whatever a host process or a future libcurl may have set up, no TLS
 * secret of ours is ever handed to a key log callback. */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *userp)
{
    (void)curl, (void)userp;
    SSL_CTX_set_keylog_callback((SSL_CTX *)ssl_ctx, NULL);
    return CURLE_OK;
}

static void call_begins(struct http_client *h)
{
    h->call_started = sso_monotonic();
    h->slow_noticed = false;
}

/* The moment the current call becomes slow (never, without a notice). */
static double slow_at(const struct http_client *h)
{
    if (!h->slow_notice || h->slow_noticed)
        return -1.0;
    return h->call_started + h->slow_after;
}

static void notice_if_slow(struct http_client *h)
{
    double at = slow_at(h);
    if (at >= 0 && sso_monotonic() >= at) {
        h->slow_noticed = true;
        h->slow_notice(h->slow_ctx);
    }
}

/* Called by libcurl during transfers (at least once a second): lets a
 * Ctrl-C end a request that is slow to answer, and says that it is slow. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct http_client *h = userp;
    notice_if_slow(h);
    if (h->cancelled && h->cancelled(h->cancel_ctx)) {
        h->was_cancelled = true;
        return 1; /* CURLE_ABORTED_BY_CALLBACK */
    }
    return 0;
}

/* How many certificate blocks (CERTIFICATE, TRUSTED CERTIFICATE, X509
 * CERTIFICATE) with valid base64 a PEM bundle holds; 0 when it is no PEM at
 * all (DER, a key, any other file). Decided here so that a wrong ca_file is
 * named when it is loaded, not as libcurl's "error importing CA certificate
 * blob" at the first request. Only the PEM layer is read: libcurl decodes
 * the certificates for each connection it sets up (one per login,
 * normally), and decoding them here as well cost a warm login about 1.2
 * million instructions (tests/bench/README.md). A block whose certificate
 * does not decode fails there, CURLE_SSL_CACERT_BADFILE, before any
 * request is sent, and transfer_error names ca_file with PAM_SERVICE_ERR. */
static int pem_certificates(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    int n = 0;
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long data_len = 0;
    while (bio && PEM_read_bio(bio, &name, &header, &data, &data_len) == 1) {
        n += strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_TRUSTED) == 0 ||
             strcmp(name, PEM_STRING_X509_OLD) == 0;
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
    }
    BIO_free(bio);
    ERR_clear_error(); /* no stale OpenSSL error for libcurl to report later */
    return n;
}

/* Said when ca_file holds no PEM certificate block (at load), and when a
 * block does not decode (at the connection; see pem_certificates). */
#define CA_FILE_NOT_PEM                                                              \
    "ca_file %s is not a PEM certificate bundle (no -----BEGIN CERTIFICATE----- block " \
    "OpenSSL can read): convert it with openssl x509 -inform der, or name the right file"
#define CA_FILE_UNDECODABLE                                                          \
    "ca_file %s holds a certificate block that does not decode (corrupt or truncated?): " \
    "replace it with an intact PEM bundle"

/* Trust anchors: ca_file (read through the trusted-path walk and handed to
 * libcurl as a blob, so it is never reopened by name), or the system store
 * libcurl was built with. Returns a CURLcode; err set on a file problem. */
static CURLcode set_trust(CURL *curl, const struct cfg *c, int *pam_rc, struct sso_error *err)
{
    *pam_rc = PAM_SUCCESS;
    if (!c->ca_file[0])
        return CURLE_OK;
    char *pem = NULL;
    size_t len = 0;
    int rc = trust_read_file(c->ca_file, "ca_file", CA_FILE_MAX, &pem, &len, err);
    if (rc == PAM_NO_MODULE_DATA)
        rc = PAM_SERVICE_ERR; /* a configured ca_file must exist; err says so */
    if (rc == PAM_SUCCESS && pem_certificates(pem, len) == 0)
        rc = sso_fail(err, PAM_SERVICE_ERR, CA_FILE_NOT_PEM, c->ca_file);
    if (rc != PAM_SUCCESS) {
        free(pem);
        *pam_rc = rc;
        return CURLE_OK;
    }
    struct curl_blob blob = {.data = pem, .len = len, .flags = CURL_BLOB_COPY};
    /* Only ca_file: the built-in CA directory would otherwise still count. */
    CURLcode cc = curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
    if (cc == CURLE_OK && c->proxy[0])
        cc = curl_easy_setopt(curl, CURLOPT_PROXY_CAINFO_BLOB, &blob);
    if (cc == CURLE_OK && c->proxy[0])
        cc = curl_easy_setopt(curl, CURLOPT_PROXY_CAPATH, NULL);
    free(pem);
    return cc;
}

int http_library_ref(struct sso_error *err)
{
    /* Reference-counted by libcurl; balanced by http_library_unref. */
    bool refused = false;
    if (init_library_quarantined(&refused) != CURLE_OK)
        return refused ? sso_fail(err, PAM_SERVICE_ERR, "the host's environment sets "
                                  KEYLOG_VARIABLE " and it could not be hidden from libcurl; "
                                  "refusing rather than logging TLS secrets")
                       : sso_fail(err, PAM_SERVICE_ERR, "libcurl global initialisation failed");
    return PAM_SUCCESS;
}

void http_library_unref(void)
{
    curl_global_cleanup();
}

int http_open(struct http_client **out, const struct cfg *c, struct sso_error *err)
{
    *out = NULL;
    /* Balanced by curl_global_cleanup in http_close. */
    int lib = http_library_ref(err);
    if (lib != PAM_SUCCESS)
        return lib;
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
    h->body_max = HTTP_BODY_MAX;
    sso_strlcpy(h->ca_file, c->ca_file, sizeof(h->ca_file));
    h->proxied = c->proxy[0] != '\0';
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
    /* An empty string is libcurl's documented "no proxy, whatever the
     * environment says"; an empty no-proxy list likewise stops NO_PROXY
     * from steering traffic around the configured proxy. */
    SET(CURLOPT_PROXY, c->proxy);
    SET(CURLOPT_NOPROXY, "");
    if (c->proxy[0]) {
        SET(CURLOPT_HTTPPROXYTUNNEL, 1L);
        SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
        SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
    }
    SET(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, h);
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
#undef SET
    int trust_rc = PAM_SUCCESS;
    if (rc == CURLE_OK)
        rc = set_trust(curl, c, &trust_rc, err);
    if (trust_rc != PAM_SUCCESS) {
        http_close(h);
        return trust_rc;
    }
    if (rc != CURLE_OK) {
        http_close(h);
        if (rc == CURLE_OUT_OF_MEMORY)
            return sso_fail(err, PAM_BUF_ERR, "out of memory setting up the HTTP client");
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

void http_set_cancel(struct http_client *h, bool (*cancelled)(void *ctx),
                     bool (*sleep_until)(void *ctx, double until), void *ctx)
{
    h->cancelled = cancelled;
    h->sleep_until = sleep_until;
    h->cancel_ctx = ctx;
}

void http_set_slow_notice(struct http_client *h, double after, void (*notice)(void *ctx),
                          void *ctx)
{
    h->slow_after = after;
    h->slow_notice = notice;
    h->slow_ctx = ctx;
}

void http_set_retry(struct http_client *h, long max_retries, double deadline)
{
    h->max_retries = max_retries;
    h->deadline = deadline;
}

void http_keep_headers(struct http_client *h, const struct http_kept_header *list, size_t n)
{
    h->kept = list;
    h->n_kept = list && n <= HTTP_KEPT_MAX ? n : 0;
}

const char *http_kept(const struct http_client *h, const struct http_response *r,
                      enum http_kept_role role)
{
    for (size_t i = 0; h && i < h->n_kept; i++)
        if (h->kept[i].role == role)
            return r->kept[i];
    return "";
}

void http_set_retry_classifier(struct http_client *h,
                               bool (*throttled)(const struct http_response *r))
{
    h->throttled = throttled;
}

void http_set_retry_after_reader(struct http_client *h,
                                 double (*read)(const struct http_response *r))
{
    h->retry_after_read = read;
}

int http_set_body_max(struct http_client *h, size_t max)
{
    if (max < 1024 || max > HTTP_BODY_LIMIT)
        return -1;
    if (curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max) != CURLE_OK)
        return -1;
    h->body_max = max;
    return 0;
}

long http_throttled(const struct http_client *h)
{
    return h ? h->throttled_answers : 0;
}

void http_set_deadline(struct http_client *h, double deadline)
{
    h->deadline = deadline;
}

long http_retries(const struct http_client *h)
{
    return h ? h->retries : 0;
}

void http_count_retry(struct http_client *h)
{
    if (h)
        h->retries++;
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
    const char *detail = http_kept(h, r, HTTP_KEPT_DETAIL);
    const char *id = http_kept(h, r, HTTP_KEPT_REQUEST_ID);
    url_path(url, path, sizeof(path));
    snprintf(line, sizeof(line), "%s: %s %s -> %ld%s%s request_id=%s %.3fs connections=%ld",
             what, method, path, r->status, detail[0] ? " " : "", detail, id[0] ? id : "-",
             secs, h->connections);
    h->log(h->log_ctx, line);
}

void http_url_shown(const char *url, char *dst, size_t dstlen)
{
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', alen); /* no user:password@ in a log line */
    if (at) {
        alen -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    size_t plen = auth[alen] == '/' ? strcspn(auth + alen, "?#") : 0;
    char bare[HTTP_URL_SHOWN_MAX + 64];
    snprintf(bare, sizeof(bare), "%.*s%.*s%.*s%s", sep ? (int)(sep + 3 - url) : 0, url,
             (int)alen, auth, (int)plen, auth + alen, auth[alen + plen] == '?' ? "?..." : "");
    sanitize_display(dst, dstlen, bare, HTTP_URL_SHOWN_MAX);
}

/* Why no connection was made, in the words an administrator acts on:
 * the name, the refusal, the silence. */
static int connect_error(struct http_client *h, const char *what, const char *shown,
                         CURLcode rc, struct sso_error *err)
{
    long os_errno = 0;
    curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno);
    if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s: name resolution of the %s failed "
                        "(%.120s)", what, shown, rc == CURLE_COULDNT_RESOLVE_PROXY ? "proxy"
                        : "host", h->errbuf[0] ? h->errbuf : "no detail");
    const char *to = h->proxied ? " to the proxy" : "";
    if (os_errno == ECONNREFUSED)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s: connection%s refused (nothing "
                        "listens on that port, or a firewall rejects it)", what, shown, to);
    if (os_errno == ETIMEDOUT)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s: no TCP connection%s (timed out: "
                        "a firewall drops the packets, or the host is down)", what, shown, to);
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s: no TCP connection%s (%s)", what, shown,
                    to, os_errno ? strerror((int)os_errno) : "no detail");
}

/* The certificate was not trusted: say which trust was used, and how to
 * name another (ca_file, a root-owned PEM bundle). */
static int certificate_error(struct http_client *h, const char *what, const char *shown,
                             struct sso_error *err)
{
    char hint[CFG_PATH_MAX + 96];
    if (strstr(h->errbuf, "subject name") || strstr(h->errbuf, "host name"))
        snprintf(hint, sizeof(hint), "the certificate is for another host name");
    else if (h->ca_file[0])
        snprintf(hint, sizeof(hint), "is the CA that signed it in ca_file %.100s?", h->ca_file);
    else
        snprintf(hint, sizeof(hint), "for a private CA, set ca_file to a root-owned PEM "
                 "bundle holding it");
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s: TLS certificate not trusted "
                    "(%.120s); %s", what, shown, h->errbuf[0] ? h->errbuf : "no detail", hint);
}

static int transfer_error(struct http_client *h, const char *what, const char *url, CURLcode rc,
                          const struct http_sink *s, struct sso_error *err)
{
    char shown[HTTP_URL_SHOWN_MAX + 1];
    http_url_shown(url, shown, sizeof(shown));
    /* Connected when the TCP connect finished or a request was sent (a
     * reused connection reports no connect time). */
    curl_off_t connect_us = 0;
    long sent = 0;
    curl_easy_getinfo(h->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
    curl_easy_getinfo(h->curl, CURLINFO_REQUEST_SIZE, &sent);
    bool connected = connect_us > 0 || sent > 0;
    if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s: answer larger than %zu bytes; "
                        "refused", what, shown, h->body_max);
    if (s->oom || rc == CURLE_OUT_OF_MEMORY)
        return sso_fail(err, PAM_BUF_ERR, "%s: out of memory", what);
    /* libcurl records no connect time until TLS is set up too, so a
     * handshake that outlasts the timeout lands here as well. */
    if (rc == CURLE_OPERATION_TIMEDOUT && !connected)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s: no connection within "
                        "http_timeout=%lds (timed out while connecting: a firewall drops the "
                        "packets, the host is down, or TLS was not set up in time)", what,
                        shown, h->timeout);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s: no answer within "
                        "http_timeout=%lds", what, shown, h->timeout);
    if (rc == CURLE_ABORTED_BY_CALLBACK && h->was_cancelled)
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_CANCELLED,
                           "%s: cancelled by the person (Ctrl-C)", what);
    if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
        rc == CURLE_COULDNT_CONNECT)
        return connect_error(h, what, shown, rc, err);
    if (rc == CURLE_PEER_FAILED_VERIFICATION)
        return certificate_error(h, what, shown, err);
    if (rc == CURLE_SSL_CACERT_BADFILE && h->ca_file[0])
        return sso_fail(err, PAM_SERVICE_ERR, CA_FILE_UNDECODABLE, h->ca_file);
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s: %s (%.160s)", what, shown,
                    curl_easy_strerror(rc), h->errbuf[0] ? h->errbuf : "no detail");
}

/* One attempt. PAM_SUCCESS when an answer arrived (whatever its status);
 * else a PAM code with err set, and *curl_rc says what libcurl reported. */
static int perform_once(struct http_client *h, const char *what, const char *method,
                        const char *url, const char *const *headers, const char *body,
                        struct http_response *resp, CURLcode *curl_rc, struct sso_error *err)
{
    memset(resp, 0, sizeof(*resp));
    *curl_rc = CURLE_OK;
    struct http_sink sink = {.h = h, .resp = resp};
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
    sso_strlcpy(h->last_request_id, http_kept(h, resp, HTTP_KEPT_REQUEST_ID),
                sizeof(h->last_request_id));
    debug_line(h, what, method, url, resp, sso_monotonic() - t0);
    *curl_rc = rc;
    if (rc != CURLE_OK) {
        int code = transfer_error(h, what, url, rc, &sink, err);
        http_response_free(resp);
        return code;
    }
    if (!resp->body && sink_reserve(&sink, 1) == 0)
        resp->body[0] = '\0';
    if (!resp->body)
        return sso_fail(err, PAM_BUF_ERR, "%s: out of memory", what);
    return PAM_SUCCESS;
}

/* Was this outcome of one attempt a transient failure (retry.h)? A
 * throttling answer is counted here, once per answer (http_throttled). */
static bool transient(struct http_client *h, int rc, CURLcode curl_rc,
                      const struct http_response *resp)
{
    if (rc != PAM_SUCCESS)
        return rc == PAM_AUTHINFO_UNAVAIL && retry_transport_transient(curl_rc);
    bool throttled = h->throttled && h->throttled(resp);
    if (throttled)
        h->throttled_answers++;
    return retry_status_transient(resp->status) || throttled;
}

/* The wait an answer asks for: its Retry-After header, or the body's own
 * field (AWS JSON's RetryAfterSeconds) through the provider's reader, the
 * larger; -1 for none. The body's value is held to RETRY_BACKOFF_CAP: it is
 * not a protocol header, and any member of the answer could set it. */
static double asked_wait(const struct http_client *h, int rc, const struct http_response *resp)
{
    double wait = retry_after_seconds(resp->retry_after);
    if (rc != PAM_SUCCESS || !h->retry_after_read)
        return wait;
    double body = h->retry_after_read(resp);
    if (body > RETRY_BACKOFF_CAP)
        body = RETRY_BACKOFF_CAP;
    return body > wait ? body : wait;
}

/* The wait before a retry, cut in two where the call becomes slow, so the
 * notice comes when it is due rather than after the whole wait. True when
 * the person cancelled. */
static bool wait_before_retry(struct http_client *h, double until)
{
    double at = slow_at(h);
    if (at >= 0 && at < until) {
        if (h->sleep_until && h->sleep_until(h->cancel_ctx, at))
            return true;
        notice_if_slow(h);
    }
    if (h->sleep_until)
        return h->sleep_until(h->cancel_ctx, until);
    sso_sleep_until(until); /* no host to ask (a command): just wait */
    return false;
}

static void why_retry(const struct http_client *h, char *buf, size_t len, int rc,
                      const struct http_response *resp, const struct sso_error *err)
{
    const char *detail = http_kept(h, resp, HTTP_KEPT_DETAIL);
    if (rc != PAM_SUCCESS)
        snprintf(buf, len, "%s", err->msg);
    else
        snprintf(buf, len, "HTTP %ld%s%s", resp->status, detail[0] ? " " : "", detail);
}

int http_request_once(struct http_client *h, const char *what, const char *method,
                      const char *url, const char *const *headers, const char *body,
                      struct http_response *resp, bool *was_transient, struct sso_error *err)
{
    CURLcode curl_rc;
    call_begins(h);
    int rc = perform_once(h, what, method, url, headers, body, resp, &curl_rc, err);
    *was_transient = transient(h, rc, curl_rc, resp);
    return rc;
}

int http_request(struct http_client *h, const char *what, const char *method, const char *url,
                 const char *const *headers, const char *body, struct http_response *resp,
                 struct sso_error *err)
{
    call_begins(h);
    for (long attempt = 0;; attempt++) {
        CURLcode curl_rc;
        int rc = perform_once(h, what, method, url, headers, body, resp, &curl_rc, err);
        if (!transient(h, rc, curl_rc, resp) || attempt >= h->max_retries)
            return rc; /* a transient HTTP answer is the caller's to map */
        char why[sizeof(err->msg) + 64];
        why_retry(h, why, sizeof(why), rc, resp, err);
        double wait = retry_delay(attempt, asked_wait(h, rc, resp), retry_random01());
        double until = sso_monotonic() + wait;
        if (until > h->deadline) {
            if (rc != PAM_SUCCESS) /* keep what failed, say why we stopped */
                sso_fail(err, rc, "%s (no retry: it would end past the login's deadline)",
                         why);
            return rc;
        }
        http_response_free(resp);
        if (h->log) {
            char line[sizeof(why) + 128];
            snprintf(line, sizeof(line), "%s: retry %ld of %ld in %.2fs after %s", what,
                     attempt + 1, h->max_retries, wait, why);
            h->log(h->log_ctx, line);
        }
        h->retries++;
        if (wait_before_retry(h, until)) {
            h->was_cancelled = true;
            return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_CANCELLED,
                           "%s: cancelled by the person (Ctrl-C)", what);
        }
    }
}

void http_response_free(struct http_response *r)
{
    if (!r)
        return;
    if (r->body)
        sink_release(r->body, r->body_len + 1);
    memset(r, 0, sizeof(*r));
}
