/* pam_ssooidc_sync - the accounts of an IAM Identity Center directory's
 * groups, ready before anyone logs in (provision = sync).
 *
 *   pam_ssooidc_sync [--conf FILE] [--dry-run] [--force] [--json] [--dir DIR]
 *   pam_ssooidc_sync [--conf FILE] --configured
 *
 * Reads the module's configuration (identity_store_id, sync_groups, the
 * mapping options), the host's credentials (IMDSv2, or
 * sync_credentials_file), the members of each group and their names and
 * statuses (aws/directory.h); then, under the ledger's lock, applies them
 * (core/sync.h) and writes the ledger and the files the NSS module serves.
 * A failure anywhere before the write leaves the last good files as they
 * are. A run that would stop serving more accounts than sync_max_removals
 * allows writes nothing unless --force. --dry-run says what would change
 * and writes nothing. The run's result goes to syslog (one line, and one per
 * change up to SYNC_LOG_CHANGES) and to the status file pam_ssooidc_check
 * reads. --configured only says (exit 0 or 1) whether this host is set up
 * for the sync: the systemd unit's ExecCondition.
 *
 * Exit status, as pam_ssooidc_check's: 0 OK, 1 WARNING (synced, some
 * members skipped), 2 CRITICAL (nothing written: the directory could not be
 * read, or the removals were refused), 3 UNKNOWN (a usage error, not root,
 * the configuration or the ledger unusable). --dir points it at another
 * data directory (the tests' own). docs/sync.md, pam_ssooidc_sync(8). */
#include <inttypes.h>
#include <jansson.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "aws/directory.h"
#include "core/http.h"
#include "core/ledger.h"
#include "core/provision.h"
#include "core/sanitize.h"
#include "core/sync.h"
#include "core/usermap.h"
#include "settings.h"

#define SYNC_EXIT_OK 0
#define SYNC_EXIT_WARNING 1
#define SYNC_EXIT_CRITICAL 2
#define SYNC_EXIT_UNKNOWN 3
#define SYNC_EXIT_BROKEN 255 /* --configured: the configuration does not load */
#define SYNC_DEADLINE 300.0  /* seconds for the directory's calls, retries included */
#define SYNC_MIN_RETRIES 5   /* throttling is the normal case in bulk */
#define SYNC_BODY_MAX (2 * 1024 * 1024) /* a ListUsers page of 100 full users */
#define SYNC_LOCK_WAIT 30.0  /* seconds: a login under provision = login holds it briefly */
#define SYNC_LOG_CHANGES 50  /* changes logged one by one; the rest are counted */

struct sync_args {
    const char *conf, *dir;
    bool dry_run, force, json, configured;
};

struct run {
    struct sync_args args;
    struct settings s;
    struct usermap um;
    struct directory d;
    struct sync_report r;
    struct sync_status st;
    struct aws_sync_group groups[AWS_SYNC_GROUPS_MAX]; /* sync_groups, split */
    size_t n_groups;
    bool refused; /* the removals were over the limit */
    bool wrote;
    char prefix[LEDGER_KEY_MAX], login_prefix[64];
    struct sso_error err;
};

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: pam_ssooidc_sync [--conf FILE] [--dry-run] [--force] [--json] "
                "[--dir DIR]\n"
                "       pam_ssooidc_sync [--conf FILE] --configured\n");
    return code;
}

static bool parse_args(int argc, char **argv, struct sync_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--dry-run") == 0)
            a->dry_run = true;
        else if (strcmp(o, "--force") == 0)
            a->force = true;
        else if (strcmp(o, "--json") == 0)
            a->json = true;
        else if (strcmp(o, "--configured") == 0)
            a->configured = true;
        else if ((strcmp(o, "--conf") == 0 || strcmp(o, "--dir") == 0) && i + 1 < argc)
            *(o[2] == 'c' ? &a->conf : &a->dir) = argv[++i];
        else
            return false;
    }
    return true;
}

/* The configuration as the module reads it, and the mapping's files.
 * *unset: it loads but does not ask for the sync (not a failure for the
 * systemd unit's ExecCondition: the unit is then skipped). */
