# Builds and packages for other platforms; sourced by tests/run_all.sh.
#   noqr     tests/qr/test_noqr.py: make QR=no into build/noqr, no libqrencode
#            linked, qr refused with the reason (unit test and pamtester)
suite noqr "$PY" tests/qr/test_noqr.py
