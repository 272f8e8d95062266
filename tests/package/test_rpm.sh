#!/bin/bash
# The RPM packages (TAP): rpm/pam_ssooidc.spec builds with rpmbuild (as on
# Fedora, RHEL 9 and Amazon Linux 2023; here on Debian with --nodeps, see
# tests/package/build_rpm.sh), the packages hold exactly the expected files
# with the right modes and flags (%config(noreplace), %license, the cache
# %dir), the build and run dependencies are those distributions' names, the
# %preun removal guard works (continuation lines and includes of any file
# count, another copy of the module does not), pam_ssooidc-nss carries the
# directory sync (its command and sandboxed units, which systemd-analyze
# verify accepts) and its scriptlets leave enablement to the presets
# (disabled by default), disable on erase, never start or restart the
# service; the -selinux subpackage ships the policy
# module that `make selinux` builds and loads it the way Fedora packages do,
# an edited config survives `rpm -U` to a newer build whose template
# changed (into a throw-away root, --nodeps --noscripts), the spec built
# --without qrencode asks for QR=no and no qrencode (as rpmspec expands it),
# and rpmlint reports no errors.
#
#   tests/package/test_rpm.sh [--keep]    (--keep: leave the work dir)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
keep=no && [ "${1:-}" = "--keep" ] && keep=yes

# shellcheck source=../tap.sh
. tests/tap.sh
# shellcheck source=packaged.sh
. tests/package/packaged.sh

need_tools rpmbuild rpmspec rpm rpmlint checkmodule semodule_package bzip2 nm readelf

tmp=$(mktemp -d /tmp/rpm-test.XXXXXX)
if [ "$keep" = yes ]; then echo "# keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

spec=rpm/pam_ssooidc.spec
version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ "$version" = "${deb_version%-*}" ]
check $? "the spec's Version ($version) is debian/changelog's upstream version (${deb_version%-*})"

# ------------------------------------------------------------------ build
t0=$SECONDS
tests/package/build_rpm.sh "$tmp/v1" >"$tmp/build.err" 2>&1
check $? "rpmbuild -ba builds the binary and source RPMs ($((SECONDS - t0)) s)" \
    "$(cat "$tmp/build.err")" || finish
arch=$(rpm --eval '%{_arch}')
main=$(ls "$tmp"/v1/RPMS/"$arch"/pam_ssooidc-"$version"-*."$arch".rpm 2>/dev/null)
sel=$(ls "$tmp"/v1/RPMS/noarch/pam_ssooidc-selinux-"$version"-*.noarch.rpm 2>/dev/null)
srpm=$(ls "$tmp"/v1/SRPMS/pam_ssooidc-"$version"-*.src.rpm 2>/dev/null)
[ -f "$main" ] && [ -f "$sel" ] && [ -f "$srpm" ]
check $? "pam_ssooidc.$arch, pam_ssooidc-selinux.noarch and the .src.rpm" \
    "$(find "$tmp/v1/RPMS" "$tmp/v1/SRPMS" -name '*.rpm')" || finish
warnings=$(grep -E '\.[ch]:[0-9]+:[0-9]+: warning:' "$tmp/v1/build.log")
[ -z "$warnings" ]
check $? "the module compiles without warnings under %{optflags}" "$warnings"

# -------------------------------------------------------------- contents
libdir=$(rpm --eval '%{_libdir}')
# "mode owner group path" of every entry but rpm's own .build-id links.
rpm -qlvp "$main" | awk '$NF !~ /^\/usr\/lib\/\.build-id/ && $(NF-1) != "->" {print $1, $3, $4, $NF}' \
    >"$tmp/main.list"
