/* test_jose.c - ID token verification (jose.h). Every key and token is made
 * here, at test time, with OpenSSL: the right tokens must pass, and each
 * attack or malformation must be refused with the exact code and reason.
 * Keys are generated once in the group setup. */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <security/pam_modules.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "openid/jose.h"

#define ISS "https://idp.example.com/realms/corp"
#define CLIENT "pam-client"
#define NOW 1750000000LL
#define BIG 70000

/* The code must be `want` and the reason must contain `frag`. A macro, so
 * that a failure names the line of the test. */
#define REFUSED(rc_, want_, err_, frag_)                                                   \
    do {                                                                                   \
        int r__ = (rc_);                                                                   \
        if (r__ != (want_) || !strstr((err_).msg, (frag_))) {                              \
            print_error("got %d \"%s\"\nwant %d with \"%s\"\n", r__, (err_).msg, (want_), \
                        (frag_));                                                          \
            fail();                                                                        \
        }                                                                                  \
    } while (0)

#define ACCEPTED(rc_, err_)                                                 \
    do {                                                                    \
        int r__ = (rc_);                                                    \
        if (r__ != PAM_SUCCESS) {                                           \
            print_error("refused (%d): %s\n", r__, (err_).msg);             \
            fail();                                                         \
        }                                                                   \
    } while (0)

struct fx {
    EVP_PKEY *rsa, *rsa_other, *rsa_small, *p256, *p384, *p521, *ed25519, *ed448;
    struct jose_jwks *keys; /* rsa1, ec1, ec384, ec521, ed1, ed448 */
};

/* ------------------------------------------------------------ helpers */

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

static void b64(const void *p, size_t n, char *out, size_t cap)
{
    assert_true(jose_b64url_encode(p, n, out, cap) > 0 || n == 0);
}

/* Set an unused low bit in the last character of s (whose length is 4k+2
 * or 4k+3): still base64url characters, but no longer canonical. */
static void spoil_last(char *s)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(s);
    assert_true(n % 4 == 2 || n % 4 == 3);
    s[n - 1] = alpha[(strchr(alpha, s[n - 1]) - alpha) | 1];
}

/* "\"x\":" then `levels` nested arrays around 1. */
static void nest(char *buf, size_t cap, int levels)
{
    size_t o = (size_t)snprintf(buf, cap, "\"x\":");
    assert_true(o + 2 * (size_t)levels + 2 < cap);
    for (int i = 0; i < levels; i++)
        buf[o++] = '[';
    buf[o++] = '1';
    for (int i = 0; i < levels; i++)
        buf[o++] = ']';
    buf[o] = '\0';
}

static void bn_param_b64(const EVP_PKEY *k, const char *param, size_t pad, char *out, size_t cap)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1100];
    assert_int_equal(EVP_PKEY_get_bn_param(k, param, &bn), 1);
    int n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
    assert_true(n > 0);
    b64(buf, (size_t)n, out, cap);
    BN_free(bn);
}

/* The public JWK of k with kid (NULL: none) and extra members (",..."). */
static char *jwk(const EVP_PKEY *k, const char *kid, const char *extra)
{
    char out[4096], a[1500], b[200], kidm[300] = "";
    if (kid)
        snprintf(kidm, sizeof(kidm), "\"kid\":\"%s\",", kid);
    if (EVP_PKEY_is_a(k, "RSA")) {
        bn_param_b64(k, OSSL_PKEY_PARAM_RSA_N, 0, a, sizeof(a));
        bn_param_b64(k, OSSL_PKEY_PARAM_RSA_E, 0, b, sizeof(b));
        snprintf(out, sizeof(out), "{%s\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}", kidm, a, b,
                 extra ? extra : "");
    } else if (EVP_PKEY_is_a(k, "EC")) {
        char group[32];
        size_t len;
        const char *crv;
        assert_int_equal(EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                        sizeof(group), NULL),
                         1);
        if (strcmp(group, "prime256v1") == 0)
            crv = "P-256", len = 32;
        else if (strcmp(group, "secp384r1") == 0)
            crv = "P-384", len = 48;
        else
            crv = "P-521", len = 66;
        bn_param_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, len, a, sizeof(a));
        bn_param_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, len, b, sizeof(b));
        snprintf(out, sizeof(out), "{%s\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}",
                 kidm, crv, a, b, extra ? extra : "");
    } else {
        unsigned char raw[64];
        size_t len = sizeof(raw);
        assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &len), 1);
        b64(raw, len, a, sizeof(a));
        snprintf(out, sizeof(out), "{%s\"kty\":\"OKP\",\"crv\":\"%s\",\"x\":\"%s\"%s}", kidm,
                 EVP_PKEY_is_a(k, "ED25519") ? "Ed25519" : "Ed448", a, extra ? extra : "");
    }
    return xstrdup(out);
}

/* {"keys":[j1,j2,...]}, taking ownership of the JWK strings. */
static char *jwks_text(int n, ...)
{
    size_t cap = 64;
    va_list ap;
    va_start(ap, n);
    char **parts = calloc((size_t)n, sizeof(char *));
    assert_non_null(parts);
    for (int i = 0; i < n; i++) {
        parts[i] = va_arg(ap, char *);
        cap += strlen(parts[i]) + 1;
    }
    va_end(ap);
    char *out = malloc(cap);
    assert_non_null(out);
    strcpy(out, "{\"keys\":[");
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, parts[i]);
        free(parts[i]);
    }
    strcat(out, "]}");
    free(parts);
    return out;
}

static int parse_jwks(const char *text, struct jose_jwks **keys, struct sso_error *err)
{
    return jose_jwks_parse(text, strlen(text), keys, err);
}

/* Parse a one-key set made of jwk(k, kid, extra); the code. */
static int one_key(const EVP_PKEY *k, const char *kid, const char *extra, struct sso_error *err)
{
    struct jose_jwks *keys = NULL;
    char *t = jwks_text(1, jwk(k, kid, extra));
    int rc = parse_jwks(t, &keys, err);
    assert_true((rc == PAM_SUCCESS) == (keys != NULL));
    jose_jwks_free(keys);
    free(t);
    return rc;
}

enum sign_mode { NORMAL, ES_DER, PSS_SALT_MAX, PSS_MGF1_SHA1 };

static const char *md_of(unsigned alg)
{
    if (alg & (JOSE_RS256 | JOSE_PS256 | JOSE_ES256))
        return "SHA256";
    if (alg & (JOSE_RS384 | JOSE_PS384 | JOSE_ES384))
        return "SHA384";
    if (alg & (JOSE_RS512 | JOSE_PS512 | JOSE_ES512))
        return "SHA512";
    return NULL;
}

/* Sign msg as the JWS alg would; out gets the signature, base64url. */
static void sign(EVP_PKEY *k, unsigned alg, enum sign_mode mode, const char *msg, char *out,
                 size_t cap)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[1200];
    size_t len = sizeof(sig);
    const char *md = md_of(alg);
    assert_int_equal(EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, k, NULL), 1);
    if (alg & (JOSE_PS256 | JOSE_PS384 | JOSE_PS512)) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(
                             pctx, mode == PSS_SALT_MAX ? RSA_PSS_SALTLEN_MAX
                                                        : RSA_PSS_SALTLEN_DIGEST),
                         1);
        assert_int_equal(
            EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mode == PSS_MGF1_SHA1 ? "SHA1" : md, NULL),
            1);
    }
    assert_int_equal(EVP_DigestSign(ctx, sig, &len, (const unsigned char *)msg, strlen(msg)), 1);
    EVP_MD_CTX_free(ctx);
    if ((alg & (JOSE_ES256 | JOSE_ES384 | JOSE_ES512)) && mode != ES_DER) {
        size_t half = alg == JOSE_ES256 ? 32 : alg == JOSE_ES384 ? 48 : 66;
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
        assert_non_null(es);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)half), (int)half);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + half, (int)half), (int)half);
        ECDSA_SIG_free(es);
        len = 2 * half;
    }
    b64(sig, len, out, cap);
}

/* A token over already-encoded header and payload text. */
static char *token_b64(EVP_PKEY *k, unsigned alg, enum sign_mode mode, const char *h64,
                       const char *p64)
{
    size_t n = strlen(h64) + strlen(p64) + 2000;
    char *t = malloc(n);
    assert_non_null(t);
    snprintf(t, n, "%s.%s", h64, p64);
    char sig[1700];
    sign(k, alg, mode, t, sig, sizeof(sig));
    strcat(t, ".");
    strcat(t, sig);
    return t;
}

static char *token(EVP_PKEY *k, unsigned alg, enum sign_mode mode, const char *header,
                   const char *payload)
{
    char *h64 = malloc(strlen(header) * 2 + 4), *p64 = malloc(strlen(payload) * 2 + 4);
    assert_non_null(h64);
    assert_non_null(p64);
    b64(header, strlen(header), h64, strlen(header) * 2 + 4);
    b64(payload, strlen(payload), p64, strlen(payload) * 2 + 4);
    char *t = token_b64(k, alg, mode, h64, p64);
    free(h64);
    free(p64);
    return t;
}

