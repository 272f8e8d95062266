/* usermap.c - see usermap.h. */
#include "core/usermap.h"

#include "core/trust.h"

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
#define LOGIN_DEFS "/etc/login.defs"
#define LOGIN_DEFS_MAX (256 * 1024)
#define UID_MIN_DEFAULT 1000 /* shadow's default, and every distribution's */

static char ascii_lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

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

/* Walk the map's lines, calling visit(sso, local, ctx) for each mapping;
 * 0 when the file is well formed, -1 (err set) when not. */
static int walk_lines(const char *text, size_t len,
                      void (*visit)(const char *sso, const char *local, void *ctx), void *ctx,
                      struct sso_error *err)
{
    char line[MAP_MAX_LINE + 1];
    size_t pos = 0;
    int lineno = 0;
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
        visit(sso, local, ctx); /* and keep reading: a malformed file is refused as a whole */
    }
    return 0;
}

struct match_ctx {
    const char *session; /* NULL: anyone */
    const char *local_user;
    int found;
};

static void match_visit(const char *sso, const char *local, void *ctx)
{
    struct match_ctx *m = ctx;
    if ((!m->session || strcmp(sso, m->session) == 0) && strcmp(local, m->local_user) == 0)
        m->found = 1;
}

/* 1 when a line maps session (NULL: anyone) to local_user, 0 when none
 * does, -1 (err set) for a malformed file. */
static int match_lines(const char *text, size_t len, const char *session,
                       const char *local_user, struct sso_error *err)
{
    struct match_ctx m = {session, local_user, 0};
    return walk_lines(text, len, match_visit, &m, err) < 0 ? -1 : m.found;
}

int usermap_match_text(const char *text, size_t len, const char *session,
                       const char *local_user, struct sso_error *err)
{
    return match_lines(text, len, session, local_user, err);
}

bool usermap_names_local(const struct usermap *m, const char *local_user)
{
    struct sso_error ignored = SSO_ERROR_INIT;
    /* A map that failed to load holds no text: it names nobody. */
    return m->text && match_lines(m->text, m->len, NULL, local_user, &ignored) == 1;
}

int usermap_load(const struct cfg *c, struct usermap *m, struct sso_error *err)
{
    memset(m, 0, sizeof(*m));
    if (!c->user_map[0])
        return PAM_SUCCESS;
    /* Root's file in root's directories all the way up (trust.h). */
    int rc = trust_read_file(c->user_map, "user_map", MAP_MAX_BYTES, &m->text, &m->len, err);
    if (rc == PAM_NO_MODULE_DATA)
        return PAM_SERVICE_ERR; /* a configured map must exist; err says so */
    if (rc != PAM_SUCCESS)
        return rc;
    /* Malformed is refused as a whole, now, before anything is sent. */
    struct sso_error why;
    if (usermap_match_text(m->text, m->len, "", "", &why) < 0) {
        usermap_free(m);
        return sso_fail(err, PAM_SERVICE_ERR, "%s (%s)", why.msg, c->user_map);
    }
    return PAM_SUCCESS;
}

void usermap_free(struct usermap *m)
{
    free(m->text);
    memset(m, 0, sizeof(*m));
}


bool usermap_is_account_name(const struct cfg *c, const char *typed, const char *account)
{
    if (strcmp(typed, account) == 0)
        return true;
    if (!c->fold_case)
        return false;
    /* ASCII only, whatever the host's locale: the same fold as the
     * approver's name gets in usermap_allows. */
    size_t i = 0;
    for (; typed[i] && account[i]; i++)
        if (ascii_lower(typed[i]) != ascii_lower(account[i]))
            return false;
    return typed[i] == account[i];
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

/* The first uid of an ordinary user: UID_MIN of login.defs (a root-owned
 * file, read through the trusted-path walk), else 1000. Below it live the
 * system accounts (daemon, backup, www-data, postgres). */
static uid_t uid_min(void)
{
    char *text = NULL;
    size_t len = 0;
    struct sso_error ignored = SSO_ERROR_INIT;
    long v = UID_MIN_DEFAULT;
    if (trust_read_file(LOGIN_DEFS, "login.defs", LOGIN_DEFS_MAX, &text, &len, &ignored) !=
        PAM_SUCCESS)
        return UID_MIN_DEFAULT;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line += strspn(line, " \t");
        if (strncmp(line, "UID_MIN", 7) == 0 && (line[7] == ' ' || line[7] == '\t')) {
            char *end;
            long n = strtol(line + 7, &end, 10);
            if (end != line + 7 && n > 0 && n < 1000000)
                v = n;
        }
        line = next;
    }
    free(text);
    return (uid_t)v;
}

bool usermap_ordinary_account(uid_t uid)
{
    return uid != 0 && uid >= uid_min();
}

