/* fuzz_common.h - helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Every target checks the parser's own contract, not just "no crash": a
 * broken invariant prints what was expected and aborts, which libFuzzer
 * reports as a crash and saves as a reproducer. Inputs are copied into
 * exactly-sized heap buffers so AddressSanitizer sees any read past them. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, what)                                                        \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "\nINVARIANT BROKEN at %s:%d: %s\n  check: %s\n", __FILE__, \
                    __LINE__, (what), #cond);                                         \
            abort();                                                                  \
        }                                                                             \
    } while (0)


/* A heap copy of n bytes with no terminator (reads past n are caught). */
static inline char *fuzz_dup_exact(const uint8_t *p, size_t n)
{
    char *s = malloc(n ? n : 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, p, n);
    return s;
}

/* A NUL-terminated heap copy (the C string ends at the first NUL, if any). */
static inline char *fuzz_dup_cstr(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* The input, consumed front to back. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fuzz_byte(struct fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

/* The next line (without its '\n') as a NUL-terminated heap string. */
static inline char *fuzz_line(struct fuzz_in *in)
{
    const uint8_t *nl = in->n ? memchr(in->p, '\n', in->n) : NULL;
    size_t len = nl ? (size_t)(nl - in->p) : in->n;
    char *s = fuzz_dup_cstr(in->p, len);
    in->p += len + (nl ? 1 : 0);
    in->n -= len + (nl ? 1 : 0);
    return s;
}

/* Is s NUL-terminated within its array of `size` bytes? */
static inline bool fuzz_terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static inline bool fuzz_all_zero(const void *p, size_t size)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < size; i++)
        if (b[i])
            return false;
    return true;
}

/* Every byte of s (up to its NUL) in the set. */
static inline bool fuzz_only(const char *s, const char *set)
{
    return strspn(s, set) == strlen(s);
}

/* Strict UTF-8 check (no overlongs, surrogates or code points past
 * U+10FFFF); calls cb for every code point when cb is not NULL. Returns the
 * number of code points, or -1 when s is not valid UTF-8. */
static inline long fuzz_utf8_walk(const char *str, void (*cb)(uint32_t cp, void *ctx), void *ctx)
{
    const unsigned char *s = (const unsigned char *)str;
    long count = 0;
    while (*s) {
        uint32_t cp;
        int len;
        if (s[0] < 0x80)
            cp = s[0], len = 1;
        else if (s[0] >= 0xC2 && s[0] <= 0xDF)
            cp = s[0] & 0x1Fu, len = 2;
        else if (s[0] >= 0xE0 && s[0] <= 0xEF)
            cp = s[0] & 0x0Fu, len = 3;
        else if (s[0] >= 0xF0 && s[0] <= 0xF4)
            cp = s[0] & 0x07u, len = 4;
        else
            return -1;
        for (int i = 1; i < len; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (s[i] & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        if (cb)
            cb(cp, ctx);
        s += len;
        count++;
    }
    return count;
}

#endif
