/* openid_config.h - an OpenID provider's part of the configuration: its
 * options (issuer selects it), their checks, and its identity policy
 * (client_id, required_groups). The parser is core's (core/config.h); these
 * rows are handed to it through the provider's table (provider.h). */
#ifndef SSO_OPENID_CONFIG_H
#define SSO_OPENID_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/config_values.h"
#include "core/util.h"

#define OPENID_GROUPS_MAX 32 /* groups in required_groups */
#define OPENID_SCOPES_MAX 16 /* scopes in scopes */

/* How a confidential client authenticates at the provider. */
enum openid_client_auth { OPENID_AUTH_AUTO, OPENID_AUTH_BASIC, OPENID_AUTH_POST };
/* Which claim keys a provisioned account besides iss (docs/provisioning.md):
 * sub, or Entra ID's oid where sub differs per application. */
enum openid_id_claim { OPENID_ID_SUB, OPENID_ID_OID };

struct openid_cfg {
    char issuer[CFG_URL_MAX];
    char client_id[256];
    char client_secret_file[CFG_PATH_MAX]; /* empty: a public client */
    enum openid_client_auth client_auth;
    char scopes[512];                   /* comma-separated; openid always sent */
    char device_authorization_endpoint[CFG_URL_MAX]; /* empty: discovery's */
    char token_endpoint[CFG_URL_MAX];                /* empty: discovery's */
    char jwks_uri[CFG_URL_MAX];                      /* empty: discovery's */
    char id_token_algs[128];            /* comma-separated allow-list */
    char username_claim[128];
    char groups_claim[128];
    char required_groups[2048];         /* comma-separated: any one of them */
    enum openid_id_claim provision_id_claim;
};

/* The OpenID part of a provider context's configuration (provider.h). */
#define OPENID_CFG(ctx) ((const struct openid_cfg *)(ctx)->part)

/* The rows of the options above, in the order the documentation lists them. */
#define OPENID_OPTION_COUNT 13
extern const struct opt openid_options[OPENID_OPTION_COUNT];

/* Right after the options load: the identity policy (client_id, and
 * required_groups or allow_any_approver; CFG_PARTIAL: only contradictions),
 * then id_token_algs against the algorithms verified. PAM_SUCCESS or
 * PAM_SERVICE_ERR. */
int openid_configure(const struct cfg *c, void *part, unsigned flags, struct sso_error *err);

/* id_token_algs as a set of JOSE_* bits: names we verify, never none or
 * HMAC. PAM_SUCCESS or PAM_SERVICE_ERR. */
int openid_allowed_algs(const struct openid_cfg *o, unsigned *algs, struct sso_error *err);

#endif
