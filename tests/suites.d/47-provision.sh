# Accounts on demand end to end (tests/e2e/test_provision.py): real glibc
# resolving through the built NSS module in a private mount namespace
# (tests/tools/nss_sandbox.sh: its own nsswitch.conf and data directory,
# the host untouched), a real sshd and sudo, the AWS stand-in and
# oidc-provider. First connection makes the account, the second logs in;
# the wrong approver, a bad name, a local name, a denial and a stranger
# make nothing; two first logins at once make one account; a removed uid
# is never handed out again. About 80 s, mostly waiting: beside the rest
# (its PAM services and sudoers drop-in have names of their own, and it
# changes no file the other suites compare).
# Sourced by tests/run_all.sh, which defines `suite_background` and $PY.
suite_background e2e-provision sh -c 'tests/providers/deps.sh >/dev/null; exec tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- /usr/bin/python3 tests/e2e/test_provision.py'
# The module's provisioning step plain, under ASan+UBSan and under valgrind
# (tests/module/test_provision.py): pamtester through pam_wrapper in the
# same kind of sandbox; a first login makes the account, the next succeeds
# with the group_map groups, the wrong approver makes nothing, no sanitizer
# or valgrind report. About 20 s, beside the rest.
suite_background module-provision tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- /usr/bin/python3 tests/module/test_provision.py
# The directory client (aws/directory.h) behind tests/tools/directory_drive
# against the Identity Store / IMDSv2 stand-in (tests/sync/
# test_directory_client.py): paging, throttling with RetryAfterSeconds,
# AccessDenied, malformed pages, hostile names, IMDS refusals, the
# credentials file, a wrong CA, one case under valgrind. About 15 s, mostly
# waiting (RetryAfterSeconds, a silent IMDS): in the background.
suite_background sync-client "$PY" tests/sync/test_directory_client.py
# The directory sync end to end (tests/e2e/test_sync.py) in the same kind of
# sandbox: pam_ssooidc_sync with both stand-ins, a real sshd: members get
# accounts before they connect and log in on the first connection; another
# member's approval, a removed and a disabled member are refused; a rename
# keeps the uid; a failed or throttled sync keeps the last good files; a
# mass removal waits for --force; IMDSv1-only metadata is refused. About
# 10 s, beside the rest.
suite_background e2e-sync tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- /usr/bin/python3 tests/e2e/test_sync.py
# The attacks on the directory sync (tests/attack/run.sh): a local user
# against the data directory, a hostile metadata service, the syscalls of a
# real run against the unit's filter, a reused name while a run is refused,
# a ledger never written that the next read would refuse. About 35 s,
# mostly waiting on slow metadata answers: beside the rest.
suite_background sync-attack tests/attack/run.sh
