/* provider.c - which provider a configuration selects (provider.h). */
#include "provider.h"

const struct provider *provider_select(const struct cfg *c)
{
    return cfg_is_openid(c) ? &provider_openid : &provider_aws;
}
