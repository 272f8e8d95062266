/* check_probe.c - pam_ssooidc_check's checks: the trusted paths, what the
 * provider keeps in cache_dir, every endpoint the provider names (name
 * resolution, TCP, TLS with the configured trust, an HTTP answer, through
 * `proxy` when set), the clock against the service's, and the provider
 * opened as a login opens it, its client put to the service (check.h).
 * What to probe is the provider's word (provider.h); nothing here names a
 * provider. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmd/check.h"
#include "core/http.h"
#include "core/store.h"
#include "core/trust.h"
#include "core/usermap.h"
#include "provider.h"

/* ------------------------------------------------------- trusted paths */

static void check_file(struct report *r, const char *what, const char *path, bool required)
{
    int fd = -1;
    struct sso_error err = SSO_ERROR_INIT;
    int rc = trust_open_file(path, what, &fd, &err);
    if (rc == PAM_SUCCESS) {
        close(fd);
        check_finding(r, ST_OK, "trusted path", "%s %s", what, path);
    } else if (rc == PAM_NO_MODULE_DATA && !required) {
        check_finding(r, ST_INFO, "trusted path",
                      "%s %s does not exist (everything from the stanza)", what, path);
    } else {
        check_finding(r, ST_FAIL, "trusted path", "%s", err.msg);
    }
}

static void parent_of(const char *path, char *out, size_t len)
{
    snprintf(out, len, "%s", path);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    char *slash = strrchr(out, '/');
    if (slash == out)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
}

/* cache_dir: trusted and 0700, or missing below a trusted parent (the
 * first login makes it). Returns whether it exists and is usable. */
static bool check_cache_dir(struct report *r, const struct cfg *c)
{
    int fd = -1;
    struct sso_error err = SSO_ERROR_INIT;
    int rc = trust_open_dir(c->cache_dir, "cache_dir", false, &fd, NULL, &err);
    if (rc == PAM_NO_MODULE_DATA) {
        char parent[CFG_PATH_MAX];
        parent_of(c->cache_dir, parent, sizeof(parent));
        rc = trust_open_dir(parent, "cache_dir's parent", false, &fd, NULL, &err);
        if (rc == PAM_SUCCESS) {
            close(fd);
            check_finding(r, ST_INFO, "trusted path", "cache_dir %s does not exist yet; the first "
                          "login creates it", c->cache_dir);
        } else {
            check_finding(r, ST_FAIL, "trusted path", "cache_dir %s cannot be created: %s",
                          c->cache_dir, err.msg);
        }
        return false;
    }
    if (rc != PAM_SUCCESS) {
        check_finding(r, ST_FAIL, "trusted path", "%s", err.msg);
        return false;
    }
    close(fd);
    rc = store_dir_open(c->cache_dir, &fd, &err); /* the 0700 rule too */
    if (rc != PAM_SUCCESS) {
        check_finding(r, ST_FAIL, "trusted path", "%s", err.msg);
        return false;
    }
    close(fd);
    check_finding(r, ST_OK, "trusted path", "cache_dir %s", c->cache_dir);
    return true;
}

void check_probe_paths(struct report *r, const struct settings *s, bool explicit_conf,
                       bool *cache_ok)
{
    const struct cfg *c = &s->common;
    check_file(r, "config file", c->conf_path, explicit_conf);
    if (c->ca_file[0])
        check_file(r, "ca_file", c->ca_file, true);
    const struct provider *prov = provider_select(s);
    struct provider_place files[PROVIDER_PLACES_MAX];
    size_t n = prov->files(settings_part(s, prov), files);
    for (size_t i = 0; i < n; i++) /* their own stricter rules are the provider's (its open) */
        check_file(r, files[i].name, files[i].where, true);
    if (c->user_map[0]) {
        struct usermap map;
        struct sso_error err = SSO_ERROR_INIT;
        int rc = usermap_load(c, &map, &err);
        if (rc == PAM_SUCCESS)
            check_finding(r, ST_OK, "trusted path", "user_map %s (every line well-formed)",
                          c->user_map);
        else
            check_finding(r, ST_FAIL, "trusted path", "%s", err.msg);
        usermap_free(&map);
    }
    *cache_ok = check_cache_dir(r, c);
}

/* ------------------------------------------------------- the provider's */

static void provider_finding(void *ctx, enum provider_status st, const char *check,
                             const char *detail)
{
    static const enum check_status of[] = {[PROVIDER_OK] = ST_OK, [PROVIDER_INFO] = ST_INFO,
                                     [PROVIDER_WARN] = ST_WARN, [PROVIDER_FAIL] = ST_FAIL};
    check_finding(ctx, of[st], check, "%s", detail);
}

/* What the provider keeps in cache_dir (AWS: its registration). */
void check_probe_stored(struct report *r, const struct settings *s)
{
    const struct provider *prov = provider_select(s);
    const struct provider_report out = {provider_finding, r};
    if (prov->check_stored)
        prov->check_stored(&s->common, settings_part(s, prov), &out);
}

