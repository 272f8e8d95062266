/* pending.c - see pending.h and docs/reliability.md. */
#define _GNU_SOURCE
#include "core/pending.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/source.h"
#include "core/store.h"

#define LEASE_PREFIX "lease-"   /* lease-<class>-<32 hex of the source>-<16 hex> */
#define TEMP_PREFIX "ltmp-"     /* ltmp-<pid>-<token>: a record being written, never counted */
#define KEY_HEX 32
#define TOKEN_HEX 16
#define START_WINDOW_MS 60000LL   /* the start limits count one minute */
#define STALE_MTIME_S 3600        /* an untouched record older than this is a leftover */
#define JUNK_AGE_S 10             /* a damaged record or a temp file older than this: removed */
#define SCAN_MAX 4096             /* directory entries looked at */
#define BOOT_ID_LEN 36
/* "pam_ssooidc-lease 1 BOOTID PID STARTED EXPIRES\n": fixed width, so a
 * renewal rewrites the same bytes and a reader never sees a shorter record. */
#define RECORD_FMT "pam_ssooidc-lease 1 %36s %010ld %015lld %015lld\n"
#define RECORD_LEN (20 + BOOT_ID_LEN + 1 + 10 + 1 + 15 + 1 + 15 + 1)

struct counts {
    long live, starts;               /* every other login's record */
    long source_live, source_starts; /* ... of our source */
};

/* Milliseconds on CLOCK_BOOTTIME: the same clock in every process, never
 * set back, and running through a suspend (a lease must lapse then too). */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* This boot's id: CLOCK_BOOTTIME starts again at 0 after a reboot, so a
 * record from an earlier boot is recognised by its id, never by its times. */
static void boot_id(char out[BOOT_ID_LEN + 1])
{
    memset(out, '-', BOOT_ID_LEN);
    out[BOOT_ID_LEN] = '\0';
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    char buf[BOOT_ID_LEN];
    if (read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf)) {
        for (size_t i = 0; i < sizeof(buf); i++)
            out[i] = (buf[i] == '-' || (buf[i] >= '0' && buf[i] <= '9') ||
                      (buf[i] >= 'a' && buf[i] <= 'f')) ? buf[i] : '-';
    }
    close(fd);
}

/* ---- one record ---- */

struct record {
    char boot[BOOT_ID_LEN + 1];
    long pid;
    long long started, expires;
};

static int record_write(int fd, const char *boot, long long started, long long expires)
{
    char buf[RECORD_LEN + 1];
    int n = snprintf(buf, sizeof(buf), RECORD_FMT, boot, (long)getpid(), started, expires);
    if (n != RECORD_LEN)
        return -1;
    return pwrite(fd, buf, RECORD_LEN, 0) == RECORD_LEN ? 0 : -1;
}

/* 1: a whole record; 0: none yet (a login between creating and writing
 * it); -1: not a record. */
static int record_read(int fd, struct record *r)
{
    char buf[RECORD_LEN + 1];
    ssize_t n = pread(fd, buf, RECORD_LEN, 0);
    if (n == 0)
        return 0;
    if (n != RECORD_LEN)
        return -1;
    buf[RECORD_LEN] = '\0';
    char tail;
    if (sscanf(buf, "pam_ssooidc-lease 1 %36s %10ld %15lld %15lld%c", r->boot, &r->pid,
               &r->started, &r->expires, &tail) != 5 || tail != '\n')
        return -1;
    return 1;
}

/* ---- the records of every login ---- */

/* lease-<class>-<32 hex of the source>-<16 hex>. The class (n: network,
 * l: local) keeps the host-wide counts apart: strangers on the network
 * never fill the places sudo, su and the console need. */
static bool same_class(const char *name, const char *ours)
{
    size_t len = strlen(LEASE_PREFIX) + 1;
    return strncmp(name, ours, len) == 0;
}

static bool same_source(const char *name, const char *ours)
{
    size_t len = strlen(LEASE_PREFIX) + 2 + KEY_HEX;
    return strncmp(name, ours, len) == 0;
}

