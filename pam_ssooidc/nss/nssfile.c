/* nssfile.c - the provisioned accounts' files: opening them safely, reading
 * their lines, and checking each line against docs/provisioning.md.
 * Every function here is pure or works on what the caller hands it: no
 * globals, so the glibc entry points may call it from any thread. */
#include "nss/nssfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NSSFILE_PW_FIELDS_MIN 8 /* name:*:uid:gid:gecos:home:shell:expires */
#define NSSFILE_PW_FIELDS_MAX 9 /* ...:groups */
#define NSSFILE_GR_FIELDS 5     /* name:x:gid:members:expires */

bool nssfile_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > NSSFILE_NAME_MAX)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* A decimal number in its one canonical spelling (digits only, no sign, no
 * leading zero but for "0" itself) that is at most `max`. Canonical, so
 * that nssfile_id_is may compare spellings instead of values. */
static bool nssfile_number(const char *p, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20 || (n > 1 && p[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool nssfile_span_is(struct nssfile_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Split at ':' into at most `max` fields; the number of fields there are
 * (more than `max` means the line has too many). */
static size_t nssfile_split(const char *line, size_t len, struct nssfile_span *f, size_t max)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ':')
            continue;
        if (count < max)
            f[count] = (struct nssfile_span){line + start, i - start};
        count++;
        start = i + 1;
    }
    return count;
}

/* No control bytes (NUL, tab, CR, DEL...) anywhere: every field ends up in
 * some program's output or decision, and none of ours ever needs one. */
static bool nssfile_clean(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static bool nssfile_absolute(struct nssfile_span s)
{
    return s.n > 0 && s.p[0] == '/';
}

static bool nssfile_in_range(uint64_t id, const struct nssfile_range *range)
{
    return id != 0 && id >= range->min && id <= range->max;
}

/* expires: 0 (never) or a Unix time still ahead of `now`. */
static bool nssfile_expiry(struct nssfile_span s, int64_t now, int64_t *out)
{
    uint64_t v;
    if (!nssfile_number(s.p, s.n, INT64_MAX, &v))
        return false;
    *out = (int64_t)v;
    return v == 0 || (int64_t)v > now;
}

/* The comma list of supplementary gids: empty, or 1 to NSSFILE_GROUPS_MAX
 * numbers, none of them 0 (root's group is never handed out this way) or
 * (gid_t)-1 (no group at all). */
static bool nssfile_gid_list(struct nssfile_span s, gid_t *groups, size_t *ngroups)
{
    *ngroups = 0;
    if (s.n == 0)
        return true;
    size_t start = 0;
    for (size_t i = 0; i <= s.n; i++) {
        if (i < s.n && s.p[i] != ',')
            continue;
        uint64_t v;
        if (*ngroups == NSSFILE_GROUPS_MAX ||
            !nssfile_number(s.p + start, i - start, UINT32_MAX - 1, &v) || v == 0)
            return false;
        groups[(*ngroups)++] = (gid_t)v;
        start = i + 1;
    }
    return true;
}

/* The comma list of members: empty, or names that pass the name rule. */
static bool nssfile_member_list(struct nssfile_span s, size_t *nmembers)
{
    *nmembers = 0;
    if (s.n == 0)
        return true;
    size_t start = 0;
    for (size_t i = 0; i <= s.n; i++) {
        if (i < s.n && s.p[i] != ',')
            continue;
        if (!nssfile_name_ok(s.p + start, i - start))
            return false;
        (*nmembers)++;
        start = i + 1;
    }
    return true;
}

bool nssfile_header(const char *line, size_t len, enum nssfile_kind kind,
                    struct nssfile_range *range)
{
    const char *prefix = kind == NSSFILE_PASSWD ? "# pam_ssooidc passwd 1 uid_range="
                                                : "# pam_ssooidc group 1 uid_range=";
    size_t pn = strlen(prefix);
    if (len <= pn || memcmp(line, prefix, pn) != 0)
        return false;
    const char *p = line + pn, *end = line + len;
    const char *dash = memchr(p, '-', (size_t)(end - p));
    uint64_t min, max;
    if (!dash || !nssfile_number(p, (size_t)(dash - p), NSSFILE_ID_MAX, &min) ||
        !nssfile_number(dash + 1, (size_t)(end - dash - 1), NSSFILE_ID_MAX, &max))
        return false;
    if (min < NSSFILE_ID_MIN || min > max)
        return false;
    range->min = (uint32_t)min;
    range->max = (uint32_t)max;
    return true;
}

int nssfile_pw_parse(const char *line, size_t len, const struct nssfile_range *range,
                     int64_t now, struct nssfile_pwline *out)
{
    struct nssfile_span f[NSSFILE_PW_FIELDS_MAX];
    size_t nf = nssfile_split(line, len, f, NSSFILE_PW_FIELDS_MAX);
    uint64_t uid, gid;
    if (len > NSSFILE_LINE_MAX || nf < NSSFILE_PW_FIELDS_MIN || nf > NSSFILE_PW_FIELDS_MAX ||
        !nssfile_clean(line, len))
        return NSSFILE_SKIP;
    if (!nssfile_name_ok(f[0].p, f[0].n) || !nssfile_span_is(f[1], "*") ||
        !nssfile_number(f[2].p, f[2].n, UINT32_MAX, &uid) ||
        !nssfile_number(f[3].p, f[3].n, UINT32_MAX, &gid) || !nssfile_in_range(uid, range) ||
        gid != uid || !nssfile_absolute(f[5]) || !nssfile_absolute(f[6]) ||
        !nssfile_expiry(f[7], now, &out->expires))
        return NSSFILE_SKIP;
    if (nf == NSSFILE_PW_FIELDS_MAX) {
        if (!nssfile_gid_list(f[8], out->groups, &out->ngroups))
            return NSSFILE_SKIP;
    } else {
        out->ngroups = 0;
    }
    out->name = f[0];
    out->gecos = f[4];
    out->home = f[5];
    out->shell = f[6];
    out->uid = (uint32_t)uid;
    return NSSFILE_OK;
}

int nssfile_gr_parse(const char *line, size_t len, const struct nssfile_range *range,
                     int64_t now, struct nssfile_grline *out)
{
    struct nssfile_span f[NSSFILE_GR_FIELDS];
    size_t nf = nssfile_split(line, len, f, NSSFILE_GR_FIELDS);
    uint64_t gid;
    if (len > NSSFILE_LINE_MAX || nf != NSSFILE_GR_FIELDS || !nssfile_clean(line, len))
        return NSSFILE_SKIP;
    if (!nssfile_name_ok(f[0].p, f[0].n) || !nssfile_span_is(f[1], "x") ||
        !nssfile_number(f[2].p, f[2].n, UINT32_MAX, &gid) || !nssfile_in_range(gid, range) ||
        !nssfile_member_list(f[3], &out->nmembers) || !nssfile_expiry(f[4], now, &out->expires))
        return NSSFILE_SKIP;
    out->name = f[0];
    out->members = f[3];
    out->gid = (uint32_t)gid;
    return NSSFILE_OK;
}

bool nssfile_name_is(const char *line, size_t len, const char *name, size_t n)
{
    return len > n && line[n] == ':' && memcmp(line, name, n) == 0;
}

bool nssfile_id_is(const char *line, size_t len, uint32_t id)
{
    char digits[10];
    size_t nd = 0;
    do {
        digits[sizeof(digits) - 1 - nd++] = (char)('0' + id % 10);
        id /= 10;
    } while (id);
    /* The third field starts after the second ':'. */
    const char *p = line, *end = line + len;
    for (int colons = 0; colons < 2; colons++) {
        p = memchr(p, ':', (size_t)(end - p));
        if (!p)
            return false;
        p++;
    }
    return (size_t)(end - p) > nd && p[nd] == ':' &&
           memcmp(p, digits + sizeof(digits) - nd, nd) == 0;
}

/* A bump allocator over the caller's buffer: copies spans as C strings. */
struct nssfile_out {
    char *p;
    size_t left;
};

static char *nssfile_put(struct nssfile_out *o, const char *s, size_t n)
{
    if (o->left < n + 1)
        return NULL;
    char *dst = o->p;
    memcpy(dst, s, n);
    dst[n] = '\0';
    o->p += n + 1;
    o->left -= n + 1;
    return dst;
}

int nssfile_pw_fill(const struct nssfile_pwline *l, struct passwd *pw, char *buf, size_t buflen)
{
    struct nssfile_out o = {buf, buflen};
    char *name = nssfile_put(&o, l->name.p, l->name.n);
    char *passwd = nssfile_put(&o, "*", 1);
    char *gecos = nssfile_put(&o, l->gecos.p, l->gecos.n);
    char *home = nssfile_put(&o, l->home.p, l->home.n);
    char *shell = nssfile_put(&o, l->shell.p, l->shell.n);
    if (!name || !passwd || !gecos || !home || !shell)
        return NSSFILE_ERANGE;
    pw->pw_name = name;
    pw->pw_passwd = passwd;
    pw->pw_uid = (uid_t)l->uid;
    pw->pw_gid = (gid_t)l->uid;
    pw->pw_gecos = gecos;
    pw->pw_dir = home;
    pw->pw_shell = shell;
    return NSSFILE_OK;
}

int nssfile_gr_fill(const struct nssfile_grline *l, struct group *gr, char *buf, size_t buflen)
{
    /* The member pointers first, aligned, then the strings. */
    size_t pad = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *);
    size_t ptrs = (l->nmembers + 1) * sizeof(char *);
    if (buflen < pad || buflen - pad < ptrs)
        return NSSFILE_ERANGE;
    char **mem = (char **)(void *)(buf + pad);
    struct nssfile_out o = {buf + pad + ptrs, buflen - pad - ptrs};
    char *name = nssfile_put(&o, l->name.p, l->name.n);
    char *passwd = nssfile_put(&o, "x", 1);
    if (!name || !passwd)
        return NSSFILE_ERANGE;
    size_t i = 0, start = 0;
    for (size_t k = 0; l->nmembers && k <= l->members.n; k++) {
        if (k < l->members.n && l->members.p[k] != ',')
            continue;
        if (!(mem[i++] = nssfile_put(&o, l->members.p + start, k - start)))
            return NSSFILE_ERANGE;
        start = k + 1;
    }
    mem[i] = NULL;
    gr->gr_name = name;
    gr->gr_passwd = passwd;
    gr->gr_gid = (gid_t)l->gid;
    gr->gr_mem = mem;
    return NSSFILE_OK;
}

/* Root's, and writable by nobody else. */
static bool nssfile_owned_safely(const struct stat *st)
{
    return st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

int nssfile_open(const char *dir, const char *file)
{
    struct stat st;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0)
        return -1;
    if (fstat(dfd, &st) != 0 || !S_ISDIR(st.st_mode) || !nssfile_owned_safely(&st)) {
        close(dfd);
        errno = EPERM;
        return -1;
    }
    /* O_NONBLOCK: opening a FIFO put in the file's place returns at once
     * (and is refused below) instead of waiting for a writer. */
    int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    int saved = errno;
    close(dfd);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !nssfile_owned_safely(&st) ||
        st.st_size < 0 || (uint64_t)st.st_size > NSSFILE_SIZE_MAX) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

int nssfile_reader_init(struct nssfile_reader *r, int fd, uint64_t off, size_t cap)
{
    if (cap < NSSFILE_LINE_MAX + 1)
        cap = NSSFILE_LINE_MAX + 1;
    *r = (struct nssfile_reader){.fd = fd, .cap = cap, .off = off, .line_off = off};
    r->buf = malloc(cap);
    if (!r->buf) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void nssfile_reader_free(struct nssfile_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Make room for more: drop what can never become a line (too long already)
 * or move the unfinished line to the front. */
static void nssfile_compact(struct nssfile_reader *r)
{
    size_t avail = r->len - r->pos;
    if (r->skipping || avail > NSSFILE_LINE_MAX) {
        r->line_off += avail;
        r->pos = r->len = 0;
        r->skipping = true;
    } else if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, avail);
        r->pos = 0;
        r->len = avail;
    }
}

/* One pread() into the free end of the buffer: 0, or -1 on an error. */
static int nssfile_fill(struct nssfile_reader *r)
{
    size_t want = r->cap - r->len;
    if (r->off >= NSSFILE_SIZE_MAX) {
        r->eof = true;
        return 0;
    }
    if (want > NSSFILE_SIZE_MAX - r->off)
        want = (size_t)(NSSFILE_SIZE_MAX - r->off);
    ssize_t got;
    do
        got = pread(r->fd, r->buf + r->len, want, (off_t)r->off);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return -1;
    if (got == 0)
        r->eof = true;
    r->len += (size_t)got;
    r->off += (uint64_t)got;
    return 0;
}

int nssfile_next_line(struct nssfile_reader *r, const char **line, size_t *len)
{
    for (;;) {
        char *start = r->buf + r->pos;
        size_t avail = r->len - r->pos;
        char *nl = avail ? memchr(start, '\n', avail) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - start);
            bool skip = r->skipping || n > NSSFILE_LINE_MAX;
            r->pos += n + 1;
            r->line_off += n + 1;
            r->skipping = false;
            if (skip)
                continue;
            *line = start;
            *len = n;
            return 1;
        }
        if (r->eof) {
            /* A last line without its '\n': a file cut short, passed over. */
            r->line_off += avail;
            r->pos = r->len;
            return 0;
        }
        nssfile_compact(r);
        if (nssfile_fill(r) != 0)
            return -1;
    }
}

int nssfile_begin(struct nssfile_reader *r, const char *dir, const char *file,
                  enum nssfile_kind kind, struct nssfile_range *range, size_t cap)
{
    int fd = nssfile_open(dir, file);
    if (fd < 0)
        return -1;
    if (nssfile_reader_init(r, fd, 0, cap) != 0) {
        close(fd);
        return -1;
    }
    const char *line;
    size_t len;
    if (nssfile_next_line(r, &line, &len) != 1 || r->line_off != len + 1 ||
        !nssfile_header(line, len, kind, range)) {
        nssfile_end(r);
        errno = EINVAL;
        return -1;
    }
    return 0;
}

void nssfile_end(struct nssfile_reader *r)
{
    nssfile_reader_free(r);
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}
