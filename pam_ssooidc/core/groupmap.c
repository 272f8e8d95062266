/* groupmap.c - see groupmap.h. */
#include "core/groupmap.h"

#include "core/ledger.h"
#include "core/trust.h"

#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define GROUPMAP_MAX_BYTES (1024 * 1024)
#define GROUPMAP_MAX_LINE 512

struct gm_line {
    const char *remote; /* not NUL-terminated: remote_len bytes */
    size_t remote_len;
    char local[GROUPMAP_LOCAL_MAX + 1];
};

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* One line (n bytes at s): 0 blank or comment, 1 a mapping in *out, -1
 * malformed (why says how). */
static int parse_line(const char *s, size_t n, struct gm_line *out, const char **why)
{
    while (n && is_space(s[n - 1]))
        n--;
    size_t lead = 0;
    while (lead < n && is_space(s[lead]))
        lead++;
    s += lead, n -= lead;
    if (n == 0 || s[0] == '#')
        return 0;
    /* A word starting with '#' after the first: a trailing comment, which
     * would be read as the provider group's end and the local group. */
    for (size_t i = 1; i < n; i++)
        if (s[i] == '#' && is_space(s[i - 1])) {
            *why = "a comment must be a line of its own (a '#' word after a mapping)";
            return -1;
        }
    size_t end = n;
    while (end && !is_space(s[end - 1]))
        end--;
    if (end == 0) {
        *why = "expected \"provider-group local-group\"";
        return -1;
    }
    size_t local_len = n - end;
    size_t remote_len = end;
    while (remote_len && is_space(s[remote_len - 1]))
        remote_len--;
    if (local_len > GROUPMAP_LOCAL_MAX) {
        *why = "the local group's name is longer than 32 bytes";
        return -1;
    }
    memcpy(out->local, s + end, local_len);
    out->local[local_len] = '\0';
    if (!ledger_name_ok(out->local)) {
        *why = "the local group's name breaks the name rule ^[a-z_][a-z0-9_-]{0,31}$";
        return -1;
    }
    if (remote_len > 255) {
        *why = "the provider group is longer than 255 bytes";
        return -1;
    }
    out->remote = s;
    out->remote_len = remote_len;
    return 1;
}

/* Call fn for each mapping; -1 (err set) at the first malformed line. */
static int each_line(const char *text, size_t len, struct sso_error *err,
                     void (*fn)(const struct gm_line *, void *), void *arg)
{
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (n > GROUPMAP_MAX_LINE || memchr(text + pos, '\0', n))
            return sso_fail(err, -1, "group_map line %d is too long or binary", lineno);
        struct gm_line line;
        const char *why = NULL;
        int r = parse_line(text + pos, n, &line, &why);
        if (r < 0)
            return sso_fail(err, -1, "group_map line %d: %s", lineno, why);
        if (r > 0 && fn)
            fn(&line, arg);
        pos += n + (nl ? 1 : 0);
    }
    return 0;
}

int groupmap_check_text(const char *text, size_t len, struct sso_error *err)
{
    return each_line(text, len, err, NULL, NULL);
}

int groupmap_load(const struct cfg *c, struct groupmap *m, struct sso_error *err)
{
    memset(m, 0, sizeof(*m));
    if (!c->group_map[0])
        return PAM_SUCCESS;
    int rc = trust_read_file(c->group_map, "group_map", GROUPMAP_MAX_BYTES, &m->text, &m->len,
                             err);
    if (rc == PAM_NO_MODULE_DATA)
        return PAM_SERVICE_ERR; /* a configured map must exist; err says so */
    if (rc != PAM_SUCCESS)
        return rc;
    struct sso_error why = SSO_ERROR_INIT;
    if (groupmap_check_text(m->text, m->len, &why) < 0) {
        groupmap_free(m);
        return sso_fail(err, PAM_SERVICE_ERR, "%s (%s)", why.msg, c->group_map);
    }
    return PAM_SUCCESS;
}

void groupmap_free(struct groupmap *m)
{
    free(m->text);
    memset(m, 0, sizeof(*m));
}

struct resolve {
    const char (*given)[256];
    size_t n;
    char (*out)[GROUPMAP_LOCAL_MAX + 1];
    size_t max, count;
};

static void resolve_line(const struct gm_line *line, void *arg)
{
    struct resolve *r = arg;
    bool held = false;
    for (size_t i = 0; i < r->n && !held; i++)
        held = strlen(r->given[i]) == line->remote_len &&
               memcmp(r->given[i], line->remote, line->remote_len) == 0;
    if (!held)
        return;
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->out[i], line->local) == 0)
            return;
    if (r->count < r->max)
        memcpy(r->out[r->count++], line->local, sizeof(line->local));
}

size_t groupmap_resolve(const struct groupmap *m, const char (*given)[256], size_t n,
                        char (*out)[GROUPMAP_LOCAL_MAX + 1], size_t max)
{
    if (!m->text)
        return 0;
    struct resolve r = {given, n, out, max, 0};
    struct sso_error ignored = SSO_ERROR_INIT;
    each_line(m->text, m->len, &ignored, resolve_line, &r); /* checked when loaded */
    return r.count;
}

struct named {
    const char *remote;
    size_t len;
    bool found;
};

static void named_line(const struct gm_line *line, void *arg)
{
    struct named *n = arg;
    n->found = n->found ||
               (line->remote_len == n->len && memcmp(line->remote, n->remote, n->len) == 0);
}

bool groupmap_names(const struct groupmap *m, const char *remote)
{
    if (!m || !m->text || !remote)
        return false;
    struct named n = {remote, strlen(remote), false};
    struct sso_error ignored = SSO_ERROR_INIT;
    each_line(m->text, m->len, &ignored, named_line, &n); /* checked when loaded */
    return n.found;
}
