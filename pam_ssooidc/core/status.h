/* status.h - what the module's parts tell each other that is not a PAM
 * code. A function returns an int holding either a PAM code or one of
 * these; their values lie far above PAM's, so neither is ever taken for the
 * other, and sso_public_code() is the one place where any of them becomes
 * the PAM code the host receives. */
#ifndef SSO_STATUS_H
#define SSO_STATUS_H

enum sso_status {
    /* The service refused the client (its registration is gone or
     * expired): the flow renews it once, through the provider. */
    SSO_CLIENT_REFUSED = 1000,
    /* An error answer the service's model names (the provider decoded
     * which): the caller reads it and decides. */
    SSO_MODELLED_ERROR,
    /* A signed answer names a key the provider's key set does not hold:
     * the caller may fetch the keys again once (they may have rotated). */
    SSO_UNKNOWN_KID,
};

/* The code the host receives for rc: the PAM codes the man page promises
 * pass through; anything else - an internal status above, or another PAM
 * code (PAM_NO_MODULE_DATA for nothing cached) - must never reach the host
 * and becomes PAM_AUTHINFO_UNAVAIL. */
int sso_public_code(int rc);

#endif
