# The module in AWS mode through real pamtester under pam_wrapper against
# the stand-in over real TLS (tests/module/test_module.py): plain, and the
# ASan+UBSan build (`make asan`). The valgrind run starts earlier, in the
# background (05-module-valgrind.sh). Need pamtester, pam_wrapper,
# nss_wrapper and `make all asan tools`.
# Sourced by tests/run_all.sh, which defines `suite` and $PY.
# Both run in the background beside the suites that follow, and are
# tallied at the end: their logins mostly wait on the stand-in's 1 s
# polling interval, and under pam_wrapper they touch nothing system-wide.
# Every concurrent login takes one of pam_wrapper's 62
# /tmp/pam.X directories, which all suites share.
suite_background module "$PY" tests/module/test_module.py pam_ssooidc/pam_ssooidc.so --jobs 6
suite_background module-asan "$PY" tests/module/test_module.py build/asan/pam_ssooidc.so \
    --wrap asan --jobs 8
