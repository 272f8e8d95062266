#!/usr/bin/python3
"""The setuid-environment attack, kept as a regression test.

sudo and su run the module inside a setuid process whose environment comes
from the user being authenticated. A user who could steer the module's TLS
through their own CONNECT proxy (HTTPS_PROXY, ALL_PROXY, ...) and have
libcurl write the TLS session secrets to a file of their choosing
(SSLKEYLOGFILE) could answer the module's requests themselves and become
root without any approval. Each case gives a hostile environment to a real
program and asserts:

  * no tunnel reaches the test's CONNECT proxy (it records every request);
  * no key log file is created, neither in the user's home nor at a path
    only root can write (a root-created empty file there is an attack too:
    think /etc/nologin);
  * the outcome is exactly the outcome without those variables.

The programs: a real `sudo -E` and plain `sudo` (run by a throw-away user in
a pseudo-terminal; sudoers grants SETENV, as Debian's default %sudo rule
does), and pamtester as root through pam_wrapper.

Usage: /usr/bin/python3 tests/e2e/test_hostile_env.py [-v]   (as root; TAP)"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from e2elib import (MODULE, PAM_D, SUDOERS_D, Browser, comment, new_device,  # noqa: E402
                    run_cases, run_suite, sample_stanza)
from connect_proxy import ConnectProxy  # noqa: E402
import harness  # noqa: E402  (tests/module, put on the path by e2elib)

MODULE_TIMEOUT = 30
SHOWN_END = r"It expires in [^\n]*\n"


def hostile_env(proxy_url, keylog, cert_file, cert_dir, openssl_conf):
    """Everything libcurl, OpenSSL and glibc might take from the caller."""
    return {
        "HTTPS_PROXY": proxy_url, "https_proxy": proxy_url,
        "ALL_PROXY": proxy_url, "all_proxy": proxy_url,
        "http_proxy": proxy_url, "HTTP_PROXY": proxy_url,
        "SSLKEYLOGFILE": keylog,
        "SSL_CERT_FILE": cert_file, "SSL_CERT_DIR": cert_dir,
        "CURL_CA_BUNDLE": cert_file,
        "OPENSSL_CONF": openssl_conf,
    }


class Ctx:
    def __init__(self, world, work, sd, user, service, conf, proxy):
        self.world, self.work, self.sd, self.user = world, work, sd, user
        self.service, self.conf, self.proxy = service, conf, proxy
        self.dropin = os.path.join(SUDOERS_D, "ssooidc-e2e-" + world.tag)
        self.browser = Browser(sd)
        self.known = set()
        home = os.path.expanduser("~" + user)
        self.user_keylog = os.path.join(home, "keylog.txt")
        # A name only root can create: /etc is root's and 0755.
        self.root_keylog = "/etc/ssooidc-e2e-%s-keylog" % world.tag
        world.cleanup.push(self.root_keylog, lambda: os.path.lexists(self.root_keylog)
                           and os.unlink(self.root_keylog))
        # The attacker's own trust: a CA file the user wrote, and an OpenSSL
        # configuration whose effect shows (it asks for FIPS algorithms,
        # which no provider here offers: every digest would fail).
        self.user_ca = os.path.join(home, "my-ca.pem")
        with open(sd.ca) as src, open(self.user_ca, "w") as dst:
            dst.write(src.read())
        self.bad_conf = os.path.join(home, "openssl.cnf")
        with open(self.bad_conf, "w") as f:
            f.write("openssl_conf = openssl_init\n[openssl_init]\nalg_section = evp_props\n"
                    "[evp_props]\ndefault_properties = fips=yes\n")

    def env(self, keylog):
        return hostile_env(self.proxy.url, keylog, self.user_ca, os.path.dirname(self.user_ca),
                           self.bad_conf)

    def stanza(self):
        self.world.root_file(os.path.join(PAM_D, self.service),
                             "# sudo's PAM service for the e2e test user (pam_service=)\n%s"
                             % sample_stanza("sudo", self.conf))

    def sudoers(self):
        # SETENV: what Debian's default "%sudo ALL=(ALL:ALL) ALL" allows too.
        lines = ["Defaults:%s pam_service=%s" % (self.user, self.service),
                 "Defaults:%s !lecture" % self.user,
                 "Defaults:%s passwd_tries=1" % self.user,
                 "%s ALL=(ALL) SETENV: ALL" % self.user]
        self.world.root_file(self.dropin, "\n".join(lines) + "\n", mode=0o440,
                             validate=["visudo", "-cf"])

    def no_keylogs(self):
        return [p for p in (self.user_keylog, self.root_keylog) if os.path.lexists(p)]


def sudo_login(c, x, env, flag, decision="approve"):
    """The user runs sudo [-E] -k id -un with env; the browser decides.
    Returns (exit status, what came after the device text)."""
    t = c.terminal("runuser", ["-u", x.user, "--", "sudo"] + ([flag] if flag else [])
                   + ["-k", "sh", "-c", "id -un; echo KEYLOG=${SSLKEYLOGFILE:-none}"],
                   timeout=40, env=env)
    i = t.expect(SHOWN_END)
    c.check(i == 0, "sudo shows the device text")
    dev = new_device(x.sd, x.known)
    c.check(dev is not None, "the stand-in has the new device authorization")
    if dev:
        status, _ = x.browser.decide(dev["userCode"], x.user, decision)
        c.check(status == 200, "the browser %ss the code" % decision)
    rc = t.finish()
    return rc, t.text.split("It expires in", 1)[-1]


def baseline_without_hostile_variables(c, x):
    rc, after = sudo_login(c, x, {}, "-E")
    c.check(rc == 0 and "root" in after.split(), "approved: sudo -E runs the command as root",
            "exit %s" % rc)
    x.baseline_ok = rc == 0


def sudo_E_ignores_the_callers_proxy_and_key_log(c, x):
    before = len(x.proxy.requests)
    rc, after = sudo_login(c, x, x.env(x.user_keylog), "-E")
    c.check(rc == 0 and "root" in after.split(),
            "the outcome is the baseline's: approved, the command ran as root", "exit %s" % rc)
    c.check(len(x.proxy.requests) == before,
            "no request reached the caller's proxy", str(x.proxy.requests[before:]))
    c.check(not x.no_keylogs(), "no key log file was created", str(x.no_keylogs()))
    c.check("KEYLOG=%s" % x.user_keylog in after,
            "the host's environment is left as it was: sudo -E still hands SSLKEYLOGFILE to "
            "the command")


def plain_sudo_ignores_them_too(c, x):
    """Without -E the command's environment is reset, but sudo itself (where
    PAM runs) still starts with the caller's."""
    before = len(x.proxy.requests)
    rc, after = sudo_login(c, x, x.env(x.root_keylog), None)
    c.check(rc == 0 and "root" in after.split(), "approved: the command ran as root",
            "exit %s" % rc)
    c.check(len(x.proxy.requests) == before, "no request reached the caller's proxy",
            str(x.proxy.requests[before:]))
    c.check(not x.no_keylogs(), "no root-owned key log at a root-only path",
            str(x.no_keylogs()))


