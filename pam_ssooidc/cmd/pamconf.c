/* pamconf - PAM configuration as Linux-PAM 1.5.2 reads it (pamconf.h).
 *
 * Written from the behaviour of libpam's pam_handlers.c and pam_misc.c
 * (line assembly, word splitting, include handling) and of Debian 12's
 * libpam (its "@include"), each checked against the real library. */
#define _GNU_SOURCE
#include "cmd/pamconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/rootfs.h"

/* libpam's line buffer: a stanza (continuations joined) is at most 1023
 * bytes, and a longer physical line is read in 1023-byte pieces, each a
 * line of its own. */
#define LINE_BUF 1024
/* libpam refuses substacks nested deeper than this (PAM_SUBSTACK_MAX_LEVEL). */
#define SUBSTACK_MAX 16

#define PAM_D "/etc/pam.d"
#define PAM_D_DIST "/usr/lib/pam.d"
#define PAM_CONF "/etc/pam.conf"
#define WORD_SEPARATORS " \n\t"

/* ------------------------------------------------------- problems */

static void note_problem(struct pamconf_stack *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note_problem(struct pamconf_stack *out, const char *fmt, ...)
{
    if (out->problem[0]) /* the first one explains; later ones often follow from it */
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->problem, sizeof(out->problem), fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------- reading files */

enum open_result { OPENED, NOT_THERE, UNREADABLE };

/* The whole of PATH (below the root) in *data. NOT_THERE is what libpam
 * cannot open either (no such file); anything we cannot read, or will not
 * wait for, is UNREADABLE with a problem noted. A directory reads as empty,
 * as it does for libpam's fgets. */
static enum open_result read_whole(const char *root, const char *path, char **data, size_t *len,
                                   struct stat *st, struct pamconf_stack *out)
{
    *data = NULL;
    *len = 0;
    int fd = rootfs_open(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            return NOT_THERE;
        note_problem(out, "cannot open %s: %s", path, strerror(errno));
        return UNREADABLE;
    }
    enum open_result res = UNREADABLE;
    if (fstat(fd, st) != 0) {
        note_problem(out, "cannot stat %s: %s", path, strerror(errno));
    } else if (S_ISDIR(st->st_mode)) {
        res = OPENED;
    } else if (!S_ISREG(st->st_mode)) {
        note_problem(out, "%s is not a regular file", path);
    } else if (st->st_size > PAMCONF_FILE_MAX) {
        note_problem(out, "%s is larger than %d bytes", path, PAMCONF_FILE_MAX);
    } else {
        char *buf = malloc((size_t)st->st_size + 1);
        size_t got = 0;
        ssize_t n = 1;
        while (buf && got <= (size_t)st->st_size && n > 0) {
            n = read(fd, buf + got, (size_t)st->st_size + 1 - got);
            if (n > 0)
                got += (size_t)n;
        }
        if (!buf || n < 0 || got > (size_t)st->st_size) { /* grew while read: not the same file */
            note_problem(out, "cannot read %s%s%s", path, n < 0 ? ": " : "",
                         n < 0 ? strerror(errno) : "");
            free(buf);
        } else {
            *data = buf;
            *len = got;
            res = OPENED;
        }
    }
    close(fd);
    return res;
}

/* ------------------------------------------------------- line assembly */

struct reader {
    const char *data;
    size_t len, pos;
    unsigned physical; /* the line number of the next byte */
};

/* fgets(3) on the text: at most size-1 bytes, up to and with a newline.
 * *line is the physical line the piece belongs to. */
static bool read_piece(struct reader *r, char *dst, size_t size, unsigned *line)
{
    if (r->pos >= r->len)
        return false;
    size_t n = 0;
    *line = r->physical;
    while (n + 1 < size && r->pos < r->len) {
        char c = r->data[r->pos++];
        dst[n++] = c;
        if (c == '\n') {
            r->physical++;
            break;
        }
    }
    dst[n] = '\0';
    return true;
}

enum assembled { STANZA, END_OF_FILE, ABORT_FILE };

/* The next stanza into buf, *first_line where it starts. As libpam: text
 * after a '#' is dropped (and ends the stanza, backslash or not); blank and
 * comment lines are skipped, inside a continuation too; a stanza that does
 * not fit, or a continuation cut by the end of the file, makes libpam stop
 * reading the file (ABORT_FILE). */
static enum assembled assemble_stanza(struct reader *r, char buf[LINE_BUF], unsigned *first_line)
{
    size_t at = 0;
    bool started = false;
    for (;;) {
        /* With one byte left, fgets reads nothing and libpam would loop
         * for ever; it overflows one byte later. Both stop the file here. */
        if (at + 1 >= LINE_BUF)
            return ABORT_FILE;
        unsigned line;
        if (!read_piece(r, buf + at, LINE_BUF - at, &line))
            return started ? ABORT_FILE : END_OF_FILE;
        char *text = buf + at + strspn(buf + at, WORD_SEPARATORS);
        if (*text == '\0' || *text == '#')
            continue; /* nothing here; the next piece goes to the same place */
        if (!started)
            *first_line = line;
        started = true;
        char *hash = strchr(text, '#');
        if (hash) {
            *hash = '\0';
            return STANZA;
        }
        char *last = text + strlen(text);
        while (last > text && strchr(" \t\n", last[-1]))
            last--;
        if (last > text && last[-1] == '\\') {
            last[-1] = ' '; /* the backslash becomes a word separator */
            *last = '\0';
            at = (size_t)(last - buf);
            continue;
        }
        return STANZA;
    }
}

/* ------------------------------------------------------- words */

/* "[...]" as one word, in place: up to the first ']' (or the end), with
 * "\]" standing for ']'. *rest goes past the ']'. */
static char *bracketed_word(char *open, char **rest)
{
    char *in = open + 1, *out = open + 1, *word = open + 1;
    while (*in && *in != ']') {
        if (in[0] == '\\' && in[1] == ']')
            in++;
        *out++ = *in++;
    }
    *rest = *in ? in + 1 : in;
    *out = '\0';
    return word;
}

/* The next word of *rest (split in place), or NULL when none is left; then
 * *rest is NULL too. */
static char *next_word(char **rest)
{
    if (!*rest)
        return NULL;
    char *start = *rest + strspn(*rest, WORD_SEPARATORS);
    char *word, *after;
    if (*start == '[') {
        word = bracketed_word(start, &after);
    } else if (*start) {
        word = start;
        after = start + strcspn(start, WORD_SEPARATORS);
        if (*after)
            *after++ = '\0';
    } else {
        *rest = NULL;
        return NULL;
    }
    *rest = *after ? after : NULL;
    return word;
}

/* The remaining words joined by SEP: a space (as shown), or a newline,
 * which no word holds, for libpam's argv (a "[...]" word may hold spaces). */
static char *join_words(char *rest, char sep)
{
    size_t cap = rest ? strlen(rest) + 1 : 1, used = 0;
    char *joined = malloc(cap);
    if (!joined)
        return NULL;
    joined[0] = '\0';
    for (char *w = next_word(&rest); w; w = next_word(&rest)) {
        size_t wl = strlen(w);
        if (used + wl + 2 > cap) /* cannot happen: words only shrink */
            break;
        if (used)
            joined[used++] = sep;
        memcpy(joined + used, w, wl + 1);
        used += wl;
    }
    return joined;
}

/* ------------------------------------------------------- types */

static const struct {
    const char *name;
    enum pamconf_type type;
} type_names[] = {
    {"auth", PAMCONF_AUTH},
    {"session", PAMCONF_SESSION},
    {"account", PAMCONF_ACCOUNT},
    {"password", PAMCONF_PASSWORD},
};

const char *pamconf_type_name(enum pamconf_type t)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (type_names[i].type == t)
            return type_names[i].name;
    return "any";
}

/* libpam compares the type ignoring case. */
static bool type_of_word(const char *word, enum pamconf_type *type)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (strcasecmp(word, type_names[i].name) == 0) {
            *type = type_names[i].type;
            return true;
        }
    return false;
}

