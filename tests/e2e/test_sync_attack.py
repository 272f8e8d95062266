#!/usr/bin/python3
"""End-to-end attacks on the login under provision = sync, on the set-up of
test_sync.py (its stand-ins, sshd and configuration, sync_max_removals =
50%). Each case checks what docs/sync.md promises:

* a name reused at the directory is refused: here the original person is
  deleted with others, the run is refused by sync_max_removals, and the
  new holder of the name logs in to the old person's account (uid, home);
* a run never writes a ledger that the next run, the logins and
  pam_ssooidc_users cannot read: here a disable, two renames and an enable
  leave two served records of one name, and every synced login after it
  is refused.

Usage: tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- \\
           /usr/bin/python3 tests/e2e/test_sync_attack.py     (as root)"""
import os
import pwd
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_sync  # noqa: E402
from test_sync import COMMAND_OUTPUT, getent, uid_of, gid_of  # noqa: E402
from e2elib import run_suite  # noqa: E402


def the_first_sync(c, x):
    rc, out, err = x.sync()
    c.check(rc == 0 and out.get("counts", {}).get("added") == 3, "the first sync adds three",
            "%s %s %s" % (rc, out, err))


def a_reused_name_while_a_run_is_refused(c, x):
    """Three people leave at once (a mistake or a layoff: over the 50%
    brake); a new person gets the first one's user name."""
    old = x.name("a")
    old_uid = pwd.getpwnam(old).pw_uid
    for i in (1, 2, 3):
        x.dr.op(op="remove_user", UserId=uid_of(i))
    x.dr.op(op="add_user", UserId=uid_of(9), UserName=old)
    x.dr.op(op="add_member", GroupId=gid_of(1), UserId=uid_of(9))
    rc, out, err = x.sync()
    c.check(rc == 2 and out.get("refused"), "the run is refused by sync_max_removals",
            "%s %s %s" % (rc, out, err))
    rc, after = x.login(c, old, command="id -u")
    c.check(not (rc == 0 and COMMAND_OUTPUT in after) and str(old_uid) not in after,
            "the new holder of the name %s is not let in to the departed person's uid %d"
            % (old, old_uid), after[-300:])
    rc, out, err = x.sync("--force")
    c.check(rc in (0, 1), "--force applies the departures", "%s %s %s" % (rc, out, err))


def a_name_served_twice_refuses_every_login(c, x):
    a, c_name = x.name("t"), x.name("u")
    x.dr.op(op="add_user", UserId=uid_of(20), UserName=a)
    x.dr.op(op="add_user", UserId=uid_of(21), UserName=c_name)
    x.dr.op(op="add_member", GroupId=gid_of(1), UserId=uid_of(20))
    x.dr.op(op="add_member", GroupId=gid_of(1), UserId=uid_of(21))
    rc, out, err = x.sync("--force")
    x.dr.op(op="disable", UserId=uid_of(20))
    rc, out, err = x.sync("--force")
    x.dr.op(op="rename", UserId=uid_of(20), UserName=a + "-old")
    x.dr.op(op="add_user", UserId=uid_of(22), UserName=a)
    x.dr.op(op="add_member", GroupId=gid_of(1), UserId=uid_of(22))
    rc, out, err = x.sync("--force")
    x.dr.op(op="rename", UserId=uid_of(22), UserName="Not.A.Name" + x.tag)
    x.dr.op(op="rename", UserId=uid_of(20), UserName=a)
    x.dr.op(op="enable", UserId=uid_of(20))
    rc, out, err = x.sync("--force")
    rc, out, err = x.sync()
    c.check(rc in (0, 1), "the next run reads the ledger the last one wrote",
            "exit %s %s %s" % (rc, out.get("message"), err))
    rc, after = x.login(c, c_name)
    c.check(rc == 0 and COMMAND_OUTPUT in after,
            "%s, a synced member untouched by all this, still logs in" % c_name, after[-300:])


def a_reused_name_outside_sync_groups_while_a_run_is_refused(c, x):
    """As above, but the new holder of the name is in none of sync_groups
    (the permission set reaches them through another group): the sync
    never sees them, so sync_disown takes nothing away, and they log in to
    the departed person's account while the departures wait for --force.
    Put back as it was afterwards for the cases that follow."""
    old = x.name("a")
    old_uid = pwd.getpwnam(old).pw_uid
    for i in (1, 2, 3):
        x.dr.op(op="remove_user", UserId=uid_of(i))
    x.dr.op(op="add_user", UserId=uid_of(19), UserName=old)  # no add_member
    rc, out, err = x.sync()
    c.check(rc == 2 and out.get("refused"), "the run is refused by sync_max_removals",
            "%s %s %s" % (rc, out, err))
    rc, after = x.login(c, old, command="id -u")
    c.check(not (rc == 0 and COMMAND_OUTPUT in after) and str(old_uid) not in after,
            "the new holder of the name %s, outside sync_groups, is not let in to the "
            "departed person's uid %d" % (old, old_uid), after[-300:])
    x.dr.op(op="remove_user", UserId=uid_of(19))
    for i, g in ((1, 1), (2, 1), (3, 2)):
        x.dr.op(op="add_user", UserId=uid_of(i), UserName=x.name("abc"[i - 1]))
        x.dr.op(op="add_member", GroupId=gid_of(g), UserId=uid_of(i))
    rc, out, err = x.sync()
    c.check(rc in (0, 1), "the directory put back, a run goes through", "%s %s %s"
            % (rc, out, err))


def a_person_renamed_to_no_local_name_leaves_the_old_name_open(c, x):
    """A member renamed to a name that maps to no local name (an e-mail
    style name) is skipped and keeps their account, and the account keeps
    answering to the old directory name. That name is free in the
    directory now: the next person given it (outside sync_groups here, so
    that no disown applies) logs in to the first person's uid. Put back
    afterwards."""
    old = x.name("b")
    old_uid = pwd.getpwnam(old).pw_uid
    x.dr.op(op="rename", UserId=uid_of(2), UserName="Renamed.Person@example.com")
    x.dr.op(op="add_user", UserId=uid_of(18), UserName=old)  # no add_member
    rc, out, err = x.sync()
    c.check(rc in (0, 1) and not out.get("refused"), "the run goes through (the renamed "
            "member skipped)", "%s %s %s" % (rc, out, err))
    rc, after = x.login(c, old, command="id -u")
    c.check(not (rc == 0 and COMMAND_OUTPUT in after) and str(old_uid) not in after,
            "the new holder of the name %s is not let in to the renamed person's uid %d"
            % (old, old_uid), after[-300:])
    x.dr.op(op="remove_user", UserId=uid_of(18))
    x.dr.op(op="rename", UserId=uid_of(2), UserName=old)
    rc, out, err = x.sync()
    c.check(rc in (0, 1), "the directory put back, a run goes through", "%s %s %s"
            % (rc, out, err))


CASES = [the_first_sync, a_person_renamed_to_no_local_name_leaves_the_old_name_open, a_reused_name_outside_sync_groups_while_a_run_is_refused,
         a_reused_name_while_a_run_is_refused,
         a_name_served_twice_refuses_every_login]

if __name__ == "__main__":
    test_sync.CASES = CASES
    sys.exit(run_suite("e2e-sync-attack", ["sshd", "ssh", "getent"], test_sync.setup))
