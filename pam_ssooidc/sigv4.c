/* sigv4.c - AWS Signature Version 4 (header-based, HMAC-SHA256).
 *
 * Builds the canonical request, the string to sign, the signing key and the
 * Authorization header value. It only signs: sending the request is the
 * caller's business. Every input is bounded and validated so a malformed
 * request yields -1 instead of a signature AWS would reject anyway (or a
 * header that could smuggle extra fields into the Authorization line). */
#include "sigv4.h"

#include "util.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Far above anything this module sends (a handful of headers, an STS session
 * token of a few KiB, a short form body) but small enough that no input can
 * make the signer allocate without limit. */
#define MAX_HEADERS       64
#define MAX_NAME_LEN      128
#define MAX_VALUE_LEN     16384
#define MAX_PATH_LEN      4096
#define MAX_QUERY_LEN     16384
#define MAX_QUERY_PARAMS  512
#define MAX_PAYLOAD_LEN   ((size_t)16 * 1024 * 1024)
#define MAX_METHOD_LEN    16
#define MAX_IDENT_LEN     128 /* access key id, region, service */
#define MAX_SECRET_LEN    256

#define AMZ_DATE_LEN      16  /* YYYYMMDDTHHMMSSZ */
#define SCOPE_DATE_LEN    8   /* YYYYMMDD */
#define SHA256_LEN        32
#define SHA256_HEX_LEN    (2 * SHA256_LEN)
#define ALGORITHM         "AWS4-HMAC-SHA256"

/* ---------------------------------------------------------------------------
 * Growable string buffer. An allocation failure is remembered instead of
 * reported at every append, so builders stay linear; the owner checks once.
 * Buffers may hold a session token, so old storage is wiped before release. */

struct strbuf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

