#!/usr/bin/python3
"""No PAM_SUCCESS on failure, as a property.

Every failure the stand-in can produce (each fault kind on each operation,
and each refusing scenario) is crossed with every identity policy, and each
login's verdict must equal the code this table states for that (row,
policy). Rows expect PAM_SUCCESS only where the failure cannot matter to
the policy (a portal or STS fault under allow_any_approver, which never
calls them; someone else approving under allow_any_approver; control
characters that the module strips); for those the test also checks that
the faulted operation was indeed never called. For every expected failure
it checks that the failure really happened (the fault was served), so a
row cannot pass for the wrong reason.

Logins run in parallel workers, each with its own stand-in (pamtester under
pam_wrapper + nss_wrapper), approve_after_polls=0, a fresh cache per login.

Usage: test_failure_table.py [--jobs N] [--only ROW-ID,...] [--module SO [--asan]]
       test_failure_table.py --markdown     (the table for docs/reliability.md)
Prints TAP."""
import argparse
import os
import queue
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hcommon import ACCOUNT, MODULE, ROLE, ROOT, Tap, World, run_workers  # noqa: E402
import harness  # noqa: E402  (tests/module, on the path via hcommon)
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from connect_proxy import free_port  # noqa: E402

S, AE, AU, SE = "PAM_SUCCESS", "PAM_AUTH_ERR", "PAM_AUTHINFO_UNAVAIL", "PAM_SERVICE_ERR"

# The identity policies, in table column order.
POLICIES = [
    # id, heading, stanza options, the approver this policy admits for alice
    ("any", "allow_any_approver", {"policy": "any"}, "alice"),
    ("exact", "account_id + role_name", {"policy": "identity"}, "alice"),
    ("suffix", "+ username_suffix", {"policy": "identity", "username_suffix": "@example.com"},
     "alice@example.com"),
    ("map", "+ user_map", {"policy": "identity", "user_map": "@MAP@"}, "carol.smith"),
]
USER_MAP = "# sso-name local-name\ncarol.smith alice\nbob bob\n"

OIDC_OPS = ["RegisterClient", "StartDeviceAuthorization", "CreateToken"]
IDENTITY_OPS = ["GetRoleCredentials", "GetCallerIdentity"]
HTTP_TIMEOUT = 2     # for every login: bounds the hang rows
HANG_SECONDS = 3     # the stand-in's hang; > HTTP_TIMEOUT


class Row:
    """One failure. scenario(approver) -> stand-in scenario; opts(world) ->
    extra stanza options; expect: codes in POLICIES order; op/kind name the
    fault (checked to have fired, or not to have been reached)."""

    def __init__(self, rid, category, what, expect, scenario=None, opts=None, op=None,
                 kind=None, why_ok=""):
        self.id, self.category, self.what = rid, category, what
        self.expect = dict(zip([p[0] for p in POLICIES], expect))
        assert len(expect) == len(POLICIES)
        self.scenario = scenario or (lambda approver: {})
        self.opts = opts or (lambda w: {})
        self.op, self.kind, self.why_ok = op, kind, why_ok

    def cost(self):
        """Rough seconds per login, to start the slow ones first."""
        if self.kind == "hang":
            return 3.5
        if self.id.startswith("expires-in"):
            return 2.5
        if self.op in ("RegisterClient", "StartDeviceAuthorization"):
            return 0.4
        return 1.3


def fault(op, kind, **extra):
    f = dict(kind=kind, **extra)
    return lambda approver: {"faults": {op: f}, "approver": approver, "approve_after_polls": 0,
                             "hang_seconds": HANG_SECONDS}


def crafted(rid, what, expect, why_ok="", headers=None, **raw):
    """A row whose operation (the first word of rid) answers exactly as
    given: status (200), headers (JSON) and body."""
    op = rid.split("-", 1)[0]
    return Row(rid, "crafted answer", what, expect,
               scenario=fault(op, "raw", headers=JSON if headers is None else headers, **raw),
               op=op, kind="raw", why_ok=why_ok)