static void header(char *buf, size_t n, unsigned alg, const char *kid)
{
    snprintf(buf, n, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", jose_alg_name(alg), kid);
}

/* The standard claims; a member given replaces the default ("" omits it). */
struct claims {
    const char *iss, *aud, *exp, *iat, *sub, *extra;
};

static void payload(char *buf, size_t n, struct claims c)
{
    char exp[40], iat[40];
    snprintf(exp, sizeof(exp), "\"exp\":%lld", NOW + 600);
    snprintf(iat, sizeof(iat), "\"iat\":%lld", NOW - 5);
    const char *m[] = {
        c.iss ? c.iss : "\"iss\":\"" ISS "\"",
        c.sub ? c.sub : "\"sub\":\"248289761001\"",
        c.aud ? c.aud : "\"aud\":\"" CLIENT "\"",
        c.exp ? c.exp : exp,
        c.iat ? c.iat : iat,
        c.extra ? c.extra : "\"preferred_username\":\"alice\",\"groups\":[\"/admins\",\"/dev\"]",
    };
    size_t o = 0;
    buf[o++] = '{';
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        if (!m[i][0])
            continue;
        o += (size_t)snprintf(buf + o, n - o, "%s%s", o > 1 ? "," : "", m[i]);
        assert_true(o < n);
    }
    snprintf(buf + o, n - o, "}");
}

/* A token of the fixture's key for alg, standard header, given claims. */
static char *std_token(const struct fx *f, unsigned alg, struct claims c)
{
    char h[256], p[4096];
    EVP_PKEY *k = f->rsa;
    const char *kid = "rsa1";
    if (alg == JOSE_ES256)
        k = f->p256, kid = "ec1";
    else if (alg == JOSE_ES384)
        k = f->p384, kid = "ec384";
    else if (alg == JOSE_ES512)
        k = f->p521, kid = "ec521";
    else if (alg == JOSE_EDDSA)
        k = f->ed25519, kid = "ed1";
    header(h, sizeof(h), alg, kid);
    payload(p, sizeof(p), c);
    return token(k, alg, NORMAL, h, p);
}

static int verify_with(const struct jose_jwks *keys, const char *t, unsigned algs, int leeway,
                       struct jose_claims **claims, struct sso_error *err)
{
    struct jose_policy pol = {ISS, CLIENT, algs, leeway, NOW};
    struct jose_claims *c = NULL;
    memset(err, 0, sizeof(*err));
    int rc = jose_verify_id_token(t, strlen(t), keys, &pol, &c, err);
    assert_true((rc == PAM_SUCCESS) == (c != NULL));
    if (claims)
        *claims = c;
    else
        jose_claims_free(c);
    return rc;
}

static int verify(const struct fx *f, const char *t, struct sso_error *err)
{
    return verify_with(f->keys, t, JOSE_ALGS_ALL, JOSE_LEEWAY_DEFAULT, NULL, err);
}

/* Verify a standard token carrying claims c; frees it. */
static int verify_claims(const struct fx *f, struct claims c, struct sso_error *err)
{
    char *t = std_token(f, JOSE_RS256, c);
    int rc = verify(f, t, err);
    free(t);
    return rc;
}

/* ------------------------------------------------------------- fixture */

static int group_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    f->rsa_other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    f->rsa_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    f->p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    f->p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    f->p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    f->ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    f->ed448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    if (!f->rsa || !f->rsa_other || !f->rsa_small || !f->p256 || !f->p384 || !f->p521 ||
        !f->ed25519 || !f->ed448)
        return -1;
    char *t = jwks_text(6, jwk(f->rsa, "rsa1", ",\"use\":\"sig\""), jwk(f->p256, "ec1", NULL),
                        jwk(f->p384, "ec384", NULL), jwk(f->p521, "ec521", NULL),
                        jwk(f->ed25519, "ed1", NULL), jwk(f->ed448, "ed448", NULL));
    struct sso_error err;
    int rc = parse_jwks(t, &f->keys, &err);
    free(t);
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "fixture JWKS refused: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    jose_jwks_free(f->keys);
    EVP_PKEY *all[] = {f->rsa,  f->rsa_other, f->rsa_small, f->p256,
                       f->p384, f->p521,      f->ed25519,   f->ed448};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        EVP_PKEY_free(all[i]);
    free(f);
    return 0;
}

/* ----------------------------------------------------------- base64url */

static void test_b64url_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *plain, *enc;
    } v[] = {{"", ""},           {"f", "Zg"},         {"fo", "Zm8"},         {"foo", "Zm9v"},
             {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char enc[32];
        unsigned char dec[32];
        size_t n = 99;
        size_t pl = strlen(v[i].plain);
        assert_int_equal(jose_b64url_encode((const unsigned char *)v[i].plain, pl, enc,
                                            sizeof(enc)),
                         strlen(v[i].enc));
        assert_string_equal(enc, v[i].enc);
        assert_int_equal(jose_b64url_decode(v[i].enc, strlen(v[i].enc), dec, sizeof(dec), &n), 0);
        assert_int_equal(n, pl);
        assert_memory_equal(dec, v[i].plain, pl);
    }
}

static void test_b64url_strict(void **state)
{
    (void)state;
    /* padding, the standard alphabet, whitespace, a lone character, and
     * non-zero unused bits ("Zh" and "Zm9" would also decode to "f", "fo") */
    static const char *bad[] = {"Zg==", "Zg=", "Zm+v", "Zm/v", "Zm9v\n", " Zm9v",
                                "Z",    "Zm9vY", "Zh",  "Zm9", "Zm9vYh", "Zm\x00v"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char dec[32];
        size_t n = 99, len = i == 11 ? 4 : strlen(bad[i]);
        if (jose_b64url_decode(bad[i], len, dec, sizeof(dec), &n) != -1) {
            print_error("accepted \"%s\"\n", bad[i]);
            fail();
        }
        assert_int_equal(n, 0);
    }
    unsigned char small[2];
    size_t n;
    assert_int_equal(jose_b64url_decode("Zm9v", 4, small, sizeof(small), &n), -1);
    char enc[4];
    assert_int_equal(jose_b64url_encode((const unsigned char *)"foo", 3, enc, sizeof(enc)), 0);
    assert_string_equal(enc, "");
}

/* -------------------------------------------------------- algorithm list */

static void test_alg_list(void **state)
{
    (void)state;
    unsigned mask = 0;
    struct sso_error err;
    assert_int_equal(jose_alg_list("RS256,PS256,ES256", &mask, &err), PAM_SUCCESS);
    assert_int_equal(mask, JOSE_ALGS_DEFAULT);
    assert_int_equal(jose_alg_list("EdDSA,ES512", &mask, &err), PAM_SUCCESS);
    assert_int_equal(mask, JOSE_EDDSA | JOSE_ES512);
    REFUSED(jose_alg_list("RS256,none", &mask, &err), PAM_SERVICE_ERR, err, "never allowed");
    assert_int_equal(mask, 0);
    REFUSED(jose_alg_list("HS256", &mask, &err), PAM_SERVICE_ERR, err, "never allowed");
    REFUSED(jose_alg_list("RS256,,ES256", &mask, &err), PAM_SERVICE_ERR, err, "empty entry");
    REFUSED(jose_alg_list("", &mask, &err), PAM_SERVICE_ERR, err, "empty");
    REFUSED(jose_alg_list("RS256 ", &mask, &err), PAM_SERVICE_ERR, err, "unknown algorithm");
    REFUSED(jose_alg_list("rs256", &mask, &err), PAM_SERVICE_ERR, err, "unknown algorithm");
    REFUSED(jose_alg_list("RS256,ES256K", &mask, &err), PAM_SERVICE_ERR, err, "unknown");
    assert_int_equal(jose_alg_from_name("none"), 0);
    assert_int_equal(jose_alg_from_name("HS256"), 0);
    assert_null(jose_alg_name(JOSE_RS256 | JOSE_ES256));
}

/* --------------------------------------------------------------- accepted */

static void test_accepts_every_algorithm(void **state)
{
    const struct fx *f = *state;
    static const unsigned algs[] = {JOSE_RS256, JOSE_RS384, JOSE_RS512, JOSE_PS256, JOSE_PS384,
                                    JOSE_PS512, JOSE_ES256, JOSE_ES384, JOSE_ES512, JOSE_EDDSA};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        struct sso_error err;
        struct jose_claims *c = NULL;
        char *t = std_token(f, algs[i], (struct claims){0});
        int rc = verify_with(f->keys, t, algs[i], JOSE_LEEWAY_DEFAULT, &c, &err);
        if (rc != PAM_SUCCESS) {
            print_error("%s refused: %s\n", jose_alg_name(algs[i]), err.msg);
            fail();
        }
        assert_string_equal(jose_claims_alg(c), jose_alg_name(algs[i]));
        jose_claims_free(c);
        free(t);
    }
    /* Ed448 under EdDSA too */
    char h[128], p[1024];
    struct sso_error err;
    header(h, sizeof(h), JOSE_EDDSA, "ed448");
    payload(p, sizeof(p), (struct claims){0});
    char *t = token(f->ed448, JOSE_EDDSA, NORMAL, h, p);
    ACCEPTED(verify(f, t, &err), err);
    free(t);
}

static void test_default_allow_list(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    static const unsigned ok[] = {JOSE_RS256, JOSE_PS256, JOSE_ES256};
    static const unsigned off[] = {JOSE_RS384, JOSE_RS512, JOSE_PS512, JOSE_ES384, JOSE_EDDSA};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *t = std_token(f, ok[i], (struct claims){0});
        ACCEPTED(verify_with(f->keys, t, JOSE_ALGS_DEFAULT, 60, NULL, &err), err);
        free(t);
    }
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        char *t = std_token(f, off[i], (struct claims){0});
        REFUSED(verify_with(f->keys, t, JOSE_ALGS_DEFAULT, 60, NULL, &err), PAM_AUTHINFO_UNAVAIL,
                err, "is not in the allow-list");
        free(t);
    }
    /* ES256 token, allow-list RS256 only */
    char *t = std_token(f, JOSE_ES256, (struct claims){0});
    REFUSED(verify_with(f->keys, t, JOSE_RS256, 60, NULL, &err), PAM_AUTHINFO_UNAVAIL, err,
            "alg ES256 is not in the allow-list");
    free(t);
}

