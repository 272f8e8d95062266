/* check.h - pam_ssooidc_check's parts (docs/man/pam_ssooidc_check.8): the
 * report every finding goes to (check_report.c), the checks of the paths,
 * the network and the provider (check_probe.c), and the --login runner
 * (check_login.c), the reading of the configuration with every error
 * (check_config.c). pam_ssooidc_check.c parses the arguments and runs them
 * in order. Only the tool links these; the module never does. */
#ifndef SSO_CHECK_H
#define SSO_CHECK_H

#include <jansson.h>
#include <security/pam_appl.h>
#include <stdbool.h>

#include "core/config.h"
#include "settings.h"

enum check_status { ST_OK, ST_INFO, ST_WARN, ST_FAIL };

/* The exit status, as monitoring plugins use it: the worst finding (a
 * failed --login counts as a FAIL), or UNKNOWN when the check could not
 * run at all or a part that was asked for could not be checked. */
enum check_exit { CHECK_EXIT_OK = 0, CHECK_EXIT_WARNING = 1, CHECK_EXIT_CRITICAL = 2,
                  CHECK_EXIT_UNKNOWN = 3 };

struct report {
    bool json;
    json_t *findings; /* JSON mode */
    json_t *out;      /* JSON mode: the whole answer */
    int worst;
    bool unknown;     /* something asked for could not be checked */
    bool no_client_check; /* --no-client-check: no device authorization made */
    unsigned count[ST_FAIL + 1];
};

#define CHECK_PLACE_MAX 600

/* Where a finding points: a file and line (0: none), an option (NULL: none). */
struct check_where {
    const char *file;
    unsigned line;
    const char *option;
};

/* The module's settings sshd has to leave room for (check_sshd.c). */
struct check_limits {
    bool known;
    long timeout, max_pending, max_pending_per_source;
    char from[CHECK_PLACE_MAX]; /* whose they are: a file, or a stanza's file:line */
};

/* ---- check_report.c ---- */

/* Start a report (json: one JSON document at the end; else lines). */
void check_report_begin(struct report *r, bool json);

/* One finding: a line "STATUS CHECK: DETAIL", or a member of "findings"
 * (status, severity, check, detail, file, line, option). */
void check_finding(struct report *r, enum check_status st, const char *check, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

/* The same, pointing at a file, line and option; the text line reads
 * "STATUS CHECK: FILE:LINE: DETAIL" when the detail does not already name
 * the place (at may be NULL). */
void check_finding_at(struct report *r, enum check_status st, const char *check,
                      const struct check_where *at, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A part that was asked for could not be checked (an INFO finding; the
 * exit status is UNKNOWN unless something FAILed). */
void check_unknown(struct report *r, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The effective configuration: every option of the selected provider and
 * the shared ones, with where its value came from (a stanza option: from
 * STANZA, e.g. "/etc/pam.d/sshd:3"; NULL: "argument"). */
void check_report_config(struct report *r, const struct settings *s, const struct cfg_trace *t,
                         const char *stanza);

/* Finish: the JSON document or the closing line, with the --login verdict
 * (-1: none). Returns the exit status (enum check_exit). */
int check_report_end(struct report *r, int verdict);

/* ---- check_config.c ---- */

/* Read the configuration as the module does (argv: the stanza's options),
 * show what could be read, and list every error as a FAIL at its place (a
 * stanza's at STANZA when given; its options then shown as from there
 * unless STANZA->option says "argument", as with command line overrides);
 * true when it loaded. */
bool check_config_load(struct report *r, int argc, const char **argv, bool fragment,
                       const struct check_where *stanza, struct settings *s,
                       struct cfg_trace *trace);

/* Take the limits sshd must leave room for from s (when not known yet). */
void check_limits_of(struct check_limits *l, const struct settings *s);

/* The paths, the stored state, the endpoints and the provider, in order. */
void check_config_probe(struct report *r, const struct settings *s, bool explicit_conf);

/* ---- check_probe.c ---- */

/* The config file, the shared and the provider's trusted files, user_map
 * and cache_dir; *cache_ok says whether cache_dir exists and is usable. */
void check_probe_paths(struct report *r, const struct settings *s, bool explicit_conf,
                       bool *cache_ok);

/* What the provider keeps in cache_dir (AWS: its registration). */
void check_probe_stored(struct report *r, const struct settings *s);

/* Every endpoint the provider names (DNS, TCP, TLS, HTTP) and the clock. */
void check_probe_endpoints(struct report *r, const struct settings *s);

/* The provider opened as a login opens it, when it asks for that. */
void check_probe_opened(struct report *r, const struct settings *s);

/* ---- check_provision.c ---- */

/* Under provision: group_map, nsswitch.conf naming ssooidc, the NSS
 * library loading, and the ledger's counts and how full uid_range is. */
void check_probe_provision(struct report *r, const struct settings *s);

/* ---- check_service.c ---- */

/* What the service checks need from the command line. */
struct check_opts {
    const char *module;       /* the installed module's path */
    int nargs;                /* OPTION=VALUE arguments, applied over the stanza's */
    const char *const *args;
    struct check_limits *limits; /* filled from the first configuration that loads */
};

/* --service NAME: every line of /etc/pam.d/NAME that loads the module, its
 * place in the auth stack, its options and conf= file; a FAIL when none. */
void check_service_one(struct report *r, const char *service, const struct check_opts *o);

/* --all: the same for every service that loads the module. */
void check_service_all(struct report *r, const struct check_opts *o);

/* ---- check_sshd.c ---- */

struct check_sshd_opts {
    const char *config;           /* sshd -T -f PATH; NULL: sshd's own */
    const char *user, *host, *addr; /* sshd -T -C: the connection matched */
};

/* sshd's effective configuration (sshd -T) against the module's needs:
 * UsePAM, keyboard-interactive, AuthenticationMethods, LoginGraceTime
 * against timeout, MaxStartups against max_pending, password logins. */
void check_sshd(struct report *r, const struct check_sshd_opts *o,
                const struct check_limits *limits);

/* ---- check_login.c ---- */

/* A real login through module in a one-line PAM stack, conv the terminal's
 * conversation; the PAM code of pam_authenticate, or PAM_SYSTEM_ERR. */
int check_login_run(const char *module, const char *user, const char *service, int argc,
                    const char **argv, const struct pam_conv *conv);

/* A real login for user through SERVICE's own stack (/etc/pam.d/SERVICE),
 * as that program would run it; the PAM code of pam_authenticate. */
int check_login_service(const char *user, const char *service, const struct pam_conv *conv);

#endif
