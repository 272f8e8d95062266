/* provider.c - the notices providers log (provider.h). Which provider a
 * configuration selects is settings.c's. */
#include "provider.h"

#include <security/pam_ext.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

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
