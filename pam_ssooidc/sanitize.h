/* sanitize.h - make server-supplied text safe to put on a terminal. */
#ifndef SSO_SANITIZE_H
#define SSO_SANITIZE_H

#include <stddef.h>

/* Copy src to dst (size dstlen, always NUL-terminated), dropping C0 controls,
 * DEL, C1 controls (U+0080..U+009F), ESC sequences' introducer, Unicode
 * bidirectional overrides, and replacing invalid UTF-8 with '?'. Text longer
 * than max_chars characters (or than dst) is cut to end in "...", the dots
 * counted within both limits. Returns strlen(dst). */
size_t sanitize_display(char *dst, size_t dstlen, const char *src, size_t max_chars);

#endif
