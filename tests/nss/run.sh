#!/bin/bash
# The NSS module (libnss_ssooidc.so.2) inside the real glibc, untouched, on
# this host (TAP): getent, id and a threaded getpwnam_r program look names
# up with nsswitch.conf saying "passwd: files ssooidc" and "group: files
# ssooidc", against data files written here, good and hostile.
#
# Nothing of the host changes: everything happens in a private mount
# namespace (unshare -m) where a temporary nsswitch.conf is bind-mounted
# over /etc/nsswitch.conf, the built library is added to
# /usr/lib/<multiarch> by a read-only overlay (the original directory below
# it), and a temporary data directory is bind-mounted on SSO_DATA_DIR
# (/var/lib/pam_ssooidc, made to exist inside the namespace by another
# overlay, on /var/lib). Afterwards the host's library directory and
# nsswitch.conf are checked to be as they were. Runs under
# /tmp/sso-system.lock, like the other suites that touch the system.
# Needs root and `make all tools` (build/nss/, build/tools/nss_threads*).
#
#   tests/nss/run.sh            the suite
#   tests/nss/run.sh --inside   (internal: the part run in the namespace)
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
. tests/tap.sh

MA=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
LIBDIR=/usr/lib/$MA
DATA=/var/lib/pam_ssooidc
LIB=$ROOT/build/nss/libnss_ssooidc.so.2
ASAN_LIB=$ROOT/build/nss/asan/libnss_ssooidc.so.2
THREADS=$ROOT/build/tools/nss_threads
THREADS_ASAN=$ROOT/build/tools/nss_threads_asan
PROVISION=$ROOT/build/tools/provision_drive
USERS=$ROOT/pam_ssooidc/pam_ssooidc_users
RANGE="uid_range=65536-99999"

