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
#define AWS_SYNC_GROUPS_MAX 20 /* Identity Store groups in sync_groups */
#define AWS_RESOURCE_ID_MAX 47 /* the model's ResourceId: UUID or 1234567890-UUID */
#define AWS_DEFAULT_IMDS "http://169.254.169.254"

struct aws_cfg {
    char start_url[CFG_URL_MAX];
    char region[32];
    char oidc_endpoint[CFG_URL_MAX];   /* derived from region unless set */
    char portal_endpoint[CFG_URL_MAX]; /* derived from region unless set */
    char sts_endpoint[CFG_URL_MAX];    /* derived from region unless set */
    char account_id[16];
    char role_name[AWS_ROLES_MAX * 65]; /* comma-separated: any one of them */
    char client_name[128];
    /* the directory sync (pam_ssooidc_sync, provision = sync: docs/sync.md) */
    char identity_store_id[40];
    char identity_store_endpoint[CFG_URL_MAX]; /* derived from region unless set */
    char sync_groups[AWS_SYNC_GROUPS_MAX * (AWS_RESOURCE_ID_MAX + 1 + 33 + 1)];
    char imds_endpoint[64];                    /* AWS_DEFAULT_IMDS unless set */
    char sync_credentials_file[CFG_PATH_MAX];  /* empty: IMDSv2 */
};

/* The rows of the options above, in the order the documentation lists them. */
#define AWS_OPTION_COUNT 13
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
const char *aws_check_identity_store_id(const char *v);
const char *aws_check_sync_groups(const char *v);
const char *aws_check_imds_endpoint(const char *v);

/* One entry of sync_groups: the Identity Store group and the local group it
 * gives (empty: none, its members only get accounts). */
struct aws_sync_group {
    char id[AWS_RESOURCE_ID_MAX + 1];
    char local[33];
};
/* sync_groups split into out (at most max); returns how many. */
size_t aws_sync_groups(const struct aws_cfg *a, struct aws_sync_group *out, size_t max);

/* The model's ResourceId: a UUID, or ten hex digits, '-' and a UUID. */
bool aws_resource_id_ok(const char *v);

#endif