/* ------------------------------------------------------- endpoints */

/* host and port of an http(s) URL (IPv6 literals in brackets). */
static bool url_host_port(const char *url, char *host, size_t hlen, char *port, size_t plen)
{
    const char *p = strstr(url, "://");
    if (!p)
        return false;
    bool https = strncmp(url, "https", 5) == 0;
    p += 3;
    size_t n = strcspn(p, "/?#");
    char authority[CFG_URL_MAX];
    if (n == 0 || n >= sizeof(authority))
        return false;
    memcpy(authority, p, n);
    authority[n] = '\0';
    char *colon = NULL;
    if (authority[0] == '[') {
        char *close = strchr(authority, ']');
        if (!close)
            return false;
        *close = '\0';
        snprintf(host, hlen, "%s", authority + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strrchr(authority, ':');
        if (colon)
            *colon = '\0';
        snprintf(host, hlen, "%s", authority);
    }
    snprintf(port, plen, "%s", colon ? colon + 1 : (https ? "443" : "80"));
    return host[0] != '\0';
}

/* 0 when a TCP connection was made, else why not (an errno value:
 * ETIMEDOUT when nothing answered within timeout_ms). */
static int tcp_connect(const struct addrinfo *ai, long timeout_ms, long *took_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0)
        return errno;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int why = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
    if (why == EINPROGRESS) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        socklen_t sl = sizeof(why);
        int n = poll(&pfd, 1, (int)timeout_ms);
        if (n == 0)
            why = ETIMEDOUT;
        else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &why, &sl) != 0)
            why = errno;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *took_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    close(fd);
    return why;
}

/* No TCP connection, in the words an administrator acts on: refused
 * (nothing listens, or a firewall rejects), timed out (dropped), or else. */
static void tcp_failed(struct report *r, const char *label, const char *host, const char *port,
                       int why, long timeout)
{
    if (why == ECONNREFUSED)
        check_finding(r, ST_FAIL, label, "TCP connection to %s port %s refused (nothing "
                      "listens on that port, or a firewall rejects it)", host, port);
    else if (why == ETIMEDOUT)
        check_finding(r, ST_FAIL, label, "no TCP connection to %s port %s within %ld s (timed "
                      "out: a firewall drops the packets, or the host is down)", host, port,
                      timeout);
    else
        check_finding(r, ST_FAIL, label, "no TCP connection to %s port %s: %s", host, port,
                      strerror(why));
}

/* DNS and TCP for host:port (the endpoint's, or the proxy's). */
static bool check_reach(struct report *r, const char *label, const char *url, long timeout)
{
    char host[CFG_URL_MAX], port[16], addr[INET6_ADDRSTRLEN];
    if (!url_host_port(url, host, sizeof(host), port, sizeof(port))) {
        check_finding(r, ST_FAIL, label, "cannot take a host name out of %s", url);
        return false;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        check_finding(r, ST_FAIL, label, "name resolution of %s: %s", host, gai_strerror(gai));
        return false;
    }
    int n = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        n++;
    check_finding(r, ST_OK, label, "%s resolves (%d address%s)", host, n, n == 1 ? "" : "es");
    int why = -1;
    long took = 0;
    for (struct addrinfo *a = res; a && why != 0; a = a->ai_next) {
        why = tcp_connect(a, timeout * 1000, &took);
        void *in = a->ai_family == AF_INET6
                       ? (void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr
                       : (void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
        inet_ntop(a->ai_family, in, addr, sizeof(addr));
    }
    freeaddrinfo(res);
    if (why == 0)
        check_finding(r, ST_OK, label, "TCP connection to %s port %s in %ld ms", addr, port,
                      took);
    else
        tcp_failed(r, label, why == ECONNREFUSED ? addr : host, port, why, timeout);
    return why == 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate) as epoch seconds, or -1. */
static time_t http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return end && *end == '\0' ? timegm(&tm) : (time_t)-1;
}

/* The provider says how far off is too far (AWS: STS refuses a signature
 * more than 900 s off; OpenID: an ID token more than the leeway, 60 s). */
static void check_skew(struct report *r, const struct provider *prov, const char *date)
{
    time_t theirs = http_date(date), ours = time(NULL);
    if (theirs < 0) {
        check_finding(r, ST_INFO, "clock", "the service sent no usable Date header");
        return;
    }
    long fail = prov->clock_fail, warn = prov->clock_warn;
    long skew = (long)(theirs - ours);
    long a = skew < 0 ? -skew : skew;
    enum check_status st = a > fail ? ST_FAIL : a > warn ? ST_WARN : ST_OK;
    char why[96] = "";
    if (st != ST_OK)
        snprintf(why, sizeof(why), " (%s refuses more than %ld s; check NTP)",
                 prov->clock_judge, fail);
    check_finding(r, st, "clock", "this host's clock is %ld s %s the service's%s", a,
                  skew > 0 ? "behind" : "ahead of", why);
}

/* The URL an endpoint is probed at: its base with one '/' (an issuer
 * "https://host/" is probed at https://host/, not https://host//). */
static void endpoint_root(const char *base, char *url, size_t len)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    snprintf(url, len, "%.*s/", (int)n, base);
}

