#!/usr/bin/python3
"""make bench, provisioning part: what accounts on demand cost, measured
inside tests/tools/nss_sandbox.sh (real glibc through the built NSS module,
the host untouched). Run by bench.py as

    tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- \\
        /usr/bin/python3 tests/bench/provision_bench.py

(Name lookups against files are nss_bench.py's.) Logins (pamtester under pam_wrapper, AWS stand-in, approved at the first
poll): the same account the module made, logged in to with provision off
and with provision = login (the ownership check and the refresh), and a
first login that makes an account; CPU and wall time per login, medians of
interleaved rounds.
A benchmark, not a test: it reports and asserts nothing."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module"))
import harness  # noqa: E402
from harness import ROOT, Standin  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import RUNSTAT, run_measured  # noqa: E402

DATA = "/var/lib/pam_ssooidc"
LOGINS = int(os.environ.get("BENCH_RUNS", "10"))
MODULE = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def login_bench(work):
    sd = Standin(work)
    svc = os.path.join(work, "svc")
    os.makedirs(svc)
    os.makedirs(os.path.join(work, "home"), mode=0o755)
    cache = os.path.join(work, "cache")
    base = ["start_url=https://example.awsapps.com/start", "oidc_endpoint=" + sd.url,
            "portal_endpoint=" + sd.url, "sts_endpoint=" + sd.url, "ca_file=" + sd.ca,
            "cache_dir=" + cache, "prompt=never", "account_id=111122223333",
            "role_name=LinuxLogin", "provision_home=" + os.path.join(work, "home"),
            "conf=" + os.path.join(work, "none.conf")] + harness.unlimited_options()
    write(os.path.join(work, "none.conf"), "# empty\n", 0o600)
    for name, extra in (("off", []), ("login", ["provision=login"])):
        write(os.path.join(svc, name), "auth required %s %s\naccount required pam_permit.so\n"
              % (MODULE, " ".join(base + extra)))
    env = dict(os.environ, LD_PRELOAD=harness._lib("libpam_wrapper.so"), PAM_WRAPPER="1",
               PAM_WRAPPER_SERVICE_DIR=svc)

    def login(service, user):
        sd.scenario(interval=1, approve_after_polls=0, approver=user)
        el, cpu, _, rc = run_measured(["pamtester", service, user, "authenticate"], env=env)
        return el, cpu, rc

    # One account made by the module, and the registration cached.
    sd.reset(approve_after_polls=0, approver="benchuser")
    login("login", "benchuser")
    res = {"provision off, the module's account": [], "provision=login, the same account": [],
           "provision=login, first login (makes it)": []}
    for i in range(LOGINS):
        for label in res:
            if label.startswith("provision off"):
                r = login("off", "benchuser")
            elif label.endswith("same account"):
                r = login("login", "benchuser")
            else:
                r = login("login", "benchnew%03d" % i)
            res[label].append(r)
    print()
    print("logins (pamtester, approved at the first poll), median of %d interleaved rounds:"
          % LOGINS)
    off = None
    for label, rs in res.items():
        el = statistics.median(r[0] for r in rs)
        cpu = statistics.median(r[1] for r in rs)
        codes = sorted({r[2] for r in rs})
        off = off or (el, cpu)
        print("  %-42s wall %6.0f ms  CPU %5.1f ms  (+%4.1f ms wall, +%4.1f ms CPU)  exit %s"
              % (label, el * 1e3, cpu * 1e3, (el - off[0]) * 1e3, (cpu - off[1]) * 1e3, codes))
    sd.stop()


def main():
    if not os.path.exists(RUNSTAT):
        print("build/tools/runstat missing: make tools")
        return 1
    with open("/etc/nsswitch.conf") as f:
        if "ssooidc" not in f.read():
            print("run inside tests/tools/nss_sandbox.sh")
            return 1
    work = harness.trusted_tempdir("ssooidc-provbench-")
    try:
        login_bench(work)
    finally:
        subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
