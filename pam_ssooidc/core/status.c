/* status.c - see status.h. */
#include "core/status.h"

#include <security/pam_modules.h>

int sso_public_code(int rc)
{
    switch (rc) {
    case PAM_SUCCESS:
    case PAM_AUTH_ERR:
    case PAM_AUTHINFO_UNAVAIL:
    case PAM_SERVICE_ERR:
    case PAM_USER_UNKNOWN:
    case PAM_CONV_ERR:
    case PAM_BUF_ERR:
        return rc;
    default: /* SSO_CLIENT_REFUSED, SSO_MODELLED_ERROR, SSO_UNKNOWN_KID, ... */
        return PAM_AUTHINFO_UNAVAIL;
    }
}
