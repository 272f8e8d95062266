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
 *     0x80..0x9F), and no invisible or direction-changing character
 *     (Unicode Cf, Zl, Zp, tags, variation selectors, fillers);
 *   - at most max_chars characters, the ellipsis "..." included when cut;
 *   - text that is already safe and fits is passed through unchanged;
 *   - idempotent: sanitizing the output again (same dstlen, max_chars)
 *     yields the same string. */
#include "fuzz_common.h"
#include "core/sanitize.h"

/* The oracle: what must never reach a terminal, written out here on its
 * own (not taken from sanitize.c): C0, DEL, C1, and the invisible and
 * direction-changing characters - Unicode Cf, Zl, Zp, tag characters,
 * variation selectors, and the fillers that render as nothing. */
static bool unsafe(uint32_t cp)
{
    static const uint32_t ranges[][2] = {
        {0x0000, 0x001F}, {0x007F, 0x009F}, {0x00AD, 0x00AD}, {0x034F, 0x034F},
        {0x0600, 0x0605}, {0x061C, 0x061C}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
        {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x115F, 0x1160}, {0x17B4, 0x17B5},
        {0x180B, 0x180F}, {0x200B, 0x200F}, {0x2028, 0x202E}, {0x2060, 0x206F},
        {0x3164, 0x3164}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF}, {0xFFA0, 0xFFA0},
        {0xFFF9, 0xFFFB}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F},
        {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1])
            return true;
    return false;
}

static void no_unsafe(uint32_t cp, void *ctx)
{
    (void)ctx;
    FUZZ_CHECK(!unsafe(cp), "no control, invisible or direction-changing character");
}

struct safety {
    bool safe;
};

static void note_safe(uint32_t cp, void *ctx)
{
    struct safety *s = ctx;
    if (unsafe(cp))
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
