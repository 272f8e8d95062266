/* pam_ssooidc.c - the PAM entry points. One login, top to bottom:
 *
 *   configuration -> local user -> provider -> device flow -> approver -> verdict
 *     -> provisioning (provision = login: the account made or refreshed)
 *
 * The provider (provider.h: AWS IAM Identity Center or an OpenID provider)
 * makes the calls; the flow (core/flow.h) shows the code and polls; the
 * approver it proves is mapped to the local user here (usermap.h). Every
 * step returns a PAM code with its reason; the first failure ends the login,
 * and exactly one syslog line tells how it ended. PAM_SUCCESS is reachable
 * only through the last step. */
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core/conv.h"
#include "core/flow.h"
#include "core/http.h"
#include "core/interrupt.h"
#include "core/outcome.h"
#include "core/provision.h"
#include "core/status.h"
#include "provider.h"
#include "settings.h"
#include "core/usermap.h"
#include "core/util.h"

#define IDENTITY_GRACE 20.0 /* seconds the identity calls may retry after approval */
/* A call slower than this is worth a word: a person sees nothing else
 * before the code appears, and a fast one takes well under a second. */
#define SLOW_CALL_SECONDS 2.0
/* Built with -fvisibility=hidden: only these entry points are exported. */
#define SSO_EXPORT __attribute__((visibility("default")))

struct login {
    pam_handle_t *pamh;
    bool silent;
    struct interrupt_guard *guard; /* Ctrl-C while we wait (interrupt.h) */
    const char *user;   /* the name as typed (PAM_USER) */
    char account[256];  /* the account's own name (pw_name): what approvers map to */
    uid_t uid;
    bool creating;      /* no such account yet: provision = login may make it */
    struct settings settings; /* the shared options and each provider's */
    const struct cfg *cfg;    /* the shared ones: &settings.common */
    struct usermap map;
    struct groupmap groups;      /* group_map, under provision */
    struct approver_facts facts; /* the approver's key and groups, under provision */
    struct http_client *http;
    const struct provider *provider;
    struct provider_ctx ctx;
    struct flow flow;
    char approver[256]; /* who approved, as the provider proved it */
    struct sso_error err;
    double started;
    bool told_contacting; /* "Contacting the sign-in service..." was said */
};

static void debug_log(void *ctx, const char *line)
{
    pam_syslog((pam_handle_t *)ctx, LOG_DEBUG, "%s", line);
}

static bool cancel_requested(void *ctx)
{
    (void)ctx;
    return interrupt_pending();
}

static bool sleep_or_cancel(void *ctx, double until)
{
    return interrupt_sleep_until(ctx, until);
}

/* Said once per login, however many calls are slow. */
static void tell_contacting(void *ctx)
{
    struct login *lg = ctx;
    if (lg->told_contacting)
        return;
    lg->told_contacting = true;
    conv_tell_contacting(lg->pamh);
}

/* The host's lookup may ignore case or resolve aliases (SSSD with Active
 * Directory, winbind, LDAP): "RTVICTIM" then finds rtvictim. Matching the
 * approver against the name as typed would admit the provider's user
 * RTVICTIM as rtvictim, so the login must name the account itself (or, with
 * fold_case, differ from it in ASCII case only). Said before anything is
 * sent, and to the person in words they can act on. */
static int typed_name_is_the_accounts(struct login *lg)
{
    if (usermap_is_account_name(lg->cfg, lg->user, lg->account))
        return PAM_SUCCESS;
    conv_tell_account_name(lg->pamh, lg->account);
    return sso_fail_as(&lg->err, PAM_AUTH_ERR, SSO_CASE_OTHER_NAME,
                       "the name %s is another spelling of local user %s (the host's lookup "
                       "resolved one to the other); only the account's own name may log in as "
                       "it: log in as %s", lg->user, lg->account, lg->account);
}

/* No account of that name: with provision = login the login goes on, to
 * make it once the approver is proven to be this very name (provision.h).
 * The mapping rules see the name with the first uid the account could get. */
static int may_create(struct login *lg)
{
    int rc = provision_check_name(lg->cfg, lg->user, &lg->err);
    if (rc != PAM_SUCCESS)
        return rc;
    unsigned long lo, hi;
    cfg_uid_range(lg->cfg, &lo, &hi);
    sso_strlcpy(lg->account, lg->user, sizeof(lg->account));
    lg->uid = (uid_t)lo;
    lg->creating = true;
    return PAM_SUCCESS;
}

