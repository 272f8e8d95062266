/* fuzz_sigv4 - sigv4_sign on requests carved from the input.
 *
 * Input: an HTTP request in the aws4_testsuite .req layout, so the suite's
 * files are seeds as they are:
 *     METHOD PATH[?QUERY] HTTP/1.1
 *     Name:value            (one per line; a line without ':' becomes a
 *     ...                    header named by the whole line, value "")
 *     <empty line>
 *     payload (any bytes, NULs included)
 * Signed with the suite's key (AKIDEXAMPLE, us-east-1, service,
 * 20150830T123600Z).
 * Invariants when sigv4_sign returns 0:
 *   - authorization is "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/<scope>,
 *     SignedHeaders=<list>, Signature=<64 lower-case hex>" and nothing else;
 *   - the canonical request has the SigV4 shape, line by line: the method;
 *     a URI of '/'-separated segments that are non-empty, not "." or "..",
 *     and encoded (unreserved bytes or %XX); a query of sorted, encoded
 *     k=v pairs; one "name:value" line per distinct header, names lower-case
 *     and strictly ascending, values trimmed with no double space; an empty
 *     line; the signed-header list (equal to the names above and to the one
 *     in authorization, with host and x-amz-date in it); the payload's
 *     SHA-256 in hex. An embedded NUL would cut it short and fail this;
 *   - string_to_sign is the algorithm, date, scope and SHA-256 of the
 *     canonical request, and Signature is its HMAC under the signing key,
 *     both recomputed here with OpenSSL;
 *   - signing the same input again gives identical output.
 * When it returns -1, all three outputs are NULL. */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz_common.h"
#include "aws/sigv4.h"

#define MAX_FUZZ_HEADERS 80 /* beyond the signer's 64, to reach its limit */
#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DATE "20150830T123600Z"
#define SCOPE "20150830/us-east-1/service/aws4_request"

static const char hexdig[] = "0123456789abcdef";

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    if (!EVP_Digest(n ? p : "", n, md, &len, EVP_sha256(), NULL) || len != 32)
        abort();
    hex(md, 32, out);
}

static void hmac(const void *key, size_t klen, const char *msg, size_t mlen,
                 unsigned char out[32])
{
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &len) ||
        len != 32)
        abort();
}

static void expected_signature(const char *string_to_sign, char out[65])
{
    unsigned char k[32];
    const char secret[] = "AWS4" SECRET;
    hmac(secret, strlen(secret), "20150830", 8, k);
    hmac(k, 32, "us-east-1", 9, k);
    hmac(k, 32, "service", 7, k);
    hmac(k, 32, "aws4_request", 12, k);
    unsigned char sig[32];
    hmac(k, 32, string_to_sign, strlen(string_to_sign), sig);
    hex(sig, 32, out);
}

static bool is_upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* s[0..n) consists of unreserved bytes and %XX with upper-case hex. */
static bool encoded(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (is_unreserved((unsigned char)s[i]))
            continue;
        if (s[i] != '%' || i + 2 >= n || !is_upper_hex(s[i + 1]) || !is_upper_hex(s[i + 2]))
            return false;
        i += 2;
    }
    return true;
}

static void check_uri(const char *u, size_t n)
{
    FUZZ_CHECK(n >= 1 && u[0] == '/', "canonical URI starts with '/'");
    size_t i = 1;
    while (i < n) {
        size_t j = i;
        while (j < n && u[j] != '/')
            j++;
        size_t seg = j - i;
        FUZZ_CHECK(seg > 0, "no empty segment in the canonical URI");
        FUZZ_CHECK(!(seg == 1 && u[i] == '.') && !(seg == 2 && u[i] == '.' && u[i + 1] == '.'),
                   "no . or .. segment left in the canonical URI");
        FUZZ_CHECK(encoded(u + i, seg), "canonical URI segments are encoded");
        i = j + 1; /* past the '/', or past the end */
    }
}

static void check_query(const char *q, size_t n)
{
    const char *prev_k = NULL;
    size_t prev_kl = 0, prev_vl = 0;
    const char *prev_v = NULL;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        const char *eq = memchr(q + i, '=', j - i);
        FUZZ_CHECK(eq != NULL, "every query parameter is k=v");
        size_t kl = (size_t)(eq - (q + i)), vl = j - i - kl - 1;
        const char *k = q + i, *v = eq + 1;
        FUZZ_CHECK(encoded(k, kl) && encoded(v, vl), "query keys and values are encoded");
        if (prev_k) {
            size_t m = prev_kl < kl ? prev_kl : kl;
            int c = memcmp(prev_k, k, m);
            if (c == 0)
                c = (prev_kl > kl) - (prev_kl < kl);
            if (c == 0) {
                size_t mv = prev_vl < vl ? prev_vl : vl;
                c = memcmp(prev_v, v, mv);
                if (c == 0)
                    c = (prev_vl > vl) - (prev_vl < vl);
            }
            FUZZ_CHECK(c <= 0, "query parameters are sorted by key, then value");
        }
        prev_k = k, prev_kl = kl, prev_v = v, prev_vl = vl;
        FUZZ_CHECK(j == n || j + 1 < n, "no trailing '&' in the canonical query");
        i = j + 1;
    }
}

