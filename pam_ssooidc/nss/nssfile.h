/* nssfile.h - reading the provisioned accounts' passwd and group files
 * (docs/provisioning.md has the formats and what is refused).
 *
 * This is the whole of the NSS module's knowledge of the files, kept apart
 * from the glibc entry points so that a unit test and a fuzzer can drive it:
 * no globals, no stdio, no allocation but the reader's one heap block, and
 * every result written into a buffer the caller supplies. It runs inside
 * every process of the host that looks up a name, so it never prints, never
 * exits and never reads the environment. It depends on libc alone (it must
 * not pull the PAM module's code into every process). */
#ifndef SSO_NSSFILE_H
#define SSO_NSSFILE_H

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef SSO_DATA_DIR
#define SSO_DATA_DIR "/var/lib/pam_ssooidc"
#endif

#define NSSFILE_NAME_MAX 32                   /* ^[a-z_][a-z0-9_-]{0,31}$ */
#define NSSFILE_LINE_MAX 4096                 /* longer lines are skipped */
#define NSSFILE_SIZE_MAX ((uint64_t)64 << 20) /* larger files serve nothing */
#define NSSFILE_GROUPS_MAX 64                 /* supplementary gids per account */
#define NSSFILE_ID_MIN 1000u                  /* a header's range must lie inside */
#define NSSFILE_ID_MAX 2147483647u

enum nssfile_kind { NSSFILE_PASSWD, NSSFILE_GROUP };

/* What a parse or a fill returns. */
enum nssfile_rc {
    NSSFILE_OK = 0,
    NSSFILE_SKIP = 1,   /* the line is refused (never served) */
    NSSFILE_ERANGE = 2, /* the caller's buffer is too small */
};

/* The header's uid_range. */
struct nssfile_range {
    uint32_t min, max;
};

/* A piece of a line (not NUL-terminated). */
struct nssfile_span {
    const char *p;
    size_t n;
};

/* A passwd line that passed every rule, pointing into the line. */
struct nssfile_pwline {
    struct nssfile_span name, gecos, home, shell;
    uint32_t uid; /* == gid */
    int64_t expires;
    size_t ngroups;
    gid_t groups[NSSFILE_GROUPS_MAX];
};

/* A group line that passed every rule, pointing into the line. */
struct nssfile_grline {
    struct nssfile_span name, members; /* members: the comma list, maybe empty */
    uint32_t gid;
    size_t nmembers;
    int64_t expires;
};

/* The name rule, on n bytes (no terminator needed). */
bool nssfile_name_ok(const char *s, size_t n);

/* The header line (without its '\n') for `kind`: true and *range when it is
 * "# pam_ssooidc passwd 1 uid_range=MIN-MAX" (resp. group) with
 * 1000 <= MIN <= MAX <= 2147483647. */
bool nssfile_header(const char *line, size_t len, enum nssfile_kind kind,
                    struct nssfile_range *range);

/* One line (without its '\n') of each file, checked against every rule of
 * docs/provisioning.md: NSSFILE_OK with *out filled, or NSSFILE_SKIP.
 * `now` is the Unix time that decides expiry. */
int nssfile_pw_parse(const char *line, size_t len, const struct nssfile_range *range,
                     int64_t now, struct nssfile_pwline *out);
int nssfile_gr_parse(const char *line, size_t len, const struct nssfile_range *range,
                     int64_t now, struct nssfile_grline *out);

/* Does the line's first field equal name[0..n)? (Before a whole parse:
 * a lookup by name compares only this for most lines.) */
bool nssfile_name_is(const char *line, size_t len, const char *name, size_t n);
/* Does the line's third field (uid, gid) read as the decimal `id`? */
bool nssfile_id_is(const char *line, size_t len, uint32_t id);

/* Copy a parsed line into the caller's struct and buffer: NSSFILE_OK or
 * NSSFILE_ERANGE (nothing the caller may use then). */
int nssfile_pw_fill(const struct nssfile_pwline *l, struct passwd *pw, char *buf, size_t buflen);
int nssfile_gr_fill(const struct nssfile_grline *l, struct group *gr, char *buf, size_t buflen);

/* Open `file` in directory `dir` for reading, safely: the directory must be
 * a real directory (no symbolic link), root's, not group- or
 * world-writable; the file is opened through it with O_NOFOLLOW and
 * O_NONBLOCK (a FIFO cannot hang the caller) and must be a regular file,
 * root's, not group- or world-writable, at most NSSFILE_SIZE_MAX bytes.
 * The open descriptor (close-on-exec), or -1 (errno says why; ENOENT when
 * the file is simply not there). */
int nssfile_open(const char *dir, const char *file);

/* Lines of an open file, read with pread() in blocks into one heap buffer
 * (never mmap: a file truncated while read must not SIGBUS the caller).
 * Only complete lines are returned: a line longer than NSSFILE_LINE_MAX, or
 * a last line without its '\n' (a file cut short) is passed over. At most
 * NSSFILE_SIZE_MAX bytes are read, whatever the file grows to. */
struct nssfile_reader {
    int fd;
    char *buf;
    size_t cap;        /* the buffer's size, > NSSFILE_LINE_MAX */
    size_t pos, len;   /* unread bytes: buf[pos..len) */
    uint64_t off;      /* the file offset of buf[len] (the next read) */
    uint64_t line_off; /* the file offset just past the last line returned */
    bool eof, skipping;
};

/* Start reading fd at offset `off` with a buffer of `cap` bytes (raised to
 * at least NSSFILE_LINE_MAX + 1): 0, or -1 (ENOMEM). */
int nssfile_reader_init(struct nssfile_reader *r, int fd, uint64_t off, size_t cap);
/* The next line (without '\n', valid until the next call): 1; 0 at the
 * end; -1 on a read error. */
int nssfile_next_line(struct nssfile_reader *r, const char **line, size_t *len);
/* Free the buffer (the descriptor stays the caller's). */
void nssfile_reader_free(struct nssfile_reader *r);

/* Open `file` in `dir` (nssfile_open) and read its header for `kind`: 0
 * with *range and the reader (a buffer of `cap` bytes) standing at the
 * first account line; -1 for a file that serves nothing (missing, unsafe,
 * without a header), nothing left open then. */
int nssfile_begin(struct nssfile_reader *r, const char *dir, const char *file,
                  enum nssfile_kind kind, struct nssfile_range *range, size_t cap);
/* Free the buffer and close the descriptor of a nssfile_begin. */
void nssfile_end(struct nssfile_reader *r);

#endif
