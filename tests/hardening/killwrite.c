/* killwrite.so - an LD_PRELOAD shim for the cache tampering tests: it kills
 * the process with SIGKILL halfway through writing a registration temp file.
 *
 * write(), pwrite(), pwrite64() and writev() are interposed. When the fd
 * refers (per /proc/self/fd) to a file whose name contains ".tmp" and whose
 * path starts with $KILLWRITE_DIR (any path when unset), the first half of
 * the buffer is written for real, a note goes to stderr, and the process is
 * killed with SIGKILL: no handler, destructor or atexit runs, exactly like
 * sshd's LoginGraceTime or the OOM killer hitting a login mid-write.
 * Every other write passes straight through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);

static write_fn real_write_fn(void)
{
    static write_fn fn;
    if (!fn)
        fn = (write_fn)dlsym(RTLD_NEXT, "write");
    return fn;
}

static int is_target(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    const char *dir = getenv("KILLWRITE_DIR");
    if (dir && dir[0] && strncmp(path, dir, strlen(dir)) != 0)
        return 0;
    const char *base = strrchr(path, '/');
    return strstr(base ? base + 1 : path, ".tmp") != NULL;
}

static void note(const char *what, int fd, size_t done, size_t total)
{
    char msg[160];
    int n = snprintf(msg, sizeof(msg), "killwrite: %s fd %d: wrote %zu of %zu bytes, SIGKILL\n",
                     what, fd, done, total);
    if (n > 0)
        real_write_fn()(2, msg, (size_t)n);
}

static void die(void)
{
    raise(SIGKILL);
    _exit(137); /* not reached */
}

ssize_t write(int fd, const void *buf, size_t count)
{
    write_fn real = real_write_fn();
    if (count > 0 && is_target(fd)) {
        ssize_t w = real(fd, buf, count / 2);
        note("write", fd, w > 0 ? (size_t)w : 0, count);
        die();
    }
    return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
    static pwrite_fn real;
    if (!real)
        real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
    if (count > 0 && is_target(fd)) {
        ssize_t w = real(fd, buf, count / 2, off);
        note("pwrite", fd, w > 0 ? (size_t)w : 0, count);
        die();
    }
    return real(fd, buf, count, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t off)
{
    return pwrite(fd, buf, count, off);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    static writev_fn real;
    if (!real)
        real = (writev_fn)dlsym(RTLD_NEXT, "writev");
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (total > 0 && iovcnt > 0 && is_target(fd)) {
        struct iovec half = {iov[0].iov_base, iov[0].iov_len / 2};
        ssize_t w = real(fd, &half, 1);
        note("writev", fd, w > 0 ? (size_t)w : 0, total);
        die();
    }
    return real(fd, iov, iovcnt);
}
