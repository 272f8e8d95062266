/* json.h - strict, bounded access to JSON answers, and cleansing of every
 * string jansson copied out of a secret-bearing body. */
#ifndef SSO_JSON_H
#define SSO_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Parse a body that must be one JSON object (duplicate keys rejected).
 * NULL when it is not. */
json_t *sso_json_parse_object(const char *body, size_t len);

/* Cleanse every string value and key in the tree, then release it. */
void sso_json_free(json_t *root);

enum sso_json_get { SSO_JSON_OK = 0, SSO_JSON_ABSENT = 1, SSO_JSON_BAD = -1 };

/* A string member copied into dst. BAD when it is not a string, is empty
 * while required, or does not fit. ABSENT when missing (or JSON null). */
enum sso_json_get sso_json_string(json_t *obj, const char *key, char *dst, size_t dstlen);

/* An integer member within [min, max]. */
enum sso_json_get sso_json_integer(json_t *obj, const char *key, long long min, long long max,
                                   long long *out);

#endif
