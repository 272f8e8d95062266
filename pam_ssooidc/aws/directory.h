/* directory.h - what pam_ssooidc_sync reads from IAM Identity Center: the
 * host's credentials (IMDSv2, or a root-only credentials file) and the
 * members of sync_groups from the Identity Store (ListGroupMemberships,
 * ListUsers, DescribeUser: JSON 1.1 over POST /, SigV4 with service
 * identitystore). The rules that turn the members into accounts are
 * core's (core/sync.h); nothing here writes a file. docs/sync.md. */
#ifndef SSO_DIRECTORY_H
#define SSO_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/aws_config.h"
#include "aws/portal.h" /* struct role_credentials */
#include "core/config.h"
#include "core/http.h"
#include "core/util.h"

#define DIRECTORY_NAME_MAX 128 /* the model's UserName */

/* The instance role's credentials from IMDSv2 at a->imds_endpoint (PUT
 * /latest/api/token, then the role name, then its credentials, each GET
 * with the token; never IMDSv1), or, with a->sync_credentials_file set,
 * from that root-only file ([default] aws_access_key_id,
 * aws_secret_access_key, aws_session_token). *expires: Unix seconds (0:
 * none given). PAM_SUCCESS; PAM_AUTHINFO_UNAVAIL (the service unreachable,
 * refusing, or answering what fails the checks: err says which);
 * PAM_SERVICE_ERR (the file unsafe or malformed). */
int directory_credentials(const struct cfg *c, const struct aws_cfg *a,
                          struct role_credentials *out, int64_t *expires, struct sso_error *err);

/* One person the directory lists in some group of sync_groups. */
struct directory_person {
    char user_id[AWS_RESOURCE_ID_MAX + 1];
    char user_name[DIRECTORY_NAME_MAX + 1]; /* as the directory has it (valid UTF-8,
                                             * no control character) */
    bool enabled;                           /* UserStatus ENABLED (absent: enabled) */
    uint32_t groups;                        /* bit i: member of sync_groups entry i */
    char problem[160]; /* non-empty: this person's record failed the checks (what is
                        * wrong, safe to print); the sync leaves their account as it is */
};

/* Every user the directory listed, member or not, whose record passed the
 * checks: who holds which name now. A login proves a user name only, so
 * the sync must know when a name its records answer to is someone else's
 * (core/sync.h, sync_disown). */
struct directory_name {
    char user_id[AWS_RESOURCE_ID_MAX + 1];
    char user_name[DIRECTORY_NAME_MAX + 1];
};

struct directory {
    struct directory_person *people; /* sorted by user_id */
    size_t n, cap;
    struct directory_name *names;    /* in the order listed */
    size_t n_names, cap_names;
    long requests;  /* calls sent, retries included */
    long throttled; /* throttling answers among them */
};

/* Read the members of every group (ListGroupMemberships, 100 a page), then
 * their names and statuses (ListUsers, 100 a page; DescribeUser for a member
 * the listing missed). A member whose user is gone by then is dropped. Each
 * call is retried by the policy of retry.h, honouring RetryAfterSeconds.
 * PAM_SUCCESS with d filled (free with directory_free either way), else
 * PAM_AUTHINFO_UNAVAIL / PAM_SERVICE_ERR (AccessDenied,
 * ResourceNotFound for the store or a group, a page that fails the checks,
 * throttling beyond the retries) with err saying which call and why: a
 * partial read is never returned. Installs AWS's answer handling on h (the
 * kept headers of awserr.h, aws_throttled as the retry classifier,
 * RetryAfterSeconds as the body's retry wait); the caller sets the retry
 * policy and, for large directories, http_set_body_max. */
int directory_read(struct http_client *h, const struct aws_cfg *a,
                   const struct role_credentials *creds, struct directory *d,
                   struct sso_error *err);
void directory_free(struct directory *d);

#endif
