/* settings.h - the whole configuration, as its owners declare it: the
 * options every provider shares (core/config.h) and each provider's own
 * part (aws/aws_config.h, openid/openid_config.h). Core parses all of them
 * with the rows each provider hands in through its table (provider.h);
 * this top-level glue puts the parts together, selects the provider and
 * lets it configure itself. Core includes nothing of it. */
#ifndef SSO_SETTINGS_H
#define SSO_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/aws_config.h"
#include "core/config.h"
#include "core/util.h"
#include "openid/openid_config.h"
#include "provider.h"

struct settings {
    struct cfg common;        /* shared by every provider */
    struct aws_cfg aws;       /* AWS IAM Identity Center (start_url) ... */
    struct openid_cfg openid; /* ... or an OpenID provider (issuer): exactly one */
};

/* Parse argv (the stanza) and the config file it selects; select the
 * provider and let it configure itself (provider.h). Stanza options
 * override file options. Returns PAM_SUCCESS, or PAM_SERVICE_ERR with err
 * naming the offending file, line or option (and s wiped). */
int settings_load(struct settings *s, int argc, const char **argv, struct sso_error *err);

/* Same, but from an in-memory config text instead of a file (used by the
 * unit tests and the fuzz target; no ownership checks). */
int settings_load_text(struct settings *s, const char *text, int argc, const char **argv,
                       struct sso_error *err);

/* settings_load, recording in trace (may be NULL) where every value came
 * from; flags: CFG_PARTIAL for a fragment. When trace->problems is set (the
 * check tool), every check runs and each error is listed there with its
 * place, and s keeps what could be read (never to log anyone in with). */
int settings_load_traced(struct settings *s, int argc, const char **argv, unsigned flags,
                         struct cfg_trace *trace, struct sso_error *err);

/* The provider the configuration selects: issuer -> OpenID, else AWS; and
 * its part of s (for provider_ctx.part). */
const struct provider *provider_select(const struct settings *s);
const void *settings_part(const struct settings *s, const struct provider *p);

/* The options, by index (as in struct cfg_trace): their names, and a value
 * as text (flags as yes/no, enums by name; nothing here is secret). */
size_t settings_option_count(void);
const char *settings_option_name(size_t i);
void settings_option_text(const struct settings *s, size_t i, char *buf, size_t len);

/* Whether option i means anything for the provider s selects (an AWS-only
 * option does not with an issuer, and the other way round). */
bool settings_option_applies(const struct settings *s, size_t i);

#endif
