/* diruser.h - one Identity Store User record (from ListUsers or
 * DescribeUser) checked into a struct directory_person: a record that fails
 * the checks marks that person's `problem`, never the whole read. */
#ifndef SSO_DIRUSER_H
#define SSO_DIRUSER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "aws/directory.h"

/* UserName and UserStatus of `user` into p (user_id is the caller's). */
void diruser_fill(struct directory_person *p, json_t *user);

/* Is s (n bytes) valid UTF-8 (no overlong forms, no surrogates)? *control
 * says whether it holds a control character: C0, DEL, C1 (or a NUL). */
bool diruser_utf8(const char *s, size_t n, bool *control);

#endif
