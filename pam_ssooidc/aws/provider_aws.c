/* provider_aws.c - AWS IAM Identity Center behind the provider seam
 * (provider.h): the client registration shared by every login of the host
 * (cached in the file store), SSO OIDC's device authorization and
 * CreateToken, and the approver proven by the portal and STS. */
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "aws/aws_config.h"
#include "aws/awserr.h"
#include "aws/registration.h"
#include "aws/identity.h"
#include "provider.h"
#include "aws/ssooidc.h"

#define REGISTRATION_MIN_VALID 3600 /* register again when < 1 h remains */

struct aws_state {
    struct client_registration reg;
    struct ssooidc_token token;
    char approver[256]; /* as STS proved it, for facts */
};

/* A cached registration valid for another hour, unless it is the one the
 * service just rejected (`stale`). */
static int cached(struct aws_state *s, const char *stale, struct registration_cache *cache,
                  struct sso_error *why)
{
    int rc = registration_load(cache, (int64_t)time(NULL), REGISTRATION_MIN_VALID, &s->reg, why);
    if (rc == PAM_SUCCESS && stale && strcmp(s->reg.client_id, stale) == 0) {
        sso_cleanse(&s->reg, sizeof(s->reg));
        rc = sso_fail(why, PAM_NO_MODULE_DATA, "cached registration was rejected");
    }
    return rc;
}

/* The registration is shared by every login of this host. It is read
 * without the lock (writers rename whole files into place, and a login
 * stopped while holding the lock must not hold up anyone else's); only
 * registering takes it, so that concurrent first logins register once. If
 * the lock cannot be had in time, this login registers without caching
 * rather than fail. `stale`: the client id the service just rejected (or
 * NULL); if another login already replaced it, that registration is used. */
static int registration(struct provider_ctx *p, struct aws_state *s, const char *stale)
{
    const struct cfg *c = p->cfg;
    struct registration_cache cache;
    struct sso_error why = SSO_ERROR_INIT, lockerr = SSO_ERROR_INIT;
    char key[AWS_REGISTRATION_KEY_MAX];
    int rc = aws_registration_key(c, p->part, key, sizeof(key), p->err);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = registration_open_unlocked(&cache, c->cache_dir, key, p->err);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = cached(s, stale, &cache, &why);
    registration_close(&cache);
    if (rc == PAM_SUCCESS)
        return PAM_SUCCESS;
    /* Rare (about every 90 days), so always worth a line. */
    provider_log(p, LOG_NOTICE, "registering client: %s", why.msg);
    rc = registration_open(&cache, c->cache_dir, key, 2.0 * c->http_timeout + 5, &lockerr);
    if (rc == PAM_AUTH_ERR || rc == PAM_SERVICE_ERR) { /* cancelled; an unsafe cache */
        *p->err = lockerr;
        return rc;
    }
    bool locked = rc == PAM_SUCCESS;
    if (!locked)
        provider_log(p, LOG_WARNING, "%s; registering without caching", lockerr.msg);
    /* Under the lock another login may have registered meanwhile. */
    if (locked && cached(s, stale, &cache, &why) == PAM_SUCCESS) {
        registration_close(&cache);
        return PAM_SUCCESS;
    }
    rc = ssooidc_register(p->http, p->part, &s->reg, p->err);
    if (rc == PAM_SUCCESS && locked && registration_store(&cache, &s->reg, &why) != PAM_SUCCESS)
        provider_log(p, LOG_WARNING, "registration not cached: %s", why.msg);
    registration_close(&cache);
    return rc;
}

static int aws_open(struct provider_ctx *p)
{
    struct aws_state *s = calloc(1, sizeof(*s));
    if (!s)
        return sso_fail(p->err, PAM_BUF_ERR, "out of memory");
    p->state = s;
    http_keep_headers(p->http, aws_kept_headers, AWS_HDR_COUNT);
    http_set_retry_classifier(p->http, aws_throttled);
    return registration(p, s, NULL);
}

/* InvalidClientException: the registration is gone or expired at the
 * service. Register again (once per login, the flow makes sure). */
static int aws_renew(struct provider_ctx *p)
{
    struct aws_state *s = p->state;
    provider_log(p, LOG_NOTICE, "the service rejected the cached registration; registering "
                 "again");
    char stale[sizeof(s->reg.client_id)];
    sso_strlcpy(stale, s->reg.client_id, sizeof(stale));
    sso_cleanse(&s->reg, sizeof(s->reg));
    return registration(p, s, stale);
}

static int aws_start(struct provider_ctx *p, struct device_auth *dev)
{
    struct aws_state *s = p->state;
    return ssooidc_start(p->http, p->part, &s->reg, dev, p->err);
}

static int aws_poll(struct provider_ctx *p, const struct device_auth *dev,
                    enum poll_result *result)
{
    struct aws_state *s = p->state;
    return ssooidc_poll(p->http, p->part, &s->reg, dev, result, &s->token, p->err);
}