static void test_claims_accessors(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    struct jose_claims *c = NULL;
    char *t = std_token(f, JOSE_ES256,
                        (struct claims){.extra = "\"preferred_username\":\"alice\","
                                                 "\"groups\":[\"/admins\",\"/dev\"],"
                                                 "\"roles\":\"ops\",\"email_verified\":true,"
                                                 "\"mixed\":[\"/admins\",7],\"obj\":{},"
                                                 "\"ctl\":\"a\\u001bb\",\"nul\":null,"
                                                 "\"long\":\"0123456789\""});
    ACCEPTED(verify_with(f->keys, t, JOSE_ALGS_DEFAULT, 60, &c, &err), err);
    free(t);
    assert_string_equal(jose_claims_kid(c), "ec1");
    assert_string_equal(jose_claims_alg(c), "ES256");
    assert_true(json_is_object(jose_claims_json(c)));

    char s[10];
    assert_int_equal(jose_claim_string(c, "preferred_username", s, sizeof(s), &err), PAM_SUCCESS);
    assert_string_equal(s, "alice");
    REFUSED(jose_claim_string(c, "email_verified", s, sizeof(s), &err), PAM_AUTHINFO_UNAVAIL, err,
            "claim email_verified is not a string");
    assert_string_equal(s, "");
    REFUSED(jose_claim_string(c, "email", s, sizeof(s), &err), PAM_AUTHINFO_UNAVAIL, err,
            "no claim email");
    REFUSED(jose_claim_string(c, "nul", s, sizeof(s), &err), PAM_AUTHINFO_UNAVAIL, err,
            "no claim nul");
    REFUSED(jose_claim_string(c, "ctl", s, sizeof(s), &err), PAM_AUTHINFO_UNAVAIL, err,
            "control characters");
    REFUSED(jose_claim_string(c, "long", s, sizeof(s), &err), PAM_AUTHINFO_UNAVAIL, err,
            "longer than 9 bytes");
    char s11[11];
    assert_int_equal(jose_claim_string(c, "long", s11, sizeof(s11), &err), PAM_SUCCESS);

    bool m = true;
    assert_int_equal(jose_claim_has_group(c, "groups", "/admins", &m, &err), PAM_SUCCESS);
    assert_true(m);
    assert_int_equal(jose_claim_has_group(c, "groups", "/Admins", &m, &err), PAM_SUCCESS);
    assert_false(m); /* byte for byte */
    assert_int_equal(jose_claim_has_group(c, "groups", "/admin", &m, &err), PAM_SUCCESS);
    assert_false(m);
    assert_int_equal(jose_claim_has_group(c, "roles", "ops", &m, &err), PAM_SUCCESS);
    assert_true(m); /* a single string is one group */
    assert_int_equal(jose_claim_has_group(c, "absent", "ops", &m, &err), PAM_SUCCESS);
    assert_false(m);
    m = true;
    REFUSED(jose_claim_has_group(c, "mixed", "/admins", &m, &err), PAM_AUTHINFO_UNAVAIL, err,
            "holds a non-string");
    assert_false(m);
    REFUSED(jose_claim_has_group(c, "obj", "x", &m, &err), PAM_AUTHINFO_UNAVAIL, err,
            "not a string or an array");
    REFUSED(jose_claim_has_group(c, "groups", "", &m, &err), PAM_SERVICE_ERR, err, "no claim");
    jose_claims_free(c);
}

static void test_groups_overage(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    struct jose_claims *c = NULL;
    char *t = std_token(f, JOSE_RS256,
                        (struct claims){.extra = "\"_claim_names\":{\"groups\":\"src1\"},"
                                                 "\"_claim_sources\":{\"src1\":{\"endpoint\":"
                                                 "\"https://graph.microsoft.com/v1.0/x\"}}"});
    ACCEPTED(verify_with(f->keys, t, JOSE_ALGS_DEFAULT, 60, &c, &err), err);
    free(t);
    bool m = true;
    REFUSED(jose_claim_has_group(c, "groups", "g", &m, &err), PAM_AUTHINFO_UNAVAIL, err,
            "no groups claim: Entra ID left it out");
    assert_non_null(strstr(err.msg, "group overage"));
    assert_false(m);
    jose_claims_free(c);
}

/* The names of the claims present, for a refusal that says the groups claim
 * is missing: names only, in token order, allow-listed, cut and counted. */
static void test_claim_names(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    struct jose_claims *c = NULL;
    char *t = std_token(f, JOSE_ES256,
                        (struct claims){.extra = "\"preferred_username\":\"alice\","
                                                 "\"email\":\"alice@example.com\","
                                                 "\"cognito:groups\":[],\"a b\\u001b\":1,"
                                                 "\"x_123456789012345678901234567\":2"});
    ACCEPTED(verify_with(f->keys, t, JOSE_ALGS_DEFAULT, 60, &c, &err), err);
    free(t);
    char buf[256];
    assert_int_equal(jose_claim_names(c, buf, sizeof(buf)), 10);
    assert_string_equal(buf, "iss, sub, aud, exp, iat, preferred_username, email, "
                             "cognito:groups, a?b?, x_1234567890123456789012~");
    assert_null(strstr(buf, "alice"));
    /* a buffer too small for all: the rest counted, never overrun */
    char small[48];
    memset(small, 'z', sizeof(small));
    assert_int_equal(jose_claim_names(c, small, sizeof(small)), 3);
    assert_string_equal(small, "iss, sub, aud (+7 more)");
    char tiny[8];
    assert_int_equal(jose_claim_names(c, tiny, sizeof(tiny)), 0);
    assert_string_equal(tiny, "");
    assert_int_equal(jose_claim_names(NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    jose_claims_free(c);

    /* more than JOSE_NAMES_SHOWN claims: sixteen shown, the rest counted */
    char extra[512];
    size_t o = (size_t)snprintf(extra, sizeof(extra), "\"preferred_username\":\"alice\"");
    for (int i = 0; i < 20; i++)
        o += (size_t)snprintf(extra + o, sizeof(extra) - o, ",\"c%d\":%d", i, i);
    assert_true(o < sizeof(extra));
    t = std_token(f, JOSE_ES256, (struct claims){.extra = extra});
    ACCEPTED(verify_with(f->keys, t, JOSE_ALGS_DEFAULT, 60, &c, &err), err);
    free(t);
    assert_int_equal(jose_claim_names(c, buf, sizeof(buf)), JOSE_NAMES_SHOWN);
    assert_string_equal(buf, "iss, sub, aud, exp, iat, preferred_username, c0, c1, c2, c3, c4, "
                             "c5, c6, c7, c8, c9 (+10 more)");
    jose_claims_free(c);
}

/* ---------------------------------------------------- alg none and HMAC */

static char *unsigned_token(const char *header_json, const char *sig64)
{
    char p[1024], h64[512], p64[2048], *t = malloc(4096);
    assert_non_null(t);
    snprintf(p, sizeof(p), "{\"iss\":\"%s\",\"sub\":\"1\",\"aud\":\"%s\",\"exp\":%lld,\"iat\":%lld}",
             ISS, CLIENT, NOW + 600, NOW);
    b64(header_json, strlen(header_json), h64, sizeof(h64));
    b64(p, strlen(p), p64, sizeof(p64));
    snprintf(t, 4096, "%s.%s.%s", h64, p64, sig64);
    return t;
}

static void test_alg_none_refused(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    static const char *const headers[] = {"{\"alg\":\"none\"}", "{\"alg\":\"none\",\"kid\":\"rsa1\"}",
                                          "{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        for (int sig = 0; sig < 2; sig++) {
            char *t = unsigned_token(headers[i], sig ? "c2ln" : "");
            REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "alg none");
            free(t);
        }
    }
    char *t = unsigned_token("{\"kid\":\"rsa1\"}", "");
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "header alg is missing");
    free(t);
    t = unsigned_token("{\"alg\":[\"RS256\"],\"kid\":\"rsa1\"}", "");
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "header alg is missing or not a string");
    free(t);
}

/* The classic key-confusion attack: MAC the token with the RSA public key,
 * in every encoding a confused verifier might use as the HMAC secret. */
