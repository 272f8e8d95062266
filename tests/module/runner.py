"""One runner for the module suites, whatever the provider.

A suite (test_module.py: AWS IAM Identity Center; test_module_oidc.py: an
OpenID provider) is a Provider - how to start and configure the stand-in
and how to write the stanza - and its own cases; the cases about core
behaviour (core_cases.py) are written once and run against each provider.
This file holds what every case gets (Ctx), the work queue that spreads the
cases over --jobs workers, and main():

    SUITE.py MODULE.so [--wrap none|valgrind|asan] [--jobs N] [--only NAME,...]

Under --wrap valgrind only the cases marked @memcheck run (a sample that
takes every code path of the module at least once): valgrind checks memory,
and what only counts many processes or their timing is left to the plain
and ASan runs."""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SECRET_MARKERS, Host, LoginCtx, Standin, Tap,  # noqa: E402
                     cleanup_pam_wrapper_dirs, time_bound, trusted_tempdir)

OK, UNAVAIL, SERVICE_ERR, AUTH_ERR, USER_UNKNOWN = (
    "PAM_SUCCESS", "PAM_AUTHINFO_UNAVAIL", "PAM_SERVICE_ERR", "PAM_AUTH_ERR",
    "PAM_USER_UNKNOWN")

# What the person is told, per case (conv.c); never the approver's name.
MSG = {
    "denied": "The sign-in request was denied.",
    "expired": "The code expired before it was approved. Log in again for a new code.",
    "timeout": "No approval arrived in time. Log in again for a new code.",
    "wrong": "The approval came from an account that may not log in as this user.",
    "not_permitted": "The approving account is not permitted to log in to this host.",
    "not_approved": "The sign-in was not approved for this account.",
    "other_name": "This host knows the account by another name.",
    "unavailable": "The sign-in service could not be reached or did not answer properly. "
                   "Try again later.",
    "misconfigured": "Sign-in is not set up correctly on this host. Contact the administrator.",
}
# The sentence each code gets when no case says more.
CODE_MSG = {UNAVAIL: "unavailable", SERVICE_ERR: "misconfigured", AUTH_ERR: "not_approved"}

VALGRIND = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--error-exitcode=88",
            "--suppressions=" + os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "valgrind.supp")]


class Cases:
    """A list of cases in the order written; @cases.memcheck also puts a
    case in the valgrind sample."""

    def __init__(self):
        self.all = []
        self.memcheck_names = set()

    def __call__(self, fn):
        self.all.append(fn)
        return fn

    def memcheck(self, fn):
        self.memcheck_names.add(fn.__name__)
        return self(fn)

    def extend(self, other, memcheck=True):
        """Another list's cases after these, marks and all (memcheck=False:
        none of them in this list's valgrind sample)."""
        self.all += other.all
        if memcheck:
            self.memcheck_names |= other.memcheck_names


class Provider:
    """How one provider's cases talk to the stand-in and the module."""
    name = ""            # the suite, for the work directory's name
    mode = "aws"         # standin.py --mode
    default_policy = None
    markers = SECRET_MARKERS  # none may ever appear in an output or log
    title = None         # the first line of the code text, when one is checked
    flow_start = ()      # the first requests of a login that shows a code
    strict_expect = False  # every expect() also checks the sentence and outcome line
    scan_cache = False   # the secrets check reads the cache files too
    long_first = ()      # cases started first, so that none runs alone at the end

    def reset(self, c, **scenario):
        c.sd.reset(**scenario)

    def options(self, c, policy, cache, **extra):
        raise NotImplementedError

    def host_env(self, host, wrap):
        """Further environment for the PAM host."""


