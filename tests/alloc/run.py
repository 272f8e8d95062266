#!/usr/bin/python3
"""Allocation-failure sweep over a full login (see docs/fuzzing.md).

Usage: run.py [--full] [--tap] [--jobs N] [--stride S] [--curl-stride C] [--valgrind N]
              [--persistent] [--module PATH] [--driver PATH]

Starts one stand-in per worker (approve_after_polls=0, enforce_interval=false),
writes a PAM service per worker (identity policy: account 111122223333, role
LinuxLogin; local user alice, approver alice) and runs build/alloc/allocfail,
which forks one login per k with allocation number k failing and checks
what is left reachable afterwards (see tests/alloc/allocfail.c).

  default   the `make check` subset: every k whose allocating call site (in
            the baseline login) is outside libcrypto and libcurl - the module
            itself, every 2nd of jansson's, libssl, libpam, glibc, nss_wrapper - plus every
            --curl-stride-th (default 8) libcurl allocation and every S-th
            (default 300) libcrypto allocation, plus the allocations named
            by tests/alloc/regressions.txt, plus --valgrind N (default 2) of
            the module's own call sites under valgrind memcheck;
  --full    every k from 1 until a login no longer reaches k (`make
            allocfail`), plus --valgrind N (default 60) sampled k.

Checks, each a TAP line:
  - the baseline login (nothing fails) succeeds through the whole request
    chain and leaves nothing unreachable; the leak scanner finds a leak
    planted on purpose (allocfail -X);
  - no k crashes, hangs or exits abnormally (a crash is re-run with stacks:
    where it died and where the failed allocation was made);
  - PAM_SUCCESS only when this login's slice of the stand-in log holds the
    whole chain: RegisterClient, StartDeviceAuthorization and CreateToken
    (approver alice) for that client, GetRoleCredentials for that device's
    token, then GetCallerIdentity with a verified signature;
  - nothing allocated during the login is left unreachable after pam_end,
    except leaks inside a library listed, with the reason, in
    tests/alloc/known-library-leaks.txt (k with lost blocks are re-run with
    full stacks, which are matched against that list);
  - under valgrind: no memory error, no definite/indirect leak.

Writes build/alloc/report-{check,full}.txt, summary-*.json and the workers'
raw output; prints TAP with --tap, else the report. Exit status 1 on any
failure."""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))
import harness  # noqa: E402
from harness import Standin, _lib  # noqa: E402

ACCOUNT, ROLE, USER = "111122223333", "LinuxLogin", "alice"
LINE = re.compile(r"^k=(\d+) rc=(\S+) allocs=(\d+) failed=(\d) site=(\S+) live=(\d+) "
                  r"lost=(\d+) log=(-?\d+)-(-?\d+) exit=(\S+) ms=(\d+)")