/* The canonical request's lines, checked in order. */
static void check_canonical(const char *creq, const char *method, const char *signed_list,
                            const char *payload_hash)
{
    const char *lines[4 * MAX_FUZZ_HEADERS];
    size_t lens[4 * MAX_FUZZ_HEADERS], nl = 0;
    const char *p = creq;
    for (;;) {
        const char *e = strchr(p, '\n');
        FUZZ_CHECK(nl < sizeof(lines) / sizeof(lines[0]), "a plausible number of lines");
        lines[nl] = p;
        lens[nl++] = e ? (size_t)(e - p) : strlen(p);
        if (!e)
            break;
        p = e + 1;
    }
    FUZZ_CHECK(nl >= 7, "at least method, URI, query, 2 headers, blank, signed, hash");
    FUZZ_CHECK(lens[0] == strlen(method) && memcmp(lines[0], method, lens[0]) == 0,
               "first line is the method");
    check_uri(lines[1], lens[1]);
    check_query(lines[2], lens[2]);
    FUZZ_CHECK(lens[nl - 1] == 64 && memcmp(lines[nl - 1], payload_hash, 64) == 0,
               "last line is the payload's SHA-256");
    FUZZ_CHECK(lens[nl - 2] == strlen(signed_list) &&
                   memcmp(lines[nl - 2], signed_list, lens[nl - 2]) == 0,
               "signed headers line equals the SignedHeaders in authorization");
    FUZZ_CHECK(lens[nl - 3] == 0, "an empty line ends the header block");

    /* Rebuild the signed list from the header lines while checking them. */
    char rebuilt[MAX_FUZZ_HEADERS * 140];
    size_t r = 0;
    const char *prev = NULL;
    size_t prevlen = 0;
    bool host = false, date = false;
    for (size_t i = 3; i < nl - 3; i++) {
        const char *colon = memchr(lines[i], ':', lens[i]);
        FUZZ_CHECK(colon != NULL, "header line is name:value");
        size_t namelen = (size_t)(colon - lines[i]);
        const char *val = colon + 1;
        size_t vlen = lens[i] - namelen - 1;
        FUZZ_CHECK(namelen > 0, "header name non-empty");
        for (size_t k = 0; k < namelen; k++)
            FUZZ_CHECK(!(lines[i][k] >= 'A' && lines[i][k] <= 'Z') && lines[i][k] > 0x20,
                       "header names lower-case tokens");
        if (prev) {
            size_t m = prevlen < namelen ? prevlen : namelen;
            int c = memcmp(prev, lines[i], m);
            FUZZ_CHECK(c < 0 || (c == 0 && prevlen < namelen),
                       "header names strictly ascending (duplicates merged)");
        }
        FUZZ_CHECK(vlen == 0 || (val[0] != ' ' && val[vlen - 1] != ' '), "values trimmed");
        for (size_t k = 0; k < vlen; k++) {
            FUZZ_CHECK(val[k] != '\t' && (unsigned char)val[k] >= 0x20 && val[k] != 0x7f,
                       "no tab or control byte in a canonical value");
            FUZZ_CHECK(!(val[k] == ' ' && k + 1 < vlen && val[k + 1] == ' '),
                       "runs of spaces folded");
        }
        host |= namelen == 4 && memcmp(lines[i], "host", 4) == 0;
        date |= namelen == 10 && memcmp(lines[i], "x-amz-date", 10) == 0;
        if (r)
            rebuilt[r++] = ';';
        memcpy(rebuilt + r, lines[i], namelen);
        r += namelen;
        prev = lines[i], prevlen = namelen;
    }
    rebuilt[r] = '\0';
    FUZZ_CHECK(host && date, "host and x-amz-date are signed");
    FUZZ_CHECK(strcmp(rebuilt, signed_list) == 0, "SignedHeaders lists exactly the header lines");
}

