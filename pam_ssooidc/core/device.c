/* device.c - see device.h. */
#include "core/device.h"

#include <security/pam_modules.h>
#include <string.h>

#include "core/json.h"
#include "core/sanitize.h"

#define INTERVAL_DEFAULT 5 /* RFC 8628 3.2 */

static int malformed(const char *what, const char *member, struct sso_error *err)
{
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: answer has a missing or ill-typed %s", what,
                    member);
}

static int untrusted_text(const char *what, const char *member, struct sso_error *err)
{
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: %s does not have the shape of one (not "
                    "shown; answer not trusted)", what, member);
}

static bool need_string(json_t *o, const char *key, char *dst, size_t len)
{
    return sso_json_string(o, key, dst, len) == SSO_JSON_OK && dst[0];
}

/* The verification URI under its name, or under the alternative one
 * (Google's verification_url): exactly one of them. */
static bool verification_uri(json_t *o, const struct device_names *n, struct device_auth *out)
{
    if (!n->uri_alt)
        return need_string(o, n->uri, out->verification_uri, sizeof(out->verification_uri));
    char alt[sizeof(out->verification_uri)];
    enum sso_json_get a = sso_json_string(o, n->uri, out->verification_uri,
                                          sizeof(out->verification_uri));
    enum sso_json_get b = sso_json_string(o, n->uri_alt, alt, sizeof(alt));
    if (a == SSO_JSON_BAD || b == SSO_JSON_BAD || (a == SSO_JSON_OK) == (b == SSO_JSON_OK))
        return false;
    if (b == SSO_JSON_OK)
        memcpy(out->verification_uri, alt, sizeof(alt));
    return out->verification_uri[0] != '\0';
}

int device_parse(const char *body, size_t len, const struct device_names *n,
                 struct device_auth *out, struct sso_error *err)
{
    memset(out, 0, sizeof(*out));
    json_t *o = sso_json_parse_object(body, len);
    int rc = PAM_SUCCESS;
    long long expires = 0, interval = INTERVAL_DEFAULT;
    if (!o)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: answer is not a JSON object", n->what);
    else if (!need_string(o, n->device_code, out->device_code, sizeof(out->device_code)))
        rc = malformed(n->what, n->device_code, err);
    else if (!need_string(o, n->user_code, out->user_code, sizeof(out->user_code)))
        rc = malformed(n->what, n->user_code, err);
    else if (!verification_uri(o, n, out))
        rc = malformed(n->what, n->uri, err);
    else if (sso_json_string(o, n->uri_complete, out->verification_uri_complete,
                             sizeof(out->verification_uri_complete)) == SSO_JSON_BAD)
        rc = malformed(n->what, n->uri_complete, err);
    else if (sso_json_integer(o, n->expires_in, 1, 86400, &expires) != SSO_JSON_OK)
        rc = malformed(n->what, n->expires_in, err);
    else if (sso_json_integer(o, n->interval, n->interval_min, 600, &interval) == SSO_JSON_BAD)
        rc = malformed(n->what, n->interval, err);
    /* What the person will be shown must have the shape it should: a short
     * code and plain https:// links. Anything else is not filtered into
     * shape but refused, answer and all. */
    else if (!sanitize_is_user_code(out->user_code))
        rc = untrusted_text(n->what, n->user_code, err);
    else if (!sanitize_is_https_uri(out->verification_uri))
        rc = untrusted_text(n->what, n->uri, err);
    else if (out->verification_uri_complete[0] &&
             !sanitize_is_https_uri(out->verification_uri_complete))
        rc = untrusted_text(n->what, n->uri_complete, err);
    sso_json_free(o);
    if (rc != PAM_SUCCESS) {
        sso_cleanse(out, sizeof(*out));
        return rc;
    }
    out->expires_in = (long)expires;
    out->interval = interval < 1 ? 1 : (long)interval; /* 0 would be a busy loop */
    return PAM_SUCCESS;
}