static void test_hs256_with_public_key_refused(void **state)
{
    const struct fx *f = *state;
    unsigned char *forms[4] = {NULL};
    size_t lens[4] = {0};
    BIO *bio = BIO_new(BIO_s_mem());
    BUF_MEM *mem;
    assert_int_equal(PEM_write_bio_PUBKEY(bio, f->rsa), 1); /* SPKI PEM */
    BIO_get_mem_ptr(bio, &mem);
    forms[0] = OPENSSL_malloc(mem->length);
    assert_non_null(forms[0]);
    memcpy(forms[0], mem->data, mem->length);
    lens[0] = mem->length;
    BIO_free(bio);
    int n = i2d_PUBKEY(f->rsa, &forms[1]); /* SPKI DER */
    assert_true(n > 0);
    lens[1] = (size_t)n;
    static const char *const enc[][2] = {{"PEM", "type-specific"}, {"DER", "type-specific"}};
    for (int i = 0; i < 2; i++) { /* PKCS#1 RSAPublicKey, PEM and DER */
        OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(f->rsa, EVP_PKEY_PUBLIC_KEY,
                                                               enc[i][0], enc[i][1], NULL);
        assert_non_null(ectx);
        assert_int_equal(OSSL_ENCODER_to_data(ectx, &forms[2 + i], &lens[2 + i]), 1);
        OSSL_ENCODER_CTX_free(ectx);
    }
    assert_non_null(strstr((char *)forms[2], "BEGIN RSA PUBLIC KEY"));

    static const char *const algs[] = {"HS256", "HS384", "HS512"};
    for (size_t a = 0; a < 3; a++) {
        for (int i = 0; i < 4; i++) {
            char h[128], p[512], h64[256], p64[1024], sig64[128], t[2048];
            unsigned char mac[64];
            unsigned int maclen = 0;
            snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}", algs[a]);
            payload(p, sizeof(p), (struct claims){0});
            b64(h, strlen(h), h64, sizeof(h64));
            b64(p, strlen(p), p64, sizeof(p64));
            snprintf(t, sizeof(t), "%s.%s", h64, p64);
            const EVP_MD *md = a == 0 ? EVP_sha256() : a == 1 ? EVP_sha384() : EVP_sha512();
            assert_non_null(HMAC(md, forms[i], (int)lens[i], (unsigned char *)t, strlen(t), mac,
                                 &maclen));
            b64(mac, maclen, sig64, sizeof(sig64));
            strcat(t, ".");
            strcat(t, sig64);
            struct sso_error err;
            /* even with every algorithm we know allowed */
            REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err,
                    "HMAC algorithms are never allowed");
            assert_non_null(strstr(err.msg, algs[a]));
        }
    }
    for (int i = 0; i < 4; i++)
        OPENSSL_free(forms[i]);
}

static void test_unsupported_alg_refused(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    static const char *const names[] = {"RS1", "ES256K", "rs256", "PS256 ", "RSA-OAEP", "Ed25519"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char h[128];
        snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"rsa1\"}", names[i]);
        char *t = unsigned_token(h, "c2ln");
        REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "is not supported");
        free(t);
    }
}

/* ------------------------------------------------------------ key choice */

static void test_unknown_kid(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char h[128], p[1024];
    header(h, sizeof(h), JOSE_RS256, "rotated-2");
    payload(p, sizeof(p), (struct claims){0});
    char *t = token(f->rsa, JOSE_RS256, NORMAL, h, p);
    REFUSED(verify(f, t, &err), SSO_UNKNOWN_KID, err, "no key with kid rotated-2");
    assert_int_not_equal(SSO_UNKNOWN_KID, PAM_AUTHINFO_UNAVAIL);
    assert_int_not_equal(SSO_UNKNOWN_KID, PAM_SUCCESS);
    free(t);
}

static void test_kid_rules(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char p[1024];
    payload(p, sizeof(p), (struct claims){0});
    /* no kid, several keys: refused (choosing would be a guess) */
    char *t = token(f->rsa, JOSE_RS256, NORMAL, "{\"alg\":\"RS256\"}", p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "no kid and the JWKS holds 6 keys");
    /* no kid, one key: that key */
    struct jose_jwks *one = NULL;
    char *text = jwks_text(1, jwk(f->rsa, NULL, NULL));
    assert_int_equal(parse_jwks(text, &one, &err), PAM_SUCCESS);
    free(text);
    ACCEPTED(verify_with(one, t, JOSE_ALGS_DEFAULT, 60, NULL, &err), err);
    free(t);
    /* a kid in the token never matches a key without one */
    char h[128];
    header(h, sizeof(h), JOSE_RS256, "rsa1");
    t = token(f->rsa, JOSE_RS256, NORMAL, h, p);
    REFUSED(verify_with(one, t, JOSE_ALGS_DEFAULT, 60, NULL, &err), SSO_UNKNOWN_KID, err,
            "no key with kid rsa1");
    free(t);
    jose_jwks_free(one);
    /* kid syntax */
    static const char *const bad[] = {"{\"alg\":\"RS256\",\"kid\":\"\"}",
                                      "{\"alg\":\"RS256\",\"kid\":\"a b\"}",
                                      "{\"alg\":\"RS256\",\"kid\":7}",
                                      "{\"alg\":\"RS256\",\"kid\":\"caf\\u00e9\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = token(f->rsa, JOSE_RS256, NORMAL, bad[i], p);
        REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "header kid is not");
        free(t);
    }
    char longkid[300];
    memset(longkid, 'k', 257);
    longkid[257] = '\0';
    char hl[400];
    snprintf(hl, sizeof(hl), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", longkid);
    t = token(f->rsa, JOSE_RS256, NORMAL, hl, p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "header kid is not");
    free(t);
}

/* A key whose type or curve does not fit the alg, though the kid matches
 * and the token was signed with a key of the right type. */
static void test_key_type_must_fit_alg(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char h[128], p[1024];
    payload(p, sizeof(p), (struct claims){0});
    static const struct {
        unsigned alg;
        const char *kid, *want;
    } cases[] = {
        {JOSE_RS256, "ec1", "alg RS256 does not fit key ec1 (EC P-256)"},
        {JOSE_PS256, "ed1", "alg PS256 does not fit key ed1 (OKP Ed25519)"},
        {JOSE_ES256, "rsa1", "alg ES256 does not fit key rsa1 (RSA)"},
        {JOSE_ES256, "ec384", "alg ES256 does not fit key ec384 (EC P-384)"},
        {JOSE_ES384, "ec1", "alg ES384 does not fit key ec1 (EC P-256)"},
        {JOSE_ES256, "ed1", "alg ES256 does not fit key ed1 (OKP Ed25519)"},
        {JOSE_EDDSA, "ec1", "alg EdDSA does not fit key ec1 (EC P-256)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_PKEY *k = cases[i].alg == JOSE_ES256   ? f->p256
                      : cases[i].alg == JOSE_ES384 ? f->p384
                      : cases[i].alg == JOSE_EDDSA ? f->ed25519
                                                   : f->rsa;
        header(h, sizeof(h), cases[i].alg, cases[i].kid);
        char *t = token(k, cases[i].alg, NORMAL, h, p);
        REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, cases[i].want);
        free(t);
    }
    /* the key's own alg narrows it */
    struct jose_jwks *keys = NULL;
    char *text = jwks_text(1, jwk(f->rsa, "r", ",\"alg\":\"RS512\""));
    assert_int_equal(parse_jwks(text, &keys, &err), PAM_SUCCESS);
    free(text);
    header(h, sizeof(h), JOSE_RS256, "r");
    char *t = token(f->rsa, JOSE_RS256, NORMAL, h, p);
    REFUSED(verify_with(keys, t, JOSE_ALGS_ALL, 60, NULL, &err), PAM_AUTHINFO_UNAVAIL, err,
            "alg RS256 does not fit key r (RSA, alg RS512)");
    free(t);
    header(h, sizeof(h), JOSE_RS512, "r");
    t = token(f->rsa, JOSE_RS512, NORMAL, h, p);
    ACCEPTED(verify_with(keys, t, JOSE_ALGS_ALL, 60, NULL, &err), err);
    free(t);
    jose_jwks_free(keys);
}

/* A key embedded in the header (jwk, jku, x5c) is never used. */
static void test_header_keys_ignored(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char p[1024], h[4096];
    char *attacker = jwk(f->rsa_other, "rsa1", NULL);
    payload(p, sizeof(p), (struct claims){0});
    snprintf(h, sizeof(h),
             "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"jwk\":%s,\"jku\":\"https://evil/jwks\"}",
             attacker);
    char *t = token(f->rsa_other, JOSE_RS256, NORMAL, h, p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "the RS256 signature does not verify");
    free(t);
    free(attacker);
}

/* --------------------------------------------------------------- signature */

static void test_ecdsa_der_signature_refused(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char h[128], p[1024];
    header(h, sizeof(h), JOSE_ES256, "ec1");
    payload(p, sizeof(p), (struct claims){0});
    char *t = token(f->p256, JOSE_ES256, ES_DER, h, p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "not the 64 of ES256");
    free(t);
    header(h, sizeof(h), JOSE_ES384, "ec384");
    t = token(f->p384, JOSE_ES384, ES_DER, h, p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "not the 96 of ES384");
    free(t);
}

static void test_pss_parameters(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char h[128], p[1024];
    header(h, sizeof(h), JOSE_PS256, "rsa1");
    payload(p, sizeof(p), (struct claims){0});
    char *t = token(f->rsa, JOSE_PS256, PSS_SALT_MAX, h, p); /* salt 222 bytes, not 32 */
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "the PS256 signature does not verify");
    free(t);
    t = token(f->rsa, JOSE_PS256, PSS_MGF1_SHA1, h, p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "the PS256 signature does not verify");
    free(t);
    /* PKCS#1 v1.5 signature presented as PS256 and the reverse */
    t = token(f->rsa, JOSE_RS256, NORMAL, h, p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "the PS256 signature does not verify");
    free(t);
    header(h, sizeof(h), JOSE_RS256, "rsa1");
    t = token(f->rsa, JOSE_PS256, NORMAL, h, p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "the RS256 signature does not verify");
    free(t);
}

/* Change one base64url character of part `part` (0..2) at offset `at`. */
static void flip(char *t, int part, size_t at)
{
    char *s = t;
    for (int i = 0; i < part; i++)
        s = strchr(s, '.') + 1;
    s[at] = s[at] == 'A' ? 'B' : 'A';
}