def scen(**kw):
    def build(approver):
        d = {"approver": approver}
        d.update(kw)
        return {k: (v(approver) if callable(v) else v) for k, v in d.items()}
    return build


def dead_endpoint():
    """An https URL on 127.0.0.1 where nothing listens."""
    return "https://127.0.0.1:%d" % free_port()


def arn(account=ACCOUNT, role="AWSReservedSSO_%s_0123456789abcdef" % ROLE, kind="assumed-role"):
    return lambda approver: "arn:aws:sts::%s:%s/%s/%s" % (account, kind, role, approver)


FAULT_KINDS = ["http500", "http503", "html500", "garbage", "illtyped", "huge", "reset",
               "close", "hang", "invalid_client"]


def fault_text(op, kind):
    """What the stand-in answers for this fault on this op."""
    sts = op == "GetCallerIdentity"
    portal = op == "GetRoleCredentials"
    return {
        "http500": "500 XML InternalFailure" if sts else "500 InternalServerException",
        "http503": "503 Service Unavailable, no error type",
        "html500": "500 text/html error page",
        "garbage": "200 with a garbage body",
        "illtyped": ("200 XML without Arn" if sts else
                     "200, roleCredentials is a string" if portal else
                     "200 JSON, right members, wrong types"),
        "huge": "the real answer padded to 1 MiB",
        "reset": "TCP RST, no answer",
        "close": "FIN, no answer",
        "hang": "no answer within http_timeout (2 s)",
        "invalid_client": ("403 InvalidClientTokenId" if sts else
                           "401 UnauthorizedException" if portal else
                           "401 InvalidClientException" if op == "RegisterClient" else
                           "401 InvalidClientException (registers again once, refused again)"),
    }[kind]


ROWS = [
    # ------------------------------------------------------------ control
    Row("none", "control", "no fault: approved by the admitted person", (S, S, S, S),
        scenario=scen(approve_after_polls=0)),
]

# Each fault kind on each OIDC operation: no policy can succeed without the
# device flow, so every column fails with PAM_AUTHINFO_UNAVAIL.
# (invalid_client: RegisterClient refuses outright; StartDeviceAuthorization
# and CreateToken re-register once, are refused again, and give up.)
ROWS += [
    Row("%s-%s" % (op, kind), "OIDC fault", "%s: %s" % (op, fault_text(op, kind)),
        (AU, AU, AU, AU), scenario=fault(op, kind), op=op, kind=kind)
    for op in OIDC_OPS for kind in FAULT_KINDS
]
# Each fault kind on the identity operations: allow_any_approver never calls
# them (PAM_SUCCESS, and the test checks the op was not reached); the
# identity policies fail. A 401 from GetRoleCredentials is read as "this
# approver may not use the permission set": PAM_AUTH_ERR.
ROWS += [
    Row("%s-%s" % (op, kind), "identity fault", "%s: %s" % (op, fault_text(op, kind)),
        (S, AE, AE, AE) if (op, kind) == ("GetRoleCredentials", "invalid_client")
        else (S, AU, AU, AU),
        scenario=fault(op, kind), op=op, kind=kind,
        why_ok="allow_any_approver never calls %s" % op)
    for op in IDENTITY_OPS for kind in FAULT_KINDS
]
# control_chars: what is shown to the person (StartDeviceAuthorization's
# code and URIs) must have the right shape, so that answer is refused
# whole; elsewhere the decorated strings are error texts the module never
# shows, so the login goes on; on STS the decorated Arn is no longer a
# well-formed ARN and the identity policies refuse it.
def _control_chars_row(op):
    if op == "StartDeviceAuthorization":
        return (AU, AU, AU, AU), ("the user code and URIs must have their shape, else the "
                                  "answer is not trusted")
    if op == "GetCallerIdentity":
        return (S, AU, AU, AU), ("allow_any_approver never calls GetCallerIdentity (the "
                                 "identity policies refuse the decorated Arn)")
    return (S, S, S, S), "the decorated strings are never shown or used"


