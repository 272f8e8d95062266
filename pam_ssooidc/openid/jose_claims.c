/* jose_claims.c - an ID token's claims (OpenID Connect Core 3.1.3.7),
 * checked only after jose_jws_verify accepted the signature, and strict
 * accessors for the claims the module maps to a user and groups. */
#include "openid/jose_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"

#define SUB_MAX 255 /* OpenID Connect Core 2: at most 255 ASCII characters */

struct jose_claims {
    json_t *root;
    char alg[8];
    char kid[JOSE_KID_MAX + 1];
};

static int untrusted(struct sso_error *err, const char *why)
{
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: %s", why);
}

static int policy_ok(const struct jose_policy *p, struct sso_error *err)
{
    if (!p || !p->issuer || !p->issuer[0] || !p->client_id || !p->client_id[0])
        return sso_fail(err, PAM_SERVICE_ERR, "ID token policy: no issuer or client_id");
    if (!p->algs || (p->algs & ~JOSE_ALGS_ALL))
        return sso_fail(err, PAM_SERVICE_ERR, "ID token policy: bad algorithm allow-list");
    if (p->leeway < 0 || p->leeway > JOSE_LEEWAY_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "ID token policy: leeway outside 0..%d s",
                        JOSE_LEEWAY_MAX);
    if (p->now < 0 || p->now > JOSE_TIME_MAX)
        return sso_fail(err, PAM_SERVICE_ERR, "ID token policy: bad time");
    return PAM_SUCCESS;
}

/* A NumericDate (RFC 7519 2): a JSON integer or real, 0..JOSE_TIME_MAX.
 * Reals are rounded towards the stricter side: exp down, nbf and iat up.
 * -1 for any other type (strings, booleans, null) or value. */
static int numeric_date(json_t *v, bool round_up, int64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > JOSE_TIME_MAX)
            return -1;
        *out = (int64_t)n;
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 0 && d <= (double)JOSE_TIME_MAX)) /* NaN fails too */
            return -1;
        *out = (int64_t)d; /* truncation is floor for d >= 0 */
        if (round_up && (double)*out < d)
            (*out)++;
        return 0;
    }
    return -1;
}

static int check_iss(json_t *c, const char *issuer, struct sso_error *err)
{
    json_t *v = json_object_get(c, "iss");
    char shown[112];
    if (!json_is_string(v))
        return untrusted(err, "iss is missing or not a string");
    /* Byte for byte: no case folding, no trailing-slash tolerance. */
    if (json_string_length(v) != strlen(issuer) || strcmp(json_string_value(v), issuer) != 0)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: iss %s is not the issuer",
                        jose_shown(shown, sizeof(shown), json_string_value(v), 96));
    return PAM_SUCCESS;
}

static bool is(json_t *v, const char *s)
{
    return json_is_string(v) && json_string_length(v) == strlen(s) &&
           strcmp(json_string_value(v), s) == 0;
}

static int check_aud(json_t *c, const char *client_id, struct sso_error *err)
{
    json_t *aud = json_object_get(c, "aud"), *azp = json_object_get(c, "azp"), *v;
    size_t count, i;
    bool found = false;
    if (json_is_string(aud)) {
        count = 1;
        found = is(aud, client_id);
    } else if (json_is_array(aud) && (count = json_array_size(aud)) > 0 &&
               count <= JOSE_AUD_MAX) {
        json_array_foreach(aud, i, v)
        {
            if (!json_is_string(v))
                return untrusted(err, "aud holds a non-string");
            found = found || is(v, client_id);
        }
    } else {
        return untrusted(err, "aud is missing, or not a string or 1..32 strings");
    }
    if (!found)
        return untrusted(err, "aud does not contain the client_id");
    if (azp && !json_is_string(azp))
        return untrusted(err, "azp is not a string");
    if (count > 1 && !azp) /* Core 3.1.3.7 item 4 */
        return untrusted(err, "several audiences and no azp");
    if (azp && !is(azp, client_id))
        return untrusted(err, "azp is not the client_id");
    return PAM_SUCCESS;
}