/* ------------------------------------------------------- the walk */

/* A file being read, and the include line in it being followed. */
struct frame {
    const char *file;
    unsigned at_line;
    dev_t dev;
    ino_t ino;
};

struct walk {
    const struct pamconf_env *env;
    const char *service;  /* for /etc/pam.conf's service column */
    struct pamconf_stack *out;
    struct frame chain[PAMCONF_NEST_MAX];
    size_t depth;
};

enum include_kind { INCLUDE, AT_INCLUDE };
/* NOT_OPENED: libpam's fopen would fail, so it looks elsewhere (or
 * installs the include to fail); LOAD_FAILED: it opened the file but
 * stopped reading it. */
enum loaded { LOADED, LOAD_FAILED, NOT_OPENED };

static enum loaded read_file(struct walk *w, const char *path, enum pamconf_type want,
                             int substack_level, bool service_column);

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static char *via_text(const struct walk *w)
{
    size_t cap = 1;
    for (size_t i = 0; i + 1 < w->depth; i++)
        cap += strlen(w->chain[i].file) + 16;
    char *via = malloc(cap);
    if (!via)
        return NULL;
    size_t used = 0;
    via[0] = '\0';
    for (size_t i = 0; i + 1 < w->depth; i++)
        used += (size_t)snprintf(via + used, cap - used, "%s%s:%u", i ? " -> " : "",
                                 w->chain[i].file, w->chain[i].at_line);
    return via;
}

