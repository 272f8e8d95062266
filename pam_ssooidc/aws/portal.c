/* portal.c - GET /federation/credentials (botocore model sso 2019-06-10). */
#include "aws/portal.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>

#include "aws/awserr.h"
#include "core/json.h"

int portal_parse_credentials(const char *body, size_t len, struct role_credentials *out,
                             struct sso_error *err)
{
    memset(out, 0, sizeof(*out));
    json_t *root = sso_json_parse_object(body, len);
    json_t *rc_obj = root ? json_object_get(root, "roleCredentials") : NULL;
    int ok = json_is_object(rc_obj) &&
             sso_json_string(rc_obj, "accessKeyId", out->access_key_id,
                             sizeof(out->access_key_id)) == SSO_JSON_OK &&
             sso_json_string(rc_obj, "secretAccessKey", out->secret_access_key,
                             sizeof(out->secret_access_key)) == SSO_JSON_OK &&
             sso_json_string(rc_obj, "sessionToken", out->session_token,
                             sizeof(out->session_token)) == SSO_JSON_OK &&
             out->access_key_id[0] && out->secret_access_key[0] && out->session_token[0] &&
             strspn(out->access_key_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
                 strlen(out->access_key_id);
    sso_json_free(root);
    if (ok)
        return PAM_SUCCESS;
    sso_cleanse(out, sizeof(*out));
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                    "GetRoleCredentials: answer is not a valid roleCredentials object");
}

static int portal_error(const struct aws_cfg *c, const char *role, long status,
                        const struct aws_error *aerr, struct sso_error *err)
{
    if (status == 401 || status == 403 || status == 404)
        return sso_fail_as(err, PAM_AUTH_ERR, SSO_CASE_NOT_PERMITTED,
                        "the approver lacks permission set %s in account %s (HTTP %ld %s)",
                        role, c->account_id, status,
                        aerr->type[0] ? aerr->type : "no error type");
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "GetRoleCredentials: HTTP %ld %s", status,
                    aerr->type[0] ? aerr->type : "(no error type)");
}

int portal_role_credentials(struct http_client *h, const struct aws_cfg *c, const char *role,
                            const struct ssooidc_token *token, struct role_credentials *out,
                            struct sso_error *err)
{
    char url[CFG_URL_MAX + 3 * 72 + 96], enc[3 * 72];
    /* A permission set name may hold + = @, which mean something in a query:
     * percent-encode all but RFC 3986's unreserved characters. */
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)role; *p && o + 4 < sizeof(enc); p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            enc[o++] = (char)*p;
        else
            o += (size_t)snprintf(enc + o, sizeof(enc) - o, "%%%02X", *p);
    }
    enc[o] = '\0';
    snprintf(url, sizeof(url), "%s/federation/credentials?role_name=%s&account_id=%s",
             c->portal_endpoint, enc, c->account_id);
    char bearer[sizeof(token->access_token) + 32];
    snprintf(bearer, sizeof(bearer), "x-amz-sso_bearer_token: %s", token->access_token);
    const char *headers[] = {bearer, "Accept: application/json", NULL};
    struct http_response resp;
    int rc = http_request(h, "GetRoleCredentials", "GET", url, headers, NULL, &resp, err);
    sso_cleanse(bearer, sizeof(bearer));
    if (rc != PAM_SUCCESS)
        return rc;
    if (resp.status == 200) {
        rc = portal_parse_credentials(resp.body, resp.body_len, out, err);
    } else {
        struct aws_error aerr;
        aws_error_decode(aws_error_type(&resp), resp.body, resp.body_len, &aerr);
        rc = portal_error(c, role, resp.status, &aerr, err);
    }
    http_response_free(&resp);
    return rc;
}