# ------------------------------------------------------------ outside
if [ "${1:-}" != --inside ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP needs root (mount namespaces)"
        exit 0
    fi
    need_tools unshare flock getent mount
    for f in "$LIB" "$ASAN_LIB" "$THREADS" "$THREADS_ASAN" "$PROVISION" "$USERS"; do
        [ -e "$f" ] || { echo "Bail out! $f missing: make all tools"; exit 1; }
    done
    state=$(mktemp -d /tmp/nss-suite.XXXXXX)
    trap 'rm -rf "$state"' EXIT
    lib_before=$([ -e "$LIBDIR/libnss_ssooidc.so.2" ] && echo present || echo absent)
    data_before=$([ -e "$DATA" ] && echo present || echo absent)
    sum_before=$(sha256sum </etc/nsswitch.conf)
    # The namespace's part prints its own TAP lines and leaves its count.
    flock /tmp/sso-system.lock unshare -m --propagation private \
        "$0" --inside "$state" "$lib_before"
    rc=$?
    n=$(cat "$state/count" 2>/dev/null || echo 0)
    failed=$(cat "$state/failed" 2>/dev/null || echo 1)
    check_is "$rc" 0 "the namespace part ran to its end"
    check_is "$(sha256sum </etc/nsswitch.conf)" "$sum_before" \
        "the host's /etc/nsswitch.conf is unchanged"
    if [ "$lib_before" = absent ]; then
        [ ! -e "$LIBDIR/libnss_ssooidc.so.2" ]
        check $? "the host's $LIBDIR has no libnss_ssooidc.so.2 afterwards"
    else
        skip "the host's $LIBDIR has no libnss_ssooidc.so.2 afterwards" "installed on this host"
    fi
    check_is "$([ -e "$DATA" ] && echo present || echo absent)" "$data_before" \
        "the host's $DATA is as it was ($data_before)"
    mounts=$(grep -E " ($LIBDIR|/etc/nsswitch.conf|/var/lib|$DATA) " /proc/self/mountinfo)
    [ -z "$mounts" ]
    check $? "no mount of the test is left in the host's namespace" "$mounts"
    finish
fi

# ------------------------------------------------------------ inside
state=$2 lib_before=$3
T=
save_state() {
    echo "$n" >"$state/count"
    echo "$failed" >"$state/failed"
    [ -n "$T" ] && rm -rf "$T"
}
trap save_state EXIT
mount --make-rprivate / || { echo "Bail out! mount --make-rprivate / failed"; exit 1; }
T=$(mktemp -d /tmp/nss-test.XXXXXX)
chmod 0755 "$T"
mkdir -p "$T/lib" "$T/asanlib" "$T/varlib/pam_ssooidc" "$T/data" "$T/spare"
chmod 0755 "$T/varlib" "$T/varlib/pam_ssooidc" "$T/data"
cp "$LIB" "$T/lib/"
cp "$ASAN_LIB" "$T/asanlib/"
{
    printf 'passwd: files ssooidc\ngroup: files ssooidc\n'
    grep -vE '^(passwd|group):' /etc/nsswitch.conf
} >"$T/nsswitch.conf"
chmod 0644 "$T/nsswitch.conf"
mount --bind "$T/nsswitch.conf" /etc/nsswitch.conf || { echo "Bail out! bind nsswitch.conf"; exit 1; }
if [ ! -d "$DATA" ]; then
    mount -t overlay overlay -o "lowerdir=$T/varlib:/var/lib" /var/lib ||
        { echo "Bail out! overlay on /var/lib"; exit 1; }
fi
mount --bind "$T/data" "$DATA" || { echo "Bail out! bind $DATA"; exit 1; }

# A local group (from /etc/group) among alice's: sudo's, as an
# administrator's group_map would give.
LOCAL_GROUP=sudo
getent -s files group sudo >/dev/null || LOCAL_GROUP=users
SUDO_GID=$(getent -s files group "$LOCAL_GROUP" | cut -d: -f3)

# put FILE CONTENT: write a data file as the writer does (temp file, rename),
# root's, 0644.
put() {
    local tmp="$T/data/.$1.tmp"
    printf '%s' "$2" >"$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$T/data/$1"
}
PW_HEAD="# pam_ssooidc passwd 1 $RANGE"
GR_HEAD="# pam_ssooidc group 1 $RANGE"
ALICE="alice:*:65536:65536:alice (via pam_ssooidc):/home/alice:/bin/bash"
BOB="bob:*:65538:65538:bob:/home/bob:/bin/sh"
ZOE="zoe:*:65550:65550:zoe:/home/zoe:/bin/sh"
GOOD_PW="$PW_HEAD
$ALICE:0:65537,$SUDO_GID
evil:*:0:0:root twin:/root:/bin/sh:0
carol:*:65539:65539:carol:/home/carol:/bin/sh:1:
dave:*:65540:65540:dave:/home/dave:/bin/sh:0:0,$SUDO_GID
eve:*:100000:100000:eve:/home/eve:/bin/sh:0
Frank:*:65541:65541:frank:/home/frank:/bin/sh:0
gina:*:65542:65543:gina:/home/gina:/bin/sh:0
$BOB:0
hugo:*:65544:65544:hugo:/home/hugo:/bin/sh:0
ivan:*:65547:65547:ivan:/home/ivan:/bin/sh
$ZOE:0:
"
GOOD_GR="$GR_HEAD
alice:x:65536::0
devs:x:65537:alice,bob:0
wheel0:x:0:alice:0
old:x:65545::1
bad:x:65546:alice,Root:0
ops:x:100001::0
bob:x:65538::0
zoe:x:65550::0
"
good_files() {
    put passwd "$GOOD_PW"
    put group "$GOOD_GR"
    chmod 0755 "$T/data"
    chown 0:0 "$T/data"
}

# ---- no library yet: a service named in nsswitch.conf whose library is
# missing is passed over (the package removed, the line left behind).
good_files
out=$(getent passwd root); rc=$?
check_is "$rc:$out" "0:$(grep '^root:' /etc/passwd)" \
    "no library installed: getent passwd root still answers from files"
getent passwd alice >/dev/null; rc=$?
check_is "$rc" 2 "no library installed: getent passwd alice is not found (exit 2), no error"
id root >/dev/null 2>&1
check $? "no library installed: id root works"

# ---- the library, through a read-only overlay on the library directory.
mount -t overlay overlay -o "lowerdir=$T/lib:$LIBDIR" "$LIBDIR" ||
    { echo "Bail out! overlay on $LIBDIR"; exit 1; }

out=$(getent passwd alice); rc=$?
check_is "$rc:$out" "0:$ALICE" "getent passwd alice"
out=$(getent passwd 65536); rc=$?
check_is "$rc:$out" "0:$ALICE" "getent passwd 65536"
out=$(getent group alice); rc=$?
check_is "$rc:$out" "0:alice:x:65536:" "getent group alice (the personal group)"
out=$(getent group devs); rc=$?
check_is "$rc:$out" "0:devs:x:65537:alice,bob" "getent group devs (members)"
out=$(getent group 65537); rc=$?
check_is "$rc:$out" "0:devs:x:65537:alice,bob" "getent group 65537"
out=$(getent passwd root); rc=$?
check_is "$rc:$out" "0:$(grep '^root:' /etc/passwd)" "getent passwd root: files answers as before"
out=$(getent passwd bob zoe); rc=$?
check_is "$rc:$out" "0:$BOB
$ZOE" "good lines after skipped ones are served (bob, zoe)"

# Other suites add and remove users on the host meanwhile (useradd), so
# files' part is not compared with a list taken earlier: the served lines
# come last, in order, and none of them among files' lines before.
SERVED_NAMES='^(alice|bob|hugo|zoe|ivan|carol|dave|eve|gina|devs|old|ops|bad):'
all_pw=$(getent passwd); rc=$?
check_is "$rc:$(printf '%s\n' "$all_pw" | tail -n 4)" "0:$ALICE
$BOB
hugo:*:65544:65544:hugo:/home/hugo:/bin/sh
$ZOE" "getent passwd lists files' entries, then the served ones (alice, bob, hugo, zoe) only"
check_is "$(printf '%s\n' "$all_pw" | head -n -4 | grep -cE "$SERVED_NAMES")" 0 \
    "getent passwd: no served line among files' entries"
all_gr=$(getent group); rc=$?
check_is "$rc:$(printf '%s\n' "$all_gr" | tail -n 4)" "0:alice:x:65536:
devs:x:65537:alice,bob
bob:x:65538:
zoe:x:65550:" "getent group lists files' groups, then the served ones"

check_is "$(id -u alice):$(id -g alice)" "65536:65536" "id: alice's uid and personal group"
check_is "$(id -G alice | tr ' ' '\n' | sort -n | tr '\n' ' ')" \
    "$(printf '%s\n' 65536 65537 "$SUDO_GID" | sort -n | tr '\n' ' ')" \
    "id -G alice: the personal group, devs and the local sudo group (gid $SUDO_GID)"
out=$(id alice)
check_says "$out" "id alice names the groups" "uid=65536(alice)" "gid=65536(alice)" \
    "$SUDO_GID($LOCAL_GROUP)" "65537(devs)"
check_is "$(id -G bob)" "65538" "id -G bob: the personal group only"

for who in carol:expired evil:uid-0 dave:"gid 0 among the groups" eve:"out of the range" \
           Frank:"bad name" gina:"gid not the uid" ivan:"seven fields" \
           hugo:"eight fields, no groups: served"; do
    name=${who%%:*} why=${who#*:}
    getent passwd "$name" >/dev/null; rc=$?
    if [ "$name" = hugo ]; then
        check_is "$rc" 0 "getent passwd hugo (eight fields: no groups) is served"
    else
        check_is "$rc" 2 "getent passwd $name ($why) is not served (exit 2)"
    fi
done
for g in wheel0 old bad ops; do
    getent group "$g" >/dev/null; rc=$?
    check_is "$rc" 2 "getent group $g (gid 0 / expired / bad member / out of range) is not served"
done
getent passwd 0 | grep -q '^root:'
check $? "getent passwd 0 is root from files, never the uid-0 line"
getent passwd 100000 >/dev/null; rc=$?
check_is "$rc" 2 "getent passwd 100000 (outside the header's range) not found"

# ---- hostile files and directories: "not found", never a crash or a hang.
# hostile DESCRIPTION: alice and devs are not found, enumeration ends with
# files' entries alone, root still answers; each under a timeout (a FIFO
# must not make anything wait).
hostile() {
    local desc=$1 rc1 rc2 rc3 out
    timeout 20 getent passwd alice >/dev/null 2>&1; rc1=$?
    timeout 20 getent group devs >/dev/null 2>&1; rc2=$?
    out=$(timeout 20 getent passwd 2>&1); rc3=$?
    timeout 20 id alice >/dev/null 2>&1
    check_is "$rc1:$rc2:$rc3:$(printf '%s\n' "$out" | grep -cE "$SERVED_NAMES")" "2:2:0:0" \
        "$desc: alice and devs not found, enumeration is files' alone"
}
reset_data() {
    rm -rf "${T:?}/data/"* "$T/data/".[!.]* 2>/dev/null
    good_files
}

reset_data; chown 1 "$T/data/passwd"; chown 1 "$T/data/group"
hostile "files not owned by root"
reset_data; chmod 0664 "$T/data/passwd" "$T/data/group"
hostile "group-writable files"
reset_data; chmod 0646 "$T/data/passwd" "$T/data/group"
hostile "world-writable files"
reset_data; put_spare() { printf '%s' "$2" >"$T/spare/$1"; chmod 0644 "$T/spare/$1"; }
put_spare passwd "$GOOD_PW"; put_spare group "$GOOD_GR"
rm -f "$T/data/passwd" "$T/data/group"
ln -s "$T/spare/passwd" "$T/data/passwd"; ln -s "$T/spare/group" "$T/data/group"
hostile "files that are symbolic links (to good files)"
reset_data; rm -f "$T/data/passwd" "$T/data/group"
mkfifo -m 0644 "$T/data/passwd" "$T/data/group"
hostile "FIFOs in place of the files (O_NONBLOCK: no hang)"
reset_data; rm -f "$T/data/passwd" "$T/data/group"
mkdir -m 0755 "$T/data/passwd" "$T/data/group"
hostile "directories in place of the files"
reset_data; head -c 65536 /dev/urandom >"$T/data/passwd"; head -c 65536 /dev/urandom >"$T/data/group"
hostile "random binary files"
reset_data
{ echo "$PW_HEAD"; head -c 8192 /dev/urandom | tr '\n' x; echo "alice:*:65536:65536::/h:/bin/sh:0"; } \
    >"$T/data/passwd"
{ echo "$GR_HEAD"; head -c 20000 /dev/zero; echo "devs:x:65537::0"; } >"$T/data/group"
hostile "a header, then a binary or NUL-filled overlong line holding alice"
reset_data; put passwd "${GOOD_PW#*
}"; put group "${GOOD_GR#*
}"
hostile "files without the header line"
reset_data; put passwd "# pam_ssooidc passwd 1 uid_range=0-99999
$ALICE:0:
"; put group "# pam_ssooidc group 1 uid_range=500-99999
devs:x:65537::0
"
hostile "headers naming a range outside 1000-2147483647"
reset_data; put passwd "# pam_ssooidc group 1 $RANGE
$ALICE:0:
"; put group "# pam_ssooidc passwd 1 $RANGE
devs:x:65537::0
"
hostile "each file with the other's header"
reset_data; put passwd "$PW_HEAD
$ALICE:0:"; put group "$GR_HEAD
devs:x:65537::0"
hostile "a last line cut short (no newline)"
reset_data; truncate -s 65M "$T/data/passwd" "$T/data/group"
hostile "files larger than 64 MiB (sparse, good lines first)"
reset_data; rm -f "$T/data/passwd" "$T/data/group"
hostile "no files at all"
reset_data; chmod 0777 "$T/data"
hostile "a world-writable data directory"
reset_data; chmod 0775 "$T/data"
hostile "a group-writable data directory"
reset_data; chown 1 "$T/data"
hostile "a data directory not owned by root"
reset_data
getent passwd alice >/dev/null
check $? "good files again: alice served (the hostile cases failed for their reason)"

# ---- a file replaced by rename in a tight loop while lookups run: every
# answer is the old entry or the new one.
OLD="alice:*:65536:65536:old:/home/alice:/bin/bash"
NEW="alice:*:65536:65536:new:/home/alice:/bin/zsh"
put passwd "$PW_HEAD
$OLD:0:
"
(
    umask 022 # the files are made 0644, as the module writes them
    i=0
    while [ ! -e "$T/stop" ]; do
        if [ $((i % 2)) = 0 ]; then line=$OLD; else line=$NEW; fi
        printf '%s\n%s:0:\n' "$PW_HEAD" "$line" >"$T/data/.pw.$i"
        mv -f "$T/data/.pw.$i" "$T/data/passwd"
        i=$((i + 1))
    done
    echo "$i" >"$T/renames"
) &
writer=$!
bad=0 olds=0 news=0 crashes=0
for _ in $(seq 800); do
    out=$(getent passwd alice); rc=$?
    case "$rc:$out" in
    "0:$OLD") olds=$((olds + 1)) ;;
    "0:$NEW") news=$((news + 1)) ;;
    *) bad=$((bad + 1)); [ "$rc" -ge 128 ] && crashes=$((crashes + 1)); echo "# exit $rc: $out" ;;
    esac
