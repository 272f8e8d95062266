/* identitystore.c - see identitystore.h. */
#include "aws/identitystore.h"

#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/awserr.h"
#include "aws/awssign.h"
#include "core/json.h"
#include "core/sanitize.h"

#define IDS_CONTENT_TYPE "application/x-amz-json-1.1"
#define IDS_TARGET_PREFIX "AWSIdentityStore."

/* The answer as one JSON object. NUL characters are allowed inside strings
 * so that one user's odd name is that user's problem (directory.c), not a
 * reason to throw away the page. */
static json_t *parse_answer(const struct http_response *r)
{
    json_t *root = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                              NULL);
    if (root && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* The ResourceType a ResourceNotFoundException names, kept only when it is
 * one of the model's (it is compared, never shown). */
static void resource_type(const struct http_response *r, char *dst, size_t len)
{
    json_t *root = parse_answer(r);
    const char *type = root ? json_string_value(json_object_get(root, "ResourceType")) : NULL;
    dst[0] = '\0';
    if (type && strspn(type, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(type))
        sso_strlcpy(dst, type, len);
    json_decref(root);
}

/* "identity store d-..." when the answer names the store, else what the
 * caller asked about. */
static void not_found_what(const struct ids_client *x, const struct ids_failure *why,
                           const char *resource, char *dst, size_t len)
{
    if (strcmp(why->resource_type, "IDENTITY_STORE") == 0)
        snprintf(dst, len, "identity store %s (identity_store_id)", x->a->identity_store_id);
    else
        snprintf(dst, len, "%s", resource);
}

static int ids_error(const struct ids_client *x, const char *op, const char *resource,
                     const struct http_response *r, struct ids_failure *why,
                     struct sso_error *err)
{
    struct aws_error e;
    aws_error_decode(aws_error_type(r), r->body, r->body_len, &e);
    snprintf(why->type, sizeof(why->type), "%s", e.type);
    char msg[128], what[160];
    sanitize_display(msg, sizeof(msg), e.message[0] ? e.message : "no message", 100);
    if (strcmp(e.type, "AccessDeniedException") == 0)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: access denied (AccessDeniedException): "
                        "the host's credentials need the permission identitystore:%s (%s)", op,
                        op, msg);
    if (strcmp(e.type, "ResourceNotFoundException") == 0) {
        resource_type(r, why->resource_type, sizeof(why->resource_type));
        not_found_what(x, why, resource, what, sizeof(what));
        return sso_fail(err, PAM_SERVICE_ERR, "%s: %s not found (ResourceNotFoundException): "
                        "check the configuration", op, what);
    }
    if (strcmp(e.type, "ValidationException") == 0)
        return sso_fail(err, PAM_SERVICE_ERR, "%s: the service refused the request as invalid "
                        "(ValidationException: %s)", op, msg);
    if (aws_throttled(r))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: still throttled after the retries "
                        "(%s); try again later", op, e.type);
    return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: HTTP %ld %s (%s)", op, r->status,
                    e.type[0] ? e.type : "(no error type)", msg);
}

/* Sign and send one body; the counters see every attempt. */
static int send_signed(const struct ids_client *x, const char *op, const char *body,
                       struct http_response *resp, struct sso_error *err)
{
    char target[96], url[CFG_URL_MAX + 8];
    snprintf(target, sizeof(target), IDS_TARGET_PREFIX "%s", op);
    snprintf(url, sizeof(url), "%s/", x->a->identity_store_endpoint);
    const struct awssign_header extra[] = {{"Content-Type", IDS_CONTENT_TYPE},
                                           {"X-Amz-Target", target}};
    const struct awssign_post post = {x->a->identity_store_endpoint, x->a->region,
                                      "identitystore", extra, 2, body, strlen(body)};
    struct awssign_headers sh;
    if (awssign_sign_post(&post, x->creds, &sh) != 0) {
        awssign_cleanse(&sh);
        return sso_fail(err, PAM_SERVICE_ERR, "%s: cannot sign the request (is "
                        "identity_store_endpoint https://host[:port]?)", op);
    }
    long retries = http_retries(x->h), throttled = http_throttled(x->h);
    int rc = http_request(x->h, op, "POST", url, sh.lines, body, resp, err);
    awssign_cleanse(&sh);
    *x->requests += 1 + (http_retries(x->h) - retries);
    *x->throttled += http_throttled(x->h) - throttled;
    return rc;
}

