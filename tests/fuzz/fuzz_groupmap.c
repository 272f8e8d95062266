/* fuzz_groupmap - group_map's checker and resolver (core/groupmap.h).
 *
 * Input: the provider groups a person holds (first line, '|'-separated),
 * then the group_map text.
 * Invariants: the check is 0 or -1, and -1 comes with a reason naming a
 * line; on a text that passed, every local group resolved passes the name
 * rule, appears once, and comes from a line whose provider group the
 * person holds; the count never exceeds the bound given. */
#include "fuzz_common.h"
#include "core/groupmap.h"
#include "core/ledger.h"
#include "core/util.h"

#define GIVEN_MAX 8
#define OUT_MAX 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : size;
    char given[GIVEN_MAX][256];
    size_t n_given = 0, start = 0;
    for (size_t i = 0; i <= head && n_given < GIVEN_MAX; i++) {
        if (i == head || data[i] == '|') {
            size_t len = i - start < 255 ? i - start : 255;
            memcpy(given[n_given], data + start, len);
            given[n_given++][len] = '\0';
            start = i + 1;
        }
    }
    size_t tlen = nl ? size - head - 1 : 0;
    char *text = fuzz_dup_exact(nl ? nl + 1 : data, tlen);
    struct sso_error err = SSO_ERROR_INIT;
    int rc = groupmap_check_text(text, tlen, &err);
    FUZZ_CHECK(rc == 0 || rc == -1, "the check is 0 or -1");
    if (rc < 0) {
        FUZZ_CHECK(strstr(err.msg, "group_map line ") != NULL, "a refusal names its line");
    } else {
        struct groupmap m = {text, tlen};
        char out[OUT_MAX][GROUPMAP_LOCAL_MAX + 1];
        size_t n = groupmap_resolve(&m, (const char (*)[256])given, n_given, out, OUT_MAX);
        FUZZ_CHECK(n <= OUT_MAX, "bounded by max");
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(ledger_name_ok(out[i]), "every local group passes the name rule");
            for (size_t j = 0; j < i; j++)
                FUZZ_CHECK(strcmp(out[i], out[j]) != 0, "each local group once");
        }
        if (n_given == 0)
            FUZZ_CHECK(n == 0, "no provider group gives nothing");
    }
    free(text);
    return 0;
}
