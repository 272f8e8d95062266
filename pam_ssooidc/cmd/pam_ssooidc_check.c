/* pam_ssooidc_check - check a pam_ssooidc setup the way the module sees it.
 *
 *   pam_ssooidc_check [--conf FILE] [--json] [--fragment]
 *                     [--login USER [--service NAME] [--module PATH]] [OPTION=VALUE ...]
 *   pam_ssooidc_check --pam-users [--root DIR] [--module PATH]
 *
 * Reads the configuration exactly as the module does (the file, then the
 * stanza options given as arguments), prints the effective configuration
 * with where each value came from, checks every trusted path, the
 * registration cache (AWS) or the provider's discovery document, client
 * and JWKS (OpenID), every endpoint (name resolution, TCP, TLS with the
 * configured trust, an HTTP answer, through `proxy` when set) and the clock
 * against the service's. With --login it runs a real device login through
 * the installed module in a one-line PAM stack, with this terminal as the
 * conversation and every step echoed from syslog.
 *
 * With --pam-users it only lists the PAM lines that load the installed
 * module, as Linux-PAM reads them (pam_users.h; the package removal
 * guards use it): exit 0 none, 1 some, 3 could not check.
 *
 * Exit status: 0 all is well, 1 something is wrong (a "warn" or "FAIL"
 * line each), 2 usage. docs/man/pam_ssooidc_check.8. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <security/pam_appl.h>
#include <security/pam_misc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/store.h"
#include "core/config.h"
#include "core/http.h"
#include "core/outcome.h"
#include "cmd/pam_users.h"
#include "provider.h"
#include "settings.h"
#include "core/trust.h"
#include "core/usermap.h"


enum status { ST_OK, ST_INFO, ST_WARN, ST_FAIL };
static const char *const status_word[] = {"ok", "info", "warn", "FAIL"};

struct report {
    bool json;
    json_t *findings; /* JSON mode */
    int worst;
};

static void finding(struct report *r, enum status st, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void finding(struct report *r, enum status st, const char *check, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if ((int)st > r->worst)
        r->worst = (int)st;
    if (r->json) {
        json_array_append_new(r->findings, json_pack("{s:s, s:s, s:s}", "status",
                                                     status_word[st], "check", check,
                                                     "detail", detail));
        return;
    }
    printf("%-5s %s: %s\n", status_word[st], check, detail);
}

/* ------------------------------------------------------- configuration */

static const char *source_text(const struct cfg_trace *t, size_t i, const char *conf, char *buf,
                               size_t len)
{
    switch (t->of[i].source) {
    case CFG_SRC_FILE:
        snprintf(buf, len, "%s:%u", conf, t->of[i].line);
        return buf;
    case CFG_SRC_STANZA:
        return "argument";
    case CFG_SRC_DERIVED:
        return "derived";
    case CFG_SRC_DEFAULT:
        break;
    }
    return "default";
}

static void print_config(struct report *r, json_t *out, const struct settings *s,
                         const struct cfg_trace *t)
{
    const struct cfg *c = &s->common;
    json_t *arr = json_array();
    if (!r->json)
        printf("effective configuration (%s):\n", c->conf_path);
    for (size_t i = 0; i < settings_option_count(); i++) {
        if (!settings_option_applies(s, i)) /* the other provider's */
            continue;
        char value[CFG_URL_MAX + 8], src[CFG_PATH_MAX + 16];
        settings_option_text(s, i, value, sizeof(value));
        const char *from = source_text(t, i, c->conf_path, src, sizeof(src));
        if (r->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "option",
                                                 settings_option_name(i), "value", value, "from",
                                                 from));
        else
            printf("  %-29s = %-44s (%s)\n", settings_option_name(i), value[0] ? value : "\"\"",
                   from);
    }
    if (r->json)
        json_object_set_new(out, "configuration", arr);
    else
        json_decref(arr);
}

/* ------------------------------------------------------- trusted paths */

