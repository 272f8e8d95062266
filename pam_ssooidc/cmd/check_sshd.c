/* check_sshd.c - pam_ssooidc_check --sshd: sshd's effective configuration
 * (what `sshd -T` prints, for a connection with -C) against what the
 * module needs (check.h).
 *
 * `sshd -T` gives values, not places: each finding names the first line
 * of sshd_config (or of a file it includes) that sets the keyword, or says
 * "effective value" when none does (a default). sshd -T needs root and the
 * host keys; when it cannot run, the part is UNKNOWN, never a crash. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/check.h"

#ifndef SSHD_PATH
#define SSHD_PATH "/usr/sbin/sshd"
#endif
#define SSHD_CONFIG_DEFAULT "/etc/ssh/sshd_config"
#define SSHD_OUT_MAX (256 * 1024)  /* sshd -T prints some 5 KiB */
#define SSHD_ERR_MAX 2048
#define SSHD_WAIT_MS 10000
#define SSHD_NEST_MAX 8            /* Include depth */
#define SSHD_FILE_MAX (1024 * 1024)
#define SSHD_MARGIN 30             /* s of LoginGraceTime beyond the module's timeout */

/* ------------------------------------------------------- sshd -T */

struct sshd_out {
    char out[SSHD_OUT_MAX + 1];
    char err[SSHD_ERR_MAX + 1];
    size_t n_out, n_err;
    int status; /* waitpid's; -1: it did not run */
};

static void sshd_drain(int fd, char *buf, size_t *n, size_t max, bool *open)
{
    char tmp[4096];
    ssize_t got = read(fd, tmp, sizeof(tmp));
    if (got < 0 && errno == EINTR)
        return;
    if (got <= 0) {
        *open = false;
        return;
    }
    size_t keep = (size_t)got;
    if (keep > max - *n)
        keep = max - *n; /* the rest is read and dropped */
    memcpy(buf + *n, tmp, keep);
    *n += keep;
}

static long sshd_ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The child's wait status, killed when it outlives SSHD_WAIT_MS from t0
 * (it may close its output and run on). */
static int sshd_reap(pid_t pid, const struct timespec *t0)
{
    int st = -1;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            return st;
        if (w == 0 && sshd_ms_since(t0) >= SSHD_WAIT_MS) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            return st;
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

/* Runs argv (no shell), stdout and stderr bounded, within SSHD_WAIT_MS. */
static bool sshd_run(char *const argv[], struct sshd_out *o)
{
    int po[2], pe[2];
    o->n_out = o->n_err = 0;
    o->status = -1;
    if (pipe2(po, O_CLOEXEC) != 0)
        return false;
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return false;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
            _exit(127);
        /* Not the caller's environment: a fixed one, as a service has. */
        char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
        execve(argv[0], argv, env);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    if (pid < 0) {
        close(po[0]);
        close(pe[0]);
        return false;
    }
    bool open_out = true, open_err = true;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (open_out || open_err) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = SSHD_WAIT_MS - ((t.tv_sec - t0.tv_sec) * 1000 +
                                    (t.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd p[2] = {{open_out ? po[0] : -1, POLLIN, 0},
                              {open_err ? pe[0] : -1, POLLIN, 0}};
        if (left <= 0 || poll(p, 2, (int)left) == 0) {
            kill(pid, SIGKILL);
            break;
        }
        if (p[0].revents)
            sshd_drain(po[0], o->out, &o->n_out, SSHD_OUT_MAX, &open_out);
        if (p[1].revents)
            sshd_drain(pe[0], o->err, &o->n_err, SSHD_ERR_MAX, &open_err);
    }
    close(po[0]);
    close(pe[0]);
    o->status = sshd_reap(pid, &t0);
    o->out[o->n_out] = '\0';
    o->err[o->n_err] = '\0';
    return true;
}

/* The value of KEYWORD in sshd -T's output ("keyword value..."), copied
 * into buf; false when it is not there. */
static bool sshd_value(const char *out, const char *keyword, char *buf, size_t len)
{
    size_t kl = strlen(keyword);
    for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, keyword, kl) == 0 && p[kl] == ' ') {
            size_t vl = strcspn(p + kl + 1, "\n");
            snprintf(buf, len, "%.*s", (int)vl, p + kl + 1);
            return true;
        }
    }
    return false;
}

/* --------------------------------------------- where sshd_config sets it */

struct sshd_place {
    char file[CHECK_PLACE_MAX];
    unsigned line;
    bool in_match; /* set inside a Match block: for some connections only */
};

/* What is looked for: the first line that sets the keyword, and the first
 * that sets it to the effective value (with -C, that may be a Match
 * block's line); the latter wins. */