static int check_local_user(struct login *lg)
{
    int rc = pam_get_user(lg->pamh, &lg->user, NULL);
    if (rc == PAM_CONV_ERR || rc == PAM_BUF_ERR)
        return sso_fail(&lg->err, rc, "could not ask for the user name");
    if (rc != PAM_SUCCESS || !lg->user || !lg->user[0]) {
        lg->user = NULL;
        return sso_fail(&lg->err, PAM_USER_UNKNOWN, "no user name given");
    }
    const struct passwd *pw = pam_modutil_getpwnam(lg->pamh, lg->user);
    if (!pw && lg->cfg->provision == CFG_PROVISION_LOGIN)
        return may_create(lg);
    if (!pw && lg->cfg->provision == CFG_PROVISION_SYNC)
        return sso_fail(&lg->err, PAM_USER_UNKNOWN, "no such local user (provision = sync: "
                        "the accounts are the ones pam_ssooidc_sync made for members of "
                        "sync_groups; a login makes none)");
    if (!pw)
        return sso_fail(&lg->err, PAM_USER_UNKNOWN, "no such local user");
    if (!pw->pw_name || !sso_strlcpy(lg->account, pw->pw_name, sizeof(lg->account)))
        return sso_fail(&lg->err, PAM_AUTH_ERR, "the local account's name is missing or "
                        "longer than %zu bytes", sizeof(lg->account) - 1);
    lg->uid = pw->pw_uid;
    rc = typed_name_is_the_accounts(lg);
    if (rc != PAM_SUCCESS)
        return rc;
    /* An account no approval could admit (root or a system account without
     * a user_map line naming it) ends here: its name then costs a
     * stranger's target nothing at the provider. */
    const struct local_account local = {lg->account, lg->uid};
    return usermap_reachable(lg->cfg, &lg->map, &local, &lg->err);
}

/* One HTTPS client for every call of the login: the host's Ctrl-C, one
 * retry policy (retry.h) bounded by the login's timeout, and a word to the
 * person when a call is slow. */
static int open_http(struct login *lg)
{
    int rc = http_open(&lg->http, lg->cfg, &lg->err);
    if (rc != PAM_SUCCESS)
        return rc;
    if (lg->cfg->debug)
        http_set_debug(lg->http, debug_log, lg->pamh);
    http_set_cancel(lg->http, cancel_requested, sleep_or_cancel, lg->guard);
    http_set_slow_notice(lg->http, SLOW_CALL_SECONDS, tell_contacting, lg);
    http_set_retry(lg->http, lg->cfg->retries, lg->started + (double)lg->cfg->timeout);
    return PAM_SUCCESS;
}

static int open_provider(struct login *lg)
{
    lg->provider = provider_select(&lg->settings);
    lg->ctx = (struct provider_ctx){lg->pamh, lg->cfg,
                                    settings_part(&lg->settings, lg->provider), lg->http,
                                    &lg->err, NULL, false};
    return lg->provider->open(&lg->ctx);
}

static int device_flow(struct login *lg)
{
    lg->flow = (struct flow){.provider = lg->provider, .ctx = &lg->ctx, .guard = lg->guard,
                             .silent = lg->silent};
    return flow_run(&lg->flow);
}

/* Approved: now who approved, and may they log in as this local user? */
static int verdict(struct login *lg)
{
    if (lg->cfg->allow_any_approver && !lg->provider->identify_always)
        return PAM_SUCCESS; /* explicit opt-out: whoever approved at start_url */
    /* An approval in the login's last second still gets its identity check,
     * retries included. */
    double grace = sso_monotonic() + IDENTITY_GRACE;
    double login_deadline = lg->started + (double)lg->cfg->timeout;
    http_set_deadline(lg->http, grace > login_deadline ? grace : login_deadline);
    int rc = lg->provider->identify(&lg->ctx, lg->approver, sizeof(lg->approver));
    if (rc != PAM_SUCCESS || lg->cfg->allow_any_approver)
        return rc;
    /* The account the host resolved, never the name as typed. */
    const struct local_account local = {lg->account, lg->uid};
    struct sso_error why = SSO_ERROR_INIT;
    rc = usermap_allows(lg->cfg, &lg->map, lg->approver, &local, &why);
    if (rc == PAM_AUTH_ERR)
        return sso_fail_as(&lg->err, PAM_AUTH_ERR, SSO_CASE_WRONG_ACCOUNT,
                           "approved by %s, who does not map to local user %s (%s)",
                           lg->approver, lg->account, why.msg);
    if (rc != PAM_SUCCESS)
        return sso_fail(&lg->err, rc, "%s", why.msg);
    return PAM_SUCCESS;
}

/* Under provision: make the account this approval was for, or refresh the
 * one the module made before (its person, groups and last login). With
 * provision off, an account the module made earlier is still checked to
 * be the approver's. allow_any_approver admits anyone as anyone: nothing to
 * check (and provision refuses it). */
