#!/bin/sh
# The module must export the PAM entry points and nothing else.
so=${1:-pam_ssooidc/pam_ssooidc.so}
syms=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBRVW]/ {print $3}' | sort)
n=0; bad=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; bad=1; fi; }
echo "$syms" | grep -qx pam_sm_authenticate; check $? "exports pam_sm_authenticate"
echo "$syms" | grep -qx pam_sm_setcred; check $? "exports pam_sm_setcred"
extra=$(echo "$syms" | grep -v '^pam_sm_' | tr '\n' ' ')
[ -z "$extra" ]; check $? "exports nothing else${extra:+ (found: $extra)}"
echo "1..$n"
exit $bad
