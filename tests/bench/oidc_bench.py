#!/usr/bin/python3
"""make bench, the OpenID part: what a login costs against panva's
oidc-provider on 127.0.0.1, side by side with curl making the same requests,
and what verifying one ID token costs. Reports, asserting nothing.

BENCH_OIDC_ROUNDS rounds (default 12; each takes about 21 s), each of:
  - a warm login (discovery document and JWKS in the module's cache) and a
    cold one (the cache emptied first), approved 0.3 s after the module's
    first poll: device authorization and two token polls (the second
    carries the ID token), plus discovery and JWKS when cold;
  - curl making the same requests over one connection with the same CA
    file: the device authorization, a poll of a pending device code and a
    poll of an approved one (so the last answer carries an ID token too);
    discovery and JWKS first for the cold baseline;
  - the PAM host alone: pam_drive with pam_permit in place of the module.
The module runs as in production (no debug); TCP connections and requests
are counted at the server (its /_test/wire log). CPU is user + system time
of the whole process (runstat), the ratios are per round, then summarised
as min / median / max. BENCH_OIDC_WRAP="perf record -g -o FILE --" (or
any prefix) runs the module's logins and curl under a profiler.
BENCH_BEFORE_MODULE=PATH adds, to every round, a warm login through that
build of the module (an earlier commit's): before and after in one run."""
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))
sys.path.insert(0, os.path.join(ROOT, "tests", "providers"))
import benchlib  # noqa: E402
from benchlib import ratios, spread  # noqa: E402
import harness  # noqa: E402
import oidcclient as oc  # noqa: E402
import providers  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_OIDC_ROUNDS", "12"))
WRAP = shlex.split(os.environ.get("BENCH_OIDC_WRAP", ""))
BEFORE = os.environ.get("BENCH_BEFORE_MODULE", "")
MODULE = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
RUNSTAT = benchlib.RUNSTAT
JOSE_BENCH = os.path.join(ROOT, "build", "tools", "jose_bench")
CODE_LINE = re.compile(r"^    ([A-Za-z0-9-]{4,})$")
INTERVAL = 5  # oidc-provider's device answer names none: RFC 8628's default
SCOPE = "openid profile groups"


class Wire:
    """The provider's request log, read after each measured step: the
    requests and TCP connections a client made to the endpoints a client
    uses (the approval's browser pages are left out)."""

    def __init__(self, p, disco):
        self.p = p
        self.paths = {urllib.parse.urlsplit(u).path for u in (
            disco["device_authorization_endpoint"], disco["token_endpoint"],
            disco["jwks_uri"])}
        self.paths.add(urllib.parse.urlsplit(p.issuer).path.rstrip("/")
                       + "/.well-known/openid-configuration")
        self.mark()

    def mark(self):
        log = self.p.wire()
        self.seq = log[-1]["seq"] if log else 0

    def since_mark(self):
        """(requests, connections) made to the client endpoints since mark()."""
        new = [r for r in self.p.wire() if r["seq"] > self.seq and r["path"] in self.paths]
        self.mark()
        return len(new), len({r["conn"] for r in new})


def measured_login(host, real, service, p, user):
    """One login under runstat; approve 0.3 s after the module's first poll.
    Returns (cpu, peak rss KiB, approval->end seconds, succeeded, system
    seconds)."""
    fd, stat_out = tempfile.mkstemp()
    os.close(fd)
    prefix, drive, env = benchlib.pam_host(host, real)
    proc = subprocess.Popen(prefix + [RUNSTAT, "-o", stat_out] + WRAP + drive
                            + ["-c", "enter", service, user],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                            text=True)
    code, seen = None, []
    for line in proc.stdout:
        seen.append(line)
        m = CODE_LINE.match(line.rstrip("\n"))
        if m and any("enter the code" in s for s in seen):
            code = m.group(1)
            break
    shown = time.monotonic()
    # The first poll goes out INTERVAL s after the code is shown; approving
    # 0.3 s later makes the second poll the one that succeeds: the slowest
    # an approval can be noticed.
    time.sleep(max(0.0, shown + INTERVAL + 0.3 - time.monotonic()))
    if code:
        p.approve(code, user, p.users[user].password)
    approved = time.monotonic()
    rest = proc.stdout.read()
    proc.wait(120)
    end = time.monotonic()
    cpu, rss, _rc, system = benchlib.read_runstat(stat_out)
    return cpu, rss, end - approved, code is not None and "PAM_SUCCESS" in rest, system


