/* test_sigv4.c - sigv4.c against AWS's SigV4 test suite, plus our own cases.
 *
 * The suite lives in $AWS4_TESTSUITE, else tests/unit/aws4_testsuite
 * relative to the working directory (the repo root). Its case directories are
 * discovered at run time and each becomes one cmocka test, so a case added to
 * or missing from the suite shows up in the output instead of going unseen. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "aws/sigv4.h"

#define DEFAULT_SUITE_DIR "tests/unit/aws4_testsuite"
#define MAX_CASES         512  /* bounds the on-stack test table */
#define MAX_DEPTH         4    /* the suite nests one level; guards loops */
#define MAX_FILE_SIZE     (1024 * 1024)
#define MAX_REQ_HEADERS   32

/* Signing parameters shared by every case, from the suite's README.md. */
#define SUITE_ACCESS_KEY  "AKIDEXAMPLE"
#define SUITE_SECRET_KEY  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE        "20150830T123600Z"
#define SUITE_REGION      "us-east-1"
#define SUITE_SERVICE     "service"

/* The four cases the README allows a client to skip, with its reasons. */
static const struct {
    const char *name;
    const char *reason;
} suite_skips[] = {
    { "normalize-path/get-space", "request line is malformed (space in the path)" },
    { "get-vanilla-query-order-key", "repeats one query key, which AWS SDKs do not send" },
    { "get-vanilla-query-order-key-case", "repeats one query key, which AWS SDKs do not send" },
    { "get-vanilla-query-order-value", "repeats one query key, which AWS SDKs do not send" },
};
#define N_SUITE_SKIPS (sizeof(suite_skips) / sizeof(suite_skips[0]))

/* ------------------------------------------------------------------------
 * Case discovery. */

struct suite_case {
    char dir[PATH_MAX];  /* directory holding STEM.req, .creq, .sts, ... */
    char name[256];      /* path under the suite root, e.g. "normalize-path/get-slash" */
    const char *stem;    /* last component of name: the files' base name */
};

struct suite {
    char root[PATH_MAX];
    struct suite_case *cases;
    size_t n_cases;
    size_t cap;
    size_t n_leaf_dirs;  /* directories without subdirectories */
    char error[PATH_MAX + 64];
};

static bool join_path(char *out, size_t outlen, const char *a, const char *b)
{
    int n = snprintf(out, outlen, "%s/%s", a, b);
    return n > 0 && (size_t)n < outlen;
}

static bool is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Sorted names of the subdirectories of `path` (readdir order is arbitrary). */
static int list_subdirs(const char *path, char ***out, size_t *n_out)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char full[PATH_MAX];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!join_path(full, sizeof(full), path, e->d_name) || !is_directory(full))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(names, ncap * sizeof(*names));
            if (!grown) {
                rc = -1;
                break;
            }
            names = grown;
            cap = ncap;
        }
        if (!(names[n] = strdup(e->d_name)))
            rc = -1;
        else
            n++;
    }
    closedir(d);
    if (rc < 0) {
        free_names(names, n);
        return -1;
    }
    if (n > 1)
        qsort(names, n, sizeof(*names), compare_names);
    *out = names;
    *n_out = n;
    return 0;
}

static int add_case(struct suite *s, const char *dir, const char *rel)
{
    if (s->n_cases == MAX_CASES) {
        snprintf(s->error, sizeof(s->error), "more than %d cases", MAX_CASES);
        return -1;
    }
    if (s->n_cases == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        struct suite_case *grown = realloc(s->cases, ncap * sizeof(*grown));
        if (!grown) {
            snprintf(s->error, sizeof(s->error), "out of memory");
            return -1;
        }
        s->cases = grown;
        s->cap = ncap;
    }
    struct suite_case *c = &s->cases[s->n_cases];
    if (strlen(rel) >= sizeof(c->name) || strlen(dir) >= sizeof(c->dir)) {
        snprintf(s->error, sizeof(s->error), "path too long: %s", rel);
        return -1;
    }
    strcpy(c->dir, dir);
    strcpy(c->name, rel);
    const char *slash = strrchr(c->name, '/');
    c->stem = slash ? slash + 1 : c->name;
    s->n_cases++;
    return 0;
}

