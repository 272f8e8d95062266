#define _GNU_SOURCE
/* Unit tests for the NSS module's parser and reader (nss/nssfile.c): the
 * name rule, the header, every line docs/provisioning.md says is served or
 * refused, the copy into the caller's buffer at every too-small size, the
 * block reader across block edges, and the safe open (ownership, modes,
 * symbolic links, FIFOs, size). The open tests need root (chown). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "nss/nssfile.h"
#include "trusted_tmp.h"

#define NOW ((int64_t)1767225600)
static const struct nssfile_range RANGE = {65536, 99999};

static int pw(const char *line, struct nssfile_pwline *out)
{
    return nssfile_pw_parse(line, strlen(line), &RANGE, NOW, out);
}

static int gr(const char *line, struct nssfile_grline *out)
{
    return nssfile_gr_parse(line, strlen(line), &RANGE, NOW, out);
}

static bool span_is(struct nssfile_span s, const char *want)
{
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

/* ------------------------------------------------------------ the rules */

static void test_name_rule(void **state)
{
    (void)state;
    const char *good[] = {"a", "_", "alice", "a-b_c9", "_svc", "abcdefghijklmnopqrstuvwxyz012345"};
    const char *bad[] = {"", "A", "Alice", "1a", "-a", "a.b", "a b", "a:b", "\xc3\xa9",
                         "abcdefghijklmnopqrstuvwxyz0123456", "a$", "a\n"};
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
        assert_true(nssfile_name_ok(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_false(nssfile_name_ok(bad[i], strlen(bad[i])));
    /* Only n bytes count: no terminator needed, none looked past. */
    assert_true(nssfile_name_ok("alice:x", 5));
    assert_false(nssfile_name_ok("alice:x", 6));
}

static void test_header(void **state)
{
    (void)state;
    struct nssfile_range r = {0, 0};
    const char *h = "# pam_ssooidc passwd 1 uid_range=65536-99999";
    assert_true(nssfile_header(h, strlen(h), NSSFILE_PASSWD, &r));
    assert_int_equal(r.min, 65536);
    assert_int_equal(r.max, 99999);
    assert_false(nssfile_header(h, strlen(h), NSSFILE_GROUP, &r));
    h = "# pam_ssooidc group 1 uid_range=1000-2147483647";
    assert_true(nssfile_header(h, strlen(h), NSSFILE_GROUP, &r));
    assert_int_equal(r.min, 1000);
    assert_int_equal(r.max, 2147483647u);
    h = "# pam_ssooidc group 1 uid_range=5000-5000";
    assert_true(nssfile_header(h, strlen(h), NSSFILE_GROUP, &r));
    const char *bad[] = {
        "",
        "# pam_ssooidc passwd 2 uid_range=65536-99999",
        "# pam_ssooidc passwd 1 uid_range=0-99999",
        "# pam_ssooidc passwd 1 uid_range=999-99999",
        "# pam_ssooidc passwd 1 uid_range=65536-2147483648",
        "# pam_ssooidc passwd 1 uid_range=99999-65536",
        "# pam_ssooidc passwd 1 uid_range=065536-99999",
        "# pam_ssooidc passwd 1 uid_range=65536-99999 ",
        "# pam_ssooidc passwd 1 uid_range=65536",
        "# pam_ssooidc passwd 1 uid_range=65536-",
        "# pam_ssooidc passwd 1 uid_range=-1-99999",
        "# pam_ssooidc passwd 1 uid_range=+65536-99999",
        "# pam_ssooidc passwd 1 uid_range=65536--99999",
        "# pam_ssooidc passwd 1 uid_range=",
        "#pam_ssooidc passwd 1 uid_range=65536-99999",
        "alice:*:65536:65536::/home/alice:/bin/sh:0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        r = (struct nssfile_range){7, 7};
        assert_false(nssfile_header(bad[i], strlen(bad[i]), NSSFILE_PASSWD, &r));
    }
}

static void test_pw_good(void **state)
{
    (void)state;
    struct nssfile_pwline l;
    assert_int_equal(pw("alice:*:65536:65536:alice (via pam_ssooidc):/home/alice:/bin/bash:"
                        "1767225601:65537,27",
                        &l),
                     NSSFILE_OK);
    assert_true(span_is(l.name, "alice"));
    assert_true(span_is(l.gecos, "alice (via pam_ssooidc)"));
    assert_true(span_is(l.home, "/home/alice"));
    assert_true(span_is(l.shell, "/bin/bash"));
    assert_int_equal(l.uid, 65536);
    assert_int_equal(l.expires, 1767225601);
    assert_int_equal(l.ngroups, 2);
    assert_int_equal(l.groups[0], 65537);
    assert_int_equal(l.groups[1], 27);
    /* Eight fields: no groups; an empty ninth: none either. */
    assert_int_equal(pw("bob:*:99999:99999::/b:/bin/sh:0", &l), NSSFILE_OK);
    assert_int_equal(l.ngroups, 0);
    assert_int_equal(l.gecos.n, 0);
    assert_int_equal(l.uid, 99999);
    assert_int_equal(pw("bob:*:65536:65536::/b:/bin/sh:0:", &l), NSSFILE_OK);
    assert_int_equal(l.ngroups, 0);
    /* 64 supplementary groups is the most. */
    char line[1024] = "carol:*:70000:70000:c:/c:/bin/sh:0:";
    for (int i = 1; i <= NSSFILE_GROUPS_MAX; i++)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%d", i > 1 ? "," : "",
                 1000 + i);
    assert_int_equal(pw(line, &l), NSSFILE_OK);
    assert_int_equal(l.ngroups, NSSFILE_GROUPS_MAX);
    assert_int_equal(l.groups[63], 1064);
    /* The largest gid there is but (gid_t)-1. */
    assert_int_equal(pw("dave:*:65536:65536::/d:/bin/sh:0:4294967294", &l), NSSFILE_OK);
    assert_int_equal(l.groups[0], 4294967294u);
    /* UTF-8 in the comment field is fine. */
    assert_int_equal(pw("eve:*:65536:65536:\xc3\x89ve:/e:/bin/sh:0", &l), NSSFILE_OK);
}

static void test_pw_refused(void **state)
{
    (void)state;
    char sixty_five[1024] = "carol:*:70000:70000:c:/c:/bin/sh:0:";
    for (int i = 1; i <= NSSFILE_GROUPS_MAX + 1; i++)
        snprintf(sixty_five + strlen(sixty_five), sizeof(sixty_five) - strlen(sixty_five),
                 "%s%d", i > 1 ? "," : "", 1000 + i);
    const char *bad[] = {
        sixty_five,                                              /* 65 groups */
        "root:*:0:0:root:/root:/bin/sh:0",                       /* uid 0 */
        "alice:*:65535:65535::/a:/bin/sh:0",                     /* below the range */
        "alice:*:100000:100000::/a:/bin/sh:0",                   /* above the range */
        "alice:*:4294967296:4294967296::/a:/bin/sh:0",           /* past 32 bits */
        "alice:*:65536:65537::/a:/bin/sh:0",                     /* gid != uid */
        "alice:*:65536:0::/a:/bin/sh:0",                         /* gid 0 */
        "Alice:*:65536:65536::/a:/bin/sh:0",                     /* name rule */
        "1alice:*:65536:65536::/a:/bin/sh:0",                    /* name rule */
        ":*:65536:65536::/a:/bin/sh:0",                          /* empty name */
        "alice:$6$hash:65536:65536::/a:/bin/sh:0",               /* a password */
        "alice::65536:65536::/a:/bin/sh:0",                      /* no "*" */
        "alice:x:65536:65536::/a:/bin/sh:0",                     /* "x": a shadow entry */
        "alice:*:65536:65536::/a:/bin/sh",                       /* 7 fields */
        "alice:*:65536:65536::/a:/bin/sh:0:1001:extra",          /* 10 fields */
        "alice:*:65536:65536::/a:/bin/sh:0:0",                   /* supplementary 0 */
        "alice:*:65536:65536::/a:/bin/sh:0:27,0",                /* supplementary 0 */
        "alice:*:65536:65536::/a:/bin/sh:0:4294967295",          /* (gid_t)-1 */
        "alice:*:65536:65536::/a:/bin/sh:0:sudo",                /* not numeric */
        "alice:*:65536:65536::/a:/bin/sh:0:27,",                 /* empty element */
        "alice:*:65536:65536::/a:/bin/sh:0:,27",                 /* empty element */
        "alice:*:65536:65536::/a:/bin/sh:0:27,,28",              /* empty element */
        "alice:*:65536:65536::/a:/bin/sh:0:-27",                 /* sign */
        "alice:*:65536:65536::/a:/bin/sh:0:027",                 /* not canonical */
        "alice:*:065536:065536::/a:/bin/sh:0",                   /* not canonical */
        "alice:*:+65536:65536::/a:/bin/sh:0",                    /* sign */
        "alice:*: 65536:65536::/a:/bin/sh:0",                    /* space */
        "alice:*:65536:65536::/a:/bin/sh:1",                     /* expired long ago */
        "alice:*:65536:65536::/a:/bin/sh:1767225600",            /* expires == now */
        "alice:*:65536:65536::/a:/bin/sh:-1",                    /* negative */
        "alice:*:65536:65536::/a:/bin/sh:9223372036854775808",   /* past int64 */
        "alice:*:65536:65536::/a:/bin/sh:",                      /* empty expiry */
        "alice:*:65536:65536::/a:/bin/sh:never",                 /* not a number */
        "alice:*:65536:65536::home:/bin/sh:0",                   /* relative home */
        "alice:*:65536:65536::/a:sh:0",                          /* relative shell */
        "alice:*:65536:65536:::/bin/sh:0",                       /* empty home */
        "alice:*:65536:65536:tab\there:/a:/bin/sh:0",            /* control byte */
        "alice:*:65536:65536:del\x7f:/a:/bin/sh:0",              /* DEL */
        "alice:*:65536:65536::/a:/bin/sh\r:0",                   /* CR */
        "",                                                      /* empty line */
        "# a comment",                                           /* not an account */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct nssfile_pwline l;
        if (pw(bad[i], &l) != NSSFILE_SKIP)
            fail_msg("served: %s", bad[i]);
    }
    /* A NUL inside the line (the reader hands lines over with their NULs). */
    struct nssfile_pwline l;
    const char nul[] = "alice:*:65536:65536:a\0b:/a:/bin/sh:0";
    assert_int_equal(nssfile_pw_parse(nul, sizeof(nul) - 1, &RANGE, NOW, &l), NSSFILE_SKIP);
    /* Expiry one second ahead is still served. */
    assert_int_equal(pw("alice:*:65536:65536::/a:/bin/sh:1767225601", &l), NSSFILE_OK);
    /* A line longer than NSSFILE_LINE_MAX is never served, whatever it holds. */
    char *longline = malloc(NSSFILE_LINE_MAX + 64);
    assert_non_null(longline);
    snprintf(longline, NSSFILE_LINE_MAX + 64, "alice:*:65536:65536:%0*d:/a:/bin/sh:0",
             NSSFILE_LINE_MAX, 7);
    assert_int_equal(pw(longline, &l), NSSFILE_SKIP);
    free(longline);
}

static void test_gr(void **state)
{
    (void)state;
    struct nssfile_grline l;
    assert_int_equal(gr("devs:x:65537:alice,bob:0", &l), NSSFILE_OK);
    assert_true(span_is(l.name, "devs"));
    assert_true(span_is(l.members, "alice,bob"));
    assert_int_equal(l.nmembers, 2);
    assert_int_equal(l.gid, 65537);
    assert_int_equal(gr("alice:x:65536::1767225601", &l), NSSFILE_OK);
    assert_int_equal(l.nmembers, 0);
    assert_int_equal(l.expires, 1767225601);
    const char *bad[] = {
        "wheel:x:0:alice:0",           /* gid 0 */
        "devs:x:65535::0",             /* below the range */
        "devs:x:100000::0",            /* above */
        "devs:x:65537:alice,Root:0",   /* a member failing the name rule */
        "devs:x:65537:alice,:0",       /* empty member */
        "devs:x:65537:,alice:0",       /* empty member */
        "devs:x:65537:alice bob:0",    /* space */
        "devs:x:65537::1",             /* expired */
        "devs:x:65537::1767225600",    /* expires == now */
        "devs:x:65537:",               /* 4 fields */
        "devs:x:65537::0:",            /* 6 fields */
        "Devs:x:65537::0",             /* name rule */
        "devs:*:65537::0",             /* not "x" */
        "devs:x:65537a::0",            /* not a number */
        "devs:x:65537::\t0",           /* control byte */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        if (gr(bad[i], &l) != NSSFILE_SKIP)
            fail_msg("served: %s", bad[i]);
}

static void test_match_before_parse(void **state)
{
    (void)state;
    const char *line = "alice:*:65536:65536::/a:/bin/sh:0";
    size_t n = strlen(line);
    assert_true(nssfile_name_is(line, n, "alice", 5));
    assert_false(nssfile_name_is(line, n, "alic", 4));
    assert_false(nssfile_name_is(line, n, "alicex", 6));
    assert_false(nssfile_name_is("alice", 5, "alice", 5)); /* no ':' after */
    assert_true(nssfile_id_is(line, n, 65536));
    assert_false(nssfile_id_is(line, n, 6553));
    assert_false(nssfile_id_is(line, n, 655360));
    assert_false(nssfile_id_is(line, n, 0));
    assert_false(nssfile_id_is("alice:x:65536", 13, 65536)); /* no ':' after */
    assert_false(nssfile_id_is("alice:x", 7, 65536));
    assert_true(nssfile_id_is("g:x:4294967295:", 15, 4294967295u));
    assert_true(nssfile_id_is("devs:x:65537::0", 15, 65537));
}

/* ------------------------------------------------------------ the copies */

static void test_pw_fill_sizes(void **state)
{
    (void)state;
    struct nssfile_pwline l;
    assert_int_equal(pw("alice:*:65536:65536:Alice A:/home/alice:/bin/bash:0:27", &l), NSSFILE_OK);
    /* name, "*", gecos, home, shell, each with its NUL */
    size_t need = 6 + 2 + 8 + 12 + 10;
    for (size_t size = 0; size <= need; size++) {
        char *buf = malloc(size ? size : 1); /* exactly `size`: ASan sees any overrun */
        assert_non_null(buf);
        struct passwd p;
        memset(&p, 0, sizeof(p));
        int rc = nssfile_pw_fill(&l, &p, buf, size);
        if (size < need) {
            assert_int_equal(rc, NSSFILE_ERANGE);
        } else {
            assert_int_equal(rc, NSSFILE_OK);
            assert_string_equal(p.pw_name, "alice");
            assert_string_equal(p.pw_passwd, "*");
            assert_string_equal(p.pw_gecos, "Alice A");
            assert_string_equal(p.pw_dir, "/home/alice");
            assert_string_equal(p.pw_shell, "/bin/bash");
            assert_int_equal(p.pw_uid, 65536);
            assert_int_equal(p.pw_gid, 65536);
        }
        free(buf);
    }
}

static void test_gr_fill_sizes(void **state)
{
    (void)state;
    struct nssfile_grline l;
    assert_int_equal(gr("devs:x:65537:alice,bob,c:0", &l), NSSFILE_OK);
    /* Every start alignment: the member array is aligned inside the buffer. */
    for (size_t shift = 0; shift < sizeof(char *); shift++) {
        size_t pad = (sizeof(char *) - shift) % sizeof(char *);
        size_t need = pad + 4 * sizeof(char *) + 5 + 2 + 6 + 4 + 2;
        for (size_t size = 0; size <= need; size++) {
            /* An aligned block; the buffer starts `shift` bytes in and ends at
             * its end, so a write past `size` is past the block. */
            char *block = malloc(shift + size ? shift + size : 1);
            assert_non_null(block);
            char *buf = block + shift;
            struct group g;
            memset(&g, 0, sizeof(g));
            int rc = nssfile_gr_fill(&l, &g, buf, size);
            if (size < need) {
                assert_int_equal(rc, NSSFILE_ERANGE);
            } else {
                assert_int_equal(rc, NSSFILE_OK);
                assert_string_equal(g.gr_name, "devs");
                assert_string_equal(g.gr_passwd, "x");
                assert_int_equal(g.gr_gid, 65537);
                assert_int_equal((uintptr_t)g.gr_mem % sizeof(char *), 0);
                assert_string_equal(g.gr_mem[0], "alice");
                assert_string_equal(g.gr_mem[1], "bob");
                assert_string_equal(g.gr_mem[2], "c");
                assert_null(g.gr_mem[3]);
                assert_true((char *)g.gr_mem >= buf && g.gr_name >= buf &&
                            g.gr_mem[2] + 2 <= buf + size);
            }
            free(block);
        }
    }
    /* No members: one NULL. */
    assert_int_equal(gr("alice:x:65536::0", &l), NSSFILE_OK);
    char buf[64] __attribute__((aligned(8)));
    struct group g;
    assert_int_equal(nssfile_gr_fill(&l, &g, buf, sizeof(buf)), NSSFILE_OK);
    assert_null(g.gr_mem[0]);
    assert_string_equal(g.gr_name, "alice");
}

/* ------------------------------------------------------------ files */

static char top[128]; /* root 0755, under TRUSTED_TMP_BASE */

static const char *at(const char *rel)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, rel);
    return buf[i];
}

