/* config.h - the module's options: parsed from the PAM stanza and from the
 * config file (conf=PATH), validated, with defaults derived. Option parsing
 * lives here and nowhere else. */
#ifndef SSO_CONFIG_H
#define SSO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

#define CFG_DEFAULT_FILE "/etc/security/pam_ssooidc.conf"
#define CFG_DEFAULT_CACHE_DIR "/var/cache/pam_ssooidc"
#define CFG_URL_MAX 512
#define CFG_PATH_MAX 512
#define CFG_ROLES_MAX 8   /* permission sets in role_name */
#define CFG_GROUPS_MAX 32 /* groups in required_groups */
#define CFG_SCOPES_MAX 16 /* scopes in scopes */

enum cfg_prompt { CFG_PROMPT_AUTO, CFG_PROMPT_ALWAYS, CFG_PROMPT_NEVER };
/* How a confidential OpenID client authenticates at the provider. */
enum cfg_client_auth { CFG_AUTH_AUTO, CFG_AUTH_BASIC, CFG_AUTH_POST };

struct cfg {
    char conf_path[CFG_PATH_MAX];
    /* AWS IAM Identity Center (start_url) ... */
    char start_url[CFG_URL_MAX];
    char region[32];
    char oidc_endpoint[CFG_URL_MAX];   /* derived from region unless set */
    char portal_endpoint[CFG_URL_MAX]; /* derived from region unless set */
    char sts_endpoint[CFG_URL_MAX];    /* derived from region unless set */
    /* ... or an OpenID provider (issuer): exactly one of the two */
    char issuer[CFG_URL_MAX];
    char client_id[256];
    char client_secret_file[CFG_PATH_MAX]; /* empty: a public client */
    enum cfg_client_auth client_auth;
    char scopes[512];                   /* comma-separated; openid always sent */
    char device_authorization_endpoint[CFG_URL_MAX]; /* empty: discovery's */
    char token_endpoint[CFG_URL_MAX];                /* empty: discovery's */
    char jwks_uri[CFG_URL_MAX];                      /* empty: discovery's */
    char id_token_algs[128];            /* comma-separated allow-list */
    char username_claim[128];
    char groups_claim[128];
    char required_groups[2048];         /* comma-separated: any one of them */
    /* both */
    char ca_file[CFG_PATH_MAX];        /* empty: system trust store */
    char proxy[CFG_URL_MAX];           /* empty: no proxy, whatever the environment says */
    char cache_dir[CFG_PATH_MAX];
    char client_name[128];
    long timeout;      /* seconds to wait for approval */
    long http_timeout; /* seconds, connect and total, per request */
    long retries;      /* extra attempts per call for transient failures */
    long max_pending;  /* logins polling at once on this host (0: no cap) */
    long max_pending_per_source; /* ... from one source (pending.h) */
    long max_starts;   /* device authorizations started per minute on this host */
    long max_starts_per_source; /* ... for one source */
    enum cfg_prompt prompt;
    bool allow_any_approver;
    bool debug;
    bool qr;
    char account_id[16];
    char role_name[CFG_ROLES_MAX * 65]; /* comma-separated: any one of them */
    bool fold_case;    /* compare the approver's name in lower case */
    char username_suffix[128];
    char user_map[CFG_PATH_MAX];
};

/* Parse argv (the stanza) and the config file it selects, then validate.
 * Stanza options override file options. Returns PAM_SUCCESS, or
 * PAM_SERVICE_ERR with err naming the offending file, line or option. */
int cfg_load(struct cfg *c, int argc, const char **argv, struct sso_error *err);

/* Same, but from an in-memory config text instead of a file (used by the
 * unit tests and the fuzz target; no ownership checks). */
int cfg_load_text(struct cfg *c, const char *text, int argc, const char **argv,
                  struct sso_error *err);

/* Where each option's value came from (pam_ssooidc_check shows it). */
enum cfg_source { CFG_SRC_DEFAULT = 0, CFG_SRC_FILE, CFG_SRC_STANZA, CFG_SRC_DERIVED };
#define CFG_MAX_OPTIONS 64
struct cfg_trace {
    struct {
        enum cfg_source source;
        unsigned line; /* CFG_SRC_FILE: the line in c->conf_path */
    } of[CFG_MAX_OPTIONS]; /* indexed like cfg_option_name */
};

#define CFG_PARTIAL 0x1u /* skip the checks that need a whole configuration
                          * (start_url, a policy): for checking fragments */

/* cfg_load, recording in trace (may be NULL) where every value came from. */
int cfg_load_traced(struct cfg *c, int argc, const char **argv, unsigned flags,
                    struct cfg_trace *trace, struct sso_error *err);

/* The options, by index: their names, and a value as text (flags as
 * yes/no, enums by name; nothing here is secret). */
size_t cfg_option_count(void);
const char *cfg_option_name(size_t i);
void cfg_option_text(const struct cfg *c, size_t i, char *buf, size_t len);

/* Whether option i means anything for the provider c selects (an AWS-only
 * option does not with an issuer, and the other way round). */
bool cfg_option_applies(const struct cfg *c, size_t i);

/* Which provider the configuration selects: an issuer means OpenID. */
static inline bool cfg_is_openid(const struct cfg *c)
{
    return c->issuer[0] != '\0';
}

/* Resolve prompt=auto for the given PAM service name. */
enum cfg_prompt cfg_prompt_for_service(const struct cfg *c, const char *service);

#endif
