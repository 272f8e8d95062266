#!/usr/bin/python3
"""make bench: what one login costs, measured against baselines in the same run.

For a login approved on the second poll (approval arrives between the first
and second CreateToken), it reports:
  - TCP connections per login (from the stand-in's connection ids; target 1);
  - time from approval to PAM_SUCCESS (target: at most interval + 100 ms);
  - CPU seconds and peak RSS per login, as ratios to curl making the same
    three HTTPS requests over one connection, and to pamtester running a
    stack with only pam_permit (the cost of the PAM host itself).
Then the login storm (storm.py), a flaky wire (faults.py), the fair limits
under hostile load (fair.py), a warm login against an OpenID provider
with the cost of one ID token check (oidc_bench.py), the NSS module's
lookups against glibc's files with 10,000 accounts (nss_bench.py) and what
provisioning adds to a login (provision_bench.py), the directory sync of
10,000 members (sync_bench.py); BENCH_STORM=0,
BENCH_FAULTS=0, BENCH_FAIR=0, BENCH_OIDC=0, BENCH_NSS=0, BENCH_PROVISION=0,
BENCH_SYNC=0
leave them out.
This is a benchmark, not a test: it asserts nothing, it reports."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module"))
import harness  # noqa: E402
from harness import Host, ROOT, Standin, cleanup_pam_wrapper_dirs  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
MODULE = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
RUNSTAT = os.path.join(ROOT, "build", "tools", "runstat")


def run_measured(cmd, env=None, stdin=b"\n"):
    """Run a command; return (elapsed, cpu seconds, peak RSS KiB, exit status).
    runstat (a small C parent) measures it: a child forked straight from this
    Python process would count Python's own pages in its peak RSS."""
    fd, out = tempfile.mkstemp()
    os.close(fd)
    t0 = time.monotonic()
    p = subprocess.run([RUNSTAT, "-o", out] + cmd, env=env, input=stdin,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - t0
    cpu, rss, code = open(out).read().split()
    os.unlink(out)
    return elapsed, float(cpu), int(rss), int(code)


def stats(xs):
    return statistics.median(xs), max(xs)


def main():
    work = harness.trusted_tempdir("ssooidc-bench-")
    os.chmod(work, 0o755)
    sd = Standin(work)
    host = Host(work, MODULE)
    conf = host.write_conf("")
    cache = os.path.join(work, "cache")
    base = ["conf=" + conf, "start_url=https://example.awsapps.com/start",
            "oidc_endpoint=" + sd.url, "portal_endpoint=" + sd.url, "sts_endpoint=" + sd.url,
            "ca_file=" + sd.ca, "cache_dir=" + cache, "prompt=never"] + harness.unlimited_options()
    modes = {
        "allow_any_approver": base + ["allow_any_approver"],
        "identity check": base + ["account_id=111122223333", "role_name=LinuxLogin"],
    }
    try:
        # Warm the registration cache so every measured login makes the same requests.
        sd.reset(approve_after_polls=0)
        host.service(modes["allow_any_approver"], "bench")
        host.login("alice", service="bench")
        results = {}
        for mode, opts in modes.items():
            host.service(opts, "bench")
            conns, lat, cpu, rss, reqs, tail = [], [], [], [], [], []
            for _ in range(RUNS):
                # scenario() keeps the registration (reset() would forget it).
                sd.scenario(interval=1, approve_after_polls=None)
                skip = len(sd.api_log())
                approved_at = {}
                login_over = threading.Event()

                def approve():
                    # Approve between the first and the second poll; give up
                    # when the login ended without polling (it failed).
                    while not login_over.is_set():
                        log = [r for r in sd.api_log()[skip:] if r["op"] == "CreateToken"]
                        if log:
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
                cmd = ["pamtester", "bench", "alice", "authenticate"]
                t0 = time.monotonic()
                elapsed, c, m, rc = run_measured(cmd, env=host.env())
                end, end_wall = t0 + elapsed, time.time()
                login_over.set()
                t.join()
                if rc != 0 or "t" not in approved_at:
                    print("login failed in mode %s; aborting" % mode)
                    return 1
                api = sd.api_log()[skip:]
                conns.append(len({r["conn"] for r in api}))
                reqs.append(len(api))
                lat.append(end - approved_at["t"])
                # From the answer that carried the token to PAM_SUCCESS (the
                # identity calls and process exit): wall clock on both sides.
                token_at = [r["t"] for r in api if r["op"] == "CreateToken"][-1]
                tail.append(end_wall - token_at)
                cpu.append(c)
                rss.append(m)
            results[mode] = dict(conns=conns, lat=lat, cpu=cpu, rss=rss, reqs=reqs, tail=tail)

        # Baseline 1: curl, the same three requests (StartDeviceAuthorization,
        # CreateToken twice) over one connection.
        reg = json.load(open([os.path.join(cache, f) for f in os.listdir(cache)
                              if f.endswith(".json")][0]))
        sd.scenario(enforce_interval=False)
        curl_cpu, curl_rss = [], []
        for _ in range(RUNS):
            body = {"clientId": reg["clientId"], "clientSecret": reg["clientSecret"],
                    "startUrl": "https://example.awsapps.com/start"}
            out = subprocess.run(["curl", "-s", "--cacert", sd.ca, "-H",
                                  "Content-Type: application/json", "-d", json.dumps(body),
                                  sd.url + "/device_authorization"], capture_output=True,
                                 text=True).stdout
            dc = json.loads(out)["deviceCode"]
            tok = json.dumps({"clientId": reg["clientId"], "clientSecret": reg["clientSecret"],
                              "grantType": "urn:ietf:params:oauth:grant-type:device_code",
                              "deviceCode": dc})
            cmd = ["curl", "-s", "-o", "/dev/null", "--cacert", sd.ca,
                   "-H", "Content-Type: application/json", "-d", json.dumps(body),
                   sd.url + "/device_authorization",
                   "--next", "-s", "-o", "/dev/null", "--cacert", sd.ca,
                   "-H", "Content-Type: application/json", "-d", tok, sd.url + "/token",
                   "--next", "-s", "-o", "/dev/null", "--cacert", sd.ca,
                   "-H", "Content-Type: application/json", "-d", tok, sd.url + "/token"]
            skip = len(sd.api_log())
            _, c, m, _ = run_measured(cmd)
            curl_conns = len({r["conn"] for r in sd.api_log()[skip:]})
            curl_cpu.append(c)
            curl_rss.append(m)

        # Baseline 2: the PAM host alone (pamtester + wrappers, pam_permit).
        with open(os.path.join(host.svc, "permit"), "w") as f:
            f.write("auth required pam_permit.so\n")
        permit_cpu, permit_rss = [], []
        for _ in range(RUNS):
            _, c, m, _ = run_measured(["pamtester", "permit", "alice", "authenticate"],
                                      env=host.env())
            permit_cpu.append(c)
            permit_rss.append(m)

        cm, _ = stats(curl_cpu)
        rm, _ = stats(curl_rss)
        pc, _ = stats(permit_cpu)
        pr, _ = stats(permit_rss)
        print("pam_ssooidc benchmark: %d logins per mode, approved on the second poll "
              "(interval 1 s)" % RUNS)
        print()
        print("%-22s %9s %9s %14s %14s %11s %11s %9s %9s" % (
            "mode", "requests", "TCP conn", "approval->OK", "approval->OK", "CPU/login",
            "CPU ratio", "peak RSS", "RSS ratio"))
        print("%-22s %9s %9s %14s %14s %11s %11s %9s %9s" % (
            "", "per login", "per login", "median", "max", "median", "vs curl", "median",
            "vs curl"))
        for mode, r in results.items():
            lm, lx = stats(r["lat"])
            c, _ = stats(r["cpu"])
            m, _ = stats(r["rss"])
            print("%-22s %9d %9s %13.0fms %13.0fms %10.3fs %10.2fx %7dKiB %8.2fx" % (
                mode, statistics.median(r["reqs"]), "/".join(map(str, sorted(set(r["conns"])))),
                lm * 1000, lx * 1000, c, c / cm, m, m / rm))
        print("%-22s %9d %9d %14s %14s %10.3fs %10.2fx %7dKiB %8.2fx" % (
            "curl (3 requests)", 3, curl_conns, "-", "-", cm, 1.0, rm, 1.0))
        print("%-22s %9d %9d %14s %14s %10.3fs %10.2fx %7dKiB %8.2fx" % (
            "pamtester+pam_permit", 0, 0, "-", "-", pc, pc / cm, pr, pr / rm))
        print()
        print("target: 1 TCP connection per login; approval->PAM_SUCCESS at most interval + "
              "100 ms = 1100 ms")
        for mode, r in results.items():
            print("%s: token answer -> PAM_SUCCESS (process exit) median %.0f ms, max %.0f ms"
                  % (mode, stats(r["tail"])[0] * 1000, stats(r["tail"])[1] * 1000))
        print("module cost above the PAM host: CPU %.3fs (%.2fx curl), RSS +%d KiB" % (
            stats(results["allow_any_approver"]["cpu"])[0] - pc,
            (stats(results["allow_any_approver"]["cpu"])[0] - pc) / cm,
            stats(results["allow_any_approver"]["rss"])[0] - pr))
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
