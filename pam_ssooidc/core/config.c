/* config.c - see config.h.
 *
 * Every option is one row of a table: its name, its kind (string, url,
 * path, number with range, flag, enum), where it lives in the struct its
 * table fills, how big that field is and its default. The shared options'
 * rows are `options` below; each provider hands in its own (struct
 * cfg_part). One parser, driven by the tables, serves both the config file
 * and the PAM stanza; how a value of each kind is parsed and checked is in
 * config_values.c. Checks that involve more than one option run after both
 * sources have been applied: the shared ones in cfg_finish, a provider's
 * (its identity policy, its derived defaults) in that provider.
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

/* ---------------------------------------------------------------- table */

#define FIELD(f) FIELD_OF(struct cfg, f)

static const struct opt_choice prompt_choices[] = {
    {"auto", CFG_PROMPT_AUTO},
    {"always", CFG_PROMPT_ALWAYS},
    {"never", CFG_PROMPT_NEVER},
    {NULL, 0},
};

_Static_assert(sizeof(enum cfg_prompt) == sizeof(int), "enum options are stored as int");

static const struct opt_choice provision_choices[] = {
    {"off", CFG_PROVISION_OFF},
    {"login", CFG_PROVISION_LOGIN},
    {"sync", CFG_PROVISION_SYNC},
    {NULL, 0},
};

_Static_assert(sizeof(enum cfg_provision) == sizeof(int), "enum options are stored as int");

static const struct opt options[] = {
    {.name = "conf", .kind = OPT_PATH, FIELD(conf_path), .def = CFG_DEFAULT_FILE,
     .flags = OPT_STANZA_ONLY | OPT_NONEMPTY},
    /* both: transport */
    {.name = "ca_file", .kind = OPT_PATH, FIELD(ca_file)},
    {.name = "proxy", .kind = OPT_URL, FIELD(proxy), .flags = OPT_BASE_URL | OPT_PROXY_URL},
    /* both: who may log in as whom */
    {.name = "allow_any_approver", .kind = OPT_FLAG, FIELD(allow_any_approver)},
    {.name = "fold_case", .kind = OPT_FLAG, FIELD(fold_case)},
    {.name = "username_suffix", .kind = OPT_STRING, FIELD(username_suffix),
     .check = cfg_check_username_suffix},
    {.name = "user_map", .kind = OPT_PATH, FIELD(user_map)},
    /* accounts on demand */
    {.name = "provision", .kind = OPT_ENUM, FIELD(provision), .num_def = CFG_PROVISION_OFF,
     .choices = provision_choices},
    {.name = "uid_range", .kind = OPT_STRING, FIELD(uid_range), .def = CFG_DEFAULT_UID_RANGE,
     .flags = OPT_NONEMPTY, .check = cfg_check_uid_range},
    {.name = "provision_home", .kind = OPT_PATH, FIELD(provision_home), .def = "/home",
     .flags = OPT_NONEMPTY},
    {.name = "provision_shell", .kind = OPT_PATH, FIELD(provision_shell), .def = "/bin/bash",
     .flags = OPT_NONEMPTY},
    {.name = "provision_expire_days", .kind = OPT_LONG, FIELD(provision_expire_days),
     .num_def = 0, .min = 0, .max = 36500},
    {.name = "group_map", .kind = OPT_PATH, FIELD(group_map)},
    {.name = "sync_max_removals", .kind = OPT_STRING, FIELD(sync_max_removals),
     .def = CFG_DEFAULT_SYNC_MAX_REMOVALS, .flags = OPT_NONEMPTY,
     .check = cfg_check_sync_max_removals},
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

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* What one load fills: the shared options into c, each part's into its
 * struct. Options are numbered conf (options[0]) first, then each part's
 * rows, then the rest of options[]: so pam_ssooidc_check lists them in the
 * order of the documentation. */
struct schema {
    struct cfg *c;
    const struct cfg_part *parts;
    size_t n_parts;
};

struct row {
    const struct opt *o;
    void *base;
    int part; /* -1: shared */
};

static size_t schema_count(const struct schema *sc)
{
    size_t n = N_OPTIONS;
    for (size_t p = 0; p < sc->n_parts; p++)
        n += sc->parts[p].n;
    return n;
}

static bool row_at(const struct schema *sc, size_t i, struct row *r)
{
    if (i == 0) {
        *r = (struct row){&options[0], sc->c, -1};
        return true;
    }
    i--;
    for (size_t p = 0; p < sc->n_parts; p++) {
        if (i < sc->parts[p].n) {
            *r = (struct row){&sc->parts[p].rows[i], sc->parts[p].base, (int)p};
            return true;
        }
        i -= sc->parts[p].n;
    }
    if (i + 1 < N_OPTIONS) {
        *r = (struct row){&options[i + 1], sc->c, -1};
        return true;
    }
    return false;
}

/* --------------------------------------------------- applying options */

/* Where an option came from, for error messages (file == NULL: the
 * stanza), and the trace to record it in (NULL: nobody asked). */
struct origin {
    const char *file;
    unsigned line;
    struct cfg_trace *trace;
    const char *option; /* the option's name as shown, NULL: none */
};

void cfg_problem_add(struct cfg_trace *trace, const char *file, unsigned line,
                     const char *option, const char *msg)
{
    if (!trace || !trace->problems)
        return;
    struct cfg_problems *ps = trace->problems;
    if (ps->count == CFG_PROBLEMS_MAX) {
        ps->dropped++;
        return;
    }
    struct cfg_problem *p = &ps->of[ps->count++];
    snprintf(p->file, sizeof(p->file), "%s", file ? file : "");
    p->line = line;
    snprintf(p->option, sizeof(p->option), "%s", option ? option : "");
    snprintf(p->msg, sizeof(p->msg), "%s", msg);
}

static bool collecting(const struct origin *where)
{
    return where->trace && where->trace->problems;
}


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
    int rc;
    if (where->file)
        rc = sso_fail(err, PAM_SERVICE_ERR, "%s line %u: %s", where->file, where->line, detail);
    else
        rc = sso_fail(err, PAM_SERVICE_ERR, "PAM stanza: %s", detail);
    cfg_problem_add(where->trace, where->file, where->file ? where->line : 0, where->option,
                    err ? err->msg : detail);
    return rc;
}

