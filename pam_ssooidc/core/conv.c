/* conv.c - what the person logging in sees.
 *
 * OpenSSH (through 10.2) holds PAM_TEXT_INFO back until the next prompt, so
 * with prompt=always the URL and code are the *text of* a prompt. PAM_SILENT
 * is not honoured for the device instructions, the outcome sentence or the
 * slow-network note: sudo always sets it, a user who never sees the code can
 * never log in, and one who never learns why it failed looks for a typo or
 * an outage that is not there. */
#include "core/conv.h"

#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/qr.h"
#include "core/sanitize.h"
#include "core/util.h"

#define URL_CHARS URI_SHOWN_MAX /* longest URL shown (oidc.c refuses longer) */
#define MSG_MAX 16384
#define OTHER_NAME_TEXT "This host knows the account by another name."

struct device_text {
    char uri[URL_CHARS * 4 + 8];
    char uri_complete[URL_CHARS * 4 + 8];
    char code[64 * 4 + 8];
};

static void sanitize_device(const struct device_auth *dev, struct device_text *t)
{
    sanitize_display(t->uri, sizeof(t->uri), dev->verification_uri, URL_CHARS);
    sanitize_display(t->uri_complete, sizeof(t->uri_complete), dev->verification_uri_complete,
                     URL_CHARS);
    sanitize_display(t->code, sizeof(t->code), dev->user_code, 32);
}

static void describe_time(long seconds, char *buf, size_t len)
{
    if (seconds >= 120)
        snprintf(buf, len, "%ld minutes", seconds / 60);
    else
        snprintf(buf, len, "%ld seconds", seconds);
}

/* The verification URIs are shown exactly as sent, never built or
 * rewritten, and the user code is always shown beside them. The complete
 * one is here only if it passed complete_uri_check (flow.c). */
