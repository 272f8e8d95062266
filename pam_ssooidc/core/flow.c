/* flow.c - see flow.h. */
#include "core/flow.h"

#include "core/status.h"

#include <security/pam_ext.h>
#include <string.h>
#include <syslog.h>

#include "core/complete_uri.h"
#include "core/conv.h"
#include "core/source.h"
#include "core/tty.h"

#define SLOW_DOWN_STEP 5 /* RFC 8628 section 3.5 */
/* prompt=always: how often one login says "Not approved yet" in a further
 * prompt; after that, polling goes on quietly until the time is up. */
#define ASK_AGAIN_MAX 3

/* A transient failure of one poll is a missed poll (retry.h): polling goes
 * on at the interval, and only `retries`+1 failures in a row end the login. */
static int missed_poll(struct flow *f, long *failed)
{
    const struct cfg *c = f->ctx->cfg;
    char why[sizeof(f->ctx->err->msg)];
    sso_strlcpy(why, f->ctx->err->msg, sizeof(why));
    http_count_retry(f->ctx->http);
    if (++*failed > c->retries)
        return sso_fail(f->ctx->err, PAM_AUTHINFO_UNAVAIL,
                        "%ld polls in a row failed; the last: %s", *failed, why);
    if (c->debug && f->ctx->pamh)
        pam_syslog(f->ctx->pamh, LOG_DEBUG, "missed poll %ld of at most %ld in a row: %s",
                   *failed, c->retries, why);
    return PAM_SUCCESS;
}

/* How long one request may take, retries included: the lease that covers
 * it. */
static double request_lease(const struct cfg *c)
{
    return (double)(c->http_timeout * (c->retries + 1)) + PENDING_LEASE_MARGIN;
}

/* prompt=always, Enter pressed, and the poll that followed says pending:
 * the person pressed Enter too early and would otherwise wait before a
 * silent screen. A further prompt says so. Like the first one it waits for
 * the person (sshd's LoginGraceTime bounds it; the module's timeout is
 * checked after it): nothing is held meanwhile, the host's Ctrl-C handling
 * applies and the terminal is as found (typed-ahead input discarded, so an
 * Enter pressed twice does not answer the new prompt unseen). */
static int ask_again(struct flow *f, struct tty_quiet *quiet)
{
    pending_pause(&f->place);
    tty_quiet_end(quiet);
    interrupt_guard_end(f->guard);
    int rc = conv_ask_again(f->ctx->pamh, f->ctx->err);
    interrupt_guard_begin(f->guard);
    tty_quiet_begin(quiet);
    return rc;
}

/* Poll every `interval` seconds on the monotonic clock until the person
 * approves or denies, the code expires, or `timeout` runs out. */
static int poll_for_approval(struct flow *f, double shown_at, bool prompted,
                             struct tty_quiet *quiet)
{
    const struct cfg *c = f->ctx->cfg;
    struct sso_error *err = f->ctx->err;
    long limit = c->timeout < f->dev.expires_in ? c->timeout : f->dev.expires_in;
    double deadline = shown_at + (double)limit;
    long interval = f->dev.interval, failed = 0, asked_again = 0;
    double next = shown_at + (double)interval;
    for (;;) {
        if (next > deadline)
            return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_TIMEOUT,
                               "not approved within %ld seconds", limit);
        if (interrupt_sleep_until(f->guard, next))
            return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_CANCELLED,
                               "cancelled by the person (Ctrl-C) while waiting for approval");
        double polled = sso_monotonic();
        /* A prompt (prompt=always) can outlast the deadline: the user may
         * press Enter long after the code was shown. Time is up all the same. */
        if (polled > deadline)
            return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_TIMEOUT,
                               "not approved within %ld seconds", limit);
        /* A place is held only while polling, one step at a time (the
         * request, then the wait for the next poll): a login stopped
         * (SIGSTOP) holds nothing for longer than the step it was in, and a
         * slow answer does not cost a login that is polling its place. */
        int rc = pending_hold(&f->place, request_lease(c), err);
        if (rc != PAM_SUCCESS)
            return rc;
        enum poll_result result;
        rc = f->provider->poll(f->ctx, &f->dev, &result);
        if (rc == PAM_SUCCESS && result != POLL_APPROVED)
            rc = pending_hold(&f->place, (double)interval + PENDING_LEASE_MARGIN, err);
        if (rc != PAM_SUCCESS || result == POLL_APPROVED)
            return rc;
        if (result == POLL_FAILED && (rc = missed_poll(f, &failed)) != PAM_SUCCESS)
            return rc;
        if (result != POLL_FAILED)
            failed = 0;
        if (result == POLL_SLOW_DOWN)
            interval += SLOW_DOWN_STEP;
        /* From the end of this poll, not its start: then the next request
         * reaches the provider at least `interval` after this one did, however
         * long this one took to leave the host (RFC 8628 section 3.5). */
        next = sso_monotonic() + (double)interval;
        if (prompted && result == POLL_PENDING && asked_again < ASK_AGAIN_MAX) {
            asked_again++;
            if ((rc = ask_again(f, quiet)) != PAM_SUCCESS)
                return rc;
        }
    }
}