ROWS += [
    Row("%s-control_chars" % op, "control characters",
        "%s: terminal escapes around every displayable string" % op,
        _control_chars_row(op)[0],
        scenario=fault(op, "control_chars"), op=op, kind="control_chars",
        why_ok=_control_chars_row(op)[1])
    for op in OIDC_OPS + IDENTITY_OPS
]
# raw: answers crafted byte for byte, for what the named kinds do not cover.
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
TWO_ARNS = ('<GetCallerIdentityResponse xmlns="%s"><GetCallerIdentityResult>'
            '<Arn>arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s_0123456789abcdef/alice</Arn>'
            '<Arn>arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s_0123456789abcdef/bob</Arn>'
            '<UserId>AROAX:alice</UserId><Account>%s</Account></GetCallerIdentityResult>'
            '</GetCallerIdentityResponse>' % (STS_NS, ACCOUNT, ROLE, ACCOUNT, ROLE, ACCOUNT))
JSON = {"Content-Type": "application/json"}
ROWS += [
    crafted("StartDeviceAuthorization-interval-0",
            "StartDeviceAuthorization: interval 0 (poll as fast as you like)", (AU, AU, AU, AU),
            body='{"deviceCode":"devcode-x","userCode":"ABCD-EFGH",'
                 '"verificationUri":"https://127.0.0.1/device","expiresIn":600,"interval":0}'),
    crafted("CreateToken-empty-object", "CreateToken: 200 with {}", (AU, AU, AU, AU), body="{}"),
    crafted("CreateToken-not-bearer", "CreateToken: a token of type mac", (AU, AU, AU, AU),
            body='{"accessToken":"atoken-x","tokenType":"mac","expiresIn":60}'),
    crafted("CreateToken-forged-token",
            "CreateToken: 200 with a Bearer token the service never issued", (S, AE, AE, AE),
            body='{"accessToken":"atoken-forged","tokenType":"Bearer","expiresIn":60}',
            why_ok="allow_any_approver takes the (TLS-authenticated) service's word that the "
                   "request was approved; the identity policies then find the token worthless"),
    crafted("CreateToken-invalid-grant", "CreateToken: 400 InvalidGrantException",
            (AU, AU, AU, AU), status=400,
            headers=dict(JSON, **{"x-amzn-ErrorType": "InvalidGrantException:"}),
            body='{"error":"invalid_grant"}'),
    crafted("CreateToken-400-untyped", "CreateToken: 400 with no error type", (AU, AU, AU, AU),
            status=400, body="{}"),
    crafted("CreateToken-redirect", "CreateToken: 302 to another host", (AU, AU, AU, AU),
            status=302, headers={"Location": "https://192.0.2.1/token"}, body=""),
    crafted("CreateToken-short-body",
            "CreateToken: Content-Length 400, connection closed after 2 bytes", (AU, AU, AU, AU),
            headers=dict(JSON, **{"Content-Length": "400"}), body="{}"),
    crafted("GetRoleCredentials-no-session-token",
            "GetRoleCredentials: roleCredentials without sessionToken", (S, AU, AU, AU),
            body='{"roleCredentials":{"accessKeyId":"ASIAAAAAAAAAAAAAAAAA",'
                 '"secretAccessKey":"sak-x","expiration":1}}',
            why_ok="allow_any_approver never calls GetRoleCredentials"),
    crafted("GetCallerIdentity-two-arns", "GetCallerIdentity: two Arn elements (alice's first)",
            (S, AU, AU, AU), headers={"Content-Type": "text/xml"}, body=TWO_ARNS,
            why_ok="allow_any_approver never calls GetCallerIdentity"),
]
ROWS += [
    # ------------------------------------------------------------ the device flow
    Row("deny", "device flow", "the person denies the request at the portal", (AE, AE, AE, AE),
        scenario=scen(approve_after_polls=0, decision="deny")),
    Row("expire-after-polls", "device flow", "ExpiredTokenException at the first poll",
        (AE, AE, AE, AE), scenario=scen(expire_after_polls=0)),
    Row("expires-in-short", "device flow", "expiresIn 2 s and nobody approves",
        (AE, AE, AE, AE), scenario=scen(expires_in=2, approve_after_polls=None)),
    # ------------------------------------------------------------ who approved
    Row("wrong-approver", "approver", "approved by bob (a different person)",
        (S, AE, AE, AE), scenario=scen(approve_after_polls=0, approver="bob"),
        why_ok="allow_any_approver admits whoever approved"),
    Row("approver-case", "approver", "approved by the admitted name with a capital first letter",
        (S, AE, AE, AE),
        scenario=scen(approve_after_polls=0, approver=lambda a: a[0].upper() + a[1:]),
        why_ok="allow_any_approver admits whoever approved"),
    Row("approver-other-domain", "approver", "approved by alice@example.org",
        (S, AE, AE, AE), scenario=scen(approve_after_polls=0, approver="alice@example.org"),
        why_ok="allow_any_approver admits whoever approved"),
    Row("no-assignment", "approver", "the approver has no permission set at all",
        (S, AE, AE, AE), scenario=scen(approve_after_polls=0, assignments={"*": []}),
        why_ok="allow_any_approver does not ask the portal"),
    Row("other-account", "approver", "the permission set only in another account",
        (S, AE, AE, AE),
        scenario=scen(approve_after_polls=0, assignments={"*": [["999988887777", ROLE]]}),
        why_ok="allow_any_approver does not ask the portal"),
    Row("other-role", "approver", "a different permission set in the right account",
        (S, AE, AE, AE),
        scenario=scen(approve_after_polls=0, assignments={"*": [[ACCOUNT, "Admin"]]}),
        why_ok="allow_any_approver does not ask the portal"),
    # ------------------------------------------------------------ what STS says
    Row("arn-other-account", "STS answer", "Arn in another account",
        (S, AU, AU, AU), scenario=scen(approve_after_polls=0, arn_override=arn("999988887777")),
        why_ok="allow_any_approver does not call STS"),
    Row("arn-other-role", "STS answer", "Arn of another permission set",
        (S, AU, AU, AU),
        scenario=scen(approve_after_polls=0,
                      arn_override=arn(role="AWSReservedSSO_Admin_0123456789abcdef")),
        why_ok="allow_any_approver does not call STS"),
    Row("arn-not-sso", "STS answer", "Arn of a role that is not an SSO role",
        (S, AU, AU, AU), scenario=scen(approve_after_polls=0, arn_override=arn(role=ROLE)),
        why_ok="allow_any_approver does not call STS"),
    Row("arn-prefix-trick", "STS answer", "Arn of role AWSReservedSSO_<role>X_...",
        (S, AU, AU, AU),
        scenario=scen(approve_after_polls=0,
                      arn_override=arn(role="AWSReservedSSO_%sX_0123456789abcdef" % ROLE)),
        why_ok="allow_any_approver does not call STS"),
    Row("arn-iam-user", "STS answer", "Arn of an IAM user",
        (S, AU, AU, AU),
        scenario=scen(approve_after_polls=0,
                      arn_override=lambda a: "arn:aws:iam::%s:user/%s" % (ACCOUNT, a)),
        why_ok="allow_any_approver does not call STS"),
    Row("arn-extra-path", "STS answer", "Arn whose session name has a further /part",
        (S, AU, AU, AU),
        scenario=scen(approve_after_polls=0,
                      arn_override=lambda a: arn()(a) + "/extra"),
        why_ok="allow_any_approver does not call STS"),
    Row("arn-other-session", "STS answer", "a well-formed Arn naming bob's session",
        (S, AE, AE, AE), scenario=scen(approve_after_polls=0, arn_override=arn()("bob")),
        why_ok="allow_any_approver does not call STS"),
    Row("sts-region", "STS answer", "STS expects region eu-west-1 (signature mismatch)",
        (S, AU, AU, AU), scenario=scen(approve_after_polls=0, sts_region="eu-west-1"),
        why_ok="allow_any_approver does not call STS"),
    Row("clock-offset", "STS answer", "the host clock is an hour behind STS",
        (S, AU, AU, AU), scenario=scen(approve_after_polls=0, clock_offset=3600),
        why_ok="allow_any_approver does not call STS"),
    # ------------------------------------------------------------ reachability
    Row("oidc-down", "network", "oidc_endpoint: nothing listens (connection refused)",
        (AU, AU, AU, AU), scenario=scen(approve_after_polls=0),
        opts=lambda w: {"oidc_endpoint": dead_endpoint()}),
    Row("portal-down", "network", "portal_endpoint: nothing listens",
        (S, AU, AU, AU), scenario=scen(approve_after_polls=0),
        opts=lambda w: {"portal_endpoint": dead_endpoint()},
        why_ok="allow_any_approver does not call the portal"),
    Row("sts-down", "network", "sts_endpoint: nothing listens",
        (S, AU, AU, AU), scenario=scen(approve_after_polls=0),
        opts=lambda w: {"sts_endpoint": dead_endpoint()},
        why_ok="allow_any_approver does not call STS"),
    Row("untrusted-ca", "network", "server certificate not signed by a trusted CA",
        (AU, AU, AU, AU), scenario=scen(approve_after_polls=0),
        opts=lambda w: {"ca_file": "/etc/ssl/certs/ca-certificates.crt"}),
]

