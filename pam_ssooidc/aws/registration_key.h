/* registration_key.h - what identifies the cached AWS client registration
 * (cache.h): the one key both the login (provider_aws.c) and
 * pam_ssooidc_check read it by.
 *
 * A registration is only as trustworthy as the connection it came over. So
 * besides the endpoint and the client name, the trust settings it was
 * fetched under - ca_file and proxy - are part of the key, as for the
 * OpenID documents (openid/documents.c): a stanza that trusts only the
 * system store never reuses a registration another stanza fetched through
 * a test CA or a proxy. */
#ifndef SSO_REGISTRATION_KEY_H
#define SSO_REGISTRATION_KEY_H

#include <stddef.h>

#include "aws/aws_config.h"
#include "core/config.h"
#include "core/util.h"

/* oidc_endpoint, client_name, ca_file, proxy, a tag and the separators. */
#define AWS_REGISTRATION_KEY_MAX (CFG_URL_MAX + 128 + CFG_PATH_MAX + CFG_URL_MAX + 32)

/* Write the key material into out (len bytes, AWS_REGISTRATION_KEY_MAX is
 * always enough for a parsed configuration). PAM_SUCCESS, or
 * PAM_SERVICE_ERR when it does not fit or a value holds the separator (a
 * newline): two configurations must never share a key by accident. */
int aws_registration_key(const struct cfg *c, const struct aws_cfg *a, char *out, size_t len,
                         struct sso_error *err);

#endif
