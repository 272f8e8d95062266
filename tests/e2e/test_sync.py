#!/usr/bin/python3
"""End-to-end: the directory sync (pam_ssooidc_sync, provision = sync)
through real glibc, a real sshd, the IAM Identity Center stand-in and the
Identity Store / IMDSv2 stand-in.

Usage: tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- \\
           /usr/bin/python3 tests/e2e/test_sync.py [-v]     (as root)

Inside nss_sandbox.sh (a private mount namespace: nsswitch.conf "files
ssooidc", its own /var/lib/pam_ssooidc). The sync reads the directory
with credentials from the IMDSv2 stand-in; a member then logs in on the
first connection; a member removed from the groups or disabled is no
longer served and is refused; a rename keeps the uid; a failed or
throttled sync keeps the last good files; a mass removal is refused
without --force; metadata that only speaks IMDSv1 is refused."""
import hashlib
import json
import os
import pwd
import subprocess
import sys
import uuid

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "standin"))
from dirctl import Directory  # noqa: E402
from e2elib import (PAM_D, ROOT, Browser, in_nss_sandbox, new_device, run_cases,  # noqa: E402
                    run_suite, sample_stanza, ssh_kbdint)
from test_sshd import COMMAND_OUTPUT, PROMPT_END, Sshd  # noqa: E402

DATA = "/var/lib/pam_ssooidc"
SYNC = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_sync")
CHECK = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_check")
STORE = "d-1234567890"
WRONG_ACCOUNT = "The approval came from an account that may not log in as this user."


def uid_of(i):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "e2e-sync-user-%d" % i))


def gid_of(i):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "e2e-sync-group-%d" % i))


