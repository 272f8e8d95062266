/* aws_config.c - see aws_config.h. */
#include "aws/aws_config.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/config_values.h"
#include "core/ledger.h"

#define AWS_DEFAULT_REGION "us-east-1"

/* us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1: at least three
 * '-'-separated parts, lowercase letters except the last, which is digits. */
const char *aws_check_region(const char *v)
{
    static const char rule[] = "must look like us-east-1 (lowercase letters, hyphens, a number)";
    size_t parts = 0;
    const char *p = v;
    for (;;) {
        const char *start = p;
        bool last;
        while (cfg_is_lower(*p) || cfg_is_digit(*p))
            p++;
        if (p == start || (*p != '-' && *p != '\0'))
            return rule;
        last = (*p == '\0');
        for (const char *q = start; q < p; q++)
            if (last ? !cfg_is_digit(*q) : !cfg_is_lower(*q))
                return rule;
        parts++;
        if (last)
            break;
        p++; /* the hyphen */
    }
    return parts >= 3 ? NULL : rule;
}

static const char *check_client_name(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return "must be printable ASCII";
    return NULL;
}

const char *aws_check_account_id(const char *v)
{
    size_t n = 0;
    for (; v[n]; n++)
        if (!cfg_is_digit(v[n]))
            break;
    return (n == 12 && v[n] == '\0') ? NULL : "must be exactly 12 digits";
}

/* One or more permission set names, separated by commas (so a name with a
 * comma in it cannot be given): each 1..64 of A-Za-z0-9+=.@_- */
const char *aws_check_role_name(const char *v)
{
    size_t names = 0;
    for (const char *p = v;;) {
        size_t n = strcspn(p, ",");
        if (n == 0)
            return "has an empty name (a list is NAME,NAME,...)";
        if (n > 64)
            return "names must be at most 64 characters";
        for (size_t i = 0; i < n; i++)
            if (!cfg_is_alnum(p[i]) && !strchr("+=.@_-", p[i]))
                return "may contain only letters, digits and + = . @ _ - (commas separate names)";
        if (++names > AWS_ROLES_MAX)
            return "lists more than 8 permission sets";
        if (p[n] == '\0')
            return NULL;
        p += n + 1;
    }
}

static bool hex_run(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!cfg_is_digit(p[i]) && !(p[i] >= 'a' && p[i] <= 'f') && !(p[i] >= 'A' && p[i] <= 'F'))
            return false;
    return true;
}

/* 8-4-4-4-12 hex digits. */
static bool uuid_ok(const char *v)
{
    static const size_t runs[] = {8, 4, 4, 4, 12};
    const char *p = v;
    for (size_t i = 0; i < 5; i++) {
        if (!hex_run(p, runs[i]))
            return false;
        p += runs[i];
        if (*p != (i < 4 ? '-' : '\0'))
            return false;
        p++;
    }
    return true;
}

bool aws_resource_id_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 47 && hex_run(v, 10) && v[10] == '-')
        return uuid_ok(v + 11);
    return uuid_ok(v);
}

/* The model's IdentityStoreId: d- and ten lower-case hex digits, or a UUID. */
const char *aws_check_identity_store_id(const char *v)
{
    if (strncmp(v, "d-", 2) == 0 && strlen(v) == 12 && hex_run(v + 2, 10)) {
        for (const char *p = v + 2; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                break;
            else if (p[1] == '\0')
                return NULL;
    }
    return uuid_ok(v) ? NULL : "must look like d-1234567890 (d- and ten hex digits) or a UUID";
}

/* GROUPID[:LOCALGROUP], comma-separated: GROUPID a ResourceId, LOCALGROUP
 * by the name rule. */
const char *aws_check_sync_groups(const char *v)
{
    size_t count = 0;
    for (const char *p = v;;) {
        size_t n = strcspn(p, ",");
        char item[AWS_RESOURCE_ID_MAX + 1 + 33 + 1], id[AWS_RESOURCE_ID_MAX + 1];
        while (n > 0 && *p == ' ')
            p++, n--;
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == 0)
            return "has an empty entry (a list is GROUPID[:LOCALGROUP],...)";
        if (n >= sizeof(item))
            return "has an entry that is too long";
        memcpy(item, p, n);
        item[n] = '\0';
        char *colon = strchr(item, ':');
        size_t idlen = colon ? (size_t)(colon - item) : n;
        if (idlen >= sizeof(id))
            return "has a group ID that is too long (Identity Store group IDs are UUIDs)";
        memcpy(id, item, idlen);
        id[idlen] = '\0';
        if (!aws_resource_id_ok(id))
            return "has a group ID that is not an Identity Store group ID (a UUID; "
                   "aws identitystore get-group-id gives it)";
        if (colon && !ledger_name_ok(colon + 1))
            return "has a local group name that breaks the name rule "
                   "(^[a-z_][a-z0-9_-]{0,31}$)";
        if (++count > AWS_SYNC_GROUPS_MAX)
            return "lists more than 20 groups";
        p += strcspn(p, ",");
        if (*p == '\0')
            return NULL;
        p++;
    }
}