class Worker:
    """One stand-in, one PAM service, one cache directory, one driver."""

    def __init__(self, idx, top, module):
        self.idx = idx
        self.dir = os.path.join(top, "w%d" % idx)
        os.makedirs(self.dir, mode=0o700)
        self.sd = Standin(self.dir, {"approve_after_polls": 0, "enforce_interval": False,
                                     "approver": USER})
        self.log = os.path.join(self.sd.dir, "requests.jsonl")
        self.cache = os.path.join(self.dir, "cache")
        os.mkdir(self.cache, 0o700)
        self.svcdir = os.path.join(self.dir, "pam.d")
        os.mkdir(self.svcdir)
        conf = os.path.join(self.dir, "empty.conf")
        with open(conf, "w") as f:
            f.write("# everything is on the stanza\n")
        os.chmod(conf, 0o600)
        opts = ["conf=" + conf, "start_url=https://example.awsapps.com/start",
                "oidc_endpoint=" + self.sd.url, "portal_endpoint=" + self.sd.url,
                "sts_endpoint=" + self.sd.url, "ca_file=" + self.sd.ca,
                "cache_dir=" + self.cache, "prompt=never", "account_id=" + ACCOUNT,
                "role_name=" + ROLE, "http_timeout=10", "timeout=30"]
        self.service = "allocfail"
        with open(os.path.join(self.svcdir, self.service), "w") as f:
            f.write("auth required %s %s\n" % (module, " ".join(opts)))
        self.passwd = os.path.join(self.dir, "passwd")
        self.group = os.path.join(self.dir, "group")
        with open(self.passwd, "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n%s:x:2001:2001::/home/%s:/bin/sh\n"
                    % (USER, USER))
        with open(self.group, "w") as f:
            f.write("root:x:0:\n%s:x:2001:\n" % USER)

    def env(self):
        e = dict(os.environ)
        e.update({"LD_PRELOAD": _lib("libnss_wrapper.so"), "NSS_WRAPPER_PASSWD": self.passwd,
                  "NSS_WRAPPER_GROUP": self.group})
        e.pop("PAM_WRAPPER", None)
        return e

    def start(self, driver, extra, out_path, valgrind=False):
        cmd = [driver, "-s", self.service, "-d", self.svcdir, "-u", USER, "-c", self.cache,
               "-L", self.log] + extra
        if valgrind:
            cmd = ["valgrind", "-q", "--soname-synonyms=somalloc=nouserintercepts",
                   "--error-exitcode=99", "--leak-check=full",
                   "--show-leak-kinds=definite,indirect",
                   "--errors-for-leak-kinds=definite,indirect", "--num-callers=30",
                   "--suppressions=" + os.path.join(HERE, "valgrind.supp")] + cmd + ["-N",
                                                                                   "-T", "300"]
        self.out_path = out_path
        self.out = open(out_path, "w")
        return subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT, env=self.env())

    def stop(self):
        self.sd.stop()


def parse_output(text):
    """Run lines with their failed-allocation and leak stacks."""
    runs, cur, stack = [], None, None
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            cur = {"k": int(m.group(1)), "rc": m.group(2), "allocs": int(m.group(3)),
                   "failed": m.group(4) == "1", "site": m.group(5), "live": int(m.group(6)),
                   "lost": int(m.group(7)), "log": (int(m.group(8)), int(m.group(9))),
                   "exit": m.group(10), "ms": int(m.group(11)), "leaks": [], "fail_stack": []}
            runs.append(cur)
            stack = None
            continue
        if cur is None:
            continue
        m = re.match(r"^  leak k=\d+ size=(\d+) seq=(\d+)", line)
        if m:
            leak = {"size": int(m.group(1)), "seq": int(m.group(2)), "stack": []}
            cur["leaks"].append(leak)
            stack = leak["stack"]
            continue
        if line.startswith("  failed-allocation"):
            stack = cur["fail_stack"]
            continue
        m = re.match(r"^    #\d+ (\S+)", line)
        if m and stack is not None:
            stack.append(m.group(1))
    return runs


def crash_reports(text):
    """The stacks a crashing child printed: {k: (fatal stack, failed-allocation stack)}."""
    out, pending = {}, []
    block = None
    for line in text.splitlines():
        if line.startswith("allocfail: fatal signal"):
            block = {"fatal": [], "alloc": []}
            pending.append(block)
            cur = block["fatal"]
            continue
        if line.startswith("allocfail: the allocation that failed"):
            cur = block["alloc"] if block else None
            continue
        m = LINE.match(line)
        if m:
            if pending and m.group(2) == "none":
                out[int(m.group(1))] = pending[-1]
            pending, block = [], None
            continue
        if block is not None and cur is not None and re.match(r"^/\S+\(", line):
            cur.append(re.sub(r"^.*/", "", re.sub(r"\[0x[0-9a-f]+\]$", "", line)))
    return out


