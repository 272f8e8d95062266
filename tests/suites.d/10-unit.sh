# Fast checks of the code itself, no servers; sourced by tests/run_all.sh.
#   unit              the cmocka tests in build/unit/ (`make unit`: ASan+UBSan),
#                     among them AWS's SigV4 test suite (tests/unit/aws4_testsuite,
#                     or $AWS4_TESTSUITE)
#   exported-symbols  tests/check_symbols.sh: the module exports only pam_sm_*,
#                     the NSS module only _nss_ssooidc_* and needs only libc
#   includes          tests/check_includes.sh: the include arrows between
#                     core/, aws/, openid/ and cmd/ go one way
#   meta              tests/check_meta.sh: the runner (names, unknown names),
#                     make help, the versions agree, make dist, no path
#                     outside the repository
export AWS4_TESTSUITE="${AWS4_TESTSUITE:-$PWD/tests/unit/aws4_testsuite}"
unit() {
    local rc=0 t
    for t in build/unit/test_*; do
        [ -x "$t" ] || continue
        echo "# $t"
        CMOCKA_MESSAGE_OUTPUT=TAP "$t" || rc=1
    done
    return $rc
}
suite unit unit
suite exported-symbols tests/check_symbols.sh pam_ssooidc/pam_ssooidc.so build/nss/libnss_ssooidc.so.2
suite includes tests/check_includes.sh
suite meta tests/check_meta.sh
