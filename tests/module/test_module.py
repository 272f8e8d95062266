#!/usr/bin/python3
"""Module tests, AWS IAM Identity Center mode: real pamtester, real TLS,
the stand-in on 127.0.0.1.

Usage: test_module.py MODULE.so [--wrap none|valgrind|asan] [--jobs N] [--only NAME,...]
Prints TAP. Every test asserts the PAM code, what the user saw, the syslog
line and, where it matters, the stand-in's request log. The cases about
core behaviour (core_cases.py) run here against the AWS stand-in too; the
runner (runner.py) is the OpenID suite's."""
import os
import re
import shutil
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ACCOUNT, ROLE, UNLIMITED,  # noqa: E402
                     check_naive_outcome, cleanup_pam_wrapper_dirs,
                     login_deciding_on_the_page, stanza_options)
from runner import MSG, Cases, Provider, main  # noqa: E402
import core_cases  # noqa: E402


class Aws(Provider):
    """The stand-in as IAM Identity Center, OIDC, portal and STS."""
    name = "mod"
    mode = "aws"
    default_policy = "identity"  # account_id + role_name
    flow_start = ("RegisterClient", "StartDeviceAuthorization")
    long_first = ("service_faults", "transient_faults_are_retried", "trusted_path_chains",
                  "distributed_strangers_stay_within_the_budget",
                  "a_stopped_login_holds_nothing_after_its_lease",
                  "outcome_messages_name_the_case", "persistent_faults_end_bounded",
                  "max_pending_caps_open_device_authorizations",
                  "one_source_cannot_take_another_sources_place",
                  "concurrent_first_logins_register_once", "timeout_option",
                  "typed_name_must_be_the_accounts_own", "hostile_device_text_is_refused")

    def options(self, c, policy, cache, **extra):
        conf = c.host.write_conf("# options come from the stanza in these tests\n")
        return stanza_options(c.sd, conf, cache, policy, **extra)


test = Cases()


def ops(sd):
    return [x["op"] for x in sd.api_log()]


# ---------------------------------------------------------------- the happy path

@test.memcheck
def approved_login_identity(c):
    c.sd.reset(approve_after_polls=1, approver="alice")
    r = c.login("alice")
    c.expect(r, "PAM_SUCCESS", "approved by the mapped person")
    log = c.sd.api_log()
    c.check([x["op"] for x in log] == ["RegisterClient", "StartDeviceAuthorization",
                                      "CreateToken", "CreateToken", "GetRoleCredentials",
                                      "GetCallerIdentity"],
            "request sequence register/start/poll/poll/credentials/identity", r,
            str([x["op"] for x in log]))
    c.check(len({x["conn"] for x in log}) == 1, "the whole login used one TCP+TLS connection",
            r, str([x["conn"] for x in log]))
    sts = [x for x in log if x["op"] == "GetCallerIdentity"]
    c.check(sts and sts[0].get("sigv4") == "ok", "STS verified our SigV4 signature", r, str(sts))
    polls = [x["t"] for x in log if x["op"] == "CreateToken"]
    c.check(len(polls) == 2 and polls[1] - polls[0] >= 0.95, "polls are an interval apart", r,
            str(polls))
    o = r.outcome or {}
    c.check(o.get("result") == "PAM_SUCCESS" and o.get("approver") == "alice"
            and o.get("user") == "alice" and o.get("rhost") == "203.0.113.7"
            and o.get("service") == c.host.default_service and o.get("retries") == "0"
            and re.fullmatch(r"[0-9a-f-]{36}", o.get("request_id", ""))
            and re.fullmatch(r"\d+\.\d", o.get("seconds", "")),
            "one key=value syslog line: result, user, rhost, service, approver, seconds, "
            "retries, request id, reason", r, str(o))
    c.check(sum(1 for l in r.syslog if l.startswith("login ")) == 1,
            "exactly one outcome line per login", r)
    dev = c.sd.devices()[-1]
    c.check(dev["userCode"] in r.out and "https://127.0.0.1:%d/device?user_code=%s"
            % (c.sd.port, dev["userCode"]) in r.out
            and "https://127.0.0.1:%d/device " % c.sd.port in r.out,
            "user saw verificationUriComplete, verificationUri and the user code", r)
    c.check("expires in 5 minutes" in r.out, "user saw the time left (min of timeout, expiresIn)", r)


@test.memcheck
def approved_any_approver(c):
    c.sd.reset(approve_after_polls=0, approver="mallory")
    r = c.login("alice", c.options(policy="any"))
    c.expect(r, "PAM_SUCCESS", "allow_any_approver admits whoever approved")
    c.check(ops(c.sd) == ["RegisterClient", "StartDeviceAuthorization", "CreateToken"],
            "allow_any_approver makes no identity requests", r, str(ops(c.sd)))


@test
def approval_through_the_page(c):
    c.sd.reset(interval=1)
    opts = c.options()
    status, r = login_deciding_on_the_page(lambda: c.login("alice", opts), c.sd, "alice",
                                           settle=1.5)
    c.check(status == 200, "approval page accepted the code")
    if r is None:
        return c.check(False, "login finished after approval")
    c.expect(r, "PAM_SUCCESS", "login approved in the (stand-in) browser")


@test.memcheck
def registration_is_cached(c):
    cache = c.fresh_cache()
    c.sd.reset(approve_after_polls=0)
    r1 = c.login("alice", c.options(cache=cache))
    r2 = c.login("alice", c.options(cache=cache))
    c.expect(r2, "PAM_SUCCESS", "second login")
    c.check(ops(c.sd).count("RegisterClient") == 1, "second login reuses the registration", r2,
            str(ops(c.sd)))
    st = os.stat(cache)
    files = [f for f in os.listdir(cache) if f.endswith(".json")]
    fst = os.stat(os.path.join(cache, files[0])) if files else None
    c.check(stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == 0, "cache dir is root 0700", r1,
            oct(st.st_mode))
    c.check(fst is not None and stat.S_IMODE(fst.st_mode) == 0o600 and fst.st_uid == 0,
            "cache file is root 0600", r1, str(files))
    c.check(not [f for f in os.listdir(cache) if f.startswith(".tmp")], "no temp files left")


