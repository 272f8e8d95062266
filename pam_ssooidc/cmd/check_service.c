/* check_service.c - pam_ssooidc_check --service NAME and --all: the lines
 * of a PAM service that load the module, read as Linux-PAM reads them
 * (pamconf.h), each checked as that line makes the module run: its options
 * and its conf= file, and where it stands in the auth stack (check.h).
 *
 * The stack is judged as libpam runs it: a module's return picks an action
 * from its control (the keywords are shorthands of "[...]"); "done" ends
 * the stack with success when nothing required failed before, a jump N
 * skips N lines, "ignore" lets the next lines decide. Warned, each at the
 * line at fault: a line before the module whose success ends the stack, or
 * that jumps (on any value) past it or over another file's lines (libpam
 * counts a substack as one line, so such a jump is not counted here); the
 * module's own line when any failure it returns jumps or is ignored with no
 * pam_deny.so after it. Includes are followed; a substack is read as if
 * included (its own "done" ends only the substack: a warning too many, not
 * one too few). */
#define _GNU_SOURCE
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/check.h"
#include "cmd/pamconf.h"
#include "cmd/pammodule.h"

#define SERVICE_ARGS_MAX 128 /* options of one stanza line */

/* ------------------------------------------------------- controls */

enum svc_action { ACT_IGNORE, ACT_OK, ACT_DONE, ACT_BAD, ACT_DIE, ACT_RESET, ACT_JUMP };

/* The values a control can name that matter here: success, and every
 * failure the module returns (pam_ssooidc.8). */
enum svc_value {
    SVC_SUCCESS, SVC_AUTH_ERR, SVC_AUTHINFO_UNAVAIL, SVC_SERVICE_ERR, SVC_USER_UNKNOWN,
    SVC_CONV_ERR, SVC_BUF_ERR, SVC_SYSTEM_ERR, SVC_VALUES
};
static const char *const svc_value_names[SVC_VALUES] = {
    "success", "auth_err", "authinfo_unavail", "service_err", "user_unknown",
    "conv_err", "buf_err", "system_err"};

struct svc_control {
    enum svc_action act[SVC_VALUES];
    unsigned jump[SVC_VALUES];
    unsigned max_jump;       /* the longest jump on any value, listed or not */
    const char *max_jump_on; /* its value's name ("default", "ignore", ...) */
};

static enum svc_action svc_action_of(const char *v, size_t n, unsigned *jump)
{
    static const struct {
        const char *name;
        enum svc_action act;
    } names[] = {{"ignore", ACT_IGNORE}, {"ok", ACT_OK},   {"done", ACT_DONE},
                 {"bad", ACT_BAD},       {"die", ACT_DIE}, {"reset", ACT_RESET}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i].name) == n && strncmp(names[i].name, v, n) == 0)
            return names[i].act;
    unsigned long j = 0;
    for (size_t i = 0; i < n && j < 1000; i++) {
        if (v[i] < '0' || v[i] > '9')
            return ACT_IGNORE; /* libpam: an unknown action is ignored */
        j = j * 10 + (unsigned long)(v[i] - '0');
    }
    *jump = (unsigned)j;
    return n && j ? ACT_JUMP : ACT_IGNORE;
}

static int svc_value_of(const char *k, size_t n)
{
    for (int v = 0; v < SVC_VALUES; v++)
        if (strlen(svc_value_names[v]) == n && strncmp(svc_value_names[v], k, n) == 0)
            return v;
    return -1;
}

/* "value=action ..." as libpam reads it: each value its action, the ones
 * not named the default's (unset: ignore). Every jump is noted, also on a
 * value the module never returns: a line before the module may return it. */
