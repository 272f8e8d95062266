#!/usr/bin/python3
"""The documentation agrees with itself and with the code (TAP).

Every configuration example in README.md, docs/*.md and the man pages is
run through pam_ssooidc_check, and the pages must not contradict each other:

  * PAM stanzas (a block with an "auth ... pam_ssooidc.so" line) must say
    which file they are for with a comment "# /etc/pam.d/NAME" (optionally
    "(... variant)"); their module line must have the control of the shipped
    sample conf/*.pam for that file and at least its options, and every
    option must be valid (pam_ssooidc_check --fragment);
  * config-file snippets (blocks of "option = value" lines) must be valid
    (pam_ssooidc_check --fragment --conf);
  * complete sshd_config examples (with UsePAM) must turn password
    authentication off, allow keyboard-interactive and keep LoginGraceTime
    above the module's default timeout;
  * the default of every option in README's and configuration.md's tables
    and in the man pages' option entries is the code's default;
  * the return codes listed in options-operation.md are the man page's;
  * every example outcome line ("login result=...") is in the real format
    (percent-encoded values, no quotes), no page still shows the old quoted
    one, and the awk and Python one-liners of options-operation.md read an
    example and a forging line exactly as the strict parser does.

Usage: /usr/bin/python3 tests/docs/test_docs_examples.py   (as root)"""
import ast
import glob
import json
import os
import re
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))
import harness  # noqa: E402

CHECK = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_check")
MODULE_LINE = re.compile(r"^\s*auth\s+(\[[^\]]*\]|\S+)\s+\S*pam_ssooidc\.so\b(.*)$")
MARKER = re.compile(r"#\s*(/etc/pam\.d/[\w-]+)(\s*\(([^)]*variant)\))?")
tap = harness.Tap()


def pages():
    out = [os.path.join(ROOT, "README.md")]
    out += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    out += sorted(glob.glob(os.path.join(ROOT, "docs", "man", "*.[0-9]")))
    return out


def unroff(line):
    line = re.sub(r"\\f(\[[^]]*\]|.)", "", line)
    for a, b in (("\\-", "-"), ("\\e", "\\"), ("\\(dq", '"'), ("\\(em", "--"), ("\\&", ""),
                 ("\\(ga", "`")):
        line = line.replace(a, b)
    return line


def blocks(path):
    """(first line number, [lines]) of every example block of a page."""
    text = open(path, encoding="utf-8").read().splitlines()
    out, cur, start = [], None, 0
    if path.endswith(".md"):
        for i, line in enumerate(text, 1):
            if re.match(r"^\s*```", line):
                if cur is None:
                    cur, start = [], i + 1
                else:
                    out.append((start, cur))
                    cur = None
            elif cur is not None:
                cur.append(line)
        return out
    for i, line in enumerate(text, 1):
        if line.startswith((".EX", ".nf")):
            cur, start = [], i + 1
        elif line.startswith((".EE", ".fi")) and cur is not None:
            out.append((start, cur))
            cur = None
        elif cur is not None and not line.startswith("."):
            cur.append(unroff(line))
    return out


def check_run(*args):
    p = subprocess.run([CHECK] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


# --------------------------------------------------------------- stanzas

def canonical_stanzas():
    """{"/etc/pam.d/sshd": (control, [options]), ...} from conf/*.pam."""
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "conf", "*.pam"))):
        text = open(path).read()
        m = MARKER.search(text)
        lines = [MODULE_LINE.match(l) for l in text.splitlines()]
        lines = [l for l in lines if l]
        if not m or len(lines) != 1:
            tap.check(False, "conf/%s names its file and has one module line"
                      % os.path.basename(path))
            continue
        key = m.group(1) + (" (%s)" % m.group(3) if m.group(3) else "")
        out[key] = (lines[0].group(1), lines[0].group(2).split())
    return out


