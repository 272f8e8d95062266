/* identity.c - approval counts only once we know who approved.
 *
 * The access token buys short-lived credentials for the configured
 * permission set (which proves the assignment); STS then tells whose
 * session those credentials are. Identity Center names that session after
 * the user, in a role named AWSReservedSSO_<permission set>_<suffix>. */
#include "aws/identity.h"

#include <security/pam_modules.h>
#include <string.h>

#include "aws/portal.h"
#include "aws/sts.h"

#define ROLE_PREFIX "AWSReservedSSO_"

const char *identity_partition(const char *region)
{
    /* Region prefixes of the partitions other than "aws" (botocore's
     * endpoints data); every other region is in "aws". */
    static const struct {
        const char *prefix, *partition;
    } partitions[] = {
        {"cn-", "aws-cn"},         {"us-gov-", "aws-us-gov"}, {"us-iso-", "aws-iso"},
        {"us-isob-", "aws-iso-b"}, {"eu-isoe-", "aws-iso-e"}, {"us-isof-", "aws-iso-f"},
        {"eusc-", "aws-eusc"},
    };
    for (size_t i = 0; i < sizeof(partitions) / sizeof(partitions[0]); i++)
        if (strncmp(region, partitions[i].prefix, strlen(partitions[i].prefix)) == 0)
            return partitions[i].partition;
    return "aws";
}

/* Skip "arn:<partition>:sts::" and the account; NULL when malformed or when
 * the partition is not the one given. */
static const char *arn_after_account(const char *arn, const char *partition,
                                     const char *account)
{
    size_t plen = strlen(partition);
    if (strncmp(arn, "arn:", 4) != 0 || strncmp(arn + 4, partition, plen) != 0)
        return NULL;
    const char *p = arn + 4 + plen;
    if (strncmp(p, ":sts::", 6) != 0)
        return NULL;
    p += 6;
    size_t alen = strlen(account);
    if (strncmp(p, account, alen) != 0 || p[alen] != ':')
        return NULL;
    return p + alen + 1;
}

int identity_session_from_arn(const char *arn, const char *partition, const char *account,
                              const char *role, char *session, size_t len)
{
    session[0] = '\0';
    const char *p = arn_after_account(arn, partition, account);
    if (!p || strncmp(p, "assumed-role/" ROLE_PREFIX, 13 + sizeof(ROLE_PREFIX) - 1) != 0)
        return -1;
    p += 13 + sizeof(ROLE_PREFIX) - 1;
    size_t rlen = strlen(role);
    if (strncmp(p, role, rlen) != 0 || p[rlen] != '_')
        return -1;
    p += rlen + 1;
    size_t slen = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    if (slen == 0 || p[slen] != '/')
        return -1;
    p += slen + 1;
    if (!p[0] || strchr(p, '/') || !sso_strlcpy(session, p, len))
        return -1;
    return 0;
}

/* Credentials for the first permission set of role_name the approver holds
 * (in the order listed); its name into role. PAM_AUTH_ERR when they hold
 * none of them; any other failure ends the search at once. */
static int role_credentials(struct http_client *h, const struct aws_cfg *c,
                            const struct ssooidc_token *token, char *role, size_t rolelen,
                            struct role_credentials *creds, struct sso_error *err)
{
    int rc = PAM_AUTH_ERR;
    for (const char *p = c->role_name; *p;) {
        size_t n = strcspn(p, ",");
        if (n >= rolelen)
            return sso_fail(err, PAM_SERVICE_ERR, "role_name: a name is too long");
        memcpy(role, p, n);
        role[n] = '\0';
        rc = portal_role_credentials(h, c, role, token, creds, err);
        if (rc != PAM_AUTH_ERR)
            return rc;
        p += n + (p[n] == ',');
    }
    if (strchr(c->role_name, ','))
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_NOT_PERMITTED,
                           "the approver holds none of the permission sets %s in account %s",
                           c->role_name, c->account_id);
    return rc; /* the one set's own message */
}

int identity_approver(struct http_client *h, const struct aws_cfg *c,
                      const struct ssooidc_token *token, char *session, size_t len,
                      struct sso_error *err)
{
    session[0] = '\0';
    struct role_credentials creds;
    char role[72];
    int rc = role_credentials(h, c, token, role, sizeof(role), &creds, err);
    char arn[512];
    if (rc == PAM_SUCCESS)
        rc = sts_caller_arn(h, c, &creds, arn, sizeof(arn), err);
    sso_cleanse(&creds, sizeof(creds));
    if (rc != PAM_SUCCESS)
        return rc;
    /* The ARN must name the very permission set the credentials came from. */
    const char *partition = identity_partition(c->region);
    if (identity_session_from_arn(arn, partition, c->account_id, role, session, len) != 0)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "STS identity %s is not a session of permission set %s in account %s "
                        "(partition %s)", arn, role, c->account_id, partition);
    return PAM_SUCCESS;
}

int identity_held_roles(struct http_client *h, const struct aws_cfg *c,
                        const struct ssooidc_token *token, char (*held)[256], size_t max,
                        size_t *n, struct sso_error *err)
{
    *n = 0;
    for (const char *p = c->role_name; *p;) {
        size_t len = strcspn(p, ",");
        char role[72];
        if (len >= sizeof(role))
            return sso_fail(err, PAM_SERVICE_ERR, "role_name: a name is too long");
        memcpy(role, p, len);
        role[len] = '\0';
        p += len + (p[len] == ',');
        struct role_credentials creds;
        int rc = portal_role_credentials(h, c, role, token, &creds, err);
        sso_cleanse(&creds, sizeof(creds));
        if (rc == PAM_AUTH_ERR)
            continue; /* not held */
        if (rc != PAM_SUCCESS)
            return rc;
        if (*n < max)
            sso_strlcpy(held[(*n)++], role, sizeof(held[0]));
    }
    return PAM_SUCCESS;
}
