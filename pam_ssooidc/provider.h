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
 * and everything else - option parsing, HTTP with its retries, the file
 * store, the conversation, the polling rules, max_pending, the mapping of
 * the approver to the local user - is shared core, which knows no provider. */
#ifndef SSO_PROVIDER_H
#define SSO_PROVIDER_H

#include <security/pam_modules.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/device.h"
#include "core/http.h"
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
    /* After start or poll returned PAM_CRED_EXPIRED (the client was
     * refused): renew the client once; NULL when it cannot be renewed. */
    int (*renew)(struct provider_ctx *p);
    /* Who approved, proven: the name to map to the local user. PAM_AUTH_ERR
     * when the approver is not permitted (no permission set, not in a
     * required group); PAM_AUTHINFO_UNAVAIL when it cannot be proven. */
    int (*identify)(struct provider_ctx *p, char *approver, size_t len);
    /* Whether identify runs even with allow_any_approver: for OpenID the
     * verified ID token is the proof that anyone approved at all. */
    bool identify_always;
    void (*close)(struct provider_ctx *p);
};

extern const struct provider provider_aws;
extern const struct provider provider_openid;

/* A syslog line for the provider's notices (none without a PAM handle, as
 * in pam_ssooidc_check; LOG_DEBUG ones only with debug). */
void provider_log(const struct provider_ctx *p, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
