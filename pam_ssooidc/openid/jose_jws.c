/* jose_jws.c - a compact JWS (RFC 7515 section 7.1): its shape, its header,
 * the key it names, and its signature (RFC 7518 section 3), verified with
 * EVP_DigestVerify before anything reads the payload. */
#include "openid/jose_int.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"

#define SIG_MAX (JOSE_RSA_MAX_BITS / 8)
#define HEADER_DEPTH 4 /* {"jwk":{"x5c":[...]}} is 3; we ignore both anyway */

enum sig_kind { PKCS1, PSS, ECDSA, EDDSA };

static const struct sig_alg {
    unsigned bit;
    const char *md; /* NULL: the algorithm hashes by itself */
    enum sig_kind kind;
} sig_algs[] = {
    {JOSE_RS256, "SHA256", PKCS1}, {JOSE_RS384, "SHA384", PKCS1}, {JOSE_RS512, "SHA512", PKCS1},
    {JOSE_PS256, "SHA256", PSS},   {JOSE_PS384, "SHA384", PSS},   {JOSE_PS512, "SHA512", PSS},
    {JOSE_ES256, "SHA256", ECDSA}, {JOSE_ES384, "SHA384", ECDSA}, {JOSE_ES512, "SHA512", ECDSA},
    {JOSE_EDDSA, NULL, EDDSA},
};

static const struct sig_alg *sig_alg(unsigned bit)
{
    for (size_t i = 0; i < sizeof(sig_algs) / sizeof(sig_algs[0]); i++)
        if (sig_algs[i].bit == bit)
            return &sig_algs[i];
    return NULL;
}

static int untrusted(struct sso_error *err, const char *why)
{
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: %s", why);
}

/* ---- shape ---- */

struct parts {
    const char *h, *p, *s; /* base64url text of header, payload, signature */
    size_t hlen, plen, slen;
};

/* Exactly three dot-separated parts of base64url characters. The
 * signature may be empty here, so that "alg":"none" is refused by name. */
static int split(const char *t, size_t len, struct parts *pt, struct sso_error *err)
{
    const char *dot[2];
    int dots = 0;
    if (len == 0 || len > JOSE_TOKEN_MAX)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: empty or longer than %d bytes",
                        JOSE_TOKEN_MAX);
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '.') {
            if (dots < 2)
                dot[dots] = t + i;
            dots++;
        } else if (!jose_b64url_char(t[i])) {
            return untrusted(err, "a character outside base64url (padding, space, NUL, ...)");
        }
    }
    if (dots != 2) /* 5 parts: an encrypted token (JWE), which we do not take */
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: %d parts, not 3", dots + 1);
    pt->h = t, pt->hlen = (size_t)(dot[0] - t);
    pt->p = dot[0] + 1, pt->plen = (size_t)(dot[1] - pt->p);
    pt->s = dot[1] + 1, pt->slen = (size_t)(t + len - pt->s);
    if (pt->hlen == 0 || pt->plen == 0)
        return untrusted(err, "an empty header or payload");
    return PAM_SUCCESS;
}

/* ---- header ---- */

static int header_alg(json_t *h, unsigned allowed, unsigned *alg, struct sso_error *err)
{
    json_t *v = json_object_get(h, "alg");
    char shown[40];
    if (!json_is_string(v))
        return untrusted(err, "header alg is missing or not a string");
    const char *name = json_string_value(v);
    jose_shown(shown, sizeof(shown), name, 16);
    if (strcasecmp(name, "none") == 0)
        return untrusted(err, "alg none (an unsigned token) is always refused");
    if (strncasecmp(name, "HS", 2) == 0) /* a public key must never serve as a MAC secret */
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "ID token: alg %s is refused: HMAC algorithms are never allowed", shown);
    *alg = jose_alg_from_name(name);
    if (!*alg)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: alg %s is not supported", shown);
    if (!(*alg & allowed))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: alg %s is not in the allow-list",
                        shown);
    return PAM_SUCCESS;
}

