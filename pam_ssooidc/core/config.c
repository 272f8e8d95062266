/* config.c - see config.h.
 *
 * Every option is one row of the table `options` below: its name, its kind
 * (string, url, path, number with range, flag, enum), where it lives in
 * struct cfg, how big that field is and its default. One parser, driven by
 * the table, serves both the config file and the PAM stanza; how a value of
 * each kind is parsed and checked is in config_values.c. Checks that
 * involve more than one option (endpoints derived from the region, the
 * identity policy) run once, after both sources have been applied.
 *
 * Nothing here allocates, touches the network or keeps state between calls. */
#include "core/config.h"

#include "core/config_values.h"
#include "core/qr.h"
#include "core/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define CFG_FILE_MAX (64 * 1024) /* bytes; a larger config file is refused */
#define CFG_LINE_MAX 1024        /* bytes per line, newline excluded */
#define CFG_TEXT_NAME "(config text)"
#define CFG_DEFAULT_REGION "us-east-1"

/* ---------------------------------------------------------------- table */

#define FIELD(f) .offset = offsetof(struct cfg, f), .size = sizeof(((struct cfg *)0)->f)

static const struct opt_choice prompt_choices[] = {
    {"auto", CFG_PROMPT_AUTO},
    {"always", CFG_PROMPT_ALWAYS},
    {"never", CFG_PROMPT_NEVER},
    {NULL, 0},
};

_Static_assert(sizeof(enum cfg_prompt) == sizeof(int), "enum options are stored as int");

static const struct opt_choice client_auth_choices[] = {
    {"auto", CFG_AUTH_AUTO},
    {"basic", CFG_AUTH_BASIC},
    {"post", CFG_AUTH_POST},
    {NULL, 0},
};

_Static_assert(sizeof(enum cfg_client_auth) == sizeof(int), "enum options are stored as int");

#define AWS OPT_AWS
#define OIDC OPT_OPENID