def denied_login_leaves_no_file(c, x):
    before = len(x.proxy.requests)
    rc, _ = sudo_login(c, x, x.env(x.root_keylog), "-E", decision="deny")
    c.check(rc not in (0, None), "denied: sudo fails as without the variables", "exit %s" % rc)
    c.check(len(x.proxy.requests) == before, "no request reached the caller's proxy")
    c.check(not x.no_keylogs(), "a denied login creates no file either", str(x.no_keylogs()))


def pamtester_with_hostile_environment(c, x):
    """pamtester as root, not setuid: the environment is the caller's, and
    glibc's secure_getenv protections do not apply."""
    host = harness.Host(x.host_dir, MODULE)
    host.extra_env = x.env(x.root_keylog)
    opts = harness.stanza_options(x.sd, x.conf_empty, os.path.join(x.host_dir, "cache"))
    host.service(opts, host.default_service)
    x.sd.scenario(approve_after_polls=0)
    before = len(x.proxy.requests)
    r = host.login("alice", service=host.default_service)
    c.check(r.code == "PAM_SUCCESS", "approved: PAM_SUCCESS as without the variables",
            r.everything()[-3000:])
    c.check(len(x.proxy.requests) == before, "no request reached the caller's proxy")
    c.check(not x.no_keylogs(), "no key log file was created", str(x.no_keylogs()))
    # Without ca_file the system store decides; the caller's CA must not.
    opts = harness.stanza_options(x.sd, x.conf_empty, os.path.join(x.host_dir, "cache"),
                                  ca_file=False)
    host.service(opts, host.default_service)
    host.extra_env = {}
    r0 = host.login("alice", service=host.default_service)
    host.extra_env = x.env(x.root_keylog)
    r1 = host.login("alice", service=host.default_service)
    c.check(r0.code == "PAM_AUTHINFO_UNAVAIL" and r1.code == r0.code,
            "no ca_file: the stand-in's CA in SSL_CERT_FILE/SSL_CERT_DIR/CURL_CA_BUNDLE is not "
            "trusted (%s without, %s with)" % (r0.code, r1.code), r1.everything()[-3000:])
    x.sd.scenario(approve_after_polls=None)
    harness.cleanup_pam_wrapper_dirs()


CASES = [baseline_without_hostile_variables, sudo_E_ignores_the_callers_proxy_and_key_log,
         plain_sudo_ignores_them_too, denied_login_leaves_no_file,
         pamtester_with_hostile_environment]


def setup(tap, world):
    proxy = ConnectProxy()
    world.cleanup.push("proxy", proxy.stop)
    work, sd, user = world.basics("env")
    service = "sudo-ssooidc-e2e-" + world.tag
    conf = world.module_conf(work, sd, timeout=MODULE_TIMEOUT)
    x = Ctx(world, work, sd, user, service, conf, proxy)
    x.host_dir = os.path.join(work, "pamtester")
    os.makedirs(x.host_dir)
    x.conf_empty = os.path.join(work, "empty.conf")
    with open(x.conf_empty, "w") as f:
        f.write("# options come from the stanza\n")
    os.chmod(x.conf_empty, 0o600)
    x.stanza()
    x.sudoers()
    comment("stand-in %s, proxy %s, user %s" % (sd.url, proxy.url, user))
    run_cases(tap, CASES, x)


def main():
    return run_suite("e2e-hostile-env", ["sudo", "visudo", "runuser", "pamtester"], setup)


if __name__ == "__main__":
    sys.exit(main())
