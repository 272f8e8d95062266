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
case "$out/" in
    "$root/build/"*) ;;
    "$root/"*) echo "$0: OUTDIR must be outside $root or under build/" >&2; exit 2 ;;
esac
spec="$root/rpm/pam_ssooidc.spec"
version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
name=pam_ssooidc-$version
mkdir -p "$out/SOURCES" "$out/stage"
rm -rf "${out:?}/stage/$name"
mkdir -p "$out/stage/$name"
# Everything but VCS data and build output, as build_deb.sh packs it.
tar -C "$root" \
    --exclude=./.git --exclude=./build --exclude='*.so' --exclude='*.o' \
    --exclude=__pycache__ --exclude=./debian/.debhelper --exclude=./debian/libpam-ssooidc \
    --exclude=./debian/tmp --exclude=./debian/files --exclude='./debian/*.substvars' \
    --exclude='./debian/*.debhelper.log' --exclude=./debian/debhelper-build-stamp \
    -cf - . | tar -C "$out/stage/$name" -xf -
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
