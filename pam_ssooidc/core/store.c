/* store.c - see store.h and docs/cache.md. */
#define _GNU_SOURCE
#include "core/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/trust.h"

#define STORE_KEY_HEX 32      /* first 128 bits of SHA-256, in hex */
#define STORE_TMP_ATTEMPTS 8  /* O_EXCL collisions before giving up */
#define STORE_SCAN_MAX 4096   /* directory entries looked at */
#define STORE_DOC_FUTURE 300  /* seconds of clock skew on a document's mtime */
#define STORE_DOC_TMP_AGE 60  /* seconds: an older document temp file is a leftover */
#define STORE_LOCK_POLL_NS 25000000L /* 25 ms between lock attempts */
#define STORE_WAIT_MAX 3600.0        /* no caller needs to wait longer */

/* ---- the directory ---- */

/* Only root may be able to read the store (it holds the client secret) or
 * write it (a forged registration would route logins through someone
 * else's OIDC client; a forged JWKS would let anyone sign an ID token), so
 * the directory must be root's and closed to everyone else. A public
 * directory (the data directory, 0755) may be read by all but still
 * written by root alone: the bits `mode` leaves out are the ones refused. */
static int check_dir(int fd, const char *dir, const char *what, mode_t mode, bool created,
                     struct sso_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot stat %s %s: %s", what, dir,
                        strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s is not a directory; refusing", what, dir);
    if (st.st_uid != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s is owned by uid %u, not root; refusing",
                        what, dir, (unsigned)st.st_uid);
    /* A directory we just made may have lost bits to the umask; set them. */
    if (created && fchmod(fd, mode) == 0)
        st.st_mode = (st.st_mode & ~(mode_t)07777) | mode;
    const mode_t refused = 077 & ~mode;
    if ((st.st_mode & refused) != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s is %s (mode %04o); refusing", what, dir,
                        (refused & 055) ? "group- or world-accessible"
                                        : "group- or world-writable",
                        (unsigned)(st.st_mode & 07777));
    return PAM_SUCCESS;
}

/* The directory and every one above it must be root's and not writable by
 * others (trust.h); a missing directory is made when `create` (never its
 * parents: a missing parent means a mistyped path or a system not set up as
 * expected, and guessing owners and modes would be worse than refusing). */
int store_dir_open_as(const char *dir, const char *what, mode_t mode, bool create, int *out,
                      struct sso_error *err)
{
    bool created = false;
    int fd = -1;
    int rc = trust_open_dir(dir, what, create, &fd, &created, err);
    if (rc == PAM_NO_MODULE_DATA && create)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot create %s %s: its parent "
                        "directory does not exist", what, dir);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = check_dir(fd, dir, what, mode, created, err);
    if (rc != PAM_SUCCESS) {
        close(fd);
        return rc;
    }
    *out = fd;
    return PAM_SUCCESS;
}

int store_dir_open(const char *dir, int *out, struct sso_error *err)
{
    return store_dir_open_as(dir, "cache_dir", 0700, true, out, err);
}

int store_file_name(const char *prefix, const char *key, const char *suffix, char *out,
                    size_t outlen, struct sso_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!key)
        return sso_fail(err, PAM_SERVICE_ERR, "no key for the registration cache");
    if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen * 2 < STORE_KEY_HEX)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot hash the registration cache key");
    char hex[STORE_KEY_HEX + 1];
    for (size_t i = 0; i < STORE_KEY_HEX / 2; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    int n = snprintf(out, outlen, "%s%s%s", prefix, hex, suffix);
    if (n < 0 || (size_t)n >= outlen)
        return sso_fail(err, PAM_SERVICE_ERR, "registration cache name too long");
    return PAM_SUCCESS;
}

/* ---- reading ---- */