def curl_baseline(p, wire, ca, disco, client, cold):
    """curl, one process and one connection: [discovery, JWKS,] the device
    authorization, a poll of a pending device code, a poll of an approved
    one. The device codes are made (and one approved) beforehand.
    Returns (cpu, peak rss KiB, system seconds)."""
    h = p.http()
    pending = oc.device_authorize(h, disco, client)
    ready = oc.device_authorize(h, disco, client)
    p.approve(ready["user_code"], "alice", p.users["alice"].password)
    wire.mark()
    common = ["-s", "-o", "/dev/null", "--cacert", ca]
    cmd = []
    if cold:
        for url in (p.issuer.rstrip("/") + "/.well-known/openid-configuration",
                    disco["jwks_uri"]):
            cmd += ["--next"] + common + [url]
    cmd += ["--next"] + common + [
        "-d", "client_id=%s&scope=%s" % (client.client_id, urllib.parse.quote(SCOPE)),
        disco["device_authorization_endpoint"]]
    for dev in (pending, ready):
        cmd += ["--next"] + common + ["-d", "grant_type=%s&device_code=%s&client_id=%s" % (
            urllib.parse.quote(oc.DEVICE_GRANT, safe=""), dev["device_code"], client.client_id),
            disco["token_endpoint"]]
    _, cpu, system, rss, _ = benchlib.run_measured_sys(WRAP + ["curl"] + cmd[1:])
    return cpu, rss, system


def empty_cache(cache):
    """A cold start: the discovery document and JWKS the module keeps."""
    if os.path.isdir(cache):
        for name in os.listdir(cache):
            os.unlink(os.path.join(cache, name))


def token_and_jwks(p, alg, work):
    """A fresh ID token and the JWKS, through oidcclient and the provider's pages."""
    h = p.http()
    disco = oc.discover(h, p.issuer)
    client = p.client("none", alg)
    dev = oc.device_authorize(h, disco, client)
    p.approve(dev["user_code"], "alice", p.users["alice"].password)
    res = oc.poll(h, disco, client, dev, first_wait=0)
    tok = os.path.join(work, "token-" + alg)
    with open(tok, "w") as f:
        f.write(res.tokens["id_token"])
    jwks = os.path.join(work, "jwks.json")
    r = h.get(disco["jwks_uri"])
    with open(jwks, "w") as f:
        f.write(r.text)
    return tok, jwks, client.client_id


