#!/usr/bin/python3
"""Smoke test of the two real OpenID providers (tests/providers/providers.py),
TAP: for each, a full RFC 8628 device flow in plain HTTP from Python -
discovery, device authorization, approval through the provider's own pages
or API, polling at the interval, an ID token whose signature and claims are
verified here - then denial, expiry, key rotation, client authentication and
every entry of the provider's documented quirks.

    test_providers.py [oidc-provider|glewlwyd ...]

A provider whose software is missing is reported as one skip. KEEP=1 keeps
the work directory (it is printed).
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "module"))

import harness  # noqa: E402
import oidcclient as oc  # noqa: E402
import providers  # noqa: E402
from providers import ApprovalError, ProviderUnavailable  # noqa: E402

SCOPE = "openid profile groups"


class Tap(harness.Tap):
    def raises(self, exc, fn, name):
        try:
            fn()
        except exc as e:
            return self.check(True, name, str(e))
        except Exception as e:  # noqa: BLE001 - reported as the failure it is
            return self.check(False, name, "raised %r, not %s" % (e, exc.__name__))
        return self.check(False, name, "did not raise " + exc.__name__)


def listening_addresses(pid):
    """Local addresses pid listens on, from ss(8); None without ss."""
    if shutil.which("ss") is None:
        return None
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    return [line.split()[3] for line in out.splitlines() if "pid=%d," % pid in line]


def tamper(token):
    """The same token with one bit of its signature flipped."""
    h, p, s = token.split(".")
    raw = bytearray(oc.b64url_decode(s))
    raw[len(raw) // 2] ^= 0x01
    import base64
    return "%s.%s.%s" % (h, p, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode())


class Run:
    """One provider's checks."""

    def __init__(self, tap, p):
        self.t, self.p = tap, p
        self.h = p.http()
        self.q = p.quirks

    def login(self, user, client, approve=True, **kw):
        """Device authorization, approval (before the first poll), one poll.
        Returns (device response, token response document, HTTP status)."""
        dev = oc.device_authorize(self.h, self.d, client, SCOPE)
        if approve:
            self.p.approve(dev["user_code"], user, self.p.users[user].password, **kw)
        r = oc.token_request(self.h, self.d, client, dev["device_code"])
        return dev, r.json(), r.status

    def verify(self, doc, client, jwks=None):
        return oc.verify_id_token(doc["id_token"], jwks or self.jwks, self.p.issuer,
                                  client.client_id)

    def run(self):
        t, p = self.t, self.p
        # -- the server itself
        addrs = listening_addresses(p.proc.pid)
        if addrs is None:
            t.skip("listens on 127.0.0.1 only", "no ss")
        else:
            t.check(addrs and all(a.startswith("127.0.0.1:") for a in addrs),
                    "listens on 127.0.0.1 only", addrs)
        try:
            with socket.create_connection(("127.0.0.1", p.port), timeout=5) as s:
                with ssl.create_default_context().wrap_socket(s, server_hostname="127.0.0.1"):
                    pass
            t.check(False, "certificate not trusted without the test CA")
        except ssl.SSLCertVerificationError as e:
            t.check(True, "certificate not trusted without the test CA", e)

        # -- discovery and keys
        self.d = d = oc.discover(self.h, p.issuer)  # raises unless issuer is equal
        t.check(d["issuer"] == p.issuer, "discovery: issuer equals " + p.issuer, d.get("issuer"))
        origin = re.match(r"https://127\.0\.0\.1:%d/" % p.port, d.get("device_authorization_endpoint", ""))
        t.check(origin is not None and d.get("token_endpoint", "").startswith(origin.group(0))
                and d.get("jwks_uri", "").startswith(origin.group(0)),
                "discovery: device, token and jwks endpoints on the issuer's origin", d)
        t.check(oc.DEVICE_GRANT in d.get("grant_types_supported", []),
                "discovery: device_code grant advertised", d.get("grant_types_supported"))
        t.check({"RS256", "ES256"} <= set(d.get("id_token_signing_alg_values_supported", [])),
                "discovery: RS256 and ES256 ID tokens", d.get("id_token_signing_alg_values_supported"))
        methods = d.get("token_endpoint_auth_methods_supported", [])
        t.check({"client_secret_basic", "client_secret_post"} <= set(methods)
                and ("none" in methods) == self.q["none_advertised"],
                "discovery: auth methods %s" % methods, methods)
        self.jwks = oc.fetch_jwks(self.h, d)
        kinds = sorted((k.get("kty"), k.get("crv"), bool(k.get("kid"))) for k in self.jwks["keys"])
        t.check(("EC", "P-256", True) in kinds and ("RSA", None, True) in kinds,
                "jwks: an RSA and an EC P-256 key, each with a kid", kinds)
        t.check(not any(set(k) & {"d", "p", "q", "dp", "dq", "qi", "k"} for k in self.jwks["keys"]),
                "jwks: no private members", self.jwks)

        # -- one login, the RFC 8628 way: pending, approval, poll at the interval
        c = p.client("none", "RS256")
        dev = oc.device_authorize(self.h, d, c, SCOPE)
        t.check(set(dev) >= {"device_code", "user_code", "verification_uri", "expires_in"},
                "device authorization response members", dev)
        t.check(dev["verification_uri"] == p.verification_uri,
                "verification_uri is " + p.verification_uri, dev["verification_uri"])
        t.check(("interval" in dev) == self.q["interval_sent"]
                and dev.get("interval") == p.interval,
                "interval %s" % ("sent: %s" % p.interval if p.interval else "not sent"), dev)
        r = oc.token_request(self.h, d, c, dev["device_code"])
        t.check(r.status == self.q["pending_status"] and r.json().get("error") == "authorization_pending",
                "before approval: HTTP %d authorization_pending" % self.q["pending_status"], r)
        p.approve(dev["user_code"], "alice", p.users["alice"].password)
        t0 = time.monotonic()
        res = oc.poll(self.h, d, c, dev, first_wait=dev.get("interval", 5), max_seconds=60)
        waited = time.monotonic() - t0
        t.check(res.tokens is not None and res.polls[-1][2] == "tokens",
                "approved by alice: tokens after %.1f s (polls %s)" % (waited, res.polls), res)
        if not res.tokens:
            return
        hdr, cl = self.verify(res.tokens, c)
        t.check(hdr["alg"] == "RS256", "public client, RS256: signature verified", hdr)
        t.check(cl.get("preferred_username") == "alice" and cl.get("groups") == ["linux-users"],
                "claims: preferred_username alice, groups [linux-users]", cl)
        t.check(isinstance(cl.get("aud"), self.q["aud_type"]) and
                (cl.get("azp") == c.client_id if self.q["azp"] else "azp" not in cl),
                "aud is a %s; azp %s" % (self.q["aud_type"].__name__,
                                         "= client_id" if self.q["azp"] else "absent"), cl)
        t.check(cl["exp"] > time.time() > cl["iat"] - 60, "exp and iat around now", cl)
        t.raises(oc.OidcError, lambda: oc.verify_id_token(tamper(res.tokens["id_token"]),
                                                         self.jwks, p.issuer, c.client_id),
                 "the verifier refuses a flipped signature bit")
        t.raises(oc.OidcError, lambda: oc.verify_id_token(res.tokens["id_token"], self.jwks,
                                                         p.issuer + "x", c.client_id),
                 "the verifier refuses another issuer")
        t.raises(oc.OidcError, lambda: oc.verify_id_token(res.tokens["id_token"], self.jwks,
                                                         p.issuer, "someone-else"),
                 "the verifier refuses another audience")
        r = oc.token_request(self.h, d, c, dev["device_code"])
        t.check(r.json().get("error") == self.q["reused_code_error"] and "id_token" not in r.json(),
                "a used device code again: " + self.q["reused_code_error"], r)
        r = oc.token_request(self.h, d, c, "A" * 32)
        t.check(r.json().get("error") == self.q["unknown_code_error"],
                "an unknown device code: " + self.q["unknown_code_error"], r)

        # -- polling too fast
        dev = oc.device_authorize(self.h, d, c, SCOPE)
        oc.token_request(self.h, d, c, dev["device_code"])
        r = oc.token_request(self.h, d, c, dev["device_code"])
        want = "slow_down" if self.q["slow_down"] else "authorization_pending"
        t.check(r.status == 400 and r.json().get("error") == want,
                "an immediate second poll: HTTP 400 " + want, r)

        # -- refused sign-ins leave the code pending
        for user, pw, what in (("alice", "not-her-password", "a wrong password"),
                               ("mallory", "x", "an unknown user")):
            dev = oc.device_authorize(self.h, d, c, SCOPE)
            t.raises(ApprovalError, lambda: p.approve(dev["user_code"], user, pw),
                     what + " is refused on the provider's page")
            r = oc.token_request(self.h, d, c, dev["device_code"])
            t.check(r.json().get("error") == "authorization_pending",
                    "after %s the code is still pending" % what, r)

        # -- every client kind and key type
        for auth, alg in (("none", "ES256"), ("client_secret_basic", "RS256"),
                          ("client_secret_basic", "ES256"), ("client_secret_post", "RS256"),
                          ("client_secret_post", "ES256")):
            cc = p.client(auth, alg)
            _, doc, status = self.login("alice", cc)
            try:
                hdr, cl = self.verify(doc, cc)
                ok = hdr["alg"] == alg and cl["aud"] == cc.client_id
            except (oc.OidcError, KeyError) as e:
                ok, hdr = False, e
            t.check(status == 200 and ok, "%s client, %s ID token verified" % (auth, alg),
                    (status, doc, hdr))

        # -- client authentication
        cb = p.client("client_secret_basic", "RS256")
        for bad, what in ((providers.Client(cb.client_id, "wrong" + cb.client_secret,
                                            "client_secret_basic", "RS256"), "a wrong secret"),
                          (providers.Client(cb.client_id, None, "none", "RS256"),
                           "a confidential client without its secret")):
            form, basic = oc._client_auth(bad, {"scope": SCOPE})
            r = self.h.post(d["device_authorization_endpoint"], form=form, basic=basic)
            t.check(r.status in (400, 401, 403) and r.json().get("error") in
                    ("invalid_client", "unauthorized_client"), what + " is refused", r)
        as_post = providers.Client(cb.client_id, cb.client_secret, "client_secret_post", "RS256")
        form, basic = oc._client_auth(as_post, {"scope": SCOPE})
        r = self.h.post(d["device_authorization_endpoint"], form=form, basic=basic)
        t.check((r.status == 200) == self.q["basic_post_interchangeable"],
                "a client_secret_basic client posting its secret: %s" % (
                    "accepted" if self.q["basic_post_interchangeable"] else "refused"), r)

        # -- other users
        _, doc, _ = self.login("bob", c)
        cl = self.verify(doc, c)[1]
        t.check(cl.get("preferred_username") == "bob" and cl.get("groups") == ["linux-admins"],
                "bob: groups [linux-admins]", cl)
        _, doc, _ = self.login("carol", c)
        cl = self.verify(doc, c)[1]
        want = self.q["empty_groups"]
        t.check(cl.get("preferred_username") == "carol" and
                (("groups" not in cl) if want == "absent" else cl.get("groups") == want),
                "carol, in no group: groups %s" % want, cl)

        # -- denial
        if p.deny_error:
            for how in ("consent", "abort"):
                dev = oc.device_authorize(self.h, d, c, SCOPE)
                p.deny(dev["user_code"], "bob", p.users["bob"].password, how=how)
                r = oc.token_request(self.h, d, c, dev["device_code"])
                t.check(r.json().get("error") == p.deny_error and r.status == 400,
                        "denied (%s): HTTP 400 %s" % (how, p.deny_error), r)
        else:
            dev = oc.device_authorize(self.h, d, c, SCOPE)
            p.deny(dev["user_code"], "bob", p.users["bob"].password)
            r = oc.token_request(self.h, d, c, dev["device_code"])
            t.check(r.json().get("error") == "authorization_pending",
                    "no refusal exists: after deny() the code is still pending", r)
            _, doc, _ = self.login("alice", c, scopes=[])
            cl = self.verify(doc, c)[1] if "id_token" in doc else {}
            t.check("id_token" in doc and "preferred_username" not in cl and "groups" not in cl,
                    "approved with no scope granted: an ID token without preferred_username",
                    (doc, cl))

        # -- expiry
        p.set_device_ttl(2)
        try:
            dev = oc.device_authorize(self.h, d, c, SCOPE)
            t.check(dev["expires_in"] == 2, "a short device code lifetime: expires_in 2", dev)
            time.sleep(3.1)
            r = oc.token_request(self.h, d, c, dev["device_code"])
            t.check(r.status == 400 and r.json().get("error") == self.q["expired_error"],
                    "after expiry: HTTP 400 " + self.q["expired_error"], r)
            t.raises(ApprovalError, lambda: p.approve(dev["user_code"], "alice",
                                                      p.users["alice"].password),
                     "an expired user code is refused on the provider's page")
        finally:
            p.set_device_ttl(600)

        # -- key rotation between two logins
        for alg in ("RS256", "ES256"):
            cc = p.client("none", alg)
            _, doc1, _ = self.login("alice", cc)
            old = oc.fetch_jwks(self.h, d)
            kid1 = oc.jwt_parts(doc1["id_token"])[0]["kid"]
            new = p.rotate_keys()
            fetched = oc.fetch_jwks(self.h, d)
            old_kids = {k["kid"] for k in old["keys"]}
            new_kids = {k["kid"] for k in fetched["keys"]}
            t.check(new_kids == {k["kid"] for k in new["keys"]} and not (old_kids & new_kids),
                    "%s: rotation: jwks_uri serves only new kids" % alg, (old_kids, new_kids))
            _, doc2, _ = self.login("alice", cc)
            kid2 = oc.jwt_parts(doc2["id_token"])[0]["kid"]
            t.check(kid2 != kid1 and kid2 in new_kids and kid1 not in new_kids,
                    "%s: the next login's ID token names a new kid" % alg, (kid1, kid2))
            t.raises(oc.OidcError, lambda: self.verify(doc2, cc, jwks=old),
                     "%s: a cached, old JWKS does not know the new kid" % alg)
            try:
                self.verify(doc2, cc, jwks=fetched)
                t.check(True, "%s: after a refetch the ID token verifies" % alg)
            except oc.OidcError as e:
                t.check(False, "%s: after a refetch the ID token verifies" % alg, e)
        before = {k["kid"] for k in oc.fetch_jwks(self.h, d)["keys"]}
        p.rotate_keys(keep_old=True)
        after = {k["kid"] for k in oc.fetch_jwks(self.h, d)["keys"]}
        _, doc, _ = self.login("alice", c)
        kid = oc.jwt_parts(doc["id_token"])[0]["kid"]
        t.check(before < after and len(after) == 4 and kid in after - before,
                "rotation keeping the old keys: both published, the new one signs",
                (before, after, kid))

        # -- stop
        port = p.port
        p.stop()
        t.check(not p.alive(), "stopped")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            t.check(False, "port closed after stop", port)
        except OSError:
            t.check(True, "port closed after stop")


