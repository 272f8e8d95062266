/* registration.h - AWS's client registration (the RegisterClient answer),
 * persisted in the module's root-only file store (core/store.h), and the
 * one key both the login (provider_aws.c) and pam_ssooidc_check read it by.
 *
 * Layout: cache_dir (root, 0700) holds reg-<key>.json (root, 0600) and
 * reg-<key>.lock. Writes go to a temp file that is renamed into place; an
 * exclusive flock on the lock file serialises concurrent first logins so that
 * only one of them registers. Symlinks and files with the wrong owner or
 * mode are never read. */
#ifndef SSO_REGISTRATION_H
#define SSO_REGISTRATION_H

#include <stdbool.h>
#include <stdint.h>

#include "aws/aws_config.h"
#include "core/config.h"
#include "core/util.h"

/* A client registration (RFC 7591 style: AWS's RegisterClient answer). */
struct client_registration {
    char client_id[512];
    char client_secret[4096];
    int64_t issued_at;  /* clientIdIssuedAt, epoch seconds */
    int64_t expires_at; /* clientSecretExpiresAt, epoch seconds */
};

struct registration_cache {
    int dir_fd;  /* -1 when closed */
    int lock_fd; /* -1 when closed; holds the exclusive flock while open */
    bool active; /* set only by a successful registration_open: a zeroed struct has
                  * fds 0 (stdin), which must never be closed by mistake */
    char name[96]; /* reg-<key>.json */
};

/* A closed cache, for initialisers:
 *   struct registration_cache c = REGISTRATION_CACHE_INIT; */
#define REGISTRATION_CACHE_INIT { .dir_fd = -1, .lock_fd = -1, .active = false, .name = "" }

/* Put c in the closed state (same as REGISTRATION_CACHE_INIT). A zeroed struct is also
 * treated as closed, so either works before registration_open/registration_close. */
void registration_cache_init(struct registration_cache *c);

/* The key: a registration is only as trustworthy as the connection it
 * came over. So besides the endpoint and the client name, the trust
 * settings it was fetched under - ca_file and proxy - are part of it, as
 * for the OpenID documents (openid/documents.c): a stanza that trusts only
 * the system store never reuses a registration another stanza fetched
 * through a test CA or a proxy. */
/* oidc_endpoint, client_name, ca_file, proxy, a tag and the separators. */
#define AWS_REGISTRATION_KEY_MAX (CFG_URL_MAX + 128 + CFG_PATH_MAX + CFG_URL_MAX + 32)

/* Write the key material into out (len bytes, AWS_REGISTRATION_KEY_MAX is
 * always enough for a parsed configuration). PAM_SUCCESS, or
 * PAM_SERVICE_ERR when it does not fit or a value holds the separator (a
 * newline): two configurations must never share a key by accident. */
int aws_registration_key(const struct cfg *c, const struct aws_cfg *a, char *out, size_t len,
                         struct sso_error *err);

/* Open (creating if missing) the cache directory, check its owner and mode,
 * and take the registration lock, waiting at most wait_seconds. The parent
 * of dir must already exist. On failure c is left closed.
 * key_material identifies the registration (aws_registration_key).
 * PAM_SUCCESS, or PAM_SERVICE_ERR for an unsafe directory, or
 * PAM_AUTHINFO_UNAVAIL when the lock cannot be had in time. */
int registration_open(struct registration_cache *c, const char *dir, const char *key_material,
                      double wait_seconds, struct sso_error *err);

/* The same without the lock, for reading only: a reader always sees a whole
 * file (writers rename into place), so only registering needs the lock. A
 * login stopped while holding the lock (a user's SIGSTOP on their own su)
 * must not hold up everyone else's. registration_store is refused on it. */
int registration_open_unlocked(struct registration_cache *c, const char *dir,
                               const char *key_material, struct sso_error *err);

/* Load a registration valid for at least another min_valid_seconds after now.
 * Returns PAM_SUCCESS when one is loaded; PAM_NO_MODULE_DATA when there is
 * none usable (missing, corrupt, expiring, or refused as unsafe - err says
 * why, so the caller can log it and register afresh); *reg is then zeroed. */
int registration_load(struct registration_cache *c, int64_t now, int64_t min_valid_seconds,
                      struct client_registration *reg, struct sso_error *err);

/* Atomically replace the cached registration: a reader sees the old file or
 * the new one, never a torn one. PAM_SUCCESS, or PAM_SERVICE_ERR with err
 * set ("cannot write registration cache: ..."); the caller decides whether
 * to carry on with the registration it holds in memory. */
int registration_store(struct registration_cache *c, const struct client_registration *reg,
                       struct sso_error *err);

/* Release the lock and close everything. Safe on a zeroed or closed cache. */
void registration_close(struct registration_cache *c);

#endif
