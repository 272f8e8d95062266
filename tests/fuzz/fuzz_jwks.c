/* fuzz_jwks - jose_jwks_parse, then the fixture's valid tokens verified
 * against whatever set it accepted.
 *
 * Input: a JWKS document.
 * Invariants:
 *   - the code is PAM_SUCCESS, PAM_AUTHINFO_UNAVAIL or PAM_BUF_ERR; a
 *     failure has a printable reason and no set;
 *   - success: 1..32 usable keys; each RSA (2048..8192 bits, RS and PS
 *     algorithms only), EC (P-256/384/521 with ES256/384/512 only) or OKP
 *     (Ed25519/Ed448, EdDSA only); a kid is printable ASCII without spaces
 *     and no two keys share one; every key has an OpenSSL key;
 *   - each of the fixture's tokens (RS256, PS256, ES256, ES384, EdDSA) is
 *     accepted only if the set's key with that kid is exactly the key that
 *     signed it (EVP_PKEY_eq with the fixture's), and any refusal is
 *     PAM_AUTHINFO_UNAVAIL or SSO_UNKNOWN_KID, the latter only when the set
 *     has no key with the token's kid;
 *   - parsing twice gives the same code, reason and key count. */
#include <openssl/evp.h>
#include <security/pam_modules.h>

#include "fuzz_common.h"
#include "openid/jose.h"
#include "jose_fixture.h"

static const struct jose_jwks *fixture_keys(void)
{
    static struct jose_jwks *keys;
    if (!keys) {
        struct sso_error err;
        if (jose_jwks_parse(fixture_jwks, strlen(fixture_jwks), &keys, &err) != PAM_SUCCESS) {
            fprintf(stderr, "fixture refused: %s\n", err.msg);
            abort();
        }
    }
    return keys;
}

static const EVP_PKEY *key_by_kid(const struct jose_jwks *keys, const char *kid)
{
    struct jose_key_info info;
    for (size_t i = 0; jose_jwks_key(keys, i, &info); i++)
        if (strcmp(info.kid, kid) == 0)
            return info.pkey;
    return NULL;
}

static void check_reason(const struct sso_error *err)
{
    FUZZ_CHECK(fuzz_terminated(err->msg, sizeof(err->msg)) && err->msg[0],
               "a failure carries a reason");
    for (const char *p = err->msg; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "the reason is printable");
}

static void check_key(const struct jose_key_info *k)
{
    static const unsigned rsa = JOSE_RS256 | JOSE_RS384 | JOSE_RS512 | JOSE_PS256 | JOSE_PS384 |
                                JOSE_PS512;
    FUZZ_CHECK(k->pkey != NULL && k->algs != 0, "a key has an OpenSSL key and algorithms");
    for (const char *p = k->kid; *p; p++)
        FUZZ_CHECK(*p > 0x20 && *p < 0x7f, "kid is printable ASCII without spaces");
    FUZZ_CHECK(strlen(k->kid) <= JOSE_KID_MAX, "kid is bounded");
    if (strcmp(k->kty, "RSA") == 0) {
        FUZZ_CHECK(EVP_PKEY_is_a(k->pkey, "RSA") && !(k->algs & ~rsa), "RSA fits RS/PS");
        FUZZ_CHECK(k->bits >= 2048 && k->bits <= 8192 && EVP_PKEY_get_bits(k->pkey) == k->bits,
                   "RSA 2048..8192 bits");
    } else if (strcmp(k->kty, "EC") == 0) {
        unsigned want = strcmp(k->crv, "P-256") == 0   ? JOSE_ES256
                        : strcmp(k->crv, "P-384") == 0 ? JOSE_ES384
                        : strcmp(k->crv, "P-521") == 0 ? JOSE_ES512
                                                        : 0;
        FUZZ_CHECK(want && k->algs == want && EVP_PKEY_is_a(k->pkey, "EC"), "EC curve fits ESnnn");
    } else {
        FUZZ_CHECK(strcmp(k->kty, "OKP") == 0, "kty RSA, EC or OKP");
        FUZZ_CHECK(k->algs == JOSE_EDDSA &&
                       (EVP_PKEY_is_a(k->pkey, "ED25519") || EVP_PKEY_is_a(k->pkey, "ED448")),
                   "OKP is an EdDSA key");
    }
}

