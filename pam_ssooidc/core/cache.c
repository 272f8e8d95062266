/* cache.c - the persisted client registration; see cache.h and docs/cache.md.
 *
 * Everything below the directory is reached through the directory fd taken
 * (and checked) in cache_open, never through the path again: once the
 * directory has been vetted, renaming or replacing the path cannot redirect
 * later reads or writes. Every open uses O_NOFOLLOW and O_CLOEXEC, so a
 * planted symlink is never followed and no fd leaks into a helper that the
 * host process (sshd, sudo, login) may exec. */
#define _GNU_SOURCE
#include "cache.h"

#include "interrupt.h"
#include "trust.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_FILE_MAX (16 * 1024) /* larger files are corrupt, not truncated */
#define CACHE_VERSION 1
#define CACHE_KEY_HEX 32                 /* first 128 bits of SHA-256, in hex */
#define CACHE_LOCK_POLL_NS 25000000L     /* 25 ms between lock attempts */
#define CACHE_WAIT_MAX 3600.0            /* no caller needs to wait longer */
#define CACHE_TMP_ATTEMPTS 8             /* O_EXCL collisions before giving up */
#define CACHE_SCAN_MAX 4096              /* directory entries looked at */
#define CACHE_TMP_INFIX ".tmp."
#define CACHE_DOC_FUTURE 300             /* seconds of clock skew on a document's mtime */
#define CACHE_DOC_TMP_AGE 60             /* seconds: an older document temp file is a leftover */

void cache_init(struct cache *c)
{
    if (!c)
        return;
    c->dir_fd = -1;
    c->lock_fd = -1;
    c->active = false;
    c->name[0] = '\0';
}

void cache_close(struct cache *c)
{
    if (!c)
        return;
    /* Only an opened cache owns fds: a zeroed struct holds 0 (stdin). */
    if (c->active) {
        if (c->lock_fd >= 0) {
            /* Unlock explicitly rather than rely on close: should the fd have
             * been inherited by a forked child, close alone would keep the
             * lock held for as long as that child lives. */
            flock(c->lock_fd, LOCK_UN);
            close(c->lock_fd);
        }
        if (c->dir_fd >= 0)
            close(c->dir_fd);
    }
    cache_init(c);
}

static bool cache_ready(const struct cache *c)
{
    return c && c->active && c->dir_fd >= 0 && c->name[0] != '\0';
}

/* ---- cache_open ------------------------------------------------------- */

/* Only root may be able to read the cache (it holds the client secret) or to
 * write it (a forged registration would route logins through someone else's
 * OIDC client), so the directory must be root's and closed to everyone else. */
static int check_dir(int fd, const char *dir, bool created, struct sso_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot stat cache_dir %s: %s", dir,
                        strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sso_fail(err, PAM_SERVICE_ERR, "cache_dir %s is not a directory; refusing", dir);
    if (st.st_uid != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cache_dir %s is owned by uid %u, not root; refusing",
                        dir, (unsigned)st.st_uid);
    /* A directory we just made may have lost bits to the umask; set them. */
    if (created && fchmod(fd, 0700) == 0)
        st.st_mode = (st.st_mode & ~(mode_t)07777) | 0700;
    if ((st.st_mode & 077) != 0)
        return sso_fail(err, PAM_SERVICE_ERR,
                        "cache_dir %s is group- or world-accessible (mode %04o); refusing", dir,
                        (unsigned)(st.st_mode & 07777));
    return PAM_SUCCESS;
}

/* The directory and every one above it must be root's and not writable by
 * others (trust.h); a missing cache_dir is made (never its parents: a
 * missing parent means a mistyped path or a system not set up as expected,
 * and guessing owners and modes would be worse than refusing). */
int cache_dir_open(const char *dir, int *out, struct sso_error *err)
{
    bool created = false;
    int fd = -1;
    int rc = trust_open_dir(dir, "cache_dir", true, &fd, &created, err);
    if (rc == PAM_NO_MODULE_DATA)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot create cache_dir %s: its parent "
                        "directory does not exist", dir);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = check_dir(fd, dir, created, err);
    if (rc != PAM_SUCCESS) {
        close(fd);
        return rc;
    }
    *out = fd;
    return PAM_SUCCESS;
}

/* prefix + hex(SHA-256(key_material))[0..32) + suffix. Hashing keeps any
 * characters of the endpoint or client name out of the file name, and 128
 * bits make accidental collisions between configurations irrelevant. */