def getent(db, key):
    p = subprocess.run(["getent", db, key], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def digest(name):
    try:
        with open(os.path.join(DATA, name), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


def files_digest():
    return tuple(digest(n) for n in ("ledger.json", "passwd", "group"))


class Ctx:
    def __init__(self, world, work, sd, dr, conf, sshd, tag):
        self.world, self.work, self.sd, self.dr, self.conf = world, work, sd, dr, conf
        self.sshd, self.tag = sshd, tag
        self.browser = Browser(sd)
        self.known = set()
        self.devs = "ssosd" + tag  # the local group sync_groups gives

    def name(self, role):
        return "ssoe2es%s%s" % (role, self.tag)

    def sync(self, *args):
        p = subprocess.run([SYNC, "--conf", self.conf, "--json"] + list(args),
                           capture_output=True, text=True, timeout=120)
        try:
            out = json.loads(p.stdout)
        except ValueError:
            out = {}
        return p.returncode, out, p.stderr

    def ssh(self, case, user, command="echo E2E-OK-$((6*7))"):
        return ssh_kbdint(case, self.sshd.port, user, command)

    def login(self, c, user, approver=None, command=None):
        """One connection; returns (exit status, text after the prompt), or
        (None, text) when no code was shown."""
        t = self.ssh(c, user, command or "echo E2E-OK-$((6*7))")
        i = t.expect(PROMPT_END)
        if i != 0:
            rc = t.finish()
            return rc, t.text
        dev = new_device(self.sd, self.known)
        if dev is None:
            t.close()
            return None, t.text
        status, _ = self.browser.decide(dev["userCode"], approver or user, "approve")
        c.check(status == 200, "%s: the browser approves as %s" % (user, approver or user))
        shown = t.text
        t.press_enter()
        rc = t.finish()
        return rc, t.text[len(shown):]


# ---------------------------------------------------------------- the cases

def the_sync_makes_the_members_accounts(c, x):
    rc, out, err = x.sync()
    c.check(rc == 0 and out.get("ok") and out.get("written"),
            "the first sync succeeds and writes (exit 0)", "exit %s %s %s" % (rc, out, err))
    c.check(out.get("counts", {}).get("added") == 3, "it adds the three enabled members",
            str(out.get("counts")))
    for role in ("a", "b", "c"):
        c.check(getent("passwd", x.name(role)) is not None,
                "getent passwd %s finds the account before any login" % x.name(role))
    c.check(getent("passwd", x.name("d")) is None,
            "the disabled member %s gets none" % x.name("d"))
    line = getent("group", x.devs) or ""
    c.check(x.name("a") in line and x.name("c") not in line,
            "group %s (from sync_groups) lists the first group's members" % x.devs, line)
    rc, out, _ = x.sync()
    c.check(rc == 0 and not out.get("written") and sum(out.get("counts", {}).values()) == 0,
            "a second sync finds nothing to change and writes nothing", str(out))


def a_member_logs_in_on_the_first_connection(c, x):
    user = x.name("a")
    rc, after = x.login(c, user, command="id")
    c.check(rc == 0 and ("uid=%d(" % pwd.getpwnam(user).pw_uid) in after,
            "%s logs in on the first connection, as the synced uid" % user, after[-400:])
    c.check("(%s)" % x.devs in after, "id shows the group sync_groups gives", after[-300:])


def another_members_approval_is_refused(c, x):
    rc, after = x.login(c, x.name("a"), approver=x.name("b"))
    c.check(rc != 0 and COMMAND_OUTPUT not in after and WRONG_ACCOUNT in after,
            "b approving a's code: refused as another account", after[-300:])


def a_rename_keeps_the_uid(c, x):
    old, new = x.name("c"), x.name("r")
    before = pwd.getpwnam(old).pw_uid
    x.dr.op(op="rename", UserId=uid_of(3), UserName=new)
    rc, out, err = x.sync()
    c.check(rc == 0 and out.get("counts", {}).get("renamed") == 1, "the sync renames",
            "%s %s %s" % (rc, out, err))
    c.check(getent("passwd", old) is None, "the old name is gone")
    line = getent("passwd", new)
    c.check(line is not None and int(line.split(":")[2]) == before,
            "the new name has the same uid (%d)" % before, str(line))


def a_failed_sync_keeps_the_last_good_files(c, x):
    before = files_digest()
    x.dr.set(fail={"ListUsers": {"type": "AccessDeniedException", "count": -1}})
    x.dr.op(op="remove_member", GroupId=gid_of(1), UserId=uid_of(2))
    rc, out, err = x.sync()
    x.dr.set(fail={"ListUsers": None})
    c.check(rc == 2 and not out.get("ok"), "AccessDenied: exit 2", "%s %s %s" % (rc, out, err))
    c.check("identitystore:ListUsers" in out.get("message", ""),
            "the message names the missing permission", out.get("message"))
    c.check(files_digest() == before, "ledger.json, passwd and group are unchanged")
    c.check(getent("passwd", x.name("b")) is not None, "b is still served")
    p = subprocess.run([CHECK, "--conf", x.conf, "--json", "--no-client-check"],
                       capture_output=True, text=True, timeout=60)
    c.check('"sync"' in p.stdout and "failed" in p.stdout,
            "pam_ssooidc_check reports the failed sync", p.stdout[-600:])
    x.dr.set(throttle={"ListGroupMemberships": {"count": 2, "retry_after": 1},
                       "ListUsers": {"count": 1, "retry_after": 1}})
    rc, out, err = x.sync()
    c.check(rc == 0 and out.get("throttled", 0) >= 3,
            "throttled three times: the retries wait RetryAfterSeconds and the sync succeeds",
            "%s %s %s" % (rc, out, err))


def a_removed_member_is_refused(c, x):
    user = x.name("b")
    c.check(getent("passwd", user) is None, "%s (removed from the group) is no longer served"
            % user)
    rc, after = x.login(c, user)
    c.check(rc != 0 and COMMAND_OUTPUT not in after, "%s cannot log in" % user, after[-300:])


def a_disabled_member_is_refused(c, x):
    user = x.name("a")
    x.dr.op(op="disable", UserId=uid_of(1))
    rc, out, err = x.sync("--force")
    c.check(rc == 0 and out.get("counts", {}).get("removed") == 1,
            "the sync removes the disabled member", "%s %s %s" % (rc, out, err))
    c.check(getent("passwd", user) is None, "%s is no longer served" % user)
    rc, after = x.login(c, user)
    c.check(rc != 0 and COMMAND_OUTPUT not in after, "%s cannot log in" % user, after[-300:])
    x.dr.op(op="enable", UserId=uid_of(1))
    rc, out, _ = x.sync()
    c.check(rc == 0 and out.get("counts", {}).get("renewed") == 1
            and getent("passwd", user) is not None, "enabled again: served again", str(out))


def a_mass_removal_is_refused_without_force(c, x):
    for i in range(5, 15):  # ten more members, then most of them go
        x.dr.op(op="add_user", UserId=uid_of(i), UserName=x.name("m%d" % i))
        x.dr.op(op="add_member", GroupId=gid_of(2), UserId=uid_of(i))
    rc, out, _ = x.sync()
    c.check(rc == 0 and out.get("counts", {}).get("added") == 10, "ten more added", str(out))
    before = files_digest()
    for i in range(5, 12):
        x.dr.op(op="remove_member", GroupId=gid_of(2), UserId=uid_of(i))
    rc, out, err = x.sync()
    c.check(rc == 2 and out.get("refused") and files_digest() == before,
            "seven of twelve would go: refused (exit 2), nothing written",
            "%s %s %s" % (rc, out, err))
    rc, out, _ = x.sync("--dry-run")
    c.check(out.get("counts", {}).get("removed") == 7 and files_digest() == before,
            "--dry-run lists the seven and writes nothing", str(out.get("counts")))
    rc, out, _ = x.sync("--force")
    c.check(rc == 0 and out.get("counts", {}).get("removed") == 7
            and getent("passwd", x.name("m5")) is None, "--force removes them", str(out))


def imdsv1_only_metadata_is_refused(c, x):
    before = files_digest()
    x.dr.set(imds={"mode": "v1only"})
    x.dr.ctl("POST", "reset_log")
    rc, out, err = x.sync()
    x.dr.set(imds={"mode": "v2"})
    c.check(rc == 2 and "IMDSv2" in out.get("message", ""),
            "IMDSv1-only metadata: exit 2, the message names IMDSv2", "%s %s %s" % (rc, out, err))
    log = x.dr.log()
    gets = [r for r in log if r.get("server") == "imds" and r.get("method") == "GET"]
    c.check(not gets, "no GET was sent without a token (no IMDSv1 fallback)", str(gets)[:400])
    c.check(files_digest() == before, "the files are unchanged")


def the_sync_runs_only_under_provision_sync(c, x):
    """identity_store_id and sync_groups under provision = login: the sync
    would stop serving every account a login made for someone outside the
    groups. It refuses to run, and the unit's condition skips it; a
    configuration that does not load fails the condition instead."""
    before = files_digest()
    common = dict(identity_store_id=STORE, sync_groups=gid_of(1),
                  identity_store_endpoint=x.dr.base, imds_endpoint=x.dr.imds)
    login = x.world.module_conf(x.work, x.sd, name="login.conf", provision="login", **common)
    p = subprocess.run([SYNC, "--conf", login], capture_output=True, text=True, timeout=60)
    c.check(p.returncode == 3 and "provision = sync" in p.stderr and files_digest() == before,
            "under provision = login the sync refuses to run (exit 3), nothing written",
            "exit %d %s" % (p.returncode, p.stderr))
    p = subprocess.run([SYNC, "--conf", login, "--configured"], capture_output=True, text=True)
    c.check(p.returncode == 1, "--configured: 1 (the unit is skipped)", str(p.returncode))
    broken = x.world.module_conf(x.work, x.sd, name="broken.conf", provision="sync")
    p = subprocess.run([SYNC, "--conf", broken, "--configured"], capture_output=True, text=True)
    c.check(p.returncode == 255 and "identity_store_id" in p.stderr,
            "--configured on provision = sync without identity_store_id: 255 (the unit fails)",
            "exit %d %s" % (p.returncode, p.stderr))
    p = subprocess.run([SYNC, "--conf", x.conf, "--configured"], capture_output=True, text=True)
    c.check(p.returncode == 0, "--configured on the working configuration: 0")


CASES = [the_sync_makes_the_members_accounts,
         a_member_logs_in_on_the_first_connection,
         another_members_approval_is_refused,
         a_rename_keeps_the_uid,
         a_failed_sync_keeps_the_last_good_files,
         a_removed_member_is_refused,
         a_disabled_member_is_refused,
         a_mass_removal_is_refused_without_force,
         imdsv1_only_metadata_is_refused,
         the_sync_runs_only_under_provision_sync]


def setup(tap, world):
    if not in_nss_sandbox():
        tap.check(False, "runs inside tests/tools/nss_sandbox.sh (nsswitch.conf names "
                  "ssooidc)")
        return
    work = world.tempdir()
    sd = world.standin(work)
    tag = world.tag
    names = {i: "ssoe2es%s%s" % ("abcd"[i - 1], tag) for i in range(1, 5)}
    users = [{"UserId": uid_of(i), "UserName": names[i],
              "UserStatus": "DISABLED" if i == 4 else "ENABLED"} for i in range(1, 5)]
    dr = Directory(sd.dir, {"users": users,  # sd.dir: the same CA
                          "groups": {gid_of(1): [uid_of(1), uid_of(2)],
                                     gid_of(2): [uid_of(3), uid_of(4)]}})
    world.cleanup.push("directory stand-in", dr.stop)
    os.makedirs(os.path.join(work, "home"), mode=0o755)
    conf = world.module_conf(
        work, sd, provision="sync", provision_home=os.path.join(work, "home"), timeout=45,
        identity_store_id=STORE, sync_groups="%s:ssosd%s, %s" % (gid_of(1), tag, gid_of(2)),
        identity_store_endpoint=dr.base, imds_endpoint=dr.imds, sync_max_removals="50%")
    service = "sshd-ssooidc-e2e-sync-" + tag
    world.root_file(os.path.join(PAM_D, service), "# sshd runs as %s\n%s"
                    % (service, sample_stanza("sshd", conf)))
    sshd = Sshd(world, work, service, "ssoe2e*")
    sshd.start()
    x = Ctx(world, work, sd, dr, conf, sshd, tag)
    run_cases(tap, CASES, x, lambda: "--- sshd log\n" + "\n".join(sshd.log().splitlines()[-30:]))


if __name__ == "__main__":
    sys.exit(run_suite("e2e-sync", ["sshd", "ssh", "getent"], setup))