static bool is_record_name(const char *name)
{
    return strncmp(name, LEASE_PREFIX, strlen(LEASE_PREFIX)) == 0 &&
           strlen(name) == strlen(LEASE_PREFIX) + 2 + KEY_HEX + 1 + TOKEN_HEX;
}

static bool older_than(const struct stat *st, long seconds)
{
    return (long long)time(NULL) - (long long)st->st_mtime > seconds;
}

/* Count one record, or remove it when it no longer counts for anything:
 * from an earlier boot, past both its lease and the start window, not a
 * record at all and old, or not root's. */
static void count_one(int dir_fd, const char *name, const struct pending *p, const char *boot,
                      long long now, struct counts *n)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    struct record r;
    bool remove = false, live = false, start = false;
    int got = -1;
    if (fd < 0 && errno == ENOENT)
        return; /* removed meanwhile: it counts for nothing */
    if (fd < 0) {
        live = start = true; /* cannot be read (out of descriptors?): fail closed */
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0) {
        remove = true;
    } else if ((got = record_read(fd, &r)) == 1 && strcmp(r.boot, boot) != 0) {
        remove = true; /* an earlier boot: its times mean nothing now */
    } else if (got == 1) {
        /* A login that was killed holds nothing: its process is gone. */
        live = r.expires > now && !(r.pid > 0 && kill((pid_t)r.pid, 0) != 0 && errno == ESRCH);
        start = r.started > now - START_WINDOW_MS;
        remove = !live && !start;
    } else {
        /* Records are written whole before they get their name, so this is
         * damage, not a login being born: it counts for nothing. */
        remove = older_than(&st, JUNK_AGE_S);
    }
    if (fd >= 0)
        close(fd);
    if (remove) {
        unlinkat(dir_fd, name, 0);
        return;
    }
    bool mine = same_source(name, p->name);
    if (!same_class(name, p->name))
        live = start = false; /* the other class's places are not ours to count */
    n->live += live;
    n->starts += start;
    n->source_live += live && mine;
    n->source_starts += start && mine;
}

/* A record being written by a login that was killed before naming it:
 * removed once its process is gone (or it is old), so that nobody can pile
 * them up (only where O_TMPFILE is missing: see record_create). */
static void remove_dead_temp(int dir_fd, const char *name)
{
    long pid = strtol(name + strlen(TEMP_PREFIX), NULL, 10);
    struct stat st;
    bool dead = pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    if (dead || (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                 older_than(&st, JUNK_AGE_S)))
        unlinkat(dir_fd, name, 0);
}

/* Every other login's record, counted. */
static void count_others(const struct pending *p, const char *boot, struct counts *n)
{
    memset(n, 0, sizeof(*n));
    int fd = dup(p->dir_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        n->live = n->starts = n->source_live = n->source_starts = SCAN_MAX; /* fail closed */
        return;
    }
    rewinddir(d); /* a dup shares the offset: the last scan left it at the end */
    long long now = now_ms();
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d)) != NULL && seen++ < SCAN_MAX) {
        if (is_record_name(e->d_name) && strcmp(e->d_name, p->name) != 0)
            count_one(p->dir_fd, e->d_name, p, boot, now, n);
        else if (strncmp(e->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0)
            remove_dead_temp(p->dir_fd, e->d_name);
    }
    /* More entries than a store ever holds: records past the cap would go
     * uncounted, so count the limits as reached (fail closed). */
    if (e != NULL)
        n->live = n->starts = n->source_live = n->source_starts = SCAN_MAX;
    closedir(d);
}

/* ---- the limits ---- */

static int busy(struct sso_error *err, bool source_limit, const char *what,
                const char *source)
{
    if (source_limit)
        return sso_fail_as(err, PAM_AUTHINFO_UNAVAIL, SSO_CASE_BUSY_SOURCE, "%s for source %s; "
                           "not starting another", what, source);
    return sso_fail_as(err, PAM_AUTHINFO_UNAVAIL, SSO_CASE_BUSY_HOST, "%s on this host; not "
                       "starting another", what);
}

