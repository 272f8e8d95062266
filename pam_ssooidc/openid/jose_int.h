/* jose_int.h - what the jose_*.c files share and nobody else needs. */
#ifndef SSO_JOSE_INT_H
#define SSO_JOSE_INT_H

#include "openid/jose.h"

/* A usable verification key of a JWKS. */
struct jose_key {
    char kid[JOSE_KID_MAX + 1];
    bool has_kid;
    const char *kty; /* static: "RSA", "EC", "OKP" */
    const char *crv; /* static: "P-256", ..., "" for RSA */
    unsigned algs;   /* what it may verify */
    bool alg_member; /* algs narrowed by the JWK's own "alg" */
    int bits;
    size_t sig_len; /* the exact length of a signature by this key */
    EVP_PKEY *pkey;
};

struct jose_jwks {
    size_t n;
    struct jose_key key[JOSE_JWKS_KEYS_MAX];
};

/* A compact JWS whose signature verified. payload is a heap copy of the
 * decoded payload (a bearer secret): jose_jws_clear cleanses and frees it. */
struct jose_jws {
    unsigned alg;
    char kid[JOSE_KID_MAX + 1]; /* "" when the header has none */
    unsigned char *payload;
    size_t payload_len;
};

/* Split, decode, check the header, pick the key and verify the signature.
 * Returns PAM_SUCCESS, SSO_UNKNOWN_KID, PAM_AUTHINFO_UNAVAIL or
 * PAM_BUF_ERR; on failure *out holds nothing. */
int jose_jws_verify(const char *token, size_t len, const struct jose_jwks *keys, unsigned algs,
                    struct jose_jws *out, struct sso_error *err);
void jose_jws_clear(struct jose_jws *jws);

/* A key with exactly this kid, or NULL. */
const struct jose_key *jose_jwks_find(const struct jose_jwks *keys, const char *kid);

/* Is ch one of base64url's 64 characters? */
bool jose_b64url_char(char ch);

/* Is s (n bytes) 1..JOSE_KID_MAX bytes of printable ASCII (no space)? */
bool jose_kid_ok(const char *s, size_t n);

/* s made safe and short (max_chars) for a log message, in buf. */
const char *jose_shown(char *buf, size_t buflen, const char *s, size_t max_chars);

#endif
