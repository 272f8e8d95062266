/* store.h - the module's one root-only file store: cache_dir and the files
 * in it. What a provider keeps (a client registration, documents), the
 * pending-login slots (pending.h) all live here and are all kept by these
 * rules:
 *
 *   - cache_dir is a trusted path (trust.h), root's, mode 0700; a missing
 *     one is made (never its parents);
 *   - every file is reached through the directory's fd, never the path
 *     again, with O_NOFOLLOW (a planted symlink is removed, not followed)
 *     and O_NONBLOCK (a planted FIFO cannot hang a login);
 *   - a file is read only if it is regular, root's, mode 0600 and not
 *     larger than its kind ever is;
 *   - a file is replaced whole: a fresh O_EXCL temp file, written, synced
 *     and renamed into place, the directory synced after.
 *
 * The ledger's data directory (ledger.h) is kept by the same rules but is
 * public: 0755, its passwd and group 0644 (store_dir_open_as,
 * store_replace_mode); the root-only files in it stay 0600. */
#ifndef SSO_STORE_H
#define SSO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/util.h"

#define STORE_TMP_INFIX ".tmp."
#define STORE_DOC_MAX (64 * 1024) /* bytes of a document */
#define STORE_TMP_NAME_MAX (256 + 48) /* a temp file's name, NUL included */

/* Open (creating if missing) cache_dir. *fd is O_RDONLY|O_DIRECTORY.
 * PAM_SUCCESS or PAM_SERVICE_ERR. */
int store_dir_open(const char *dir, int *fd, struct sso_error *err);

/* The same for another directory kept by these rules: `what` names it in
 * messages ("data directory"), `mode` is the mode it is made with and the
 * most it may allow (0755: readable by all, written by root alone; group
 * or world write is always refused), `create` makes a missing one.
 * Without `create` a missing directory is PAM_NO_MODULE_DATA. */
int store_dir_open_as(const char *dir, const char *what, mode_t mode, bool create, int *fd,
                      struct sso_error *err);

/* prefix + the first 128 bits of SHA-256(key), in hex, + suffix: any
 * characters of a URL or client name stay out of the file name. */
int store_file_name(const char *prefix, const char *key, const char *suffix, char *out,
                    size_t outlen, struct sso_error *err);

/* Open the file `name` for reading under the rules above, at most `max`
 * bytes; `label` names it in errors ("cached registration") and `again`
 * says what happens next ("registering again"). PAM_SUCCESS with *fd and
 * *st; anything else is PAM_NO_MODULE_DATA with err saying why. */
int store_open_read(int dir_fd, const char *name, const char *label, const char *again,
                    off_t max, int *fd, struct stat *st, struct sso_error *err);

/* Read the whole file into buf (cap bytes): 0 with *len set, 1 when it
 * holds more than cap bytes, -1 with errno set. */
int store_read_all(int fd, char *buf, size_t cap, size_t *len);

/* Replace `name` with len bytes of buf. Temp files of this name older than
 * temp_age seconds are removed first as leftovers of a killed login (0:
 * all of them - for a caller that holds the name's lock). Returns 0 or an
 * errno. */
int store_replace(int dir_fd, const char *name, const char *buf, size_t len, long temp_age);
/* The same, the file ending with `mode` (0644 for a public file). */
int store_replace_mode(int dir_fd, const char *name, const char *buf, size_t len, mode_t mode,
                       long temp_age);

/* store_replace in two steps, for several files replaced together (the
 * ledger's): store_stage writes and syncs the temp file (its name into tmp,
 * STORE_TMP_NAME_MAX bytes) and leaves it beside `name`; store_publish
 * renames it into place (and removes it if that fails). The caller syncs
 * the directory after the last publish, and unlinks (unlinkat) a staged
 * file it will not publish. Both return 0 or an errno. */
int store_stage(int dir_fd, const char *name, const char *buf, size_t len, mode_t mode,
                long temp_age, char *tmp, size_t tmplen);
int store_publish(int dir_fd, const char *tmp, const char *name);

/* Take the exclusive lock `lockname` (a lock file in the store, made if
 * missing and checked like any file of it), waiting at most wait_seconds:
 * polled, so the wait is bounded and Ctrl-C ends it. `what` names it in
 * messages ("registration"). PAM_SUCCESS with *fd, to give to
 * store_unlock; PAM_SERVICE_ERR for an unsafe lock file;
 * PAM_AUTHINFO_UNAVAIL when it is not had in time; PAM_AUTH_ERR when the
 * person cancelled. */
int store_lock(int dir_fd, const char *dir, const char *lockname, const char *what,
               double wait_seconds, int *fd, struct sso_error *err);
void store_unlock(int fd);

/* ---- documents: public ones a provider fetches (discovery, keys) ----
 * doc-<key>.json; the file's mtime is when it was fetched. Public data, so
 * no lock: two logins that fetch at once both write whole files, and the
 * last rename wins. */

/* A document fetched at most max_age seconds ago: PAM_SUCCESS with *body
 * (malloc'd, NUL-terminated, *len bytes; the caller frees it);
 * PAM_NO_MODULE_DATA when there is none usable (missing, too old, unsafe:
 * err says why, `label` naming it); PAM_SERVICE_ERR for an unsafe
 * cache_dir; PAM_BUF_ERR. */
int store_doc_load(const char *dir, const char *key, const char *label, int64_t max_age,
                   char **body, size_t *len, struct sso_error *err);

/* Replace the document atomically. PAM_SUCCESS or PAM_SERVICE_ERR. */
int store_doc_save(const char *dir, const char *key, const char *body, size_t len,
                   struct sso_error *err);

#endif
