#!/usr/bin/python3
"""Registration cache tampering, through real logins (pamtester under
pam_wrapper + nss_wrapper, the stand-in approving on the first poll).

Every case either re-registers safely and succeeds, or refuses with
PAM_SERVICE_ERR and a syslog line that says why; it never follows a planted
link, never uses a registration someone other than root could have written,
never writes through anything planted, and never crashes. The last cases kill
a registering login with SIGKILL halfway through writing the cache (LD_PRELOAD
shim killwrite.so) and show that no torn file can result.

Usage: test_tampering.py [--module SO] [--asan] [--jobs N] [--only a,b]
Prints TAP."""
import argparse
import contextlib
import json
import os
import subprocess
import stat
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hcommon import (KILLWRITE, MODULE, World, cache_json, cleanup_dead_pam_wrapper_dirs,  # noqa: E402
                     ensure_built, parse_registration, reg_file_name, run_tests)

TESTS = []
OTHER_UID = 2001  # alice in the nss_wrapper passwd: "another user"


def test(fn):
    TESTS.append(fn)
    return fn


# ---------------------------------------------------------------- helpers

def make_dir(path, mode=0o700, uid=0):
    os.makedirs(path, exist_ok=True)
    os.chown(path, uid, 0)
    os.chmod(path, mode)
    return path


def write_file(path, data, mode=0o600, uid=0):
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chown(path, uid, 0)
    os.chmod(path, mode)
    return path


def snapshot(path):
    """Bytes and identity of a file, to prove it was never written."""
    st = os.lstat(path)
    with open(path, "rb") as f:
        data = f.read()
    return (data, st.st_ino, st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns)


def starts(w):
    return [x for x in w.sd.api_log() if x["op"] == "StartDeviceAuthorization"]


def registered_ids(w):
    return [x["client_id"] for x in w.sd.api_log() if x["op"] == "RegisterClient"]


def leftovers(cache):
    return sorted(f for f in os.listdir(cache) if ".tmp" in f)


def check_good_file(c, cache, r, what="the cache file"):
    """The registration file is a regular root 0600 file that parses, and its
    clientId is the one the module registered in this login."""
    path = c.w.reg_path(cache)
    try:
        st = os.lstat(path)
    except OSError as e:
        return c.check(False, "%s exists afterwards" % what, r, str(e))
    reg = parse_registration(path)
    ids = registered_ids(c.w)
    ok = (stat.S_ISREG(st.st_mode) and st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600
          and reg is not None and ids and reg["clientId"] == ids[-1])
    return c.check(ok, "%s is now a regular root 0600 file holding the new registration" % what,
                   r, "mode=%o uid=%d reg=%s registered=%s" % (st.st_mode, st.st_uid,
                                                              reg and reg["clientId"], ids))


def login_not_using(c, cache, planted, name, label):
    """A login over `cache` re-registers, and no StartDeviceAuthorization
    used the planted registration's clientId. Returns the login."""
    r = c.w.login(c.w.options(cache=cache))
    c.expect(r, "PAM_SUCCESS", "%s: login re-registers" % label)
    used = [x["client_id"] for x in starts(c.w)]
    c.check(used and planted["clientId"] not in used, name, r,
            "planted=%s used=%s" % (planted["clientId"], used))
    return r


def syslog_has(r, *words):
    """words in one syslog line (the outcome line's values decoded)."""
    return any(all(wd in urllib.parse.unquote(line) for wd in words) for line in r.syslog)


def no_traffic(c, r, what):
    ops = c.w.api_ops()
    c.check(not ops, "%s: no request reached the service" % what, r, str(ops))


# ---------------------------------------------------------------- baseline

