/* diruser.c - see diruser.h. A name becomes a login name and a line in
 * /etc/passwd-like files downstream: anything that could break a line, a
 * terminal or a comparison is refused here, and said without echoing the
 * raw bytes. */
#include "aws/diruser.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/sanitize.h"

#define DIRUSER_SHOWN_MAX 24 /* characters of a refused name shown in `problem` */

/* Length of the sequence starting with lead byte c (0: not a lead byte),
 * and the smallest code point it may encode. */
static size_t seq_len(unsigned char c, uint32_t *min)
{
    if (c < 0x80)
        return *min = 0, 1;
    if (c >= 0xc2 && c <= 0xdf)
        return *min = 0x80, 2;
    if (c >= 0xe0 && c <= 0xef)
        return *min = 0x800, 3;
    if (c >= 0xf0 && c <= 0xf4)
        return *min = 0x10000, 4;
    return 0;
}

bool diruser_utf8(const char *s, size_t n, bool *control)
{
    *control = false;
    for (size_t i = 0; i < n;) {
        const unsigned char *u = (const unsigned char *)s + i;
        uint32_t min, cp;
        size_t len = seq_len(u[0], &min);
        if (len == 0 || i + len > n)
            return false;
        cp = len == 1 ? u[0] : (uint32_t)(u[0] & (0x7f >> len));
        for (size_t k = 1; k < len; k++) {
            if ((u[k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (u[k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
            *control = true;
        i += len;
    }
    return true;
}

/* What is wrong with the name, or NULL. */
static const char *name_fault(const char *name, size_t n)
{
    bool control;
    if (n == 0)
        return "is empty";
    if (n > DIRECTORY_NAME_MAX)
        return "is longer than 128 bytes";
    if (!diruser_utf8(name, n, &control))
        return "is not valid UTF-8";
    if (control)
        return "holds control characters";
    return NULL;
}

static void check_name(struct directory_person *p, json_t *v)
{
    if (!v || json_is_null(v)) {
        snprintf(p->problem, sizeof(p->problem), "the directory's record has no UserName");
        return;
    }
    if (!json_is_string(v)) {
        snprintf(p->problem, sizeof(p->problem), "the directory's UserName is not a string");
        return;
    }
    const char *name = json_string_value(v);
    size_t n = json_string_length(v);
    const char *fault = name_fault(name, n);
    if (!fault) {
        memcpy(p->user_name, name, n + 1);
        return;
    }
    char shown[64]; /* sanitize_display cuts to it too */
    sanitize_display(shown, sizeof(shown), name, DIRUSER_SHOWN_MAX);
    snprintf(p->problem, sizeof(p->problem), "UserName %s (%zu bytes; shown filtered: \"%s\")",
             fault, n, shown);
}

static void check_status(struct directory_person *p, json_t *v)
{
    const char *s = json_string_value(v);
    if (!v || json_is_null(v) || (s && strcmp(s, "ENABLED") == 0 &&
                                  json_string_length(v) == strlen(s))) {
        p->enabled = true;
    } else if (s && strcmp(s, "DISABLED") == 0 && json_string_length(v) == strlen(s)) {
        p->enabled = false;
    } else if (!p->problem[0]) {
        p->enabled = false;
        snprintf(p->problem, sizeof(p->problem), "UserStatus is neither ENABLED nor DISABLED");
    }
}

void diruser_fill(struct directory_person *p, json_t *user)
{
    p->user_name[0] = '\0';
    p->problem[0] = '\0';
    check_name(p, json_object_get(user, "UserName"));
    check_status(p, json_object_get(user, "UserStatus"));
}
