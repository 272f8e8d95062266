/* pam_ssooidc.c - the PAM entry points. One login, top to bottom:
 *
 *   configuration -> local user -> registration -> device flow -> identity -> verdict
 *
 * Every step returns a PAM code with its reason; the first failure ends the
 * login, and exactly one syslog line tells how it ended. PAM_SUCCESS is
 * reachable only through the last step. */
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "awserr.h"
#include "cache.h"
#include "config.h"
#include "conv.h"
#include "http.h"
#include "identity.h"
#include "interrupt.h"
#include "ssooidc.h"
#include "outcome.h"
#include "pending.h"
#include "usermap.h"
#include "util.h"

#define REGISTRATION_MIN_VALID 3600 /* register again when < 1 h remains */
#define SLOW_DOWN_STEP 5            /* RFC 8628 section 3.5 */
#define IDENTITY_GRACE 20.0         /* seconds the identity calls may retry after approval */
/* Built with -fvisibility=hidden: only these entry points are exported. */
#define SSO_EXPORT __attribute__((visibility("default")))

struct login {
    pam_handle_t *pamh;
    bool silent;
    struct interrupt_guard *guard; /* Ctrl-C while we wait (interrupt.h) */
    const char *user;
    uid_t uid;
    struct cfg cfg;
    struct usermap map;
    struct http_client *http;
    struct pending_slot slot; /* one of max_pending, while a code is open */
    struct client_registration reg;
    struct device_auth dev;
    struct ssooidc_token token;
    struct identity who;
    struct sso_error err;
    double started;
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
    if (!pw)
        return sso_fail(&lg->err, PAM_USER_UNKNOWN, "no such local user");
    lg->uid = pw->pw_uid;
    return PAM_SUCCESS;
}

/* A cached registration valid for another hour, unless it is the one the
 * service just rejected (`stale`). Read without the lock: writers rename
 * whole files into place, and a login stopped while holding the lock must
 * not hold up anyone else's. */
static int cached_registration(struct login *lg, const char *stale, struct cache *cache,
                               struct sso_error *why)
{
    int rc = cache_load(cache, (int64_t)time(NULL), REGISTRATION_MIN_VALID, &lg->reg, why);
    if (rc == PAM_SUCCESS && stale && strcmp(lg->reg.client_id, stale) == 0) {
        sso_cleanse(&lg->reg, sizeof(lg->reg));
        rc = sso_fail(why, PAM_NO_MODULE_DATA, "cached registration was rejected");
    }
    return rc;
}

/* The registration is shared by every login of this host. Only registering
 * takes the cache lock, so that concurrent first logins register once; if
 * the lock cannot be had in time, this login registers without caching
 * rather than fail. `stale` is the client id the service just rejected (or
 * NULL): if another login already replaced it, that registration is used. */
static int obtain_registration(struct login *lg, const char *stale)
{
    struct cache cache;
    struct sso_error why = SSO_ERROR_INIT;
    char key[CFG_URL_MAX + 160];
    snprintf(key, sizeof(key), "%s\n%s", lg->cfg.oidc_endpoint, lg->cfg.client_name);
    int rc = cache_open_unlocked(&cache, lg->cfg.cache_dir, key, &lg->err);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = cached_registration(lg, stale, &cache, &why);
    cache_close(&cache);
    if (rc == PAM_SUCCESS)
        return PAM_SUCCESS;
    /* Rare (about every 90 days), so always worth a line. */
    pam_syslog(lg->pamh, LOG_NOTICE, "registering client: %s", why.msg);
    struct sso_error lockerr = SSO_ERROR_INIT;
    rc = cache_open(&cache, lg->cfg.cache_dir, key, 2.0 * lg->cfg.http_timeout + 5, &lockerr);
    if (rc == PAM_AUTH_ERR || rc == PAM_SERVICE_ERR) /* cancelled; an unsafe cache */
        return sso_fail(&lg->err, rc, "%s", lockerr.msg);
    bool locked = rc == PAM_SUCCESS;
    if (!locked)
        pam_syslog(lg->pamh, LOG_WARNING, "%s; registering without caching", lockerr.msg);
    /* Under the lock another login may have registered meanwhile. */
    if (locked && cached_registration(lg, stale, &cache, &why) == PAM_SUCCESS) {
        cache_close(&cache);
        return PAM_SUCCESS;
    }
    rc = ssooidc_register(lg->http, &lg->cfg, &lg->reg, &lg->err);
    if (rc == PAM_SUCCESS && locked && cache_store(&cache, &lg->reg, &why) != PAM_SUCCESS)
        pam_syslog(lg->pamh, LOG_WARNING, "registration not cached: %s", why.msg);
    cache_close(&cache);
    return rc;
}

