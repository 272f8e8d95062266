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

bool cfg_is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }
bool cfg_is_digit(char ch) { return ch >= '0' && ch <= '9'; }
bool cfg_is_alnum(char ch)
{
    return cfg_is_lower(ch) || cfg_is_digit(ch) || (ch >= 'A' && ch <= 'Z');
}

const char *cfg_check_username_suffix(const char *v)
{
    if (v[0] != '@' || v[1] == '\0')
        return "must be '@' followed by a domain, e.g. @example.com";
    for (const char *p = v + 1; *p; p++)
        if (!cfg_is_alnum(*p) && !strchr(".-_", *p))
            return "may contain only '@' then letters, digits, '.', '-' and '_'";
    return NULL;
}

/* Digits only, no sign or spaces, at most 10 of them: strtoul alone takes
 * " -5" as a huge number. */
static bool read_id(const char **p, unsigned long *out)
{
    const char *s = *p;
    size_t n = 0;
    unsigned long v = 0;
    while (cfg_is_digit(s[n]) && n < 10)
        v = v * 10 + (unsigned long)(s[n++] - '0');
    if (n == 0 || cfg_is_digit(s[n]))
        return false;
    *out = v;
    *p = s + n;
    return true;
}

const char *cfg_check_uid_range(const char *v)
{
    static const char shape[] = "must be MIN-MAX, e.g. " CFG_DEFAULT_UID_RANGE;
    unsigned long lo, hi;
    const char *p = v;
    if (!read_id(&p, &lo) || *p++ != '-' || !read_id(&p, &hi) || *p != '\0')
        return shape;
    if (lo < 1000 || hi > 2147483647UL || lo > hi)
        return "must lie within 1000-2147483647, MIN not above MAX (ids below 1000 are "
               "the system's)";
    if (lo <= 65535 && hi >= 65534)
        return "must not hold 65534 (nobody) or 65535 (the 16-bit -1)";
    return NULL;
}

const char *cfg_check_sync_max_removals(const char *v)
{
    static const char shape[] = "must be a number of accounts (e.g. 25) or a percentage of "
                                "the accounts served (e.g. " CFG_DEFAULT_SYNC_MAX_REMOVALS ")";
    unsigned long n;
    const char *p = v;
    if (!read_id(&p, &n))
        return shape;
    if (*p == '%' && p[1] == '\0')
        return n <= 100 ? NULL : "must be a percentage from 0% to 100%";
    if (*p != '\0')
        return shape;
    return n <= 65536 ? NULL : "must be at most 65536 accounts";
}

const char *cfg_check_list(const char *v, size_t max, size_t item_max, bool (*ok)(char),
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
        if (!cfg_is_alnum(*p) && !strchr(".-_:[]", *p))
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
        if (!cfg_is_alnum(key[i]) && key[i] != '_' && key[i] != '-')
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
    if (!cfg_is_digit(*p))
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

bool cfg_store_value(void *base, const struct opt *o, const char *value,
                     char why[CFG_DETAIL_MAX])
{
    char *field = (char *)base + o->offset;

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

void cfg_store_default(void *base, const struct opt *o)
{
    char *field = (char *)base + o->offset;
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

void cfg_format_value(const void *base, const struct opt *o, char *buf, size_t len)
{
    const char *field = (const char *)base + o->offset;
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
