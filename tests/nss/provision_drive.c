/* provision_drive.c - the provisioning step of one login (core/provision.h),
 * without a provider: the approver is taken as proven and mapped to NAME
 * (and, as the exact-name rule has it, named NAME unless -a says
 * otherwise), with KEY as the key the provider proved and GROUP... as
 * their provider groups. For tests/nss/run.sh, which runs it where /var/lib/pam_ssooidc
 * is its own and glibc resolves names through the built NSS module.
 *
 *   provision_drive [-m GROUP_MAP_TEXT] [-h HOME_PARENT] [-a APPROVER] NAME KEY [GROUP...]
 *
 * As the module does: NAME unknown to every NSS source is a first login
 * (creating), else a login to that account. Prints one line:
 *   rc=PAM_CODE outcome=untouched|created|renewed|refreshed uid=N msg=...
 * and exits 0 (the step's verdict is in the line). */
#define _GNU_SOURCE
#include <pwd.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/groupmap.h"
#include "core/provision.h"
#include "core/util.h"

static const char *outcome_name(enum provision_outcome o)
{
    switch (o) {
    case PROVISION_UNTOUCHED: return "untouched";
    case PROVISION_CREATED: return "created";
    case PROVISION_RENEWED: return "renewed";
    case PROVISION_REFRESHED: return "refreshed";
    }
    return "?";
}

int main(int argc, char **argv)
{
    static struct cfg c;
    static struct approver_facts facts;
    struct groupmap gm = {NULL, 0};
    const char *home = "/home", *approver = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "m:h:a:")) != -1) {
        if (opt == 'm') {
            gm.text = optarg;
            gm.len = strlen(optarg);
        } else if (opt == 'h') {
            home = optarg;
        } else if (opt == 'a') {
            approver = optarg;
        } else {
            return 2;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "usage: provision_drive [-m MAP] [-h HOME] [-a APPROVER] NAME KEY "
                "[GROUP...]\n");
        return 2;
    }
    const char *name = argv[optind], *key = argv[optind + 1];
    c.provision = CFG_PROVISION_LOGIN;
    snprintf(c.uid_range, sizeof(c.uid_range), "65536-99999");
    snprintf(c.provision_home, sizeof(c.provision_home), "%s", home);
    snprintf(c.provision_shell, sizeof(c.provision_shell), "/bin/sh");
    c.provision_expire_days = 0;
    snprintf(facts.key, sizeof(facts.key), "%s", key);
    for (int i = optind + 2; i < argc && facts.n_groups < PROVISION_GROUPS_MAX; i++)
        snprintf(facts.groups[facts.n_groups++], sizeof(facts.groups[0]), "%s", argv[i]);

    struct passwd *pw = getpwnam(name);
    struct provision_login pl = {name, pw == NULL, pw ? pw->pw_uid : 0,
                                 approver ? approver : name, &facts, &gm};
    enum provision_outcome out = PROVISION_UNTOUCHED;
    uid_t uid = 0;
    struct sso_error err = SSO_ERROR_INIT, note = SSO_ERROR_INIT;
    int rc = provision_login(&c, &pl, &out, &uid, &err, &note);
    printf("rc=%d outcome=%s uid=%u msg=%s%s%s\n", rc, outcome_name(out), (unsigned)uid,
           err.msg, note.msg[0] ? " note=" : "", note.msg);
    return 0;
}