/* A directory holding STEM.req (STEM = its own name) is a case; one with
 * subdirectories is a group (normalize-path/, post-sts-token/). */
static int walk_suite(struct suite *s, const char *rel, int depth)
{
    char dir[PATH_MAX], req[PATH_MAX], file[PATH_MAX];
    const char *stem = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    if (depth > MAX_DEPTH || !join_path(dir, sizeof(dir), s->root, rel) ||
        snprintf(file, sizeof(file), "%s.req", stem) >= (int)sizeof(file) ||
        !join_path(req, sizeof(req), dir, file)) {
        snprintf(s->error, sizeof(s->error), "cannot walk %s", rel);
        return -1;
    }
    char **subdirs = NULL;
    size_t n_subdirs = 0;
    if (list_subdirs(dir, &subdirs, &n_subdirs) < 0) {
        snprintf(s->error, sizeof(s->error), "cannot read directory %s", dir);
        return -1;
    }
    int rc = is_regular_file(req) ? add_case(s, dir, rel) : 0;
    if (n_subdirs == 0)
        s->n_leaf_dirs++;
    for (size_t i = 0; rc == 0 && i < n_subdirs; i++) {
        char child[PATH_MAX];
        if (snprintf(child, sizeof(child), "%s/%s", rel, subdirs[i]) >= (int)sizeof(child)) {
            snprintf(s->error, sizeof(s->error), "path too long under %s", rel);
            rc = -1;
            break;
        }
        rc = walk_suite(s, child, depth + 1);
    }
    free_names(subdirs, n_subdirs);
    return rc;
}

static void discover_suite(struct suite *s)
{
    const char *root = getenv("AWS4_TESTSUITE");
    if (!root || !*root)
        root = DEFAULT_SUITE_DIR;
    if (strlen(root) >= sizeof(s->root)) {
        snprintf(s->error, sizeof(s->error), "AWS4_TESTSUITE path too long");
        return;
    }
    strcpy(s->root, root);
    char **top = NULL;
    size_t n_top = 0;
    if (list_subdirs(s->root, &top, &n_top) < 0) {
        snprintf(s->error, sizeof(s->error), "cannot read suite directory %s", s->root);
        return;
    }
    for (size_t i = 0; i < n_top && walk_suite(s, top[i], 1) == 0; i++)
        ;
    free_names(top, n_top);
}

static const char *skip_reason(const char *name)
{
    for (size_t i = 0; i < N_SUITE_SKIPS; i++)
        if (strcmp(suite_skips[i].name, name) == 0)
            return suite_skips[i].reason;
    return NULL;
}

static bool suite_has_case(const struct suite *s, const char *name)
{
    for (size_t i = 0; i < s->n_cases; i++)
        if (strcmp(s->cases[i].name, name) == 0)
            return true;
    return false;
}

/* Every leaf directory must be a case (else a case could hide under a name
 * we do not recognise), and every skipped name must exist (else the skip
 * list has gone stale and is hiding nothing). */
static void test_suite_inventory(void **state)
{
    const struct suite *s = *state;
    if (s->error[0])
        fail_msg("%s", s->error);
    print_message("# %zu cases in %s (%zu leaf directories), %zu skipped per README\n",
                  s->n_cases, s->root, s->n_leaf_dirs, N_SUITE_SKIPS);
    assert_true(s->n_cases > 0);
    assert_int_equal(s->n_cases, s->n_leaf_dirs);
    for (size_t i = 0; i < N_SUITE_SKIPS; i++)
        if (!suite_has_case(s, suite_skips[i].name))
            fail_msg("skipped case %s is not in the suite", suite_skips[i].name);
}