def main():
    work = harness.trusted_tempdir("ssooidc-oidc-bench-")
    os.chmod(work, 0o711)
    real = benchlib.RealHost(work, ["alice"])
    try:
        p = providers.start_panva(work)
    except providers.ProviderUnavailable as e:
        print("OpenID benchmark skipped: %s" % e)
        return 0
    try:
        host = harness.Host(work, MODULE)
        conf = host.write_conf("")
        ca = os.path.join(work, "ca.pem")
        shutil.copy(p.ca, ca)
        os.chmod(ca, 0o644)
        cache = os.path.join(work, "cache")
        options = ["conf=" + conf, "issuer=" + p.issuer, "client_id=pam-public-rs256",
                   "ca_file=" + ca, "cache_dir=" + cache, "scopes=" + SCOPE.replace(" ", ","),
                   "required_groups=linux-users", "prompt=never"] + harness.unlimited_options()
        host.service(options, "bench")
        if BEFORE:
            with open(os.path.join(host.svc, "before"), "w") as f:
                f.write("auth required %s %s\naccount required pam_permit.so\n"
                        % (BEFORE, " ".join(options)))
        with open(os.path.join(host.svc, "permit"), "w") as f:
            f.write("auth required pam_permit.so\n")
        disco = oc.discover(p.http(), p.issuer)
        client = p.client("none", "RS256")
        wire = Wire(p, disco)
        load_before = benchlib.load()
        cols = ("warm", "cold", "curl3", "curl5", "host") + (("before",) if BEFORE else ())
        cpu = {k: [] for k in cols}
        rss = {k: [] for k in cols}
        system = {k: [] for k in cols}
        reqs = {k: [] for k in cols}
        conns = {k: [] for k in cols}
        lat = []
        if not measured_login(host, real, "bench", p, "alice")[3]:  # fills the cache
            print("OpenID benchmark: the first login failed; aborting")
            return 1
        for rnd in range(ROUNDS):
            # Alternate the order, so a drift over a round favours neither side.
            steps = ["warm", "curl3", "cold", "curl5", "host"]
            if rnd % 2:
                steps = ["curl3", "warm", "curl5", "cold", "host"]
            if BEFORE:
                steps.insert(2 if rnd % 2 else 1, "before")
            for step in steps:
                wire.mark()
                if step in ("warm", "cold", "before"):
                    if step == "cold":
                        empty_cache(cache)
                    c, m, l, ok, sy = measured_login(host, real, "before" if step == "before"
                                                     else "bench", p, "alice")
                    if not ok:
                        print("OpenID benchmark: a %s login failed; aborting" % step)
                        return 1
                    if step == "warm":
                        lat.append(l)
                elif step == "host":
                    prefix, drive, env = benchlib.pam_host(host, real)
                    _, c, sy, m, _ = benchlib.run_measured_sys(drive + ["permit", "alice"],
                                                               env=env, prefix=prefix)
                else:
                    c, m, sy = curl_baseline(p, wire, ca, disco, client, step == "curl5")
                n_req, n_conn = wire.since_mark()
                cpu[step].append(c)
                system[step].append(sy)
                rss[step].append(m)
                reqs[step].append(n_req)
                conns[step].append(n_conn)
        load_after = benchlib.load()
        print("pam_ssooidc OpenID benchmark: %d rounds against oidc-provider, each a warm and "
              "a cold login (approved 0.3 s after the first poll, interval %d s), curl making "
              "the same requests, and the PAM host alone" % (ROUNDS, INTERVAL))
        print("  " + benchlib.load_line(load_before, load_after))
        print("  PAM host: " + real.describe())
        names = {"warm": "module, warm login", "cold": "module, cold login",
                 "curl3": "curl, the warm login's requests", "curl5": "curl, the cold login's",
                 "host": "PAM host alone (pam_permit)", "before": "BENCH_BEFORE_MODULE, warm"}
        print("  %-32s %9s %9s %24s %10s %12s" % ("", "requests", "TCP conn",
                                                   "CPU ms min/med/max", "of it kernel",
                                                   "peak RSS"))
        for k in cols:
            print("  %-32s %9s %9s %24s %9.1f%% %9d KiB" % (
                names[k], "/".join(map(str, sorted(set(reqs[k])))),
                "/".join(map(str, sorted(set(conns[k])))), spread(cpu[k], 1000),
                100.0 * statistics.median(ratios(system[k], cpu[k])),
                statistics.median(rss[k])))
        warm_r = ratios(cpu["warm"], cpu["curl3"])
        cold_r = ratios(cpu["cold"], cpu["curl5"])
        print("  per-round CPU ratio, warm login / curl: %s (median %.2fx; target 1.30x)" % (
            spread(warm_r, 1, "%.2fx"), statistics.median(warm_r)))
        print("  per-round CPU ratio, cold login / curl: %s" % spread(cold_r, 1, "%.2fx"))
        if BEFORE:
            before_r = ratios(cpu["before"], cpu["curl3"])
            print("  per-round CPU ratio, BENCH_BEFORE_MODULE warm login / curl: %s (median "
                  "%.2fx); this build / that one: %s" % (
                      spread(before_r, 1, "%.2fx"), statistics.median(before_r),
                      spread(ratios(cpu["warm"], cpu["before"]), 1, "%.2fx")))
        print("  per round, cold - warm login: %s ms CPU (target at most +3 ms)" % spread(
            [a - b for a, b in zip(cpu["cold"], cpu["warm"])], 1000))
        print("  per round, the PAM host alone / curl: %s" % spread(
            ratios(cpu["host"], cpu["curl3"]), 1, "%.2fx"))
        print("  approval -> PAM_SUCCESS (warm): %s ms (target at most interval + 100 ms = "
              "%d ms)" % (spread(lat, 1000, "%.0f"), INTERVAL * 1000 + 100))
        for alg in ("RS256", "ES256"):
            tok, jwks, cid = token_and_jwks(p, alg, work)
            out = subprocess.run([JOSE_BENCH, tok, jwks, p.issuer, cid, "2000"],
                                 capture_output=True, text=True)
            print("  " + (out.stdout.strip() or out.stderr.strip()))
        return 0
    finally:
        p.stop()
        harness.cleanup_pam_wrapper_dirs()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
