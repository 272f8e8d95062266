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
# shellcheck source=source_tree.sh
. "$root/tests/package/source_tree.sh"
outdir_allowed

version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
src="$out/pam-ssooidc-${version%-*}"
rm -rf "$src"
mkdir -p "$src"
copy_source_tree "$src"
# What was built from, for the test's expected file list.
(cd "$src" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) >"$out/source-files"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    exit 1
fi
rm -rf "$src"
