/* directory_drive.c - the directory client (aws/directory.h) behind a
 * command line, for tests/sync/test_directory_client.py:
 *
 *   directory_drive CONFIG_FILE
 *
 * Loads CONFIG_FILE as the module would (root-owned, trusted path), gets
 * the host's credentials (IMDSv2 or sync_credentials_file), reads the
 * members of sync_groups and prints one JSON line per person
 *   {"user_id":..., "user_name":..., "enabled":..., "groups":N, "problem":...}
 * then {"requests":N, "throttled":N}. On failure: the error on stderr, exit 1
 * (2: bad usage). Answers up to 4 MiB are accepted, as the sync tool will. */
#include <jansson.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>

#include "aws/directory.h"
#include "core/util.h"
#include "settings.h"

#define DRIVE_DEADLINE 300.0 /* seconds for the whole read, retries included */

static void print_person(const struct directory_person *p)
{
    json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:s}", "user_id", p->user_id, "user_name",
                          p->user_name, "enabled", p->enabled, "groups", (json_int_t)p->groups,
                          "problem", p->problem);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (line)
        printf("%s\n", line);
    free(line);
    json_decref(o);
}

static int fail(const struct sso_error *err)
{
    fprintf(stderr, "directory_drive: %s\n", err->msg);
    return 1;
}

static int read_directory(const struct settings *s, const struct role_credentials *creds)
{
    struct sso_error err = SSO_ERROR_INIT;
    struct http_client *h = NULL;
    if (http_open(&h, &s->common, &err) != PAM_SUCCESS)
        return fail(&err);
    http_set_body_max(h, HTTP_BODY_LIMIT);
    http_set_retry(h, s->common.retries, sso_monotonic() + DRIVE_DEADLINE);
    struct directory d;
    int rc = directory_read(h, &s->aws, creds, &d, &err);
    http_close(h);
    if (rc != PAM_SUCCESS) {
        directory_free(&d);
        return fail(&err);
    }
    for (size_t i = 0; i < d.n; i++)
        print_person(&d.people[i]);
    printf("{\"requests\":%ld,\"throttled\":%ld}\n", d.requests, d.throttled);
    directory_free(&d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: directory_drive CONFIG_FILE\n");
        return 2;
    }
    static struct settings s;
    static struct role_credentials creds;
    char conf[CFG_PATH_MAX + 8];
    snprintf(conf, sizeof(conf), "conf=%s", argv[1]);
    const char *args[] = {conf};
    struct sso_error err = SSO_ERROR_INIT;
    if (settings_load(&s, 1, args, &err) != PAM_SUCCESS)
        return fail(&err);
    if (!s.aws.identity_store_id[0]) {
        fprintf(stderr, "directory_drive: the configuration has no identity_store_id\n");
        return 1;
    }
    int64_t expires = 0;
    if (directory_credentials(&s.common, &s.aws, &creds, &expires, &err) != PAM_SUCCESS)
        return fail(&err);
    int rc = read_directory(&s, &creds);
    sso_cleanse(&creds, sizeof(creds));
    return rc;
}
