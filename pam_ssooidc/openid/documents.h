/* documents.h - an OpenID provider's two documents, the discovery document
 * and the JWKS: from the module's file store (core/store.h) when fetched at most
 * max_age seconds ago under the same trust settings (ca_file, proxy), else
 * from the provider, and then stored for the next logins. A stored copy is
 * checked as strictly as a fetched one. */
#ifndef SSO_DOCUMENTS_H
#define SSO_DOCUMENTS_H

#include <stdbool.h>

#include "openid/discovery.h"
#include "openid/jose.h"
#include "provider.h"

#define DOCUMENTS_MAX_AGE 86400     /* seconds a stored document is used */
#define DOCUMENTS_REFETCH_FLOOR 10  /* seconds: no JWKS fetch sooner after the last one */

/* {issuer}/.well-known/openid-configuration (the issuer's one trailing '/'
 * dropped first; OpenID Connect Discovery 1.0, section 4), its "issuer"
 * equal to the configured one. PAM_SUCCESS, PAM_AUTHINFO_UNAVAIL,
 * PAM_SERVICE_ERR (unsafe cache_dir), PAM_BUF_ERR. */
int documents_discover(struct provider_ctx *p, struct discovery *out);

/* The JWKS at jwks_uri, stored at most DOCUMENTS_MAX_AGE seconds ago, into
 * *keys (replacing what it held); *fetched says whether it came from the
 * provider. Same codes. */
int documents_keys(struct provider_ctx *p, const char *jwks_uri, struct jose_jwks **keys,
                   bool *fetched);

/* The same after a token named a kid we do not hold (the provider may have
 * rotated its keys): the provider's JWKS, unless any login stored one
 * within DOCUMENTS_REFETCH_FLOOR seconds - then that copy. Logins that meet
 * the new kid together fetch it once (a lock in the store). PAM_AUTH_ERR
 * when the person cancelled the wait. */
int documents_refresh_keys(struct provider_ctx *p, const char *jwks_uri,
                           struct jose_jwks **keys, bool *fetched);

#endif