static const struct opt options[] = {
    {.name = "conf", .kind = OPT_PATH, FIELD(conf_path), .def = CFG_DEFAULT_FILE,
     .flags = OPT_STANZA_ONLY | OPT_NONEMPTY},
    /* AWS IAM Identity Center */
    {.name = "start_url", .kind = OPT_URL, FIELD(start_url), .flags = AWS},
    {.name = "region", .kind = OPT_STRING, FIELD(region), .def = CFG_DEFAULT_REGION,
     .check = cfg_check_region, .flags = AWS},
    {.name = "oidc_endpoint", .kind = OPT_URL, FIELD(oidc_endpoint), .flags = OPT_BASE_URL | AWS},
    {.name = "portal_endpoint", .kind = OPT_URL, FIELD(portal_endpoint),
     .flags = OPT_BASE_URL | AWS},
    {.name = "sts_endpoint", .kind = OPT_URL, FIELD(sts_endpoint), .flags = OPT_BASE_URL | AWS},
    {.name = "account_id", .kind = OPT_STRING, FIELD(account_id), .check = cfg_check_account_id,
     .flags = AWS},
    {.name = "role_name", .kind = OPT_STRING, FIELD(role_name), .check = cfg_check_role_name,
     .flags = AWS},
    {.name = "client_name", .kind = OPT_STRING, FIELD(client_name), .check = cfg_check_client_name,
     .flags = AWS},
    /* an OpenID provider */
    {.name = "issuer", .kind = OPT_URL, FIELD(issuer), .flags = OPT_NO_QUERY | OIDC},
    {.name = "client_id", .kind = OPT_STRING, FIELD(client_id), .check = cfg_check_client_id,
     .flags = OIDC},
    {.name = "client_secret_file", .kind = OPT_PATH, FIELD(client_secret_file), .flags = OIDC},
    {.name = "client_auth", .kind = OPT_ENUM, FIELD(client_auth), .num_def = CFG_AUTH_AUTO,
     .choices = client_auth_choices, .flags = OIDC},
    {.name = "scopes", .kind = OPT_STRING, FIELD(scopes), .def = "openid",
     .check = cfg_check_scopes, .flags = OIDC},
    {.name = "device_authorization_endpoint", .kind = OPT_URL,
     FIELD(device_authorization_endpoint), .flags = OPT_NO_FRAGMENT | OIDC},
    {.name = "token_endpoint", .kind = OPT_URL, FIELD(token_endpoint),
     .flags = OPT_NO_FRAGMENT | OIDC},
    {.name = "jwks_uri", .kind = OPT_URL, FIELD(jwks_uri), .flags = OPT_NO_FRAGMENT | OIDC},
    {.name = "id_token_algs", .kind = OPT_STRING, FIELD(id_token_algs),
     .def = "RS256,PS256,ES256", .check = cfg_check_alg_names, .flags = OIDC},
    {.name = "username_claim", .kind = OPT_STRING, FIELD(username_claim),
     .def = "preferred_username", .check = cfg_check_claim_name, .flags = OIDC},
    {.name = "groups_claim", .kind = OPT_STRING, FIELD(groups_claim), .def = "groups",
     .check = cfg_check_claim_name, .flags = OIDC},
    {.name = "required_groups", .kind = OPT_STRING, FIELD(required_groups),
     .check = cfg_check_groups, .flags = OIDC},
    /* both: transport */
    {.name = "ca_file", .kind = OPT_PATH, FIELD(ca_file)},
    {.name = "proxy", .kind = OPT_URL, FIELD(proxy), .flags = OPT_BASE_URL | OPT_PROXY_URL},
    /* both: who may log in as whom */
    {.name = "allow_any_approver", .kind = OPT_FLAG, FIELD(allow_any_approver)},
    {.name = "fold_case", .kind = OPT_FLAG, FIELD(fold_case)},
    {.name = "username_suffix", .kind = OPT_STRING, FIELD(username_suffix),
     .check = cfg_check_username_suffix},
    {.name = "user_map", .kind = OPT_PATH, FIELD(user_map)},
    /* user experience */
    {.name = "prompt", .kind = OPT_ENUM, FIELD(prompt), .num_def = CFG_PROMPT_AUTO,
     .choices = prompt_choices},
    {.name = "qr", .kind = OPT_FLAG, FIELD(qr)},
    /* operation */
    {.name = "timeout", .kind = OPT_LONG, FIELD(timeout), .num_def = 300, .min = 10, .max = 3600},
    {.name = "http_timeout", .kind = OPT_LONG, FIELD(http_timeout), .num_def = 10, .min = 1,
     .max = 120},
    {.name = "retries", .kind = OPT_LONG, FIELD(retries), .num_def = 2, .min = 0, .max = 10},
    {.name = "max_pending", .kind = OPT_LONG, FIELD(max_pending), .num_def = 10, .min = 0,
     .max = 1000},
    {.name = "max_pending_per_source", .kind = OPT_LONG, FIELD(max_pending_per_source),
     .num_def = 2, .min = 0, .max = 1000},
    {.name = "max_starts", .kind = OPT_LONG, FIELD(max_starts), .num_def = 60, .min = 0,
     .max = 100000},
    {.name = "max_starts_per_source", .kind = OPT_LONG, FIELD(max_starts_per_source),
     .num_def = 10, .min = 0, .max = 100000},
    {.name = "cache_dir", .kind = OPT_PATH, FIELD(cache_dir), .def = CFG_DEFAULT_CACHE_DIR},
    {.name = "debug", .kind = OPT_FLAG, FIELD(debug)},
};

#undef AWS
#undef OIDC

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* --------------------------------------------------- applying options */

/* Where an option came from, for error messages (file == NULL: the
 * stanza), and the trace to record it in (NULL: nobody asked). */
struct origin {
    const char *file;
    unsigned line;
    struct cfg_trace *trace;
};

_Static_assert(sizeof(options) / sizeof(options[0]) <= CFG_MAX_OPTIONS,
               "struct cfg_trace has room for every option");

