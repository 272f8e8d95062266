/* config.h - the module's options: parsed from the PAM stanza and from the
 * config file (conf=PATH). Option parsing lives here and nowhere else: the
 * shared options are core's, each provider hands in its own rows and the
 * struct they fill (struct cfg_part), and settings.h at the top level puts
 * them together. */
#ifndef SSO_CONFIG_H
#define SSO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

#define CFG_DEFAULT_FILE "/etc/security/pam_ssooidc.conf"
#define CFG_DEFAULT_CACHE_DIR "/var/cache/pam_ssooidc"
#define CFG_URL_MAX 512
#define CFG_PATH_MAX 512

enum cfg_prompt { CFG_PROMPT_AUTO, CFG_PROMPT_ALWAYS, CFG_PROMPT_NEVER };
/* provision: whether a verified first login makes the account (login), or
 * the directory sync makes them ahead of time and a login only uses them
 * (sync: pam_ssooidc_sync, docs/sync.md); provision.h. */
enum cfg_provision { CFG_PROVISION_OFF, CFG_PROVISION_LOGIN, CFG_PROVISION_SYNC };

/* The options every provider shares. Each provider declares its own part;
 * the parts are assembled with this one at the top level (settings.h), and
 * one parser fills them all. */
struct cfg {
    char conf_path[CFG_PATH_MAX];
    /* transport */
    char ca_file[CFG_PATH_MAX];        /* empty: system trust store */
    char proxy[CFG_URL_MAX];           /* empty: no proxy, whatever the environment says */
    /* who may log in as whom */
    bool allow_any_approver;
    bool fold_case;    /* compare the approver's name in lower case */
    char username_suffix[128];
    char user_map[CFG_PATH_MAX];
    /* accounts on demand (docs/provisioning.md) */
    enum cfg_provision provision;
    char uid_range[32];            /* "MIN-MAX"; cfg_uid_range reads it */
    char provision_home[CFG_PATH_MAX]; /* the parent of new homes */
    char provision_shell[CFG_PATH_MAX];
    long provision_expire_days;    /* 0: never */
    char group_map[CFG_PATH_MAX];  /* provider group -> local group lines */
    char sync_max_removals[16];    /* "N" or "N%": accounts one sync may take away */
    /* user experience */
    enum cfg_prompt prompt;
    bool qr;
    /* operation */
    long timeout;      /* seconds to wait for approval */
    long http_timeout; /* seconds, connect and total, per request */
    long retries;      /* extra attempts per call for transient failures */
    long max_pending;  /* logins polling at once on this host (0: no cap) */
    long max_pending_per_source; /* ... from one source (pending.h) */
    long max_starts;   /* device authorizations started per minute on this host */
    long max_starts_per_source; /* ... for one source */
    char cache_dir[CFG_PATH_MAX];
    bool debug;
};

struct opt; /* one option's row (config_values.h) */

/* A provider's own options: its rows, whose offsets point into `base`,
 * the struct of its part of the configuration. */
struct cfg_part {
    const struct opt *rows;
    size_t n;
    void *base;
};
#define CFG_PARTS_MAX 2

/* Where each option's value came from (pam_ssooidc_check shows it). Options
 * are numbered conf first, then each part's rows in order, then the rest
 * of core's. */
enum cfg_source { CFG_SRC_DEFAULT = 0, CFG_SRC_FILE, CFG_SRC_STANZA, CFG_SRC_DERIVED };
#define CFG_MAX_OPTIONS 64

/* Every error of one load, for pam_ssooidc_check: the module stops at the
 * first (fail closed), the check lists them all, each with its place. */
#define CFG_PROBLEMS_MAX 32
#define CFG_NAME_MAX 48
struct cfg_problem {
    char file[CFG_PATH_MAX];  /* "": the PAM stanza, or the whole configuration */
    unsigned line;            /* 0: none */
    char option[CFG_NAME_MAX]; /* "": none (or a name that is not shown) */
    char msg[384];            /* as the module says it (struct sso_error) */
};
struct cfg_problems {
    struct cfg_problem of[CFG_PROBLEMS_MAX];
    size_t count;
    size_t dropped; /* past CFG_PROBLEMS_MAX */
};

struct cfg_trace {
    struct {
        enum cfg_source source;
        unsigned line; /* CFG_SRC_FILE: the line in c->conf_path */
    } of[CFG_MAX_OPTIONS]; /* indexed like cfg_option_name */
    /* Set by the caller (the check tool): the parse goes on past an error
     * and lists each here. NULL (the module): it stops at the first. */
    struct cfg_problems *problems;
};

/* Add a problem to trace's list (when there is one): FILE (NULL: none),
 * LINE, OPTION (NULL: none), MSG. */
void cfg_problem_add(struct cfg_trace *trace, const char *file, unsigned line,
                     const char *option, const char *msg);

#define CFG_PARTIAL 0x1u /* skip the checks that need a whole configuration
                          * (a provider selected, a policy): for fragments */

/* Fill c and every part with their defaults, then the file (text == NULL
 * and use_file: the one conf= names, or the default; text: that instead, with
 * no ownership checks), then the stanza, which overrides the file; trace
 * (may be NULL) records where each value came from. Only single values are
 * checked here; how they fit together is for cfg_finish and the providers.
 * Returns PAM_SUCCESS, or PAM_SERVICE_ERR with err naming the offending
 * file, line or option. */
int cfg_parse(struct cfg *c, const struct cfg_part *parts, size_t n_parts, bool use_file,
              const char *text, int argc, const char **argv, struct cfg_trace *trace,
              struct sso_error *err);

/* The checks of the shared options that involve the build (qr). */
int cfg_finish(const struct cfg *c, struct sso_error *err);

/* The options, by index (as in struct cfg_trace): their number, names, and
 * a value as text (flags as yes/no, enums by name; nothing here is secret);
 * cfg_option_part says whose an option is (-1: shared, else the index into
 * parts). */
size_t cfg_option_count(const struct cfg_part *parts, size_t n_parts);
const char *cfg_option_name(const struct cfg_part *parts, size_t n_parts, size_t i);
void cfg_option_text(const struct cfg *c, const struct cfg_part *parts, size_t n_parts,
                     size_t i, char *buf, size_t len);
int cfg_option_part(const struct cfg_part *parts, size_t n_parts, size_t i);

/* Mark as derived every option of parts[part] that was not set but whose
 * value differs from `before` (a copy of that part taken before its
 * provider derived its defaults). */
void cfg_trace_derived(const struct cfg_part *parts, size_t n_parts, size_t part,
                       const void *before, struct cfg_trace *trace);

/* sync_max_removals for a sync that serves `served` accounts now: how many
 * it may stop serving without --force (a percentage rounds up). */
unsigned long cfg_sync_max_removals(const struct cfg *c, unsigned long served);

/* uid_range as numbers (checked when it was stored). */
void cfg_uid_range(const struct cfg *c, unsigned long *min, unsigned long *max);

/* Resolve prompt=auto for the given PAM service name. */
enum cfg_prompt cfg_prompt_for_service(const struct cfg *c, const char *service);

#endif
