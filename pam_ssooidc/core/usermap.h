/* usermap.h - which local account an Identity Center user may log in as. */
#ifndef SSO_USERMAP_H
#define SSO_USERMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/util.h"

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
 * local->name is the account's own name (pw_name), not the name as typed
 * (usermap_is_account_name).
 * PAM_SUCCESS when it maps, PAM_AUTH_ERR (err set) when it does not. */
int usermap_allows(const struct cfg *c, const struct usermap *m, const char *session,
                   const struct local_account *local, struct sso_error *err);

/* Is `typed`, the name the login was asked for, the account's own name
 * `account` (pw_name, as the host's lookup returned it)? Byte for byte; with
 * fold_case also when the two differ in ASCII case only. A lookup that
 * ignores case or resolves aliases (SSSD with Active Directory, winbind,
 * LDAP) finds "rtvictim" for "RTVICTIM": the mapping must then be decided
 * for the account, and a login under any other spelling is refused. */
bool usermap_is_account_name(const struct cfg *c, const char *typed, const char *account);

/* Does a line of the loaded user_map name local_user as its local name,
 * whoever its Identity Center name? false without a user_map. Root and the
 * system accounts are reachable through such a line only. */
bool usermap_names_local(const struct usermap *m, const char *local_user);

/* Could any approval admit this account, before one is asked for? Root and
 * the system accounts only through a user_map line naming them, and never
 * under allow_any_approver; every other account may be. PAM_SUCCESS, or
 * PAM_AUTH_ERR with err saying why (the log's reason). */
int usermap_reachable(const struct cfg *c, const struct usermap *m,
                      const struct local_account *local, struct sso_error *err);

/* Not root and not a system account (uid at least UID_MIN): the accounts
 * a rule other than an explicit user_map line may admit. */
bool usermap_ordinary_account(uid_t uid);

/* The other way round, for the directory sync: the one local name that
 * SESSION (a directory user name) maps to by the rules of usermap_allows
 * (fold_case, then user_map's lines, else the name minus username_suffix,
 * else the name itself), into out. The name rule is the caller's. Never
 * root or a system account by construction: the sync only makes accounts
 * whose names no other source has. PAM_SUCCESS; PAM_USER_UNKNOWN (err says
 * why) when the rules give no single name; PAM_SERVICE_ERR when user_map is
 * configured but not loaded. */
int usermap_local_name(const struct cfg *c, const struct usermap *m, const char *session,
                       char *out, size_t outlen, struct sso_error *err);

/* The map-file matcher on in-memory text (tests, fuzzing): 1 when a line maps
 * session to local_user, 0 when none does, -1 (err set) for a malformed file. */
int usermap_match_text(const char *text, size_t len, const char *session,
                       const char *local_user, struct sso_error *err);

#endif
