# pam_ssooidc_users(8) and the ledger's files; sourced by tests/run_all.sh.
#   users   tests/users/test_users.sh: list, show, lock, unlock, remove,
#           --json, the exit codes, refusals (a corrupt ledger, an unsafe
#           directory, not root) on a ledger written by hand
suite users tests/users/test_users.sh