/* The complete link is shown only on the origin of verification_uri and
 * carrying the code (complete_uri.h); otherwise it is dropped and the
 * person gets verification_uri and the code. The debug line names the
 * origins, never the links themselves: they hold the user code. */
static void drop_untrusted_complete_uri(struct flow *f)
{
    struct device_auth *dev = &f->dev;
    enum complete_uri_verdict v = complete_uri_check(dev->verification_uri,
                                                     dev->verification_uri_complete,
                                                     dev->user_code);
    if (v == COMPLETE_URI_SHOWN || v == COMPLETE_URI_ABSENT)
        return;
    struct uri_origin shown, dropped;
    if (!uri_origin_parse(dev->verification_uri, &shown))
        shown.host[0] = '\0';
    if (!uri_origin_parse(dev->verification_uri_complete, &dropped))
        dropped.host[0] = '\0';
    provider_log(f->ctx, LOG_DEBUG, "verification_uri_complete not shown (its origin "
                 "https://%s:%u, verification_uri's https://%s:%u): %s; showing "
                 "verification_uri and the code", dropped.host[0] ? dropped.host : "?",
                 dropped.port, shown.host[0] ? shown.host : "?", shown.port,
                 complete_uri_why(v));
    memset(dev->verification_uri_complete, 0, sizeof(dev->verification_uri_complete));
}

/* Start a device authorization, show it, and poll for the decision. */
static int start_show_poll(struct flow *f)
{
    const struct cfg *c = f->ctx->cfg;
    pam_handle_t *pamh = f->ctx->pamh;
    int rc = f->provider->start(f->ctx, &f->dev);
    if (rc != PAM_SUCCESS)
        return rc;
    drop_untrusted_complete_uri(f);
    double shown_at = sso_monotonic();
    long left = c->timeout < f->dev.expires_in ? c->timeout : f->dev.expires_in;
    const char *service = NULL;
    pam_get_item(pamh, PAM_SERVICE, (const void **)&service);
    enum cfg_prompt mode = cfg_prompt_for_service(c, service);
    const struct conv_wording words = {f->provider->title, f->provider->where};
    /* A prompt waits for the person to press Enter: hold nothing meanwhile. */
    if (mode == CFG_PROMPT_ALWAYS)
        pending_pause(&f->place);
    /* The conversation is the host's: its own Ctrl-C handling applies. */
    interrupt_guard_end(f->guard);
    rc = conv_show_device(pamh, mode, c->qr, &words, &f->dev, left, f->ctx->err);
    if (rc == PAM_SUCCESS && mode == CFG_PROMPT_ALWAYS) /* Enter pressed; polling goes on */
        conv_info(pamh, f->silent, "Waiting for the approval...");
    interrupt_guard_begin(f->guard);
    if (rc != PAM_SUCCESS)
        return rc;
    /* What is typed while waiting is not shown (tty.h); the terminal is
     * back as found on every way out, Ctrl-C included, before the outcome
     * is said. */
    struct tty_quiet quiet;
    tty_quiet_begin(&quiet);
    rc = poll_for_approval(f, shown_at, mode == CFG_PROMPT_ALWAYS, &quiet);
    tty_quiet_end(&quiet);
    return rc;
}

static int once(struct flow *f)
{
    const struct cfg *c = f->ctx->cfg;
    const struct pending_limits lim = {c->max_pending, c->max_pending_per_source,
                                       c->max_starts, c->max_starts_per_source};
    char source[PENDING_SOURCE_MAX];
    source_of_login(f->ctx->pamh, source, sizeof(source));
    int rc = pending_begin(&f->place, c->cache_dir, &lim, source, request_lease(c), f->ctx->err);
    if (rc == PAM_SUCCESS)
        rc = start_show_poll(f);
    pending_end(&f->place);
    return rc;
}

/* A client the service refused (SSO_CLIENT_REFUSED: a registration gone
 * or expired) is renewed once per login, through the provider, and the
 * flow starts over with a new code. */
int flow_run(struct flow *f)
{
    int rc = once(f);
    if (rc != SSO_CLIENT_REFUSED)
        return rc;
    if (!f->provider->renew)
        return sso_fail(f->ctx->err, PAM_AUTHINFO_UNAVAIL, "the provider refused the client");
    sso_cleanse(&f->dev, sizeof(f->dev));
    if ((rc = f->provider->renew(f->ctx)) != PAM_SUCCESS)
        return rc;
    rc = once(f);
    if (rc == SSO_CLIENT_REFUSED)
        rc = sso_fail(f->ctx->err, PAM_AUTHINFO_UNAVAIL,
                      "the service rejected a fresh registration too");
    return rc;
}