static void check_signed(const struct sigv4_result *res, const char *method, const char *payload,
                         size_t payload_len)
{
    FUZZ_CHECK(res->canonical_request && res->string_to_sign && res->authorization,
               "all three outputs on success");
    static const char prefix[] = "AWS4-HMAC-SHA256 Credential=" AKID "/" SCOPE ", SignedHeaders=";
    const char *a = res->authorization;
    FUZZ_CHECK(strncmp(a, prefix, sizeof(prefix) - 1) == 0,
               "authorization starts with the algorithm, credential and scope");
    const char *list = a + sizeof(prefix) - 1;
    const char *sig = strstr(list, ", Signature=");
    FUZZ_CHECK(sig != NULL, "authorization has Signature=");
    char signed_list[MAX_FUZZ_HEADERS * 140];
    size_t ll = (size_t)(sig - list);
    FUZZ_CHECK(ll > 0 && ll < sizeof(signed_list), "signed list length");
    memcpy(signed_list, list, ll);
    signed_list[ll] = '\0';
    sig += strlen(", Signature=");
    FUZZ_CHECK(strlen(sig) == 64 && fuzz_only(sig, "0123456789abcdef"),
               "Signature is 64 lower-case hex digits and ends the value");

    char payload_hash[65], creq_hash[65], want_sig[65];
    sha256_hex(payload, payload_len, payload_hash);
    check_canonical(res->canonical_request, method, signed_list, payload_hash);

    sha256_hex(res->canonical_request, strlen(res->canonical_request), creq_hash);
    char want_sts[256];
    snprintf(want_sts, sizeof(want_sts), "AWS4-HMAC-SHA256\n" DATE "\n" SCOPE "\n%s", creq_hash);
    FUZZ_CHECK(strcmp(res->string_to_sign, want_sts) == 0,
               "string to sign = algorithm, date, scope, hash of the canonical request");
    expected_signature(res->string_to_sign, want_sig);
    FUZZ_CHECK(strcmp(sig, want_sig) == 0, "Signature is the HMAC under the derived key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    char *reqline = fuzz_line(&in);
    size_t rl = strlen(reqline);
    if (rl && reqline[rl - 1] == '\r')
        reqline[--rl] = '\0';
    /* METHOD SP TARGET [SP HTTP/x] */
    char *sp = strchr(reqline, ' ');
    char *method = reqline, *target = sp ? sp + 1 : reqline + rl;
    if (sp)
        *sp = '\0';
    char *ver = strstr(target, " HTTP/");
    if (ver)
        *ver = '\0';
    char *qmark = strchr(target, '?');
    const char *query = NULL;
    if (qmark) {
        *qmark = '\0';
        query = qmark + 1;
    }

    struct sigv4_header headers[MAX_FUZZ_HEADERS];
    char *owned[MAX_FUZZ_HEADERS];
    size_t nh = 0;
    while (in.n && nh < MAX_FUZZ_HEADERS) {
        char *line = fuzz_line(&in);
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (l == 0) {
            free(line);
            break;
        }
        owned[nh] = line;
        char *colon = strchr(line, ':');
        if (colon)
            *colon = '\0';
        headers[nh].name = line;
        headers[nh].value = colon ? colon + 1 : line + l;
        nh++;
    }
    char *payload = fuzz_dup_exact(in.p, in.n);

    struct sigv4_request req = {method, target, query, headers, nh, payload, in.n};
    struct sigv4_key key = {AKID, SECRET, "us-east-1", "service", DATE};
    struct sigv4_result r1, r2;
    memset(&r1, 0xA5, sizeof(r1));
    int rc = sigv4_sign(&req, &key, &r1);
    FUZZ_CHECK(rc == 0 || rc == -1, "0 or -1");
    if (rc == 0) {
        check_signed(&r1, method, payload, in.n);
    } else {
        FUZZ_CHECK(!r1.canonical_request && !r1.string_to_sign && !r1.authorization,
                   "no output after a failure");
    }
    int rc2 = sigv4_sign(&req, &key, &r2);
    FUZZ_CHECK(rc2 == rc, "same verdict when signing again");
    if (rc == 0)
        FUZZ_CHECK(strcmp(r1.canonical_request, r2.canonical_request) == 0 &&
                       strcmp(r1.string_to_sign, r2.string_to_sign) == 0 &&
                       strcmp(r1.authorization, r2.authorization) == 0,
                   "signing is deterministic");
    sigv4_free(&r1);
    sigv4_free(&r2);
    FUZZ_CHECK(!r1.canonical_request && !r1.string_to_sign && !r1.authorization,
               "sigv4_free clears the result");

    free(payload);
    for (size_t i = 0; i < nh; i++)
        free(owned[i]);
    free(reqline);
    return 0;
}