static int key_file_name(const char *prefix, const char *key, const char *suffix, char *out,
                         size_t outlen, struct sso_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!key)
        return sso_fail(err, PAM_SERVICE_ERR, "no key for the registration cache");
    if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen * 2 < CACHE_KEY_HEX)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot hash the registration cache key");
    char hex[CACHE_KEY_HEX + 1];
    for (size_t i = 0; i < CACHE_KEY_HEX / 2; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    int n = snprintf(out, outlen, "%s%s%s", prefix, hex, suffix);
    if (n < 0 || (size_t)n >= outlen)
        return sso_fail(err, PAM_SERVICE_ERR, "registration cache name too long");
    return PAM_SUCCESS;
}

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
static int take_lock(int fd, double wait_seconds, struct sso_error *err)
{
    if (!(wait_seconds > 0)) /* also NaN */
        wait_seconds = 0;
    if (wait_seconds > CACHE_WAIT_MAX)
        wait_seconds = CACHE_WAIT_MAX;
    const double deadline = sso_monotonic() + wait_seconds;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return PAM_SUCCESS;
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK)
            return sso_fail(err, PAM_SERVICE_ERR, "cannot lock the registration cache: %s",
                            strerror(errno));
        if (interrupt_pending())
            return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_CANCELLED,
                               "cancelled by the person (Ctrl-C) while waiting for the "
                               "registration lock");
        double left = deadline - sso_monotonic();
        if (left <= 0)
            return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                            "timed out waiting for the registration lock (%.1f s)", wait_seconds);
        long ns = CACHE_LOCK_POLL_NS;
        if (left * 1e9 < (double)ns)
            ns = (long)(left * 1e9) + 1;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};
        nanosleep(&ts, NULL); /* EINTR: just try again sooner */
    }
}

/* Open the directory and name the file; with lock_wait >= 0 also take the
 * registration lock, waiting at most that long. */
static int attach(struct cache *c, const char *dir, const char *key_material, double lock_wait,
                  struct sso_error *err)
{
    if (!c)
        return sso_fail(err, PAM_SERVICE_ERR, "no registration cache");
    cache_init(c);

    char lockname[sizeof(c->name)];
    int dir_fd = -1, lock_fd = -1;
    int rc = key_file_name("reg-", key_material, ".json", c->name, sizeof(c->name), err);
    if (rc == PAM_SUCCESS)
        rc = key_file_name("reg-", key_material, ".lock", lockname, sizeof(lockname), err);
    if (rc == PAM_SUCCESS)
        rc = cache_dir_open(dir, &dir_fd, err);
    if (rc == PAM_SUCCESS && lock_wait >= 0)
        rc = open_lock(dir_fd, dir, lockname, &lock_fd, err);
    if (rc == PAM_SUCCESS && lock_wait >= 0)
        rc = take_lock(lock_fd, lock_wait, err);
    if (rc != PAM_SUCCESS) {
        if (lock_fd >= 0)
            close(lock_fd);
        if (dir_fd >= 0)
            close(dir_fd);
        cache_init(c);
        return rc;
    }
    c->dir_fd = dir_fd;
    c->lock_fd = lock_fd;
    c->active = true;
    return PAM_SUCCESS;
}

int cache_open(struct cache *c, const char *dir, const char *key_material, double wait_seconds,
               struct sso_error *err)
{
    return attach(c, dir, key_material, wait_seconds > 0 ? wait_seconds : 0, err);
}

int cache_open_unlocked(struct cache *c, const char *dir, const char *key_material,
                        struct sso_error *err)
{
    return attach(c, dir, key_material, -1, err);
}

/* ---- cache_load ------------------------------------------------------- */

/* Open a file of the store for reading: a regular file, root's, mode 0600
 * (nothing else could have been written by us), at most `max` bytes.
 * `label` names it in errors ("cached registration"), `again` says what
 * happens next ("registering again"). Anything else is
 * PAM_NO_MODULE_DATA with err saying why: the caller fetches afresh. */
