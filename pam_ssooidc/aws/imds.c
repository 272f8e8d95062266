/* imds.c - see imds.h. Its own libcurl easy handle: the shared client
 * (core/http.c) speaks HTTPS only, and the metadata service is plain HTTP
 * on a link-local (or, in tests, loopback) address. Nothing comes from the
 * environment: no proxy (a proxy would see the token and the keys), no
 * redirect (a redirect could carry the token elsewhere). */
#include "aws/imds.h"

#include <curl/curl.h>
#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/credcheck.h"
#include "core/http.h"
#include "core/json.h"

#define IMDS_TOKEN_PATH "/latest/api/token"
#define IMDS_ROLE_PATH "/latest/meta-data/iam/security-credentials/"
#define IMDS_ROLE_MAX 64
#define IMDS_TOKEN_MAX 1024 /* real ones are ~56 characters */
#define IMDS_HINT "this host's metadata service must allow IMDSv2 (HttpTokens required or " \
                  "optional)"

/* One answer, in a buffer that is cleansed: it holds the token or keys. */
struct imds_answer {
    long status;
    size_t len;
    bool too_big;
    char body[IMDS_BODY_MAX + 1];
};

struct imds {
    CURL *curl;
    const char *endpoint;
    char token[IMDS_TOKEN_MAX + 1];
    struct imds_answer ans;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct imds_answer *a = userp;
    size_t n = size * nmemb;
    if (a->len + n > IMDS_BODY_MAX) {
        a->too_big = true;
        return 0; /* aborts the transfer: refused, not truncated */
    }
    memcpy(a->body + a->len, data, n);
    a->len += n;
    a->body[a->len] = '\0';
    return n;
}

static CURLcode setup(CURL *curl, struct imds_answer *ans)
{
    CURLcode rc = CURLE_OK;
#define SET(opt, val) \
    if (rc == CURLE_OK) rc = curl_easy_setopt(curl, opt, val)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http");
    SET(CURLOPT_PATH_AS_IS, 1L); /* the path as built: no dot segments squashed */
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOPROXY, "*");
    SET(CURLOPT_CONNECTTIMEOUT, IMDS_CONNECT_TIMEOUT);
    SET(CURLOPT_TIMEOUT, IMDS_TIMEOUT);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)IMDS_BODY_MAX);
    SET(CURLOPT_USERAGENT, "pam_ssooidc/1.0");
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, ans);
    SET(CURLOPT_ACCEPT_ENCODING, NULL);
#undef SET
    return rc;
}

/* One request: method and path, with `header` (may be NULL). PAM_SUCCESS
 * when an answer arrived (any status); err names `step` otherwise. */
static int imds_call(struct imds *m, const char *step, const char *method, const char *path,
                     const char *header, struct sso_error *err)
{
    char url[sizeof(((struct aws_cfg *)0)->imds_endpoint) + sizeof(IMDS_ROLE_PATH) +
             IMDS_ROLE_MAX];
    snprintf(url, sizeof(url), "%s%s", m->endpoint, path);
    sso_cleanse(&m->ans, sizeof(m->ans));
    struct curl_slist *list = header ? curl_slist_append(NULL, header) : NULL;
    if (header && !list)
        return sso_fail(err, PAM_BUF_ERR, "metadata service: out of memory");
    CURLcode rc = curl_easy_setopt(m->curl, CURLOPT_URL, url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, list);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(m->curl, CURLOPT_CUSTOMREQUEST, method);
    if (rc == CURLE_OK && strcmp(method, "PUT") == 0)
        rc = curl_easy_setopt(m->curl, CURLOPT_POSTFIELDS, "");
    else if (rc == CURLE_OK)
        rc = curl_easy_setopt(m->curl, CURLOPT_HTTPGET, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(m->curl);
    curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &m->ans.status);
    curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(m->curl, CURLOPT_CUSTOMREQUEST, NULL);
    for (struct curl_slist *p = list; p; p = p->next) /* it carries the token */
        sso_cleanse(p->data, strlen(p->data));
    curl_slist_free_all(list);
    if (m->ans.too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: %s: answer larger than "
                        "%d bytes; refused", step, IMDS_BODY_MAX);
    if (rc != CURLE_OK)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service %.64s: %s: %s", m->endpoint,
                        step, curl_easy_strerror(rc));
    return PAM_SUCCESS;
}

static int get_token(struct imds *m, struct sso_error *err)
{
    int rc = imds_call(m, "IMDSv2 token request", "PUT", IMDS_TOKEN_PATH,
                       "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL, err);
    if (rc != PAM_SUCCESS)
        return rc;
    if (m->ans.status != 200)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "the metadata service refused IMDSv2 token "
                        "request: HTTP %ld; " IMDS_HINT, m->ans.status);
    const char *t = m->ans.body;
    size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-");
    if (n == 0 || n != m->ans.len || n > IMDS_TOKEN_MAX)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "the metadata service answered the IMDSv2 "
                        "token request with something that is not a token (%zu bytes)",
                        m->ans.len);
    memcpy(m->token, t, n + 1);
    return PAM_SUCCESS;
}

/* A GET with the token; a non-200 answer is an error naming the step. */
static int get_with_token(struct imds *m, const char *step, const char *path,
                          struct sso_error *err)
{
    char header[IMDS_TOKEN_MAX + 48];
    snprintf(header, sizeof(header), "X-aws-ec2-metadata-token: %s", m->token);
    int rc = imds_call(m, step, "GET", path, header, err);
    sso_cleanse(header, sizeof(header));
    if (rc == PAM_SUCCESS && m->ans.status != 200)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: %s: HTTP %ld%s", step,
                      m->ans.status, m->ans.status >= 300 && m->ans.status < 400
                                         ? " (a redirect; not followed)" : "");
    return rc;
}

