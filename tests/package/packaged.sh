# tests/package/packaged.sh - sourced by test_package.sh and test_rpm.sh
# after tests/tap.sh:
#   check_packaged_module SO   the module as packaged exports only pam_sm_*
#                              and loads with every symbol resolved
#   check_packaged_units ROOT UNITDIR
#                              the directory sync's units as packaged (the
#                              package's files unpacked into ROOT, the units
#                              in ROOT/UNITDIR): the service's sandbox, and
#                              systemd-analyze verify (with pam_ssooidc_sync
#                              and its man page from ROOT)
check_packaged_module() {
    local sym_out load_out
    sym_out=$(tests/check_symbols.sh "$1")
    check $? "the packaged module exports only pam_sm_* (tests/check_symbols.sh)" "$sym_out"
    load_out=$(/usr/bin/python3 -c 'import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW)
print(lib.pam_sm_authenticate, lib.pam_sm_setcred)' "$1" 2>&1)
    check $? "the packaged module loads with every symbol resolved (dlopen RTLD_NOW)" "$load_out"
}

# unit_value FILE SECTION KEY: the value KEY has in SECTION of FILE, the
# last assignment winning (as systemd reads a setting given twice); nothing
# when it is not set. A line "KEY=" is printed as an empty line.
unit_value() {
    awk -v sec="[$2]" -v key="$3" '
        /^\[/ {in_sec = ($0 == sec); next}
        in_sec && index($0, key "=") == 1 {v = substr($0, length(key) + 2); set = 1}
        END {if (set) print v}' "$1"
}

check_packaged_units() {
    local r=$1 ud=$2 svc timer caps host_units vr out rc man_opt=yes why
    svc="$r$ud/pam_ssooidc-sync.service" timer="$r$ud/pam_ssooidc-sync.timer"
    [ -f "$svc" ] && [ -f "$timer" ]
    check $? "the service and the timer are in $ud" "$(ls -l "$r$ud" 2>&1)" || return
    check_is "$(unit_value "$svc" Service ProtectSystem)" strict \
        "the service: ProtectSystem=strict (the whole file system read-only)"
    check_is "$(unit_value "$svc" Service ReadWritePaths)" /var/lib/pam_ssooidc \
        "the service: ReadWritePaths=/var/lib/pam_ssooidc, the one place it writes"
    check_is "$(unit_value "$svc" Service NoNewPrivileges)" yes "the service: NoNewPrivileges=yes"
    # Every CapabilityBoundingSet= line counts (they add up): each must be empty.
    caps=$(grep -E '^CapabilityBoundingSet=' "$svc")
    [ -n "$caps" ] && [ -z "$(printf '%s\n' "$caps" | grep -vx 'CapabilityBoundingSet=')" ]
    check $? "the service: an empty CapabilityBoundingSet= (no capability at all)" "$caps"
    check_is "$(unit_value "$svc" Service ExecCondition)" "/usr/sbin/pam_ssooidc_sync --configured" \
        "the service is skipped, not failed, on a host not configured for the sync (ExecCondition)"
    check_is "$(unit_value "$timer" Install WantedBy)" timers.target "the timer is WantedBy=timers.target"

    # systemd-analyze verify, offline: ROOT with the host's units added (the
    # targets the sync's units name); it checks the executables in ROOT and,
    # through man(1) with MANPATH set to ROOT's, the Documentation= pages.
    host_units=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
    [ -d "$host_units" ] || host_units=/lib/systemd/system
    why=
    if ! command -v systemd-analyze >/dev/null; then
        why="systemd-analyze is not installed (package systemd)"
    elif [ ! -f "$host_units/sysinit.target" ]; then
        why="no systemd units on this host ($host_units) to resolve the targets against"
    fi
    if [ -n "$why" ]; then
        skip "systemd-analyze verify accepts the installed service and timer" "$why"
        return
    fi
    command -v man >/dev/null || man_opt=no
    vr=$(mktemp -d /tmp/unit-verify.XXXXXX)
    mkdir -p "$vr/lib/systemd/system"
    cp -a "$host_units/." "$vr/lib/systemd/system/"
    cp -a "$r/." "$vr/"
    out=$(MANPATH="$vr/usr/share/man" systemd-analyze verify --root="$vr" --man="$man_opt" \
        pam_ssooidc-sync.service pam_ssooidc-sync.timer 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] && [ -z "$out" ]
    check $? "systemd-analyze verify accepts the installed service and timer, silently (--man=$man_opt)" \
        "exit $rc
$out"
    rm -rf "$vr"
}
