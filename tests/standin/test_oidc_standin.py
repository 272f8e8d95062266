#!/usr/bin/python3
"""The stand-in's OpenID provider mode (standin.py --mode oidc), TAP.

The good path end to end with tests/providers/oidcclient.py, a strict RFC 8628
client and ID token verifier written apart from the stand-in: discovery,
device authorization, approval through /device/decide, polling, the ID token
verified for RS256, PS256 and ES256, public, Basic and post client
authentication. Then every hostile knob, each checked to do exactly what
README.md says: the token, header, claims and JWKS are decoded here and
compared with what the knob promises, and, where it matters, with the same
token or document the knob did not touch.

    test_oidc_standin.py        KEEP=1 keeps the work directory (printed)
"""
import base64
import collections
import hashlib
import hmac
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "module"))
sys.path.insert(0, os.path.join(HERE, "..", "providers"))

import harness  # noqa: E402

try:
    import oidcclient as oc  # noqa: E402
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
    from cryptography.hazmat.primitives.asymmetric import ec, utils  # noqa: E402
    from cryptography.exceptions import InvalidSignature  # noqa: E402
except ImportError as e:  # pragma: no cover - reported, not hidden
    print("Bail out! python3-cryptography is missing (tests/deps.sh installs it): %s" % e)
    sys.exit(1)

Client = collections.namedtuple("Client", "client_id client_secret auth_method")
PUBLIC = Client("pam-test", None, "none")
BASIC = Client("pam-conf", "s3cret-conf", "client_secret_basic")
POST = Client("pam-post", "s3cret-post", "client_secret_post")
CLIENTS = {"pam-test": {"secret": None, "auth": "none"},
           "pam-conf": {"secret": "s3cret-conf", "auth": "client_secret_basic"},
           "pam-post": {"secret": "s3cret-post", "auth": "client_secret_post"}}
SCOPE = "openid profile groups"
LOG_FIELDS = ("t", "conn", "op", "method", "path", "status", "error", "fault", "client_id",
              "auth", "grant", "scope", "user_code", "approver", "poll", "kid", "alg",
              "user_agent", "members")


class Tap(harness.Tap):
    def raises(self, fn, name, match=""):
        """fn() must raise OidcError whose text contains match."""
        try:
            r = fn()
        except oc.OidcError as e:
            return self.check(match in str(e), name, "raised %r; wanted %r in it" % (str(e), match))
        except Exception as e:  # noqa: BLE001 - reported as the failure it is
            return self.check(False, name, "raised %r, not OidcError" % e)
        return self.check(False, name, "did not raise; returned %r" % (r,))


def b64d(s):
    return oc.b64url_decode(s)


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def depth(obj):
    if isinstance(obj, dict):
        return 1 + max([depth(v) for v in obj.values()] or [0])
    if isinstance(obj, list):
        return 1 + max([depth(v) for v in obj] or [0])
    return 0


def sig_ok(alg, jwk, signing_input, sig):
    """True when the signature verifies (oidcclient's verifier), else False."""
    try:
        oc.verify_signature(alg, jwk, signing_input, sig)
        return True
    except oc.OidcError:
        return False


