/* settings.c - see settings.h. */
#include "settings.h"

#include <security/pam_modules.h>
#include <stdint.h>
#include <string.h>

/* The providers, in the order their options are listed. */
static const struct provider *const providers[] = {&provider_aws, &provider_openid};
#define N_PROVIDERS (sizeof(providers) / sizeof(providers[0]))

_Static_assert(N_PROVIDERS <= CFG_PARTS_MAX, "core has room for every provider's part");

static void *part_of(struct settings *s, const struct provider *p)
{
    return p == &provider_openid ? (void *)&s->openid : (void *)&s->aws;
}

const void *settings_part(const struct settings *s, const struct provider *p)
{
    return p == &provider_openid ? (const void *)&s->openid : (const void *)&s->aws;
}

/* The parts as core's parser sees them; s may be NULL (names only). */
static void parts_of(struct settings *s, struct cfg_part parts[N_PROVIDERS])
{
    for (size_t i = 0; i < N_PROVIDERS; i++)
        parts[i] = (struct cfg_part){providers[i]->options, providers[i]->n_options,
                                     s ? part_of(s, providers[i]) : NULL};
}

static size_t provider_index(const struct provider *p)
{
    for (size_t i = 0; i < N_PROVIDERS; i++)
        if (providers[i] == p)
            return i;
    return 0;
}

const struct provider *provider_select(const struct settings *s)
{
    return s->openid.issuer[0] ? &provider_openid : &provider_aws;
}

/* Exactly one of start_url and issuer; an option of the other provider,
 * set explicitly, is a mistake worth saying: it would silently do nothing. */
static int check_selection(const struct settings *s, const struct cfg_part *parts,
                           unsigned flags, struct cfg_trace *trace, struct sso_error *err)
{
    bool openid = s->openid.issuer[0] != '\0', aws = s->aws.start_url[0] != '\0';
    if (openid && aws)
        return sso_fail(err, PAM_SERVICE_ERR, "start_url and issuer are both set: start_url "
                        "selects AWS IAM Identity Center, issuer an OpenID provider; keep one");
    if (!openid && !aws && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "start_url is required for AWS IAM Identity "
                        "Center, or issuer for an OpenID provider (set it in %s or on the PAM "
                        "stanza)",
                        s->common.conf_path);
    if (!openid && !aws) /* a fragment without either says nothing about the provider yet */
        return PAM_SUCCESS;
    int foreign = (int)provider_index(openid ? &provider_aws : &provider_openid);
    int rc = PAM_SUCCESS;
    for (size_t i = 0; i < cfg_option_count(parts, N_PROVIDERS); i++) {
        enum cfg_source src = trace->of[i].source;
        if (cfg_option_part(parts, N_PROVIDERS, i) != foreign || src == CFG_SRC_DEFAULT ||
            src == CFG_SRC_DERIVED)
            continue;
        const char *name = cfg_option_name(parts, N_PROVIDERS, i);
        if (openid)
            rc = sso_fail(err, PAM_SERVICE_ERR, "%s is an AWS IAM Identity Center option, "
                          "but issuer selects an OpenID provider: remove it", name);
        else
            rc = sso_fail(err, PAM_SERVICE_ERR, "%s is an OpenID provider option, but there is "
                          "no issuer (start_url selects AWS IAM Identity Center): remove it",
                          name);
        if (!trace->problems)
            return rc;
        /* The check tool lists each, where it was set. */
        bool in_file = src == CFG_SRC_FILE;
        cfg_problem_add(trace, in_file ? s->common.conf_path : NULL,
                        in_file ? trace->of[i].line : 0, name, err->msg);
    }
    return rc;
}

/* An error of a check of the whole configuration, for the check tool's
 * list (the stages before listed their own). */
static int listed(int rc, struct cfg_trace *trace, size_t before, const struct sso_error *err)
{
    if (rc != PAM_SUCCESS && trace->problems &&
        trace->problems->count + trace->problems->dropped == before)
        cfg_problem_add(trace, NULL, 0, NULL, err->msg);
    return rc;
}

static size_t problem_count(const struct cfg_trace *trace)
{
    return trace->problems ? trace->problems->count + trace->problems->dropped : 0;
}

/* The selected provider derives its defaults (marked as derived in the
 * trace) and checks its policy. A fragment without either provider is
 * judged as AWS's and has its id_token_algs checked too, as a fragment may
 * be for either. */