actual=$(awk '{print $4}' "$tmp/main.list" | sort)
doc=/usr/share/doc/pam_ssooidc
expected="/etc/security/pam_ssooidc.conf
$libdir/security/pam_ssooidc.so
/usr/share/licenses/pam_ssooidc
/usr/share/licenses/pam_ssooidc/LICENSE
/usr/share/man/man5/pam_ssooidc.conf.5.gz
/usr/share/man/man8/pam_ssooidc.8.gz
/usr/share/man/man8/pam_ssooidc_check.8.gz
/usr/share/man/man8/pam_ssooidc_users.8.gz
/usr/share/man/man8/libnss_ssooidc.8.gz
/usr/sbin/pam_ssooidc_check
/usr/sbin/pam_ssooidc_users
/var/cache/pam_ssooidc
$doc
$doc/README.md
$doc/examples"
for f in docs/*.md; do expected="$expected
$doc/${f#docs/}"; done
for f in conf/*.pam conf/sshd_config.example; do expected="$expected
$doc/examples/${f#conf/}"; done
check_lists "pam_ssooidc holds exactly the expected files ($(printf '%s\n' "$actual" | wc -l))" \
    "$expected" "$actual"
mode_of() { awk -v p="$1" '$4 == p {print $1, $2, $3}' "$tmp/main.list"; }
# The NSS module, in pam_ssooidc-nss alone.
nss=$(ls "$tmp"/v1/RPMS/"$arch"/pam_ssooidc-nss-"$version"-*."$arch".rpm 2>/dev/null)
nss_list=$([ -f "$nss" ] && rpm -qlvp "$nss" |
    awk '$NF !~ /^\/usr\/lib\/\.build-id/ && $(NF-1) != "->" {print $1, $3, $4, $NF}')
unitdir=$(rpm --eval '%{?_unitdir}%{!?_unitdir:/usr/lib/systemd/system}')
check_lists "pam_ssooidc-nss holds the NSS module (%{_libdir}) and the directory sync: command, units (%{_unitdir}), man page" \
    "-rwxr-xr-x root root $libdir/libnss_ssooidc.so.2
-rwxr-xr-x root root /usr/sbin/pam_ssooidc_sync
-rw-r--r-- root root $unitdir/pam_ssooidc-sync.service
-rw-r--r-- root root $unitdir/pam_ssooidc-sync.timer
-rw-r--r-- root root /usr/share/man/man8/pam_ssooidc_sync.8.gz" "$nss_list"
check_is "$(mode_of /etc/security/pam_ssooidc.conf)" "-rw------- root root" \
    "the config file is root root 0600"
check_is "$(mode_of /var/cache/pam_ssooidc)" "drwx------ root root" \
    "the cache directory is root root 0700"
check_is "$(mode_of "$libdir/security/pam_ssooidc.so")" "-rwxr-xr-x root root" \
    "the module is in %{_libdir}/security ($libdir/security), root root 0755"
rpm -qp --qf '[%{FILEFLAGS:fflags}|%{FILENAMES}\n]' "$main" >"$tmp/flags"
flags_of() { awk -F'|' -v p="$1" '$2 == p {print $1}' "$tmp/flags"; }
[ "$(flags_of /etc/security/pam_ssooidc.conf)" = cn ] &&
    [ "$(rpm -qcp "$main")" = /etc/security/pam_ssooidc.conf ]
check $? "the config is the one %config(noreplace) file (flags: $(flags_of /etc/security/pam_ssooidc.conf))"
[ "$(flags_of /usr/share/licenses/pam_ssooidc/LICENSE)" = l ] &&
    cmp -s LICENSE <(rpm2cpio "$main" | cpio -i --quiet --to-stdout ./usr/share/licenses/pam_ssooidc/LICENSE)
check $? "LICENSE (Apache-2.0, as debian/copyright) is the %license file"
[ "$(rpm -qp --qf '%{LICENSE}' "$main")" = Apache-2.0 ]
check $? "License: Apache-2.0"
rpm2cpio "$main" | cpio -i --quiet --to-stdout ./etc/security/pam_ssooidc.conf >"$tmp/conf.shipped"
active=$(grep -nvE '^(#|$)' "$tmp/conf.shipped")
[ -s "$tmp/conf.shipped" ] && [ -z "$active" ]
check $? "the shipped config is the template of comments only" "$active"

# ---------------------------------------------------------- dependencies
requires=$(rpm -qpR "$main")
for r in pam ca-certificates 'libpam.so.0()(64bit)' 'libcurl.so.4()(64bit)' \
    'libjansson.so.4()(64bit)' 'libcrypto.so.3()(64bit)' 'libqrencode.so.4()(64bit)'; do
    printf '%s\n' "$requires" | grep -qxF "$r"
    check $? "pam_ssooidc requires $r" "$requires"
done
brequires=$(rpm -qpR "$srpm")
for r in pam-devel libcurl-devel jansson-devel openssl-devel qrencode-devel checkpolicy policycoreutils; do
    printf '%s\n' "$brequires" | grep -qxF "$r"
    check $? "BuildRequires: $r" "$brequires"
done

# ------------------------------------------------------------- the module
mkdir -p "$tmp/x" && (cd "$tmp/x" && rpm2cpio "$main" | cpio -idm --quiet)
so="$tmp/x$libdir/security/pam_ssooidc.so"
check_packaged_module "$so"
readelf -d "$so" | grep -q BIND_NOW && readelf -lW "$so" | grep -q GNU_RELRO
check $? "hardened: full RELRO (BIND_NOW)"

# ------------------------------------------------- the directory sync
mkdir -p "$tmp/xn" && (cd "$tmp/xn" && rpm2cpio "$nss" | cpio -idm --quiet)
check_packaged_units "$tmp/xn" "$unitdir"
brequires_sync=$(rpm -qpR "$srpm")
printf '%s\n' "$brequires_sync" | grep -qxF systemd-rpm-macros
check $? "BuildRequires: systemd-rpm-macros (%{_unitdir}, %systemd_post & co.)" "$brequires_sync"

# The -nss scriptlets as packaged. Here rpm has no systemd-rpm-macros, so
# they are the spec's equivalents of %systemd_post, %systemd_preun and
# %systemd_postun(_with_restart); they run with a systemctl that logs each
# call and does the offline ones (preset, enable, disable, is-enabled) with
# --root on a throw-away root holding the packaged units and presets.
for s in POSTIN PREUN POSTUN; do
    rpm -qp --qf "%{$s}" "$nss" >"$tmp/nss.$s"
done
restarts=$(grep -hE 'systemctl .*(start|restart)' "$tmp/nss.POSTIN" "$tmp/nss.PREUN" "$tmp/nss.POSTUN" |
    sed -E 's/^[[:space:]]+//; s/ *>.*//')
