# pam_ssooidc_check(8), run as a new administrator would (tests/check).
suite check "$PY" tests/check/test_check.py
