#!/bin/bash
# The SELinux policy module (TAP): selinux/pam_ssooidc.te compiles with
# checkmodule and packages with semodule_package (what `make selinux` does
# and the RPM's -selinux subpackage ships), its file contexts cover the
# module's default paths with types the module declares, and the rules give
# each of the login, sudo and su domains what the module does at login.
# It is compiled here, never loaded: no SELinux kernel or policy store is
# involved (docs/selinux.md).
#
#   tests/selinux/test_selinux.sh
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

# shellcheck source=../tap.sh
. tests/tap.sh

need_tools checkmodule semodule_package semodule_unpackage make python3
tmp=$(mktemp -d /tmp/selinux-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
te=selinux/pam_ssooidc.te fc=selinux/pam_ssooidc.fc

# ------------------------------------------------------------- compile
out=$(make --no-print-directory BUILD="$tmp/build" selinux 2>&1)
rc=$?
pp="$tmp/build/selinux/pam_ssooidc.pp"
[ "$rc" -eq 0 ] && [ -s "$pp" ]
check $? "make selinux: checkmodule -M -m and semodule_package build pam_ssooidc.pp" "$out" || finish
noise=$(printf '%s\n' "$out" | grep -vE '^(checkmodule|semodule_package) ' | grep -v '^$')
[ -z "$noise" ]
check $? "checkmodule and semodule_package print no warning" "$noise"
(cd "$tmp" && semodule_unpackage "$pp" un.mod un.fc) && cmp -s "$tmp/un.fc" "$fc" &&
    cmp -s "$tmp/un.mod" "$tmp/build/selinux/pam_ssooidc.mod"
check $? "the .pp holds the compiled module and selinux/pam_ssooidc.fc (semodule_unpackage)"
grep -qE '^module pam_ssooidc [0-9]+\.[0-9]+\.[0-9]+;$' "$te"
check $? "module name pam_ssooidc (the name semodule -r uses in the RPM's %postun)"

# The compile checks have teeth: a rule naming a type the module neither
# declares nor requires is refused.
sed 's/^\ttype cert_t;$//' "$te" >"$tmp/broken.te"
out=$(cd "$tmp" && checkmodule -M -m -o pam_ssooidc.mod broken.te 2>&1)
[ $? -ne 0 ] && printf '%s\n' "$out" | grep -q cert_t
check $? "(control) with 'type cert_t;' taken out of the require block, checkmodule refuses it" "$out"

# ------------------------------------------------------- file contexts
declared=$(sed -n 's/^type \([a-z_]*\);$/\1/p' "$te" | sort -u | tr '\n' ' ')
used=$(grep -v '^#' "$fc" | grep -oE 'object_r:[a-z_]+:' | sed 's/object_r://; s/:$//' | sort -u | tr '\n' ' ')
missing=$(for t in $used; do case " $declared " in *" $t "*) ;; *) echo "$t" ;; esac; done)
[ -n "$used" ] && [ -z "$missing" ]
check $? "every type in the .fc ($used) is declared in the .te" "not declared: $missing"
grep -v '^#' "$fc" | grep -E '\S' | grep -vE ':s0$'
[ $? -ne 0 ]
check $? "every context has an MLS/MCS level (s0), as targeted policy needs"
# The module's compiled-in defaults, from config.h, must be labelled.
out=$(python3 - "$fc" pam_ssooidc/core/config.h <<'PY'
import re, sys
fc = [l.split() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
h = open(sys.argv[2]).read()
conf = re.search(r'#define CFG_DEFAULT_FILE "([^"]+)"', h).group(1)
cache = re.search(r'#define CFG_DEFAULT_CACHE_DIR "([^"]+)"', h).group(1)
def label(path):
    for e in fc:
        if re.fullmatch(e[0], path):
            return e[-1].split(":")[2]
    return None
want = {cache: "pam_ssooidc_cache_t", cache + "/reg-0123.json": "pam_ssooidc_cache_t",
        conf: "pam_ssooidc_conf_t", "/etc/security/pam_ssooidc.users": "pam_ssooidc_conf_t",
        "/etc/security/limits.conf": None, "/var/cache/pam_ssooidc2": None}
bad = ["%s: %s, expected %s" % (p, label(p), t) for p, t in want.items() if label(p) != t]
print("\n".join(bad) or "ok: " + ", ".join(want))
sys.exit(1 if bad else 0)
PY
)
check $? "the .fc labels config.h's defaults (cache dir and files in it, config, user map) and nothing beside them" "$out"

# ----------------------------------------------------------- the rules
# For each domain set: HTTPS, DNS, the trust store, the config, the cache.
for dom in login_pgm sudodomain su_domain_type; do
    missing=""
    for rule in "allow $dom http_port_t:tcp_socket name_connect;" \
        "allow $dom dns_port_t:tcp_socket name_connect;" \
        "allow $dom net_conf_t:file { getattr open read };" \
        "allow $dom cert_t:file { getattr open read };" \
        "allow $dom pam_ssooidc_conf_t:file { getattr open read };" \
        "allow $dom pam_ssooidc_cache_t:dir { getattr setattr open read search write add_name remove_name };" \
        "allow $dom pam_ssooidc_cache_t:file { create getattr setattr open read write lock rename unlink };"; do
        grep -qF -- "$rule" "$te" || missing="$missing
$rule"
    done
    [ -z "$missing" ]
    check $? "$dom may connect to HTTPS and DNS, read the trust store and config, and use the cache" \
        "missing:$missing"
done
for dom in sudodomain su_domain_type; do
    awk -v d="$dom" '/^optional \{/ {o = 1} o && $0 ~ "attribute " d ";" {found = 1} /^\}/ {o = 0} END {exit !found}' "$te"
    check $? "$dom is required inside an optional block (a policy without it still loads the module)"
done
! grep -qE '^(allow|type_transition).*(shadow_t|self:capability|unconfined)' "$te"
check $? "no rule on shadow_t, capabilities or unconfined domains"

finish