check_is "$restarts" "systemctl try-restart pam_ssooidc-sync.timer" \
    "the scriptlets never start or restart the service; an upgrade try-restarts the timer (%systemd_postun_with_restart)"
real_systemctl=$(command -v systemctl)
if [ "$(rpm --eval '%{?systemd_post:1}')" = 1 ]; then
    skip "the fallback scriptlets set the presets' choice" "this rpm has systemd-rpm-macros: the packaged scriptlets are its own"
elif [ -z "$real_systemctl" ]; then
    skip "the fallback scriptlets set the presets' choice" "no systemctl here to do it offline (--root)"
else
    UR="$tmp/unitroot"
    mkdir -p "$UR/usr/lib/systemd/system-preset" "$UR/etc/systemd/system-preset" "$tmp/fakebin" "$tmp/nobin"
    cp -a "$tmp/xn/." "$UR/"
    # Fedora's last word: every unit no preset names is disabled.
    echo 'disable *' >"$UR/usr/lib/systemd/system-preset/99-default-disable.preset"
    cat >"$tmp/fakebin/systemctl" <<FAKE
#!/bin/sh
echo "systemctl \$*" >>"$tmp/systemctl.log"
v=
for a; do case "\$a" in -*) ;; *) v="\$v \$a" ;; esac; done
set -- \$v
case "\$1" in
    preset|enable|disable|is-enabled) exec "$real_systemctl" --root="$UR" "\$@" ;;