class Ctx(LoginCtx):
    """What every case gets: the host, the stand-in, the TAP reporter, and
    the provider's stanza through options()."""

    def __init__(self, provider, host, sd, tap, workdir):
        self.provider = provider
        self.host, self.sd, self.tap, self.workdir = host, sd, tap, workdir
        self.outputs = []
        self.n = 0
        wrap = getattr(host, "wrap_name", "")
        # Under valgrind the matrices run a fixed sample of their rows;
        # plain and ASan runs take every row.
        self.sampled = wrap == "valgrind"

    def sample(self, rows, every=3, memcheck=None):
        """All rows, or under valgrind every `memcheck`-th (by default every
        `every`-th, every sixth at least): a fixed sample, the first row
        always in it. Valgrind checks memory: one row of a kind takes the
        code path; the plain and ASan runs take every row."""
        rows = list(rows)
        return rows[::memcheck or max(every, 6)] if self.sampled else rows

    def fresh(self, what="cache"):
        self.n += 1
        return os.path.join(self.workdir, "%s%d" % (what, self.n))

    def fresh_cache(self):
        return self.fresh()

    def reset(self, **scenario):
        self.provider.reset(self, **scenario)

    def approved_by(self, approver, user="alice", options=None, **scenario):
        """A login as `user` that `approver` approves at once."""
        self.reset(approve_after_polls=0, approver=approver, **scenario)
        return self.login(user, options)

    def first_login(self, **scenario):
        """A login (approved at once unless scenario says otherwise) that
        fills a fresh cache_dir: (that cache_dir, the result)."""
        cache = self.fresh()
        scenario.setdefault("approve_after_polls", 0)
        self.reset(**scenario)
        return cache, self.login("alice", self.options(cache=cache))

    def time_bound(self, seconds):
        """harness.time_bound for this run's wrapper."""
        return time_bound(seconds, getattr(self.host, "wrap_name", "none"))

    def options(self, policy=None, cache=None, **extra):
        """PAM stanza arguments pointing at the stand-in. policy: the
        provider's default rule, any (allow_any_approver) or none.
        extra: k=v, k=None for a flag, k=False to drop one."""
        if self.sampled:
            # Under valgrind on a busy machine one TLS request can take
            # longer than the default 10 s: slowness, not a fault to retry.
            extra.setdefault("http_timeout", VALGRIND_HTTP_TIMEOUT)
        return self.provider.options(self, policy or self.provider.default_policy,
                                     cache or self.fresh(), **extra)

    def ops(self):
        return [x["op"] for x in self.sd.api_log()]

    def nothing_sent_past(self, r, name, allowed=()):
        """Refused before the person was shown a code: nothing but `allowed`."""
        got = self.ops()
        what = "no request past %s" % "/".join(allowed) if allowed else "nothing was sent"
        return self.check(all(o in allowed for o in got), "%s: %s" % (name, what), r, str(got))

    def problems(self, r, code, case=None, reason=None, shown=None):
        """Everything wrong with one login, as a list of sentences. Under a
        strict provider every login is held to all of it; otherwise only to
        what the case asks (its sentence, reason and whether a code showed)."""
        strict = self.provider.strict_expect
        bad = []
        if r.code != code:
            bad.append("PAM code %s, expected %s" % (r.code, code))
        text = r.everything()
        if strict or case:
            # What the person saw: the one sentence for the case, nothing else.
            case = case or CODE_MSG.get(code)
            want = MSG.get(case)
            if want and want not in text:
                bad.append("the person was not told %r" % want)
            others = [m for m in MSG.values() if m != want and m in text]
            if others:
                bad.append("the person was also told %r" % others)
        if shown is None and code == OK and strict:
            shown = True
        if shown is not None:
            devs = self.sd.devices()
            title = self.provider.title
            code_shown = (bool(devs) and devs[-1]["userCode"] in r.out
                          and (title is None or title in r.out))
            if shown and not code_shown:
                bad.append("the person was not shown the user code")
            if shown is False and ("enter the code" in r.out or (title and title in r.out)):
                bad.append("the person was shown a code though the login could not go on")
        # The syslog outcome line.
        if strict or reason:
            o = r.outcome
            lines = [l for l in r.syslog if l.startswith("login ")]
            if o is None or len(lines) != 1:
                bad.append("not exactly one parsable outcome line: %r" % lines)
            else:
                if o["result"] != code:
                    bad.append("outcome result=%s" % o["result"])
                if code == OK and o["reason"] != "approved":
                    bad.append("outcome reason %r for a success" % o["reason"])
                for part in ([reason] if isinstance(reason, str) else reason or []):
                    if part not in o["reason"]:
                        bad.append("outcome reason %r lacks %r" % (o["reason"], part))
        if strict:
            leaks = [m for m in self.provider.markers if m in text]
            if leaks:
                bad.append("secrets in the output or log: %r" % leaks)
        return bad

    def expect(self, r, code, name, case=None, reason=None, shown=None):
        """One TAP line: the PAM code and, as problems() says, what the
        person saw and the outcome line."""
        bad = self.problems(r, code, case, reason, shown)
        label = "%s -> %s" % (name, code)
        if case and case != CODE_MSG.get(code):
            label += " (%s)" % case
        if reason:
            label += ' "%s"' % (reason if isinstance(reason, str) else '", "'.join(reason))
        return self.check(not bad, label, r, "\n".join(bad))


