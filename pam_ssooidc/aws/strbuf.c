/* strbuf.c - see strbuf.h. */
#include "aws/strbuf.h"

#include "core/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool strbuf_reserve(struct strbuf *sb, size_t extra)
{
    if (sb->failed)
        return false;
    if (extra > SIZE_MAX - sb->len - 1) {
        sb->failed = true;
        return false;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* malloc + copy rather than realloc: realloc may leave an unwiped copy. */
    char *grown = malloc(cap);
    if (!grown) {
        sb->failed = true;
        return false;
    }
    if (sb->data) {
        memcpy(grown, sb->data, sb->len + 1);
        sso_cleanse(sb->data, sb->cap);
        free(sb->data);
    }
    sb->data = grown;
    sb->cap = cap;
    return true;
}

void strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
    if (!strbuf_reserve(sb, n))
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
    strbuf_append(sb, s, strlen(s));
}

void strbuf_putc(struct strbuf *sb, char c)
{
    strbuf_append(sb, &c, 1);
}

void strbuf_truncate(struct strbuf *sb, size_t len)
{
    if (sb->data && len < sb->len) {
        sb->len = len;
        sb->data[len] = '\0';
    }
}

void strbuf_dispose(struct strbuf *sb)
{
    if (sb->data) {
        sso_cleanse(sb->data, sb->cap);
        free(sb->data);
    }
    memset(sb, 0, sizeof(*sb));
}

char *strbuf_take(struct strbuf *sb)
{
    if (!sb->failed && !sb->data)
        strbuf_reserve(sb, 0);
    if (sb->failed) {
        strbuf_dispose(sb);
        return NULL;
    }
    char *s = sb->data;
    memset(sb, 0, sizeof(*sb));
    return s;
}