esac
FAKE
    chmod +x "$tmp/fakebin/systemctl"
    scriptlet() { # scriptlet NAME ARG: the packaged scriptlet, with the logging systemctl
        : >"$tmp/systemctl.log"
        PATH="$tmp/fakebin:$PATH" sh "$tmp/nss.$1" "$2" >"$tmp/scriptlet.out" 2>&1
    }
    states() { "$real_systemctl" --root="$UR" is-enabled pam_ssooidc-sync.timer pam_ssooidc-sync.service 2>&1 |
        tr '\n' ' ' | sed 's/ $//'; }
    scriptlet POSTIN 1
    check_is "$(states)" "disabled disabled" \
        "%post on install, Fedora's presets (disable *): the timer and the service stay disabled ($(tr '\n' ';' <"$tmp/systemctl.log"))"
    echo 'enable pam_ssooidc-sync.timer' >"$UR/etc/systemd/system-preset/50-sync.preset"
    scriptlet POSTIN 1
    check_is "$(states)" "enabled disabled" \
        "%post on install, with a preset that enables the timer: the timer enabled, the service not"
    "$real_systemctl" --root="$UR" disable pam_ssooidc-sync.timer >/dev/null 2>&1
    scriptlet POSTIN 2
    [ ! -s "$tmp/systemctl.log" ] && [ "$(states)" = "disabled disabled" ]
    check $? "%post on upgrade: presets not applied again (the administrator's choice stays)" \
        "$(cat "$tmp/systemctl.log"; states)"
    "$real_systemctl" --root="$UR" enable pam_ssooidc-sync.timer pam_ssooidc-sync.service >/dev/null 2>&1
    scriptlet PREUN 1
    check_is "$(states)" "enabled enabled" "%preun on upgrade: both stay enabled"
    scriptlet PREUN 0
    [ "$(states)" = "disabled disabled" ] &&
        grep -qxF 'systemctl --no-reload disable --now pam_ssooidc-sync.service pam_ssooidc-sync.timer' "$tmp/systemctl.log"
    check $? "%preun on erase: both disabled and stopped (disable --now)" "$(cat "$tmp/systemctl.log"; states)"
    ok=0
    for s in POSTIN:1 PREUN:0 POSTUN:1 POSTUN:0; do
        PATH="$tmp/nobin" /bin/sh "$tmp/nss.${s%%:*}" "${s#*:}" >"$tmp/scriptlet.out" 2>&1 &&
            [ ! -s "$tmp/scriptlet.out" ] || ok=1
    done
    check $ok "without systemctl (a container, a chroot) every scriptlet succeeds silently" "$(cat "$tmp/scriptlet.out")"
fi

# ------------------------------------------------- %preun removal guard
# The scriptlet as packaged, its pam_ssooidc_check the packaged one run with
# --root on a throw-away root holding /etc/pam.d and the packaged module.
sb="$tmp/sandbox"
mkdir -p "$sb/etc/pam.d" "$sb$libdir/security"
cp -p "$so" "$sb$libdir/security/"
check_bin="$tmp/x/usr/sbin/pam_ssooidc_check"
rpm -qp --qf '%{PREUN}' "$main" |
    sed -e "s|/usr/sbin/pam_ssooidc_check --pam-users|$check_bin --pam-users --root $sb|" >"$tmp/preun.sh"
grep -qF -- "$check_bin --pam-users --root $sb" "$tmp/preun.sh"
check $? "%preun asks /usr/sbin/pam_ssooidc_check --pam-users" "$(cat "$tmp/preun.sh")"
preun_says() { # preun_says EXPECTED-RC ARG DESCRIPTION
    local out rc
    out=$(sh "$tmp/preun.sh" "$2" 2>&1)
    rc=$?
    [ "$rc" -eq "$1" ]
    check $? "%preun $2: $3 (exit $rc)" "$out"
}
preun_says 0 0 "erase, nothing in /etc/pam.d: goes ahead"
printf '#auth required pam_ssooidc.so\nauth required pam_unix.so\n' >"$sb/etc/pam.d/sshd"
preun_says 0 0 "erase, only a comment names it: goes ahead"
printf 'auth required pam_ssooidc.so\n' >"$sb/etc/pam.d/sudo"
preun_says 1 0 "erase, /etc/pam.d/sudo names it: refused"
check_says "$(sh "$tmp/preun.sh" 0 2>&1)" "the refusal names the file and line, and the override" \
    "/etc/pam.d/sudo:1: auth required pam_ssooidc.so (service sudo)" PAM_SSOOIDC_FORCE_REMOVE=1
PAM_SSOOIDC_FORCE_REMOVE=1 preun_says 0 0 "erase with PAM_SSOOIDC_FORCE_REMOVE=1: goes ahead"
preun_says 0 1 "upgrade (\$1 = 1): goes ahead"
rm "$sb/etc/pam.d/sudo"
printf 'auth required pam_unix.so\nauth sufficient \\\n    pam_ssooidc.so\n' >"$sb/etc/pam.d/sshd"
preun_says 1 0 "erase, a continuation line that begins with pam_ssooidc.so: refused"
mkdir -p "$sb/opt/x"
printf 'auth required pam_ssooidc.so\n' >"$sb/opt/x/sso-auth"
printf 'auth include /opt/x/sso-auth\n' >"$sb/etc/pam.d/sshd"
preun_says 1 0 "erase, 'auth include /opt/x/sso-auth' loading it: refused"
check_says "$(sh "$tmp/preun.sh" 0 2>&1)" "the refusal names the included line and the include" \
    '/opt/x/sso-auth:1: auth required pam_ssooidc.so (service sshd, via /etc/pam.d/sshd:1)'