/* A transient failure of one poll is a missed poll (retry.h): polling goes
 * on at the interval, and only `retries`+1 failures in a row end the login. */
static int missed_poll(struct login *lg, long *failed)
{
    char why[sizeof(lg->err.msg)];
    sso_strlcpy(why, lg->err.msg, sizeof(why));
    http_count_retry(lg->http);
    if (++*failed > lg->cfg.retries)
        return sso_fail(&lg->err, PAM_AUTHINFO_UNAVAIL, "%ld polls in a row failed; the last: %s",
                        *failed, why);
    if (lg->cfg.debug)
        pam_syslog(lg->pamh, LOG_DEBUG, "missed poll %ld of at most %ld in a row: %s", *failed,
                   lg->cfg.retries, why);
    return PAM_SUCCESS;
}

/* Poll CreateToken every `interval` seconds on the monotonic clock until the
 * user approves or denies, the code expires, or `timeout` runs out. */
static int poll_for_approval(struct login *lg, double shown_at)
{
    long limit = lg->cfg.timeout < lg->dev.expires_in ? lg->cfg.timeout : lg->dev.expires_in;
    double deadline = shown_at + (double)limit;
    long interval = lg->dev.interval, failed = 0;
    double next = shown_at + (double)interval;
    for (;;) {
        if (next > deadline)
            return sso_fail_as(&lg->err, PAM_AUTH_ERR, SSO_CASE_TIMEOUT,
                               "not approved within %ld seconds", limit);
        if (interrupt_sleep_until(lg->guard, next))
            return sso_fail_as(&lg->err, PAM_AUTH_ERR, SSO_CASE_CANCELLED,
                               "cancelled by the person (Ctrl-C) while waiting for approval");
        double polled = sso_monotonic();
        /* A prompt (prompt=always) can outlast the deadline: the user may
         * press Enter long after the code was shown. Time is up all the same. */
        if (polled > deadline)
            return sso_fail_as(&lg->err, PAM_AUTH_ERR, SSO_CASE_TIMEOUT,
                               "not approved within %ld seconds", limit);
        enum poll_result result;
        int rc = ssooidc_poll(lg->http, &lg->cfg, &lg->reg, &lg->dev, &result, &lg->token, &lg->err);
        if (rc != PAM_SUCCESS || result == POLL_APPROVED)
            return rc;
        if (result == POLL_FAILED && (rc = missed_poll(lg, &failed)) != PAM_SUCCESS)
            return rc;
        if (result != POLL_FAILED)
            failed = 0;
        if (result == POLL_SLOW_DOWN)
            interval += SLOW_DOWN_STEP;
        next = polled + (double)interval;
    }
}

/* Start a device authorization, show it, and poll for the decision. */
static int device_flow_polling(struct login *lg)
{
    int rc = ssooidc_start(lg->http, &lg->cfg, &lg->reg, &lg->dev, &lg->err);
    if (rc != PAM_SUCCESS)
        return rc;
    double shown_at = sso_monotonic();
    long left = lg->cfg.timeout < lg->dev.expires_in ? lg->cfg.timeout : lg->dev.expires_in;
    const char *service = NULL;
    pam_get_item(lg->pamh, PAM_SERVICE, (const void **)&service);
    enum cfg_prompt mode = cfg_prompt_for_service(&lg->cfg, service);
    /* The conversation is the host's: its own Ctrl-C handling applies. */
    interrupt_guard_end(lg->guard);
    rc = conv_show_device(lg->pamh, mode, lg->cfg.qr, &lg->dev, left, &lg->err);
    if (rc == PAM_SUCCESS && mode == CFG_PROMPT_ALWAYS) /* Enter pressed; polling goes on */
        conv_info(lg->pamh, lg->silent, "Waiting for the approval...");
    interrupt_guard_begin(lg->guard);
    if (rc != PAM_SUCCESS)
        return rc;
    return poll_for_approval(lg, shown_at);
}