static int provision(struct login *lg)
{
    const struct cfg *c = lg->cfg;
    if (c->allow_any_approver ||
        (c->provision == CFG_PROVISION_OFF && !provision_ledger_exists()))
        return PAM_SUCCESS;
    /* A local account the module did not make: the approver's key and
     * groups are none of its business, and a provider that cannot give
     * them (a groups claim too long to read) must not lock anyone out. */
    if (!lg->creating && !provision_is_ledgers(lg->account, lg->uid))
        return PAM_SUCCESS;
    int rc = lg->provider->facts(&lg->ctx, lg->groups.text ? &lg->groups : NULL, &lg->facts);
    if (rc != PAM_SUCCESS)
        return rc;
    const struct provision_login pl = {lg->account, lg->creating, lg->uid, lg->approver,
                                       &lg->facts, &lg->groups};
    enum provision_outcome done;
    uid_t uid;
    struct sso_error note = SSO_ERROR_INIT;
    rc = provision_login(c, &pl, &done, &uid, &lg->err, &note);
    if (done == PROVISION_CREATED || done == PROVISION_RENEWED)
        conv_tell_provisioned(lg->pamh, done == PROVISION_RENEWED);
    if (note.msg[0]) /* the login stands; its refresh waits for the next */
        pam_syslog(lg->pamh, LOG_WARNING, "account %s: groups and last login not refreshed: "
                   "%s", lg->account, note.msg);
    return rc;
}

static int login_run(struct login *lg, int argc, const char **argv)
{
    int rc = settings_load(&lg->settings, argc, argv, &lg->err);
    if (rc == PAM_SUCCESS)
        rc = usermap_load(lg->cfg, &lg->map, &lg->err);
    if (rc == PAM_SUCCESS)
        rc = groupmap_load(lg->cfg, &lg->groups, &lg->err);
    if (rc == PAM_SUCCESS)
        rc = check_local_user(lg);
    if (rc == PAM_SUCCESS)
        rc = open_http(lg);
    if (rc == PAM_SUCCESS)
        rc = open_provider(lg);
    if (rc == PAM_SUCCESS)
        rc = device_flow(lg);
    if (rc == PAM_SUCCESS)
        rc = verdict(lg);
    if (rc == PAM_SUCCESS)
        rc = provision(lg);
    return rc;
}

/* What the user is told when the login fails: the case, in words they can
 * act on (conv.c); the details go to syslog. */
static void tell_user(struct login *lg, int rc)
{
    conv_tell_outcome(lg->pamh, rc, lg->err.kase);
}

/* The one line per login: who, from where, how it ended, and why
 * (outcome.h gives the format; nothing in it can be forged from outside). */
static void log_outcome(struct login *lg, int rc)
{
    const char *rhost = NULL, *service = NULL, *user = lg->user;
    if (!user) /* configuration failed before we asked: use what PAM knows */
        pam_get_item(lg->pamh, PAM_USER, (const void **)&user);
    pam_get_item(lg->pamh, PAM_RHOST, (const void **)&rhost);
    pam_get_item(lg->pamh, PAM_SERVICE, (const void **)&service);
    const struct outcome o = {
        .pam_code = rc,
        .user = user,
        .rhost = rhost,
        .service = service,
        .approver = lg->approver[0] ? lg->approver : NULL,
        .request_id = lg->http ? http_last_request_id(lg->http) : NULL,
        .reason = rc == PAM_SUCCESS ? "approved" : lg->err.msg,
        .seconds = sso_monotonic() - lg->started,
        .retries = http_retries(lg->http),
    };
    char line[OUTCOME_LINE_MAX];
    pam_syslog(lg->pamh, rc == PAM_SUCCESS ? LOG_INFO : LOG_NOTICE, "%s",
               outcome_format(line, sizeof(line), &o));
}

SSO_EXPORT PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct login *lg = calloc(1, sizeof(*lg));
    if (!lg) {
        pam_syslog(pamh, LOG_CRIT, "out of memory");
        return PAM_BUF_ERR;
    }
    struct interrupt_guard guard;
    interrupt_guard_begin(&guard);
    lg->pamh = pamh;
    lg->cfg = &lg->settings.common;
    lg->silent = (flags & PAM_SILENT) != 0;
    lg->guard = &guard;
    lg->started = sso_monotonic();
    int rc = sso_public_code(login_run(lg, argc, argv)); /* the one mapping */
    tell_user(lg, rc);
    log_outcome(lg, rc);
    if (lg->cfg->debug && lg->http)
        pam_syslog(pamh, LOG_DEBUG, "%ld TCP connection(s) opened by this login",
                   http_connections(lg->http));
    if (lg->provider)
        lg->provider->close(&lg->ctx);
    http_close(lg->http);
    usermap_free(&lg->map);
    groupmap_free(&lg->groups);
    sso_cleanse(lg, sizeof(*lg));
    free(lg);
    /* Last, with every secret wiped: a pending Ctrl-C may end the host now. */
    interrupt_guard_end(&guard);
    return rc;
}

/* Credentials are AWS's business, not this host's: nothing to establish. */
SSO_EXPORT PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh, (void)flags, (void)argc, (void)argv;
    return PAM_SUCCESS;
}
