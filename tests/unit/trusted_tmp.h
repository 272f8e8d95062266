/* trusted_tmp.h - scratch directories for unit tests of trusted files.
 *
 * The module refuses a config file, map or cache directory unless every
 * directory above it is root-owned and not group- or world-writable, so
 * /tmp (world-writable) will not do. Tests make their directories under
 * TRUSTED_TMP_BASE instead (created root 0755 when missing). */
#ifndef TRUSTED_TMP_H
#define TRUSTED_TMP_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRUSTED_TMP_BASE "/run/ssooidc-tests"

/* mkdtemp under TRUSTED_TMP_BASE, e.g. trusted_mkdtemp(buf, len, "test_cache");
 * returns buf (mode 0700, or `mode`), or NULL. */
static inline char *trusted_mkdtemp(char *buf, size_t len, const char *prefix, mode_t mode)
{
    if (mkdir(TRUSTED_TMP_BASE, 0755) != 0 && errno != EEXIST)
        return NULL;
    if (chown(TRUSTED_TMP_BASE, 0, 0) != 0 || chmod(TRUSTED_TMP_BASE, 0755) != 0)
        return NULL;
    snprintf(buf, len, "%s/%s.XXXXXX", TRUSTED_TMP_BASE, prefix);
    if (!mkdtemp(buf) || chmod(buf, mode) != 0)
        return NULL;
    return buf;
}

static inline int trusted_rm_one_(const char *path, const struct stat *st, int type,
                                  struct FTW *ftw)
{
    (void)st, (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove a scratch directory and everything in it (no symlink followed). */
static inline int trusted_rmtree(const char *path)
{
    return nftw(path, trusted_rm_one_, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
