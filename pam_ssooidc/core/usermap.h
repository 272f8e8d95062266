/* usermap.h - which local account an Identity Center user may log in as. */
#ifndef SSO_USERMAP_H
#define SSO_USERMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "util.h"

/* The local account a login is for. */
struct local_account {
    const char *name;
    uid_t uid;
};

/* The user_map file, read and checked once, at configuration time. */
struct usermap {
    char *text; /* NULL when no user_map is configured */
    size_t len;
};

/* Read user_map (when configured) through the trusted-path walk and check
 * every line. PAM_SUCCESS (m empty when none is configured), or
 * PAM_SERVICE_ERR / PAM_BUF_ERR with err naming the file and line. */
int usermap_load(const struct cfg *c, struct usermap *m, struct sso_error *err);
void usermap_free(struct usermap *m);

/* Does SESSION (the Identity Center user name; with fold_case, in lower
 * case: map files then list lower-case names) map to local_user?
 *  - user_map set: the file's "sso-name local-name" lines (one person may
 *    hold several lines), as loaded by usermap_load;
 *  - else username_suffix set: session == local_user + suffix, the domain
 *    part compared case-insensitively;
 *  - else: session == local_user exactly.
 * The root account (uid 0) and the system accounts (uid below UID_MIN of
 * /etc/login.defs, 1000 without it) are reached only through an explicit
 * user_map line: neither the exact-name rule nor the suffix admits them.
 * PAM_SUCCESS when it maps, PAM_AUTH_ERR (err set) when it does not. */
int usermap_allows(const struct cfg *c, const struct usermap *m, const char *session,
                   const struct local_account *local, struct sso_error *err);

/* Not root and not a system account (uid at least UID_MIN): the accounts
 * a rule other than an explicit user_map line may admit. */
bool usermap_ordinary_account(uid_t uid);

/* The map-file matcher on in-memory text (tests, fuzzing): 1 when a line maps
 * session to local_user, 0 when none does, -1 (err set) for a malformed file. */
int usermap_match_text(const char *text, size_t len, const char *session,
                       const char *local_user, struct sso_error *err);

#endif
