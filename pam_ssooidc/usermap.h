/* usermap.h - which local account an Identity Center user may log in as. */
#ifndef SSO_USERMAP_H
#define SSO_USERMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "util.h"

/* Does SESSION (the Identity Center user name) map to local_user?
 *  - user_map set: the file's "sso-name local-name" lines (one person may
 *    hold several lines); the file must be root-owned and not writable by
 *    group or others, else PAM_SERVICE_ERR;
 *  - else username_suffix set: session == local_user + suffix, the domain
 *    part compared case-insensitively;
 *  - else: session == local_user exactly.
 * PAM_SUCCESS when it maps, PAM_AUTH_ERR when it does not. */
int usermap_allows(const struct cfg *c, const char *session, const char *local_user,
                   struct sso_error *err);

/* The map-file matcher on in-memory text (tests, fuzzing): 1 when a line maps
 * session to local_user, 0 when none does, -1 (err set) for a malformed file. */
int usermap_match_text(const char *text, size_t len, const char *session,
                       const char *local_user, struct sso_error *err);

#endif
