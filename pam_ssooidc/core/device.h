/* device.h - what every provider's device authorization (RFC 8628) gives
 * the login: the code the person types, where they type it, and how the
 * polling goes. */
#ifndef SSO_DEVICE_H
#define SSO_DEVICE_H

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

#endif
