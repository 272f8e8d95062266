/* sts.c - POST / Action=GetCallerIdentity&Version=2011-06-15, signed with
 * SigV4 (service sts). Its XML answer is read by sts_xml.c. */
#include "aws/sts.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aws/sigv4.h"

#define STS_BODY "Action=GetCallerIdentity&Version=2011-06-15"
#define STS_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* host[:port] of an https:// endpoint, exactly as we will send it. */
static int endpoint_host(const char *endpoint, char *host, size_t len)
{
    const char *p = strncmp(endpoint, "https://", 8) == 0 ? endpoint + 8 : NULL;
    size_t n = p ? strcspn(p, "/?#") : 0;
    if (n == 0 || n >= len)
        return -1;
    memcpy(host, p, n);
    host[n] = '\0';
    return 0;
}

struct signed_headers {
    char host[CFG_URL_MAX + 8];
    char date[32];
    char token[4200];
    char auth[512];
};

static int sign_request(const struct aws_cfg *c, const struct role_credentials *creds,
                        struct signed_headers *sh)
{
    char host[CFG_URL_MAX], date[17];
    if (endpoint_host(c->sts_endpoint, host, sizeof(host)) != 0)
        return -1;
    sigv4_amz_date((long long)time(NULL), date);
    const struct sigv4_header hdrs[] = {
        {"content-type", STS_CONTENT_TYPE},
        {"host", host},
        {"x-amz-date", date},
        {"x-amz-security-token", creds->session_token},
    };
    const struct sigv4_request req = {"POST", "/", "", hdrs, 4, STS_BODY, strlen(STS_BODY)};
    const struct sigv4_key key = {creds->access_key_id, creds->secret_access_key, c->region,
                                  "sts", date};
    struct sigv4_result res = {0};
    if (sigv4_sign(&req, &key, &res) != 0)
        return -1;
    int n1 = snprintf(sh->host, sizeof(sh->host), "Host: %s", host);
    snprintf(sh->date, sizeof(sh->date), "X-Amz-Date: %s", date);
    int n2 = snprintf(sh->token, sizeof(sh->token), "X-Amz-Security-Token: %s",
                      creds->session_token);
    int n3 = snprintf(sh->auth, sizeof(sh->auth), "Authorization: %s", res.authorization);
    sigv4_free(&res);
    return (n1 < 0 || (size_t)n1 >= sizeof(sh->host) || n2 < 0 ||
            (size_t)n2 >= sizeof(sh->token) || n3 < 0 || (size_t)n3 >= sizeof(sh->auth))
               ? -1
               : 0;
}

static int sts_error(long status, const struct http_response *resp, struct sso_error *err)
{
    char code[64], msg[256];
    sts_parse_error(resp->body, resp->body_len, code, sizeof(code), msg, sizeof(msg));
    if (strstr(msg, "Signature expired") || strstr(msg, "Signature not yet current"))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "STS refused the request as %s (%s): this host's clock is probably "
                        "wrong; check NTP",
                        code[0] ? code : "expired", msg);
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "GetCallerIdentity: HTTP %ld %s %s", status,
                    code[0] ? code : "(no error code)", msg);
}

int sts_caller_arn(struct http_client *h, const struct aws_cfg *c,
                   const struct role_credentials *creds, char *arn, size_t arnlen,
                   struct sso_error *err)
{
    struct signed_headers sh;
    if (sign_request(c, creds, &sh) != 0) {
        sso_cleanse(&sh, sizeof(sh));
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "GetCallerIdentity: cannot sign the request");
    }
    const char *headers[] = {sh.host, sh.date, sh.token, sh.auth,
                             "Content-Type: " STS_CONTENT_TYPE, "Accept: text/xml", NULL};
    char url[CFG_URL_MAX + 8];
    snprintf(url, sizeof(url), "%s/", c->sts_endpoint);
    struct http_response resp;
    int rc = http_request(h, "GetCallerIdentity", "POST", url, headers, STS_BODY, &resp, err);
    sso_cleanse(&sh, sizeof(sh));
    if (rc != PAM_SUCCESS)
        return rc;
    if (resp.status != 200)
        rc = sts_error(resp.status, &resp, err);
    else if (sts_parse_arn(resp.body, resp.body_len, arn, arnlen) != 0)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                      "GetCallerIdentity: answer has no single well-formed Arn");
    http_response_free(&resp);
    return rc;
}