done
touch "$T/stop"; wait "$writer"
check_is "$bad:$crashes" "0:0" \
    "800 lookups while the file is renamed over $(cat "$T/renames") times: each the old or the new entry ($olds old, $news new)"

# In place (truncated and rewritten, never done by the writer): found or
# not found, never a crash (no mmap: no SIGBUS).
rm -f "$T/stop"
(
    while [ ! -e "$T/stop" ]; do
        : >"$T/data/passwd"
        printf '%s\n%s:0:\n' "$PW_HEAD" "$OLD" >"$T/data/passwd"
    done
) &
writer=$!
bad=0
for _ in $(seq 300); do
    out=$(getent passwd alice); rc=$?
    case "$rc:$out" in "0:$OLD" | 2:) ;; *) bad=$((bad + 1)) ;; esac
done
touch "$T/stop"; wait "$writer"
check_is "$bad" 0 "300 lookups while the file is truncated and rewritten in place: found or not, never a crash"

# ---- many threads, tiny buffers: ERANGE, then a retry that succeeds.
reset_data
out=$("$THREADS" 8 200 alice 65536 /home/alice devs 65537 alice,bob 2>&1); rc=$?
check_is "$rc" 0 "getpwnam_r/getpwuid_r/getgrnam_r/getgrgid_r in 8 threads, tiny buffers: ERANGE then right" "$out"
echo "# $out"

