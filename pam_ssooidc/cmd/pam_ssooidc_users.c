/* pam_ssooidc_users - the accounts provision = login made on this host.
 *
 *   pam_ssooidc_users [--dir DIR] list [--json]
 *   pam_ssooidc_users [--dir DIR] show NAME [--json]
 *   pam_ssooidc_users [--dir DIR] lock|unlock|remove NAME
 *
 * Reads the ledger (core/ledger.h) in the data directory; lock, unlock and
 * remove change one record under the ledger's lock and render passwd and
 * group again with the policy the last login recorded in the ledger (this
 * command reads no configuration file: the policy that made the files is
 * the one to keep them with). remove leaves a tombstone: the name is free
 * again, the uid stays reserved for ever.
 *
 * Exit status: 0 done, 1 no such account or the change is refused, 2 a
 * usage error, 3 the ledger could not be read or written (not root, an
 * unsafe directory, a ledger that does not parse, the lock not had).
 * --dir points it at another data directory (the tests' own).
 * docs/man/pam_ssooidc_users.8, docs/provisioning.md. */
#include <inttypes.h>
#include <jansson.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ledger.h"

#define USERS_EXIT_OK 0
#define USERS_EXIT_REFUSED 1
#define USERS_EXIT_USAGE 2
#define USERS_EXIT_UNREADABLE 3
#define USERS_LOCK_WAIT 10.0 /* seconds: a login holds the lock for moments */

struct users_args {
    const char *dir, *action, *name;
    bool json;
};

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: pam_ssooidc_users [--dir DIR] list [--json]\n"
                "       pam_ssooidc_users [--dir DIR] show NAME [--json]\n"
                "       pam_ssooidc_users [--dir DIR] lock|unlock|remove NAME\n");
    return code;
}

static bool takes_name(const char *action)
{
    return strcmp(action, "show") == 0 || strcmp(action, "lock") == 0 ||
           strcmp(action, "unlock") == 0 || strcmp(action, "remove") == 0;
}

/* Returns false on a usage error. */
static bool parse_args(int argc, char **argv, struct users_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--json") == 0)
            a->json = true;
        else if (strcmp(o, "--dir") == 0) {
            if (i + 1 >= argc)
                return false;
            a->dir = argv[++i];
        } else if (o[0] == '-')
            return false;
        else if (!a->action)
            a->action = o;
        else if (!a->name)
            a->name = o;
        else
            return false;
    }
    if (!a->action || (strcmp(a->action, "list") != 0 && !takes_name(a->action)))
        return false;
    if (takes_name(a->action) != (a->name != NULL))
        return false;
    if (a->json && strcmp(a->action, "list") != 0 && strcmp(a->action, "show") != 0)
        return false;
    return true;
}

/* ---- output ---- */

static void when(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, len, "%s", t == 0 ? "never" : "?");
}

static json_t *account_json(const struct ledger_account *a, const struct ledger_policy *pol,
                            bool have_pol, int64_t now)
{
    json_t *groups = json_array();
    for (size_t i = 0; groups && i < a->n_groups; i++)
        json_array_append_new(groups, json_string(a->groups[i]));
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:s, s:s, s:o?}", "name",
                          a->name, "key", a->key, "uid", (json_int_t)a->uid, "state",
                          ledger_state_name(a->state), "approver", a->approver, "created",
                          (json_int_t)a->created, "last_login", (json_int_t)a->last_login,
                          "home", a->home, "shell", a->shell, "groups", groups);
    if (o && have_pol) {
        json_object_set_new(o, "expires", json_integer(ledger_expires(a, pol)));
        json_object_set_new(o, "served", json_boolean(ledger_served(a, pol, now)));
    }
    return o;
}

static int print_json(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
    if (!text) {
        fprintf(stderr, "pam_ssooidc_users: out of memory\n");
        return USERS_EXIT_UNREADABLE;
    }
    printf("%s\n", text);
    free(text);
    return USERS_EXIT_OK;
}

static void expiry_text(const struct ledger_account *a, const struct ledger_policy *pol,
                        bool have_pol, char *out, size_t len)
{
    if (!have_pol)
        snprintf(out, len, "unknown");
    else
        when(ledger_expires(a, pol), out, len);
}

static int do_list(struct ledger *l, bool json, int64_t now)
{
    struct ledger_policy pol;
    bool have = ledger_policy_recorded(l, &pol);
    if (json) {
        json_t *accs = json_array(), *grps = json_array();
        for (size_t i = 0; accs && i < ledger_count(l); i++)
            json_array_append_new(accs, account_json(ledger_at(l, i), &pol, have, now));
        for (size_t i = 0; grps && i < ledger_group_count(l); i++)
            json_array_append_new(grps, json_pack("{s:s, s:I}", "name",
                                                  ledger_group_at(l, i)->name, "gid",
                                                  (json_int_t)ledger_group_at(l, i)->gid));
        return print_json(json_pack("{s:o?, s:o?}", "accounts", accs, "groups", grps));
    }
    printf("%-32s %10s  %-7s  %-23s  %s\n", "NAME", "UID", "STATE", "LAST LOGIN", "EXPIRES");
    for (size_t i = 0; i < ledger_count(l); i++) {
        const struct ledger_account *a = ledger_at(l, i);
        char last[40], exp[40];
        when(a->last_login, last, sizeof(last));
        expiry_text(a, &pol, have, exp, sizeof(exp));
        printf("%-32s %10u  %-7s  %-23s  %s\n", a->name, (unsigned)a->uid,
               ledger_state_name(a->state), last, exp);
    }
    return USERS_EXIT_OK;
}

