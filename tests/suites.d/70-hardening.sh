# Hardening: registration cache tampering (incl. SIGKILL mid-write) and a
# 30-login storm (the "no PAM_SUCCESS on failure" table: 07-failure-table.sh).
# Helpers (build/hardening/*) are built by `make tools` (tests/hardening/hardening.mk).
suite tampering /usr/bin/python3 tests/hardening/test_tampering.py
suite storm /usr/bin/python3 tests/hardening/test_storm.py