assert len({r.id for r in ROWS}) == len(ROWS), "row ids must be unique"


# ---------------------------------------------------------------- running

def run_one(w, row, policy):
    """One login for (row, policy). Returns (ok, name, detail)."""
    pid, _, popts, approver = policy
    expected = row.expect[pid]
    w.sd.reset()
    status, body = w.sd._call("POST", "/_standin/scenario", row.scenario(approver))
    if status != 200:
        return False, "%s / %s: the stand-in refused the scenario" % (row.id, pid), body, 0
    extra = {k: v for k, v in popts.items() if k != "policy"}
    if extra.get("user_map") == "@MAP@":
        extra["user_map"] = w.user_map
    extra["http_timeout"] = HTTP_TIMEOUT
    extra.update(row.opts(w))
    r = w.login(w.options(policy=popts["policy"], **extra), timeout=60)
    log = w.sd.log()
    problems = []
    if r.code != expected:
        problems.append("verdict %s, the table says %s" % (r.code, expected))
    if expected != S and r.code == S:
        problems.append("PAM_SUCCESS ON A FAILURE")
    lines = [l for l in r.syslog if l.startswith("login ")]
    if len(lines) != 1:
        problems.append("%d outcome lines in syslog (want 1)" % len(lines))
    elif (harness.parse_outcome(lines[0]) or {}).get("result") != expected:
        problems.append("the syslog outcome line does not parse to result=%s" % expected)
    if row.op:
        # allow_any_approver never reaches the identity ops (checked below);
        # everywhere else the fault must really have been served.
        served = [x for x in log if x["op"] == row.op and x.get("fault") == row.kind]
        reached = not (pid == "any" and row.op in IDENTITY_OPS)
        if reached and not served:
            problems.append("the %s fault on %s never fired" % (row.kind, row.op))
    if pid == "any" and any(x["op"] in IDENTITY_OPS for x in log):
        problems.append("allow_any_approver called the portal or STS")
    name = "%s / %s -> %s" % (row.id, pid, expected)
    if expected != S:
        name += " (never PAM_SUCCESS)"
    detail = "%s\ncode=%s rc=%s %.1fs\nrequests: %s\n--- syslog\n%s\n--- stderr tail\n%s" % (
        "; ".join(problems), r.code, r.rc, r.seconds,
        [(x["op"], x["status"], x.get("fault"), x.get("error")) for x in log
         if x["op"] != "Control"],
        "\n".join(r.syslog), r.err[-1500:])
    return not problems, name, detail, r.seconds


