#define _GNU_SOURCE
/* fuzz_nssfile - the NSS module's parser and reader (nss/nssfile.c).
 *
 * Input: one byte choosing the buffer size for the copies, then text.
 * The text is read as a file (through a memfd, with the smallest block, so
 * lines cross block edges) and every line it yields is parsed as a passwd
 * line, a group line and a header. Invariants:
 *   - the reader yields exactly the '\n'-terminated lines of at most
 *     NSSFILE_LINE_MAX bytes, in order (a reference split below);
 *   - a line accepted as passwd or group line is rendered back from what
 *     the parser returned into exactly the same bytes (numbers have one
 *     spelling), and what was accepted obeys the rules: the name rule, the
 *     id inside the range, gid = uid, no supplementary gid 0, at most 64,
 *     not expired, absolute home and shell;
 *   - an accepted header renders back the same and names a range inside
 *     1000..2147483647;
 *   - a copy into a buffer of the chosen size either fits (and then holds
 *     exactly the fields) or says ERANGE; the exact size always fits. */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "nss/nssfile.h"

#define NOW ((int64_t)1767225600)
static const struct nssfile_range RANGE = {65536, 99999};

struct render {
    char s[NSSFILE_LINE_MAX + 64];
    size_t n;
};

static void put(struct render *r, const char *p, size_t n)
{
    FUZZ_CHECK(r->n + n < sizeof(r->s), "rendering fits");
    memcpy(r->s + r->n, p, n);
    r->n += n;
}

static void putf(struct render *r, const char *fmt, unsigned long long v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), fmt, v);
    put(r, tmp, (size_t)n);
}

static bool inside(struct nssfile_span s, const char *line, size_t len)
{
    return s.p >= line && s.p + s.n <= line + len;
}

static void check_pw(const char *line, size_t len, size_t bufsize)
{
    struct nssfile_pwline l;
    int rc = nssfile_pw_parse(line, len, &RANGE, NOW, &l);
    FUZZ_CHECK(rc == NSSFILE_OK || rc == NSSFILE_SKIP, "passwd: OK or SKIP");
    if (rc != NSSFILE_OK)
        return;
    FUZZ_CHECK(inside(l.name, line, len) && inside(l.gecos, line, len) &&
               inside(l.home, line, len) && inside(l.shell, line, len),
               "passwd: fields inside the line");
    FUZZ_CHECK(nssfile_name_ok(l.name.p, l.name.n), "passwd: the name rule");
    FUZZ_CHECK(l.uid >= RANGE.min && l.uid <= RANGE.max && l.uid != 0, "passwd: uid in range");
    FUZZ_CHECK(l.ngroups <= NSSFILE_GROUPS_MAX, "passwd: at most 64 groups");
    FUZZ_CHECK(l.expires == 0 || l.expires > NOW, "passwd: not expired");
    FUZZ_CHECK(l.home.n && l.home.p[0] == '/' && l.shell.n && l.shell.p[0] == '/',
               "passwd: absolute home and shell");
    struct render r = {.n = 0};
    put(&r, l.name.p, l.name.n);
    putf(&r, ":*:%llu", l.uid);
    putf(&r, ":%llu:", l.uid);
    put(&r, l.gecos.p, l.gecos.n);
    put(&r, ":", 1);
    put(&r, l.home.p, l.home.n);
    put(&r, ":", 1);
    put(&r, l.shell.p, l.shell.n);
    putf(&r, ":%llu", (unsigned long long)l.expires);
    /* Eight fields or nine (the ninth maybe empty): render as the line did. */
    size_t colons = 0;
    for (size_t i = 0; i < len; i++)
        colons += line[i] == ':';
    if (colons == 8)
        put(&r, ":", 1);
    for (size_t i = 0; i < l.ngroups; i++) {
        FUZZ_CHECK(l.groups[i] != 0 && l.groups[i] != (gid_t)-1, "passwd: no gid 0 or -1");
        putf(&r, i ? ",%llu" : "%llu", l.groups[i]);
    }
    FUZZ_CHECK(r.n == len && memcmp(r.s, line, len) == 0, "passwd: renders back the same");

    size_t need = l.name.n + 1 + 2 + l.gecos.n + 1 + l.home.n + 1 + l.shell.n + 1;
    char *buf = malloc(bufsize ? bufsize : 1);
    struct passwd pw;
    rc = nssfile_pw_fill(&l, &pw, buf, bufsize);
    FUZZ_CHECK(rc == (bufsize >= need ? NSSFILE_OK : NSSFILE_ERANGE), "passwd: ERANGE exactly when short");
    if (rc == NSSFILE_OK)
        FUZZ_CHECK(strlen(pw.pw_name) == l.name.n && pw.pw_uid == l.uid && pw.pw_gid == l.uid &&
                   strlen(pw.pw_shell) == l.shell.n,
                   "passwd: the copy holds the fields");
    free(buf);
}

