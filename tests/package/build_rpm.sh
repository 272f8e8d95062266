#!/bin/sh
# Build the RPMs (binary and source) with rpmbuild from a tarball of the
# tree, as on Fedora, RHEL or Amazon Linux. On Debian rpmbuild knows none of
# the build dependencies (pam-devel & co. are dpkg packages), so it runs
# with --nodeps; everything else is rpmbuild's own, %{_libdir} included
# (/usr/lib64 on x86_64), but for the two Fedora settings below.
#
#   tests/package/build_rpm.sh OUTDIR [rpmbuild options...]
#
# e.g. --without qrencode, or --define 'dist .1' for a newer release. Leaves OUTDIR/RPMS/*/*.rpm,
# OUTDIR/SRPMS/*.src.rpm and OUTDIR/build.log. OUTDIR must not be inside the
# tree, except under build/ (which is not packed).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [rpmbuild options...]" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
shift
# shellcheck source=source_tree.sh
. "$root/tests/package/source_tree.sh"
outdir_allowed
spec="$root/rpm/pam_ssooidc.spec"
version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
name=pam_ssooidc-$version
mkdir -p "$out/SOURCES" "$out/stage"
rm -rf "${out:?}/stage/$name"
mkdir -p "$out/stage/$name"
copy_source_tree "$out/stage/$name"
tar -C "$out/stage" --owner=0 --group=0 --sort=name -czf "$out/SOURCES/$name.tar.gz" "$name"
rm -rf "${out:?}/stage"
# As on Fedora: documentation in /usr/share/doc/NAME, not NAME-VERSION; and
# man pages gzipped by brp-compress, a bash script that Debian's rpm runs
# with /bin/sh (dash), where it compresses nothing.
if ! rpmbuild -ba --nodeps \
        --define "_topdir $out" \
        --define "_dbpath $out/rpmdb" \
        --define '_docdir_fmt %%{NAME}' \
        --define '__brp_compress /bin/bash %{_rpmconfigdir}/brp-compress %{?_prefix}' \
        "$@" "$spec" >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    exit 1
fi
