/* pam_users - `pam_ssooidc_check --pam-users`: every PAM line that loads
 * the installed module, for the package removal guards (and people).
 *
 * One line on OUT per use, "FILE:LINE: STANZA (service NAME[, via
 * FILE:LINE -> ...])", reduced to printable ASCII; what could not be
 * checked goes to ERR. Returns PAM_USERS_NONE (0), PAM_USERS_SOME (1) or
 * PAM_USERS_UNKNOWN (3: nothing found, but the check was incomplete). */
#ifndef PAM_SSOOIDC_PAM_USERS_H
#define PAM_SSOOIDC_PAM_USERS_H

#include <stdio.h>

enum { PAM_USERS_NONE = 0, PAM_USERS_SOME = 1, PAM_USERS_UNKNOWN = 3 };

/* ROOT: "" or "/" for this system, else a prefix (dpkg's DPKG_ROOT).
 * MODULE: the installed module's absolute path (as on that system). */
int pam_users_report(const char *root, const char *module, FILE *out, FILE *err);

#endif
