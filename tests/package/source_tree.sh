# tests/package/source_tree.sh - sourced by build_deb.sh and build_rpm.sh
# (POSIX sh), after they set root (the tree) and out (OUTDIR):
#   outdir_allowed            exits 2 unless OUTDIR is outside the tree or under build/
#   copy_source_tree DEST     the tree into DEST: everything but VCS data,
#                             build output and what an in-tree build leaves
outdir_allowed() {
    case "$out/" in
        "$root/build/"*) ;;
        "$root/"*) echo "$0: OUTDIR must be outside $root or under build/" >&2; exit 2 ;;
    esac
}
copy_source_tree() {
    tar -C "$root" \
        --exclude=./.git --exclude=./build --exclude='*.so' --exclude='*.o' \
        --exclude=__pycache__ --exclude=./debian/.debhelper --exclude=./debian/libpam-ssooidc \
        --exclude=./debian/tmp --exclude=./debian/files --exclude='./debian/*.substvars' \
        --exclude='./debian/*.debhelper.log' --exclude=./debian/debhelper-build-stamp \
        -cf - . | tar -C "$1" -xf -
}