@test
def registration_keyed_by_trust_settings(c):
    """A registration is reused only under the trust settings it was fetched
    under: a stanza with another ca_file or a proxy registers for itself."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    from connect_proxy import ConnectProxy
    cache = c.fresh_cache()
    other_ca = os.path.join(c.workdir, "same-ca-other-path.pem")
    shutil.copyfile(c.sd.ca, other_ca)
    os.chmod(other_ca, 0o644)
    proxy = ConnectProxy()
    try:
        c.sd.reset(approve_after_polls=0)
        steps = [("the stanza", {}, 1), ("the same stanza again", {}, 1),
                 ("another ca_file", {"ca_file": other_ca}, 2),
                 ("that ca_file again", {"ca_file": other_ca}, 2),
                 ("a proxy", {"proxy": proxy.url}, 3), ("that proxy again", {"proxy": proxy.url}, 3),
                 ("the first stanza once more", {}, 3)]
        for name, extra, registrations in steps:
            r = c.login("alice", c.options(cache=cache, **extra))
            c.expect(r, "PAM_SUCCESS", "registration cache: " + name)
            c.check(ops(c.sd).count("RegisterClient") == registrations,
                    "%s: %d RegisterClient in all" % (name, registrations), r, str(ops(c.sd)))
        files = [f for f in os.listdir(cache) if f.startswith("reg-") and f.endswith(".json")]
        c.check(len(files) == 3, "one cached registration per trust setting", None, str(files))
    finally:
        proxy.stop()


def login_registering(c, cache, code, name, n, why):
    """A login over `cache` ends in `code`, and the stand-in has seen n
    RegisterClient in all. Returns the login."""
    r = c.login("alice", c.options(cache=cache))
    c.expect(r, code, name)
    c.check(ops(c.sd).count("RegisterClient") == n, why, r, str(ops(c.sd)))
    return r


@test
def registration_expiring_is_renewed(c):
    cache, _ = c.first_login(registration_ttl=1800)
    login_registering(c, cache, "PAM_SUCCESS", "login with a registration expiring within the "
                      "hour", 2, "re-registered because < 1 h remained")


@test.memcheck
def corrupt_cache_reregisters(c):
    cache, _ = c.first_login()
    f = [x for x in os.listdir(cache) if x.endswith(".json")][0]
    with open(os.path.join(cache, f), "w") as fh:
        fh.write('{"version":1,"clientId":')
    r = login_registering(c, cache, "PAM_SUCCESS", "login over a corrupt cache file", 2,
                          "corrupt cache -> registered again")
    c.check(any("registering client" in l and "corrupt" in l for l in r.syslog),
            "syslog says the cache was corrupt", r)


@test.memcheck
def invalid_client_reregisters_once(c):
    cache, _ = c.first_login()
    c.sd.reset(approve_after_polls=0,
               faults={"StartDeviceAuthorization": {"kind": "invalid_client", "count": 1}})
    login_registering(c, cache, "PAM_SUCCESS", "InvalidClientException once", 1,
                      "registered again exactly once")
    c.sd.reset(approve_after_polls=0,
               faults={"StartDeviceAuthorization": {"kind": "invalid_client"}})
    login_registering(c, cache, "PAM_AUTHINFO_UNAVAIL", "InvalidClientException every time", 1,
                      "only one re-registration per login")


# ---------------------------------------------------------------- refusals

@test.memcheck
def denied(c):
    c.sd.reset(approve_after_polls=1, decision="deny")
    r = c.login("alice")
    c.expect(r, "PAM_AUTH_ERR", "denied at the portal")
    c.check("denied" in r.login_line, "syslog says denied", r)
    c.check(MSG["denied"] in r.everything(), "user told: %s" % MSG["denied"], r)


@test.memcheck
def expired_token(c):
    c.sd.reset(expire_after_polls=1)
    r = c.login("alice")
    c.expect(r, "PAM_AUTH_ERR", "ExpiredTokenException")
    c.check("expired" in r.login_line, "syslog says the code expired", r)


@test
def never_polls_past_expires_in(c):
    c.sd.reset(expires_in=3)
    r = c.login("alice")
    c.expect(r, "PAM_AUTH_ERR", "not approved before expiresIn")
    polls = [x for x in c.sd.api_log() if x["op"] == "CreateToken"]
    start = [x for x in c.sd.api_log() if x["op"] == "StartDeviceAuthorization"][0]["t"]
    # Counted, not timed: polls an interval (1 s) apart fit expiresIn (3 s)
    # at most three times, however slowly the login ran.
    c.check(1 <= len(polls) <= 3, "no poll after expiresIn: %d polls for expiresIn=3, "
            "interval=1" % len(polls), r, str([p["t"] - start for p in polls]))
    # Generous: this only catches a login that waits on regardless.
    c.check(r.seconds < c.time_bound(3), "gave up long before timeout", r)
    c.check("expired" in r.login_line or "not approved within 3" in r.login_line,
            "syslog says the code ran out", r)


@test.memcheck
def timeout_option(c):
    c.sd.reset()
    r = c.login("alice", c.options(timeout=10))
    c.expect(r, "PAM_AUTH_ERR", "not approved within timeout")
    polls = len(c.sd.log("CreateToken"))
    # The last poll is the last one an interval (1 s) before the deadline:
    # at most ten polls, however slowly the login ran; and it waited.
    c.check(1 <= polls <= 10 and 8.5 <= r.seconds < c.time_bound(10),
            "timeout=10 bounds the wait (%d polls, %.1fs)" % (polls, r.seconds), r)
    c.check("not approved within 10 seconds" in r.login_line, "syslog names the timeout", r)


@test.memcheck
def timeout_counts_time_at_the_prompt(c):
    c.sd.reset(approve_after_polls=0)
    c.host.service(c.options(prompt="always", timeout=10), c.host.default_service)
    r = c.host.drive("alice", service=c.host.default_service, delay=11)
    c.outputs.append(r.everything())
    c.expect(r, "PAM_AUTH_ERR", "Enter pressed after timeout, though approved")
    c.check(ops(c.sd).count("CreateToken") == 0, "no poll once the time is up", r,
            str(ops(c.sd)))


@test.memcheck
def slow_down_adds_five_seconds(c):
    c.sd.reset(slow_down_polls=[1], approve_after_polls=1)
    r = c.login("alice")
    c.expect(r, "PAM_SUCCESS", "approved after a SlowDownException")
    polls = [x["t"] for x in c.sd.api_log() if x["op"] == "CreateToken"]
    c.check(len(polls) >= 2 and polls[1] - polls[0] >= 5.9, "next poll waited interval + 5 s",
            r, str(polls))


@test
def absent_interval_means_five(c):
    c.sd.reset(interval=None, approve_after_polls=0)
    r = c.login("alice")
    c.expect(r, "PAM_SUCCESS", "approved with no interval in the answer")
    log = c.sd.api_log()
    start = [x["t"] for x in log if x["op"] == "StartDeviceAuthorization"][0]
    poll = [x["t"] for x in log if x["op"] == "CreateToken"][0]
    c.check(poll - start >= 4.9, "first poll 5 s after the start", r, str(poll - start))


@test
def polling_respects_interval(c):
    c.sd.reset(interval=2, approve_after_polls=2)
    r = c.login("alice")
    c.expect(r, "PAM_SUCCESS", "interval=2")
    polls = [x for x in c.sd.api_log() if x["op"] == "CreateToken"]
    gaps = [b["t"] - a["t"] for a, b in zip(polls, polls[1:])]
    c.check(gaps and min(gaps) >= 1.95 and not any(p.get("error") == "SlowDownException"
                                                   for p in polls),
            "never polls faster than the interval", r, str(gaps))


# ---------------------------------------------------------------- faults

FAULT_OPS = ["RegisterClient", "StartDeviceAuthorization", "CreateToken",
             "GetRoleCredentials", "GetCallerIdentity"]
FAULT_KINDS = ["http500", "http503", "html500", "garbage", "illtyped", "huge", "reset", "close"]


@test.memcheck
def service_faults(c):
    # retries=0: each kind must fail closed; retrying is tested below.
    # Under valgrind every ninth row: each operation and each kind once.
    for op, kind in c.sample([(op, kind) for op in FAULT_OPS for kind in FAULT_KINDS], every=4,
                             memcheck=9):
        c.sd.reset(approve_after_polls=0, faults={op: {"kind": kind}})
        r = c.login("alice", c.options(retries=0))
        c.expect(r, "PAM_AUTHINFO_UNAVAIL", "%s %s" % (op, kind))


# ---------------------------------------------------------------- retries
# One transient fault on any call is retried (a failed poll is a missed
# poll), the login still succeeds, and the outcome line counts it.

TRANSIENT_FAULTS = ["http500", "html503", "throttle", "slowdown", "reset"]
RETRY_OPS = ["RegisterClient", "StartDeviceAuthorization", "CreateToken",
             "GetRoleCredentials", "GetCallerIdentity"]


@test.memcheck
def transient_faults_are_retried(c):
    rows = [(op, kind) for op in RETRY_OPS for kind in TRANSIENT_FAULTS
            if not (op == "CreateToken" and kind == "slowdown")]  # the poll's own slow_down
    for op, kind in c.sample(rows, every=4, memcheck=6):
        c.sd.reset(approve_after_polls=1, faults={op: {"kind": kind, "count": 1}})
        r = c.login("alice", c.options(debug=None))
        c.expect(r, "PAM_SUCCESS", "one %s on %s, retried" % (kind, op))
        o = r.outcome or {}
        served = [x for x in c.sd.log(op) if x.get("fault") == kind]
        if kind == "reset" and op != "RegisterClient":
            # A reused connection that dies before any answer is retried
            # by libcurl itself, on a new connection, before we see it.
            c.check(served and o.get("retries") in ("0", "1")
                    and any("connections=2" in l for l in r.syslog),
                    "%s reset: the same handle reconnected and the login went on" % op,
                    r, str(o))
            continue
        c.check(served and o.get("retries") == "1",
                "%s %s: the fault fired once and the outcome line says retries=1"
                % (op, kind), r, str(o))
        c.check(any(("%s: retry 1 of 2" % op) in l or
                    (op == "CreateToken" and "missed poll 1" in l) for l in r.syslog),
                "%s %s: the debug log says why it retried" % (op, kind), r)


@test
def retry_after_is_honoured(c):
    c.sd.reset(approve_after_polls=0, faults={"StartDeviceAuthorization": {
        "kind": "http503", "count": 1, "retry_after": "2"}})
    r = c.login("alice")
    c.expect(r, "PAM_SUCCESS", "503 with Retry-After: 2")
    starts = [x["t"] for x in c.sd.log("StartDeviceAuthorization")]
    c.check(len(starts) == 2 and starts[1] - starts[0] >= 1.95,
            "the retry waited the 2 s the service asked for", r, str(starts))


@test.memcheck
def persistent_faults_end_bounded(c):
    for op in c.sample(RETRY_OPS, every=2):
        c.sd.reset(approve_after_polls=0, faults={op: {"kind": "http500"}})
        r = c.login("alice", c.options(timeout=60))
        c.expect(r, "PAM_AUTHINFO_UNAVAIL", "%s always 500" % op)
        n = len(c.sd.log(op))
        c.check(n == 3, "%s: exactly retries+1 = 3 attempts" % op, r, "attempts: %d" % n)
        # Counted above. Two backoffs of at most 1 s and 2 s, or three polls
        # 1 s apart: a bound that only catches a wait for timeout=60.
        c.check(r.seconds < c.time_bound(3), "%s: gave up, before timeout=60" % op, r,
                "%.1f s" % r.seconds)
    c.sd.reset(approve_after_polls=0, faults={"StartDeviceAuthorization": {"kind": "http500"}})
    r = c.login("alice", c.options(retries=0))
    c.check(r.code == "PAM_AUTHINFO_UNAVAIL" and len(c.sd.log("StartDeviceAuthorization")) == 1,
            "retries=0: one attempt only", r)


@test
def scattered_poll_faults_do_not_add_up(c):
    """Failed polls between successful ones reset the count: a long wait
    with faults here and there still succeeds."""
    c.sd.reset(approve_after_polls=6, faults={"CreateToken": {"kind": "http500"}})
    c.sd.scenario(faults={"CreateToken": {"kind": "http500", "after": 0, "count": 2}})
    r1 = c.login("alice", c.options(retries=2))
    c.expect(r1, "PAM_SUCCESS", "two failed polls in a row with retries=2")
    c.sd.reset(approve_after_polls=6,
               faults={"CreateToken": {"kind": "http500", "after": 0, "count": 3}})
    r2 = c.login("alice", c.options(retries=2))
    c.expect(r2, "PAM_AUTHINFO_UNAVAIL", "three failed polls in a row with retries=2")
    c.check("3 polls in a row failed" in r2.login_line, "syslog says how many polls failed", r2)


@test.memcheck
def tls_trust_failure_is_not_retried(c):
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", c.options(ca_file="/etc/ssl/certs/ca-certificates.crt", debug=None))
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "wrong CA")
    # Counted: no retry in the outcome line or the debug log, no request.
    c.check((r.outcome or {}).get("retries") == "0" and not c.sd.api_log()
            and not any("retry" in l for l in r.syslog),
            "a certificate the trust store refuses is never retried", r)


# ---------------------------------------------------------------- max_pending

@test.memcheck
def max_pending_caps_open_device_authorizations(c):
    """max_pending=2: two never-approved logins hold the places; three more
    are refused at once and send nothing; once the holders are killed
    (SIGKILL: their pids are gone) a login gets a place again at once."""
    import signal
    cache = c.fresh_cache()
    c.sd.reset()
    c.host.service(c.options(cache=cache, max_pending=2, timeout=120), c.host.default_service)
    # Two other addresses: the host's cap, not a source's share, is full.
    holders = [holder(c, "alice", "198.51.100.%d" % i) for i in (1, 2)]
    try:
        deadline = time.time() + 120
        while len(c.sd.devices()) < 2 and time.time() < deadline:
            time.sleep(0.1)
        c.check(len(c.sd.devices()) == 2, "two logins hold the two slots (their codes are open)",
                None, str(c.sd.devices()))
        refused = []
        for _ in range(3):
            r = c.host.login("alice", service=c.host.default_service)
            c.outputs.append(r.everything())
            refused.append(r)
        c.check(all(r.code == "PAM_AUTHINFO_UNAVAIL" for r in refused),
                "three more logins are refused (PAM_AUTHINFO_UNAVAIL)", refused[-1],
                str([r.code for r in refused]))
        c.check(len(c.sd.log("StartDeviceAuthorization")) == 2,
                "the refused logins sent nothing: still 2 device authorizations", refused[-1],
                str([r.get("op") for r in c.sd.api_log()]))
        c.check(all("max_pending=2" in r.login_line for r in refused),
                "syslog says why they were refused", refused[-1])
        # Counted above (no request); this only catches a wait for a place.
        c.check(all(r.seconds < c.time_bound(0) for r in refused), "refused at once",
                refused[-1], str([round(r.seconds, 1) for r in refused]))
        # The network's places are full; a local login (console: no rhost;
        # sudo, su: a uid) has places of its own that strangers cannot take.
        r = approved_beside_holders(c, lambda: c.host.login(
            "alice", service=c.host.default_service, rhost=""))
        c.check(r is not None and r.code == "PAM_SUCCESS", "a console login beside the full "
                "network places is admitted -> PAM_SUCCESS", r)
        if r is not None:
            c.outputs.append(r.everything())
    finally:
        for p in holders:
            p.send_signal(signal.SIGKILL)
            p.wait()
        cleanup_pam_wrapper_dirs()
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", c.options(cache=cache, max_pending=2))
    c.expect(r, "PAM_SUCCESS", "after the holders were killed (SIGKILL), their slots are free")


# ------------------------------------------------------ fair limits (pending.c)
# A source is the remote address (PAM_RHOST, here pamtester's -I rhost=) or
# the real uid of a setuid host. A login holds its place one step at a time:
# the wait for the next poll (interval, 1 s here, + 5 s) or one request
# (http_timeout x (retries + 1) + 5 s: 7 s with the options below).
LEASE = 2 * 1 + 5
BUSY_HOST = "Too many sign-ins are waiting on this host right now"
BUSY_SOURCE = "Too many sign-ins are waiting from your address or account"


def holder(c, user, rhost, service=None):
    """A login that is never approved, in the background, from rhost."""
    import subprocess
    cmd = c.host.wrap + ["pamtester", "-v", "-I", "rhost=" + rhost,
                         service or c.host.default_service, user, "authenticate"]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=c.host.env())


def polled_codes(c):
    return {r.get("user_code") for r in c.sd.log("CreateToken") if r.get("user_code")}


def wait_for(cond, seconds=120):
    deadline = time.time() + seconds
    while not cond() and time.time() < deadline:
        time.sleep(0.1)
    return cond()


def stop_all(c, procs):
    import signal
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGKILL)
        out, err = p.communicate()
        c.outputs.append((out or "") + (err or ""))
    # A killed pamtester leaves its /tmp/pam.X behind, and pam_wrapper has
    # only 62 of them for every suite on the host.
    cleanup_pam_wrapper_dirs()


def approved_beside_holders(c, login, approver="alice"):
    """Run login() in a thread; approve the code it shows (a new one, not a
    holder's) on the page, as a person would. Returns its result."""
    import threading
    known = {d["userCode"] for d in c.sd.devices()}
    result = {}
    t = threading.Thread(target=lambda: result.update(r=login()))
    t.start()
    new = lambda: [d for d in c.sd.devices() if d["userCode"] not in known]  # noqa: E731
    if wait_for(lambda: new(), 90):
        time.sleep(1.2)  # a poll sees it pending first
        c.sd.decide(new()[0]["userCode"], approver, "approve")
    t.join(150)
    return result.get("r")


@test
def one_source_cannot_take_another_sources_place(c):
    """max_pending_per_source=2: a third login from one address is refused at
    once (its own sentence, no request), while a person at another address
    still gets a code and is admitted."""
    if c.sampled:  # many processes at once: behaviour, not memory (plain and ASan runs)
        return
    cache = c.fresh_cache()
    c.sd.reset()
    c.host.service(c.options(cache=cache, max_pending=3, max_pending_per_source=2, timeout=120),
                   c.host.default_service)
    hs = [holder(c, "alice", "198.51.100.1") for _ in range(2)]
    try:
        c.check(wait_for(lambda: len(c.sd.devices()) == 2), "two logins from 198.51.100.1 "
                "hold their source's two places", None, str(c.sd.devices()))
        r = c.host.login("alice", service=c.host.default_service, rhost="198.51.100.1")
        c.outputs.append(r.everything())
        c.expect(r, "PAM_AUTHINFO_UNAVAIL", "a third login from the same address")
        c.check(BUSY_SOURCE in r.err, "the person reads that their address has too many "
                "sign-ins waiting", r)
        c.check("max_pending_per_source=2" in r.login_line and "ip:198.51.100.1" in r.login_line,
                "syslog names the per-source cap and the source", r)
        c.check(len(c.sd.log("StartDeviceAuthorization")) == 2, "it sent nothing", r)
        r = approved_beside_holders(c, lambda: c.login(
            "bob", c.options(cache=cache, max_pending=3, max_pending_per_source=2),
            rhost="198.51.100.2"), "bob")
        c.check(r is not None and r.code == "PAM_SUCCESS", "a person at another address, "
                "beside them, gets a code and is admitted -> PAM_SUCCESS", r)
    finally:
        stop_all(c, hs)


@test
def a_stopped_login_holds_nothing_after_its_lease(c):
    """SIGSTOP on a login that polls (a user may stop their own sudo): its
    place lapses after one lease, another person's login takes it, and the
    stopped one, resumed, cannot take it back while the host is full."""
    if c.sampled:  # many processes at once: behaviour, not memory (plain and ASan runs)
        return
    import signal
    cache = c.fresh_cache()
    c.sd.reset()
    opts = lambda **kw: c.options(cache=cache, max_pending=1, timeout=120, http_timeout=2,  # noqa
                                  retries=0, **kw)
    c.host.service(opts(), c.host.default_service)
    h = holder(c, "alice", "198.51.100.1")
    try:
        c.check(wait_for(lambda: len(polled_codes(c)) == 1), "the login polls", None,
                str(c.sd.devices()))
        h.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        polls_before = len(c.sd.log("CreateToken"))
        time.sleep(LEASE + 1)
        c.check(len(c.sd.log("CreateToken")) <= polls_before + 1,
                "the stopped login sends nothing", None)
        victim = holder(c, "bob", "198.51.100.2")
        c.check(wait_for(lambda: len(polled_codes(c)) == 2), "%.0f s after SIGSTOP, another "
                "person's login from another address has the only place (max_pending=1) and "
                "polls" % (time.monotonic() - stopped), None, str(c.sd.devices()))
        h.send_signal(signal.SIGCONT)
        try:
            out, err = h.communicate(timeout=60)
        except Exception:
            out, err = "", "still running"
        c.check(h.returncode is not None and h.returncode != 0 and BUSY_HOST in err,
                "resumed, the stopped login finds the place taken and ends, telling the "
                "person the host is busy", None, err[-800:])
        c.outputs.append((out or "") + (err or ""))
        c.check(victim.poll() is None, "the other person's login goes on", None)
        stop_all(c, [victim])
        c.sd.reset(approve_after_polls=0)
        r = c.login("alice", opts(), rhost="198.51.100.3")
        c.expect(r, "PAM_SUCCESS", "with both gone, the next login is admitted")
    finally:
        stop_all(c, [h])


@test.memcheck
def leftover_and_planted_records_count_for_nothing(c):
    """What a login killed half-way leaves (a temp file; before records were
    written whole first, an empty record, which counted for an hour), a
    damaged record, one from an earlier boot with a live lease, and one not
    root's: none takes a place (max_pending=1), and the old ones are
    removed."""
    import secrets
    cache = c.fresh_cache()
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", c.options(cache=cache, max_pending=1))  # makes cache_dir
    c.expect(r, "PAM_SUCCESS", "a first login")
    name = lambda: "lease-n-%s-%s" % (secrets.token_hex(16), secrets.token_hex(8))  # noqa
    planted = {}
    for kind, text in (("empty", ""), ("damaged", "pam_ssooidc-lease 1 garbage\n"),
                       ("earlier boot", "pam_ssooidc-lease 1 %s %010d %015d %015d\n"
                        % ("0" * 8 + "-0000-0000-0000-" + "0" * 12, os.getpid(), 1, 10 ** 14)),
                       ("not root's", None), ("temp", "")):
        n = ("ltmp-" + name()[6:]) if kind == "temp" else name()
        path = os.path.join(cache, n)
        with open(path, "w") as f:
            f.write(text if text is not None else "")
        if text is None:
            os.chown(path, 2001, 2001)
        if kind in ("empty", "damaged", "temp"):
            os.utime(path, (time.time() - 60, time.time() - 60))
        planted[kind] = n
    r = c.login("alice", c.options(cache=cache, max_pending=1), rhost="198.51.100.9")
    c.expect(r, "PAM_SUCCESS", "beside 5 planted records, max_pending=1")
    left = set(os.listdir(cache))
    c.check(not (set(planted.values()) & left), "every planted record was removed", r,
            str(sorted(k for k, v in planted.items() if v in left)))


@test.memcheck
def a_store_past_the_scan_cap_counts_as_full(c):
    """More entries in cache_dir than a store ever holds (4096): records past
    the scan's cap would go uncounted, so every limit counts as reached
    (fail closed) rather than admitting what it cannot see."""
    cache = c.fresh_cache()
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", c.options(cache=cache))
    c.expect(r, "PAM_SUCCESS", "an empty store")
    for i in range(4200):
        open(os.path.join(cache, "junk-%04d" % i), "w").close()
    n = len(c.sd.log("StartDeviceAuthorization"))
    r = c.login("alice", c.options(cache=cache))
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "4200 entries in cache_dir")
    c.check("reached" in r.login_line and len(c.sd.log("StartDeviceAuthorization")) == n,
            "refused as over the limits, sending nothing", r)
    for i in range(4200):
        os.unlink(os.path.join(cache, "junk-%04d" % i))
    r = c.login("alice", c.options(cache=cache))
    c.expect(r, "PAM_SUCCESS", "the junk removed")


