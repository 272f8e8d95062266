#!/bin/bash
# The build and test machinery itself: the runner runs suites by name and
# refuses unknown ones, suites are declared only in tests/suites.d/, make
# help names every target, the versions agree, make dist packs the tracked
# files, and nothing points outside the repository (TAP).
cd "$(dirname "$0")/.." || exit 1
. tests/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

names=$(tests/run_all.sh --list)
dups=$(printf '%s\n' "$names" | sort | uniq -d)
missing=""
for s in unit exported-symbols includes standin-botocore module module-asan \
         module-valgrind module-oidc-valgrind module-oidc e2e-sshd package rpm; do
    printf '%s\n' "$names" | grep -qx -- "$s" || missing="$missing $s"
done
[ -n "$names" ] && [ -z "$dups" ] && [ -z "$missing" ]
check $? "run_all.sh --list names every suite once" "duplicates: $dups; missing:$missing"

first=$(printf '%s\n' "$names" | head -n 2 | tr '\n' ' ')
[ "$first" = "module-valgrind module-oidc-valgrind " ]
check $? "the valgrind suites are declared first (they start in the background)" "first: $first"

out=$(tests/run_all.sh --list includes unit)
[ "$out" = "unit
includes" ]
check $? "run_all.sh --list NAME... prints those names, in run order" "$out"

tests/run_all.sh unit no-such-suite >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q 'no such suite: no-such-suite' "$tmp/err" &&
    grep -q 'exported-symbols' "$tmp/err" && ! grep -q '^===' "$tmp/out"
check $? "an unknown suite name fails at once (status 2), listing the valid names" \
    "status $rc; $(cat "$tmp/err" "$tmp/out")"

inline=$(grep -nE '^[[:space:]]*suite(_background)?[[:space:]]+[a-z]' tests/run_all.sh)
[ -z "$inline" ]
check $? "run_all.sh declares no suite itself (tests/suites.d/ does)" "$inline"

make -s check SUITES=no-such-suite >"$tmp/out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q 'no such suite' "$tmp/out" && ! grep -q 'cc ' "$tmp/out"
check $? "make check SUITES= with an unknown name fails before building" "$(cat "$tmp/out")"

phony=$(make -qp 2>/dev/null | sed -n 's/^\.PHONY: //p' | tr ' ' '\n' | sort -u)
help=$(make -s help)
unlisted=""
for t in $phony; do
    printf '%s\n' "$help" | grep -qE "^  $t( |\$)" || unlisted="$unlisted $t"
done
[ -n "$phony" ] && [ -z "$unlisted" ]
check $? "make help lists every target" "not listed:$unlisted"

make -s version-check >"$tmp/out" 2>&1
check $? "the spec and debian/changelog say the Makefile's VERSION" "$(cat "$tmp/out")"
! make -s version-check VERSION=0.0.0-not-this >/dev/null 2>&1
check $? "version-check fails on a version they do not say"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile)
    make -s dist BUILD="$tmp/b" >"$tmp/out" 2>&1
    rc=$?
    tarball="$tmp/b/dist/pam_ssooidc-$version.tar.gz"
    if [ "$rc" -eq 0 ] && [ -f "$tarball" ]; then
        tar -tzf "$tarball" | grep -v '/$' | sed "s|^pam_ssooidc-$version/||" | LC_ALL=C sort >"$tmp/in-tar"
        git ls-files | grep -v '^\.\|^debian/' | while read -r f; do [ -e "$f" ] && echo "$f"; done |
            LC_ALL=C sort >"$tmp/tracked"
        diff "$tmp/tracked" "$tmp/in-tar" >"$tmp/diff"
        check $? "make dist packs the tracked files (less .ci/, .gitignore, debian/) in pam_ssooidc-$version/" \
            "$(head -n 20 "$tmp/diff")"
    else
        check 1 "make dist packs the tracked files" "status $rc: $(tail -n 5 "$tmp/out")"
    fi
    hits=$(git grep -nE '\.\./(s)hared|shared/(t)estdata' -- . ':!build')
    [ -z "$hits" ]
    check $? "no tracked file points at a folder beside the repository" "$hits"
else
    echo "ok $((n + 1)) # SKIP not a git checkout: make dist and the path check"
    n=$((n + 1))
fi
finish
