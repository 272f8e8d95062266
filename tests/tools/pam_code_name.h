/* pam_code_name.h - PAM return codes by name, for the test drivers' output
 * (pam_drive, storm_drive, allocfail), so their reports can be compared. */
#ifndef TESTS_PAM_CODE_NAME_H
#define TESTS_PAM_CODE_NAME_H

#include <security/pam_appl.h>

static inline const char *pam_code_name(int rc)
{
    switch (rc) {
    case PAM_SUCCESS: return "PAM_SUCCESS";
    case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
    case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
    case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
    case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
    case PAM_CONV_ERR: return "PAM_CONV_ERR";
    case PAM_BUF_ERR: return "PAM_BUF_ERR";
    case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
    case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
    case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
    case PAM_MAXTRIES: return "PAM_MAXTRIES";
    case PAM_ABORT: return "PAM_ABORT";
    case PAM_IGNORE: return "PAM_IGNORE";
    case PAM_CRED_EXPIRED: return "PAM_CRED_EXPIRED";
    case PAM_NO_MODULE_DATA: return "PAM_NO_MODULE_DATA";
    default: return "PAM_OTHER";
    }
}

#endif