static int open_stored(int dir_fd, const char *name, const char *label, const char *again,
                       off_t max, int *out, struct stat *st, struct sso_error *err)
{
    /* O_NONBLOCK: a FIFO planted under the name must not hang the login. */
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

static int open_cached(struct cache *c, int *out, struct sso_error *err)
{
    struct stat st;
    return open_stored(c->dir_fd, c->name, "cached registration", "registering again",
                       CACHE_FILE_MAX, out, &st, err);
}

/* Read the whole file into buf (cap bytes). Returns 0 with *len set, 1 when
 * the file holds more than cap bytes (it may have grown since fstat), or -1
 * with errno set. */
static int read_bounded(int fd, char *buf, size_t cap, size_t *len)
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

/* Overwrite the text of a json string in place before json_decref frees it.
 * jansson hands out only a const pointer, but the buffer is one it
 * malloc'd for this value and no other (strings are never shared or
 * interned), so writing to it is defined and cannot affect anything else;
 * without this the client secret would linger in freed heap memory. */
static void cleanse_json_string(json_t *obj, const char *key)
{
    json_t *s = json_object_get(obj, key);
    if (json_is_string(s))
        sso_cleanse((void *)(uintptr_t)json_string_value(s), json_string_length(s));
}

static bool get_string(json_t *root, const char *key, char *dst, size_t dstlen)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return false;
    /* Refuse an embedded NUL rather than keep a silently shortened value. */
    if (strlen(json_string_value(v)) != json_string_length(v))
        return false;
    return sso_strlcpy(dst, json_string_value(v), dstlen);
}

static bool get_time(json_t *root, const char *key, int64_t *out)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* Strict: exactly the five members this file writes, with exactly the types
 * it writes them with. Anything else was not written by us. */
static bool parse_registration(const char *buf, size_t len, struct client_registration *reg)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return false;
    json_t *ver = json_object_get(root, "version");
    bool ok = json_is_object(root) && json_object_size(root) == 5 && json_is_integer(ver) &&
              json_integer_value(ver) == CACHE_VERSION &&
              get_string(root, "clientId", reg->client_id, sizeof(reg->client_id)) &&
              get_string(root, "clientSecret", reg->client_secret, sizeof(reg->client_secret)) &&
              get_time(root, "clientIdIssuedAt", &reg->issued_at) &&
              get_time(root, "clientSecretExpiresAt", &reg->expires_at);
    /* jansson's parser also keeps a scratch copy of each string token while
     * lexing; it is freed unwiped inside jansson and is out of our reach.
     * The value itself we can and do wipe. */
    cleanse_json_string(root, "clientSecret");
    json_decref(root);
    sso_cleanse(&jerr, sizeof(jerr)); /* its "text" may quote the file */
    return ok;
}

static int64_t seconds_left(int64_t expires_at, int64_t now)
{
    int64_t left;
    if (__builtin_sub_overflow(expires_at, now, &left))
        left = expires_at > now ? INT64_MAX : INT64_MIN;
    return left;
}

int cache_load(struct cache *c, int64_t now, int64_t min_valid_seconds,
               struct client_registration *reg, struct sso_error *err)
{
    if (!cache_ready(c) || !reg)
        return sso_fail(err, PAM_NO_MODULE_DATA, "registration cache is not open");
    /* Whatever happens below, the caller never sees a stale or half-loaded
     * registration: *reg holds a usable one or nothing at all. */
    sso_cleanse(reg, sizeof(*reg));
    int fd = -1;
    int rc = open_cached(c, &fd, err);
    if (rc != PAM_SUCCESS)
        return rc;

    char buf[CACHE_FILE_MAX];
    size_t len = 0;
    int r = read_bounded(fd, buf, sizeof(buf), &len);
    int read_errno = errno;
    close(fd);
    if (r < 0) {
        sso_cleanse(buf, sizeof(buf));
        return sso_fail(err, PAM_NO_MODULE_DATA, "cannot read cached registration %s: %s",
                        c->name, strerror(read_errno));
    }
    bool ok = r == 0 && parse_registration(buf, len, reg);
    sso_cleanse(buf, sizeof(buf));
    if (!ok) {
        sso_cleanse(reg, sizeof(*reg));
        return sso_fail(err, PAM_NO_MODULE_DATA,
                        "cached registration is corrupt; registering again");
    }
    int64_t left = seconds_left(reg->expires_at, now);
    if (left < min_valid_seconds) {
        sso_cleanse(reg, sizeof(*reg));
        return sso_fail(err, PAM_NO_MODULE_DATA,
                        "cached registration expires within %" PRId64
                        " s (less than the %" PRId64 " s required); registering again",
                        left > 0 ? left : 0, min_valid_seconds);
    }
    return PAM_SUCCESS;
}

/* ---- cache_store ------------------------------------------------------ */

static bool fixed_string_ok(const char *s, size_t size)
{
    return s[0] != '\0' && memchr(s, '\0', size) != NULL;
}

/* Serialise into buf (cap bytes, not NUL-terminated). jansson does the
 * escaping; its copy of the secret is wiped before it is freed. */
