/* sync_fixture.h - the directory sync's unit tests' fixture (test_sync.c,
 * test_sync_attack.c): a data directory and an empty provision_home under a
 * trusted path, a provision = sync configuration, the sync's key prefixes,
 * and a member made in one line. */
#ifndef SYNC_FIXTURE_H
#define SYNC_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/sync.h"
#include "core/usermap.h"
#include "trusted_tmp.h"

#define NOW ((int64_t)1700000000)
#define PREFIX "directory:identitystore:d-1234567890 user:"

struct fx {
    char root[64];
    char dir[128];  /* the data directory */
    char home[128]; /* provision_home: empty */
    struct cfg c;
    struct usermap um;
    struct sync_source src;
};

/* For a cmocka setup: `name` names the scratch directory, `max_removals`
 * is sync_max_removals. */
static inline int sync_fixture_setup(void **state, const char *name, const char *max_removals)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f || !trusted_mkdtemp(f->root, sizeof(f->root), name, 0755)) {
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "%s/data", f->root);
    snprintf(f->home, sizeof(f->home), "%s/home", f->root);
    mkdir(f->home, 0755);
    sso_strlcpy(f->c.uid_range, "65536-99999", sizeof(f->c.uid_range));
    sso_strlcpy(f->c.provision_home, f->home, sizeof(f->c.provision_home));
    sso_strlcpy(f->c.provision_shell, "/bin/bash", sizeof(f->c.provision_shell));
    sso_strlcpy(f->c.sync_max_removals, max_removals, sizeof(f->c.sync_max_removals));
    f->c.provision = CFG_PROVISION_SYNC;
    f->src = (struct sync_source){.key_prefix = PREFIX, .login_prefix = "aws:"};
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fx *f = *state;
    int rc = trusted_rmtree(f->root);
    free(f);
    return rc;
}

/* An enabled member, with one local group or none. */
static inline struct sync_person person(const char *id, const char *name, const char *group)
{
    struct sync_person p = {.id = id, .name = name, .enabled = true, .problem = ""};
    if (group)
        p.groups[p.n_groups++] = group;
    return p;
}

#endif