def login_completed(raw, span):
    """Did this byte range of the stand-in log record one whole, successful
    login chain for USER?"""
    a, b = span
    if a < 0 or b <= a:
        return False, "no requests logged"
    recs = []
    for line in raw[a:b].decode("utf-8", "replace").splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            continue
    ok200 = [r for r in recs if r.get("status") == 200]
    # The cache is emptied before every login, so the chain starts with a
    # client registered in this very slice.
    regs = {r.get("client_id") for r in ok200 if r["op"] == "RegisterClient"}
    for i, start in enumerate(ok200):
        if start["op"] != "StartDeviceAuthorization" or start.get("client_id") not in regs:
            continue
        for j in range(i + 1, len(ok200)):
            tok = ok200[j]
            if (tok["op"] != "CreateToken" or tok.get("client_id") != start.get("client_id")
                    or tok.get("approver") != USER):
                continue
            code = tok.get("user_code")
            for k in range(j + 1, len(ok200)):
                grc = ok200[k]
                if grc["op"] != "GetRoleCredentials" or grc.get("user_code") != code:
                    continue
                for gci in ok200[k + 1:]:
                    if (gci["op"] == "GetCallerIdentity" and gci.get("sigv4") == "ok"
                            and gci.get("approver") == USER):
                        return True, "complete"
    return False, "incomplete chain: " + ",".join("%s:%s" % (r["op"], r.get("status"))
                                                   for r in recs)


def load_sites(path):
    """{k: (object of the allocating call site, its stack as text)}."""
    sites = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 1)
            if len(parts) == 2:
                frames = [x for x in parts[1].split(" < ") if not x.startswith("allocfail+")]
                sites[int(parts[0])] = (parts[1].split("+")[0], " < ".join(frames))
    return sites


def load_regressions():
    regs = []
    with open(os.path.join(HERE, "regressions.txt")) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            rest, _, why = line.partition("  #")
            name, _, rx = rest.strip().partition("  ")
            regs.append((name, re.compile(rx.strip()), why.strip()))
    return regs


def load_known_leaks():
    known = []
    path = os.path.join(HERE, "known-library-leaks.txt")
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            pattern, _, why = line.partition("  #")
            known.append((re.compile(pattern.strip()), why.strip()))
    return known


def known_leak(stack, known):
    text = " < ".join(stack)
    for rx, why in known:
        if rx.search(text):
            return why
    return None


def run_workers(workers, driver, plans, tag, outdir, valgrind=False):
    """plans[i]: the driver's extra arguments for worker i (None: idle).
    Returns (runs, {k: crash stacks}, raw text)."""
    procs = []
    for w, extra in zip(workers, plans):
        if extra is not None:
            out = os.path.join(outdir, "%s-w%d.log" % (tag, w.idx))
            procs.append((w, w.start(driver, extra, out, valgrind)))
    runs, crashes, texts = [], {}, []
    for w, p in procs:
        p.wait()
        w.out.close()
        with open(w.out_path, errors="replace") as f:
            text = f.read()
        texts.append(text)
        with open(w.log, "rb") as f:
            raw = f.read()
        for r in parse_output(text):
            r["worker"] = w.idx
            r["completed"], r["why"] = login_completed(raw, r["log"])
            runs.append(r)
        crashes.update(crash_reports(text))
        if p.returncode != 0:
            runs.append({"k": -1, "rc": "driver", "exit": "driver-status:%d" % p.returncode,
                         "worker": w.idx, "lost": 0, "leaks": [], "completed": False,
                         "why": text[-3000:], "failed": False, "allocs": 0, "site": "-",
                         "live": 0, "ms": 0, "log": (-1, -1), "fail_stack": []})
    return runs, crashes, "\n".join(texts)