static void test_tampering_refused(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    static const unsigned algs[] = {JOSE_RS256, JOSE_PS256, JOSE_ES256, JOSE_EDDSA};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        for (int part = 0; part < 3; part++) {
            char *t = std_token(f, algs[i], (struct claims){0});
            flip(t, part, 4); /* whole groups: still canonical base64url */
            int rc = verify(f, t, &err);
            /* a changed header may no longer be JSON: either refusal is right */
            if (part == 0 && strstr(err.msg, "header"))
                assert_int_equal(rc, PAM_AUTHINFO_UNAVAIL);
            else
                REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, "signature does not verify");
            free(t);
        }
    }
    /* A readable change: the payload swapped for one naming another user,
     * the header's typ changed; the signature kept. */
    char *good = std_token(f, JOSE_RS256, (struct claims){0});
    char p[1024], p64[2048], h64[256], t[4096];
    payload(p, sizeof(p), (struct claims){.extra = "\"preferred_username\":\"root\""});
    b64(p, strlen(p), p64, sizeof(p64));
    const char *d1 = strchr(good, '.'), *d2 = strchr(d1 + 1, '.');
    snprintf(t, sizeof(t), "%.*s.%s%s", (int)(d1 - good), good, p64, d2);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "the RS256 signature does not verify");
    const char *h = "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"jwt\"}";
    b64(h, strlen(h), h64, sizeof(h64));
    snprintf(t, sizeof(t), "%s%s", h64, d1);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "the RS256 signature does not verify");
    /* signed by another key under our kid */
    char hh[128];
    header(hh, sizeof(hh), JOSE_RS256, "rsa1");
    char *forged = token(f->rsa_other, JOSE_RS256, NORMAL, hh, p);
    REFUSED(verify(f, forged, &err), PAM_AUTHINFO_UNAVAIL, err, "signature does not verify");
    free(forged);
    /* a signature one byte short (a leading zero dropped) */
    snprintf(t, sizeof(t), "%s", good);
    char *s = strrchr(t, '.') + 1;
    unsigned char sig[300];
    size_t n;
    assert_int_equal(jose_b64url_decode(s, strlen(s), sig, sizeof(sig), &n), 0);
    assert_int_equal(n, 256);
    b64(sig + 1, 255, s, 400);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "signature length 255, not the 256");
    free(good);
}

/* Claims are read only after the signature: an expired, wrongly addressed
 * token with a bad signature is refused for its signature. */
static void test_signature_before_claims(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char h[128], p[512];
    header(h, sizeof(h), JOSE_RS256, "rsa1");
    snprintf(p, sizeof(p), "{\"iss\":\"https://evil\",\"aud\":\"x\",\"exp\":1,\"iat\":1}");
    char *t = token(f->rsa_other, JOSE_RS256, NORMAL, h, p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "signature does not verify");
    free(t);
    t = token(f->rsa_other, JOSE_RS256, NORMAL, h, "not json at all");
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "signature does not verify");
    free(t);
}

/* ---------------------------------------------------------------- shape */

static void test_token_shape(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char *good = std_token(f, JOSE_RS256, (struct claims){0});
    size_t n = strlen(good);
    char *t = malloc(n + 64);
    assert_non_null(t);
    snprintf(t, n + 64, "%s.", good);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "4 parts, not 3");
    snprintf(t, n + 64, "%s.AAAA.BBBB", good); /* five parts: a JWE */
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "5 parts, not 3");
    snprintf(t, n + 64, "%.*s", (int)(strrchr(good, '.') - good), good);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "2 parts, not 3");
    snprintf(t, n + 64, "%s", strchr(good, '.'));
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "an empty header or payload");
    REFUSED(verify(f, "", &err), PAM_AUTHINFO_UNAVAIL, err, "empty or longer than");
    /* characters outside base64url anywhere */
    static const char *const bad[] = {"=", "+", "/", " ", "\n", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (int part = 0; part < 3; part++) {
            char *at = good;
            for (int k = 0; k < part; k++)
                at = strchr(at, '.') + 1;
            snprintf(t, n + 64, "%.*s%s%s", (int)(at - good + 2), good, bad[i], at + 2);
            REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "outside base64url");
        }
    }
    /* a NUL inside the length given */
    snprintf(t, n + 64, "%s", good);
    t[5] = '\0';
    struct jose_policy pol = {ISS, CLIENT, JOSE_ALGS_ALL, 60, NOW};
    struct jose_claims *c = NULL;
    REFUSED(jose_verify_id_token(t, n, f->keys, &pol, &c, &err), PAM_AUTHINFO_UNAVAIL, err,
            "outside base64url");
    assert_null(c);
    free(t);
    free(good);
    /* too long */
    char *huge = malloc(JOSE_TOKEN_MAX + 2);
    assert_non_null(huge);
    memset(huge, 'A', JOSE_TOKEN_MAX + 1);
    huge[10] = huge[20] = '.';
    huge[JOSE_TOKEN_MAX + 1] = '\0';
    REFUSED(verify(f, huge, &err), PAM_AUTHINFO_UNAVAIL, err, "longer than 32768 bytes");
    free(huge);
}

static void test_bad_base64url_parts(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char h[128], p[1024], h64[256], p64[2048];
    header(h, sizeof(h), JOSE_RS256, "rsa1");
    payload(p, sizeof(p), (struct claims){0});
    while (strlen(h) % 3 == 0) /* a partial last group, so unused bits exist */
        strcat(h, " ");
    while (strlen(p) % 3 == 0)
        strcat(p, " ");
    b64(h, strlen(h), h64, sizeof(h64));
    b64(p, strlen(p), p64, sizeof(p64));
    char *t = token_b64(f->rsa, JOSE_RS256, NORMAL, h64, p64);
    ACCEPTED(verify(f, t, &err), err); /* the unspoilt token, with its trailing spaces */
    free(t);
    char bad[2048];
    /* header: unused bits set; then 4k+1 characters */
    snprintf(bad, sizeof(bad), "%s", h64);
    spoil_last(bad);
    t = token_b64(f->rsa, JOSE_RS256, NORMAL, bad, p64);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "header is not base64url");
    free(t);
    snprintf(bad, sizeof(bad), "%s", h64);
    while (strlen(bad) % 4 != 1)
        strcat(bad, "A");
    t = token_b64(f->rsa, JOSE_RS256, NORMAL, bad, p64);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "header is not base64url");
    free(t);
    /* payload: not canonical, yet correctly signed (the signature covers
     * the text, so this is the decoder's refusal) */
    snprintf(bad, sizeof(bad), "%s", p64);
    spoil_last(bad);
    t = token_b64(f->rsa, JOSE_RS256, NORMAL, h64, bad);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "payload is not base64url");
    free(t);
    /* signature: 4k+1 characters; unused bits set (256 bytes are 342
     * characters, 4k+2) */
    t = token_b64(f->rsa, JOSE_RS256, NORMAL, h64, p64);
    while (strlen(strrchr(t, '.') + 1) % 4 != 1)
        strcat(t, "A");
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "signature is not base64url");
    free(t);
    t = token_b64(f->rsa, JOSE_RS256, NORMAL, h64, p64);
    spoil_last(strrchr(t, '.') + 1);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "signature is not base64url");
    free(t);
}

/* ---------------------------------------------------------------- header */

static void test_header_rules(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char p[1024];
    payload(p, sizeof(p), (struct claims){0});
    static const struct {
        const char *header, *want; /* want NULL: accepted */
    } cases[] = {
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"]}", "crit names extensions"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"b64\"],\"b64\":false}", "crit names"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":\"exp\"}", "crit is not an array"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[]}", NULL},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}", "header typ is not JWT"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"logout+jwt\"}", "header typ is not JWT"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":1}", "header typ is not JWT"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"jwt\"}", NULL},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"application/jwt\"}", NULL},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"cty\":\"JWT\"}", "cty"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"zip\":\"DEF\"}", "zip"},
        {"{\"alg\":\"RS256\",\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "header is not one JSON object"},
        {"{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "header is not one JSON object"},
        {"[\"RS256\"]", "header is not one JSON object"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"x\":[[[[1]]]]}", "header is not one JSON object"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\"} ", NULL},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\"}x", "header is not one JSON object"},
        {"\xef\xbb\xbf{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "header is not one JSON object"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = token(f->rsa, JOSE_RS256, NORMAL, cases[i].header, p);
        int rc = verify(f, t, &err);
        if (cases[i].want)
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, cases[i].want);
        else
            ACCEPTED(rc, err);
        free(t);
    }
    /* a header larger than 2 KiB */
    char big[3000];
    snprintf(big, sizeof(big), "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"x\":\"%02100d\"}", 0);
    char *t = token(f->rsa, JOSE_RS256, NORMAL, big, p);
    REFUSED(verify(f, t, &err), PAM_AUTHINFO_UNAVAIL, err, "at most 2048 bytes");
    free(t);
}

/* ---------------------------------------------------------------- claims */

