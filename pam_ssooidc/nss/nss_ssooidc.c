/* nss_ssooidc.c - libnss_ssooidc.so.2, glibc's "ssooidc" service: the
 * accounts pam_ssooidc provisioned, from SSO_DATA_DIR/passwd and
 * SSO_DATA_DIR/group (docs/provisioning.md, "The NSS module").
 *
 * This code runs inside every process on the host that looks up a user or a
 * group, as whatever user runs it. So: the directory is fixed when the
 * library is built (never the environment or a configuration file), nothing
 * is printed or logged, no signal or exit is touched, and each call opens,
 * reads and closes the file itself, writing its answer into the caller's
 * buffer only (lookups are thread-safe without locks; where an enumeration
 * stands is the one piece of state, further down). A file that is missing,
 * unsafe or broken answers "not found", as a service with no entries would:
 * glibc then carries on with the next service, and what `files` answers is
 * unchanged. */
#include <errno.h>
#include <nss.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nss/nssfile.h"

#define NSS_EXPORT __attribute__((visibility("default")))

/* The entry points glibc finds by name (dlsym "_nss_ssooidc_" + function);
 * no glibc header declares them. The only symbols the library exports
 * (exports.map). */
NSS_EXPORT enum nss_status _nss_ssooidc_getpwnam_r(const char *name, struct passwd *pw,
                                                   char *buf, size_t buflen, int *errnop);
NSS_EXPORT enum nss_status _nss_ssooidc_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
                                                   size_t buflen, int *errnop);
NSS_EXPORT enum nss_status _nss_ssooidc_setpwent(int stayopen);
NSS_EXPORT enum nss_status _nss_ssooidc_getpwent_r(struct passwd *pw, char *buf, size_t buflen,
                                                   int *errnop);
NSS_EXPORT enum nss_status _nss_ssooidc_endpwent(void);
NSS_EXPORT enum nss_status _nss_ssooidc_getgrnam_r(const char *name, struct group *gr,
                                                   char *buf, size_t buflen, int *errnop);
NSS_EXPORT enum nss_status _nss_ssooidc_getgrgid_r(gid_t gid, struct group *gr, char *buf,
                                                   size_t buflen, int *errnop);
NSS_EXPORT enum nss_status _nss_ssooidc_setgrent(int stayopen);
NSS_EXPORT enum nss_status _nss_ssooidc_getgrent_r(struct group *gr, char *buf, size_t buflen,
                                                   int *errnop);
NSS_EXPORT enum nss_status _nss_ssooidc_endgrent(void);
NSS_EXPORT enum nss_status _nss_ssooidc_initgroups_dyn(const char *user, gid_t group,
                                                       long int *start, long int *size,
                                                       gid_t **groupsp, long int limit,
                                                       int *errnop);

/* A lookup reads 64 KiB a time (a 10,000-account file in about a dozen
 * reads); an enumeration reads just past one line a time, since it returns
 * one entry per call. */
#define NSS_LOOKUP_BLOCK (64 * 1024)
#define NSS_ENUM_BLOCK (2 * (NSSFILE_LINE_MAX + 1))

/* What one call looks for: a name or an id in one of the two files. */
struct nss_query {
    enum nssfile_kind kind;
    const char *name; /* NULL: by id */
    size_t name_len;
    uint32_t id;
};

/* Where the answer goes: a struct passwd or a struct group, and its buffer. */
struct nss_answer {
    void *ent;
    char *buf;
    size_t buflen;
};

static const char *nss_file_name(enum nssfile_kind kind)
{
    return kind == NSSFILE_PASSWD ? "passwd" : "group";
}

static enum nss_status nss_not_found(int *errnop)
{
    *errnop = ENOENT;
    return NSS_STATUS_NOTFOUND;
}

/* A name worth looking for: the name rule holds (no other is ever served). */
static bool nss_query_name(struct nss_query *q, const char *name)
{
    if (!name)
        return false;
    q->name = name;
    q->name_len = strnlen(name, NSSFILE_NAME_MAX + 1);
    return nssfile_name_ok(name, q->name_len);
}