static int check_times(json_t *c, int64_t now, int leeway, struct sso_error *err)
{
    int64_t exp, nbf, iat;
    json_t *v;
    if (numeric_date(json_object_get(c, "exp"), false, &exp) != 0)
        return untrusted(err, "exp is missing, not a NumericDate, or absurd");
    if (now >= exp + leeway)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: expired %lld s ago (leeway %d s)",
                        (long long)(now - exp), leeway);
    if ((v = json_object_get(c, "nbf")) && numeric_date(v, true, &nbf) != 0)
        return untrusted(err, "nbf is not a NumericDate, or absurd");
    if (v && now + leeway < nbf)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "ID token: not valid for another %lld s (nbf; leeway %d s)",
                        (long long)(nbf - now), leeway);
    if (numeric_date(json_object_get(c, "iat"), true, &iat) != 0)
        return untrusted(err, "iat is missing, not a NumericDate, or absurd");
    if (iat > now + leeway)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "ID token: issued %lld s in the future (iat; leeway %d s)",
                        (long long)(iat - now), leeway);
    return PAM_SUCCESS;
}

static int check_claims(json_t *c, const struct jose_policy *p, struct sso_error *err)
{
    int64_t now = p->now ? p->now : (int64_t)time(NULL);
    int rc = check_iss(c, p->issuer, err);
    if (rc == PAM_SUCCESS)
        rc = check_aud(c, p->client_id, err);
    if (rc == PAM_SUCCESS)
        rc = check_times(c, now, p->leeway, err);
    if (rc == PAM_SUCCESS) {
        json_t *sub = json_object_get(c, "sub");
        if (!json_is_string(sub) || json_string_length(sub) == 0 ||
            json_string_length(sub) > SUB_MAX)
            rc = untrusted(err, "sub is missing, empty, longer than 255 bytes or not a string");
    }
    return rc;
}

int jose_verify_id_token(const char *token, size_t len, const struct jose_jwks *keys,
                         const struct jose_policy *policy, struct jose_claims **out,
                         struct sso_error *err)
{
    struct jose_jws jws;
    *out = NULL;
    int rc = policy_ok(policy, err);
    if (rc != PAM_SUCCESS)
        return rc;
    if (!token || !keys)
        return sso_fail(err, PAM_SERVICE_ERR, "ID token: no token or no JWKS");
    rc = jose_jws_verify(token, len, keys, policy->algs, &jws, err);
    if (rc != PAM_SUCCESS)
        return rc;
    /* Only now, with the signature verified, is the payload read. */
    json_t *root = jose_json_object((const char *)jws.payload, jws.payload_len, JOSE_TOKEN_MAX,
                                    JOSE_CLAIMS_DEPTH);
    struct jose_claims *c = NULL;
    if (!root)
        rc = untrusted(err, "payload is not one JSON object (nested at most 16 deep, no "
                            "duplicate members)");
    else
        rc = check_claims(root, policy, err);
    if (rc == PAM_SUCCESS && !(c = calloc(1, sizeof(*c))))
        rc = sso_fail(err, PAM_BUF_ERR, "ID token: out of memory");
    if (rc == PAM_SUCCESS) {
        c->root = root;
        sso_strlcpy(c->alg, jose_alg_name(jws.alg), sizeof(c->alg));
        memcpy(c->kid, jws.kid, sizeof(c->kid));
        *out = c;
    } else {
        sso_json_free(root);
    }
    jose_jws_clear(&jws);
    return rc;
}

void jose_claims_free(struct jose_claims *c)
{
    if (!c)
        return;
    sso_json_free(c->root);
    sso_cleanse(c, sizeof(*c));
    free(c);
}

const json_t *jose_claims_json(const struct jose_claims *c)
{
    return c ? c->root : NULL;
}

const char *jose_claims_alg(const struct jose_claims *c)
{
    return c ? c->alg : "";
}