int store_open_read(int dir_fd, const char *name, const char *label, const char *again,
                    off_t max, int *out, struct stat *st, struct sso_error *err)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return sso_fail(err, PAM_NO_MODULE_DATA, "no %s", label);
        if (errno == ELOOP) {
            /* Remove the link now so that nothing, not even a later change
             * to this code, can ever follow it; the next store writes anew. */
            unlinkat(dir_fd, name, 0);
            return sso_fail(err, PAM_NO_MODULE_DATA,
                            "%s %s was a symbolic link; not followed, it will be replaced",
                            label, name);
        }
        return sso_fail(err, PAM_NO_MODULE_DATA, "cannot open %s %s: %s", label, name,
                        strerror(errno));
    }
    int rc = PAM_SUCCESS;
    if (fstat(fd, st) != 0)
        rc = sso_fail(err, PAM_NO_MODULE_DATA, "cannot stat %s %s: %s", label, name,
                      strerror(errno));
    else if (!S_ISREG(st->st_mode))
        rc = sso_fail(err, PAM_NO_MODULE_DATA, "%s %s is not a regular file; refusing to read it",
                      label, name);
    else if (st->st_uid != 0 || (st->st_mode & 077) != 0)
        rc = sso_fail(err, PAM_NO_MODULE_DATA,
                      "%s %s has owner uid %u and mode %04o (want root, 0600); refusing to read it",
                      label, name, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777));
    else if (st->st_size > max)
        rc = sso_fail(err, PAM_NO_MODULE_DATA, "%s is corrupt; %s", label,
                      again); /* we never write one this big */
    if (rc != PAM_SUCCESS) {
        close(fd);
        return rc;
    }
    *out = fd;
    return PAM_SUCCESS;
}

int store_read_all(int fd, char *buf, size_t cap, size_t *len)
{
    size_t got = 0;
    for (;;) {
        char extra;
        char *dst = got < cap ? buf + got : &extra;
        size_t want = got < cap ? cap - got : 1;
        ssize_t n = read(fd, dst, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        if (got >= cap)
            return 1;
        got += (size_t)n;
    }
    *len = got;
    return 0;
}

/* ---- writing ---- */

/* A login killed between creating its temp file and renaming it (sshd's
 * LoginGraceTime, a reboot) leaves the temp file behind. Those older than
 * min_age are leftovers (a caller holding the name's lock knows every one
 * is: min_age 0). Best effort and bounded. */
static void remove_temps(int dir_fd, const char *prefix, long min_age)
{
    int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd); /* takes fd; its own offset, not dir_fd's */
    if (!d) {
        close(fd);
        return;
    }
    size_t plen = strlen(prefix);
    time_t now = time(NULL);
    struct dirent *de;
    struct stat st;
    for (int i = 0; i < STORE_SCAN_MAX && (de = readdir(d)) != NULL; i++)
        if (strncmp(de->d_name, prefix, plen) == 0 &&
            (min_age == 0 || (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                              now - st.st_mtime > min_age)))
            unlinkat(dir_fd, de->d_name, 0);
    closedir(d);
}

/* Create a fresh temp file: O_EXCL guarantees it is ours and new, so no
 * earlier file, link or symlink of the same name can be written through. */
