/* check_login.c - pam_ssooidc_check --login: a real login through the
 * installed module (check.h). */
#define _GNU_SOURCE
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cmd/check.h"
#include "core/outcome.h"

/* pam_authenticate for user in SERVICE, its files in DIR (NULL: the
 * system's), with the module's syslog lines echoed to stderr. */
static int login_authenticate(const char *user, const char *service, const char *dir,
                              const char *what, const struct pam_conv *conv)
{
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(service, user, conv, dir, &pamh);
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "pam_ssooidc_check: cannot start PAM: %s\n", pam_strerror(NULL, rc));
        return rc;
    }
    openlog("pam_ssooidc_check", LOG_PERROR | LOG_PID, LOG_AUTHPRIV);
    printf("--- login of %s (%s); the module's syslog lines follow on stderr\n", user, what);
    fflush(stdout);
    rc = pam_authenticate(pamh, 0);
    printf("--- verdict: %s\n", outcome_code_name(rc));
    closelog();
    pam_end(pamh, rc);
    return rc;
}

/* A real PAM transaction with one stanza, "auth required MODULE ARGS
 * debug", in a private configuration directory: the module runs exactly as
 * in a PAM stack, the terminal is the conversation, and every syslog line
 * of the module (each request, the outcome with its reason) is echoed to
 * stderr. */
int check_login_run(const char *module, const char *user, const char *service, int argc,
                    const char **argv, const struct pam_conv *conv)
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
    char what[400];
    snprintf(what, sizeof(what), "PAM service %s, module %s", service, module);
    if (rc == PAM_SUCCESS)
        rc = login_authenticate(user, service, dir, what, conv);
    unlink(path);
    rmdir(dir);
    return rc;
}

int check_login_service(const char *user, const char *service, const struct pam_conv *conv)
{
    char what[400];
    snprintf(what, sizeof(what), "PAM service %s, its own stack in /etc/pam.d", service);
    return login_authenticate(user, service, NULL, what, conv);
}