static int load(struct run *rn, bool *unset)
{
    *unset = false;
    char conf_arg[CFG_PATH_MAX + 8];
    const char *argv[1] = {conf_arg};
    int argc = 0;
    if (rn->args.conf) {
        snprintf(conf_arg, sizeof(conf_arg), "conf=%s", rn->args.conf);
        argc = 1;
    }
    int rc = settings_load(&rn->s, argc, argv, &rn->err);
    if (rc != PAM_SUCCESS)
        return rc;
    /* provision = sync, and only it, turns the sync on: under login the
     * sync would stop serving every account a login made for someone
     * outside sync_groups. provision = sync cannot load without start_url,
     * identity_store_id and sync_groups (aws_config.c). */
    if (rn->s.common.provision != CFG_PROVISION_SYNC) {
        *unset = true;
        return sso_fail(&rn->err, PAM_SERVICE_ERR, "the configuration does not set "
                        "provision = sync: nothing to sync");
    }
    return usermap_load(&rn->s.common, &rn->um, &rn->err);
}

static int read_directory(struct run *rn)
{
    struct role_credentials creds;
    int64_t expires = 0;
    struct http_client *h = NULL;
    int rc = directory_credentials(&rn->s.common, &rn->s.aws, &creds, &expires, &rn->err);
    if (rc == PAM_SUCCESS)
        rc = http_open(&h, &rn->s.common, &rn->err);
    if (rc == PAM_SUCCESS) {
        long retries = rn->s.common.retries;
        http_set_retry(h, retries < SYNC_MIN_RETRIES ? SYNC_MIN_RETRIES : retries,
                       sso_monotonic() + SYNC_DEADLINE);
        http_set_body_max(h, SYNC_BODY_MAX);
        rc = directory_read(h, &rn->s.aws, &creds, &rn->d, &rn->err);
    }
    http_close(h);
    sso_cleanse(&creds, sizeof(creds));
    return rc;
}

/* The directory's people as the sync's rules take them: bit i of a
 * person's groups gives sync_groups entry i's local group, if it names one. */
static struct sync_person *people_of(struct run *rn, size_t *n)
{
    /* The people point into rn->groups: it outlives them. */
    const struct aws_sync_group *groups = rn->groups;
    size_t ng = rn->n_groups = aws_sync_groups(&rn->s.aws, rn->groups, AWS_SYNC_GROUPS_MAX);
    struct sync_person *p = calloc(rn->d.n ? rn->d.n : 1, sizeof(*p));
    *n = 0;
    if (!p)
        return NULL;
    for (size_t i = 0; i < rn->d.n; i++) {
        const struct directory_person *dp = &rn->d.people[i];
        struct sync_person *sp = &p[(*n)++];
        sp->id = dp->user_id;
        sp->name = dp->user_name;
        sp->enabled = dp->enabled;
        sp->problem = dp->problem;
        for (size_t g = 0; g < ng && sp->n_groups < SYNC_GROUPS_MAX; g++) {
            bool dup = false;
            if (!(dp->groups & (1u << g)) || !groups[g].local[0])
                continue;
            for (size_t k = 0; k < sp->n_groups; k++)
                dup = dup || strcmp(sp->groups[k], groups[g].local) == 0;
            if (!dup)
                sp->groups[sp->n_groups++] = groups[g].local;
        }
    }
    return p;
}

static size_t changed(const struct sync_report *r)
{
    size_t n = 0;
    for (int k = SYNC_ADDED; k < SYNC_SKIPPED; k++)
        n += r->count[k];
    return n;
}

/* A refused run still takes a reused name away from the record of the
 * person who had it: the new holder of the name must not log in to their
 * account while the departures wait for --force. Read afresh, only that
 * applied, and written if it changed anything. */
