/* trust.c - see trust.h and docs/configuration.md ("Trusted paths"). */
#define _GNU_SOURCE /* O_PATH */
#include "core/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <security/pam_modules.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the walk is: the directory reached so far (fd) and its path as
 * shown in messages. */
struct walk {
    const char *what;
    char shown[PATH_MAX];
    size_t shown_len;
    int fd;
};

static int untrusted(struct walk *w, struct sso_error *err, const char *rule, const struct stat *st)
{
    if (st)
        return sso_fail(err, PAM_SERVICE_ERR,
                        "%s: %s %s (owner uid %u, mode %04o); a trusted file and every "
                        "directory above it must be owned by root and not writable by group or "
                        "others",
                        w->what, w->shown, rule, (unsigned)st->st_uid,
                        (unsigned)(st->st_mode & 07777));
    return sso_fail(err, PAM_SERVICE_ERR, "%s: %s %s", w->what, w->shown, rule);
}

/* The ownership rule, for directories on the way and the object itself. */
static int check_owner_mode(struct walk *w, const struct stat *st, struct sso_error *err)
{
    if (st->st_uid != 0)
        return untrusted(w, err, "is not owned by root", st);
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return untrusted(w, err, "is writable by group or others", st);
    return PAM_SUCCESS;
}

static int walk_start(struct walk *w, const char *path, const char *what, struct sso_error *err)
{
    w->what = what;
    w->fd = -1;
    sso_strlcpy(w->shown, "/", sizeof(w->shown));
    w->shown_len = 1;
    if (!path || path[0] != '/')
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s: not an absolute path", what,
                        path ? path : "(none)");
    if (strlen(path) >= sizeof(w->shown))
        return sso_fail(err, PAM_SERVICE_ERR, "%s: path too long", what);
    w->fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (w->fd < 0)
        return sso_fail(err, PAM_SERVICE_ERR, "%s: cannot open /: %s", what, strerror(errno));
    struct stat st;
    if (fstat(w->fd, &st) != 0)
        return untrusted(w, err, "cannot be examined", NULL);
    return check_owner_mode(w, &st, err);
}

static void walk_end(struct walk *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

static void shown_append(struct walk *w, const char *name, size_t n)
{
    if (w->shown_len > 1 && w->shown_len + 1 < sizeof(w->shown))
        w->shown[w->shown_len++] = '/';
    if (w->shown_len + n < sizeof(w->shown)) {
        memcpy(w->shown + w->shown_len, name, n);
        w->shown_len += n;
    }
    w->shown[w->shown_len] = '\0';
}

/* Step into the directory `name` below the current one. */
static int walk_into(struct walk *w, const char *name, struct sso_error *err)
{
    shown_append(w, name, strlen(name));
    int fd = openat(w->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return sso_fail(err, PAM_NO_MODULE_DATA, "%s: %s does not exist", w->what, w->shown);
        return untrusted(w, err, strerror(errno), NULL);
    }
    struct stat st;
    int rc = PAM_SUCCESS;
    if (fstat(fd, &st) != 0)
        rc = untrusted(w, err, "cannot be examined", NULL);
    else if (S_ISLNK(st.st_mode))
        rc = untrusted(w, err, "is a symbolic link (refused on the way to a trusted file)", NULL);
    else if (!S_ISDIR(st.st_mode))
        rc = untrusted(w, err, "is not a directory", NULL);
    else
        rc = check_owner_mode(w, &st, err);
    close(w->fd);
    w->fd = fd;
    return rc;
}

/* Walk every directory of path down to the one holding the last component,
 * which is copied into last. Components "." and ".." are refused: a trusted
 * path is written out in full. */
static int walk_to_parent(struct walk *w, const char *path, char *last, size_t lastlen,
                          struct sso_error *err)
{
    char copy[PATH_MAX];
    sso_strlcpy(copy, path, sizeof(copy));
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    char *slash = strrchr(copy, '/');
    if (!slash || slash[1] == '\0')
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s: names no file", w->what, path);
    if (!sso_strlcpy(last, slash + 1, lastlen))
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s: name too long", w->what, path);
    *slash = '\0';
    char *save = NULL;
    for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
            return sso_fail(err, PAM_SERVICE_ERR, "%s %s: '.' and '..' are not allowed in a "
                            "trusted path", w->what, path);
        int rc = walk_into(w, comp, err);
        if (rc != PAM_SUCCESS)
            return rc;
    }
    if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s: '.' and '..' are not allowed in a trusted "
                        "path", w->what, path);
    shown_append(w, last, strlen(last));
    return PAM_SUCCESS;
}

