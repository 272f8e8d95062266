/* credfile.c - see credfile.h. Long-term keys are the most valuable
 * secret on the host: the file is read only through the trusted-path walk,
 * and only when nobody but root can read it. */
#include "aws/credfile.h"

#include <errno.h>
#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/credcheck.h"
#include "core/sanitize.h"
#include "core/trust.h"

#define CREDFILE_WHAT "sync_credentials_file"

/* The whole file, through an fd the trust walk opened and checked. */
static int read_all(int fd, const char *path, char **text, struct sso_error *err)
{
    char *buf = malloc(CREDFILE_MAX + 1);
    if (!buf)
        return sso_fail(err, PAM_BUF_ERR, "out of memory reading %s", path);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, CREDFILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || len + (size_t)n > CREDFILE_MAX) {
            sso_cleanse(buf, CREDFILE_MAX + 1);
            free(buf);
            return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s: %s", path,
                            n < 0 ? strerror(errno) : "larger than 64 KiB");
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *text = buf;
    return PAM_SUCCESS;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static const char *const credfile_keys[] = {"aws_access_key_id", "aws_secret_access_key",
                                             "aws_session_token"};
#define CREDFILE_NKEYS 3

static char *field_of(struct role_credentials *out, size_t k, size_t *len)
{
    char *f[CREDFILE_NKEYS] = {out->access_key_id, out->secret_access_key, out->session_token};
    size_t l[CREDFILE_NKEYS] = {sizeof(out->access_key_id), sizeof(out->secret_access_key),
                                sizeof(out->session_token)};
    *len = l[k];
    return f[k];
}

/* A section header line: only [default]. */
static int section(const char *path, unsigned lineno, char *line, bool *in_default,
                   struct sso_error *err)
{
    char *end = strchr(line, ']');
    if (end && end[1] == '\0') {
        *end = '\0';
        if (strcmp(trim(line + 1), "default") == 0) {
            *in_default = true;
            return PAM_SUCCESS;
        }
    }
    char shown[48];
    sanitize_display(shown, sizeof(shown), line, 32);
    return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s line %u: section %s: only "
                    "[default] is read, and no other section may be present", path, lineno,
                    shown);
}

/* key = value within [default]. */
static int assignment(const char *path, unsigned lineno, char *line, bool seen[],
                      struct role_credentials *out, struct sso_error *err)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s line %u: not \"key = "
                        "value\"", path, lineno);
    *eq = '\0';
    const char *key = trim(line), *value = trim(eq + 1);
    for (size_t k = 0; k < CREDFILE_NKEYS; k++) {
        if (strcmp(key, credfile_keys[k]) != 0)
            continue;
        size_t len;
        char *dst = field_of(out, k, &len);
        if (seen[k])
            return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s line %u: %s given twice",
                            path, lineno, key);
        if (!sso_strlcpy(dst, value, len))
            return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s line %u: %s is too "
                            "long", path, lineno, key);
        seen[k] = true;
    }
    return PAM_SUCCESS; /* other keys (region, output...) are not ours */
}

static int check_values(const char *path, const bool seen[], const struct role_credentials *o,
                        struct sso_error *err)
{
    for (size_t k = 0; k < 2; k++)
        if (!seen[k])
            return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s: [default] has no %s",
                            path, credfile_keys[k]);
    const char *why;
    if ((why = credcheck_access_key_id(o->access_key_id)))
        return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s: aws_access_key_id %s", path,
                        why);
    if ((why = credcheck_secret(o->secret_access_key)))
        return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s: aws_secret_access_key %s",
                        path, why);
    if ((why = credcheck_token(o->session_token)))
        return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s: aws_session_token %s", path,
                        why);
    return PAM_SUCCESS;
}

int credfile_parse(const char *path, char *text, struct role_credentials *out,
                   struct sso_error *err)
{
    memset(out, 0, sizeof(*out));
    bool in_default = false, seen[CREDFILE_NKEYS] = {false};
    unsigned lineno = 0;
    int rc = PAM_SUCCESS;
    for (char *p = text; rc == PAM_SUCCESS && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        char *line = trim(p);
        lineno++;
        if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
            ;
        else if (line[0] == '[')
            rc = section(path, lineno, line, &in_default, err);
        else if (!in_default)
            rc = sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s line %u: a key before "
                          "[default]", path, lineno);
        else
            rc = assignment(path, lineno, line, seen, out, err);
        p = nl ? nl + 1 : p + strlen(p);
    }
    if (rc == PAM_SUCCESS)
        rc = check_values(path, seen, out, err);
    if (rc != PAM_SUCCESS)
        sso_cleanse(out, sizeof(*out));
    return rc;
}

int credfile_read(const char *path, struct role_credentials *out, struct sso_error *err)
{
    memset(out, 0, sizeof(*out));
    int fd = -1;
    int rc = trust_open_file(path, CREDFILE_WHAT, &fd, err);
    if (rc == PAM_NO_MODULE_DATA)
        return sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s does not exist", path);
    if (rc != PAM_SUCCESS)
        return rc;
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) != 0)
        rc = sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s: %s", path, strerror(errno));
    else if (st.st_mode & 077)
        rc = sso_fail(err, PAM_SERVICE_ERR, CREDFILE_WHAT " %s has mode %04o: it holds AWS "
                      "keys, so group and others must have no access (chmod 600)", path,
                      (unsigned)(st.st_mode & 07777));
    else
        rc = read_all(fd, path, &text, err);
    close(fd);
    if (rc != PAM_SUCCESS)
        return rc;
    size_t len = strlen(text); /* before the parser cuts it into lines */
    rc = credfile_parse(path, text, out, err);
    sso_cleanse(text, len);
    free(text);
    return rc;
}
