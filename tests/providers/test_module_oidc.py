#!/usr/bin/python3
"""pam_ssooidc against real OpenID providers nobody here wrote: panva's
oidc-provider and Glewlwyd (tests/providers/providers.py), each started on
127.0.0.1 with its own CA, keys, clients and users. Every login is the real
module under pam_wrapper (tests/tools/pam_drive), the person's approval
made through the provider's own pages or API with the code the module
showed. TAP.

Users: alice (group linux-users), bob (linux-admins), carol (no group);
required_groups=linux-users,linux-admins.

    test_module_oidc.py [--module SO] [oidc-provider|glewlwyd ...]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))

import harness  # noqa: E402
import providers  # noqa: E402
from providers import ProviderUnavailable  # noqa: E402

PAM_DRIVE = os.path.join(ROOT, "build", "tools", "pam_drive")
CODE_LINE = re.compile(r"^    ([A-Za-z0-9-]{4,})$")


Tap = harness.Tap


class Login:
    """One login running in pam_drive; .code is the user code it showed."""

    def __init__(self, host, user, service):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([PAM_DRIVE, "-c", "enter", service, user],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=host.env(), text=True, errors="replace")
        self.err = []
        self._drain = threading.Thread(target=lambda: self.err.append(self.p.stderr.read()),
                                       daemon=True)
        self._drain.start()
        self.out, self.code = [], None
        for line in self.p.stdout:
            self.out.append(line)
            m = CODE_LINE.match(line.rstrip("\n"))
            if m and any("enter the code" in l for l in self.out):
                self.code = m.group(1)
                break

    def finish(self, timeout=180):
        rest = self.p.stdout.read()
        self.p.wait(timeout)
        self._drain.join(10)
        out = "".join(self.out) + rest
        r = harness.Result(self.p.returncode, out, "".join(self.err), time.monotonic() - self.t0)
        codes = re.findall(r"^login \d+ (\S+) ", out, re.M)
        r.code = codes[0] if len(codes) == 1 else "?"
        return r


def said(r):
    """What the module told the person and syslog, the outcome line decoded
    (its values are percent-encoded)."""
    return r.err + "\n" + r.login_line


def detail(r):
    return "code %s\n--- output\n%s\n--- syslog\n%s" % (r.code, r.out[-1500:],
                                                      "\n".join(r.syslog[-15:]))


class World:
    def __init__(self, tap, module, p, workdir):
        self.tap, self.p, self.dir = tap, p, workdir
        self.host = harness.Host(workdir, module)
        self.ca = os.path.join(workdir, "ca.pem")
        shutil.copy(p.ca, self.ca)
        os.chmod(self.ca, 0o644)
        self.host.write_conf("# everything is on the PAM stanza\n")
        self.n = 0

    def service(self, client=None, **extra):
        """A fresh stanza (own cache unless given) for client (default: public RS256)."""
        c = client or self.p.client("none", "RS256")
        opts = {
            "issuer": self.p.issuer,
            "client_id": c.client_id,
            "ca_file": self.ca,
            "cache_dir": extra.pop("cache_dir", None) or self.fresh_cache(),
            "scopes": "openid,profile,groups",
            "required_groups": "linux-users,linux-admins",
            "prompt": "never",
            "timeout": "60",
            "conf": self.host.conf,
        }
        if c.client_secret:
            path = os.path.join(self.dir, "secret-%s" % c.client_id)
            with open(path, "w") as f:
                f.write(c.client_secret + "\n")
            os.chmod(path, 0o600)
            opts["client_secret_file"] = path
        opts.update(extra)
        args = ["%s=%s" % (k, v) if v is not None else k for k, v in opts.items() if v is not False]
        self.n += 1
        return self.host.service(args, name="oidc%d_%d" % (os.getpid(), self.n))

    def fresh_cache(self):
        self.n += 1
        return os.path.join(self.dir, "cache%d" % self.n)

    def login(self, local, approver=None, service=None, deny=False, act=None):
        """Log in as `local`; approver approves (or denies) with their password."""
        lg = Login(self.host, local, service or self.service())
        if lg.code is None:
            return lg.finish()
        if act:
            act(lg.code)
        elif approver and deny:
            self.p.deny(lg.code, approver, self.p.users[approver].password)
        elif approver:
            self.p.approve(lg.code, approver, self.p.users[approver].password)
        return lg.finish()


def no_secrets(tap, p, results, what):
    """No client secret, no JWT (every JWS starts eyJ) in anything the logins wrote."""
    markers = [c.client_secret for c in p.clients.values() if c.client_secret] + ["eyJ"]
    leaked = [m[:6] + "..." for r in results for m in markers if m in r.everything()]
    tap.check(not leaked, "%s: no secret, token or device code in any output or log (%d logins)"
              % (what, len(results)), "found %s" % leaked)


def run_provider(tap, module, name, workdir):
    start = providers.STARTERS[name]
    try:
        kw = {"interval": 1} if name == "glewlwyd" else {}
        p = start(workdir, **kw)
    except ProviderUnavailable as e:
        tap.skip("%s: every login" % name, str(e))
        return
    results = []
    with p:
        w = World(tap, module, p, workdir)
        pre = name + ": "
        cache = w.fresh_cache()
        svc = w.service(cache_dir=cache)

        r = w.login("alice", "alice", svc)
        results.append(r)
        o = r.outcome or {}
        tap.check(r.code == "PAM_SUCCESS" and o.get("approver") == "alice",
                  pre + "alice approves her own login: PAM_SUCCESS, approver alice", detail(r))
        docs = sorted(f for f in os.listdir(cache) if f.startswith("doc-")) \
            if os.path.isdir(cache) else []
        modes = {f: os.stat(os.path.join(cache, f)).st_mode & 0o7777 for f in docs}
        tap.check(len(docs) == 2 and all(m == 0o600 for m in modes.values()),
                  pre + "discovery document and JWKS cached root-only (2 files, 0600)",
                  str(modes))

        r = w.login("alice", "alice", svc)
        results.append(r)
        tap.check(r.code == "PAM_SUCCESS", pre + "a warm login (cached documents): PAM_SUCCESS",
                  detail(r))

        r = w.login("bob", "alice", svc)
        results.append(r)
        tap.check(r.code == "PAM_AUTH_ERR" and "does not map to local user bob" in said(r),
                  pre + "alice approves bob's login: PAM_AUTH_ERR, wrong account", detail(r))

        # carol is in no group: oidc-provider sends "groups": [], Glewlwyd
        # leaves the claim out. The reasons differ, and each says what to do.
        r = w.login("carol", "carol", svc)
        results.append(r)
        if p.quirks["empty_groups"] == []:
            want, what = "(ID token claim groups has 0 entries)", "groups is []"
        else:
            want = "the ID token has no groups claim (claims present: "
            what = "no groups claim"
        tap.check(r.code == "PAM_AUTH_ERR" and "none of required_groups" in said(r)
                  and want in said(r),
                  pre + "carol (in no required group) approves her own: PAM_AUTH_ERR, the "
                  "reason says %s" % what, detail(r))
        # Without the scope that carries groups, no token has the claim:
        # the reason names the claims present and the remedy, never values.
        r = w.login("alice", "alice", w.service(scopes="openid,profile"))
        results.append(r)
        tap.check(r.code == "PAM_AUTH_ERR"
                  and "the ID token has no groups claim (claims present: " in said(r)
                  and "ask for the scope that carries groups or add a group mapper" in said(r)
                  and "linux-users" not in said(r),
                  pre + "scopes without groups: PAM_AUTH_ERR, the reason says the claim is "
                  "missing and what to ask for", detail(r))

        r = w.login("bob", "bob", svc)
        results.append(r)
        tap.check(r.code == "PAM_SUCCESS", pre + "bob (linux-admins) approves his own: "
                  "PAM_SUCCESS", detail(r))

        if p.deny_error:
            r = w.login("alice", "alice", svc, deny=True)
            results.append(r)
            tap.check(r.code == "PAM_AUTH_ERR" and "denied" in said(r),
                      pre + "denied at the provider: PAM_AUTH_ERR, said so", detail(r))
        else:
            # Glewlwyd has no Deny: the code stays pending until timeout.
            r = w.login("alice", "alice", w.service(timeout="10"), deny=True)
            results.append(r)
            tap.check(r.code == "PAM_AUTH_ERR" and "not approved within" in said(r),
                      pre + "denied (the provider keeps it pending): PAM_AUTH_ERR at timeout",
                      detail(r))

        p.set_device_ttl(7)
        r = w.login("alice", None, svc)
        results.append(r)
        tap.check(r.code == "PAM_AUTH_ERR" and "not approved within 7 seconds" in said(r)
                  and 4 < r.seconds < harness.time_bound(7),
                  pre + "code expires unapproved: PAM_AUTH_ERR when expires_in runs out, no poll "
                  "past it (%.1f s)" % r.seconds, detail(r))
        p.set_device_ttl(600)

        for auth in ("client_secret_basic", "client_secret_post"):
            for alg in ("RS256", "ES256"):
                c = p.client(auth, alg)
                how = {"client_secret_basic": "basic", "client_secret_post": "post"}[auth]
                r = w.login("alice", "alice", w.service(client=c, client_auth=how))
                results.append(r)
                tap.check(r.code == "PAM_SUCCESS",
                          pre + "confidential client (%s) with %s ID tokens: PAM_SUCCESS"
                          % (auth, alg), detail(r))
        r = w.login("alice", "alice", w.service(client=p.client("none", "ES256")))
        results.append(r)
        tap.check(r.code == "PAM_SUCCESS", pre + "public client, ES256: PAM_SUCCESS", detail(r))
        c = p.client("client_secret_basic", "RS256")
        r = w.login("alice", "alice", w.service(client=c))
        results.append(r)
        tap.check(r.code == "PAM_SUCCESS", pre + "client_auth=auto picks Basic, as the discovery "
                  "document allows: PAM_SUCCESS", detail(r))

        # Key rotation between two logins: the cached JWKS lacks the new kid.
        rot_cache = w.fresh_cache()
        rot = w.service(cache_dir=rot_cache)
        r = w.login("alice", "alice", rot)
        results.append(r)
        p.rotate_keys(keep_old=False)
        time.sleep(11)  # past the JWKS refetch floor (10 s)
        r2 = w.login("alice", "alice", rot)
        results.append(r2)
        tap.check(r.code == "PAM_SUCCESS" and r2.code == "PAM_SUCCESS" and
                  "fetched the JWKS again" in r2.err,
                  pre + "keys rotated between two logins: the second refetches the JWKS once "
                  "and succeeds", detail(r2))

        # A wrong issuer in the configuration: discovery refuses it.
        r = Login(w.host, "alice", w.service(issuer=p.issuer + "/other")).finish()
        results.append(r)
        tap.check(r.code == "PAM_AUTHINFO_UNAVAIL" and r.code != "PAM_SUCCESS",
                  pre + "an issuer that is not the provider's: PAM_AUTHINFO_UNAVAIL", detail(r))
        no_secrets(tap, p, results, name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", default=os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so"))
    ap.add_argument("providers", nargs="*", default=["oidc-provider", "glewlwyd"])
    a = ap.parse_args()
    tap = Tap()
    for name in a.providers:
        workdir = harness.trusted_tempdir("oidc-%s-" % name)
        os.chmod(workdir, 0o711)
        try:
            run_provider(tap, os.path.abspath(a.module), name, workdir)
        except providers.ProviderError as e:
            tap.check(False, "%s: the provider ran" % name, str(e))
        finally:
            if not os.environ.get("KEEP"):
                shutil.rmtree(workdir, ignore_errors=True)
    harness.cleanup_pam_wrapper_dirs()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
