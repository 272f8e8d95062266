/* jose_jwks.c - a JWKS read into OpenSSL keys, through the OpenSSL 3
 * provider interface (EVP_PKEY_fromdata; no RSA_ or EC_KEY_ calls).
 *
 * A key is skipped when it is not meant for signatures or is of a kind we
 * never verify with; a key meant for signatures must be entirely valid, or
 * the whole set is refused: a bad key among good ones means a broken or
 * hostile provider, and guessing which keys to trust would hide it. */
#include "openid/jose_int.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define RSA_ALGS (JOSE_RS256 | JOSE_RS384 | JOSE_RS512 | JOSE_PS256 | JOSE_PS384 | JOSE_PS512)
#define KEY_OPS_MAX 16
#define E_MAX_BYTES 4 /* exponent below 2^32 */

/* The curves we verify with, by JWK "crv". */
struct curve {
    const char *kty, *crv, *ossl; /* JWK names; OpenSSL's group or key type */
    size_t len;                   /* bytes of x (and y) */
    unsigned algs;
    size_t sig_len;
    int bits;
};

static const struct curve curves[] = {
    {"EC", "P-256", "prime256v1", 32, JOSE_ES256, 64, 256},
    {"EC", "P-384", "secp384r1", 48, JOSE_ES384, 96, 384},
    {"EC", "P-521", "secp521r1", 66, JOSE_ES512, 132, 521},
    {"OKP", "Ed25519", "ED25519", 32, JOSE_EDDSA, 64, 256},
    {"OKP", "Ed448", "ED448", 57, JOSE_EDDSA, 114, 456},
};
#define COORD_MAX 66

/* Members only a private key has. Publishing one hands anyone the power to
 * sign tokens, so such a set is refused rather than used. */
static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth"};

/* What the parse of one entry concluded. */
enum verdict { KEEP, SKIP };

/* "keys[3] (kid abc)" for messages. */
struct who {
    char text[96];
};

static int refuse(struct sso_error *err, const struct who *w, const char *why)
{
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "JWKS %s: %s", w->text, why);
}

/* An optional string member: 0 absent, 1 present (*s set), -1 ill-typed. */
static int opt_string(json_t *o, const char *name, const char **s)
{
    json_t *v = json_object_get(o, name);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return -1;
    *s = json_string_value(v);
    return 1;
}

/* A required base64url member decoded into buf (exactly `exact` bytes
 * unless exact is 0). false when absent, ill-typed, not canonical, or of
 * the wrong length. */
static bool b64_member(json_t *o, const char *name, unsigned char *buf, size_t cap,
                       size_t exact, size_t *n)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v) ||
        jose_b64url_decode(json_string_value(v), json_string_length(v), buf, cap, n) != 0)
        return false;
    return exact == 0 || *n == exact;
}

/* That an EC point is in range, on its curve and not the point at infinity
 * (EVP_PKEY_fromdata checks the curve too). The quick check is the whole
 * check here: every curve we accept (P-256, P-384, P-521) has cofactor 1,
 * so a point on the curve is in the group of prime order, and the full
 * check's extra n*Q = O multiplication (about 0.6 million instructions of
 * a warm login, tests/bench/README.md) cannot fail where the quick one passed.
 * Ed25519 and Ed448 keys have no cheaper or dearer variant. Not used for RSA:
 * there it runs a Miller-Rabin round (120 ms for an 8192-bit modulus, so
 * 4 s for a hostile set of 32), and proves nothing an attacker could use -
 * whoever writes the JWKS can sign tokens anyway. RSA gets the cheap checks
 * of form and size in rsa_material. */
static bool public_ok(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    bool ok = ctx && EVP_PKEY_public_check_quick(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static int rsa_material(json_t *jwk, struct jose_key *k, const struct who *w,
                        struct sso_error *err)
{
    unsigned char n[JOSE_RSA_MAX_BITS / 8], e[E_MAX_BYTES];
    size_t nlen, elen;
    if (!b64_member(jwk, "n", n, sizeof(n), 0, &nlen) || nlen == 0)
        return refuse(err, w, "n is missing, not base64url, or longer than 8192 bits");
    if (!b64_member(jwk, "e", e, sizeof(e), 0, &elen) || elen == 0)
        return refuse(err, w, "e is missing, not base64url, or not below 2^32");
    /* RFC 7518 6.3.1: the fewest octets that hold the value. */
    if (n[0] == 0 || e[0] == 0)
        return refuse(err, w, "n or e has a leading zero octet");
    if (!(n[nlen - 1] & 1))
        return refuse(err, w, "even RSA modulus");
    uint32_t ev = 0;
    for (size_t i = 0; i < elen; i++)
        ev = ev << 8 | e[i];
    if (ev < 3 || !(ev & 1))
        return refuse(err, w, "RSA exponent must be odd and at least 3");

    int rc = PAM_BUF_ERR;
    BIGNUM *bn_n = BN_bin2bn(n, (int)nlen, NULL), *bn_e = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    if (!bn_n || !bn_e || !bld)
        goto out;
    k->bits = BN_num_bits(bn_n);
    if (k->bits < JOSE_RSA_MIN_BITS) {
        char why[64];
        snprintf(why, sizeof(why), "RSA modulus of %d bits, below %d", k->bits,
                 JOSE_RSA_MIN_BITS);
        rc = refuse(err, w, why);
        goto out;
    }
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)))
        goto out;
    k->pkey = from_params("RSA", params);
    if (!k->pkey) {
        rc = refuse(err, w, "not a valid RSA public key");
        goto out;
    }
    k->kty = "RSA", k->crv = "";
    k->sig_len = nlen;
    rc = PAM_SUCCESS;
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return rc == PAM_BUF_ERR ? sso_fail(err, rc, "JWKS: out of memory") : rc;
}

