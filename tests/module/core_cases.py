"""The cases about the module's core behaviour - who may log in as whom,
what an unknown user costs, what the person is shown, that nothing secret
leaks - written once and run against each provider (runner.Provider: the
AWS suite, test_module.py, and the OpenID one, test_module_oidc.py)."""
import os
import re

from harness import check_complete_uri_cases, forgiving_name_lookup
from runner import AUTH_ERR, MSG, OK, USER_UNKNOWN, Cases

CORE = Cases()

# An ID token (or any JWS): a header and a payload, both JSON. Key material
# in a cached JWKS may hold "eyJ" by chance; this it does not.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")


def flow_started(c, r, name):
    start = list(c.provider.flow_start)
    return c.check(c.ops()[:len(start)] == start, name, r, str(c.ops()))


def refused_unasked(c, user, rows):
    """Each row (approver, stanza options, name, short name, reason): the
    login as `user` is refused before anything is sent, said in the reason,
    no code shown."""
    for approver, options, name, short, reason in rows:
        r = c.approved_by(approver, user, c.options(**options))
        c.expect(r, AUTH_ERR, name, reason=reason, shown=False)
        c.nothing_sent_past(r, short)


@CORE.memcheck
def root_only_through_user_map(c):
    """No rule but a user_map line naming root can admit it, so a login as
    root without one is refused before anything is sent (discovery
    included): the name costs a stranger's target nothing."""
    other = c.map_file("alice_map", "ops.lead alice\n# ops.lead root\n")
    needs_map = "user_map line naming it"
    refused_unasked(c, "root", [
        ("root", {}, "approver 'root' for local root, exact-name rule",
         "root, exact-name rule", ["uid 0", needs_map]),
        ("root@example.com", {"username_suffix": "@example.com"},
         "root@example.com for local root, username_suffix", "root, username_suffix", needs_map),
        ("ops.lead", {"user_map": other}, "root with a user_map that names root only in a "
         "comment", "root, named only in a comment", needs_map)])
    path = c.map_file("root_map", "ops.lead root\n")
    r = c.approved_by("ops.lead", "root", c.options(user_map=path))
    c.expect(r, OK, "an explicit user_map line admits root")
    r = c.approved_by("mallory", "root", c.options(user_map=path))
    c.expect(r, AUTH_ERR, "with a line for root, another approver", case="wrong",
             reason="does not map to local user root")
    flow_started(c, r, "... the flow started, and the mapping refused the approver")


@CORE.memcheck
def system_accounts_only_through_user_map(c):
    """A provider user who may choose their own name must not become a
    system account (uid below UID_MIN) by calling themselves 'backup'; and
    without a user_map line naming it nothing is even asked."""
    other = c.map_file("other_map", "ops.backup alice\n")
    refused_unasked(c, "backup", [
        ("backup", {}, "approver 'backup' for local backup (uid 34)", "backup",
         "system account"),
        ("ops.backup", {"user_map": other}, "backup with a user_map that has no line for it",
         "backup, user_map without it", "user_map line naming it")])
    path = c.map_file("backup_map", "ops.backup backup\n")
    r = c.approved_by("ops.backup", "backup", c.options(user_map=path))
    c.expect(r, OK, "an explicit user_map line admits the system account")


@CORE.memcheck
def allow_any_approver_never_root_or_system(c):
    """allow_any_approver maps anybody to anybody, but never to root or a
    system account, and says so before a code is shown."""
    for user in ("root", "backup"):
        c.reset(approve_after_polls=0)
        r = c.login(user, c.options(policy="any"))
        c.expect(r, AUTH_ERR, "allow_any_approver for local " + user, reason="never admits",
                 shown=False)
        c.check(c.provider.flow_start[-1] not in c.ops(),
                "no code was asked for (%s)" % user, r, str(c.ops()))


@CORE.memcheck
def unknown_user(c):
    c.reset(approve_after_polls=0)
    r = c.login("nosuchuser")
    c.check(r.code == USER_UNKNOWN and not any(m in r.everything() for m in MSG.values())
            and (r.outcome or {}).get("result") == USER_UNKNOWN,
            "no such local user -> PAM_USER_UNKNOWN, nothing said to the person", r)
    c.nothing_sent_past(r, "an unknown user")


