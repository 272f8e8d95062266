#!/bin/bash
# The Debian package (TAP): it builds from a clean copy of the tree, holds
# exactly the expected files with the right modes, marks the config as a
# conffile (a template of comments only), exports only pam_sm_*, loads; dpkg
# installs, upgrades, removes and purges it in a throw-away root (the edited
# conffile survives the upgrade without a prompt, the cache directory is
# created and purged, removal is refused while PAM loads the module: a
# continuation line, an include of a file outside /etc/pam.d, not another
# copy of the module, and fail safe when the check cannot tell);
# the directory sync's units are sandboxed and pass systemd-analyze verify,
# dpkg -i enables the timer and the service (an administrator's disable
# survives an upgrade), the maintainer scripts start only the timer, purge
# leaves /var/lib/pam_ssooidc; make install/uninstall put and remove the
# units in UNITDIR; and lintian reports no errors.
#
#   tests/package/test_package.sh [--keep]    (--keep: leave the build dir)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
keep=no
[ "${1:-}" = "--keep" ] && keep=yes

# shellcheck source=../tap.sh
. tests/tap.sh
# shellcheck source=packaged.sh
. tests/package/packaged.sh
# shellcheck source=source_tree.sh
. tests/package/source_tree.sh

need_tools dpkg-buildpackage dh dpkg-deb lintian nm readelf

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
usr/lib/$ma/libnss_ssooidc.so.2
usr/sbin/pam_ssooidc_check
usr/sbin/pam_ssooidc_users
usr/sbin/pam_ssooidc_sync
lib/systemd/system/pam_ssooidc-sync.service
lib/systemd/system/pam_ssooidc-sync.timer
etc/security/pam_ssooidc.conf
usr/share/man/man8/pam_ssooidc.8.gz
usr/share/man/man8/pam_ssooidc_check.8.gz
usr/share/man/man8/pam_ssooidc_users.8.gz
usr/share/man/man8/pam_ssooidc_sync.8.gz
usr/share/man/man8/libnss_ssooidc.8.gz
usr/share/man/man5/pam_ssooidc.conf.5.gz
$doc/copyright
$doc/changelog.Debian.gz
usr/share/lintian/overrides/$pkg"
# README.Debian, documentation and sample stanzas, whichever the tree has;
# dh_compress gzips the larger ones (over 4 KiB).
# Taken from the copy that was built, not the live tree, which may change.
optional=$(awk -v doc="$doc" '
    /^(README\.md|docs\/[^\/]*\.md)$/ {n = split($0, p, "/"); print doc "/" p[n]}
    /^conf\/[^\/]*\.pam$/ {sub(/^conf\//, ""); print doc "/examples/" $0}' "$tmp/source-files")
for f in "$doc/README.Debian" $optional; do
    if printf '%s\n' "$actual" | grep -qxF "$f.gz"; then f="$f.gz"; fi
    expected="$expected
$f"
done
check_lists "the package holds exactly the expected files ($(printf '%s\n' "$actual" | wc -l))" \
    "$expected" "$actual"

mode_of() { awk -v p="$1" '$3 == p {print $1, $2}' "$tmp/list"; }
check_is "$(mode_of etc/security/pam_ssooidc.conf)" "-rw------- root/root" \
    "the config file is root/root 0600"
check_is "$(mode_of "lib/$ma/security/pam_ssooidc.so")" "-rw-r--r-- root/root" \
    "the module is in /lib/$ma/security, root/root 0644"
check_is "$(mode_of usr/sbin/pam_ssooidc_sync)" "-rwxr-xr-x root/root" \
    "pam_ssooidc_sync is in /usr/sbin, root/root 0755"
check_is "$(mode_of lib/systemd/system/pam_ssooidc-sync.service) $(mode_of lib/systemd/system/pam_ssooidc-sync.timer)" \
    "-rw-r--r-- root/root -rw-r--r-- root/root" \
    "the sync's service and timer are in /lib/systemd/system (dh_installsystemd's), root/root 0644"
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
ma_field=$(dpkg-deb -f "$deb" Multi-Arch)
{ [ -z "$ma_field" ] || [ "$ma_field" = no ]; } && [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ]
check $? "Architecture $arch, not Multi-Arch (it ships /usr/sbin/pam_ssooidc_check)"
printf '%s\n' "$depends" | grep -qE '(^|, )ca-certificates( |,|$)'
check $? "Depends on ca-certificates (the system trust store for HTTPS)" "$depends"
[ "$(dpkg-deb -f "$deb" Suggests)" = pamtester ]
check $? "Suggests: pamtester" "$(dpkg-deb -f "$deb" Suggests)"
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./etc/security/pam_ssooidc.conf >"$tmp/conf.shipped"
active=$(grep -nvE '^(#|$)' "$tmp/conf.shipped")
[ -s "$tmp/conf.shipped" ] && [ -z "$active" ]
check $? "the shipped conffile is a template: every line is a comment or blank" "$active"

# ------------------------------------------------------------- the module
dpkg-deb -x "$deb" "$tmp/root"
so="$tmp/root/lib/$ma/security/pam_ssooidc.so"
check_packaged_module "$so"
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
check_packaged_units "$tmp/root" /lib/systemd/system

# -------------------------------------------------- maintainer scripts
# The scripts put ${DPKG_ROOT:-} in front of every path they touch: dpkg sets
# DPKG_ROOT when it runs them with --root and --force-script-chrootless.
# The tests below run them only that way, against directories in $tmp, and
# only after checking that no path in our part lacks the prefix and that
# what debhelper added (dh_installsystemd's sections, checked apart) cannot
# act on the real system.
ctl="$tmp/control"
ours() { awk '/^# Automatically added by/ {dh = 1} !dh {print FILENAME ":" FNR ":" $0}
              /^# End automatically added section/ {dh = 0}' "$@"; }
theirs() { awk '/^# Automatically added by/ {dh = 1} dh {print FILENAME ":" FNR ":" $0}
                /^# End automatically added section/ {dh = 0}' "$@"; }
scripts=$(ls "$ctl"/preinst "$ctl"/postinst "$ctl"/prerm "$ctl"/postrm 2>/dev/null)
# shellcheck disable=SC2086
unsafe=$(ours $scripts | grep -E '/(var|etc|lib|usr)/' |
    grep -vE '^[^:]*:[0-9]+:[[:space:]]*#' | grep -vE '[$][{]DPKG_ROOT:-[}]"?/')
[ -z "$unsafe" ]
check $? "every path in our part of postinst, postrm and prerm is under \${DPKG_ROOT:-}" "$unsafe"
# shellcheck disable=SC2086
adders=$(grep -h '^# Automatically added by' $scripts | sed 's|/.*||' | sort -u)
check_is "$adders" "# Automatically added by dh_installsystemd" \
    "debhelper added dh_installsystemd's sections and no other's"
# In them: deb-systemd-helper, which works on DPKG_ROOT's /etc/systemd and
# /var/lib/systemd when that is set; systemctl and deb-systemd-invoke, which
# act on the running systemd, only under [ -d /run/systemd/system ] (none
# here: systemd is not PID 1) and, where this host runs systemd, only
# without DPKG_ROOT (postrm's daemon-reload lacks that guard: the scripts
# are then not run).
[ -d /run/systemd/system ] && host_systemd=yes || host_systemd=no
# shellcheck disable=SC2086
dh_unsafe=$(theirs $scripts | awk -F: -v hs="$host_systemd" '
    { line = $0; sub(/^[^:]*:[0-9]+:[[:space:]]*/, "", line) }
    line ~ /^#/ || line == "" { next }
    line ~ /^if / { d++; run[d] = (line ~ /-d \/run\/systemd\/system/); root[d] = (line ~ /-z "\$\{DPKG_ROOT:-\}"/); next }
    line ~ /^fi$/ { d--; next }
    line ~ /^(else|then)$/ || line ~ /^_dh_action=/ { next }
    line ~ /^deb-systemd-helper / { next }
    line ~ /^(systemctl|deb-systemd-invoke) / {
        ok_run = 0; ok_root = 0
        for (i = 1; i <= d; i++) { if (run[i]) ok_run = 1; if (root[i]) ok_root = 1 }
        if (ok_run && (hs == "no" || ok_root)) next
    }
    { print }')
[ -z "$dh_unsafe" ]
check $? "in them, deb-systemd-helper (DPKG_ROOT-aware) and, only where systemd runs (here: $host_systemd), systemctl and deb-systemd-invoke" \
    "$dh_unsafe"
# The service is never started, stopped or restarted by the scripts; the
# timer is started (postinst), and stopped on removal (prerm).
# shellcheck disable=SC2086
invoked=$(grep -hE '^[[:space:]]*(deb-systemd-invoke|systemctl) ' $scripts | grep -v daemon-reload |
    sed -E 's/^[[:space:]]+//; s/ *>.*//' | sort -u)
check_is "$invoked" "deb-systemd-invoke start 'pam_ssooidc-sync.timer'
deb-systemd-invoke stop 'pam_ssooidc-sync.timer'" \
    "the scripts start and stop the timer only, never the service (it would run the sync inside dpkg)"
if [ -n "$unsafe" ] || [ -n "$dh_unsafe" ] || [ "$adders" != "# Automatically added by dh_installsystemd" ]; then
    skip "maintainer scripts are not run here" "see the checks above"
    finish
fi

# prerm alone, against a fake /etc/pam.d: what counts as "PAM still uses it".
# The prerm asks the packaged pam_ssooidc_check, which compares each line's
# module with the packaged module file: both go into the sandbox.
sb="$tmp/sandbox"
mkdir -p "$sb/etc/pam.d" "$sb/usr/sbin" "$sb/lib/$ma/security"
cp -p "$tmp/root/usr/sbin/pam_ssooidc_check" "$sb/usr/sbin/"
cp -p "$so" "$sb/lib/$ma/security/"
prerm_says() { # prerm_says EXPECTED-RC ACTION DESCRIPTION  (pam.d as set up)
    local out rc
    out=$(DPKG_ROOT="$sb" sh "$ctl/prerm" "$2" 2>&1)
    rc=$?
    [ "$rc" -eq "$1" ]
    check $? "prerm $2: $3 (exit $rc)" "$out"
}
prerm_says 0 remove "an empty /etc/pam.d: removal goes ahead"
printf 'auth required pam_unix.so\n#auth required pam_ssooidc.so\n   # auth required pam_ssooidc.so\nauth required pam_ssooidc_other.so\n' \
    >"$sb/etc/pam.d/sshd"
prerm_says 0 remove "only comments and another module name it: removal goes ahead"
printf 'auth required pam_unix.so\nauth required pam_ssooidc.so prompt=always\n' >"$sb/etc/pam.d/sshd"
prerm_says 1 remove "'auth required pam_ssooidc.so' in /etc/pam.d/sshd: refused"
out=$(DPKG_ROOT="$sb" sh "$ctl/prerm" remove 2>&1)
printf '%s\n' "$out" | grep -qF '/etc/pam.d/sshd:2: auth required pam_ssooidc.so prompt=always' &&
    printf '%s\n' "$out" | grep -qF 'PAM_SSOOIDC_FORCE_REMOVE=1' &&
    ! printf '%s\n' "$out" | grep -qF "$sb"
check $? "the refusal names the file, line and text, and how to override" "$out"
PAM_SSOOIDC_FORCE_REMOVE=1 prerm_says 0 remove "same, with PAM_SSOOIDC_FORCE_REMOVE=1: goes ahead with a warning"
prerm_says 0 upgrade "same, on upgrade: goes ahead (the module stays)"
rm "$sb/etc/pam.d/sshd"
printf 'auth [success=done default=die] /lib/%s/security/pam_ssooidc.so conf=/etc/x.conf\n' "$ma" \
    >"$sb/etc/pam.d/sudo"
prerm_says 1 remove "the module by full path in /etc/pam.d/sudo: refused"
rm "$sb/etc/pam.d/sudo"
# What Linux-PAM runs although no single line names the module the way a
# grep would see it, and a line that names another copy of it.
printf 'auth required pam_unix.so\nauth [success=done default=die] \\\n    pam_ssooidc.so debug\n' \
    >"$sb/etc/pam.d/sshd"
prerm_says 1 remove "a continuation line that begins with pam_ssooidc.so: refused"
out=$(DPKG_ROOT="$sb" sh "$ctl/prerm" remove 2>&1)
printf '%s\n' "$out" | grep -qF '/etc/pam.d/sshd:2: auth [success=done default=die] pam_ssooidc.so debug'
check $? "the refusal names the line where that stanza starts" "$out"
mkdir -p "$sb/opt/x"
printf '# sign-in\nauth required pam_ssooidc.so\n' >"$sb/opt/x/sso-auth"
printf 'auth include /opt/x/sso-auth\n' >"$sb/etc/pam.d/sshd"
prerm_says 1 remove "'auth include /opt/x/sso-auth' (outside /etc/pam.d) loading it: refused"
out=$(DPKG_ROOT="$sb" sh "$ctl/prerm" remove 2>&1)
printf '%s\n' "$out" | grep -qF '/opt/x/sso-auth:2: auth required pam_ssooidc.so (service sshd, via /etc/pam.d/sshd:1)'
check $? "the refusal names the included file's line and the include that reaches it" "$out"
mkdir -p "$sb/run/x"
cp -p "$so" "$sb/run/x/pam_ssooidc.so"
printf 'auth required /run/x/pam_ssooidc.so\n' >"$sb/etc/pam.d/sshd"
prerm_says 0 remove "a line loading another copy (/run/x/pam_ssooidc.so): removal goes ahead"
out=$(DPKG_ROOT="$sb" sh "$ctl/prerm" remove 2>&1)
[ -z "$out" ]
check $? "and nothing is said about that copy" "$out"
printf 'auth required pam_ssooidc.so\n' >"$sb/etc/pam.d/login"
mkfifo "$sb/etc/pam.d/broken"
prerm_says 1 remove "a use, and a PAM file it cannot read: refused, the use named" 
rm "$sb/etc/pam.d/login"
prerm_says 1 remove "only a PAM file it cannot read (check exit 3): refused, fail safe"
out=$(DPKG_ROOT="$sb" sh "$ctl/prerm" remove 2>&1)
printf '%s\n' "$out" | grep -qF 'cannot tell whether PAM still uses it' &&
    printf '%s\n' "$out" | grep -qF '/etc/pam.d/broken is not a regular file' &&
    printf '%s\n' "$out" | grep -qF 'PAM_SSOOIDC_FORCE_REMOVE=1'
check $? "that refusal says why and how to override" "$out"
PAM_SSOOIDC_FORCE_REMOVE=1 prerm_says 0 remove "same, with PAM_SSOOIDC_FORCE_REMOVE=1: goes ahead with a warning"
rm "$sb/etc/pam.d/broken" "$sb/etc/pam.d/sshd"
mv "$sb/usr/sbin/pam_ssooidc_check" "$sb/usr/sbin/pam_ssooidc_check.away"
prerm_says 1 remove "pam_ssooidc_check missing: refused, fail safe"
mv "$sb/usr/sbin/pam_ssooidc_check.away" "$sb/usr/sbin/pam_ssooidc_check"
rm -r "$sb/etc/pam.d" "$sb/opt" "$sb/run"
printf 'sshd auth required pam_ssooidc.so\n' >"$sb/etc/pam.conf"
prerm_says 1 remove "without /etc/pam.d, a line in /etc/pam.conf: refused"
rm "$sb/etc/pam.conf"
mkdir -p "$sb/etc/pam.d"

# postinst alone: the cache directory whatever the umask, and a symlink left alone.
mkdir -p "$sb/var/cache"
cache="$sb/var/cache/pam_ssooidc"
(umask 000; DPKG_ROOT="$sb" sh "$ctl/postinst" configure) &&
    [ "$(stat -c '%a %U %G %F' "$cache")" = "700 root root directory" ]
check $? "postinst configure: cache dir created root:root 0700 (umask 000)" "$(stat -c '%a %U %G %F' "$cache" 2>&1)"
rm -rf "$cache"
mkdir -p "$sb/elsewhere" && ln -s "$sb/elsewhere" "$cache"
DPKG_ROOT="$sb" sh "$ctl/postinst" configure && [ -L "$cache" ] && [ "$(stat -c '%a' "$sb/elsewhere")" = 755 ]
check $? "postinst leaves a symlink in the cache's place alone (the module refuses it)"

# dpkg itself, in a throw-away root: install, edit the conffile, upgrade to a
# newer version, removal refused, removal, purge. Dependencies are not in
# that root's (empty) database, hence --force-depends; stdin is /dev/null,
# so a conffile prompt would fail the step instead of waiting.
R="$tmp/dpkgroot"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/cache" "$R/etc/pam.d"
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
rdpkg() { dpkg --root="$R" --force-script-chrootless --force-depends --log="$tmp/dpkg.log" "$@" </dev/null; }
status_of() { dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status} ${Version}' "$pkg" 2>/dev/null; }
conf="$R/etc/security/pam_ssooidc.conf"
so_in_root="$R/lib/$ma/security/pam_ssooidc.so"

# A newer version with the same files, as a routine upgrade brings.
new_version="${version%-*}-$(( ${version##*-} + 1 ))"
dpkg-deb -R "$deb" "$tmp/repack"
sed -i "s/^Version: .*/Version: $new_version/" "$tmp/repack/DEBIAN/control"
deb2="$tmp/${pkg}_${new_version}_${arch}.deb"
dpkg-deb -b "$tmp/repack" "$deb2" >/dev/null

# What the sync's units leave on a system: their symlinks and
# deb-systemd-helper's state.
units_state() { # units_state ROOT
    (cd "$1" 2>/dev/null && ls -l etc/systemd/system/*.wants/pam_ssooidc-sync.* \
        var/lib/systemd/deb-systemd-helper-enabled/pam_ssooidc-sync.* \
        var/lib/systemd/deb-systemd-helper-enabled/*.wants/pam_ssooidc-sync.* 2>/dev/null)
}
host_units_before=$(units_state /)
is_enabled() { systemctl --root="$R" is-enabled "$@" 2>&1 | tr '\n' ' ' | sed 's/ $//'; }
out=$(rdpkg -i "$deb" 2>&1)
[ "$(status_of)" = "install ok installed $version" ] && [ -f "$so_in_root" ] &&
    [ "$(stat -c '%a %U' "$conf")" = "600 root" ] &&
    [ "$(stat -c '%a %U %F' "$R/var/cache/pam_ssooidc")" = "700 root directory" ]
check $? "dpkg -i into a throw-away root: installed, module in place, conffile 0600, cache dir 0700" \
    "$(status_of)
$out"
[ ! -e /var/cache/pam_ssooidc ] || [ "$(stat -c %Y /var/cache/pam_ssooidc)" -lt "$(stat -c %Y "$R/var/cache/pam_ssooidc")" ]
check $? "nothing was created on the real system (no new /var/cache/pam_ssooidc)"
# systemd is not PID 1 here (and the package never goes onto the real
# system): systemctl --root answers for the throw-away root, from the
# symlinks the postinst made, as it would on a booted system.
check_is "$(is_enabled pam_ssooidc-sync.timer pam_ssooidc-sync.service)" "enabled enabled" \
    "after dpkg -i, systemctl is-enabled: the timer and the service are enabled"
check_is "$(readlink "$R/etc/systemd/system/timers.target.wants/pam_ssooidc-sync.timer") $(readlink \
    "$R/etc/systemd/system/multi-user.target.wants/pam_ssooidc-sync.service")" \
    "/lib/systemd/system/pam_ssooidc-sync.timer /lib/systemd/system/pam_ssooidc-sync.service" \
    "the postinst's symlinks: timers.target.wants (the timer), multi-user.target.wants (the run at boot)"
[ -f "$R/var/lib/systemd/deb-systemd-helper-enabled/pam_ssooidc-sync.timer.dsh-also" ]
check $? "deb-systemd-helper recorded them (so that purge removes them and a disable is remembered)" \
    "$(units_state "$R")"
check_is "$(units_state /)" "$host_units_before" \
    "nothing was enabled on the real system (its symlinks and deb-systemd-helper state unchanged)"

printf 'start_url = https://d-1234567890.awsapps.com/start\nallow_any_approver\n' >>"$conf"
cp -p "$conf" "$tmp/conf.edited"
touch "$R/var/cache/pam_ssooidc/reg-x.json"
printf 'auth required pam_ssooidc.so\n' >"$R/etc/pam.d/sshd"
# An administrator's "systemctl disable" of the timer, before the upgrade.
systemctl --root="$R" disable pam_ssooidc-sync.timer >/dev/null 2>&1
# What the sync writes (no package's): it must outlive removal and purge.
mkdir -p "$R/var/lib/pam_ssooidc"
printf '{"next_uid": 60001}\n' >"$R/var/lib/pam_ssooidc/ledger.json"
out=$(rdpkg -i "$deb2" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ "$(status_of)" = "install ok installed $new_version" ]
check $? "upgrade to $new_version with the module in use: not refused, no conffile prompt" \
    "exit $rc, $(status_of)
$out"
cmp -s "$conf" "$tmp/conf.edited" && [ "$(stat -c '%a' "$conf")" = 600 ] &&
    [ -z "$(ls "$R/etc/security" | grep -v '^pam_ssooidc.conf$')" ]
check $? "the edited conffile survived the upgrade as it was (no .dpkg-dist or .dpkg-new)" \
    "$(ls -l "$R/etc/security"; diff "$tmp/conf.edited" "$conf")"
[ -f "$R/var/cache/pam_ssooidc/reg-x.json" ]
check $? "the cache survived the upgrade"
check_is "$(is_enabled pam_ssooidc-sync.timer pam_ssooidc-sync.service)" "disabled enabled" \
    "the timer disabled before the upgrade stays disabled after it; the service stays enabled"

out=$(rdpkg -r "$pkg" 2>&1)
rc=$?
# (dpkg notes the wish to remove it: "deinstall ok installed")
[ "$rc" -ne 0 ] && [ "$(status_of)" = "deinstall ok installed $new_version" ] && [ -f "$so_in_root" ] &&
    printf '%s\n' "$out" | grep -qF '/etc/pam.d/sshd:1: auth required pam_ssooidc.so'
check $? "dpkg -r while /etc/pam.d/sshd names the module: refused, package and module stay" \
    "exit $rc, $(status_of)
$out"

printf 'auth required pam_unix.so\nauth sufficient \\\n  pam_ssooidc.so\n' >"$R/etc/pam.d/sshd"
out=$(rdpkg -r "$pkg" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ -f "$so_in_root" ] &&
    printf '%s\n' "$out" | grep -qF '/etc/pam.d/sshd:2: auth sufficient pam_ssooidc.so'
check $? "dpkg -r while a continuation line loads the module: refused" "exit $rc
$out"
mkdir -p "$R/opt/x"
printf 'auth required pam_ssooidc.so\n' >"$R/opt/x/sso-auth"
printf 'auth include /opt/x/sso-auth\n' >"$R/etc/pam.d/sshd"
out=$(rdpkg -r "$pkg" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ -f "$so_in_root" ] && printf '%s\n' "$out" | grep -qF '/opt/x/sso-auth:1: '
check $? "dpkg -r while /etc/pam.d/sshd includes /opt/x/sso-auth, which loads it: refused" \
    "exit $rc
$out"

# Commented out, and another copy of the module in use: removal goes ahead.
mkdir -p "$R/run/x"
cp -p "$so_in_root" "$R/run/x/pam_ssooidc.so"
printf '#auth include /opt/x/sso-auth\nauth required /run/x/pam_ssooidc.so\n' >"$R/etc/pam.d/sshd"
out=$(rdpkg -r "$pkg" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ "$(status_of)" = "deinstall ok config-files $new_version" ] && [ ! -e "$so_in_root" ] &&
    cmp -s "$conf" "$tmp/conf.edited" && [ -f "$R/var/cache/pam_ssooidc/reg-x.json" ] &&
    ! printf '%s\n' "$out" | grep -qF 'run/x'
check $? "with the line commented out and another copy in use: removed, nothing said of the copy; conffile and cache kept" \
    "exit $rc, $(status_of)
$out"

out=$(rdpkg -P "$pkg" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ -z "$(status_of | grep -v not-installed)" ] && [ ! -e "$conf" ] &&
    [ ! -e "$R/var/cache/pam_ssooidc" ]
check $? "dpkg -P: purged; conffile and cache directory gone" "exit $rc, $(status_of)
$out"
[ -z "$(units_state "$R")" ]
check $? "and the units' symlinks and deb-systemd-helper's state are gone" "$(units_state "$R")"
[ "$(cat "$R/var/lib/pam_ssooidc/ledger.json" 2>&1)" = '{"next_uid": 60001}' ]
check $? "/var/lib/pam_ssooidc (the accounts, the ledger of uids ever handed out) is left as it was" \
    "$(ls -la "$R/var/lib/pam_ssooidc" 2>&1)"

# ------------------------------------------------ make install / uninstall
# From the tree itself (make check built it already; alone, make builds
# what is missing): the units go to UNITDIR, the systemd's own directory by
# default (pkg-config), and uninstall takes them (and the command) away.
mi_src=$PWD
default_unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
for unitdir in "" /usr/lib/systemd/system; do
    d="$tmp/make-install${unitdir:+-usr}"
    ud=${unitdir:-$default_unitdir}
    out=$(make -C "$mi_src" -s install DESTDIR="$d" ${unitdir:+UNITDIR=$unitdir} 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] && [ -x "$d/usr/sbin/pam_ssooidc_sync" ] &&
        [ "$(stat -c %a "$d$ud/pam_ssooidc-sync.service" "$d$ud/pam_ssooidc-sync.timer" 2>&1 | tr '\n' ' ')" = "644 644 " ] &&
        cmp -s "$d$ud/pam_ssooidc-sync.service" conf/pam_ssooidc-sync.service &&
        cmp -s "$d$ud/pam_ssooidc-sync.timer" conf/pam_ssooidc-sync.timer
    check $? "make install DESTDIR=...${unitdir:+ UNITDIR=$unitdir}: pam_ssooidc_sync, and the service and timer (0644) in $ud" \
        "exit $rc
$out
$(cd "$d" && find . -path '*systemd*' -o -name 'pam_ssooidc_sync*' 2>&1)"
    out=$(make -C "$mi_src" -s uninstall DESTDIR="$d" ${unitdir:+UNITDIR=$unitdir} 2>&1)
    rc=$?
    left=$(cd "$d" && find . -type f \( -name 'pam_ssooidc-sync.*' -o -name 'pam_ssooidc_sync' \))
    [ "$rc" -eq 0 ] && [ -z "$left" ]
    check $? "make uninstall with the same variables removes them" "exit $rc
$out
$left"
done

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
