/* provider.c - which provider a configuration selects, and the notices
 * providers log (provider.h). */
#include "provider.h"

#include <security/pam_ext.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

const struct provider *provider_select(const struct cfg *c)
{
    return cfg_is_openid(c) ? &provider_openid : &provider_aws;
}

void provider_log(const struct provider_ctx *p, int prio, const char *fmt, ...)
{
    if (!p->pamh || (prio == LOG_DEBUG && !p->cfg->debug))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    pam_syslog(p->pamh, prio, "%s", line);
}
