# The IAM Identity Center stand-in (tests/standin/standin.py) against
# botocore's own request and response handling: what the module's tests
# rely on answers as AWS does. Needs python3-botocore.
# Sourced by tests/run_all.sh, which defines `suite` and $PY.
suite standin-botocore "$PY" tests/standin/test_botocore.py
# The Identity Store and IMDSv2 stand-in (tests/standin/directory.py)
# against botocore's identitystore client and its own IMDS fetcher. In the
# background: it mostly waits on its own servers, on ports of its own.
suite_background standin-directory "$PY" tests/standin/test_directory_standin.py