static int create_temp(int dir_fd, const char *prefix, char *tmp, size_t tmplen, int *out)
{
    for (int attempt = 0; attempt < STORE_TMP_ATTEMPTS; attempt++) {
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
            rnd = (uint64_t)(sso_monotonic() * 1e9) ^ (uint64_t)attempt;
        int n = snprintf(tmp, tmplen, "%s%ld.%016" PRIx64, prefix, (long)getpid(), rnd);
        if (n < 0 || (size_t)n >= tmplen) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = openat(dir_fd, tmp,
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd >= 0) {
            sso_chown_root(fd); /* not the su caller's group */
            *out = fd;
            return 0;
        }
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write, flush and rename the temp file into place; always consumes fd.
 * The data reaches the disk before the rename does, so after a crash the
 * name points at the old file or at the complete new one. fchmod covers a
 * umask that stripped the owner bits at creation. Returns 0 or an errno. */
static int fill(int fd, const char *buf, size_t len, mode_t mode)
{
    int e = 0;
    if (write_all(fd, buf, len) != 0 || fsync(fd) != 0 || fchmod(fd, mode) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    return e;
}

int store_stage(int dir_fd, const char *name, const char *buf, size_t len, mode_t mode,
                long temp_age, char *tmp, size_t tmplen)
{
    /* NAME.tmp. : a leftover is tied to the name it was meant for. */
    char prefix[256];
    const char *dot = strrchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    if (snprintf(prefix, sizeof(prefix), "%.*s%s", (int)stem, name, STORE_TMP_INFIX) >=
        (int)sizeof(prefix))
        return ENAMETOOLONG;
    remove_temps(dir_fd, prefix, temp_age);
    int fd = -1;
    if (create_temp(dir_fd, prefix, tmp, tmplen, &fd) != 0)
        return errno;
    int e = fill(fd, buf, len, mode);
    if (e != 0)
        unlinkat(dir_fd, tmp, 0); /* never leave a partial copy behind */
    return e;
}

int store_publish(int dir_fd, const char *tmp, const char *name)
{
    if (renameat(dir_fd, tmp, dir_fd, name) != 0) {
        int e = errno;
        unlinkat(dir_fd, tmp, 0);
        return e;
    }
    return 0;
}

int store_replace_mode(int dir_fd, const char *name, const char *buf, size_t len, mode_t mode,
                       long temp_age)
{
    char tmp[STORE_TMP_NAME_MAX];
    int e = store_stage(dir_fd, name, buf, len, mode, temp_age, tmp, sizeof(tmp));
    if (e == 0)
        e = store_publish(dir_fd, tmp, name);
    /* fsync the directory so that the rename itself survives a crash. */
    if (e == 0 && fsync(dir_fd) != 0)
        e = errno;
    return e;
}

int store_replace(int dir_fd, const char *name, const char *buf, size_t len, long temp_age)
{
    return store_replace_mode(dir_fd, name, buf, len, 0600, temp_age);
}

/* ---- locks ---- */

/* The lock file is never read; it exists only to carry the flock. It is
 * checked anyway, so that a symlink or device planted under its name is
 * refused rather than opened read-write. */
static int open_lock(int dir_fd, const char *dir, const char *lockname, int *out,
                     struct sso_error *err)
{
    int fd = openat(dir_fd, lockname,
                    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);
    if (fd < 0) {
        if (errno == ELOOP)
            return sso_fail(err, PAM_SERVICE_ERR, "lock file %s/%s is a symbolic link; refusing", dir,
                            lockname);
        return sso_fail(err, PAM_SERVICE_ERR, "cannot open lock file %s/%s: %s", dir, lockname,
                        strerror(errno));
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0)
        why = "cannot be examined";
    else if (!S_ISREG(st.st_mode))
        why = "is not a regular file";
    else if (st.st_uid != 0)
        why = "is not owned by root";
    if (why) {
        close(fd);
        return sso_fail(err, PAM_SERVICE_ERR, "lock file %s/%s %s; refusing", dir, lockname, why);
    }
    if (st.st_gid != 0) /* made by su: the caller's group (harmless at 0600; tidied) */
        sso_chown_root(fd);
    *out = fd;
    return PAM_SUCCESS;
}

/* Poll with LOCK_NB rather than block in flock: a blocking flock can only be
 * cut short by a timer signal, which would disturb the host process, and the
 * wait must stay bounded even if another login hangs holding the lock. */
static int take_lock(int fd, const char *what, double wait_seconds, struct sso_error *err)
{
    if (!(wait_seconds > 0)) /* also NaN */
        wait_seconds = 0;
    if (wait_seconds > STORE_WAIT_MAX)
        wait_seconds = STORE_WAIT_MAX;
    const double deadline = sso_monotonic() + wait_seconds;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return PAM_SUCCESS;
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK)
            return sso_fail(err, PAM_SERVICE_ERR, "cannot take the %s lock: %s", what,
                            strerror(errno));
        if (interrupt_pending())
            return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_CANCELLED,
                               "cancelled by the person (Ctrl-C) while waiting for the %s lock",
                               what);
        double left = deadline - sso_monotonic();
        if (left <= 0)
            return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                            "timed out waiting for the %s lock (%.1f s)", what, wait_seconds);
        long ns = STORE_LOCK_POLL_NS;
        if (left * 1e9 < (double)ns)
            ns = (long)(left * 1e9) + 1;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};
        nanosleep(&ts, NULL); /* EINTR: just try again sooner */
    }
}