static void add_module_line(struct walk *w, unsigned line, enum pamconf_type type, bool silent,
                            const char *control, const char *module, char *rest)
{
    struct pamconf_stack *s = w->out;
    if (s->count >= PAMCONF_LINES_MAX) {
        note_problem(s, "more than %d module lines", PAMCONF_LINES_MAX);
        return;
    }
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct pamconf_line *grown = realloc(s->lines, cap * sizeof(*grown));
        if (!grown) {
            note_problem(s, "out of memory");
            return;
        }
        s->lines = grown;
        s->cap = cap;
    }
    struct pamconf_line *l = &s->lines[s->count];
    char *words = rest ? strdup(rest) : NULL; /* join_words splits in place */
    bool copied = !rest || words;
    *l = (struct pamconf_line){
        .file = dup_or_empty(w->chain[w->depth - 1].file),
        .line = line,
        .type = type,
        .silent = silent,
        .control = dup_or_empty(control),
        .module = dup_or_empty(module),
        .args = join_words(rest, ' '),
        .argv = NULL,
        .via = via_text(w),
    };
    s->count++;
    l->argv = copied ? join_words(words, '\n') : NULL;
    free(words);
    if (!l->file || !l->control || !l->module || !l->args || !l->argv || !l->via)
        note_problem(s, "out of memory");
}

/* Where libpam looks for an included NAME: an absolute path as it is;
 * "include" tries /etc/pam.d then /usr/lib/pam.d, Debian's "@include" only
 * /etc/pam.d. */
static enum loaded follow_include(struct walk *w, const char *name, enum include_kind kind,
                                  enum pamconf_type want, int substack_level)
{
    if (!name) /* libpam: "no config name supplied" */
        return LOAD_FAILED;
    if (substack_level >= SUBSTACK_MAX) /* libpam: "maximum level of substacks" */
        return LOAD_FAILED;
    if (name[0] == '/')
        return read_file(w, name, want, substack_level, false);
    const char *dirs[] = {PAM_D, PAM_D_DIST};
    size_t ndirs = kind == AT_INCLUDE ? 1 : 2;
    for (size_t i = 0; i < ndirs; i++) {
        char path[LINE_BUF + sizeof(PAM_D_DIST) + 1];
        snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
        enum loaded res = read_file(w, path, want, substack_level, false);
        if (res != NOT_OPENED)
            return res;
    }
    return NOT_OPENED;
}

