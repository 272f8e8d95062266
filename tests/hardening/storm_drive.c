/* storm_drive - the login-storm driver: tests/tools/pam_drive with what the
 * storm benchmark needs to line logins up with the stand-in's log.
 *
 *   storm_drive [-n N] SERVICE USER
 *
 * Starts N threads, lets them all through a barrier at once, and runs one
 * pam_authenticate in each (conversation: Enter to prompts; the user code is
 * picked out of what the module shows). Prints one line per login:
 *
 *   login I CODE START END USERCODE
 *
 * with START and END in epoch seconds (CLOCK_REALTIME, the clock the
 * stand-in stamps its log with), then "rusage USER_S SYS_S MAXRSS_KIB" for the
 * whole process (getrusage RUSAGE_SELF, after every thread has been joined), then
 * "summary OK/N PAM_SUCCESS". Exit status 0 only when all N succeeded. */
#define _GNU_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../tools/pam_code_name.h"

struct job {
    const char *service, *user;
    int index, rc;
    double start, end;
    char user_code[16];
};

static pthread_barrier_t gate;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The stand-in's user codes are XXXX-XXXX, uppercase letters. */
static void find_code(const char *text, char *out, size_t outlen)
{
    if (!text || out[0] || outlen < 10)
        return;
    for (const char *p = text; *p; p++) {
        int ok = 1;
        for (int i = 0; i < 9 && ok; i++) {
            char ch = p[i];
            ok = i == 4 ? ch == '-' : (ch >= 'A' && ch <= 'Z');
        }
        /* not part of a longer run of letters */
        if (ok && (p == text || !isupper((unsigned char)p[-1])) &&
            !isupper((unsigned char)p[9])) {
            memcpy(out, p, 9);
            out[9] = '\0';
            return;
        }
    }
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    struct job *job = data;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        find_code(msg[i]->msg, job->user_code, sizeof(job->user_code));
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON || msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
            r[i].resp = strdup("");
    }
    *resp = r;
    return PAM_SUCCESS;
}

static void *run(void *arg)
{
    struct job *job = arg;
    struct pam_conv pc = {conv, job};
    pam_handle_t *pamh = NULL;
    pthread_barrier_wait(&gate);
    job->start = wall();
    job->rc = pam_start(job->service, job->user, &pc, &pamh);
    if (job->rc == PAM_SUCCESS) {
        pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
        job->rc = pam_authenticate(pamh, 0);
        pam_end(pamh, job->rc);
    }
    job->end = wall();
    return NULL;
}

int main(int argc, char **argv)
{
    int n = 1, opt;
    while ((opt = getopt(argc, argv, "n:")) != -1) {
        if (opt == 'n')
            n = atoi(optarg);
    }
    if (argc - optind != 2 || n < 1 || n > 10000) {
        fprintf(stderr, "usage: storm_drive [-n N] SERVICE USER\n");
        return 2;
    }
    struct job *jobs = calloc((size_t)n, sizeof(*jobs));
    pthread_t *threads = calloc((size_t)n, sizeof(*threads));
    if (!jobs || !threads || pthread_barrier_init(&gate, NULL, (unsigned)n) != 0)
        return 2;
    for (int i = 0; i < n; i++) {
        jobs[i] = (struct job){.service = argv[optind], .user = argv[optind + 1], .index = i,
                               .rc = -1};
        if (pthread_create(&threads[i], NULL, run, &jobs[i]) != 0) {
            fprintf(stderr, "storm_drive: cannot start thread %d\n", i);
            _exit(2); /* the others wait at the barrier forever */
        }
    }
    int ok = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        ok += jobs[i].rc == PAM_SUCCESS;
    }
    for (int i = 0; i < n; i++)
        printf("login %d %s %.6f %.6f %s\n", i, pam_code_name(jobs[i].rc), jobs[i].start,
               jobs[i].end, jobs[i].user_code[0] ? jobs[i].user_code : "-");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("rusage %.6f %.6f %ld\n", (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
    printf("summary %d/%d PAM_SUCCESS\n", ok, n);
    pthread_barrier_destroy(&gate);
    free(jobs);
    free(threads);
    return ok == n ? 0 : 1;
}
