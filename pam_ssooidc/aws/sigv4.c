/* sigv4.c - AWS Signature Version 4 (header-based, HMAC-SHA256).
 *
 * Checks the signing key, then builds the canonical request (sigv4_canon.c),
 * the string to sign, the signing key and the Authorization header value. It
 * only signs: sending the request is the caller's business. Every input is
 * bounded and validated so a malformed request or key yields -1 instead of a
 * signature AWS would reject anyway (or a credential that could smuggle
 * extra fields into the Authorization line). */
#include "aws/sigv4.h"

#include "aws/sigv4_canon.h"
#include "aws/strbuf.h"
#include "core/util.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Far above any real credential, but bounded so the key on the stack and
 * the scope strings stay small. */
#define MAX_IDENT_LEN     128 /* access key id, region, service */
#define MAX_SECRET_LEN    256

#define AMZ_DATE_LEN      16  /* YYYYMMDDTHHMMSSZ */
#define SCOPE_DATE_LEN    8   /* YYYYMMDD */
#define SHA256_LEN        32
#define SHA256_HEX_LEN    (2 * SHA256_LEN)
#define ALGORITHM         "AWS4-HMAC-SHA256"

/* ---------------------------------------------------------------------------
 * Key checks. Characters are classified by hand rather than with <ctype.h>
 * because the result must not depend on the process locale. */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Region, service and access key id end up inside the credential scope and
 * the Authorization header, so '/', ',', '=' and whitespace must not. */
static bool is_ident_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' ||
           c == '_' || c == '.';
}

static bool amz_date_is_valid(const char *d)
{
    if (!sigv4_length_within(d, AMZ_DATE_LEN, AMZ_DATE_LEN))
        return false;
    for (size_t i = 0; i < AMZ_DATE_LEN; i++) {
        unsigned char c = (unsigned char)d[i];
        bool ok = i == 8 ? c == 'T' : i == 15 ? c == 'Z' : is_digit(c);
        if (!ok)
            return false;
    }
    return true;
}

static bool ident_is_valid(const char *s)
{
    if (!sigv4_length_within(s, 1, MAX_IDENT_LEN))
        return false;
    for (; *s; s++)
        if (!is_ident_char((unsigned char)*s))
            return false;
    return true;
}

static bool key_is_valid(const struct sigv4_key *key)
{
    return ident_is_valid(key->access_key_id) && ident_is_valid(key->region) &&
           ident_is_valid(key->service) &&
           sigv4_length_within(key->secret_access_key, 1, MAX_SECRET_LEN) &&
           amz_date_is_valid(key->amz_date);
}

/* ---------------------------------------------------------------------------
 * Hashing. */

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

static int sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
    unsigned char md[SHA256_LEN];
    unsigned int md_len = 0;
    if (!EVP_Digest(data ? data : "", len, md, &md_len, EVP_sha256(), NULL) || md_len != SHA256_LEN)
        return -1;
    to_hex(md, sizeof(md), out);
    return 0;
}

static int hmac_sha256(const void *key, size_t key_len, const char *data, size_t data_len,
                       unsigned char out[SHA256_LEN])
{
    unsigned int out_len = 0;
    if (key_len > INT_MAX)
        return -1;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, data_len, out, &out_len))
        return -1;
    return out_len == SHA256_LEN ? 0 : -1;
}

/* ---------------------------------------------------------------------------
 * The string to sign and the Authorization value. */

/* date/region/service/aws4_request */
static void put_scope(struct strbuf *sb, const struct sigv4_key *key)
{
    strbuf_append(sb, key->amz_date, SCOPE_DATE_LEN);
    strbuf_putc(sb, '/');
    strbuf_puts(sb, key->region);
    strbuf_putc(sb, '/');
    strbuf_puts(sb, key->service);
    strbuf_puts(sb, "/aws4_request");
}