def run_all(rows, jobs, module, asan=False):
    tasks = [(row, pol) for row in rows for pol in POLICIES]
    order = {id(t): i for i, t in enumerate(tasks)}
    todo = queue.Queue()
    for t in sorted(tasks, key=lambda t: -t[0].cost()):
        todo.put(t)
    results = {}
    worlds = []
    lock = threading.Lock()

    def worker():
        try:
            w = World(module, prefix="ssooidc-table-")
            w.host.asan = asan
        except Exception:
            err = traceback.format_exc()
            while True:
                try:
                    t = todo.get_nowait()
                except queue.Empty:
                    return
                results[order[id(t)]] = (False, "%s / %s: no stand-in" % (t[0].id, t[1][0]),
                                         err, 0)
        with lock:
            worlds.append(w)
        w.user_map = os.path.join(w.work, "user_map")
        with open(w.user_map, "w") as f:
            f.write(USER_MAP)
        os.chmod(w.user_map, 0o644)
        while True:
            try:
                t = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results[order[id(t)]] = run_one(w, *t)
            except Exception:
                results[order[id(t)]] = (False, "%s / %s raised" % (t[0].id, t[1][0]),
                                         traceback.format_exc(), 0)

    run_workers(worker, min(jobs, len(tasks)), worlds)
    return [results[i] for i in range(len(tasks))]


