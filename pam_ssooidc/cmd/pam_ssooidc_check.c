/* pam_ssooidc_check - check a pam_ssooidc setup the way the module sees it.
 *
 *   pam_ssooidc_check [--conf FILE] [--json] [--fragment] [--no-client-check]
 *                     [--service NAME | --all]
 *                     [--login USER [--module PATH]] [--sshd [--sshd-config PATH]
 *                     [--sshd-user NAME] [--sshd-host NAME] [--sshd-addr ADDR]]
 *                     [OPTION=VALUE ...]
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
 * With --service NAME (--all: every service that loads the module) it
 * checks the PAM lines of /etc/pam.d/NAME that load the module instead:
 * each line's options and conf= file, and its place in the auth stack
 * (check_service.c); --login then runs that service's own stack. With
 * --sshd it checks sshd -T against the module (check_sshd.c).
 *
 * With --pam-users it only lists the PAM lines that load the installed
 * module, as Linux-PAM reads them (pam_users.h; the package removal
 * guards use it): exit 0 none, 1 some, 3 could not check.
 *
 * Exit status, as monitoring plugins use it: 0 OK, 1 WARNING (a "warn"
 * line), 2 CRITICAL (a "FAIL" line, or a --login that did not succeed),
 * 3 UNKNOWN (a usage error, or it could not run). docs/man/pam_ssooidc_check.8.
 *
 * This file parses the arguments and runs the parts in order (check.h):
 * the report (check_report.c), the configuration with every error
 * (check_config.c), the paths, endpoints and provider (check_probe.c), the
 * PAM services (check_service.c), sshd (check_sshd.c), the --login runner
 * (check_login.c). */
#include <security/pam_appl.h>
#include <security/pam_misc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/check.h"
#include "cmd/pam_users.h"
#include "settings.h"

#ifndef PAM_SSOOIDC_MODULE
#define PAM_SSOOIDC_MODULE "/lib/security/pam_ssooidc.so"
#endif

static int usage(void)
{
    fprintf(stderr,
            "usage: pam_ssooidc_check [--conf FILE] [--json] [--fragment] [--no-client-check]\n"
            "                         [--service NAME | --all] [--login USER [--module PATH]]\n"
            "                         [--sshd [--sshd-config PATH] [--sshd-user NAME]\n"
            "                          [--sshd-host NAME] [--sshd-addr ADDR]]\n"
            "                         [OPTION=VALUE ...]\n"
            "       pam_ssooidc_check --pam-users [--root DIR] [--module PATH]\n");
    return CHECK_EXIT_UNKNOWN;
}

/* What the command line asks for. */
struct check_args {
    bool json, fragment, explicit_conf, pam_users, all, sshd, no_client_check;
    const char *login, *service, *module, *root;
    struct check_sshd_opts sshd_opts;
    char conf_arg[CFG_PATH_MAX + 8];
    const char **args; /* OPTION=VALUE, as the stanza's */
    int nargs;
};

/* An option's value (the next argument), or NULL at the end. */
static const char *value_of(int argc, char **argv, int *i)
{
    return *i + 1 < argc ? argv[++*i] : NULL;
}

