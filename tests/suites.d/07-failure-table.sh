# The "no PAM_SUCCESS on failure" table (tests/hardening/test_failure_table.py):
# in the background from the start (its logins run under pam_wrapper and
# wait on the stand-in), tallied at the end. Helpers are built by `make
# tools` (tests/hardening/hardening.mk).
# Sourced by tests/run_all.sh, which defines `suite_background`.
suite_background failure-table /usr/bin/python3 tests/hardening/test_failure_table.py
