/* identitystore.h - calls to the Identity Store API: JSON 1.1 over POST /
 * at identity_store_endpoint, X-Amz-Target AWSIdentityStore.<Op>, SigV4
 * with service identitystore (aws/awssign.h), and the paging of its List
 * operations. What the answers mean is directory.c's. */
#ifndef SSO_IDENTITYSTORE_H
#define SSO_IDENTITYSTORE_H

#include <jansson.h>

#include "aws/aws_config.h"
#include "aws/portal.h" /* struct role_credentials */
#include "core/http.h"
#include "core/util.h"

#define IDS_PAGE_SIZE 100       /* MaxResults: the model's most */
#define IDS_PAGES_MAX 10000     /* more pages of one listing is a loop */
#define IDS_NEXT_TOKEN_MAX 65535 /* the model's NextToken length */
#define IDS_ERROR_TYPE_MAX 96

/* Who calls, with what; the counters are the caller's (struct directory). */
struct ids_client {
    struct http_client *h;
    const struct aws_cfg *a;
    const struct role_credentials *creds;
    long *requests;  /* attempts sent, retries included */
    long *throttled; /* throttling answers among them */
};

/* What an error answer said, for callers that treat one error apart. */
struct ids_failure {
    char type[IDS_ERROR_TYPE_MAX]; /* the AWS error type; "" when none */
    char resource_type[32];        /* ResourceNotFoundException's ResourceType
                                    * (IDENTITY_STORE, GROUP, USER); "" when none */
};

/* One call of operation `op` with request object `req` (not taken). On
 * PAM_SUCCESS, *answer is the answer's JSON object (json_decref it).
 * Otherwise err says what failed, and *why what the service answered (all
 * empty when it did not answer with an error): AccessDeniedException is
 * PAM_AUTHINFO_UNAVAIL naming the permission identitystore:<op>;
 * ResourceNotFoundException (naming `resource`, or the store when the
 * answer says so) and ValidationException are PAM_SERVICE_ERR; throttling
 * beyond the retries, 5xx, and every other answer PAM_AUTHINFO_UNAVAIL. */
int ids_call(const struct ids_client *x, const char *op, json_t *req, const char *resource,
             json_t **answer, struct ids_failure *why, struct sso_error *err);

/* Each element of one page's list; PAM_SUCCESS to go on. */
typedef int (*ids_each_fn)(void *ctx, json_t *item, struct sso_error *err);

/* Every page of a List operation: req (IdentityStoreId and the op's own
 * members; MaxResults and NextToken are set here) is sent until an answer
 * has no NextToken; each element of the answer's array `list` goes to
 * each(). A page that lacks the array, a NextToken seen before, or more
 * than IDS_PAGES_MAX pages fail the whole listing. */
int ids_list(const struct ids_client *x, const char *op, json_t *req, const char *list,
             const char *resource, ids_each_fn each, void *ctx, struct sso_error *err);

#endif
