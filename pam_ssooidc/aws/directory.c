/* directory.c - see directory.h: the host's credentials, then the members
 * of sync_groups, then their names and statuses. The members are collected
 * into one array, sorted by user_id and merged, so that every later lookup
 * is a bsearch (10,000 members in 5 groups cost n log n, not n^2). */
#include "aws/directory.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/awserr.h"
#include "aws/credfile.h"
#include "aws/diruser.h"
#include "aws/identitystore.h"
#include "aws/imds.h"

#define DIRECTORY_PEOPLE_MAX 1000000 /* members gathered, before merging */

int directory_credentials(const struct cfg *c, const struct aws_cfg *a,
                          struct role_credentials *out, int64_t *expires, struct sso_error *err)
{
    (void)c;
    *expires = 0;
    if (a->sync_credentials_file[0])
        return credfile_read(a->sync_credentials_file, out, err);
    return imds_credentials(a->imds_endpoint, out, expires, err);
}

/* What a listing's callbacks work on. */
struct dir_read {
    const struct ids_client *x;
    struct directory *d;
    uint32_t bit;           /* the group being listed */
    const char *group_id;
    unsigned char *state;   /* per person: DIR_UNSEEN, DIR_SEEN, DIR_GONE */
};
enum { DIR_UNSEEN, DIR_SEEN, DIR_GONE };

static int person_cmp(const void *a, const void *b)
{
    return strcmp(((const struct directory_person *)a)->user_id,
                  ((const struct directory_person *)b)->user_id);
}

static struct directory_person *find(const struct directory *d, const char *user_id)
{
    struct directory_person key;
    if (!sso_strlcpy(key.user_id, user_id, sizeof(key.user_id)))
        return NULL;
    return bsearch(&key, d->people, d->n, sizeof(*d->people), person_cmp);
}

static int append(struct directory *d, const char *user_id, uint32_t bit, struct sso_error *err)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        struct directory_person *p = cap <= DIRECTORY_PEOPLE_MAX
                                         ? realloc(d->people, cap * sizeof(*p)) : NULL;
        if (!p)
            return sso_fail(err, PAM_BUF_ERR, "ListGroupMemberships: out of memory (or more "
                            "than %d memberships)", DIRECTORY_PEOPLE_MAX);
        d->people = p;
        d->cap = cap;
    }
    struct directory_person *p = &d->people[d->n++];
    memset(p, 0, sizeof(*p));
    sso_strlcpy(p->user_id, user_id, sizeof(p->user_id));
    p->enabled = true;
    p->groups = bit;
    return PAM_SUCCESS;
}

/* One GroupMembership: its MemberId's UserId, if it has one. A malformed
 * one fails the read: a member missing from the list would look like a
 * member who left. */
static int each_membership(void *ctx, json_t *item, struct sso_error *err)
{
    struct dir_read *r = ctx;
    json_t *member = json_object_get(item, "MemberId");
    if (!json_is_object(member))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ListGroupMemberships: a membership of "
                        "group %s has no MemberId object; nothing read", r->group_id);
    json_t *uid = json_object_get(member, "UserId");
    if (!uid)
        return PAM_SUCCESS; /* a member that is not a user (the union may grow) */
    const char *s = json_string_value(uid);
    if (!s || json_string_length(uid) != strlen(s) || !aws_resource_id_ok(s))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ListGroupMemberships: a membership of "
                        "group %s has a UserId that is not an Identity Store id; nothing read",
                        r->group_id);
    return append(r->d, s, r->bit, err);
}

/* Sorted by user_id, one entry per person with the groups' bits merged. */
static void merge_members(struct directory *d)
{
    if (d->n == 0)
        return;
    qsort(d->people, d->n, sizeof(*d->people), person_cmp);
    size_t out = 0;
    for (size_t i = 1; i < d->n; i++) {
        if (strcmp(d->people[i].user_id, d->people[out].user_id) == 0)
            d->people[out].groups |= d->people[i].groups;
        else
            d->people[++out] = d->people[i];
    }
    d->n = out + 1;
}

static json_t *store_request(const struct aws_cfg *a)
{
    return json_pack("{s:s}", "IdentityStoreId", a->identity_store_id);
}

static int read_groups(struct dir_read *r, struct sso_error *err)
{
    struct aws_sync_group groups[AWS_SYNC_GROUPS_MAX];
    size_t n = aws_sync_groups(r->x->a, groups, AWS_SYNC_GROUPS_MAX);
    int rc = PAM_SUCCESS;
    for (size_t i = 0; i < n && rc == PAM_SUCCESS; i++) {
        char what[sizeof(groups[i].id) + 32];
        snprintf(what, sizeof(what), "group %.*s (sync_groups)",
                 AWS_RESOURCE_ID_MAX, groups[i].id);
        json_t *req = store_request(r->x->a);
        if (!req || json_object_set_new(req, "GroupId", json_string(groups[i].id)) != 0)
            rc = sso_fail(err, PAM_BUF_ERR, "ListGroupMemberships: out of memory");
        r->bit = (uint32_t)1 << i;
        r->group_id = groups[i].id;
        if (rc == PAM_SUCCESS)
            rc = ids_list(r->x, "ListGroupMemberships", req, "GroupMemberships", what,
                          each_membership, r, err);
        json_decref(req);
    }
    if (rc == PAM_SUCCESS)
        merge_members(r->d);
    return rc;
}

/* One User of ListUsers: filled in when a member. */
/* A user's name, if their record passes the checks, into the list of who
 * holds which name. */