@test
def cache_name_and_layout(c):
    """Calibrates the other tests: the file name we plant under is the one
    the module uses, and a normal first login leaves root 0700 / 0600."""
    c.w.sd.reset(approve_after_polls=0)
    cache = c.w.fresh_cache()
    r = c.w.login(c.w.options(cache=cache))
    c.expect(r, "PAM_SUCCESS", "first login into an empty cache")
    name = reg_file_name(c.w.sd)
    files = sorted(os.listdir(cache)) if os.path.isdir(cache) else []
    c.check(name in files, "the cache file is %s (SHA-256 of endpoint, client name, ca_file and proxy)" % name,
            r, str(files))
    st = os.stat(cache)
    c.check(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o700, "cache dir is root 0700", r,
            oct(st.st_mode))
    check_good_file(c, cache, r)
    c.check(not leftovers(cache), "no temp file left behind", r, str(files))
    r2 = c.w.login(c.w.options(cache=cache))
    c.expect(r2, "PAM_SUCCESS", "second login")
    c.check(len(registered_ids(c.w)) == 1, "second login reuses the cached registration", r2,
            str(c.w.api_ops()))


# ---------------------------------------------------------------- symlinks

def planted_link_case(c, target_setup, label):
    """Plant reg-<key>.json as a symlink; the module must neither use what it
    points at nor write through it."""
    c.w.sd.reset(approve_after_polls=0)
    attacker = c.w.register_directly("attacker")  # valid at the service right now
    cache = make_dir(c.w.fresh_cache())
    target = target_setup(attacker)
    before = snapshot(target) if os.path.lexists(target) else None
    os.symlink(target, c.w.reg_path(cache))
    r = login_not_using(c, cache, attacker, "%s: StartDeviceAuthorization did not use the "
                        "planted clientId" % label, label)
    polls = [x["client_id"] for x in c.w.sd.api_log() if x["op"] == "CreateToken"]
    c.check(attacker["clientId"] not in polls, "%s: no CreateToken with the planted clientId"
            % label, r, str(polls))
    c.check(len(registered_ids(c.w)) == 2, "%s: the module registered its own client" % label,
            r, str(registered_ids(c.w)))
    if before is not None:
        after = snapshot(target) if os.path.lexists(target) else None
        c.check(after == before, "%s: link target unchanged (bytes, inode, mode, mtime)" % label,
                r, "before=%r\nafter=%r" % (before[1:], after and after[1:]))
    else:
        c.check(not os.path.lexists(target), "%s: dangling link target not created" % label, r)
    c.check(syslog_has(r, "registering client", "symbolic link", "not followed"),
            "%s: syslog says the symlink was not followed" % label, r)
    check_good_file(c, cache, r, "%s: the cache file" % label)
    return cache


@test
def symlink_to_attacker_registration(c):
    def setup(attacker):
        d = make_dir(os.path.join(c.w.work, "attacker"), 0o755)
        # root 0600 and valid: only O_NOFOLLOW stands between it and the module
        return write_file(os.path.join(d, "reg.json"), cache_json(attacker))
    planted_link_case(c, setup, "symlink to a valid attacker registration")


@test
def symlink_to_shadow_like_file(c):
    def setup(_):
        d = make_dir(os.path.join(c.w.work, "etc"), 0o755)
        return write_file(os.path.join(d, "shadow"),
                          "root:$6$rounds=5000$salt$hash:19700:0:99999:7:::\n"
                          "alice:!:19700:0:99999:7:::\n", mode=0o640)
    planted_link_case(c, setup, "symlink to a shadow-like file")


@test
def dangling_symlink(c):
    def setup(_):
        d = make_dir(os.path.join(c.w.work, "attacker2"), 0o755)
        return os.path.join(d, "created-through-link")
    planted_link_case(c, setup, "dangling symlink")


@test
def hard_link_to_shadow_like_file(c):
    """A hard link is not a symlink: the module may open it (it is a root
    0600 file), finds it corrupt and re-registers, but the store renames a
    new file over the name and so never writes into the linked inode."""
    c.w.sd.reset(approve_after_polls=0)
    cache = make_dir(c.w.fresh_cache())
    d = make_dir(os.path.join(c.w.work, "etc2"), 0o755)
    target = write_file(os.path.join(d, "shadow"), "root:$6$x$y:19700:0:99999:7:::\n")
    before = snapshot(target)
    os.link(target, c.w.reg_path(cache))
    r = c.w.login(c.w.options(cache=cache))
    c.expect(r, "PAM_SUCCESS", "hard link to a root file: login re-registers")
    after = snapshot(target)
    c.check(after == before, "hard link: linked file unchanged (bytes, inode, mtime)", r)
    c.check(os.stat(target).st_nlink == 1, "hard link: the name now points at a new inode", r)
    check_good_file(c, cache, r, "hard link: the cache file")


