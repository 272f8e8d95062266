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
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_FILE_MAX (16 * 1024) /* larger files are corrupt, not truncated */
#define CACHE_VERSION 1
#define CACHE_LOCK_POLL_NS 25000000L     /* 25 ms between lock attempts */
#define CACHE_WAIT_MAX 3600.0            /* no caller needs to wait longer */

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
    int rc = store_file_name("reg-", key_material, ".json", c->name, sizeof(c->name), err);
    if (rc == PAM_SUCCESS)
        rc = store_file_name("reg-", key_material, ".lock", lockname, sizeof(lockname), err);
    if (rc == PAM_SUCCESS)
        rc = store_dir_open(dir, &dir_fd, err);
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

static int open_cached(struct cache *c, int *out, struct sso_error *err)
{
    struct stat st;
    return store_open_read(c->dir_fd, c->name, "cached registration", "registering again",
                       CACHE_FILE_MAX, out, &st, err);
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
    int r = store_read_all(fd, buf, sizeof(buf), &len);
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

    /* We hold this registration's lock: every temp file of it is a
     * leftover of a killed login (temp_age 0). */
    int e = store_replace(c->dir_fd, c->name, buf, len, 0);
    sso_cleanse(buf, sizeof(buf));
    if (e != 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot write registration cache: %s",
                        strerror(e));
    return PAM_SUCCESS;
}