static void trace_set(struct cfg_trace *trace, size_t idx, enum cfg_source source, unsigned line)
{
    if (trace && idx < CFG_MAX_OPTIONS) {
        trace->of[idx].source = source;
        trace->of[idx].line = line;
    }
}

static int fail_at(struct sso_error *err, const struct origin *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct sso_error *err, const struct origin *where, const char *fmt, ...)
{
    char detail[CFG_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (where->file)
        return sso_fail(err, PAM_SERVICE_ERR, "%s line %u: %s", where->file, where->line, detail);
    return sso_fail(err, PAM_SERVICE_ERR, "PAM stanza: %s", detail);
}

static const struct opt *find_option(const char *key, size_t keylen)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strncmp(options[i].name, key, keylen) == 0 && options[i].name[keylen] == '\0')
            return &options[i];
    return NULL;
}

/* Store one option's value (NULL: given as a bare word) into c. */
static int set_option(struct cfg *c, const struct opt *o, const char *value,
                      struct sso_error *err, const struct origin *where)
{
    char why[CFG_DETAIL_MAX];
    if (!cfg_store_value(c, o, value, why))
        return fail_at(err, where, "%s", why);
    trace_set(where->trace, (size_t)(o - options), where->file ? CFG_SRC_FILE : CFG_SRC_STANZA,
              where->line);
    return PAM_SUCCESS;
}

/* --------------------------------------------------------- the file */

struct file_parse {
    struct cfg *c;
    struct sso_error *err;
    struct origin where;
    unsigned first_line[N_OPTIONS]; /* where each option was set in the file */
    char line[CFG_LINE_MAX + 1];
    size_t len;
};

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* One `key = value`, bare `flag`, comment or blank line (NUL-terminated). */
static int parse_line(struct file_parse *fp, char *s)
{
    const char *key, *value = NULL;
    size_t keylen;
    char show[64];

    while (is_ws(*s))
        s++;
    if (*s == '\0' || *s == '#')
        return PAM_SUCCESS;

    key = s;
    while (*s && !is_ws(*s) && *s != '=')
        s++;
    keylen = (size_t)(s - key);
    while (is_ws(*s))
        s++;

    if (*s == '=') {
        char *v = s + 1, *end;
        while (is_ws(*v))
            v++;
        if (*v == '"') {
            char *close = strchr(v + 1, '"');
            if (!close)
                return fail_at(fp->err, &fp->where, "unterminated quoted value");
            for (end = close + 1; is_ws(*end); end++)
                ;
            if (*end != '\0' && *end != '#')
                return fail_at(fp->err, &fp->where, "unexpected text after the closing quote");
            *close = '\0';
            value = v + 1;
        } else {
            /* '#' starts a comment at the value's start or after whitespace */
            for (end = v; *end; end++)
                if (*end == '#' && (end == v || is_ws(end[-1])))
                    break;
            while (end > v && is_ws(end[-1]))
                end--;
            *end = '\0';
            value = v;
        }
    } else if (*s != '\0' && *s != '#') {
        return fail_at(fp->err, &fp->where, "expected '=' after %s",
                       cfg_shown_key(show, sizeof(show), key, keylen));
    }

    if (keylen == 0)
        return fail_at(fp->err, &fp->where, "missing option name before '='");
    const struct opt *o = find_option(key, keylen);
    if (!o)
        return fail_at(fp->err, &fp->where, "unknown option %s",
                       cfg_shown_key(show, sizeof(show), key, keylen));
    if (o->flags & OPT_STANZA_ONLY)
        return fail_at(fp->err, &fp->where, "%s can only be given on the PAM stanza", o->name);
    size_t idx = (size_t)(o - options);
    if (fp->first_line[idx])
        return fail_at(fp->err, &fp->where, "%s is already set on line %u", o->name,
                       fp->first_line[idx]);
    fp->first_line[idx] = fp->where.line;
    return set_option(fp->c, o, value, fp->err, &fp->where);
}