@test
def start_rate_per_source_and_per_host(c):
    """max_starts_per_source=2 and max_starts=3 per minute: a source's third
    start is refused, sending nothing; another source starts; the host's
    fourth start in the minute is refused with the host's sentence."""
    if c.sampled:  # five logins must fit in the minute: behaviour, not memory
        return
    cache = c.fresh_cache()
    c.sd.reset(approve_after_polls=0)
    opts = c.options(cache=cache, max_starts_per_source=2, max_starts=3)
    codes = [c.login("alice", opts, rhost="198.51.100.1").code for _ in range(2)]
    c.check(codes == ["PAM_SUCCESS"] * 2, "two logins from one address", None, str(codes))
    r = c.login("alice", opts, rhost="198.51.100.1")
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "its third start within the minute")
    c.check(BUSY_SOURCE in r.err and "max_starts_per_source=2" in r.login_line,
            "refused as that source's rate, in words and in syslog", r)
    c.check(len(c.sd.log("StartDeviceAuthorization")) == 2, "the refused login sent nothing", r)
    r = c.login("alice", opts, rhost="198.51.100.2")
    c.expect(r, "PAM_SUCCESS", "another address starts meanwhile")
    r = c.login("alice", opts, rhost="198.51.100.3")
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "the host's fourth start within the minute")
    c.check(BUSY_HOST in r.err and "max_starts=3" in r.login_line,
            "refused as the host's rate, in words and in syslog", r)
    c.check("could not be reached" not in r.err, "not called an outage", r)


