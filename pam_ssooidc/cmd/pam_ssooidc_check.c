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
 * Exit status, as monitoring plugins use it: 0 OK, 1 WARNING (a "warn"
 * line), 2 CRITICAL (a "FAIL" line, or a --login that did not succeed),
 * 3 UNKNOWN (a usage error, or it could not run). docs/man/pam_ssooidc_check.8.
 *
 * This file parses the arguments and runs the parts in order (check.h):
 * the report (check_report.c), the paths, endpoints and provider
 * (check_probe.c), the --login runner (check_login.c). */
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
    fprintf(stderr, "usage: pam_ssooidc_check [--conf FILE] [--json] [--fragment]\n"
                    "                         [--login USER [--service NAME] [--module PATH]]\n"
                    "                         [OPTION=VALUE ...]\n"
                    "       pam_ssooidc_check --pam-users [--root DIR] [--module PATH]\n");
    return CHECK_EXIT_UNKNOWN;
}

int main(int argc, char **argv)
{
    static const struct pam_conv conv = {misc_conv, NULL};
    struct report r;
    bool json = false;
    const char *login = NULL, *service = "pam_ssooidc_check", *module = PAM_SSOOIDC_MODULE;
    const char *root = NULL;
    bool fragment = false, explicit_conf = false, pam_users = false;
    char conf_arg[CFG_PATH_MAX + 8];
    const char **args = calloc((size_t)argc + 1, sizeof(*args));
    int nargs = 0;
    if (!args)
        return CHECK_EXIT_UNKNOWN;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
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
        if (nargs || login || json || fragment)
            return usage();
        return pam_users_report(root ? root : "", module, stdout, stderr);
    }
    check_report_begin(&r, json);

    struct settings s;
    struct cfg_trace trace;
    if (check_config_load(&r, nargs, args, fragment, NULL, &s, &trace) && !fragment)
        check_config_probe(&r, &s, explicit_conf);
    int verdict = -1;
    if (login && r.worst < ST_FAIL && !r.json)
        fflush(stdout);
    if (login && r.worst < ST_FAIL)
        verdict = check_login_run(module, login, service, nargs, args, &conv);
    else if (login)
        check_finding(&r, ST_INFO, "login", "not attempted: fix the problems above first");
    int code = check_report_end(&r, verdict);
    free(args);
    return code;
}
