/* sanitize.h - what server text may reach a terminal or a log.
 *
 * What the person is shown (the user code, the verification URIs) must have
 * the shape it should - an allow-list; an answer that does not is not
 * trusted at all. Text that only goes to logs (error messages, names) is
 * filtered instead. */
#ifndef SSO_SANITIZE_H
#define SSO_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

#define USER_CODE_MAX 32   /* real codes are 8 or 9 characters */
#define URI_SHOWN_MAX 512  /* real verification URIs are under 100 */
#define ACCOUNT_NAME_SHOWN_MAX 64 /* useradd's limit is 32; AD's user@domain run longer */

/* A user code: 1..USER_CODE_MAX letters, digits and '-'. */
bool sanitize_is_user_code(const char *s);

/* An https:// URI with a host and no userinfo ('@' before the path), of
 * RFC 3986 characters only (printable ASCII, no spaces, quotes or angle
 * brackets), at most URI_SHOWN_MAX long. */
bool sanitize_is_https_uri(const char *s);

/* A local account name fit to show: 1..ACCOUNT_NAME_SHOWN_MAX letters,
 * digits, '.', '_', '-', '@' and '$' (POSIX's portable names, plus SSSD's
 * user@domain and the '$' of machine accounts), not starting with '-'. */
bool sanitize_is_account_name(const char *s);

/* A host name as gethostname gives it: letters, digits, '.', '-' (not
 * first), at most 64 characters. */
bool sanitize_is_host_name(const char *s);

/* Copy src to dst (size dstlen, always NUL-terminated), dropping C0 controls,
 * DEL, C1 controls (U+0080..U+009F), whole terminal escape sequences, and
 * invisible or direction-changing characters (Unicode Cf, Zl, Zp, tag
 * characters, variation selectors, fillers), and replacing invalid UTF-8
 * with '?'. Text longer
 * than max_chars characters (or than dst) is cut to end in "...", the dots
 * counted within both limits. Returns strlen(dst). */
size_t sanitize_display(char *dst, size_t dstlen, const char *src, size_t max_chars);

#endif
