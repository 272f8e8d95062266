/* fuzz_sanitize - sanitize_display, the gate between server text and the
 * user's terminal.
 *
 * Input: dstlen = 8 + first byte (8..263); max_chars = second byte (0..249,
 * or "unlimited" for 250..255); then the text (a C string: it ends at the
 * first NUL).
 * Invariants:
 *   - dst is NUL-terminated within dstlen (dst is exactly dstlen bytes on the
 *     heap, so any overflow is an ASan report) and the result is strlen(dst);
 *   - no byte below 0x20 (so no ESC), no DEL; valid UTF-8 (the '?'
 *     placeholders are ASCII); no C1 control (U+0080..U+009F, i.e. 0xC2
 *     0x80..0x9F), no bidi override/embedding/isolate, zero-width or BOM;
 *   - at most max_chars characters, the ellipsis "..." included when cut;
 *   - text that is already safe and fits is passed through unchanged;
 *   - idempotent: sanitizing the output again (same dstlen, max_chars)
 *     yields the same string. */
#include "fuzz_common.h"
#include "sanitize.h"

static void no_unsafe(uint32_t cp, void *ctx)
{
    (void)ctx;
    FUZZ_CHECK(cp >= 0x20 && cp != 0x7F, "no C0 control, ESC or DEL");
    FUZZ_CHECK(!(cp >= 0x80 && cp <= 0x9F), "no C1 control");
    FUZZ_CHECK(!(cp >= 0x200B && cp <= 0x200F), "no zero-width or LRM/RLM");
    FUZZ_CHECK(!(cp >= 0x202A && cp <= 0x202E), "no bidi embedding or override");
    FUZZ_CHECK(!(cp >= 0x2066 && cp <= 0x2069), "no bidi isolate");
    FUZZ_CHECK(cp != 0xFEFF, "no BOM / zero-width no-break space");
}

struct safety {
    bool safe;
};

static void note_safe(uint32_t cp, void *ctx)
{
    struct safety *s = ctx;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
        (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF)
        s->safe = false;
}

static size_t run(char *dst, size_t dstlen, const char *src, size_t max_chars)
{
    memset(dst, 0xA5, dstlen);
    size_t n = sanitize_display(dst, dstlen, src, max_chars);
    FUZZ_CHECK(fuzz_terminated(dst, dstlen), "output NUL-terminated within dstlen");
    FUZZ_CHECK(n == strlen(dst), "returns strlen(dst)");
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t dstlen = 8 + (size_t)fuzz_byte(&in);
    uint8_t m = fuzz_byte(&in);
    size_t max_chars = m < 250 ? m : (size_t)-1;
    char *src = fuzz_dup_cstr(in.p, in.n);
    char *dst = malloc(dstlen), *again = malloc(dstlen);
    if (!dst || !again)
        abort();

    size_t n = run(dst, dstlen, src, max_chars);
    long chars = fuzz_utf8_walk(dst, no_unsafe, NULL);
    FUZZ_CHECK(chars >= 0, "output is valid UTF-8");
    bool cut = n >= 3 && strcmp(dst + n - 3, "...") == 0;
    FUZZ_CHECK((size_t)chars <= max_chars || (cut && max_chars < 3 && chars == 3),
               "at most max_chars characters, the ellipsis included");

    struct safety s = {true};
    long src_chars = fuzz_utf8_walk(src, note_safe, &s);
    if (src_chars >= 0 && s.safe && (size_t)src_chars <= max_chars && strlen(src) + 4 <= dstlen)
        FUZZ_CHECK(strcmp(dst, src) == 0, "safe text that fits passes unchanged");

    run(again, dstlen, dst, max_chars);
    if (strcmp(dst, again) != 0)
        fprintf(stderr, "dstlen=%zu max_chars=%zu\n first: \"%s\"\nsecond: \"%s\"\n", dstlen,
                max_chars, dst, again);
    FUZZ_CHECK(strcmp(dst, again) == 0, "idempotent");

    free(src);
    free(dst);
    free(again);
    return 0;
}
