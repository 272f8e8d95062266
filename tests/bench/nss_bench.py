#!/usr/bin/python3
"""make bench, NSS part: `getent passwd NAME` through the NSS module against
glibc's own `files`, each holding the same 10,000 accounts.

  files    nsswitch.conf "passwd: files", /etc/passwd = the real lines plus
           10,000 accounts (u00001 .. u10000)
  ssooidc  nsswitch.conf "passwd: files ssooidc", the real /etc/passwd, the
           10,000 accounts in the module's passwd file

For each, `getent passwd u10000` (the last line) and `getent passwd
nosuchuser` (a miss: every line read) run BATCH times a round; rounds
alternate between the two so that a change in the machine's load hits both;
the median time per lookup over the rounds is reported, and the ratio
ssooidc / files (goal: at most 1.5x). The whole lookup process is timed (its
start-up included), as a user would see it; a second pair of lines times
the lookups alone, BATCH * 5 of them in one process (pwd.getpwnam), where
the scan of the 10,000 lines is all there is.

Like tests/nss/run.sh it needs root and works in a private mount namespace
(nsswitch.conf, /etc/passwd, the library and the data directory mounted
there only), under /tmp/sso-system.lock. A benchmark, not a test: it
asserts nothing, it reports. BENCH_NSS_ROUNDS, BENCH_NSS_BATCH change the
counts."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIB = os.path.join(ROOT, "build", "nss", "libnss_ssooidc.so.2")
DATA = "/var/lib/pam_ssooidc"
ACCOUNTS = 10000
ROUNDS = int(os.environ.get("BENCH_NSS_ROUNDS", "7"))
BATCH = int(os.environ.get("BENCH_NSS_BATCH", "200"))


def multiarch_libdir():
    r = subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True)
    return "/usr/lib/" + (r.stdout.strip() or "x86_64-linux-gnu")


def sh(*cmd):
    subprocess.run(cmd, check=True)


def write(path, text, mode=0o644):
    """Rewrite in place: a bind mount of this file sees the new contents."""
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def account(i, uid, password="x"):
    """A passwd line; the module's have "*" (no shadow entry)."""
    name = "u%05d" % i
    return "%s:%s:%d:%d:%s:/home/%s:/bin/sh" % (name, password, uid, uid, name, name)


def time_batch(name):
    """Seconds per `getent passwd name`, over BATCH runs from one shell loop."""
    loop = 'i=0; while [ $i -lt %d ]; do getent passwd %s >/dev/null; i=$((i+1)); done' % (
        BATCH, name)
    t0 = time.monotonic()
    subprocess.run(["sh", "-c", loop], check=False)
    return (time.monotonic() - t0) / BATCH


def time_in_process(name):
    """Seconds per lookup of name inside one process (pwd.getpwnam: glibc's
    getpwnam_r), start-up left out: the scan itself."""
    code = ("import pwd, sys, time\n"
            "n = int(sys.argv[2]); t0 = time.perf_counter()\n"
            "for _ in range(n):\n"
            "    try: pwd.getpwnam(sys.argv[1])\n"
            "    except KeyError: pass\n"
            "print(time.perf_counter() - t0)\n")
    r = subprocess.run([sys.executable, "-c", code, name, str(BATCH * 5)],
                       capture_output=True, text=True)
    return float(r.stdout) / (BATCH * 5)


