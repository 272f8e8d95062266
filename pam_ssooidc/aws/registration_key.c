/* registration_key.c - see registration_key.h. */
#include "aws/registration_key.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>

int aws_registration_key(const struct cfg *c, const struct aws_cfg *a, char *out, size_t len,
                         struct sso_error *err)
{
    const char *parts[] = {a->oidc_endpoint, a->client_name, c->ca_file, c->proxy};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (strchr(parts[i], '\n'))
            return sso_fail(err, PAM_SERVICE_ERR, "registration cache key: a value holds a "
                            "newline");
    /* The tag keeps these keys apart from any other kind the store holds. */
    int n = snprintf(out, len, "registration\n%s\n%s\n%s\n%s", a->oidc_endpoint, a->client_name,
                     c->ca_file, c->proxy);
    if (n < 0 || (size_t)n >= len)
        return sso_fail(err, PAM_SERVICE_ERR, "registration cache key too long");
    return PAM_SUCCESS;
}
