/* pam_users - the PAM lines that load the installed module (pam_users.h). */
#define _GNU_SOURCE
#include "cmd/pam_users.h"

#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/pamconf.h"
#include "cmd/pammodule.h"

/* PAM files are root's, but they reach a terminal (apt's, dnf's): only
 * printable ASCII goes out. */
static void put_clean(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s >= 0x20 && *s < 0x7f ? *s : '?', out);
}

static void print_use(FILE *out, const char *service, const struct pamconf_line *l)
{
    put_clean(out, l->file);
    fprintf(out, ":%u: %s%s ", l->line, l->silent ? "-" : "", pamconf_type_name(l->type));
    bool spaced = strpbrk(l->control, " \t") != NULL;
    fputs(spaced ? "[" : "", out);
    put_clean(out, l->control);
    fputs(spaced ? "] " : " ", out);
    put_clean(out, l->module);
    if (l->args[0]) {
        fputc(' ', out);
        put_clean(out, l->args);
    }
    fputs(" (service ", out);
    put_clean(out, service);
    if (l->via[0]) {
        fputs(", via ", out);
        put_clean(out, l->via);
    }
    fputs(")\n", out);
}

/* The same stanza reached twice in one service (two includes of one file)
 * is one use. */
static bool listed_before(const struct pamconf_stack *s, size_t i, const bool *hit)
{
    for (size_t j = 0; j < i; j++)
        if (hit[j] && s->lines[j].line == s->lines[i].line &&
            strcmp(s->lines[j].file, s->lines[i].file) == 0)
            return true;
    return false;
}

/* The uses in SERVICE; false when it could not be read completely. */
static bool report_service(const struct pamconf_env *env, const struct pammodule *m,
                           const char *service, FILE *out, FILE *err, size_t *uses)
{
    struct pamconf_stack s;
    bool complete = pamconf_parse_service(env, service, &s);
    if (!complete) {
        fputs("pam_ssooidc_check: service ", err);
        put_clean(err, service);
        fputs(": ", err);
        put_clean(err, s.problem);
        fputc('\n', err);
    }
    bool hit[PAMCONF_LINES_MAX] = {false};
    for (size_t i = 0; i < s.count; i++) {
        char problem[PAMCONF_PROBLEM_MAX] = "";
        int loaded = pammodule_loaded_by(m, &s.lines[i], problem, sizeof(problem));
        if (loaded < 0) {
            complete = false;
            fputs("pam_ssooidc_check: ", err);
            put_clean(err, problem);
            fputc('\n', err);
        }
        hit[i] = loaded == 1;
        if (hit[i] && !listed_before(&s, i, hit)) {
            print_use(out, service, &s.lines[i]);
            (*uses)++;
        }
    }
    pamconf_stack_free(&s);
    return complete;
}

int pam_users_report(const char *root, const char *module, FILE *out, FILE *err)
{
    struct pamconf_env env = {root};
    struct pammodule m;
    char problem[PAMCONF_PROBLEM_MAX];
    struct stat st;
    /* A root that is not there has no PAM files: that is no answer. */
    if (root[0] && (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fputs("pam_ssooidc_check: root ", err);
        put_clean(err, root);
        fputs(": not a directory that can be read\n", err);
        return PAM_USERS_UNKNOWN;
    }
    if (!pammodule_init(&m, root, module, problem, sizeof(problem))) {
        fprintf(err, "pam_ssooidc_check: ");
        put_clean(err, problem);
        fputc('\n', err);
        return PAM_USERS_UNKNOWN;
    }
    char **services = NULL;
    size_t count = 0, uses = 0;
    bool complete = pamconf_list_services(&env, &services, &count, problem, sizeof(problem));
    if (!complete) {
        fputs("pam_ssooidc_check: ", err);
        put_clean(err, problem);
        fputc('\n', err);
    }
    for (size_t i = 0; i < count; i++)
        if (!report_service(&env, &m, services[i], out, err, &uses))
            complete = false;
    pamconf_services_free(services, count);
    if (fflush(out) != 0)
        complete = false;
    if (uses)
        return PAM_USERS_SOME;
    return complete ? PAM_USERS_NONE : PAM_USERS_UNKNOWN;
}