static bool nss_matches(const struct nss_query *q, const char *line, size_t len)
{
    return q->name ? nssfile_name_is(line, len, q->name, q->name_len)
                   : nssfile_id_is(line, len, q->id);
}

/* Parse one line of `kind`'s file and, when it passes, copy it into the
 * answer: NSSFILE_OK, NSSFILE_SKIP or NSSFILE_ERANGE. */
static int nss_take(enum nssfile_kind kind, const char *line, size_t len,
                    const struct nssfile_range *range, int64_t now, const struct nss_answer *a)
{
    if (kind == NSSFILE_PASSWD) {
        struct nssfile_pwline pl;
        if (nssfile_pw_parse(line, len, range, now, &pl) != NSSFILE_OK)
            return NSSFILE_SKIP;
        return nssfile_pw_fill(&pl, a->ent, a->buf, a->buflen);
    }
    struct nssfile_grline gl;
    if (nssfile_gr_parse(line, len, range, now, &gl) != NSSFILE_OK)
        return NSSFILE_SKIP;
    return nssfile_gr_fill(&gl, a->ent, a->buf, a->buflen);
}

static enum nss_status nss_status_of(int rc, int *errnop)
{
    if (rc == NSSFILE_ERANGE) {
        *errnop = ERANGE;
        return NSS_STATUS_TRYAGAIN;
    }
    return rc == NSSFILE_OK ? NSS_STATUS_SUCCESS : nss_not_found(errnop);
}

/* getpwnam, getpwuid, getgrnam, getgrgid: the first line that matches and
 * passes every rule. The name (or id) is compared before a line is parsed:
 * most lines are passed over after a memcmp. */
static enum nss_status nss_lookup(const struct nss_query *q, const struct nss_answer *a,
                                  int *errnop)
{
    struct nssfile_reader r;
    struct nssfile_range range;
    if (nssfile_begin(&r, SSO_DATA_DIR, nss_file_name(q->kind), q->kind, &range,
                      NSS_LOOKUP_BLOCK) != 0)
        return nss_not_found(errnop);
    int64_t now = (int64_t)time(NULL);
    int rc = NSSFILE_SKIP;
    const char *line;
    size_t len;
    while (rc == NSSFILE_SKIP && nssfile_next_line(&r, &line, &len) == 1) {
        if (nss_matches(q, line, len))
            rc = nss_take(q->kind, line, len, &range, now, a);
    }
    nssfile_end(&r);
    return nss_status_of(rc, errnop);
}

NSS_EXPORT enum nss_status _nss_ssooidc_getpwnam_r(const char *name, struct passwd *pw,
                                                   char *buf, size_t buflen, int *errnop)
{
    struct nss_query q = {.kind = NSSFILE_PASSWD};
    if (!nss_query_name(&q, name))
        return nss_not_found(errnop);
    return nss_lookup(&q, &(struct nss_answer){pw, buf, buflen}, errnop);
}

NSS_EXPORT enum nss_status _nss_ssooidc_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
                                                   size_t buflen, int *errnop)
{
    if (uid < NSSFILE_ID_MIN || uid > NSSFILE_ID_MAX)
        return nss_not_found(errnop);
    struct nss_query q = {.kind = NSSFILE_PASSWD, .id = (uint32_t)uid};
    return nss_lookup(&q, &(struct nss_answer){pw, buf, buflen}, errnop);
}

NSS_EXPORT enum nss_status _nss_ssooidc_getgrnam_r(const char *name, struct group *gr,
                                                   char *buf, size_t buflen, int *errnop)
{
    struct nss_query q = {.kind = NSSFILE_GROUP};
    if (!nss_query_name(&q, name))
        return nss_not_found(errnop);
    return nss_lookup(&q, &(struct nss_answer){gr, buf, buflen}, errnop);
}

NSS_EXPORT enum nss_status _nss_ssooidc_getgrgid_r(gid_t gid, struct group *gr, char *buf,
                                                   size_t buflen, int *errnop)
{
    if (gid < NSSFILE_ID_MIN || gid > NSSFILE_ID_MAX)
        return nss_not_found(errnop);
    struct nss_query q = {.kind = NSSFILE_GROUP, .id = (uint32_t)gid};
    return nss_lookup(&q, &(struct nss_answer){gr, buf, buflen}, errnop);
}

