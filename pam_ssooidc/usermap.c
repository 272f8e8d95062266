/* usermap.c - see usermap.h. */
#include "usermap.h"

#include <errno.h>
#include <fcntl.h>
#include <security/pam_modules.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAP_MAX_BYTES (1024 * 1024)
#define MAP_MAX_LINE 512

/* Split one line into at most two whitespace-separated words; '#' starts a
 * comment. Returns the number of words, or -1 for more than two. */
static int split_line(char *line, char **a, char **b)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL, *extra;
    *a = strtok_r(line, " \t\r", &save);
    *b = *a ? strtok_r(NULL, " \t\r", &save) : NULL;
    extra = *b ? strtok_r(NULL, " \t\r", &save) : NULL;
    if (extra)
        return -1;
    return *a ? (*b ? 2 : 1) : 0;
}

int usermap_match_text(const char *text, size_t len, const char *session,
                       const char *local_user, struct sso_error *err)
{
    char line[MAP_MAX_LINE + 1];
    size_t pos = 0;
    int lineno = 0, found = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (n > MAP_MAX_LINE || memchr(text + pos, '\0', n))
            return sso_fail(err, -1, "user_map line %d is too long or binary", lineno);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl ? 1 : 0);
        char *sso, *local;
        int words = split_line(line, &sso, &local);
        if (words == 0)
            continue;
        if (words != 2)
            return sso_fail(err, -1, "user_map line %d: expected \"sso-name local-name\"", lineno);
        if (strcmp(sso, session) == 0 && strcmp(local, local_user) == 0)
            found = 1; /* keep reading: a malformed file is refused as a whole */
    }
    return found;
}

static int read_map(const char *path, char **text, size_t *len, struct sso_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return sso_fail(err, PAM_SERVICE_ERR, "cannot open user_map %s: %s", path,
                        strerror(errno));
    struct stat st;
    int rc = PAM_SUCCESS;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = sso_fail(err, PAM_SERVICE_ERR, "user_map %s is not a regular file", path);
    else if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
        rc = sso_fail(err, PAM_SERVICE_ERR,
                      "user_map %s must be owned by root and not writable by group or others "
                      "(owner %u, mode %04o)",
                      path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
    else if (st.st_size > MAP_MAX_BYTES)
        rc = sso_fail(err, PAM_SERVICE_ERR, "user_map %s is larger than %d bytes", path,
                      MAP_MAX_BYTES);
    else if (!(*text = malloc((size_t)st.st_size + 1)))
        rc = sso_fail(err, PAM_BUF_ERR, "out of memory reading user_map");
    if (rc == PAM_SUCCESS) {
        ssize_t got = read(fd, *text, (size_t)st.st_size);
        if (got < 0 || got != st.st_size) {
            free(*text);
            *text = NULL;
            rc = sso_fail(err, PAM_SERVICE_ERR, "cannot read user_map %s", path);
        } else {
            *len = (size_t)got;
        }
    }
    close(fd);
    return rc;
}

static int map_file_allows(const char *path, const char *session, const char *local_user,
                           struct sso_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_map(path, &text, &len, err);
    if (rc != PAM_SUCCESS)
        return rc;
    struct sso_error why;
    int found = usermap_match_text(text, len, session, local_user, &why);
    free(text);
    if (found < 0)
        return sso_fail(err, PAM_SERVICE_ERR, "%s (%s)", why.msg, path);
    return found ? PAM_SUCCESS : PAM_AUTH_ERR;
}

/* local_user + suffix, with the part after '@' compared case-insensitively
 * (domains are case-insensitive; local parts are not). */
static int suffix_allows(const char *suffix, const char *session, const char *local_user)
{
    size_t ul = strlen(local_user), sl = strlen(suffix);
    if (strlen(session) != ul + sl || strncmp(session, local_user, ul) != 0)
        return 0;
    return strcasecmp(session + ul, suffix) == 0;
}

int usermap_allows(const struct cfg *c, const char *session, const char *local_user,
                   struct sso_error *err)
{
    int ok;
    if (c->user_map[0])
        return map_file_allows(c->user_map, session, local_user, err);
    if (c->username_suffix[0])
        ok = suffix_allows(c->username_suffix, session, local_user);
    else
        ok = strcmp(session, local_user) == 0;
    return ok ? PAM_SUCCESS : PAM_AUTH_ERR;
}
