#!/bin/bash
# The arrows of the architecture, kept one way. Every include of our own
# headers names its folder ("core/http.h"), so the rules are plain greps:
#   core/      knows neither provider nor the tools
#   aws/, openid/  know core/ and the seam (provider.h), never each other
#   settings.h, the top-level glue that assembles both providers' parts of
#              the configuration, is included by the module's entry and the
#              tools only (never by core/, aws/ or openid/)
#   the module (everything but cmd/) never includes the tools' code (cmd/)
#   core/ names no fact of AWS (amazonaws, x-amzn-*)
#   nss/ (the NSS module, loaded into every process) includes only nss/
cd "$(dirname "$0")/.." || exit 1
. tests/tap.sh
src=pam_ssooidc

# includes_from DIR PATTERN: the lines in DIR's sources that include PATTERN
includes_from() {
    grep -n "^#[[:space:]]*include[[:space:]]*\"$2" "$src/$1"/*.[ch] 2>/dev/null
}

bare=$(grep -n '^#[[:space:]]*include[[:space:]]*"[^/"]*\.h"' \
    "$src"/core/*.[ch] "$src"/aws/*.[ch] "$src"/openid/*.[ch] "$src"/cmd/*.[ch] "$src"/nss/*.[ch] \
    "$src"/*.[ch] |
    grep -v '"provider\.h"\|"settings\.h"')
[ -z "$bare" ]; check $? "every include of our headers names its folder" "$bare"

for rule in "core aws/" "core openid/" "core cmd/" "aws openid/" "openid aws/" \
            "aws cmd/" "openid cmd/"; do
    set -- $rule
    hits=$(includes_from "$1" "$2")
    [ -z "$hits" ]; check $? "$1/ includes nothing from $2" "$hits"
done
hits=$(grep -n '^#[[:space:]]*include[[:space:]]*"settings\.h"' "$src"/core/*.[ch] \
    "$src"/aws/*.[ch] "$src"/openid/*.[ch])
[ -z "$hits" ]; check $? "core/, aws/ and openid/ include nothing of settings.h" "$hits"
hits=$(grep -n '^#[[:space:]]*include[[:space:]]*"cmd/' "$src"/*.[ch])
[ -z "$hits" ]; check $? "the module's entry and seam include nothing from cmd/" "$hits"
hits=$(grep -rn -i 'amazonaws\|x-amzn' "$src/core")
[ -z "$hits" ]; check $? "core/ names no fact of AWS (amazonaws, x-amzn-*)" "$hits"
hits=$(grep -n '^#[[:space:]]*include[[:space:]]*"' "$src"/nss/*.[ch] | grep -v '"nss/')
[ -z "$hits" ]; check $? "nss/ includes nothing of ours outside nss/" "$hits"
finish