def inside():
    libdir = multiarch_libdir()
    tmp = tempfile.mkdtemp(prefix="nss-bench.")
    os.chmod(tmp, 0o755)
    for d in ("lib", "varlib/pam_ssooidc", "data"):
        os.makedirs(os.path.join(tmp, d), mode=0o755)
        os.chmod(os.path.join(tmp, d), 0o755)
    os.chmod(os.path.join(tmp, "varlib"), 0o755)
    sh("cp", LIB, os.path.join(tmp, "lib"))
    real_passwd = open("/etc/passwd").read()
    rest = "".join(ln for ln in open("/etc/nsswitch.conf")
                   if not ln.startswith(("passwd:", "group:")))
    big_passwd = real_passwd + "".join(
        account(i, 200000 + i) + "\n" for i in range(1, ACCOUNTS + 1))
    ours = "# pam_ssooidc passwd 1 uid_range=65536-99999\n" + "".join(
        account(i, 65535 + i, "*") + ":0:\n" for i in range(1, ACCOUNTS + 1))
    nss = os.path.join(tmp, "nsswitch.conf")
    pw = os.path.join(tmp, "passwd")
    write(nss, "passwd: files\ngroup: files\n" + rest)
    write(pw, real_passwd)
    write(os.path.join(tmp, "data", "passwd"), ours)
    try:
        sh("mount", "--make-rprivate", "/")
        sh("mount", "--bind", nss, "/etc/nsswitch.conf")
        sh("mount", "--bind", pw, "/etc/passwd")
        sh("mount", "-t", "overlay", "overlay", "-o",
           "lowerdir=%s:%s" % (os.path.join(tmp, "lib"), libdir), libdir)
        if not os.path.isdir(DATA):
            sh("mount", "-t", "overlay", "overlay", "-o",
               "lowerdir=%s:/var/lib" % os.path.join(tmp, "varlib"), "/var/lib")
        sh("mount", "--bind", os.path.join(tmp, "data"), DATA)

        modes = {
            "files": ("passwd: files\ngroup: files\n" + rest, big_passwd),
            "ssooidc": ("passwd: files ssooidc\ngroup: files ssooidc\n" + rest, real_passwd),
        }
        last = "u%05d" % ACCOUNTS
        want_last = {"files": account(ACCOUNTS, 200000 + ACCOUNTS),
                     "ssooidc": account(ACCOUNTS, 65535 + ACCOUNTS, "*")}
        queries = ("last", "missing", "last-inproc", "missing-inproc")
        results = {(m, q): [] for m in modes for q in queries}
        for rnd in range(ROUNDS):
            # Alternate which goes first, so neither always follows the other.
            order = list(modes) if rnd % 2 == 0 else list(reversed(list(modes)))
            for m in order:
                conf, passwd = modes[m]
                write(nss, conf)
                write(pw, passwd)
                got = subprocess.run(["getent", "passwd", last], capture_output=True,
                                     text=True).stdout.strip()
                if got != want_last[m]:
                    print("%s: getent passwd %s gave %r, not the account: no figures"
                          % (m, last, got))
                    return 1
                results[(m, "last")].append(time_batch(last))
                results[(m, "missing")].append(time_batch("nosuchuser"))
                results[(m, "last-inproc")].append(time_in_process(last))
                results[(m, "missing-inproc")].append(time_in_process("nosuchuser"))
        print("NSS module: getent passwd NAME with %d accounts, median of %d interleaved "
              "rounds of %d lookups" % (ACCOUNTS, ROUNDS, BATCH))
        print("%-26s %14s %14s %8s" % ("lookup", "files", "ssooidc", "ratio"))
        for q, label in (("last", "getent, the last of %d" % ACCOUNTS),
                         ("missing", "getent, a missing name"),
                         ("last-inproc", "in-process, the last"),
                         ("missing-inproc", "in-process, missing")):
            f = statistics.median(results[("files", q)])
            s = statistics.median(results[("ssooidc", q)])
            print("%-26s %12.3fms %12.3fms %7.2fx" % (label, f * 1000, s * 1000, s / f))
        print("goal: getent through ssooidc at most 1.5x files (the whole getent process")
        print("timed); in-process: one process looping over pwd.getpwnam, start-up left out")
        return 0
    finally:
        subprocess.run(["umount", "-l", DATA, libdir, "/etc/passwd", "/etc/nsswitch.conf"],
                       stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", tmp])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inside":
        return inside()
    if os.geteuid() != 0:
        print("NSS module benchmark: skipped (needs root for a mount namespace)")
        return 0
    if not os.path.exists(LIB):
        print("NSS module benchmark: skipped (%s not built: make all)" % LIB)
        return 0
    sys.stdout.flush()
    return subprocess.run(["flock", "/tmp/sso-system.lock", "unshare", "-m",
                           "--propagation", "private", sys.executable,
                           os.path.abspath(__file__), "--inside"]).returncode


if __name__ == "__main__":
    sys.exit(main())