/* Feed n bytes of config text; lines are parsed as they complete. */
static int feed(struct file_parse *fp, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            fp->line[fp->len] = '\0';
            int rc = parse_line(fp, fp->line);
            if (rc != PAM_SUCCESS)
                return rc;
            fp->where.line++;
            fp->len = 0;
        } else if (buf[i] == '\0') {
            return fail_at(fp->err, &fp->where, "NUL byte in the file");
        } else if (fp->len == CFG_LINE_MAX) {
            return fail_at(fp->err, &fp->where, "line longer than %d bytes", CFG_LINE_MAX);
        } else {
            fp->line[fp->len++] = buf[i];
        }
    }
    return PAM_SUCCESS;
}

/* The last line, when the text does not end in a newline. */
static int feed_end(struct file_parse *fp)
{
    if (fp->len == 0)
        return PAM_SUCCESS;
    fp->line[fp->len] = '\0';
    fp->len = 0;
    return parse_line(fp, fp->line);
}

static void file_parse_init(struct file_parse *fp, struct cfg *c, const char *name,
                            struct cfg_trace *trace, struct sso_error *err)
{
    memset(fp, 0, sizeof(*fp));
    fp->c = c;
    fp->err = err;
    fp->where.file = name;
    fp->where.line = 1;
    fp->where.trace = trace;
}

static int read_file(struct cfg *c, const char *path, bool explicit_path, struct cfg_trace *trace,
                     struct sso_error *err)
{
    struct file_parse fp;
    struct stat st;
    char buf[4096];
    size_t total = 0;
    int fd = -1;

    /* The file and every directory above it must be root's and closed to
     * writers other than root (trust.h); the checks run on open fds. */
    int rc = trust_open_file(path, "config file", &fd, err);
    if (rc == PAM_NO_MODULE_DATA && !explicit_path)
        return PAM_SUCCESS; /* everything may come from the stanza */
    if (rc == PAM_NO_MODULE_DATA)
        return PAM_SERVICE_ERR; /* conf= names a file that must exist; err says which */
    if (rc != PAM_SUCCESS)
        return rc;
    if (fstat(fd, &st) != 0)
        rc = sso_fail(err, PAM_SERVICE_ERR, "config file %s: cannot stat it", path);
    else if (st.st_size > CFG_FILE_MAX)
        rc = sso_fail(err, PAM_SERVICE_ERR, "config file %s: larger than %d bytes", path,
                      CFG_FILE_MAX);
    if (rc != PAM_SUCCESS) {
        close(fd);
        return rc;
    }

    file_parse_init(&fp, c, path, trace, err);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sso_fail(err, PAM_SERVICE_ERR, "config file %s: read error", path);
            break;
        }
        if (n == 0) {
            rc = feed_end(&fp);
            break;
        }
        total += (size_t)n;
        if (total > CFG_FILE_MAX) { /* grew after fstat */
            rc = sso_fail(err, PAM_SERVICE_ERR, "config file %s: larger than %d bytes", path,
                          CFG_FILE_MAX);
            break;
        }
        rc = feed(&fp, buf, (size_t)n);
        if (rc != PAM_SUCCESS)
            break;
    }
    close(fd);
    return rc;
}

static int parse_text(struct cfg *c, const char *text, struct cfg_trace *trace,
                      struct sso_error *err)
{
    struct file_parse fp;
    size_t n = strnlen(text, (size_t)CFG_FILE_MAX + 1);
    if (n > CFG_FILE_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "%s: larger than %d bytes", CFG_TEXT_NAME,
                        CFG_FILE_MAX);
    file_parse_init(&fp, c, CFG_TEXT_NAME, trace, err);
    int rc = feed(&fp, text, n);
    return rc != PAM_SUCCESS ? rc : feed_end(&fp);
}

/* ------------------------------------------------------- the stanza */

static void split_arg(const char *arg, size_t *keylen, const char **value)
{
    const char *eq = strchr(arg, '=');
    *keylen = eq ? (size_t)(eq - arg) : strlen(arg);
    *value = eq ? eq + 1 : NULL;
}