def split(ks, n):
    return [ks[i::n] for i in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--tap", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--stride", type=int, default=300)
    ap.add_argument("--curl-stride", type=int, default=8)
    ap.add_argument("--valgrind", type=int, default=None)
    ap.add_argument("--persistent", action="store_true",
                    help="fail every allocation from k on, not only the k-th")
    ap.add_argument("--module", default=os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so"))
    ap.add_argument("--driver", default=os.path.join(ROOT, "build", "alloc", "allocfail"))
    ap.add_argument("--max-trace", type=int, default=None,
                    help="k with lost blocks to re-run with stacks (default: 400; --full: all)")
    a = ap.parse_args()
    mode = ("full" if a.full else "check") + ("-persistent" if a.persistent else "")
    if a.valgrind is None:
        a.valgrind = 60 if a.full else 2
    if a.max_trace is None:
        a.max_trace = 1 << 30 if a.full else 400
    outdir = os.path.join(ROOT, "build", "alloc")
    os.makedirs(outdir, exist_ok=True)
    t_start = time.monotonic()
    top = harness.trusted_tempdir("allocfail.")
    workers, failures, report = [], [], []
    out = harness.Tap()

    def tap(ok, name, detail=""):
        if not ok:
            failures.append(name)
        if a.tap:  # the first lines of the detail: the reason comes first here
            out.check(ok, name, "\n".join(str(detail).splitlines()[:60]))

    known = load_known_leaks()
    try:
        workers = [Worker(i, top, os.path.abspath(a.module)) for i in range(max(1, a.jobs))]
        pflag = ["-P"] if a.persistent else []
        n = len(workers)

        # Baseline (k=0 only): allocation count and the call site of every index.
        sites_path = os.path.join(outdir, "sites-%s.txt" % mode)
        base, _, btext = run_workers(workers[:1], a.driver, [["-t", "-b", sites_path]],
                                     mode + "-baseline", outdir)
        b0 = [r for r in base if r["k"] == 0]
        base_ok = bool(b0) and b0[0]["rc"] == "PAM_SUCCESS" and b0[0]["completed"] \
            and b0[0]["exit"] == "0" and b0[0]["lost"] == 0
        n_allocs = b0[0]["allocs"] if b0 else 0
        tap(base_ok, "baseline login (nothing fails): PAM_SUCCESS after the full request chain, "
            "%d allocations, nothing left unreachable" % n_allocs, btext[-3000:])
        if not base_ok:
            raise SystemExit(1)
        sites_full = load_sites(sites_path)
        sites = {k: obj for k, (obj, _) in sites_full.items()}
        by_obj = collections.Counter(sites.values())
        # Each regression: the allocations on its path, and two on either side
        # (a login's allocation sequence varies by a few from run to run).
        regressions = []
        for name, rx, why in load_regressions():
            hit = [k for k, (_, stack) in sorted(sites_full.items()) if rx.search(stack)]
            ks = sorted({j for k in hit for j in range(k - 2, k + 3) if j in sites_full})
            regressions.append((name, why, ks))
        reg_ks = sorted({k for _, _, ks in regressions for k in ks})

        # The leak scanner must see a leak planted in the conversation function.
        st, _, sttext = run_workers(workers[:1], a.driver, [["-X", "-k", "%d" % (n_allocs + 999)]],
                                    mode + "-selftest", outdir)
        st_ok = [r["lost"] for r in st if r["k"] >= 0] == [2, 2]
        tap(st_ok, "leak scanner self-test: a 2-block leak planted in the conversation function "
            "is found, twice", sttext[-2000:])

        # The sweep.
        if a.full:
            plans = [["-r", "%d:0:%d" % (1 + i, n)] + pflag for i in range(n)]
            what = "every k from 1 until the login no longer reaches k"
        else:
            # libcrypto's and libcurl's own allocations (their set-up
            # tables and handles, made the same way each time) are sampled,
            # and every other one of jansson's (a parse that fails at any of
            # them is the same NULL to the module); every other call site,
            # the module's first, is tried.
            strides = {"libcrypto.so.3": a.stride, "libcurl.so.4": a.curl_stride,
                       "libjansson.so.4": 2}
            sampled = {k for k, obj in sites.items() if k % strides.get(obj, 1) == 0}
            ks = sorted(sampled | set(reg_ks))
            n_other = sum(1 for k in ks if sites[k] not in strides)
            n_curl = sum(1 for k in sampled if sites[k] == "libcurl.so.4")
            n_reg = len(set(reg_ks) - sampled)
            plans = []
            for i, part in enumerate(split(ks, n)):
                path = os.path.join(outdir, "ks-%s-w%d.txt" % (mode, i))
                with open(path, "w") as f:
                    f.write("\n".join(map(str, part)) + "\n")
                plans.append(["-K", path] + pflag)
            what = ("the %d k whose call site is outside libcrypto, libcurl and jansson + "
                    "every 2nd of jansson's + every %dth of the %d libcurl allocations (%d) + "
                    "every %dth of the %d libcrypto allocations + %d more for "
                    "tests/alloc/regressions.txt"
                    % (n_other, a.curl_stride, by_obj.get("libcurl.so.4", 0), n_curl, a.stride,
                       by_obj["libcrypto.so.3"], n_reg))
        t0 = time.monotonic()
        runs, crashes, _ = run_workers(workers, a.driver, plans, mode, outdir)
        runs = [r for r in runs if r["k"] != 0]
        sweep_secs = time.monotonic() - t0
        tried = [r for r in runs if r["k"] > 0]
        reached = [r for r in tried if r["failed"]]
        report.append("mode: %s: %s" % (mode, what))
        report.append("baseline: %d allocations in a login; call sites by object: %s"
                      % (n_allocs, dict(by_obj.most_common())))
        report.append("k tried: %d (%d reached the failing allocation) in %.0f s with %d workers"
                      % (len(tried), len(reached), sweep_secs, n))

        # Re-run what needs stacks: crashes, and logins that lost blocks.
        bad = [r for r in runs if r["exit"] != "0" or r["rc"] in ("none", "driver")]
        lossy = sorted({r["k"] for r in tried if r["lost"] > 0})
        again = sorted({r["k"] for r in bad if r["k"] > 0} | set(lossy[:a.max_trace]))
        traced = {}
        if again:
            truns, tcrash, _ = run_workers(
                workers, a.driver,
                [["-t", "-k", ",".join(map(str, p))] + pflag if p else None
                 for p in split(again, n)], mode + "-trace", outdir)
            traced = {r["k"]: r for r in truns if r["k"] > 0}
            crashes.update(tcrash)

        # Crashes, hangs, driver trouble, grouped by where they died.
        crash_groups = collections.OrderedDict()
        for r in bad:
            c = crashes.get(r["k"], {})
            fatal = [f for f in c.get("fatal", [])
                     if not re.match(r"(allocfail|libc\.so\.6)\(", f)][:3]
            key = "died in %s" % (" < ".join(fatal) or r["exit"])
            crash_groups.setdefault(key, []).append((r, c.get("alloc", [])))
        detail = []
        for key, items in crash_groups.items():
            r0, alloc0 = items[0]
            alloc0 = [f for f in alloc0 if not f.startswith("allocfail(")][:4]
            detail.append("%d k (%s; exit %s) %s; e.g. k=%d's failed allocation: %s" % (
                len(items), ",".join(str(r["k"]) for r, _ in items[:16])
                + (",..." if len(items) > 16 else ""), r0["exit"], key, r0["k"],
                " < ".join(alloc0) or r0["site"]))
            if r0["rc"] == "driver":
                detail.append(r0["why"][-1500:])
        tap(not bad, "%s: no crash, hang or abnormal exit over %d k (%s)"
            % (mode, len(tried), what), "\n".join(detail))
        # The regressions: each its own line.
        by_k = {r["k"]: r for r in tried}
        bad_ks = {r["k"] for r in bad}
        for name, why, ks in regressions:
            ran = [k for k in ks if k in by_k]
            crashed = [k for k in ran if k in bad_ks]
            tap(not crashed and len(ran) == len(ks),
                "%s: regression %s: %d k around the allocations on its path, no crash"
                % (mode, name, len(ks)),
                "%s\ncrashed: %s; not run: %s" % (why, crashed,
                                                  sorted(set(ks) - set(ran))))
            report.append("regression %s: k %s" % (name, " ".join(map(str, ks)) or "(none: the "
                                                   "code path is gone)"))

        # PAM_SUCCESS must mean a completed login.
        succ = [r for r in tried if r["rc"] == "PAM_SUCCESS"]
        bogus = [r for r in succ if not r["completed"]]
        tap(not bogus, "%s: PAM_SUCCESS only after a complete login (%d successes, each checked "
            "against its slice of the stand-in log)" % (mode, len(succ)),
            "\n".join("k=%d site=%s %s" % (r["k"], r["site"], r["why"]) for r in bogus[:20]))

        # Leaks. The module owns no OpenSSL object (it only makes one-shot
        # EVP_Digest/HMAC calls), so a lost block allocated inside OpenSSL was
        # lost by OpenSSL itself (or by libcurl, losing an SSL object it owns
        # - and then its own blocks would be lost too). Such logins are
        # reported; any other lost block fails, unless listed as a known
        # library leak.
        leak_groups = collections.OrderedDict()
        unexplained = []
        not_reproduced = []
        openssl_only = 0
        for k in lossy[:a.max_trace]:
            t = traced.get(k)
            if not t or not t["leaks"]:
                not_reproduced.append(k)
                continue
            blocks = []
            for lk in t["leaks"]:
                stack = [f for f in lk["stack"] if not f.startswith("allocfail+")]
                blocks.append((lk["size"], stack,
                               bool(stack) and re.match(r"lib(crypto|ssl)\.so", stack[0])))
            all_openssl = all(inside for _, _, inside in blocks)
            openssl_only += all_openssl
            for size, stack, inside in blocks:
                why = known_leak(stack, known)
                if not why and all_openssl:
                    why = "OpenSSL-internal, not yet described in known-library-leaks.txt"
                key = (why or "UNEXPLAINED", " < ".join(stack[:5]))
                leak_groups.setdefault(key, []).append((k, size))
                if not why:
                    unexplained.append((k, size, stack))
        untraced = lossy[a.max_trace:]
        tap(not unexplained and not untraced,
            "%s: nothing allocated during a login is left unreachable after pam_end, but inside "
            "OpenSSL (%d k lost blocks: %d only OpenSSL-internal ones, %d unexplained blocks, "
            "%d k not reproduced when traced)" % (mode, len(lossy), openssl_only,
                                                 len(unexplained), len(not_reproduced)),
            "\n".join("k=%d size=%d\n    %s" % (k, size, "\n    ".join(stack))
                      for k, size, stack in unexplained[:6])
            + ("\n%d k with lost blocks not traced (--max-trace)" % len(untraced)
               if untraced else ""))

        # A sample under valgrind memcheck: invalid accesses, uninitialised
        # reads and definite leaks on the failure paths, with the real allocator.
        vg_ks = []
        if a.valgrind > 0 and shutil.which("valgrind"):
            own = [k for k, obj in sorted(sites.items()) if obj == "pam_ssooidc.so"]
            near = [k for k, obj in sorted(sites.items())
                    if obj in ("libjansson.so.4", "libcurl.so.4", "libssl.so.3", "libpam.so.0")]
            crypto = [k for k, obj in sorted(sites.items()) if obj == "libcrypto.so.3"]
            pool = own + near[::max(1, len(near) // max(1, a.valgrind // 2))] \
                + crypto[::max(1, len(crypto) // max(1, a.valgrind // 4))]
            known_crash = {r["k"] for r in bad}
            for k in pool:
                if k not in vg_ks and k not in known_crash:
                    vg_ks.append(k)
            vg_ks = vg_ks[:a.valgrind]
            vruns, _, vtext = run_workers(
                workers, a.driver, [["-k", ",".join(map(str, p))] if p else None
                                    for p in split(vg_ks, n)], mode + "-valgrind", outdir,
                valgrind=True)
            vbad = [r for r in vruns if r["exit"] != "0" or r["rc"] in ("none", "driver")]
            vbogus = [r for r in vruns if r["k"] > 0 and r["rc"] == "PAM_SUCCESS"
                      and not r["completed"]]
            vg_errors = [line for line in vtext.splitlines() if line.startswith("==")]
            tap(not vbad and not vbogus and not vg_errors,
                "%s: %d k under valgrind memcheck (the module's own call sites first): no "
                "memory error, no definite or indirect leak" % (mode, len(vg_ks)),
                "\n".join(vg_errors[:50]) + "\n" + "\n".join(
                    "k=%d rc=%s exit=%s" % (r["k"], r["rc"], r["exit"]) for r in vbad[:10]))
            report.append("valgrind: %d k: %s" % (len(vg_ks), " ".join(map(str, vg_ks))))

        # Figures.
        hist = collections.Counter(r["rc"] for r in tried)
        hist_reached = collections.Counter(r["rc"] for r in reached)
        by_site_obj = collections.defaultdict(collections.Counter)
        for r in reached:
            by_site_obj[r["site"].split("+")[0]][r["rc"]] += 1
        report.append("outcomes, all k tried: %s" % dict(hist.most_common()))
        report.append("outcomes, k that reached the failing allocation, by the object that "
                      "made it:")
        for obj, c in sorted(by_site_obj.items(), key=lambda x: -sum(x[1].values())):
            report.append("  %-22s %s" % (obj, dict(c.most_common())))
        report.append("crashes/hangs/abnormal exits: %d; PAM_SUCCESS without a completed login: "
                      "%d; k with lost blocks: %d (%d unexplained)"
                      % (len(bad), len(bogus), len(lossy), len(unexplained)))
        report.extend("  crash: " + line for line in detail)
        for (why, sig), ks in leak_groups.items():
            report.append("  lost: %d block(s) in %d k (e.g. k=%d, %d bytes) [%s]: %s"
                          % (len(ks), len({k for k, _ in ks}), ks[0][0], ks[0][1], why, sig))
        own = [r for r in reached if r["site"].startswith("pam_ssooidc.so")]
        report.append("the module's own call sites (k -> outcome): " + ", ".join(
            "%d %s->%s" % (r["k"], r["site"].split("(")[0], r["rc"]) for r in own))
        report.append("total time: %.0f s" % (time.monotonic() - t_start))
        with open(os.path.join(outdir, "report-%s.txt" % mode), "w") as f:
            f.write("\n".join(report) + "\n")
        with open(os.path.join(outdir, "summary-%s.json" % mode), "w") as f:
            json.dump({"mode": mode, "allocations_per_login": n_allocs, "k_tried": len(tried),
                       "k_reached": len(reached), "outcomes": dict(hist),
                       "outcomes_reached": dict(hist_reached), "abnormal_exits": len(bad),
                       "crash_groups": {key: [r["k"] for r, _ in items]
                                        for key, items in crash_groups.items()},
                       "bogus_success": len(bogus), "k_with_lost_blocks": lossy,
                       "unexplained_leaks": len(unexplained), "valgrind_k": vg_ks,
                       "seconds": round(time.monotonic() - t_start)}, f, indent=1)
        if a.tap:
            for line in report:
                out.comment(line)
            out.done()
        else:
            print("\n".join(report))
            print("FAILED: " + "; ".join(failures) if failures else "all checks passed")
    finally:
        for w in workers:
            w.stop()
        shutil.rmtree(top, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
