/* config.c - see config.h.
 *
 * Every option is one row of the table `options` below: its name, its kind
 * (string, url, path, number with range, flag, enum), where it lives in
 * struct cfg, how big that field is and its default. One parser, driven by
 * the table, serves both the config file and the PAM stanza; checks that
 * involve more than one option (endpoints derived from the region, the
 * identity policy) run once, after both sources have been applied.
 *
 * Nothing here allocates, touches the network or keeps state between calls. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define CFG_FILE_MAX (64 * 1024) /* bytes; a larger config file is refused */
#define CFG_LINE_MAX 1024        /* bytes per line, newline excluded */
#define CFG_TEXT_NAME "(config text)"
#define CFG_DEFAULT_REGION "us-east-1"

/* ---------------------------------------------------------------- table */

enum opt_kind {
    OPT_STRING, /* text, checked by opt->check */
    OPT_URL,    /* https:// URL */
    OPT_PATH,   /* absolute path */
    OPT_LONG,   /* whole number within [min, max] */
    OPT_FLAG,   /* bare word, or yes/no, true/false, on/off, 1/0 */
    OPT_ENUM,   /* one of opt->choices */
};

#define OPT_STANZA_ONLY 0x1u /* refused inside the config file */
#define OPT_NONEMPTY 0x2u    /* an empty value is an error, not "default" */
#define OPT_BASE_URL 0x4u    /* endpoint: no query or fragment, one trailing '/' dropped */

struct opt_choice {
    const char *name;
    int value;
};

struct opt {
    const char *name;
    enum opt_kind kind;
    size_t offset; /* into struct cfg */
    size_t size;   /* of that field */
    unsigned flags;
    const char *def;  /* string kinds: default (NULL: empty or derived later) */
    long num_def;     /* OPT_LONG, OPT_FLAG, OPT_ENUM: default */
    long min, max;    /* OPT_LONG: accepted range */
    const struct opt_choice *choices;    /* OPT_ENUM: ends with {NULL, 0} */
    const char *(*check)(const char *v); /* OPT_STRING: NULL if fine, else the rule broken */
};

#define FIELD(f) .offset = offsetof(struct cfg, f), .size = sizeof(((struct cfg *)0)->f)

static const char *check_region(const char *v);
static const char *check_client_name(const char *v);
static const char *check_account_id(const char *v);
static const char *check_role_name(const char *v);
static const char *check_username_suffix(const char *v);

static const struct opt_choice prompt_choices[] = {
    {"auto", CFG_PROMPT_AUTO},
    {"always", CFG_PROMPT_ALWAYS},
    {"never", CFG_PROMPT_NEVER},
    {NULL, 0},
};

_Static_assert(sizeof(enum cfg_prompt) == sizeof(int), "enum options are stored as int");

static const struct opt options[] = {
    {.name = "conf", .kind = OPT_PATH, FIELD(conf_path), .def = CFG_DEFAULT_FILE,
     .flags = OPT_STANZA_ONLY | OPT_NONEMPTY},
    /* service endpoints */
    {.name = "start_url", .kind = OPT_URL, FIELD(start_url)},
    {.name = "region", .kind = OPT_STRING, FIELD(region), .def = CFG_DEFAULT_REGION,
     .check = check_region},
    {.name = "oidc_endpoint", .kind = OPT_URL, FIELD(oidc_endpoint), .flags = OPT_BASE_URL},
    {.name = "portal_endpoint", .kind = OPT_URL, FIELD(portal_endpoint), .flags = OPT_BASE_URL},
    {.name = "sts_endpoint", .kind = OPT_URL, FIELD(sts_endpoint), .flags = OPT_BASE_URL},
    {.name = "ca_file", .kind = OPT_PATH, FIELD(ca_file)},
    /* identity policy */
    {.name = "account_id", .kind = OPT_STRING, FIELD(account_id), .check = check_account_id},
    {.name = "role_name", .kind = OPT_STRING, FIELD(role_name), .check = check_role_name},
    {.name = "allow_any_approver", .kind = OPT_FLAG, FIELD(allow_any_approver)},
    {.name = "username_suffix", .kind = OPT_STRING, FIELD(username_suffix),
     .check = check_username_suffix},
    {.name = "user_map", .kind = OPT_PATH, FIELD(user_map)},
    /* user experience */
    {.name = "prompt", .kind = OPT_ENUM, FIELD(prompt), .num_def = CFG_PROMPT_AUTO,
     .choices = prompt_choices},
    {.name = "qr", .kind = OPT_FLAG, FIELD(qr)},
    {.name = "client_name", .kind = OPT_STRING, FIELD(client_name), .check = check_client_name},
    /* operation */
    {.name = "timeout", .kind = OPT_LONG, FIELD(timeout), .num_def = 300, .min = 10, .max = 3600},
    {.name = "http_timeout", .kind = OPT_LONG, FIELD(http_timeout), .num_def = 10, .min = 1,
     .max = 120},
    {.name = "cache_dir", .kind = OPT_PATH, FIELD(cache_dir), .def = CFG_DEFAULT_CACHE_DIR},
    {.name = "debug", .kind = OPT_FLAG, FIELD(debug)},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* ------------------------------------------------------- value checks */

static bool is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }
static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static bool is_alnum(char ch)
{
    return is_lower(ch) || is_digit(ch) || (ch >= 'A' && ch <= 'Z');
}

