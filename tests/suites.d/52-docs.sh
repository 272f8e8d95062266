# The documentation agrees with itself and the code: every configuration
# example runs through pam_ssooidc_check; stanzas match conf/*.pam; defaults
# and return codes match (tests/docs).
suite docs "$PY" tests/docs/test_docs_examples.py
