#!/bin/sh
# The providers suite as `make check` runs it: install what is missing, then
# the TAP smoke test of both real OpenID providers.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
"$HERE/deps.sh"
exec /usr/bin/python3 "$HERE/test_providers.py" "$@"
