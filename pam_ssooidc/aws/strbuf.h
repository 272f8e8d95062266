/* strbuf.h - a growable string buffer for text that may hold secrets (the
 * SigV4 canonical request carries the session token). Module-internal.
 *
 * An allocation failure is remembered instead of reported at every append,
 * so builders stay linear; the owner checks once, when it takes the string.
 * Storage is wiped before it is released, both when the buffer grows and
 * when it is disposed of.
 *
 * Start from `struct strbuf sb = { 0 };`, end with strbuf_take or
 * strbuf_dispose. */
#ifndef SSO_STRBUF_H
#define SSO_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *data;  /* NUL-terminated; NULL until something was appended */
    size_t len;  /* bytes in data, terminator excluded */
    size_t cap;  /* bytes allocated */
    bool failed; /* an append failed: later appends are dropped */
};

/* Append n bytes of s (which may include NUL bytes). */
void strbuf_append(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);

/* Shorten the text to len bytes; a no-op when it is not longer than that. */
void strbuf_truncate(struct strbuf *sb, size_t len);

/* Wipe and free the storage; sb is left empty, as if just initialised. */
void strbuf_dispose(struct strbuf *sb);

/* Hand the string to the caller (who frees it, wiping it first if it is
 * secret), or NULL (and release it) if any append failed. An empty but
 * successful buffer still yields "". sb is left empty. */
char *strbuf_take(struct strbuf *sb);

#endif
