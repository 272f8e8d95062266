/* provision.h - accounts on demand (provision = login): the step after a
 * login's verdict that makes the account of a person the host does not
 * know yet, or refreshes the one it made for them before. The ledger
 * (ledger.h) keeps the records; the NSS module serves them
 * (docs/provisioning.md).
 *
 * The order matters, and the login keeps it: the name rule before anything
 * is sent (a stranger makes the module start a device flow at most, never
 * an account); the approval, the identity proof and the mapping of the
 * approver to exactly the typed name by the usual rules (usermap.h); then,
 * under the ledger's lock, the checks that the name is still free in every
 * NSS source and that no one else holds it in the ledger. The connection
 * that made the account cannot use it (sshd looked the user up before PAM
 * ran), so the person is told to connect again and the login returns
 * PAM_AUTH_ERR. */
#ifndef SSO_PROVISION_H
#define SSO_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/groupmap.h"
#include "core/ledger.h"
#include "core/util.h"

#define PROVISION_GROUPS_MAX 128 /* provider groups read from one approval */

/* What the provider proved about the approver beyond their name
 * (provider.h, facts): the key no rename changes and their groups. */
struct approver_facts {
    char key[LEDGER_KEY_MAX + 1];
    char groups[PROVISION_GROUPS_MAX][256];
    size_t n_groups;
};

/* A name no NSS source knows, typed at a login under provision = login:
 * PAM_SUCCESS when a login may make it (the name rule), else
 * PAM_USER_UNKNOWN with err saying why. Before anything is sent. */
int provision_check_name(const struct cfg *c, const char *typed, struct sso_error *err);

/* Whether the existing account `name` (uid) is one the module made and
 * serves, or its uid is one the ledger handed out, read from the ledger
 * without the lock: only then, or when creating, does provision_login need
 * the approver's facts. true also when the ledger cannot be read
 * (provision_login then says why). */
bool provision_is_ledgers(const char *name, uid_t uid);

enum provision_outcome {
    PROVISION_UNTOUCHED, /* an account the module did not make */
    PROVISION_CREATED,   /* made now: connect again */
    PROVISION_RENEWED,   /* the person's earlier account, served again (expired,
                            removed, or renamed at the provider): connect again */
    PROVISION_REFRESHED, /* the module's account: groups and last login updated */
};

struct provision_login {
    const char *name;    /* the account's name, or the typed one when creating */
    bool creating;       /* no NSS source knew the name */
    uid_t uid;           /* the account's, when !creating */
    const char *approver;
    const struct approver_facts *facts;
    const struct groupmap *groups;
};

/* After the approver was proven and mapped to pl->name. Creating: make the
 * account (or renew the person's earlier one) under the ledger's lock and
 * return PAM_AUTH_ERR with case SSO_CASE_PROVISIONED: the person connects
 * again. An account the module made must be this person's (the key, read
 * without the lock; else PAM_AUTH_ERR, case SSO_CASE_WRONG_ACCOUNT); its
 * groups and last login are then refreshed if the lock is had within 2 s
 * (if not, or the write fails, *outcome stays PROVISION_UNTOUCHED and note
 * says why: the login still succeeds, the next one refreshes). Any other
 * account: PAM_SUCCESS, untouched. *outcome and *uid say what was done. */
int provision_login(const struct cfg *c, const struct provision_login *pl,
                    enum provision_outcome *outcome, uid_t *uid, struct sso_error *err,
                    struct sso_error *note);
/* With provision = off only the ownership check above runs (never a
 * write): the accounts made earlier are still served while nsswitch.conf
 * names ssooidc, and a name reused at the provider must not reach them.
 * Whether there is a ledger to check against at all. */
bool provision_ledger_exists(void);

/* The helpers the directory sync (sync.h) shares with the login. */

/* A record keyed by the directory sync (sync.h) starts with this, then the
 * directory and its id for the person. */
#define PROVISION_DIRECTORY_KEY "directory:"

/* uid_range and provision_expire_days as the ledger takes them. */
struct ledger_policy provision_policy(const struct cfg *c);
/* Does an NSS source know `name` now (*uid set then)? true also when the
 * lookup itself failed (an unreachable LDAP): a name that may exist is
 * never made. */
bool provision_name_known(const char *name, uid_t *uid);
/* provision_home + "/" + name into out. PAM_SERVICE_ERR when too long. */
int provision_home_of(const struct cfg *c, const char *name, char *out, size_t len,
                      struct sso_error *err);
/* A home that is there already belongs to someone: an earlier account of
 * that name, or a local one. A new person is never given its files.
 * PAM_SUCCESS, or PAM_AUTH_ERR saying whose it is. */
int provision_home_is_free(const char *home, struct sso_error *err);
/* Is the approver of pl the person record `a` is for? A login's record:
 * the provider's key (facts). A record the directory sync keyed on the
 * directory's id: the approver's proven user name is the one the directory
 * gave it (byte for byte; with fold_case, ASCII case aside). */
bool provision_owner_is(const struct cfg *c, const struct ledger_account *a,
                        const struct provision_login *pl);

#endif