static struct svc_control svc_bracket(const char *text)
{
    struct svc_control c = {{ACT_IGNORE}, {0}, 0, NULL};
    bool named[SVC_VALUES] = {false};
    enum svc_action def = ACT_IGNORE;
    unsigned def_jump = 0;
    for (const char *p = text; *p;) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        const char *eq = memchr(p, '=', len);
        if (eq) {
            size_t kl = (size_t)(eq - p), vl = len - kl - 1;
            unsigned jump = 0;
            enum svc_action act = svc_action_of(eq + 1, vl, &jump);
            int v = svc_value_of(p, kl);
            if (kl == 7 && strncmp(p, "default", 7) == 0) {
                def = act;
                def_jump = jump;
            } else if (v >= 0) {
                c.act[v] = act;
                c.jump[v] = jump;
                named[v] = true;
            }
            if (act == ACT_JUMP && jump > c.max_jump) {
                c.max_jump = jump;
                c.max_jump_on = kl == 7 && strncmp(p, "default", 7) == 0 ? "default"
                                : v >= 0 ? svc_value_names[v] : "a value";
            }
        }
        p += len;
    }
    for (int v = 0; v < SVC_VALUES; v++)
        if (!named[v]) {
            c.act[v] = def;
            c.jump[v] = def_jump;
        }
    return c;
}

static struct svc_control svc_keyword(enum svc_action success, enum svc_action failure)
{
    struct svc_control c = {{ACT_IGNORE}, {0}, 0, NULL};
    c.act[SVC_SUCCESS] = success;
    for (int v = SVC_SUCCESS + 1; v < SVC_VALUES; v++)
        c.act[v] = failure;
    return c;
}

static struct svc_control svc_control_of(const char *control)
{
    if (strcasecmp(control, "required") == 0)
        return svc_keyword(ACT_OK, ACT_BAD);
    if (strcasecmp(control, "requisite") == 0)
        return svc_keyword(ACT_OK, ACT_DIE);
    if (strcasecmp(control, "sufficient") == 0)
        return svc_keyword(ACT_DONE, ACT_IGNORE);
    if (strcasecmp(control, "optional") == 0)
        return svc_keyword(ACT_OK, ACT_IGNORE);
    return svc_bracket(control);
}

/* libpam on a failure: ok and done make it the stack's result, bad and
 * die too; ignore, reset and a jump leave the result to other lines. */
static bool svc_fails_stack(enum svc_action act)
{
    return act == ACT_OK || act == ACT_DONE || act == ACT_BAD || act == ACT_DIE;
}

/* --------------------------------------------------------- shown */

static const char *svc_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool svc_is(const struct pamconf_line *l, const char *name)
{
    return strcmp(svc_base(l->module), name) == 0;
}

static void svc_text(const struct pamconf_line *l, char *buf, size_t len)
{
    bool spaced = strpbrk(l->control, " \t") != NULL;
    snprintf(buf, len, "%s%s %s%s%s %s%s%.80s", l->silent ? "-" : "", pamconf_type_name(l->type),
             spaced ? "[" : "", l->control, spaced ? "]" : "", l->module, l->args[0] ? " " : "",
             l->args);
}

/* ------------------------------------------------------ the stack */

/* The auth lines, in the order libpam runs them. */
struct svc_auth {
    const struct pamconf_line *line[PAMCONF_LINES_MAX];
    size_t n;
};

/* Whether lines I+1..END come from another file than line I. libpam
 * counts a jump's lines as written, an included file's lines one by one,
 * but a whole substack as one, which the flattened stack here does not
 * show: a jump over another file's lines is not counted exactly. */
static bool svc_crosses_files(const struct svc_auth *a, size_t i, size_t end)
{
    for (size_t k = i + 1; k <= end && k < a->n; k++)
        if (strcmp(a->line[k]->file, a->line[i]->file) != 0)
            return true;
    return false;
}

/* Lines before the module that end the stack on their success, or jump
 * (on any value they return) past it, or over lines this check cannot
 * count: each may let a login through without the module. */
