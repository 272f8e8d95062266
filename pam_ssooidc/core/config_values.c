/* config_values.c - see config_values.h.
 *
 * Nothing here allocates or keeps state between calls. */
#include "core/config_values.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------- value checks */

static bool is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }
static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static bool is_alnum(char ch)
{
    return is_lower(ch) || is_digit(ch) || (ch >= 'A' && ch <= 'Z');
}

/* us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1: at least three
 * '-'-separated parts, lowercase letters except the last, which is digits. */
const char *cfg_check_region(const char *v)
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

const char *cfg_check_client_name(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return "must be printable ASCII";
    return NULL;
}

const char *cfg_check_account_id(const char *v)
{
    size_t n = 0;
    for (; v[n]; n++)
        if (!is_digit(v[n]))
            break;
    return (n == 12 && v[n] == '\0') ? NULL : "must be exactly 12 digits";
}

/* One or more permission set names, separated by commas (so a name with a
 * comma in it cannot be given): each 1..64 of A-Za-z0-9+=.@_- */
const char *cfg_check_role_name(const char *v)
{
    size_t names = 0;
    for (const char *p = v;;) {
        size_t n = strcspn(p, ",");
        if (n == 0)
            return "has an empty name (a list is NAME,NAME,...)";
        if (n > 64)
            return "names must be at most 64 characters";
        for (size_t i = 0; i < n; i++)
            if (!is_alnum(p[i]) && !strchr("+=.@_-", p[i]))
                return "may contain only letters, digits and + = . @ _ - (commas separate names)";
        if (++names > CFG_ROLES_MAX)
            return "lists more than 8 permission sets";
        if (p[n] == '\0')
            return NULL;
        p += n + 1;
    }
}

const char *cfg_check_username_suffix(const char *v)
{
    if (v[0] != '@' || v[1] == '\0')
        return "must be '@' followed by a domain, e.g. @example.com";
    for (const char *p = v + 1; *p; p++)
        if (!is_alnum(*p) && !strchr(".-_", *p))
            return "may contain only '@' then letters, digits, '.', '-' and '_'";
    return NULL;
}

/* RFC 6749 appendix A.1: client_id is VSCHAR (printable ASCII); a space
 * could not be given on a PAM stanza, so it is refused everywhere. */
const char *cfg_check_client_id(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p <= 0x20 || *p > 0x7e)
            return "must be printable ASCII without spaces";
    return NULL;
}

/* A comma-separated list of 1..max items of at most item_max bytes, each
 * passing ok(); the shared shape of scopes and required_groups. */
static const char *check_list(const char *v, size_t max, size_t item_max, bool (*ok)(char),
                              bool inner_spaces, const char *chars_rule, const char *count_rule)
{
    size_t items = 0;
    for (const char *p = v;;) {
        size_t n = strcspn(p, ",");
        if (n == 0)
            return "has an empty entry (a list is NAME,NAME,...)";
        if (n > item_max)
            return "has an entry that is too long";
        if (p[0] == ' ' || p[n - 1] == ' ')
            return "has an entry that starts or ends with a space";
        for (size_t i = 0; i < n; i++)
            if (!ok(p[i]) && !(inner_spaces && p[i] == ' '))
                return chars_rule;
        if (++items > max)
            return count_rule;
        if (p[n] == '\0')
            return NULL;
        p += n + 1;
    }
}

/* RFC 6749 section 3.3: scope-token = 1*NQCHAR (no space, '"' or '\'). */
static bool is_scope_char(char ch)
{
    return ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != ',';
}

const char *cfg_check_scopes(const char *v)
{
    return check_list(v, CFG_SCOPES_MAX, 128, is_scope_char, false,
                      "may contain only printable ASCII other than space, '\"' and '\\' "
                      "(commas separate scopes)",
                      "lists more than 16 scopes");
}

/* Names like RS256 (what they mean is checked against the list of
 * algorithms we verify when the provider is opened). */
const char *cfg_check_alg_names(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!is_alnum(*p) && *p != ',')
            return "must be algorithm names separated by commas, e.g. RS256,ES256";
    return NULL;
}

/* A claim is one top-level member of the ID token: "groups",
 * "cognito:groups", "https://example.com/roles". */
