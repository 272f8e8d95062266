#!/usr/bin/python3
"""The syscalls a real pam_ssooidc_sync run makes (strace -f) against
SystemCallFilter=@system-service of conf/pam_ssooidc-sync.service, and a
run the way the unit's capabilities leave it (CapabilityBoundingSet=
empty, NoNewPrivileges). TAP on stdout. For a host whose PID 1 is not
systemd, where systemd-run cannot apply the unit's properties.

Usage (as root, from the top of the tree, after make all tools):
  tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- \\
      /usr/bin/python3 tests/attack/unit_syscalls.py"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "standin"))
sys.dont_write_bytecode = True
from dirctl import Directory  # noqa: E402

SYNC = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_sync")


sys.path.insert(0, os.path.join(ROOT, "tests"))
from tap import Tap  # noqa: E402

TAP = Tap(detail_lines=12)


def ok(cond, what, detail=""):
    return TAP.check(cond, what, detail)


def system_service_set():
    text = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                          text=True).stdout
    groups, cur = {}, None
    for line in text.splitlines():
        if line.startswith("@"):
            cur = line.split()[0]
            groups[cur] = []
        elif cur and line.strip() and not line.strip().startswith("#"):
            groups[cur].append(line.strip().split()[0])

    def expand(g):
        out = set()
        for x in groups.get(g, []):
            out |= expand(x) if x.startswith("@") else {x}
        return out
    return expand("@system-service")


def main():
    with open("/etc/nsswitch.conf") as f:
        if os.geteuid() != 0 or "ssooidc" not in f.read():
            print("1..0 # SKIP as root inside tests/tools/nss_sandbox.sh")
            return 0
    work = tempfile.mkdtemp(prefix="attack-unit-", dir="/run")
    os.chmod(work, 0o755)
    dwork = os.path.join(work, "dir")
    os.makedirs(dwork, 0o755)
    os.makedirs(os.path.join(work, "home"), 0o755)
    g = str(uuid.uuid4())
    tag = uuid.uuid4().hex[:5]
    dr = Directory(dwork, {"users": [{"UserId": str(uuid.uuid4()), "UserName": "atku" + tag,
                                      "UserStatus": "ENABLED"}],
                           "groups": {g: []}})
    try:
        uid = dr.snapshot()["users"][0]["UserId"] if hasattr(dr, "snapshot") else None
        conf = os.path.join(work, "pam_ssooidc.conf")
        with open(conf, "w") as f:
            f.write("start_url = https://d-1234567890.awsapps.com/start\nregion = us-east-1\n"
                    "account_id = 111122223333\nrole_name = Dev\nprovision = sync\n"
                    "ca_file = %s\nidentity_store_id = d-1234567890\nsync_groups = %s:atkg%s\n"
                    "identity_store_endpoint = %s\nimds_endpoint = %s\nprovision_home = %s\n"
                    % (dr.ca, g, tag, dr.base, dr.imds, os.path.join(work, "home")))
        os.chmod(conf, 0o600)
        st, snap = dr.ctl("GET", "directory")
        uid = (snap or {}).get("users", [{}])[0].get("UserId") if snap else uid
        if uid:
            dr.op(op="add_member", GroupId=g, UserId=uid)
        trace = os.path.join(work, "trace")
        p = subprocess.run(["setpriv", "--bounding-set=-all", "--inh-caps=-all",
                            "--ambient-caps=-all", "--no-new-privs", "--",
                            "strace", "-f", "-qq", "-o", trace, SYNC, "--conf", conf, "--json"],
                           capture_output=True, text=True, timeout=120)
        try:
            out = json.loads(p.stdout)
        except ValueError:
            out = {}
        ok(p.returncode == 0 and out.get("written"),
           "a run without capabilities and with no_new_privs writes", p.stdout[-500:] +
           p.stderr[-300:])
        used = set()
        with open(trace) as f:
            for line in f:
                m = re.match(r"\d+\s+([a-z0-9_]+)\(", line)
                if m:
                    used.add(m.group(1))
        allowed = system_service_set()
        outside = sorted(used - allowed - {"execve"})
        ok(allowed and not outside, "every syscall of the run is in @system-service (%d used)"
           % len(used), "outside: %s" % outside)
    finally:
        dr.stop()
        shutil.rmtree(work, ignore_errors=True)
    return TAP.done()


if __name__ == "__main__":
    sys.exit(main())