mkdir -p "$sb/run/x"
cp -p "$so" "$sb/run/x/pam_ssooidc.so"
printf 'auth required /run/x/pam_ssooidc.so\n' >"$sb/etc/pam.d/sshd"
preun_says 0 0 "erase, a line loading another copy (/run/x/pam_ssooidc.so): goes ahead"
mkfifo "$sb/etc/pam.d/broken"
preun_says 1 0 "erase, a PAM file it cannot read (check exit 3): refused, fail safe"
check_says "$(sh "$tmp/preun.sh" 0 2>&1)" "that refusal says why and how to override" \
    'cannot tell whether PAM still uses it' PAM_SSOOIDC_FORCE_REMOVE=1
PAM_SSOOIDC_FORCE_REMOVE=1 preun_says 0 0 "same, with PAM_SSOOIDC_FORCE_REMOVE=1: goes ahead"

# ------------------------------------------------------------ -selinux
pp_pkg=/usr/share/selinux/packages/targeted/pam_ssooidc.pp.bz2
sel_files=$(rpm -qlp "$sel" | sort | tr '\n' ' ')
[ "$sel_files" = "/usr/share/licenses/pam_ssooidc-selinux /usr/share/licenses/pam_ssooidc-selinux/LICENSE $pp_pkg " ]
check $? "pam_ssooidc-selinux holds the policy module in /usr/share/selinux/packages/targeted" "$sel_files"
make --no-print-directory -s BUILD="$tmp/make" selinux >"$tmp/make-selinux.log" 2>&1 &&
    cmp -s "$tmp/make/selinux/pam_ssooidc.pp" <(rpm2cpio "$sel" | cpio -i --quiet --to-stdout ".$pp_pkg" | bzip2 -dc)
check $? "its .pp is, byte for byte, the one \`make selinux\` builds from selinux/" "$(cat "$tmp/make-selinux.log")"
scripts=$(rpm -qp --scripts "$sel")
printf '%s\n' "$scripts" | grep -qE "semodule -n -s targeted -X 200 *\\\\?\$" &&
    printf '%s\n' "$scripts" | grep -qF -- "-i $pp_pkg" &&
    printf '%s\n' "$scripts" | grep -qF -- '-X 200 -r pam_ssooidc' &&
    printf '%s\n' "$scripts" | grep -qF 'if [ "$1" -eq 0 ]' &&
    printf '%s\n' "$scripts" | grep -qF 'restorecon -R /var/cache/pam_ssooidc'
check $? "%post semodule -i (priority 200) and restorecon; %postun semodule -r on erase only" "$scripts"
sreq=$(rpm -qpR "$sel")
printf '%s\n' "$sreq" | grep -qx 'selinux-policy-targeted' &&
    printf '%s\n' "$sreq" | grep -qx 'policycoreutils' &&
    printf '%s\n' "$sreq" | grep -qx "pam_ssooidc = $(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$main")"
check $? "it requires selinux-policy-targeted, policycoreutils and the same pam_ssooidc" "$sreq"

# --------------------------------------- %config(noreplace) on upgrade
# A newer build (release 1.1) whose template gained a line, installed over
# the first with `rpm -U` into a throw-away root. --nodeps: that root's rpm
# database is empty; --noscripts: scriptlets would run chrooted into it.
mkdir -p "$tmp/tree2"
tar -C "$root" --exclude=./.git --exclude=./build --exclude='*.so' --exclude=__pycache__ -cf - . |
    tar -C "$tmp/tree2" -xf -
printf '# (a line added in the newer build)\n' >>"$tmp/tree2/conf/pam_ssooidc.conf"
"$tmp/tree2/tests/package/build_rpm.sh" "$tmp/v2" --define 'dist .1' --without selinux \
    >"$tmp/build2.err" 2>&1
