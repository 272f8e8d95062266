#!/bin/bash
# tests/deps.sh (TAP): the demo's set is lean and the check set holds it;
# every package the tests name for apt has a dnf name or a stated "-".
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../tap.sh
. tests/tap.sh
demo=$(DEPS_TOOL=apt tests/deps.sh --list --demo)
full=$(DEPS_TOOL=apt tests/deps.sh --list --check)
demo_dnf=$(DEPS_TOOL=dnf tests/deps.sh --list --demo)
full_dnf=$(DEPS_TOOL=dnf tests/deps.sh --list --check)
heavy=$(printf '%s\n' "$demo" | grep -xE 'openssh-server|sudo|valgrind|clang|libclang-rt-.*|lintian|debhelper|rpm|rpmlint|checkpolicy|libcmocka-dev|python3-botocore')
[ -n "$demo" ] && [ -z "$heavy" ]
check $? "the demo's set has no sshd, sudo, valgrind, clang, test or packaging tools" "$heavy"
for p in build-essential pkg-config libpam0g-dev libcurl4-openssl-dev libjansson-dev libssl-dev pamtester libpam-wrapper libnss-wrapper python3 openssl; do
    printf '%s\n' "$demo" | grep -qxF "$p"
    check $? "the demo's set has $p (tests/demo.sh uses it)" "$demo"
done
extra=$(comm -23 <(printf '%s\n' "$demo" | sort) <(printf '%s\n' "$full" | sort))
[ -z "$extra" ]
check $? "the check set holds the demo's set" "$extra"
# systemd: systemd-analyze verify and systemctl --root for the sync's
# units (package suites); man-db: verify's check of their Documentation=;
# strace: the syscalls of a real sync run against the unit's filter.
for p in rpm rpmlint checkpolicy semodule-utils cpio rpm2cpio libqrencode-dev systemd man-db \
         strace; do
    printf '%s\n' "$full" | grep -qxF "$p"
    check $? "the check set has $p" "$full"
done
for p in pam-devel libcurl-devel jansson-devel openssl-devel gcc make; do
    printf '%s\n' "$demo_dnf" | grep -qxF "$p"
    check $? "dnf, demo: $p" "$demo_dnf"
done
for p in qrencode-devel libcmocka-devel python3-botocore valgrind openssh-server sudo rpm-build checkpolicy policycoreutils; do
    printf '%s\n' "$full_dnf" | grep -qxF "$p"
    check $? "dnf, check: $p" "$full_dnf"
done
out=$(DEPS_TOOL=zypper tests/deps.sh --list 2>&1)
[ $? -ne 0 ]
check $? "an unknown package manager is an error, not a silent no-op" "$out"
finish
