#!/bin/sh
# The module must export the PAM entry points and nothing else; the NSS
# module (libnss_ssooidc.so.2) glibc's _nss_ssooidc_* entry points and
# nothing else, and it must need no library but libc (it is loaded into
# every process that looks up a name: no libcurl, jansson, OpenSSL or PAM).
#   tests/check_symbols.sh [MODULE [NSS_LIBRARY]]
so=${1:-pam_ssooidc/pam_ssooidc.so}
nss=${2:-build/nss/libnss_ssooidc.so.2}
n=0; bad=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; bad=1; fi; }
exports() { nm -D --defined-only "$1" | awk '$2 ~ /[TDBRVW]/ {print $3}' | sort; }

syms=$(exports "$so")
echo "$syms" | grep -qx pam_sm_authenticate; check $? "exports pam_sm_authenticate"
echo "$syms" | grep -qx pam_sm_setcred; check $? "exports pam_sm_setcred"
extra=$(echo "$syms" | grep -v '^pam_sm_' | tr '\n' ' ')
[ -z "$extra" ]; check $? "exports nothing else${extra:+ (found: $extra)}"

syms=$(exports "$nss")
for f in getpwnam_r getpwuid_r setpwent getpwent_r endpwent getgrnam_r getgrgid_r \
         setgrent getgrent_r endgrent initgroups_dyn; do
    echo "$syms" | grep -qx "_nss_ssooidc_$f"; check $? "$nss exports _nss_ssooidc_$f"
done
extra=$(echo "$syms" | grep -v '^_nss_ssooidc_' | tr '\n' ' ')
[ -n "$syms" ] && [ -z "$extra" ]; check $? "$nss exports nothing else${extra:+ (found: $extra)}"
needed=$(readelf -d "$nss" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
[ "$needed" = "libc.so.6 " ]; check $? "$nss needs libc alone (needs: $needed)"
soname=$(readelf -d "$nss" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libnss_ssooidc.so.2 ]; check $? "$nss is named libnss_ssooidc.so.2 (SONAME: $soname)"
readelf -d "$nss" 2>/dev/null | grep -q 'FLAGS.*BIND_NOW\|FLAGS_1.*NOW' &&
    readelf -lW "$nss" 2>/dev/null | grep -q GNU_RELRO
check $? "$nss is linked with full RELRO (relro, now)"
echo "1..$n"
exit $bad