/* Optimal string alignment distance (a swap of two neighbours is one
 * edit), for names of at most CFG_NAME_MAX - 1 bytes; larger is "far". */
static size_t name_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    unsigned char d[CFG_NAME_MAX][CFG_NAME_MAX]; /* small: this runs inside a login */
    if (la >= CFG_NAME_MAX || lb >= CFG_NAME_MAX)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            unsigned best = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0u : 1u);
            if (d[i - 1][j] + 1u < best)
                best = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < best)
                best = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < best)
                best = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)best; /* at most la + lb < 96 */
        }
    return d[la][lb];
}

/* " (did you mean NAME?)" for the known option nearest to an unknown
 * key, of every provider (an AWS name typed beside an issuer is still a
 * near miss worth naming); "" when none is near: one edit for a short
 * name, two from six letters on. */
static const char *near_miss(const struct schema *sc, const char *key, size_t keylen, char *buf,
                             size_t len)
{
    struct row r;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; row_at(sc, i, &r); i++) {
        size_t dist = name_distance(key, keylen, r.o->name);
        if (dist < best_d) {
            best_d = dist;
            best = r.o->name;
        }
    }
    buf[0] = '\0';
    if (best && best_d > 0 && best_d <= (keylen >= 6 ? 2u : 1u))
        snprintf(buf, len, " (did you mean %s?)", best);
    return buf;
}

/* The key as the option member of a problem: only a name that is shown. */
static const char *key_name(char *buf, size_t len, const char *key, size_t keylen)
{
    char show[64];
    const char *shown = cfg_shown_key(show, sizeof(show), key, keylen);
    if (shown != show)
        return NULL;
    snprintf(buf, len, "%.*s", (int)keylen, key);
    return buf;
}

/* The index of the option named key[0..keylen), or SIZE_MAX. */
static size_t find_option(const struct schema *sc, const char *key, size_t keylen,
                          struct row *r)
{
    for (size_t i = 0; row_at(sc, i, r); i++)
        if (strncmp(r->o->name, key, keylen) == 0 && r->o->name[keylen] == '\0')
            return i;
    return SIZE_MAX;
}

/* Store one option's value (NULL: given as a bare word). */
static int set_option(size_t idx, const struct row *r, const char *value,
                      struct sso_error *err, const struct origin *where)
{
    char why[CFG_DETAIL_MAX];
    if (!cfg_store_value(r->base, r->o, value, why))
        return fail_at(err, where, "%s", why);
    trace_set(where->trace, idx, where->file ? CFG_SRC_FILE : CFG_SRC_STANZA, where->line);
    return PAM_SUCCESS;
}

/* --------------------------------------------------------- the file */