VALGRIND_HTTP_TIMEOUT = 30

DONE = "#@done"  # a worker's line after each case it ran (--serve)
LAST = "no_secret_in_any_output"  # each worker's closing case


def run_parallel(a, provider, cases):
    """Run the cases on --jobs workers, each with its own stand-in and
    host, handing each worker its next case as soon as it is free (cases
    differ tenfold in length, most of it waiting), and print their TAP
    output case by case in the order the cases are written, renumbered."""
    names = [fn.__name__ for fn in cases if fn.__name__ != LAST]
    if a.only:
        names = [n for n in names if n in a.only.split(",")]
    # The longest first, so that none is left to run alone at the end.
    queue = ([n for n in provider.long_first if n in names]
             + [n for n in names if n not in provider.long_first])
    lock = threading.Lock()
    blocks = {n: [] for n in names}
    tails = []  # each worker's closing lines (its secrets check) and exit status

    def next_name():
        with lock:
            return queue.pop(0) if queue else None

    def feed(proc):
        name = next_name()
        if name is None:
            proc.stdin.close()
        else:
            proc.stdin.write(name + "\n")
            proc.stdin.flush()
        return name

    def drive(proc):
        current = feed(proc)
        tail = []
        failed_here = False
        for line in proc.stdout:
            line = line.rstrip("\n")
            failed_here |= line.startswith("not ok")
            if line == DONE:
                current = feed(proc)
            elif current is not None:
                blocks[current].append(line)
            else:
                tail.append(line)
        proc.wait()
        with lock:
            tails.append((tail, proc.returncode, current, failed_here))

    cmd = [sys.executable, os.path.abspath(sys.argv[0]), a.module, "--wrap", a.wrap, "--serve"]
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for _ in range(max(1, min(a.jobs, len(names))))]
    threads = [threading.Thread(target=drive, args=(p,)) for p in procs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tap = Tap()

    def emit(lines):
        seen_fail = False
        for line in lines:
            m = re.match(r"^(not ok|ok) \d+ (.*)$", line)
            if m:
                seen_fail |= m.group(1) == "not ok"
                tap.relay(m.group(1) == "ok", m.group(2))
            elif not line.startswith("1.."):
                print(line, flush=True)
        return seen_fail
    for name in names:
        emit(blocks[name])
    for tail, rc, current, failed_here in tails:
        emit(tail)
        if rc != 0 and not failed_here:
            tap.check(False, "worker exited with %d%s" % (
                rc, " during %s" % current if current else ""))
    return tap.done()


def children_cpu():
    """CPU seconds of the logins this worker ran and waited for (the
    valgrind sample's budget is spent case by case: tests/README.md)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def selected(cases, wrap, only=""):
    """The cases a run takes: those named by --only, or under valgrind the
    memcheck sample, or all."""
    if only:
        names = set(only.split(","))
        return [fn for fn in cases.all if fn.__name__ in names or fn.__name__ == LAST]
    if wrap != "valgrind" or not cases.memcheck_names:
        return list(cases.all)
    return [fn for fn in cases.all if fn.__name__ in cases.memcheck_names or fn.__name__ == LAST]


def main(provider, cases, argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("module")
    ap.add_argument("--wrap", choices=["none", "valgrind", "asan"], default="none")
    ap.add_argument("--only", default="")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--serve", action="store_true",
                    help="(for --jobs) run the cases named on stdin, one a line")
    a = ap.parse_args(argv)
    todo = selected(cases, a.wrap, a.only)
    if a.jobs > 1:
        return run_parallel(a, provider, todo)
    module = os.path.abspath(a.module)
    wrap = VALGRIND if a.wrap == "valgrind" else []
    tap = Tap(prefix="" if a.wrap == "none" else "[%s] " % a.wrap)
    only = set(filter(None, a.only.split(",")))
    by_name = {fn.__name__: fn for fn in cases.all}
    work = trusted_tempdir("ssooidc-%s-" % provider.name)
    try:
        sd = Standin(work, mode=provider.mode)
        try:
            host = Host(work, module, wrap=wrap, asan=(a.wrap == "asan"))
            host.wrap_name = a.wrap
            if a.wrap == "asan":
                # GCC 12's LeakSanitizer takes a dynamic TLS block that
                # happens to start 16 bytes into a page for a glibc 2.19
                # header and its tracer then dies ("Tracer caught signal
                # 11", no leak reported; google/sanitizers#1322). Some
                # logins hit that every time; without the __tls_get_addr
                # interceptor they do not.
                base = host.env()["ASAN_OPTIONS"]
                host.extra_env = {"ASAN_OPTIONS": base + ":intercept_tls_get_addr=0"}
            c = Ctx(provider, host, sd, tap, work)
            orig_login = host.login

            def never_started(r):
                """pam_wrapper failed before the module was loaded: it gave
                this process a /tmp/pam.X directory another one was
                removing, or found none free (every suite on the host
                shares 62). Only its own PWRAP_ lines were printed."""
                if r.syslog or r.out.strip():
                    return False
                err = [l for l in r.err.splitlines() if l.strip()]
                return ("pamtester: Initialization failure" in r.err
                        or (r.rc == 1 and all(l.startswith("PWRAP_") for l in err)))

            def checked_login(*args, **kw):
                r = orig_login(*args, **kw)
                for _ in range(2):
                    if not never_started(r):
                        break
                    print("# pam_start failed under pam_wrapper; running the login again",
                          flush=True)
                    for line in r.err.splitlines()[-5:]:
                        print("#   " + line, flush=True)
                    cleanup_pam_wrapper_dirs()
                    r = orig_login(*args, **kw)
                if r.rc in (86, 87, 88):
                    tap.check(False, "%s reported an error" % a.wrap, r.err[-4000:])
                return r
            host.login = checked_login

            def run(fn):
                try:
                    fn(c)
                except Exception:  # a crashed case is a failed case
                    import traceback
                    tap.check(False, fn.__name__ + " raised", traceback.format_exc())
            if a.serve:
                for line in sys.stdin:
                    fn = by_name.get(line.strip())
                    if fn:
                        t0, cpu0 = time.monotonic(), children_cpu()
                        run(fn)
                        print("# %s: %.0f s, CPU %.1f s" % (fn.__name__, time.monotonic() - t0,
                                                          children_cpu() - cpu0), flush=True)
                    print(DONE, flush=True)
                run(by_name[LAST])
            else:
                for fn in todo:
                    if not only or fn.__name__ in only or fn.__name__ == LAST:
                        run(fn)
        finally:
            sd.stop()
            cleanup_pam_wrapper_dirs()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tap.done()