struct sshd_search {
    const char *keyword, *want;
    struct sshd_place first, exact;
    bool have_first, have_exact;
};

static void sshd_find_in(const char *path, int depth, struct sshd_search *q);

/* "Include PATTERN...": relative names are below /etc/ssh, as sshd does. */
static void sshd_find_include(char *rest, int depth, struct sshd_search *q)
{
    char *save = NULL;
    for (char *w = strtok_r(rest, " \t", &save); w && !q->have_exact;
         w = strtok_r(NULL, " \t", &save)) {
        char pattern[CHECK_PLACE_MAX];
        snprintf(pattern, sizeof(pattern), "%s%s", w[0] == '/' ? "" : "/etc/ssh/", w);
        glob_t g;
        if (glob(pattern, 0, NULL, &g) != 0)
            continue;
        for (size_t i = 0; i < g.gl_pathc && !q->have_exact; i++)
            sshd_find_in(g.gl_pathv[i], depth + 1, q);
        globfree(&g);
    }
}

static void sshd_note(struct sshd_place *p, const char *path, unsigned line, bool in_match)
{
    snprintf(p->file, sizeof(p->file), "%s", path);
    p->line = line;
    p->in_match = in_match;
}

/* The lines of PATH (and of the files it includes) that set the keyword. */
static void sshd_find_in(const char *path, int depth, struct sshd_search *q)
{
    if (depth > SSHD_NEST_MAX)
        return;
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[1024];
    unsigned n = 0;
    size_t total = 0;
    bool in_match = false;
    while (!q->have_exact && total < SSHD_FILE_MAX && fgets(line, sizeof(line), f)) {
        n++;
        total += strlen(line);
        if (!strchr(line, '\n') && !feof(f)) { /* longer than any keyword line: skip it */
            int ch;
            while ((ch = getc(f)) != EOF && ch != '\n')
                total++;
            continue;
        }
        char *p = line + strspn(line, " \t"), *rest = NULL;
        char *word = strtok_r(p, " \t=\r\n", &rest);
        if (!word || word[0] == '#')
            continue;
        rest += strspn(rest, " \t=");
        rest[strcspn(rest, "\r\n")] = '\0';
        if (strcasecmp(word, "Match") == 0) {
            in_match = true;
        } else if (strcasecmp(word, "Include") == 0) {
            sshd_find_include(rest, depth, q);
        } else if (strcasecmp(word, q->keyword) == 0) {
            if (!q->have_first) {
                sshd_note(&q->first, path, n, in_match);
                q->have_first = true;
            }
            if (q->want && strcasecmp(rest, q->want) == 0) {
                sshd_note(&q->exact, path, n, in_match);
                q->have_exact = true;
            }
        }
    }
    fclose(f);
}

/* ------------------------------------------------------------- checks */

struct sshd_ctx {
    struct report *r;
    const char *config; /* the sshd_config read */
    const char *out;    /* sshd -T's output */
};

/* A finding about KEYWORD, at the line that sets it, or its effective value. */
static void sshd_finding(const struct sshd_ctx *x, enum check_status st, const char *keyword,
                         const char *detail)
{
    char lower[64], want[1024];
    size_t i = 0;
    for (; keyword[i] && i + 1 < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)keyword[i]);
    lower[i] = '\0';
    struct sshd_search q = {.keyword = keyword};
    if (sshd_value(x->out, lower, want, sizeof(want)))
        q.want = want;
    sshd_find_in(x->config, 0, &q);
    const struct sshd_place *at = q.have_exact ? &q.exact : q.have_first ? &q.first : NULL;
    if (at) {
        struct check_where w = {at->file, at->line, keyword};
        check_finding_at(x->r, st, "sshd", &w, "%s%s", detail,
                         at->in_match ? " (set in a Match block)" : "");
    } else {
        struct check_where w = {x->config, 0, keyword};
        check_finding_at(x->r, st, "sshd", &w, "%s (effective value: no line sets %s)", detail,
                         keyword);
    }
}

static bool sshd_yes(const struct sshd_ctx *x, const char *keyword)
{
    char v[64];
    return sshd_value(x->out, keyword, v, sizeof(v)) && strcmp(v, "yes") == 0;
}

