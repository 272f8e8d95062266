/* runstat - run a command and print its CPU time (µs resolution) and peak RSS
 * to the file named by -o. A small C parent keeps its own pages out of the
 * child's peak RSS (which survives exec), unlike a fork from Python.
 *   runstat -o FILE COMMAND [ARGS...]
 *       ->  "cpu_seconds peak_rss_kib exit system_seconds" (cpu = user + system) */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], "-o") != 0) {
        fprintf(stderr, "usage: runstat -o FILE COMMAND [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return 2;
    FILE *f = fopen(argv[2], "w");
    if (!f)
        return 2;
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    double sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    fprintf(f, "%.6f %ld %d %.6f\n", cpu, ru.ru_maxrss, code, sys);
    fclose(f);
    return code;
}