int store_lock(int dir_fd, const char *dir, const char *lockname, const char *what,
               double wait_seconds, int *out, struct sso_error *err)
{
    int fd = -1;
    int rc = open_lock(dir_fd, dir, lockname, &fd, err);
    if (rc == PAM_SUCCESS)
        rc = take_lock(fd, what, wait_seconds, err);
    if (rc != PAM_SUCCESS) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    *out = fd;
    return PAM_SUCCESS;
}

void store_unlock(int fd)
{
    /* Unlock explicitly rather than rely on close: should the fd have been
     * inherited by a forked child, close alone would keep the lock held for
     * as long as that child lives. */
    flock(fd, LOCK_UN);
    close(fd);
}

/* ---- documents ---- */

static int doc_open(const char *dir, const char *key, int *dir_fd, char *name, size_t len,
                    struct sso_error *err)
{
    int rc = store_file_name("doc-", key, ".json", name, len, err);
    if (rc == PAM_SUCCESS)
        rc = store_dir_open(dir, dir_fd, err);
    return rc;
}

int store_doc_load(const char *dir, const char *key, const char *label, int64_t max_age,
                   char **body, size_t *len, struct sso_error *err)
{
    *body = NULL;
    *len = 0;
    char name[96];
    int dir_fd = -1, fd = -1;
    struct stat st;
    int rc = doc_open(dir, key, &dir_fd, name, sizeof(name), err);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = store_open_read(dir_fd, name, label, "fetching it again", STORE_DOC_MAX, &fd, &st, err);
    close(dir_fd);
    if (rc != PAM_SUCCESS)
        return rc;
    /* The mtime is when we wrote it: only root can set it otherwise. A
     * clock set back makes the file look new; one from the future (by
     * more than a little skew) is not trusted to be fresh. */
    int64_t age = (int64_t)time(NULL) - (int64_t)st.st_mtime;
    if (age > max_age || age < -STORE_DOC_FUTURE) {
        close(fd);
        return sso_fail(err, PAM_NO_MODULE_DATA, "cached %s is %" PRId64 " s old (at most %"
                        PRId64 " s); fetching it again", label, age, max_age);
    }
    char *buf = malloc(STORE_DOC_MAX + 1);
    if (!buf) {
        close(fd);
        return sso_fail(err, PAM_BUF_ERR, "out of memory");
    }
    size_t n = 0;
    int r = store_read_all(fd, buf, STORE_DOC_MAX, &n);
    close(fd);
    if (r != 0) {
        free(buf);
        return sso_fail(err, PAM_NO_MODULE_DATA, "cannot read cached %s; fetching it again",
                        label);
    }
    buf[n] = '\0';
    *body = buf;
    *len = n;
    return PAM_SUCCESS;
}

int store_doc_save(const char *dir, const char *key, const char *body, size_t len,
                   struct sso_error *err)
{
    if (len > STORE_DOC_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot cache a document of %zu bytes", len);
    char name[96];
    int dir_fd = -1;
    int rc = doc_open(dir, key, &dir_fd, name, sizeof(name), err);
    if (rc != PAM_SUCCESS)
        return rc;
    /* Without a lock, a temp file may be another login's, being written
     * now: only those older than a minute are leftovers. */
    int e = store_replace(dir_fd, name, body, len, STORE_DOC_TMP_AGE);
    close(dir_fd);
    if (e != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot write the document cache: %s",
                        strerror(e));
    return PAM_SUCCESS;
}