/* us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1: at least three
 * '-'-separated parts, lowercase letters except the last, which is digits. */
static const char *check_region(const char *v)
{
    static const char rule[] = "must look like us-east-1 (lowercase letters, hyphens, a number)";
    size_t parts = 0;
    const char *p = v;
    for (;;) {
        const char *start = p;
        bool last;
        while (is_lower(*p) || is_digit(*p))
            p++;
        if (p == start || (*p != '-' && *p != '\0'))
            return rule;
        last = (*p == '\0');
        for (const char *q = start; q < p; q++)
            if (last ? !is_digit(*q) : !is_lower(*q))
                return rule;
        parts++;
        if (last)
            break;
        p++; /* the hyphen */
    }
    return parts >= 3 ? NULL : rule;
}

static const char *check_client_name(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return "must be printable ASCII";
    return NULL;
}

static const char *check_account_id(const char *v)
{
    size_t n = 0;
    for (; v[n]; n++)
        if (!is_digit(v[n]))
            break;
    return (n == 12 && v[n] == '\0') ? NULL : "must be exactly 12 digits";
}

static const char *check_role_name(const char *v)
{
    size_t n = strlen(v);
    if (n > 64)
        return "must be at most 64 characters";
    for (const char *p = v; *p; p++)
        if (!is_alnum(*p) && !strchr("+=,.@_-", *p))
            return "may contain only letters, digits and + = , . @ _ -";
    return NULL;
}