static void test_iss(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    REFUSED(verify_claims(f, (struct claims){.iss = "\"iss\":\"https://evil.example.com\""}, &err),
            PAM_AUTHINFO_UNAVAIL, err, "iss https://evil.example.com is not the issuer");
    REFUSED(verify_claims(f, (struct claims){.iss = "\"iss\":\"" ISS "/\""}, &err),
            PAM_AUTHINFO_UNAVAIL, err, "is not the issuer");
    REFUSED(verify_claims(f, (struct claims){.iss = "\"iss\":\"HTTPS://idp.example.com/realms/corp\""},
                          &err),
            PAM_AUTHINFO_UNAVAIL, err, "is not the issuer");
    REFUSED(verify_claims(f, (struct claims){.iss = ""}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "iss is missing");
    REFUSED(verify_claims(f, (struct claims){.iss = "\"iss\":[\"" ISS "\"]"}, &err),
            PAM_AUTHINFO_UNAVAIL, err, "iss is missing or not a string");
    /* the reason shows a hostile iss made safe */
    REFUSED(verify_claims(f, (struct claims){.iss = "\"iss\":\"\\u001b]0;t\\u0007x\""}, &err),
            PAM_AUTHINFO_UNAVAIL, err, "iss x is not the issuer");
}

static void test_aud_azp(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    static const struct {
        const char *aud, *extra, *want;
    } cases[] = {
        {"\"aud\":\"other\"", NULL, "aud does not contain the client_id"},
        {"\"aud\":\"PAM-CLIENT\"", NULL, "aud does not contain the client_id"},
        {"\"aud\":[\"a\",\"b\"]", "\"azp\":\"" CLIENT "\"", "aud does not contain the client_id"},
        {"\"aud\":[\"" CLIENT "\",\"other\"]", NULL, "several audiences and no azp"},
        {"\"aud\":[\"" CLIENT "\",\"" CLIENT "\"]", NULL, "several audiences and no azp"},
        {"\"aud\":[\"" CLIENT "\",\"other\"]", "\"azp\":\"other\"", "azp is not the client_id"},
        {"\"aud\":\"" CLIENT "\"", "\"azp\":\"other\"", "azp is not the client_id"},
        {"\"aud\":\"" CLIENT "\"", "\"azp\":null", "azp is not a string"},
        {"\"aud\":[\"" CLIENT "\",7]", "\"azp\":\"" CLIENT "\"", "aud holds a non-string"},
        {"\"aud\":[]", NULL, "aud is missing"},
        {"\"aud\":7", NULL, "aud is missing"},
        {"", NULL, "aud is missing"},
        {"\"aud\":[\"" CLIENT "\",\"other\"]", "\"azp\":\"" CLIENT "\"", NULL},
        {"\"aud\":[\"" CLIENT "\"]", NULL, NULL},
        {"\"aud\":\"" CLIENT "\"", "\"azp\":\"" CLIENT "\"", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = verify_claims(f, (struct claims){.aud = cases[i].aud, .extra = cases[i].extra},
                               &err);
        if (cases[i].want)
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, cases[i].want);
        else
            ACCEPTED(rc, err);
    }
    /* 33 audiences */
    char aud[1024] = "\"aud\":[\"" CLIENT "\"";
    for (int i = 0; i < 32; i++)
        strcat(aud, ",\"x\"");
    strcat(aud, "]");
    REFUSED(verify_claims(f, (struct claims){.aud = aud, .extra = "\"azp\":\"" CLIENT "\""}, &err),
            PAM_AUTHINFO_UNAVAIL, err, "aud is missing, or not a string or 1..32 strings");
}

static void test_times(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char exp[64], nbf[64], iat[64];
#define AT(buf, name, delta) snprintf(buf, sizeof(buf), "\"%s\":%lld", name, NOW + (delta))
    AT(exp, "exp", -60); /* leeway 60: now >= exp + 60 */
    REFUSED(verify_claims(f, (struct claims){.exp = exp}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "expired 60 s ago (leeway 60 s)");
    AT(exp, "exp", -3600);
    REFUSED(verify_claims(f, (struct claims){.exp = exp}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "expired 3600 s ago");
    AT(exp, "exp", -59);
    ACCEPTED(verify_claims(f, (struct claims){.exp = exp}, &err), err);
    AT(nbf, "nbf", 61);
    REFUSED(verify_claims(f, (struct claims){.extra = nbf}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "not valid for another 61 s");
    AT(nbf, "nbf", 60);
    ACCEPTED(verify_claims(f, (struct claims){.extra = nbf}, &err), err);
    AT(iat, "iat", 61);
    REFUSED(verify_claims(f, (struct claims){.iat = iat}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "issued 61 s in the future");
    AT(iat, "iat", 60);
    ACCEPTED(verify_claims(f, (struct claims){.iat = iat}, &err), err);
    REFUSED(verify_claims(f, (struct claims){.exp = ""}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "exp is missing");
    REFUSED(verify_claims(f, (struct claims){.iat = ""}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "iat is missing");
    /* leeway 0: exp is exclusive */
    char *t;
    AT(exp, "exp", 0);
    t = std_token(f, JOSE_RS256, (struct claims){.exp = exp});
    REFUSED(verify_with(f->keys, t, JOSE_ALGS_ALL, 0, NULL, &err), PAM_AUTHINFO_UNAVAIL, err,
            "expired 0 s ago (leeway 0 s)");
    free(t);
    AT(exp, "exp", 1);
    t = std_token(f, JOSE_RS256, (struct claims){.exp = exp});
    ACCEPTED(verify_with(f->keys, t, JOSE_ALGS_ALL, 0, NULL, &err), err);
    free(t);
#undef AT
}

static void test_numeric_dates(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    static const struct {
        const char *exp, *iat, *nbf, *want;
    } cases[] = {
        {"\"exp\":\"1750000600\"", NULL, NULL, "exp is missing, not a NumericDate"},
        {"\"exp\":true", NULL, NULL, "exp is missing, not a NumericDate"},
        {"\"exp\":null", NULL, NULL, "exp is missing, not a NumericDate"},
        {"\"exp\":[1750000600]", NULL, NULL, "exp is missing, not a NumericDate"},
        {"\"exp\":-1", NULL, NULL, "or absurd"},
        {"\"exp\":1e13", NULL, NULL, "or absurd"},
        {"\"exp\":9223372036854775807", NULL, NULL, "or absurd"},
        {"\"exp\":253402300800", NULL, NULL, "or absurd"},
        {"\"exp\":253402300799", NULL, NULL, NULL},
        {"\"exp\":1750000600.75", NULL, NULL, NULL},
        {"\"exp\":1.7500006e9", NULL, NULL, NULL},
        {"\"exp\":1749999940.9", NULL, NULL, "expired 60 s ago"}, /* rounded down */
        {NULL, "\"iat\":1750000060.5", NULL, "issued 61 s in the future"}, /* rounded up */
        {NULL, "\"iat\":1750000060.0", NULL, NULL},
        {NULL, "\"iat\":\"1\"", NULL, "iat is missing, not a NumericDate"},
        {NULL, "\"iat\":-0.5", NULL, "iat is missing, not a NumericDate, or absurd"},
        {NULL, NULL, "\"nbf\":\"0\"", "nbf is not a NumericDate"},
        {NULL, NULL, "\"nbf\":null", "nbf is not a NumericDate"},
        {NULL, NULL, "\"nbf\":1750000060.01", "not valid for another 61 s"},
        {NULL, NULL, "\"nbf\":0", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = verify_claims(
            f, (struct claims){.exp = cases[i].exp, .iat = cases[i].iat, .extra = cases[i].nbf},
            &err);
        if (cases[i].want)
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, cases[i].want);
        else
            ACCEPTED(rc, err);
    }
}

static void test_sub_and_payload(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    char sub[300];
    REFUSED(verify_claims(f, (struct claims){.sub = ""}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "sub is missing");
    REFUSED(verify_claims(f, (struct claims){.sub = "\"sub\":\"\""}, &err), PAM_AUTHINFO_UNAVAIL,
            err, "sub is missing, empty");
    REFUSED(verify_claims(f, (struct claims){.sub = "\"sub\":42"}, &err), PAM_AUTHINFO_UNAVAIL,
            err, "sub is missing");
    snprintf(sub, sizeof(sub), "\"sub\":\"%0256d\"", 0);
    REFUSED(verify_claims(f, (struct claims){.sub = sub}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "longer than 255");
    /* duplicate members in the signed payload: which iss would count? */
    REFUSED(verify_claims(f, (struct claims){.extra = "\"iss\":\"https://evil\""}, &err),
            PAM_AUTHINFO_UNAVAIL, err, "payload is not one JSON object");
    char h[128];
    header(h, sizeof(h), JOSE_RS256, "rsa1");
    static const char *const bad[] = {"[1]", "\"str\"", "{\"iss\":", "", "{} {}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *t = token(f->rsa, JOSE_RS256, NORMAL, h, bad[i]);
        int rc = verify(f, t, &err);
        if (bad[i][0])
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, "payload is not one JSON object");
        else
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, "empty header or payload");
        free(t);
    }
    /* the claims object and 16 arrays in it: 17 deep; 15 arrays: 16 deep */
    char deep[256];
    nest(deep, sizeof(deep), 16);
    REFUSED(verify_claims(f, (struct claims){.extra = deep}, &err), PAM_AUTHINFO_UNAVAIL, err,
            "payload is not one JSON object (nested at most 16 deep");
    nest(deep, sizeof(deep), 15);
    ACCEPTED(verify_claims(f, (struct claims){.extra = deep}, &err), err);
}

static void test_policy_checked(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    struct jose_claims *c = (struct jose_claims *)1;
    char *t = std_token(f, JOSE_RS256, (struct claims){0});
    struct jose_policy pols[] = {
        {NULL, CLIENT, JOSE_ALGS_DEFAULT, 60, NOW}, {ISS, "", JOSE_ALGS_DEFAULT, 60, NOW},
        {ISS, CLIENT, 0, 60, NOW},                  {ISS, CLIENT, 1u << 12, 60, NOW},
        {ISS, CLIENT, JOSE_ALGS_DEFAULT, 301, NOW}, {ISS, CLIENT, JOSE_ALGS_DEFAULT, -1, NOW},
        {ISS, CLIENT, JOSE_ALGS_DEFAULT, 60, -5},
    };
    for (size_t i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
        assert_int_equal(jose_verify_id_token(t, strlen(t), f->keys, &pols[i], &c, &err),
                         PAM_SERVICE_ERR);
        assert_null(c);
    }
    REFUSED(jose_verify_id_token(t, strlen(t), NULL, &pols[0], &c, &err), PAM_SERVICE_ERR, err,
            "no issuer");
    struct jose_policy ok = {ISS, CLIENT, JOSE_ALGS_DEFAULT, 60, NOW};
    REFUSED(jose_verify_id_token(t, strlen(t), NULL, &ok, &c, &err), PAM_SERVICE_ERR, err,
            "no JWKS");
    /* now = 0: the wall clock, long past this token's exp */
    ok.now = 0;
    REFUSED(jose_verify_id_token(t, strlen(t), f->keys, &ok, &c, &err), PAM_AUTHINFO_UNAVAIL, err,
            "expired");
    free(t);
}

/* ------------------------------------------------------------------ JWKS */

static void test_jwks_key_validation(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    REFUSED(one_key(f->rsa_small, "small", NULL, &err), PAM_AUTHINFO_UNAVAIL, err,
            "JWKS keys[0] (kid small): RSA modulus of 1024 bits, below 2048");
    static const struct {
        const char *extra, *want;
    } rsa_cases[] = {
        {",\"d\":\"AQAB\"", "publishes private key material"},
        {",\"p\":\"AQAB\"", "publishes private key material"},
        {",\"alg\":\"ES256\"", "its alg does not fit its key type"},
        {",\"alg\":\"EdDSA\"", "its alg does not fit"},
        {",\"alg\":\"RS256\",\"use\":\"sig\",\"key_ops\":[\"verify\"]", NULL},
        {",\"x5c\":[\"MIIC\"],\"x5t\":\"abc\"", NULL},
        {",\"use\":1", "use is not a string"},
        {",\"key_ops\":\"verify\"", "key_ops is not an array"},
        {",\"key_ops\":[\"verify\",1]", "key_ops holds a non-string"},
        {",\"alg\":1", "alg is not a string"},
    };
    for (size_t i = 0; i < sizeof(rsa_cases) / sizeof(rsa_cases[0]); i++) {
        int rc = one_key(f->rsa, "r", rsa_cases[i].extra, &err);
        if (rsa_cases[i].want)
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, rsa_cases[i].want);
        else
            ACCEPTED(rc, err);
    }
    REFUSED(one_key(f->p256, "e", ",\"d\":\"AQAB\"", &err), PAM_AUTHINFO_UNAVAIL, err,
            "private key material");
    REFUSED(one_key(f->ed25519, "o", ",\"d\":\"AQAB\"", &err), PAM_AUTHINFO_UNAVAIL, err,
            "private key material");
    REFUSED(one_key(f->p256, "e", ",\"alg\":\"ES384\"", &err), PAM_AUTHINFO_UNAVAIL, err,
            "alg does not fit its key type or curve");
    REFUSED(one_key(f->p256, "a b", NULL, &err), PAM_AUTHINFO_UNAVAIL, err,
            "kid is empty, too long, or not printable ASCII");
    REFUSED(one_key(f->p256, "", NULL, &err), PAM_AUTHINFO_UNAVAIL, err, "kid is empty");
}

/* Hand-made RSA and EC members: exponent, modulus and point rules. */
static void test_jwks_material(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    struct jose_jwks *keys = NULL;
    char n64[400], x64[64], y64[64], text[2048];
    unsigned char buf[300];
    size_t len = sizeof(buf);
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(f->rsa, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
    len = (size_t)BN_bn2bin(bn, buf);
    BN_free(bn);
    b64(buf, len, n64, sizeof(n64));
    static const struct {
        const char *e, *want;
    } e_cases[] = {
        {"AQAB", NULL},       {"Aw", NULL},           {"AQ", "at least 3"},
        {"AAEAAQ", "leading zero"}, {"AQAA", "must be odd"}, {"AQAAAAE", "not below 2^32"},
        {"", "e is missing"}, {"AQAB=", "not base64url"},
    };
    for (size_t i = 0; i < sizeof(e_cases) / sizeof(e_cases[0]); i++) {
        snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}]}", n64,
                 e_cases[i].e);
        int rc = parse_jwks(text, &keys, &err);
        if (e_cases[i].want)
            REFUSED(rc, PAM_AUTHINFO_UNAVAIL, err, e_cases[i].want);
        else
            ACCEPTED(rc, err);
        jose_jwks_free(keys);
    }
    /* a leading zero octet on n, an even n */
    unsigned char z[301] = {0};
    memcpy(z + 1, buf, len);
    char z64[420];
    b64(z, len + 1, z64, sizeof(z64));
    snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", z64);
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "leading zero");
    buf[len - 1] &= 0xfe;
    b64(buf, len, z64, sizeof(z64));
    snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", z64);
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "even RSA modulus");
    /* 2047 bits (the top octet 0x7f) */
    buf[len - 1] |= 1;
    buf[0] = 0x7f;
    b64(buf, len, z64, sizeof(z64));
    snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", z64);
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "RSA modulus of 2047 bits");
    /* P-256: the right point, then y changed (off the curve), short x */
    BIGNUM *x = NULL, *y = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(f->p256, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(f->p256, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
    unsigned char xb[32], yb[32];
    BN_bn2binpad(x, xb, 32);
    BN_bn2binpad(y, yb, 32);
    BN_free(x);
    BN_free(y);
    b64(xb, 32, x64, sizeof(x64));
    b64(yb, 32, y64, sizeof(y64));
#define EC_TEXT(xs, ys)                                                                        \
    snprintf(text, sizeof(text),                                                               \
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}", xs, ys)
    EC_TEXT(x64, y64);
    ACCEPTED(parse_jwks(text, &keys, &err), err);
    jose_jwks_free(keys);
    yb[31] ^= 1;
    b64(yb, 32, y64, sizeof(y64));
    EC_TEXT(x64, y64);
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err,
            "not a valid P-256 public key (a point off the curve?)");
    b64(xb, 31, x64, sizeof(x64));
    EC_TEXT(x64, y64);
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "x is missing, not base64url, or not 32 bytes");
    memset(xb, 0, 32);
    memset(yb, 0, 32);
    b64(xb, 32, x64, sizeof(x64));
    b64(yb, 32, y64, sizeof(y64));
    EC_TEXT(x64, y64); /* (0, 0): not on P-256 */
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "not a valid P-256");
#undef EC_TEXT
    snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}]}", x64,
             y64);
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "crv is missing");
}

