#!/bin/sh
# Install the packages that the demo or the tests need, when they are
# missing. As root this uses apt-get (Debian, Ubuntu) or dnf (Fedora, RHEL,
# Amazon Linux); otherwise it only reports what is missing.
#
#   tests/deps.sh --demo    building the module and `make demo`: compiler,
#                           libraries, pamtester, pam_wrapper, python3, openssl
#   tests/deps.sh --unit    the demo's set and what the quick suites need
#                           (unit, exported-symbols, includes, meta: cmocka
#                           and libqrencode); `make check SUITES=unit` uses it
#   tests/deps.sh [--check] everything `make check` needs: the unit set and
#                           the rest (test libraries, sshd, sudo, valgrind,
#                           clang, packaging and SELinux tools)
#   tests/deps.sh --list [--demo|--unit|--check]   print the names, install nothing
#   DEPS_TOOL=apt|dnf    choose the package manager instead of detecting it
#                        (e.g. DEPS_TOOL=dnf tests/deps.sh --list: the dnf names)
#
# Only the apt-get branch is exercised by the project's CI (Debian 12). The
# dnf names are the Fedora ones; on RHEL 9 some are in CRB or EPEL (see
# docs/packages.md), and some tests need Debian's tools: no Debian name has a
# dnf twin where the dnf column says "-".
set -eu

set_=check list=no
for arg in "$@"; do
    case "$arg" in
        --demo) set_=demo ;;
        --unit) set_=unit ;;
        --check) set_=check ;;
        --list) list=yes ;;
        *) echo "usage: $0 [--demo|--unit|--check] [--list]" >&2; exit 2 ;;
    esac
done

# set    Debian (apt-get)        Fedora/RHEL/AL2023 (dnf; "-": none, "a,b": two)
# (each set holds the one before it: demo, unit, check)
TABLE='
demo   build-essential         gcc,make
demo   pkg-config              pkgconf-pkg-config
demo   libpam0g-dev            pam-devel
demo   libcurl4-openssl-dev    libcurl-devel
demo   libjansson-dev          jansson-devel
demo   libssl-dev              openssl-devel
demo   pamtester               pamtester
demo   libpam-wrapper          pam_wrapper
demo   libnss-wrapper          nss_wrapper
demo   python3                 python3
demo   openssl                 openssl
unit   libqrencode-dev         qrencode-devel
unit   libcmocka-dev           libcmocka-devel
check  python3-botocore        python3-botocore
check  python3-cryptography    python3-cryptography
check  python3-pil             python3-pillow
check  python3-pexpect         python3-pexpect
check  curl                    curl
check  valgrind                valgrind
check  openssh-server          openssh-server
check  openssh-client          openssh-clients
check  sudo                    sudo
check  zbar-tools              zbar
check  clang                   clang
check  libclang-rt-14-dev      compiler-rt
check  debhelper               -
check  devscripts              -
check  lintian                 -
check  fakeroot                fakeroot
check  rpm                     rpm-build
check  rpm2cpio                rpm
check  rpmlint                 rpmlint
check  cpio                    cpio
check  bzip2                   bzip2
check  checkpolicy             checkpolicy
check  semodule-utils          policycoreutils
check  systemd                 systemd
check  man-db                  man-db
check  strace                  strace
'

tool=${DEPS_TOOL:-}
if [ -z "$tool" ]; then
    if [ -f /etc/debian_version ] && command -v dpkg-query >/dev/null; then
        tool=apt
    elif command -v dnf >/dev/null; then
        tool=dnf
    fi
fi
if [ "$tool" = apt ]; then
    col=2
elif [ "$tool" = dnf ]; then
    col=3
else
    echo "$0: no apt-get (Debian) or dnf (Fedora, RHEL, Amazon Linux), or DEPS_TOOL is neither apt nor dnf" >&2
    exit 1
fi

# The names for this system: the demo's set, plus the unit rows for
# --unit, plus everything for --check.
pkgs=$(printf '%s\n' "$TABLE" | awk -v set="$set_" -v col="$col" \
    'NF == 3 && ($1 == "demo" || set == "check" || (set == "unit" && $1 == "unit")) &&
     $col != "-" {gsub(",", " ", $col); print $col}')
if [ "$list" = yes ]; then
    printf '%s\n' "$pkgs" | tr ' ' '\n'
    exit 0
fi

installed() {
    if [ "$tool" = apt ]; then
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
    else
        rpm -q --quiet "$1" 2>/dev/null
    fi
}
missing=""
for p in $pkgs; do
    installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages:$missing" >&2
    if [ "$tool" = apt ]; then
        echo "run as root, or: sudo apt-get install$missing" >&2
    else
        echo "run as root, or: sudo dnf install$missing" >&2
    fi
    exit 1
fi
echo "installing:$missing"
if [ "$tool" = apt ]; then
    export DEBIAN_FRONTEND=noninteractive
    # Wait for another apt-get or dpkg (unattended-upgrades, a concurrent
    # test run) to let go of the dpkg lock, instead of failing at once.
    lock="-o DPkg::Lock::Timeout=600"
    # shellcheck disable=SC2086
    apt-get $lock update -qq
    # shellcheck disable=SC2086
    apt-get $lock install -y -qq --no-install-recommends $missing >/dev/null
else
    # shellcheck disable=SC2086
    dnf install -y -q $missing
fi