static const char *check_username_suffix(const char *v)
{
    if (v[0] != '@' || v[1] == '\0')
        return "must be '@' followed by a domain, e.g. @example.com";
    for (const char *p = v + 1; *p; p++)
        if (!is_alnum(*p) && !strchr(".-_", *p))
            return "may contain only '@' then letters, digits, '.', '-' and '_'";
    return NULL;
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

static bool has_control(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* Checks an https:// URL; NULL if fine, else the rule broken. */
static const char *check_url(const char *v, bool base)
{
    static const char https[] = "https://";
    if (strncasecmp(v, "http://", 7) == 0)
        return "must be an https:// URL (plain http:// is refused)";
    if (strncasecmp(v, https, sizeof(https) - 1) != 0)
        return "must be an https:// URL";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
            return "must not contain spaces, control or non-ASCII characters";
    const char *host = v + sizeof(https) - 1, *p = host;
    for (; *p && *p != '/' && *p != '?' && *p != '#'; p++)
        if (!is_alnum(*p) && !strchr(".-_:[]", *p))
            return "has an invalid host name";
    if (p == host)
        return "has no host name";
    if (base && strpbrk(p, "?#"))
        return "must not have a query or fragment (paths are appended to it)";
    return NULL;
}

/* A value made safe and short enough to quote in a log message. */
static const char *shown(char *buf, size_t buflen, const char *s, size_t len)
{
    size_t max = buflen - 4, o = 0;
    for (size_t i = 0; i < len && s[i]; i++) {
        if (o == max) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char ch = (unsigned char)s[i];
        buf[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    buf[o] = '\0';
    return buf;
}

/* An unknown key, quoted only if it looks like an option name: a conf= that
 * points at the wrong file (say /etc/shadow) must not copy its first line
 * into the log. */
static const char *shown_key(char *buf, size_t buflen, const char *key, size_t keylen)
{
    static const char hidden[] = "(text that is not an option name)";
    if (keylen > 40 || keylen + 3 > buflen)
        return hidden;
    for (size_t i = 0; i < keylen; i++)
        if (!is_alnum(key[i]) && key[i] != '_' && key[i] != '-')
            return hidden;
    snprintf(buf, buflen, "'%.*s'", (int)keylen, key);
    return buf;
}

/* --------------------------------------------------- applying options */

/* Where an option came from, for error messages. file == NULL: the stanza. */
struct origin {
    const char *file;
    unsigned line;
};

static int fail_at(struct sso_error *err, const struct origin *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct sso_error *err, const struct origin *where, const char *fmt, ...)
{
    char detail[320];
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

static int parse_flag(const char *v)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* Store one option's value (NULL: given as a bare word) into c. */
static int set_option(struct cfg *c, const struct opt *o, const char *value,
                      struct sso_error *err, const struct origin *where)
{
    char *field = (char *)c + o->offset;
    char show[64];

    if (o->kind == OPT_FLAG) {
        int b = value ? parse_flag(value) : 1;
        if (b < 0)
            return fail_at(err, where, "%s: '%s' is not a flag value (use yes/no, true/false, "
                           "on/off or 1/0)", o->name, shown(show, sizeof(show), value, SIZE_MAX));
        *(bool *)field = (b == 1);
        return PAM_SUCCESS;
    }
    if (!value)
        return fail_at(err, where, "%s needs a value (%s=...)", o->name, o->name);
    if (has_control(value))
        return fail_at(err, where, "%s: the value contains a control character", o->name);

    switch (o->kind) {
    case OPT_LONG: {
        char *end;
        long n;
        const char *p = value;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return fail_at(err, where, "%s: '%s' is not a whole number", o->name,
                           shown(show, sizeof(show), value, SIZE_MAX));
        errno = 0;
        n = strtol(value, &end, 10);
        if (*end != '\0')
            return fail_at(err, where, "%s: '%s' is not a whole number", o->name,
                           shown(show, sizeof(show), value, SIZE_MAX));
        if (errno == ERANGE || n < o->min || n > o->max)
            return fail_at(err, where, "%s: %s is out of range (%ld..%ld)", o->name,
                           shown(show, sizeof(show), value, SIZE_MAX), o->min, o->max);
        *(long *)field = n;
        return PAM_SUCCESS;
    }
    case OPT_ENUM:
        for (const struct opt_choice *ch = o->choices; ch->name; ch++) {
            if (strcasecmp(value, ch->name) == 0) {
                int v = ch->value;
                memcpy(field, &v, sizeof(v));
                return PAM_SUCCESS;
            }
        }
        {
            char allowed[128] = "";
            size_t used = 0;
            for (const struct opt_choice *ch = o->choices; ch->name; ch++) {
                int w = snprintf(allowed + used, sizeof(allowed) - used, "%s%s",
                                 used ? "|" : "", ch->name);
                if (w < 0 || (size_t)w >= sizeof(allowed) - used)
                    break;
                used += (size_t)w;
            }
            return fail_at(err, where, "%s: '%s' is not one of %s", o->name,
                           shown(show, sizeof(show), value, SIZE_MAX), allowed);
        }
    case OPT_STRING:
    case OPT_URL:
    case OPT_PATH: {
        size_t n = strlen(value);
        const char *rule = NULL;
        if (n == 0) {
            if (o->flags & OPT_NONEMPTY)
                return fail_at(err, where, "%s needs a non-empty value", o->name);
            /* an empty value restores the default */
            if (!sso_strlcpy(field, o->def ? o->def : "", o->size))
                return fail_at(err, where, "%s: internal default too long", o->name);
            return PAM_SUCCESS;
        }
        if (n >= o->size)
            return fail_at(err, where, "%s: the value is too long (at most %zu characters)",
                           o->name, o->size - 1);
        if (o->kind == OPT_URL)
            rule = check_url(value, (o->flags & OPT_BASE_URL) != 0);
        else if (o->kind == OPT_PATH && value[0] != '/')
            rule = "must be an absolute path";
        else if (o->kind == OPT_STRING && o->check)
            rule = o->check(value);
        if (rule)
            return fail_at(err, where, "%s: '%s' %s", o->name,
                           shown(show, sizeof(show), value, SIZE_MAX), rule);
        memcpy(field, value, n + 1);
        if ((o->flags & OPT_BASE_URL) && field[n - 1] == '/')
            field[n - 1] = '\0';
        return PAM_SUCCESS;
    }
    case OPT_FLAG:
        break;
    }
    return fail_at(err, where, "%s: unsupported option kind", o->name);
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
                       shown_key(show, sizeof(show), key, keylen));
    }

    if (keylen == 0)
        return fail_at(fp->err, &fp->where, "missing option name before '='");
    const struct opt *o = find_option(key, keylen);
    if (!o)
        return fail_at(fp->err, &fp->where, "unknown option %s",
                       shown_key(show, sizeof(show), key, keylen));
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
                            struct sso_error *err)
{
    memset(fp, 0, sizeof(*fp));
    fp->c = c;
    fp->err = err;
    fp->where.file = name;
    fp->where.line = 1;
}

static const char *open_error(int e)
{
    switch (e) {
    case ENOENT:
        return "does not exist";
    case ELOOP:
        return "is a symbolic link (refused)";
    case EACCES:
        return "permission denied";
    case ENOTDIR:
        return "a path component is not a directory";
    case EMFILE:
    case ENFILE:
        return "too many open files";
    default:
        return "cannot be opened";
    }
}

static int read_file(struct cfg *c, const char *path, bool explicit_path, uid_t owner,
                     struct sso_error *err)
{
    struct file_parse fp;
    struct stat st;
    char buf[4096];
    size_t total = 0;
    int rc = PAM_SUCCESS;

    /* A first look without opening: opening a device or FIFO can have
     * effects of its own. The checks that count are made on the open fd. */
    int fd = -1;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode))
            return sso_fail(err, PAM_SERVICE_ERR, "config file %s: %s", path,
                            open_error(ELOOP));
        if (!S_ISREG(st.st_mode))
            return sso_fail(err, PAM_SERVICE_ERR, "config file %s: not a regular file", path);
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    }
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT && !explicit_path)
            return PAM_SUCCESS; /* everything may come from the stanza */
        return sso_fail(err, PAM_SERVICE_ERR, "config file %s: %s", path, open_error(e));
    }
    if (fstat(fd, &st) != 0)
        rc = sso_fail(err, PAM_SERVICE_ERR, "config file %s: cannot stat it", path);
    else if (!S_ISREG(st.st_mode))
        rc = sso_fail(err, PAM_SERVICE_ERR, "config file %s: not a regular file", path);
    else if (st.st_uid != owner)
        rc = sso_fail(err, PAM_SERVICE_ERR, "config file %s: owned by uid %lu, must be owned by "
                      "root", path, (unsigned long)st.st_uid);
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        rc = sso_fail(err, PAM_SERVICE_ERR, "config file %s: writable by group or others (mode "
                      "%04o), must not be", path, (unsigned)(st.st_mode & 07777));
    else if (st.st_size > CFG_FILE_MAX)
        rc = sso_fail(err, PAM_SERVICE_ERR, "config file %s: larger than %d bytes", path,
                      CFG_FILE_MAX);
    if (rc != PAM_SUCCESS) {
        close(fd);
        return rc;
    }

    file_parse_init(&fp, c, path, err);
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

