# Hardening: registration cache tampering (incl. SIGKILL mid-write), a
# 30-login storm, and the "no PAM_SUCCESS on failure" table.
# Helpers (build/hardening/*) are built by `make tools` (tests/hardening/hardening.mk).
suite tampering /usr/bin/python3 tests/hardening/test_tampering.py
suite storm /usr/bin/python3 tests/hardening/test_storm.py
suite failure-table /usr/bin/python3 tests/hardening/test_failure_table.py