static void check_file(struct report *r, const char *what, const char *path, bool required)
{
    int fd = -1;
    struct sso_error err = SSO_ERROR_INIT;
    int rc = trust_open_file(path, what, &fd, &err);
    if (rc == PAM_SUCCESS) {
        close(fd);
        finding(r, ST_OK, "trusted path", "%s %s", what, path);
    } else if (rc == PAM_NO_MODULE_DATA && !required) {
        finding(r, ST_INFO, "trusted path", "%s %s does not exist (everything from the stanza)",
                what, path);
    } else {
        finding(r, ST_FAIL, "trusted path", "%s", err.msg);
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
            finding(r, ST_INFO, "trusted path", "cache_dir %s does not exist yet; the first "
                    "login creates it", c->cache_dir);
        } else {
            finding(r, ST_FAIL, "trusted path", "cache_dir %s cannot be created: %s",
                    c->cache_dir, err.msg);
        }
        return false;
    }
    if (rc != PAM_SUCCESS) {
        finding(r, ST_FAIL, "trusted path", "%s", err.msg);
        return false;
    }
    close(fd);
    rc = store_dir_open(c->cache_dir, &fd, &err); /* the 0700 rule too */
    if (rc != PAM_SUCCESS) {
        finding(r, ST_FAIL, "trusted path", "%s", err.msg);
        return false;
    }
    close(fd);
    finding(r, ST_OK, "trusted path", "cache_dir %s", c->cache_dir);
    return true;
}

static void check_paths(struct report *r, const struct settings *s, bool explicit_conf,
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
            finding(r, ST_OK, "trusted path", "user_map %s (every line well-formed)",
                    c->user_map);
        else
            finding(r, ST_FAIL, "trusted path", "%s", err.msg);
        usermap_free(&map);
    }
    *cache_ok = check_cache_dir(r, c);
}

/* ------------------------------------------------------- the provider's */

static void provider_finding(void *ctx, enum provider_status st, const char *check,
                             const char *detail)
{
    static const enum status of[] = {[PROVIDER_OK] = ST_OK, [PROVIDER_INFO] = ST_INFO,
                                     [PROVIDER_WARN] = ST_WARN, [PROVIDER_FAIL] = ST_FAIL};
    finding(ctx, of[st], check, "%s", detail);
}

/* What the provider keeps in cache_dir (AWS: its registration). */
static void check_stored(struct report *r, const struct settings *s)
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

static bool tcp_connect(const struct addrinfo *ai, long timeout_ms, long *took_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0)
        return false;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    if (!ok && errno == EINPROGRESS) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        ok = poll(&pfd, 1, (int)timeout_ms) == 1 &&
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *took_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    close(fd);
    return ok;
}

