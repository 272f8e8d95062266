#!/usr/bin/python3
"""make bench, the OpenID part: a warm login (discovery document and JWKS
cached) against panva's oidc-provider on 127.0.0.1, and what verifying one
ID token costs. Reports, asserting nothing:
  - TCP connections per login (the module's own count, debug line; target 1:
    the device and token endpoints share a host);
  - approval -> PAM_SUCCESS, the approval made just after the first poll
    (target: at most interval + 100 ms; oidc-provider sends no interval, so 5 s);
  - CPU seconds per login, as a ratio to curl making the same requests (the
    device authorization and two token polls) over one connection, in the
    same run;
  - the cost of verifying one ID token (RS256 and ES256) against the bare
    OpenSSL signature check of the same token, and of parsing the JWKS.
BENCH_OIDC_RUNS (default 5) logins; each takes about 10 s."""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))
sys.path.insert(0, os.path.join(ROOT, "tests", "providers"))
import harness  # noqa: E402
import oidcclient as oc  # noqa: E402
import providers  # noqa: E402

RUNS = int(os.environ.get("BENCH_OIDC_RUNS", "5"))
MODULE = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
RUNSTAT = os.path.join(ROOT, "build", "tools", "runstat")
PAM_DRIVE = os.path.join(ROOT, "build", "tools", "pam_drive")
JOSE_BENCH = os.path.join(ROOT, "build", "tools", "jose_bench")
CODE_LINE = re.compile(r"^    ([A-Za-z0-9-]{4,})$")
INTERVAL = 5  # oidc-provider's device answer names none: RFC 8628's default


def measured_login(host, service, p, user):
    """One login under runstat; approve just after the module's first poll.
    Returns (cpu, approval->end, connections, code)."""
    fd, stat_out = tempfile.mkstemp()
    os.close(fd)
    proc = subprocess.Popen([RUNSTAT, "-o", stat_out, PAM_DRIVE, "-c", "enter", service, user],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=host.env(),
                            text=True)
    err = []
    drain = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    drain.start()
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
    p.approve(code, user, p.users[user].password)
    approved = time.monotonic()
    rest = proc.stdout.read()
    proc.wait(120)
    end = time.monotonic()
    drain.join(10)
    cpu, _rss, _rc = open(stat_out).read().split()
    os.unlink(stat_out)
    m = re.search(r"(\d+) TCP connection\(s\) opened", "".join(err))
    ok = "PAM_SUCCESS" in rest
    return float(cpu), end - approved, int(m.group(1)) if m else -1, ok


def curl_baseline(p, ca):
    """curl: the device authorization and two (pending) token polls over
    one connection, as the module makes them."""
    h = p.http()
    disco = oc.discover(h, p.issuer)
    client = p.client("none", "RS256")
    dev = oc.device_authorize(h, disco, client)
    fd, stat_out = tempfile.mkstemp()
    os.close(fd)
    common = ["-s", "-o", "/dev/null", "--cacert", ca]
    cmd = [RUNSTAT, "-o", stat_out, "curl"] + common + [
        "-d", "client_id=%s&scope=openid%%20profile%%20groups" % client.client_id,
        disco["device_authorization_endpoint"]]
    tok = "grant_type=%s&device_code=%s&client_id=%s" % (
        "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code", dev["device_code"],
        client.client_id)
    for _ in range(2):
        cmd += ["--next"] + common + ["-d", tok, disco["token_endpoint"]]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu = float(open(stat_out).read().split()[0])
    os.unlink(stat_out)
    return cpu


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
        host.service(["conf=" + conf, "issuer=" + p.issuer, "client_id=pam-public-rs256",
                      "ca_file=" + ca, "cache_dir=" + os.path.join(work, "cache"),
                      "scopes=openid,profile,groups", "required_groups=linux-users",
                      "prompt=never", "debug"] + harness.unlimited_options(), "bench")
        cpu, lat, conns = [], [], []
        measured_login(host, "bench", p, "alice")  # warms the discovery and JWKS cache
        for _ in range(RUNS):
            c, l, n, ok = measured_login(host, "bench", p, "alice")
            if not ok:
                print("OpenID benchmark: a login failed; aborting")
                return 1
            cpu.append(c)
            lat.append(l)
            conns.append(n)
        curl = [curl_baseline(p, ca) for _ in range(RUNS)]
        cm = statistics.median(curl)
        print("pam_ssooidc OpenID benchmark: %d warm logins against oidc-provider, approved just "
              "after the first poll (interval %d s)" % (RUNS, INTERVAL))
        print("  TCP connections per login: %s (target 1)"
              % "/".join(map(str, sorted(set(conns)))))
        print("  approval -> PAM_SUCCESS: median %.0f ms, max %.0f ms (target at most interval "
              "+ 100 ms = %d ms)" % (statistics.median(lat) * 1000, max(lat) * 1000,
                                    INTERVAL * 1000 + 100))
        print("  CPU per login: median %.3f s, %.2fx curl making the same 3 requests "
              "(%.3f s)" % (statistics.median(cpu), statistics.median(cpu) / cm, cm))
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
