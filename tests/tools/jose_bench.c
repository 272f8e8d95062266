/* jose_bench - what verifying one ID token costs (make bench).
 *
 *   jose_bench TOKEN_FILE JWKS_FILE ISSUER CLIENT_ID [ITERATIONS]
 *
 * Times, on the monotonic clock, ITERATIONS (default 2000) of:
 *   - jose_verify_id_token on the token (header, key choice, signature,
 *     claims) with the keys parsed once;
 *   - jose_jwks_parse of the JWKS;
 *   - the baseline: OpenSSL's EVP_DigestVerify of the same signature with
 *     the same key, and nothing else.
 * Prints one line per measurement, in microseconds per operation, and the
 * ratio of the full verification to the bare signature check. */
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "openid/jose.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    *len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    while (buf && *len && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
        buf[--*len] = '\0';
    return buf;
}

/* The bare signature check of the token with pkey: signing input, decoded
 * signature (ES*: raw R||S turned into DER first), EVP_DigestVerify. */
struct bare {
    const EVP_MD *md;
    const char *input;
    size_t input_len;
    unsigned char sig[1024];
    size_t sig_len;
    bool pss;
};

static int bare_prepare(struct bare *b, const char *token, const char *alg)
{
    const char *dot2 = strrchr(token, '.');
    if (!dot2)
        return -1;
    b->input = token;
    b->input_len = (size_t)(dot2 - token);
    unsigned char raw[1024];
    size_t n = 0;
    if (jose_b64url_decode(dot2 + 1, strlen(dot2 + 1), raw, sizeof(raw), &n) != 0)
        return -1;
    b->md = EVP_sha256();
    b->pss = alg[0] == 'P';
    if (alg[0] != 'E') {
        memcpy(b->sig, raw, n);
        b->sig_len = n;
        return 0;
    }
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)(n / 2), NULL), *sv = BN_bin2bn(raw + n / 2, (int)(n / 2), NULL);
    ECDSA_SIG_set0(s, r, sv);
    unsigned char *p = b->sig;
    int len = i2d_ECDSA_SIG(s, &p);
    ECDSA_SIG_free(s);
    if (len <= 0)
        return -1;
    b->sig_len = (size_t)len;
    return 0;
}

static int bare_verify(const struct bare *b, const EVP_PKEY *pkey)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = EVP_DigestVerifyInit(ctx, &pctx, b->md, NULL, (EVP_PKEY *)pkey) == 1;
    if (ok && b->pss)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    ok = ok && EVP_DigestVerify(ctx, b->sig, b->sig_len, (const unsigned char *)b->input,
                                b->input_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: jose_bench TOKEN_FILE JWKS_FILE ISSUER CLIENT_ID [N]\n");
        return 2;
    }
    int n = argc > 5 ? atoi(argv[5]) : 2000;
    size_t tlen, jlen;
    char *token = slurp(argv[1], &tlen), *jwks = slurp(argv[2], &jlen);
    if (!token || !jwks || n < 1) {
        fprintf(stderr, "jose_bench: cannot read the inputs\n");
        return 2;
    }
    struct sso_error err = SSO_ERROR_INIT;
    struct jose_jwks *keys = NULL;
    if (jose_jwks_parse(jwks, jlen, &keys, &err) != PAM_SUCCESS) {
        fprintf(stderr, "jose_bench: JWKS: %s\n", err.msg);
        return 1;
    }
    const struct jose_policy policy = {argv[3], argv[4], JOSE_ALGS_ALL, JOSE_LEEWAY_DEFAULT, 0};
    struct jose_claims *claims = NULL;
    if (jose_verify_id_token(token, tlen, keys, &policy, &claims, &err) != PAM_SUCCESS) {
        fprintf(stderr, "jose_bench: token: %s\n", err.msg);
        return 1;
    }
    char alg[16], kid[JOSE_KID_MAX + 1];
    snprintf(alg, sizeof(alg), "%s", jose_claims_alg(claims));
    snprintf(kid, sizeof(kid), "%s", jose_claims_kid(claims));
    jose_claims_free(claims);
    const EVP_PKEY *pkey = NULL;
    struct jose_key_info info;
    for (size_t i = 0; jose_jwks_key(keys, i, &info); i++)
        if (strcmp(info.kid, kid) == 0)
            pkey = info.pkey;
    struct bare b;
    if (!pkey || bare_prepare(&b, token, alg) != 0 || bare_verify(&b, pkey) != 0) {
        fprintf(stderr, "jose_bench: the baseline check does not verify\n");
        return 1;
    }

    double t0 = now();
    for (int i = 0; i < n; i++) {
        if (jose_verify_id_token(token, tlen, keys, &policy, &claims, &err) != PAM_SUCCESS)
            return 1;
        jose_claims_free(claims);
    }
    double full = (now() - t0) / n;
    t0 = now();
    for (int i = 0; i < n; i++)
        if (bare_verify(&b, pkey) != 0)
            return 1;
    double base = (now() - t0) / n;
    t0 = now();
    for (int i = 0; i < n; i++) {
        struct jose_jwks *k2 = NULL;
        if (jose_jwks_parse(jwks, jlen, &k2, &err) != PAM_SUCCESS)
            return 1;
        jose_jwks_free(k2);
    }
    double parse = (now() - t0) / n;
    printf("%s ID token (%zu bytes): verify %.1f us, bare signature check %.1f us (%.2fx), "
           "JWKS parse (%zu bytes, %zu keys) %.1f us\n",
           alg, tlen, full * 1e6, base * 1e6, full / base, jlen, jose_jwks_count(keys),
           parse * 1e6);
    jose_jwks_free(keys);
    free(token);
    free(jwks);
    return 0;
}