static int configure(struct settings *s, const struct cfg_part *parts, unsigned flags,
                     struct cfg_trace *trace, struct sso_error *err)
{
    const struct provider *p = provider_select(s);
    void *part = part_of(s, p);
    struct settings before = *s;
    int rc = p->configure(&s->common, part, flags, err);
    cfg_trace_derived(parts, N_PROVIDERS, provider_index(p),
                      (const char *)&before + ((const char *)part - (const char *)s), trace);
    sso_cleanse(&before, sizeof(before));
    if (rc == PAM_SUCCESS && (flags & CFG_PARTIAL) && !s->aws.start_url[0] &&
        p != &provider_openid) {
        unsigned algs;
        rc = openid_allowed_algs(&s->openid, &algs, err);
    }
    return rc;
}

static int load(struct settings *s, bool use_file, const char *text, int argc,
                const char **argv, unsigned flags, struct cfg_trace *trace,
                struct sso_error *err)
{
    struct cfg_trace own_trace; /* which options were set, when nobody asked */
    struct cfg_part parts[N_PROVIDERS];
    if (!s) {
        if (err)
            err->msg[0] = '\0';
        return sso_fail(err, PAM_SERVICE_ERR, "internal error: no configuration to fill");
    }
    memset(s, 0, sizeof(*s));
    parts_of(s, parts);
    if (!trace) {
        trace = &own_trace;
        trace->problems = NULL;
    }
    int rc = cfg_parse(&s->common, parts, N_PROVIDERS, use_file, text, argc, argv, trace, err);
    if (trace->problems) {
        /* The check tool: every check runs on what could be read, each
         * error listed, and s is kept for it to show (it never logs in). */
        size_t n = problem_count(trace);
        int sel = listed(check_selection(s, parts, flags, trace, err), trace, n, err);
        n = problem_count(trace);
        int fin = listed(cfg_finish(&s->common, err), trace, n, err);
        n = problem_count(trace);
        int conf = sel == PAM_SUCCESS ? listed(configure(s, parts, flags, trace, err), trace, n,
                                               err)
                                      : PAM_SUCCESS;
        if (rc == PAM_SUCCESS)
            rc = sel != PAM_SUCCESS ? sel : fin != PAM_SUCCESS ? fin : conf;
        return rc;
    }
    if (rc == PAM_SUCCESS)
        rc = check_selection(s, parts, flags, trace, err);
    if (rc == PAM_SUCCESS)
        rc = cfg_finish(&s->common, err);
    if (rc == PAM_SUCCESS)
        rc = configure(s, parts, flags, trace, err);
    if (rc != PAM_SUCCESS)
        memset(s, 0, sizeof(*s)); /* no half-applied policy for a careless caller */
    return rc;
}

int settings_load(struct settings *s, int argc, const char **argv, struct sso_error *err)
{
    return load(s, true, NULL, argc, argv, 0, NULL, err);
}

int settings_load_text(struct settings *s, const char *text, int argc, const char **argv,
                       struct sso_error *err)
{
    return load(s, false, text, argc, argv, 0, NULL, err);
}

int settings_load_traced(struct settings *s, int argc, const char **argv, unsigned flags,
                         struct cfg_trace *trace, struct sso_error *err)
{
    return load(s, true, NULL, argc, argv, flags, trace, err);
}

size_t settings_option_count(void)
{
    struct cfg_part parts[N_PROVIDERS];
    parts_of(NULL, parts);
    return cfg_option_count(parts, N_PROVIDERS);
}

const char *settings_option_name(size_t i)
{
    struct cfg_part parts[N_PROVIDERS];
    parts_of(NULL, parts);
    return cfg_option_name(parts, N_PROVIDERS, i);
}

void settings_option_text(const struct settings *s, size_t i, char *buf, size_t len)
{
    struct cfg_part parts[N_PROVIDERS];
    for (size_t p = 0; p < N_PROVIDERS; p++) /* read only */
        parts[p] = (struct cfg_part){providers[p]->options, providers[p]->n_options,
                                     (void *)(uintptr_t)settings_part(s, providers[p])};
    cfg_option_text(&s->common, parts, N_PROVIDERS, i, buf, len);
}

bool settings_option_applies(const struct settings *s, size_t i)
{
    struct cfg_part parts[N_PROVIDERS];
    parts_of(NULL, parts);
    if (i >= cfg_option_count(parts, N_PROVIDERS))
        return false;
    int part = cfg_option_part(parts, N_PROVIDERS, i);
    return part < 0 || (size_t)part == provider_index(provider_select(s));
}