/* DNS and TCP for host:port (the endpoint's, or the proxy's). */
static bool check_reach(struct report *r, const char *label, const char *url, long timeout)
{
    char host[CFG_URL_MAX], port[16], addr[INET6_ADDRSTRLEN];
    if (!url_host_port(url, host, sizeof(host), port, sizeof(port))) {
        finding(r, ST_FAIL, label, "cannot take a host name out of %s", url);
        return false;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        finding(r, ST_FAIL, label, "name resolution of %s: %s", host, gai_strerror(gai));
        return false;
    }
    int n = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        n++;
    finding(r, ST_OK, label, "%s resolves (%d address%s)", host, n, n == 1 ? "" : "es");
    bool ok = false;
    long took = 0;
    for (struct addrinfo *a = res; a && !ok; a = a->ai_next) {
        ok = tcp_connect(a, timeout * 1000, &took);
        void *in = a->ai_family == AF_INET6
                       ? (void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr
                       : (void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
        inet_ntop(a->ai_family, in, addr, sizeof(addr));
    }
    freeaddrinfo(res);
    if (ok)
        finding(r, ST_OK, label, "TCP connection to %s port %s in %ld ms", addr, port, took);
    else
        finding(r, ST_FAIL, label, "no TCP connection to %s port %s within %ld s", host, port,
                timeout);
    return ok;
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
        finding(r, ST_INFO, "clock", "the service sent no usable Date header");
        return;
    }
    long fail = prov->clock_fail, warn = prov->clock_warn;
    long skew = (long)(theirs - ours);
    long a = skew < 0 ? -skew : skew;
    enum status st = a > fail ? ST_FAIL : a > warn ? ST_WARN : ST_OK;
    char why[96] = "";
    if (st != ST_OK)
        snprintf(why, sizeof(why), " (%s refuses more than %ld s; check NTP)",
                 prov->clock_judge, fail);
    finding(r, st, "clock", "this host's clock is %ld s %s the service's%s", a,
            skew > 0 ? "behind" : "ahead of", why);
}

/* Every endpoint the provider names: name resolution, TCP, then TLS and an
 * HTTP answer through the module's own client; the clock against the
 * Date of the endpoint the provider prefers (else the first answer's). */
static void check_endpoints(struct report *r, const struct settings *s)
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
        finding(r, ST_FAIL, "https", "TLS and HTTP not checked: %s", err.msg);
        return;
    }
    char date[64] = "";
    for (size_t i = 0; i < N; i++) {
        if (!reached[i])
            continue;
        char url[CFG_URL_MAX + 2];
        snprintf(url, sizeof(url), "%s/", eps[i].where);
        struct http_response resp;
        bool transient;
        double t0 = sso_monotonic();
        int rc = http_request_once(h, eps[i].name, "GET", url, NULL, NULL, &resp, &transient,
                                   &err);
        if (rc != PAM_SUCCESS) {
            finding(r, ST_FAIL, eps[i].name, "%s", err.msg);
            continue;
        }
        finding(r, ST_OK, eps[i].name, "TLS verified%s, HTTP %ld in %.0f ms",
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
        finding(r, ST_INFO, "clock", "not checked: no endpoint answered");
}

/* ------------------------------------------------------- opened */

/* What the module does before it shows a code, done the same way (the
 * provider's own open), when the provider asks for it (OpenID: the client
 * secret, the discovery document with its issuer, the endpoints and client
 * authentication, the JWKS; both documents fetched afresh and stored for
 * the next login). */
static void check_opened(struct report *r, const struct settings *s)
{
    const struct cfg *c = &s->common;
    const struct provider *prov = provider_select(s);
    const void *part = settings_part(s, prov);
    struct http_client *h = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    if (!prov->ready_text)
        return;
    if (http_open(&h, c, &err) != PAM_SUCCESS) {
        finding(r, ST_FAIL, "provider", "not checked: %s", err.msg);
        return;
    }
    http_set_retry(h, 0, sso_monotonic() + 2.0 * (double)c->http_timeout);
    struct provider_ctx ctx = {NULL, c, part, h, &err, NULL, true};
    if (prov->open(&ctx) == PAM_SUCCESS) {
        char ready[CFG_URL_MAX + 512];
        prov->ready_text(part, ready, sizeof(ready));
        finding(r, ST_OK, "provider", "%s", ready);
    } else {
        finding(r, ST_FAIL, "provider", "%s", err.msg);
    }
    prov->close(&ctx);
    http_close(h);
}

/* ------------------------------------------------------- --login */

#ifndef PAM_SSOOIDC_MODULE
#define PAM_SSOOIDC_MODULE "/lib/security/pam_ssooidc.so"
#endif

/* A real PAM transaction with one stanza, "auth required MODULE ARGS
 * debug", in a private configuration directory: the module runs exactly as
 * in a PAM stack, the terminal is the conversation, and every syslog line
 * of the module (each request, the outcome with its reason) is echoed to
 * stderr. */
static int run_login(const char *module, const char *user, const char *service, int argc,
                     const char **argv)
{
    char dir[] = "/tmp/pam_ssooidc_check.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("pam_ssooidc_check: mkdtemp");
        return PAM_SYSTEM_ERR;
    }
    char path[sizeof(dir) + 256];
    snprintf(path, sizeof(path), "%s/%s", dir, service);
    FILE *f = fopen(path, "w");
    int rc = PAM_SYSTEM_ERR;
    if (f) {
        fprintf(f, "auth required %s", module);
        for (int i = 0; i < argc; i++)
            fprintf(f, " %s%s%s", strchr(argv[i], ' ') ? "[" : "", argv[i],
                    strchr(argv[i], ' ') ? "]" : "");
        fprintf(f, " debug\naccount required pam_permit.so\n");
        rc = fclose(f) == 0 ? PAM_SUCCESS : PAM_SYSTEM_ERR;
    }
    pam_handle_t *pamh = NULL;
    static struct pam_conv conv = {misc_conv, NULL};
    if (rc == PAM_SUCCESS)
        rc = pam_start_confdir(service, user, &conv, dir, &pamh);
    if (rc == PAM_SUCCESS) {
        openlog("pam_ssooidc_check", LOG_PERROR | LOG_PID, LOG_AUTHPRIV);
        printf("--- login of %s (PAM service %s, module %s); the module's syslog lines follow "
               "on stderr\n", user, service, module);
        fflush(stdout);
        rc = pam_authenticate(pamh, 0);
        printf("--- verdict: %s\n", outcome_code_name(rc));
        closelog();
        pam_end(pamh, rc);
    } else {
        fprintf(stderr, "pam_ssooidc_check: cannot start PAM: %s\n", pam_strerror(NULL, rc));
    }
    unlink(path);
    rmdir(dir);
    return rc;
}

