#!/usr/bin/python3
"""make bench: what one login costs, measured against baselines in the same run.

BENCH_RUNS rounds (default 12) of, interleaved (the order alternates by
round): a login in each mode, approved between the first and second poll
(0.3 s after the first CreateToken: the slowest an approval can be noticed);
curl making the same requests over one connection with the same CA file;
and the PAM host alone (pam_permit). For each login it reports:
  - requests and TCP connections (from the stand-in's log; target 1);
  - time from approval to PAM_SUCCESS (target: at most interval + 100 ms);
  - CPU (user + system, whole process) and peak RSS, min / median / max,
    and the per-round CPU ratio to curl making the same requests:
      allow_any_approver: StartDeviceAuthorization, CreateToken pending,
        CreateToken approved (3);
      identity check: those, GetRoleCredentials and a SigV4-signed STS
        GetCallerIdentity (5);
  - the load average at the start and the end.
As root the logins run in a host without pam_wrapper (benchlib.py:
pam_drive -C, the user in a bind-mounted /etc/passwd, a private mount
namespace). BENCH_BEFORE_MODULE=PATH adds logins through that build of the
module to every round: before and after in one run.
Then the login storm (storm.py), a flaky wire (faults.py), the fair limits
under hostile load (fair.py), logins against an OpenID provider with the
cost of one ID token check (oidc_bench.py), the NSS module's lookups
against glibc's files with 10,000 accounts (nss_bench.py), what
provisioning adds to a login (provision_bench.py) and the directory sync
of 10,000 members (sync_bench.py); BENCH_STORM=0, BENCH_FAULTS=0,
BENCH_FAIR=0, BENCH_OIDC=0, BENCH_NSS=0, BENCH_PROVISION=0, BENCH_SYNC=0
leave them out.
This is a benchmark, not a test: it asserts nothing, it reports."""
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "module"))
import benchlib  # noqa: E402
from benchlib import ratios, run_measured, spread  # noqa: E402
import harness  # noqa: E402
from harness import Host, ROOT, Standin, cleanup_pam_wrapper_dirs  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "12"))
MODULE = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
BEFORE = os.environ.get("BENCH_BEFORE_MODULE", "")
START_URL = "https://example.awsapps.com/start"
ACCOUNT, ROLE = "111122223333", "LinuxLogin"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def curl_json(sd, path, body):
    out = subprocess.run(["curl", "-s", "--cacert", sd.ca, "-H", "Content-Type: application/json",
                          "-d", json.dumps(body), sd.url + path], capture_output=True,
                         text=True).stdout
    return json.loads(out)


