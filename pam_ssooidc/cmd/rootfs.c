/* rootfs - paths below a root, resolved as if chrooted there (rootfs.h). */
#define _GNU_SOURCE
#include "cmd/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool is_this_system(const char *root)
{
    return !root || root[0] == '\0' || strcmp(root, "/") == 0;
}

/* openat2 with RESOLVE_IN_ROOT (Linux 5.6) is what keeps a link such as
 * /etc/pam.d/sshd -> /etc/pam.d/x inside the root; without it, an absolute
 * link would be read from this system, so we refuse rather than guess. */
int rootfs_open(const char *root, const char *path, int flags)
{
    if (is_this_system(root))
        return open(path, flags | O_CLOEXEC);
    int dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -1;
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    int saved = errno;
    close(dirfd);
    errno = saved;
    return fd;
}

int rootfs_stat(const char *root, const char *path, struct stat *st)
{
    if (is_this_system(root))
        return stat(path, st);
    int fd = rootfs_open(root, path, O_PATH);
    if (fd < 0)
        return -1;
    int rc = fstat(fd, st);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