static void sshd_check_pam(const struct sshd_ctx *x)
{
    if (sshd_yes(x, "usepam"))
        sshd_finding(x, ST_OK, "UsePAM", "UsePAM yes: logins run the PAM stack");
    else
        sshd_finding(x, ST_FAIL, "UsePAM", "UsePAM is not yes: sshd never runs the PAM stack, "
                     "so the module gates no ssh login");
    /* OpenSSH before 8.7 calls it challengeresponseauthentication */
    bool kbd = sshd_yes(x, "kbdinteractiveauthentication") ||
               sshd_yes(x, "challengeresponseauthentication");
    if (kbd)
        sshd_finding(x, ST_OK, "KbdInteractiveAuthentication",
                     "keyboard-interactive is on: the code can be shown");
    else
        sshd_finding(x, ST_FAIL, "KbdInteractiveAuthentication",
                     "KbdInteractiveAuthentication is not yes: the link and code cannot be "
                     "shown, no login can be approved");
    if (sshd_yes(x, "passwordauthentication"))
        sshd_finding(x, ST_WARN, "PasswordAuthentication",
                     "PasswordAuthentication yes: a password login runs the PAM stack with the "
                     "password as every answer and shows no code; set it to no");
}

/* Every list of AuthenticationMethods must contain keyboard-interactive,
 * else a login by that list (a key alone) never asks the module. */
static void sshd_check_methods(const struct sshd_ctx *x)
{
    char v[1024];
    if (!sshd_value(x->out, "authenticationmethods", v, sizeof(v)))
        snprintf(v, sizeof(v), "any");
    if (strcmp(v, "any") == 0) {
        if (sshd_yes(x, "pubkeyauthentication") || sshd_yes(x, "gssapiauthentication") ||
            sshd_yes(x, "hostbasedauthentication"))
            sshd_finding(x, ST_WARN, "AuthenticationMethods",
                         "AuthenticationMethods any: a public key (or host-based, GSSAPI) login "
                         "skips keyboard-interactive and with it the approval; require it, e.g. "
                         "AuthenticationMethods publickey,keyboard-interactive");
        else
            sshd_finding(x, ST_OK, "AuthenticationMethods",
                         "AuthenticationMethods any, and keyboard-interactive is the only method");
        return;
    }
    char bad[512] = "";
    size_t n = 0;
    char *save = NULL;
    for (char *list = strtok_r(v, " ", &save); list; list = strtok_r(NULL, " ", &save)) {
        bool has = false;
        char copy[256], *s2 = NULL;
        snprintf(copy, sizeof(copy), "%s", list);
        for (char *m = strtok_r(copy, ",", &s2); m; m = strtok_r(NULL, ",", &s2))
            has |= strncmp(m, "keyboard-interactive", 20) == 0;
        if (!has && n < sizeof(bad))
            n += (size_t)snprintf(bad + n, sizeof(bad) - n, "%s%s", n ? " " : "", list);
    }
    char detail[800];
    if (bad[0]) {
        snprintf(detail, sizeof(detail), "AuthenticationMethods: a login by %s skips "
                 "keyboard-interactive and with it the approval", bad);
        sshd_finding(x, ST_WARN, "AuthenticationMethods", detail);
    } else {
        sshd_finding(x, ST_OK, "AuthenticationMethods",
                     "every AuthenticationMethods list requires keyboard-interactive");
    }
}

static void sshd_check_limits(const struct sshd_ctx *x, const struct check_limits *l)
{
    char v[128], detail[1400];
    if (!l->known) {
        check_unknown(x->r, "sshd", "LoginGraceTime and MaxStartups not compared: the module's "
                      "configuration could not be read");
        return;
    }
    long grace = sshd_value(x->out, "logingracetime", v, sizeof(v)) ? strtol(v, NULL, 10) : 120;
    if (grace == 0) {
        snprintf(detail, sizeof(detail), "LoginGraceTime 0 (no limit): a login may wait the "
                 "module's timeout (%ld s, %s)", l->timeout, l->from);
        sshd_finding(x, ST_OK, "LoginGraceTime", detail);
    } else if (grace < l->timeout + SSHD_MARGIN) {
        snprintf(detail, sizeof(detail), "LoginGraceTime %ld s is below the module's timeout "
                 "(%ld s, %s) plus %d s: sshd cuts a login off while it waits for the "
                 "approval; set it to %ld or more", grace, l->timeout, l->from, SSHD_MARGIN,
                 l->timeout + SSHD_MARGIN);
        sshd_finding(x, ST_WARN, "LoginGraceTime", detail);
    } else {
        snprintf(detail, sizeof(detail), "LoginGraceTime %ld s leaves room for the module's "
                 "timeout (%ld s, %s)", grace, l->timeout, l->from);
        sshd_finding(x, ST_OK, "LoginGraceTime", detail);
    }
    /* MaxStartups start:rate:full - each login waiting for an approval is
     * an unauthenticated connection, which MaxStartups counts. */
    long start = 10, full = 100;
    if (!sshd_value(x->out, "maxstartups", v, sizeof(v))) {
        snprintf(v, sizeof(v), "10:30:100"); /* sshd's default */
    } else {
        char *end;
        start = strtol(v, &end, 10);
        full = start;
        if (*end == ':') {
            strtol(end + 1, &end, 10);
            if (*end == ':')
                full = strtol(end + 1, NULL, 10);
        }
    }
    if (l->max_pending == 0) {
        snprintf(detail, sizeof(detail), "MaxStartups %s is the only bound on logins waiting "
                 "for an approval: the module's max_pending is 0 (%s)", v, l->from);
        sshd_finding(x, ST_INFO, "MaxStartups", detail);
    } else if (start < l->max_pending) {
        snprintf(detail, sizeof(detail), "MaxStartups %s: sshd starts refusing unauthenticated "
                 "connections at %ld, before the module's max_pending (%ld, %s) logins wait "
                 "for an approval%s", v, start, l->max_pending, l->from,
                 full < l->max_pending ? ", and refuses all of them below it" : "");
        sshd_finding(x, ST_WARN, "MaxStartups", detail);
    } else {
        snprintf(detail, sizeof(detail), "MaxStartups %s leaves room for the module's "
                 "max_pending (%ld, %s)", v, l->max_pending, l->from);
        sshd_finding(x, ST_OK, "MaxStartups", detail);
    }

    /* PerSourceMaxStartups (OpenSSH 8.5 and later; "none": no limit). */
    if (sshd_value(x->out, "persourcemaxstartups", v, sizeof(v)) && strcmp(v, "none") != 0 &&
        l->max_pending_per_source > 0 && strtol(v, NULL, 10) < l->max_pending_per_source) {
        snprintf(detail, sizeof(detail), "PerSourceMaxStartups %s: sshd refuses a source's "
                 "connections before the module's max_pending_per_source (%ld, %s) of its "
                 "logins wait for an approval", v, l->max_pending_per_source, l->from);
        sshd_finding(x, ST_WARN, "PerSourceMaxStartups", detail);
    }
}

