/* pwnam_fold - an LD_PRELOAD shim that makes the host's name lookup behave
 * like a directory that is not byte-exact: SSSD with Active Directory's
 * default case_sensitive = false, winbind, or LDAP with alias names. There,
 * getpwnam("RTVICTIM") finds the account rtvictim, and the entry it returns
 * carries the account's own name (pw_name "rtvictim"), not the one asked for.
 *
 * getpwnam and getpwnam_r first ask the next definition (nss_wrapper in the
 * module tests, so it must chain with dlsym(RTLD_NEXT), never call libc
 * directly) for the name as given. Only when that finds nothing do they ask
 * again for
 *   - the target of an alias, from PWNAM_FOLD_ALIASES="alias=target,...", or
 *   - the name in lower case (ASCII), as a case-insensitive directory would.
 * An account that exists under the exact name is returned unchanged.
 *
 * Built by `make tools` as build/tools/pwnam_fold.so; test-only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 256

typedef int (*getpwnam_r_fn)(const char *, struct passwd *, char *, size_t, struct passwd **);
typedef struct passwd *(*getpwnam_fn)(const char *);

/* The alias's target from PWNAM_FOLD_ALIASES, copied into out. */
static bool alias_target(const char *name, char *out, size_t outlen)
{
    const char *list = getenv("PWNAM_FOLD_ALIASES");
    size_t nlen = strlen(name);
    while (list && *list) {
        const char *comma = strchr(list, ',');
        size_t entry = comma ? (size_t)(comma - list) : strlen(list);
        const char *eq = memchr(list, '=', entry);
        if (eq && (size_t)(eq - list) == nlen && memcmp(list, name, nlen) == 0) {
            size_t tlen = entry - nlen - 1;
            if (tlen == 0 || tlen >= outlen)
                return false;
            memcpy(out, eq + 1, tlen);
            out[tlen] = '\0';
            return true;
        }
        list = comma ? comma + 1 : NULL;
    }
    return false;
}

/* The other name a forgiving directory would look up for `name`: an alias's
 * target, else the lower-case spelling. false when there is none. */
static bool other_name(const char *name, char *out, size_t outlen)
{
    if (alias_target(name, out, outlen))
        return true;
    size_t n = strlen(name);
    if (n >= outlen)
        return false;
    bool changed = false;
    for (size_t i = 0; i <= n; i++) {
        char ch = name[i];
        out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        changed |= out[i] != ch;
    }
    return changed;
}

int getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t buflen,
               struct passwd **result)
{
    getpwnam_r_fn next = (getpwnam_r_fn)dlsym(RTLD_NEXT, "getpwnam_r");
    if (!next) {
        *result = NULL;
        return ENOSYS;
    }
    int rc = next(name, pwd, buf, buflen, result);
    char other[NAME_MAX_BYTES];
    /* "Not found" is 0 in glibc but ENOENT in nss_wrapper; a short buffer
     * (ERANGE) is the caller's to retry. */
    if (*result || rc == ERANGE || !other_name(name, other, sizeof(other)))
        return rc;
    return next(other, pwd, buf, buflen, result);
}

struct passwd *getpwnam(const char *name)
{
    getpwnam_fn next = (getpwnam_fn)dlsym(RTLD_NEXT, "getpwnam");
    if (!next)
        return NULL;
    struct passwd *pw = next(name);
    char other[NAME_MAX_BYTES];
    if (pw || !other_name(name, other, sizeof(other)))
        return pw;
    return next(other);
}
