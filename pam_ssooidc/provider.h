/* provider.h - the seam between a login and the service that approves it.
 *
 * One small table of functions per provider, as curl's vtls/ keeps one per
 * TLS backend: AWS IAM Identity Center (aws/provider_aws.c) and any OpenID
 * provider with the device grant (openid/provider_openid.c). Each owns its
 * options (aws/aws_config.h, openid/openid_config.h: the rows core's parser
 * fills into the provider's part of the configuration, settings.h). The
 * login (pam_ssooidc.c, core/flow.c) drives them in this order:
 *
 *   configure -> open -> start -> poll ... -> identify -> close
 *
 * (configure through settings.c, right after the options load), and
 * pam_ssooidc_check asks the same table what to probe (endpoints, files,
 * clock limits, what the provider keeps or opens). Everything else - option
 * parsing, HTTP with its retries, the file store, the conversation, the
 * polling rules, max_pending, the mapping of the approver to the local
 * user - is shared core, which knows no provider. */
#ifndef SSO_PROVIDER_H
#define SSO_PROVIDER_H

#include <security/pam_modules.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/device.h"
#include "core/http.h"
#include "core/provision.h"
#include "core/status.h"
#include "core/util.h"

/* What a provider works with. `state` is its own: made by open, wiped and
 * freed by close. */
struct provider_ctx {
    pam_handle_t *pamh; /* for syslog notices (NULL in pam_ssooidc_check) */
    const struct cfg *cfg; /* the shared options */
    const void *part;      /* the provider's own (struct aws_cfg, struct openid_cfg) */
    struct http_client *http;
    struct sso_error *err;
    void *state;
    bool refresh; /* pam_ssooidc_check: fetch every document afresh */
};

/* What pam_ssooidc_check asks a provider; a login never does. A finding
 * goes to `finding` (status, the check's name, one line of detail). */
enum provider_status { PROVIDER_OK, PROVIDER_INFO, PROVIDER_WARN, PROVIDER_FAIL };
struct provider_report {
    void (*finding)(void *ctx, enum provider_status st, const char *check, const char *detail);
    void *ctx;
};
/* A place the provider reaches: an endpoint (base URL) or a file (path),
 * named by the option that sets it. */
struct provider_place {
    const char *name;
    const char *where;
    bool clock; /* an endpoint whose Date the clock check prefers */
};
#define PROVIDER_PLACES_MAX 3

struct provider {
    const char *name;  /* for logs and pam_ssooidc_check: "aws", "openid" */
    const char *title; /* the device text's first line */
    const char *where; /* where the person approves: "a browser where you are ..." */
    /* Its own options: rows (core/config_values.h) with offsets into its
     * part of the configuration. */
    const struct opt *options;
    size_t n_options;
    /* Called right after the options load, when this provider is the one
     * selected (before anything is sent): derives its defaults and checks
     * its values and its identity policy (CFG_PARTIAL: a fragment, only
     * contradictions). PAM_SUCCESS or PAM_SERVICE_ERR. */
    int (*configure)(const struct cfg *c, void *part, unsigned flags, struct sso_error *err);
    /* Ready the client: the registration (AWS), the discovery document and
     * the client secret (OpenID). */
    int (*open)(struct provider_ctx *p);
    /* A device authorization, its shown parts allow-listed. */
    int (*start)(struct provider_ctx *p, struct device_auth *dev);
    /* One poll; a transient failure is POLL_FAILED with PAM_SUCCESS. */
    int (*poll)(struct provider_ctx *p, const struct device_auth *dev,
                enum poll_result *result);
    /* After start or poll returned SSO_CLIENT_REFUSED (the client was
     * refused): renew the client once; NULL when it cannot be renewed. */
    int (*renew)(struct provider_ctx *p);
    /* Who approved, proven: the name to map to the local user. PAM_AUTH_ERR
     * when the approver is not permitted (no permission set, not in a
     * required group); PAM_AUTHINFO_UNAVAIL when it cannot be proven. */
    int (*identify)(struct provider_ctx *p, char *approver, size_t len);
    /* Whether identify runs even with allow_any_approver: for OpenID the
     * verified ID token is the proof that anyone approved at all. */
    bool identify_always;
    /* After identify succeeded, for provisioning (core/provision.h): the
     * key no rename at the provider changes and, with want_groups, the
     * groups the approver holds there. PAM_SUCCESS, or the reason the
     * proof cannot name them (PAM_AUTHINFO_UNAVAIL). */
    int (*facts)(struct provider_ctx *p, const struct groupmap *groups, struct approver_facts *f);
    void (*close)(struct provider_ctx *p);

    /* ---- pam_ssooidc_check ---- */
    /* The endpoints a login reaches, and the files it reads on a trusted
     * path besides the shared ones: how many were written to out (at most
     * PROVIDER_PLACES_MAX). */
    size_t (*endpoints)(const void *part, struct provider_place *out);
    size_t (*files)(const void *part, struct provider_place *out);
    /* How far this host's clock may be off the service's before
     * `clock_judge` refuses what it signs or is sent (clock_fail seconds),
     * or a warning is due (clock_warn). */
    long clock_fail, clock_warn;
    const char *clock_judge;
    /* When cache_dir is usable: what the provider keeps there, read as a
     * login would (NULL: nothing before it is opened). */
    void (*check_stored)(const struct cfg *c, const void *part, const struct provider_report *r);
    /* After the endpoints: whether pam_ssooidc_check opens the provider as
     * a login does (with refresh), and what is then ready, in words (NULL:
     * it is not opened). */
    void (*ready_text)(const void *part, char *buf, size_t len);
    /* After a successful open: whether the service accepts the configured
     * client, asked exactly as a login asks (OpenID: one device
     * authorization request with the client's authentication; its code is
     * never shown or polled and expires unused at the provider). PAM_SUCCESS
     * with what was accepted, in words, in buf; else the refusal in p->err
     * (its error code, never a code, token or secret). NULL: nothing to ask
     * beyond check_stored (AWS: its registration). */
    int (*verify_client)(struct provider_ctx *p, char *buf, size_t len);
};

extern const struct provider provider_aws;
extern const struct provider provider_openid;

/* A syslog line for the provider's notices (none without a PAM handle, as
 * in pam_ssooidc_check; LOG_DEBUG ones only with debug). */
void provider_log(const struct provider_ctx *p, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