static void disown_only(struct run *rn, const struct sync_source *src,
                        const struct sync_person *people, size_t n, int64_t now)
{
    struct ledger *l = NULL;
    struct sync_report r = {0};
    struct sso_error err = SSO_ERROR_INIT;
    int rc = ledger_open(&l, rn->args.dir, SYNC_LOCK_WAIT, &err);
    if (rc == PAM_SUCCESS)
        rc = sync_disown(l, &rn->s.common, src, people, n, &r, &err);
    if (rc == PAM_SUCCESS && r.count[SYNC_DISOWNED] > 0) {
        const struct ledger_policy pol = provision_policy(&rn->s.common);
        rc = ledger_commit(l, &pol, now, &err);
    }
    ledger_close(l);
    if (rc != PAM_SUCCESS)
        fprintf(stderr, "pam_ssooidc_sync: %s\n", err.msg);
    sync_report_free(&r);
}

/* Under the lock: plan, weigh the removals, commit. */
static int apply(struct run *rn)
{
    struct ledger *l = NULL;
    size_t n = 0;
    struct sync_person *people = people_of(rn, &n);
    if (!people)
        return sso_fail(&rn->err, PAM_BUF_ERR, "out of memory");
    snprintf(rn->prefix, sizeof(rn->prefix), "%sidentitystore:%s user:", PROVISION_DIRECTORY_KEY,
             rn->s.aws.identity_store_id);
    /* A login's records in the account logins are proven in (account_id:
     * provision = sync needs it): another account's are no business of
     * this directory's. */
    snprintf(rn->login_prefix, sizeof(rn->login_prefix), "aws:%s ", rn->s.aws.account_id);
    /* Every user the directory listed, members or not: who holds which
     * name now (a name reused by someone outside sync_groups). */
    struct sync_name *names = calloc(rn->d.n_names ? rn->d.n_names : 1, sizeof(*names));
    if (!names) {
        free(people);
        return sso_fail(&rn->err, PAM_BUF_ERR, "out of memory");
    }
    for (size_t i = 0; i < rn->d.n_names; i++)
        names[i] = (struct sync_name){rn->d.names[i].user_id, rn->d.names[i].user_name};
    const struct sync_source src = {rn->prefix, rn->login_prefix, names, rn->d.n_names};
    /* A dry run changes nothing, and makes nothing: no lock, no directory. */
    int rc = rn->args.dry_run ? ledger_open_readonly(&l, rn->args.dir, &rn->err)
                              : ledger_open(&l, rn->args.dir, SYNC_LOCK_WAIT, &rn->err);
    const int64_t now = (int64_t)time(NULL);
    if (rc == PAM_SUCCESS)
        rc = sync_plan(l, &rn->s.common, &rn->um, &src, people, n, now, &rn->r, &rn->err);
    if (rc == PAM_SUCCESS) {
        unsigned long limit = cfg_sync_max_removals(&rn->s.common, rn->r.served_before);
        if (rn->r.count[SYNC_REMOVED] > limit && !rn->args.force) {
            rn->refused = true;
            rc = sso_fail(&rn->err, PAM_AUTH_ERR, "the run would stop serving %zu of %zu "
                          "accounts, more than sync_max_removals = %s allows (%lu): nothing "
                          "written; check the directory and sync_groups, then run "
                          "pam_ssooidc_sync --force",
                          rn->r.count[SYNC_REMOVED], rn->r.served_before,
                          rn->s.common.sync_max_removals, limit);
        }
    }
    if (rc == PAM_SUCCESS && !rn->args.dry_run && changed(&rn->r) > 0) {
        const struct ledger_policy pol = provision_policy(&rn->s.common);
        rc = ledger_commit(l, &pol, now, &rn->err);
        rn->wrote = rc == PAM_SUCCESS;
    }
    ledger_close(l);
    if (rn->refused && !rn->args.dry_run)
        disown_only(rn, &src, people, n, now);
    free(people);
    free(names);
    return rc;
}

/* ---- what it says ---- */