/* Returns false on a usage error. */
static bool parse_args(int argc, char **argv, struct check_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char **to = NULL; /* an option that takes a value */
        if (strcmp(o, "--json") == 0)
            a->json = true;
        else if (strcmp(o, "--fragment") == 0)
            a->fragment = true;
        else if (strcmp(o, "--pam-users") == 0)
            a->pam_users = true;
        else if (strcmp(o, "--all") == 0)
            a->all = true;
        else if (strcmp(o, "--sshd") == 0)
            a->sshd = true;
        else if (strcmp(o, "--no-client-check") == 0)
            a->no_client_check = true;
        else if (strcmp(o, "--login") == 0)
            to = &a->login;
        else if (strcmp(o, "--service") == 0)
            to = &a->service;
        else if (strcmp(o, "--module") == 0)
            to = &a->module;
        else if (strcmp(o, "--root") == 0)
            to = &a->root;
        else if (strcmp(o, "--sshd-config") == 0)
            to = &a->sshd_opts.config;
        else if (strcmp(o, "--sshd-user") == 0)
            to = &a->sshd_opts.user;
        else if (strcmp(o, "--sshd-host") == 0)
            to = &a->sshd_opts.host;
        else if (strcmp(o, "--sshd-addr") == 0)
            to = &a->sshd_opts.addr;
        else if (strcmp(o, "--conf") == 0) {
            const char *v = value_of(argc, argv, &i);
            if (!v || strlen(v) >= CFG_PATH_MAX)
                return false;
            snprintf(a->conf_arg, sizeof(a->conf_arg), "conf=%s", v);
            a->args[a->nargs++] = a->conf_arg;
            a->explicit_conf = true;
        } else if (o[0] == '-') {
            return false;
        } else {
            if (strncmp(o, "conf=", 5) == 0)
                a->explicit_conf = true;
            a->args[a->nargs++] = o;
        }
        if (to && !(*to = value_of(argc, argv, &i)))
            return false;
    }
    if (a->root && !a->pam_users)
        return false;
    if (a->pam_users && (a->nargs || a->login || a->json || a->fragment || a->service ||
                         a->all || a->sshd))
        return false;
    if (a->all && (a->service || a->login))
        return false; /* --login runs one service */
    if (a->fragment && (a->all || a->service || a->login))
        return false; /* a fragment is no service's whole configuration */
    if (!a->sshd && (a->sshd_opts.config || a->sshd_opts.user || a->sshd_opts.host ||
                     a->sshd_opts.addr))
        return false;
    return true;
}

int main(int argc, char **argv)
{
    static const struct pam_conv conv = {misc_conv, NULL};
    struct report r;
    struct check_args a = {.module = PAM_SSOOIDC_MODULE};
    a.args = calloc((size_t)argc + 1, sizeof(*a.args));
    if (!a.args)
        return CHECK_EXIT_UNKNOWN;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            free(a.args);
            usage();
            return CHECK_EXIT_OK;
        }
    }
    if (!parse_args(argc, argv, &a)) {
        free(a.args);
        return usage();
    }
    if (a.pam_users) { /* a listing of its own: no configuration, no network */
        free(a.args);
        return pam_users_report(a.root ? a.root : "", a.module, stdout, stderr);
    }
    check_report_begin(&r, a.json);
    r.no_client_check = a.no_client_check;

    /* The module's limits that sshd must leave room for: of the
     * configuration checked (a service's first line that loads it). */
    struct check_limits limits = {.known = false};
    struct check_opts opts = {a.module, a.nargs, a.args, &limits};
    if (a.all) {
        check_service_all(&r, &opts);
    } else if (a.service) {
        check_service_one(&r, a.service, &opts);
    } else {
        struct settings s;
        struct cfg_trace trace;
        bool loaded = check_config_load(&r, a.nargs, a.args, a.fragment, NULL, &s, &trace);
        check_limits_of(&limits, &s); /* what could be read, also with errors */
        if (loaded && !a.fragment)
            check_config_probe(&r, &s, a.explicit_conf);
        sso_cleanse(&s, sizeof(s));
    }
    if (a.sshd)
        check_sshd(&r, &a.sshd_opts, &limits);
    int verdict = -1;
    if (a.login && r.worst < ST_FAIL && !r.json)
        fflush(stdout);
    if (a.login && r.worst < ST_FAIL)
        verdict = a.service ? check_login_service(a.login, a.service, &conv)
                            : check_login_run(a.module, a.login, "pam_ssooidc_check", a.nargs,
                                              a.args, &conv);
    else if (a.login)
        check_finding(&r, ST_INFO, "login", "not attempted: fix the problems above first");
    int code = check_report_end(&r, verdict);
    free(a.args);
    return code;
}