/* Enumeration (setpwent, getpwent_r, endpwent and the group three) is the
 * one place with state: glibc's interface hands the module no handle, so
 * "where the last getpwent_r stopped" can only live here. It is the
 * descriptor opened at setpwent (so the whole walk reads one file, the one
 * there at the start, whatever renames follow) and the byte offset of the
 * next line, nothing else: entries are still parsed into the caller's
 * buffer, and the read buffer is allocated and freed within each call. The
 * mutex makes it safe for callers that enumerate from several threads
 * without glibc's own lock (a module may be called directly). */
enum nss_enum_state { NSS_ENUM_CLOSED, NSS_ENUM_OPEN, NSS_ENUM_DONE };

struct nss_enum {
    pthread_mutex_t lock;
    enum nss_enum_state state;
    int fd;
    uint64_t off;
    struct nssfile_range range;
};

static struct nss_enum nss_pwent = {PTHREAD_MUTEX_INITIALIZER, NSS_ENUM_CLOSED, -1, 0, {0, 0}};
static struct nss_enum nss_grent = {PTHREAD_MUTEX_INITIALIZER, NSS_ENUM_CLOSED, -1, 0, {0, 0}};

static void nss_enum_close(struct nss_enum *e)
{
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
    e->off = 0;
    e->state = NSS_ENUM_CLOSED;
}

/* (Re)start at the first account line; a file that serves nothing makes
 * an enumeration with no entries. Called with the lock held. */
static void nss_enum_open(struct nss_enum *e, enum nssfile_kind kind)
{
    struct nssfile_reader r;
    nss_enum_close(e);
    if (nssfile_begin(&r, SSO_DATA_DIR, nss_file_name(kind), kind, &e->range,
                      NSS_ENUM_BLOCK) != 0) {
        e->state = NSS_ENUM_DONE;
        return;
    }
    e->fd = r.fd;
    e->off = r.line_off;
    e->state = NSS_ENUM_OPEN;
    nssfile_reader_free(&r);
}

/* The next entry that passes every rule. A too-small buffer leaves the
 * position on that entry, so that the caller's retry with a larger one
 * gets it. Called with the lock held. */
static enum nss_status nss_enum_next(struct nss_enum *e, enum nssfile_kind kind,
                                     const struct nss_answer *a, int *errnop)
{
    struct nssfile_reader r;
    if (e->state == NSS_ENUM_CLOSED)
        nss_enum_open(e, kind);
    if (e->state != NSS_ENUM_OPEN || nssfile_reader_init(&r, e->fd, e->off, NSS_ENUM_BLOCK) != 0)
        return nss_not_found(errnop);
    int64_t now = (int64_t)time(NULL);
    int rc = NSSFILE_SKIP;
    const char *line;
    size_t len;
    while (rc == NSSFILE_SKIP && nssfile_next_line(&r, &line, &len) == 1) {
        rc = nss_take(kind, line, len, &e->range, now, a);
        e->off = rc == NSSFILE_ERANGE ? r.line_off - len - 1 : r.line_off;
    }
    nssfile_reader_free(&r);
    if (rc == NSSFILE_SKIP)
        e->state = NSS_ENUM_DONE;
    return nss_status_of(rc, errnop);
}

static enum nss_status nss_setent(struct nss_enum *e, enum nssfile_kind kind)
{
    pthread_mutex_lock(&e->lock);
    nss_enum_open(e, kind);
    pthread_mutex_unlock(&e->lock);
    return NSS_STATUS_SUCCESS;
}

static enum nss_status nss_getent(struct nss_enum *e, enum nssfile_kind kind,
                                  const struct nss_answer *a, int *errnop)
{
    pthread_mutex_lock(&e->lock);
    enum nss_status st = nss_enum_next(e, kind, a, errnop);
    pthread_mutex_unlock(&e->lock);
    return st;
}