struct file_parse {
    const struct schema *sc;
    struct sso_error *err;
    struct origin where;
    unsigned first_line[CFG_MAX_OPTIONS]; /* where each option was set in the file */
    bool failed; /* collecting: a line had an error (listed) */
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
    char name[CFG_NAME_MAX];
    fp->where.option = key_name(name, sizeof(name), key, keylen);

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
    struct row r;
    size_t idx = find_option(fp->sc, key, keylen, &r);
    char hint[CFG_NAME_MAX + 24];
    if (idx == SIZE_MAX)
        return fail_at(fp->err, &fp->where, "unknown option %s%s",
                       cfg_shown_key(show, sizeof(show), key, keylen),
                       near_miss(fp->sc, key, keylen, hint, sizeof(hint)));
    if (r.o->flags & OPT_STANZA_ONLY)
        return fail_at(fp->err, &fp->where, "%s can only be given on the PAM stanza",
                       r.o->name);
    if (fp->first_line[idx])
        return fail_at(fp->err, &fp->where, "%s is already set on line %u", r.o->name,
                       fp->first_line[idx]);
    fp->first_line[idx] = fp->where.line;
    return set_option(idx, &r, value, fp->err, &fp->where);
}

/* One line; when collecting, an error is listed and the next line read. */
static int parse_one(struct file_parse *fp)
{
    fp->line[fp->len] = '\0';
    int rc = parse_line(fp, fp->line);
    fp->where.option = NULL;
    if (rc != PAM_SUCCESS && collecting(&fp->where)) {
        fp->failed = true;
        return PAM_SUCCESS;
    }
    return rc;
}

/* Feed n bytes of config text; lines are parsed as they complete. */
static int feed(struct file_parse *fp, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            int rc = parse_one(fp);
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
    int rc = parse_one(fp);
    fp->len = 0;
    return rc != PAM_SUCCESS || !fp->failed ? rc : PAM_SERVICE_ERR;
}

static void file_parse_init(struct file_parse *fp, const struct schema *sc, const char *name,
                            struct cfg_trace *trace, struct sso_error *err)
{
    memset(fp, 0, sizeof(*fp));
    fp->sc = sc;
    fp->err = err;
    fp->where.file = name;
    fp->where.line = 1;
    fp->where.trace = trace;
}

static int read_file(const struct schema *sc, const char *path, bool explicit_path,
                     struct cfg_trace *trace, struct sso_error *err)
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

    file_parse_init(&fp, sc, path, trace, err);
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
    return rc == PAM_SUCCESS && fp.failed ? PAM_SERVICE_ERR : rc;
}

static int parse_text(const struct schema *sc, const char *text, struct cfg_trace *trace,
                      struct sso_error *err)
{
    struct file_parse fp;
    size_t n = strnlen(text, (size_t)CFG_FILE_MAX + 1);
    if (n > CFG_FILE_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "%s: larger than %d bytes", CFG_TEXT_NAME,
                        CFG_FILE_MAX);
    file_parse_init(&fp, sc, CFG_TEXT_NAME, trace, err);
    int rc = feed(&fp, text, n);
    rc = rc != PAM_SUCCESS ? rc : feed_end(&fp);
    return rc == PAM_SUCCESS && fp.failed ? PAM_SERVICE_ERR : rc;
}

/* ------------------------------------------------------- the stanza */

static void split_arg(const char *arg, size_t *keylen, const char **value)
{
    const char *eq = strchr(arg, '=');
    *keylen = eq ? (size_t)(eq - arg) : strlen(arg);
    *value = eq ? eq + 1 : NULL;
}

/* conf=PATH, if given (last one wins); done before the file is read. */
static int scan_conf(const struct schema *sc, int argc, const char **argv, bool *explicit_path,
                     struct cfg_trace *trace, struct sso_error *err)
{
    struct row r;
    size_t idx = find_option(sc, "conf", 4, &r);
    struct origin stanza = {NULL, 0, trace, NULL};
    *explicit_path = false;
    if (idx == SIZE_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "internal error: no conf option");
    for (int i = 0; argv && i < argc; i++) {
        size_t keylen;
        const char *value;
        if (!argv[i])
            continue;
        split_arg(argv[i], &keylen, &value);
        if (keylen != 4 || strncmp(argv[i], "conf", 4) != 0)
            continue;
        stanza.option = "conf";
        int rc = set_option(idx, &r, value, err, &stanza);
        if (rc != PAM_SUCCESS)
            return rc;
        *explicit_path = true;
    }
    return PAM_SUCCESS;
}

