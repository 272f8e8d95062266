#!/bin/bash
# make demo: a real login through pamtester and pam_wrapper against the local
# IAM Identity Center stand-in. /etc/pam.d is not touched.
#   make demo          approve in a browser, then press Enter
#   make demo AUTO=1   the stand-in approves by itself after a few seconds
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
MODULE=$ROOT/pam_ssooidc/pam_ssooidc.so
# Trusted files (config, CA, cache) need root-owned directories all the
# way up, so the demo works under /run, not /tmp.
mkdir -p -m 755 /run/ssooidc-tests
WORK=$(mktemp -d /run/ssooidc-tests/ssooidc-demo.XXXXXX)
chmod 755 "$WORK"
SD_PID=
cleanup() {
    [ -n "$SD_PID" ] && kill "$SD_PID" 2>/dev/null && wait "$SD_PID" 2>/dev/null
    rm -rf "$WORK"
    /usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/module"); import harness; harness.cleanup_pam_wrapper_dirs()' 2>/dev/null || true
}
trap cleanup EXIT

AUTO=${AUTO:-}
if [ -z "$AUTO" ] && ! [ -t 0 ]; then
    echo "(stdin is not a terminal: approving automatically, as with AUTO=1)"
    AUTO=1
fi
SCENARIO='{"approver":"alice"}'
[ -n "$AUTO" ] && SCENARIO='{"approver":"alice","approve_after_seconds":4}'

/usr/bin/python3 tests/standin/standin.py --dir "$WORK/standin" --port 0 \
    --scenario "$SCENARIO" >"$WORK/standin.log" 2>&1 &
SD_PID=$!
for _ in $(seq 100); do [ -s "$WORK/standin/port" ] && break; sleep 0.1; done
[ -s "$WORK/standin/port" ] || { echo "stand-in failed to start"; cat "$WORK/standin.log"; exit 1; }
URL="https://127.0.0.1:$(cat "$WORK/standin/port")"

mkdir -m 700 "$WORK/cache" "$WORK/pam.d"
PROMPT=always
[ -n "$AUTO" ] && PROMPT=never
cat >"$WORK/pam_ssooidc.conf" <<CONF
# A demo configuration: every endpoint is the local stand-in.
start_url       = https://example.awsapps.com/start
oidc_endpoint   = $URL
portal_endpoint = $URL
sts_endpoint    = $URL
ca_file         = $WORK/standin/ca.pem
cache_dir       = $WORK/cache
account_id      = 111122223333
role_name       = LinuxLogin
prompt          = $PROMPT
timeout         = 120
CONF
chmod 600 "$WORK/pam_ssooidc.conf"
echo "auth required $MODULE conf=$WORK/pam_ssooidc.conf" >"$WORK/pam.d/demo"
echo "auth required pam_deny.so" >"$WORK/pam.d/other" # PAM's fallback service
printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:2001:2001:Alice:/home/alice:/bin/sh\n' >"$WORK/passwd"
printf 'root:x:0:\nalice:x:2001:\n' >"$WORK/group"

cat <<INFO
--------------------------------------------------------------------------
 pam_ssooidc demo
 Stand-in for IAM Identity Center: $URL (CA: $WORK/standin/ca.pem)
 Logging in as local user "alice"; the approver must be Identity Center
 user "alice" holding permission set LinuxLogin in account 111122223333.
$( [ -n "$AUTO" ] && echo " AUTO: the stand-in approves as alice after 4 seconds." ||
   echo " Open the link below in a browser that trusts the CA above (or accept the
 warning), click Approve, then press Enter here." )
--------------------------------------------------------------------------
INFO
set +e
LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" PAM_WRAPPER=1 \
PAM_WRAPPER_SERVICE_DIR="$WORK/pam.d" NSS_WRAPPER_PASSWD="$WORK/passwd" \
NSS_WRAPPER_GROUP="$WORK/group" PAM_WRAPPER_DEBUGLEVEL=2 \
    pamtester -v -I rhost=127.0.0.1 demo alice authenticate \
    2> >(/usr/bin/python3 tests/tools/split_pwrap.py "$WORK/pam.err")
rc=$?
set -e
sleep 0.2 # let the stderr filter finish
echo "--------------------------------------------------------------------------"
echo " What the module logged (syslog):"
sed -n 's/.*SYSLOG([0-9]*): /   /p' "$WORK/pam.err"
echo " pamtester exit status: $rc"
exit $rc