@test
def distributed_strangers_stay_within_the_budget(c):
    """Five addresses, two never-approved logins each, at once, with
    max_pending=3, 1 per source, 4 starts a minute: at most 4 device
    authorizations are started and never more than 3 logins poll at once.
    (Few processes: pam_wrapper has 62 working directories for the host.)"""
    if c.sampled:  # many processes at once: behaviour, not memory (plain and ASan runs)
        return
    cache = c.fresh_cache()
    c.sd.reset()
    c.host.service(c.options(cache=cache, max_pending=3, max_pending_per_source=1, max_starts=4,
                             timeout=10), c.host.default_service)
    hs = [holder(c, "alice", "198.51.100.%d" % (10 + i)) for i in range(5) for _ in range(2)]
    outs = []
    for h in hs:
        outs.append(h.communicate(timeout=300))
        c.outputs.append(outs[-1][0] + outs[-1][1])
    starts = len(c.sd.log("StartDeviceAuthorization"))
    spans = {}
    for rec in c.sd.log("CreateToken"):
        t0, t1 = spans.get(rec["user_code"], (rec["t"], rec["t"]))
        spans[rec["user_code"]] = (min(t0, rec["t"]), max(t1, rec["t"]))
    most = max([sum(1 for a, b in spans.values() if a <= t <= b) for t, _ in spans.values()] or
               [0])
    c.check(0 < starts <= 4, "%d device authorizations started (budget 4)" % starts)
    c.check(0 < most <= 3, "at most %d logins polled at once (max_pending=3)" % most, None,
            str(sorted(spans.values())))
    refused = [e for _, e in outs if BUSY_HOST in e or BUSY_SOURCE in e]
    c.check(len(refused) == len(hs) - starts, "every login that did not start was told why "
            "(%d refused, %d started)" % (len(refused), starts))


