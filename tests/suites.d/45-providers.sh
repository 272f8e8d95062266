# Real OpenID providers (tests/providers/): panva's oidc-provider (npm) and
# Glewlwyd (Debian), each started on 127.0.0.1 with a CA, keys, clients and
# users made at test time; a full device flow through each with the ID token
# verified in Python, denial, expiry, key rotation and the providers' quirks.
# tests/providers/deps.sh installs glewlwyd, python3-cryptography and the
# pinned oidc-provider (npm ci) when missing. About 25 s.
# Sourced by tests/run_all.sh, which defines `suite`.
suite providers tests/providers/run.sh
# The module itself against both, through their own approval pages: the
# right user admitted, another refused, a user outside required_groups
# refused, denial, expiry, RS256 and ES256, public and confidential clients,
# a key rotation between two logins. About 2 minutes, nearly all of it
# waiting for the providers' 5 s polling interval, so it runs in the
# background beside the suites that follow (after `providers`, which
# installs what both need), and is tallied at the end.
suite_background module-providers /usr/bin/python3 tests/providers/test_module_oidc.py