/* conf=PATH, if given (last one wins); done before the file is read. */
static int scan_conf(struct cfg *c, int argc, const char **argv, bool *explicit_path,
                     struct cfg_trace *trace, struct sso_error *err)
{
    const struct opt *o = find_option("conf", 4);
    struct origin stanza = {NULL, 0, trace};
    *explicit_path = false;
    if (!o)
        return sso_fail(err, PAM_SERVICE_ERR, "internal error: no conf option");
    for (int i = 0; argv && i < argc; i++) {
        size_t keylen;
        const char *value;
        if (!argv[i])
            continue;
        split_arg(argv[i], &keylen, &value);
        if (keylen != 4 || strncmp(argv[i], "conf", 4) != 0)
            continue;
        int rc = set_option(c, o, value, err, &stanza);
        if (rc != PAM_SUCCESS)
            return rc;
        *explicit_path = true;
    }
    return PAM_SUCCESS;
}

static int apply_stanza(struct cfg *c, int argc, const char **argv, struct cfg_trace *trace,
                        struct sso_error *err)
{
    struct origin stanza = {NULL, 0, trace};
    char show[64];
    for (int i = 0; argv && i < argc; i++) {
        size_t keylen;
        const char *value;
        if (!argv[i])
            continue;
        split_arg(argv[i], &keylen, &value);
        if (keylen == 0)
            return fail_at(err, &stanza, "missing option name in '%s'",
                           cfg_shown(show, sizeof(show), argv[i], SIZE_MAX));
        const struct opt *o = find_option(argv[i], keylen);
        if (!o)
            return fail_at(err, &stanza, "unknown option %s",
                           cfg_shown_key(show, sizeof(show), argv[i], keylen));
        if (o->flags & OPT_STANZA_ONLY)
            continue; /* conf: handled by scan_conf */
        int rc = set_option(c, o, value, err, &stanza);
        if (rc != PAM_SUCCESS)
            return rc;
    }
    return PAM_SUCCESS;
}

/* ------------------------------------------------- defaults, policy */

static void set_defaults(struct cfg *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < N_OPTIONS; i++)
        cfg_store_default(c, &options[i]);
}

static void derive_endpoint(char *dst, size_t dstlen, const char *host_prefix, const char *region)
{
    const char *domain = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    snprintf(dst, dstlen, "https://%s.%s.%s", host_prefix, region, domain);
}

static void default_client_name(char *dst, size_t dstlen)
{
    static const char prefix[] = "pam_ssooidc on ";
    char host[256];
    size_t o = 0;

    if (gethostname(host, sizeof(host)) != 0)
        host[0] = '\0';
    host[sizeof(host) - 1] = '\0'; /* not terminated when truncated */
    if (host[0] == '\0') {
        sso_strlcpy(dst, "pam_ssooidc", dstlen);
        return;
    }
    for (const char *p = prefix; *p && o + 1 < dstlen; p++)
        dst[o++] = *p;
    for (const char *p = host; *p && o + 1 < dstlen; p++)
        dst[o++] = (*p >= 0x20 && *p <= 0x7e) ? *p : '?';
    dst[o] = '\0';
}

/* Mark an option as derived from others (for the trace). */
static void derived(struct cfg_trace *trace, const char *name)
{
    const struct opt *o = find_option(name, strlen(name));
    if (o)
        trace_set(trace, (size_t)(o - options), CFG_SRC_DERIVED, 0);
}

/* An option of the other provider, set explicitly, is a mistake worth
 * saying: it would silently do nothing. */
static int check_provider_options(const struct cfg *c, const struct cfg_trace *trace,
                                  struct sso_error *err)
{
    bool openid = cfg_is_openid(c);
    unsigned foreign = openid ? OPT_AWS : OPT_OPENID;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        enum cfg_source src = trace->of[i].source;
        if (!(options[i].flags & foreign) || src == CFG_SRC_DEFAULT || src == CFG_SRC_DERIVED)
            continue;
        if (openid)
            return sso_fail(err, PAM_SERVICE_ERR, "%s is an AWS IAM Identity Center option, "
                            "but issuer selects an OpenID provider: remove it",
                            options[i].name);
        return sso_fail(err, PAM_SERVICE_ERR, "%s is an OpenID provider option, but there is "
                        "no issuer (start_url selects AWS IAM Identity Center): remove it",
                        options[i].name);
    }
    return PAM_SUCCESS;
}