int ids_call(const struct ids_client *x, const char *op, json_t *req, const char *resource,
             json_t **answer, struct ids_failure *why, struct sso_error *err)
{
    *answer = NULL;
    memset(why, 0, sizeof(*why));
    char *body = json_dumps(req, JSON_COMPACT);
    if (!body)
        return sso_fail(err, PAM_BUF_ERR, "%s: out of memory", op);
    struct http_response resp;
    int rc = send_signed(x, op, body, &resp, err);
    free(body);
    if (rc != PAM_SUCCESS)
        return rc;
    if (resp.status != 200)
        rc = ids_error(x, op, resource, &resp, why, err);
    else if (!(*answer = parse_answer(&resp)))
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: the answer is not a JSON object (%zu "
                      "bytes); nothing read", op, resp.body_len);
    http_response_free(&resp);
    return rc;
}

/* The NextTokens handed out so far, as 64-bit digests (FNV-1a): a token
 * seen twice means the listing goes round in circles. A digest collision
 * could only stop a sync that was fine, never let a loop run. */
struct token_seen {
    uint64_t *digests;
    size_t n, cap;
};

static uint64_t digest(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* 1 when seen before, 0 when new (and remembered), -1 out of memory. */
static int token_remember(struct token_seen *t, const char *s, size_t n)
{
    uint64_t d = digest(s, n);
    for (size_t i = 0; i < t->n; i++) /* at most IDS_PAGES_MAX: cheap beside the calls */
        if (t->digests[i] == d)
            return 1;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        uint64_t *p = realloc(t->digests, cap * sizeof(*p));
        if (!p)
            return -1;
        t->digests = p;
        t->cap = cap;
    }
    t->digests[t->n++] = d;
    return 0;
}

/* The page's elements to each(); PAM_SUCCESS. */
static int page_items(json_t *answer, const char *op, const char *list, ids_each_fn each,
                      void *ctx, struct sso_error *err)
{
    json_t *items = json_object_get(answer, list);
    if (!json_is_array(items))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: a page has no %s list; nothing read",
                        op, list);
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        int rc = each(ctx, item, err);
        if (rc != PAM_SUCCESS)
            return rc;
    }
    return PAM_SUCCESS;
}

/* The answer's NextToken into req for the next page; *more says whether
 * there is one. */
static int next_token(json_t *answer, json_t *req, const char *op, struct token_seen *seen,
                      bool *more, struct sso_error *err)
{
    json_t *tok = json_object_get(answer, "NextToken");
    *more = false;
    if (!tok || json_is_null(tok))
        return PAM_SUCCESS;
    size_t n = json_is_string(tok) ? json_string_length(tok) : 0;
    if (n == 0 || n > IDS_NEXT_TOKEN_MAX)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: a page's NextToken is not a string of "
                        "1 to %d characters; nothing read", op, IDS_NEXT_TOKEN_MAX);
    int r = token_remember(seen, json_string_value(tok), n);
    if (r < 0)
        return sso_fail(err, PAM_BUF_ERR, "%s: out of memory", op);
    if (r > 0)
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: the service handed out a NextToken "
                        "it had given before (a paging loop); nothing read", op);
    if (json_object_set_new(req, "NextToken", json_stringn(json_string_value(tok), n)) != 0)
        return sso_fail(err, PAM_BUF_ERR, "%s: out of memory", op);
    *more = true;
    return PAM_SUCCESS;
}

int ids_list(const struct ids_client *x, const char *op, json_t *req, const char *list,
             const char *resource, ids_each_fn each, void *ctx, struct sso_error *err)
{
    struct token_seen seen = {NULL, 0, 0};
    struct ids_failure why;
    int rc = json_object_set_new(req, "MaxResults", json_integer(IDS_PAGE_SIZE)) == 0
                 ? PAM_SUCCESS
                 : sso_fail(err, PAM_BUF_ERR, "%s: out of memory", op);
    json_object_del(req, "NextToken");
    bool more = true;
    for (long page = 0; rc == PAM_SUCCESS && more; page++) {
        if (page >= IDS_PAGES_MAX) {
            rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "%s: more than %d pages (a paging "
                          "loop?); nothing read", op, IDS_PAGES_MAX);
            break;
        }
        json_t *answer = NULL;
        rc = ids_call(x, op, req, resource, &answer, &why, err);
        if (rc == PAM_SUCCESS)
            rc = page_items(answer, op, list, each, ctx, err);
        if (rc == PAM_SUCCESS)
            rc = next_token(answer, req, op, &seen, &more, err);
        json_decref(answer);
    }
    free(seen.digests);
    return rc;
}
