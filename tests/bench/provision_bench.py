#!/usr/bin/python3
"""make bench, provisioning part: what accounts on demand cost, measured
inside tests/tools/nss_sandbox.sh (real glibc through the built NSS module,
the host untouched). Run by bench.py as

    tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- \\
        /usr/bin/python3 tests/bench/provision_bench.py

1. Name lookups: `getent passwd NAME` for the last of 10,000 accounts
   served by the module, beside `files` with the same 10,000 lines in
   /etc/passwd (a copy bind-mounted in this namespace), and a name neither
   knows; interleaved rounds, medians, the ratio (goal: at most 1.5x).
2. Logins (pamtester under pam_wrapper, AWS stand-in, approved at the first
   poll): the same account the module made, logged in to with provision off
   and with provision = login (the ownership check and the refresh), and a
   first login that makes an account; CPU and wall time per login, medians
   of interleaved rounds.
A benchmark, not a test: it reports and asserts nothing."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module"))
import harness  # noqa: E402
from harness import ROOT, Standin  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import RUNSTAT, run_measured  # noqa: E402

DATA = "/var/lib/pam_ssooidc"
USERS_N = 10000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
LOGINS = int(os.environ.get("BENCH_RUNS", "10"))
MODULE = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
UID0 = 65536


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def lookup_bench(work):
    """10,000 accounts in the module's files and the same lines in files."""
    names = ["bench%05d" % i for i in range(USERS_N)]
    head = "# pam_ssooidc passwd 1 uid_range=65536-99999\n"
    lines = ["%s:*:%d:%d:%s (via pam_ssooidc):/home/%s:/bin/bash:0" % (n, UID0 + i, UID0 + i, n, n)
             for i, n in enumerate(names)]
    os.makedirs(DATA, mode=0o755, exist_ok=True)
    write(os.path.join(DATA, "passwd"), head + "\n".join(lines) + "\n")
    write(os.path.join(DATA, "group"), "# pam_ssooidc group 1 uid_range=65536-99999\n")
    # files: the host's passwd plus the same 10,000 lines under other names
    # (so that files, asked first, answers them itself).
    with open("/etc/passwd") as f:
        host = f.read()
    fnames = ["filesb%05d" % i for i in range(USERS_N)]
    flines = ["%s:x:%d:%d::/home/%s:/bin/bash" % (n, UID0 + i, UID0 + i, n)
              for i, n in enumerate(fnames)]
    fake = os.path.join(work, "passwd")
    write(fake, host + "\n".join(flines) + "\n")
    # Each round: files with the 10,000 lines bind-mounted over /etc/passwd,
    # then, unmounted again, the module (files then reads only the host's
    # few lines before ssooidc is asked), then getent's own start-up.
    def timed(name):
        t0 = time.perf_counter()
        for _ in range(20):
            subprocess.run(["getent", "passwd", name], stdout=subprocess.DEVNULL)
        return (time.perf_counter() - t0) / 20

    times = {"files, last of 10,000": [], "ssooidc, last of 10,000": []}
    base = []
    for _ in range(ROUNDS):
        subprocess.run(["mount", "--bind", fake, "/etc/passwd"], check=True)
        try:
            times["files, last of 10,000"].append(timed(fnames[-1]))
        finally:
            subprocess.run(["umount", "/etc/passwd"], check=True)
        times["ssooidc, last of 10,000"].append(timed(names[-1]))
        base.append(timed("root"))
    b = statistics.median(base)
    med = {k: statistics.median(v) for k, v in times.items()}
    print("getent passwd NAME, %d accounts, median of %d interleaved rounds of 20:"
          % (USERS_N, ROUNDS))
    print("  %-30s %8.2f ms" % ("root (first line of files)", b * 1e3))
    for k, v in med.items():
        print("  %-30s %8.2f ms   lookup above root's: %6.2f ms" % (k, v * 1e3, (v - b) * 1e3))
    f_cost = med["files, last of 10,000"] - b
    s_cost = med["ssooidc, last of 10,000"] - b
    print("  ssooidc / files, whole process: %.2fx; the lookup alone (above root's): %.2fx "
          "(goal: at most 1.5x)" % (med["ssooidc, last of 10,000"] / med["files, last of 10,000"],
                                    s_cost / f_cost if f_cost > 0 else float("nan")))
    for p in ("passwd", "group"):
        os.unlink(os.path.join(DATA, p))


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
        lookup_bench(work)
        login_bench(work)
    finally:
        subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