/* Exactly one role name, of IAM's role name characters. */
static int get_role(struct imds *m, char *role, struct sso_error *err)
{
    int rc = get_with_token(m, "instance role name", IMDS_ROLE_PATH, err);
    if (rc != PAM_SUCCESS)
        return rc;
    size_t len = m->ans.len;
    if (len > 0 && m->ans.body[len - 1] == '\n') /* one final newline is harmless */
        m->ans.body[--len] = '\0';
    if (len == 0)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: this instance has no "
                        "IAM role (attach an instance profile)");
    if (memchr(m->ans.body, '\n', len))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: it lists several IAM "
                        "roles; refused (an instance profile holds one)");
    size_t ok = strspn(m->ans.body, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789+=,.@_-");
    if (ok != len || len > IMDS_ROLE_MAX)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: the IAM role name it "
                        "gives is not a role name (%zu bytes, outside [A-Za-z0-9+=,.@_-]{1,64})",
                        len);
    /* "." and ".." are path segments, not names: in the URL they would
     * name another document (.../iam/ itself). */
    if (strspn(m->ans.body, ".") == len)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: the IAM role name it "
                        "gives is only dots, a path segment; refused");
    memcpy(role, m->ans.body, len + 1);
    return PAM_SUCCESS;
}

static int take(json_t *doc, const char *key, char *dst, size_t len, struct sso_error *err)
{
    if (sso_json_string(doc, key, dst, len) == SSO_JSON_OK)
        return PAM_SUCCESS;
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: the role's credentials have "
                    "no usable %s", key);
}

static int check_fields(const struct role_credentials *out, const char *expiration,
                        int64_t *expires, struct sso_error *err)
{
    const char *why;
    if ((why = credcheck_access_key_id(out->access_key_id)))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: AccessKeyId %s", why);
    if ((why = credcheck_secret(out->secret_access_key)))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: SecretAccessKey %s", why);
    if ((why = credcheck_token(out->session_token)))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: Token %s", why);
    if (credcheck_iso8601(expiration, expires) != 0)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: Expiration is not an "
                        "ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
    if (*expires <= (int64_t)time(NULL))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: the role's credentials "
                        "expired at %s (is this host's clock right?)", expiration);
    return PAM_SUCCESS;
}

static int parse_credentials(const struct imds_answer *ans, struct role_credentials *out,
                             int64_t *expires, struct sso_error *err)
{
    json_t *doc = sso_json_parse_object(ans->body, ans->len);
    if (!doc)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: the role's credentials "
                        "are not a JSON object");
    char code[32] = "", expiration[32] = "";
    int rc = PAM_SUCCESS;
    if (sso_json_string(doc, "Code", code, sizeof(code)) != SSO_JSON_OK ||
        strcmp(code, "Success") != 0)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: the role's credentials "
                      "are not Code \"Success\"");
    if (rc == PAM_SUCCESS)
        rc = take(doc, "AccessKeyId", out->access_key_id, sizeof(out->access_key_id), err);
    if (rc == PAM_SUCCESS)
        rc = take(doc, "SecretAccessKey", out->secret_access_key,
                  sizeof(out->secret_access_key), err);
    if (rc == PAM_SUCCESS && sso_json_string(doc, "Token", out->session_token,
                                             sizeof(out->session_token)) == SSO_JSON_BAD)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "metadata service: Token must be at most "
                      "4095 characters");
    if (rc == PAM_SUCCESS)
        rc = take(doc, "Expiration", expiration, sizeof(expiration), err);
    if (rc == PAM_SUCCESS)
        rc = check_fields(out, expiration, expires, err);
    sso_json_free(doc);
    return rc;
}

static int read_credentials(struct imds *m, struct role_credentials *out, int64_t *expires,
                            struct sso_error *err)
{
    char role[IMDS_ROLE_MAX + 1], path[sizeof(IMDS_ROLE_PATH) + IMDS_ROLE_MAX];
    int rc = get_token(m, err);
    if (rc == PAM_SUCCESS)
        rc = get_role(m, role, err);
    if (rc != PAM_SUCCESS)
        return rc;
    snprintf(path, sizeof(path), "%s%s", IMDS_ROLE_PATH, role);
    rc = get_with_token(m, "the instance role's credentials", path, err);
    if (rc == PAM_SUCCESS)
        rc = parse_credentials(&m->ans, out, expires, err);
    return rc;
}

int imds_credentials(const char *endpoint, struct role_credentials *out, int64_t *expires,
                     struct sso_error *err)
{
    memset(out, 0, sizeof(*out));
    *expires = 0;
    int rc = http_library_ref(err);
    if (rc != PAM_SUCCESS)
        return rc;
    struct imds *m = calloc(1, sizeof(*m));
    if (m)
        m->curl = curl_easy_init();
    if (!m || !m->curl) {
        rc = sso_fail(err, PAM_BUF_ERR, "metadata service: out of memory");
    } else if (setup(m->curl, &m->ans) != CURLE_OK) {
        rc = sso_fail(err, PAM_SERVICE_ERR, "metadata service: libcurl refused an option");
    } else {
        m->endpoint = endpoint;
        rc = read_credentials(m, out, expires, err);
    }
    if (m) {
        curl_easy_cleanup(m->curl);
        sso_cleanse(m, sizeof(*m));
        free(m);
    }
    http_library_unref();
    if (rc != PAM_SUCCESS)
        sso_cleanse(out, sizeof(*out));
    return rc;
}
