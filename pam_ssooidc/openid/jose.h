/* jose.h - verification of OpenID Connect ID tokens: strict base64url, a
 * JWKS read into OpenSSL keys, compact JWS signatures, and the ID token's
 * claims. No I/O, no global state; every function fails closed with a PAM
 * code and one sentence in a struct sso_error. docs/id-token-verification.md
 * lists what is checked, in which order. */
#ifndef SSO_JOSE_H
#define SSO_JOSE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <security/pam_modules.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/util.h"

/* ---- limits ---- */
#define JOSE_JWKS_MAX (64 * 1024)  /* bytes of a JWKS document */
#define JOSE_JWKS_DEPTH 8          /* nesting of a JWKS ({"keys":[{"x5c":[..]}]} is 4) */
#define JOSE_JWKS_KEYS_MAX 32      /* entries of "keys", usable or not */
#define JOSE_TOKEN_MAX (32 * 1024) /* bytes of a compact JWS */
#define JOSE_HEADER_MAX 2048       /* decoded JOSE header */
#define JOSE_CLAIMS_DEPTH 16       /* nesting of the claims object */
#define JOSE_KID_MAX 256           /* bytes of a kid, printable ASCII */
#define JOSE_AUD_MAX 32            /* audiences in an "aud" array */
#define JOSE_GROUPS_MAX 4096       /* elements of a groups claim */
#define JOSE_RSA_MIN_BITS 2048
#define JOSE_RSA_MAX_BITS 8192
#define JOSE_LEEWAY_DEFAULT 60 /* seconds of clock skew allowed on exp, nbf, iat */
#define JOSE_LEEWAY_MAX 300
#define JOSE_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z: later dates are absurd */

/* ---- algorithms: a set is a mask of these bits ---- */
enum jose_alg {
    JOSE_RS256 = 1u << 0, /* RSASSA-PKCS1-v1_5 */
    JOSE_RS384 = 1u << 1,
    JOSE_RS512 = 1u << 2,
    JOSE_PS256 = 1u << 3, /* RSASSA-PSS, MGF1 with the same hash, salt = hash length */
    JOSE_PS384 = 1u << 4,
    JOSE_PS512 = 1u << 5,
    JOSE_ES256 = 1u << 6, /* ECDSA P-256, raw R||S */
    JOSE_ES384 = 1u << 7, /* P-384 */
    JOSE_ES512 = 1u << 8, /* P-521 */
    JOSE_EDDSA = 1u << 9, /* Ed25519 or Ed448 */
};
#define JOSE_ALGS_DEFAULT (JOSE_RS256 | JOSE_PS256 | JOSE_ES256)
#define JOSE_ALGS_ALL 0x3ffu

/* The bit of a JWS "alg" name (case-sensitive), 0 for every other name:
 * "none" and the HMAC algorithms have no bit and can never be allowed. */
unsigned jose_alg_from_name(const char *name);

/* The name of one bit ("RS256"), NULL for anything else. */
const char *jose_alg_name(unsigned alg);

/* An allow-list as the option id_token_algs writes it: "RS256,PS256,ES256"
 * (names separated by commas, no spaces). PAM_SERVICE_ERR with a reason for
 * an empty list or entry, an unknown name, none, or an HMAC algorithm. */
int jose_alg_list(const char *text, unsigned *mask, struct sso_error *err);

/* ---- base64url (RFC 7515 section 2), strict ----
 * Only A-Z a-z 0-9 - _; no padding, whitespace or line breaks; a length
 * of 4k+1 is refused, and so are unused trailing bits that are not zero, so
 * every byte string has exactly one accepted encoding. */
#define JOSE_B64URL_DECODED_MAX(n) (((n) / 4) * 3 + 2)

/* Decode in[0..inlen) into out (outcap bytes). 0 with *outlen set, or -1
 * when the text is not canonical base64url or does not fit (out cleansed). */
int jose_b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap,
                       size_t *outlen);

/* Encode into out (outcap bytes) with a terminating NUL; the length, or 0
 * (out empty) when it does not fit. */
size_t jose_b64url_encode(const unsigned char *in, size_t inlen, char *out, size_t outcap);

/* ---- bounded JSON ----
 * One JSON object of at most max_len bytes, nested at most max_depth deep
 * (counted before jansson builds anything), duplicate members refused; NULL
 * otherwise. Release with sso_json_free. */
json_t *jose_json_object(const char *text, size_t len, size_t max_len, int max_depth);

/* ---- JWKS (RFC 7517) ---- */
struct jose_jwks;

/* Parse {"keys":[...]} into verification keys. A key is skipped, not
 * refused, when its "use" is not "sig", its "key_ops" lack "verify", its
 * "alg" is none of ours, its kty is not RSA/EC/OKP, or its curve is not
 * one we verify with. Every other key must be entirely valid, or the whole
 * JWKS is refused (PAM_AUTHINFO_UNAVAIL): RSA 2048..8192 bits with an odd
 * exponent 3..2^32-1, EC points on their curve, no private members, an
 * "alg" that fits the key, and no kid shared by two usable keys. A JWKS
 * with no usable key is refused too. PAM_BUF_ERR when memory runs out. */