# Enumeration from 1-byte buffers: each ERANGE keeps the position, so the
# walk lists exactly what getent lists.
out=$("$THREADS" --enumerate 2>&1); rc=$?
check_is "$rc:$out" "0:$(getent passwd | cut -d: -f1)
--
$(getent group | cut -d: -f1)" "getpwent_r/getgrent_r from 1-byte buffers: ERANGE, then every entry once, in order"

# The same (lookups and enumeration) with the ASan+UBSan library, loaded by
# an ASan-built program
# (a further overlay, in a nested namespace, puts it above the plain one).
out=$(unshare -m --propagation private sh -c '
    mount -t overlay overlay -o "lowerdir=$1:$2" "$2" || exit 99
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$3" 8 100 alice 65536 /home/alice devs 65537 alice,bob && "$3" --enumerate' sh \
    "$T/asanlib" "$LIBDIR" "$THREADS_ASAN" 2>&1); rc=$?
unshare -m --propagation private sh -c '
    mount -t overlay overlay -o "lowerdir=$1:$2" "$2" && cmp -s "$2/libnss_ssooidc.so.2" "$3"' sh \
    "$T/asanlib" "$LIBDIR" "$ASAN_LIB"; loaded=$?
[ "$rc" = 0 ] && [ "$loaded" = 0 ] && ! printf '%s' "$out" | grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error'
check $? "the threads and the enumeration with the ASan+UBSan library: no sanitizer report" "$out"

# ---- a name both files and this module serve (a local user made while the
# module's account of that name was locked, then unlocked; a system user
# made later): getpwnam answers files' user, and initgroups for that user
# must not hand it the supplementary groups of the module's line.
LOCAL_USER=daemon
LOCAL_GID=$(getent -s files passwd "$LOCAL_USER" | cut -d: -f4)
put passwd "$PW_HEAD
$LOCAL_USER:*:65560:65560:twin:/home/twin:/bin/sh:0:65537
"
put group "$GOOD_GR"
check_is "$(getent passwd "$LOCAL_USER" | cut -d: -f3)" "$(getent -s files passwd "$LOCAL_USER" | cut -d: -f3)" \
    "getent passwd $LOCAL_USER: files' user"
check_is "$(id -G "$LOCAL_USER" | tr ' ' '\n' | grep -cx 65537)" 0 \
    "id -G $LOCAL_USER (files' user, gid $LOCAL_GID): not given the groups of the module's line of that name"

# ---- the writer and the reader together: provisioning steps (the approver
# taken as proven, provision_drive) against an empty data directory, the
# answers through glibc and this library.
rm -rf "${T:?}/data/"* "$T/data/".[!.]* 2>/dev/null
mkdir -m 0755 "$T/home"
prov() { "$PROVISION" -h "$T/home" "$@" 2>&1; }
KEY_P="openid:https://idp.test p-sub" KEY_A="openid:https://idp.test a-sub"
KEY_B="openid:https://idp.test b-sub"
# A group of the host that is no user's name: sudo's on Debian.
HOST_GROUP=
for g in sudo adm staff users plugdev; do
    if getent -s files group "$g" >/dev/null && ! getent -s files passwd "$g" >/dev/null; then
        HOST_GROUP=$g
        break
    fi
done
out=$(prov ssorevp "$KEY_P")
check_says "$out" "provisioning: ssorevp is made" "outcome=created"
# A person renamed at the provider to the name of a host group (sudo):
# their record would be renamed into it, their personal group named like
# the host's, and sudo, which matches %group by name, would take them for
# a member.
out=$(prov "$HOST_GROUP" "$KEY_P")
pw=$(getent passwd "$HOST_GROUP")
check_is "$pw:$("$USERS" show ssorevp >/dev/null 2>&1; echo $?)" ":0" \
    "a person renamed at the provider to $HOST_GROUP (a host group, no user): not renamed into it" "$out"
check_is "$(getent group 65536 | cut -d: -f1)" "ssorevp" "gid 65536 is still named ssorevp, not $HOST_GROUP"
# ... or to the name of a group the ledger made: the ledger would hold the
# name twice and be refused from then on, every new account with it.
out=$(prov -m "pg ssorevg" ssoreva "$KEY_A" pg)
check_says "$out" "provisioning: ssoreva is made, and the group ssorevg with it" "outcome=created"
out=$(prov ssorevb "$KEY_B")
check_says "$out" "provisioning: ssorevb is made" "outcome=created"
out=$(prov ssorevg "$KEY_B")
"$USERS" list >/dev/null 2>&1; rc=$?
check_is "$rc:$(getent group ssorevg | cut -d: -f4)" "0:ssoreva" \
    "a person renamed at the provider to ssorevg (a group the ledger made): refused, the ledger still reads" "$out"

# A crash between the renames of a commit leaves passwd older than the
# ledger: a person renamed at the provider (ssorevx to ssorevy) whose old
# line is still served. Someone else whose approval maps to the old name
# must not be let into that uid as if it were a local account.
KEY_X="openid:https://idp.test x-sub" KEY_N="openid:https://idp.test newcomer-sub"
out=$(prov ssorevx "$KEY_X")
check_says "$out" "provisioning: ssorevx is made" "outcome=created"
cp -p "$T/data/passwd" "$T/passwd.before"
out=$(prov ssorevy "$KEY_X")
check_says "$out" "provisioning: ssorevx renamed at the provider to ssorevy" "outcome=renewed"
cp -p "$T/passwd.before" "$T/data/passwd.crash" && mv -f "$T/data/passwd.crash" "$T/data/passwd"
old_uid=$(getent passwd ssorevx | cut -d: -f3)
out=$(prov ssorevx "$KEY_N")
check_says "$out" "another person mapped to ssorevx, still served from a passwd older than the ledger (uid $old_uid): refused" "rc=7"

# The mounts go with the namespace; the bind of the data directory first,
# so that removing the scratch files cannot reach through it.
umount -l "$DATA" "$LIBDIR" /etc/nsswitch.conf 2>/dev/null
exit 0