/* Every stanza option but conf; when collecting, each error is listed
 * and the next option applied. */
static int apply_stanza(const struct schema *sc, int argc, const char **argv,
                        struct cfg_trace *trace, struct sso_error *err)
{
    struct origin stanza = {NULL, 0, trace, NULL};
    char show[64], name[CFG_NAME_MAX], hint[CFG_NAME_MAX + 24];
    int result = PAM_SUCCESS;
    for (int i = 0; argv && i < argc; i++) {
        size_t keylen;
        const char *value;
        int rc = PAM_SUCCESS;
        if (!argv[i])
            continue;
        split_arg(argv[i], &keylen, &value);
        stanza.option = key_name(name, sizeof(name), argv[i], keylen);
        struct row r;
        size_t idx = keylen ? find_option(sc, argv[i], keylen, &r) : SIZE_MAX;
        if (keylen == 0)
            rc = fail_at(err, &stanza, "missing option name in '%s'",
                         cfg_shown(show, sizeof(show), argv[i], SIZE_MAX));
        else if (idx == SIZE_MAX)
            rc = fail_at(err, &stanza, "unknown option %s%s",
                         cfg_shown_key(show, sizeof(show), argv[i], keylen),
                         near_miss(sc, argv[i], keylen, hint, sizeof(hint)));
        else if (!(r.o->flags & OPT_STANZA_ONLY)) /* conf: handled by scan_conf */
            rc = set_option(idx, &r, value, err, &stanza);
        if (rc != PAM_SUCCESS && !collecting(&stanza))
            return rc;
        if (rc != PAM_SUCCESS)
            result = rc;
    }
    return result;
}

/* ------------------------------------------------------- defaults */

static void set_defaults(const struct schema *sc)
{
    struct row r;
    memset(sc->c, 0, sizeof(*sc->c)); /* the parts are their owner's to zero */
    for (size_t i = 0; row_at(sc, i, &r); i++)
        cfg_store_default(r.base, r.o);
}

int cfg_finish(const struct cfg *c, struct sso_error *err)
{
    /* A build without libqrencode cannot honour qr: say so rather than
     * quietly show no code (the value that counts is the final one, so a
     * stanza's qr=no may override a file's qr = yes). */
    if (c->qr && !qr_available())
        return sso_fail(err, PAM_SERVICE_ERR, "qr is set, but this pam_ssooidc was built "
                        "without QR code support (libqrencode): set qr = no or remove it");
    /* Provisioning needs a proven person to key the account on: the
     * approval alone (allow_any_approver) names nobody. */
    if (c->provision != CFG_PROVISION_OFF && c->allow_any_approver)
        return sso_fail(err, PAM_SERVICE_ERR, "provision = %s needs to know who approved: it "
                        "cannot be combined with allow_any_approver",
                        c->provision == CFG_PROVISION_SYNC ? "sync" : "login");
    if (c->group_map[0] && c->provision != CFG_PROVISION_LOGIN)
        return sso_fail(err, PAM_SERVICE_ERR, "group_map gives groups to the accounts a login "
                        "makes: set provision = login, or remove group_map%s",
                        c->provision == CFG_PROVISION_SYNC
                            ? " (with provision = sync, sync_groups names the local groups)"
                            : "");
    /* Under sync the directory decides who is served: an account lasts as
     * long as its person is an enabled member, logging in or not. */
    if (c->provision == CFG_PROVISION_SYNC && c->provision_expire_days != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "provision_expire_days is for provision = login: "
                        "with provision = sync an account lasts while its person is a member "
                        "of sync_groups");
    return PAM_SUCCESS;
}

unsigned long cfg_sync_max_removals(const struct cfg *c, unsigned long served)
{
    unsigned long n = 0;
    size_t len = strlen(c->sync_max_removals);
    if (len > 0 && c->sync_max_removals[len - 1] == '%') {
        if (sscanf(c->sync_max_removals, "%lu", &n) != 1) /* checked when stored */
            return 0;
        return (served * n + 99) / 100;
    }
    return sscanf(c->sync_max_removals, "%lu", &n) == 1 ? n : 0;
}

void cfg_uid_range(const struct cfg *c, unsigned long *min, unsigned long *max)
{
    *min = *max = 0;
    if (sscanf(c->uid_range, "%lu-%lu", min, max) != 2) /* checked when stored */
        *min = *max = 0;
}

/* ------------------------------------------------------------ entry */

