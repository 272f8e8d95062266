/* config_values.h - what one option is (its kind, its field in the struct
 * it is stored in, its bounds and default) and how a value of each kind is
 * parsed, checked and stored; plus the quoting that makes a value safe to
 * show in an error message. The shared options' table, and everything about
 * where a value came from, is config.c's; each provider keeps the rows of
 * its own options and hands them in (struct cfg_part). */
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

struct opt_choice {
    const char *name;
    int value;
};

struct opt {
    const char *name;
    enum opt_kind kind;
    size_t offset; /* into the struct the row's table fills */
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

/* The offset and size of a field of struct T, for a row: FIELD_OF(struct cfg, proxy). */
#define FIELD_OF(T, f) .offset = offsetof(T, f), .size = sizeof(((T *)0)->f)

/* Checks for OPT_STRING options: NULL if v is fine, else the rule broken. */
const char *cfg_check_username_suffix(const char *v);
/* "MIN-MAX", 1000 <= MIN <= MAX <= 2147483647, holding neither 65534
 * (nobody) nor 65535 (the 16-bit -1). */
const char *cfg_check_uid_range(const char *v);
#define CFG_DEFAULT_UID_RANGE "65536-99999"
/* "N" (0..65536 accounts) or "N%" (0..100 of the accounts served). */
const char *cfg_check_sync_max_removals(const char *v);
#define CFG_DEFAULT_SYNC_MAX_REMOVALS "10%"

/* Character classes the checks share (ASCII only). */
bool cfg_is_lower(char ch);
bool cfg_is_digit(char ch);
bool cfg_is_alnum(char ch);

/* A comma-separated list of 1..max items of at most item_max bytes, each
 * passing ok() (or a space inside an item, with inner_spaces): NULL, or
 * the rule broken (chars_rule, count_rule, or one about the list's shape). */
const char *cfg_check_list(const char *v, size_t max, size_t item_max, bool (*ok)(char),
                           bool inner_spaces, const char *chars_rule, const char *count_rule);

/* Store o's default into its field of base (the struct o's table fills). */
void cfg_store_default(void *base, const struct opt *o);

/* Parse, check and store one value of o into base (value NULL: the option
 * was given as a bare word). Returns false, with what is wrong (naming the
 * option) written into why, when the value is refused. */
bool cfg_store_value(void *base, const struct opt *o, const char *value,
                     char why[CFG_DETAIL_MAX]);

/* o's value in base as text: strings as they are, numbers in decimal, flags
 * as yes/no, enums by name. */
void cfg_format_value(const void *base, const struct opt *o, char *buf, size_t len);

/* The first len bytes of s made safe and short enough to quote in a log
 * message, written into buf; returns buf. */
const char *cfg_shown(char *buf, size_t buflen, const char *s, size_t len);

/* An unknown key, quoted into buf only if it looks like an option name:
 * a conf= that points at the wrong file (say /etc/shadow) must not copy its
 * first line into the log. Returns buf, or a fixed placeholder. */
const char *cfg_shown_key(char *buf, size_t buflen, const char *key, size_t keylen);

#endif
