/* pam_drive - run N concurrent pam_authenticate calls in one process, with a
 * conversation that answers Enter to prompts ("enter") or fails every call
 * ("fail"). Used where pamtester cannot go: a conversation that fails, and
 * the login storm (pam_wrapper allows few processes at once, threads are
 * fine: the module keeps no global state).
 *
 *   pam_drive [-c enter|fail] [-C DIR] [-d SECONDS] [-n N] [-s] SERVICE USER
 * -C reads the service's stack from DIR (pam_start_confdir) instead of
 * /etc/pam.d: a host without pam_wrapper, as the benchmarks use.
 * -d waits that long before answering a prompt (a user slow to press Enter).
 * One login (-n 1, the default) runs on the main thread, as in sshd, sudo and
 * login: a second thread would give malloc an arena of its own to grow.
 * Prints one line per login: "login I NAME SECONDS", then a summary. */
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pam_code_name.h"

struct job {
    const char *service, *user, *confdir;
    int fail, silent, index, rc, delay;
    double seconds;
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    struct job *job = data;
    if (job->fail)
        return PAM_CONV_ERR;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        printf("%s\n", msg[i]->msg);
        fflush(stdout); /* a test reads the code while the login waits */
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON || msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
            if (job->delay > 0)
                sleep((unsigned)job->delay);
            r[i].resp = strdup("");
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    struct job *job = arg;
    struct pam_conv pc = {conv, job};
    pam_handle_t *pamh = NULL;
    double t0 = now();
    job->rc = job->confdir ? pam_start_confdir(job->service, job->user, &pc, job->confdir, &pamh)
                           : pam_start(job->service, job->user, &pc, &pamh);
    if (job->rc == PAM_SUCCESS) {
        pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
        job->rc = pam_authenticate(pamh, job->silent ? PAM_SILENT : 0);
        pam_end(pamh, job->rc);
    }
    job->seconds = now() - t0;
    return NULL;
}

int main(int argc, char **argv)
{
    int n = 1, fail = 0, silent = 0, delay = 0, opt;
    const char *confdir = NULL;
    while ((opt = getopt(argc, argv, "c:C:d:n:s")) != -1) {
        if (opt == 'c')
            fail = strcmp(optarg, "fail") == 0;
        else if (opt == 'C')
            confdir = optarg;
        else if (opt == 'd')
            delay = atoi(optarg);
        else if (opt == 'n')
            n = atoi(optarg);
        else if (opt == 's')
            silent = 1;
    }
    if (argc - optind != 2 || n < 1 || n > 10000) {
        fprintf(stderr, "usage: pam_drive [-c enter|fail] [-C DIR] [-d SECONDS] [-n N] [-s] "
                        "SERVICE USER\n");
        return 2;
    }
    struct job *jobs = calloc((size_t)n, sizeof(*jobs));
    pthread_t *threads = calloc((size_t)n, sizeof(*threads));
    if (!jobs || !threads)
        return 2;
    for (int i = 0; i < n; i++) {
        jobs[i] = (struct job){argv[optind], argv[optind + 1], confdir, fail, silent, i, -1, delay, 0};
        if (n == 1)
            run(&jobs[i]);
        else if (pthread_create(&threads[i], NULL, run, &jobs[i]) != 0)
            return 2;
    }
    int ok = 0;
    for (int i = 0; i < n; i++) {
        if (n > 1)
            pthread_join(threads[i], NULL);
        printf("login %d %s %.3f\n", i, pam_code_name(jobs[i].rc), jobs[i].seconds);
        ok += jobs[i].rc == PAM_SUCCESS;
    }
    printf("summary %d/%d PAM_SUCCESS\n", ok, n);
    free(jobs);
    free(threads);
    return ok == n ? 0 : 1;
}
