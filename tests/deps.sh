#!/bin/sh
# Install the Debian packages that building, testing and the demo need, when
# they are missing. As root this uses apt-get; otherwise it only reports.
set -eu
PKGS="build-essential pkg-config libpam0g-dev libcurl4-openssl-dev libjansson-dev libssl-dev
libqrencode-dev libcmocka-dev pamtester libpam-wrapper libnss-wrapper python3 python3-botocore
openssl curl valgrind openssh-server openssh-client sudo zbar-tools python3-pil python3-pexpect
clang libclang-rt-14-dev debhelper devscripts lintian fakeroot"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages:$missing" >&2
    echo "run as root, or: sudo apt-get install$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
