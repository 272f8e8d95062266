/* sanitize.c - server text is untrusted: an ESC or C1 byte reaching the
 * user's terminal could rewrite the screen, retitle the window or hide the
 * real URL. We keep printable UTF-8 only. */
#include "core/sanitize.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Decode one UTF-8 sequence at s (n bytes available). Returns its length and
 * sets *cp, or 0 for an invalid, overlong or truncated sequence. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t min;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, min = 0x80, *cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, min = 0x800, *cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, *cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

/* Invisible characters and those that reorder what the reader sees: all of
 * Unicode's format characters (Cf, which hold the bidi controls, zero-width
 * characters and tag characters), the line and paragraph separators (Zl,
 * Zp), variation selectors, and the other characters that render as
 * nothing (combining grapheme joiner, Mongolian selectors, Hangul fillers).
 * Sorted, inclusive ranges. */
static const struct {
    uint32_t lo, hi;
} invisible[] = {
    {0x00AD, 0x00AD},   {0x034F, 0x034F},   {0x0600, 0x0605},   {0x061C, 0x061C},
    {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},
    {0x115F, 0x1160},   {0x17B4, 0x17B5},   {0x180B, 0x180F},   {0x200B, 0x200F},
    {0x2028, 0x202E},   {0x2060, 0x206F},   {0x3164, 0x3164},   {0xFE00, 0xFE0F},
    {0xFEFF, 0xFEFF},   {0xFFA0, 0xFFA0},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},
    {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
    {0xE0000, 0xE0FFF}, /* tags (E0000-E007F) and variation selectors 17-256 */
};

/* Characters that control the terminal or hide or reorder what the user reads. */
static int is_unsafe(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) /* C0, DEL, C1 */
        return 1;
    size_t lo = 0, hi = sizeof(invisible) / sizeof(invisible[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < invisible[mid].lo)
            hi = mid;
        else if (cp > invisible[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

/* Terminal control sequences are removed whole, not just their introducer,
 * so "ESC ] 0;title BEL" leaves nothing that could mislead the reader.
 * Returns the number of bytes to skip at s[i] (which holds cp, encoded in
 * len bytes), or 0 when cp does not start a sequence. */
static size_t control_sequence_length(const unsigned char *s, size_t n, size_t i, uint32_t cp,
                                      size_t len)
{
    int csi = cp == 0x9B, str = cp == 0x9D || cp == 0x90 || cp == 0x98 || cp == 0x9E ||
                                 cp == 0x9F;
    size_t j = i + len;
    if (cp == 0x1B && j < n) {
        csi = s[j] == '[';
        str = s[j] == ']' || s[j] == 'P' || s[j] == 'X' || s[j] == '^' || s[j] == '_';
        j++; /* any other ESC x: drop both bytes */
    } else if (!csi && !str) {
        return 0;
    }
    if (csi) { /* parameters and intermediates, then one final byte */
        while (j < n && s[j] >= 0x20 && s[j] <= 0x3F)
            j++;
        while (j < n && s[j] >= 0x20 && s[j] <= 0x2F)
            j++;
        if (j < n && s[j] >= 0x40 && s[j] <= 0x7E)
            j++;
    } else if (str) { /* a string, ended by BEL, ST (ESC \) or C1 ST */
        while (j < n && s[j] != 0x07 && s[j] != 0x1B && !(s[j] == 0xC2 && j + 1 < n &&
                                                         s[j + 1] == 0x9C))
            j++;
        if (j < n)
            j += (s[j] == 0x07) ? 1 : 2;
        if (j > n)
            j = n;
    }
    return j - i;
}

/* Copy the safe characters of src into dst, at most `cap` bytes and
 * max_chars characters. Returns the bytes written (not terminated); *cut
 * tells whether anything safe was left over. */
static size_t copy_safe(char *dst, size_t cap, const unsigned char *s, size_t n,
                        size_t max_chars, bool *cut)
{
    size_t i = 0, o = 0, chars = 0;
    *cut = false;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        const char *out = (const char *)s + i;
        size_t outlen = len;
        if (len == 0) { /* invalid byte: show a placeholder, resync on the next */
            out = "?", outlen = 1, len = 1;
        } else if (is_unsafe(cp)) {
            size_t seq = control_sequence_length(s, n, i, cp, len);
            i += seq ? seq : len;
            continue;
        }
        if (chars == max_chars || o + outlen > cap) {
            *cut = true;
            return o;
        }
        if (dst)
            memcpy(dst + o, out, outlen);
        o += outlen, i += len, chars++;
    }
    return o;
}

size_t sanitize_display(char *dst, size_t dstlen, const char *src, size_t max_chars)
{
    static const char ellipsis[] = "...";
    if (!dst || dstlen == 0)
        return 0;
    dst[0] = '\0';
    if (!src || dstlen < sizeof(ellipsis) + 1)
        return 0;
    const unsigned char *s = (const unsigned char *)src;
    size_t n = strlen(src);
    bool cut;
    /* Text that fits whole is kept whole; otherwise room is made for the
     * ellipsis within both limits, so a cut is always visible and the result
     * itself fits whole (sanitizing it again changes nothing). */
    size_t o = copy_safe(dst, dstlen - 1, s, n, max_chars, &cut);
    if (cut) {
        size_t keep = max_chars > 3 ? max_chars - 3 : 0;
        o = copy_safe(dst, dstlen - sizeof(ellipsis), s, n, keep, &cut);
        memcpy(dst + o, ellipsis, sizeof(ellipsis));
        return o + sizeof(ellipsis) - 1;
    }
    dst[o] = '\0';
    return o;
}

/* ---- allow-lists for what the person is shown ---- */

bool sanitize_is_user_code(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '-';
        if (!ok || n >= USER_CODE_MAX)
            return false;
    }
    return n > 0;
}

bool sanitize_is_host_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || (ch == '-' && n > 0);
        if (!ok || n >= 64)
            return false;
    }
    return n > 0;
}

bool sanitize_is_account_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || ch == '_' || ch == '@' || ch == '$' || (ch == '-' && n > 0);
        if (!ok || n >= ACCOUNT_NAME_SHOWN_MAX)
            return false;
    }
    return n > 0;
}

bool sanitize_is_https_uri(const char *s)
{
    static const char scheme[] = "https://";
    if (strncmp(s, scheme, sizeof(scheme) - 1) != 0)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char ch = (unsigned char)s[n];
        /* RFC 3986's characters: unreserved, reserved and '%'. */
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || strchr("-._~:/?#[]@!$&'()*+,;=%", ch);
        if (!ch || !ok || n >= URI_SHOWN_MAX)
            return false;
    }
    /* No userinfo: "https://device.example@evil.example/" names evil.example. */
    const char *authority = s + sizeof(scheme) - 1;
    size_t alen = strcspn(authority, "/?#");
    if (memchr(authority, '@', alen))
        return false;
    char host0 = s[sizeof(scheme) - 1]; /* a host name or an IPv6 literal follows */
    return (host0 >= 'A' && host0 <= 'Z') || (host0 >= 'a' && host0 <= 'z') ||
           (host0 >= '0' && host0 <= '9') || host0 == '[';
}