static void derive_aws(struct cfg *c, struct cfg_trace *trace)
{
    if (c->region[0] == '\0')
        sso_strlcpy(c->region, CFG_DEFAULT_REGION, sizeof(c->region));
    if (c->oidc_endpoint[0] == '\0') {
        derive_endpoint(c->oidc_endpoint, sizeof(c->oidc_endpoint), "oidc", c->region);
        derived(trace, "oidc_endpoint");
    }
    if (c->portal_endpoint[0] == '\0') {
        derive_endpoint(c->portal_endpoint, sizeof(c->portal_endpoint), "portal.sso", c->region);
        derived(trace, "portal_endpoint");
    }
    if (c->sts_endpoint[0] == '\0') {
        derive_endpoint(c->sts_endpoint, sizeof(c->sts_endpoint), "sts", c->region);
        derived(trace, "sts_endpoint");
    }
    if (c->client_name[0] == '\0') {
        default_client_name(c->client_name, sizeof(c->client_name));
        derived(trace, "client_name");
    }
}

/* AWS: account_id with role_name (the permission sets), or
 * allow_any_approver. */
static int aws_policy(const struct cfg *c, unsigned flags, bool have_mapping,
                      struct sso_error *err)
{
    bool have_account = c->account_id[0] != '\0', have_role = c->role_name[0] != '\0';
    if (have_account != have_role && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "account_id and role_name must be set together "
                        "(only %s is set)", have_account ? "account_id" : "role_name");
    /* Both at once would silently disable the identity check the admin
     * believes is active (e.g. a flag on one stanza over a shared file). */
    if (c->allow_any_approver && (have_account || have_mapping))
        return sso_fail(err, PAM_SERVICE_ERR, "allow_any_approver contradicts %s: choose one "
                        "policy", have_account ? "account_id/role_name" : "the user mapping");
    if (!have_account && !c->allow_any_approver && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "no identity policy: set account_id and "
                        "role_name, or allow_any_approver (anyone who can approve at start_url "
                        "may then log in)");
    return PAM_SUCCESS;
}

/* OpenID: a client_id, and required_groups (the counterpart of the
 * permission sets) or allow_any_approver. */
static int openid_policy(const struct cfg *c, unsigned flags, bool have_mapping,
                         struct sso_error *err)
{
    bool have_groups = c->required_groups[0] != '\0';
    if (c->client_id[0] == '\0' && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "client_id is required with issuer (the client "
                        "registered for this host at the provider)");
    if (c->client_auth != CFG_AUTH_AUTO && !c->client_secret_file[0])
        return sso_fail(err, PAM_SERVICE_ERR, "client_auth = %s needs client_secret_file (a "
                        "public client sends no secret)",
                        c->client_auth == CFG_AUTH_BASIC ? "basic" : "post");
    if (c->allow_any_approver && (have_groups || have_mapping))
        return sso_fail(err, PAM_SERVICE_ERR, "allow_any_approver contradicts %s: choose one "
                        "policy", have_groups ? "required_groups" : "the user mapping");
    if (!have_groups && !c->allow_any_approver && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "no identity policy: set required_groups (the "
                        "groups in the ID token's %s claim that may log in), or "
                        "allow_any_approver (anyone the provider signs in may then log in)",
                        c->groups_claim);
    return PAM_SUCCESS;
}