static void put(const char *rel, const char *text, size_t len, mode_t mode, uid_t uid)
{
    int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chown(at(rel), uid, 0), 0);
    assert_int_equal(chmod(at(rel), mode), 0);
}

static void put_str(const char *rel, const char *text)
{
    put(rel, text, strlen(text), 0644, 0);
}

static int setup(void **state)
{
    (void)state;
    if (geteuid() != 0)
        return 0;
    return trusted_mkdtemp(top, sizeof(top), "test_nssfile", 0755) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (top[0])
        trusted_rmtree(top);
    top[0] = '\0';
    return 0;
}

#define NEED_ROOT()                                  \
    do {                                             \
        if (geteuid() != 0)                          \
            skip();                                  \
    } while (0)

#define PW_HEAD "# pam_ssooidc passwd 1 uid_range=65536-99999\n"

/* Every line the reader returns after the header, joined with '|'. */
static int read_all(const char *file, char *out, size_t outlen, size_t cap)
{
    struct nssfile_reader r;
    struct nssfile_range range;
    out[0] = '\0';
    if (nssfile_begin(&r, top, file, NSSFILE_PASSWD, &range, cap) != 0)
        return -1;
    const char *line;
    size_t len;
    int count = 0;
    while (nssfile_next_line(&r, &line, &len) == 1) {
        size_t used = strlen(out);
        if (used + len + 2 < outlen) {
            memcpy(out + used, line, len);
            out[used + len] = '|';
            out[used + len + 1] = '\0';
        }
        count++;
    }
    nssfile_end(&r);
    return count;
}

