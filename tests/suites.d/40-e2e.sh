# End-to-end suites: the built module inside the real OpenSSH sshd and sudo,
# driven through a pseudo-terminal with the local IAM Identity Center
# stand-in (tests/e2e/). They need root: they create throw-away users and
# uniquely named /etc/pam.d and /etc/sudoers.d files, and remove them again
# (as a non-root user they report a skip). About 2 minutes together.
# Sourced by tests/run_all.sh, which defines `suite` and $PY.
suite e2e-sudo /usr/bin/python3 tests/e2e/test_sudo.py
# The setuid-environment attack (issue: proxies and SSLKEYLOGFILE from the
# caller's environment) against real sudo -E, sudo and pamtester.
suite e2e-hostile-env /usr/bin/python3 tests/e2e/test_hostile_env.py
# Ctrl-C while the module waits, under real sudo, su and login (su's and
# login's PAM files are replaced for the run and restored, checked).
suite e2e-interrupt /usr/bin/python3 tests/e2e/test_interrupt.py
# The OpenID mode through real sudo and sshd against panva's oidc-provider
# (tests/providers/): approvals through the provider's own pages, the wrong
# approver and a user outside required_groups refused, and the hostile
# environment (the caller's CA bundle and proxy) ignored. About 40 s; one
# skip when the provider is not installed (tests/providers/deps.sh).
# OpenID mode in the real sudo and sshd against oidc-provider (its npm
# dependencies installed first: this suite runs before 45-providers).
# e2e-sshd and e2e-openid replace no system file and mostly wait: they run in
# the background, beside the rest, after the two suites above that replace
# /etc/pam.d/su for a while (e2e-sudo, e2e-interrupt), whose end checks
# compare it. tests/providers/deps.sh takes a lock of its own.
suite_background e2e-sshd /usr/bin/python3 tests/e2e/test_sshd.py
suite_background e2e-openid sh -c 'tests/providers/deps.sh >/dev/null && exec /usr/bin/python3 tests/e2e/test_openid.py'