int usermap_reachable(const struct cfg *c, const struct usermap *m,
                      const struct local_account *local, struct sso_error *err)
{
    uid_t first = uid_min();
    if (local->uid != 0 && local->uid >= first)
        return PAM_SUCCESS;
    /* allow_any_approver maps nobody to anybody: never to these (and it
     * cannot be combined with user_map). */
    if (c->allow_any_approver)
        return sso_fail(err, PAM_AUTH_ERR, "allow_any_approver never admits %s (uid %u: root "
                        "or a system account); map it in user_map under an identity policy",
                        local->name, (unsigned)local->uid);
    if (usermap_names_local(m, local->name))
        return PAM_SUCCESS;
    if (local->uid == 0)
        return sso_fail(err, PAM_AUTH_ERR, "local user %s has uid 0: root can log in only "
                        "through a user_map line naming it", local->name);
    return sso_fail(err, PAM_AUTH_ERR, "local user %s is a system account (uid %u, below "
                    "UID_MIN %u): it can log in only through a user_map line naming it",
                    local->name, (unsigned)local->uid, (unsigned)first);
}

int usermap_allows(const struct cfg *c, const struct usermap *m, const char *session_as_sent,
                   const struct local_account *local, struct sso_error *err)
{
    /* fold_case: directories synced from Entra or Okta often capitalise
     * (Alice@Example.com); the name is compared in lower case (ASCII). */
    char folded[256];
    const char *session = session_as_sent;
    if (c->fold_case) {
        size_t n = strlen(session_as_sent);
        if (n >= sizeof(folded))
            return sso_fail(err, PAM_AUTH_ERR, "the approver's name is too long to compare");
        for (size_t i = 0; i <= n; i++)
            folded[i] = ascii_lower(session_as_sent[i]);
        session = folded;
    }
    const char *local_user = local->name;
    uid_t local_uid = local->uid;
    int ok;
    if (c->user_map[0]) {
        struct sso_error why;
        int found = m->text ? usermap_match_text(m->text, m->len, session, local_user, &why) : -1;
        if (found < 0)
            return sso_fail(err, PAM_SERVICE_ERR, "user_map %s was not loaded", c->user_map);
        return found ? PAM_SUCCESS : sso_fail(err, PAM_AUTH_ERR, "no line of user_map maps them");
    }
    /* An Identity Center user who happens to be called "root" (or
     * "root@example.com") must not become uid 0 by a naming accident. */
    if (local_uid == 0)
        return sso_fail(err, PAM_AUTH_ERR, "local user %s has uid 0, which only an explicit "
                        "user_map line can admit", local_user);
    /* Nor a system account: an approver who may choose their own name at
     * the provider must not become "backup" or "postgres" by asking. */
    uid_t first = uid_min();
    if (local_uid < first)
        return sso_fail(err, PAM_AUTH_ERR, "local user %s is a system account (uid %u, below "
                        "UID_MIN %u), which only an explicit user_map line can admit",
                        local_user, (unsigned)local_uid, (unsigned)first);
    if (c->username_suffix[0])
        ok = suffix_allows(c->username_suffix, session, local_user);
    else
        ok = strcmp(session, local_user) == 0;
    if (ok)
        return PAM_SUCCESS;
    return sso_fail(err, PAM_AUTH_ERR, c->username_suffix[0]
                                           ? "the name is not the local name plus username_suffix"
                                           : "the names differ");
}

struct forward_ctx {
    const char *session;
    char *out;
    size_t outlen;
    int found; /* lines naming session */
    bool differ; /* ... with different local names */
};

static void forward_visit(const char *sso, const char *local, void *ctx)
{
    struct forward_ctx *f = ctx;
    if (strcmp(sso, f->session) != 0)
        return;
    if (f->found++ == 0)
        sso_strlcpy(f->out, local, f->outlen);
    else if (strcmp(f->out, local) != 0)
        f->differ = true;
}

int usermap_local_name(const struct cfg *c, const struct usermap *m, const char *session_as_sent,
                       char *out, size_t outlen, struct sso_error *err)
{
    char session[256];
    size_t n = strlen(session_as_sent);
    if (n >= sizeof(session))
        return sso_fail(err, PAM_USER_UNKNOWN, "the name is longer than 255 bytes");
    for (size_t i = 0; i <= n; i++)
        session[i] = c->fold_case ? ascii_lower(session_as_sent[i]) : session_as_sent[i];
    out[0] = '\0';
    if (c->user_map[0]) {
        struct forward_ctx f = {session, out, outlen, 0, false};
        struct sso_error why;
        if (!m->text || walk_lines(m->text, m->len, forward_visit, &f, &why) < 0)
            return sso_fail(err, PAM_SERVICE_ERR, "user_map %s was not loaded", c->user_map);
        if (f.found == 0)
            return sso_fail(err, PAM_USER_UNKNOWN, "no line of user_map names them");
        if (f.differ) {
            out[0] = '\0';
            return sso_fail(err, PAM_USER_UNKNOWN, "user_map maps them to more than one local "
                            "name: an account needs exactly one");
        }
        return PAM_SUCCESS;
    }
    if (c->username_suffix[0]) {
        size_t sl = strlen(c->username_suffix);
        if (n <= sl || strcasecmp(session + n - sl, c->username_suffix) != 0)
            return sso_fail(err, PAM_USER_UNKNOWN, "the name does not end in username_suffix");
        session[n - sl] = '\0';
    }
    if (strlen(session) >= outlen)
        return sso_fail(err, PAM_USER_UNKNOWN, "the local name would be too long");
    sso_strlcpy(out, session, outlen);
    return PAM_SUCCESS;
}