const char *cfg_check_claim_name(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p <= 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return "must be printable ASCII without spaces, quotes or backslashes";
    return NULL;
}

/* Group names as providers write them: "/linux/admins" (Keycloak), a GUID
 * (Entra), "admins@example.com", "Linux Admins". */
static bool is_group_char(char ch)
{
    return ch > 0x20 && ch < 0x7f && ch != ',';
}

const char *cfg_check_groups(const char *v)
{
    return check_list(v, CFG_GROUPS_MAX, 255, is_group_char, true,
                      "may contain only printable ASCII (commas separate groups)",
                      "lists more than 32 groups");
}

static bool has_control(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* Checks an https:// URL (a proxy may be http:// too); NULL if fine, else
 * the rule broken. Host characters exclude '@', so no URL can carry
 * credentials. */
static const char *check_url(const char *v, unsigned flags)
{
    static const char https[] = "https://", http[] = "http://";
    bool proxy = (flags & OPT_PROXY_URL) != 0;
    const char *host;
    if (strncasecmp(v, https, sizeof(https) - 1) == 0)
        host = v + sizeof(https) - 1;
    else if (proxy && strncasecmp(v, http, sizeof(http) - 1) == 0)
        host = v + sizeof(http) - 1;
    else if (!proxy && strncasecmp(v, http, sizeof(http) - 1) == 0)
        return "must be an https:// URL (plain http:// is refused)";
    else
        return proxy ? "must be an http:// or https:// URL" : "must be an https:// URL";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
            return "must not contain spaces, control or non-ASCII characters";
    const char *p = host;
    for (; *p && *p != '/' && *p != '?' && *p != '#'; p++)
        if (!is_alnum(*p) && !strchr(".-_:[]", *p))
            return proxy ? "has an invalid host name (credentials in the URL are not supported)"
                         : "has an invalid host name";
    if (p == host)
        return "has no host name";
    if (proxy && *p && strcmp(p, "/") != 0)
        return "must be scheme://host:port, nothing after it";
    if ((flags & (OPT_BASE_URL | OPT_NO_QUERY)) && strpbrk(p, "?#"))
        return "must not have a query or fragment (paths are appended to it)";
    if ((flags & OPT_NO_FRAGMENT) && strchr(p, '#'))
        return "must not have a fragment";
    return NULL;
}

/* ---------------------------------------------------- quoting a value */

/* A value made safe and short enough to quote in a log message. */
const char *cfg_shown(char *buf, size_t buflen, const char *s, size_t len)
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

const char *cfg_shown_key(char *buf, size_t buflen, const char *key, size_t keylen)
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

/* ------------------------------------------------ parsing and storing */

static bool refuse(char why[CFG_DETAIL_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool refuse(char why[CFG_DETAIL_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, CFG_DETAIL_MAX, fmt, ap);
    va_end(ap);
    return false;
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

static bool store_flag(const struct opt *o, const char *value, char *field,
                       char why[CFG_DETAIL_MAX])
{
    char show[64];
    int b = value ? parse_flag(value) : 1;
    if (b < 0)
        return refuse(why, "%s: '%s' is not a flag value (use yes/no, true/false, on/off or 1/0)",
                      o->name, cfg_shown(show, sizeof(show), value, SIZE_MAX));
    *(bool *)field = (b == 1);
    return true;
}

static bool store_long(const struct opt *o, const char *value, char *field,
                       char why[CFG_DETAIL_MAX])
{
    char show[64];
    char *end;
    long n;
    const char *p = value;
    if (*p == '+' || *p == '-')
        p++;
    if (!is_digit(*p))
        return refuse(why, "%s: '%s' is not a whole number", o->name,
                      cfg_shown(show, sizeof(show), value, SIZE_MAX));
    errno = 0;
    n = strtol(value, &end, 10);
    if (*end != '\0')
        return refuse(why, "%s: '%s' is not a whole number", o->name,
                      cfg_shown(show, sizeof(show), value, SIZE_MAX));
    if (errno == ERANGE || n < o->min || n > o->max)
        return refuse(why, "%s: %s is out of range (%ld..%ld)", o->name,
                      cfg_shown(show, sizeof(show), value, SIZE_MAX), o->min, o->max);
    *(long *)field = n;
    return true;
}

static bool store_enum(const struct opt *o, const char *value, char *field,
                       char why[CFG_DETAIL_MAX])
{
    char show[64];
    char allowed[128] = "";
    size_t used = 0;
    for (const struct opt_choice *ch = o->choices; ch->name; ch++) {
        if (strcasecmp(value, ch->name) == 0) {
            int v = ch->value;
            memcpy(field, &v, sizeof(v));
            return true;
        }
    }
    for (const struct opt_choice *ch = o->choices; ch->name; ch++) {
        int w = snprintf(allowed + used, sizeof(allowed) - used, "%s%s", used ? "|" : "",
                         ch->name);
        if (w < 0 || (size_t)w >= sizeof(allowed) - used)
            break;
        used += (size_t)w;
    }
    return refuse(why, "%s: '%s' is not one of %s", o->name,
                  cfg_shown(show, sizeof(show), value, SIZE_MAX), allowed);
}

/* OPT_STRING, OPT_URL and OPT_PATH. */
static bool store_text(const struct opt *o, const char *value, char *field,
                       char why[CFG_DETAIL_MAX])
{
    char show[64];
    size_t n = strlen(value);
    const char *rule = NULL;
    if (n == 0) {
        if (o->flags & OPT_NONEMPTY)
            return refuse(why, "%s needs a non-empty value", o->name);
        /* an empty value restores the default */
        if (!sso_strlcpy(field, o->def ? o->def : "", o->size))
            return refuse(why, "%s: internal default too long", o->name);
        return true;
    }
    if (n >= o->size)
        return refuse(why, "%s: the value is too long (at most %zu characters)", o->name,
                      o->size - 1);
    if (o->kind == OPT_URL)
        rule = check_url(value, o->flags);
    else if (o->kind == OPT_PATH && value[0] != '/')
        rule = "must be an absolute path";
    else if (o->kind == OPT_STRING && o->check)
        rule = o->check(value);
    if (rule)
        return refuse(why, "%s: '%s' %s", o->name,
                      cfg_shown(show, sizeof(show), value, SIZE_MAX), rule);
    memcpy(field, value, n + 1);
    if ((o->flags & OPT_BASE_URL) && field[n - 1] == '/')
        field[n - 1] = '\0';
    return true;
}

bool cfg_store_value(struct cfg *c, const struct opt *o, const char *value,
                     char why[CFG_DETAIL_MAX])
{
    char *field = (char *)c + o->offset;

    if (o->kind == OPT_FLAG)
        return store_flag(o, value, field, why);
    if (!value)
        return refuse(why, "%s needs a value (%s=...)", o->name, o->name);
    if (has_control(value))
        return refuse(why, "%s: the value contains a control character", o->name);

    switch (o->kind) {
    case OPT_LONG:
        return store_long(o, value, field, why);
    case OPT_ENUM:
        return store_enum(o, value, field, why);
    case OPT_STRING:
    case OPT_URL:
    case OPT_PATH:
        return store_text(o, value, field, why);
    case OPT_FLAG:
        break;
    }
    return refuse(why, "%s: unsupported option kind", o->name);
}

void cfg_store_default(struct cfg *c, const struct opt *o)
{
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

void cfg_format_value(const struct cfg *c, const struct opt *o, char *buf, size_t len)
{
    const char *field = (const char *)c + o->offset;
    switch (o->kind) {
    case OPT_STRING:
    case OPT_URL:
    case OPT_PATH:
        snprintf(buf, len, "%s", field);
        break;
    case OPT_LONG:
        snprintf(buf, len, "%ld", *(const long *)field);
        break;
    case OPT_FLAG:
        snprintf(buf, len, "%s", *(const bool *)field ? "yes" : "no");
        break;
    case OPT_ENUM: {
        int v;
        memcpy(&v, field, sizeof(v));
        snprintf(buf, len, "?");
        for (const struct opt_choice *ch = o->choices; ch->name; ch++)
            if (ch->value == v)
                snprintf(buf, len, "%s", ch->name);
        break;
    }
    }
}
