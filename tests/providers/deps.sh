#!/bin/sh
# What the real-provider tests need, installed when missing; quick and silent
# when everything is there.
#   Debian: glewlwyd, python3-cryptography, iproute2 (ss), and Node.js with
#           npm only when there is no node at all (a NodeSource nodejs brings
#           its own npm, which Debian's npm package would conflict with).
#   npm:    `npm ci` in tests/providers/panva when node_modules is missing or
#           holds another oidc-provider than package.json pins.
# As root this installs; otherwise it reports what is missing and exits 0, and
# the tests skip the provider they cannot start.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PANVA="$HERE/panva"
# One at a time: suites in the background call this too, and two npm ci in
# one node_modules would break it. The second finds it done.
exec 9>/tmp/sso-providers-deps.lock
flock 9

missing=""
for p in glewlwyd python3-cryptography iproute2; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "# providers: missing Debian packages:$missing (run as root: apt-get install$missing)" >&2
    else
        echo "# providers: installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || exit 0

# oidc-provider 9 is tested on Node.js 20.19+ (and asks for 22); older ones
# are reported, and providers.py skips it there.
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "# providers: node $(node --version) is too old for oidc-provider 9 (needs 20.19 or later)" >&2
    exit 0
fi

want=$(node -p 'require(process.argv[1]).dependencies["oidc-provider"]' "$PANVA/package.json")
have=$(node -p 'try { require(process.argv[1]).version } catch { "" }' \
    "$PANVA/node_modules/oidc-provider/package.json")
if [ "$have" != "$want" ]; then
    echo "# providers: npm ci (oidc-provider $want)"
    (cd "$PANVA" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
