#!/bin/bash
# The Debian package (TAP): it builds from a clean copy of the tree, holds
# exactly the expected files with the right modes, marks the config as a
# conffile, exports only pam_sm_*, loads, its maintainer scripts create and
# purge the cache directory, and lintian reports no errors.
#
#   tests/package/test_package.sh [--keep]    (--keep: leave the build dir)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
keep=no
[ "${1:-}" = "--keep" ] && keep=yes

n=0 failed=0
check() { # check STATUS DESCRIPTION [DIAGNOSTIC]
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
        [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
    fi
    return "$1"
}
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }

for tool in dpkg-buildpackage dh dpkg-deb lintian nm readelf; do
    command -v "$tool" >/dev/null || { echo "Bail out! $tool not found (see tests/deps.sh)"; exit 1; }
done

tmp=$(mktemp -d /tmp/pkg-test.XXXXXX)
if [ "$keep" = yes ]; then echo "# keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

pkg=libpam-ssooidc
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb="$tmp/${pkg}_${version}_${arch}.deb"
changes="$tmp/pam-ssooidc_${version}_${arch}.changes"

# ------------------------------------------------------------------ build
t0=$SECONDS
tests/package/build_deb.sh "$tmp" >"$tmp/build.err" 2>&1
rc=$?
check $rc "dpkg-buildpackage -us -uc -b builds $pkg $version from a copy ($((SECONDS - t0)) s)" \
    "$(cat "$tmp/build.err")" || finish
[ -f "$deb" ] && [ -f "$changes" ]
check $? "the .deb and the .changes are in the output directory" "$(ls -l "$tmp")" || finish
leftovers=$(ls -d debian/.debhelper debian/files debian/$pkg debian/debhelper-build-stamp 2>/dev/null)
[ -z "$leftovers" ]
check $? "the work tree is left clean" "$leftovers"
warnings=$(grep -E 'warning:' "$tmp/build.log")
[ -z "$warnings" ]
check $? "the module compiles without warnings under dpkg-buildflags" "$warnings"