static bool sb_reserve(struct strbuf *sb, size_t extra)
{
    if (sb->failed)
        return false;
    if (extra > SIZE_MAX - sb->len - 1) {
        sb->failed = true;
        return false;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* malloc + copy rather than realloc: realloc may leave an unwiped copy. */
    char *grown = malloc(cap);
    if (!grown) {
        sb->failed = true;
        return false;
    }
    if (sb->data) {
        memcpy(grown, sb->data, sb->len + 1);
        sso_cleanse(sb->data, sb->cap);
        free(sb->data);
    }
    sb->data = grown;
    sb->cap = cap;
    return true;
}

static void sb_append(struct strbuf *sb, const char *s, size_t n)
{
    if (!sb_reserve(sb, n))
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

static void sb_puts(struct strbuf *sb, const char *s)
{
    sb_append(sb, s, strlen(s));
}

static void sb_putc(struct strbuf *sb, char c)
{
    sb_append(sb, &c, 1);
}

static void sb_truncate(struct strbuf *sb, size_t len)
{
    if (sb->data && len < sb->len) {
        sb->len = len;
        sb->data[len] = '\0';
    }
}

static void sb_dispose(struct strbuf *sb)
{
    if (sb->data) {
        sso_cleanse(sb->data, sb->cap);
        free(sb->data);
    }
    memset(sb, 0, sizeof(*sb));
}

/* Hand the string to the caller, or NULL (and release it) if any append
 * failed. An empty but successful buffer still yields "". */
static char *sb_take(struct strbuf *sb)
{
    if (!sb->failed && !sb->data)
        sb_reserve(sb, 0);
    if (sb->failed) {
        sb_dispose(sb);
        return NULL;
    }
    char *s = sb->data;
    memset(sb, 0, sizeof(*sb));
    return s;
}

/* ---------------------------------------------------------------------------
 * Character classes, written out rather than taken from <ctype.h> because the
 * result must not depend on the process locale. */

static bool is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 3986 unreserved: the only bytes SigV4 leaves unencoded. */
static bool is_unreserved(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 7230 tchar: what may appear in a method or a header field name. */
static bool is_token_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Region, service and access key id end up inside the credential scope and
 * the Authorization header, so '/', ',', '=' and whitespace must not. */
static bool is_ident_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.';
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* Percent-encode one byte the SigV4 way: unreserved as-is, else %XX in
 * upper-case hex. */
static void sb_put_encoded_byte(struct strbuf *sb, unsigned char c)
{
    static const char digits[] = "0123456789ABCDEF";
    if (is_unreserved(c)) {
        sb_putc(sb, (char)c);
        return;
    }
    char esc[3] = { '%', digits[c >> 4], digits[c & 0x0f] };
    sb_append(sb, esc, sizeof(esc));
}

/* ---------------------------------------------------------------------------
 * Input validation. */

static bool length_within(const char *s, size_t min, size_t max)
{
    if (!s)
        return false;
    size_t n = strnlen(s, max + 1);
    return n >= min && n <= max;
}

static bool all_chars(const char *s, bool (*allowed)(unsigned char))
{
    for (; *s; s++)
        if (!allowed((unsigned char)*s))
            return false;
    return true;
}

static bool amz_date_is_valid(const char *d)
{
    if (!length_within(d, AMZ_DATE_LEN, AMZ_DATE_LEN))
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
    return length_within(s, 1, MAX_IDENT_LEN) && all_chars(s, is_ident_char);
}

static bool key_is_valid(const struct sigv4_key *key)
{
    return ident_is_valid(key->access_key_id) && ident_is_valid(key->region) &&
           ident_is_valid(key->service) &&
           length_within(key->secret_access_key, 1, MAX_SECRET_LEN) &&
           amz_date_is_valid(key->amz_date);
}

static bool request_is_valid(const struct sigv4_request *req)
{
    if (!length_within(req->method, 1, MAX_METHOD_LEN) || !all_chars(req->method, is_token_char))
        return false;
    /* An origin-form path starts with '/'; "" is accepted as the root. */
    if (!length_within(req->path, 0, MAX_PATH_LEN) || (req->path[0] && req->path[0] != '/'))
        return false;
    /* A NULL query means "no query", like "". */
    if (req->query && !length_within(req->query, 0, MAX_QUERY_LEN))
        return false;
    if (req->n_headers > MAX_HEADERS || (req->n_headers && !req->headers))
        return false;
    if (req->payload_len > MAX_PAYLOAD_LEN || (req->payload_len && !req->payload))
        return false;
    return true;
}

/* ---------------------------------------------------------------------------
 * Canonical URI: RFC 3986 dot-segment removal plus dropping empty segments
 * (the suite maps "//example//" to "/example/"), then each remaining segment
 * percent-encoded once. A literal '%' therefore becomes "%25", which is the
 * "encode twice" AWS prescribes for every service except S3. */

static bool is_parent_segment(const char *seg, size_t n)
{
    return n == 2 && seg[0] == '.' && seg[1] == '.';
}

/* Drop the last "/segment" written after `base`. Encoded segments never
 * contain '/', so the last slash marks where that segment began. */
static void pop_segment(struct strbuf *sb, size_t base)
{
    size_t i = sb->len;
    while (i > base && sb->data[i - 1] != '/')
        i--;
    sb_truncate(sb, i > base ? i - 1 : base);
}

/* Returns true when the path, were it to end here, names a directory
 * (ends in "/", "/." or "/.."), so the canonical form keeps a trailing '/'. */
static bool put_path_segment(struct strbuf *sb, size_t base, const char *seg, size_t n)
{
    if (n == 0 || (n == 1 && seg[0] == '.'))
        return true;
    if (is_parent_segment(seg, n)) {
        pop_segment(sb, base);
        return true;
    }
    sb_putc(sb, '/');
    for (size_t i = 0; i < n; i++)
        sb_put_encoded_byte(sb, (unsigned char)seg[i]);
    return false;
}

static void put_canonical_uri(struct strbuf *sb, const char *path)
{
    size_t base = sb->len;
    bool directory = true;
    const char *seg = path[0] == '/' ? path + 1 : path;
    for (;;) {
        size_t n = strcspn(seg, "/");
        directory = put_path_segment(sb, base, seg, n);
        if (seg[n] == '\0')
            break;
        seg += n + 1;
    }
    if (directory || sb->len == base)
        sb_putc(sb, '/');
}

/* ---------------------------------------------------------------------------
 * Canonical query string. */

struct query_param {
    size_t key_off; /* into the pool, valid while it grows */
    size_t value_off;
    const char *key; /* resolved once the pool is final */
    const char *value;
};

/* Decode %XX first so input that is already encoded is not encoded twice,
 * then re-encode with the SigV4 rules. '+' is taken literally (-> %2B): AWS
 * does not treat it as a space. A stray '%' is malformed input. */
static int put_requoted(struct strbuf *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_value((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_value((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        sb_put_encoded_byte(sb, c);
    }
    return 0;
}

/* Append "key\0value\0" for one "key[=value]" parameter to the pool. */
static int pool_param(struct strbuf *pool, const char *param, size_t n, struct query_param *qp)
{
    const char *eq = memchr(param, '=', n);
    size_t key_len = eq ? (size_t)(eq - param) : n;
    qp->key_off = pool->len;
    if (put_requoted(pool, param, key_len) < 0)
        return -1;
    sb_append(pool, "", 1);
    qp->value_off = pool->len;
    if (eq && put_requoted(pool, eq + 1, n - key_len - 1) < 0)
        return -1;
    sb_append(pool, "", 1);
    return 0;
}

static int compare_params(const void *a, const void *b)
{
    const struct query_param *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static size_t count_params_upper_bound(const char *query)
{
    size_t n = 1;
    for (const char *p = query; *p; p++)
        n += *p == '&';
    return n;
}

/* Split on '&' (empty pieces carry nothing and are skipped), encode each key
 * and value into `pool`. Returns the number of parameters, or -1. */
static long parse_query(const char *query, struct strbuf *pool, struct query_param *params)
{
    size_t count = 0;
    const char *p = query;
    while (*p) {
        size_t n = strcspn(p, "&");
        if (n > 0 && pool_param(pool, p, n, &params[count++]) < 0)
            return -1;
        p += n + (p[n] == '&');
    }
    return pool->failed ? -1 : (long)count;
}

static int put_canonical_query(struct strbuf *sb, const char *query)
{
    size_t max = count_params_upper_bound(query);
    if (max > MAX_QUERY_PARAMS)
        return -1;
    struct query_param *params = calloc(max, sizeof(*params));
    struct strbuf pool = { 0 };
    long count = params ? parse_query(query, &pool, params) : -1;
    for (long i = 0; i < count; i++) {
        params[i].key = pool.data + params[i].key_off;
        params[i].value = pool.data + params[i].value_off;
    }
    if (count > 1)
        qsort(params, (size_t)count, sizeof(*params), compare_params);
    for (long i = 0; i < count; i++) {
        if (i > 0)
            sb_putc(sb, '&');
        sb_puts(sb, params[i].key);
        sb_putc(sb, '=');
        sb_puts(sb, params[i].value);
    }
    free(params);
    sb_dispose(&pool);
    return count < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------------------
 * Canonical headers and the signed-headers list. */

struct canon_header {
    char name[MAX_NAME_LEN + 1]; /* lower-cased, trimmed */
    const char *value;           /* as given; trimmed while writing */
    size_t order;                /* position in the request, for stable sort */
};

static const char *skip_space(const char *s)
{
    while (is_space((unsigned char)*s))
        s++;
    return s;
}

static bool lowercase_name(const char *name, char out[MAX_NAME_LEN + 1])
{
    const char *start = skip_space(name);
    size_t n = strnlen(start, MAX_NAME_LEN + 1);
    if (start[n] != '\0')
        return false; /* longer than any name we accept, even untrimmed */
    while (n > 0 && is_space((unsigned char)start[n - 1]))
        n--;
    if (n == 0 || n > MAX_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_token_char((unsigned char)start[i]))
            return false;
        out[i] = to_lower(start[i]);
    }
    out[n] = '\0';
    return true;
}

/* CR/LF (or any other control but TAB) in a value would let a caller's
 * header break the request framing, so it is rejected, not signed. */
static bool value_is_valid(const char *value)
{
    if (!length_within(value, 0, MAX_VALUE_LEN))
        return false;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    return true;
}

static int compare_headers(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Lower-case and validate every header, then sort by name; equal names keep
 * their request order because AWS joins their values in that order. */
static struct canon_header *collect_headers(const struct sigv4_request *req)
{
    struct canon_header *h = calloc(req->n_headers ? req->n_headers : 1, sizeof(*h));
    if (!h)
        return NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct sigv4_header *in = &req->headers[i];
        if (!in->name || !lowercase_name(in->name, h[i].name) || !value_is_valid(in->value)) {
            free(h);
            return NULL;
        }
        h[i].value = in->value;
        h[i].order = i;
    }
    qsort(h, req->n_headers, sizeof(*h), compare_headers);
    return h;
}

/* True if `value`, ignoring surrounding whitespace, is exactly `want`. */
static bool trimmed_equals(const char *value, const char *want)
{
    const char *v = skip_space(value);
    size_t n = strlen(want);
    return strncmp(v, want, n) == 0 && *skip_space(v + n) == '\0';
}

static size_t count_named(const struct canon_header *h, size_t n, const char *name, size_t *at)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(h[i].name, name) == 0) {
            *at = i;
            count++;
        }
    }
    return count;
}

/* AWS refuses a request without a signed host, and one whose signed
 * x-amz-date differs from the date in the scope; catching both here turns an
 * opaque "signature does not match" into an immediate local error. */
static bool has_required_headers(const struct canon_header *h, size_t n, const char *amz_date)
{
    size_t at = 0;
    if (count_named(h, n, "host", &at) != 1)
        return false;
    return count_named(h, n, "x-amz-date", &at) == 1 && trimmed_equals(h[at].value, amz_date);
}

/* Trim, and fold each run of spaces/tabs into a single space. */
static void put_collapsed_value(struct strbuf *sb, const char *value)
{
    bool gap = false;
    for (const char *p = skip_space(value); *p; p++) {
        if (is_space((unsigned char)*p)) {
            gap = true;
            continue;
        }
        if (gap)
            sb_putc(sb, ' ');
        gap = false;
        sb_putc(sb, *p);
    }
}

/* Writes "name:v1,v2\n" per distinct name into `block` and "a;b;c" into
 * `names`; `h` must be sorted. */
static void put_header_block(struct strbuf *block, struct strbuf *names,
                             const struct canon_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool same_as_previous = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
        if (same_as_previous) {
            sb_putc(block, ',');
        } else {
            if (i > 0) {
                sb_putc(block, '\n');
                sb_putc(names, ';');
            }
            sb_puts(block, h[i].name);
            sb_putc(block, ':');
            sb_puts(names, h[i].name);
        }
        put_collapsed_value(block, h[i].value);
    }
    if (n > 0)
        sb_putc(block, '\n');
}

static int put_canonical_headers(struct strbuf *block, struct strbuf *names,
                                 const struct sigv4_request *req, const char *amz_date)
{
    struct canon_header *h = collect_headers(req);
    if (!h)
        return -1;
    int rc = has_required_headers(h, req->n_headers, amz_date) ? 0 : -1;
    if (rc == 0)
        put_header_block(block, names, h, req->n_headers);
    free(h);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Hashing. */

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
 * The three outputs. */

/* METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED\nPAYLOAD-HASH; the signed header
 * list is also returned because the Authorization header repeats it. */
static char *build_canonical_request(const struct sigv4_request *req, const char *amz_date,
                                     char **signed_headers)
{
    struct strbuf creq = { 0 }, block = { 0 }, names = { 0 };
    char payload_hash[SHA256_HEX_LEN + 1];
    int rc = sha256_hex(req->payload, req->payload_len, payload_hash);
    if (rc == 0)
        rc = put_canonical_headers(&block, &names, req, amz_date);
    if (rc == 0) {
        sb_puts(&creq, req->method);
        sb_putc(&creq, '\n');
        put_canonical_uri(&creq, req->path);
        sb_putc(&creq, '\n');
        rc = put_canonical_query(&creq, req->query ? req->query : "");
    }
    if (rc == 0) {
        /* has_required_headers() guarantees both buffers are non-empty. */
        sb_putc(&creq, '\n');
        sb_append(&creq, block.data, block.len);
        sb_putc(&creq, '\n');
        sb_append(&creq, names.data, names.len);
        sb_putc(&creq, '\n');
        sb_puts(&creq, payload_hash);
        *signed_headers = sb_take(&names);
    }
    sb_dispose(&block);
    sb_dispose(&names);
    if (rc < 0 || !*signed_headers) {
        sb_dispose(&creq);
        return NULL;
    }
    return sb_take(&creq);
}

/* date/region/service/aws4_request */
static void put_scope(struct strbuf *sb, const struct sigv4_key *key)
{
    sb_append(sb, key->amz_date, SCOPE_DATE_LEN);
    sb_putc(sb, '/');
    sb_puts(sb, key->region);
    sb_putc(sb, '/');
    sb_puts(sb, key->service);
    sb_puts(sb, "/aws4_request");
}

static char *build_string_to_sign(const struct sigv4_key *key, const char *canonical_request)
{
    char creq_hash[SHA256_HEX_LEN + 1];
    if (sha256_hex(canonical_request, strlen(canonical_request), creq_hash) < 0)
        return NULL;
    struct strbuf sts = { 0 };
    sb_puts(&sts, ALGORITHM "\n");
    sb_puts(&sts, key->amz_date);
    sb_putc(&sts, '\n');
    put_scope(&sts, key);
    sb_putc(&sts, '\n');
    sb_puts(&sts, creq_hash);
    return sb_take(&sts);
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
    sb_puts(&authz, ALGORITHM " Credential=");
    sb_puts(&authz, key->access_key_id);
    sb_putc(&authz, '/');
    put_scope(&authz, key);
    sb_puts(&authz, ", SignedHeaders=");
    sb_puts(&authz, signed_headers);
    sb_puts(&authz, ", Signature=");
    sb_puts(&authz, signature);
    sso_cleanse(signature, sizeof(signature));
    return sb_take(&authz);
}

/* ---------------------------------------------------------------------------
 * Public interface. */

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_key *key,
               struct sigv4_result *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof(*out));
    if (!req || !key || !request_is_valid(req) || !key_is_valid(key))
        return -1;
    char *signed_headers = NULL;
    out->canonical_request = build_canonical_request(req, key->amz_date, &signed_headers);
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