static int curve_material(json_t *jwk, const struct curve *c, struct jose_key *k,
                          const struct who *w, struct sso_error *err)
{
    unsigned char pub[1 + 2 * COORD_MAX];
    size_t n;
    char why[96];
    if (!b64_member(jwk, "x", pub + 1, c->len, c->len, &n)) {
        snprintf(why, sizeof(why), "x is missing, not base64url, or not %zu bytes", c->len);
        return refuse(err, w, why);
    }
    if (strcmp(c->kty, "EC") == 0) {
        if (!b64_member(jwk, "y", pub + 1 + c->len, c->len, c->len, &n)) {
            snprintf(why, sizeof(why), "y is missing, not base64url, or not %zu bytes", c->len);
            return refuse(err, w, why);
        }
        pub[0] = 0x04; /* uncompressed point: 04 || x || y */
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)c->ossl, 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * c->len),
            OSSL_PARAM_construct_end(),
        };
        k->pkey = from_params("EC", params);
    } else {
        k->pkey = EVP_PKEY_new_raw_public_key_ex(NULL, c->ossl, NULL, pub + 1, c->len);
    }
    if (!k->pkey || !public_ok(k->pkey)) {
        snprintf(why, sizeof(why), "not a valid %s public key (a point off the curve?)", c->crv);
        return refuse(err, w, why);
    }
    k->kty = c->kty, k->crv = c->crv;
    k->bits = c->bits;
    k->sig_len = c->sig_len;
    return PAM_SUCCESS;
}

/* The skip rules: "use", "key_ops" and "alg" say whether the key is meant
 * for signatures we verify. Ill-typed members refuse the set. */
static int purpose(json_t *jwk, unsigned *alg_bit, enum verdict *v, const struct who *w,
                   struct sso_error *err)
{
    const char *s = NULL;
    *alg_bit = 0;
    *v = SKIP;
    int r = opt_string(jwk, "use", &s);
    if (r < 0)
        return refuse(err, w, "use is not a string");
    if (r > 0 && strcmp(s, "sig") != 0)
        return PAM_SUCCESS;
    json_t *ops = json_object_get(jwk, "key_ops");
    if (ops) {
        size_t i;
        json_t *op;
        bool verify = false;
        if (!json_is_array(ops) || json_array_size(ops) > KEY_OPS_MAX)
            return refuse(err, w, "key_ops is not an array of at most 16 strings");
        json_array_foreach(ops, i, op)
        {
            if (!json_is_string(op))
                return refuse(err, w, "key_ops holds a non-string");
            verify = verify || strcmp(json_string_value(op), "verify") == 0;
        }
        if (!verify)
            return PAM_SUCCESS;
    }
    r = opt_string(jwk, "alg", &s);
    if (r < 0)
        return refuse(err, w, "alg is not a string");
    if (r > 0 && !(*alg_bit = jose_alg_from_name(s)))
        return PAM_SUCCESS; /* an encryption alg, HS*, none: not for us */
    *v = KEEP;
    return PAM_SUCCESS;
}

/* The curve of an EC or OKP key; NULL when we do not verify with it
 * (secp256k1, X25519, ...). -1 in *bad when crv is missing or ill-typed. */
static const struct curve *find_curve(json_t *jwk, const char *kty, bool *bad)
{
    const char *crv = NULL;
    *bad = opt_string(jwk, "crv", &crv) != 1;
    for (size_t i = 0; !*bad && i < sizeof(curves) / sizeof(curves[0]); i++)
        if (strcmp(curves[i].kty, kty) == 0 && strcmp(curves[i].crv, crv) == 0)
            return &curves[i];
    return NULL;
}

static int parse_key(json_t *jwk, size_t idx, struct jose_key *k, enum verdict *v,
                     struct sso_error *err)
{
    struct who w;
    const char *kty = NULL, *kid = NULL;
    snprintf(w.text, sizeof(w.text), "keys[%zu]", idx);
    memset(k, 0, sizeof(*k));
    *v = SKIP;
    if (!json_is_object(jwk))
        return refuse(err, &w, "not an object");
    if (opt_string(jwk, "kid", &kid) < 0)
        return refuse(err, &w, "kid is not a string");
    if (kid) {
        char shown[72];
        size_t n = strlen(w.text);
        snprintf(w.text + n, sizeof(w.text) - n, " (kid %s)",
                 jose_shown(shown, sizeof(shown), kid, 48));
    }
    if (opt_string(jwk, "kty", &kty) != 1)
        return refuse(err, &w, "kty is missing or not a string");
    unsigned alg_bit;
    int rc = purpose(jwk, &alg_bit, v, &w, err);
    if (rc != PAM_SUCCESS || *v == SKIP)
        return rc;

