/* pammodule - does a PAM module line load this package's module?
 *
 * libpam loads an absolute module path as written and any other under its
 * module directory (the directory the package installs the module into).
 * A line loads the installed module when that path is the same file
 * (device and inode, which also sees /lib and /usr/lib as one on a
 * merged-/usr system). When the module file is not there, a line matches
 * when its path is the packaged one or its /lib <-> /usr/lib twin. A line
 * naming another copy (/run/x/pam_ssooidc.so) is not this module.
 * Paths are read below the root, as pamconf does. */
#ifndef PAM_SSOOIDC_PAMMODULE_H
#define PAM_SSOOIDC_PAMMODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cmd/pamconf.h"

#define PAMMODULE_PATH_MAX 4096

struct pammodule {
    const char *root;
    char installed[PAMMODULE_PATH_MAX]; /* absolute, e.g. SECDIR/pam_ssooidc.so */
    char twin[PAMMODULE_PATH_MAX + 8];  /* its /lib <-> /usr/lib twin, or "" */
    char dir[PAMMODULE_PATH_MAX];       /* where bare names are looked up */
    bool present;
    dev_t dev;
    ino_t ino;
};

/* INSTALLED must be absolute. Returns false (with problem) when it is not,
 * or when it exists but cannot be looked at. */
bool pammodule_init(struct pammodule *m, const char *root, const char *installed,
                    char *problem, size_t problem_len);

/* 1 when the line loads this module, 0 when not, -1 when its path cannot
 * be looked at (problem set). */
int pammodule_loaded_by(const struct pammodule *m, const struct pamconf_line *l, char *problem,
                        size_t problem_len);

#endif
