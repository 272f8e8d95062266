# The module under valgrind (memcheck), AWS mode (tests/module/test_module.py)
# and OpenID mode (tests/module/test_module_oidc.py), each on the memcheck
# sample: every code path once per provider, not every case or matrix row
# (tests/module/runner.py); they check memory, never timing. They are the longest suites and mostly CPU-bound, so they are
# declared first and run in the background, beside all the others (which
# spend their time waiting on polls and servers), and are tallied at the
# end: that keeps the total short. Need valgrind, pamtester, pam_wrapper,
# nss_wrapper (tests/deps.sh) and `make all tools`.
# Sourced by tests/run_all.sh, which defines `suite_background` and $PY.
suite_background module-valgrind "$PY" tests/module/test_module.py pam_ssooidc/pam_ssooidc.so \
    --wrap valgrind --jobs 4
suite_background module-oidc-valgrind "$PY" tests/module/test_module_oidc.py \
    pam_ssooidc/pam_ssooidc.so --wrap valgrind --jobs 4
