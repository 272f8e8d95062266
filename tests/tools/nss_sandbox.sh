#!/bin/bash
# nss_sandbox.sh LIBNSS -- COMMAND...
#
# Runs COMMAND (as root) in a private mount namespace where real glibc
# resolves users and groups through the built NSS module, and nothing of
# the host changes:
#   - /usr/lib/<multiarch> gets an overlay holding LIBNSS as
#     libnss_ssooidc.so.2 (glibc finds it where it finds libnss_files);
#   - /etc/nsswitch.conf is a copy of the host's with "ssooidc" after the
#     passwd and group sources;
#   - /var/lib gets an overlay, so /var/lib/pam_ssooidc (the module's
#     data directory, a build setting) is the sandbox's own, empty at the
#     start (SANDBOX_DATA=DIR: a copy of DIR instead).
# Processes COMMAND starts (sshd, sudo, su, getent) share the namespace;
# every mount goes when the last of them ends. The overlays' upper layers
# live in a temp dir that is removed afterwards. Needs util-linux's unshare
# and overlayfs.
set -eu
[ "${1:-}" ] && [ "${2:-}" = "--" ] || { echo "usage: $0 LIBNSS -- COMMAND..." >&2; exit 2; }
lib=$(readlink -f "$1"); shift 2
[ -f "$lib" ] || { echo "$0: no such library: $lib" >&2; exit 2; }
if [ -z "${NSS_SANDBOX_INSIDE:-}" ]; then
    tmp=$(mktemp -d /tmp/nss-sandbox.XXXXXX)
    trap 'rm -rf "$tmp"' EXIT
    rc=0
    NSS_SANDBOX_INSIDE=$tmp unshare -m --propagation private "$0" "$lib" -- "$@" || rc=$?
    exit $rc
fi
tmp=$NSS_SANDBOX_INSIDE
unset NSS_SANDBOX_INSIDE
arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
libdir=/usr/lib/$arch
overlay() { # overlay DIR NAME: DIR's contents plus an upper layer of our own
    mkdir -p "$tmp/$2/up" "$tmp/$2/work"
    mount -t overlay "nss-sandbox-$2" -o "lowerdir=$1,upperdir=$tmp/$2/up,workdir=$tmp/$2/work" "$1"
}
overlay "$libdir" lib
install -m 0644 "$lib" "$libdir/libnss_ssooidc.so.2"
overlay /var/lib varlib
rm -rf /var/lib/pam_ssooidc
if [ -n "${SANDBOX_DATA:-}" ]; then
    cp -a "$SANDBOX_DATA" /var/lib/pam_ssooidc
fi
sed -E 's/^(passwd|group):(.*)$/\1:\2 ssooidc/' /etc/nsswitch.conf >"$tmp/nsswitch.conf"
grep -q '^passwd:.*ssooidc' "$tmp/nsswitch.conf" || echo 'passwd: files ssooidc' >>"$tmp/nsswitch.conf"
grep -q '^group:.*ssooidc' "$tmp/nsswitch.conf" || echo 'group: files ssooidc' >>"$tmp/nsswitch.conf"
mount --bind "$tmp/nsswitch.conf" /etc/nsswitch.conf
exec "$@"
