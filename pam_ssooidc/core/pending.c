/* pending.c - see pending.h. */
#include "pending.h"

#include <errno.h>
#include <fcntl.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "retry.h"

/* Open slot file `index` in the (trusted) directory; -1 with err set when it
 * is not a root-owned regular file. */
static int open_slot(int dir_fd, const char *dir, long index, struct sso_error *err)
{
    char name[48];
    snprintf(name, sizeof(name), "pending-%03ld.lock", index);
    int fd = openat(dir_fd, name,
                    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);
    if (fd < 0) {
        sso_fail(err, PAM_SERVICE_ERR, "cannot open slot %s/%s: %s", dir, name,
                 errno == ELOOP ? "it is a symbolic link" : strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0) {
        close(fd);
        sso_fail(err, PAM_SERVICE_ERR, "slot %s/%s is not a root-owned regular file", dir, name);
        return -1;
    }
    if (st.st_gid != 0) /* made by su: the caller's group */
        sso_chown_root(fd);
    return fd;
}

int pending_acquire(const char *cache_dir, long max_pending, struct pending_slot *slot,
                    struct sso_error *err)
{
    slot->fd = -1;
    slot->index = -1;
    if (max_pending <= 0)
        return PAM_SUCCESS;
    int dir_fd;
    int rc = store_dir_open(cache_dir, &dir_fd, err);
    if (rc != PAM_SUCCESS)
        return rc;
    /* Start at a random slot so that concurrent logins rarely contend. */
    long start = (long)(retry_random01() * (double)max_pending);
    for (long i = 0; i < max_pending && rc == PAM_SUCCESS; i++) {
        long index = (start + i) % max_pending;
        int fd = open_slot(dir_fd, cache_dir, index, err);
        if (fd < 0) {
            rc = PAM_SERVICE_ERR;
            break;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            slot->fd = fd;
            slot->index = (int)index;
            break;
        }
        close(fd);
    }
    close(dir_fd);
    if (rc == PAM_SUCCESS && slot->fd < 0)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%ld device authorizations are already open on "
                      "this host (max_pending=%ld); not starting another", max_pending,
                      max_pending);
    return rc;
}

void pending_release(struct pending_slot *slot)
{
    if (slot->fd >= 0) {
        flock(slot->fd, LOCK_UN);
        close(slot->fd);
    }
    slot->fd = -1;
    slot->index = -1;
}