int jose_jwks_parse(const char *body, size_t len, struct jose_jwks **out,
                    struct sso_error *err);
void jose_jwks_free(struct jose_jwks *keys);

/* Usable keys, in document order. */
size_t jose_jwks_count(const struct jose_jwks *keys);

/* One usable key, for diagnostics and tests; pointers live as long as the
 * JWKS. false when i is out of range. */
struct jose_key_info {
    const char *kid;  /* "" when the key has none */
    const char *kty;  /* "RSA", "EC", "OKP" */
    const char *crv;  /* "P-256", "Ed25519", ...; "" for RSA */
    unsigned algs;    /* what the key may verify: its type's, narrowed by its "alg" */
    int bits;
    const EVP_PKEY *pkey;
};
bool jose_jwks_key(const struct jose_jwks *keys, size_t i, struct jose_key_info *info);

/* ---- ID token ---- */
struct jose_policy {
    const char *issuer;    /* "iss" must equal it byte for byte */
    const char *client_id; /* must be in "aud"; "azp" rules below */
    unsigned algs;         /* allow-list (JOSE_ALGS_DEFAULT unless configured) */
    int leeway;            /* 0..JOSE_LEEWAY_MAX seconds */
    int64_t now;           /* epoch seconds; 0 means the wall clock now */
};

struct jose_claims;

/* Verify a compact JWS ID token, then its claims; on PAM_SUCCESS *out holds
 * the claims (release with jose_claims_free). The signature is verified
 * before the payload is parsed. The header must name an allowed "alg" (none
 * and HS* never), no "crit" extension, no "cty"/"zip", a "typ" of JWT if any;
 * the key is the one whose kid the header names (without a kid, the only key
 * of a one-key JWKS), and its type must fit the alg. Claims: "iss" equals
 * the issuer; "aud" (a string or an array of up to JOSE_AUD_MAX strings)
 * contains client_id; "azp", required with several audiences, equals
 * client_id when present; "exp" and "iat" required and "nbf" optional,
 * NumericDates within the leeway; "sub" a non-empty string.
 * Returns PAM_SUCCESS; SSO_UNKNOWN_KID; PAM_AUTHINFO_UNAVAIL for any
 * token that is not trustworthy; PAM_SERVICE_ERR for a bad policy;
 * PAM_BUF_ERR when memory runs out. Reasons name only the kid, the alg and
 * the iss, sanitized and cut short: the token is a bearer secret. */
int jose_verify_id_token(const char *token, size_t len, const struct jose_jwks *keys,
                         const struct jose_policy *policy, struct jose_claims **out,
                         struct sso_error *err);

/* Cleanses every string of the claims, then frees them. NULL is fine. */
void jose_claims_free(struct jose_claims *c);

/* The verified claims object (borrowed; valid until jose_claims_free). */
const json_t *jose_claims_json(const struct jose_claims *c);

/* The header's alg and kid ("" when none) of the verified token. */
const char *jose_claims_alg(const struct jose_claims *c);
const char *jose_claims_kid(const struct jose_claims *c);

/* A top-level claim (the name is not a path: "a.b" is one member) that must
 * be a non-empty JSON string without control characters and shorter than
 * dstlen. PAM_SUCCESS, or PAM_AUTHINFO_UNAVAIL (dst empty) when it is
 * absent, null, of another type, empty, or too long. */
int jose_claim_string(const struct jose_claims *c, const char *name, char *dst, size_t dstlen,
                      struct sso_error *err);

/* Whether the top-level claim `name` lists `group`, compared byte for byte
 * (case matters: "/admins" is not "/Admins"). The claim is an array of
 * strings or a single string (one group; never split on commas or spaces).
 * PAM_SUCCESS with *member set (false when the claim is absent or null);
 * PAM_AUTHINFO_UNAVAIL (*member false) when the claim is of another type,
 * holds a non-string, more than JOSE_GROUPS_MAX elements, or when the token
 * says the groups were left out ("_claim_names" names the claim: Entra's
 * group overage). */
int jose_claim_has_group(const struct jose_claims *c, const char *name, const char *group,
                         bool *member, struct sso_error *err);

/* The names (never the values) of the token's top-level claims, in token
 * order, as "iss, sub, aud" in buf: at most JOSE_NAMES_SHOWN names, each cut
 * to JOSE_NAME_SHOWN bytes ("~" marks a cut) with every byte outside
 * [A-Za-z0-9_.:-] shown as "?", and " (+N more)" for the names left out
 * (past the count or the buffer). buf is always terminated; "" when c is
 * NULL or has no claims. Returns how many names were shown. */
#define JOSE_NAMES_SHOWN 16
#define JOSE_NAME_SHOWN 24
size_t jose_claim_names(const struct jose_claims *c, char *buf, size_t len);

#endif
