/* outcome.c - see outcome.h. */
#include "outcome.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>

#include "sanitize.h"

#define FIELD_BYTES 256  /* longest value kept, in bytes (before escaping) */
#define REASON_BYTES 512 /* the reason may be longer */
#define REQUEST_ID_MAX 64

/* Every value, escaped (at most doubled) and quoted, always fits: a cut
 * inside a quoted value would leave the line unparseable. */
_Static_assert(OUTCOME_LINE_MAX > 5 * (4 * FIELD_BYTES + 16) + (4 * REASON_BYTES + 16) + 128,
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

/* ' key="value"', sanitized and escaped, appended at *used. */
static void put_quoted(char *buf, size_t len, size_t *used, const char *key, const char *value,
                       size_t max_bytes)
{
    char clean[REASON_BYTES + 1];
    if (max_bytes > REASON_BYTES)
        max_bytes = REASON_BYTES;
    sanitize_display(clean, max_bytes + 1, value && value[0] ? value : "-", max_bytes);
    char quoted[sizeof(clean) * 4 + 3];
    size_t o = 0;
    quoted[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
        if (*p >= 0x80) { /* ASCII only: no lookalike of '"' or '=' survives NFKC */
            o += (size_t)snprintf(quoted + o, sizeof(quoted) - o, "\\x%02x", *p);
            continue;
        }
        if (*p == '"' || *p == '\\')
            quoted[o++] = '\\';
        quoted[o++] = (char)*p;
    }
    quoted[o++] = '"';
    quoted[o] = '\0';
    int n = snprintf(buf + *used, len - *used, " %s=%s", key, quoted);
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
    put_quoted(buf, len, &used, "user", o->user, FIELD_BYTES);
    put_quoted(buf, len, &used, "rhost", o->rhost, FIELD_BYTES);
    put_quoted(buf, len, &used, "service", o->service, FIELD_BYTES);
    put_quoted(buf, len, &used, "approver", o->approver, FIELD_BYTES);
    /* Tenths by hand: %f would follow the host's numeric locale ("12,3"). */
    long tenths = o->seconds >= 0 && o->seconds < 1e6 ? (long)(o->seconds * 10 + 0.5) : 0;
    n = snprintf(buf + used, len - used, " seconds=%ld.%ld retries=%ld request_id=%s",
                 tenths / 10, tenths % 10, o->retries >= 0 ? o->retries : 0,
                 safe_request_id(o->request_id));
    if (n > 0)
        used += (size_t)n < len - used ? (size_t)n : len - used - 1;
    put_quoted(buf, len, &used, "reason", o->reason, REASON_BYTES);
    return buf;
}
