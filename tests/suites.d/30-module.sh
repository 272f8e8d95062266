# The module in AWS mode through real pamtester under pam_wrapper against
# the stand-in over real TLS (tests/module/test_module.py): plain, and the
# ASan+UBSan build (`make asan`). The valgrind run starts earlier, in the
# background (05-module-valgrind.sh). Need pamtester, pam_wrapper,
# nss_wrapper and `make all asan tools`.
# Sourced by tests/run_all.sh, which defines `suite` and $PY.
suite module "$PY" tests/module/test_module.py pam_ssooidc/pam_ssooidc.so --jobs 8
# The ASan run checks memory, not timing: it runs in the background beside
# the suites that follow (its logins mostly wait on the stand-in's 1 s
# polling interval) and is tallied at the end.
suite_background module-asan "$PY" tests/module/test_module.py build/asan/pam_ssooidc.so \
    --wrap asan --jobs 8
