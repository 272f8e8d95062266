/* device.h - what every provider's device authorization (RFC 8628) gives
 * the login: the code the person types, where they type it, and how the
 * polling goes. */
#ifndef SSO_DEVICE_H
#define SSO_DEVICE_H

#include <stddef.h>

#include "core/util.h"

struct device_auth {
    char device_code[2048];              /* secret: never shown or logged */
    char user_code[64];                  /* allow-listed (sanitize.h) */
    char verification_uri[1024];         /* allow-listed https URI */
    char verification_uri_complete[1024]; /* optional, likewise */
    long expires_in; /* seconds */
    long interval;   /* seconds; 5 when absent */
};

enum poll_result {
    POLL_APPROVED,  /* approved: the provider holds the token */
    POLL_PENDING,   /* not yet */
    POLL_SLOW_DOWN, /* add 5 s to the interval, for good (RFC 8628 3.5) */
    POLL_FAILED,    /* a transient failure (err says which): a missed poll */
};

/* How one provider names the members of its device authorization answer
 * (RFC 8628's snake_case, or a provider's own spelling). */
struct device_names {
    const char *what; /* the call, in messages */
    const char *device_code, *user_code, *uri;
    const char *uri_alt; /* another name for the URI (Google's), or NULL */
    const char *uri_complete, *expires_in, *interval;
    long interval_min;   /* 0: an interval of 0 is taken as 1 */
};

/* Parse the answer strictly: every required member present, typed and of
 * its size, expires_in 1..86400, interval interval_min..600 (5 when
 * absent), and what the person will be shown of the allow-listed shape
 * (sanitize.h). PAM_SUCCESS, or PAM_AUTHINFO_UNAVAIL with *out all zero. */
int device_parse(const char *body, size_t len, const struct device_names *n,
                 struct device_auth *out, struct sso_error *err);

#endif
