/* outcome.c - see outcome.h. */
#include "core/outcome.h"

#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/sanitize.h"

#define FIELD_BYTES 256  /* longest value kept, in bytes (before escaping) */
#define REASON_BYTES 512 /* the reason may be longer */
#define REQUEST_ID_MAX 64

/* Every value, percent-encoded (at most tripled), always fits: a value cut
 * in the middle of an escape would not decode. */
_Static_assert(OUTCOME_LINE_MAX > 5 * (3 * FIELD_BYTES + 16) + (3 * REASON_BYTES + 16) + 128,
               "the outcome line buffer holds every field at its longest");

const char *outcome_code_name(int pam_code)
{
    static const struct {
        int code;
        const char *name;
    } names[] = {
        {PAM_SUCCESS, "PAM_SUCCESS"},
        {PAM_AUTH_ERR, "PAM_AUTH_ERR"},
        {PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
        {PAM_SERVICE_ERR, "PAM_SERVICE_ERR"},
        {PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"},
        {PAM_CONV_ERR, "PAM_CONV_ERR"},
        {PAM_BUF_ERR, "PAM_BUF_ERR"},
        {PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
        {PAM_PERM_DENIED, "PAM_PERM_DENIED"},
        {PAM_ABORT, "PAM_ABORT"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].code == pam_code)
            return names[i].name;
    return "PAM_OTHER";
}

/* The bytes a value keeps as they are (outcome.h): RFC 3986's unreserved
 * characters and ':', '/', '@', for readable hosts, addresses and names.
 * Never a space, quote, backslash, '=', '%', ',' or '+': no value can end
 * its field, start a key or read as something else once decoded. */
static bool outcome_safe_byte(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("-._~:/@", ch) != NULL);
}

/* Percent-encode clean into out (at least 3 * strlen(clean) + 1 bytes). A
 * value that is just "-" is written %2D: a bare "-" means "not known". */
static void percent_encode(char *out, const char *clean)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    bool lone_dash = strcmp(clean, "-") == 0;
    for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
        if (outcome_safe_byte(*p) && !lone_dash) {
            out[o++] = (char)*p;
            continue;
        }
        out[o++] = '%';
        out[o++] = hex[*p >> 4];
        out[o++] = hex[*p & 0x0f];
    }
    out[o] = '\0';
}

/* ' key=value', sanitized and percent-encoded, appended at *used; "-" for
 * a value that is absent or empty. */
static void put_value(char *buf, size_t len, size_t *used, const char *key, const char *value,
                      size_t max_bytes)
{
    const char *shown = "-";
    char clean[REASON_BYTES + 1], encoded[sizeof(clean) * 3];
    if (max_bytes > REASON_BYTES)
        max_bytes = REASON_BYTES;
    if (value && value[0]) {
        /* Control, invisible and direction-changing characters are dropped
         * first: the decoded value is safe to show as well. */
        sanitize_display(clean, max_bytes + 1, value, max_bytes);
        percent_encode(encoded, clean);
        if (encoded[0])
            shown = encoded;
    }
    int n = snprintf(buf + *used, len - *used, " %s=%s", key, shown);
    if (n > 0)
        *used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}

static const char *safe_request_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > REQUEST_ID_MAX)
        return "-";
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return "-";
    }
    return id;
}

const char *outcome_format(char *buf, size_t len, const struct outcome *o)
{
    size_t used = 0;
    int n = snprintf(buf, len, "login result=%s", outcome_code_name(o->pam_code));
    used = n > 0 && (size_t)n < len ? (size_t)n : 0;
    buf[used] = '\0';
    put_value(buf, len, &used, "user", o->user, FIELD_BYTES);
    put_value(buf, len, &used, "rhost", o->rhost, FIELD_BYTES);
    put_value(buf, len, &used, "service", o->service, FIELD_BYTES);
    put_value(buf, len, &used, "approver", o->approver, FIELD_BYTES);
    /* Tenths by hand: %f would follow the host's numeric locale ("12,3"). */
    long tenths = o->seconds >= 0 && o->seconds < 1e6 ? (long)(o->seconds * 10 + 0.5) : 0;
    n = snprintf(buf + used, len - used, " seconds=%ld.%ld retries=%ld request_id=%s",
                 tenths / 10, tenths % 10, o->retries >= 0 ? o->retries : 0,
                 safe_request_id(o->request_id));
    if (n > 0)
        used += (size_t)n < len - used ? (size_t)n : len - used - 1;
    put_value(buf, len, &used, "reason", o->reason, REASON_BYTES);
    return buf;
}