main2=$(ls "$tmp"/v2/RPMS/"$arch"/pam_ssooidc-"$version"-1.1."$arch".rpm 2>/dev/null)
[ -f "$main2" ]
check $? "a newer build: $(basename "${main2:-none}")" "$(cat "$tmp/build2.err")"
R="$tmp/rpmroot"
rrpm() { rpm --root "$R" --dbpath /var/lib/rpm "$@"; }
mkdir -p "$R"
rrpm --initdb
out=$(rrpm -i --nodeps --noscripts "$main" 2>&1)
conf="$R/etc/security/pam_ssooidc.conf"
[ -f "$conf" ] && [ -f "$R$libdir/security/pam_ssooidc.so" ] && [ -d "$R/var/cache/pam_ssooidc" ]
check $? "rpm -i into a throw-away root" "$out"
printf 'start_url = https://d-1234567890.awsapps.com/start\nallow_any_approver\n' >>"$conf"
cp -p "$conf" "$tmp/conf.edited"
out=$(rrpm -U --nodeps --noscripts "$main2" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ "$(rrpm -q --qf '%{RELEASE}' pam_ssooidc)" = 1.1 ]
check $? "rpm -U to release 1.1" "exit $rc
$out"
cmp -s "$conf" "$tmp/conf.edited" && [ "$(stat -c %a "$conf")" = 600 ]
check $? "the edited config survived the upgrade unchanged, still 0600" "$(diff "$tmp/conf.edited" "$conf")"
[ -f "$conf.rpmnew" ] && tail -n 1 "$conf.rpmnew" | grep -qF '(a line added in the newer build)'
check $? "the new template was saved beside it as pam_ssooidc.conf.rpmnew" "$(ls -l "$R/etc/security")"
[ ! -e /etc/security/pam_ssooidc.conf.rpmnew ] && [ -z "$(rpm -qa 2>/dev/null | grep pam_ssooidc)" ]
check $? "nothing went to the real system (no .rpmnew in /etc/security, no pam_ssooidc in rpm -qa)"

# ------------------------------------------------- without qrencode
# Read from the spec as rpmbuild would expand it (a third full build would
# cost a compile and tell no more: that `make QR=no` links no libqrencode
# is the noqr suite's check).
wo="--without qrencode --without selinux"
# shellcheck disable=SC2086
names=$(rpmspec -q $wo --qf '%{NAME}\n' "$spec" 2>&1)
# shellcheck disable=SC2086
reqs=$(rpmspec -q --requires $wo "$spec" 2>&1; rpmspec -q --buildrequires $wo "$spec" 2>&1)
# shellcheck disable=SC2086
expanded=$(rpmspec -P $wo "$spec" 2>&1)
[ "$names" = "pam_ssooidc
pam_ssooidc-nss" ] && ! printf '%s\n' "$reqs" | grep -qi qrencode &&
    printf '%s\n' "$expanded" | grep -qE 'make .*QR=no' &&
    ! printf '%s\n' "$expanded" | grep -qE 'make .*QR=yes'
check $? "rpmbuild --without qrencode --without selinux: QR=no, no qrencode in Requires or BuildRequires, -nss but no -selinux" \
    "packages: $names
$(printf '%s\n' "$reqs" | grep -i qr)"

# ---------------------------------------------------------------- rpmlint
t0=$SECONDS
rpmlint -c rpm/rpmlint.toml "$main" "$nss" "$sel" "$srpm" "$spec" >"$tmp/rpmlint.out" 2>&1
lrc=$?
errors=$(grep -cE '^[^ ]+: E: ' "$tmp/rpmlint.out")
warns=$(grep -cE '^[^ ]+: W: ' "$tmp/rpmlint.out")
grep -E '^[^ ]+: [EW]: ' "$tmp/rpmlint.out" | sed 's/^/# rpmlint /'
[ "$errors" -eq 0 ] && [ "$lrc" -eq 0 ] && grep -q ' 0 errors' "$tmp/rpmlint.out"
check $? "rpmlint (rpm/rpmlint.toml) on both RPMs, the .src.rpm and the spec: $errors errors, $warns warnings ($((SECONDS - t0)) s)" \
    "$(cat "$tmp/rpmlint.out")"

finish
