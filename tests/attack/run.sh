#!/bin/sh
# The attacks on the directory sync (a fresh reviewer's, kept): each script
# in a private mount namespace of its own (tests/tools/nss_sandbox.sh),
# TAP one after the other; fails when any fails.
#   sync_data_dir.py    a local user against the data directory, the lock
#                       and the status file; a home that cannot be looked at
#   imds_hostile.py     a hostile metadata service, 56 ways
#   unit_syscalls.py    a real run under strace: every syscall within the
#                       unit's SystemCallFilter=@system-service
#   ../e2e/test_sync_attack.py  a reused name while a run is refused; a
#                       name served twice never written
cd "$(dirname "$0")/../.." || exit 1
lib=build/nss/libnss_ssooidc.so.2
rc=0
for t in tests/attack/sync_data_dir.py tests/attack/imds_hostile.py \
         tests/attack/unit_syscalls.py tests/e2e/test_sync_attack.py; do
    echo "# $t"
    tests/tools/nss_sandbox.sh "$lib" -- /usr/bin/python3 "$t" || rc=1
done
exit $rc
