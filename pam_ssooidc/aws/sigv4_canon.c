/* sigv4_canon.c - see sigv4_canon.h.
 *
 * Every input is bounded and validated so a malformed request is refused
 * instead of signed into something AWS would reject anyway (or carrying a
 * header that could smuggle extra fields into the Authorization line). */
#include "aws/sigv4_canon.h"

#include "aws/strbuf.h"

#include <stdlib.h>
#include <string.h>

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

/* Percent-encode one byte the SigV4 way: unreserved as-is, else %XX in
 * upper-case hex. */
static void put_encoded_byte(struct strbuf *sb, unsigned char c)
{
    static const char digits[] = "0123456789ABCDEF";
    if (is_unreserved(c)) {
        strbuf_putc(sb, (char)c);
        return;
    }
    char esc[3] = { '%', digits[c >> 4], digits[c & 0x0f] };
    strbuf_append(sb, esc, sizeof(esc));
}

/* ---------------------------------------------------------------------------
 * Input validation: the request's own fields. */

bool sigv4_length_within(const char *s, size_t min, size_t max)
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

bool sigv4_request_is_valid(const struct sigv4_request *req)
{
    if (!sigv4_length_within(req->method, 1, MAX_METHOD_LEN) ||
        !all_chars(req->method, is_token_char))
        return false;
    /* An origin-form path starts with '/'; "" is accepted as the root. */
    if (!sigv4_length_within(req->path, 0, MAX_PATH_LEN) || (req->path[0] && req->path[0] != '/'))
        return false;
    /* A NULL query means "no query", like "". */
    if (req->query && !sigv4_length_within(req->query, 0, MAX_QUERY_LEN))
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
    strbuf_truncate(sb, i > base ? i - 1 : base);
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
    strbuf_putc(sb, '/');
    for (size_t i = 0; i < n; i++)
        put_encoded_byte(sb, (unsigned char)seg[i]);
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
        strbuf_putc(sb, '/');
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
        put_encoded_byte(sb, c);
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
    strbuf_append(pool, "", 1);
    qp->value_off = pool->len;
    if (eq && put_requoted(pool, eq + 1, n - key_len - 1) < 0)
        return -1;
    strbuf_append(pool, "", 1);
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
            strbuf_putc(sb, '&');
        strbuf_puts(sb, params[i].key);
        strbuf_putc(sb, '=');
        strbuf_puts(sb, params[i].value);
    }
    free(params);
    strbuf_dispose(&pool);
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
    if (!sigv4_length_within(value, 0, MAX_VALUE_LEN))
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
            strbuf_putc(sb, ' ');
        gap = false;
        strbuf_putc(sb, *p);
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
            strbuf_putc(block, ',');
        } else {
            if (i > 0) {
                strbuf_putc(block, '\n');
                strbuf_putc(names, ';');
            }
            strbuf_puts(block, h[i].name);
            strbuf_putc(block, ':');
            strbuf_puts(names, h[i].name);
        }
        put_collapsed_value(block, h[i].value);
    }
    if (n > 0)
        strbuf_putc(block, '\n');
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
 * The canonical request. */

char *sigv4_canonical_request(const struct sigv4_request *req, const char *amz_date,
                              const char *payload_hash, char **signed_headers)
{
    struct strbuf creq = { 0 }, block = { 0 }, names = { 0 };
    int rc = put_canonical_headers(&block, &names, req, amz_date);
    if (rc == 0) {
        strbuf_puts(&creq, req->method);
        strbuf_putc(&creq, '\n');
        put_canonical_uri(&creq, req->path);
        strbuf_putc(&creq, '\n');
        rc = put_canonical_query(&creq, req->query ? req->query : "");
    }
    if (rc == 0) {
        /* has_required_headers() guarantees both buffers are non-empty. */
        strbuf_putc(&creq, '\n');
        strbuf_append(&creq, block.data, block.len);
        strbuf_putc(&creq, '\n');
        strbuf_append(&creq, names.data, names.len);
        strbuf_putc(&creq, '\n');
        strbuf_puts(&creq, payload_hash);
        *signed_headers = strbuf_take(&names);
    }
    strbuf_dispose(&block);
    strbuf_dispose(&names);
    if (rc < 0 || !*signed_headers) {
        strbuf_dispose(&creq);
        return NULL;
    }
    return strbuf_take(&creq);
}
