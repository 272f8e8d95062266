/* groupmap.h - which local groups a person's groups at the provider give
 * them (group_map, for the accounts the module makes: provision.h).
 *
 * The file, a root-owned trusted path like user_map, has one mapping per
 * line: the provider's group (an OpenID groups claim value, or an AWS
 * permission set the approver holds), then whitespace, then the local
 * group's name, which ends the line. The provider's group may hold spaces
 * (Keycloak's "/team a/devs"); the local name passes the name rule. '#'
 * at the start of a line makes it a comment. One provider group may give
 * several local groups and several may give the same one. */
#ifndef SSO_GROUPMAP_H
#define SSO_GROUPMAP_H

#include <stddef.h>

#include "core/config.h"
#include "core/util.h"

#define GROUPMAP_LOCAL_MAX 32 /* bytes of a local group's name */

struct groupmap {
    char *text; /* NULL when no group_map is configured */
    size_t len;
};

/* Read group_map (when configured) through the trusted-path walk and check
 * every line. PAM_SUCCESS (m empty when none is configured), or
 * PAM_SERVICE_ERR / PAM_BUF_ERR with err naming the file and line. */
int groupmap_load(const struct cfg *c, struct groupmap *m, struct sso_error *err);
void groupmap_free(struct groupmap *m);

/* The local groups that the provider groups `given` (n of them) map to,
 * each once, in the file's order, into out (at most max); returns how many.
 * An empty map gives none. */
size_t groupmap_resolve(const struct groupmap *m, const char (*given)[256], size_t n,
                        char (*out)[GROUPMAP_LOCAL_MAX + 1], size_t max);

/* Whether some line of the map names provider group `remote`. */
bool groupmap_names(const struct groupmap *m, const char *remote);

/* The checker on in-memory text (tests, fuzzing): 0, or -1 with err naming
 * the line. */
int groupmap_check_text(const char *text, size_t len, struct sso_error *err);

#endif