@test.memcheck
def hang_is_bounded_by_http_timeout(c):
    # A hang far longer than any bound below, valgrind's included.
    c.sd.reset(approve_after_polls=0, hang_seconds=600,
               faults={"CreateToken": {"kind": "hang"}})
    r = c.login("alice", c.options(http_timeout=2))
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "CreateToken hangs")
    n = len(c.sd.log("CreateToken"))
    c.check(n == 3, "three polls (retries+1 missed polls in a row), each given up", r,
            "CreateToken requests: %d" % n)
    # Counted above; the bound only shows no attempt waited out the hang:
    # three attempts of http_timeout=2 and the polls between them.
    c.check(r.seconds < c.time_bound(3 * 2 + 3), "http_timeout=2 bounded the hang", r,
            "%.1f s" % r.seconds)
    c.check("http_timeout" in r.login_line, "syslog names the timeout", r)


@test.memcheck
def service_down(c):
    c.sd.reset(approve_after_polls=0)
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = "https://127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    r = c.login("alice", c.options(oidc_endpoint=dead))
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "OIDC endpoint down")
    r = c.login("alice", c.options(sts_endpoint=dead))
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "STS endpoint down")


@test.memcheck
def untrusted_certificate(c):
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", c.options(ca_file="/etc/ssl/certs/ca-certificates.crt"))
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "server certificate not signed by a trusted CA")
    c.check(not c.sd.api_log(), "nothing reached the service", r)


@test.memcheck
def ca_file_without_certificates(c):
    """A ca_file with a PEM certificate block that holds no certificate:
    the PEM layer passes at load, libcurl's decoding fails at the first
    connection, and the login ends as a DER file's does: PAM_SERVICE_ERR,
    the option and path named, nothing sent, no code shown."""
    c.sd.reset(approve_after_polls=0)
    path = os.path.join(c.workdir, "no-certificate.pem")
    with open(path, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n"
                "-----END CERTIFICATE-----\n")
    os.chmod(path, 0o644)
    r = c.login("alice", c.options(ca_file=path))
    c.expect(r, "PAM_SERVICE_ERR", "a ca_file whose PEM block is no certificate")
    c.check("ca_file %s holds a certificate block that does not decode" % path in r.login_line
            and "error importing" not in r.everything(), "the option and path named", r)
    c.check(not c.sd.api_log() and not c.sd.devices(), "nothing reached the service", r)