static int header_rest(json_t *h, char kid[JOSE_KID_MAX + 1], struct sso_error *err)
{
    json_t *v = json_object_get(h, "crit");
    if (v && !json_is_array(v))
        return untrusted(err, "header crit is not an array");
    if (v && json_array_size(v) > 0) /* we implement no extension */
        return untrusted(err, "header crit names extensions this verifier does not implement");
    if (json_object_get(h, "cty"))
        return untrusted(err, "header cty (a nested token) is not supported");
    if (json_object_get(h, "zip"))
        return untrusted(err, "header zip is not allowed in a signed token");
    v = json_object_get(h, "typ");
    if (v) { /* refuses at+jwt access tokens, logout+jwt, secevent+jwt, ... */
        const char *typ = json_string_value(v);
        if (!typ || (strcasecmp(typ, "JWT") != 0 && strcasecmp(typ, "application/jwt") != 0))
            return untrusted(err, "header typ is not JWT");
    }
    kid[0] = '\0';
    v = json_object_get(h, "kid");
    if (v) {
        if (!json_is_string(v) || !jose_kid_ok(json_string_value(v), json_string_length(v)))
            return untrusted(err, "header kid is not 1..256 printable ASCII characters");
        memcpy(kid, json_string_value(v), json_string_length(v) + 1);
    }
    /* jku, jwk, x5u, x5c, x5t: ignored. The key comes from the JWKS the
     * issuer's discovery document names, never from the token itself. */
    return PAM_SUCCESS;
}

static int read_header(const struct parts *pt, unsigned allowed, unsigned *alg,
                       char kid[JOSE_KID_MAX + 1], struct sso_error *err)
{
    unsigned char buf[JOSE_HEADER_MAX];
    size_t n;
    if (pt->hlen > JOSE_HEADER_MAX / 3 * 4 + 2 ||
        jose_b64url_decode(pt->h, pt->hlen, buf, sizeof(buf), &n) != 0)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "ID token: header is not base64url of at most %d bytes",
                        JOSE_HEADER_MAX);
    json_t *h = jose_json_object((const char *)buf, n, JOSE_HEADER_MAX, HEADER_DEPTH);
    sso_cleanse(buf, n);
    if (!h)
        return untrusted(err, "header is not one JSON object (no duplicate members)");
    int rc = header_alg(h, allowed, alg, err);
    if (rc == PAM_SUCCESS)
        rc = header_rest(h, kid, err);
    sso_json_free(h);
    return rc;
}

/* ---- key ---- */

/* The key the header's kid names; without a kid, the only key of a
 * one-key set (with several, picking one would be a guess). The key's type
 * and curve, and its own "alg" if it has one, must fit the token's alg. */
static int select_key(const struct jose_jwks *keys, unsigned alg, const char *kid,
                      const struct jose_key **key, struct sso_error *err)
{
    char shown[72];
    jose_shown(shown, sizeof(shown), kid, 48);
    if (kid[0]) {
        *key = jose_jwks_find(keys, kid);
        if (!*key)
            return sso_fail(err, SSO_UNKNOWN_KID, "ID token: no key with kid %s in the JWKS",
                            shown);
    } else {
        if (keys->n != 1)
            return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                            "ID token: the header has no kid and the JWKS holds %zu keys",
                            keys->n);
        *key = &keys->key[0];
    }
    if (!((*key)->algs & alg)) {
        const struct jose_key *k = *key;
        char what[48];
        if (!k->alg_member)
            snprintf(what, sizeof(what), "%s%s%s", k->kty, k->crv[0] ? " " : "", k->crv);
        else
            snprintf(what, sizeof(what), "%s%s%s, alg %s", k->kty, k->crv[0] ? " " : "",
                     k->crv, jose_alg_name(k->algs));
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: alg %s does not fit key %s (%s)",
                        jose_alg_name(alg), kid[0] ? shown : "without kid", what);
    }
    return PAM_SUCCESS;
}

/* ---- signature ---- */

/* JWS carries ECDSA signatures as R || S, each half the length; OpenSSL
 * verifies the DER form. NULL on allocation failure. */