static int note_name(struct directory *d, const char *user_id, json_t *user,
                     struct sso_error *err)
{
    struct directory_person tmp;
    memset(&tmp, 0, sizeof(tmp));
    diruser_fill(&tmp, user);
    if (tmp.problem[0] || !tmp.user_name[0])
        return PAM_SUCCESS;
    if (d->n_names == d->cap_names) {
        size_t cap = d->cap_names ? d->cap_names * 2 : 256;
        struct directory_name *n = cap <= DIRECTORY_PEOPLE_MAX
                                       ? realloc(d->names, cap * sizeof(*n)) : NULL;
        if (!n)
            return sso_fail(err, PAM_BUF_ERR, "ListUsers: out of memory (or more than %d "
                            "users)", DIRECTORY_PEOPLE_MAX);
        d->names = n;
        d->cap_names = cap;
    }
    struct directory_name *n = &d->names[d->n_names++];
    sso_strlcpy(n->user_id, user_id, sizeof(n->user_id));
    sso_strlcpy(n->user_name, tmp.user_name, sizeof(n->user_name));
    return PAM_SUCCESS;
}

static int each_user(void *ctx, json_t *item, struct sso_error *err)
{
    struct dir_read *r = ctx;
    const char *uid = json_string_value(json_object_get(item, "UserId"));
    if (!uid || !aws_resource_id_ok(uid))
        return sso_fail(err, PAM_AUTHINFO_UNAVAIL, "ListUsers: a user has a UserId that is not "
                        "an Identity Store id; nothing read");
    struct directory_person *p = find(r->d, uid);
    if (p) {
        diruser_fill(p, item);
        r->state[p - r->d->people] = DIR_SEEN;
    }
    return note_name(r->d, uid, item, err);
}

static int read_users(struct dir_read *r, struct sso_error *err)
{
    json_t *req = store_request(r->x->a);
    if (!req)
        return sso_fail(err, PAM_BUF_ERR, "ListUsers: out of memory");
    int rc = ids_list(r->x, "ListUsers", req, "Users", "the identity store (identity_store_id)",
                      each_user, r, err);
    json_decref(req);
    return rc;
}

/* A member ListUsers did not return (created meanwhile, or deleted). */
static int describe(struct dir_read *r, size_t i, struct sso_error *err)
{
    struct directory_person *p = &r->d->people[i];
    char what[AWS_RESOURCE_ID_MAX + 16];
    struct ids_failure why;
    snprintf(what, sizeof(what), "user %s", p->user_id);
    json_t *req = store_request(r->x->a), *answer = NULL;
    if (!req || json_object_set_new(req, "UserId", json_string(p->user_id)) != 0) {
        json_decref(req);
        return sso_fail(err, PAM_BUF_ERR, "DescribeUser: out of memory");
    }
    int rc = ids_call(r->x, "DescribeUser", req, what, &answer, &why, err);
    json_decref(req);
    /* Deleted since it was listed as a member: dropped. Not when the answer
     * says the store is gone: that would drop everyone. */
    if (rc != PAM_SUCCESS && strcmp(why.type, "ResourceNotFoundException") == 0 &&
        strcmp(why.resource_type, "IDENTITY_STORE") != 0) {
        r->state[i] = DIR_GONE;
        return PAM_SUCCESS;
    }
    const char *uid = rc == PAM_SUCCESS ? json_string_value(json_object_get(answer, "UserId"))
                                        : NULL;
    if (rc == PAM_SUCCESS && (!uid || strcmp(uid, p->user_id) != 0))
        rc = sso_fail(err, PAM_AUTHINFO_UNAVAIL, "DescribeUser: the answer is about another "
                      "user than %s; nothing read", p->user_id);
    if (rc == PAM_SUCCESS) {
        diruser_fill(p, answer);
        r->state[i] = DIR_SEEN;
        rc = note_name(r->d, p->user_id, answer, err);
    }
    json_decref(answer);
    return rc;
}

static int describe_missing(struct dir_read *r, struct sso_error *err)
{
    int rc = PAM_SUCCESS;
    for (size_t i = 0; i < r->d->n && rc == PAM_SUCCESS; i++)
        if (r->state[i] == DIR_UNSEEN)
            rc = describe(r, i, err);
    size_t out = 0;
    for (size_t i = 0; rc == PAM_SUCCESS && i < r->d->n; i++)
        if (r->state[i] != DIR_GONE)
            r->d->people[out++] = r->d->people[i];
    if (rc == PAM_SUCCESS)
        r->d->n = out;
    return rc;
}

static void use_aws_answers(struct http_client *h)
{
    http_keep_headers(h, aws_kept_headers, AWS_HDR_COUNT);
    http_set_retry_classifier(h, aws_throttled);
    http_set_retry_after_reader(h, aws_retry_after_body);
}

int directory_read(struct http_client *h, const struct aws_cfg *a,
                   const struct role_credentials *creds, struct directory *d,
                   struct sso_error *err)
{
    memset(d, 0, sizeof(*d));
    use_aws_answers(h);
    const struct ids_client x = {h, a, creds, &d->requests, &d->throttled};
    struct dir_read r = {&x, d, 0, "", NULL};
    int rc = read_groups(&r, err);
    if (rc == PAM_SUCCESS && d->n > 0 && !(r.state = calloc(d->n, 1)))
        rc = sso_fail(err, PAM_BUF_ERR, "out of memory");
    if (rc == PAM_SUCCESS)
        rc = read_users(&r, err);
    if (rc == PAM_SUCCESS)
        rc = describe_missing(&r, err);
    free(r.state);
    if (rc != PAM_SUCCESS) /* never a partial read */
        d->n = 0;
    return rc;
}

void directory_free(struct directory *d)
{
    if (!d)
        return;
    free(d->people);
    d->people = NULL;
    d->n = d->cap = 0;
    free(d->names);
    d->names = NULL;
    d->n_names = d->cap_names = 0;
}
