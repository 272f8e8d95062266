/* flow.h - the device authorization flow, the same for every provider:
 * admitted within the fair limits (pending.h), start, show the code, poll
 * at the interval until approved, denied, expired or out of time, and renew
 * a refused client once. The provider (provider.h) makes the calls. */
#ifndef SSO_FLOW_H
#define SSO_FLOW_H

#include <security/pam_modules.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/device.h"
#include "core/interrupt.h"
#include "core/pending.h"
#include "provider.h"

struct flow {
    const struct provider *provider;
    struct provider_ctx *ctx;  /* pamh, cfg, http, err */
    struct interrupt_guard *guard;
    bool silent;
    struct pending place;      /* this login's place within the limits */
    struct device_auth dev;    /* wiped by the caller */
};

/* PAM_SUCCESS once approved (the provider holds the proof); PAM_AUTH_ERR
 * for a refusal, an expired code, the time running out or a Ctrl-C; other
 * codes as the provider returns them. */
int flow_run(struct flow *f);

#endif