static char *build_string_to_sign(const struct sigv4_key *key, const char *canonical_request)
{
    char creq_hash[SHA256_HEX_LEN + 1];
    if (sha256_hex(canonical_request, strlen(canonical_request), creq_hash) < 0)
        return NULL;
    struct strbuf sts = { 0 };
    strbuf_puts(&sts, ALGORITHM "\n");
    strbuf_puts(&sts, key->amz_date);
    strbuf_putc(&sts, '\n');
    put_scope(&sts, key);
    strbuf_putc(&sts, '\n');
    strbuf_puts(&sts, creq_hash);
    return strbuf_take(&sts);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request"). Every intermediate key is as good as the secret for this
 * day/region/service, so each is wiped before returning. */
static int derive_signing_key(const struct sigv4_key *key, unsigned char k_signing[SHA256_LEN])
{
    unsigned char k_secret[4 + MAX_SECRET_LEN];
    unsigned char k_date[SHA256_LEN], k_region[SHA256_LEN], k_service[SHA256_LEN];
    size_t secret_len = strlen(key->secret_access_key);
    memcpy(k_secret, "AWS4", 4);
    memcpy(k_secret + 4, key->secret_access_key, secret_len);
    int rc = hmac_sha256(k_secret, 4 + secret_len, key->amz_date, SCOPE_DATE_LEN, k_date);
    if (rc == 0)
        rc = hmac_sha256(k_date, SHA256_LEN, key->region, strlen(key->region), k_region);
    if (rc == 0)
        rc = hmac_sha256(k_region, SHA256_LEN, key->service, strlen(key->service), k_service);
    if (rc == 0)
        rc = hmac_sha256(k_service, SHA256_LEN, "aws4_request", strlen("aws4_request"), k_signing);
    sso_cleanse(k_secret, sizeof(k_secret));
    sso_cleanse(k_date, sizeof(k_date));
    sso_cleanse(k_region, sizeof(k_region));
    sso_cleanse(k_service, sizeof(k_service));
    return rc;
}

static int compute_signature(const struct sigv4_key *key, const char *string_to_sign,
                             char out[SHA256_HEX_LEN + 1])
{
    unsigned char k_signing[SHA256_LEN], mac[SHA256_LEN];
    int rc = derive_signing_key(key, k_signing);
    if (rc == 0)
        rc = hmac_sha256(k_signing, SHA256_LEN, string_to_sign, strlen(string_to_sign), mac);
    if (rc == 0)
        to_hex(mac, sizeof(mac), out);
    sso_cleanse(k_signing, sizeof(k_signing));
    sso_cleanse(mac, sizeof(mac));
    return rc;
}

static char *build_authorization(const struct sigv4_key *key, const char *signed_headers,
                                 const char *string_to_sign)
{
    char signature[SHA256_HEX_LEN + 1];
    if (compute_signature(key, string_to_sign, signature) < 0)
        return NULL;
    struct strbuf authz = { 0 };
    strbuf_puts(&authz, ALGORITHM " Credential=");
    strbuf_puts(&authz, key->access_key_id);
    strbuf_putc(&authz, '/');
    put_scope(&authz, key);
    strbuf_puts(&authz, ", SignedHeaders=");
    strbuf_puts(&authz, signed_headers);
    strbuf_puts(&authz, ", Signature=");
    strbuf_puts(&authz, signature);
    sso_cleanse(signature, sizeof(signature));
    return strbuf_take(&authz);
}

/* ---------------------------------------------------------------------------
 * Public interface. */

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_key *key,
               struct sigv4_result *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof(*out));
    if (!req || !key || !sigv4_request_is_valid(req) || !key_is_valid(key))
        return -1;
    char payload_hash[SHA256_HEX_LEN + 1];
    char *signed_headers = NULL;
    if (sha256_hex(req->payload, req->payload_len, payload_hash) == 0)
        out->canonical_request = sigv4_canonical_request(req, key->amz_date, payload_hash,
                                                         &signed_headers);
    if (out->canonical_request)
        out->string_to_sign = build_string_to_sign(key, out->canonical_request);
    if (out->string_to_sign)
        out->authorization = build_authorization(key, signed_headers, out->string_to_sign);
    free(signed_headers);
    if (!out->authorization) {
        sigv4_free(out);
        return -1;
    }
    return 0;
}

static void free_secret_string(char **s)
{
    if (*s) {
        sso_cleanse(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

/* The canonical request can carry the session token and the Authorization
 * value is replayable for minutes, so all outputs are wiped. */
void sigv4_free(struct sigv4_result *r)
{
    if (!r)
        return;
    free_secret_string(&r->canonical_request);
    free_secret_string(&r->string_to_sign);
    free_secret_string(&r->authorization);
}

/* Leaves buf empty when `now` has no 4-digit-year UTC form, so a later
 * sigv4_sign rejects it instead of signing a mangled date. */
void sigv4_amz_date(long long now, char buf[17])
{
    struct tm tm;
    time_t t = (time_t)now;
    buf[0] = '\0';
    if ((long long)t != now || !gmtime_r(&t, &tm))
        return;
    /* Only 4-digit years give 16 characters; %Y does not pad. */
    if (tm.tm_year < 1000 - 1900 || tm.tm_year > 9999 - 1900)
        return;
    if (strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm) != AMZ_DATE_LEN)
        buf[0] = '\0';
}