static int compose(char *msg, size_t len, const struct conv_wording *w,
                   const struct device_text *t, bool with_qr, const char *qr_text,
                   long seconds_left, bool prompt)
{
    char left[32];
    describe_time(seconds_left, left, sizeof(left));
    int n;
    if (t->uri_complete[0])
        n = snprintf(msg, len,
                     "%s\n"
                     "%s%s"
                     "Open this link in %s:\n"
                     "\n    %s\n\n"
                     "or open %s and enter the code:\n"
                     "\n    %s\n\n"
                     "Check that the page shows this code. It expires in %s.\n%s",
                     w->title, with_qr ? qr_text : "", with_qr ? "\n" : "", w->where,
                     t->uri_complete, t->uri, t->code, left,
                     prompt ? "After approving, press Enter: " : "");
    else
        n = snprintf(msg, len,
                     "%s\n"
                     "Open %s in %s\n"
                     "and enter the code:\n"
                     "\n    %s\n\n"
                     "It expires in %s.\n%s",
                     w->title, t->uri, w->where, t->code, left,
                     prompt ? "After approving, press Enter: " : "");
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* An error line is shown under PAM_SILENT too (see the top of this file);
 * a failed conversation changes no verdict. */
static void show_error(pam_handle_t *pamh, const char *msg)
{
    pam_prompt(pamh, PAM_ERROR_MSG, NULL, "%s", msg);
}

/* The answer to "press Enter" is ignored: Enter only paces the person. The
 * prompt does not echo and the answer is wiped, since a person used to
 * password prompts may type one there. */
static void discard_answer(char *answer)
{
    if (answer) {
        sso_cleanse(answer, strlen(answer));
        free(answer);
    }
}

int conv_show_device(pam_handle_t *pamh, enum cfg_prompt mode, bool qr,
                     const struct conv_wording *words, const struct device_auth *dev,
                     long seconds_left, struct sso_error *err)
{
    struct device_text t;
    sanitize_device(dev, &t);
    char *qr_text = NULL;
    /* Only a URL shown exactly as sent (nothing stripped or cut) is worth
     * encoding: a QR code of a mangled URL would lead the phone astray. */
    if (qr && t.uri_complete[0] && strcmp(t.uri_complete, dev->verification_uri_complete) == 0)
        qr_text = qr_render(t.uri_complete); /* NULL: show the text without it */
    char *msg = malloc(MSG_MAX);
    if (!msg) {
        free(qr_text);
        return sso_fail(err, PAM_BUF_ERR, "out of memory composing the device prompt");
    }
    bool prompt = mode == CFG_PROMPT_ALWAYS;
    int rc = PAM_SUCCESS;
    if (compose(msg, MSG_MAX, words, &t, qr_text != NULL, qr_text, seconds_left, prompt) != 0) {
        rc = sso_fail(err, PAM_BUF_ERR, "device prompt too long");
    } else {
        char *answer = NULL;
        int style = prompt ? PAM_PROMPT_ECHO_OFF : PAM_TEXT_INFO;
        if (pam_prompt(pamh, style, prompt ? &answer : NULL, "%s", msg) != PAM_SUCCESS)
            rc = sso_fail(err, PAM_CONV_ERR, "the conversation failed showing the device code");
        discard_answer(answer);
    }
    free(msg);
    free(qr_text);
    return rc;
}

const char *conv_outcome_text(int pam_code, enum sso_case kase)
{
    switch (kase) {
    case SSO_CASE_DENIED:
        return "The sign-in request was denied.";
    case SSO_CASE_EXPIRED:
        return "The code expired before it was approved. Log in again for a new code.";
    case SSO_CASE_TIMEOUT:
        return "No approval arrived in time. Log in again for a new code.";
    case SSO_CASE_WRONG_ACCOUNT:
        return "The approval came from an account that may not log in as this user.";
    case SSO_CASE_NOT_PERMITTED:
        return "The approving account is not permitted to log in to this host.";
    case SSO_CASE_CANCELLED:
        return "Sign-in cancelled.";
    case SSO_CASE_BUSY_HOST:
        return "Too many sign-ins are waiting on this host right now; try again in a minute.";
    case SSO_CASE_BUSY_SOURCE:
        return "Too many sign-ins are waiting from your address or account; finish or cancel "
               "them, or try again in a minute.";
    case SSO_CASE_OTHER_NAME:
        return NULL; /* conv_tell_account_name said it, naming the account */
    case SSO_CASE_PROVISIONED:
        return NULL; /* conv_tell_provisioned said it, naming the host */
    case SSO_CASE_NONE:
        break;
    }
    switch (pam_code) {
    case PAM_SUCCESS:
    case PAM_USER_UNKNOWN: /* no hint whether the name exists */
    case PAM_CONV_ERR:     /* nobody is there to read it */
        return NULL;
    case PAM_AUTH_ERR:
        return "The sign-in was not approved for this account.";
    case PAM_SERVICE_ERR:
        return "Sign-in is not set up correctly on this host. Contact the administrator.";
    default: /* PAM_AUTHINFO_UNAVAIL, PAM_BUF_ERR */
        return "The sign-in service could not be reached or did not answer properly. "
               "Try again later.";
    }
}

void conv_tell_outcome(pam_handle_t *pamh, int pam_code, enum sso_case kase)
{
    const char *msg = conv_outcome_text(pam_code, kase);
    if (msg)
        show_error(pamh, msg);
}

void conv_tell_account_name(pam_handle_t *pamh, const char *account)
{
    char msg[160];
    /* The name comes from the host's directory (LDAP, AD): shown only when
     * it has the shape of an account name. */
    if (sanitize_is_account_name(account))
        snprintf(msg, sizeof(msg), "%s Log in as %s.", OTHER_NAME_TEXT, account);
    else
        snprintf(msg, sizeof(msg), "%s Log in by the account's own name.", OTHER_NAME_TEXT);
    show_error(pamh, msg);
}

void conv_tell_provisioned(pam_handle_t *pamh, bool renewed)
{
    char host[65] = "", msg[200];
    /* The host's own name, shown only when it has the shape of one. */
    if (gethostname(host, sizeof(host) - 1) != 0 || !sanitize_is_host_name(host))
        sso_strlcpy(host, "this host", sizeof(host));
    snprintf(msg, sizeof(msg), "Your account on %s %s. Connect again to log in.", host,
             renewed ? "is active again" : "was created");
    show_error(pamh, msg);
}

void conv_tell_contacting(pam_handle_t *pamh)
{
    conv_info(pamh, false, "Contacting the sign-in service...");
}

int conv_ask_again(pam_handle_t *pamh, struct sso_error *err)
{
    char *answer = NULL;
    int rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s",
                        "Not approved yet. Approve in the browser, then press Enter: ");
    discard_answer(answer);
    if (rc != PAM_SUCCESS)
        return sso_fail(err, PAM_CONV_ERR, "the conversation failed asking again for Enter");
    return PAM_SUCCESS;
}

void conv_info(pam_handle_t *pamh, bool silent, const char *msg)
{
    if (!silent)
        pam_prompt(pamh, PAM_TEXT_INFO, NULL, "%s", msg);
}
