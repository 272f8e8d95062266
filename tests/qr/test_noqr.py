#!/usr/bin/python3
"""The module built without libqrencode (`make QR=no`), TAP.

Builds the module and the qr-option unit test with QR=no into build/noqr/
(the normal build is left alone) and checks that:
  - it builds without a single compiler warning, and no source includes
    qrencode.h (the normal build's sources do: the check can tell);
  - the module needs no libqrencode (readelf -d NEEDED, nm -D: no QRcode_*
    symbol), while the normal build does;
  - tests/unit/test_qr_option.c, built the same way, passes (qr refused in
    the file and on the stanza, with a message that says why);
  - through a real pamtester login (pam_wrapper, the local stand-in), a
    stanza with qr gives PAM_SERVICE_ERR and a syslog reason naming the
    missing QR support, and the same stanza without qr logs in;
  - QR=maybe is refused by make.

Usage: test_noqr.py [--keep]   (--keep: leave build/noqr)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))
import harness  # noqa: E402

OUT = "build/noqr"
MODULE = OUT + "/pam_ssooidc.so"
UNIT = OUT + "/unit/test_qr_option"
NOQR_VARS = ["QR=no", "MODULE=" + MODULE, "BUILD=" + OUT]
MESSAGE = "built without QR code support"


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, errors="replace", **kw)


def needed(so):
    r = run(["readelf", "-d", so])
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", r.stdout)


def includes(qr_flag):
    """Headers the module's sources include, with or without -DHAVE_QRENCODE."""
    dirs = ["pam_ssooidc"] + ["pam_ssooidc/" + d for d in ("core", "aws", "openid")]
    srcs = sorted(os.path.join(d, f) for d in dirs
                  for f in os.listdir(os.path.join(ROOT, d)) if f.endswith(".c"))
    cflags = run(["pkg-config", "--cflags", "libcurl", "jansson", "libcrypto"]).stdout.split()
    cflags += ["-I" + d for d in dirs]
    r = run(["cc", "-std=c11", "-D_DEFAULT_SOURCE", *cflags, *qr_flag, "-M", *srcs])
    return r.returncode, r.stdout + r.stderr