/* Hostile EC points against the key check: for each curve, a point on it
 * is accepted (also its negation and the point with x = 0), and the same
 * residues written out of range (x + p, y + p where they fit the fixed
 * length, all bits set) are refused, as are (0, 0) and a y changed by one.
 * Holds with the quick public check as with the full one (every accepted
 * curve has cofactor 1). */
static void test_jwks_ec_points_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *crv;
        int nid;
        int len;
    } curves[] = {{"P-256", NID_X9_62_prime256v1, 32},
                  {"P-384", NID_secp384r1, 48},
                  {"P-521", NID_secp521r1, 66}};
    struct sso_error err;
    struct jose_jwks *keys = NULL;
    char text[1024], x64[128], y64[128];
    for (size_t c = 0; c < sizeof(curves) / sizeof(curves[0]); c++) {
        int len = curves[c].len;
        EC_GROUP *g = EC_GROUP_new_by_curve_name(curves[c].nid);
        BN_CTX *bc = BN_CTX_new();
        BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new(), *x = BN_new(), *y = BN_new(),
               *t = BN_new();
        assert_non_null(g);
        assert_non_null(t);
        assert_int_equal(EC_GROUP_get_curve(g, p, a, b, bc), 1);
        /* a point with x = 0: y = sqrt(b) (b is a square on all three) */
        BN_zero(x);
        assert_non_null(BN_mod_sqrt(y, b, p, bc));
        unsigned char xb[66], yb[66];
#define POINT(X, Y, accept, why)                                                                  \
    do {                                                                                          \
        assert_true(BN_bn2binpad((X), xb, len) == len);                                           \
        assert_true(BN_bn2binpad((Y), yb, len) == len);                                           \
        b64(xb, (size_t)len, x64, sizeof(x64));                                                   \
        b64(yb, (size_t)len, y64, sizeof(y64));                                                   \
        snprintf(text, sizeof(text),                                                              \
                 "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}]}",        \
                 curves[c].crv, x64, y64);                                                        \
        int rc__ = parse_jwks(text, &keys, &err);                                                 \
        if (accept) {                                                                             \
            ACCEPTED(rc__, err);                                                                  \
            jose_jwks_free(keys);                                                                 \
            keys = NULL;                                                                          \
        } else {                                                                                  \
            if (rc__ == PAM_SUCCESS)                                                              \
                print_error("%s %s accepted\n", curves[c].crv, (why));                           \
            REFUSED(rc__, PAM_AUTHINFO_UNAVAIL, err, "not a valid");                              \
        }                                                                                         \
    } while (0)
        POINT(x, y, true, "(0, sqrt b)");
        assert_int_equal(BN_sub(t, p, y), 1);
        POINT(x, t, true, "(0, p - sqrt b)");
        /* x = p: the residue 0, out of range */
        POINT(p, y, false, "(p, sqrt b)");
        /* y + p, where it fits (P-521: 66 octets hold 528 bits) */
        assert_int_equal(BN_add(t, y, p), 1);
        if (BN_num_bytes(t) <= len)
            POINT(x, t, false, "(0, sqrt b + p)");
        /* a generated key's point, then with x + p where it fits */
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[c].crv);
        BIGNUM *kx = NULL, *ky = NULL;
        assert_non_null(k);
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &kx), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &ky), 1);
        POINT(kx, ky, true, "a generated point");
        assert_int_equal(BN_add(t, kx, p), 1);
        if (BN_num_bytes(t) <= len)
            POINT(t, ky, false, "(x + p, y)");
        assert_int_equal(BN_add_word(ky, 1), 1);
        POINT(kx, ky, false, "(x, y + 1)");
        /* every bit set: both coordinates at or above p */
        memset(xb, 0xff, sizeof(xb));
        assert_non_null(BN_bin2bn(xb, len, t));
        POINT(t, t, false, "all bits set");
        BN_zero(t);
        POINT(t, t, false, "(0, 0)");
