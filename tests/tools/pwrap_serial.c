/* pwrap_serial - an LD_PRELOAD shim that makes pam_wrapper's start-up safe
 * when many PAM hosts start at once.
 *
 * pam_wrapper picks its runtime directory, /tmp/pam.X, in a constructor: it
 * tries letters from one derived from the pid, takes the first whose lstat
 * says ENOENT, and goes on when mkdir then fails with EEXIST. Two processes
 * that start together can therefore take the same directory; when the first
 * exits, its destructor removes the directory under the second, whose
 * pam_start then fails with "no default config other" (the suites saw it as
 * a login that ended in "Initialization failure").
 *
 * This shim runs pam_wrapper's constructor itself, under an exclusive flock
 * on one lock file, so that choosing the letter, creating the directory and
 * writing the pid into it happen for one process at a time; pam_wrapper's
 * own constructor then finds itself initialised and returns. It must be
 * listed after libpam_wrapper.so in LD_PRELOAD: glibc runs the constructors
 * of preloaded objects in reverse order, so this one runs first.
 *
 * Built by `make tools` as build/tools/pwrap_serial.so; test-only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#define PWRAP_SERIAL_LOCK "/tmp/pam_wrapper-start.lock"

__attribute__((constructor)) static void pwrap_serial_start(void)
{
    void (*pwrap_constructor)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "pwrap_constructor");
    if (pwrap_constructor == NULL)
        return; /* pam_wrapper not loaded: nothing to serialise */
    int fd = open(PWRAP_SERIAL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    pwrap_constructor();
    if (fd >= 0)
        close(fd); /* releases the lock */
}
