/* sigv4_canon.h - the SigV4 canonical request: the bounds a request must
 * meet, and the text AWS hashes before signing (method, normalised URI,
 * sorted query, canonical headers, signed-header list, payload hash).
 * Only text work happens here; hashing and signing are sigv4.c's.
 * Module-internal. */
#ifndef SSO_SIGV4_CANON_H
#define SSO_SIGV4_CANON_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/sigv4.h"

/* s is non-NULL and min <= strlen(s) <= max; reads at most max + 1 bytes. */
bool sigv4_length_within(const char *s, size_t min, size_t max);

/* The method, path, query, header count and payload are within bounds.
 * Header names and values are checked while they are canonicalised. */
bool sigv4_request_is_valid(const struct sigv4_request *req);

/* METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED\nPAYLOAD-HASH, where payload_hash is
 * the lower-case hex SHA-256 of the payload. Heap-allocated and possibly
 * holding the session token: wipe it before freeing. The signed header list
 * ("host;x-amz-date") also goes to *signed_headers, because the
 * Authorization header repeats it; set *signed_headers to NULL first and
 * free it afterwards whatever the result. NULL on allocation failure, on a
 * query with a stray '%', and on headers that are malformed, lack host or
 * carry an x-amz-date other than amz_date. req must have passed
 * sigv4_request_is_valid. */
char *sigv4_canonical_request(const struct sigv4_request *req, const char *amz_date,
                              const char *payload_hash, char **signed_headers);

#endif