size_t aws_sync_groups(const struct aws_cfg *a, struct aws_sync_group *out, size_t max)
{
    size_t count = 0;
    for (const char *p = a->sync_groups; *p && count < max;) {
        size_t n = strcspn(p, ",");
        const char *end = p + n;
        while (p < end && *p == ' ')
            p++;
        while (end > p && end[-1] == ' ')
            end--;
        const char *colon = memchr(p, ':', (size_t)(end - p));
        size_t idlen = colon ? (size_t)(colon - p) : (size_t)(end - p);
        struct aws_sync_group *g = &out[count++];
        memset(g, 0, sizeof(*g));
        memcpy(g->id, p, idlen < sizeof(g->id) ? idlen : sizeof(g->id) - 1);
        if (colon) {
            size_t ll = (size_t)(end - colon - 1);
            memcpy(g->local, colon + 1, ll < sizeof(g->local) ? ll : sizeof(g->local) - 1);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return count;
}

/* http:// and an IP literal of the instance metadata service (169.254.169.254,
 * [fd00:ec2::254]) or of this host (tests, a local relay): never a name a
 * resolver could answer, never a path. */
const char *aws_check_imds_endpoint(const char *v)
{
    static const char rule[] = "must be http:// and the metadata service's address "
                               "(169.254.169.254 or [fd00:ec2::254]) or a loopback one "
                               "(127.0.0.1, [::1]), with an optional :port and nothing else";
    static const char *const hosts[] = {"169.254.169.254", "[fd00:ec2::254]", "127.0.0.1",
                                        "[::1]"};
    if (strncmp(v, "http://", 7) != 0)
        return rule;
    const char *h = v + 7;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(h, hosts[i], n) != 0)
            continue;
        const char *p = h + n;
        if (*p == '\0')
            return NULL;
        if (*p++ != ':' || !cfg_is_digit(*p))
            return rule;
        size_t digits = strspn(p, "0123456789");
        return (digits <= 5 && p[digits] == '\0' && atol(p) > 0 && atol(p) < 65536) ? NULL : rule;
    }
    return rule;
}

#define FIELD(f) FIELD_OF(struct aws_cfg, f)

const struct opt aws_options[AWS_OPTION_COUNT] = {
    {.name = "start_url", .kind = OPT_URL, FIELD(start_url)},
    {.name = "region", .kind = OPT_STRING, FIELD(region), .def = AWS_DEFAULT_REGION,
     .check = aws_check_region},
    {.name = "oidc_endpoint", .kind = OPT_URL, FIELD(oidc_endpoint), .flags = OPT_BASE_URL},
    {.name = "portal_endpoint", .kind = OPT_URL, FIELD(portal_endpoint), .flags = OPT_BASE_URL},
    {.name = "sts_endpoint", .kind = OPT_URL, FIELD(sts_endpoint), .flags = OPT_BASE_URL},
    {.name = "account_id", .kind = OPT_STRING, FIELD(account_id),
     .check = aws_check_account_id},
    {.name = "role_name", .kind = OPT_STRING, FIELD(role_name), .check = aws_check_role_name},
    {.name = "client_name", .kind = OPT_STRING, FIELD(client_name), .check = check_client_name},
    {.name = "identity_store_id", .kind = OPT_STRING, FIELD(identity_store_id),
     .check = aws_check_identity_store_id},
    {.name = "sync_groups", .kind = OPT_STRING, FIELD(sync_groups), .check = aws_check_sync_groups},
    {.name = "identity_store_endpoint", .kind = OPT_URL, FIELD(identity_store_endpoint),
     .flags = OPT_BASE_URL},
    {.name = "imds_endpoint", .kind = OPT_STRING, FIELD(imds_endpoint), .def = AWS_DEFAULT_IMDS,
     .flags = OPT_NONEMPTY, .check = aws_check_imds_endpoint},
    {.name = "sync_credentials_file", .kind = OPT_PATH, FIELD(sync_credentials_file)},
};