static enum nss_status nss_endent(struct nss_enum *e)
{
    pthread_mutex_lock(&e->lock);
    nss_enum_close(e);
    pthread_mutex_unlock(&e->lock);
    return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_ssooidc_setpwent(int stayopen)
{
    (void)stayopen; /* the descriptor stays open until endpwent either way */
    return nss_setent(&nss_pwent, NSSFILE_PASSWD);
}

NSS_EXPORT enum nss_status _nss_ssooidc_getpwent_r(struct passwd *pw, char *buf, size_t buflen,
                                                   int *errnop)
{
    return nss_getent(&nss_pwent, NSSFILE_PASSWD, &(struct nss_answer){pw, buf, buflen}, errnop);
}

NSS_EXPORT enum nss_status _nss_ssooidc_endpwent(void)
{
    return nss_endent(&nss_pwent);
}

NSS_EXPORT enum nss_status _nss_ssooidc_setgrent(int stayopen)
{
    (void)stayopen;
    return nss_setent(&nss_grent, NSSFILE_GROUP);
}

NSS_EXPORT enum nss_status _nss_ssooidc_getgrent_r(struct group *gr, char *buf, size_t buflen,
                                                   int *errnop)
{
    return nss_getent(&nss_grent, NSSFILE_GROUP, &(struct nss_answer){gr, buf, buflen}, errnop);
}

NSS_EXPORT enum nss_status _nss_ssooidc_endgrent(void)
{
    return nss_endent(&nss_grent);
}

/* Append gid to the caller's list, growing it as glibc's nss_files does:
 * doubled, but never past `limit` when limit > 0 (then the gid is left out).
 * Duplicates and the primary group (`skip`) are left out too. false only
 * when memory ran out. */
static bool nss_add_gid(gid_t gid, gid_t skip, long int *start, long int *size,
                        gid_t **groupsp, long int limit)
{
    if (gid == 0 || gid == skip)
        return true;
    for (long int i = 0; i < *start; i++)
        if ((*groupsp)[i] == gid)
            return true;
    if (*start == *size) {
        if (limit > 0 && *size >= limit)
            return true;
        long int newsize = *size > 0 ? 2 * *size : 1;
        if (limit > 0 && newsize > limit)
            newsize = limit;
        gid_t *grown = realloc(*groupsp, (size_t)newsize * sizeof(gid_t));
        if (!grown)
            return false;
        *groupsp = grown;
        *size = newsize;
    }
    (*groupsp)[(*start)++] = gid;
    return true;
}

/* The supplementary groups of an account: its passwd line's ninth field.
 * (The groups themselves may come from any service: sudo's gid from
 * /etc/group, a made group from ours.) */
NSS_EXPORT enum nss_status _nss_ssooidc_initgroups_dyn(const char *user, gid_t group,
                                                       long int *start, long int *size,
                                                       gid_t **groupsp, long int limit,
                                                       int *errnop)
{
    struct nss_query q = {.kind = NSSFILE_PASSWD};
    struct nssfile_reader r;
    struct nssfile_range range;
    if (!nss_query_name(&q, user) ||
        nssfile_begin(&r, SSO_DATA_DIR, "passwd", NSSFILE_PASSWD, &range, NSS_LOOKUP_BLOCK) != 0)
        return nss_not_found(errnop);
    int64_t now = (int64_t)time(NULL);
    struct nssfile_pwline pl;
    bool found = false;
    const char *line;
    size_t len;
    while (!found && nssfile_next_line(&r, &line, &len) == 1)
        found = nss_matches(&q, line, len) &&
                nssfile_pw_parse(line, len, &range, now, &pl) == NSSFILE_OK;
    nssfile_end(&r); /* pl keeps only numbers from here on */
    /* glibc passes the primary gid of the user getpwnam answered, which is
     * our line's uid when the user is ours. Another gid: the name is
     * another service's user (files answers first), who must not get the
     * groups of our line of the same name. */
    if (!found || group != (gid_t)pl.uid)
        return nss_not_found(errnop);
    for (size_t i = 0; i < pl.ngroups; i++) {
        if (!nss_add_gid(pl.groups[i], group, start, size, groupsp, limit)) {
            *errnop = ENOMEM;
            return NSS_STATUS_TRYAGAIN;
        }
    }
    return NSS_STATUS_SUCCESS;
}