static int device_flow_once(struct login *lg)
{
    /* A slot of max_pending is held while a code is open (pending.h). */
    int rc = pending_acquire(lg->cfg.cache_dir, lg->cfg.max_pending, &lg->slot, &lg->err);
    if (rc == PAM_SUCCESS)
        rc = device_flow_polling(lg);
    pending_release(&lg->slot);
    return rc;
}

/* InvalidClientException means the registration is gone or expired at the
 * service: register again, once per login, and start over. */
static int device_flow(struct login *lg)
{
    int rc = device_flow_once(lg);
    if (rc != PAM_CRED_EXPIRED)
        return rc;
    pam_syslog(lg->pamh, LOG_NOTICE, "the service rejected the cached registration; "
                                     "registering again");
    char stale[sizeof(lg->reg.client_id)];
    sso_strlcpy(stale, lg->reg.client_id, sizeof(stale));
    sso_cleanse(&lg->reg, sizeof(lg->reg));
    rc = obtain_registration(lg, stale);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = device_flow_once(lg);
    if (rc == PAM_CRED_EXPIRED)
        rc = sso_fail(&lg->err, PAM_AUTHINFO_UNAVAIL,
                      "the service rejected a fresh registration too");
    return rc;
}

static int verdict(struct login *lg)
{
    if (lg->cfg.allow_any_approver)
        return PAM_SUCCESS; /* explicit opt-out: whoever approved at start_url */
    /* An approval in the login's last second still gets its identity check,
     * retries included. */
    double grace = sso_monotonic() + IDENTITY_GRACE;
    double login_deadline = lg->started + (double)lg->cfg.timeout;
    http_set_deadline(lg->http, grace > login_deadline ? grace : login_deadline);
    const struct local_account local = {lg->user, lg->uid};
    return identity_verify(lg->http, &lg->cfg, &lg->map, &local, &lg->token, &lg->who,
                           &lg->err);
}

static int login_run(struct login *lg, int argc, const char **argv)
{
    int rc = cfg_load(&lg->cfg, argc, argv, &lg->err);
    if (rc == PAM_SUCCESS)
        rc = usermap_load(&lg->cfg, &lg->map, &lg->err);
    if (rc != PAM_SUCCESS)
        return rc;
    if ((rc = check_local_user(lg)) != PAM_SUCCESS)
        return rc;
    if ((rc = http_open(&lg->http, &lg->cfg, &lg->err)) != PAM_SUCCESS)
        return rc;
    if (lg->cfg.debug)
        http_set_debug(lg->http, debug_log, lg->pamh);
    http_set_cancel(lg->http, cancel_requested, sleep_or_cancel, lg->guard);
    http_set_retry(lg->http, lg->cfg.retries, lg->started + (double)lg->cfg.timeout,
                   aws_throttled);
    if ((rc = obtain_registration(lg, NULL)) != PAM_SUCCESS)
        return rc;
    if ((rc = device_flow(lg)) != PAM_SUCCESS)
        return rc;
    return verdict(lg);
}

/* What the user is told when the login fails: the case, in words they can
 * act on (conv.c); the details go to syslog. */
static void tell_user(struct login *lg, int rc)
{
    conv_tell_outcome(lg->pamh, lg->silent, rc, lg->err.kase);
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
        .approver = lg->who.session_name,
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
    lg->silent = (flags & PAM_SILENT) != 0;
    lg->guard = &guard;
    lg->slot = (struct pending_slot)PENDING_SLOT_NONE;
    lg->started = sso_monotonic();
    int rc = login_run(lg, argc, argv);
    if (rc == PAM_CRED_EXPIRED || rc == PAM_IGNORE) /* internal signals never escape */
        rc = PAM_AUTHINFO_UNAVAIL;
    tell_user(lg, rc);
    log_outcome(lg, rc);
    http_close(lg->http);
    usermap_free(&lg->map);
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