/* One more login (and, when `starting`, one more start) on top of n:
 * PAM_SUCCESS, or the first limit it would break. Per source first, so that
 * a source over its share is told so rather than blamed on the host. */
static int within_limits(const struct pending *p, const struct counts *n, bool starting,
                         struct sso_error *err)
{
    const struct pending_limits *l = &p->lim;
    char what[160];
    if (starting && l->max_starts_per_source > 0 && n->source_starts >= l->max_starts_per_source) {
        snprintf(what, sizeof(what), "max_starts_per_source=%ld reached (%ld started in the "
                 "last minute)", l->max_starts_per_source, n->source_starts);
        return busy(err, true, what, p->source);
    }
    if (l->max_pending_per_source > 0 && n->source_live >= l->max_pending_per_source) {
        snprintf(what, sizeof(what), "max_pending_per_source=%ld reached (%ld logins polling)",
                 l->max_pending_per_source, n->source_live);
        return busy(err, true, what, p->source);
    }
    if (starting && l->max_starts > 0 && n->starts >= l->max_starts) {
        snprintf(what, sizeof(what), "max_starts=%ld reached (%ld started in the last minute)",
                 l->max_starts, n->starts);
        return busy(err, false, what, p->source);
    }
    if (l->max_pending > 0 && n->live >= l->max_pending) {
        snprintf(what, sizeof(what), "max_pending=%ld reached (%ld logins polling)",
                 l->max_pending, n->live);
        return busy(err, false, what, p->source);
    }
    return PAM_SUCCESS;
}

/* An unnamed file in the store (O_TMPFILE): a login killed before naming
 * it leaves nothing at all. -1 where the file system lacks O_TMPFILE. */
static int unnamed_file(struct pending *p, char *tmp, size_t len)
{
    tmp[0] = '\0';
    int fd = openat(p->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    /* Else a named temp file with our pid, removed by the next login once
     * we are gone. */
    snprintf(tmp, len, "%s%ld-%s", TEMP_PREFIX, (long)getpid(), p->name + strlen(p->name) - 16);
    return openat(p->dir_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                  0600);
}

/* Give the written file its name: linkat fails if the name exists. */
static int name_file(struct pending *p, int fd, const char *tmp)
{
    if (tmp[0])
        return linkat(p->dir_fd, tmp, p->dir_fd, p->name, 0);
    if (linkat(fd, "", p->dir_fd, p->name, AT_EMPTY_PATH) == 0 || errno == EEXIST)
        return errno == EEXIST ? -1 : 0;
    char self[48]; /* without CAP_DAC_READ_SEARCH (a user namespace): through /proc */
    snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, self, p->dir_fd, p->name, AT_SYMLINK_FOLLOW);
}

/* Write the record whole, then give it its name: a login killed (or made
 * to fail its write: RLIMIT_FSIZE) half-way never leaves an empty or
 * partial record. 0 or -1 (errno set). */
static int record_create(struct pending *p, const char *boot)
{
    char tmp[sizeof(p->name) + 16];
    int fd = unnamed_file(p, tmp, sizeof(tmp));
    if (fd < 0)
        return -1;
    sso_chown_root(fd);
    int saved = 0;
    errno = 0;
    if (record_write(fd, boot, p->started_ms, p->expires_ms) != 0 || name_file(p, fd, tmp) != 0)
        saved = errno ? errno : EIO;
    if (tmp[0])
        unlinkat(p->dir_fd, tmp, 0);
    if (saved) {
        close(fd);
        errno = saved;
        return -1;
    }
    p->fd = fd;
    return 0;
}

/* Make our record live until now + lease (made again if someone removed it
 * while we were stopped), then count the others and withdraw when over a
 * limit: count-after-create, so two racers never both fit in one place. */