static int finish(struct cfg *c, unsigned flags, struct cfg_trace *trace, struct sso_error *err)
{
    bool openid = cfg_is_openid(c);
    if (openid && c->start_url[0])
        return sso_fail(err, PAM_SERVICE_ERR, "start_url and issuer are both set: start_url "
                        "selects AWS IAM Identity Center, issuer an OpenID provider; keep one");
    if (!openid && c->start_url[0] == '\0' && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "start_url is required for AWS IAM Identity "
                        "Center, or issuer for an OpenID provider (set it in %s or on the PAM "
                        "stanza)",
                        c->conf_path);
    /* A fragment without either says nothing about the provider yet. */
    if (openid || c->start_url[0]) {
        int rc = check_provider_options(c, trace, err);
        if (rc != PAM_SUCCESS)
            return rc;
    }
    if (!openid)
        derive_aws(c, trace);

    /* A build without libqrencode cannot honour qr: say so rather than
     * quietly show no code (the value that counts is the final one, so a
     * stanza's qr=no may override a file's qr = yes). */
    if (c->qr && !qr_available())
        return sso_fail(err, PAM_SERVICE_ERR, "qr is set, but this pam_ssooidc was built "
                        "without QR code support (libqrencode): set qr = no or remove it");
    bool have_mapping = c->username_suffix[0] != '\0' || c->user_map[0] != '\0';
    return openid ? openid_policy(c, flags, have_mapping, err)
                  : aws_policy(c, flags, have_mapping, err);
}

/* ------------------------------------------------------------ entry */

/* text != NULL: parse it instead of the file (no ownership checks).
 * use_file: read the file named by conf= (or the default). */
static int load(struct cfg *c, bool use_file, const char *text, int argc, const char **argv,
                unsigned flags, struct cfg_trace *trace, struct sso_error *err)
{
    bool explicit_path;
    int rc;
    struct cfg_trace own_trace; /* which options were set, when nobody asked */

    if (err)
        err->msg[0] = '\0';
    if (!c)
        return sso_fail(err, PAM_SERVICE_ERR, "internal error: no configuration to fill");
    set_defaults(c);
    if (!trace)
        trace = &own_trace;
    memset(trace, 0, sizeof(*trace)); /* CFG_SRC_DEFAULT everywhere */
    rc = scan_conf(c, argc, argv, &explicit_path, trace, err);
    if (rc == PAM_SUCCESS && use_file)
        rc = read_file(c, c->conf_path, explicit_path, trace, err);
    if (rc == PAM_SUCCESS && text)
        rc = parse_text(c, text, trace, err);
    if (rc == PAM_SUCCESS)
        rc = apply_stanza(c, argc, argv, trace, err);
    if (rc == PAM_SUCCESS)
        rc = finish(c, flags, trace, err);
    if (rc != PAM_SUCCESS)
        memset(c, 0, sizeof(*c)); /* no half-applied policy for a careless caller */
    return rc;
}

int cfg_load(struct cfg *c, int argc, const char **argv, struct sso_error *err)
{
    return load(c, true, NULL, argc, argv, 0, NULL, err);
}

int cfg_load_text(struct cfg *c, const char *text, int argc, const char **argv,
                  struct sso_error *err)
{
    return load(c, false, text, argc, argv, 0, NULL, err);
}

enum cfg_prompt cfg_prompt_for_service(const struct cfg *c, const char *service)
{
    if (c && c->prompt != CFG_PROMPT_AUTO)
        return c->prompt;
    return (service && strcmp(service, "sshd") == 0) ? CFG_PROMPT_ALWAYS : CFG_PROMPT_NEVER;
}

int cfg_load_traced(struct cfg *c, int argc, const char **argv, unsigned flags,
                    struct cfg_trace *trace, struct sso_error *err)
{
    return load(c, true, NULL, argc, argv, flags, trace, err);
}

size_t cfg_option_count(void)
{
    return N_OPTIONS;
}

const char *cfg_option_name(size_t i)
{
    return i < N_OPTIONS ? options[i].name : NULL;
}

void cfg_option_text(const struct cfg *c, size_t i, char *buf, size_t len)
{
    buf[0] = '\0';
    if (i < N_OPTIONS)
        cfg_format_value(c, &options[i], buf, len);
}

bool cfg_option_applies(const struct cfg *c, size_t i)
{
    if (i >= N_OPTIONS)
        return false;
    unsigned foreign = cfg_is_openid(c) ? OPT_AWS : OPT_OPENID;
    return !(options[i].flags & foreign);
}