@test
def symlink_cache_dir(c):
    c.w.sd.reset(approve_after_polls=0)
    real = make_dir(os.path.join(c.w.work, "realcache"))
    for suffix in ("", "/"):
        link = os.path.join(c.w.work, "cachelink")
        if not os.path.lexists(link):
            os.symlink(real, link)
        label = "cache_dir is a symlink%s" % (" (written with a trailing slash)" if suffix else "")
        r = c.w.login(c.w.options(cache=link + suffix))
        c.expect(r, "PAM_SERVICE_ERR", label)
        c.check(syslog_has(r, link, "symbolic link"), "%s: syslog names the dir" % label, r)
        c.check(os.listdir(real) == [], "%s: nothing written to the target dir" % label, r,
                str(os.listdir(real)))
        no_traffic(c, r, label)


@test
def symlink_lock_file(c):
    c.w.sd.reset(approve_after_polls=0)
    cache = make_dir(c.w.fresh_cache())
    d = make_dir(os.path.join(c.w.work, "locktarget"), 0o755)
    target = os.path.join(d, "created-through-lock")
    lock = c.w.reg_path(cache)[:-len(".json")] + ".lock"
    os.symlink(target, lock)
    r = c.w.login(c.w.options(cache=cache))
    c.expect(r, "PAM_SERVICE_ERR", "lock file is a symlink")
    c.check(syslog_has(r, "lock file", "symbolic link", "refusing"),
            "lock file symlink: syslog names the lock file", r)
    c.check(not os.path.lexists(target), "lock file symlink: nothing created through the link", r)
    no_traffic(c, r, "lock file symlink")


# ---------------------------------------------------------------- ownership and modes

def foreign_file_case(c, uid, mode, label):
    c.w.sd.reset(approve_after_polls=0)
    planted = c.w.register_directly("planted")
    cache = make_dir(c.w.fresh_cache())
    write_file(c.w.reg_path(cache), cache_json(planted), mode=mode, uid=uid)
    r = login_not_using(c, cache, planted, "%s: the planted registration was not used" % label,
                        label)
    c.check(syslog_has(r, "registering client", "owner uid %d" % uid, "%04o" % mode,
                       "refusing to read"),
            "%s: syslog says why it was not read" % label, r)
    check_good_file(c, cache, r, "%s: the cache file" % label)


@test
def file_owned_by_another_user(c):
    foreign_file_case(c, OTHER_UID, 0o600, "cache file owned by uid %d" % OTHER_UID)


@test
def file_group_or_world_readable(c):
    foreign_file_case(c, 0, 0o644, "root cache file with mode 0644")
    foreign_file_case(c, 0, 0o660, "root cache file with mode 0660")


@test
def unsafe_cache_dir_modes(c):
    c.w.sd.reset(approve_after_polls=0)
    for mode in (0o770, 0o777, 0o707, 0o750, 0o1777):
        cache = make_dir(c.w.fresh_cache(), mode)
        label = "cache dir mode %04o" % mode
        r = c.w.login(c.w.options(cache=cache))
        c.expect(r, "PAM_SERVICE_ERR", label)
        rule = ("writable by group or others" if mode & 0o022
                else "group- or world-accessible")  # trusted-path rule, or the cache's 0700
        c.check(syslog_has(r, cache, rule, "%04o" % mode),
                "%s: syslog names the dir and its mode" % label, r)
        c.check(os.listdir(cache) == [], "%s: nothing created inside" % label, r,
                str(os.listdir(cache)))
        c.check(stat.S_IMODE(os.stat(cache).st_mode) == mode, "%s: mode left alone" % label, r)
    no_traffic(c, r, "unsafe cache dir modes")


@test
def cache_dir_owned_by_another_user(c):
    c.w.sd.reset(approve_after_polls=0)
    cache = make_dir(c.w.fresh_cache(), 0o700, uid=OTHER_UID)
    r = c.w.login(c.w.options(cache=cache))
    c.expect(r, "PAM_SERVICE_ERR", "cache dir owned by uid %d" % OTHER_UID)
    c.check(syslog_has(r, cache, "not owned by root", "owner uid %d" % OTHER_UID),
            "foreign cache dir: syslog names the dir and its owner", r)
    c.check(os.listdir(cache) == [], "foreign cache dir: nothing created inside", r,
            str(os.listdir(cache)))
    no_traffic(c, r, "foreign cache dir")


