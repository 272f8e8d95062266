#!/bin/sh
# Build the Debian package from a clean copy of the tree, so the work tree
# never gets debian/.debhelper, debian/files and friends.
#
#   tests/package/build_deb.sh OUTDIR
#
# leaves OUTDIR/*.deb, *.changes, *.buildinfo, build.log and source-files
# (the copied tree's files). OUTDIR must not
# be inside the tree, except under build/ (which is not copied).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
case "$out/" in
    "$root/build/"*) ;;
    "$root/"*) echo "$0: OUTDIR must be outside $root or under build/" >&2; exit 2 ;;
esac

version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
src="$out/pam-ssooidc-${version%-*}"
rm -rf "$src"
mkdir -p "$src"
# Everything but VCS data, build output and what an in-tree build leaves.
tar -C "$root" \
    --exclude=./.git --exclude=./build --exclude='*.so' --exclude='*.o' \
    --exclude=__pycache__ --exclude=./debian/.debhelper --exclude=./debian/libpam-ssooidc \
    --exclude=./debian/tmp --exclude=./debian/files --exclude='./debian/*.substvars' \
    --exclude='./debian/*.debhelper.log' --exclude=./debian/debhelper-build-stamp \
    -cf - . | tar -C "$src" -xf -
# What was built from, for the test's expected file list.
(cd "$src" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) >"$out/source-files"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    exit 1
fi
rm -rf "$src"