# ---------------------------------------------------------------- markdown

def markdown():
    heads = [p[1] for p in POLICIES]
    out = ["| Row | Failure | %s | Why PAM_SUCCESS is right there |" % " | ".join(heads),
           "|---|---|%s|---|" % "|".join("---" for _ in heads)]
    category = None
    for r in ROWS:
        if r.category != category:
            category = r.category
            out.append("| **%s** | |%s |" % (category, " |" * len(heads)))
        cells = []
        for p in POLICIES:
            code = r.expect[p[0]]
            cells.append("**%s**" % code if code == S else code)
        note = r.why_ok if r.id != "none" and S in r.expect.values() else ""
        text = r.what.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        out.append("| `%s` | %s | %s | %s |" % (r.id, text, " | ".join(cells), note))
    out.append("")
    failing = sum(1 for r in ROWS for p in POLICIES if r.expect[p[0]] != S)
    out.append("%d rows x %d policies = %d logins, %d of which must not succeed."
               % (len(ROWS), len(POLICIES), len(ROWS) * len(POLICIES), failing))
    out.append("")
    out.append("Policies: `allow_any_approver`; `account_id=%s role_name=%s` (the approver's "
               "Identity Center user name must equal the local name); the same plus "
               "`username_suffix=@example.com`; the same plus `user_map` (a root 0644 file "
               "mapping `carol.smith` to `alice`). Each login is for local user `alice`, "
               "approved (unless the row says otherwise) on the first poll by the person the "
               "policy admits: `alice`, `alice`, `alice@example.com`, `carol.smith`. Every "
               "login uses `http_timeout=%d` and a fresh cache directory." % (
                   ACCOUNT, ROLE, HTTP_TIMEOUT))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=10)
    ap.add_argument("--only", default="", help="comma-separated row ids")
    ap.add_argument("--module", default=MODULE)
    ap.add_argument("--asan", action="store_true", help="module built with ASan")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    if a.markdown:
        print(markdown())
        return 0
    only = set(filter(None, a.only.split(",")))
    rows = [r for r in ROWS if not only or r.id in only]
    t0 = time.monotonic()
    results = run_all(rows, a.jobs, os.path.abspath(a.module), a.asan)
    tap = Tap(detail_lines=50)
    for ok, name, detail, _ in results:
        tap.check(ok, name, detail)
    if not only:
        doc = os.path.join(ROOT, "docs", "reliability.md")
        try:
            text = open(doc).read()
        except OSError:
            text = ""
        tap.check(markdown() in text, "docs/reliability.md holds this table (--markdown)",
                  "regenerate: %s --markdown, and paste it into %s" % (sys.argv[0], doc))
    never = sum(1 for row in rows for p in POLICIES if row.expect[p[0]] != S)
    tap.comment("%d rows x %d policies = %d logins (%d must not succeed) in %.0f s with %d "
                "workers" % (len(rows), len(POLICIES), len(results), never,
                             time.monotonic() - t0, a.jobs))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