    const struct curve *c = NULL;
    unsigned type_algs = RSA_ALGS;
    if (strcmp(kty, "EC") == 0 || strcmp(kty, "OKP") == 0) {
        bool bad;
        c = find_curve(jwk, kty, &bad);
        if (bad)
            return refuse(err, &w, "crv is missing or not a string");
        if (!c) {
            *v = SKIP;
            return PAM_SUCCESS;
        }
        type_algs = c->algs;
    } else if (strcmp(kty, "RSA") != 0) {
        *v = SKIP; /* "oct" (an HMAC secret) and types we do not know */
        return PAM_SUCCESS;
    }
    if (alg_bit && !(alg_bit & type_algs))
        return refuse(err, &w, "its alg does not fit its key type or curve");
    if (kid && !jose_kid_ok(kid, json_string_length(json_object_get(jwk, "kid"))))
        return refuse(err, &w, "kid is empty, too long, or not printable ASCII");
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        if (json_object_get(jwk, private_members[i]))
            return refuse(err, &w, "the set publishes private key material");
    rc = c ? curve_material(jwk, c, k, &w, err) : rsa_material(jwk, k, &w, err);
    if (rc != PAM_SUCCESS) {
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
        return rc;
    }
    k->algs = alg_bit ? alg_bit : type_algs;
    k->alg_member = alg_bit != 0;
    k->has_kid = kid != NULL;
    if (kid)
        memcpy(k->kid, kid, strlen(kid) + 1); /* jose_kid_ok bounded it */
    return PAM_SUCCESS;
}

int jose_jwks_parse(const char *body, size_t len, struct jose_jwks **out,
                    struct sso_error *err)
{
    *out = NULL;
    if (len > JOSE_JWKS_MAX)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "JWKS: larger than %d bytes",
                        JOSE_JWKS_MAX);
    json_t *root = jose_json_object(body, len, JOSE_JWKS_MAX, JOSE_JWKS_DEPTH);
    if (!root)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL,
                        "JWKS: not one JSON object (nested at most %d deep, no duplicate "
                        "members)",
                        JOSE_JWKS_DEPTH);
    int rc = PAM_SUCCESS;
    json_t *arr = json_object_get(root, "keys");
    struct jose_jwks *set = NULL;
    if (!json_is_array(arr))
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "JWKS: keys is missing or not an array");
    else if (json_array_size(arr) > JOSE_JWKS_KEYS_MAX)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "JWKS: more than %d keys",
                      JOSE_JWKS_KEYS_MAX);
    else if (!(set = calloc(1, sizeof(*set))))
        rc = sso_fail(err, PAM_BUF_ERR, "JWKS: out of memory");
    ERR_set_mark(); /* OpenSSL's complaints about refused keys are ours to drop */
    for (size_t i = 0; rc == PAM_SUCCESS && i < json_array_size(arr); i++) {
        enum verdict v = SKIP;
        struct jose_key *k = &set->key[set->n];
        rc = parse_key(json_array_get(arr, i), i, k, &v, err);
        if (rc != PAM_SUCCESS || v == SKIP)
            continue;
        set->n++;
        if (k->has_kid && jose_jwks_find(set, k->kid) != k) {
            char shown[72];
            rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "JWKS: two signature keys share kid %s",
                          jose_shown(shown, sizeof(shown), k->kid, 48));
        }
    }
    ERR_pop_to_mark();
    if (rc == PAM_SUCCESS && set->n == 0)
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "JWKS: no usable signature key");
    sso_json_free(root);
    if (rc != PAM_SUCCESS) {
        jose_jwks_free(set);
        return rc;
    }
    *out = set;
    return PAM_SUCCESS;
}

void jose_jwks_free(struct jose_jwks *keys)
{
    if (!keys)
        return;
    for (size_t i = 0; i < keys->n; i++)
        EVP_PKEY_free(keys->key[i].pkey);
    free(keys);
}

size_t jose_jwks_count(const struct jose_jwks *keys)
{
    return keys ? keys->n : 0;
}

bool jose_jwks_key(const struct jose_jwks *keys, size_t i, struct jose_key_info *info)
{
    if (!keys || i >= keys->n)
        return false;
    const struct jose_key *k = &keys->key[i];
    info->kid = k->kid;
    info->kty = k->kty;
    info->crv = k->crv;
    info->algs = k->algs;
    info->bits = k->bits;
    info->pkey = k->pkey;
    return true;
}

const struct jose_key *jose_jwks_find(const struct jose_jwks *keys, const char *kid)
{
    for (size_t i = 0; keys && i < keys->n; i++)
        if (keys->key[i].has_kid && strcmp(keys->key[i].kid, kid) == 0)
            return &keys->key[i];
    return NULL;
}
