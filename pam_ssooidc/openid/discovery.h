/* discovery.h - an OpenID Provider's discovery document
 * ({issuer}/.well-known/openid-configuration; OpenID Connect Discovery 1.0
 * section 3, RFC 8414, RFC 8628 section 4), read strictly. */
#ifndef SSO_DISCOVERY_H
#define SSO_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

#define DISCOVERY_MAX (64 * 1024) /* bytes of the document */
#define DISCOVERY_DEPTH 16        /* nesting (mtls_endpoint_aliases is 2) */
#define DISCOVERY_URL_MAX 512     /* as the configuration's URLs (CFG_URL_MAX) */
#define DISCOVERY_LIST_MAX 64     /* elements of a *_supported array */

/* Client authentication at the token endpoint. */
enum discovery_auth {
    DISCOVERY_AUTH_BASIC = 1u << 0, /* client_secret_basic */
    DISCOVERY_AUTH_POST = 1u << 1,  /* client_secret_post */
    DISCOVERY_AUTH_NONE = 1u << 2,  /* none: a public client */
};

struct discovery {
    char issuer[DISCOVERY_URL_MAX];
    char device_authorization_endpoint[DISCOVERY_URL_MAX]; /* "" when absent */
    char token_endpoint[DISCOVERY_URL_MAX];
    char jwks_uri[DISCOVERY_URL_MAX];
    /* token_endpoint_auth_methods_supported, the three we know; when the
     * member is absent, DISCOVERY_AUTH_BASIC, its default by RFC 8414. */
    unsigned auth_methods;
    bool auth_methods_listed;
    /* id_token_signing_alg_values_supported as JOSE_* bits (none, HS* and
     * names we do not know dropped); 0 when absent. */
    unsigned id_token_algs;
    bool id_token_algs_listed;
};

/* Parse the document. `issuer` is the configured issuer: the document's
 * "issuer" must equal it byte for byte (no trailing-slash or case
 * tolerance). token_endpoint and jwks_uri are required,
 * device_authorization_endpoint optional (an option may supply it; the
 * caller decides). Each endpoint present must be an https:// URL shorter
 * than DISCOVERY_URL_MAX of printable ASCII: no spaces, no userinfo, a
 * host, no fragment. The two lists, if present, must be arrays of at most
 * DISCOVERY_LIST_MAX strings; names we do not know are ignored. Every other
 * member is ignored. Returns PAM_SUCCESS, PAM_AUTHINFO_UNAVAIL with a
 * reason (then *out is all zero), or PAM_SERVICE_ERR without an issuer. */
int discovery_parse(const char *body, size_t len, const char *issuer, struct discovery *out,
                    struct sso_error *err);

#endif
