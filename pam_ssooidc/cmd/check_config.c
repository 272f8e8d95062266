/* check_config.c - pam_ssooidc_check's reading of the configuration: as
 * the module reads it, but with every error listed at its place instead
 * of the first only, and what could be read shown either way (check.h). */
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/check.h"

bool check_config_load(struct report *r, int argc, const char **argv, bool fragment,
                       const struct check_where *stanza, struct settings *s,
                       struct cfg_trace *trace)
{
    struct cfg_problems *problems = calloc(1, sizeof(*problems));
    struct sso_error err = SSO_ERROR_INIT;
    memset(s, 0, sizeof(*s));
    memset(trace, 0, sizeof(*trace));
    if (!problems) {
        check_unknown(r, "configuration", "not checked: out of memory");
        return false;
    }
    trace->problems = problems;
    int rc = settings_load_traced(s, argc, argv, fragment ? CFG_PARTIAL : 0, trace, &err);
    trace->problems = NULL;
    char from[CHECK_PLACE_MAX] = "";
    if (stanza && stanza->file && !stanza->option)
        snprintf(from, sizeof(from), "%s:%u", stanza->file, stanza->line);
    check_report_config(r, s, trace, from[0] ? from : NULL);
    for (size_t i = 0; i < problems->count; i++) {
        const struct cfg_problem *p = &problems->of[i];
        /* A problem of the stanza points at the stanza when there is one
         * (a service's line), else it says "PAM stanza" itself. */
        struct check_where at = {p->file[0] ? p->file : NULL, p->line,
                                 p->option[0] ? p->option : NULL};
        if (!p->file[0] && stanza && stanza->file && strncmp(p->msg, "PAM stanza", 10) == 0) {
            at.file = stanza->file;
            at.line = stanza->line;
        }
        check_finding_at(r, ST_FAIL, "configuration", &at, "%s", p->msg);
    }
    if (problems->dropped)
        check_finding(r, ST_FAIL, "configuration", "%zu more errors not listed",
                      problems->dropped);
    if (rc != PAM_SUCCESS && problems->count == 0 && !problems->dropped)
        check_finding(r, ST_FAIL, "configuration", "%s", err.msg);
    if (rc == PAM_SUCCESS)
        check_finding(r, ST_OK, "configuration", "loaded without errors%s",
                      fragment ? " (as a fragment)" : "");
    free(problems);
    return rc == PAM_SUCCESS;
}

void check_config_probe(struct report *r, const struct settings *s, bool explicit_conf)
{
    bool cache_ok = false;
    check_probe_paths(r, s, explicit_conf, &cache_ok);
    if (cache_ok)
        check_probe_stored(r, s);
    check_probe_endpoints(r, s);
    check_probe_opened(r, s); /* creates cache_dir if missing, as a login would */
    check_probe_provision(r, s);
}

void check_limits_of(struct check_limits *l, const struct settings *s)
{
    if (l->known || s->common.timeout == 0) /* known, or nothing could be read */
        return;
    l->known = true;
    l->timeout = s->common.timeout;
    l->max_pending = s->common.max_pending;
    l->max_pending_per_source = s->common.max_pending_per_source;
    snprintf(l->from, sizeof(l->from), "%s", s->common.conf_path);
}
