/* aws_config.h - AWS IAM Identity Center's part of the configuration: its
 * options (start_url selects it), their checks, the endpoints derived from
 * the region, and its identity policy (account_id with role_name). The
 * parser is core's (core/config.h); these rows are handed to it through
 * the provider's table (provider.h). */
#ifndef SSO_AWS_CONFIG_H
#define SSO_AWS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/config_values.h"
#include "core/util.h"

#define AWS_ROLES_MAX 8 /* permission sets in role_name */

struct aws_cfg {
    char start_url[CFG_URL_MAX];
    char region[32];
    char oidc_endpoint[CFG_URL_MAX];   /* derived from region unless set */
    char portal_endpoint[CFG_URL_MAX]; /* derived from region unless set */
    char sts_endpoint[CFG_URL_MAX];    /* derived from region unless set */
    char account_id[16];
    char role_name[AWS_ROLES_MAX * 65]; /* comma-separated: any one of them */
    char client_name[128];
};

/* The rows of the options above, in the order the documentation lists them. */
#define AWS_OPTION_COUNT 8
extern const struct opt aws_options[AWS_OPTION_COUNT];

/* Right after the options load: the endpoints and the client name derived
 * where not set, then the identity policy (account_id with role_name, or
 * allow_any_approver; CFG_PARTIAL: only contradictions). PAM_SUCCESS or
 * PAM_SERVICE_ERR. */
int aws_configure(const struct cfg *c, void *part, unsigned flags, struct sso_error *err);

/* Value checks (NULL if fine, else the rule broken), for the tests. */
const char *aws_check_region(const char *v);
const char *aws_check_account_id(const char *v);
const char *aws_check_role_name(const char *v);

#endif