static void test_open_good_and_missing(void **state)
{
    (void)state;
    NEED_ROOT();
    put_str("passwd", PW_HEAD "a:*:65536:65536::/a:/bin/sh:0\n");
    int fd = nssfile_open(top, "passwd");
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
    errno = 0;
    assert_int_equal(nssfile_open(top, "group"), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(nssfile_open(at("nonexistent"), "passwd"), -1);
}

static void test_open_refusals(void **state)
{
    (void)state;
    NEED_ROOT();
    const char *text = PW_HEAD "a:*:65536:65536::/a:/bin/sh:0\n";
    put("owned", text, strlen(text), 0644, 1);
    put("gw", text, strlen(text), 0664, 0);
    put("ww", text, strlen(text), 0646, 0);
    put("good", text, strlen(text), 0600, 0);
    assert_int_equal(symlink("good", at("link")), 0);
    assert_int_equal(mkfifo(at("fifo"), 0644), 0);
    assert_int_equal(mkdir(at("dir"), 0755), 0);
    put("big", text, strlen(text), 0644, 0);
    assert_int_equal(truncate(at("big"), (off_t)NSSFILE_SIZE_MAX + 1), 0);
    put("edge", text, strlen(text), 0644, 0);
    assert_int_equal(truncate(at("edge"), (off_t)NSSFILE_SIZE_MAX), 0);

    int fd = nssfile_open(top, "good"); /* 0600 is fine: only writes matter */
    assert_true(fd >= 0);
    close(fd);
    fd = nssfile_open(top, "edge"); /* exactly 64 MiB */
    assert_true(fd >= 0);
    close(fd);
    const char *bad[] = {"owned", "gw", "ww", "link", "fifo", "dir", "big"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        if (nssfile_open(top, bad[i]) != -1)
            fail_msg("opened: %s", bad[i]);

    /* The directory: group- or world-writable, or not root's, or a link. */
    assert_int_equal(chmod(top, 0775), 0);
    assert_int_equal(nssfile_open(top, "good"), -1);
    assert_int_equal(chmod(top, 0757), 0);
    assert_int_equal(nssfile_open(top, "good"), -1);
    assert_int_equal(chmod(top, 0755), 0);
    assert_int_equal(chown(top, 1, 0), 0);
    assert_int_equal(nssfile_open(top, "good"), -1);
    assert_int_equal(chown(top, 0, 0), 0);
    char linkdir[200];
    snprintf(linkdir, sizeof(linkdir), "%s.link", top);
    assert_int_equal(symlink(top, linkdir), 0);
    assert_int_equal(nssfile_open(linkdir, "good"), -1);
    unlink(linkdir);
    fd = nssfile_open(top, "good");
    assert_true(fd >= 0);
    close(fd);
}

static void test_header_required(void **state)
{
    (void)state;
    NEED_ROOT();
    char out[256];
    put_str("nohead", "a:*:65536:65536::/a:/bin/sh:0\n");
    assert_int_equal(read_all("nohead", out, sizeof(out), 0), -1);
    put_str("late", "\n" PW_HEAD "a:*:65536:65536::/a:/bin/sh:0\n");
    assert_int_equal(read_all("late", out, sizeof(out), 0), -1);
    put_str("cut", "# pam_ssooidc passwd 1 uid_range=65536-99999");
    assert_int_equal(read_all("cut", out, sizeof(out), 0), -1);
    put_str("empty", "");
    assert_int_equal(read_all("empty", out, sizeof(out), 0), -1);
    put_str("onlyhead", PW_HEAD);
    assert_int_equal(read_all("onlyhead", out, sizeof(out), 0), 0);
    /* The header behind an overlong first line is not the first line. */
    size_t n = NSSFILE_LINE_MAX + 10 + strlen(PW_HEAD);
    char *text = malloc(n);
    assert_non_null(text);
    memset(text, 'x', NSSFILE_LINE_MAX + 9);
    text[NSSFILE_LINE_MAX + 9] = '\n';
    memcpy(text + NSSFILE_LINE_MAX + 10, PW_HEAD, strlen(PW_HEAD));
    put("longfirst", text, n, 0644, 0);
    free(text);
    assert_int_equal(read_all("longfirst", out, sizeof(out), 0), -1);
}

static void test_reader_lines(void **state)
{
    (void)state;
    NEED_ROOT();
    /* Lines straddling every block edge: with the smallest buffer, 300
     * lines of varying length cross it many times. */
    size_t cap = 1 << 20;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, cap, "%s", PW_HEAD);
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, cap - len, "u%d:%0*d\n", i, i * 7 % 200, 0);
    put("many", text, len, 0644, 0);
    struct nssfile_reader r;
    struct nssfile_range range;
    const char *line;
    size_t n;
    for (size_t bufsize = 0; bufsize <= 70000; bufsize += 35000) {
        assert_int_equal(nssfile_begin(&r, top, "many", NSSFILE_PASSWD, &range, bufsize), 0);
        int i = 0;
        while (nssfile_next_line(&r, &line, &n) == 1) {
            char want[300];
            int wn = snprintf(want, sizeof(want), "u%d:%0*d", i, i * 7 % 200, 0);
            assert_int_equal(n, (size_t)wn);
            assert_memory_equal(line, want, n);
            i++;
        }
        assert_int_equal(i, 300);
        assert_int_equal(r.line_off, len);
        nssfile_end(&r);
    }

    /* An overlong line (of NULs, even) is passed over, the next one read;
     * a line of exactly NSSFILE_LINE_MAX bytes is returned; a last line
     * without '\n' is not. */
    len = (size_t)snprintf(text, cap, "%s", PW_HEAD);
    memset(text + len, 0, 3 * NSSFILE_LINE_MAX);
    len += 3 * NSSFILE_LINE_MAX;
    len += (size_t)snprintf(text + len, cap - len, "\nafter\n");
    memset(text + len, 'm', NSSFILE_LINE_MAX);
    len += NSSFILE_LINE_MAX;
    text[len++] = '\n';
    memset(text + len, 'o', NSSFILE_LINE_MAX + 1);
    len += NSSFILE_LINE_MAX + 1;
    len += (size_t)snprintf(text + len, cap - len, "\nlast\npartial");
    put("odd", text, len, 0644, 0);
    assert_int_equal(nssfile_begin(&r, top, "odd", NSSFILE_PASSWD, &range, 0), 0);
    assert_int_equal(nssfile_next_line(&r, &line, &n), 1);
    assert_int_equal(n, 5);
    assert_memory_equal(line, "after", 5);
    assert_int_equal(nssfile_next_line(&r, &line, &n), 1);
    assert_int_equal(n, NSSFILE_LINE_MAX);
    assert_int_equal(line[0], 'm');
    assert_int_equal(nssfile_next_line(&r, &line, &n), 1);
    assert_int_equal(n, 4);
    assert_memory_equal(line, "last", 4);
    assert_int_equal(nssfile_next_line(&r, &line, &n), 0);
    assert_int_equal(nssfile_next_line(&r, &line, &n), 0);
    nssfile_end(&r);

    /* Starting at an offset (where an enumeration left off). */
    len = (size_t)snprintf(text, cap, PW_HEAD "one\ntwo\nthree\n");
    put("off", text, len, 0644, 0);
    int fd = nssfile_open(top, "off");
    assert_true(fd >= 0);
    assert_int_equal(nssfile_reader_init(&r, fd, strlen(PW_HEAD) + 4, 0), 0);
    assert_int_equal(nssfile_next_line(&r, &line, &n), 1);
    assert_memory_equal(line, "two", 3);
    assert_int_equal(r.line_off, strlen(PW_HEAD) + 8);
    nssfile_reader_free(&r);
    close(fd);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_rule),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_pw_good),
        cmocka_unit_test(test_pw_refused),
        cmocka_unit_test(test_gr),
        cmocka_unit_test(test_match_before_parse),
        cmocka_unit_test(test_pw_fill_sizes),
        cmocka_unit_test(test_gr_fill_sizes),
        cmocka_unit_test_setup_teardown(test_open_good_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_lines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