static int build_json(const struct client_registration *reg, char *buf, size_t cap, size_t *len,
                      struct sso_error *err)
{
    if (!fixed_string_ok(reg->client_id, sizeof(reg->client_id)) ||
        !fixed_string_ok(reg->client_secret, sizeof(reg->client_secret)) || reg->issued_at < 0 ||
        reg->expires_at < 0)
        return sso_fail(err, PAM_SERVICE_ERR,
                        "cannot write registration cache: the registration is incomplete");
    json_t *root = json_pack("{s:i, s:s, s:s, s:I, s:I}", "version", CACHE_VERSION, "clientId",
                             reg->client_id, "clientSecret", reg->client_secret,
                             "clientIdIssuedAt", (json_int_t)reg->issued_at,
                             "clientSecretExpiresAt", (json_int_t)reg->expires_at);
    if (!root) /* out of memory, or not UTF-8 */
        return sso_fail(err, PAM_SERVICE_ERR,
                        "cannot write registration cache: cannot encode the registration");
    size_t n = json_dumpb(root, buf, cap, JSON_COMPACT);
    cleanse_json_string(root, "clientSecret");
    json_decref(root);
    /* Keep one byte for the newline, and never write what load would
     * refuse as oversized. */
    if (n == 0 || n >= cap) {
        sso_cleanse(buf, cap);
        return sso_fail(err, PAM_SERVICE_ERR,
                        "cannot write registration cache: the registration is too large");
    }
    buf[n++] = '\n';
    *len = n;
    return PAM_SUCCESS;
}

/* A login killed between creating its temp file and renaming it (sshd's
 * LoginGraceTime, a reboot) leaves the temp file behind. Only a holder of
 * this key's lock writes temp files for this key, and we hold it, so any
 * that exist now are leftovers. Best effort and bounded. */
static void remove_stale_temps(struct cache *c, const char *prefix)
{
    int fd = openat(c->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd); /* takes fd; its own offset, not dir_fd's */
    if (!d) {
        close(fd);
        return;
    }
    size_t plen = strlen(prefix);
    struct dirent *de;
    for (int i = 0; i < CACHE_SCAN_MAX && (de = readdir(d)) != NULL; i++)
        if (strncmp(de->d_name, prefix, plen) == 0)
            unlinkat(c->dir_fd, de->d_name, 0);
    closedir(d);
}

/* Create a fresh temp file: O_EXCL guarantees it is ours and new, so no
 * earlier file, link or symlink of the same name can be written through. */
