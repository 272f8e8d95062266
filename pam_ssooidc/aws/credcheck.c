/* credcheck.c - see credcheck.h. */
#define _GNU_SOURCE /* timegm */
#include "aws/credcheck.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CREDCHECK_TOKEN_MAX 4095 /* struct role_credentials' session_token, less its NUL */

const char *credcheck_access_key_id(const char *v)
{
    size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    return (v[n] == '\0' && n >= 16 && n <= 128) ? NULL
                                                 : "must be 16 to 128 capital letters and digits";
}

const char *credcheck_secret(const char *v)
{
    size_t n = 0;
    for (; v[n]; n++)
        if (v[n] < 0x21 || v[n] > 0x7e)
            return "must be printable ASCII without spaces";
    return (n >= 1 && n <= 255) ? NULL : "must be 1 to 255 characters";
}

const char *credcheck_token(const char *v)
{
    size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-");
    if (v[n] != '\0')
        return "must be base64 characters only";
    return n <= CREDCHECK_TOKEN_MAX ? NULL : "must be at most 4095 characters";
}

static int in_range(int v, int lo, int hi)
{
    return v >= lo && v <= hi;
}

/* Digits exactly where the format has them (sscanf alone takes signs and
 * blanks). */
static int shape_ok(const char *v)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(v) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (v[i] < '0' || v[i] > '9') : v[i] != shape[i])
            return 0;
    return 1;
}

int credcheck_iso8601(const char *v, int64_t *out)
{
    int y, mo, d, h, mi, s, used = 0;
    if (!shape_ok(v) ||
        sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
        used != 20)
        return -1;
    if (!in_range(y, 1970, 9999) || !in_range(mo, 1, 12) || !in_range(d, 1, 31) ||
        !in_range(h, 0, 23) || !in_range(mi, 0, 59) || !in_range(s, 0, 60))
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = s};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t;
    return 0;
}