static void svc_check_before(struct report *r, const struct svc_auth *a, size_t ours,
                             const struct check_where *at)
{
    for (size_t i = 0; i < ours; i++) {
        const struct pamconf_line *l = a->line[i];
        if (svc_is(l, "pam_deny.so"))
            continue; /* never succeeds */
        struct svc_control c = svc_control_of(l->control);
        char text[256];
        svc_text(l, text, sizeof(text));
        struct check_where here = {l->file, l->line, NULL};
        if (c.act[SVC_SUCCESS] == ACT_DONE)
            check_finding_at(r, ST_WARN, "stack", &here,
                             "'%s' before pam_ssooidc.so (%s:%u) ends the stack on its "
                             "success: a login gets through without an approval", text,
                             at->file, at->line);
        if (c.max_jump == 0)
            continue;
        size_t end = i + c.max_jump; /* the last line skipped */
        if (end >= ours)
            check_finding_at(r, ST_WARN, "stack", &here,
                             "'%s' before pam_ssooidc.so (%s:%u) jumps %u line%s on %s, past "
                             "it: a login gets through without an approval", text, at->file,
                             at->line, c.max_jump, c.max_jump == 1 ? "" : "s", c.max_jump_on);
        else if (svc_crosses_files(a, i, end))
            check_finding_at(r, ST_WARN, "stack", &here,
                             "'%s' before pam_ssooidc.so (%s:%u) jumps %u line%s on %s, over "
                             "lines of another file (an include or a substack, which libpam "
                             "counts as one line): it may skip the module; make the jump "
                             "stay within its file", text, at->file, at->line, c.max_jump,
                             c.max_jump == 1 ? "" : "s", c.max_jump_on);
    }
}

/* After a module whose failure is ignored: the next lines decide. Until
 * a pam_deny.so that fails the stack, every other module that can succeed
 * is a fallback that lets a login through without an approval. */
static void svc_check_after(struct report *r, const struct svc_auth *a, size_t ours,
                            const struct check_where *at, const char *how)
{
    bool fallback = false;
    for (size_t j = ours + 1; j < a->n; j++) {
        const struct pamconf_line *l = a->line[j];
        struct svc_control c = svc_control_of(l->control);
        if (svc_is(l, "pam_deny.so")) {
            if (svc_fails_stack(c.act[SVC_AUTH_ERR])) {
                if (!fallback)
                    check_finding_at(r, ST_OK, "stack", at, "%s; %s:%u (pam_deny.so) denies "
                                     "what it lets through", how, l->file, l->line);
                return;
            }
            continue;
        }
        char text[256];
        svc_text(l, text, sizeof(text));
        struct check_where here = {l->file, l->line, NULL};
        check_finding_at(r, ST_WARN, "stack", &here,
                         "'%s' after pam_ssooidc.so (%s:%u), whose failure is ignored (%s): a "
                         "fallback that lets a login through without an approval", text,
                         at->file, at->line, how);
        fallback = true;
    }
    check_finding_at(r, ST_WARN, "stack", at, "its failure is ignored (%s) and nothing after it "
                     "denies (no pam_deny.so): the lines before it decide", how);
}

/* The module's own line: each failure it returns must fail the stack. A
 * jump on one leaves the verdict to the lines it lands on; an ignore (or
 * reset) to the lines after it, which svc_check_after reads. */
static void svc_check_position(struct report *r, const struct svc_auth *a, size_t ours)
{
    const struct pamconf_line *l = a->line[ours];
    struct check_where at = {l->file, l->line, NULL};
    svc_check_before(r, a, ours, &at);
    struct svc_control c = svc_control_of(l->control);
    char how[160] = "", jumps[200] = "";
    size_t used = 0, jused = 0;
    for (int v = SVC_SUCCESS + 1; v < SVC_VALUES; v++) {
        if (c.act[v] == ACT_JUMP && jused < sizeof(jumps))
            jused += (size_t)snprintf(jumps + jused, sizeof(jumps) - jused, "%s%s=%u",
                                      jused ? ", " : "", svc_value_names[v], c.jump[v]);
        else if (!svc_fails_stack(c.act[v]) && used < sizeof(how))
            used += (size_t)snprintf(how + used, sizeof(how) - used, "%s%s", used ? ", " : "",
                                     svc_value_names[v]);
    }
    if (jumps[0])
        check_finding_at(r, ST_WARN, "stack", &at, "control %.80s jumps when the module fails "
                         "(%s): the lines it lands on decide, not the approval", l->control,
                         jumps);
    if (how[0]) {
        char what[224];
        snprintf(what, sizeof(what), "control %.40s ignores %s", l->control, how);
        svc_check_after(r, a, ours, &at, what);
    } else if (!jumps[0]) {
        check_finding_at(r, ST_OK, "stack", &at, "control %.80s: a refused or failed approval "
                         "fails the login", l->control);
    }
}

