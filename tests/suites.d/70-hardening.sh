# Hardening: registration cache tampering (incl. SIGKILL mid-write), a
# 30-login storm, and the "no PAM_SUCCESS on failure" table.
# Helpers (build/hardening/*) are built by `make tools` (tests/hardening/hardening.mk).
suite tampering /usr/bin/python3 tests/hardening/test_tampering.py
suite storm /usr/bin/python3 tests/hardening/test_storm.py
# The failure table runs in the background (its logins run under pam_wrapper
# and wait on the stand-in) and is tallied at the end.
suite_background failure-table /usr/bin/python3 tests/hardening/test_failure_table.py