def check_stanza(where, lines, canon):
    text = "\n".join(lines)
    m = MARKER.search(text)
    mod = [MODULE_LINE.match(l) for l in lines]
    mod = [x for x in mod if x]
    if not m:
        tap.check(False, "%s: the stanza says which file it is for (# /etc/pam.d/NAME)" % where,
                  text)
        return
    key = m.group(1) + (" (%s)" % m.group(3) if m.group(3) else "")
    want = canon.get(key)
    if not want:
        tap.check(False, "%s: %s has a sample in conf/" % (where, key), text)
        return
    control, options = mod[0].group(1), mod[0].group(2).split()
    ok = control == want[0] and all(o in options for o in want[1])
    tap.check(ok, "%s: %s stanza agrees with its sample (%s %s)"
              % (where, key, want[0], " ".join(want[1])), text)
    # conf= names another file; the options themselves are what is checked.
    args = [o for o in options if not o.startswith(("#", "conf="))]
    rc, out = check_run("--fragment", "--conf", EMPTY, *args)
    tap.check(rc == 0, "%s: the stanza's options are valid (%s)" % (where, " ".join(args)
                                                                      or "none"), out)


# ---------------------------------------------------------- config files

def option_names():
    """Every option with its default: the checker lists only the options of
    the provider a configuration selects, so ask as AWS and as OpenID."""
    names = {}
    for extra in ([], ["issuer=https://id.example.com"]):
        rc, out = check_run("--fragment", "--json", "--conf", EMPTY, *extra)
        doc = json.loads(out[:out.rindex("}") + 1])
        for o in doc["configuration"]:
            names.setdefault(o["option"], o)
    names["issuer"] = dict(names["issuer"], value="")  # given above, not a default
    return names


def is_config(lines, names):
    body = [l.strip() for l in lines if l.strip() and not l.strip().startswith("#")]
    if not body:
        return False
    for l in body:
        m = re.match(r"^([a-z_]+)\s*(=.*)?$", l)
        if not m or m.group(1) not in names:
            return False
    return any("=" in l for l in body)