def issuer_with_path(tap, work):
    """oidc-provider with its issuer under a path: discovery and a login."""
    with providers.start_panva(work, issuer_path="/oidc") as p:
        h = p.http()
        d = oc.discover(h, p.issuer)
        tap.check(p.issuer.endswith("/oidc") and d["issuer"] == p.issuer and
                  d["token_endpoint"] == p.issuer + "/token" and
                  d["device_authorization_endpoint"] == p.issuer + "/device/auth",
                  "issuer with a path: discovery under it", d)
        c = p.client()
        dev = oc.device_authorize(h, d, c, SCOPE)
        p.approve(dev["user_code"], "bob", p.users["bob"].password)
        doc = oc.token_request(h, d, c, dev["device_code"]).json()
        cl = oc.verify_id_token(doc["id_token"], oc.fetch_jwks(h, d), p.issuer, c.client_id)[1]
        tap.check(cl["iss"] == p.issuer and cl.get("preferred_username") == "bob",
                  "issuer with a path: a login, iss = %s" % p.issuer, cl)


CHECK = os.path.join(HERE, "..", "..", "pam_ssooidc", "pam_ssooidc_check")
README = os.path.join(HERE, "..", "..", "README.md")


def readme_openid_example():
    """The options of README's OpenID example (the block with issuer =)."""
    with open(README) as f:
        text = f.read()
    m = re.search(r"^### An OpenID Connect provider\n.*?^```\n(.*?)^```", text, re.S | re.M)
    block = m.group(1) if m else ""
    return dict(o.groups() for o in re.finditer(r"^(\w+)\s*=\s*(\S+)", block, re.M))


