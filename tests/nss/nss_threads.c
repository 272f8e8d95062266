#define _GNU_SOURCE
/* nss_threads - the reentrant lookups from several threads at once, through
 * glibc (tests/nss/run.sh runs it where nsswitch.conf names ssooidc).
 *
 *   nss_threads THREADS ROUNDS USER UID HOME GROUP GID MEMBERS
 *   nss_threads --enumerate
 *
 * Every thread, every round, looks USER up by name and by UID, and GROUP by
 * name and by GID, each first with a buffer too small (1 byte and up, a
 * different start each round) and then, on ERANGE, again with twice the
 * size: each answer must come, must be exact (name, ids, home, members as
 * the comma list MEMBERS) and must have needed at least one retry from a
 * 1-byte buffer. Buffers are heap blocks of exactly the size given, so an
 * ASan build catches a write past one. Prints the totals; exit 0 only when
 * every lookup was right.
 *
 * --enumerate: walk getpwent_r, then getgrent_r, each entry first from a
 * 1-byte buffer, doubling on ERANGE (the position must stay on the entry
 * until it fits), and print the names, one a line, the groups after a
 * line "--". */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUF (1 << 20)

struct want {
    const char *user, *home, *group, *members;
    uid_t uid;
    gid_t gid;
    int rounds;
};

struct tally {
    long lookups, retries, errors;
};

static bool members_are(char **mem, const char *want)
{
    char joined[1024] = "";
    for (size_t i = 0; mem && mem[i]; i++) {
        if (strlen(joined) + strlen(mem[i]) + 2 > sizeof(joined))
            return false;
        if (i)
            strcat(joined, ",");
        strcat(joined, mem[i]);
    }
    return strcmp(joined, want) == 0;
}

static bool pw_right(const struct passwd *pw, const struct want *w)
{
    return strcmp(pw->pw_name, w->user) == 0 && pw->pw_uid == w->uid && pw->pw_gid == w->uid &&
           strcmp(pw->pw_dir, w->home) == 0 && strcmp(pw->pw_passwd, "*") == 0;
}

static bool gr_right(const struct group *gr, const struct want *w)
{
    return strcmp(gr->gr_name, w->group) == 0 && gr->gr_gid == w->gid &&
           members_are(gr->gr_mem, w->members);
}

/* One lookup (kind 0..3) from a buffer of `size` bytes, doubling on ERANGE. */
static void lookup(int kind, size_t size, const struct want *w, struct tally *t)
{
    int rc;
    bool right = false;
    t->lookups++;
    for (;;) {
        char *buf = malloc(size);
        struct passwd pw, *pwp = NULL;
        struct group gr, *grp = NULL;
        if (!buf) {
            t->errors++;
            return;
        }
        switch (kind) {
        case 0: rc = getpwnam_r(w->user, &pw, buf, size, &pwp); break;
        case 1: rc = getpwuid_r(w->uid, &pw, buf, size, &pwp); break;
        case 2: rc = getgrnam_r(w->group, &gr, buf, size, &grp); break;
        default: rc = getgrgid_r(w->gid, &gr, buf, size, &grp); break;
        }
        if (rc == 0)
            right = kind < 2 ? pwp && pw_right(pwp, w) : grp && gr_right(grp, w);
        free(buf);
        if (rc != ERANGE || size >= MAX_BUF)
            break;
        t->retries++;
        size *= 2;
    }
    if (!right) {
        fprintf(stderr, "lookup %d: rc %d (%s), answer %s\n", kind, rc, strerror(rc),
                rc == 0 ? "wrong or missing" : "none");
        t->errors++;
    }
}

static void *worker(void *arg)
{
    const struct want *w = arg;
    struct tally *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    for (int round = 0; round < w->rounds; round++)
        for (int kind = 0; kind < 4; kind++) {
            long before = t->retries;
            lookup(kind, 1 + (size_t)(round % 97), w, t);
            if (round == 0 && t->retries == before) {
                fprintf(stderr, "lookup %d: a 1-byte buffer did not give ERANGE\n", kind);
                t->errors++;
            }
        }
    return t;
}

/* Every entry of one database, each from a 1-byte buffer up. */
static int enumerate(bool groups)
{
    size_t retries = 0;
    if (groups)
        setgrent();
    else
        setpwent();
    for (;;) {
        size_t size = 1;
        int rc;
        char name[256] = "";
        for (;;) {
            char *buf = malloc(size);
            struct passwd pw, *pwp = NULL;
            struct group gr, *grp = NULL;
            if (!buf)
                return 1;
            if (groups) {
                rc = getgrent_r(&gr, buf, size, &grp);
                if (rc == 0 && grp)
                    snprintf(name, sizeof(name), "%s", grp->gr_name);
            } else {
                rc = getpwent_r(&pw, buf, size, &pwp);
                if (rc == 0 && pwp)
                    snprintf(name, sizeof(name), "%s", pwp->pw_name);
            }
            free(buf);
            if (rc != ERANGE || size >= MAX_BUF)
                break;
            retries++;
            size *= 2;
        }
        if (rc != 0)
            break;
        printf("%s\n", name);
    }
    if (groups)
        endgrent();
    else
        endpwent();
    return retries > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--enumerate") == 0) {
        int rc = enumerate(false);
        printf("--\n");
        return enumerate(true) | rc;
    }
    if (argc != 9) {
        fprintf(stderr, "usage: nss_threads THREADS ROUNDS USER UID HOME GROUP GID MEMBERS\n");
        return 2;
    }
    int nthreads = atoi(argv[1]);
    struct want w = {.rounds = atoi(argv[2]), .user = argv[3], .uid = (uid_t)atol(argv[4]),
                     .home = argv[5], .group = argv[6], .gid = (gid_t)atol(argv[7]),
                     .members = argv[8]};
    if (nthreads < 1 || nthreads > 64 || w.rounds < 1)
        return 2;
    pthread_t th[64];
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, &w) != 0)
            return 1;
    struct tally sum = {0, 0, 0};
    for (int i = 0; i < nthreads; i++) {
        struct tally *t;
        pthread_join(th[i], (void **)&t);
        if (!t) {
            sum.errors++;
            continue;
        }
        sum.lookups += t->lookups;
        sum.retries += t->retries;
        sum.errors += t->errors;
        free(t);
    }
    printf("%d threads: %ld lookups, %ld ERANGE retries, %ld wrong\n", nthreads, sum.lookups,
           sum.retries, sum.errors);
    return sum.errors == 0 && sum.lookups > 0 ? 0 : 1;
}
