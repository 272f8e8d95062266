/* registration.c - AWS's persisted client registration and its key; see
 * registration.h and docs/cache.md.
 *
 * Everything below the directory is reached through the directory fd taken
 * (and checked) in registration_open, never through the path again: once the
 * directory has been vetted, renaming or replacing the path cannot redirect
 * later reads or writes. Every open uses O_NOFOLLOW and O_CLOEXEC, so a
 * planted symlink is never followed and no fd leaks into a helper that the
 * host process (sshd, sudo, login) may exec. */
#define _GNU_SOURCE
#include "aws/registration.h"

#include "core/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_FILE_MAX (16 * 1024) /* larger files are corrupt, not truncated */
#define CACHE_VERSION 1

void registration_cache_init(struct registration_cache *c)
{
    if (!c)
        return;
    c->dir_fd = -1;
    c->lock_fd = -1;
    c->active = false;
    c->name[0] = '\0';
}

void registration_close(struct registration_cache *c)
{
    if (!c)
        return;
    /* Only an opened cache owns fds: a zeroed struct holds 0 (stdin). */
    if (c->active) {
        if (c->lock_fd >= 0)
            store_unlock(c->lock_fd);
        if (c->dir_fd >= 0)
            close(c->dir_fd);
    }
    registration_cache_init(c);
}

static bool registration_ready(const struct registration_cache *c)
{
    return c && c->active && c->dir_fd >= 0 && c->name[0] != '\0';
}

/* ---- registration_open ------------------------------------------------------- */

/* Open the directory and name the file; with lock_wait >= 0 also take the
 * registration lock, waiting at most that long. */
static int attach(struct registration_cache *c, const char *dir, const char *key_material,
                  double lock_wait, struct sso_error *err)
{
    if (!c)
        return sso_fail(err, PAM_SERVICE_ERR, "no registration cache");
    registration_cache_init(c);

    char lockname[sizeof(c->name)];
    int dir_fd = -1, lock_fd = -1;
    int rc = store_file_name("reg-", key_material, ".json", c->name, sizeof(c->name), err);
    if (rc == PAM_SUCCESS)
        rc = store_file_name("reg-", key_material, ".lock", lockname, sizeof(lockname), err);
    if (rc == PAM_SUCCESS)
        rc = store_dir_open(dir, &dir_fd, err);
    if (rc == PAM_SUCCESS && lock_wait >= 0)
        rc = store_lock(dir_fd, dir, lockname, "registration", lock_wait, &lock_fd, err);
    if (rc != PAM_SUCCESS) {
        if (dir_fd >= 0)
            close(dir_fd);
        registration_cache_init(c);
        return rc;
    }
    c->dir_fd = dir_fd;
    c->lock_fd = lock_fd;
    c->active = true;
    return PAM_SUCCESS;
}

int registration_open(struct registration_cache *c, const char *dir, const char *key_material,
                      double wait_seconds, struct sso_error *err)
{
    return attach(c, dir, key_material, wait_seconds > 0 ? wait_seconds : 0, err);
}

int registration_open_unlocked(struct registration_cache *c, const char *dir,
                               const char *key_material, struct sso_error *err)
{
    return attach(c, dir, key_material, -1, err);
}

/* ---- registration_load ------------------------------------------------------- */

static int open_cached(struct registration_cache *c, int *out, struct sso_error *err)
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

int registration_load(struct registration_cache *c, int64_t now, int64_t min_valid_seconds,
                      struct client_registration *reg, struct sso_error *err)
{
    if (!registration_ready(c) || !reg)
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

/* ---- registration_store ------------------------------------------------------ */

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

int registration_store(struct registration_cache *c, const struct client_registration *reg,
                       struct sso_error *err)
{
    if (!registration_ready(c) || !reg)
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

int aws_registration_key(const struct cfg *c, const struct aws_cfg *a, char *out, size_t len,
                         struct sso_error *err)
{
    const char *parts[] = {a->oidc_endpoint, a->client_name, c->ca_file, c->proxy};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (strchr(parts[i], '\n'))
            return sso_fail(err, PAM_SERVICE_ERR, "registration cache key: a value holds a "
                            "newline");
    /* The tag keeps these keys apart from any other kind the store holds. */
    int n = snprintf(out, len, "registration\n%s\n%s\n%s\n%s", a->oidc_endpoint, a->client_name,
                     c->ca_file, c->proxy);
    if (n < 0 || (size_t)n >= len)
        return sso_fail(err, PAM_SERVICE_ERR, "registration cache key too long");
    return PAM_SUCCESS;
}
