/* trust.h - opening the files and directories the module trusts: the config
 * file, ca_file, user_map and client_secret_file, and cache_dir.
 *
 * The rule is OpenSSH's StrictModes, without its exceptions: the object and
 * every directory above it must be owned by root and not writable by group
 * or others, and no component may be a symbolic link. Sticky directories
 * such as /tmp get no pass: there any user can create a name before root
 * does. The walk goes component by component from "/" on open file
 * descriptors, so nothing can be swapped between the check and the use. */
#ifndef SSO_TRUST_H
#define SSO_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

/* Open the regular file `path` for reading (O_CLOEXEC). `what` names it in
 * messages ("config file"). PAM_SUCCESS with *fd set; PAM_NO_MODULE_DATA
 * when it (or a directory on the way) does not exist; PAM_SERVICE_ERR,
 * with err naming the offending path and rule, for anything untrusted. */
int trust_open_file(const char *path, const char *what, int *fd, struct sso_error *err);

/* Open the directory `path` (O_RDONLY | O_DIRECTORY | O_CLOEXEC). With
 * `create`, a missing last component is made with mode 0700 (never its
 * parents: a missing parent is a configuration error) and *created says
 * so. Same results as trust_open_file. */
int trust_open_dir(const char *path, const char *what, bool create, int *fd, bool *created,
                   struct sso_error *err);

/* Read a whole trusted file of at most `max` bytes into a NUL-terminated
 * malloc'd buffer (*len bytes). PAM_SUCCESS, PAM_NO_MODULE_DATA (missing),
 * PAM_SERVICE_ERR (untrusted, too large, unreadable), PAM_BUF_ERR. */
int trust_read_file(const char *path, const char *what, size_t max, char **text, size_t *len,
                    struct sso_error *err);

#endif
