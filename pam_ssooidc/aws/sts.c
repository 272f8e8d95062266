/* sts.c - POST / Action=GetCallerIdentity&Version=2011-06-15, signed with
 * SigV4 (service sts). Its XML answer is read by sts_xml.c. */
#include "aws/sts.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>

#include "aws/awssign.h"

#define STS_BODY "Action=GetCallerIdentity&Version=2011-06-15"
#define STS_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* The signed headers of the one POST (aws/awssign.h). */
static int sign_request(const struct aws_cfg *c, const struct role_credentials *creds,
                        struct awssign_headers *sh)
{
    static const struct awssign_header extra[] = {{"Content-Type", STS_CONTENT_TYPE}};
    const struct awssign_post post = {c->sts_endpoint, c->region, "sts", extra, 1, STS_BODY,
                                      strlen(STS_BODY)};
    return awssign_sign_post(&post, creds, sh);
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
    struct awssign_headers sh;
    if (sign_request(c, creds, &sh) != 0) {
        awssign_cleanse(&sh);
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "GetCallerIdentity: cannot sign the request");
    }
    /* The signed lines, then Accept (unsigned, as before). */
    const char *headers[sizeof(sh.lines) / sizeof(sh.lines[0]) + 1];
    size_t n = 0;
    for (; sh.lines[n]; n++)
        headers[n] = sh.lines[n];
    headers[n++] = "Accept: text/xml";
    headers[n] = NULL;
    char url[CFG_URL_MAX + 8];
    snprintf(url, sizeof(url), "%s/", c->sts_endpoint);
    struct http_response resp;
    int rc = http_request(h, "GetCallerIdentity", "POST", url, headers, STS_BODY, &resp, err);
    awssign_cleanse(&sh);
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
