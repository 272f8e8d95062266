/* provider.c - which provider a configuration selects (provider.h). */
#include "provider.h"

const struct provider *provider_select(const struct cfg *c)
{
    (void)c;
    return &provider_aws;
}
