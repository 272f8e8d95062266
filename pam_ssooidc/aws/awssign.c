/* awssign.c - see awssign.h. One signing path for every SigV4 POST, so
 * that STS and the Identity Store cannot drift apart. */
#include "aws/awssign.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aws/sigv4.h"
#include "core/util.h"

int awssign_endpoint_host(const char *endpoint, char *host, size_t len)
{
    const char *p = strncmp(endpoint, "https://", 8) == 0 ? endpoint + 8 : NULL;
    size_t n = p ? strcspn(p, "/?#") : 0;
    if (n == 0 || n >= len)
        return -1;
    memcpy(host, p, n);
    host[n] = '\0';
    return 0;
}

static bool fits(int n, size_t size)
{
    return n >= 0 && (size_t)n < size;
}

/* The fixed headers first, then the caller's, as sigv4_sign wants them. */
static size_t collect(const struct awssign_post *p, const struct role_credentials *creds,
                      const char *host, const char *date, struct sigv4_header *hdrs)
{
    size_t n = 0;
    hdrs[n++] = (struct sigv4_header){"host", host};
    hdrs[n++] = (struct sigv4_header){"x-amz-date", date};
    /* Long-term keys (a credentials file) carry no token: no header then,
     * since an empty one would be signed but never sent. */
    if (creds->session_token[0])
        hdrs[n++] = (struct sigv4_header){"x-amz-security-token", creds->session_token};
    for (size_t i = 0; i < p->n_extra; i++)
        hdrs[n++] = (struct sigv4_header){p->extra[i].name, p->extra[i].value};
    return n;
}

static int format_lines(const struct awssign_post *p, const struct role_credentials *creds,
                        const char *host, const char *date, const char *authorization,
                        struct awssign_headers *out)
{
    size_t k = 0;
    bool ok = fits(snprintf(out->host, sizeof(out->host), "Host: %s", host), sizeof(out->host));
    ok = ok && fits(snprintf(out->date, sizeof(out->date), "X-Amz-Date: %s", date),
                    sizeof(out->date));
    ok = ok && fits(snprintf(out->auth, sizeof(out->auth), "Authorization: %s", authorization),
                    sizeof(out->auth));
    out->lines[k++] = out->host;
    out->lines[k++] = out->date;
    if (creds->session_token[0]) {
        ok = ok && fits(snprintf(out->token, sizeof(out->token), "X-Amz-Security-Token: %s",
                                 creds->session_token), sizeof(out->token));
        out->lines[k++] = out->token;
    }
    out->lines[k++] = out->auth;
    for (size_t i = 0; i < p->n_extra; i++) {
        ok = ok && fits(snprintf(out->extra[i], sizeof(out->extra[i]), "%s: %s",
                                 p->extra[i].name, p->extra[i].value), sizeof(out->extra[i]));
        out->lines[k++] = out->extra[i];
    }
    out->lines[k] = NULL;
    return ok ? 0 : -1;
}

int awssign_sign_post(const struct awssign_post *p, const struct role_credentials *creds,
                      struct awssign_headers *out)
{
    memset(out, 0, sizeof(*out));
    char host[CFG_URL_MAX], date[17];
    if (p->n_extra > AWSSIGN_EXTRA_MAX ||
        awssign_endpoint_host(p->endpoint, host, sizeof(host)) != 0)
        return -1;
    sigv4_amz_date((long long)time(NULL), date);
    struct sigv4_header hdrs[3 + AWSSIGN_EXTRA_MAX];
    size_t n = collect(p, creds, host, date, hdrs);
    const struct sigv4_request req = {"POST", "/", "", hdrs, n, p->body, p->body_len};
    const struct sigv4_key key = {creds->access_key_id, creds->secret_access_key, p->region,
                                  p->service, date};
    struct sigv4_result res = {0};
    if (sigv4_sign(&req, &key, &res) != 0)
        return -1;
    int rc = format_lines(p, creds, host, date, res.authorization, out);
    sigv4_free(&res);
    return rc;
}

void awssign_cleanse(struct awssign_headers *out)
{
    sso_cleanse(out, sizeof(*out));
}
