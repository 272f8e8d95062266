/* complete_uri.c - see complete_uri.h. */
#include "core/complete_uri.h"

#include <string.h>
#include <strings.h>

#define HTTPS_DEFAULT_PORT 443
#define PORT_DIGITS_MAX 5

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* ":digits" after the host, or nothing (RFC 3986 6.2.3: an empty port is
 * the scheme's default). */
static bool parse_port(const char *p, size_t len, unsigned *port)
{
    *port = HTTPS_DEFAULT_PORT;
    if (len == 0)
        return true;
    if (p[0] != ':' || len - 1 > PORT_DIGITS_MAX)
        return false;
    if (len == 1)
        return true;
    unsigned v = 0;
    for (size_t i = 1; i < len; i++) {
        if (!is_digit(p[i]))
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = v;
    return true;
}

bool uri_origin_parse(const char *uri, struct uri_origin *out)
{
    static const char scheme[] = "https://";
    memset(out, 0, sizeof(*out));
    if (strncasecmp(uri, scheme, sizeof(scheme) - 1) != 0)
        return false;
    const char *authority = uri + sizeof(scheme) - 1;
    size_t alen = strcspn(authority, "/?#");
    if (alen == 0 || memchr(authority, '@', alen))
        return false;
    size_t hlen;
    if (authority[0] == '[') { /* an IPv6 literal: its colons are not the port's */
        const char *close = memchr(authority, ']', alen);
        if (!close)
            return false;
        hlen = (size_t)(close - authority) + 1;
    } else {
        const char *colon = memchr(authority, ':', alen);
        hlen = colon ? (size_t)(colon - authority) : alen;
    }
    if (hlen == 0 || hlen >= sizeof(out->host) ||
        !parse_port(authority + hlen, alen - hlen, &out->port))
        return false;
    memcpy(out->host, authority, hlen);
    out->host[hlen] = '\0';
    return true;
}

static bool same_origin(const char *a, const char *b)
{
    struct uri_origin oa, ob;
    return uri_origin_parse(a, &oa) && uri_origin_parse(b, &ob) && oa.port == ob.port &&
           strcasecmp(oa.host, ob.host) == 0;
}

/* Whether some "name=value" of the query (up to the fragment) has exactly
 * the code as its value. A code only in the path or the fragment does not
 * count: the page would not be bound to it. */
static bool query_carries(const char *uri, const char *code)
{
    const char *q = memchr(uri, '?', strcspn(uri, "#")); /* a '?' in the fragment is not one */
    size_t code_len = strlen(code);
    if (!q || code_len == 0)
        return false;
    for (const char *p = q + 1;; p++) {
        size_t plen = strcspn(p, "&#"); /* one "name=value", up to the next or the fragment */
        const char *eq = memchr(p, '=', plen);
        if (eq && plen - (size_t)(eq + 1 - p) == code_len && memcmp(eq + 1, code, code_len) == 0)
            return true;
        p += plen;
        if (*p != '&')
            break;
    }
    return false;
}

enum complete_uri_verdict complete_uri_check(const char *uri, const char *complete,
                                             const char *user_code)
{
    if (!complete || !complete[0])
        return COMPLETE_URI_ABSENT;
    if (!uri || !same_origin(uri, complete))
        return COMPLETE_URI_OTHER_ORIGIN;
    if (!user_code || !query_carries(complete, user_code))
        return COMPLETE_URI_WITHOUT_CODE;
    return COMPLETE_URI_SHOWN;
}

const char *complete_uri_why(enum complete_uri_verdict v)
{
    switch (v) {
    case COMPLETE_URI_OTHER_ORIGIN:
        return "it is not on the origin (scheme, host, port) of verification_uri";
    case COMPLETE_URI_WITHOUT_CODE:
        return "its query does not carry the user code";
    case COMPLETE_URI_SHOWN:
    case COMPLETE_URI_ABSENT:
        break;
    }
    return "it is shown";
}
