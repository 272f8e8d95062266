/* fuzz_jwt - jose_verify_id_token against the fixed JWKS of jose_fixture.h,
 * and the claim accessors.
 *
 * Input: one selector byte, then by mode (bits 6-7):
 *   00, 01  raw: the rest is the compact token;
 *   10      structured: a header JSON line, a payload JSON line, and the
 *           rest as signature bytes; the harness base64url-encodes them;
 *   11      signed: a header JSON line and a payload JSON line, which the
 *           harness encodes and signs with the fixture's private key for
 *           ES256 (ec1) when the header says ES256, else for EdDSA (ed1), so
 *           the claim checks see fuzzed claims behind good signatures.
 * Bits 2-5: leeway in steps of 20 s (0..300). Bits 0-1: allow-list: every
 * algorithm, the default (RS256, PS256, ES256), ES256+EdDSA, or RS256.
 * Invariants:
 *   - the code is PAM_SUCCESS, PAM_AUTHINFO_UNAVAIL, SSO_UNKNOWN_KID or
 *     PAM_BUF_ERR; a failure has a printable reason and no claims;
 *     SSO_UNKNOWN_KID only for a header kid that no fixture key has;
 *   - success: the header's alg is a string in the allow-list, never none
 *     or HS*, and is what jose_claims_alg reports; the claims satisfy the
 *     policy when checked again here, independently (iss, aud/azp, exp, nbf,
 *     iat, sub); the accessors agree with the claims object;
 *   - success of a raw token: its header.payload is one the generator
 *     signed (SHA-256 in the fixture), so nothing was forged; any token
 *     with a signature character changed is refused;
 *   - verifying twice gives the same code and reason. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <security/pam_modules.h>

#include "fuzz_common.h"
#include "openid/jose.h"
#include "jose_fixture.h"

#define MODE_SIGNED 3
#define MODE_STRUCT 2

/* The fixture, loaded once: read-only afterwards. */
struct fixture {
    struct jose_jwks *keys;
    EVP_PKEY *ec1, *ed1;
};

static EVP_PKEY *load_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return k;
}

static const struct fixture *fixture(void)
{
    static struct fixture fx;
    static int loaded;
    if (!loaded) {
        struct sso_error err;
        if (jose_jwks_parse(fixture_jwks, strlen(fixture_jwks), &fx.keys, &err) != PAM_SUCCESS ||
            !(fx.ec1 = load_pem(fixture_ec1_pem)) || !(fx.ed1 = load_pem(fixture_ed1_pem))) {
            fprintf(stderr, "fixture refused: %s\n", err.msg);
            abort();
        }
        loaded = 1;
    }
    return &fx;
}

static const unsigned policies[4] = {JOSE_ALGS_ALL, JOSE_ALGS_DEFAULT, JOSE_ES256 | JOSE_EDDSA,
                                     JOSE_RS256};

/* ---- building tokens from structured input ---- */

static char *encode(const unsigned char *p, size_t n)
{
    size_t cap = n / 3 * 4 + 5;
    char *s = malloc(cap);
    if (!s)
        abort();
    FUZZ_CHECK(jose_b64url_encode(p, n, s, cap) > 0 || n == 0, "encoder fits its buffer");
    return s;
}

static bool names_alg(const char *header, const char *alg)
{
    json_t *h = json_loads(header, 0, NULL);
    bool yes = h && json_is_string(json_object_get(h, "alg")) &&
               strcmp(json_string_value(json_object_get(h, "alg")), alg) == 0;
    json_decref(h);
    return yes;
}

/* Sign msg with the fixture's ES256 or EdDSA key; base64url of R||S or
 * of the Ed25519 signature. */
static char *sign(const struct fixture *fx, bool es256, const char *msg)
{
    unsigned char sig[80], raw[64];
    size_t len = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestSignInit_ex(ctx, NULL, es256 ? "SHA256" : NULL, NULL, NULL,
                                      es256 ? fx->ec1 : fx->ed1, NULL) != 1 ||
        EVP_DigestSign(ctx, sig, &len, (const unsigned char *)msg, strlen(msg)) != 1)
        abort();
    EVP_MD_CTX_free(ctx);
    if (!es256)
        return encode(sig, len);
    const unsigned char *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!es || BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32) != 32)
        abort();
    ECDSA_SIG_free(es);
    return encode(raw, 64);
}

static char *build(const struct fixture *fx, int mode, struct fuzz_in *in)
{
    char *header = fuzz_line(in), *payload = fuzz_line(in);
    char *h64 = encode((unsigned char *)header, strlen(header));
    char *p64 = encode((unsigned char *)payload, strlen(payload));
    size_t cap = strlen(h64) + strlen(p64) + 2;
    char *hp = malloc(cap), *s64;
    if (!hp)
        abort();
    snprintf(hp, cap, "%s.%s", h64, p64);
    if (mode == MODE_SIGNED)
        s64 = sign(fx, names_alg(header, "ES256"), hp);
    else
        s64 = encode(in->p, in->n);
    size_t tcap = cap + strlen(s64) + 1;
    char *t = malloc(tcap);
    if (!t)
        abort();
    snprintf(t, tcap, "%s.%s", hp, s64);
    free(header), free(payload), free(h64), free(p64), free(hp), free(s64);
    return t;
}