# ---------------------------------------------------------------- contents

def corrupt_cases():
    good = {"version": 1, "clientId": "cid-planted", "clientSecret": "csecret-planted",
            "clientIdIssuedAt": int(time.time()),
            "clientSecretExpiresAt": int(time.time()) + 90 * 86400}
    text = json.dumps(good, separators=(",", ":"))
    huge = dict(good, clientSecret="csecret-" + "A" * 17000)
    return [
        ("truncated", text[:len(text) // 2]),
        ("garbage", b"\x00\xff not json {{{"),
        ("empty", b""),
        ("wrong JSON types", json.dumps({"version": "1", "clientId": 42, "clientSecret": [],
                                         "clientIdIssuedAt": "now",
                                         "clientSecretExpiresAt": 1.5})),
        ("huge (> 16 KiB)", json.dumps(huge)),
        ("extra member", json.dumps(dict(good, extra=1))),
        ("duplicate member", text[:-1] + ',"clientId":"cid-other"}'),
        ("version 2", json.dumps(dict(good, version=2))),
        ("negative expiry", json.dumps(dict(good, clientSecretExpiresAt=-1))),
        ("embedded NUL", json.dumps(dict(good, clientId="cid-\u0000x"))),
        ("JSON array", "[1,2,3]"),
    ]


@test
def corrupt_contents(c):
    for label, data in corrupt_cases():
        c.w.sd.reset(approve_after_polls=0)
        cache = make_dir(c.w.fresh_cache())
        path = write_file(c.w.reg_path(cache), data)
        planted_ino = os.stat(path).st_ino
        r = c.w.login(c.w.options(cache=cache))
        c.expect(r, "PAM_SUCCESS", "cache file %s: login re-registers" % label)
        c.check(len(registered_ids(c.w)) == 1 and all(x["client_id"] != "cid-planted"
                                                      for x in starts(c.w)),
                "cache file %s: registered once, planted id unused" % label, r,
                str(c.w.api_ops()))
        c.check(syslog_has(r, "registering client", "corrupt"),
                "cache file %s: syslog says it was corrupt" % label, r)
        check_good_file(c, cache, r, "cache file %s: the file" % label)
        c.check(not os.path.lexists(path) or os.stat(path).st_ino != planted_ino,
                "cache file %s: replaced by a new file, not rewritten in place" % label, r)


@test
def special_files(c):
    c.w.sd.reset(approve_after_polls=0)
    cache = make_dir(c.w.fresh_cache())
    os.mkfifo(c.w.reg_path(cache), 0o600)
    r = c.w.login(c.w.options(cache=cache), timeout=30)
    c.expect(r, "PAM_SUCCESS", "cache file is a FIFO: no hang, re-registers")
    c.check(syslog_has(r, "not a regular file"), "FIFO: syslog says it is not a regular file", r)
    check_good_file(c, cache, r, "FIFO: the cache file")
    c.w.sd.reset(approve_after_polls=0)
    cache = make_dir(c.w.fresh_cache())
    os.mkdir(c.w.reg_path(cache), 0o700)
    r = c.w.login(c.w.options(cache=cache))
    c.expect(r, "PAM_SUCCESS", "cache file is a directory: the login goes on uncached")
    c.check(syslog_has(r, "registration not cached"), "directory: syslog says not cached", r)
    c.check(os.path.isdir(c.w.reg_path(cache)), "directory: left for the administrator", r)


# ---------------------------------------------------------------- SIGKILL mid-write

def killed_login(c, cache, label):
    """A login run with killwrite.so: it must die during the temp write."""
    r = c.w.login(c.w.options(cache=cache), preload=KILLWRITE, timeout=60,
                  extra_env={"KILLWRITE_DIR": os.path.realpath(cache) + "/"})
    cleanup_dead_pam_wrapper_dirs()
    c.check(r.rc == -9 and "killwrite: write" in r.err,
            "%s: the registering login was killed mid-write (SIGKILL)" % label, r)
    return r


def check_torn_temp(c, cache, label):
    """Shows the shim really tore a write: the dead login's temp file holds
    part of a registration, which does not parse."""
    temps = leftovers(cache)
    torn = [t for t in temps if 0 < os.path.getsize(os.path.join(cache, t))
            and parse_registration(os.path.join(cache, t)) is None]
    c.check(len(temps) == 1 and torn == temps,
            "%s: the dead login's temp file is torn (%s bytes, does not parse) and was never "
            "renamed into place" % (label, [os.path.getsize(os.path.join(cache, t)) for t in temps]),
            None, str(os.listdir(cache)))


# The registration lock is waited for 2 x http_timeout + 5 s (provider_aws.c).
LOCK_HTTP_TIMEOUT = 30
LOCK_WAIT = 2 * LOCK_HTTP_TIMEOUT + 5


def check_recovery(c, cache, label):
    temps = leftovers(cache)
    # A login that waited for the lock would wait 2 x http_timeout + 5 s
    # (65 s here) for it: far longer than any normal login, however loaded
    # the machine.
    r = c.w.login(c.w.options(cache=cache, http_timeout=LOCK_HTTP_TIMEOUT))
    c.expect(r, "PAM_SUCCESS", "%s: the next normal login" % label)
    c.check(r.seconds < LOCK_WAIT, "%s: not held up by the dead login's lock (%.1fs, the "
            "lock wait is %d s)" % (label, r.seconds, LOCK_WAIT), r)
    c.check(not leftovers(cache), "%s: no temp file left afterwards (had %d)" % (label,
                                                                                 len(temps)),
            r, str(os.listdir(cache)))
    path = c.w.reg_path(cache)
    reg = parse_registration(path)
    st = os.lstat(path) if os.path.lexists(path) else None
    c.check(reg is not None and st and st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600,
            "%s: cache file valid and root 0600 afterwards" % label, r)
    return r


@test
def sigkill_mid_write_fresh_cache(c):
    label = "SIGKILL mid-write, fresh cache"
    c.w.sd.reset(approve_after_polls=0)
    cache = c.w.fresh_cache()
    killed_login(c, cache, label)
    files = os.listdir(cache)
    c.check(not os.path.lexists(c.w.reg_path(cache)),
            "%s: no registration file (never a torn one)" % label, None, str(files))
    temps = leftovers(cache)
    c.check(all(f.startswith(reg_file_name(c.w.sd)[:-5] + ".tmp.") for f in temps),
            "%s: at most the dead login's temp file remains (%s)" % (label, temps or "none"),
            None, str(files))
    check_torn_temp(c, cache, label)
    check_recovery(c, cache, label)
    c.check(len(registered_ids(c.w)) == 2, "%s: the next login registered again" % label, None,
            str(c.w.api_ops()))


@test
def sigkill_mid_write_old_file_survives(c):
    label = "SIGKILL mid-write over a valid file"
    cache = c.w.fresh_cache()
    # A registration that is valid but expires within the hour, so that the
    # next login must register again and rewrite the file.
    c.w.sd.reset(approve_after_polls=0, registration_ttl=1800)
    r0 = c.w.login(c.w.options(cache=cache))
    c.expect(r0, "PAM_SUCCESS", "%s: first login writes the old file" % label)
    path = c.w.reg_path(cache)
    old = snapshot(path)
    old_reg = parse_registration(path)
    c.w.sd.scenario(registration_ttl=7776000)
    killed_login(c, cache, label)
    c.check(len(registered_ids(c.w)) == 2, "%s: the killed login had registered anew" % label,
            None, str(c.w.api_ops()))
    now = snapshot(path) if os.path.lexists(path) else None
    c.check(now == old and parse_registration(path) == old_reg and old_reg is not None,
            "%s: the previous file is intact (same bytes and inode, parses)" % label, None,
            "old=%r\nnow=%r" % (old[1:], now and now[1:]))
    temps = leftovers(cache)
    c.check(len(temps) <= 1, "%s: at most the dead login's temp file remains (%s)"
            % (label, temps or "none"), None, str(os.listdir(cache)))
    check_torn_temp(c, cache, label)
    r = check_recovery(c, cache, label)
    c.check(syslog_has(r, "registering client", "expires within"),
            "%s: the next login replaced the expiring registration" % label, r)


# ---------------------------------------------------------------- the lock
# A local user can stop their own su or sudo (SIGSTOP) while it holds the
# registration lock. That must not hold up anyone else's login: reading the
# cache takes no lock, and a login that must register and cannot get the
# lock in time registers without caching. Ctrl-C ends the wait.

def hold_lock(cache, sd):
    import fcntl
    os.makedirs(cache, mode=0o700, exist_ok=True)
    path = os.path.join(cache, reg_file_name(sd).replace(".json", ".lock"))
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


@contextlib.contextmanager
def locked_cache(c, fill=False):
    """Within: a fresh cache_dir (the stand-in reset, approving at once)
    whose registration lock another process holds."""
    c.w.sd.reset(approve_after_polls=0)
    cache = c.w.fresh_cache()
    if fill:
        c.w.login(c.w.options(cache=cache))  # the registration is cached
    fd = hold_lock(cache, c.w.sd)
    try:
        yield cache
    finally:
        os.close(fd)


@test
def held_lock_does_not_block_cached_logins(c):
    with locked_cache(c, fill=True) as cache:
        r = c.w.login(c.w.options(cache=cache, http_timeout=LOCK_HTTP_TIMEOUT))
        c.expect(r, "PAM_SUCCESS", "cached registration while another login holds the lock")
        c.check(r.seconds < LOCK_WAIT and not syslog_has(r, "waiting for the registration lock"),
                "it did not wait for the lock (%.1f s, the lock wait is %d s)"
                % (r.seconds, LOCK_WAIT), r)
        c.check(c.w.api_ops().count("RegisterClient") == 1, "no second registration", r)


@test
def held_lock_first_login_registers_uncached(c):
    with locked_cache(c) as cache:
        r = c.w.login(c.w.options(cache=cache, http_timeout=1))  # lock wait 2*1+5 = 7 s
        c.expect(r, "PAM_SUCCESS", "first login while another login holds the lock forever")
        c.check(syslog_has(r, "timed out waiting for the registration lock",
                           "registering without caching"),
                "syslog says it registered without caching", r)
        c.check(not os.path.exists(c.w.reg_path(cache)), "nothing was written to the cache", r)


@test
def ctrl_c_ends_the_lock_wait(c):
    import signal
    import threading
    with locked_cache(c) as cache:
        service = "ssolock%d" % os.getpid()
        c.w.host.service(c.w.options(cache=cache, http_timeout=20), service)
        cmd = ["pamtester", "-v", service, "alice", "authenticate"]
        env = c.w.host.env()
        env["PAM_WRAPPER_DEBUGLEVEL"] = "2"
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, text=True)
        threading.Timer(2.0, lambda: p.send_signal(signal.SIGINT)).start()
        t0 = time.monotonic()
        out, err = p.communicate(timeout=60)
        took = time.monotonic() - t0
        lines = [l.split("SYSLOG(5): ", 1)[1] for l in err.splitlines()
                 if "SYSLOG(5): login " in l]
        # Generous for a loaded machine, and far below the 45 s lock wait.
        c.check(took < 2 + 10, "the login ended %.1f s after it started (Ctrl-C at 2 s; the "
                "lock wait would be 45 s)" % took, None, err[-2000:])
        c.check(lines and "Ctrl-C" in lines[-1] and "result=PAM_AUTH_ERR" in lines[-1],
                "its outcome line says PAM_AUTH_ERR, cancelled", None, err[-2000:])
        c.check(not c.w.api_ops(), "nothing was sent", None, str(c.w.api_ops()))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", default=MODULE)
    ap.add_argument("--asan", action="store_true", help="module built with ASan")
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    ensure_built(KILLWRITE)
    module = os.path.abspath(a.module)

    def make_world():
        w = World(module, prefix="ssooidc-tamper-")
        w.host.asan = a.asan
        return w
    return run_tests(TESTS, a.jobs, make_world, set(filter(None, a.only.split(","))))


if __name__ == "__main__":
    sys.exit(main())
