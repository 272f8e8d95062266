/* documents.c - see documents.h. */
#include "openid/documents.h"

#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core/store.h"
#include "openid/openid_config.h"

#define WELL_KNOWN "/.well-known/openid-configuration"
#define KEY_MAX (2 * DISCOVERY_URL_MAX + CFG_PATH_MAX + CFG_URL_MAX + 16)

/* Reads a document (stored or fetched) into `into`; its own checks. */
typedef int (*doc_reader)(const struct provider_ctx *p, void *into, const char *body,
                          size_t len, struct sso_error *err);

static int fetch(struct provider_ctx *p, const char *label, const char *key, const char *url,
                 doc_reader read, void *into)
{
    struct http_response resp;
    int rc = http_request(p->http, label, "GET", url, NULL, NULL, &resp, p->err);
    if (rc != PAM_SUCCESS)
        return rc;
    if (resp.status != 200) {
        long status = resp.status;
        char shown[HTTP_URL_SHOWN_MAX + 1];
        http_url_shown(url, shown, sizeof(shown));
        http_response_free(&resp);
        return sso_fail(p->err, PAM_AUTHINFO_UNAVAIL, "%s: HTTP %ld from the provider for %s",
                        label, status, shown);
    }
    rc = read(p, into, resp.body, resp.body_len, p->err);
    struct sso_error why = SSO_ERROR_INIT;
    if (rc == PAM_SUCCESS &&
        store_doc_save(p->cfg->cache_dir, key, resp.body, resp.body_len, &why) != PAM_SUCCESS)
        provider_log(p, LOG_WARNING, "%s not cached: %s", label, why.msg);
    http_response_free(&resp);
    return rc;
}

/* From the store when fetched at most max_age seconds ago and still
 * acceptable (pam_ssooidc_check always fetches); else from the provider. */
static int document(struct provider_ctx *p, const char *label, const char *key,
                    const char *url, long max_age, doc_reader read, void *into, bool *fetched)
{
    char *body = NULL;
    size_t len = 0;
    struct sso_error why = SSO_ERROR_INIT;
    *fetched = false;
    int rc = p->refresh ? sso_fail(&why, PAM_NO_MODULE_DATA, "%s: fetched afresh", label)
                        : store_doc_load(p->cfg->cache_dir, key, label, max_age, &body, &len,
                                         &why);
    if (rc == PAM_SERVICE_ERR || rc == PAM_BUF_ERR) {
        *p->err = why;
        return rc;
    }
    if (rc == PAM_SUCCESS) {
        rc = read(p, into, body, len, &why);
        free(body);
        if (rc == PAM_SUCCESS || rc == PAM_BUF_ERR) {
            if (rc != PAM_SUCCESS)
                *p->err = why;
            return rc;
        }
        provider_log(p, LOG_NOTICE, "cached %s refused (%s); fetching it again", label, why.msg);
    } else {
        provider_log(p, LOG_DEBUG, "%s", why.msg);
    }
    *fetched = true;
    return fetch(p, label, key, url, read, into);
}

static int read_discovery(const struct provider_ctx *p, void *into, const char *body,
                          size_t len, struct sso_error *err)
{
    return discovery_parse(body, len, OPENID_CFG(p)->issuer, into, err);
}

static int read_jwks(const struct provider_ctx *p, void *into, const char *body, size_t len,
                     struct sso_error *err)
{
    (void)p;
    struct jose_jwks **keys = into, *parsed = NULL;
    int rc = jose_jwks_parse(body, len, &parsed, err);
    if (rc == PAM_SUCCESS) {
        jose_jwks_free(*keys);
        *keys = parsed;
    }
    return rc;
}

int documents_discover(struct provider_ctx *p, struct discovery *out)
{
    const struct cfg *c = p->cfg;
    const char *issuer = OPENID_CFG(p)->issuer;
    char url[CFG_URL_MAX + sizeof(WELL_KNOWN)], key[KEY_MAX];
    size_t n = strlen(issuer);
    if (n && issuer[n - 1] == '/')
        n--;
    snprintf(url, sizeof(url), "%.*s%s", (int)n, issuer, WELL_KNOWN);
    snprintf(key, sizeof(key), "discovery\n%s\n%s\n%s", issuer, c->ca_file, c->proxy);
    bool fetched;
    return document(p, "discovery document", key, url, DOCUMENTS_MAX_AGE, read_discovery, out,
                    &fetched);
}

static void jwks_key(const struct provider_ctx *p, const char *jwks_uri, char *key, size_t len)
{
    const struct cfg *c = p->cfg;
    snprintf(key, len, "jwks\n%s\n%s\n%s\n%s", OPENID_CFG(p)->issuer, jwks_uri, c->ca_file,
             c->proxy);
}

int documents_keys(struct provider_ctx *p, const char *jwks_uri, struct jose_jwks **keys,
                   bool *fetched)
{
    char key[KEY_MAX];
    jwks_key(p, jwks_uri, key, sizeof(key));
    return document(p, "JWKS", key, jwks_uri, DOCUMENTS_MAX_AGE, read_jwks, keys, fetched);
}

/* Under the JWKS's lock, so that the logins meeting a new kid together
 * fetch it once: the first fetches, the others find its copy younger than
 * the floor. Without the lock in time, this login goes ahead unlocked. */
int documents_refresh_keys(struct provider_ctx *p, const char *jwks_uri,
                           struct jose_jwks **keys, bool *fetched)
{
    const struct cfg *c = p->cfg;
    char key[KEY_MAX], lockname[96];
    int dir_fd = -1, lock_fd = -1;
    *fetched = false;
    jwks_key(p, jwks_uri, key, sizeof(key));
    int rc = store_file_name("doc-", key, ".lock", lockname, sizeof(lockname), p->err);
    if (rc == PAM_SUCCESS)
        rc = store_dir_open(c->cache_dir, &dir_fd, p->err);
    if (rc != PAM_SUCCESS)
        return rc;
    struct sso_error why = SSO_ERROR_INIT;
    rc = store_lock(dir_fd, c->cache_dir, lockname, "JWKS", 2.0 * (double)c->http_timeout + 5,
                    &lock_fd, &why);
    if (rc == PAM_AUTH_ERR || rc == PAM_SERVICE_ERR) { /* cancelled; an unsafe lock file */
        close(dir_fd);
        *p->err = why;
        return rc;
    }
    if (rc != PAM_SUCCESS)
        provider_log(p, LOG_WARNING, "%s; fetching without it", why.msg);
    rc = document(p, "JWKS", key, jwks_uri, DOCUMENTS_REFETCH_FLOOR, read_jwks, keys, fetched);
    if (lock_fd >= 0)
        store_unlock(lock_fd);
    close(dir_fd);
    return rc;
}
