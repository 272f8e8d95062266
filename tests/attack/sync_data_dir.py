#!/usr/bin/python3
"""Attacks on pam_ssooidc_sync through its data directory and the
directory's answers, end to end with real glibc. TAP on stdout.

Usage (as root, from the top of the tree, after make all tools):
  tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- \\
      /usr/bin/python3 tests/attack/sync_data_dir.py

Inside the sandbox /var/lib/pam_ssooidc is private and empty at the start.
The unprivileged steps run as 'nobody' (setpriv), so no user is made."""
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "standin"))
sys.dont_write_bytecode = True
from dirctl import Directory  # noqa: E402

DATA = "/var/lib/pam_ssooidc"
SYNC = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_sync")
STORE = "d-1234567890"


sys.path.insert(0, os.path.join(ROOT, "tests"))
from tap import Tap  # noqa: E402

TAP = Tap(detail_lines=20)


def ok(cond, what, detail=""):
    return TAP.check(cond, what, detail)


def uid_of(i):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "attack-sync-user-%d" % i))


def gid_of(i):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "attack-sync-group-%d" % i))


def getent(db, key):
    p = subprocess.run(["getent", db, key], capture_output=True, text=True)
    return p.stdout.strip().splitlines() if p.returncode == 0 else []


def as_nobody(*cmd):
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "--"] + list(cmd), capture_output=True, text=True, timeout=30)


