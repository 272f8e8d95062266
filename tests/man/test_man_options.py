#!/usr/bin/python3
"""The man pages document every option the code accepts, and render cleanly (TAP).

Option names come from the option tables (the source of truth): the common
ones in pam_ssooidc/core/config.c, each provider's in aws/aws_config.c and
openid/openid_config.c. Each must appear as a .TP entry (the line after .TP starts with
.B/.BI/.BR NAME or NAME=...) in the OPTIONS section of both
docs/man/pam_ssooidc.8 and docs/man/pam_ssooidc.conf.5, and neither page may
document an option the code does not accept. Both pages, pam_ssooidc_check(8)
libnss_ssooidc(8) and pam_ssooidc_sync(8) must render with groff and man(1) without a single
warning, at most 80 columns wide.

Usage: test_man_options.py [--config-c PATH]   (another config.c, for checking the checker)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAGES = ["docs/man/pam_ssooidc.8", "docs/man/pam_ssooidc.conf.5"]

sys.path.insert(0, os.path.join(ROOT, "tests"))
from tap import Tap  # noqa: E402

TAP = Tap()


def check(cond, desc, diag=None):
    return TAP.check(cond, desc, diag)


PROVIDER_TABLES = ["pam_ssooidc/aws/aws_config.c", "pam_ssooidc/openid/openid_config.c"]


def code_options(config_c):
    """Names in `[static] const struct opt [PREFIX_]options[...] = { ... };`."""
    src = open(config_c, encoding="utf-8").read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)   # comments out
    src = re.sub(r"//[^\n]*", " ", src)
    m = re.search(r"\bstruct\s+opt\s+(?:\w+_)?options\s*\[[^\]]*\]\s*=\s*\{(.*?)\n\s*\}\s*;",
                  src, re.S)
    if not m:
        return None
    return re.findall(r"\.name\s*=\s*\"([A-Za-z0-9_]+)\"", m.group(1))


def all_options(config_c):
    """The common table (config_c) and every provider's, or None."""
    tables = [code_options(config_c)]
    tables += [code_options(os.path.join(ROOT, t)) for t in PROVIDER_TABLES]
    if any(t is None for t in tables):
        return None
    return [name for t in tables for name in t]


def unroff(word):
    word = word.strip().strip('"')
    word = re.sub(r"\\f(\[[^]]*\]|.)", "", word)   # font changes
    word = word.replace("\\-", "-").replace("\\&", "").replace("\\%", "")
    return word


def documented_options(page):
    """Option names of the .TP entries in the page's OPTIONS section."""
    lines = open(page, encoding="utf-8").read().splitlines()
    names, in_options = [], False
    for i, line in enumerate(lines):
        if line.startswith(".SH"):
            in_options = unroff(line[3:]).upper() == "OPTIONS"
            continue
        if not in_options or not line.startswith(".TP") or i + 1 >= len(lines):
            continue
        tag = lines[i + 1]
        m = re.match(r"\.(?:B|BI|BR|I|IR|IB)\s+(\S+)", tag)
        word = unroff(m.group(1)) if m else unroff(tag)
        name = re.match(r"[A-Za-z0-9_]*", word).group(0)
        if name:
            names.append(name)
    return names


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return r.returncode, r.stdout, r.stderr


def self_check(config_c, options):
    """A row added to the table must make the checker complain."""
    tmp = tempfile.mkdtemp(prefix="man-test.")
    try:
        src = open(config_c, encoding="utf-8").read()
        fake = src.replace('{.name = "debug",',
                           '{.name = "shiny_new_option", .kind = OPT_FLAG, FIELD(debug)},\n'
                           '    {.name = "debug",', 1)
        path = os.path.join(tmp, "config.c")
        open(path, "w", encoding="utf-8").write(fake)
        added = all_options(path) or []
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--config-c", path],
                           capture_output=True, text=True)
        check("shiny_new_option" in added and len(added) == len(options) + 1 and
              r.returncode != 0 and "not ok" in r.stdout and "shiny_new_option" in r.stdout,
              "an option added to config.c but not to the man pages makes this test fail",
              r.stdout[-2000:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    config_c = os.path.join(ROOT, "pam_ssooidc/core/config.c")
    nested = False
    if len(sys.argv) == 3 and sys.argv[1] == "--config-c":
        config_c, nested = sys.argv[2], True
    options = all_options(config_c)
    if not check(options is not None and len(options) >= 10 and "conf" in options
                 and "start_url" in options and "issuer" in options,
                 f"option tables parsed ({len(options or [])} options; conf, start_url and "
                 "issuer included)",
                 f"got {options!r}"):
        TAP.done()
        return 1
    print("# options: " + " ".join(options))
    for page in PAGES:
        path = os.path.join(ROOT, page)
        if not check(os.path.isfile(path), f"{page} exists"):
            continue
        documented = documented_options(path)
        missing = [o for o in options if o not in documented]
        extra = sorted(set(documented) - set(options))
        dups = sorted({o for o in documented if documented.count(o) > 1})
        check(not missing, f"{page}: every option has an OPTIONS entry"
              + (f" (missing: {' '.join(missing)})" if missing else ""))
        check(not extra, f"{page}: documents no option the code does not accept"
              + (f" (unknown: {' '.join(extra)})" if extra else ""))
        check(not dups, f"{page}: each option documented once"
              + (f" (twice: {' '.join(dups)})" if dups else ""))
    if nested:
        return TAP.done()

    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    for page in PAGES + ["docs/man/pam_ssooidc_check.8", "docs/man/pam_ssooidc_users.8",
                         "docs/man/pam_ssooidc_sync.8",
                         "docs/man/libnss_ssooidc.8"]:
        path = os.path.join(ROOT, page)
        rc, out, err = run(["groff", "-man", "-ww", "-z", path], env)
        check(rc == 0 and not err.strip(), f"{page}: groff -man -ww renders without warnings", err)
        if shutil.which("man"):
            rc, out, err = run(["man", "--warnings", "-E", "UTF-8", "-l", path], env)
            check(rc == 0 and not err.strip() and len(out) > 1000,
                  f"{page}: man --warnings -l renders without warnings", err)
            too_wide = [ln for ln in out.splitlines() if len(ln) > 80]
            check(not too_wide, f"{page}: rendered at 80 columns, no line is wider",
                  "\n".join(too_wide[:5]))
        if shutil.which("lexgrog"):
            rc, out, err = run(["lexgrog", path], env)
            check(rc == 0 and "parse" not in err, f"{page}: NAME section parses (lexgrog)",
                  out + err)
    self_check(config_c, options)
    return TAP.done()


if __name__ == "__main__":
    sys.exit(main())