static int aws_identify(struct provider_ctx *p, char *approver, size_t len)
{
    struct aws_state *s = p->state;
    int rc = identity_approver(p->http, p->part, &s->token, approver, len, p->err);
    if (rc == PAM_SUCCESS && !sso_strlcpy(s->approver, approver, sizeof(s->approver)))
        rc = sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "the approver's name is too long");
    return rc;
}

/* No stable id is to be had at login: the Identity Center user name, as
 * STS proved it, keys the account (a rename there is a new person here),
 * with the AWS account the proof was made in: an account belongs to one
 * organization, and so to one Identity Center, whose user names are
 * unique; another instance's "alice" is another person. The groups are the
 * permission sets of role_name the approver holds. */
static int aws_facts(struct provider_ctx *p, const struct groupmap *groups,
                     struct approver_facts *f)
{
    struct aws_state *s = p->state;
    memset(f, 0, sizeof(*f));
    if (!s->approver[0])
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "no proven approver to key the account on");
    const struct aws_cfg *c = p->part;
    snprintf(f->key, sizeof(f->key), "aws:%s %s", c->account_id, s->approver);
    if (!groups)
        return PAM_SUCCESS;
    return identity_held_roles(p->http, p->part, &s->token, f->groups, PROVISION_GROUPS_MAX,
                               &f->n_groups, p->err);
}

static void aws_close(struct provider_ctx *p)
{
    if (p->state) {
        sso_cleanse(p->state, sizeof(struct aws_state));
        free(p->state);
    }
    p->state = NULL;
}

/* ---- pam_ssooidc_check ---- */

static size_t aws_endpoints(const void *part, struct provider_place *out)
{
    const struct aws_cfg *a = part;
    out[0] = (struct provider_place){"oidc_endpoint", a->oidc_endpoint, false};
    out[1] = (struct provider_place){"portal_endpoint", a->portal_endpoint, false};
    out[2] = (struct provider_place){"sts_endpoint", a->sts_endpoint, true}; /* STS signs */
    return 3;
}

static size_t aws_files(const void *part, struct provider_place *out)
{
    (void)part, (void)out;
    return 0;
}

static void report(const struct provider_report *r, enum provider_status st, const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));

static void report(const struct provider_report *r, enum provider_status st, const char *fmt,
                   ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    r->finding(r->ctx, st, "registration", detail);
}

/* The cached registration, read by the same key as a login, with how long
 * it lasts; never the secret, and only a prefix of the client id. */
static void aws_check_stored(const struct cfg *c, const void *part,
                             const struct provider_report *r)
{
    char key[AWS_REGISTRATION_KEY_MAX];
    struct registration_cache cache;
    struct client_registration reg;
    struct sso_error err = SSO_ERROR_INIT;
    if (aws_registration_key(c, part, key, sizeof(key), &err) != PAM_SUCCESS ||
        registration_open_unlocked(&cache, c->cache_dir, key, &err) != PAM_SUCCESS) {
        report(r, PROVIDER_FAIL, "%s", err.msg);
        return;
    }
    time_t now = time(NULL);
    int rc = registration_load(&cache, (int64_t)now, 0, &reg, &err);
    registration_close(&cache);
    if (rc != PAM_SUCCESS) {
        bool none = strstr(err.msg, "no cached registration") != NULL;
        report(r, none ? PROVIDER_INFO : PROVIDER_WARN, "%s%s", err.msg,
               none ? " (normal on a new host: the first login registers)"
                    : " (the next login registers again)");
        return;
    }
    char when[64], id[16];
    time_t exp = (time_t)reg.expires_at;
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime_r(&exp, &tm));
    snprintf(id, sizeof(id), "%.8s", reg.client_id); /* a prefix; never the secret */
    long days = (long)((reg.expires_at - (int64_t)now) / 86400);
    report(r, PROVIDER_OK, "client id %s... valid until %s (%ld days)%s", id, when, days,
           days < 1 ? "; it is renewed at the next login" : "");
    sso_cleanse(&reg, sizeof(reg));
}

const struct provider provider_aws = {
    .name = "aws",
    .title = "Sign in with AWS IAM Identity Center.",
    .where = "a browser where you are signed in to the access portal",
    .options = aws_options,
    .n_options = AWS_OPTION_COUNT,
    .configure = aws_configure,
    .open = aws_open,
    .start = aws_start,
    .poll = aws_poll,
    .renew = aws_renew,
    .identify = aws_identify,
    .identify_always = false,
    .facts = aws_facts,
    .close = aws_close,
    .endpoints = aws_endpoints,
    .files = aws_files,
    .clock_fail = 900, /* STS refuses a signature more than 15 minutes off */
    .clock_warn = 300,
    .clock_judge = "STS",
    .check_stored = aws_check_stored,
    .ready_text = NULL, /* opening would register: the first login does that */
    .verify_client = NULL, /* its registration is check_stored's */
};