/* -------------------------------------------------------------- entry */

/* Only what is safe in a -C connection spec (no ',' or '=' of its own). */
static bool sshd_spec_ok(const char *v)
{
    if (!v[0] || strlen(v) > 255)
        return false;
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-:@", *p))
            return false;
    return true;
}

void check_sshd(struct report *r, const struct check_sshd_opts *o,
                const struct check_limits *limits)
{
    const char *config = o->config ? o->config : SSHD_CONFIG_DEFAULT;
    if (access(SSHD_PATH, X_OK) != 0) {
        check_unknown(r, "sshd", "not checked: %s is not installed", SSHD_PATH);
        return;
    }
    char spec[900] = "";
    if (o->user || o->host || o->addr) {
        const char *user = o->user ? o->user : "root";
        const char *host = o->host ? o->host : "localhost";
        const char *addr = o->addr ? o->addr : "127.0.0.1";
        if (!sshd_spec_ok(user) || !sshd_spec_ok(host) || !sshd_spec_ok(addr)) {
            check_finding(r, ST_FAIL, "sshd", "--sshd-user, --sshd-host and --sshd-addr take "
                          "letters, digits and ._-:@ only");
            return;
        }
        snprintf(spec, sizeof(spec), "user=%s,host=%s,addr=%s", user, host, addr);
    }
    char *argv[8];
    int n = 0;
    argv[n++] = (char *)SSHD_PATH;
    argv[n++] = (char *)"-T";
    if (o->config) {
        argv[n++] = (char *)"-f";
        argv[n++] = (char *)o->config;
    }
    if (spec[0]) {
        argv[n++] = (char *)"-C";
        argv[n++] = spec;
    }
    argv[n] = NULL;
    struct sshd_out *out = calloc(1, sizeof(*out));
    if (!out || !sshd_run(argv, out)) {
        check_unknown(r, "sshd", "not checked: cannot run %s -T", SSHD_PATH);
        free(out);
        return;
    }
    if (!WIFEXITED(out->status) || WEXITSTATUS(out->status) != 0 || out->n_out == 0) {
        out->err[strcspn(out->err, "\n")] = '\0';
        check_unknown(r, "sshd", "not checked: %s -T%s%s failed (it needs root and the host "
                      "keys): %.300s", SSHD_PATH, o->config ? " -f " : "",
                      o->config ? o->config : "", out->err[0] ? out->err : "no reason given");
        free(out);
        return;
    }
    struct sshd_ctx x = {r, config, out->out};
    check_finding(r, ST_INFO, "sshd", "effective configuration of %s -T%s%s%s%s", SSHD_PATH,
                  o->config ? " -f " : "", o->config ? o->config : "", spec[0] ? " -C " : "",
                  spec);
    sshd_check_pam(&x);
    sshd_check_methods(&x);
    sshd_check_limits(&x, limits);
    free(out);
}