/* ------------------------------------------------------------------------
 * Reading and parsing a case. */

static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(MAX_FILE_SIZE + 1);
    size_t len = buf ? fread(buf, 1, MAX_FILE_SIZE + 1, f) : 0;
    bool ok = buf && !ferror(f) && len <= MAX_FILE_SIZE;
    fclose(f);
    if (!ok) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

static char *read_case_file(const struct suite_case *c, const char *ext, size_t *len)
{
    char name[PATH_MAX], path[PATH_MAX];
    if (snprintf(name, sizeof(name), "%s.%s", c->stem, ext) >= (int)sizeof(name) ||
        !join_path(path, sizeof(path), c->dir, name))
        return NULL;
    return read_file(path, len);
}

/* An HTTP request parsed in place: every pointer refers into `buf`. */
struct http_message {
    char *buf;
    const char *method;
    const char *path;
    const char *query;
    struct sigv4_header headers[MAX_REQ_HEADERS];
    size_t n_headers;
    const char *body;
    size_t body_len;
};

/* NUL-terminate the line at *cursor (dropping "\n" or "\r\n") and advance. */
static char *next_line(char **cursor, char *end, char **line_end)
{
    char *line = *cursor;
    if (line >= end)
        return NULL;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    char *stop = nl ? nl : end;
    *cursor = nl ? nl + 1 : end;
    if (stop > line && stop[-1] == '\r')
        stop--;
    *stop = '\0';
    *line_end = stop;
    return line;
}

/* "METHOD SP request-target SP HTTP-version", exactly two spaces. */
static bool parse_request_line(struct http_message *m, char *line)
{
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp2 == sp1 + 1)
        return false;
    *sp1 = *sp2 = '\0';
    char *target = sp1 + 1;
    char *q = strchr(target, '?');
    if (q)
        *q = '\0';
    m->method = line;
    m->path = target;
    m->query = q ? q + 1 : "";
    return true;
}

/* A line starting with whitespace continues the previous header's value
 * (obs-fold). The lines are contiguous in the buffer, so overwriting the
 * line break between them with spaces unfolds the value in place, and the
 * signer collapses the resulting run of whitespace. */
static bool parse_header_line(struct http_message *m, char *line, char *prev_end)
{
    if (line[0] == ' ' || line[0] == '\t') {
        if (m->n_headers == 0)
            return false;
        memset(prev_end, ' ', (size_t)(line - prev_end));
        return true;
    }
    char *colon = strchr(line, ':');
    if (!colon || m->n_headers == MAX_REQ_HEADERS)
        return false;
    *colon = '\0';
    m->headers[m->n_headers].name = line;
    m->headers[m->n_headers].value = colon + 1;
    m->n_headers++;
    return true;
}

/* Takes ownership of buf. Everything after the first empty line is body. */
static bool parse_http_message(struct http_message *m, char *buf, size_t len)
{
    memset(m, 0, sizeof(*m));
    m->buf = buf;
    char *cursor = buf, *end = buf + len, *line_end = NULL, *prev_end = NULL;
    char *line = next_line(&cursor, end, &line_end);
    if (!line || !parse_request_line(m, line))
        return false;
    while ((line = next_line(&cursor, end, &line_end)) != NULL && line[0] != '\0') {
        if (!parse_header_line(m, line, prev_end))
            return false;
        prev_end = line_end;
    }
    m->body = cursor;
    m->body_len = (size_t)(end - cursor);
    return true;
}

