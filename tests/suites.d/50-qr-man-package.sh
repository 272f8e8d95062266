# QR rendering, man pages and the Debian package; sourced by tests/run_all.sh.
#   qr       tests/qr/test_qr.py: qr_render() output decodes back to the URL (zbarimg)
#   man      tests/man/test_man_options.py: every config.c option in both man pages
#   package  tests/package/test_package.sh: build from a copy, contents, lintian
suite qr "$PY" tests/qr/test_qr.py
suite man "$PY" tests/man/test_man_options.py
suite package tests/package/test_package.sh
