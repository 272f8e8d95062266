#!/usr/bin/python3
"""The directory client (pam_ssooidc/aws/directory.h) against the Identity
Store and IMDSv2 stand-in (tests/standin/directory.py), through
build/tools/directory_drive (make build/tools/directory_drive).

    tests/sync/test_directory_client.py [--drive PATH] [--standin PATH] [--no-valgrind]

The stand-in's path can also come from DIRECTORY_STANDIN. The working
directory is a trusted temporary one (the client reads its configuration, ca_file
and credentials file through the trusted-path walk: every directory above
them must be root-owned and not writable by others). Every server listens on
127.0.0.1 only. TAP output; exit 1 when a check failed."""
import argparse
import json
import os
import resource
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))
import harness  # noqa: E402
from tap import Tap  # noqa: E402

STORE = "d-1234567890"
DRIVE_TIMEOUT = 120


class Standin:
    def __init__(self, script, workdir):
        self.dir = os.path.join(workdir, "standin")
        self.log = open(os.path.join(workdir, "standin.out"), "w")
        self.proc = subprocess.Popen([sys.executable, script, "--dir", self.dir],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        port_file = os.path.join(self.dir, "directory.port")
        for _ in range(200):
            if os.path.exists(port_file):
                break
            if self.proc.poll() is not None:
                raise RuntimeError("the stand-in exited: see %s" % self.log.name)
            time.sleep(0.05)
        ports = json.load(open(port_file))
        self.https, self.imds = ports["https"], ports["imds"]
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def _call(self, method, path, obj=None):
        data = json.dumps(obj).encode() if obj is not None else None
        req = urllib.request.Request("https://127.0.0.1:%d%s" % (self.https, path), data=data,
                                     method=method)
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            return json.loads(r.read())

    def set(self, **upd):
        return self._call("POST", "/_standin/directory", upd)

    def snapshot(self):
        return self._call("GET", "/_standin/directory")

    def log_records(self):
        return self._call("GET", "/_standin/log")

    def reset_log(self):
        return self._call("POST", "/_standin/reset_log", {})

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Env:
    def __init__(self, tap, drive, st, workdir):
        self.tap, self.drive, self.st, self.workdir = tap, drive, st, workdir
        self.conf = os.path.join(workdir, "pam_ssooidc.conf")

    def write_conf(self, groups, ca=None, credentials_file=None, store=STORE):
        lines = ["start_url = https://d-1234567890.awsapps.com/start", "region = us-east-1",
                 "allow_any_approver = yes", "retries = 2", "http_timeout = 10",
                 "ca_file = %s" % (ca or self.st.ca),
                 "identity_store_id = %s" % store,
                 "sync_groups = %s" % ",".join(groups),
                 "identity_store_endpoint = https://127.0.0.1:%d" % self.st.https,
                 "imds_endpoint = http://127.0.0.1:%d" % self.st.imds]
        if credentials_file:
            lines.append("sync_credentials_file = %s" % credentials_file)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.conf, 0o600)

    def run(self, wrap=(), env=None):
        t0 = time.monotonic()
        p = subprocess.run(list(wrap) + [self.drive, self.conf], capture_output=True,
                           timeout=DRIVE_TIMEOUT, env=dict({"PATH": "/usr/bin:/bin"}, **(env or {})))
        out = p.stdout.decode("utf-8", "replace")
        people, summary = [], None
        for line in out.splitlines():
            obj = json.loads(line)
            if "user_id" in obj:
                people.append(obj)
            else:
                summary = obj
        return p.returncode, people, summary, p.stderr.decode("utf-8", "replace"), \
            time.monotonic() - t0


def generated(st, users, groups, per_group):
    st.set(generate={"users": users, "groups": groups, "per_group": per_group},
           throttle={op: None for op in ("ListGroupMemberships", "ListUsers", "DescribeUser")},
           fail={op: None for op in ("ListGroupMemberships", "ListUsers", "DescribeUser")},
           malformed={op: None for op in ("ListGroupMemberships", "ListUsers", "DescribeUser")},
           imds={"mode": "v2"})
    return st.snapshot()