class CurlBaseline:
    """curl, one process and one connection, making a login's requests:
    the device authorization, a poll of a pending code and a poll of an
    approved one (3); with the identity check also GetRoleCredentials and
    a SigV4-signed STS GetCallerIdentity (5). Everything the requests need
    (codes, an access token, role credentials) is made beforehand."""

    def __init__(self, sd, reg):
        self.sd, self.reg = sd, reg

    def _device(self, approve):
        body = {"clientId": self.reg["clientId"], "clientSecret": self.reg["clientSecret"],
                "startUrl": START_URL}
        dev = curl_json(self.sd, "/device_authorization", body)
        if approve:
            self.sd.decide(dev["userCode"], "alice", "approve")
        return dev

    def _token_body(self, dev):
        return json.dumps({"clientId": self.reg["clientId"],
                           "clientSecret": self.reg["clientSecret"],
                           "grantType": DEVICE_GRANT, "deviceCode": dev["deviceCode"]})

    def command(self, identity):
        sd = self.sd
        pending, ready = self._device(False), self._device(True)
        common = ["-s", "-o", "/dev/null", "--cacert", sd.ca]
        json_ct = ["-H", "Content-Type: application/json"]
        start = json.dumps({"clientId": self.reg["clientId"],
                            "clientSecret": self.reg["clientSecret"], "startUrl": START_URL})
        cmd = ["curl"] + common + json_ct + ["-d", start, sd.url + "/device_authorization"]
        for dev in (pending, ready):
            cmd += ["--next"] + common + json_ct + ["-d", self._token_body(dev),
                                                     sd.url + "/token"]
        if identity:
            third = self._device(True)
            tok = curl_json(sd, "/token", json.loads(self._token_body(third)))["accessToken"]
            bearer = ["-H", "x-amz-sso_bearer_token: " + tok]
            role_url = "%s/federation/credentials?role_name=%s&account_id=%s" % (
                sd.url, ROLE, ACCOUNT)
            creds = subprocess.run(["curl", "-s", "--cacert", sd.ca] + bearer + [role_url],
                                   capture_output=True, text=True).stdout
            rc = json.loads(creds)["roleCredentials"]
            cmd += ["--next"] + common + bearer + [role_url]
            cmd += ["--next"] + common + [
                "--aws-sigv4", "aws:amz:us-east-1:sts",
                "--user", "%s:%s" % (rc["accessKeyId"], rc["secretAccessKey"]),
                "-H", "x-amz-security-token: " + rc["sessionToken"],
                "-H", "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                "-d", "Action=GetCallerIdentity&Version=2011-06-15", sd.url + "/"]
        return cmd


def module_login(host, real, service, sd):
    """One login, approved 0.3 s after its first CreateToken. Returns
    (cpu, rss, approval->end, token answer->end, api records, ok)."""
    skip = len(sd.api_log())
    approved_at = {}
    login_over = threading.Event()

    def approve():
        # Approve between the first and the second poll; give up when the
        # login ended without polling (it failed). The first poll comes an
        # interval (1 s) after the start: looking at the stand-in's log
        # before then would only make it and this process busy while the
        # login loads its libraries and sets up TLS, and on a machine whose
        # cores share their caches that costs the login CPU time.
        login_over.wait(0.6)
        while not login_over.is_set():
            if [r for r in sd.api_log()[skip:] if r["op"] == "CreateToken"]:
                break
            time.sleep(0.05)
        else:
            return
        time.sleep(0.3)
        code = sd.devices()[-1]["userCode"]
        approved_at["t"] = time.monotonic()
        sd.decide(code, "alice", "approve")
    t = threading.Thread(target=approve)
    t.start()
    prefix, drive, env = benchlib.pam_host(host, real)
    t0 = time.monotonic()
    elapsed, cpu, rss, rc = run_measured(drive + ["-c", "enter", service, "alice"], env=env,
                                         prefix=prefix)
    end, end_wall = t0 + elapsed, time.time()
    login_over.set()
    t.join()
    api = sd.api_log()[skip:]
    ok = rc == 0 and "t" in approved_at
    tokens = [r["t"] for r in api if r["op"] == "CreateToken"]
    lat = end - approved_at["t"] if ok else 0.0
    # From the answer that carried the token to PAM_SUCCESS (the identity
    # calls and process exit): wall clock on both sides.
    tail = end_wall - tokens[-1] if ok and tokens else 0.0
    return cpu, rss, lat, tail, api, ok


def main():
    work = harness.trusted_tempdir("ssooidc-bench-")
    os.chmod(work, 0o755)
    real = benchlib.RealHost(work, ["alice"])
    sd = Standin(work)
    host = Host(work, MODULE)
    conf = host.write_conf("")
    cache = os.path.join(work, "cache")
    base = ["conf=" + conf, "start_url=" + START_URL,
            "oidc_endpoint=" + sd.url, "portal_endpoint=" + sd.url, "sts_endpoint=" + sd.url,
            "ca_file=" + sd.ca, "cache_dir=" + cache, "prompt=never"] + harness.unlimited_options()
    modes = {
        "allow_any_approver": base + ["allow_any_approver"],
        "identity check": base + ["account_id=" + ACCOUNT, "role_name=" + ROLE],
    }
    services = {}
    for i, (mode, opts) in enumerate(modes.items()):
        services[mode] = host.service(opts, "bench%d" % i)
        if BEFORE:
            with open(os.path.join(host.svc, "before%d" % i), "w") as f:
                f.write("auth required %s %s\naccount required pam_permit.so\n"
                        % (BEFORE, " ".join(opts)))
    with open(os.path.join(host.svc, "permit"), "w") as f:
        f.write("auth required pam_permit.so\n")
    try:
        # Warm the registration cache so every measured login makes the same requests.
        sd.reset(approve_after_polls=0)
        prefix, drive, env = benchlib.pam_host(host, real)
        subprocess.run(prefix + drive + ["-c", "enter", services["allow_any_approver"], "alice"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reg = json.load(open([os.path.join(cache, f) for f in os.listdir(cache)
                              if f.endswith(".json")][0]))
        curl = CurlBaseline(sd, reg)
        load_before = benchlib.load()
        rows = {}

        def row(name):
            return rows.setdefault(name, dict(cpu=[], rss=[], reqs=[], conns=[], lat=[],
                                              tail=[], ops=None))
        steps = []
        for i, mode in enumerate(modes):
            steps.append(("login", mode, services[mode]))
            if BEFORE:
                steps.append(("login", "before: " + mode, "before%d" % i))
        steps += [("curl", "curl (3 requests)", False), ("curl", "curl (5 requests)", True),
                  ("host", "PAM host alone", None)]
        for rnd in range(RUNS):
            for kind, name, arg in (steps if rnd % 2 == 0 else steps[::-1]):
                r = row(name)
                if kind == "login":
                    # scenario() keeps the registration (reset() would forget it).
                    sd.scenario(interval=1, approve_after_polls=None)
                    c, m, lat, tail, api, ok = module_login(host, real, arg, sd)
                    if not ok:
                        print("login failed in mode %s; aborting" % name)
                        return 1
                    r["lat"].append(lat)
                    r["tail"].append(tail)
                elif kind == "curl":
                    sd.scenario(enforce_interval=False)
                    cmd = curl.command(arg)
                    skip = len(sd.api_log())
                    _, c, m, _ = run_measured(cmd)
                    api = sd.api_log()[skip:]
                else:
                    prefix, drive, env = benchlib.pam_host(host, real)
                    _, c, m, _ = run_measured(drive + ["permit", "alice"], env=env,
                                              prefix=prefix)
                    api = []
                r["cpu"].append(c)
                r["rss"].append(m)
                r["reqs"].append(len(api))
                r["conns"].append(len({a["conn"] for a in api}))
                r["ops"] = [a["op"] for a in api]
                if kind == "curl":
                    r["statuses"] = [a.get("status") for a in api]
        load_after = benchlib.load()

        print("pam_ssooidc benchmark: %d rounds, each a login per mode approved on the second "
              "poll (interval 1 s), curl making the same requests, and the PAM host alone"
              % RUNS)
        print("  " + benchlib.load_line(load_before, load_after))
        print("  PAM host: " + real.describe())
        print()
        print("%-34s %8s %8s %22s %22s %10s" % ("", "requests", "TCP conn", "CPU ms",
                                                "approval->OK ms", "peak RSS"))
        print("%-34s %8s %8s %22s %22s %10s" % ("", "", "", "min / median / max",
                                                "min / median / max", "median"))
        for name, r in rows.items():
            print("%-34s %8s %8s %22s %22s %6d KiB" % (
                name, "/".join(map(str, sorted(set(r["reqs"])))),
                "/".join(map(str, sorted(set(r["conns"])))), spread(r["cpu"], 1000),
                spread(r["lat"], 1000, "%.0f") if r["lat"] else "-", statistics.median(r["rss"])))
        print()
        for name in rows:
            if name.startswith("curl"):
                print("%s: %s" % (name, ", ".join("%s %s" % (op, st) for op, st in zip(
                    rows[name]["ops"], rows[name]["statuses"]))))
        print()
        base3, base5 = rows["curl (3 requests)"]["cpu"], rows["curl (5 requests)"]["cpu"]
        targets = {"allow_any_approver": None, "identity check": 1.25}
        for mode in modes:
            for name in ([mode] + (["before: " + mode] if BEFORE else [])):
                against = base5 if mode == "identity check" else base3
                rr = ratios(rows[name]["cpu"], against)
                print("per-round CPU ratio, %s / curl (%s requests): %s (median %.2fx%s)" % (
                    name, "5" if against is base5 else "3", spread(rr, 1, "%.2fx"),
                    statistics.median(rr),
                    "; target %.2fx" % targets[mode] if targets[mode] and name == mode else ""))
            if BEFORE:
                print("per round, %s: this build / BENCH_BEFORE_MODULE: %s" % (
                    mode, spread(ratios(rows[mode]["cpu"], rows["before: " + mode]["cpu"]), 1,
                                 "%.2fx")))
        print("per round, the PAM host alone / curl (3 requests): %s" % spread(
            ratios(rows["PAM host alone"]["cpu"], base3), 1, "%.2fx"))
        print("target: 1 TCP connection per login; approval->PAM_SUCCESS at most interval + "
              "100 ms = 1100 ms")
        for mode in modes:
            print("%s: token answer -> PAM_SUCCESS (process exit) %s ms" % (
                mode, spread(rows[mode]["tail"], 1000, "%.0f")))
        # The further benchmarks, each unless BENCH_<NAME>=0 (storm.py only
        # where it exists).
        for name, script in (("STORM", "storm.py"), ("FAULTS", "faults.py"),
                             ("FAIR", "fair.py"), ("OIDC", "oidc_bench.py"),
                             ("NSS", "nss_bench.py")):
            path = os.path.join(ROOT, "tests", "bench", script)
            if os.environ.get("BENCH_" + name, "1") == "1" and (
                    name != "STORM" or os.path.exists(path)):
                print()
                sys.stdout.flush()
                subprocess.run([sys.executable, path])
        # Accounts on demand: in a private mount namespace with the built
        # NSS module (provision_bench.py; root only).
        # The same for the directory sync (sync_bench.py).
        for name, script in (("PROVISION", "provision_bench.py"), ("SYNC", "sync_bench.py")):
            if os.environ.get("BENCH_" + name, "1") != "1":
                continue
            print()
            sys.stdout.flush()
            if os.geteuid() == 0:
                subprocess.run([os.path.join(ROOT, "tests", "tools", "nss_sandbox.sh"),
                                os.path.join(ROOT, "build", "nss", "libnss_ssooidc.so.2"), "--",
                                sys.executable, os.path.join(ROOT, "tests", "bench", script)])
            else:
                print("%s part skipped: it needs root (a mount namespace)" % script)
        return 0
    finally:
        sd.stop()
        cleanup_pam_wrapper_dirs()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