def main():
    if os.geteuid() != 0 or not os.environ.get("NSS_SANDBOX_DATA_OK", "1"):
        print("1..0 # SKIP needs root")
        return 0
    with open("/etc/nsswitch.conf") as f:
        if "ssooidc" not in f.read():
            print("1..0 # SKIP runs inside tests/tools/nss_sandbox.sh")
            return 0
    work = tempfile.mkdtemp(prefix="attack-sync-", dir="/run")
    os.chmod(work, 0o755)
    home = os.path.join(work, "home")
    os.makedirs(home, 0o755)
    tag = uuid.uuid4().hex[:5]
    alice, alice_old = "atka" + tag, "atka" + tag + "-old"
    users = [{"UserId": uid_of(1), "UserName": alice, "UserStatus": "ENABLED"}]
    dwork = os.path.join(work, "dir")
    os.makedirs(dwork, 0o755)
    dr = Directory(dwork, {"users": users, "groups": {gid_of(1): [uid_of(1)]}})
    try:
        conf = os.path.join(work, "pam_ssooidc.conf")
        with open(conf, "w") as f:
            f.write("start_url = https://d-1234567890.awsapps.com/start\nregion = us-east-1\n"
                    "ca_file = %s\nidentity_store_id = %s\nsync_groups = %s\n"
                    "identity_store_endpoint = %s\nimds_endpoint = %s\nprovision = sync\n"
                    "provision_home = %s\nsync_max_removals = 100%%\nretries = 1\n"
                    "account_id = 111122223333\nrole_name = Dev\n"
                    % (dr.ca, STORE, gid_of(1), dr.base, dr.imds, home))
        os.chmod(conf, 0o600)

        def sync(*args):
            p = subprocess.run([SYNC, "--conf", conf, "--json"] + list(args),
                               capture_output=True, text=True, timeout=120)
            try:
                return p.returncode, json.loads(p.stdout), p.stderr
            except ValueError:
                return p.returncode, {}, p.stdout + p.stderr

        # --dry-run on a host that never synced: "writes nothing".
        had = os.path.lexists(DATA)
        rc, out, err = sync("--dry-run")
        ok(rc == 0, "a first --dry-run runs", "%s %s %s" % (rc, out, err))
        left = sorted(os.listdir(DATA)) if os.path.isdir(DATA) else []
        ok(had or not left, "--dry-run leaves nothing in a data directory it found missing",
           "it made %s and left %s" % (DATA, left))

        rc, out, err = sync()
        ok(rc == 0 and out.get("counts", {}).get("added") == 1, "the first run adds one",
           "%s %s %s" % (rc, out, err))
        for name, want in (("ledger.json", 0o600), ("sync-status.json", 0o600),
                           ("ledger.lock", 0o600), ("passwd", 0o644), ("group", 0o644)):
            st = os.lstat(os.path.join(DATA, name))
            ok(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == want,
               "%s is root's, mode %04o" % (name, want), "%o" % stat.S_IMODE(st.st_mode))
        st = os.lstat(DATA)
        ok(st.st_uid == 0 and stat.S_IMODE(st.st_mode) & 0o022 == 0,
           "the data directory is root's and not group/other-writable")
        for name in ("ledger.json", "sync-status.json", "ledger.lock"):
            p = as_nobody("/bin/cat", os.path.join(DATA, name))
            ok(p.returncode != 0, "an unprivileged user cannot open %s" % name, p.stdout[:200])
        p = as_nobody("/usr/bin/flock", "-n", os.path.join(DATA, "ledger.lock"), "true")
        ok(p.returncode != 0, "an unprivileged user cannot take the ledger's lock", p.stderr)
        p = as_nobody("/bin/ln", "-s", "/etc/shadow", os.path.join(DATA, "passwd.tmp"))
        ok(p.returncode != 0, "an unprivileged user cannot plant a link in the data directory")

        # The unit runs with CapabilityBoundingSet= (root without
        # CAP_DAC_*): a provision_home root may not search (another
        # owner's 0700 directory, NFS with root_squash) makes lstat fail
        # with EACCES, and the home-exists check takes that for "free".
        nobody = pwd.getpwnam("nobody")
        locked = os.path.join(work, "locked-homes")
        os.makedirs(locked, 0o700)
        taken = "atkh" + tag
        os.makedirs(os.path.join(locked, taken), 0o700)
        os.chown(os.path.join(locked, taken), nobody.pw_uid, nobody.pw_gid)
        os.chown(locked, nobody.pw_uid, nobody.pw_gid)
        conf2 = conf + ".locked"
        with open(conf) as f, open(conf2, "w") as g:
            g.write(f.read().replace("provision_home = %s" % home,
                                     "provision_home = %s" % locked))
        os.chmod(conf2, 0o600)
        dr.op(op="add_user", UserId=uid_of(3), UserName=taken)
        dr.op(op="add_member", GroupId=gid_of(1), UserId=uid_of(3))
        p = subprocess.run(["setpriv", "--bounding-set=-all", "--inh-caps=-all",
                            "--ambient-caps=-all", "--", SYNC, "--conf", conf2, "--json"],
                           capture_output=True, text=True, timeout=120)
        ok(not getent("passwd", taken),
           "as the unit runs it (no capabilities), %s/%s existing but unsearchable: not made"
           % (locked, taken), p.stdout[-600:] + p.stderr[-300:])
        dr.op(op="remove_member", GroupId=gid_of(1), UserId=uid_of(3))
        sync("--force")

        # A disabled person's name given to someone else, then the first
        # person enabled again under it while the second keeps it (their
        # new directory name maps to no local name).
        dr.op(op="disable", UserId=uid_of(1))
        rc, out, err = sync()
        ok(rc == 0 and out.get("counts", {}).get("removed") == 1, "disabled: removed",
           "%s %s" % (rc, out))
        dr.op(op="rename", UserId=uid_of(1), UserName=alice_old)
        dr.op(op="add_user", UserId=uid_of(2), UserName=alice)
        dr.op(op="add_member", GroupId=gid_of(1), UserId=uid_of(2))
        rc, out, err = sync()
        ok(rc == 0 and out.get("counts", {}).get("added") == 1,
           "a new person gets the free name %s" % alice, "%s %s" % (rc, out))
        dr.op(op="rename", UserId=uid_of(2), UserName="Bob.Smith" + tag)
        dr.op(op="rename", UserId=uid_of(1), UserName=alice)
        dr.op(op="enable", UserId=uid_of(1))
        rc, out, err = sync()
        ok(len(getent("passwd", alice)) <= 1 and
           sum(1 for line in open(os.path.join(DATA, "passwd")) if line.startswith(alice + ":"))
           <= 1, "never two passwd lines named %s" % alice,
           open(os.path.join(DATA, "passwd")).read())
        rc2, out2, err2 = sync()
        ok(rc2 in (0, 1), "the next run can still read the ledger it wrote",
           "exit %s: %s %s" % (rc2, out2.get("message"), err2))
        chk = subprocess.run([os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_users"), "list"],
                             capture_output=True, text=True)
        ok(chk.returncode == 0, "pam_ssooidc_users list can still read the ledger",
           chk.stdout[-300:] + chk.stderr[-300:])
    finally:
        dr.stop()
        shutil.rmtree(work, ignore_errors=True)
    return TAP.done()


if __name__ == "__main__":
    sys.exit(main())