/* ------------------------------------------------------ one line */

/* The stanza's arguments, then the command line's (which override); -1
 * when they are more than SERVICE_ARGS_MAX (a late conf= would be lost). */
static int svc_args(char *buf, const char **argv, int extra_n, const char *const *extra,
                    bool *explicit_conf)
{
    int n = 0;
    *explicit_conf = false;
    for (char *w = strtok(buf, "\n"); w; w = strtok(NULL, "\n")) {
        if (n == SERVICE_ARGS_MAX)
            return -1;
        argv[n++] = w;
    }
    for (int i = 0; i < extra_n; i++) {
        if (n == SERVICE_ARGS_MAX)
            return -1;
        argv[n++] = extra[i];
    }
    for (int i = 0; i < n; i++)
        if (strncmp(argv[i], "conf=", 5) == 0)
            *explicit_conf = true;
    return n;
}

/* One line that loads the module; A and OURS: the auth stack and its place
 * there (A NULL: not an auth line). */
static void svc_check_line(struct report *r, const char *service, const struct pamconf_line *l,
                           const struct svc_auth *a, size_t ours, const struct check_opts *o)
{
    struct check_where at = {l->file, l->line, NULL};
    char text[256];
    svc_text(l, text, sizeof(text));
    check_finding_at(r, ST_INFO, "service", &at, "'%s' (service %s%s%.200s)", text, service,
                     l->via[0] ? ", via " : "", l->via);
    if (l->silent)
        check_finding_at(r, ST_WARN, "stack", &at, "a '-%s' line: when the module file is "
                         "missing, libpam skips it silently and the login goes on without an "
                         "approval", pamconf_type_name(l->type));
    if (!a)
        check_finding_at(r, ST_WARN, "stack", &at, "pam_ssooidc.so has only the auth functions: "
                         "for its '%s' line libpam finds no function of that type and takes "
                         "the line as failed (PAM_MODULE_UNKNOWN)", pamconf_type_name(l->type));
    else
        svc_check_position(r, a, ours);
    char *buf = strdup(l->argv);
    const char *argv[SERVICE_ARGS_MAX];
    if (!buf) {
        check_unknown(r, "configuration", "not checked: out of memory");
        return;
    }
    bool explicit_conf;
    int n = svc_args(buf, argv, o->nargs, o->args, &explicit_conf);
    if (n < 0) {
        check_finding_at(r, ST_FAIL, "configuration", &at, "more than %d arguments: not "
                         "checked", SERVICE_ARGS_MAX);
        free(buf);
        return;
    }
    struct settings s;
    struct cfg_trace trace;
    /* With options from the command line too, "argument" says where a
     * stanza value came from no better than the stanza would. */
    struct check_where stanza = {l->file, l->line, o->nargs ? "argument" : NULL};
    bool loaded = check_config_load(r, n, argv, false, &stanza, &s, &trace);
    if (!o->limits->known) { /* what could be read, also when it has errors */
        check_limits_of(o->limits, &s);
        snprintf(o->limits->from, sizeof(o->limits->from), "%s:%u", l->file, l->line);
    }
    if (loaded)
        check_config_probe(r, &s, explicit_conf);
    sso_cleanse(&s, sizeof(s));
    free(buf);
}

/* ------------------------------------------------------ a service */

/* The same stanza reached twice (two includes of one file) is one use. */
static bool svc_seen(const struct pamconf_stack *s, size_t i, const bool *hit)
{
    for (size_t j = 0; j < i; j++)
        if (hit[j] && s->lines[j].line == s->lines[i].line &&
            strcmp(s->lines[j].file, s->lines[i].file) == 0)
            return true;
    return false;
}

