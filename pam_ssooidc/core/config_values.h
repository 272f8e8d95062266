/* config_values.h - what one option is (its kind, its field in struct cfg,
 * its bounds and default) and how a value of each kind is parsed, checked
 * and stored; plus the quoting that makes a value safe to show in an error
 * message. The option table itself, and everything about where a value came
 * from, is config.c's. Module-internal. */
#ifndef SSO_CONFIG_VALUES_H
#define SSO_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

enum opt_kind {
    OPT_STRING, /* text, checked by opt->check */
    OPT_URL,    /* https:// URL */
    OPT_PATH,   /* absolute path */
    OPT_LONG,   /* whole number within [min, max] */
    OPT_FLAG,   /* bare word, or yes/no, true/false, on/off, 1/0 */
    OPT_ENUM,   /* one of opt->choices */
};

#define OPT_STANZA_ONLY 0x1u /* refused inside the config file */
#define OPT_NONEMPTY 0x2u    /* an empty value is an error, not "default" */
#define OPT_BASE_URL 0x4u    /* endpoint: no query or fragment, one trailing '/' dropped */
#define OPT_PROXY_URL 0x8u   /* http:// allowed too, and nothing after host[:port] */
#define OPT_NO_QUERY 0x10u   /* no query or fragment, kept exactly as given */
#define OPT_NO_FRAGMENT 0x80u /* no fragment (a query is fine: Azure B2C's ?p=) */
#define OPT_AWS 0x20u        /* applies to AWS IAM Identity Center (start_url) only */
#define OPT_OPENID 0x40u     /* applies to an OpenID provider (issuer) only */

struct opt_choice {
    const char *name;
    int value;
};

struct opt {
    const char *name;
    enum opt_kind kind;
    size_t offset; /* into struct cfg */
    size_t size;   /* of that field */
    unsigned flags;
    const char *def;  /* string kinds: default (NULL: empty or derived later) */
    long num_def;     /* OPT_LONG, OPT_FLAG, OPT_ENUM: default */
    long min, max;    /* OPT_LONG: accepted range */
    const struct opt_choice *choices;    /* OPT_ENUM: ends with {NULL, 0} */
    const char *(*check)(const char *v); /* OPT_STRING: NULL if fine, else the rule broken */
};

/* Room for what went wrong with one value, before the file and line (or
 * "PAM stanza") are put in front of it. */
#define CFG_DETAIL_MAX 320

/* Checks for OPT_STRING options: NULL if v is fine, else the rule broken. */
const char *cfg_check_region(const char *v);
const char *cfg_check_client_name(const char *v);
const char *cfg_check_account_id(const char *v);
const char *cfg_check_role_name(const char *v);
const char *cfg_check_username_suffix(const char *v);
const char *cfg_check_client_id(const char *v);
const char *cfg_check_scopes(const char *v);
const char *cfg_check_alg_names(const char *v);
const char *cfg_check_claim_name(const char *v);
const char *cfg_check_groups(const char *v);

/* Store o's default into its field of c. */
void cfg_store_default(struct cfg *c, const struct opt *o);

/* Parse, check and store one value of o into c (value NULL: the option was
 * given as a bare word). Returns false, with what is wrong (naming the
 * option) written into why, when the value is refused. */
bool cfg_store_value(struct cfg *c, const struct opt *o, const char *value,
                     char why[CFG_DETAIL_MAX]);

/* o's value in c as text: strings as they are, numbers in decimal, flags
 * as yes/no, enums by name. */
void cfg_format_value(const struct cfg *c, const struct opt *o, char *buf, size_t len);

/* The first len bytes of s made safe and short enough to quote in a log
 * message, written into buf; returns buf. */
const char *cfg_shown(char *buf, size_t buflen, const char *s, size_t len);

/* An unknown key, quoted into buf only if it looks like an option name:
 * a conf= that points at the wrong file (say /etc/shadow) must not copy its
 * first line into the log. Returns buf, or a fixed placeholder. */
const char *cfg_shown_key(char *buf, size_t buflen, const char *key, size_t keylen);

#endif