# Not in the valgrind sample: ca_file_without_certificates takes the same
# path (the connection's CURLE_SSL_CACERT_BADFILE) under valgrind.
@test
def ca_file_right_ca_and_broken_block(c):
    """The stand-in's own CA beside a PEM certificate block that holds no
    certificate (or whose base64 does not decode), before it or after it:
    the PEM layer passes at load, and libcurl must refuse the whole bundle at the connection rather
    than trust the one certificate it can read: PAM_SERVICE_ERR, the option
    and path named, nothing sent."""
    c.sd.reset(approve_after_polls=0)
    with open(c.sd.ca) as f:
        good = f.read()
    broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    bad64 = "-----BEGIN CERTIFICATE-----\n!!!!not base64!!!!\n-----END CERTIFICATE-----\n"
    for name, text in (("broken-after.pem", good + broken), ("broken-before.pem", broken + good),
                       ("bad-base64-after.pem", good + bad64)):
        path = os.path.join(c.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        r = c.login("alice", c.options(ca_file=path))
        c.expect(r, "PAM_SERVICE_ERR", "%s: the right CA and a block that is no certificate" % name)
        c.check("ca_file %s holds a certificate block that does not decode" % path
                in r.login_line, "%s: the option and path named" % name, r)
        c.check(not c.sd.api_log() and not c.sd.devices(), "%s: nothing reached the service" % name,
                r)


# ---------------------------------------------------------------- configuration

@test.memcheck
def configuration_errors(c):
    c.sd.reset()
    cases = {
        "plain http endpoint": c.options(oidc_endpoint="http://127.0.0.1:1"),
        "unknown option": c.options(frobnicate="1"),
        "malformed number": c.options(timeout="soon"),
        "missing start_url": c.options(start_url=False),
        "no identity policy": c.options(policy="none"),
        "role_name without account_id": c.options(policy="none", role_name=ROLE),
    }
    for name, opts in c.sample(cases.items(), every=1, memcheck=3):
        r = c.login("alice", opts)
        c.expect(r, "PAM_SERVICE_ERR", "config: " + name)
    r = c.login("alice", c.options(policy="none"))
    c.check("allow_any_approver" in r.login_line, "missing policy explained in syslog", r)
    c.check(not c.sd.api_log(), "no network traffic for configuration errors", r,
            str(ops(c.sd)))


@test.memcheck
def config_file_checks(c):
    c.sd.reset(approve_after_polls=0)
    body = ("start_url = https://example.awsapps.com/start\n"
            "oidc_endpoint = %s\nportal_endpoint = %s\nsts_endpoint = %s\n"
            "ca_file = %s\ncache_dir = %s\nprompt = never\n"
            "account_id = %s\nrole_name = %s\n" % (c.sd.url, c.sd.url, c.sd.url, c.sd.ca,
                                                  c.fresh_cache(), ACCOUNT, ROLE))
    path = os.path.join(c.workdir, "file.conf")

    def write(mode, uid=0):
        with open(path, "w") as f:
            f.write(body)
        os.chmod(path, mode)
        os.chown(path, uid, 0)
    write(0o600)
    r = c.login("alice", ["conf=" + path])
    c.expect(r, "PAM_SUCCESS", "all options from the config file")
    write(0o600)
    r = c.login("alice", ["conf=" + path, "start_url=http://override"])
    c.expect(r, "PAM_SERVICE_ERR", "stanza overrides the file (bad override refused)")
    write(0o620)
    r = c.login("alice", ["conf=" + path])
    c.expect(r, "PAM_SERVICE_ERR", "group-writable config file")
    write(0o602)
    r = c.login("alice", ["conf=" + path])
    c.expect(r, "PAM_SERVICE_ERR", "world-writable config file")
    write(0o600, uid=2001)
    r = c.login("alice", ["conf=" + path])
    c.expect(r, "PAM_SERVICE_ERR", "config file not owned by root")
    c.check(path in r.login_line, "syslog names the file", r)


# The module's trusted files - conf, ca_file, user_map, cache_dir - must be
# root's, and so must every directory above them, none writable by group or
# others, with no symbolic link on the way and no exception for sticky
# directories. Each way a local user could slip a file in is refused with
# PAM_SERVICE_ERR naming the path, before anything is sent.

def _chain_variants(c, name):
    """(label, parent dir) pairs, each parent unsafe in one way."""
    base = os.path.join(c.workdir, "chain-%s-%d" % (name, c.n))
    c.n += 1
    os.makedirs(base)
    gw = os.path.join(base, "groupwritable")
    os.mkdir(gw)
    os.chmod(gw, 0o775)
    foreign = os.path.join(base, "foreign")
    os.mkdir(foreign)
    os.chown(foreign, 2002, 2002)
    os.chmod(foreign, 0o755)
    real = os.path.join(base, "real")
    os.mkdir(real)
    link = os.path.join(base, "link")
    os.symlink(real, link)
    sticky = os.path.join(base, "tmp")
    os.mkdir(sticky)
    os.chmod(sticky, 0o1777)
    return [("a group-writable parent", gw), ("a parent owned by another user", foreign),
            ("a symlinked component", link), ("a squatted name in a sticky directory", sticky)]


def _plant(path, text, squatter):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    if squatter:
        os.chown(path, 2002, 2002)


@test.memcheck
def trusted_path_chains(c):
    c.sd.reset(approve_after_polls=0)
    conf_text = "# nothing here\n"
    map_text = "alice alice\n"
    with open(c.sd.ca) as f:
        ca_text = f.read()
    for i, what in enumerate(("conf", "ca_file", "user_map", "cache_dir")):
        variants = _chain_variants(c, what)
        for label, parent in (variants[i:i + 1] if c.sampled else variants):
            squat = label.startswith("a squatted")
            target = os.path.join(parent, what)
            if what == "cache_dir":
                os.mkdir(os.path.join(os.path.realpath(parent), what), 0o700)
                if squat:
                    os.chown(target, 2002, 2002)
                opts = c.options(cache=target)
            elif what == "conf":
                _plant(os.path.join(os.path.realpath(parent), what), conf_text, squat)
                opts = c.options()
                opts = ["conf=" + target] + [o for o in opts if not o.startswith("conf=")]
            else:
                _plant(os.path.join(os.path.realpath(parent), what),
                       ca_text if what == "ca_file" else map_text, squat)
                opts = c.options(**{what: target})
            r = c.login("alice", opts)
            c.expect(r, "PAM_SERVICE_ERR", "%s under %s" % (what, label))
            c.check(parent in r.login_line and not c.sd.api_log(),
                    "%s under %s: syslog names %s; nothing was sent" % (what, label, parent),
                    r, str(ops(c.sd)))
            c.sd.reset(approve_after_polls=0)


# Not in the valgrind sample: the module only hands libcurl the proxy's URL,
# and libcurl's proxy code is libcurl's; the plain and ASan runs take it.
@test
def proxy_option(c):
    """proxy= is the only way to a proxy; the environment never is."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    from connect_proxy import ConnectProxy
    admin, hostile = ConnectProxy(), ConnectProxy()
    try:
        c.sd.reset(approve_after_polls=0)
        r = c.login("alice", c.options(proxy=admin.url))
        c.expect(r, "PAM_SUCCESS", "through the configured proxy")
        c.check(len(admin.connects()) == 1 and admin.connects()[0][1] == "127.0.0.1:%d"
                % c.sd.port, "the whole login was one CONNECT tunnel through proxy=", r,
                str(admin.requests))
        c.host.extra_env = {"HTTPS_PROXY": hostile.url, "https_proxy": hostile.url,
                            "ALL_PROXY": hostile.url, "NO_PROXY": "*", "no_proxy": "*"}
        try:
            c.sd.reset(approve_after_polls=0)
            r = c.login("alice", c.options(proxy=admin.url))
            c.expect(r, "PAM_SUCCESS", "proxy= with NO_PROXY=* and other proxies in the "
                     "environment")
            c.check(len(admin.connects()) == 2 and not hostile.requests,
                    "NO_PROXY did not route around proxy=, HTTPS_PROXY was not used", r,
                    "admin %s hostile %s" % (admin.requests, hostile.requests))
            c.sd.reset(approve_after_polls=0)
            r = c.login("alice")
            c.expect(r, "PAM_SUCCESS", "no proxy= but HTTPS_PROXY/ALL_PROXY in the environment")
            c.check(not hostile.requests and len(admin.connects()) == 2,
                    "without proxy= no proxy is used at all", r, str(hostile.requests))
        finally:
            c.host.extra_env = {}
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))  # a port nobody listens on
        dead_url = "http://127.0.0.1:%d" % s.getsockname()[1]
        c.sd.reset(approve_after_polls=0)
        r = c.login("alice", c.options(proxy=dead_url))
        s.close()
        c.expect(r, "PAM_AUTHINFO_UNAVAIL", "the configured proxy is down")
        c.check(not c.sd.api_log(), "no direct connection when the proxy is down", r)
        for bad in ("http://user:pw@127.0.0.1:3128", "socks5://127.0.0.1:1080",
                    "http://127.0.0.1:3128/path"):
            r = c.login("alice", c.options(proxy=bad))
            c.expect(r, "PAM_SERVICE_ERR", "proxy=" + bad)
    finally:
        admin.stop()
        hostile.stop()


@test.memcheck
def outcome_line_cannot_be_forged(c):
    """Hostile rhost, request id, error text and approver name: the line
    still parses into exactly the fixed keys, each value intact, even for a
    parser that only splits on spaces and quotes."""
    rhost = 'evil" result=PAM_SUCCESS user=root approver="root'
    c.sd.reset(approve_after_polls=0, faults={"CreateToken": {
        "kind": "raw", "status": 400,
        "headers": {"Content-Type": "application/json",
                    "x-amzn-RequestId": "abc result=PAM_SUCCESS",
                    "x-amzn-ErrorType": "AccessDeniedException"},
        "body": '{"error":"access_denied","error_description":"\\" result=PAM_SUCCESS '
                'reason=\\"ok\\u202e\\u001b[2J"}'}})
    r = c.login("alice", rhost=rhost)
    c.expect(r, "PAM_AUTH_ERR", "denied, with hostile text around")
    o = r.outcome
    c.check(o is not None and o["result"] == "PAM_AUTH_ERR" and o["rhost"] == rhost
            and o["request_id"] == "-" and o["approver"] == "-",
            "the outcome line parses to the fixed keys; rhost kept verbatim, the request id "
            "replaced by '-'", r, str(o))
    check_naive_outcome(c, r, "alice", "PAM_AUTH_ERR", "hostile rhost")
    # An approver name is chosen at the provider; an AWS session name may
    # hold '=' (and ',', '@', '+').
    c.sd.reset(approve_after_polls=0, approver="result=PAM_SUCCESS")
    r = c.login("alice", rhost="203.0.113.7 user=root")
    c.expect(r, "PAM_AUTH_ERR", "approved by someone named result=PAM_SUCCESS")
    o = r.outcome or {}
    c.check(o.get("approver") == "result=PAM_SUCCESS"
            and o.get("rhost") == "203.0.113.7 user=root",
            "the approver's name and the rhost are logged, decoded intact", r, str(o))
    check_naive_outcome(c, r, "alice", "PAM_AUTH_ERR", "hostile approver name")


@test.memcheck
def sts_partition_must_match_region(c):
    c.sd.reset(approve_after_polls=0, arn_override="arn:aws-cn:sts::111122223333:assumed-role/"
               "AWSReservedSSO_LinuxLogin_0123456789abcdef/alice")
    r = c.login("alice")
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "an aws-cn ARN for region us-east-1")
    c.check("partition aws" in r.login_line, "syslog names the expected partition", r)


# ---------------------------------------------------------------- conversation

@test.memcheck
def prompt_always(c):
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", c.options(prompt="always"))
    c.expect(r, "PAM_SUCCESS", "prompt=always")
    code = c.sd.devices()[-1]["userCode"]
    c.check("After approving, press Enter:" in r.err and code in r.err,
            "URL and code are the text of the prompt", r)


@test
def prompt_auto_follows_service(c):
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", c.options(prompt="auto"), service="sshd")
    c.expect(r, "PAM_SUCCESS", "prompt=auto for sshd")
    c.check("press Enter" in r.err, "sshd gets the prompt form", r)
    r = c.login("alice", c.options(prompt="auto"), service="sudo")
    c.expect(r, "PAM_SUCCESS", "prompt=auto for sudo")
    c.check("press Enter" not in r.everything() and c.sd.devices()[-1]["userCode"] in r.out,
            "sudo gets the code as information", r)


@test
def silent_still_shows_code(c):
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", flags="PAM_SILENT")
    c.expect(r, "PAM_SUCCESS", "PAM_SILENT")
    c.check(c.sd.devices()[-1]["userCode"] in r.out, "PAM_SILENT does not hide the code", r)


@test.memcheck
def conversation_failure(c):
    c.sd.reset(approve_after_polls=0)
    for prompt in ("always", "never"):
        c.host.service(c.options(prompt=prompt), c.host.default_service)
        r = c.host.drive("alice", service=c.host.default_service, conv="fail")
        c.outputs.append(r.everything())
        c.expect(r, "PAM_CONV_ERR", "conversation fails (prompt=%s)" % prompt)
        c.check("conversation failed" in r.login_line, "syslog says the conversation failed", r)
    c.check(ops(c.sd).count("CreateToken") == 0, "no polling after a failed conversation", r)


def device_answer(sd, **override):
    """A StartDeviceAuthorization answer body with some members replaced."""
    import json
    body = {"deviceCode": "devcode-hostile", "userCode": "ABCD-EFGH",
            "verificationUri": "%s/device" % sd.url,
            "verificationUriComplete": "%s/device?user_code=ABCD-EFGH" % sd.url,
            "expiresIn": 600, "interval": 1}
    body.update(override)
    return json.dumps(body)


HOSTILE_DEVICE_TEXT = {
    "escape sequences in the code": {"userCode": "\x1b[2J\x1b]0;pwned\x07ABCD-EFGH"},
    "a space in the code": {"userCode": "ABCD EFGH"},
    "a bidi override in the code": {"userCode": "ABCD-\u202eHGFE"},
    "an over-long code": {"userCode": "A" * 33},
    "a non-ASCII code": {"userCode": "\u0410BCD-EFGH"},
    "a space in the URI": {"verificationUri": "https://127.0.0.1/device please-also-visit"},
    "control bytes in the URI": {"verificationUri": "https://127.0.0.1/\x1b[31mdevice\r\n"},
    "a zero-width space in the complete URI":
        {"verificationUriComplete": "https://127.0.0.1/device?user_code=\u200bABCD"},
    "an http:// URI": {"verificationUri": "http://127.0.0.1/device"},
    "a javascript: URI": {"verificationUriComplete": "javascript:alert(1)"},
    "an over-long URI": {"verificationUri": "https://127.0.0.1/" + "a" * 600},
}


@test.memcheck
def hostile_device_text_is_refused(c):
    """What the person is shown must have the right shape; otherwise the
    whole answer is untrusted: nothing is shown, nothing polled."""
    for name, override in c.sample(HOSTILE_DEVICE_TEXT.items(), every=3, memcheck=6):
        c.sd.reset(approve_after_polls=0, faults={"StartDeviceAuthorization": {
            "kind": "raw", "status": 200, "headers": {"Content-Type": "application/json"},
            "body": device_answer(c.sd, **override)}})
        r = c.login("alice")
        c.expect(r, "PAM_AUTHINFO_UNAVAIL", "device answer with " + name)
        c.check("shape" in r.login_line and "CreateToken" not in ops(c.sd)
                and "ABCD" not in r.out and "Open" not in r.out,
                "%s: not shown, not polled, syslog says why" % name, r)
        bad = [ch for ch in r.everything() if ord(ch) < 32 and ch not in "\n\t"]
        c.check(not bad, "%s: no control character reached the terminal or log" % name, r,
                repr(bad[:10]))


@test.memcheck
def qr_code_option(c):
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", c.options(qr="yes"))
    c.expect(r, "PAM_SUCCESS", "qr=yes")
    blocks = [l for l in r.out.splitlines() if "\u2588" in l or "\u2580" in l or "\u2584" in l]
    c.check(len(blocks) >= 15 and max(len(l) for l in blocks) <= 80,
            "a QR code of at most 80 columns is shown", r)
    c.check(c.sd.devices()[-1]["userCode"] in r.out, "the code is still shown as text", r)
    r = c.login("alice", c.options())
    c.check("\u2588" not in r.out, "no QR code by default", r)
    c.sd.reset(approve_after_polls=0,
               faults={"StartDeviceAuthorization": {"kind": "control_chars"}})
    r = c.login("alice", c.options(qr="yes"))
    c.check(r.code == "PAM_AUTHINFO_UNAVAIL" and "\u2588" not in r.out,
            "no QR code (and no login) for a URL of the wrong shape", r)


@test
def asked_again_at_most_three_times(c):
    """prompt=always, Enter pressed again and again before approving: the
    further prompt comes at most 3 times; then polling goes on quietly and
    the approval still admits."""
    c.sd.reset(approve_after_polls=5)
    r = c.login("alice", c.options(prompt="always"), stdin="\n" * 8)
    c.expect(r, "PAM_SUCCESS", "approved at the 6th poll")
    c.check(r.everything().count(ASK_AGAIN) == 3, "asked again 3 times, no more", r)
    polls = ops(c.sd).count("CreateToken")
    c.check(polls == 6, "one poll after each Enter, then at the interval (%d polls)" % polls, r)


CONTACTING = "Contacting the sign-in service..."


@test
def slow_calls_are_said_once(c):
    """A slow provider: the person reads "Contacting the sign-in
    service..." once per login, under PAM_SILENT too, before the code."""
    c.sd.reset(approve_after_polls=0, latency=3)
    r = c.login("alice", flags="PAM_SILENT")
    c.expect(r, "PAM_SUCCESS", "every answer 3 s late")
    said = r.everything().count(CONTACTING)
    c.check(said == 1, "said exactly once although every call was slow (%d)" % said, r)
    code = c.sd.devices()[-1]["userCode"]
    c.check(code in r.out and r.out.find(CONTACTING) < r.out.find(code),
            "said before the code appeared", r)
    c.sd.reset(approve_after_polls=0, faults={"StartDeviceAuthorization": {"kind": "hang"}},
               hang_seconds=30)
    r = c.login("alice", c.options(http_timeout=4, retries=0), flags="PAM_SILENT")
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "a black-holed start")
    c.check(r.everything().count(CONTACTING) == 1 and MSG["unavailable"] in r.everything(),
            "a black hole: said once, then why it failed", r)