int cfg_parse(struct cfg *c, const struct cfg_part *parts, size_t n_parts, bool use_file,
              const char *text, int argc, const char **argv, struct cfg_trace *trace,
              struct sso_error *err)
{
    bool explicit_path;
    int rc;
    struct cfg_trace own_trace; /* which options were set, when nobody asked */
    const struct schema sc = {c, parts, n_parts};

    if (err)
        err->msg[0] = '\0';
    if (!c)
        return sso_fail(err, PAM_SERVICE_ERR, "internal error: no configuration to fill");
    if (schema_count(&sc) > CFG_MAX_OPTIONS)
        return sso_fail(err, PAM_SERVICE_ERR, "internal error: more than %d options",
                        CFG_MAX_OPTIONS);
    set_defaults(&sc);
    if (!trace)
        trace = &own_trace;
    struct cfg_problems *problems = trace == &own_trace ? NULL : trace->problems;
    memset(trace, 0, sizeof(*trace)); /* CFG_SRC_DEFAULT everywhere */
    trace->problems = problems;
    rc = scan_conf(&sc, argc, argv, &explicit_path, trace, err);
    if (rc != PAM_SUCCESS && !problems)
        return rc;
    /* Collecting (the check tool): every stage runs, so that one run
     * names every error; the ones a stage did not list itself (the file
     * cannot be opened, is too large) are listed here. */
    size_t before = problems ? problems->count + problems->dropped : 0;
    int stage = PAM_SUCCESS;
    if (use_file)
        stage = read_file(&sc, c->conf_path, explicit_path, trace, err);
    if (stage == PAM_SUCCESS && text)
        stage = parse_text(&sc, text, trace, err);
    if (stage != PAM_SUCCESS && problems && problems->count + problems->dropped == before)
        cfg_problem_add(trace, text ? CFG_TEXT_NAME : c->conf_path, 0, NULL,
                        err ? err->msg : "cannot be read");
    if (stage != PAM_SUCCESS && !problems)
        return stage;
    if (stage != PAM_SUCCESS)
        rc = stage;
    stage = apply_stanza(&sc, argc, argv, trace, err);
    return rc != PAM_SUCCESS ? rc : stage;
}

enum cfg_prompt cfg_prompt_for_service(const struct cfg *c, const char *service)
{
    if (c && c->prompt != CFG_PROMPT_AUTO)
        return c->prompt;
    return (service && strcmp(service, "sshd") == 0) ? CFG_PROMPT_ALWAYS : CFG_PROMPT_NEVER;
}

/* A schema for reading only (c is never written through it). */
static struct schema reading(const struct cfg *c, const struct cfg_part *parts, size_t n_parts)
{
    return (struct schema){(struct cfg *)(uintptr_t)c, parts, n_parts};
}

size_t cfg_option_count(const struct cfg_part *parts, size_t n_parts)
{
    const struct schema sc = reading(NULL, parts, n_parts);
    return schema_count(&sc);
}

const char *cfg_option_name(const struct cfg_part *parts, size_t n_parts, size_t i)
{
    const struct schema sc = reading(NULL, parts, n_parts);
    struct row r;
    return row_at(&sc, i, &r) ? r.o->name : NULL;
}

void cfg_option_text(const struct cfg *c, const struct cfg_part *parts, size_t n_parts,
                     size_t i, char *buf, size_t len)
{
    const struct schema sc = reading(c, parts, n_parts);
    struct row r;
    buf[0] = '\0';
    if (row_at(&sc, i, &r))
        cfg_format_value(r.base, r.o, buf, len);
}

int cfg_option_part(const struct cfg_part *parts, size_t n_parts, size_t i)
{
    const struct schema sc = reading(NULL, parts, n_parts);
    struct row r;
    return row_at(&sc, i, &r) ? r.part : -1;
}

void cfg_trace_derived(const struct cfg_part *parts, size_t n_parts, size_t part,
                       const void *before, struct cfg_trace *trace)
{
    const struct schema sc = reading(NULL, parts, n_parts);
    struct row r;
    for (size_t i = 0; trace && row_at(&sc, i, &r); i++) {
        /* Whatever the provider filled in is derived, also where an empty
         * value (from the file or the stanza) asked for the default. */
        if (r.part != (int)part || i >= CFG_MAX_OPTIONS)
            continue;
        const char *now = (const char *)r.base + r.o->offset;
        if (memcmp(now, (const char *)before + r.o->offset, r.o->size) != 0)
            trace_set(trace, i, CFG_SRC_DERIVED, 0);
    }
}