/* One stanza. Returns false when libpam stops reading the file here. */
static bool take_stanza(struct walk *w, char *text, unsigned line, enum pamconf_type want,
                        int substack_level, bool service_column)
{
    char *rest = text;
    if (service_column) {
        const char *service = next_word(&rest);
        if (!service || strcasecmp(service, w->service) != 0)
            return true;
    }
    char *type_word = next_word(&rest);
    if (!type_word) /* libpam: "empty module type"; installed to fail */
        return true;
    bool silent = type_word[0] == '-';
    if (silent)
        type_word++;
    struct frame *here = &w->chain[w->depth - 1];
    here->at_line = line;
    if (strcasecmp(type_word, "@include") == 0) {
        /* Debian: a missing name crashes libpam; nothing to follow then. */
        const char *name = next_word(&rest);
        return !name || follow_include(w, name, AT_INCLUDE, want, substack_level) == LOADED;
    }
    enum pamconf_type type;
    /* A bad type is installed to fail, but an include on it is still
     * followed, for the type being read (auth when any). */
    bool type_ok = type_of_word(type_word, &type);
    if (!type_ok)
        type = want != PAMCONF_ANY ? want : PAMCONF_AUTH;
    if (want != PAMCONF_ANY && type != want)
        return true;
    const char *control = next_word(&rest);
    if (!control) /* libpam: "no control flag supplied" */
        return true;
    bool substack = strcasecmp(control, "substack") == 0;
    if (substack || strcasecmp(control, "include") == 0) {
        /* A failed include is installed to fail; the file reads on. */
        follow_include(w, next_word(&rest), INCLUDE, type, substack_level + (substack ? 1 : 0));
        return true;
    }
    const char *module = next_word(&rest);
    if (type_ok && module) /* else libpam installs it to fail: nothing is loaded */
        add_module_line(w, line, type, silent, control, module, rest);
    return true;
}

/* Every stanza of TEXT, the file on top of the chain. */
static enum loaded read_text(struct walk *w, const char *text, size_t len, enum pamconf_type want,
                             int substack_level, bool service_column)
{
    struct reader r = {text, len, 0, 1};
    char buf[LINE_BUF];
    unsigned first = 0;
    enum assembled a;
    while ((a = assemble_stanza(&r, buf, &first)) == STANZA)
        if (!take_stanza(w, buf, first, want, substack_level, service_column))
            return LOAD_FAILED;
    return a == END_OF_FILE ? LOADED : LOAD_FAILED;
}

static bool on_chain(const struct walk *w, const struct stat *st)
{
    for (size_t i = 0; i < w->depth; i++)
        if (w->chain[i].dev == st->st_dev && w->chain[i].ino == st->st_ino)
            return true;
    return false;
}

static enum loaded read_file(struct walk *w, const char *path, enum pamconf_type want,
                             int substack_level, bool service_column)
{
    if (w->depth >= PAMCONF_NEST_MAX) {
        note_problem(w->out, "includes nested more than %d deep at %s", PAMCONF_NEST_MAX, path);
        return LOAD_FAILED;
    }
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    enum open_result opened = read_whole(w->env->root, path, &data, &len, &st, w->out);
    if (opened != OPENED)
        return NOT_OPENED;
    /* A file that includes itself, directly or not: libpam 1.5.2 recurses
     * until it fails. Its lines (of this type or more) are listed already,
     * from the visit further up; the ones after the include are listed
     * too, although libpam may not reach them (a list too long is safe). */
    if (on_chain(w, &st)) {
        free(data);
        return LOADED;
    }
    w->chain[w->depth++] = (struct frame){path, 0, st.st_dev, st.st_ino};
    enum loaded res = read_text(w, data ? data : "", len, want, substack_level, service_column);
    w->depth--;
    free(data);
    return res;
}

/* ------------------------------------------------------- services */