/* ---- independent checks ---- */

/* The header JSON of a token the verifier accepted. */
static json_t *header_of(const char *t, size_t len)
{
    const char *dot = memchr(t, '.', len);
    FUZZ_CHECK(dot != NULL, "an accepted token has a dot");
    size_t n = (size_t)(dot - t), cap = JOSE_B64URL_DECODED_MAX(n), got;
    unsigned char *buf = malloc(cap + 1);
    if (!buf)
        abort();
    FUZZ_CHECK(jose_b64url_decode(t, n, buf, cap, &got) == 0, "accepted header decodes");
    json_t *h = json_loadb((const char *)buf, got, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    FUZZ_CHECK(json_is_object(h), "accepted header is an object");
    return h;
}

static bool signed_by_generator(const char *t, size_t len)
{
    const char *last = NULL;
    for (size_t i = 0; i < len; i++)
        if (t[i] == '.')
            last = t + i;
    unsigned char md[32];
    char hex[65];
    if (!last || EVP_Digest(t, (size_t)(last - t), md, NULL, EVP_sha256(), NULL) != 1)
        abort();
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    for (size_t i = 0; i < sizeof(fixture_signed_sha256) / sizeof(fixture_signed_sha256[0]); i++)
        if (strcmp(hex, fixture_signed_sha256[i]) == 0)
            return true;
    return false;
}

static bool is_str(json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static double num(json_t *v, bool *ok)
{
    *ok = json_is_number(v);
    return *ok ? json_number_value(v) : 0;
}

/* The policy, checked on the verified claims the obvious way. */
static void check_claims(const struct jose_claims *c, int leeway)
{
    json_t *o = (json_t *)jose_claims_json(c);
    FUZZ_CHECK(json_is_object(o), "claims are an object");
    FUZZ_CHECK(is_str(json_object_get(o, "iss"), FIXTURE_ISS), "iss is the issuer");
    json_t *aud = json_object_get(o, "aud"), *azp = json_object_get(o, "azp");
    size_t naud = 1;
    if (json_is_array(aud)) {
        bool found = false;
        naud = json_array_size(aud);
        for (size_t i = 0; i < naud; i++) {
            FUZZ_CHECK(json_is_string(json_array_get(aud, i)), "aud holds strings only");
            found = found || is_str(json_array_get(aud, i), FIXTURE_CLIENT);
        }
        FUZZ_CHECK(found && naud <= JOSE_AUD_MAX, "aud array holds the client_id");
    } else {
        FUZZ_CHECK(is_str(aud, FIXTURE_CLIENT), "aud is the client_id");
    }
    if (naud > 1)
        FUZZ_CHECK(azp != NULL, "several audiences need azp");
    if (azp)
        FUZZ_CHECK(is_str(azp, FIXTURE_CLIENT), "azp is the client_id");
    bool ok;
    double now = (double)FIXTURE_NOW, exp = num(json_object_get(o, "exp"), &ok);
    FUZZ_CHECK(ok && exp >= 0 && exp <= (double)JOSE_TIME_MAX, "exp is a sane NumericDate");
    FUZZ_CHECK(now < exp + leeway, "not expired");
    double iat = num(json_object_get(o, "iat"), &ok);
    FUZZ_CHECK(ok && iat >= 0 && iat <= now + leeway, "iat is not in the future");
    json_t *nbf = json_object_get(o, "nbf");
    if (nbf) {
        double v = num(nbf, &ok);
        FUZZ_CHECK(ok && v >= 0 && v <= now + leeway, "nbf has passed");
    }
    json_t *sub = json_object_get(o, "sub");
    FUZZ_CHECK(json_is_string(sub) && json_string_length(sub) > 0 &&
                   json_string_length(sub) <= 255,
               "sub is a non-empty string");

    /* accessors: what they return is what the object holds */
    char user[64];
    struct sso_error err = SSO_ERROR_INIT;
    json_t *u = json_object_get(o, "preferred_username");
    int rc = jose_claim_string(c, "preferred_username", user, sizeof(user), &err);
    if (rc == PAM_SUCCESS) {
        FUZZ_CHECK(is_str(u, user) && user[0], "claim string is the claim");
        for (const char *p = user; *p; p++)
            FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "claim string has no controls");
    } else {
        FUZZ_CHECK(rc == PAM_AUTHINFO_UNAVAIL && user[0] == '\0' && err.msg[0],
                   "a refused claim string is empty, with a reason");
    }
    bool member = true;
    json_t *g = json_object_get(o, "groups");
    rc = jose_claim_has_group(c, "groups", "/admins", &member, &err);
    if (rc == PAM_SUCCESS) {
        bool want = is_str(g, "/admins");
        for (size_t i = 0; json_is_array(g) && i < json_array_size(g); i++)
            want = want || is_str(json_array_get(g, i), "/admins");
        FUZZ_CHECK(member == want, "group membership is what the claim lists");
    } else {
        FUZZ_CHECK(rc == PAM_AUTHINFO_UNAVAIL && !member, "refused groups mean no membership");
    }
}

static void check_reason(const struct sso_error *err)
{
    FUZZ_CHECK(fuzz_terminated(err->msg, sizeof(err->msg)) && err->msg[0],
               "a failure carries a reason");
    for (const char *p = err->msg; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "the reason is printable");
}

static int verify(const struct fixture *fx, const char *t, size_t n, unsigned algs, int leeway,
                  struct jose_claims **c, struct sso_error *err)
{
    struct jose_policy pol = {FIXTURE_ISS, FIXTURE_CLIENT, algs, leeway, FIXTURE_NOW};
    memset(err, 0, sizeof(*err));
    return jose_verify_id_token(t, n, fx->keys, &pol, c, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct fixture *fx = fixture();
    struct fuzz_in in = {data, size};
    uint8_t sel = fuzz_byte(&in);
    int mode = sel >> 6, leeway = ((sel >> 2) & 15) * 20;
    unsigned algs = policies[sel & 3];
    if (leeway > JOSE_LEEWAY_MAX)
        leeway = JOSE_LEEWAY_MAX;
    char *t;
    size_t n;
    if (mode >= MODE_STRUCT) {
        t = build(fx, mode, &in);
        n = strlen(t);
    } else {
        t = fuzz_dup_exact(in.p, in.n);
        n = in.n;
    }

    struct jose_claims *c = (struct jose_claims *)&c; /* must be overwritten */
    struct sso_error err, err2;
    int rc = verify(fx, t, n, algs, leeway, &c, &err);
    FUZZ_CHECK(rc == PAM_SUCCESS || rc == PAM_AUTHINFO_UNAVAIL || rc == SSO_UNKNOWN_KID ||
                   rc == PAM_BUF_ERR,
               "code is one of the documented four");
    if (rc != PAM_SUCCESS) {
        FUZZ_CHECK(c == NULL, "no claims after a failure");
        check_reason(&err);
    }
    if (rc == SSO_UNKNOWN_KID) {
        json_t *h = header_of(t, n);
        const char *kid = json_string_value(json_object_get(h, "kid"));
        FUZZ_CHECK(kid != NULL, "an unknown kid is a kid");
        for (size_t i = 0; i < sizeof(fixture_kids) / sizeof(fixture_kids[0]); i++)
            FUZZ_CHECK(strcmp(kid, fixture_kids[i]) != 0, "a known kid is never unknown");
        json_decref(h);
    }
    if (rc == PAM_SUCCESS) {
        json_t *h = header_of(t, n);
        const char *alg = json_string_value(json_object_get(h, "alg"));
        FUZZ_CHECK(alg != NULL, "accepted alg is a string");
        FUZZ_CHECK(strncasecmp(alg, "HS", 2) != 0 && strcasecmp(alg, "none") != 0,
                   "never none or HMAC");
        FUZZ_CHECK(jose_alg_from_name(alg) & algs, "alg is in the allow-list");
        FUZZ_CHECK(strcmp(jose_claims_alg(c), alg) == 0, "claims report the header's alg");
        const char *kid = json_string_value(json_object_get(h, "kid"));
        FUZZ_CHECK(strcmp(jose_claims_kid(c), kid ? kid : "") == 0, "claims report the kid");
        json_decref(h);
        check_claims(c, leeway);
        if (mode < MODE_STRUCT)
            FUZZ_CHECK(signed_by_generator(t, n), "an accepted raw token was signed by us");
        /* the same token with a signature character changed */
        char *forged = fuzz_dup_exact((const uint8_t *)t, n);
        size_t s = n; /* t is not terminated in raw mode */
        while (s > 0 && t[s - 1] != '.')
            s--;
        size_t at = s + (n - s) / 2;
        forged[at] = forged[at] == 'A' ? 'B' : 'A';
        struct jose_claims *c2 = NULL;
        FUZZ_CHECK(verify(fx, forged, n, algs, leeway, &c2, &err2) != PAM_SUCCESS,
                   "a changed signature is refused");
        free(forged);
    }
    struct jose_claims *again = NULL;
    int rc2 = verify(fx, t, n, algs, leeway, &again, &err2);
    FUZZ_CHECK(rc2 == rc && (rc == PAM_SUCCESS || strcmp(err.msg, err2.msg) == 0),
               "deterministic");
    jose_claims_free(again);
    jose_claims_free(c);
    free(t);
    return 0;
}