/* Returns the number of lines that load the module (-1: unreadable). */
static int svc_check(struct report *r, const struct pammodule *m, const char *service,
                     const struct check_opts *o)
{
    struct pamconf_env env = {""};
    struct pamconf_stack s;
    struct svc_auth *a = calloc(1, sizeof(*a));
    bool *hit = calloc(PAMCONF_LINES_MAX, sizeof(*hit));
    int uses = 0;
    if (!a || !hit) {
        free(a);
        free(hit);
        check_unknown(r, "service", "%s not checked: out of memory", service);
        return -1;
    }
    if (!pamconf_parse_service(&env, service, &s))
        check_unknown(r, "service", "%s: %s", service, s.problem);
    for (size_t i = 0; i < s.count; i++) {
        char problem[PAMCONF_PROBLEM_MAX] = "";
        int loaded = pammodule_loaded_by(m, &s.lines[i], problem, sizeof(problem));
        if (loaded < 0)
            check_unknown(r, "service", "%s", problem);
        hit[i] = loaded == 1 && !svc_seen(&s, i, hit);
        if (s.lines[i].type == PAMCONF_AUTH && a->n < PAMCONF_LINES_MAX)
            a->line[a->n++] = &s.lines[i];
    }
    for (size_t i = 0; i < s.count; i++) {
        if (!hit[i])
            continue;
        size_t ours = 0;
        while (ours < a->n && a->line[ours] != &s.lines[i])
            ours++;
        uses++;
        /* not an auth line: nothing of the stack to judge */
        svc_check_line(r, service, &s.lines[i], ours < a->n ? a : NULL, ours, o);
    }
    pamconf_stack_free(&s);
    free(a);
    free(hit);
    return uses;
}

/* A name libpam would open as /etc/pam.d/NAME: no slash, not "." or "..". */
static bool svc_name_ok(const char *name)
{
    return name[0] && strlen(name) < 256 && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

void check_service_one(struct report *r, const char *service, const struct check_opts *o)
{
    struct pammodule m;
    char problem[PAMCONF_PROBLEM_MAX];
    if (!svc_name_ok(service)) {
        check_finding(r, ST_FAIL, "service", "'%.64s' is not a PAM service name", service);
        return;
    }
    if (!pammodule_init(&m, "", o->module, problem, sizeof(problem))) {
        check_unknown(r, "service", "%s", problem);
        return;
    }
    char path[300];
    struct stat st;
    snprintf(path, sizeof(path), "/etc/pam.d/%s", service);
    char alt[300];
    snprintf(alt, sizeof(alt), "/usr/lib/pam.d/%s", service);
    if (stat(path, &st) != 0 && stat(alt, &st) != 0) {
        check_finding(r, ST_FAIL, "service", "%s does not exist (libpam would use the service "
                      "\"other\")", path);
        return;
    }
    int uses = svc_check(r, &m, service, o);
    if (uses == 0)
        check_finding(r, ST_FAIL, "service", "%s: no line loads %s: logins of this service "
                      "are not gated by the module", service, o->module);
}

void check_service_all(struct report *r, const struct check_opts *o)
{
    struct pamconf_env env = {""};
    struct pammodule m;
    char problem[PAMCONF_PROBLEM_MAX];
    char **services = NULL;
    size_t count = 0;
    int total = 0;
    if (!pammodule_init(&m, "", o->module, problem, sizeof(problem))) {
        check_unknown(r, "service", "%s", problem);
        return;
    }
    if (!pamconf_list_services(&env, &services, &count, problem, sizeof(problem)))
        check_unknown(r, "service", "%s", problem);
    for (size_t i = 0; i < count; i++) {
        /* Only the services that load it: a quiet first pass. */
        struct pamconf_stack s;
        bool uses = false;
        pamconf_parse_service(&env, services[i], &s);
        for (size_t j = 0; j < s.count && !uses; j++)
            uses = pammodule_loaded_by(&m, &s.lines[j], problem, sizeof(problem)) == 1;
        pamconf_stack_free(&s);
        if (uses) {
            int n = svc_check(r, &m, services[i], o);
            total += n > 0 ? n : 0;
        }
    }
    pamconf_services_free(services, count);
    if (total == 0)
        check_finding(r, ST_WARN, "service", "no PAM service loads %s", o->module);
}