static void check_gr(const char *line, size_t len, size_t bufsize)
{
    struct nssfile_grline l;
    int rc = nssfile_gr_parse(line, len, &RANGE, NOW, &l);
    FUZZ_CHECK(rc == NSSFILE_OK || rc == NSSFILE_SKIP, "group: OK or SKIP");
    if (rc != NSSFILE_OK)
        return;
    FUZZ_CHECK(inside(l.name, line, len) && inside(l.members, line, len),
               "group: fields inside the line");
    FUZZ_CHECK(nssfile_name_ok(l.name.p, l.name.n), "group: the name rule");
    FUZZ_CHECK(l.gid >= RANGE.min && l.gid <= RANGE.max, "group: gid in range");
    FUZZ_CHECK(l.expires == 0 || l.expires > NOW, "group: not expired");
    struct render r = {.n = 0};
    put(&r, l.name.p, l.name.n);
    putf(&r, ":x:%llu:", l.gid);
    put(&r, l.members.p, l.members.n);
    putf(&r, ":%llu", (unsigned long long)l.expires);
    FUZZ_CHECK(r.n == len && memcmp(r.s, line, len) == 0, "group: renders back the same");

    char *block = malloc(bufsize ? bufsize : 1);
    struct group gr;
    rc = nssfile_gr_fill(&l, &gr, block, bufsize);
    FUZZ_CHECK(rc == NSSFILE_OK || rc == NSSFILE_ERANGE, "group: OK or ERANGE");
    if (rc == NSSFILE_OK) {
        size_t i = 0;
        for (; gr.gr_mem[i]; i++)
            FUZZ_CHECK(nssfile_name_ok(gr.gr_mem[i], strlen(gr.gr_mem[i])), "group: members pass");
        FUZZ_CHECK(i == l.nmembers && gr.gr_gid == l.gid, "group: the copy holds the fields");
    }
    free(block);
    /* The exact size a copy needs always fits. */
    size_t need = (l.nmembers + 1) * sizeof(char *) + l.name.n + 1 + 2 + l.members.n +
                  (l.nmembers ? 1 : 0);
    block = malloc(need);
    FUZZ_CHECK(nssfile_gr_fill(&l, &gr, block, need) == NSSFILE_OK, "group: the exact size fits");
    free(block);
}

static void check_header(const char *line, size_t len)
{
    for (int k = 0; k < 2; k++) {
        struct nssfile_range range;
        enum nssfile_kind kind = k ? NSSFILE_GROUP : NSSFILE_PASSWD;
        if (!nssfile_header(line, len, kind, &range))
            continue;
        FUZZ_CHECK(range.min >= NSSFILE_ID_MIN && range.min <= range.max &&
                   range.max <= NSSFILE_ID_MAX, "header: range inside 1000..2147483647");
        char want[128];
        int n = snprintf(want, sizeof(want), "# pam_ssooidc %s 1 uid_range=%u-%u",
                         k ? "group" : "passwd", range.min, range.max);
        FUZZ_CHECK((size_t)n == len && memcmp(want, line, len) == 0, "header: renders back the same");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t bufsize = fuzz_byte(&in);
    int fd = memfd_create("fuzz_nssfile", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (in.n && write(fd, in.p, in.n) != (ssize_t)in.n) {
        close(fd);
        return 0;
    }
    struct nssfile_reader r;
    if (nssfile_reader_init(&r, fd, 0, 0) != 0)
        abort();
    /* The reference: split at '\n', keep the terminated lines that fit. */
    size_t start = 0, next_ref = 0;
    const char *line;
    size_t len;
    while (nssfile_next_line(&r, &line, &len) == 1) {
        const uint8_t *nl;
        size_t ref_len;
        for (;;) {
            nl = next_ref < in.n ? memchr(in.p + next_ref, '\n', in.n - next_ref) : NULL;
            FUZZ_CHECK(nl != NULL, "reader: no line where the reference has none");
            ref_len = (size_t)(nl - in.p) - next_ref;
            start = next_ref;
            next_ref += ref_len + 1;
            if (ref_len <= NSSFILE_LINE_MAX)
                break;
        }
        FUZZ_CHECK(len == ref_len && memcmp(line, in.p + start, len) == 0,
                   "reader: the same line as the reference");
        char *copy = fuzz_dup_exact((const uint8_t *)line, len);
        check_pw(copy, len, bufsize);
        check_gr(copy, len, bufsize);
        check_header(copy, len);
        free(copy);
    }
    /* Whatever the reference has left: no terminated line that fits. */
    while (next_ref < in.n) {
        const uint8_t *nl = memchr(in.p + next_ref, '\n', in.n - next_ref);
        if (!nl)
            break;
        FUZZ_CHECK((size_t)(nl - in.p) - next_ref > NSSFILE_LINE_MAX, "reader: missed no line");
        next_ref = (size_t)(nl - in.p) + 1;
    }
    nssfile_reader_free(&r);
    close(fd);
    return 0;
}
