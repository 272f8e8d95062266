/* fuzz_usermap - usermap_match_text against an independent reference.
 *
 * Input: the Identity Center session name (first line), the local user
 * (second line), then the user_map file text.
 * Invariants: the result is -1, 0 or 1; -1 comes with a reason; and the
 * result equals that of the reference matcher below, written from the
 * contract in usermap.h and docs rather than from usermap.c:
 *   - lines end at '\n' (the last one may lack it); a line longer than 512
 *     bytes or holding a NUL makes the whole file malformed (-1);
 *   - '#' starts a comment; words are separated by spaces, tabs and CRs;
 *   - blank lines are skipped; any other line must have exactly two words
 *     (else the whole file is malformed, wherever the line is);
 *   - 1 when some line is exactly "SESSION LOCAL", else 0. */
#include "fuzz_common.h"
#include "core/usermap.h"
#include "core/util.h"

#define LINE_MAX_BYTES 512

static bool is_sep(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

static bool word_is(const uint8_t *w, size_t wl, const char *s)
{
    return strlen(s) == wl && memcmp(w, s, wl) == 0;
}

static int reference(const uint8_t *t, size_t len, const char *session, const char *local)
{
    int found = 0;
    size_t start = 0;
    while (start < len) {
        size_t end = start;
        while (end < len && t[end] != '\n')
            end++;
        size_t linelen = end - start;
        if (linelen > LINE_MAX_BYTES || memchr(t + start, 0, linelen))
            return -1;
        /* Words before any '#'. */
        const uint8_t *w[3];
        size_t wl[3], nwords = 0;
        size_t i = start;
        while (i < end && t[i] != '#') {
            if (is_sep(t[i])) {
                i++;
                continue;
            }
            size_t j = i;
            while (j < end && t[j] != '#' && !is_sep(t[j]))
                j++;
            if (nwords < 3) {
                w[nwords] = t + i;
                wl[nwords] = j - i;
            }
            nwords++;
            i = j;
        }
        if (nwords != 0 && nwords != 2)
            return -1;
        if (nwords == 2 && word_is(w[0], wl[0], session) && word_is(w[1], wl[1], local))
            found = 1;
        start = end + 1;
    }
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    char *session = fuzz_line(&in);
    char *local = fuzz_line(&in);
    char *text = fuzz_dup_exact(in.p, in.n);
    struct sso_error err = SSO_ERROR_INIT;
    int got = usermap_match_text(text, in.n, session, local, &err);
    FUZZ_CHECK(got == -1 || got == 0 || got == 1, "result in {-1, 0, 1}");
    FUZZ_CHECK(fuzz_terminated(err.msg, sizeof(err.msg)), "reason terminated");
    if (got == -1)
        FUZZ_CHECK(err.msg[0] != '\0', "a malformed map comes with a reason");
    int want = reference((const uint8_t *)text, in.n, session, local);
    if (got != want)
        fprintf(stderr, "usermap_match_text=%d reference=%d\n", got, want);
    FUZZ_CHECK(got == want, "agrees with the reference matcher");
    free(session);
    free(local);
    free(text);
    return 0;
}