def expected(snap, group_ids):
    users = {u["UserId"]: u for u in snap["users"]}
    want = {}
    for i, gid in enumerate(group_ids):
        for uid in snap["groups"][gid]["members"]:
            want.setdefault(uid, 0)
            want[uid] |= 1 << i
    return users, want


def test_paging(env):
    tap, st = env.tap, env.st
    # 250 users; three groups of 150 overlapping: every group takes two pages
    # of memberships, the users three pages.
    snap = generated(st, 250, 3, 150)
    gids = list(snap["groups"])
    env.write_conf(["%s:grp%d" % (g, i) for i, g in enumerate(gids)])
    st.reset_log()
    rc, people, summary, err, _ = env.run()
    users, want = expected(snap, gids)
    tap.check(rc == 0 and len(people) == 250 == len(want),
              "paging: 250 members of 3 groups read (%d people, exit %d)" % (len(people), rc),
              err)
    got = {p["user_id"]: p for p in people}
    tap.check(all(got.get(u, {}).get("groups") == bits for u, bits in want.items()),
              "paging: every member's group bits are those of the directory")
    tap.check(all(got[u]["user_name"] == users[u]["UserName"] and got[u]["enabled"]
                  and got[u]["problem"] == "" for u in got if u in users),
              "paging: names and statuses are the directory's")
    ids = [p["user_id"] for p in people]
    tap.check(ids == sorted(ids), "paging: people come sorted by user_id")
    counts = {}
    for r in st.log_records():
        counts[r["op"]] = counts.get(r["op"], 0) + 1
    tap.check(counts.get("ListGroupMemberships") == 6 and counts.get("ListUsers") == 3
              and summary == {"requests": 9, "throttled": 0},
              "paging: 6 membership pages and 3 user pages, 9 requests counted "
              "(log %s, summary %s)" % (counts, summary))
    sig = [r.get("sigv4") for r in st.log_records() if r["server"] == "api"]
    tap.check(sig and all(s == "ok" for s in sig), "paging: every call's SigV4 signature "
              "verified by the stand-in")
    return gids