static bool is_dir(const char *root, const char *path)
{
    struct stat st;
    return rootfs_stat(root, path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* libpam 1.5.2 reads /etc/pam.conf only when neither directory exists. */
static bool uses_pam_conf(const struct pamconf_env *env)
{
    return !is_dir(env->root, PAM_D) && !is_dir(env->root, PAM_D_DIST);
}

static void stack_init(struct pamconf_stack *out)
{
    memset(out, 0, sizeof(*out));
}

bool pamconf_parse_service(const struct pamconf_env *env, const char *service,
                           struct pamconf_stack *out)
{
    stack_init(out);
    struct walk w = {.env = env, .service = service, .out = out};
    if (uses_pam_conf(env)) {
        read_file(&w, PAM_CONF, PAMCONF_ANY, 0, true);
        return out->problem[0] == '\0';
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", PAM_D, service);
    if (read_file(&w, path, PAMCONF_ANY, 0, false) == NOT_OPENED) {
        snprintf(path, sizeof(path), "%s/%s", PAM_D_DIST, service);
        read_file(&w, path, PAMCONF_ANY, 0, false);
    }
    return out->problem[0] == '\0';
}

bool pamconf_parse_text(const struct pamconf_env *env, const char *file, const char *text,
                        size_t len, struct pamconf_stack *out)
{
    stack_init(out);
    struct walk w = {.env = env, .service = "", .out = out};
    w.chain[w.depth++] = (struct frame){file, 0, 0, 0};
    read_text(&w, text, len, PAMCONF_ANY, 0, false);
    return out->problem[0] == '\0';
}

void pamconf_stack_free(struct pamconf_stack *s)
{
    for (size_t i = 0; i < s->count; i++) {
        struct pamconf_line *l = &s->lines[i];
        free(l->file);
        free(l->control);
        free(l->module);
        free(l->args);
        free(l->argv);
        free(l->via);
    }
    free(s->lines);
    s->lines = NULL;
    s->count = s->cap = 0;
}

/* ------------------------------------------------------- the service list */

struct names {
    char **v;
    size_t n, cap;
    bool full;
};

static void add_name(struct names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], name) == 0)
            return;
    if (ns->n >= PAMCONF_SERVICES_MAX) {
        ns->full = true;
        return;
    }
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 32;
        char **grown = realloc(ns->v, cap * sizeof(*grown));
        if (!grown) {
            ns->full = true;
            return;
        }
        ns->v = grown;
        ns->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) {
        ns->full = true;
        return;
    }
    ns->v[ns->n++] = copy;
}

/* Every name in DIR but "." and ".."; a missing directory has none. */
static bool names_in_dir(const char *root, const char *dir, struct names *ns, char *problem,
                         size_t problem_len)
{
    int fd = rootfs_open(root, dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return true;
        snprintf(problem, problem_len, "cannot open %s: %s", dir, strerror(errno));
        return false;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        snprintf(problem, problem_len, "cannot read %s: %s", dir, strerror(errno));
        close(fd);
        return false;
    }
    errno = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            add_name(ns, e->d_name);
    bool ok = errno == 0;
    if (!ok)
        snprintf(problem, problem_len, "cannot read %s: %s", dir, strerror(errno));
    closedir(d);
    return ok;
}

/* The service column of /etc/pam.conf, stanza by stanza. */
static bool names_in_pam_conf(const char *root, struct names *ns, char *problem,
                              size_t problem_len)
{
    struct pamconf_stack scratch;
    stack_init(&scratch);
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    if (read_whole(root, PAM_CONF, &data, &len, &st, &scratch) != OPENED) {
        snprintf(problem, problem_len, "%s", scratch.problem);
        return scratch.problem[0] == '\0';
    }
    struct reader r = {data ? data : "", len, 0, 1};
    char buf[LINE_BUF];
    unsigned first = 0;
    while (assemble_stanza(&r, buf, &first) == STANZA) {
        char *rest = buf;
        const char *service = next_word(&rest);
        if (service)
            add_name(ns, service);
    }
    free(data);
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool pamconf_list_services(const struct pamconf_env *env, char ***names, size_t *count,
                           char *problem, size_t problem_len)
{
    struct names ns = {0};
    bool ok;
    problem[0] = '\0';
    if (uses_pam_conf(env))
        ok = names_in_pam_conf(env->root, &ns, problem, problem_len);
    else
        ok = names_in_dir(env->root, PAM_D, &ns, problem, problem_len) &&
             names_in_dir(env->root, PAM_D_DIST, &ns, problem, problem_len);
    if (ok && ns.full) {
        snprintf(problem, problem_len, "more than %d PAM services, or out of memory",
                 PAMCONF_SERVICES_MAX);
        ok = false;
    }
    if (ns.n)
        qsort(ns.v, ns.n, sizeof(*ns.v), by_name);
    *names = ns.v;
    *count = ns.n;
    return ok;
}

void pamconf_services_free(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}
