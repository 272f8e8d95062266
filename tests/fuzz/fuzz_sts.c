/* fuzz_sts - the STS XML readers and the ARN-to-session mapping.
 *
 * Input: an STS answer body (XML). Its first line is also fed, as a C
 * string, straight to identity_session_from_arn, so that function is
 * explored even when the XML does not parse.
 * Invariants:
 *   - sts_parse_arn: 0 means a non-empty ARN of ARN characters only (no
 *     '<'), terminated within the buffer, that appears in the input as
 *     <Arn>ARN</Arn>; -1 leaves arn empty. A smaller buffer succeeds exactly
 *     when the ARN fits it, with the same text;
 *   - sts_parse_error: code and message terminated, printable ASCII only,
 *     whatever the buffer sizes;
 *   - identity_session_from_arn (account 111122223333, role LinuxLogin):
 *     0 means a non-empty session without '/', which is the ARN's last
 *     path element, in an ARN of that account and that role's
 *     AWSReservedSSO_ prefix; -1 leaves session empty. */
#define _GNU_SOURCE /* memmem */
#include "fuzz_common.h"
#include "aws/identity.h"
#include "aws/sts.h"

#define ARN_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/_+=,.@-"
#define ACCOUNT "111122223333"
#define ROLE "LinuxLogin"

static void check_session(const char *arn)
{
    char *session = malloc(128);
    if (!session)
        abort();
    memset(session, 0xA5, 128);
    int rc = identity_session_from_arn(arn, "aws", ACCOUNT, ROLE, session, 128);
    FUZZ_CHECK(rc == 0 || rc == -1, "0 or -1");
    FUZZ_CHECK(fuzz_terminated(session, 128), "session terminated");
    if (rc != 0) {
        FUZZ_CHECK(session[0] == '\0', "no session after a failure");
    } else {
        size_t sl = strlen(session), al = strlen(arn);
        FUZZ_CHECK(sl > 0, "session non-empty");
        FUZZ_CHECK(strchr(session, '/') == NULL, "session holds no '/'");
        FUZZ_CHECK(al > sl && arn[al - sl - 1] == '/' && strcmp(arn + al - sl, session) == 0,
                   "session is the ARN's last path element");
        FUZZ_CHECK(strncmp(arn, "arn:aws:", 8) == 0, "ARN is in partition aws");
        FUZZ_CHECK(strstr(arn, ":sts::" ACCOUNT ":assumed-role/AWSReservedSSO_" ROLE "_") != NULL,
                   "ARN names the configured account and permission set");
    }
    free(session);
}

static void check_arn(const char *xml, size_t len)
{
    char *arn = malloc(512);
    if (!arn)
        abort();
    memset(arn, 0xA5, 512);
    int rc = sts_parse_arn(xml, len, arn, 512);
    FUZZ_CHECK(rc == 0 || rc == -1, "0 or -1");
    FUZZ_CHECK(fuzz_terminated(arn, 512), "arn terminated");
    if (rc != 0) {
        FUZZ_CHECK(arn[0] == '\0', "no ARN after a failure");
    } else {
        size_t n = strlen(arn);
        char *elem = malloc(n + 12);
        if (!elem)
            abort();
        snprintf(elem, n + 12, "<Arn>%s</Arn>", arn);
        FUZZ_CHECK(memmem(xml, len, elem, n + 11) != NULL,
                   "the ARN is an <Arn> element's whole text (nothing cut off, e.g. at a NUL)");
        FUZZ_CHECK(arn[0] != '\0', "ARN non-empty");
        FUZZ_CHECK(fuzz_only(arn, ARN_CHARS), "ARN characters only");
        FUZZ_CHECK(strchr(arn, '<') == NULL, "no markup in the ARN");
        free(elem);
    }

    /* The same answer into a small buffer. */
    size_t small = 1 + len % 97;
    char *arn2 = malloc(small);
    if (!arn2)
        abort();
    int rc2 = sts_parse_arn(xml, len, arn2, small);
    FUZZ_CHECK(fuzz_terminated(arn2, small), "small arn terminated");
    FUZZ_CHECK((rc2 == 0) == (rc == 0 && strlen(arn) < small),
               "a smaller buffer succeeds exactly when the ARN fits");
    if (rc2 == 0)
        FUZZ_CHECK(strcmp(arn, arn2) == 0, "same ARN whatever the buffer");
    else
        FUZZ_CHECK(arn2[0] == '\0', "no ARN after a failure (small buffer)");
    free(arn2);

    if (rc == 0)
        check_session(arn);
    free(arn);
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static void check_error(const char *xml, size_t len)
{
    size_t sizes[][2] = {{64, 256}, {1, 1}, {2 + len % 13, 1 + len % 31}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *code = malloc(sizes[i][0]), *msg = malloc(sizes[i][1]);
        if (!code || !msg)
            abort();
        memset(code, 0xA5, sizes[i][0]);
        memset(msg, 0xA5, sizes[i][1]);
        sts_parse_error(xml, len, code, sizes[i][0], msg, sizes[i][1]);
        FUZZ_CHECK(fuzz_terminated(code, sizes[i][0]), "code terminated");
        FUZZ_CHECK(fuzz_terminated(msg, sizes[i][1]), "message terminated");
        FUZZ_CHECK(printable(code), "code is printable ASCII");
        FUZZ_CHECK(printable(msg), "message is printable ASCII");
        free(code);
        free(msg);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *xml = fuzz_dup_exact(data, size);
    check_arn(xml, size);
    check_error(xml, size);
    free(xml);

    struct fuzz_in in = {data, size};
    char *first = fuzz_line(&in);
    check_session(first);
    free(first);
    return 0;
}
