#!/bin/bash
# pam_ssooidc_users(8) on a ledger written here by hand (TAP): list, show,
# lock, unlock, remove and what each leaves in passwd and group, --json,
# the exit codes, a corrupt ledger and an unsafe directory left alone, and
# the refusal to run as anyone but root. Runs as root; works in its own
# directory under a trusted path (tests/unit/trusted_tmp.h's).
cd "$(dirname "$0")/../.." || exit 1
. tests/tap.sh
need_tools python3 setpriv
users=$PWD/pam_ssooidc/pam_ssooidc_users
[ -x "$users" ] || { echo "Bail out! $users not built (make all)"; exit 1; }
base=/run/ssooidc-tests
mkdir -p "$base" && chown 0:0 "$base" && chmod 0755 "$base"
tmp=$(mktemp -d "$base/users.XXXXXX") || exit 1
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
dir=$tmp/data
mkdir -m 0755 "$dir"
now=$(date +%s)

acc() { # acc KEY NAME UID STATE GROUPS
    printf '{"key":"%s","name":"%s","approver":"admin@example.com","uid":%s,"state":"%s",' "$1" "$2" "$3" "$4"
    printf '"created":%s,"last_login":%s,"home":"/home/%s","shell":"/bin/bash","groups":[%s]}' \
        "$now" "$now" "$2" "$5"
}
ledger() {
    printf '{"version":1,"next_id":70010,"policy":{"uid_min":70000,"uid_max":70099,"expire_days":0},'
    printf '"accounts":[%s,%s,%s],' "$(acc 'openid:https://idp.example s-1' alice 70000 active '')" \
        "$(acc 'openid:https://idp.example s-2' bob 70001 active '"ssotest-devs"')" \
        "$(acc 'openid:https://idp.example s-0' carol 70002 removed '')"
    printf '"groups":[{"name":"ssotest-devs","gid":70003}]}\n'
}
ledger >"$dir/ledger.json"
chmod 0600 "$dir/ledger.json"
run() { out=$("$users" --dir "$dir" "$@" 2>&1); rc=$?; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# ---------------------------------------------------------------- reading
run list
check_is "$rc" 0 "list: exit 0"
check_says "$out" "list: every record, removed ones included" "alice" "bob" "carol" "70002" "removed"
run list --json
check_is "$rc" 0 "list --json: exit 0"
check_is "$(printf '%s' "$out" | json '" ".join(a["name"]+":"+str(a["uid"])+":"+a["state"] for a in d["accounts"])')" \
    "alice:70000:active bob:70001:active carol:70002:removed" "list --json: the accounts, uid and state"
check_is "$(printf '%s' "$out" | json 'd["groups"][0]["name"], d["groups"][0]["gid"]')" \
    "ssotest-devs 70003" "list --json: the ledger's groups"
run show bob
check_is "$rc" 0 "show: exit 0"
check_says "$out" "show: key, name, uid, state, times, expiry and groups" \
    "key:        openid:https://idp.example s-2" "name:       bob" "uid:        70001" \
    "state:      active (served)" "created:" "last login:" "expires:    never" \
    "groups:     ssotest-devs"
run show bob --json
check_is "$(printf '%s' "$out" | json 'd["uid"], d["state"], d["served"], d["expires"], d["groups"]')" \
    "70001 active True 0 ['ssotest-devs']" "show --json: the record"
run show nosuch
check_is "$rc" 1 "show of an unknown name: exit 1"
check_says "$out" "show of an unknown name says so" "no account nosuch"

# ---------------------------------------------------------------- changing
run lock alice
check_is "$rc" 0 "lock: exit 0"
grep -q '^alice:' "$dir/passwd"; check_is "$?" 1 "lock: alice is no longer in passwd"
grep -q '^bob:\*:70001:70001:bob (via pam_ssooidc):/home/bob:/bin/bash:0:70003$' "$dir/passwd"
check $? "lock: passwd rendered again, bob's line as the format says" "$(cat "$dir/passwd")"
check_is "$(head -n1 "$dir/passwd")" "# pam_ssooidc passwd 1 uid_range=70000-70099" \
    "passwd is rendered with the policy the ledger recorded"
check_is "$(grep '^ssotest-devs:' "$dir/group")" "ssotest-devs:x:70003:bob:0" "group: the ledger's group and its member"
check_is "$(stat -c '%a %U' "$dir/passwd" "$dir/group" "$dir/ledger.json" | tr '\n' ' ')" \
    "644 root 644 root 600 root " "passwd and group are 0644, ledger.json 0600, all root's"
run show alice
check_says "$out" "show: locked, not served" "state:      locked (not served)"
run lock alice
check_is "$rc" 0 "lock of a locked account: exit 0"
check_says "$out" "... and says it already is" "already locked"
run unlock alice
check_is "$rc" 0 "unlock: exit 0"
grep -q '^alice:\*:70000:' "$dir/passwd"; check $? "unlock: alice is served again"
run remove bob
check_is "$rc" 0 "remove: exit 0"
grep -q '^bob:' "$dir/passwd" "$dir/group"; check_is "$?" 1 "remove: bob is in neither passwd nor group"
check_is "$(grep '^ssotest-devs:' "$dir/group")" "ssotest-devs:x:70003::0" "remove: the group stays, without bob"
run show bob --json
check_is "$(printf '%s' "$out" | json 'd["uid"], d["state"]')" "70001 removed" \
    "remove: a tombstone keeps the uid"
run remove bob
check_is "$rc" 1 "remove of a removed account: exit 1"
run unlock carol
check_is "$rc" 1 "unlock of a removed account: exit 1"
run lock nosuch
check_is "$rc" 1 "lock of an unknown name: exit 1"

# ---------------------------------------------------------------- usage
for args in "" "frob" "show" "list extra" "lock a b" "lock alice --json" "--dir" "list --bogus"; do
    # shellcheck disable=SC2086
    "$users" --dir "$dir" $args >/dev/null 2>&1
    check_is "$?" 2 "usage error: '$args' exits 2"
done
"$users" --help >/dev/null 2>&1
check_is "$?" 0 "--help: exit 0"

# ------------------------------------------- unlock into a name now taken
# An account locked while someone made a user or group of its name in
# another source (useradd succeeds: a locked account is not served). Served
# again, its line would name the other user's uid in getpwuid answers and
# its groups would follow that name.
dir2=$tmp/data2
mkdir -m 0755 "$dir2"
printf '{"version":1,"next_id":70010,"policy":{"uid_min":70000,"uid_max":70099,"expire_days":0},"accounts":[%s,%s],"groups":[]}\n' \
    "$(acc 'openid:https://idp.example s-7' daemon 70007 locked '')" \
    "$(acc 'openid:https://idp.example s-8' sudo 70008 locked '')" >"$dir2/ledger.json"
chmod 0600 "$dir2/ledger.json"
for taken in daemon sudo; do
    out=$("$users" --dir "$dir2" unlock "$taken" 2>&1); rc=$?
    served=$(cat "$dir2/passwd" "$dir2/group" 2>/dev/null | grep -c "^$taken:")
    check_is "$rc:$served" "1:0" \
        "unlock of $taken, a name a user or group of the host took meanwhile: refused, not served" "$out"
done

# ---------------------------------------------------------------- refusals
cp -p "$dir/ledger.json" "$tmp/good.json"
printf '{"version":1,"next_id":70010,"accounts":[' >"$dir/ledger.json"
cp -p "$dir/ledger.json" "$tmp/bad.json"
run list
check_is "$rc" 3 "a ledger that does not parse: list exits 3"
check_says "$out" "... and says which file" "ledger.json" "not changed"
run remove alice
check_is "$rc" 3 "a ledger that does not parse: remove exits 3"
cmp -s "$dir/ledger.json" "$tmp/bad.json"; check $? "the corrupt ledger is left as it was"
cp -p "$tmp/good.json" "$dir/ledger.json"
chmod 0777 "$dir"
run list
check_is "$rc" 3 "a world-writable data directory: exit 3"
chmod 0755 "$dir"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$users" --dir "$dir" list 2>&1)
rc=$?
check_is "$rc" 3 "as nobody: exit 3"
check_says "$out" "as nobody: says it must be run as root" "must be run as root"
finish