static void show_text(const struct ledger_account *a, const struct ledger_policy *pol,
                      bool have, int64_t now)
{
    char created[40], last[40], exp[40];
    when(a->created, created, sizeof(created));
    when(a->last_login, last, sizeof(last));
    expiry_text(a, pol, have, exp, sizeof(exp));
    printf("name:       %s\n", a->name);
    printf("key:        %s\n", a->key);
    printf("uid:        %u (its personal group: gid %u)\n", (unsigned)a->uid, (unsigned)a->uid);
    printf("state:      %s%s\n", ledger_state_name(a->state),
           have && ledger_served(a, pol, now) ? " (served)" : " (not served)");
    printf("created:    %s\n", created);
    printf("last login: %s\n", last);
    printf("expires:    %s\n", exp);
    printf("approver:   %s\n", a->approver[0] ? a->approver : "-");
    printf("home:       %s\n", a->home);
    printf("shell:      %s\n", a->shell);
    printf("groups:    ");
    for (size_t i = 0; i < a->n_groups; i++)
        printf("%s %s", i ? "," : "", a->groups[i]);
    printf("%s\n", a->n_groups ? "" : " -");
}

static int do_show(struct ledger *l, const char *name, bool json, int64_t now)
{
    const struct ledger_account *a = ledger_find_name(l, name);
    if (!a) {
        fprintf(stderr, "pam_ssooidc_users: no account %s in the ledger\n", name);
        return USERS_EXIT_REFUSED;
    }
    struct ledger_policy pol;
    bool have = ledger_policy_recorded(l, &pol);
    if (json)
        return print_json(account_json(a, &pol, have, now));
    show_text(a, &pol, have, now);
    return USERS_EXIT_OK;
}

/* ---- changes ---- */

/* The state `action` moves the account to; USERS_EXIT_OK with *to set, or
 * the exit code of a refusal (said on stderr). */
static int next_state(const struct ledger_account *a, const char *action, const char *name,
                      enum ledger_state *to)
{
    if (!a || a->state == LEDGER_REMOVED) {
        fprintf(stderr, "pam_ssooidc_users: no account %s%s\n", name,
                a ? " (it was removed)" : " in the ledger");
        return USERS_EXIT_REFUSED;
    }
    if (strcmp(action, "lock") == 0)
        *to = LEDGER_LOCKED;
    else if (strcmp(action, "unlock") == 0)
        *to = LEDGER_ACTIVE;
    else
        *to = LEDGER_REMOVED;
    return USERS_EXIT_OK;
}

static int do_change(const char *dir, const char *action, const char *name)
{
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    if (ledger_open(&l, dir, USERS_LOCK_WAIT, &err) != PAM_SUCCESS) {
        fprintf(stderr, "pam_ssooidc_users: %s\n", err.msg);
        return USERS_EXIT_UNREADABLE;
    }
    struct ledger_account *a = ledger_find_name(l, name);
    enum ledger_state to = LEDGER_ACTIVE;
    int code = next_state(a, action, name, &to);
    if (code == USERS_EXIT_OK && a->state == to) {
        printf("%s is already %s\n", name, ledger_state_name(to));
    } else if (code == USERS_EXIT_OK && to == LEDGER_ACTIVE &&
               ledger_name_unclaimed(l, name, &err) != PAM_SUCCESS) {
        fprintf(stderr, "pam_ssooidc_users: %s; not unlocked (rename or remove the host's "
                "user or group first)\n", err.msg);
        code = USERS_EXIT_REFUSED;
    } else if (code == USERS_EXIT_OK) {
        a->state = to;
        if (ledger_commit_recorded(l, (int64_t)time(NULL), &err) != PAM_SUCCESS) {
            fprintf(stderr, "pam_ssooidc_users: %s; nothing changed\n", err.msg);
            code = USERS_EXIT_UNREADABLE;
        } else {
            printf("%s (uid %u) is now %s\n", name, (unsigned)a->uid, ledger_state_name(to));
        }
    }
    ledger_close(l);
    return code;
}

int main(int argc, char **argv)
{
    struct users_args a = {.dir = NULL};
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, USERS_EXIT_OK);
    if (!parse_args(argc, argv, &a))
        return usage(stderr, USERS_EXIT_USAGE);
    if (geteuid() != 0) {
        fprintf(stderr, "pam_ssooidc_users: must be run as root (the ledger is readable by "
                        "root alone)\n");
        return USERS_EXIT_UNREADABLE;
    }
    if (takes_name(a.action) && strcmp(a.action, "show") != 0)
        return do_change(a.dir, a.action, a.name);
    struct ledger *l = NULL;
    struct sso_error err = SSO_ERROR_INIT;
    if (ledger_open_readonly(&l, a.dir, &err) != PAM_SUCCESS) {
        fprintf(stderr, "pam_ssooidc_users: %s\n", err.msg);
        return USERS_EXIT_UNREADABLE;
    }
    int64_t now = (int64_t)time(NULL);
    int code = strcmp(a.action, "list") == 0 ? do_list(l, a.json, now)
                                             : do_show(l, a.name, a.json, now);
    ledger_close(l);
    return code;
}
