/* aws_config.c - see aws_config.h. */
#include "aws/aws_config.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config_values.h"

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
    return PAM_SUCCESS;
}

int aws_configure(const struct cfg *c, void *part, unsigned flags, struct sso_error *err)
{
    struct aws_cfg *a = part;
    derive(a);
    return policy(c, a, flags, err);
}
