/* complete_uri.h - whether a device authorization's complete link
 * (RFC 8628's verification_uri_complete) may be shown.
 *
 * The complete link is shown above the plain URI as the one to open. A
 * provider answer (or anyone who can shape it) could make it a lookalike on
 * another host that merely resembles the real page, next to the real code.
 * So it is shown only when it has the very origin of verification_uri
 * (scheme, host without regard to case, port with https' 443 made explicit)
 * and carries the user code as a value of its query; otherwise the person
 * gets verification_uri and the code alone. */
#ifndef SSO_COMPLETE_URI_H
#define SSO_COMPLETE_URI_H

#include <stdbool.h>

#include "core/sanitize.h"

enum complete_uri_verdict {
    COMPLETE_URI_SHOWN,        /* same origin, carries the code */
    COMPLETE_URI_ABSENT,       /* the answer has none */
    COMPLETE_URI_OTHER_ORIGIN, /* another scheme, host or port (or not parseable) */
    COMPLETE_URI_WITHOUT_CODE, /* same origin, but no query value is the code */
};

/* The origin of an https:// URI: host as written, port as a number. */
struct uri_origin {
    char host[URI_SHOWN_MAX + 1];
    unsigned port;
};

/* Parse the origin of an https:// URI (the scheme in any case; a host name
 * or an IPv6 literal in brackets; an optional port of 1..5 digits, empty or
 * absent meaning 443). false for anything else, userinfo included. */
bool uri_origin_parse(const char *uri, struct uri_origin *out);

/* Whether `complete` may be shown beside `uri` for `user_code` (above).
 * Never fails open: whatever cannot be parsed is COMPLETE_URI_OTHER_ORIGIN. */
enum complete_uri_verdict complete_uri_check(const char *uri, const char *complete,
                                             const char *user_code);

/* A few words on why a verdict hides the complete link, for the debug log. */
const char *complete_uri_why(enum complete_uri_verdict v);

#endif