/* The kid in a fixture token's header. */
static void token_kid(const char *t, char *kid, size_t cap)
{
    unsigned char buf[512];
    size_t n;
    const char *dot = strchr(t, '.');
    if (!dot || jose_b64url_decode(t, (size_t)(dot - t), buf, sizeof(buf), &n) != 0)
        abort();
    json_t *h = json_loadb((const char *)buf, n, 0, NULL);
    const char *k = json_string_value(json_object_get(h, "kid"));
    if (!k)
        abort();
    snprintf(kid, cap, "%s", k);
    json_decref(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct jose_jwks *truth = fixture_keys();
    char *body = fuzz_dup_exact(data, size);
    struct jose_jwks *keys = (struct jose_jwks *)&keys, *again = NULL;
    struct sso_error err = SSO_ERROR_INIT, err2 = SSO_ERROR_INIT;
    int rc = jose_jwks_parse(body, size, &keys, &err);
    FUZZ_CHECK(rc == PAM_SUCCESS || rc == PAM_AUTHINFO_UNAVAIL || rc == PAM_BUF_ERR,
               "PAM_SUCCESS, PAM_AUTHINFO_UNAVAIL or PAM_BUF_ERR");
    int rc2 = jose_jwks_parse(body, size, &again, &err2);
    FUZZ_CHECK(rc2 == rc && strcmp(err.msg, err2.msg) == 0 &&
                   jose_jwks_count(keys) == jose_jwks_count(again),
               "deterministic");
    jose_jwks_free(again);
    if (rc != PAM_SUCCESS) {
        FUZZ_CHECK(keys == NULL, "no set after a failure");
        check_reason(&err);
        free(body);
        return 0;
    }
    size_t n = jose_jwks_count(keys);
    FUZZ_CHECK(n >= 1 && n <= JOSE_JWKS_KEYS_MAX, "1..32 usable keys");
    struct jose_key_info a, b;
    for (size_t i = 0; jose_jwks_key(keys, i, &a); i++) {
        check_key(&a);
        for (size_t j = 0; a.kid[0] && j < i && jose_jwks_key(keys, j, &b); j++)
            FUZZ_CHECK(strcmp(a.kid, b.kid) != 0, "no two keys share a kid");
    }

    for (size_t i = 0; i < sizeof(fixture_tokens) / sizeof(fixture_tokens[0]); i++) {
        const char *t = fixture_tokens[i];
        char kid[64];
        struct jose_claims *c = NULL;
        struct jose_policy pol = {FIXTURE_ISS, FIXTURE_CLIENT, JOSE_ALGS_ALL, 60, FIXTURE_NOW};
        token_kid(t, kid, sizeof(kid));
        rc = jose_verify_id_token(t, strlen(t), keys, &pol, &c, &err);
        const EVP_PKEY *k = key_by_kid(keys, kid);
        if (rc == PAM_SUCCESS) {
            FUZZ_CHECK(k && EVP_PKEY_eq(k, key_by_kid(truth, kid)) == 1,
                       "a token verifies only with the key that signed it");
        } else {
            FUZZ_CHECK(c == NULL, "no claims after a failure");
            check_reason(&err);
            FUZZ_CHECK(rc == PAM_AUTHINFO_UNAVAIL || rc == SSO_UNKNOWN_KID,
                       "refusals are PAM_AUTHINFO_UNAVAIL or SSO_UNKNOWN_KID");
            FUZZ_CHECK((rc == SSO_UNKNOWN_KID) == (k == NULL), "unknown kid exactly when absent");
        }
        jose_claims_free(c);
    }
    jose_jwks_free(keys);
    free(body);
    return 0;
}
