"""TAP output for every Python suite (the shell suites source tests/tap.sh).

    tap = Tap()                       # or Tap(prefix="[asan] ")
    tap.check(cond, "name", detail)   # "ok N - name" / "not ok N - name" + "#" lines
    tap.skip("name", "why")           # "ok N - name # SKIP why"
    tap.comment("text")               # "# text"
    sys.exit(tap.done())              # "1..N"; 1 if anything failed

tests/run_all.sh counts these lines; their form must not change."""
import sys


class Tap:
    def __init__(self, prefix="", detail_lines=40):
        self.n = 0
        self.failed = 0
        self.prefix = prefix
        self.detail_lines = detail_lines
        self.transcripts = []

    def _line(self, text):
        print(text, flush=True)

    def check(self, cond, name, detail=""):
        """One test point; on failure the last lines of `detail` follow."""
        self.n += 1
        if cond:
            self._line("ok %d - %s%s" % (self.n, self.prefix, name))
        else:
            self.failed += 1
            self._line("not ok %d - %s%s" % (self.n, self.prefix, name))
            lines = str(detail if detail is not None else "").splitlines()
            for line in lines[-self.detail_lines:]:
                self._line("#   " + line)
        return cond

    def skip(self, name, why):
        self.n += 1
        self._line("ok %d - %s%s # SKIP %s" % (self.n, self.prefix, name, why))
        return True

    def relay(self, ok, rest):
        """One line of another TAP stream ("- name" and any directive after
        the number), renumbered into this one."""
        self.n += 1
        self.failed += not ok
        self._line("%s %d %s" % ("ok" if ok else "not ok", self.n, rest))
        return ok

    def comment(self, text):
        for line in str(text).splitlines() or [""]:
            self._line("# " + line)

    def done(self):
        self._line("1..%d" % self.n)
        sys.stdout.flush()
        return 1 if self.failed else 0