/* ------------------------------------------------------- main */

static int usage(void)
{
    fprintf(stderr, "usage: pam_ssooidc_check [--conf FILE] [--json] [--fragment]\n"
                    "                         [--login USER [--service NAME] [--module PATH]]\n"
                    "                         [OPTION=VALUE ...]\n"
                    "       pam_ssooidc_check --pam-users [--root DIR] [--module PATH]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct report r = {0};
    const char *login = NULL, *service = "pam_ssooidc_check", *module = PAM_SSOOIDC_MODULE;
    const char *root = NULL;
    bool fragment = false, explicit_conf = false, pam_users = false;
    char conf_arg[CFG_PATH_MAX + 8];
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    int nargs = 0;
    if (!args)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            r.json = true;
        } else if (strcmp(argv[i], "--fragment") == 0) {
            fragment = true;
        } else if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc) {
            snprintf(conf_arg, sizeof(conf_arg), "conf=%s", argv[++i]);
            args[nargs++] = conf_arg;
            explicit_conf = true;
        } else if (strcmp(argv[i], "--login") == 0 && i + 1 < argc) {
            login = argv[++i];
        } else if (strcmp(argv[i], "--service") == 0 && i + 1 < argc) {
            service = argv[++i];
        } else if (strcmp(argv[i], "--module") == 0 && i + 1 < argc) {
            module = argv[++i];
        } else if (strcmp(argv[i], "--pam-users") == 0) {
            pam_users = true;
        } else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            root = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            free(args);
            usage();
            return 0;
        } else if (argv[i][0] == '-') {
            free(args);
            return usage();
        } else {
            if (strncmp(argv[i], "conf=", 5) == 0)
                explicit_conf = true;
            args[nargs++] = argv[i];
        }
    }
    if (root && !pam_users) {
        free(args);
        return usage();
    }
    if (pam_users) { /* a listing of its own: no configuration, no network */
        free(args);
        if (nargs || login || r.json || fragment)
            return usage();
        return pam_users_report(root ? root : "", module, stdout, stderr);
    }
    json_t *out = json_object();
    r.findings = json_array();

    struct settings s;
    struct cfg_trace trace;
    struct sso_error err = SSO_ERROR_INIT;
    int rc = settings_load_traced(&s, nargs, args, fragment ? CFG_PARTIAL : 0, &trace, &err);
    if (rc != PAM_SUCCESS) {
        finding(&r, ST_FAIL, "configuration", "%s", err.msg);
    } else {
        print_config(&r, out, &s, &trace);
        finding(&r, ST_OK, "configuration", "loaded without errors%s",
                fragment ? " (as a fragment)" : "");
        if (!fragment) {
            bool cache_ok = false;
            check_paths(&r, &s, explicit_conf, &cache_ok);
            if (cache_ok)
                check_stored(&r, &s);
            check_endpoints(&r, &s);
            check_opened(&r, &s); /* creates cache_dir if missing, as a login would */
        }
    }
    int verdict = -1;
    if (login && r.worst < ST_FAIL && !r.json)
        fflush(stdout);
    if (login && r.worst < ST_FAIL)
        verdict = run_login(module, login, service, nargs, args);
    else if (login)
        finding(&r, ST_INFO, "login", "not attempted: fix the problems above first");
    bool wrong = r.worst >= ST_WARN || (verdict != -1 && verdict != PAM_SUCCESS);
    if (r.json) {
        json_object_set_new(out, "findings", r.findings);
        if (verdict != -1)
            json_object_set_new(out, "login", json_string(outcome_code_name(verdict)));
        json_object_set_new(out, "ok", json_boolean(!wrong));
        json_dumpf(out, stdout, JSON_INDENT(2));
        printf("\n");
    } else {
        json_decref(r.findings);
        printf("%s\n", wrong ? "something is wrong (see the warn/FAIL lines)" : "all is well");
    }
    json_decref(out);
    free(args);
    return wrong ? 1 : 0;
}
