#!/usr/bin/python3
"""End-to-end: accounts on demand (provision = login) through real glibc,
a real sshd, real sudo and the AWS stand-in.

Usage: tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- \\
           /usr/bin/python3 tests/e2e/test_provision.py [-v]     (as root)

It must run inside nss_sandbox.sh: a private mount namespace where glibc
resolves users through the built NSS module (nsswitch.conf "files
ssooidc") and /var/lib/pam_ssooidc is the sandbox's own, so the host's
users, nsswitch.conf and data directory are never touched. The sshd, the
ssh client, sudo and getent started here all share that namespace.

A person with no account connects, approves, reads "connect again",
connects again, approves, and runs `id`: the uid from uid_range, the
personal group, the groups group_map gives (a group the module made and
the host's `users`), the home pam_mkhomedir made; sudo admits them through
the mapped group. The wrong approver, a name that breaks the rule, a
local name, a denial and a stranger who never approves make nothing. Two
first logins at once make one account; a removed account's uid is never
handed out again."""
import json
import os
import pwd
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (PAM_D, ROOT, Browser, comment, in_nss_sandbox, new_device,  # noqa: E402
                    run_cases, run_suite, sample_stanza, ssh_kbdint)
from test_sshd import COMMAND_OUTPUT, PROMPT_END, Sshd  # noqa: E402

DATA = "/var/lib/pam_ssooidc"
USERS_TOOL = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_users")
CREATED = re.compile(r"Your account on \S+ was created\. Connect again to log in\.")
RENEWED = re.compile(r"Your account on \S+ is active again\. Connect again to log in\.")
WRONG_ACCOUNT = "The approval came from an account that may not log in as this user."
DENIED = "The sign-in request was denied."
ID_COMMAND = "id; echo HOME=$HOME; stat -c 'home-owner=%u' $HOME"
UID_MIN = 65536