static int parse_text(struct cfg *c, const char *text, struct sso_error *err)
{
    struct file_parse fp;
    size_t n = strnlen(text, (size_t)CFG_FILE_MAX + 1);
    if (n > CFG_FILE_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "%s: larger than %d bytes", CFG_TEXT_NAME,
                        CFG_FILE_MAX);
    file_parse_init(&fp, c, CFG_TEXT_NAME, err);
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
                     struct sso_error *err)
{
    const struct opt *o = find_option("conf", 4);
    struct origin stanza = {NULL, 0};
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

static int apply_stanza(struct cfg *c, int argc, const char **argv, struct sso_error *err)
{
    struct origin stanza = {NULL, 0};
    char show[64];
    for (int i = 0; argv && i < argc; i++) {
        size_t keylen;
        const char *value;
        if (!argv[i])
            continue;
        split_arg(argv[i], &keylen, &value);
        if (keylen == 0)
            return fail_at(err, &stanza, "missing option name in '%s'",
                           shown(show, sizeof(show), argv[i], SIZE_MAX));
        const struct opt *o = find_option(argv[i], keylen);
        if (!o)
            return fail_at(err, &stanza, "unknown option %s",
                           shown_key(show, sizeof(show), argv[i], keylen));
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
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct opt *o = &options[i];
        char *field = (char *)c + o->offset;
        switch (o->kind) {
        case OPT_STRING:
        case OPT_URL:
        case OPT_PATH:
            if (o->def)
                sso_strlcpy(field, o->def, o->size);
            break;
        case OPT_LONG:
            *(long *)field = o->num_def;
            break;
        case OPT_FLAG:
            *(bool *)field = o->num_def != 0;
            break;
        case OPT_ENUM: {
            int v = (int)o->num_def;
            memcpy(field, &v, sizeof(v));
            break;
        }
        }
    }
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

static int finish(struct cfg *c, struct sso_error *err)
{
    if (c->region[0] == '\0')
        sso_strlcpy(c->region, CFG_DEFAULT_REGION, sizeof(c->region));
    if (c->oidc_endpoint[0] == '\0')
        derive_endpoint(c->oidc_endpoint, sizeof(c->oidc_endpoint), "oidc", c->region);
    if (c->portal_endpoint[0] == '\0')
        derive_endpoint(c->portal_endpoint, sizeof(c->portal_endpoint), "portal.sso", c->region);
    if (c->sts_endpoint[0] == '\0')
        derive_endpoint(c->sts_endpoint, sizeof(c->sts_endpoint), "sts", c->region);
    if (c->client_name[0] == '\0')
        default_client_name(c->client_name, sizeof(c->client_name));

    if (c->start_url[0] == '\0')
        return sso_fail(err, PAM_SERVICE_ERR, "start_url is required (set it in %s or on the "
                        "PAM stanza)", c->conf_path);
    bool have_account = c->account_id[0] != '\0', have_role = c->role_name[0] != '\0';
    if (have_account != have_role)
        return sso_fail(err, PAM_SERVICE_ERR, "account_id and role_name must be set together "
                        "(only %s is set)", have_account ? "account_id" : "role_name");
    /* Both at once would silently disable the identity check the admin
     * believes is active (e.g. a flag on one stanza over a shared file). */
    bool have_mapping = c->username_suffix[0] != '\0' || c->user_map[0] != '\0';
    if (c->allow_any_approver && (have_account || have_mapping))
        return sso_fail(err, PAM_SERVICE_ERR, "allow_any_approver contradicts %s: choose one "
                        "policy", have_account ? "account_id/role_name" : "the user mapping");
    if (!have_account && !c->allow_any_approver)
        return sso_fail(err, PAM_SERVICE_ERR, "no identity policy: set account_id and "
                        "role_name, or allow_any_approver (anyone who can approve at start_url "
                        "may then log in)");
    return PAM_SUCCESS;
}

/* ------------------------------------------------------------ entry */

/* text != NULL: parse it instead of the file (no ownership checks).
 * use_file: read the file named by conf= (or the default). */
static int load(struct cfg *c, bool use_file, const char *text, uid_t owner, int argc,
                const char **argv, struct sso_error *err)
{
    bool explicit_path;
    int rc;

    if (err)
        err->msg[0] = '\0';
    if (!c)
        return sso_fail(err, PAM_SERVICE_ERR, "internal error: no configuration to fill");
    set_defaults(c);
    rc = scan_conf(c, argc, argv, &explicit_path, err);
    if (rc == PAM_SUCCESS && use_file)
        rc = read_file(c, c->conf_path, explicit_path, owner, err);
    if (rc == PAM_SUCCESS && text)
        rc = parse_text(c, text, err);
    if (rc == PAM_SUCCESS)
        rc = apply_stanza(c, argc, argv, err);
    if (rc == PAM_SUCCESS)
        rc = finish(c, err);
    if (rc != PAM_SUCCESS)
        memset(c, 0, sizeof(*c)); /* no half-applied policy for a careless caller */
    return rc;
}

int cfg_load(struct cfg *c, int argc, const char **argv, struct sso_error *err)
{
    return load(c, true, NULL, 0, argc, argv, err);
}

int cfg_load_text(struct cfg *c, const char *text, int argc, const char **argv,
                  struct sso_error *err)
{
    return load(c, false, text, 0, argc, argv, err);
}

enum cfg_prompt cfg_prompt_for_service(const struct cfg *c, const char *service)
{
    if (c && c->prompt != CFG_PROMPT_AUTO)
        return c->prompt;
    return (service && strcmp(service, "sshd") == 0) ? CFG_PROMPT_ALWAYS : CFG_PROMPT_NEVER;
}
