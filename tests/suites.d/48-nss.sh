# The NSS module, libnss_ssooidc.so.2 (tests/nss/run.sh): the real glibc
# (getent, id, a threaded getpwnam_r program, plain and ASan) serving
# provisioned accounts from data files written by the test, good and
# hostile, in a private mount namespace (nsswitch.conf, the library and the
# data directory mounted there only; the host is checked untouched after).
# Root; under /tmp/sso-system.lock. Needs `make all tools`. About 30 s
# alone; in the background, beside the rest: everything it mounts is in its
# own namespace, and what it checks on the host (nsswitch.conf, the library
# directory, /var/lib/pam_ssooidc, its mounts) no other suite changes.
# Sourced by tests/run_all.sh, which defines `suite_background`.
suite_background nss tests/nss/run.sh