# -------------------------------------------------------------- contents
# Regular files as "mode owner path", path without the leading "./".
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {sub(/^\.\//, "", $6); print $1, $2, $6}' >"$tmp/list"
actual=$(awk '{print $3}' "$tmp/list" | sort)
doc=usr/share/doc/$pkg
expected="lib/$ma/security/pam_ssooidc.so
etc/security/pam_ssooidc.conf
usr/share/man/man8/pam_ssooidc.8.gz
usr/share/man/man5/pam_ssooidc.conf.5.gz
$doc/copyright
$doc/changelog.Debian.gz
$doc/README.Debian
usr/share/lintian/overrides/$pkg"
# Documentation and sample stanzas, whichever the tree has; dh_compress
# gzips the larger ones.
# Taken from the copy that was built, not the live tree, which may change.
optional=$(awk -v doc="$doc" '
    /^(README\.md|docs\/[^\/]*\.md)$/ {n = split($0, p, "/"); print doc "/" p[n]}
    /^conf\/[^\/]*\.pam$/ {sub(/^conf\//, ""); print doc "/examples/" $0}' "$tmp/source-files")
for f in $optional; do
    if printf '%s\n' "$actual" | grep -qxF "$f.gz"; then f="$f.gz"; fi
    expected="$expected
$f"
done
expected=$(printf '%s\n' "$expected" | sort)
diff_out=$(diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual"))
check $? "the package holds exactly the expected files ($(printf '%s\n' "$actual" | wc -l))" \
    "expected (<) vs. actual (>):
$diff_out"

mode_of() { awk -v p="$1" '$3 == p {print $1, $2}' "$tmp/list"; }
[ "$(mode_of etc/security/pam_ssooidc.conf)" = "-rw------- root/root" ]
check $? "the config file is root/root 0600" "$(mode_of etc/security/pam_ssooidc.conf)"
[ "$(mode_of "lib/$ma/security/pam_ssooidc.so")" = "-rw-r--r-- root/root" ]
check $? "the module is in /lib/$ma/security, root/root 0644" \
    "$(mode_of "lib/$ma/security/pam_ssooidc.so")"
pam_secdir=$(pkg-config --variable=libdir pam 2>/dev/null)/security
[ "$pam_secdir" = "/lib/$ma/security" ]
check $? "that is where this system's PAM looks for modules ($pam_secdir)"

# --------------------------------------------------------------- control
dpkg-deb -e "$deb" "$tmp/control"
conffiles=$(cat "$tmp/control/conffiles" 2>/dev/null)
[ "$conffiles" = "/etc/security/pam_ssooidc.conf" ]
check $? "conffiles lists exactly /etc/security/pam_ssooidc.conf" "$conffiles"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libpam0g libcurl4 libjansson4 libssl3 libqrencode4; do
    printf '%s\n' "$depends" | grep -qE "(^|, )$lib( |,|$)"
    check $? "Depends on $lib (from shlibs)" "$depends"
done
[ "$(dpkg-deb -f "$deb" Multi-Arch)" = same ] && [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ]
check $? "Architecture $arch, Multi-Arch: same"

# ------------------------------------------------------------- the module
dpkg-deb -x "$deb" "$tmp/root"
so="$tmp/root/lib/$ma/security/pam_ssooidc.so"
sym_out=$(tests/check_symbols.sh "$so")
check $? "the packaged module exports only pam_sm_* (tests/check_symbols.sh)" "$sym_out"
load_out=$(/usr/bin/python3 -c 'import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW)
print(lib.pam_sm_authenticate, lib.pam_sm_setcred)' "$so" 2>&1)
check $? "the packaged module loads with every symbol resolved (dlopen RTLD_NOW)" "$load_out"
missing_libs=$(ldd "$so" 2>&1 | grep -i 'not found')
[ -z "$missing_libs" ]
check $? "ldd finds every library it needs" "$missing_libs"
dyn=$(readelf -d "$so") phdr=$(readelf -lW "$so") sections=$(readelf -SW "$so")
printf '%s\n' "$dyn" | grep -q 'BIND_NOW' && printf '%s\n' "$phdr" | grep -q GNU_RELRO &&
    ! printf '%s\n' "$dyn" | grep -q TEXTREL && printf '%s\n' "$phdr" | grep -q 'GNU_STACK.* RW '
check $? "hardened: full RELRO (BIND_NOW), no text relocations, non-executable stack"
! printf '%s\n' "$sections" | grep -qE '\.debug_info|\.symtab'
check $? "stripped (debug symbols go to the -dbgsym package)"
for page in pam_ssooidc.8:man8 pam_ssooidc.conf.5:man5; do
    name=${page%%:*} sec=${page##*:}
    zcat "$tmp/root/usr/share/man/$sec/$name.gz" | cmp -s - "docs/man/$name"
    check $? "usr/share/man/$sec/$name.gz is docs/man/$name"
done

# -------------------------------------------------- maintainer scripts
# Run the package's own scripts with the cache path moved into $tmp. Only
# done while debhelper has added nothing to them: anything it added could
# act on the real system.
post="$tmp/control/postinst" postrm="$tmp/control/postrm"
grep -q 'mkdir -m 0700 "$CACHE"' "$post" && grep -q '^CACHE=/var/cache/pam_ssooidc$' "$post" &&
    grep -q 'rm -rf /var/cache/pam_ssooidc' "$postrm"
check $? "postinst creates /var/cache/pam_ssooidc 0700; postrm removes it on purge"
if grep -q 'Automatically added by' "$post" "$postrm"; then
    echo "ok $((n += 1)) - maintainer scripts have debhelper snippets: not run here # SKIP"
else
    cache="$tmp/sandbox/var/cache/pam_ssooidc"
    mkdir -p "$tmp/sandbox/var/cache"
    sed "s|/var/cache/pam_ssooidc|$cache|g" "$post" >"$tmp/postinst.t"
    sed "s|/var/cache/pam_ssooidc|$cache|g" "$postrm" >"$tmp/postrm.t"
    (umask 077; sh "$tmp/postinst.t" configure) && [ "$(stat -c '%a %U %G %F' "$cache")" = "700 root root directory" ]
    check $? "postinst configure: cache dir created root:root 0700 (umask 077)" "$(stat -c '%a %U %G %F' "$cache" 2>&1)"
    rm -rf "$cache"
    (umask 000; sh "$tmp/postinst.t" configure) && [ "$(stat -c '%a' "$cache")" = 700 ]
    check $? "postinst configure: 0700 whatever the umask (umask 000)" "$(stat -c '%a' "$cache" 2>&1)"
    touch "$cache/reg-x.json"
    sh "$tmp/postinst.t" configure && [ -f "$cache/reg-x.json" ]
    check $? "postinst configure again (upgrade): existing cache kept"
    sh "$tmp/postrm.t" remove && [ -d "$cache" ]
    check $? "postrm remove: cache kept"
    sh "$tmp/postrm.t" purge && [ ! -e "$cache" ]
    check $? "postrm purge: cache removed"
    mkdir -p "$tmp/sandbox/elsewhere" && ln -s "$tmp/sandbox/elsewhere" "$cache"
    sh "$tmp/postinst.t" configure && [ -L "$cache" ] && [ "$(stat -c '%a' "$tmp/sandbox/elsewhere")" = 755 ]
    check $? "postinst leaves a symlink in the cache's place alone (the module refuses it)"
fi

# ---------------------------------------------------------------- lintian
t0=$SECONDS
lintian --tag-display-limit 0 "$changes" >"$tmp/lintian.out" 2>"$tmp/lintian.err"
lrc=$?
errors=$(grep -c '^E: ' "$tmp/lintian.out")
warns=$(grep -c '^W: ' "$tmp/lintian.out")
grep -E '^[EW]: ' "$tmp/lintian.out" | sed 's/^/# lintian /'
[ "$errors" -eq 0 ] && [ "$lrc" -eq 0 ]
check $? "lintian on .deb, .buildinfo and .changes: $errors errors, $warns warnings ($((SECONDS - t0)) s)" \
    "$(cat "$tmp/lintian.out" "$tmp/lintian.err")"

finish
