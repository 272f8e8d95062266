/* pending.h - a host-wide cap on device authorizations open at once.
 *
 * Every SSH connection with a valid user name starts a device authorization
 * and may poll until `timeout`; max_pending bounds what unauthenticated
 * strangers cost the provider and this host. A slot is an exclusive flock on
 * one of max_pending lock files in cache_dir (pending-NNN.lock): held from
 * before StartDeviceAuthorization until polling ends, and dropped by the
 * kernel whenever the process ends, so a killed login never leaks one. */
#ifndef SSO_PENDING_H
#define SSO_PENDING_H

#include "util.h"

struct pending_slot {
    int fd;    /* -1: none held */
    int index; /* which slot, for logs */
};

#define PENDING_SLOT_NONE {.fd = -1, .index = -1}

/* Take a free slot of max_pending (0: no cap, nothing taken). PAM_SUCCESS;
 * PAM_AUTHINFO_UNAVAIL when all are taken (err says so); PAM_SERVICE_ERR for
 * an unsafe cache_dir or slot file. */
int pending_acquire(const char *cache_dir, long max_pending, struct pending_slot *slot,
                    struct sso_error *err);

/* Release the slot (safe when none is held). */
void pending_release(struct pending_slot *slot);

#endif