/* https://PREFIX.REGION.amazonaws.com, .com.cn in the China regions. */
static void derive_endpoint(char *dst, size_t dstlen, const char *host_prefix, const char *region)
{
    const char *domain = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    snprintf(dst, dstlen, "https://%s.%s.%s", host_prefix, region, domain);
}

static void default_client_name(char *dst, size_t dstlen)
{
    static const char prefix[] = "pam_ssooidc on ";
    char host[256];
    size_t o = 0;

    if (gethostname(host, sizeof(host)) != 0)
        host[0] = '\0';
    host[sizeof(host) - 1] = '\0'; /* not terminated when truncated */
    if (host[0] == '\0') {
        sso_strlcpy(dst, "pam_ssooidc", dstlen);
        return;
    }
    for (const char *p = prefix; *p && o + 1 < dstlen; p++)
        dst[o++] = *p;
    for (const char *p = host; *p && o + 1 < dstlen; p++)
        dst[o++] = (*p >= 0x20 && *p <= 0x7e) ? *p : '?';
    dst[o] = '\0';
}

static void derive(struct aws_cfg *a)
{
    if (a->region[0] == '\0')
        sso_strlcpy(a->region, AWS_DEFAULT_REGION, sizeof(a->region));
    if (a->oidc_endpoint[0] == '\0')
        derive_endpoint(a->oidc_endpoint, sizeof(a->oidc_endpoint), "oidc", a->region);
    if (a->portal_endpoint[0] == '\0')
        derive_endpoint(a->portal_endpoint, sizeof(a->portal_endpoint), "portal.sso", a->region);
    if (a->sts_endpoint[0] == '\0')
        derive_endpoint(a->sts_endpoint, sizeof(a->sts_endpoint), "sts", a->region);
    if (a->client_name[0] == '\0')
        default_client_name(a->client_name, sizeof(a->client_name));
    if (a->identity_store_endpoint[0] == '\0')
        derive_endpoint(a->identity_store_endpoint, sizeof(a->identity_store_endpoint),
                        "identitystore", a->region);
}

/* account_id with role_name (the permission sets), or allow_any_approver. */
static int policy(const struct cfg *c, const struct aws_cfg *a, unsigned flags,
                  struct sso_error *err)
{
    bool have_mapping = c->username_suffix[0] != '\0' || c->user_map[0] != '\0';
    bool have_account = a->account_id[0] != '\0', have_role = a->role_name[0] != '\0';
    if (have_account != have_role && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "account_id and role_name must be set together "
                        "(only %s is set)", have_account ? "account_id" : "role_name");
    /* Both at once would silently disable the identity check the admin
     * believes is active (e.g. a flag on one stanza over a shared file). */
    if (c->allow_any_approver && (have_account || have_mapping))
        return sso_fail(err, PAM_SERVICE_ERR, "allow_any_approver contradicts %s: choose one "
                        "policy", have_account ? "account_id/role_name" : "the user mapping");
    if (!have_account && !c->allow_any_approver && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "no identity policy: set account_id and "
                        "role_name, or allow_any_approver (anyone who can approve at start_url "
                        "may then log in)");
    /* The sync's directory and its groups come together, and provision =
     * sync is nothing without them. */
    bool have_store = a->identity_store_id[0] != '\0', have_groups = a->sync_groups[0] != '\0';
    if (have_store != have_groups && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "identity_store_id and sync_groups must be set "
                        "together (only %s is set)",
                        have_store ? "identity_store_id" : "sync_groups");
    if (c->provision == CFG_PROVISION_SYNC && !have_store && !(flags & CFG_PARTIAL))
        return sso_fail(err, PAM_SERVICE_ERR, "provision = sync serves the members of "
                        "sync_groups: set identity_store_id and sync_groups");
    return PAM_SUCCESS;
}

int aws_configure(const struct cfg *c, void *part, unsigned flags, struct sso_error *err)
{
    struct aws_cfg *a = part;
    derive(a);
    return policy(c, a, flags, err);
}