static int create_temp(struct cache *c, const char *prefix, char *tmp, size_t tmplen, int *out)
{
    for (int attempt = 0; attempt < CACHE_TMP_ATTEMPTS; attempt++) {
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
            rnd = (uint64_t)(sso_monotonic() * 1e9) ^ (uint64_t)attempt;
        int n = snprintf(tmp, tmplen, "%s%ld.%016" PRIx64, prefix, (long)getpid(), rnd);
        if (n < 0 || (size_t)n >= tmplen) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = openat(c->dir_fd, tmp,
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
static int publish(struct cache *c, const char *tmp, int fd, const char *buf, size_t len)
{
    int e = 0;
    if (write_all(fd, buf, len) != 0 || fsync(fd) != 0 || fchmod(fd, 0600) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0 && renameat(c->dir_fd, tmp, c->dir_fd, c->name) != 0)
        e = errno;
    return e;
}

int cache_store(struct cache *c, const struct client_registration *reg, struct sso_error *err)
{
    if (!cache_ready(c) || !reg)
        return sso_fail(err, PAM_SERVICE_ERR,
                        "cannot write registration cache: the cache is not open");
    if (c->lock_fd < 0) /* only the lock's holder writes */
        return sso_fail(err, PAM_SERVICE_ERR,
                        "cannot write registration cache: the lock is not held");
    char buf[CACHE_FILE_MAX];
    size_t len = 0;
    int rc = build_json(reg, buf, sizeof(buf), &len, err);
    if (rc != PAM_SUCCESS)
        return rc;

    /* reg-<key>.tmp. : the key ties leftovers to the lock we hold. */
    char prefix[sizeof(c->name)];
    size_t stem = strlen(c->name) - strlen(".json");
    snprintf(prefix, sizeof(prefix), "%.*s%s", (int)stem, c->name, CACHE_TMP_INFIX);
    remove_stale_temps(c, prefix);

    char tmp[sizeof(c->name) + 48];
    int fd = -1;
    int e = 0;
    if (create_temp(c, prefix, tmp, sizeof(tmp), &fd) != 0) {
        e = errno;
    } else {
        e = publish(c, tmp, fd, buf, len);
        if (e != 0)
            unlinkat(c->dir_fd, tmp, 0); /* never leave a partial copy behind */
    }
    sso_cleanse(buf, sizeof(buf));
    /* fsync the directory so that the rename itself survives a crash. */
    if (e == 0 && fsync(c->dir_fd) != 0)
        e = errno;
    if (e != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot write registration cache: %s",
                        strerror(e));
    return PAM_SUCCESS;
}


/* ---- documents -------------------------------------------------------- */

/* A document's file: doc-<hash of key>.json, in the checked directory. */
static int doc_attach(struct cache *c, const char *dir, const char *key, struct sso_error *err)
{
    cache_init(c);
    int rc = key_file_name("doc-", key, ".json", c->name, sizeof(c->name), err);
    if (rc == PAM_SUCCESS)
        rc = cache_dir_open(dir, &c->dir_fd, err);
    if (rc != PAM_SUCCESS) {
        cache_close(c);
        cache_init(c);
        return rc;
    }
    c->active = true;
    return PAM_SUCCESS;
}

int cache_doc_load(const char *dir, const char *key, const char *label, int64_t max_age,
                   char **body, size_t *len, struct sso_error *err)
{
    *body = NULL;
    *len = 0;
    struct cache c;
    int rc = doc_attach(&c, dir, key, err);
    if (rc != PAM_SUCCESS)
        return rc;
    int fd = -1;
    struct stat st;
    rc = open_stored(c.dir_fd, c.name, label, "fetching it again", CACHE_DOC_MAX, &fd, &st, err);
    cache_close(&c);
    if (rc != PAM_SUCCESS)
        return rc;
    /* The mtime is when we wrote it: only root can set it otherwise. A
     * clock set back makes the file look new; one from the future (by
     * more than a little skew) is not trusted to be fresh. */
    int64_t age = (int64_t)time(NULL) - (int64_t)st.st_mtime;
    if (age > max_age || age < -CACHE_DOC_FUTURE) {
        close(fd);
        return sso_fail(err, PAM_NO_MODULE_DATA, "cached %s is %" PRId64 " s old (at most %"
                        PRId64 " s); fetching it again", label, age, max_age);
    }
    char *buf = malloc(CACHE_DOC_MAX + 1);
    if (!buf) {
        close(fd);
        return sso_fail(err, PAM_BUF_ERR, "out of memory");
    }
    size_t n = 0;
    int r = read_bounded(fd, buf, CACHE_DOC_MAX, &n);
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

/* Without a lock, a temp file may be another login's, being written now:
 * only those older than a minute are leftovers. Best effort and bounded. */
static void remove_old_temps(struct cache *c, const char *prefix)
{
    int fd = openat(c->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    size_t plen = strlen(prefix);
    time_t now = time(NULL);
    struct dirent *de;
    struct stat st;
    for (int i = 0; i < CACHE_SCAN_MAX && (de = readdir(d)) != NULL; i++)
        if (strncmp(de->d_name, prefix, plen) == 0 &&
            fstatat(c->dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            now - st.st_mtime > CACHE_DOC_TMP_AGE)
            unlinkat(c->dir_fd, de->d_name, 0);
    closedir(d);
}

int cache_doc_store(const char *dir, const char *key, const char *body, size_t len,
                    struct sso_error *err)
{
    if (len > CACHE_DOC_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot cache a document of %zu bytes", len);
    struct cache c;
    int rc = doc_attach(&c, dir, key, err);
    if (rc != PAM_SUCCESS)
        return rc;
    char prefix[sizeof(c.name)];
    size_t stem = strlen(c.name) - strlen(".json");
    snprintf(prefix, sizeof(prefix), "%.*s%s", (int)stem, c.name, CACHE_TMP_INFIX);
    remove_old_temps(&c, prefix);
    char tmp[sizeof(c.name) + 48];
    int fd = -1, e = 0;
    if (create_temp(&c, prefix, tmp, sizeof(tmp), &fd) != 0) {
        e = errno;
    } else {
        e = publish(&c, tmp, fd, body, len);
        if (e != 0)
            unlinkat(c.dir_fd, tmp, 0);
    }
    if (e == 0 && fsync(c.dir_fd) != 0)
        e = errno;
    cache_close(&c);
    if (e != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot write the document cache: %s",
                        strerror(e));
    return PAM_SUCCESS;
}