/* An error of a request named after the finding, without the name twice
 * ("oidc_endpoint: oidc_endpoint: ..."). */
static const char *unprefixed(const char *msg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(msg, name, n) == 0 && strncmp(msg + n, ": ", 2) == 0 ? msg + n + 2 : msg;
}

/* Every endpoint the provider names: name resolution, TCP, then TLS and an
 * HTTP answer through the module's own client; the clock against the
 * Date of the endpoint the provider prefers (else the first answer's). */
void check_probe_endpoints(struct report *r, const struct settings *s)
{
    const struct cfg *c = &s->common;
    const struct provider *prov = provider_select(s);
    struct provider_place eps[PROVIDER_PLACES_MAX];
    size_t N = prov->endpoints(settings_part(s, prov), eps);
    bool reached[PROVIDER_PLACES_MAX];
    /* Name resolution and TCP first: they need no trust, so a bad ca_file
     * does not hide a dead endpoint. Through a proxy, the proxy is what
     * this host reaches. */
    bool proxy_ok = !c->proxy[0] || check_reach(r, "proxy", c->proxy, c->http_timeout);
    for (size_t i = 0; i < N; i++)
        reached[i] = c->proxy[0] ? proxy_ok
                                 : check_reach(r, eps[i].name, eps[i].where, c->http_timeout);
    struct http_client *h = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    if (http_open(&h, c, &err) != PAM_SUCCESS) {
        check_finding(r, ST_FAIL, "https", "TLS and HTTP not checked: %s", err.msg);
        return;
    }
    char date[64] = "";
    for (size_t i = 0; i < N; i++) {
        if (!reached[i])
            continue;
        char url[CFG_URL_MAX + 2];
        endpoint_root(eps[i].where, url, sizeof(url));
        struct http_response resp;
        bool transient;
        double t0 = sso_monotonic();
        int rc = http_request_once(h, eps[i].name, "GET", url, NULL, NULL, &resp, &transient,
                                   &err);
        if (rc != PAM_SUCCESS) {
            check_finding(r, ST_FAIL, eps[i].name, "%s", unprefixed(err.msg, eps[i].name));
            continue;
        }
        check_finding(r, ST_OK, eps[i].name, "TLS verified%s, HTTP %ld in %.0f ms",
                      c->proxy[0] ? " through the proxy" : "", resp.status,
                      (sso_monotonic() - t0) * 1000);
        if (resp.date[0] && (!date[0] || eps[i].clock))
            snprintf(date, sizeof(date), "%s", resp.date);
        http_response_free(&resp);
    }
    http_close(h);
    if (date[0])
        check_skew(r, prov, date);
    else
        check_finding(r, ST_INFO, "clock", "not checked: no endpoint answered");
}

/* ------------------------------------------------------- opened */

/* What the module does before it shows a code, done the same way (the
 * provider's own open), when the provider asks for it (OpenID: the client
 * secret, the discovery document with its issuer, the endpoints and client
 * authentication, the JWKS; both documents fetched afresh and stored for
 * the next login). */
void check_probe_opened(struct report *r, const struct settings *s)
{
    const struct cfg *c = &s->common;
    const struct provider *prov = provider_select(s);
    const void *part = settings_part(s, prov);
    struct http_client *h = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    if (!prov->ready_text)
        return;
    if (http_open(&h, c, &err) != PAM_SUCCESS) {
        check_finding(r, ST_FAIL, "provider", "not checked: %s", err.msg);
        return;
    }
    http_set_retry(h, 0, sso_monotonic() + 2.0 * (double)c->http_timeout);
    struct provider_ctx ctx = {NULL, c, part, h, &err, NULL, true};
    if (prov->open(&ctx) == PAM_SUCCESS) {
        char ready[CFG_URL_MAX + 512];
        prov->ready_text(part, ready, sizeof(ready));
        check_finding(r, ST_OK, "provider", "%s", ready);
        /* Each check costs the provider one pending authorization:
         * monitoring that runs every few minutes leaves it out. */
        if (prov->verify_client && r->no_client_check)
            check_finding(r, ST_INFO, "client", "not checked (--no-client-check)");
        else if (prov->verify_client &&
                 prov->verify_client(&ctx, ready, sizeof(ready)) == PAM_SUCCESS)
            check_finding(r, ST_OK, "client", "%s", ready);
        else if (prov->verify_client)
            check_finding(r, ST_FAIL, "client", "%s", err.msg);
    } else {
        check_finding(r, ST_FAIL, "provider", "%s", err.msg);
    }
    prov->close(&ctx);
    http_close(h);
}