class T:
    def __init__(self, tap, sd):
        self.t, self.sd = tap, sd
        self.h = oc.Http(sd.ca)

    # ---- plumbing ---------------------------------------------------------
    def reset(self, **scenario):
        scenario.setdefault("clients", CLIENTS)
        st, body = self.sd._call("POST", "/_standin/reset", {})
        assert st == 200, body
        st, body = self.sd._call("POST", "/_standin/scenario", scenario)
        if st != 200:
            raise RuntimeError("scenario refused: %s" % body)

    def issuer(self, path=""):
        return self.sd.url + path

    def disco(self, path=""):
        return oc.discover(self.h, self.issuer(path))

    def jwks(self, path=""):
        return oc.fetch_jwks(self.h, self.disco(path))

    def key(self, kid, jwks=None):
        jwks = jwks or self.jwks()
        ks = [k for k in jwks["keys"] if k.get("kid") == kid]
        return ks[0] if len(ks) == 1 else None

    def login(self, client=PUBLIC, user="alice", decision="approve", path="", scope=SCOPE):
        """Device authorization, a decision on the page, one poll: (dev, Response)."""
        d = self.disco(path)
        dev = oc.device_authorize(self.h, d, client, scope)
        st, _ = self.sd.decide(dev["user_code"], user, decision)
        if st != 200:
            raise RuntimeError("decide: HTTP %d" % st)
        return dev, oc.token_request(self.h, d, client, dev["device_code"])

    def token(self, **kw):
        """A login's ID token: (token, header, claims, signing input, signature)."""
        _, r = self.login(**kw)
        doc = r.json()
        if r.status != 200 or "id_token" not in doc:
            raise RuntimeError("no ID token: %r" % r)
        h, c, si, sig = oc.jwt_parts(doc["id_token"])
        return doc["id_token"], h, c, si, sig

    def post(self, path, form, basic=None, headers=None):
        return self.h.post(self.issuer(path), form=form, basic=basic, headers=headers)

    # ---- the good path ----------------------------------------------------
    def discovery(self):
        t = self.t
        self.reset()
        d = self.disco()
        iss = self.issuer()
        t.check(d["issuer"] == iss, "discovery: issuer is https://127.0.0.1:PORT exactly", d)
        t.check(d.get("device_authorization_endpoint") == iss + "/device_authorization"
                and d.get("token_endpoint") == iss + "/token"
                and d.get("jwks_uri") == iss + "/jwks",
                "discovery: device, token and JWKS endpoints under the issuer", d)
        t.check(d.get("token_endpoint_auth_methods_supported")
                == ["client_secret_basic", "client_secret_post", "none"],
                "discovery: default token_endpoint_auth_methods_supported", d)
        t.check(d.get("id_token_signing_alg_values_supported") == ["RS256", "PS256", "ES256"]
                and d.get("grant_types_supported") == [oc.DEVICE_GRANT]
                and d.get("response_types_supported") and d.get("subject_types_supported"),
                "discovery: algorithms, grant, response and subject types", d)
        self.reset(token_endpoint_auth_methods_supported=["private_key_jwt"])
        t.check(self.disco()["token_endpoint_auth_methods_supported"] == ["private_key_jwt"],
                "discovery: token_endpoint_auth_methods_supported follows the scenario")

        self.reset()
        j = self.jwks()
        kids = [(k.get("kid"), k.get("kty")) for k in j["keys"]]
        t.check(kids == [("rsa-1", "RSA"), ("ec-1", "EC")], "JWKS: rsa-1 (RSA) and ec-1 (EC)", kids)
        rsa_k, ec_k = j["keys"]
        t.check(oc.public_key(rsa_k).key_size == 2048 and rsa_k.get("e") == "AQAB"
                and ec_k.get("crv") == "P-256" and len(b64d(ec_k["x"])) == 32,
                "JWKS: RSA-2048 and EC P-256", j)
        private = {"d", "p", "q", "dp", "dq", "qi", "k"}
        t.check(not any(private & set(k) for k in j["keys"]),
                "JWKS: no private key members", j)

    def device_flow(self):
        t = self.t
        self.reset()
        d = self.disco()
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        iss = self.issuer()
        t.check(dev.get("device_code", "").startswith("devcode-")
                and re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", dev.get("user_code", ""))
                and dev.get("verification_uri") == iss + "/device"
                and dev.get("verification_uri_complete") == iss + "/device?user_code="
                + dev["user_code"] and dev.get("expires_in") == 600 and dev.get("interval") == 1,
                "device authorization: RFC 8628 3.2 answer", dev)
        r = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        t.check(r.status == 400 and r.json().get("error") == "authorization_pending"
                and "no-store" in (r.headers.get("Cache-Control") or ""),
                "token: 400 authorization_pending before approval", r)
        page = self.h.get(dev["verification_uri_complete"])
        t.check(page.status == 200 and dev["user_code"] in page.text
                and "OpenID" in page.text, "approval page at verification_uri_complete", page)
        st, _ = self.sd.decide(dev["user_code"], "alice", "approve")
        t.check(st == 200, "/device/decide approves", st)
        res = oc.poll(self.h, d, PUBLIC, dev, first_wait=1.0)
        tok = res.tokens or {}
        t.check(tok.get("access_token", "").startswith("atoken-") and tok.get("token_type")
                == "Bearer" and tok.get("expires_in") == 3600 and "id_token" in tok,
                "token: access_token, Bearer, 3600 s, id_token", res)
        if "id_token" not in tok:
            return
        now = time.time()
        try:
            h, c = oc.verify_id_token(tok["id_token"], self.jwks(), iss, "pam-test")
        except oc.OidcError as e:
            t.check(False, "RS256 ID token verifies", e)
            return
        t.check(h == {"alg": "RS256", "typ": "JWT", "kid": "rsa-1"},
                "RS256 ID token verifies; header {alg, typ JWT, kid rsa-1}", h)
        t.check(c.get("iss") == iss and c.get("sub") == "alice" and c.get("aud") == "pam-test"
                and "azp" not in c and "nbf" not in c and c.get("preferred_username") == "alice"
                and c.get("groups") == ["linux-users"],
                "claims: iss, sub, aud = client, preferred_username, groups; no azp, no nbf", c)
        t.check(c["exp"] - c["iat"] == 300 and abs(c["iat"] - now) < 5,
                "claims: iat = now, exp = now + 300", c)
        r = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        t.check(r.status == 400 and r.json().get("error") == "invalid_grant",
                "token: a redeemed device_code gives invalid_grant", r)
        log = self.sd.log("Token")
        last = log[-1] if log else {}
        t.check(all(all(f in rec for f in LOG_FIELDS) for rec in self.sd.log())
                and last.get("client_id") == "pam-test" and last.get("auth") == "none"
                and last.get("grant") == oc.DEVICE_GRANT and last.get("error") == "invalid_grant"
                and last.get("user_code") == dev["user_code"],
                "log: every record has the documented fields", log)
        ok = [x for x in log if x["status"] == 200]
        t.check(len(ok) == 1 and ok[0]["kid"] == "rsa-1" and ok[0]["alg"] == "RS256"
                and ok[0]["approver"] == "alice" and ok[0]["scope"] == SCOPE,
                "log: the issued kid and alg, approver and scope", ok)
        raw = open(os.path.join(self.sd.dir, "requests.jsonl")).read()
        leaks = [m for m in ("devcode-", "atoken-", "s3cret", "eyJ") if m in raw]
        t.check(not leaks, "log: no device code, access token, secret or JWT", leaks)

    def algorithms_and_clients(self):
        t = self.t
        iss = self.issuer()
        for alg, kid in (("PS256", "rsa-1"), ("ES256", "ec-1")):
            self.reset(id_token_alg=alg)
            tok, h, c, si, sig = self.token()
            try:
                oc.verify_id_token(tok, self.jwks(), iss, "pam-test")
                good = h.get("alg") == alg and h.get("kid") == kid
            except oc.OidcError as e:
                good = e
            t.check(good is True, "%s ID token verifies with %s" % (alg, kid), (good, h))
        # The PS256 token is really PSS, the ES256 one really raw r||s.
        self.reset(id_token_alg="PS256")
        _, h, c, si, sig = self.token()
        rk = self.key("rsa-1")
        t.check(not sig_ok("RS256", rk, si, sig) and sig_ok("PS256", rk, si, sig),
                "PS256: a PSS signature (PKCS#1 v1.5 check fails)")
        self.reset(id_token_alg="ES256")
        _, h, c, si, sig = self.token()
        t.check(len(sig) == 64, "ES256: a 64-byte r||s signature", len(sig))

        for client in (BASIC, POST):
            self.reset()
            try:
                tok, h, c, si, sig = self.token(client=client)
                oc.verify_id_token(tok, self.jwks(), iss, client.client_id)
                good = c.get("aud") == client.client_id
            except (oc.OidcError, RuntimeError) as e:
                good = e
            rec = [x for x in self.sd.log("Token") if x["status"] == 200]
            t.check(good is True and rec and rec[-1]["auth"] == client.auth_method,
                    "%s client %s: device flow and ID token with aud = client"
                    % (client.auth_method, client.client_id), (good, rec))

        self.reset()
        d = self.disco()
        cases = [
            ("wrong Basic secret", BASIC._replace(client_secret="nope"), 401, "invalid_client"),
            ("wrong post secret", POST._replace(client_secret="nope"), 401, "invalid_client"),
            ("Basic client sending its secret in the body",
             BASIC._replace(auth_method="client_secret_post"), 401, "invalid_client"),
            ("post client using Basic", POST._replace(auth_method="client_secret_basic"),
             401, "invalid_client"),
            ("confidential client sending no secret", BASIC._replace(auth_method="none"),
             401, "invalid_client"),
            ("public client sending a secret",
             PUBLIC._replace(client_secret="x", auth_method="client_secret_post"),
             401, "invalid_client"),
            ("unknown client", Client("nobody", None, "none"), 401, "invalid_client"),
        ]
        for name, cl, status, err in cases:
            form, basic = oc._client_auth(cl, {"scope": SCOPE})
            r = self.h.post(d["device_authorization_endpoint"], form=form, basic=basic)
            body = r.json() if r.body.startswith(b"{") else {}
            t.check(r.status == status and body.get("error") == err,
                    "device authorization refused: %s (%d %s)" % (name, status, err), r)
        r = self.h.post(d["device_authorization_endpoint"], form={"scope": SCOPE},
                        basic=("pam-conf", "nope"))
        t.check(r.status == 401 and (r.headers.get("WWW-Authenticate") or "").startswith("Basic"),
                "a failed Basic authentication answers WWW-Authenticate: Basic", r.headers)
        r = self.h.post(d["device_authorization_endpoint"],
                        form={"scope": SCOPE, "client_id": "pam-conf",
                              "client_secret": "s3cret-conf"}, basic=("pam-conf", "s3cret-conf"))
        t.check(r.status == 400 and r.json().get("error") == "invalid_request",
                "two client authentication methods at once: invalid_request", r)
        r = self.h.post(d["device_authorization_endpoint"],
                        form={"client_id": "pam-test", "scope": "profile email"})
        t.check(r.status == 400 and r.json().get("error") == "invalid_scope",
                "a scope without openid: invalid_scope", r)
        r = self.h.post(d["device_authorization_endpoint"],
                        body={"client_id": "pam-test", "scope": "openid"})
        t.check(r.status == 400 and r.json().get("error") == "invalid_request",
                "a JSON body instead of a form: invalid_request", r)
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        r = self.h.post(d["token_endpoint"], form={"client_id": "pam-test",
                                                   "grant_type": "authorization_code",
                                                   "device_code": dev["device_code"]})
        t.check(r.status == 400 and r.json().get("error") == "unsupported_grant_type",
                "token: another grant_type is unsupported_grant_type", r)
        r = self.h.post(d["token_endpoint"], form={"client_id": "pam-test",
                                                   "grant_type": oc.DEVICE_GRANT,
                                                   "device_code": "devcode-nope"})
        t.check(r.status == 400 and r.json().get("error") == "invalid_grant",
                "token: an unknown device_code is invalid_grant", r)
        r = oc.token_request(self.h, d, BASIC, dev["device_code"])
        t.check(r.status == 400 and r.json().get("error") == "invalid_grant",
                "token: another client's device_code is invalid_grant", r)
        data = ("client_id=pam-test&grant_type=%s&device_code=%s&device_code=%s"
                % (oc.DEVICE_GRANT, dev["device_code"], dev["device_code"])).encode()
        req = urllib.request.Request(d["token_endpoint"], data=data, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with self.h.opener.open(req, timeout=10) as resp:
                st, body = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            st, body = e.code, e.read()
        t.check(st == 400 and json.loads(body).get("error") == "invalid_request",
                "token: a repeated parameter is invalid_request", (st, body))

    def decisions(self):
        t = self.t
        self.reset(interval=0)
        dev, r = self.login(decision="deny")
        d = self.disco()
        r2 = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        t.check(r.status == 400 and r.json().get("error") == "access_denied"
                and r2.status == 400 and r2.json().get("error") == "access_denied",
                "deny on the page: access_denied, and again on the next poll", (r, r2))
        self.reset(expire_after_polls=0)
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        r = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        t.check(r.status == 400 and r.json().get("error") == "expired_token",
                "expire_after_polls 0: expired_token on the first poll", r)
        self.reset(expires_in=1)
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        t.check(dev.get("expires_in") == 1, "expires_in follows the scenario", dev)
        time.sleep(1.1)
        r = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        st, _ = self.sd.decide(dev["user_code"])
        t.check(r.status == 400 and r.json().get("error") == "expired_token" and st == 404,
                "past expires_in: expired_token, and the page refuses the code", (r, st))

        self.reset(interval=5)  # generous: two polls in a row must fall within it
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        a = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        b = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        t.check(a.json().get("error") == "authorization_pending" and b.status == 400
                and b.json().get("error") == "slow_down",
                "polling faster than interval: slow_down", (a, b))
        self.reset(interval=0, slow_down_polls=[2])
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        errs = [oc.token_request(self.h, d, PUBLIC, dev["device_code"]).json().get("error")
                for _ in range(3)]
        t.check(errs == ["authorization_pending", "slow_down", "authorization_pending"],
                "slow_down_polls [2]: the second poll only", errs)
        for sticky, want in ((False, "authorization_pending"), (True, "slow_down")):
            self.reset(interval=0, slow_down_polls=[1], slow_down_sticky=sticky)
            dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
            errs = [oc.token_request(self.h, d, PUBLIC, dev["device_code"]).json().get("error")
                    for _ in range(2)]
            t.check(errs == ["slow_down", want],
                    "slow_down_sticky %s: the poll after a slow_down gets %s"
                    % (str(sticky).lower(), want), errs)
        self.reset(interval=None)
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        t.check("interval" not in dev, "interval null: no interval member", dev)

        self.reset(approve_after_polls=0, approver="carol",
                   groups={"carol": ["linux-admins"], "*": ["linux-users"]})
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        r = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        c = oc.jwt_parts(r.json().get("id_token", "e30.e30."))[1] if r.status == 200 else {}
        t.check(c.get("sub") == "carol" and c.get("preferred_username") == "carol"
                and c.get("groups") == ["linux-admins"],
                "approve_after_polls 0 + approver carol: carol, with her own groups", (r, c))
        self.reset(groups={"alice": ["a"]})
        _, _, c, _, _ = self.token(user="bob")
        t.check(c.get("sub") == "bob" and "groups" not in c,
                "groups: no entry for the approver and no \"*\": no groups claim", c)
        self.reset(extra_claims={"email": "alice@example.com", "amr": ["pwd"]})
        _, _, c, _, _ = self.token()
        t.check(c.get("email") == "alice@example.com" and c.get("amr") == ["pwd"]
                and c.get("sub") == "alice", "extra_claims are added", c)
        st, body = self.sd._call("POST", "/_standin/scenario", {"extra_claims": {"sub": "x"}})
        t.check(st == 400, "extra_claims may not name a standard claim (claims_override does)",
                body)

    def issuer_path(self):
        t = self.t
        self.reset(issuer_path="/realms/test")
        iss = self.issuer("/realms/test")
        try:
            d = self.disco("/realms/test")
            good = all(d[k].startswith(iss + "/") for k in
                       ("device_authorization_endpoint", "token_endpoint", "jwks_uri"))
        except oc.OidcError as e:
            d, good = e, False
        t.check(good, "issuer_path: issuer and every endpoint under /realms/test", d)
        r = self.h.get(self.issuer() + "/.well-known/openid-configuration")
        t.check(r.status == 404, "issuer_path: no discovery document at the root", r)
        try:
            dev, r = self.login(path="/realms/test")
            tok = r.json()
            oc.verify_id_token(tok["id_token"], self.jwks("/realms/test"), iss, "pam-test")
            good = dev["verification_uri"] == iss + "/device"
        except (oc.OidcError, KeyError, RuntimeError) as e:
            good = e
        t.check(good is True, "issuer_path: a full login; iss and verification_uri under it",
                good)
        r = self.h.get(iss + "/device")
        t.check(r.status == 200 and "Approve" in r.text, "issuer_path: the page under it too", r)

    def rotation(self):
        t = self.t
        self.reset()
        j1 = self.jwks()
        tok1, _, _, _, _ = self.token()
        kids = self.sd.rotate()
        j2 = self.jwks()
        t.check(kids == ["rsa-2", "ec-2"] and [k["kid"] for k in j2["keys"]] == kids,
                "rotate: rsa-2 and ec-2 replace rsa-1 and ec-1", (kids, j2))
        tok2, h2, _, _, _ = self.token()
        ok2 = h2.get("kid") == "rsa-2"
        try:
            oc.verify_id_token(tok2, j2, self.issuer(), "pam-test")
        except oc.OidcError as e:
            ok2 = e
        t.check(ok2 is True, "rotate: new tokens carry kid rsa-2 and verify", ok2)
        t.raises(lambda: oc.verify_id_token(tok1, j2, self.issuer(), "pam-test"),
                 "rotate: a token signed before no longer finds its key", "matches 0 keys")
        kids = self.sd.rotate(keep_old=True)
        t.check(kids == ["rsa-3", "ec-3", "rsa-2", "ec-2"], "rotate keep_old: old keys kept, "
                "newest first", kids)
        self.reset()
        j3 = self.jwks()
        t.check(j3 == j1, "reset: back to the very keys rsa-1 and ec-1 made at start",
                [k["kid"] for k in j3["keys"]])

    def faults(self):
        t = self.t
        self.reset(faults={"Token": {"kind": "http500", "count": 1}})
        dev, r = self.login()
        r2 = oc.token_request(self.h, self.disco(), PUBLIC, dev["device_code"])
        t.check(r.status == 500 and r.json().get("error") == "server_error" and r2.status == 200,
                "fault http500 on Token, count 1: one 500 server_error, then the token", (r, r2))
        self.reset(faults={"DeviceAuthorization": {"kind": "illtyped"}})
        r = self.h.post(self.disco()["device_authorization_endpoint"],
                        form={"client_id": "pam-test", "scope": "openid"})
        t.check(r.status == 200 and r.json().get("interval") == "fast",
                "fault illtyped on DeviceAuthorization", r)
        self.reset(faults={"JWKS": {"kind": "huge"}})
        r = self.h.get(self.disco()["jwks_uri"])
        t.check(r.status == 200 and len(r.body) == 1048576 and r.json()["keys"],
                "fault huge on JWKS: the real JWKS padded to 1 MiB", len(r.body))
        self.reset(faults={"DeviceAuthorization": {"kind": "control_chars"}})
        dev = oc.device_authorize(self.h, self.disco(), PUBLIC, SCOPE)
        t.check(dev["user_code"].startswith("\x1b[2J") and dev["verification_uri"].endswith("\x85"),
                "fault control_chars on DeviceAuthorization", dev)
        st, body = self.sd._call("POST", "/_standin/scenario",
                                 {"faults": {"CreateToken": {"kind": "http500"}}})
        t.check(st == 400 and "Discovery, JWKS, DeviceAuthorization, Token" in body,
                "oidc mode: faults name the oidc operations", body)
        st, body = self.sd._call("POST", "/_standin/scenario", {"assignments": {}})
        t.check(st == 400, "oidc mode: AWS-only scenario keys are refused", body)

    # ---- hostile knobs ----------------------------------------------------
    def knobs_alg(self):
        t = self.t
        iss = self.issuer()
        self.reset(id_token_alg="none")
        tok, h, c, si, sig = self.token()
        t.check(h == {"alg": "none", "typ": "JWT", "kid": "rsa-1"} and tok.endswith(".")
                and sig == b"" and c.get("sub") == "alice",
                "id_token_alg none: alg none, empty signature, the same claims", (h, tok[-8:]))
        t.raises(lambda: oc.verify_id_token(tok, self.jwks(), iss, "pam-test"),
                 "id_token_alg none: a strict verifier refuses it", "not in")

        rk = self.key("rsa-1")
        pub = oc.public_key(rk)
        pem = pub.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
        der = pub.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
        for name, secret, other in (("HS256-pubkey", pem, der), ("HS256-pubkey-der", der, pem)):
            self.reset(id_token_alg=name)
            tok, h, c, si, sig = self.token()
            want = hmac.new(secret, si, hashlib.sha256).digest()
            wrong = hmac.new(other, si, hashlib.sha256).digest()
            t.check(h == {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"} and sig == want
                    and sig != wrong,
                    "id_token_alg %s: HS256 MACed with the RSA key's %s SPKI" %
                    (name, "DER" if secret is der else "PEM"), (h, len(sig)))

        for override, want in (("nope", "nope"), (None, None)):
            self.reset(kid_override=override)
            tok, h, c, si, sig = self.token()
            t.check(h.get("kid") == want and ("kid" in h) == (want is not None)
                    and h.get("alg") == "RS256" and sig_ok("RS256", rk, si, sig),
                    "kid_override %s: header kid %s, still signed by rsa-1"
                    % (json.dumps(override), "omitted" if want is None else want), h)
        t.raises(lambda: oc.verify_id_token(tok, self.jwks(), iss, "pam-test"),
                 "kid_override null: no key chosen by kid", "kid None")

        self.reset(id_token_alg="ES256", signature_der=True)
        tok, h, c, si, sig = self.token()
        ek = self.key("ec-1")
        try:
            r_, s_ = utils.decode_dss_signature(sig)
            oc.public_key(ek).verify(sig, si, ec.ECDSA(hashes.SHA256()))
            good = len(sig) != 64 and sig[0] == 0x30 and r_ > 0 and s_ > 0
        except (ValueError, InvalidSignature) as e:
            good = e
        t.check(good is True, "signature_der: an ES256 signature in DER form, valid as DER",
                (good, sig[:4].hex()))
        t.raises(lambda: oc.verify_id_token(tok, self.jwks(), iss, "pam-test"),
                 "signature_der: refused by a JOSE verifier (r||s wanted)", "64")

    def knobs_claims(self):
        t = self.t
        iss = self.issuer()
        rk = self.key("rsa-1")

        def one(sc):
            self.reset(**sc)
            tok, h, c, si, sig = self.token()
            return tok, h, c, sig_ok(h.get("alg", "RS256"), rk, si, sig)

        tok, h, c, good = one({"iss_override": "https://evil.example"})
        t.check(c.get("iss") == "https://evil.example" and good,
                "iss_override: iss replaced, signature valid", c)
        t.raises(lambda: oc.verify_id_token(tok, self.jwks(), iss, "pam-test"),
                 "iss_override: refused for the issuer", "iss")
        tok, h, c, good = one({"aud_override": "someone-else"})
        t.check(c.get("aud") == "someone-else" and good, "aud_override string: aud replaced", c)
        tok, h, c, good = one({"aud_override": ["pam-test", "other"]})
        t.check(c.get("aud") == ["pam-test", "other"] and "azp" not in c and good,
                "aud_override list: several audiences, no azp", c)
        t.raises(lambda: oc.verify_id_token(tok, self.jwks(), iss, "pam-test"),
                 "aud_override list without azp: refused", "azp")
        tok, h, c, good = one({"aud_override": ["pam-test", "other"], "azp": "pam-test"})
        try:
            oc.verify_id_token(tok, self.jwks(), iss, "pam-test")
            ok = c.get("azp") == "pam-test"
        except oc.OidcError as e:
            ok = e
        t.check(ok is True, "azp pam-test with two audiences: verifies", ok)
        tok, h, c, good = one({"azp": "other"})
        t.check(c.get("azp") == "other" and c.get("aud") == "pam-test" and good,
                "azp: the string given, aud untouched", c)

        now = time.time()
        tok, h, c, good = one({"exp_offset": -600})
        t.check(c["exp"] - c["iat"] == -600 and abs(c["iat"] - now) < 5 and good,
                "exp_offset -600: exp = now - 600, iat = now", c)
        t.raises(lambda: oc.verify_id_token(tok, self.jwks(), iss, "pam-test"),
                 "exp_offset -600: refused as expired", "expired")
        tok, h, c, good = one({"nbf_offset": 600})
        t.check(c.get("nbf", 0) - c["iat"] == 600 and good, "nbf_offset 600: nbf = now + 600", c)
        t.raises(lambda: oc.verify_id_token(tok, self.jwks(), iss, "pam-test"),
                 "nbf_offset 600: refused", "nbf")
        tok, h, c, good = one({"iat_offset": 3600})
        t.check(c["iat"] - now > 3590 and c["exp"] - now < 310 and good,
                "iat_offset 3600: iat an hour ahead, exp unchanged", c)
        t.raises(lambda: oc.verify_id_token(tok, self.jwks(), iss, "pam-test"),
                 "iat_offset 3600: refused", "iat")

        tok, h, c, good = one({"claims_override": {"preferred_username": "bob"}})
        t.check(c.get("preferred_username") == "bob" and c.get("sub") == "alice" and good,
                "claims_override preferred_username bob: only that claim, signed", c)
        tok, h, c, good = one({"claims_override": {"groups": "linux-admins", "sub": None}})
        t.check(c.get("groups") == "linux-admins" and "sub" in c and c["sub"] is None and good,
                "claims_override: groups as one string; null kept as JSON null", c)
        tok, h, c, good = one({"claims_remove": ["preferred_username", "exp"]})
        t.check("preferred_username" not in c and "exp" not in c and c.get("sub") == "alice"
                and good, "claims_remove: those claims gone, the rest kept", c)

        for part in ("payload", "header"):
            self.reset(tamper=part)
            tok, h, c, si, sig = self.token()
            hs, ps, _ = tok.split(".")
            if part == "payload":
                sent = b64d(ps).decode()
                fixed = re.sub(r'("exp":\d*)(\d)',
                               lambda m: m.group(1) + str((int(m.group(2)) - 1) % 10), sent)
                restored = (hs + "." + b64e(fixed.encode())).encode()
            else:
                sent = b64d(hs).decode()
                fixed = sent.replace('"typ":"JWt"', '"typ":"JWT"')
                restored = (b64e(fixed.encode()) + "." + ps).encode()
            one_char = (len(sent) == len(fixed)
                        and sum(a != b for a, b in zip(sent, fixed)) == 1)
            t.check(not sig_ok("RS256", rk, si, sig) and sig_ok("RS256", rk, restored, sig)
                    and one_char and c.get("sub") == "alice",
                    "tamper %s: one character changed after signing (%s), JSON still valid"
                    % (part, "exp's last digit" if part == "payload" else "typ JWT -> JWt"),
                    (h, c))
            t.raises(lambda: oc.verify_id_token(tok, self.jwks(), iss, "pam-test"),
                     "tamper %s: bad signature" % part, "bad RS256 signature")

        self.reset(omit_id_token=True)
        _, r = self.login()
        doc = r.json()
        t.check(r.status == 200 and "id_token" not in doc and doc.get("access_token"),
                "omit_id_token: a token answer without id_token", doc)
        last = [x for x in self.sd.log("Token") if x["status"] == 200][-1]
        t.check(last["kid"] is None and last["alg"] is None,
                "omit_id_token: the log has no kid or alg issued", last)

    def knobs_jwks(self):
        t = self.t
        self.reset()
        plain = self.jwks()
        self.reset(jwks_wrong_type=True)
        j = self.jwks()
        by_kid = {k["kid"]: k for k in j["keys"]}
        t.check(by_kid.get("rsa-1", {}).get("kty") == "EC"
                and by_kid["rsa-1"].get("x") == plain["keys"][1]["x"]
                and by_kid.get("ec-1", {}).get("kty") == "RSA"
                and by_kid["ec-1"].get("n") == plain["keys"][0]["n"],
                "jwks_wrong_type: rsa-1 names the EC key and ec-1 the RSA key", j)
        for alg in ("RS256", "ES256"):
            self.reset(jwks_wrong_type=True, id_token_alg=alg)
            tok, h, c, si, sig = self.token()
            t.raises(lambda: oc.verify_id_token(tok, self.jwks(), self.issuer(), "pam-test"),
                     "jwks_wrong_type: the %s token's kid finds a key of the wrong type" % alg,
                     "with a")

        for val, size in ((True, 65537), (200000, 200000)):
            self.reset(jwks_huge=val)
            r = self.h.get(self.disco()["jwks_uri"])
            j = r.json()
            t.check(len(r.body) == size and [k["kid"] for k in j["keys"]] == ["rsa-1", "ec-1"]
                    and j["keys"] == plain["keys"],
                    "jwks_huge %s: exactly %d bytes, the real keys intact"
                    % (json.dumps(val), size), len(r.body))
        for val, want in ((True, 100), (7, 7)):
            self.reset(jwks_deep=val)
            j = self.jwks()
            t.check(depth(j) == want and j["keys"][1:] == plain["keys"]
                    and j["keys"][0]["kid"] == "deep",
                    "jwks_deep %s: nesting %d levels deep, the real keys intact"
                    % (json.dumps(val), want), depth(j))
        self.reset(jwks_many=True)
        r = self.h.get(self.disco()["jwks_uri"])
        j = r.json()
        kids = [k["kid"] for k in j["keys"]]
        t.check(len(kids) == 1000 and len(set(kids)) == 1000 and kids[-2:] == ["rsa-1", "ec-1"]
                and j["keys"][-2:] == plain["keys"]
                and all(oc.public_key(k).key_size == 2048 for k in j["keys"][:-2]),
                "jwks_many: 1000 keys (2048-bit RSA fillers), the real ones last",
                (len(kids), kids[-3:]))
        r2 = self.h.get(self.disco()["jwks_uri"])
        t.check(r2.body == r.body, "jwks_many: the same document on every fetch",
                (len(r.body), len(r2.body)))
        try:
            tok, h, c, si, sig = self.token()
            oc.verify_id_token(tok, j, self.issuer(), "pam-test")
            good = True
        except oc.OidcError as e:
            good = e
        t.check(good is True, "jwks_many: the token still verifies against it", good)
        self.reset(jwks_many=150)
        j = self.jwks()
        t.check(len(j["keys"]) == 150, "jwks_many 150: 150 keys", len(j["keys"]))

    def knobs_discovery(self):
        t = self.t
        self.reset(discovery_issuer_override="https://127.0.0.1:1/other")
        r = self.h.get(self.issuer() + "/.well-known/openid-configuration")
        d = r.json()
        t.check(d.get("issuer") == "https://127.0.0.1:1/other"
                and d.get("token_endpoint") == self.issuer() + "/token",
                "discovery_issuer_override: the document's issuer differs, endpoints do not", d)
        t.raises(lambda: self.disco(), "discovery_issuer_override: discovery refuses it",
                 "is not")
        self.reset()
        plain = self.h.get(self.issuer() + "/.well-known/openid-configuration").json()
        self.reset(discovery_overrides={"device_authorization_endpoint": None,
                                        "jwks_uri": "https://127.0.0.1:1/jwks", "x-extra": [1]})
        d = self.h.get(self.issuer() + "/.well-known/openid-configuration").json()
        rest = {k: v for k, v in d.items() if k not in ("jwks_uri", "x-extra")}
        want = {k: v for k, v in plain.items()
                if k not in ("jwks_uri", "device_authorization_endpoint")}
        t.check("device_authorization_endpoint" not in d and d.get("jwks_uri")
                == "https://127.0.0.1:1/jwks" and d.get("x-extra") == [1] and rest == want,
                "discovery_overrides: null drops a member, others replace or add", d)

    def knobs_shapes(self):
        t = self.t
        self.reset(shape="google", interval=5)
        d = self.disco()
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        t.check(dev.get("verification_url") == self.issuer() + "/device"
                and "verification_uri" not in dev and "verification_uri_complete" in dev,
                "shape google: verification_url instead of verification_uri", dev)
        r = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        r2 = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        t.check(r.status == 428 and r.json().get("error") == "authorization_pending"
                and r2.status == 400 and r2.json().get("error") == "slow_down",
                "shape google: pending is HTTP 428, slow_down stays 400", (r, r2))
        self.reset(shape="google", approve_after_polls=1)
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        res = oc.poll(self.h, d, PUBLIC, dev)
        t.check(res.tokens and [p[1] for p in res.polls] == [428, 200],
                "shape google: a strict client polls through 428 to the token", res)

        self.reset(shape="entra", interval=1)
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        t.check(dev.get("interval") == 5 and "verification_uri" in dev,
                "shape entra: interval 5", dev)
        r = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        b = r.json()
        t.check(r.status == 400 and b.get("error") == "authorization_pending"
                and b.get("error_codes") == [70016]
                and re.fullmatch(r"[0-9a-f-]{36}", b.get("trace_id", ""))
                and re.fullmatch(r"[0-9a-f-]{36}", b.get("correlation_id", ""))
                and b.get("error_description", "").startswith("AADSTS70016:")
                and "\r\nTrace ID: " + b["trace_id"] in b["error_description"]
                and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", b.get("timestamp", "")),
                "shape entra: error bodies carry error_codes, trace_id, correlation_id", b)
        self.reset(shape="entra", approve_after_polls=0, decision="deny")
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        r = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        t.check(r.status == 400 and r.json().get("error") == "authorization_declined"
                and r.json().get("error_codes") == [70000],
                "shape entra: denial is authorization_declined", r)
        r = self.h.post(d["device_authorization_endpoint"], form={"scope": SCOPE},
                        basic=("pam-conf", "nope"))
        t.check(r.status == 401 and r.json().get("error") == "invalid_client"
                and r.json().get("error_codes") == [7000215],
                "shape entra: invalid_client is 401 with error_codes", r)

        self.reset(error_status={"authorization_pending": 403, "slow_down": 429}, interval=5)
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        r = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        r2 = oc.token_request(self.h, d, PUBLIC, dev["device_code"])
        t.check(r.status == 403 and r.json().get("error") == "authorization_pending"
                and r2.status == 429 and r2.json().get("error") == "slow_down",
                "error_status: the HTTP status per error code", (r, r2))
        self.reset(device_overrides={"verification_uri_complete": None, "interval": "fast",
                                     "message": "hi"})
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        t.check("verification_uri_complete" not in dev and dev.get("interval") == "fast"
                and dev.get("message") == "hi" and dev.get("user_code"),
                "device_overrides: null drops a member, others replace or add", dev)
        self.reset(complete_uri="https://localhost:{port}/x?c={user_code}&p={port}")
        dev = oc.device_authorize(self.h, d, PUBLIC, SCOPE)
        t.check(dev.get("verification_uri_complete") == "https://localhost:%d/x?c=%s&p=%d"
                % (self.sd.port, dev.get("user_code"), self.sd.port)
                and dev.get("verification_uri") == self.issuer() + "/device",
                "complete_uri: the template with {port} and {user_code} filled in", dev)

    def aws_mode_untouched(self, work):
        """The AWS mode knows nothing of the OpenID one."""
        t = self.t
        sd = harness.Standin(os.path.join(work, "aws"))
        try:
            st, body = sd._call("POST", "/_standin/scenario", {"id_token_alg": "RS256"})
            st2, _ = sd._call("POST", "/_standin/rotate", {})
            st3, _ = sd._call("GET", "/.well-known/openid-configuration")
            t.check(st == 400 and st2 == 404 and st3 == 404,
                    "aws mode: no oidc scenario keys, no rotate, no discovery",
                    (st, body, st2, st3))
        finally:
            sd.stop()


def main():
    work = tempfile.mkdtemp(prefix="oidc-standin-")
    tap = Tap()
    t0 = time.monotonic()
    sd = harness.Standin(work, mode="oidc")
    try:
        t = T(tap, sd)
        for step in (t.discovery, t.device_flow, t.algorithms_and_clients, t.decisions,
                     t.issuer_path, t.rotation, t.faults, t.knobs_alg, t.knobs_claims,
                     t.knobs_jwks, t.knobs_discovery, t.knobs_shapes):
            try:
                step()
            except Exception:  # noqa: BLE001 - a crash is a failed check
                import traceback
                tap.check(False, "%s ran to the end" % step.__name__, traceback.format_exc())
        t.aws_mode_untouched(work)
    finally:
        sd.stop()
    tap.check(sd.proc.returncode == 0 and not os.path.exists(os.path.join(sd.dir, "port")),
              "stand-in exits 0 on SIGTERM and removes its port file", sd.proc.returncode)
    secs = time.monotonic() - t0
    # Said, not asserted: a loaded machine may take any time.
    tap.comment("the whole test took %.1f s" % secs)
    if os.environ.get("KEEP"):
        print("# work directory kept: " + work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
