# Builds and packages for other platforms; sourced by tests/run_all.sh.
#   noqr     tests/qr/test_noqr.py: make QR=no into build/noqr, no libqrencode
#            linked, qr refused with the reason (unit test and pamtester)
#   rpm      tests/package/test_rpm.sh: rpmbuild, contents and modes, %preun
#            guard, %config(noreplace) across rpm -U in a throw-away root,
#            --without qrencode, rpmlint
#   selinux  tests/selinux/test_selinux.sh: the policy module compiles
#            (checkmodule, semodule_package); file contexts and rules
#   deps     tests/package/test_deps.sh: the demo and check package sets
# About 15 s together.
suite noqr "$PY" tests/qr/test_noqr.py
suite rpm tests/package/test_rpm.sh
suite selinux tests/selinux/test_selinux.sh
suite deps tests/package/test_deps.sh