def readme_example_works(tap, p):
    """README's OpenID example as written: its scopes bring a groups claim
    holding its required_groups, and preferred_username, for a user in that
    group (alice) at this provider."""
    ex = readme_openid_example()
    scopes = [x for x in ex.get("scopes", "").split(",") if x not in ("", "openid")]
    scope = " ".join(["openid"] + scopes)
    h, c = p.http(), p.client("none", "RS256")
    d = oc.discover(h, p.issuer)
    dev = oc.device_authorize(h, d, c, scope)
    p.approve(dev["user_code"], "alice", p.users["alice"].password)
    res = oc.poll(h, d, c, dev, max_seconds=30)
    cl = oc.verify_id_token((res.tokens or {}).get("id_token", ""), oc.fetch_jwks(h, d),
                            p.issuer, c.client_id)[1] if res.tokens else {}
    wanted = ex.get("required_groups", "").split(",")
    tap.check(ex and cl.get("preferred_username") == "alice"
              and set(wanted) & set(cl.get(ex.get("groups_claim", "groups")) or []),
              "README's OpenID example (scopes = %s, required_groups = %s): alice's ID token "
              "has preferred_username and one of the groups" % (ex.get("scopes"),
                                                                 ex.get("required_groups")),
              (ex, cl))


def check_tool_verifies_the_client(tap, work):
    """pam_ssooidc_check against oidc-provider: its one device authorization
    request, made as a login makes it, accepts the configured client and
    catches a wrong client_id or client secret (never printing the secret)."""
    if os.geteuid() != 0 or not os.access(CHECK, os.X_OK):
        tap.skip("pam_ssooidc_check verifies the client", "needs root and a built check tool")
        return
    conf_dir = harness.trusted_tempdir("providers-check-")
    try:
        with providers.start_panva(work, auth_method="client_secret_basic") as p:
            ca = os.path.join(conf_dir, "ca.pem")
            shutil.copy(p.ca, ca)
            os.chmod(ca, 0o644)

            def run(name, client_id, secret, **over):
                opts = {"issuer": p.issuer, "client_id": client_id, "ca_file": ca,
                        "cache_dir": os.path.join(conf_dir, "cache"), "scopes": "profile,groups",
                        "required_groups": "linux-users"}
                if secret is not None:
                    opts["client_secret_file"] = os.path.join(conf_dir, name + ".secret")
                    with open(opts["client_secret_file"], "w") as f:
                        f.write(secret + "\n")
                    os.chmod(opts["client_secret_file"], 0o600)
                opts.update(over)
                conf = os.path.join(conf_dir, name + ".conf")
                with open(conf, "w") as f:
                    f.write("".join("%s = %s\n" % kv for kv in opts.items()))
                r = subprocess.run([CHECK, "--conf", conf], capture_output=True, text=True,
                                   timeout=120)
                return r.returncode, r.stdout + r.stderr

            good = p.clients[("client_secret_basic", "RS256")]
            rc, out = run("good", good.client_id, good.client_secret)
            tap.check(rc == 0 and re.search(r"^ok +client: client %s with its secret accepted by "
                                            r"%s/device/auth " % (good.client_id,
                                                                   re.escape(p.issuer)),
                                            out, re.M) and good.client_secret not in out,
                      "pam_ssooidc_check: the right client and secret: accepted", out)
            post = p.clients[("client_secret_post", "RS256")]
            rc, out = run("post", post.client_id, post.client_secret, client_auth="post")
            tap.check(rc == 0 and re.search(r"^ok +client: client %s with its secret accepted"
                                            % post.client_id, out, re.M),
                      "pam_ssooidc_check: a client_secret_post client: accepted", out)
            public = p.clients[("none", "RS256")]
            rc, out = run("public", public.client_id, None)
            tap.check(rc == 0 and re.search(r"^ok +client: client %s accepted" % public.client_id,
                                            out, re.M),
                      "pam_ssooidc_check: a public client: accepted", out)
            rc, out = run("unknown", "no-such-client", None)
            tap.check(rc == 2 and re.search(r"^FAIL +client: client no-such-client: device "
                                            r"authorization: the provider refused the client "
                                            r"\(invalid_client\)", out, re.M),
                      "pam_ssooidc_check: an unknown client_id: FAIL naming the client", out)
            rc, out = run("wrong", good.client_id, "not-" + good.client_secret)
            tap.check(rc == 2 and re.search(r"^FAIL +client: client %s: device authorization: "
                                            r"the provider refused the client "
                                            r"\(invalid_client\)" % good.client_id, out, re.M)
                      and good.client_secret not in out,
                      "pam_ssooidc_check: a wrong client secret: FAIL naming the client, never "
                      "the secret", out)
    finally:
        shutil.rmtree(conf_dir, ignore_errors=True)


def main(argv):
    names = argv[1:] or list(providers.STARTERS)
    tap = Tap()
    work = tempfile.mkdtemp(prefix="providers-")
    os.chmod(work, 0o711)  # lets servers started by root run as nobody
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    kw = {"glewlwyd": {"interval": 2}}
    try:
        for name in names:
            tap.prefix = name + ": "
            t0 = time.monotonic()
            try:
                p = providers.STARTERS[name](work, **kw.get(name, {}))
            except ProviderUnavailable as e:
                tap.skip("provider available", e)
                continue
            try:
                tap.check(True, "started in %.2f s at %s" % (time.monotonic() - t0, p.issuer))
                readme_example_works(tap, p)
                Run(tap, p).run()
                if name == "oidc-provider":
                    issuer_with_path(tap, work)
                    check_tool_verifies_the_client(tap, work)
            except Exception:  # noqa: BLE001 - one failure, with its trace
                import traceback
                tap.check(False, "ran to the end", traceback.format_exc() + "\n--- server log:\n"
                          + providers._tail(p.log))
            finally:
                p.stop()
                print("# %s: %.1f s in all" % (name, time.monotonic() - t0), flush=True)
    finally:
        if os.environ.get("KEEP") or tap.failed:
            print("# work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
