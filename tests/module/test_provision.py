#!/usr/bin/python3
"""The provisioning step of the module (provision = login) plain, under
ASan+UBSan and under valgrind: pamtester through pam_wrapper, the AWS
stand-in approving on its own, real glibc resolving the accounts through
the built NSS module.

Usage: tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- \\
           /usr/bin/python3 tests/module/test_provision.py     (root; TAP)

For each build: a first login makes the account (PAM_AUTH_ERR, "Your
account on HOST was created"), the next one succeeds and refreshes the
groups group_map gives, the wrong approver makes nothing, and the module
is clean (no sanitizer report, no valgrind error or leak). The paths are
those of tests/e2e/test_provision.py, which runs them through sshd."""
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import ROOT, Standin, Tap  # noqa: E402
from runner import VALGRIND  # noqa: E402

DATA = "/var/lib/pam_ssooidc"
PLAIN = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
ASAN = os.path.join(ROOT, "build", "asan", "pam_ssooidc.so")
CREATED = "was created. Connect again to log in."
EXIT = {0: "PAM_SUCCESS", 7: "PAM_AUTH_ERR"}  # pamtester exits 1 on any failure


def ledger():
    try:
        with open(os.path.join(DATA, "ledger.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"accounts": []}


def record(name):
    return next((a for a in ledger().get("accounts", []) if a.get("name") == name), None)


def groups_of(name):
    p = subprocess.run(["id", "-Gn", name], capture_output=True, text=True)
    return p.stdout.split() if p.returncode == 0 else None


class World:
    def __init__(self, work):
        self.work = work
        self.sd = Standin(work)
        self.svc = os.path.join(work, "svc")
        os.makedirs(self.svc)
        os.makedirs(os.path.join(work, "home"), mode=0o755)
        self.gmap = os.path.join(work, "group_map")
        with open(self.gmap, "w") as f:
            f.write("LinuxLogin ssoprovmod\nLinuxLogin users\n")
        os.chmod(self.gmap, 0o644)
        conf = os.path.join(work, "empty.conf")
        with open(conf, "w") as f:
            f.write("# all in the stanza\n")
        os.chmod(conf, 0o600)
        self.options = [
            "conf=" + conf, "start_url=https://example.awsapps.com/start",
            "oidc_endpoint=" + self.sd.url, "portal_endpoint=" + self.sd.url,
            "sts_endpoint=" + self.sd.url, "ca_file=" + self.sd.ca,
            "cache_dir=" + os.path.join(work, "cache"), "prompt=never",
            "account_id=111122223333", "role_name=LinuxLogin", "provision=login",
            "group_map=" + self.gmap, "provision_home=" + os.path.join(work, "home"),
            "timeout=60"] + harness.unlimited_options()

    def login(self, module, wrap, user, approver, extra=()):
        with open(os.path.join(self.svc, "prov"), "w") as f:
            f.write("auth required %s %s\naccount required pam_permit.so\n"
                    % (module, " ".join(self.options + list(extra))))
        pre = []
        if module == ASAN:
            pre.append(subprocess.check_output(["gcc", "-print-file-name=libasan.so"],
                                               text=True).strip())
        pre.append(harness._lib("libpam_wrapper.so"))
        env = dict(os.environ, LD_PRELOAD=" ".join(pre), PAM_WRAPPER="1",
                   PAM_WRAPPER_SERVICE_DIR=self.svc,
                   ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87",
                   LSAN_OPTIONS="suppressions=" + os.path.join(HERE, "lsan.supp"))
        self.sd.scenario(interval=1, approve_after_polls=0, approver=approver)
        p = subprocess.run(wrap + ["pamtester", "-v", "prov", user, "authenticate"], env=env,
                           input="\n", capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout + p.stderr


def run(tap, w, label, module, wrap):
    tag = {"plain": "p", "asan": "a", "valgrind": "v"}[label]
    user, other = "ssoprov" + tag, "ssoprovx" + tag
    rc, out = w.login(module, wrap, user, user)
    clean = rc in (0, 1) and "ERROR: AddressSanitizer" not in out and "runtime error" not in out
    tap.check(rc == 1 and CREATED in out, "%s: a first login makes the account and says "
              "connect again (PAM_AUTH_ERR)" % label, "exit %d\n%s" % (rc, out[-600:]))
    rec = record(user)
    tap.check(rec is not None and rec.get("key") == "aws:111122223333 " + user and rec.get("groups") ==
              ["ssoprovmod", "users"], "%s: the ledger keys it on the user name, with the "
              "group_map groups" % label, str(rec))
    rc, out2 = w.login(module, wrap, user, user)
    clean = clean and rc in (0, 1) and "ERROR: AddressSanitizer" not in out2
    tap.check(rc == 0, "%s: the next login succeeds" % label, "exit %d\n%s" % (rc, out2[-600:]))
    g = groups_of(user) or []
    tap.check(user in g and "ssoprovmod" in g and "users" in g,
              "%s: id -Gn shows the personal group and both mapped groups" % label, str(g))
    rc, out3 = w.login(module, wrap, other, "bob")
    clean = clean and rc in (0, 1) and "ERROR: AddressSanitizer" not in out3
    tap.check(rc == 1 and CREATED not in out3 and record(other) is None,
              "%s: approved by bob for %s: nothing made" % (label, other), out3[-400:])
    tap.check(clean, "%s: no sanitizer report, no valgrind error (exit codes 86-88)" % label,
              (out + out2 + out3)[-1500:])


def a_group_taken_away_goes_at_the_next_login(tap, w):
    """The person leaves a provider group (here: group_map no longer maps
    what they hold to users): the next login takes the local group away,
    though their last login was just recorded."""
    user = "ssoprovp"
    gmap = os.path.join(w.work, "group_map_less")
    with open(gmap, "w") as f:
        f.write("LinuxLogin ssoprovmod\n")
    os.chmod(gmap, 0o644)
    rc, out = w.login(PLAIN, [], user, user, ["group_map=" + gmap])
    g = groups_of(user) or []
    tap.check(rc == 0 and "ssoprovmod" in g and "users" not in g and
              record(user)["groups"] == ["ssoprovmod"],
              "a group no longer given is gone at the next login (id -Gn: %s)" % " ".join(g),
              out[-300:])
    rc, out = w.login(PLAIN, [], user, user)
    tap.check(rc == 0 and "users" in (groups_of(user) or []),
              "given again, it is back at the next login")


def with_provision_off_the_account_stays_its_persons(tap, w):
    """provision = off later, nsswitch.conf still naming ssooidc: the account
    is still served, and a login to it by someone user_map maps there, but
    who is not the person it was made for, is refused."""
    user = "ssoprovp"  # made by the plain run
    umap = os.path.join(w.work, "user_map")
    with open(umap, "w") as f:
        f.write("mallory %s\n" % user)
    os.chmod(umap, 0o644)
    off = ["provision=off", "group_map=", "user_map=" + umap]
    rc, out = w.login(PLAIN, [], user, "mallory", off)
    tap.check(rc == 1 and "may not log in as this user" in out,
              "provision off: mallory, mapped to %s by user_map, is refused: the account is "
              "another person's" % user, "exit %d\n%s" % (rc, out[-400:]))
    with open(umap, "w") as f:
        f.write("%s %s\n" % (user, user))
    rc, out = w.login(PLAIN, [], user, user, off)
    tap.check(rc == 0, "provision off: the person it was made for still logs in", out[-400:])


def with_provision_off_a_lost_ledger_is_no_open_door(tap, w):
    """provision = off, ledger.json gone but the NSS passwd file still there
    (the accounts still served): a login by someone user_map maps to one of
    them is refused, as with provision = login, not let in unchecked."""
    user = "ssoprovp"  # made by the plain run
    umap = os.path.join(w.work, "user_map_lost")
    with open(umap, "w") as f:
        f.write("mallory %s\n" % user)
    os.chmod(umap, 0o644)
    path = os.path.join(DATA, "ledger.json")
    aside = os.path.join(DATA, "ledger.json.aside")
    os.rename(path, aside)
    try:
        rc, out = w.login(PLAIN, [], user, "mallory",
                          ["provision=off", "group_map=", "user_map=" + umap])
    finally:
        os.rename(aside, path)
    tap.check(rc == 1, "provision off, ledger.json lost, passwd still served: mallory, mapped "
              "to %s by user_map, is not let in" % user, "exit %d\n%s" % (rc, out[-400:]))


def a_second_name_for_one_person_is_no_rename(tap, w):
    """user_map maps one person to two names: logging in under the second
    neither renames their account nor makes a second one."""
    user, second = "ssoprovp", "ssoprov2p"
    umap = os.path.join(w.work, "user_map2")
    with open(umap, "w") as f:
        f.write("%s %s\n%s %s\n" % (user, user, user, second))
    os.chmod(umap, 0o644)
    uid = record(user)["uid"]
    rc, out = w.login(PLAIN, [], second, user, ["user_map=" + umap])
    rec = record(user)
    tap.check(rc == 1 and CREATED not in out and "active again" not in out and record(second)
              is None and rec and rec["uid"] == uid and rec["state"] == "active",
              "one person, a second name in user_map: refused; their account keeps its name "
              "and no second one is made", "exit %d %s\n%s" % (rc, rec, out[-400:]))


def a_renewal_outside_uid_range_is_refused(tap, w):
    """The account's uid no longer in uid_range: renewing it would never
    serve it (connect again, forever): refused, named, nothing changed."""
    user = "ssoprova"  # made by the asan run
    p = subprocess.run([os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_users"), "remove", user],
                       capture_output=True, text=True)
    tap.check(p.returncode == 0, "pam_ssooidc_users remove %s" % user, p.stdout + p.stderr)
    uid = record(user)["uid"]
    rc, out = w.login(PLAIN, [], user, user, ["uid_range=%d-%d" % (uid + 1000, uid + 2000)])
    tap.check(rc == 1 and CREATED not in out and "active again" not in out,
              "a removed account whose uid is outside the narrowed uid_range is not renewed",
              out[-400:])
    tap.check(record(user)["state"] == "removed", "its record stays removed")


SYNC_OPTIONS = ["provision=sync", "group_map=", "identity_store_id=d-1234567890",
                "sync_groups=9067a3c5-e0a1-70f5-3b4c-1234567890ab"]


def under_provision_sync_the_directory_name_decides(tap, w):
    """An account the directory sync keeps (keyed on the directory's user
    ID; here the plain run's account, re-keyed as the sync adopts it): under
    provision = sync, plain, ASan and valgrind, its person logs in and the
    login writes nothing; someone user_map maps to it is refused; a name no
    source knows is refused before any device flow."""
    user = "ssoprovp"
    path = os.path.join(DATA, "ledger.json")
    with open(path) as f:
        doc = json.load(f)
    for a in doc["accounts"]:
        if a["name"] == user:
            a["key"] = "directory:identitystore:d-1234567890 user:11111111-1111-1111-1111-111111111111"
    with open(path, "w") as f:  # in place: root's, 0600, as the store wants it
        json.dump(doc, f)
    before = os.stat(path).st_mtime_ns
    for label, module, wrap in (("plain", PLAIN, []), ("asan", ASAN, []),
                                ("valgrind", PLAIN, VALGRIND)):
        rc, out = w.login(module, wrap, user, user, SYNC_OPTIONS)
        tap.check(rc == 0 and "ERROR: AddressSanitizer" not in out and "runtime error" not in out,
                  "provision = sync, %s: the directory's person logs in to the synced account"
                  % label, "exit %d\n%s" % (rc, out[-600:]))
    tap.check(os.stat(path).st_mtime_ns == before, "provision = sync: the logins wrote nothing")
    umap = os.path.join(w.work, "user_map_sync")
    with open(umap, "w") as f:
        f.write("mallory %s\n" % user)
    os.chmod(umap, 0o644)
    rc, out = w.login(PLAIN, [], user, "mallory", SYNC_OPTIONS + ["user_map=" + umap])
    tap.check(rc == 1 and "may not log in as this user" in out,
              "provision = sync: mallory, mapped to %s by user_map, is refused" % user,
              "exit %d\n%s" % (rc, out[-400:]))
    started = len(w.sd.devices())
    rc, out = w.login(PLAIN, [], "ssoprovnew", "ssoprovnew", SYNC_OPTIONS)
    tap.check(rc == 1 and len(w.sd.devices()) == started and record("ssoprovnew") is None,
              "provision = sync: an unknown name is refused before any device flow, nothing "
              "made", "exit %d\n%s" % (rc, out[-400:]))


def main():
    tap = Tap()
    with open("/etc/nsswitch.conf") as f:
        if "ssooidc" not in f.read():
            tap.check(False, "runs inside tests/tools/nss_sandbox.sh")
            return tap.done()
    work = harness.trusted_tempdir("ssooidc-provmod-")
    w = None
    try:
        w = World(work)
        run(tap, w, "plain", PLAIN, [])
        run(tap, w, "asan", ASAN, [])
        run(tap, w, "valgrind", PLAIN, VALGRIND)
        a_group_taken_away_goes_at_the_next_login(tap, w)
        with_provision_off_the_account_stays_its_persons(tap, w)
        with_provision_off_a_lost_ledger_is_no_open_door(tap, w)
        a_second_name_for_one_person_is_no_rename(tap, w)
        a_renewal_outside_uid_range_is_refused(tap, w)
        under_provision_sync_the_directory_name_decides(tap, w)
    finally:
        if w:
            w.sd.stop()
        harness.cleanup_pam_wrapper_dirs()
        subprocess.run(["rm", "-rf", work])
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