def main():
    keep = "--keep" in sys.argv[1:]
    tap = harness.Tap()
    check = tap.check
    for tool in ("make", "cc", "readelf", "nm", "pamtester"):
        if not shutil.which(tool):
            print("Bail out! %s not found (see tests/deps.sh)" % tool)
            return 1

    # ------------------------------------------------------------ build
    shutil.rmtree(os.path.join(ROOT, OUT), ignore_errors=True)
    r = run(["make", "--no-print-directory", "-j2", *NOQR_VARS, MODULE, UNIT])
    log = r.stdout + r.stderr
    if not check(r.returncode == 0, "make QR=no builds the module and the unit test into %s"
                 % OUT, log):
        return tap.done()
    warnings = [l for l in log.splitlines() if "warning:" in l]
    check(not warnings, "no compiler warnings (-Wall -Wextra and the Makefile's set)",
          "\n".join(warnings))
    cc_lines = [l for l in log.splitlines() if " -shared " in l and MODULE in l]
    check(cc_lines and "HAVE_QRENCODE" not in cc_lines[0] and "qrencode" not in cc_lines[0],
          "the module's compile line has neither HAVE_QRENCODE nor -lqrencode",
          "\n".join(cc_lines) or log)

    rc_no, deps_no = includes([])
    rc_yes, deps_yes = includes(["-DHAVE_QRENCODE"])
    check(rc_no == 0 and "qrencode.h" not in deps_no,
          "without HAVE_QRENCODE no source includes qrencode.h", deps_no[-2000:])
    check(rc_yes == 0 and "qrencode.h" in deps_yes,
          "(control) with HAVE_QRENCODE qr.c includes qrencode.h", deps_yes[-2000:])

    # -------------------------------------------------- what it links
    libs = needed(os.path.join(ROOT, MODULE))
    check(libs and not any("qrencode" in l for l in libs),
          "readelf -d: no libqrencode among NEEDED (%s)" % " ".join(libs))
    normal = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
    if os.path.exists(normal) and harness_has_qrencode():
        check(any("qrencode" in l for l in needed(normal)),
              "(control) the normal build needs libqrencode, so the check above can tell",
              " ".join(needed(normal)))
    syms = run(["nm", "-D", "--undefined-only", os.path.join(ROOT, MODULE)]).stdout
    check("QRcode_" not in syms and "pam_get_item" in syms,
          "nm -D: no QRcode_* symbol is imported", syms)
    r = run(["tests/check_symbols.sh", MODULE])
    check(r.returncode == 0, "it still exports only pam_sm_* (tests/check_symbols.sh)",
          r.stdout + r.stderr)

    # ------------------------------------------------------- unit test
    r = run([os.path.join(ROOT, UNIT)], env=dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP"))
    oks = re.findall(r"^ok \d+ - (\S+)", r.stdout, re.M)
    check(r.returncode == 0 and "qr_on_is_refused" in oks and "qr_render_draws_nothing" in oks
          and "qr_overridden_is_fine" in oks,
          "unit test (QR=no build): qr refused with the reason, qr=no and overrides fine (%s)"
          % ", ".join(oks), r.stdout + r.stderr)

    # ---------------------------------------------- a real PAM login
    with tempfile.TemporaryDirectory(prefix="ssooidc-noqr-", dir=harness.trusted_base()) as work:
        os.chmod(work, 0o755)  # trusted files need root-owned directories all the way up
        sd = harness.Standin(work)
        try:
            host = harness.Host(work, os.path.join(ROOT, MODULE))
            os.mkdir(host.cache, 0o700)
            host.write_conf("# empty\n")
            svc = host.default_service

            sd.reset(approve_after_polls=0, approver="alice")
            host.service(harness.stanza_options(sd, host.conf, host.cache, policy="any",
                                                qr=None), svc)
            r = host.login("alice", svc)
            check(r.code == "PAM_SERVICE_ERR" and MESSAGE in r.login_line
                  and (r.outcome or {}).get("result") == "PAM_SERVICE_ERR",
                  "pamtester, stanza with qr: PAM_SERVICE_ERR, syslog says '%s'" % MESSAGE,
                  "code %s\n%s" % (r.code, r.everything()[-3000:]))
            check(not [x for x in sd.api_log()],
                  "nothing was sent to the service (refused before any request)",
                  str(sd.api_log()))

            host.service(harness.stanza_options(sd, host.conf, host.cache, policy="any"), svc)
            host.write_conf("qr = yes\n")
            sd.reset(approve_after_polls=0, approver="alice")
            r = host.login("alice", svc)
            check(r.code == "PAM_SERVICE_ERR" and MESSAGE in r.login_line,
                  "pamtester, qr = yes in the config file only: PAM_SERVICE_ERR, same reason",
                  "code %s\n%s" % (r.code, r.everything()[-3000:]))

            host.write_conf("# empty\n")
            sd.reset(approve_after_polls=0, approver="alice")
            r = host.login("alice", svc)
            check(r.code == "PAM_SUCCESS" and "Sign in with AWS IAM Identity Center" in r.out,
                  "pamtester, neither stanza nor file sets qr: the login goes through",
                  "code %s\n%s" % (r.code, r.everything()[-3000:]))
        finally:
            sd.stop()
            harness.cleanup_pam_wrapper_dirs()

    # ---------------------------------------------------- make's guard
    r = run(["make", "--no-print-directory", "-n", "QR=maybe", "BUILD=" + OUT, MODULE])
    check(r.returncode != 0 and "QR must be yes or no" in r.stderr,
          "make QR=maybe is refused", r.stdout + r.stderr)

    if not keep:
        shutil.rmtree(os.path.join(ROOT, OUT), ignore_errors=True)
    return tap.done()


def harness_has_qrencode():
    return subprocess.run(["pkg-config", "--exists", "libqrencode"]).returncode == 0


if __name__ == "__main__":
    sys.exit(main())
