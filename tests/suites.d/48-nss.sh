# The NSS module, libnss_ssooidc.so.2 (tests/nss/run.sh): the real glibc
# (getent, id, a threaded getpwnam_r program, plain and ASan) serving
# provisioned accounts from data files written by the test, good and
# hostile, in a private mount namespace (nsswitch.conf, the library and the
# data directory mounted there only; the host is checked untouched after).
# Root; under /tmp/sso-system.lock. Needs `make all tools`. About 30 s
# alone. In the foreground: in the background it ran beside the valgrind
# suites and the run took longer (689 s of suites instead of 623).
# Sourced by tests/run_all.sh, which defines `suite`.
suite nss tests/nss/run.sh