static const char *find_header(const struct http_message *m, const char *name)
{
    for (size_t i = 0; i < m->n_headers; i++)
        if (strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

/* Whether `item` is one of the ';'-separated names after "SignedHeaders=". */
static bool signed_headers_include(const char *authorization, const char *item)
{
    const char *list = strstr(authorization, "SignedHeaders=");
    if (!list)
        return false;
    list += strlen("SignedHeaders=");
    size_t list_len = strcspn(list, ", ");
    size_t item_len = strlen(item);
    for (const char *p = list; p < list + list_len;) {
        size_t n = strcspn(p, ";, ");
        if (n == item_len && strncasecmp(p, item, n) == 0)
            return true;
        p += n + 1;
    }
    return false;
}

/* The suite expresses temporary credentials only in the signed request: in
 * get-vanilla-with-session-token the .req lacks the token, while the .sreq
 * shows it sent and signed. Add it to the headers to sign in that situation
 * (as a client holding the session token would); leave post-sts-header-after
 * alone, where the token is appended after signing and not signed. */
static bool add_session_token(struct http_message *req, const struct http_message *sreq)
{
    const char *token = find_header(sreq, "X-Amz-Security-Token");
    const char *authz = find_header(sreq, "Authorization");
    if (!token || !authz || find_header(req, "X-Amz-Security-Token") ||
        !signed_headers_include(authz, "x-amz-security-token"))
        return true;
    if (req->n_headers == MAX_REQ_HEADERS)
        return false;
    req->headers[req->n_headers].name = "X-Amz-Security-Token";
    req->headers[req->n_headers].value = token;
    req->n_headers++;
    return true;
}

/* ------------------------------------------------------------------------
 * Running a case. */

struct case_run {
    struct http_message req, sreq;
    char *creq, *sts, *authz;
    struct sigv4_result result;
};

static void case_run_free(struct case_run *r)
{
    free(r->req.buf);
    free(r->sreq.buf);
    free(r->creq);
    free(r->sts);
    free(r->authz);
    sigv4_free(&r->result);
}

/* Returns NULL on success, else what went wrong (for fail_msg). */
static const char *load_case(const struct suite_case *c, struct case_run *r)
{
    size_t len = 0;
    char *raw = read_case_file(c, "req", &len);
    if (!raw)
        return "cannot read .req";
    if (!parse_http_message(&r->req, raw, len))
        return "cannot parse .req";
    raw = read_case_file(c, "sreq", &len);
    if (raw && !parse_http_message(&r->sreq, raw, len))
        return "cannot parse .sreq";
    if (raw && !add_session_token(&r->req, &r->sreq))
        return "too many headers in .req";
    r->creq = read_case_file(c, "creq", NULL);
    r->sts = read_case_file(c, "sts", NULL);
    r->authz = read_case_file(c, "authz", NULL);
    if (!r->creq || !r->sts || !r->authz)
        return "cannot read .creq, .sts or .authz";
    return NULL;
}

static int sign_case(struct case_run *r)
{
    const struct sigv4_request req = {
        .method = r->req.method,
        .path = r->req.path,
        .query = r->req.query,
        .headers = r->req.headers,
        .n_headers = r->req.n_headers,
        .payload = r->req.body,
        .payload_len = r->req.body_len,
    };
    const struct sigv4_key key = {
        .access_key_id = SUITE_ACCESS_KEY,
        .secret_access_key = SUITE_SECRET_KEY,
        .region = SUITE_REGION,
        .service = SUITE_SERVICE,
        .amz_date = SUITE_DATE,
    };
    return sigv4_sign(&req, &key, &r->result);
}

static bool same_text(const char *what, const char *expected, const char *actual)
{
    if (actual && strcmp(expected, actual) == 0)
        return true;
    print_error("%s differs\n--- expected\n%s\n--- actual\n%s\n--- end\n", what, expected,
                actual ? actual : "(null)");
    return false;
}

static void test_suite_case(void **state)
{
    const struct suite_case *c = *state;
    const char *why = skip_reason(c->name);
    if (why) {
        print_message("# SKIP %s: %s (named in the suite README)\n", c->name, why);
        skip();
    }
    struct case_run r;
    memset(&r, 0, sizeof(r));
    const char *problem = load_case(c, &r);
    if (!problem && sign_case(&r) != 0)
        problem = "sigv4_sign returned -1";
    bool ok = !problem;
    /* Compare all three (no short-circuit) so one run shows every mismatch;
     * free before asserting because a failed assert does not return. */
    if (ok) {
        ok &= same_text("canonical request", r.creq, r.result.canonical_request);
        ok &= same_text("string to sign", r.sts, r.result.string_to_sign);
        ok &= same_text("authorization", r.authz, r.result.authorization);
    }
    case_run_free(&r);
    if (problem)
        fail_msg("%s: %s", c->name, problem);
    assert_true(ok);
}

/* ------------------------------------------------------------------------
 * Our own cases. */

static void test_amz_date(void **state)
{
    (void)state;
    char buf[17];
    sigv4_amz_date(1440938160LL, buf); /* the suite's request time */
    assert_string_equal(buf, "20150830T123600Z");
    sigv4_amz_date(0, buf);
    assert_string_equal(buf, "19700101T000000Z");
    sigv4_amz_date(951782400LL, buf); /* leap day */
    assert_string_equal(buf, "20000229T000000Z");
    sigv4_amz_date(253402300799LL, buf); /* last second with a 4-digit year */
    assert_string_equal(buf, "99991231T235959Z");
    sigv4_amz_date(253402300800LL, buf); /* year 10000 would overflow buf */
    assert_string_equal(buf, "");
}

/* An STS call made with temporary credentials: the session token is signed.
 * Headers arrive in arbitrary order with mixed case and sloppy whitespace.
 * Expected values were computed independently with Python hashlib/hmac. */
#define STS_TOKEN "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+TOKEN=="
#define STS_DATE  "20240102T030405Z"

static void test_sts_post_with_session_token(void **state)
{
    (void)state;
    static const char body[] = "Action=GetCallerIdentity&Version=2011-06-15";
    const struct sigv4_header headers[] = {
        { "X-Amz-Security-Token", STS_TOKEN },
        { "Content-Type", "  application/x-www-form-urlencoded;   charset=utf-8 " },
        { "host", "sts.us-east-1.amazonaws.com" },
        { "X-AMZ-DATE", STS_DATE },
    };
    const struct sigv4_request req = { "POST", "/", "", headers, 4, body, sizeof(body) - 1 };
    const struct sigv4_key key = { "ASIAEXAMPLEKEYID1234", "Fake/Secret+Key/For0Unit0Tests0Only0000",
                                   "us-east-1", "sts", STS_DATE };
    struct sigv4_result out;
    assert_int_equal(sigv4_sign(&req, &key, &out), 0);
    assert_string_equal(out.canonical_request,
                        "POST\n/\n\n"
                        "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
                        "host:sts.us-east-1.amazonaws.com\n"
                        "x-amz-date:" STS_DATE "\n"
                        "x-amz-security-token:" STS_TOKEN "\n\n"
                        "content-type;host;x-amz-date;x-amz-security-token\n"
                        "ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843");
    assert_string_equal(out.string_to_sign,
                        "AWS4-HMAC-SHA256\n" STS_DATE "\n20240102/us-east-1/sts/aws4_request\n"
                        "3bdfed1c22c4f5470821459d86918c4cfa490a7bc5198420e235f215d0a4d83e");
    assert_string_equal(out.authorization,
                        "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEYID1234/20240102/us-east-1/sts/"
                        "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                        "x-amz-security-token, Signature="
                        "8bb4aeeb9146d8dbdda53a4bbdaa525a0997d5de4e855c47e497e2d707fcb2fa");
    sigv4_free(&out);
    assert_null(out.canonical_request);
    assert_null(out.authorization);
    sigv4_free(&out); /* a second free is harmless */
}

/* Lines 2 and 3 of the canonical request for a given path and query. */
static void check_uri_and_query(const char *path, const char *query, const char *want)
{
    const struct sigv4_header headers[] = { { "Host", "example.com" }, { "X-Amz-Date", STS_DATE } };
    const struct sigv4_request req = { "GET", path, query, headers, 2, NULL, 0 };
    const struct sigv4_key key = { "AKID", "secret", "eu-west-1", "sso-oauth", STS_DATE };
    struct sigv4_result out;
    assert_int_equal(sigv4_sign(&req, &key, &out), 0);
    const char *line2 = strchr(out.canonical_request, '\n') + 1;
    const char *after3 = strchr(strchr(line2, '\n') + 1, '\n');
    bool ok = strlen(want) == (size_t)(after3 - line2) && strncmp(line2, want, strlen(want)) == 0;
    if (!ok)
        print_error("path %s query %s: got\n%.*s\nwant\n%s\n", path, query ? query : "(null)",
                    (int)(after3 - line2), line2, want);
    sigv4_free(&out);
    assert_true(ok);
}

static void test_uri_and_query_encoding(void **state)
{
    (void)state;
    /* Already-encoded input is not encoded again; '+' is literal; a key
     * without '=' gets an empty value; sorting is by key, then value. */
    check_uri_and_query("/", "b=%7E+x&a&c=%2f&a=1&&", "/\na=&a=1&b=~%2Bx&c=%2F");
    check_uri_and_query("/", NULL, "/\n");
    check_uri_and_query("", "", "/\n");
    /* Path: dot segments and empty segments go, each segment encoded once. */
    check_uri_and_query("/a b/%41/../c~/./", "", "/a%20b/c~/\n");
    check_uri_and_query("/../..", "", "/\n");
    check_uri_and_query("/a/b/..", "", "/a/\n");
}

/* One well-formed request, mutated per rejection test. */
struct bad_input {
    struct sigv4_header headers[70];
    struct sigv4_request req;
    struct sigv4_key key;
};

static void good_input(struct bad_input *b)
{
    memset(b, 0, sizeof(*b));
    b->headers[0] = (struct sigv4_header){ "Host", "example.com" };
    b->headers[1] = (struct sigv4_header){ "X-Amz-Date", STS_DATE };
    b->req = (struct sigv4_request){ "POST", "/", "a=b", b->headers, 2, "x", 1 };
    b->key = (struct sigv4_key){ "AKID", "secret", "us-east-1", "sts", STS_DATE };
}

static void expect_rejected(const struct bad_input *b, const char *what)
{
    struct sigv4_result out = { (char *)"x", (char *)"y", (char *)"z" };
    int rc = sigv4_sign(&b->req, &b->key, &out);
    if (rc == 0) {
        sigv4_free(&out);
        fail_msg("accepted: %s", what);
    }
    assert_int_equal(rc, -1);
    /* On failure the outputs are cleared, so sigv4_free stays safe. */
    assert_null(out.canonical_request);
    assert_null(out.string_to_sign);
    assert_null(out.authorization);
}

static void test_rejects_bad_input(void **state)
{
    (void)state;
    struct bad_input b;
    struct sigv4_result out;
    char long_name[200], long_path[5000];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';

    good_input(&b);
    assert_int_equal(sigv4_sign(&b.req, &b.key, &out), 0); /* the baseline is fine */
    sigv4_free(&out);
    assert_int_equal(sigv4_sign(NULL, &b.key, &out), -1);
    assert_int_equal(sigv4_sign(&b.req, NULL, &out), -1);
    assert_int_equal(sigv4_sign(&b.req, &b.key, NULL), -1);

    good_input(&b);
    for (size_t i = 2; i < 70; i++)
        b.headers[i] = (struct sigv4_header){ "X-Filler", "v" };
    b.req.n_headers = 70;
    expect_rejected(&b, "absurd header count");
    good_input(&b); b.req.headers = NULL;            expect_rejected(&b, "NULL headers");
    good_input(&b); b.headers[0].name = "Ho st";     expect_rejected(&b, "space inside a name");
    good_input(&b); b.headers[0].name = "";          expect_rejected(&b, "empty name");
    good_input(&b); b.headers[0].name = long_name;   expect_rejected(&b, "name too long");
    good_input(&b); b.headers[0].value = NULL;       expect_rejected(&b, "NULL value");
    good_input(&b); b.headers[0].value = "a\r\nX: y"; expect_rejected(&b, "CRLF in a value");
    good_input(&b); b.headers[0].name = "Hostx";     expect_rejected(&b, "no host");
    good_input(&b); b.headers[1].name = "Date";      expect_rejected(&b, "no x-amz-date");
    good_input(&b); b.headers[1].value = "20240102T030406Z"; expect_rejected(&b, "date mismatch");
    good_input(&b);
    b.headers[2] = (struct sigv4_header){ "HOST", "example.org" };
    b.req.n_headers = 3;
    expect_rejected(&b, "two hosts");
    good_input(&b); b.req.query = "a=%zz";           expect_rejected(&b, "bad escape");
    good_input(&b); b.req.query = "a=%4";            expect_rejected(&b, "short escape");
    good_input(&b); b.req.path = "relative";         expect_rejected(&b, "relative path");
    good_input(&b); b.req.path = NULL;               expect_rejected(&b, "NULL path");
    good_input(&b); b.req.path = long_path;          expect_rejected(&b, "path too long");
    good_input(&b); b.req.method = "GE T";           expect_rejected(&b, "space in method");
    good_input(&b); b.req.payload = NULL;            expect_rejected(&b, "NULL payload, length 1");
    good_input(&b); b.req.payload_len = (size_t)1 << 40; expect_rejected(&b, "huge payload");
    good_input(&b); b.key.amz_date = "2024-01-02T03:04:05Z"; expect_rejected(&b, "bad date form");
    good_input(&b); b.key.amz_date = "";             expect_rejected(&b, "empty date");
    good_input(&b); b.key.region = "us/east";        expect_rejected(&b, "'/' in region");
    good_input(&b); b.key.service = "";              expect_rejected(&b, "empty service");
    good_input(&b); b.key.access_key_id = "AKID, Signature=0"; expect_rejected(&b, "',' in key id");
    good_input(&b); b.key.secret_access_key = "";    expect_rejected(&b, "empty secret");
    good_input(&b); b.key.secret_access_key = NULL;  expect_rejected(&b, "NULL secret");
}

/* ------------------------------------------------------------------------ */

static const struct CMUnitTest own_tests[] = {
    cmocka_unit_test(test_amz_date),
    cmocka_unit_test(test_sts_post_with_session_token),
    cmocka_unit_test(test_uri_and_query_encoding),
    cmocka_unit_test(test_rejects_bad_input),
};
#define N_OWN_TESTS (sizeof(own_tests) / sizeof(own_tests[0]))

int main(void)
{
    struct suite s;
    memset(&s, 0, sizeof(s));
    discover_suite(&s);

    /* The table is sized at run time (a VLA, bounded by MAX_CASES) so the
     * cmocka_run_group_tests_name macro can still count it with sizeof. */
    size_t n_tests = N_OWN_TESTS + 1 + s.n_cases;
    struct CMUnitTest tests[n_tests];
    memset(tests, 0, sizeof(tests));
    memcpy(tests, own_tests, sizeof(own_tests));
    tests[N_OWN_TESTS] = (struct CMUnitTest){ .name = "aws4_testsuite inventory",
                                              .test_func = test_suite_inventory,
                                              .initial_state = &s };
    for (size_t i = 0; i < s.n_cases; i++)
        tests[N_OWN_TESTS + 1 + i] = (struct CMUnitTest){ .name = s.cases[i].name,
                                                          .test_func = test_suite_case,
                                                          .initial_state = &s.cases[i] };
    int failed = cmocka_run_group_tests_name("sigv4", tests, NULL, NULL);
    free(s.cases);
    return failed;
}