static int take_place(struct pending *p, bool starting, double lease_seconds,
                      struct sso_error *err)
{
    const char *boot = p->boot;
    struct counts n;
    count_others(p, boot, &n);
    int rc = within_limits(p, &n, starting, err); /* over already: write nothing */
    if (rc != PAM_SUCCESS)
        return rc;
    struct stat st;
    if (p->fd >= 0 && (fstat(p->fd, &st) != 0 || st.st_nlink == 0)) {
        close(p->fd);
        p->fd = -1;
    }
    p->expires_ms = now_ms() + (long long)(lease_seconds * 1000.0);
    if (p->fd >= 0 ? record_write(p->fd, boot, p->started_ms, p->expires_ms) != 0
                   : record_create(p, boot) != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot write the login's record %s: %s",
                        p->name, strerror(errno));
    count_others(p, boot, &n);
    rc = within_limits(p, &n, starting, err);
    if (rc != PAM_SUCCESS) { /* withdrawn */
        p->expires_ms = 0;
        record_write(p->fd, boot, starting ? 0 : p->started_ms, 0);
    }
    return rc;
}

static bool no_limits(const struct pending_limits *l)
{
    return l->max_pending <= 0 && l->max_pending_per_source <= 0 && l->max_starts <= 0 &&
           l->max_starts_per_source <= 0;
}

static int name_record(struct pending *p, struct sso_error *err)
{
    uint64_t token = 0;
    if (getrandom(&token, sizeof(token), GRND_NONBLOCK) != (ssize_t)sizeof(token))
        token = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
    char key[48];
    const char *prefix = source_is_local(p->source) ? LEASE_PREFIX "l-" : LEASE_PREFIX "n-";
    int rc = store_file_name(prefix, p->source, "-", key, sizeof(key), err);
    if (rc != PAM_SUCCESS)
        return rc;
    snprintf(p->name, sizeof(p->name), "%s%016" PRIx64, key, token);
    return PAM_SUCCESS;
}

int pending_begin(struct pending *p, const char *cache_dir, const struct pending_limits *lim,
                  const char *source, double lease_seconds, struct sso_error *err)
{
    *p = (struct pending)PENDING_INIT;
    p->lim = *lim;
    if (no_limits(lim))
        return PAM_SUCCESS;
    if (!sso_strlcpy(p->source, source, sizeof(p->source)))
        return sso_fail(err, PAM_SERVICE_ERR, "source name too long");
    int rc = name_record(p, err);
    if (rc == PAM_SUCCESS)
        rc = store_dir_open(cache_dir, &p->dir_fd, err);
    if (rc != PAM_SUCCESS)
        return rc;
    p->started_ms = now_ms();
    boot_id(p->boot);
    rc = take_place(p, true, lease_seconds, err);
    if (rc != PAM_SUCCESS && p->fd >= 0) { /* never started: it counts for nothing */
        unlinkat(p->dir_fd, p->name, 0);
        close(p->fd);
        p->fd = -1;
    }
    return rc;
}

/* Our lease still runs and our record is still there: extend it, which
 * needs no counting (the place is ours). */
static bool extend(struct pending *p, double lease_seconds)
{
    struct stat st;
    long long now = now_ms();
    if (p->fd < 0 || p->expires_ms <= now || fstat(p->fd, &st) != 0 || st.st_nlink == 0)
        return false;
    long long expires = now + (long long)(lease_seconds * 1000.0);
    if (record_write(p->fd, p->boot, p->started_ms, expires) != 0)
        return false;
    p->expires_ms = expires;
    return true;
}

int pending_hold(struct pending *p, double lease_seconds, struct sso_error *err)
{
    if (p->dir_fd < 0 || extend(p, lease_seconds))
        return PAM_SUCCESS;
    return take_place(p, false, lease_seconds, err);
}

void pending_pause(struct pending *p)
{
    if (p->fd < 0)
        return;
    p->expires_ms = 0;
    record_write(p->fd, p->boot, p->started_ms, 0);
}

void pending_end(struct pending *p)
{
    pending_pause(p);
    /* With no start limit the record counts for nothing once ended. */
    if (p->fd >= 0 && p->lim.max_starts <= 0 && p->lim.max_starts_per_source <= 0)
        unlinkat(p->dir_fd, p->name, 0);
    if (p->fd >= 0)
        close(p->fd);
    if (p->dir_fd >= 0)
        close(p->dir_fd);
    p->fd = p->dir_fd = -1;
}
