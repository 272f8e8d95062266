/* pammodule - which PAM lines load the installed module (pammodule.h). */
#define _GNU_SOURCE
#include "cmd/pammodule.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/rootfs.h"

/* "/usr/lib/x" <-> "/lib/x": the same file on a merged-/usr system, and the
 * two places a package's module has lived. */
static void lib_twin(const char *path, char *out, size_t len)
{
    out[0] = '\0';
    if (strncmp(path, "/usr/lib/", 9) == 0)
        snprintf(out, len, "%s", path + 4);
    else if (strncmp(path, "/lib/", 5) == 0)
        snprintf(out, len, "/usr%s", path);
}

/* "//" and "/./" folded, ".." taken off lexically: only to compare the
 * names of a file that is not there. */
static void normalise(const char *path, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = path; *p && used + 2 < len;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (used > 0 && out[used - 1] != '/')
                used--;
            if (used > 0)
                used--;
        } else if (used + n + 2 < len) {
            out[used++] = '/';
            memcpy(out + used, p, n);
            used += n;
        }
        out[used] = '\0';
        p += n;
    }
    if (used == 0)
        snprintf(out, len, "/");
}

bool pammodule_init(struct pammodule *m, const char *root, const char *installed,
                    char *problem, size_t problem_len)
{
    memset(m, 0, sizeof(*m));
    m->root = root;
    if (installed[0] != '/' || strlen(installed) >= sizeof(m->installed)) {
        snprintf(problem, problem_len, "the module path %s is not absolute", installed);
        return false;
    }
    normalise(installed, m->installed, sizeof(m->installed));
    lib_twin(m->installed, m->twin, sizeof(m->twin));
    snprintf(m->dir, sizeof(m->dir), "%s", m->installed);
    char *slash = strrchr(m->dir, '/');
    slash[slash == m->dir ? 1 : 0] = '\0';
    struct stat st;
    if (rootfs_stat(root, m->installed, &st) == 0) {
        m->present = true;
        m->dev = st.st_dev;
        m->ino = st.st_ino;
    } else if (errno != ENOENT && errno != ENOTDIR) {
        snprintf(problem, problem_len, "cannot look at %s: %s", m->installed, strerror(errno));
        return false;
    }
    return true;
}

enum lookup { IS_MODULE, OTHER_FILE, NOT_THERE, CANNOT_TELL };

static enum lookup same_file(const struct pammodule *m, const char *path, char *problem,
                             size_t len)
{
    struct stat st;
    if (rootfs_stat(m->root, path, &st) == 0)
        return st.st_dev == m->dev && st.st_ino == m->ino ? IS_MODULE : OTHER_FILE;
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == ENAMETOOLONG)
        return NOT_THERE; /* libpam cannot load it either */
    snprintf(problem, len, "cannot look at %s: %s", path, strerror(errno));
    return CANNOT_TELL;
}

static bool packaged_name(const struct pammodule *m, const char *path)
{
    char norm[PAMMODULE_PATH_MAX];
    normalise(path, norm, sizeof(norm));
    return strcmp(norm, m->installed) == 0 || (m->twin[0] && strcmp(norm, m->twin) == 0);
}

static enum lookup look_up(const struct pammodule *m, const char *path, char *problem,
                           size_t len)
{
    if (m->present)
        return same_file(m, path, problem, len);
    return packaged_name(m, path) ? IS_MODULE : NOT_THERE;
}

int pammodule_loaded_by(const struct pammodule *m, const struct pamconf_line *l, char *problem,
                        size_t problem_len)
{
    char path[PAMMODULE_PATH_MAX * 2];
    if (l->module[0] == '/')
        snprintf(path, sizeof(path), "%s", l->module);
    else
        snprintf(path, sizeof(path), "%s/%s", m->dir, l->module);
    enum lookup res = look_up(m, path, problem, problem_len);
    /* libpam retries a path it cannot load with its first "$ISA" replaced
     * by "." (its default instruction-set directory). */
    char *isa = strstr(path, "$ISA");
    if (res == NOT_THERE && isa) {
        memmove(isa + 1, isa + 4, strlen(isa + 4) + 1);
        isa[0] = '.';
        res = look_up(m, path, problem, problem_len);
    }
    return res == IS_MODULE ? 1 : res == CANNOT_TELL ? -1 : 0;
}