/* Look at the last component without opening it for real (opening a device
 * or FIFO can have effects of its own). */
static int examine_last(struct walk *w, const char *last, bool want_dir, struct stat *st,
                        struct sso_error *err)
{
    if (fstatat(w->fd, last, st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return sso_fail(err, PAM_NO_MODULE_DATA, "%s %s does not exist", w->what, w->shown);
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s: %s", w->what, w->shown, strerror(errno));
    }
    if (S_ISLNK(st->st_mode))
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s is a symbolic link (refused)", w->what,
                        w->shown);
    if (want_dir && !S_ISDIR(st->st_mode))
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s is not a directory", w->what, w->shown);
    if (!want_dir && !S_ISREG(st->st_mode))
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s is not a regular file", w->what, w->shown);
    return check_owner_mode(w, st, err);
}

/* Open what examine_last approved and make sure it is still that object. */
static int open_last(struct walk *w, const char *last, int flags, const struct stat *seen,
                     int *out, struct sso_error *err)
{
    int fd = openat(w->fd, last, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s cannot be opened: %s", w->what, w->shown,
                        strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino) {
        close(fd);
        return sso_fail(err, PAM_SERVICE_ERR, "%s %s changed while it was opened", w->what,
                        w->shown);
    }
    *out = fd;
    return PAM_SUCCESS;
}

int trust_open_file(const char *path, const char *what, int *fd, struct sso_error *err)
{
    struct walk w;
    char last[NAME_MAX + 1];
    struct stat st;
    *fd = -1;
    int rc = walk_start(&w, path, what, err);
    if (rc == PAM_SUCCESS)
        rc = walk_to_parent(&w, path, last, sizeof(last), err);
    if (rc == PAM_SUCCESS)
        rc = examine_last(&w, last, false, &st, err);
    if (rc == PAM_SUCCESS)
        rc = open_last(&w, last, O_RDONLY | O_NONBLOCK, &st, fd, err);
    walk_end(&w);
    return rc;
}

int trust_open_dir(const char *path, const char *what, bool create, int *fd, bool *created,
                   struct sso_error *err)
{
    struct walk w;
    char last[NAME_MAX + 1];
    struct stat st;
    *fd = -1;
    if (created)
        *created = false;
    int rc = walk_start(&w, path, what, err);
    if (rc == PAM_SUCCESS)
        rc = walk_to_parent(&w, path, last, sizeof(last), err);
    if (rc == PAM_SUCCESS && create) {
        if (mkdirat(w.fd, last, 0700) == 0) {
            if (created)
                *created = true;
        } else if (errno != EEXIST) {
            rc = sso_fail(err, PAM_SERVICE_ERR, "cannot create %s %s: %s", what, w.shown,
                          strerror(errno));
        }
    }
    if (rc == PAM_SUCCESS)
        rc = examine_last(&w, last, true, &st, err);
    if (rc == PAM_SUCCESS)
        rc = open_last(&w, last, O_RDONLY | O_DIRECTORY, &st, fd, err);
    if (rc == PAM_SUCCESS && created && *created)
        sso_chown_root(*fd); /* under su it would have the caller's group */
    walk_end(&w);
    return rc;
}

int trust_read_file(const char *path, const char *what, size_t max, char **text, size_t *len,
                    struct sso_error *err)
{
    int fd;
    *text = NULL;
    *len = 0;
    int rc = trust_open_file(path, what, &fd, err);
    if (rc != PAM_SUCCESS)
        return rc;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0)
        rc = sso_fail(err, PAM_SERVICE_ERR, "%s %s cannot be examined", what, path);
    else if ((size_t)st.st_size > max)
        rc = sso_fail(err, PAM_SERVICE_ERR, "%s %s is larger than %zu bytes", what, path, max);
    else if (!(buf = malloc(max + 1)))
        rc = sso_fail(err, PAM_BUF_ERR, "out of memory reading %s", what);
    size_t got = 0;
    while (rc == PAM_SUCCESS) {
        ssize_t n = read(fd, buf + got, max + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = sso_fail(err, PAM_SERVICE_ERR, "%s %s cannot be read: %s", what, path,
                          strerror(errno));
        else if (n == 0)
            break;
        else if ((got += (size_t)n) > max) /* grew since fstat */
            rc = sso_fail(err, PAM_SERVICE_ERR, "%s %s is larger than %zu bytes", what, path,
                          max);
    }
    close(fd);
    if (rc != PAM_SUCCESS) {
        if (buf)
            sso_cleanse(buf, max + 1);
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return PAM_SUCCESS;
}