static void log_run(const struct run *rn, int rc)
{
    openlog("pam_ssooidc_sync", LOG_PID, LOG_AUTHPRIV);
    const struct sync_report *r = &rn->r;
    if (rc != PAM_SUCCESS) {
        syslog(LOG_ERR, "sync %s: %s; the last good files stay as they were",
               rn->refused ? "refused" : "failed", rn->err.msg);
    } else {
        size_t logged = 0;
        for (size_t i = 0; i < r->n && !rn->args.dry_run; i++) {
            const struct sync_change *ch = &r->changes[i];
            if (logged++ == SYNC_LOG_CHANGES) {
                syslog(LOG_NOTICE, "sync: %zu more changes not listed here", r->n - i);
                break;
            }
            syslog(ch->kind == SYNC_SKIPPED ? LOG_WARNING : LOG_NOTICE, "sync: %s %s (%s, uid "
                   "%u): %s", sync_kind_name(ch->kind), ch->name[0] ? ch->name : "-", ch->who,
                   (unsigned)ch->uid, ch->detail);
        }
        syslog(r->count[SYNC_SKIPPED] ? LOG_WARNING : LOG_INFO,
               "sync%s: %zu members, %zu added, %zu renamed, %zu served again, %zu removed, "
               "%zu skipped, %zu served; %ld requests (%ld throttled)",
               rn->args.dry_run ? " (dry run)" : "", r->members, r->count[SYNC_ADDED],
               r->count[SYNC_RENAMED], r->count[SYNC_RENEWED], r->count[SYNC_REMOVED],
               r->count[SYNC_SKIPPED], r->served_after, rn->d.requests, rn->d.throttled);
    }
    closelog();
}

static void print_text(const struct run *rn, int rc)
{
    const struct sync_report *r = &rn->r;
    for (size_t i = 0; i < r->n; i++) {
        const struct sync_change *ch = &r->changes[i];
        printf("%s%-9s %-16s uid %-6u %s: %s\n", rn->args.dry_run ? "would be " : "",
               sync_kind_name(ch->kind), ch->name[0] ? ch->name : "-", (unsigned)ch->uid,
               ch->who, ch->detail);
    }
    if (rc != PAM_SUCCESS && !rn->refused && r->n == 0) {
        fprintf(stderr, "pam_ssooidc_sync: %s\n", rn->err.msg);
        return;
    }
    if (rc != PAM_SUCCESS)
        fprintf(stderr, "pam_ssooidc_sync: %s\n", rn->err.msg);
    printf("%s%zu members: %zu added, %zu renamed, %zu served again, %zu regrouped, %zu "
           "adopted, %zu removed, %zu skipped; %zu accounts served%s; %ld requests (%ld "
           "throttled)\n",
           rn->args.dry_run ? "dry run, nothing written: " : "", r->members,
           r->count[SYNC_ADDED], r->count[SYNC_RENAMED], r->count[SYNC_RENEWED],
           r->count[SYNC_REGROUPED], r->count[SYNC_ADOPTED], r->count[SYNC_REMOVED],
           r->count[SYNC_SKIPPED], rc == PAM_SUCCESS ? r->served_after : r->served_before,
           rn->wrote || rc != PAM_SUCCESS || rn->args.dry_run ? "" : " (no change: nothing written)",
           rn->d.requests, rn->d.throttled);
}

static void print_json(const struct run *rn, int rc, int code)
{
    const struct sync_report *r = &rn->r;
    json_t *changes = json_array(), *counts = json_object();
    for (size_t i = 0; i < r->n; i++) {
        const struct sync_change *ch = &r->changes[i];
        json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "change",
                                                 sync_kind_name(ch->kind), "name", ch->name,
                                                 "old_name", ch->old_name, "who", ch->who,
                                                 "uid", (json_int_t)ch->uid, "detail",
                                                 ch->detail));
    }
    for (int k = SYNC_ADDED; k <= SYNC_SKIPPED; k++)
        json_object_set_new(counts, sync_kind_name((enum sync_kind)k),
                            json_integer((json_int_t)r->count[k]));
    json_t *o = json_pack("{s:b, s:i, s:b, s:b, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
                          "ok", rc == PAM_SUCCESS, "exit", code, "dry_run", rn->args.dry_run,
                          "refused", rn->refused, "written", rn->wrote, "message",
                          rc == PAM_SUCCESS ? "" : rn->err.msg, "members",
                          (json_int_t)r->members, "served_before",
                          (json_int_t)r->served_before, "served_after",
                          (json_int_t)(rc == PAM_SUCCESS ? r->served_after : r->served_before),
                          "requests", (json_int_t)rn->d.requests, "throttled",
                          (json_int_t)rn->d.throttled, "counts", counts, "changes", changes);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(o);
}