const char *jose_claims_kid(const struct jose_claims *c)
{
    return c ? c->kid : "";
}

int jose_claim_string(const struct jose_claims *c, const char *name, char *dst, size_t dstlen,
                      struct sso_error *err)
{
    char shown[72];
    if (!dst || dstlen == 0)
        return sso_fail(err, PAM_SERVICE_ERR, "ID token claim: no room");
    dst[0] = '\0';
    jose_shown(shown, sizeof(shown), name, 48);
    json_t *v = c && name ? json_object_get(c->root, name) : NULL;
    if (!v || json_is_null(v))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: no claim %s", shown);
    if (!json_is_string(v))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: claim %s is not a string", shown);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n >= dstlen)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "ID token: claim %s is empty or longer than %zu bytes", shown, dstlen - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                            "ID token: claim %s holds control characters", shown);
    memcpy(dst, s, n + 1);
    return PAM_SUCCESS;
}

int jose_claim_has_group(const struct jose_claims *c, const char *name, const char *group,
                         bool *member, struct sso_error *err)
{
    char shown[72];
    size_t i;
    json_t *v, *e;
    *member = false;
    if (!c || !name || !group || !group[0])
        return sso_fail(err, PAM_SERVICE_ERR, "ID token groups: no claim name or group");
    jose_shown(shown, sizeof(shown), name, 48);
    v = json_object_get(c->root, name);
    if (!v || json_is_null(v)) {
        /* Entra, past 200 groups, drops the claim and points to Graph in
         * _claim_names instead; say so rather than "not a member". */
        json_t *names = json_object_get(c->root, "_claim_names");
        if (json_is_object(names) && json_object_get(names, name))
            return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                            "the ID token has no %s claim: Entra ID left it out because the "
                            "user is in too many groups (group overage, _claim_names); emit "
                            "groups as role claims or filter the groups assigned to the "
                            "application",
                            shown);
        return PAM_SUCCESS;
    }
    if (json_is_string(v)) { /* one group, taken whole */
        *member = is(v, group);
        return PAM_SUCCESS;
    }
    if (!json_is_array(v) || json_array_size(v) > JOSE_GROUPS_MAX)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "ID token: claim %s is not a string or an array of at most %d strings",
                        shown, JOSE_GROUPS_MAX);
    bool found = false;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) /* every element is checked: no verdict on a mixed list */
            return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: claim %s holds a non-string",
                            shown);
        found = found || is(e, group);
    }
    *member = found;
    return PAM_SUCCESS;
}

/* One claim name as the log may show it: allow-listed bytes only, cut. */
static size_t shown_name(char *dst, const char *name)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-";
    size_t n = 0;
    for (; name[n] && n < JOSE_NAME_SHOWN; n++)
        dst[n] = strchr(ok, name[n]) ? name[n] : '?';
    if (name[n])
        dst[n++] = '~';
    dst[n] = '\0';
    return n;
}

size_t jose_claim_names(const struct jose_claims *c, char *buf, size_t len)
{
    /* room kept for the widest " (+N more)" */
    enum { MORE = sizeof(" (+18446744073709551615 more)") };
    char one[JOSE_NAME_SHOWN + 2];
    size_t used = 0, shown = 0, left = 0;
    const char *key;
    json_t *v;
    if (!buf || len == 0)
        return 0;
    buf[0] = '\0';
    if (!c || !json_is_object(c->root))
        return 0;
    json_object_foreach(c->root, key, v)
    {
        size_t n = shown_name(one, key), sep = shown ? 2 : 0;
        if (left || shown == JOSE_NAMES_SHOWN || len < MORE || used + sep + n >= len - MORE) {
            left++;
            continue;
        }
        memcpy(buf + used, ", ", sep);
        memcpy(buf + used + sep, one, n + 1);
        used += sep + n;
        shown++;
    }
    if (left && len >= MORE)
        snprintf(buf + used, len - used, "%s(+%zu more)", shown ? " " : "", left);
    return shown;
}
