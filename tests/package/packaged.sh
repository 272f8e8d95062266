# tests/package/packaged.sh - sourced by test_package.sh and test_rpm.sh
# after tests/tap.sh:
#   check_packaged_module SO   the module as packaged exports only pam_sm_*
#                              and loads with every symbol resolved
check_packaged_module() {
    local sym_out load_out
    sym_out=$(tests/check_symbols.sh "$1")
    check $? "the packaged module exports only pam_sm_* (tests/check_symbols.sh)" "$sym_out"
    load_out=$(/usr/bin/python3 -c 'import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW)
print(lib.pam_sm_authenticate, lib.pam_sm_setcred)' "$1" 2>&1)
    check $? "the packaged module loads with every symbol resolved (dlopen RTLD_NOW)" "$load_out"
}