@CORE.memcheck
def typed_name_must_be_the_accounts_own(c):
    """Where the host's lookup ignores case or resolves aliases (SSSD with
    AD's case_sensitive = false, winbind, LDAP), 'RTVICTIM' finds the account
    rtvictim. The provider user RTVICTIM, typing RTVICTIM, must not be
    admitted because the two spellings match each other: the approver is
    matched against the account the host resolved, and a login under another
    spelling is refused before anything is sent, discovery included."""
    with forgiving_name_lookup(c.host, "rt.alias=rtvictim"):
        for typed, kind in c.sample((("RTVICTIM", "a case variant"), ("rt.alias", "an alias")),
                                    every=1, memcheck=2):
            r = c.approved_by(typed, typed)
            c.expect(r, AUTH_ERR, "%s (%s) approved by %s, resolving to rtvictim"
                     % (typed, kind, typed), case="other_name", reason=[typed, "rtvictim"],
                     shown=False)
            c.nothing_sent_past(r, typed)
            c.check("Log in as rtvictim." in r.everything(),
                    "%s: the person is told to log in as rtvictim" % typed, r)
        # The same account under its own name: the mapping decides as ever.
        r = c.approved_by("rtvictim", "rtvictim")
        c.expect(r, OK, "rtvictim approved by rtvictim, the exact name")
        r = c.approved_by("RTVICTIM", "rtvictim")
        c.expect(r, AUTH_ERR, "rtvictim approved by RTVICTIM (no fold_case)", case="wrong",
                 reason="does not map to local user rtvictim")
        # fold_case: the typed name may differ from the account's in ASCII
        # case only, and the approver is then matched against the account's.
        for approver in c.sample(("alice", "ALICE"), every=1, memcheck=2):
            r = c.approved_by(approver, "Alice", c.options(fold_case=None))
            c.expect(r, OK, "fold_case: Alice for alice, approved by %s" % approver)
        r = c.approved_by("bob", "Alice", c.options(fold_case=None))
        c.expect(r, AUTH_ERR, "fold_case: Alice for alice, approved by bob", case="wrong",
                 reason="does not map to local user alice")
        r = c.approved_by("alice", "Alice")
        c.expect(r, AUTH_ERR, "Alice for alice without fold_case", case="other_name",
                 reason=["Alice", "alice"], shown=False)
        c.nothing_sent_past(r, "Alice without fold_case")
        c.check("Log in as alice." in r.everything(), "... told to log in as alice", r)
        r = c.approved_by("rt.alias", "rt.alias", c.options(fold_case=None))
        c.expect(r, AUTH_ERR, "fold_case does not admit an alias", case="other_name",
                 shown=False)
        c.nothing_sent_past(r, "an alias under fold_case")


@CORE.memcheck
def complete_link_only_on_the_same_origin_with_the_code(c):
    """A verification_uri_complete on another host or port, or without the
    code, is a lookalike link next to the real code: not shown."""
    check_complete_uri_cases(c, c.reset, c.options(debug=None))


@CORE.memcheck
def no_secret_in_any_output(c):
    """Each worker's last case: every output and log of its logins."""
    markers = c.provider.markers
    leaks = [(m, i) for i, o in enumerate(c.outputs) for m in markers if m in o]
    c.check(c.outputs and not leaks, "no secret, token or device code in any output or log "
            "(%d logins checked)" % len(c.outputs), None, str(leaks[:5]))
    if not c.provider.scan_cache:
        return
    found = []
    for root, _, files in os.walk(c.workdir):
        if os.path.basename(root).startswith("cache"):
            for f in files:
                try:
                    with open(os.path.join(root, f), errors="replace") as fh:
                        text = fh.read()
                except OSError:
                    continue
                found += [(f, m) for m in markers if m != "eyJ" and m in text]
                found += [(f, "a JWT") for _ in JWT.finditer(text)]
    c.check(not found, "nothing secret in any cache file", None, str(found[:5]))
