/* status.h - what the module's parts tell each other that is not a PAM
 * code. A function returns an int holding either a PAM code or one of
 * these; their values lie far above PAM's, so neither is ever taken for the
 * other, and sso_public_code() is the one place where any of them becomes
 * the PAM code the host receives. */
#ifndef SSO_STATUS_H
#define SSO_STATUS_H

enum sso_status {
    /* The service refused the client (AWS: InvalidClientException, the
     * registration is gone or expired): the flow renews it once. */
    SSO_CLIENT_REFUSED = 1000,
    /* An error answer the service's model names (AWS: an exception type
     * in struct aws_error): the caller reads which and decides. */
    SSO_MODELLED_ERROR,
    /* An ID token names a key the JWKS does not hold: the caller may fetch
     * the JWKS again once (the provider may have rotated its keys). */
    SSO_UNKNOWN_KID,
};

/* The code the host receives for rc: the PAM codes the man page promises
 * pass through; anything else - an internal status above, or another PAM
 * code (PAM_NO_MODULE_DATA for nothing cached) - must never reach the host
 * and becomes PAM_AUTHINFO_UNAVAIL. */
int sso_public_code(int rc);

#endif
