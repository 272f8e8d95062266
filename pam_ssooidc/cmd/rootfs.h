/* rootfs - open and stat absolute paths below a root directory, as a
 * process chrooted there would: symbolic links (absolute ones too) and ".."
 * stay inside the root. For the tools' reading of another system's files
 * (dpkg's DPKG_ROOT, tests); a root of "" or "/" is this system. */
#ifndef PAM_SSOOIDC_ROOTFS_H
#define PAM_SSOOIDC_ROOTFS_H

#include <sys/stat.h>

/* An fd (O_CLOEXEC added to FLAGS) or -1 with errno set. */
int rootfs_open(const char *root, const char *path, int flags);

/* stat(2) of PATH below ROOT, following links: 0 or -1 with errno set. */
int rootfs_stat(const char *root, const char *path, struct stat *st);

#endif