def test_large(env):
    tap, st = env.tap, env.st
    # 10,000 members in 5 groups of 2,000 (100 pages of users, 100 of
    # memberships): a quadratic merge or lookup would show in the CPU time.
    snap = generated(st, 10000, 5, 2000)
    env.write_conf(list(snap["groups"]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc, people, summary, err, secs = env.run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tap.check(rc == 0 and len(people) == 10000 and summary["requests"] == 200,
              "10,000 members in 5 groups read (%d people, %s)" % (len(people), summary), err)
    tap.check(cpu < 2.0, "10,000 members: the client used %.2f s of CPU (under 2 s)" % cpu)


def test_disabled_and_deleted(env, gids):
    tap, st = env.tap, env.st
    generated(st, 20, 1, 10)
    snap = st.snapshot()
    g = list(snap["groups"])[0]
    victim = snap["groups"][g]["members"][0]
    st.set(op="disable", UserId=victim)
    ghost = str(uuid.uuid4())
    st.set(op="add_member", GroupId=g, UserId=ghost)  # listed as a member, no such user
    env.write_conf([g])
    st.reset_log()
    rc, people, summary, err, _ = env.run()
    got = {p["user_id"]: p for p in people}
    tap.check(rc == 0 and len(people) == 10 and got.get(victim, {}).get("enabled") is False,
              "a disabled member is listed with enabled false", err)
    describes = [r for r in st.log_records() if r["op"] == "DescribeUser"]
    tap.check(ghost not in got and len(describes) == 1 and describes[0]["status"] == 400,
              "a member ListUsers did not return is asked for with DescribeUser, and dropped "
              "when it is gone (%d DescribeUser)" % len(describes))
    st.set(fail={"DescribeUser": {"type": "ResourceNotFoundException", "count": 1}})
    rc, people, summary, err, _ = env.run()
    tap.check(rc == 1 and not people and "identity store" in err,
              "DescribeUser answering that the store is gone fails the read (no member "
              "dropped for it)", err)
    st.set(fail={"DescribeUser": {"type": "AccessDeniedException", "count": 1}})
    rc, people, summary, err, _ = env.run()
    tap.check(rc == 1 and not people and "identitystore:DescribeUser" in err,
              "DescribeUser denied: exit 1 naming identitystore:DescribeUser", err)
    st.set(fail={"DescribeUser": None})


def test_throttling(env):
    tap, st = env.tap, env.st
    snap = generated(st, 30, 1, 30)
    env.write_conf(list(snap["groups"]))
    st.set(throttle={"ListUsers": {"count": 2, "retry_after": 2}})
    rc, people, summary, err, secs = env.run()
    tap.check(rc == 0 and len(people) == 30, "throttling: two ThrottlingExceptions are retried "
              "and the read succeeds", err)
    tap.check(summary == {"requests": 4, "throttled": 2},
              "throttling: 4 requests, 2 throttled counted (%s)" % summary)
    # Without RetryAfterSeconds the two waits would be under 1 s + 2 s.
    tap.check(secs >= 4.0, "throttling: RetryAfterSeconds=2 honoured twice (%.1f s)" % secs)
    st.set(throttle={"ListUsers": {"count": 5, "retry_after": 0}})
    rc, people, summary, err, _ = env.run()
    tap.check(rc == 1 and not people and "throttled" in err,
              "throttling: beyond the retries the read fails, nothing printed", err)
    st.set(throttle={"ListUsers": None})


def test_errors(env):
    tap, st = env.tap, env.st
    snap = generated(st, 30, 2, 20)
    gids = list(snap["groups"])
    env.write_conf(gids)
    st.set(fail={"ListGroupMemberships": {"type": "AccessDeniedException", "count": 1}})
    rc, people, summary, err, _ = env.run()
    tap.check(rc == 1 and not people and "identitystore:ListGroupMemberships" in err
              and "AccessDenied" in err,
              "AccessDeniedException: exit 1 naming identitystore:ListGroupMemberships", err)
    env.write_conf(gids + [str(uuid.uuid4())])
    rc, people, summary, err, _ = env.run()
    tap.check(rc == 1 and not people and "not found" in err and "sync_groups" in err,
              "a group that does not exist: exit 1 naming the group in sync_groups", err)
    env.write_conf(gids, store="d-0000000000")
    rc, people, summary, err, _ = env.run()
    tap.check(rc == 1 and not people and "identity store d-0000000000" in err,
              "a store that does not exist: exit 1 naming identity_store_id", err)
    env.write_conf(gids)
    for kind in ("bad_userid", "missing_member", "notjson", "wrongtype", "huge"):
        st.set(malformed={"ListGroupMemberships": {"kind": kind, "count": 1}})
        rc, people, summary, err, _ = env.run()
        tap.check(rc == 1 and not people and summary is None and "ListGroupMemberships" in err,
                  "a malformed membership page (%s) fails the whole read, naming the call"
                  % kind, err)
        st.set(malformed={"ListGroupMemberships": None})
    st.set(malformed={"ListUsers": {"kind": "missing_member", "count": 1}})
    rc, people, summary, err, _ = env.run()
    tap.check(rc == 1 and not people and "Users" in err,
              "a user page without its Users list fails the whole read", err)
    st.set(malformed={"ListUsers": None})


def test_hostile_names(env):
    tap, st = env.tap, env.st
    snap = generated(st, 5, 1, 5)
    g = list(snap["groups"])[0]
    hostile = {"newline": "eve\nroot", "escape": "mal\x1b[2J\x07lory", "long": "x" * 200,
               "c1": "bad\u0085name", "del": "del\x7fete"}
    ids = {}
    for key, name in hostile.items():
        uid = str(uuid.uuid4())
        ids[key] = uid
        st.set(op="add_user", UserId=uid, UserName=name)
        st.set(op="add_member", GroupId=g, UserId=uid)
    env.write_conf([g])
    rc, people, summary, err, _ = env.run()
    got = {p["user_id"]: p for p in people}
    tap.check(rc == 0 and len(people) == 10,
              "hostile names: the read succeeds with all 10 members", err)
    bad = [got.get(uid, {}) for uid in ids.values()]
    tap.check(all(p.get("problem") and p.get("user_name") == "" for p in bad),
              "hostile names: newline, escape, 200 bytes, C1, DEL each set that person's "
              "problem", json.dumps(bad))
    clean = all(all(ord(ch) >= 0x20 and not 0x7f <= ord(ch) <= 0x9f for ch in p["problem"])
                for p in bad if p)
    tap.check(clean and "x" * 100 not in json.dumps(bad),
              "hostile names: the problem text holds no control character and no raw copy")
    others = [p for p in people if p["user_id"] not in ids.values()]
    tap.check(len(others) == 5 and all(p["problem"] == "" and p["user_name"] for p in others),
              "hostile names: the other members are fine")


def imds_ops(st):
    return [(r["op"], r["method"]) for r in st.log_records() if r["server"] == "imds"]


def test_imds(env):
    tap, st = env.tap, env.st
    snap = generated(st, 10, 1, 10)
    env.write_conf(list(snap["groups"]))
    st.reset_log()
    rc, people, _, err, _ = env.run()
    ops = imds_ops(st)
    tap.check(rc == 0 and ops == [("ImdsToken", "PUT"), ("ImdsRoleList", "GET"),
                                  ("ImdsCredentials", "GET")],
              "IMDSv2: PUT token, GET role, GET credentials (%s)" % ops, err)
    st.set(imds={"mode": "v1only"})
    st.reset_log()
    rc, people, _, err, _ = env.run()
    ops = imds_ops(st)
    tap.check(rc == 1 and "IMDSv2" in err and "HTTP 403" in err and ops == [("ImdsToken", "PUT")],
              "IMDSv1-only metadata refused: no GET ever sent without a token (%s)" % ops, err)
    for mode, words in (("huge", "larger than"), ("badjson", "not a JSON object"),
                        ("expired", "expired"), ("redirect", "redirect"),
                        ("control_chars", "several IAM roles"), ("no_role", "no IAM role"),
                        ("role_escape", "not a role name")):
        if mode == "role_escape":  # one line, but not a role name
            st.set(imds={"mode": "v2"}, role="Linux\x1b[2JRole")
        else:
            st.set(imds={"mode": mode})
        st.reset_log()
        rc, people, _, err, _ = env.run()
        ops = imds_ops(st)
        tap.check(rc == 1 and not people and words in err
                  and ("ImdsRedirectFollowed", "GET") not in ops
                  and not any(r["server"] == "api" for r in st.log_records()),
                  "IMDS %s refused (%s) and nothing sent to the API" % (mode, words), err)
    st.set(imds={"mode": "slow", "slow_seconds": 8})
    rc, people, _, err, secs = env.run()
    tap.check(rc == 1 and secs < 7.5, "IMDS that does not answer: given up within the 5 s "
              "limit (%.1f s)" % secs, err)
    st.set(imds={"mode": "v2"}, role=snap["role"])
    proxies = {v: "http://127.0.0.1:9" for v in ("http_proxy", "HTTP_PROXY", "https_proxy",
                                                 "HTTPS_PROXY", "ALL_PROXY", "all_proxy")}
    rc, people, _, err, _ = env.run(env=proxies)
    tap.check(rc == 0 and len(people) == 10,
              "proxy variables in the environment are ignored (IMDS and API)", err)
    secret = snap["credentials"]["SecretAccessKey"]
    token = snap["credentials"].get("Token") or "no-token"
    st.set(imds={"mode": "expired"})
    rc, _, _, err, _ = env.run()
    tap.check(secret not in err and token not in err,
              "IMDS errors never show the secret key or the session token")
    st.set(imds={"mode": "v2"})


def test_credentials_file(env):
    tap, st = env.tap, env.st
    snap = generated(st, 10, 1, 10)
    g = list(snap["groups"])
    cred = snap["credentials"]
    path = os.path.join(env.workdir, "credentials")

    def write(text, mode):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    good = "# host keys\n[default]\naws_access_key_id = %s\n; comment\n" \
           "aws_secret_access_key=%s\naws_session_token = %s\nregion = us-east-1\n" % (
               cred["AccessKeyId"], cred["SecretAccessKey"], cred.get("Token") or "")
    env.write_conf(g, credentials_file=path)
    write(good, 0o600)
    st.reset_log()
    rc, people, _, err, _ = env.run()
    tap.check(rc == 0 and len(people) == 10 and not imds_ops(st),
              "credentials file (0600): the read succeeds without asking IMDS", err)
    write(good, 0o644)
    rc, people, _, err, _ = env.run()
    tap.check(rc == 1 and "mode 0644" in err and cred["SecretAccessKey"] not in err,
              "credentials file with mode 0644 refused", err)
    write(good + "[profile other]\naws_access_key_id = AKIAOTHEROTHEROTHER\n", 0o600)
    rc, people, _, err, _ = env.run()
    tap.check(rc == 1 and "only [default]" in err, "a second section is refused", err)
    write(good.replace("aws_secret_access_key", "aws_secret_key"), 0o600)
    rc, people, _, err, _ = env.run()
    tap.check(rc == 1 and "aws_secret_access_key" in err,
              "a missing key is named", err)
    os.unlink(path)


def test_wrong_ca(env):
    tap, st = env.tap, env.st
    snap = generated(st, 10, 1, 10)
    other = os.path.join(env.workdir, "other-ca")
    os.makedirs(other, mode=0o755, exist_ok=True)
    key, pem = os.path.join(other, "ca.key"), os.path.join(other, "ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", pem,
                    "-days", "2", "-subj", "/CN=not the stand-in's CA"],
                   check=True, capture_output=True)
    env.write_conf(list(snap["groups"]), ca=pem)
    st.reset_log()
    rc, people, _, err, _ = env.run()
    api = [r for r in st.log_records() if r["server"] == "api"]
    tap.check(rc == 1 and not people and "not trusted" in err and not api,
              "a ca_file that did not sign the stand-in's certificate: refused, no call "
              "answered", err)


def test_valgrind(env):
    tap, st = env.tap, env.st
    snap = generated(st, 12, 2, 8)
    env.write_conf(list(snap["groups"]))
    st.set(throttle={"ListUsers": {"count": 1, "retry_after": 0}})
    rc, people, _, err, _ = env.run(wrap=["valgrind", "--error-exitcode=99", "--leak-check=full",
                                          "--errors-for-leak-kinds=definite,indirect", "-q"])
    tap.check(rc == 0 and len(people) == 12,
              "valgrind: a small read (one throttle retried) with no memory error or leak "
              "(exit %d)" % rc, err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--drive", default=os.path.join(ROOT, "build/tools/directory_drive"))
    ap.add_argument("--standin", default=os.environ.get(
        "DIRECTORY_STANDIN", os.path.join(ROOT, "tests/standin/directory.py")))
    ap.add_argument("--no-valgrind", action="store_true")
    a = ap.parse_args()
    tap = Tap()
    # A trusted place, whatever the tree's: the client reads its files
    # through the trusted-path walk (a clone under /tmp is not one).
    workdir = harness.trusted_tempdir("dirclient.")
    st = Standin(a.standin, workdir)
    try:
        env = Env(tap, a.drive, st, workdir)
        gids = test_paging(env)
        test_disabled_and_deleted(env, gids)
        test_large(env)
        test_throttling(env)
        test_errors(env)
        test_hostile_names(env)
        test_imds(env)
        test_credentials_file(env)
        test_wrong_ca(env)
        if a.no_valgrind or not shutil.which("valgrind"):
            tap.skip("valgrind", "not asked for, or not installed")
        else:
            test_valgrind(env)
    finally:
        st.stop()
    rc = tap.done()
    if rc == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