def check_config(where, lines):
    path = os.path.join(WORK, "snippet.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    rc, out = check_run("--fragment", "--conf", path)
    tap.check(rc == 0, "%s: the configuration example is valid" % where,
              "\n".join(lines) + "\n---\n" + out)


# ---------------------------------------------------------- sshd_config

def check_sshd_config(where, lines):
    kv = {}
    for l in lines:
        m = re.match(r"^\s*([A-Za-z]+)\s+(.+?)\s*$", l)
        if m and not l.strip().startswith("#") and m.group(1) not in kv:
            kv[m.group(1)] = m.group(2)  # the first value given wins, as in sshd
    grace = kv.get("LoginGraceTime", "")
    ok = (kv.get("UsePAM") == "yes" and kv.get("KbdInteractiveAuthentication") == "yes"
          and kv.get("PasswordAuthentication") == "no"
          and "keyboard-interactive" in kv.get("AuthenticationMethods", "")
          and grace.isdigit() and int(grace) > 300)
    tap.check(ok, "%s: the sshd_config example has UsePAM, KbdInteractiveAuthentication yes, "
              "PasswordAuthentication no, keyboard-interactive and LoginGraceTime > 300"
              % where, "\n".join(lines))


# ---------------------------------------------------------- defaults

EMPTYISH = {"", "—", "-", "none", "system", "derived", "required"}


def norm(v):
    v = v.strip().strip("*`()").strip()
    return {"off": "no", "on": "yes"}.get(v, v)


def compare_default(where, name, doc_value, code):
    o = code.get(name)
    if not o or o["from"] == "derived":
        return
    if name == "conf":  # given to the checker as --conf: compare with config.h
        header = open(os.path.join(ROOT, "pam_ssooidc", "core", "config.h")).read()
        o = {"value": re.search(r'CFG_DEFAULT_FILE "([^"]+)"', header).group(1)}
    c = o["value"]
    # off/on name a flag's no/yes; an enum's "off" (provision) is its own name
    d = norm(doc_value) if c in ("yes", "no") else doc_value.strip().strip("*`()").strip()
    ok = (c == "" and (d in EMPTYISH or d.startswith("empty"))) or d == c
    tap.check(ok, "%s: default of %s is the code's (%r)" % (where, name, c),
              "the page says %r" % doc_value)


def check_table_defaults(path, code, col):
    for line in open(path, encoding="utf-8"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) <= col or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([a-z_]+)`", cells[0]):
            if name in code:
                compare_default(os.path.relpath(path, ROOT), name, cells[col], code)


def check_man_defaults(path, code):
    lines = open(path, encoding="utf-8").read().splitlines()
    for i, line in enumerate(lines):
        if not line.startswith(".TP"):
            continue
        head = unroff(lines[i + 1]) if i + 1 < len(lines) else ""
        m = re.match(r"^\.(?:B|BI|BR)\s+([a-z_]+)", head)
        if not m or m.group(1) not in code:
            continue
        body = []
        for l in lines[i + 2:]:
            if l.startswith((".TP", ".SH", ".SS")):
                break
            body.append(unroff(re.sub(r"^\.(B|I|BR|IR|RB)\s+", "", l)))
        text = " ".join(body)
        d = re.search(r"default:?\s+([\w./:@%-]+)", text)
        if d and not d.group(1).startswith(("empty", "derived", "the")):
            compare_default(os.path.relpath(path, ROOT), m.group(1), d.group(1).rstrip(".;,"),
                            code)


# ---------------------------------------------------------- return codes

def codes_in_table(path):
    out = set()
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\|\s*`(PAM_[A-Z_]+)`\s*\|", line)
        if m:
            out.add(m.group(1))
    return out


def codes_in_man(path):
    text = open(path, encoding="utf-8").read()
    sec = text.split('.SH "RETURN VALUES"', 1)[1].split(".SH", 1)[0]
    return set(re.findall(r"^\.B (PAM_[A-Z_]+)", sec, re.M))


# ------------------------------------------------------- outcome line

OUTCOME_AT = " login result="
# Quoted values were the old format: a page showing one is out of date.
OLD_QUOTED = re.compile(r'\b(user|rhost|service|approver|reason)="')
# What a forging rhost and approver become in the real format (outcome.c):
# a naive reader must still see result=PAM_AUTH_ERR and user=alice.
FORGING_LINE = ("Dec  7 10:00:00 login sshd[42]: pam_ssooidc(sshd:auth): login "
                "result=PAM_AUTH_ERR user=alice rhost=203.0.113.7%20result%3DPAM_SUCCESS"
                "%20user%3Droot service=sshd approver=bob%22%20result%3D%22PAM_SUCCESS%22 "
                "seconds=9.0 retries=0 request_id=- reason=approved%20by%20bob%22")


def outcome_examples():
    """(where, line) of every example outcome line of every page, and
    (where, text) of every mention of the old quoted format."""
    lines, old = [], []
    for path in pages():
        rel = os.path.relpath(path, ROOT)
        for start, block in blocks(path):
            for i, line in enumerate(block):
                if OUTCOME_AT in " " + line and not line.lstrip().startswith(("awk", "python3")):
                    lines.append(("%s:%d" % (rel, start + i), line))
        for n, text in enumerate(open(path, encoding="utf-8").read().splitlines(), 1):
            text = unroff(text) if not path.endswith(".md") else text
            if "result=" in text and OLD_QUOTED.search(text):
                old.append("%s:%d: %s" % (rel, n, text.strip()))
    return lines, old


def one_liner(prefix):
    """The code block of options-operation.md that starts with prefix."""
    path = os.path.join(ROOT, "docs", "options-operation.md")
    for _, block in blocks(path):
        if block and block[0].startswith(prefix):
            return " ".join(block)
    return None


def check_outcome_docs():
    examples, old = outcome_examples()
    parsed = []
    for where, line in examples:
        o = harness.parse_outcome(line[line.find(OUTCOME_AT) + 1:])
        tap.check(o is not None, "%s: the example outcome line is in the real format" % where,
                  line)
        parsed.append((line, o))
    tap.check(len(examples) >= 3, "found the example outcome lines (%d)" % len(examples))
    tap.check(not old, "no page shows the old quoted outcome format", "\n".join(old))
    sample = [l for l, o in parsed if o] + [FORGING_LINE]
    want = [harness.parse_outcome(l[l.find(OUTCOME_AT) + 1:]) for l in sample]
    log = os.path.join(WORK, "auth.log")
    with open(log, "w") as f:
        f.write("\n".join(sample + ["Dec  7 10:00:01 login sshd[42]: an unrelated line"]) + "\n")
    awk, py = one_liner("awk '"), one_liner("python3 -c '")
    tap.check(awk and py, "options-operation.md has the awk and the Python one-liner")
    if not (awk and py) or None in want:
        return
    out = subprocess.run(awk.replace("/var/log/auth.log", log), shell=True, capture_output=True,
                         text=True, timeout=30).stdout.splitlines()
    raw = [[urllib.parse.quote(w[k], safe="-._~:/@") if w[k] != "-" else "-"
            for k in ("result", "user", "rhost", "approver")] for w in want]
    tap.check([l.split(" ") for l in out] == raw,
              "the awk one-liner reads result, user, rhost and approver of every line, a "
              "forging one too", "got %r\nwant %r" % (out, raw))
    out = subprocess.run(py.replace("/var/log/auth.log", log), shell=True, capture_output=True,
                         text=True, timeout=30).stdout.splitlines()
    got = [ast.literal_eval(l) for l in out]
    tap.check(got == want, "the Python one-liner decodes every field as the strict parser "
              "does, a forging line too", "got %r\nwant %r" % (got, want))


# ---------------------------------------------------------- main

def main():
    global WORK, EMPTY
    if os.geteuid() != 0:
        print("ok 1 - docs examples # SKIP needs root (trusted files)")
        print("1..1")
        return 0
    WORK = harness.trusted_tempdir("ssooidc-docs-")
    try:
        EMPTY = os.path.join(WORK, "empty.conf")
        with open(EMPTY, "w") as f:
            f.write("# nothing\n")
        os.chmod(EMPTY, 0o600)
        code = option_names()
        canon = canonical_stanzas()
        tap.check(len(canon) >= 3, "conf/ has the sample stanzas (%s)" % ", ".join(sorted(canon)))
        n_stanza = n_conf = n_sshd = 0
        for path in pages():
            rel = os.path.relpath(path, ROOT)
            for start, lines in blocks(path):
                where = "%s:%d" % (rel, start)
                if any(MODULE_LINE.match(l) for l in lines):
                    n_stanza += 1
                    check_stanza(where, lines, canon)
                elif is_config(lines, code):
                    n_conf += 1
                    check_config(where, lines)
                elif any(re.match(r"^\s*UsePAM\s", l) for l in lines):
                    n_sshd += 1
                    check_sshd_config(where, lines)
        tap.check(n_stanza >= 8 and n_conf >= 5 and n_sshd >= 3,
                  "found the examples: %d stanzas, %d config snippets, %d sshd_configs"
                  % (n_stanza, n_conf, n_sshd))
        check_table_defaults(os.path.join(ROOT, "README.md"), code, 2)
        check_table_defaults(os.path.join(ROOT, "docs", "configuration.md"), code, 2)
        for page in ("pam_ssooidc.8", "pam_ssooidc.conf.5"):
            check_man_defaults(os.path.join(ROOT, "docs", "man", page), code)
        check_outcome_docs()
        table = codes_in_table(os.path.join(ROOT, "docs", "options-operation.md"))
        man = codes_in_man(os.path.join(ROOT, "docs", "man", "pam_ssooidc.8"))
        tap.check(table and table == man, "the return codes of options-operation.md and "
                  "pam_ssooidc(8) are the same", "docs: %s\nman: %s" % (sorted(table),
                                                                      sorted(man)))
    finally:
        subprocess.run(["rm", "-rf", WORK])
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