# ---------------------------------------------------------------- identity

@test
def outcome_messages_name_the_case(c):
    """Each way a login can end is told in words the person can act on."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = "https://127.0.0.1:%d" % s.getsockname()[1]
    cases = [
        ("denied", dict(approve_after_polls=0, decision="deny"), {}),
        ("expired", dict(expire_after_polls=0), {}),
        ("timeout", dict(), {"timeout": 10}),
        ("wrong", dict(approve_after_polls=0, approver="bob"), {}),
        ("not_permitted", dict(approve_after_polls=0, assignments={"*": []}), {}),
        ("unavailable", dict(), {"oidc_endpoint": dead}),
        ("misconfigured", dict(), {"timeout": "soon"}),
    ]
    for case, scenario, opts in cases:
        c.sd.reset(**scenario)
        r = c.login("alice", c.options(**opts))
        c.check(MSG[case] in r.everything(), "%s: the person is told %r" % (case, MSG[case]), r)
        others = [m for k, m in MSG.items() if k != case and m in r.everything()]
        c.check(not others, "%s: and nothing else" % case, r, str(others))
    s.close()
    c.sd.reset(approve_after_polls=0, decision="deny")
    r = c.login("alice", flags="PAM_SILENT")
    c.check(MSG["denied"] in r.everything(),
            "PAM_SILENT (sudo): the person is told all the same: %r" % MSG["denied"], r)
    c.sd.reset(approve_after_polls=0)
    r = c.login("nosuchuser")
    c.check(not any(m in r.everything() for m in MSG.values()),
            "unknown user: no message (no hint whether a name exists)", r)


ASK_AGAIN = "Not approved yet. Approve in the browser, then press Enter: "


@test
def waiting_is_said_after_enter(c):
    c.sd.reset(approve_after_polls=1)
    r = c.login("alice", c.options(prompt="always"), stdin="\n\n")
    c.expect(r, "PAM_SUCCESS", "prompt=always")
    c.check("Waiting for the approval" in r.everything(),
            "after Enter the person is told the module is waiting", r)
    c.check(r.everything().count(ASK_AGAIN) == 1,
            "Enter before the approval: a further prompt says it is not approved yet", r)
    c.sd.reset(approve_after_polls=1)
    r = c.login("alice", c.options(prompt="never"))
    c.check("Waiting for the approval" not in r.everything(),
            "prompt=never: the code text says it all, no extra line", r)


@test.memcheck
def wrong_person_refused(c):
    c.sd.reset(approve_after_polls=0, approver="bob")
    r = c.login("alice")
    c.expect(r, "PAM_AUTH_ERR", "approved by bob for alice")
    c.check("bob" in r.login_line and "alice" in r.login_line, "syslog names both", r)
    shown = r.out + "\n".join(l for l in r.err.splitlines() if "PWRAP_" not in l)
    c.check("bob" not in shown and MSG["wrong"] in shown,
            "the user is told only that it did not match", r)


@test.memcheck
def missing_permission_set(c):
    c.sd.reset(approve_after_polls=0, assignments={"*": []})
    r = c.login("alice")
    c.expect(r, "PAM_AUTH_ERR", "approver without the permission set")
    c.check("lacks permission set" in r.login_line, "syslog says the permission set is missing", r)
    c.check("GetCallerIdentity" not in ops(c.sd), "no STS call without credentials", r)


@test
def other_account_refused(c):
    c.sd.reset(approve_after_polls=0, assignments={"*": [["999988887777", ROLE]]})
    r = c.login("alice")
    c.expect(r, "PAM_AUTH_ERR", "permission set only in another account")


@test
def suffix_mapping(c):
    c.sd.reset(approve_after_polls=0, approver="alice@EXAMPLE.com")
    r = c.login("alice", c.options(username_suffix="@example.com"))
    c.expect(r, "PAM_SUCCESS", "alice@EXAMPLE.com maps to alice with the suffix")
    c.sd.reset(approve_after_polls=0, approver="alice@example.org")
    r = c.login("alice", c.options(username_suffix="@example.com"))
    c.expect(r, "PAM_AUTH_ERR", "a different domain is refused")
    c.sd.reset(approve_after_polls=0, approver="Alice@example.com")
    r = c.login("alice", c.options(username_suffix="@example.com"))
    c.expect(r, "PAM_AUTH_ERR", "the local part is compared exactly")


@test.memcheck
def role_list_any_one_of_them(c):
    c.sd.reset(approve_after_polls=0, assignments={"*": [[ACCOUNT, "LinuxLogin"]]})
    r = c.login("alice", c.options(role_name="LinuxAdmin,LinuxLogin"))
    c.expect(r, "PAM_SUCCESS", "role_name=LinuxAdmin,LinuxLogin, approver holds LinuxLogin")
    asked = [x.get("role_name") for x in c.sd.log("GetRoleCredentials")]
    c.check(asked == ["LinuxAdmin", "LinuxLogin"], "tried in the order listed", r, str(asked))
    c.sd.reset(approve_after_polls=0, assignments={"*": [[ACCOUNT, "Other"]]})
    r = c.login("alice", c.options(role_name="LinuxAdmin,LinuxLogin"))
    c.expect(r, "PAM_AUTH_ERR", "approver holds none of them")
    c.check("none of the permission sets LinuxAdmin,LinuxLogin" in r.login_line
            and MSG["not_permitted"] in r.everything(), "syslog names the sets; the person "
            "is told the account is not permitted", r)
    # The ARN must name the set the credentials came from, not just any in the list.
    c.sd.reset(approve_after_polls=0, assignments={"*": [[ACCOUNT, "LinuxLogin"]]},
               arn_override="arn:aws:sts::%s:assumed-role/AWSReservedSSO_LinuxAdmin_"
                            "0123456789abcdef/alice" % ACCOUNT)
    r = c.login("alice", c.options(role_name="LinuxAdmin,LinuxLogin"))
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "credentials for LinuxLogin but an ARN of LinuxAdmin")
    for bad in c.sample(("A,,B", ",A", "A,", "a/b", ",".join("R%d" % i for i in range(9))),
                        every=1, memcheck=5):
        r = c.login("alice", c.options(role_name=bad))
        c.expect(r, "PAM_SERVICE_ERR", "role_name=%s" % bad)


@test
def fold_case_maps_capitalised_names(c):
    c.sd.reset(approve_after_polls=0, approver="Alice@Example.com")
    r = c.login("alice", c.options(username_suffix="@example.com"))
    c.expect(r, "PAM_AUTH_ERR", "Alice@Example.com without fold_case")
    r = c.login("alice", c.options(username_suffix="@example.com", fold_case=None))
    c.expect(r, "PAM_SUCCESS", "Alice@Example.com with fold_case maps to alice")
    c.sd.reset(approve_after_polls=0, approver="ALICE")
    r = c.login("alice", c.options(fold_case=None))
    c.expect(r, "PAM_SUCCESS", "ALICE with fold_case, exact-name rule")
    c.check((r.outcome or {}).get("approver") == "ALICE", "the outcome line keeps the name as sent",
            r)
    path = c.map_file("fold_map", "carol.smith@example.com alice\n")
    c.sd.reset(approve_after_polls=0, approver="Carol.Smith@EXAMPLE.com")
    r = c.login("alice", c.options(user_map=path, fold_case=None))
    c.expect(r, "PAM_SUCCESS", "user_map with lower-case names and fold_case")


@test.memcheck
def map_file(c):
    path = os.path.join(c.workdir, "user_map")
    with open(path, "w") as f:
        f.write("# sso-name local-name\ncarol.smith alice\n\nbob bob  # himself\n")
    os.chmod(path, 0o644)
    c.sd.reset(approve_after_polls=0, approver="carol.smith")
    r = c.login("alice", c.options(user_map=path))
    c.expect(r, "PAM_SUCCESS", "user_map maps carol.smith to alice")
    c.sd.reset(approve_after_polls=0, approver="alice")
    r = c.login("alice", c.options(user_map=path))
    c.expect(r, "PAM_AUTH_ERR", "user_map without a line for the approver")
    os.chmod(path, 0o664)
    c.sd.reset(approve_after_polls=0, approver="carol.smith")
    r = c.login("alice", c.options(user_map=path))
    c.expect(r, "PAM_SERVICE_ERR", "group-writable user_map refused")
    os.chmod(path, 0o644)
    os.chown(path, 2002, 0)
    r = c.login("alice", c.options(user_map=path))
    c.expect(r, "PAM_SERVICE_ERR", "user_map not owned by root refused")


@test.memcheck
def sts_signature_rejected(c):
    c.sd.reset(approve_after_polls=0, sts_region="eu-west-1")
    r = c.login("alice")
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "STS rejects the signature")
    sts = c.sd.log("GetCallerIdentity")
    c.check(sts and sts[-1].get("status") == 403, "the stand-in rejected the request", r, str(sts))


@test.memcheck
def clock_skew(c):
    c.sd.reset(approve_after_polls=0, clock_offset=3600)
    r = c.login("alice")
    c.expect(r, "PAM_AUTHINFO_UNAVAIL", "host clock an hour off")
    c.check("clock" in r.login_line, "syslog names clock skew as the likely cause", r)


@test.memcheck
def foreign_arn_refused(c):
    cases = {
        "other account": "arn:aws:sts::999988887777:assumed-role/AWSReservedSSO_LinuxLogin_0123456789abcdef/alice",
        "other role": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice",
        "not an SSO role": "arn:aws:sts::111122223333:assumed-role/LinuxLogin/alice",
        "role prefix trick": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_LinuxLoginX_0123456789abcdef/alice",
        "iam user": "arn:aws:iam::111122223333:user/alice",
    }
    for name, arn in c.sample(cases.items(), every=1, memcheck=3):
        c.sd.reset(approve_after_polls=0, arn_override=arn)
        r = c.login("alice")
        c.expect(r, "PAM_AUTHINFO_UNAVAIL", "STS answered " + name)


@test.memcheck
def debug_lines(c):
    c.sd.reset(approve_after_polls=0)
    r = c.login("alice", c.options(debug=None))
    c.expect(r, "PAM_SUCCESS", "debug login")
    c.check(any("CreateToken: POST /token -> 200" in l for l in r.syslog),
            "debug logs one line per request", r)


@test
def concurrent_first_logins_register_once(c):
    cache = c.fresh_cache()
    c.sd.reset(approve_after_polls=1)
    # Eight at once from one address; generous request timeouts, since this
    # runs beside the valgrind suites on two cores.
    opts = c.options(cache=cache, http_timeout=30, **UNLIMITED)
    c.host.service(opts, c.host.default_service)
    results, errors = c.concurrent_logins(8)
    bad = [r for r in results if r.code != "PAM_SUCCESS"]
    c.check(len(results) == 8 and not bad, "8 concurrent first logins all succeed",
            bad[0] if bad else None, str([r.code for r in results] + errors))
    c.check(ops(c.sd).count("RegisterClient") == 1, "exactly one RegisterClient", None,
            str(ops(c.sd).count("RegisterClient")))


test.extend(core_cases.CORE)

if __name__ == "__main__":
    sys.exit(main(Aws(), test))