def ledger():
    try:
        with open(os.path.join(DATA, "ledger.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"accounts": []}


def record(name):
    for a in ledger().get("accounts", []):
        if a.get("name") == name:
            return a
    return None


def getent(db, key):
    p = subprocess.run(["getent", db, key], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


class Ctx:
    def __init__(self, world, work, sd, conf, sshd, service, tag):
        self.world, self.work, self.sd, self.conf = world, work, sd, conf
        self.sshd, self.service, self.tag = sshd, service, tag
        self.browser = Browser(sd)
        self.known = set()
        self.admins = "ssopa" + tag  # the group the module makes from group_map

    def name(self, role):
        return "ssoe2e%s%s" % (role, self.tag)  # the name rule holds; <= 32

    def stanza(self, *options):
        self.world.root_file(os.path.join(PAM_D, self.service),
                             "# sshd runs as %s\n%s" % (self.service,
                                                        sample_stanza("sshd", self.conf,
                                                                      *options)))

    def ssh(self, case, user, command="echo E2E-OK-$((6*7))"):
        return ssh_kbdint(case, self.sshd.port, user, command)

    def login(self, c, user, approver=None, decision="approve", command=None):
        """One connection: wait for the code, decide as `approver`, press
        Enter; returns (exit status, text after the prompt, device)."""
        t = self.ssh(c, user, command or "echo E2E-OK-$((6*7))")
        i = t.expect(PROMPT_END)
        c.check(i == 0, "%s: ssh shows the device prompt" % user, t.text[-300:])
        dev = new_device(self.sd, self.known)
        if dev is None:
            t.close()
            return None, t.text, None
        status, _ = self.browser.decide(dev["userCode"], approver or user, decision)
        c.check(status == 200, "%s: the browser %ss as %s" % (user, decision, approver or user))
        shown = t.text
        t.press_enter()
        rc = t.finish()
        return rc, t.text[len(shown):], dev


# ---------------------------------------------------------------- the cases

def first_login_creates_the_account_and_the_next_one_uses_it(c, x):
    x.stanza()
    user = x.name("a")
    c.check(getent("passwd", user) is None, "%s is unknown before" % user)
    rc, after, _ = x.login(c, user)
    c.check(CREATED.search(after) is not None, "the person reads: Your account on HOST was "
            "created. Connect again to log in.", after[-400:])
    c.check(rc not in (0, None) and COMMAND_OUTPUT not in after,
            "that connection does not log in (sshd looked the user up before PAM ran)",
            "exit %s" % rc)
    line = getent("passwd", user)
    c.check(line is not None, "getent passwd %s finds the new account" % user, str(line))
    pw = pwd.getpwnam(user) if line else None
    c.check(pw is not None and UID_MIN <= pw.pw_uid <= 99999 and pw.pw_gid == pw.pw_uid,
            "its uid is from uid_range and its group's gid is the uid", str(pw))
    c.check(pw is not None and pw.pw_dir == os.path.join(x.work, "home", user)
            and pw.pw_shell == "/bin/bash", "home under provision_home, shell /bin/bash", str(pw))
    rec = record(user)
    c.check(rec is not None and rec.get("key") == "aws:111122223333 " + user and rec.get("state") == "active",
            "the ledger keys it on the AWS account and the Identity Center user name, active", str(rec))
    rc, after, _ = x.login(c, user, command=ID_COMMAND)
    c.check(rc == 0, "the second connection logs in", "exit %s\n%s" % (rc, after[-400:]))
    m = re.search(r"uid=(\d+)\(%s\) gid=(\d+)\(%s\) groups=(\S+)" % (user, user), after)
    c.check(m is not None and pw is not None and int(m.group(1)) == pw.pw_uid,
            "id shows the allocated uid and the personal group", after[-400:])
    groups = m.group(3) if m else ""
    c.check("(%s)" % x.admins in groups and "(users)" in groups,
            "id shows the groups group_map gives: %s (made by the module) and users (the "
            "host's)" % x.admins, groups)
    c.check("home-owner=%d" % (pw.pw_uid if pw else -1) in after
            and os.path.isdir(os.path.join(x.work, "home", user)),
            "pam_mkhomedir made the home, owned by the new uid", after[-300:])
    x.first = user


def sudo_admits_through_the_mapped_group(c, x):
    user = getattr(x, "first", None)
    c.check(user is not None, "the account of the first case exists")
    if not user:
        return
    x.world.root_file("/etc/sudoers.d/ssooidc-e2e-prov-" + x.tag,
                      "# %s\n%%%s ALL=(root) NOPASSWD: /usr/bin/id -u\n" % (x.world.marker,
                                                                          x.admins),
                      mode=0o440, validate=["visudo", "-cf"])
    p = subprocess.run(["runuser", "-u", user, "--", "sudo", "-n", "/usr/bin/id", "-u"],
                       capture_output=True, text=True, timeout=30)
    c.check(p.returncode == 0 and p.stdout.strip() == "0",
            "sudo admits %s through %%%s (a group only the NSS module knows)" % (user, x.admins),
            "%s %s %s" % (p.returncode, p.stdout, p.stderr))
    p = subprocess.run(["runuser", "-u", "nobody", "--", "sudo", "-n", "/usr/bin/id", "-u"],
                       capture_output=True, text=True, timeout=30)
    c.check(p.returncode != 0, "sudo refuses a user outside the group (nobody)")


def nothing_is_made_for_the_wrong_approver(c, x):
    x.stanza()
    user = x.name("w")
    rc, after, _ = x.login(c, user, approver="bob")
    c.check(WRONG_ACCOUNT in after and not CREATED.search(after),
            "bob approving for %s: told the approval is from another account" % user, after)
    c.check(getent("passwd", user) is None and record(user) is None,
            "no account and no ledger record for %s" % user)


def nothing_is_made_on_a_denial(c, x):
    x.stanza()
    user = x.name("d")
    rc, after, _ = x.login(c, user, decision="deny")
    c.check(DENIED in after and rc not in (0, None), "denied: told so, not logged in", after)
    c.check(getent("passwd", user) is None and record(user) is None, "nothing made")


def a_name_that_breaks_the_rule_starts_nothing(c, x):
    x.stanza()
    before = len(x.sd.devices())
    for bad in ("Ssoe2eCaps" + x.tag, "ssoe2e.dot" + x.tag, "9ssoe2e" + x.tag):
        t = x.ssh(c, bad)
        rc = t.finish()
        c.check(rc not in (0, None) and "Sign in with AWS" not in t.text,
                "%s: refused, no code shown" % bad, t.text[-200:])
        c.check(getent("passwd", bad) is None, "%s: nothing made" % bad)
    c.check(len(x.sd.devices()) == before, "no device authorization was started for them")


def a_local_name_is_not_provisioned(c, x):
    x.stanza()
    local = x.world.add_user("l")
    rc, after, _ = x.login(c, local)
    c.check(rc == 0 and COMMAND_OUTPUT in after and not CREATED.search(after),
            "the local user %s logs in as always, nothing made" % local, after[-300:])
    c.check(record(local) is None, "the ledger has no record of %s" % local)


def a_stranger_who_never_approves_makes_nothing(c, x):
    x.stanza("timeout=10")
    user = x.name("s")
    t = x.ssh(c, user)
    c.check(t.expect(PROMPT_END) == 0, "the stranger sees a code")
    t.press_enter()
    t.expect("press Enter: ", timeout=20)
    t.press_enter()
    rc = t.finish(timeout=40)
    c.check(rc not in (0, None), "no approval: refused", "exit %s" % rc)
    c.check(getent("passwd", user) is None and record(user) is None, "nothing made")


def two_first_logins_at_once_make_one_account(c, x):
    x.stanza()
    user = x.name("t")
    terms = [x.ssh(c, user) for _ in range(2)]
    devs = []
    for t in terms:
        c.check(t.expect(PROMPT_END) == 0, "both connections show a code")
        devs.append(new_device(x.sd, x.known))
    for d in devs:
        if d:
            x.browser.decide(d["userCode"], user, "approve")
    for t in terms:
        t.press_enter()
    outs = []
    for t in terms:
        t.finish()
        outs.append(t.text)
    c.check(all(CREATED.search(o) for o in outs), "both are told the account was created")
    recs = [a for a in ledger()["accounts"] if a.get("key") == "aws:111122223333 " + user]
    c.check(len(recs) == 1, "one ledger record for the person", str(recs))
    lines = [ln for ln in subprocess.run(["getent", "passwd"], capture_output=True,
                                         text=True).stdout.splitlines()
             if ln.startswith(user + ":")]
    c.check(len(lines) == 1, "one passwd entry", "\n".join(lines))
    x.second = user


def a_removed_uid_is_never_handed_out_again(c, x):
    user = getattr(x, "second", None)
    c.check(user is not None and os.access(USERS_TOOL, os.X_OK),
            "an account to remove and pam_ssooidc_users")
    if not user or not os.access(USERS_TOOL, os.X_OK):
        return
    old = pwd.getpwnam(user).pw_uid
    p = subprocess.run([USERS_TOOL, "remove", user], capture_output=True, text=True)
    c.check(p.returncode == 0, "pam_ssooidc_users remove %s" % user, p.stdout + p.stderr)
    c.check(getent("passwd", user) is None, "the name is unknown after remove")
    rec = record(user)
    c.check(rec is not None and rec.get("state") == "removed" and rec.get("uid") == old,
            "the ledger keeps it as a tombstone with its uid", str(rec))
    x.stanza()
    newcomer = x.name("r")
    x.login(c, newcomer)
    pw = getent("passwd", newcomer)
    uid = int(pw.split(":")[2]) if pw else None
    c.check(uid is not None and uid != old and uid > old,
            "the next account gets a new uid (%s), never the removed %d" % (uid, old))


CASES = [first_login_creates_the_account_and_the_next_one_uses_it,
         sudo_admits_through_the_mapped_group,
         nothing_is_made_for_the_wrong_approver, nothing_is_made_on_a_denial,
         a_name_that_breaks_the_rule_starts_nothing, a_local_name_is_not_provisioned,
         a_stranger_who_never_approves_makes_nothing,
         two_first_logins_at_once_make_one_account, a_removed_uid_is_never_handed_out_again]


# ------------------------------------------------- against oidc-provider
# The same model with a real OpenID provider: the key is iss + sub, the
# groups come from the ID token's groups claim, required_groups gates.

OIDC_CODE = re.compile(r"\n    ([A-Za-z0-9-]{4,})\n")


class OidcCtx:
    def __init__(self, x, p, conf, sshd):
        self.x, self.p, self.conf, self.sshd = x, p, conf, sshd

    def login(self, c, user, approver, command="echo E2E-OK-$((6*7))"):
        args = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "PreferredAuthentications=keyboard-interactive",
                "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
                "-p", str(self.sshd.port), "%s@127.0.0.1" % user, command]
        t = c.terminal("ssh", args, timeout=40)
        c.check(t.expect(PROMPT_END) == 0, "%s: ssh shows the device prompt" % user)
        m = OIDC_CODE.search(t.text)
        c.check(m is not None, "%s: a code is shown" % user, t.text[-300:])
        if not m:
            t.close()
            return None, t.text
        try:
            self.p.approve(m.group(1), approver, self.p.users[approver].password)
        except Exception as e:
            c.check(False, "%s approves at the provider" % approver, str(e))
        shown = t.text
        t.press_enter()
        rc = t.finish()
        return rc, t.text[len(shown):]


def oidc_first_login_creates_and_the_next_uses_it(c, o):
    user = o.alice
    rc, after = o.login(c, user, user)
    c.check(CREATED.search(after) is not None and rc not in (0, None),
            "OpenID: the first connection makes the account and says connect again", after)
    rec = record(user)
    c.check(rec is not None and rec.get("key", "").startswith("openid:%s sub:" % o.p.issuer),
            "the ledger keys it on iss + sub", str(rec))
    rc, after = o.login(c, user, user, command="id")
    c.check(rc == 0 and re.search(r"uid=\d+\(%s\)" % user, after) is not None,
            "the second connection logs in and id names the account", after[-300:])
    c.check("(%s)" % o.devs in after, "the groups claim's linux-devs gives the local group %s"
            % o.devs, after[-300:])


def oidc_a_person_outside_required_groups_makes_nothing(c, o):
    rc, after = o.login(c, o.carol, o.carol)
    c.check(rc not in (0, None) and not CREATED.search(after),
            "carol (in no required group) is refused", after)
    c.check(getent("passwd", o.carol) is None and record(o.carol) is None, "nothing made")


def oidc_the_wrong_approver_makes_nothing(c, o):
    rc, after = o.login(c, o.dave, o.alice)
    c.check(WRONG_ACCOUNT in after and not CREATED.search(after),
            "alice approving dave's code: refused as another account", after)
    c.check(getent("passwd", o.dave) is None and record(o.dave) is None, "nothing made")


def oidc_a_local_user_in_many_groups_logs_in(c, o):
    """A local account (not the module's) of a person whose groups claim
    is longer than provisioning reads: the groups are none of its
    business, and the login stands as it did before provision = login."""
    rc, after = o.login(c, o.local, o.local)
    c.check(rc == 0 and COMMAND_OUTPUT in after,
            "local user %s in %d provider groups logs in as always" % (o.local, MANY_GROUPS),
            after[-300:])
    c.check(record(o.local) is None, "the ledger has no record of %s" % o.local)


def oidc_a_person_in_many_groups_gets_an_account(c, o):
    """A person in more provider groups than provisioning reads, the one
    group_map names last among them: the groups group_map does not name
    are no business of the host's, and need no room."""
    user = o.nina
    rc, after = o.login(c, user, user)
    c.check(CREATED.search(after) is not None,
            "%s in %d provider groups: the first connection makes the account" % (user, MANY_GROUPS),
            after[-300:])
    rc, after = o.login(c, user, user, command="id")
    c.check(rc == 0 and "(%s)" % o.devs in after,
            "the second logs in, with the local group of linux-devs (listed last)", after[-300:])


MANY_GROUPS = 200  # more than PROVISION_GROUPS_MAX (128)

OIDC_CASES = [oidc_first_login_creates_and_the_next_uses_it,
              oidc_a_person_outside_required_groups_makes_nothing,
              oidc_the_wrong_approver_makes_nothing,
              oidc_a_local_user_in_many_groups_logs_in,
              oidc_a_person_in_many_groups_gets_an_account]


def run_openid(tap, world, x):
    sys.path.insert(0, os.path.join(ROOT, "tests", "providers"))
    try:
        import providers
    except ImportError as e:
        tap.skip("OpenID provisioning", "the provider harness cannot load: %s" % e)
        return
    work = world.tempdir()
    os.chmod(work, 0o711)
    names = {r: x.name("o" + r[0]) for r in ("alice", "carol", "dave", "nina")}
    local = x.world.add_user("m")
    many = ["linux-users"] + ["team-%03d" % i for i in range(MANY_GROUPS - 1)]
    try:
        p = providers.start_panva(work, users={names["alice"]: ["linux-users", "linux-devs"],
                                               names["carol"]: [],
                                               names["dave"]: ["linux-users"],
                                               local: many,
                                               names["nina"]: many + ["linux-devs"]})
    except providers.ProviderUnavailable as e:
        tap.skip("OpenID provisioning", str(e))
        return
    world.cleanup.push("oidc-provider", p.stop)
    ca = os.path.join(work, "provider-ca.pem")
    with open(p.ca) as src, open(ca, "w") as dst:
        dst.write(src.read())
    os.chmod(ca, 0o644)
    devs = "ssopd" + x.tag
    gmap = os.path.join(work, "group_map")
    with open(gmap, "w") as f:
        f.write("linux-devs %s\n" % devs)
    os.makedirs(os.path.join(work, "home"), mode=0o755)
    conf = os.path.join(work, "openid.conf")
    opts = {"issuer": p.issuer, "client_id": p.client("none", "RS256").client_id,
            "ca_file": ca, "cache_dir": os.path.join(work, "cache"),
            "scopes": "openid,profile,groups", "required_groups": "linux-users",
            "timeout": 40, "provision": "login", "group_map": gmap,
            "provision_home": os.path.join(work, "home")}
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join("%s = %s\n" % kv for kv in opts.items()))
    service = "sshd-ssooidc-e2e-provo-" + x.tag
    world.root_file(os.path.join(PAM_D, service), "# sshd runs as %s\n%s"
                    % (service, sample_stanza("sshd", conf)))
    sshd = Sshd(world, work, service, "ssoe2e*", name="sshd-oidc")
    sshd.start()
    o = OidcCtx(x, p, conf, sshd)
    o.alice, o.carol, o.dave, o.devs = names["alice"], names["carol"], names["dave"], devs
    o.local, o.nina = local, names["nina"]
    run_cases(tap, OIDC_CASES, o, lambda: "--- sshd log\n" + "\n".join(
        sshd.log().splitlines()[-30:]))


def setup(tap, world):
    if not in_nss_sandbox():
        tap.check(False, "runs inside tests/tools/nss_sandbox.sh (nsswitch.conf names "
                  "ssooidc)")
        return
    work = world.tempdir()
    sd = world.standin(work)
    os.makedirs(os.path.join(work, "home"), mode=0o755)
    tag = world.tag
    gmap = os.path.join(work, "group_map")
    with open(gmap, "w") as f:
        f.write("# permission set -> local group\nLinuxLogin ssopa%s\nLinuxLogin users\n" % tag)
    os.chmod(gmap, 0o644)
    conf = world.module_conf(work, sd, provision="login", group_map=gmap,
                             provision_home=os.path.join(work, "home"), timeout=45)
    service = "sshd-ssooidc-e2e-prov-" + tag
    sshd = Sshd(world, work, service, "ssoe2e*")
    sshd.start()
    x = Ctx(world, work, sd, conf, sshd, service, tag)
    run_cases(tap, CASES, x, lambda: "--- sshd log\n" + "\n".join(sshd.log().splitlines()[-30:]))
    run_openid(tap, world, x)
    comment("ledger: %d records" % len(ledger().get("accounts", [])))


if __name__ == "__main__":
    sys.exit(run_suite("e2e-provision", ["sshd", "ssh", "sudo", "getent", "runuser"], setup))
