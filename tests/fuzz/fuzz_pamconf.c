/* fuzz_pamconf - the PAM configuration reader (pamconf) on any file text.
 *
 * Input: the text of a service file. Includes are looked for below a root
 * that does not exist, so none is found and the run reads no real file.
 * Invariants: the reading ends (no hang, no overflow); each module line
 * is in this file, starts on a line that exists, has one of the four
 * types and no include chain; every field fits libpam's line; at most
 * PAMCONF_LINES_MAX lines. */
#include "fuzz_common.h"
#include "cmd/pamconf.h"

static unsigned physical_lines(const uint8_t *data, size_t size)
{
    unsigned n = 1;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *text = fuzz_dup_exact(data, size);
    struct pamconf_env env = {"/nonexistent/fuzz-root"};
    struct pamconf_stack s;
    bool complete = pamconf_parse_text(&env, "/etc/pam.d/fuzz", text, size, &s);
    unsigned lines = physical_lines(data, size);
    FUZZ_CHECK(complete || s.problem[0], "an incomplete reading says why");
    FUZZ_CHECK(s.count <= PAMCONF_LINES_MAX, "bounded number of module lines");
    for (size_t i = 0; i < s.count; i++) {
        const struct pamconf_line *l = &s.lines[i];
        FUZZ_CHECK(strcmp(l->file, "/etc/pam.d/fuzz") == 0, "lines come from this file");
        FUZZ_CHECK(l->line >= 1 && l->line <= lines, "the stanza starts on a line that exists");
        FUZZ_CHECK(l->type == PAMCONF_AUTH || l->type == PAMCONF_SESSION ||
                       l->type == PAMCONF_ACCOUNT || l->type == PAMCONF_PASSWORD,
                   "one of the four types");
        FUZZ_CHECK(l->via[0] == '\0', "no include was found, so no chain");
        FUZZ_CHECK(strlen(l->control) < 1024 && strlen(l->module) < 1024 &&
                       strlen(l->args) < 1024,
                   "every field fits libpam's 1024-byte line");
        FUZZ_CHECK(strlen(l->argv) == strlen(l->args),
                   "argv holds the same words as args, by another separator");
    }
    pamconf_stack_free(&s);
    free(text);
    return 0;
}
