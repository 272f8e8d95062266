/* check_provision.c - pam_ssooidc_check's look at accounts on demand
 * (docs/provisioning.md): whether the host serves what the module makes
 * (nsswitch.conf, the NSS library), group_map, the ledger, and the
 * directory sync's last run (docs/sync.md). */
#include <dlfcn.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/check.h"
#include "core/groupmap.h"
#include "core/ledger.h"
#include "core/sync.h"

#define NSSWITCH "/etc/nsswitch.conf"
#define NSS_LIBRARY "libnss_ssooidc.so.2"

/* Does the database's line of nsswitch.conf name ssooidc as a source?
 * text is modified (split into lines and words). */
static bool nsswitch_names(char *text, const char *db)
{
    char *line_save = NULL;
    for (char *line = strtok_r(text, "\n", &line_save); line;
         line = strtok_r(NULL, "\n", &line_save)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        size_t dblen = strlen(db);
        if (strncmp(line, db, dblen) != 0 || line[dblen] != ':')
            continue;
        char *word_save = NULL;
        for (char *w = strtok_r(line + dblen + 1, " \t", &word_save); w;
             w = strtok_r(NULL, " \t", &word_save))
            if (strcmp(w, "ssooidc") == 0)
                return true;
    }
    return false;
}

static void check_nsswitch(struct report *r)
{
    char text[16384];
    FILE *f = fopen(NSSWITCH, "re");
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    if (!f) {
        check_finding(r, ST_FAIL, "nsswitch", "cannot read %s: the accounts the module makes "
                      "are not served", NSSWITCH);
        return;
    }
    char copy[sizeof(text)];
    memcpy(copy, text, n + 1);
    bool pw = nsswitch_names(text, "passwd"), gr = nsswitch_names(copy, "group");
    if (pw && gr)
        check_finding(r, ST_OK, "nsswitch", "%s serves passwd and group through ssooidc",
                      NSSWITCH);
    else
        check_finding(r, ST_FAIL, "nsswitch", "%s does not name ssooidc for %s: the accounts "
                      "the module makes are not served (add it after files: \"passwd: files "
                      "ssooidc\", \"group: files ssooidc\")", NSSWITCH,
                      !pw && !gr ? "passwd and group" : !pw ? "passwd" : "group");
}

static void check_library(struct report *r)
{
    void *h = dlopen(NSS_LIBRARY, RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        check_finding(r, ST_FAIL, "nss-library", "%s cannot be loaded (is it installed?): %s",
                      NSS_LIBRARY, dlerror());
        return;
    }
    bool ok = dlsym(h, "_nss_ssooidc_getpwnam_r") && dlsym(h, "_nss_ssooidc_initgroups_dyn");
    dlclose(h);
    check_finding(r, ok ? ST_OK : ST_FAIL, "nss-library", "%s %s", NSS_LIBRARY,
                  ok ? "loads" : "loads but lacks its entry points");
}

static void check_ledger(struct report *r, const struct cfg *c)
{
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    int rc = ledger_open_readonly(&l, NULL, &err);
    if (rc != PAM_SUCCESS) {
        check_finding(r, ST_FAIL, "ledger", "%s", err.msg);
        return;
    }
    size_t by_state[3] = {0, 0, 0};
    unsigned long top = 0;
    for (size_t i = 0; i < ledger_count(l); i++) {
        const struct ledger_account *a = ledger_at(l, i);
        by_state[a->state]++;
        if ((unsigned long)a->uid > top)
            top = a->uid;
    }
    for (size_t i = 0; i < ledger_group_count(l); i++)
        if ((unsigned long)ledger_group_at(l, i)->gid > top)
            top = ledger_group_at(l, i)->gid;
    ledger_close(l);
    unsigned long lo, hi;
    cfg_uid_range(c, &lo, &hi);
    double used = top >= lo && hi > lo ? (double)(top - lo + 1) / (double)(hi - lo + 1) : 0.0;
    check_finding(r, used > 0.9 ? ST_WARN : ST_OK, "ledger", "%s/ledger.json: %zu active, "
                  "%zu locked, %zu removed; uid_range %s %.0f%% used", SSO_DATA_DIR,
                  by_state[LEDGER_ACTIVE], by_state[LEDGER_LOCKED], by_state[LEDGER_REMOVED],
                  c->uid_range, used * 100.0);
}

/* A sync older than this is stale: the timer runs every ten minutes. */
#define SYNC_STALE_SECONDS (60 * 60)

static void check_sync(struct report *r)
{
    struct sync_status st;
    struct sso_error err = SSO_ERROR_INIT;
    int rc = sync_status_read(NULL, &st, &err);
    if (rc == PAM_NO_MODULE_DATA) {
        check_finding(r, ST_FAIL, "sync", "pam_ssooidc_sync has not run yet: run it "
                      "(systemctl start pam_ssooidc-sync.service) and enable "
                      "pam_ssooidc-sync.timer");
        return;
    }
    if (rc != PAM_SUCCESS) {
        check_finding(r, ST_FAIL, "sync", "%s", err.msg);
        return;
    }
    long long now = (long long)time(NULL);
    long long age = now - (long long)st.time, good = now - (long long)st.last_success;
    if (!st.ok)
        check_finding(r, ST_FAIL, "sync", "the last sync (%lld s ago) failed: %s; the last "
                      "good one was %s%lld s ago", age, st.message,
                      st.last_success ? "" : "never, ", st.last_success ? good : 0);
    else if (age > SYNC_STALE_SECONDS)
        check_finding(r, ST_WARN, "sync", "the last sync was %lld s ago (more than an hour): "
                      "is pam_ssooidc-sync.timer enabled?", age);
    else
        check_finding(r, st.skipped ? ST_WARN : ST_OK, "sync", "the last sync, %lld s ago, "
                      "succeeded: %ld accounts served, %ld added, %ld removed, %ld skipped "
                      "(journalctl -u pam_ssooidc-sync says who), %ld requests", age, st.served,
                      st.added, st.removed, st.skipped, st.requests);
}

void check_probe_provision(struct report *r, const struct settings *s)
{
    const struct cfg *c = &s->common;
    if (c->provision == CFG_PROVISION_OFF)
        return;
    struct groupmap gm;
    struct sso_error err = SSO_ERROR_INIT;
    if (c->group_map[0]) {
        if (groupmap_load(c, &gm, &err) == PAM_SUCCESS)
            check_finding(r, ST_OK, "group_map", "%s read and checked", c->group_map);
        else
            check_finding(r, ST_FAIL, "group_map", "%s", err.msg);
        groupmap_free(&gm);
    }
    check_nsswitch(r);
    check_library(r);
    check_ledger(r, c);
    if (c->provision == CFG_PROVISION_SYNC)
        check_sync(r);
}
