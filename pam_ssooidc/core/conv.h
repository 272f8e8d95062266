/* conv.h - everything the user sees goes through here. */
#ifndef SSO_CONV_H
#define SSO_CONV_H

#include <security/pam_modules.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/device.h"
#include "core/util.h"

/* Show the verification URL(s), the user code and the time left.
 * CFG_PROMPT_ALWAYS: as the text of a PAM_PROMPT_ECHO_OFF prompt ending in
 * "press Enter after approving"; the answer is ignored. CFG_PROMPT_NEVER: as
 * PAM_TEXT_INFO. PAM_SILENT is deliberately not honoured here: sudo always
 * passes it, and the user cannot log in without seeing the code.
 * All server text is sanitized. PAM_SUCCESS or PAM_CONV_ERR. */
struct conv_wording {
    const char *title; /* the provider's first line (provider.h) */
    const char *where; /* "a browser where you are signed in to the access portal" */
};

int conv_show_device(pam_handle_t *pamh, enum cfg_prompt mode, bool qr,
                     const struct conv_wording *words, const struct device_auth *dev,
                     long seconds_left, struct sso_error *err);

/* After a failed login, one PAM_ERROR_MSG naming the case and what to do:
 * not approved (denied), expired or timed out, another account approved,
 * not permitted, unreachable (try again), this host misconfigured (contact
 * the administrator), cancelled. Never a secret or the approver's identity.
 * Nothing for PAM_SUCCESS, PAM_USER_UNKNOWN (no hint that the name exists)
 * or PAM_CONV_ERR (nobody is there). Said even under PAM_SILENT, like the
 * device code: sudo always passes it, and its own "incorrect password
 * attempt" would send the person the wrong way. */
void conv_tell_outcome(pam_handle_t *pamh, int pam_code, enum sso_case kase);

/* The login named its account by another spelling (a lookup that ignores
 * case, an alias): one PAM_ERROR_MSG, "This host knows the account by
 * another name. Log in as NAME." NAME is the account's own name, shown only
 * when sanitize_is_account_name allows it (else it ends "Log in by the
 * account's own name."). The failure is then SSO_CASE_OTHER_NAME,
 * for which conv_tell_outcome says nothing more. Said even under
 * PAM_SILENT, as conv_tell_outcome is. */
void conv_tell_account_name(pam_handle_t *pamh, const char *account);

/* A network call is slow (http.h, http_set_slow_notice): one PAM_TEXT_INFO,
 * "Contacting the sign-in service...", even under PAM_SILENT, so a person
 * facing a slow or black-holed provider does not sit before a blank
 * screen. The caller says it once per login. */
void conv_tell_contacting(pam_handle_t *pamh);

/* "Your account on HOST was created (renewed: is active again). Connect
 * again to log in.": the account made by this login (provision.h) serves
 * the next connection, not this one. Said even under PAM_SILENT. */
void conv_tell_provisioned(pam_handle_t *pamh, bool renewed);

/* prompt=always, and Enter came before the approval: a further prompt,
 * "Not approved yet. Approve in the browser, then press Enter: " (OpenSSH
 * shows no PAM_TEXT_INFO until the next prompt, so only a prompt can say
 * it). The answer is ignored. PAM_SUCCESS, or PAM_CONV_ERR with err set. */
int conv_ask_again(pam_handle_t *pamh, struct sso_error *err);

/* The text conv_tell_outcome shows (NULL: nothing), for tests and docs. */
const char *conv_outcome_text(int pam_code, enum sso_case kase);

/* A one-line PAM_TEXT_INFO, left out when `silent` (PAM_SILENT). Failures
 * are ignored: the verdict stands. */
void conv_info(pam_handle_t *pamh, bool silent, const char *msg);

#endif