/* The status file: what the last run did, for pam_ssooidc_check. A dry run
 * changes nothing, so it records nothing either. */
static void record(struct run *rn, int rc)
{
    struct sync_status old, *st = &rn->st;
    struct sso_error ignored = SSO_ERROR_INIT;
    if (rn->args.dry_run)
        return;
    memset(st, 0, sizeof(*st));
    st->time = (int64_t)time(NULL);
    if (sync_status_read(rn->args.dir, &old, &ignored) == PAM_SUCCESS)
        st->last_success = old.last_success;
    st->ok = rc == PAM_SUCCESS;
    if (st->ok)
        st->last_success = st->time;
    else
        sso_strlcpy(st->message, rn->err.msg, sizeof(st->message));
    st->added = (long)rn->r.count[SYNC_ADDED];
    st->removed = (long)rn->r.count[SYNC_REMOVED];
    st->renamed = (long)rn->r.count[SYNC_RENAMED];
    st->skipped = (long)rn->r.count[SYNC_SKIPPED];
    st->served = (long)(st->ok ? rn->r.served_after : rn->r.served_before);
    st->requests = rn->d.requests;
    if (sync_status_write(rn->args.dir, st, &ignored) != PAM_SUCCESS)
        fprintf(stderr, "pam_ssooidc_sync: %s\n", ignored.msg);
}

int main(int argc, char **argv)
{
    static struct run rn; /* large; main's, not the library's */
    if (!parse_args(argc, argv, &rn.args))
        return usage(stderr, SYNC_EXIT_UNKNOWN);
    rn.err = (struct sso_error)SSO_ERROR_INIT;
    bool unset = false;
    int rc = load(&rn, &unset);
    if (rn.args.configured) {
        /* systemd's ExecCondition: 1..254 skip the unit, 255 fails it. A
         * host not set up for the sync is skipped; a configuration that
         * does not load is a failure someone must see. */
        if (rc != PAM_SUCCESS)
            fprintf(stderr, "pam_ssooidc_sync: %s: %s\n", unset ? "not configured" : "error",
                    rn.err.msg);
        usermap_free(&rn.um);
        return rc == PAM_SUCCESS ? SYNC_EXIT_OK : unset ? 1 : SYNC_EXIT_BROKEN;
    }
    if (rc == PAM_SUCCESS && geteuid() != 0)
        rc = sso_fail(&rn.err, PAM_SERVICE_ERR, "must run as root (it writes the ledger)");
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "pam_ssooidc_sync: %s\n", rn.err.msg);
        openlog("pam_ssooidc_sync", LOG_PID, LOG_AUTHPRIV);
        syslog(LOG_ERR, "sync not run: %s", rn.err.msg);
        closelog();
        if (geteuid() == 0 && !unset)
            record(&rn, rc); /* pam_ssooidc_check then says why */
        usermap_free(&rn.um);
        return SYNC_EXIT_UNKNOWN;
    }
    bool directory_read_ok = false;
    rc = read_directory(&rn);
    if (rc == PAM_SUCCESS) {
        directory_read_ok = true;
        rc = apply(&rn);
    }
    int code = rc == PAM_SUCCESS ? (rn.r.count[SYNC_SKIPPED] ? SYNC_EXIT_WARNING : SYNC_EXIT_OK)
               : (rn.refused || !directory_read_ok) ? SYNC_EXIT_CRITICAL
               : (rc == PAM_SERVICE_ERR || rc == PAM_BUF_ERR) ? SYNC_EXIT_UNKNOWN
                                                               : SYNC_EXIT_CRITICAL;
    log_run(&rn, rc);
    record(&rn, rc);
    if (rn.args.json)
        print_json(&rn, rc, code);
    else
        print_text(&rn, rc);
    sync_report_free(&rn.r);
    directory_free(&rn.d);
    usermap_free(&rn.um);
    return code;
}