#undef POINT
        BN_free(kx);
        BN_free(ky);
        EVP_PKEY_free(k);
        BN_free(p), BN_free(a), BN_free(b), BN_free(x), BN_free(y), BN_free(t);
        BN_CTX_free(bc);
        EC_GROUP_free(g);
    }
}

static void test_jwks_skip_rules(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    struct jose_jwks *keys = NULL;
    char *text = jwks_text(
        8, jwk(f->rsa, "enc", ",\"use\":\"enc\""), jwk(f->rsa, "wrap", ",\"key_ops\":[\"wrapKey\"]"),
        jwk(f->rsa, "oaep", ",\"alg\":\"RSA-OAEP\""), jwk(f->p256, "hs", ",\"alg\":\"HS256\""),
        xstrdup("{\"kty\":\"oct\",\"kid\":\"oct\",\"k\":\"c2VjcmV0\"}"),
        xstrdup("{\"kty\":\"EC\",\"kid\":\"k1\",\"crv\":\"secp256k1\",\"x\":\"AA\",\"y\":\"AA\"}"),
        xstrdup("{\"kty\":\"OKP\",\"kid\":\"x\",\"crv\":\"X25519\",\"x\":\"AA\"}"),
        jwk(f->p256, "ec1", ",\"use\":\"sig\""));
    ACCEPTED(parse_jwks(text, &keys, &err), err);
    free(text);
    assert_int_equal(jose_jwks_count(keys), 1);
    struct jose_key_info info;
    assert_true(jose_jwks_key(keys, 0, &info));
    assert_string_equal(info.kid, "ec1");
    assert_string_equal(info.kty, "EC");
    assert_string_equal(info.crv, "P-256");
    assert_int_equal(info.algs, JOSE_ES256);
    assert_int_equal(info.bits, 256);
    assert_int_equal(EVP_PKEY_eq(info.pkey, f->p256), 1);
    assert_false(jose_jwks_key(keys, 1, &info));
    /* a token naming a skipped key: as if the kid were unknown */
    char h[128], p[1024];
    header(h, sizeof(h), JOSE_RS256, "enc");
    payload(p, sizeof(p), (struct claims){0});
    char *t = token(f->rsa, JOSE_RS256, NORMAL, h, p);
    REFUSED(verify_with(keys, t, JOSE_ALGS_ALL, 60, NULL, &err), SSO_UNKNOWN_KID, err,
            "no key with kid enc");
    free(t);
    jose_jwks_free(keys);
    /* only skipped keys: nothing to verify with */
    text = jwks_text(1, jwk(f->rsa, "enc", ",\"use\":\"enc\""));
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "no usable signature key");
    free(text);
    REFUSED(parse_jwks("{\"keys\":[]}", &keys, &err), PAM_AUTHINFO_UNAVAIL, err,
            "no usable signature key");
    assert_null(keys);
}

static void test_jwks_duplicate_kid(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    struct jose_jwks *keys = NULL;
    char *text = jwks_text(2, jwk(f->rsa, "same", NULL), jwk(f->rsa_other, "same", NULL));
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err,
            "two signature keys share kid same");
    assert_null(keys);
    free(text);
    text = jwks_text(2, jwk(f->rsa, "same", NULL), jwk(f->p256, "same", NULL));
    REFUSED(parse_jwks(text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "share kid");
    free(text);
    /* the same kid on an encryption key is not a conflict */
    text = jwks_text(2, jwk(f->rsa_other, "same", ",\"use\":\"enc\""), jwk(f->rsa, "same", NULL));
    ACCEPTED(parse_jwks(text, &keys, &err), err);
    assert_int_equal(jose_jwks_count(keys), 1);
    jose_jwks_free(keys);
    free(text);
    /* several keys without kid are allowed, but no token can pick one */
    text = jwks_text(2, jwk(f->rsa, NULL, NULL), jwk(f->rsa_other, NULL, NULL));
    ACCEPTED(parse_jwks(text, &keys, &err), err);
    assert_int_equal(jose_jwks_count(keys), 2);
    jose_jwks_free(keys);
    free(text);
}

static void test_jwks_structure(void **state)
{
    const struct fx *f = *state;
    struct sso_error err;
    struct jose_jwks *keys = (struct jose_jwks *)1;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"", "not one JSON object"},
        {"[]", "not one JSON object"},
        {"{\"keys\":{}}", "keys is missing or not an array"},
        {"{\"key\":[]}", "keys is missing or not an array"},
        {"{\"keys\":[],\"keys\":[]}", "not one JSON object"},
        {"{\"keys\":[1]}", "keys[0]: not an object"},
        {"{\"keys\":[{}]}", "keys[0]: kty is missing"},
        {"{\"keys\":[{\"kty\":\"RSA\",\"kty\":\"EC\"}]}", "not one JSON object"},
        {"{\"keys\":[{\"kty\":\"RSA\",\"kid\":7}]}", "kid is not a string"},
        {"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"n\":\"x\"}]}",
         "not one JSON object"},
        {"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"e\":\"AQAB\"}]}", "JWKS keys[0] (kid r): n is missing"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        REFUSED(parse_jwks(cases[i].text, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, cases[i].want);
        assert_null(keys);
    }
    /* 33 entries (even if all would be skipped) */
    char *many = malloc(33 * 32 + 32);
    assert_non_null(many);
    strcpy(many, "{\"keys\":[");
    for (int i = 0; i < 33; i++)
        strcat(many, i ? ",{\"kty\":\"oct\"}" : "{\"kty\":\"oct\"}");
    strcat(many, "]}");
    REFUSED(parse_jwks(many, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "more than 32 keys");
    free(many);
    /* larger than 64 KiB (a valid JWKS padded with a long member) */
    char *k = jwk(f->rsa, "r", NULL);
    char *huge = malloc(BIG + 1024);
    assert_non_null(huge);
    snprintf(huge, BIG + 1024, "{\"keys\":[%s],\"pad\":\"%0*d\"}", k, BIG - 1000, 0);
    REFUSED(parse_jwks(huge, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "larger than 65536 bytes");
    free(huge);
    free(k);
    /* deeply nested: 9 levels (object, array, object, 6 arrays), 8 (past
     * the depth check, then refused for want of a key), and 30,000 */
    REFUSED(parse_jwks("{\"keys\":[{\"kty\":\"oct\",\"x\":[[[[[[1]]]]]]}]}", &keys, &err),
            PAM_AUTHINFO_UNAVAIL, err, "nested at most 8 deep");
    REFUSED(parse_jwks("{\"keys\":[{\"kty\":\"oct\",\"x\":[[[[[1]]]]]}]}", &keys, &err),
            PAM_AUTHINFO_UNAVAIL, err, "no usable signature key");
    size_t dn = 30000;
    char *deep = malloc(2 * dn + 16);
    assert_non_null(deep);
    strcpy(deep, "{\"keys\":");
    memset(deep + 8, '[', dn);
    memset(deep + 8 + dn, ']', dn);
    strcpy(deep + 8 + 2 * dn, "}");
    REFUSED(parse_jwks(deep, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "nested at most 8 deep");
    /* brackets inside strings (escaped quotes too) do not count */
    snprintf(deep, 2 * dn + 16, "{\"keys\":[],\"k\":\"\\\"[[[[[[[[[[[[[[[[[[[[\"}");
    REFUSED(parse_jwks(deep, &keys, &err), PAM_AUTHINFO_UNAVAIL, err, "no usable signature key");
    free(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_vectors),
        cmocka_unit_test(test_b64url_strict),
        cmocka_unit_test(test_alg_list),
        cmocka_unit_test(test_accepts_every_algorithm),
        cmocka_unit_test(test_default_allow_list),
        cmocka_unit_test(test_claims_accessors),
        cmocka_unit_test(test_groups_overage),
        cmocka_unit_test(test_claim_names),
        cmocka_unit_test(test_alg_none_refused),
        cmocka_unit_test(test_hs256_with_public_key_refused),
        cmocka_unit_test(test_unsupported_alg_refused),
        cmocka_unit_test(test_unknown_kid),
        cmocka_unit_test(test_kid_rules),
        cmocka_unit_test(test_key_type_must_fit_alg),
        cmocka_unit_test(test_header_keys_ignored),
        cmocka_unit_test(test_ecdsa_der_signature_refused),
        cmocka_unit_test(test_pss_parameters),
        cmocka_unit_test(test_tampering_refused),
        cmocka_unit_test(test_signature_before_claims),
        cmocka_unit_test(test_token_shape),
        cmocka_unit_test(test_bad_base64url_parts),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_iss),
        cmocka_unit_test(test_aud_azp),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_numeric_dates),
        cmocka_unit_test(test_sub_and_payload),
        cmocka_unit_test(test_policy_checked),
        cmocka_unit_test(test_jwks_key_validation),
        cmocka_unit_test(test_jwks_material),
        cmocka_unit_test(test_jwks_ec_points_hostile),
        cmocka_unit_test(test_jwks_skip_rules),
        cmocka_unit_test(test_jwks_duplicate_kid),
        cmocka_unit_test(test_jwks_structure),
    };
    return cmocka_run_group_tests_name("jose", tests, group_setup, group_teardown);
}
