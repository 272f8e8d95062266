/* pamconf - read a PAM service's configuration the way Linux-PAM (1.5.2,
 * as Debian 12 ships it) does, and list the module lines it loads.
 *
 * For the tools only (pam_ssooidc_check); the module never links it.
 *
 * What it follows, as libpam's pam_handlers.c does:
 *   - lines of at most 1023 bytes, joined by a trailing backslash; a '#'
 *     ends a line; blank and comment lines inside a continuation are
 *     skipped, so the continuation goes on after them;
 *   - words separated by spaces, tabs and newlines; "[...]" is one word
 *     (with "\]" for a literal ']'), in every field;
 *   - the type keyword in any case, with a leading '-' ("-auth": the line
 *     is skipped silently when the module is missing);
 *   - "include" and "substack" (any case) of a name (/etc/pam.d/NAME, then
 *     /usr/lib/pam.d/NAME) or of an absolute path, taking only the lines of
 *     the including line's type; substacks nest at most 16 deep;
 *   - Debian's "@include NAME" (any case, also "-@include"): /etc/pam.d/NAME
 *     or an absolute path, every type the enclosing file is read for; a
 *     file it cannot open stops the reading of the file that names it;
 *   - a module path that is absolute, or a name under the module directory;
 *   - /etc/pam.conf (with its service column) only when neither /etc/pam.d
 *     nor /usr/lib/pam.d is a directory.
 * A line libpam installs as "must fail" (a bad type, no control, no module
 * path) loads no module and is not listed.
 *
 * Every path is read below a root (a prefix such as dpkg's DPKG_ROOT;
 * symbolic links stay inside it) and reported without it. Bounds: a file
 * of at most PAMCONF_FILE_MAX bytes, PAMCONF_NEST_MAX nested includes,
 * PAMCONF_LINES_MAX module lines per service. Whatever could not be read
 * (other than a file that does not exist, which libpam cannot read either)
 * or went past a bound is reported in `problem`: the list is then
 * incomplete. */
#ifndef PAM_SSOOIDC_PAMCONF_H
#define PAM_SSOOIDC_PAMCONF_H

#include <stdbool.h>
#include <stddef.h>

#define PAMCONF_FILE_MAX (1024 * 1024)
#define PAMCONF_NEST_MAX 32
#define PAMCONF_LINES_MAX 4096
#define PAMCONF_SERVICES_MAX 4096
#define PAMCONF_PROBLEM_MAX 512

enum pamconf_type {
    PAMCONF_ANY = 0, /* a service's own file: every type */
    PAMCONF_AUTH = 1,
    PAMCONF_SESSION = 2,
    PAMCONF_ACCOUNT = 4,
    PAMCONF_PASSWORD = 8,
};

/* One line that makes libpam load a module (dlopen) for a service. */
struct pamconf_line {
    char *file;      /* the file as libpam opens it, without the root */
    unsigned line;   /* where the stanza starts (the first of its lines) */
    enum pamconf_type type;
    bool silent;     /* "-type": a missing module is skipped silently */
    char *control;   /* as written, without the brackets */
    char *module;    /* the module path as written */
    char *args;      /* the arguments, joined by single spaces */
    char *argv;      /* the same joined by newlines: libpam's argv, where a
                        "[...]" argument may hold spaces */
    char *via;       /* "FILE:LINE -> FILE:LINE": the include lines that
                        lead here from the service's file; "" when none */
};

struct pamconf_stack {
    struct pamconf_line *lines;
    size_t count, cap;
    char problem[PAMCONF_PROBLEM_MAX]; /* the first; "" when complete */
};

/* root: "" or "/" for this system. */
struct pamconf_env {
    const char *root;
};

/* The module lines of SERVICE, in the order libpam reads them. Returns
 * false when the list is incomplete (out->problem says why); out is
 * filled either way and freed with pamconf_stack_free. */
bool pamconf_parse_service(const struct pamconf_env *env, const char *service,
                           struct pamconf_stack *out);

/* The same for an in-memory file named FILE (for tests and fuzzing):
 * includes are opened below env's root as usual. */
bool pamconf_parse_text(const struct pamconf_env *env, const char *file, const char *text,
                        size_t len, struct pamconf_stack *out);

void pamconf_stack_free(struct pamconf_stack *s);

/* The service names libpam has a file for: the names in /etc/pam.d and
 * /usr/lib/pam.d, or the service column of /etc/pam.conf when neither
 * directory exists. Sorted, without duplicates; free with
 * pamconf_services_free. Returns false (with problem set) when the list
 * could not be made complete. */
bool pamconf_list_services(const struct pamconf_env *env, char ***names, size_t *count,
                           char *problem, size_t problem_len);
void pamconf_services_free(char **names, size_t count);

const char *pamconf_type_name(enum pamconf_type t);

#endif