static unsigned char *ecdsa_der(const unsigned char *raw, size_t len, int *der_len)
{
    size_t half = len / 2;
    unsigned char *der = NULL;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)half, NULL), *s = BN_bin2bn(raw + half, (int)half, NULL);
    if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* owned by sig now */
        *der_len = i2d_ECDSA_SIG(sig, &der);
        if (*der_len <= 0) {
            OPENSSL_free(der);
            der = NULL;
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return der;
}

/* 1 verified, 0 not, -1 OpenSSL could not set up. */
static int evp_verify(const struct jose_key *k, const struct sig_alg *a, const unsigned char *sig,
                      size_t sig_len, const char *msg, size_t msg_len)
{
    unsigned char *der = NULL;
    int der_len = 0, ok = -1;
    if (a->kind == ECDSA) {
        if (!(der = ecdsa_der(sig, sig_len, &der_len)))
            return -1;
        sig = der, sig_len = (size_t)der_len;
    }
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestVerifyInit_ex(md, &pctx, a->md, NULL, NULL, k->pkey, NULL) != 1)
        goto out;
    if (a->kind == PKCS1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto out;
    /* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash.
     * RSA_PSS_SALTLEN_DIGEST makes the verifier insist on that length. */
    if (a->kind == PSS && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                           EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, a->md, NULL) != 1))
        goto out;
    ok = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)msg, msg_len) == 1;
out:
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return ok;
}

static int check_signature(const struct parts *pt, const struct jose_key *k, unsigned alg,
                           struct sso_error *err)
{
    unsigned char sig[SIG_MAX];
    size_t n;
    const char *name = jose_alg_name(alg);
    if (jose_b64url_decode(pt->s, pt->slen, sig, sizeof(sig), &n) != 0)
        return untrusted(err, "signature is not base64url, or too long");
    /* Exact lengths: RSA as long as the modulus, ECDSA raw R || S (a DER
     * signature, 70-72 bytes for P-256, is refused here), EdDSA 64/114. */
    if (n != k->sig_len)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "ID token: signature length %zu, not the %zu of %s with this key", n,
                        k->sig_len, name);
    int ok = evp_verify(k, sig_alg(alg), sig, n, pt->h, pt->hlen + 1 + pt->plen);
    if (ok < 0)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: cannot set up %s verification",
                        name);
    if (!ok)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ID token: the %s signature does not verify",
                        name);
    return PAM_SUCCESS;
}

/* ---- all of it ---- */

int jose_jws_verify(const char *token, size_t len, const struct jose_jwks *keys, unsigned algs,
                    struct jose_jws *out, struct sso_error *err)
{
    struct parts pt;
    const struct jose_key *key = NULL;
    memset(out, 0, sizeof(*out));
    int rc = split(token, len, &pt, err);
    if (rc == PAM_SUCCESS)
        rc = read_header(&pt, algs, &out->alg, out->kid, err);
    if (rc == PAM_SUCCESS)
        rc = select_key(keys, out->alg, out->kid, &key, err);
    ERR_set_mark(); /* a failed verification leaves OpenSSL errors: ours to drop */
    if (rc == PAM_SUCCESS)
        rc = check_signature(&pt, key, out->alg, err);
    ERR_pop_to_mark();
    if (rc == PAM_SUCCESS) {
        size_t cap = JOSE_B64URL_DECODED_MAX(pt.plen);
        if (!(out->payload = malloc(cap)))
            rc = sso_fail(err, PAM_BUF_ERR, "ID token: out of memory");
        else if (jose_b64url_decode(pt.p, pt.plen, out->payload, cap, &out->payload_len) != 0)
            rc = untrusted(err, "payload is not base64url");
    }
    if (rc != PAM_SUCCESS)
        jose_jws_clear(out);
    return rc;
}

void jose_jws_clear(struct jose_jws *jws)
{
    if (jws->payload) {
        sso_cleanse(jws->payload, jws->payload_len);
        free(jws->payload);
    }
    memset(jws, 0, sizeof(*jws));
}
