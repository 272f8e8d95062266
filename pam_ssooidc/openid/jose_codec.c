/* jose_codec.c - the encodings under a JWS: strict base64url, bounded JSON,
 * algorithm names. See jose.h. */
#include "openid/jose_int.h"

#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/sanitize.h"

/* ------------------------------------------------------------ base64url */

/* The 6-bit value of a base64url character, -1 for anything else (the
 * standard alphabet's '+' and '/', '=', whitespace, NUL included). */
static int b64url_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '-')
        return 62;
    if (ch == '_')
        return 63;
    return -1;
}

bool jose_b64url_char(char ch)
{
    return b64url_value((unsigned char)ch) >= 0;
}

int jose_b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap,
                       size_t *outlen)
{
    size_t rem = inlen % 4, need = inlen / 4 * 3 + (rem ? rem - 1 : 0), o = 0;
    uint32_t acc = 0;
    *outlen = 0;
    if (rem == 1 || need > outcap) /* 4k+1 characters cannot come from whole bytes */
        return -1;
    for (size_t i = 0; i < inlen; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        if (i % 4 == 3) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
        }
    }
    /* A partial group: 2 characters carry 8 bits (4 unused), 3 carry 16
     * (2 unused). Unused bits must be zero, or "QR" and "QQ" would both
     * decode to "A" and a token would have several spellings. */
    if (rem == 2) {
        if (acc & 0xF)
            goto bad;
        out[o++] = (unsigned char)(acc >> 4);
    } else if (rem == 3) {
        if (acc & 0x3)
            goto bad;
        out[o++] = (unsigned char)(acc >> 10);
        out[o++] = (unsigned char)(acc >> 2);
    }
    *outlen = o;
    return 0;
bad:
    sso_cleanse(out, o);
    return -1;
}

size_t jose_b64url_encode(const unsigned char *in, size_t inlen, char *out, size_t outcap)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t need = inlen / 3 * 4 + (inlen % 3 ? inlen % 3 + 1 : 0), o = 0;
    if (outcap == 0)
        return 0;
    out[0] = '\0';
    if (need >= outcap)
        return 0;
    for (size_t i = 0; i < inlen; i += 3) {
        size_t left = inlen - i;
        uint32_t acc = (uint32_t)in[i] << 16;
        if (left > 1)
            acc |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            acc |= in[i + 2];
        out[o++] = alphabet[(acc >> 18) & 63];
        out[o++] = alphabet[(acc >> 12) & 63];
        if (left > 1)
            out[o++] = alphabet[(acc >> 6) & 63];
        if (left > 2)
            out[o++] = alphabet[acc & 63];
    }
    out[o] = '\0';
    return o;
}

/* ----------------------------------------------------------------- JSON */

/* The deepest nesting of arrays and objects in text, counted on the raw
 * bytes so that a hostile document is refused before jansson recurses into
 * it or allocates a node per bracket. Brackets inside strings do not count.
 * For valid JSON the count is exact; for invalid JSON it does not matter,
 * jansson refuses it next. Stops counting past limit. */
static int json_depth(const char *text, size_t len, int limit)
{
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            if (ch == '\\')
                i++; /* the escaped character cannot end the string */
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > deepest)
                deepest = depth;
            if (deepest > limit)
                return deepest;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return deepest;
}

json_t *jose_json_object(const char *text, size_t len, size_t max_len, int max_depth)
{
    if (!text || len > max_len || json_depth(text, len, max_depth) > max_depth)
        return NULL;
    return sso_json_parse_object(text, len); /* duplicate members refused */
}

/* ----------------------------------------------------------- algorithms */

static const struct {
    const char *name;
    unsigned bit;
} alg_names[] = {
    {"RS256", JOSE_RS256}, {"RS384", JOSE_RS384}, {"RS512", JOSE_RS512},
    {"PS256", JOSE_PS256}, {"PS384", JOSE_PS384}, {"PS512", JOSE_PS512},
    {"ES256", JOSE_ES256}, {"ES384", JOSE_ES384}, {"ES512", JOSE_ES512},
    {"EdDSA", JOSE_EDDSA},
};

unsigned jose_alg_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (strcmp(name, alg_names[i].name) == 0)
            return alg_names[i].bit;
    return 0;
}

const char *jose_alg_name(unsigned alg)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (alg == alg_names[i].bit)
            return alg_names[i].name;
    return NULL;
}

int jose_alg_list(const char *text, unsigned *mask, struct sso_error *err)
{
    char name[16], shown[40];
    *mask = 0;
    if (!text || !*text)
        return sso_fail(err, PAM_SERVICE_ERR, "the algorithm list is empty");
    for (const char *p = text;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof(name)) {
            *mask = 0;
            return sso_fail(err, PAM_SERVICE_ERR, "the algorithm list has an %s entry",
                            n ? "overlong" : "empty");
        }
        memcpy(name, p, n);
        name[n] = '\0';
        unsigned bit = jose_alg_from_name(name);
        if (!bit) {
            *mask = 0;
            jose_shown(shown, sizeof(shown), name, 16);
            if (strncmp(name, "HS", 2) == 0 || strcasecmp(name, "none") == 0)
                return sso_fail(err, PAM_SERVICE_ERR,
                                "algorithm %s is never allowed (none and HMAC are refused)",
                                shown);
            return sso_fail(err, PAM_SERVICE_ERR, "unknown algorithm %s", shown);
        }
        *mask |= bit;
        if (p[n] == '\0')
            return PAM_SUCCESS;
        p += n + 1;
    }
}

/* ----------------------------------------------------------------- misc */

bool jose_kid_ok(const char *s, size_t n)
{
    if (n == 0 || n > JOSE_KID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

const char *jose_shown(char *buf, size_t buflen, const char *s, size_t max_chars)
{
    sanitize_display(buf, buflen, s ? s : "", max_chars);
    return buf;
}
