/* json.c - see json.h. */
#include "core/json.h"

#include <string.h>

#include "core/util.h"

json_t *sso_json_parse_object(const char *body, size_t len)
{
    if (!body)
        return NULL;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (root && !json_is_object(root)) {
        sso_json_free(root);
        return NULL;
    }
    return root;
}

/* jansson keeps its own copies of every string; they can hold a client secret
 * or an access token, so wipe them before the memory goes back to malloc.
 * The buffers are jansson's private heap copies, so writing them is safe. */
static void cleanse_tree(json_t *node, int depth)
{
    if (!node || depth > 64)
        return;
    if (json_is_string(node)) {
        sso_cleanse((char *)json_string_value(node), json_string_length(node));
    } else if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) cleanse_tree(v, depth + 1);
    } else if (json_is_object(node)) {
        const char *k;
        json_t *v;
        json_object_foreach(node, k, v) cleanse_tree(v, depth + 1);
    }
}

void sso_json_free(json_t *root)
{
    if (!root)
        return;
    cleanse_tree(root, 0);
    json_decref(root);
}

enum sso_json_get sso_json_string(json_t *obj, const char *key, char *dst, size_t dstlen)
{
    dst[0] = '\0';
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return SSO_JSON_ABSENT;
    if (!json_is_string(v))
        return SSO_JSON_BAD;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n >= dstlen || memchr(s, '\0', n)) /* embedded NUL: never truncate silently */
        return SSO_JSON_BAD;
    memcpy(dst, s, n + 1);
    return SSO_JSON_OK;
}

enum sso_json_get sso_json_integer(json_t *obj, const char *key, long long min, long long max,
                                   long long *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return SSO_JSON_ABSENT;
    if (!json_is_integer(v))
        return SSO_JSON_BAD;
    long long n = json_integer_value(v);
    if (n < min || n > max)
        return SSO_JSON_BAD;
    *out = n;
    return SSO_JSON_OK;
}
