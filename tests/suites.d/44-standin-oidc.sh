# The stand-in's hostile OpenID provider mode (standin.py --mode oidc): the
# good path through tests/providers/oidcclient.py (RS256, PS256, ES256;
# public, Basic and post clients) and every hostile knob checked to do
# exactly what tests/standin/README.md says. Needs python3-cryptography
# (tests/deps.sh). About 6 s.
# Sourced by tests/run_all.sh, which defines `suite`.
suite standin-oidc "$PY" tests/standin/test_oidc_standin.py
