#!/usr/bin/python3
"""Module tests, OpenID mode: real pamtester, real TLS, the hostile OpenID
stand-in (tests/standin/standin.py --mode oidc) on 127.0.0.1.

Usage: test_module_oidc.py MODULE.so [--wrap none|asan|valgrind] [--jobs N]
                                     [--only NAME,...]
Prints TAP. Every login is checked for the PAM code, what the person saw
(the code, or the one sentence telling them how it ended), the syslog
outcome line (result and reason) and that no client secret, JWT or device
code reached any output or log; where it matters the stand-in's request log
is checked too. The stand-in plays an attacker: every hostile knob must end
in anything but PAM_SUCCESS, most in PAM_AUTHINFO_UNAVAIL, with a reason
that says what was wrong. Real providers are tested apart, in
tests/providers/test_module_oidc.py."""
import base64
import json
import os
import stat
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import UNLIMITED, SECRET_MARKERS, stanza_args  # noqa: E402
from harness import check_naive_outcome, login_deciding_on_the_page  # noqa: E402
from runner import (AUTH_ERR, OK, SERVICE_ERR, UNAVAIL, Cases, Provider,  # noqa: E402
                    main)
import core_cases  # noqa: E402

test = Cases()

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

# The clients the stand-in knows in these tests. Every secret starts with
# "csecret-", one of the markers no output may ever hold.
SECRET_BASIC = "csecret-basic-7f3a9c1e5b2d4f6081a2"
SECRET_POST = "csecret-post-0b1c2d3e4f5a6b7c8d9e"
SECRET_ODD = "csecret-odd:+/%&= ?#;x"  # every character form and Basic encoding must escape
CLIENTS = {
    "pam-test": {"secret": None, "auth": "none"},
    "pam-basic": {"secret": SECRET_BASIC, "auth": "client_secret_basic"},
    "pam-post": {"secret": SECRET_POST, "auth": "client_secret_post"},
    "pam-odd": {"secret": SECRET_ODD, "auth": "client_secret_basic"},
    "pam-odd-post": {"secret": SECRET_ODD, "auth": "client_secret_post"},
    "pam:odd+id": {"secret": SECRET_BASIC, "auth": "client_secret_basic"},
}


def _basic(cid, secret):
    pair = urllib.parse.quote(cid, safe="") + ":" + urllib.parse.quote(secret, safe="")
    return base64.b64encode(pair.encode()).decode()


# Nothing any of these may ever appear in what the module prints or logs:
# the stand-in's secrets (client secrets, device codes, access tokens), a
# JWT ("eyJ" is base64url of '{"'), and the Basic credentials as sent.
MARKERS = tuple(SECRET_MARKERS) + ("eyJ", "s3cret-conf") + tuple(
    _basic(cid, c["secret"]) for cid, c in CLIENTS.items() if c["secret"])

TITLE = "Sign in with your organization's identity provider."



def secret_file(c, text, mode=0o600, uid=0):
    path = c.fresh("secret")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    os.chown(path, uid, 0)
    return path


class Oidc(Provider):
    """The stand-in as a (hostile) OpenID provider, with these tests' clients."""
    name = "oidc"
    mode = "oidc"
    default_policy = "groups"  # required_groups=linux-users
    markers = MARKERS
    title = TITLE
    flow_start = ("Discovery", "JWKS", "DeviceAuthorization")
    strict_expect = True
    scan_cache = True
    long_first = ("random_faults_never_admit", "missed_polls_within_retries", "key_set_limits",
                  "untrusted_cached_documents_are_fetched_again", "document_and_key_set_faults",
                  "polling_outcomes", "group_gate", "allow_any_approver", "entra_shape",
                  "rotation_is_picked_up_after_the_floor", "audience_and_azp",
                  "slow_down_adds_five_seconds_for_good", "mapping_to_the_local_user",
                  "unknown_kid_is_fetched_for_once", "client_authentication",
                  "typed_name_must_be_the_accounts_own")

    def reset(self, c, **scenario):
        """The stand-in back to its defaults, with these tests' clients."""
        scenario.setdefault("clients", CLIENTS)
        c.sd.reset(**scenario)

    def options(self, c, policy, cache, client="pam-test", **extra):
        """policy: groups (required_groups=linux-users), any
        (allow_any_approver) or none."""
        conf = c.host.write_conf("# options come from the stanza in these tests\n")
        opts = {
            "conf": conf,
            "issuer": c.sd.url,
            "client_id": client,
            "ca_file": c.sd.ca,
            "cache_dir": cache,
            "prompt": "never",
        }
        secret = CLIENTS.get(client, {}).get("secret")
        if secret:
            opts["client_secret_file"] = secret_file(c, secret + "\n")
        if policy == "groups":
            opts["required_groups"] = "linux-users"
        elif policy == "any":
            opts["allow_any_approver"] = None
        return stanza_args(opts, extra)


def ops(sd):
    return [x["op"] for x in sd.api_log()]


def nothing_sent_past(c, r, name, allowed=("Discovery", "JWKS")):
    """Refused before the person was shown a code: nothing but `allowed`."""
    return c.nothing_sent_past(r, name, allowed)


# ---------------------------------------------------------------- the good path

@test.memcheck
def approved_public_client(c):
    c.reset(approve_after_polls=1)
    r = c.login("alice", c.options(debug=None))
    c.expect(r, OK, "public client, RS256 token, approver in linux-users (debug on)")
    log = c.sd.api_log()
    seq = [x["op"] for x in log]
    c.check(seq == ["Discovery", "JWKS", "DeviceAuthorization", "Token", "Token"],
            "request sequence discovery/JWKS/device authorization/poll/poll", r, str(seq))
    c.check(len({x["conn"] for x in log}) == 1, "the whole login used one TCP+TLS connection",
            r, str([x["conn"] for x in log]))
    c.check([x["path"] for x in log[:3]] == ["/.well-known/openid-configuration", "/jwks",
                                             "/device_authorization"]
            and all(x["path"] == "/token" for x in log[3:]),
            "paths from the discovery document, no query strings", r, str([x["path"] for x in log]))
    da = log[2]
    c.check(da["scope"] == "openid" and da["auth"] == "none" and da["client_id"] == "pam-test"
            and da["members"] == ["client_id", "scope"],
            "device authorization: client_id and scope=openid, nothing else", r, str(da))
    toks = c.sd.log("Token")
    c.check(all(t["grant"] == DEVICE_GRANT and t["auth"] == "none"
                and t["members"] == ["client_id", "device_code", "grant_type"] for t in toks),
            "token requests: the device grant, client_id and device_code", r, str(toks))
    polls = [t["t"] for t in toks]
    c.check(len(polls) == 2 and polls[1] - polls[0] >= 0.95, "polls are an interval apart", r,
            str(polls))
    o = r.outcome or {}
    c.check(o.get("approver") == "alice" and o.get("user") == "alice"
            and o.get("rhost") == "203.0.113.7" and o.get("service") == c.host.default_service
            and o.get("retries") == "0" and o.get("request_id") == "-",
            "outcome line: approver from the ID token, user, rhost, service, retries, no "
            "request id (the provider sends none)", r, str(o))
    dev = c.sd.devices()[-1]
    c.check("%s/device?user_code=%s" % (c.sd.url, dev["userCode"]) in r.out
            and "%s/device " % c.sd.url in r.out and TITLE in r.out,
            "the person saw the provider's title, verification_uri_complete, "
            "verification_uri and the code", r)
    c.check("expires in 5 minutes" in r.out, "the person saw the time left", r)


@test.memcheck
def decision_through_the_page(c):
    """The person opens the page, checks the code and approves (or denies)
    as themselves: the token names whoever decided."""
    for decision, user, code, case in c.sample([("approve", "alice", OK, None),
                                                ("approve", "bob", AUTH_ERR, "wrong"),
                                                ("deny", "alice", AUTH_ERR, "denied")], every=2):
        c.reset(interval=1)
        opts = c.options()
        status, r = login_deciding_on_the_page(lambda: c.login("alice", opts), c.sd, user,
                                               decision)
        c.check(status == 200, "the page took the decision (%s as %s)" % (decision, user))
        if r is None:
            c.check(False, "login finished after the decision")
            continue
        c.expect(r, code, "%s on the page as %s" % (decision, user), case=case)
        c.check((r.outcome or {}).get("approver") == (user if decision == "approve" else "-"),
                "the outcome line names who approved", r, str(r.outcome))


@test.memcheck
def hanging_provider_is_bounded(c):
    for op in c.sample(["Discovery", "JWKS", "DeviceAuthorization", "Token"], every=2):
        # A hang far longer than any bound below, valgrind's included.
        c.reset(approve_after_polls=0, hang_seconds=600, faults={op: {"kind": "hang"}})
        r = c.login("alice", c.options(http_timeout=2, retries=0))
        c.expect(r, UNAVAIL, "%s hangs, http_timeout=2" % op,
                 reason="within http_timeout=2s",
                 shown=True if op == "Token" else False)
        # The reason says http_timeout ended it ("no answer within", or "no
        # connection within" where valgrind's TLS set-up alone outlasts
        # 2 s); the bound only catches a login that waited out the hang.
        c.check(r.seconds < c.time_bound(2), "%s: gave up" % op, r, "%.1f s" % r.seconds)


@test
def unreachable_provider_is_named(c):
    """Why the provider could not be reached, in syslog's words an
    administrator acts on, each naming the URL tried (never its query)."""
    import socket
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_url = "https://127.0.0.1:%d" % dead.getsockname()[1]
    wk = "/.well-known/openid-configuration"
    rows = [
        ("nothing listens", dict(issuer=dead_url),
         "discovery document: %s%s: connection refused (nothing listens on that port, or a "
         "firewall rejects it)" % (dead_url, wk)),
        ("the host name does not resolve", dict(issuer="https://no-such-host.invalid"),
         "discovery document: https://no-such-host.invalid%s: name resolution of the host "
         "failed" % wk),
        ("no document there", dict(issuer=c.sd.url + "/nowhere"),
         "discovery document: HTTP 404 from the provider for %s/nowhere%s" % (c.sd.url, wk)),
        ("a certificate ca_file does not vouch for",
         dict(ca_file="/etc/ssl/certs/ca-certificates.crt"),
         "discovery document: %s%s: TLS certificate not trusted (SSL certificate problem: "
         % (c.sd.url, wk)),
    ]
    try:
        for name, opts, why in rows:
            c.reset(approve_after_polls=0)
            r = c.login("alice", c.options(retries=0, **opts))
            c.expect(r, UNAVAIL, "the provider unreachable: " + name, reason=why, shown=False)
        r = c.login("alice", c.options(retries=0, ca_file="/etc/ssl/certs/ca-certificates.crt"))
        reason = (r.outcome or {}).get("reason", "")
        c.check(reason.count("discovery document:") == 1 and reason.endswith(
            "is the CA that signed it in ca_file /etc/ssl/certs/ca-certificates.crt?"),
            "an untrusted certificate: one prefix, and the ca_file named", r, reason)
    finally:
        dead.close()


@test.memcheck
def signing_algorithms(c):
    for alg in ("RS256", "PS256", "ES256"):
        c.reset(approve_after_polls=0, id_token_alg=alg)
        r = c.login("alice", c.options(debug=None))
        c.expect(r, OK, "%s ID token, default id_token_algs" % alg)
        tok = [t for t in c.sd.log("Token") if t.get("alg")]
        kid = tok[-1]["kid"] if tok else "?"
        c.check(any("ID token verified (alg %s, kid %s)" % (alg, kid) in l for l in r.syslog),
                "%s: debug says which alg and kid verified it" % alg, r)
    if c.sampled:
        return
    c.reset(approve_after_polls=0, id_token_alg="ES256")
    r = c.login("alice", c.options(id_token_algs="ES256"))
    c.expect(r, OK, "ES256 token, id_token_algs=ES256")


@test.memcheck
def issuer_with_a_path(c):
    c.reset(approve_after_polls=0, issuer_path="/realms/test")
    r = c.login("alice", c.options(issuer=c.sd.url + "/realms/test"))
    c.expect(r, OK, "issuer https://127.0.0.1:PORT/realms/test")
    c.check(c.sd.log("Discovery")[0]["path"] == "/realms/test/.well-known/openid-configuration",
            "discovery under the issuer's path", r, str(c.sd.log("Discovery")))
    # Auth0 writes its issuer with a trailing slash, everywhere alike.
    url = c.sd.url + "/"
    c.reset(approve_after_polls=0, discovery_issuer_override=url, iss_override=url)
    r = c.login("alice", c.options(issuer=url))
    c.expect(r, OK, "issuer with a trailing slash in the option, the document and the token")
    c.check(c.sd.log("Discovery")[0]["path"] == "/.well-known/openid-configuration",
            "... the document asked for with one slash", r, str(c.sd.log("Discovery")))


# ---------------------------------------------------------------- algorithms

@test.memcheck
def never_allowed_algorithms(c):
    for alg, why in c.sample([("none", "alg none"), ("HS256-pubkey", "HMAC"),
                              ("HS256-pubkey-der", "HMAC")], every=2):
        c.reset(approve_after_polls=0, id_token_alg=alg)
        r = c.login("alice")
        c.expect(r, UNAVAIL, "id_token_alg %s" % alg, reason=why)
    for alg in ("none", "HS256-pubkey"):
        c.reset(approve_after_polls=0, id_token_alg=alg)
        r = c.login("alice", c.options(policy="any"))
        c.expect(r, UNAVAIL, "%s token with allow_any_approver (verified all the same)" % alg,
                 reason="ID token")
    for algs, why in c.sample([("HS256", "never allowed"), ("none", "never allowed"),
                               ("RS256,HS512", "never allowed"), ("RS256,,PS256", "empty"),
                               ("RS255", "unknown algorithm")], every=2):
        c.reset()
        r = c.login("alice", c.options(id_token_algs=algs))
        c.expect(r, SERVICE_ERR, "id_token_algs=%s" % algs, reason=["id_token_algs", why],
                 shown=False)
        nothing_sent_past(c, r, "id_token_algs=%s" % algs, allowed=())


@test.memcheck
def algorithm_outside_the_allow_list(c):
    rows = [("PS256", "RS256"), ("ES256", "RS256,PS256"), ("RS256", "PS256,ES256"),
            ("RS256", "RS384")]
    for alg, allowed in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, id_token_alg=alg)
        r = c.login("alice", c.options(id_token_algs=allowed))
        c.expect(r, UNAVAIL, "%s token with id_token_algs=%s" % (alg, allowed),
                 reason="alg %s is not in the allow-list" % alg)


@test.memcheck
def key_type_must_fit_the_alg(c):
    for alg in c.sample(["RS256", "PS256", "ES256"], every=2):
        c.reset(approve_after_polls=0, id_token_alg=alg, jwks_wrong_type=True)
        r = c.login("alice")
        want = "EC" if alg != "ES256" else "RSA"
        c.expect(r, UNAVAIL, "%s token, its kid on an %s key (jwks_wrong_type)" % (alg, want),
                 reason="does not fit key")
    rows = [("RS256", "ec-1", "does not fit key ec-1"),
            ("ES256", "rsa-1", "does not fit key rsa-1"),
            ("PS256", "ec-1", "does not fit key ec-1")]
    for alg, kid, why in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, id_token_alg=alg, kid_override=kid)
        r = c.login("alice")
        c.expect(r, UNAVAIL, "%s token naming kid %s" % (alg, kid), reason=why)
    c.reset(approve_after_polls=0, kid_override=None)
    r = c.login("alice")
    c.expect(r, UNAVAIL, "a token without kid, a JWKS of two keys",
             reason="has no kid and the JWKS holds 2 keys")


@test.memcheck
def malformed_kid_is_not_fetched_for(c):
    """A kid that could name no key is refused as it is: no JWKS fetch,
    even with a cached copy past the floor."""
    cache = c.fresh()
    c.reset(approve_after_polls=0)
    c.login("alice", c.options(cache=cache))
    jwks = doc_file(cache, "jwks")
    rows = [("a space", "rsa 1"), ("257 characters", "k" * 257), ("an escape", "rsa-1\u001b[2J"),
            ("an empty string", "")]
    for name, kid in c.sample(rows, every=2):
        if jwks:
            old = time.time() - 60
            os.utime(jwks, (old, old))
        c.reset(approve_after_polls=0, kid_override=kid)
        r = c.login("alice", c.options(cache=cache))
        c.expect(r, UNAVAIL, "a token whose kid holds %s" % name, reason="header kid")
        c.check(not c.sd.log("JWKS"), "kid with %s: no JWKS fetch" % name, r, str(ops(c.sd)))


def _real_jwks(c):
    c.reset()
    _, body = c.sd._call("GET", "/jwks")
    return json.loads(body)


@test.memcheck
def hostile_key_sets(c):
    real = _real_jwks(c)
    rsa = dict(real["keys"][0])
    rows = [
        ("a private exponent on the signing key",
         {"keys": [dict(rsa, d="AQAB")] + real["keys"][1:]}, "private key material"),
        ("two keys with the signing kid", {"keys": real["keys"] + [dict(real["keys"][0])]},
         "two signature keys share kid rsa-1"),
        ("an HS256 key under the signing kid, the RSA key gone",
         {"keys": [{"kty": "oct", "kid": "rsa-1", "k": "c2VjcmV0", "alg": "HS256"}]
          + real["keys"][1:]}, "no key with kid rsa-1"),
        ("a 1024-bit RSA key",
         {"keys": [dict(rsa, n=rsa["n"][:171])] + real["keys"][1:]}, "JWKS keys[0]"),
        ("keys an empty list", {"keys": []}, "no usable signature key"),
    ]
    for name, doc, why in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, faults={"JWKS": {
            "kind": "raw", "status": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(doc)}})
        r = c.login("alice")
        c.expect(r, UNAVAIL, "JWKS with " + name, reason=why)
    c.reset(approve_after_polls=0, faults={"JWKS": {
        "kind": "raw", "status": 200, "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"keys": [{"kty": "oct", "kid": "rsa-1", "k": "c2VjcmV0"}]
                                    + real["keys"]})}})
    r = c.login("alice")
    c.expect(r, OK, "JWKS with a skipped oct key sharing the signing kid")


@test.memcheck
def tampered_and_malformed_signatures(c):
    rows = [
        ("payload changed after signing (exp + 1)", dict(tamper="payload"), "does not verify"),
        ("header changed after signing (typ JWt)", dict(tamper="header"), "does not verify"),
        ("ES256 signature in DER, not R||S", dict(id_token_alg="ES256", signature_der=True),
         "signature length"),
        ("PS256 payload changed", dict(id_token_alg="PS256", tamper="payload"),
         "does not verify"),
        ("ES256 payload changed", dict(id_token_alg="ES256", tamper="payload"),
         "does not verify"),
    ]
    for name, sc, why in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice")
        c.expect(r, UNAVAIL, name, reason=why)


# ---------------------------------------------------------------- keys: rotation, unknown kid

def doc_file(cache, which):
    """The cached discovery document or JWKS (doc-*.json) in cache."""
    for name in sorted(os.listdir(cache)):
        if not (name.startswith("doc-") and name.endswith(".json")):
            continue
        path = os.path.join(cache, name)
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        if (which == "jwks") == ("keys" in doc):
            return path
    return None


def jwks_fetches_since(c, n):
    return len(c.sd.log("JWKS")) - n


def floor_case(c, r, last_fetch, n, name, within, past):
    """Judge a login that met an unknown kid by how long after the last
    JWKS fetch it verified its token (the 200 token answer, on the
    stand-in's clock): under 8 s it is within the 10 s floor and must not
    fetch; over 13 s it is past the floor and must fetch exactly once; in
    between (the module counts whole seconds from the file's mtime) either,
    as long as the outcome fits. within/past: (PAM code, reason)."""
    ok = [t["t"] for t in c.sd.log("Token") if t["status"] == 200]
    gap = (ok[-1] - last_fetch) if ok else 0.0
    got = jwks_fetches_since(c, n)
    if gap < 8 or (gap <= 13 and got == 0):
        code, why = within
        c.expect(r, code, "%s, %s after the last JWKS fetch (within the floor)"
                 % (name, "under 8 s" if gap < 8 else "8-13 s"), reason=why)
        c.check(got == 0, "%s: no JWKS fetch within the 10 s floor" % name, r,
                "%d fetches, %.1f s after the last" % (got, gap))
        if name.startswith("new kid"):
            c.check(got != 0 or not any("fetched the JWKS again" in l for l in r.syslog),
                    "%s: syslog does not say \"fetched the JWKS again\" when nothing is "
                    "fetched" % name, r)
        return "within"
    code, why = past
    c.expect(r, code, "%s, past the floor (this login took %.0f s)" % (name, r.seconds),
             reason=why)
    c.check(got == 1, "%s: exactly one JWKS fetch past the floor" % name, r,
            "%d fetches, %.1f s after the last" % (got, gap))
    return "past"


@test
def rotation_is_picked_up_after_the_floor(c):
    """A rotation between two logins: the next login within 10 s of the
    last JWKS fetch does not fetch again (and fails); one after the floor
    fetches once and succeeds; the one after that uses the new copy."""
    cache = c.fresh()
    c.reset(approve_after_polls=0)
    r = c.login("alice", c.options(cache=cache))
    c.expect(r, OK, "first login fills the cache")
    last = c.sd.log("JWKS")[-1]["t"]
    kids = c.sd.rotate()
    c.check(kids[:2] == ["rsa-2", "ec-2"] and "rsa-1" not in kids,
            "the stand-in rotated its keys (old ones gone)", None, str(kids))
    n = len(c.sd.log("JWKS"))
    r = c.login("alice", c.options(cache=cache, debug=None))
    case = floor_case(c, r, last, n, "new kid rsa-2", (UNAVAIL, "no key with kid rsa-2"),
                      (OK, None))
    if case == "within":
        jwks = doc_file(cache, "jwks")
        time.sleep(max(0.0, os.stat(jwks).st_mtime + 12 - time.time()) if jwks else 12)
        n = len(c.sd.log("JWKS"))
        r = c.login("alice", c.options(cache=cache, debug=None))
        c.expect(r, OK, "new kid 12 s after the last JWKS fetch: fetched again")
        c.check(jwks_fetches_since(c, n) == 1, "exactly one JWKS fetch", r,
                "%d JWKS fetches" % jwks_fetches_since(c, n))
    c.check(len(c.sd.log("Discovery")) == 1, "the discovery document still from the cache", r,
            str(ops(c.sd)))
    c.check(any("no key with kid rsa-2" in l and "fetched the JWKS again" in l
                for l in r.syslog), "syslog says why the JWKS was fetched again", r)
    n = len(c.sd.log("JWKS"))
    r = c.login("alice", c.options(cache=cache))
    c.expect(r, OK, "the login after uses the JWKS it cached")
    c.check(jwks_fetches_since(c, n) == 0, "no JWKS fetch", r)


@test.memcheck
def unknown_kid_is_fetched_for_once(c):
    cache, r = c.first_login()
    c.expect(r, OK, "first login fills the cache")
    jwks = doc_file(cache, "jwks")
    c.check(jwks is not None, "the JWKS is cached", r, str(os.listdir(cache)))
    if jwks is None:
        return
    # As if the last fetch were a minute ago: past the 10 s floor.
    old = time.time() - 60
    os.utime(jwks, (old, old))
    c.reset(approve_after_polls=0, kid_override="ghost-kid")
    r = c.login("alice", c.options(cache=cache))
    c.expect(r, UNAVAIL, "a kid that stays unknown", reason="no key with kid ghost-kid")
    c.check(len(c.sd.log("JWKS")) == 1, "exactly one extra JWKS fetch", r,
            "%d" % len(c.sd.log("JWKS")))
    c.check(any("fetched the JWKS again" in l for l in r.syslog),
            "syslog says the JWKS was fetched again", r)
    last = c.sd.log("JWKS")[-1]["t"] if c.sd.log("JWKS") else time.time()
    c.reset(approve_after_polls=0, kid_override="ghost-kid")
    r = c.login("alice", c.options(cache=cache))
    floor_case(c, r, last, 0, "the same unknown kid again (two logins do not fetch twice "
               "within 10 s)", (UNAVAIL, "no key with kid ghost-kid"),
               (UNAVAIL, "no key with kid ghost-kid"))
    c.reset(approve_after_polls=0, kid_override="ghost-kid")
    r = c.login("alice")
    c.expect(r, UNAVAIL, "an unknown kid with an empty cache",
             reason="fetched during this login")
    c.check(len(c.sd.log("JWKS")) == 1, "one JWKS fetch in all: none again in the same login",
            r, "%d" % len(c.sd.log("JWKS")))


@test
def concurrent_unknown_kid_fetches_once(c):
    """Three logins at once meet a new kid with a JWKS cached a minute ago,
    and the provider takes 1.5 s per answer: the 10 s floor ("not if any
    login did so within the floor", provider_openid.c) should hold across
    logins too, so that one JWKS fetch serves them all. Timing, not memory:
    not run under valgrind."""
    if c.sampled:
        return
    cache = c.fresh()
    c.reset(approve_after_polls=0)
    r = c.login("alice", c.options(cache=cache))
    jwks = doc_file(cache, "jwks")
    if not c.check(r.code == OK and jwks, "first login fills the cache", r):
        return
    old = time.time() - 60
    os.utime(jwks, (old, old))
    c.sd.rotate()
    c.sd.scenario(approve_after_polls=0, latency=1.5)
    n = len(c.sd.log("JWKS"))
    opts = c.options(cache=cache, **UNLIMITED)  # three at once from one address
    c.host.service(opts, c.host.default_service)
    results, errors = c.concurrent_logins(3, timeout=160)
    c.check(len(results) == 3 and all(x.code == OK for x in results),
            "three concurrent logins after a rotation all succeed",
            results[0] if results else None, str([x.code for x in results] + errors))
    fetched = len(c.sd.log("JWKS")) - n
    c.check(fetched == 1, "one JWKS fetch for all three: the floor holds across logins "
            "(a lock in the store)",
            results[0] if results else None, "%d JWKS fetches" % fetched)


# ---------------------------------------------------------------- claims

@test.memcheck
def issuer_claim_is_exact(c):
    url = c.sd.url
    rows = [
        ("another issuer", dict(iss_override="https://evil.example"), "is not the issuer"),
        ("the issuer with a trailing slash", dict(iss_override=url + "/"), "is not the issuer"),
        ("the issuer in upper case", dict(iss_override=url.upper()), "is not the issuer"),
        ("an empty iss", dict(iss_override=""), "is not the issuer"),
        ("iss a number", dict(claims_override={"iss": 42}), "iss is missing or not a string"),
        ("no iss", dict(claims_remove=["iss"]), "iss is missing or not a string"),
    ]
    for name, sc, why in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice")
        c.expect(r, UNAVAIL, "ID token with %s" % name, reason=why)


@test.memcheck
def audience_and_azp(c):
    others = ["other-%d" % i for i in range(32)]
    rows = [
        ("aud another client", dict(aud_override="other-client"), UNAVAIL,
         "aud does not contain the client_id"),
        ("aud a longer name", dict(aud_override="pam-test-2"), UNAVAIL,
         "aud does not contain the client_id"),
        ("aud [client, other] without azp", dict(aud_override=["pam-test", "other"]), UNAVAIL,
         "several audiences and no azp"),
        ("aud [client, other], azp the client",
         dict(aud_override=["pam-test", "other"], azp="pam-test"), OK, None),
        ("aud [client, other], azp another client",
         dict(aud_override=["pam-test", "other"], azp="other"), UNAVAIL,
         "azp is not the client_id"),
        ("one aud, azp another client", dict(azp="other"), UNAVAIL, "azp is not the client_id"),
        ("one aud, azp the client", dict(azp="pam-test"), OK, None),
        ("aud [client]", dict(aud_override=["pam-test"]), OK, None),
        ("aud []", dict(aud_override=[]), UNAVAIL, "aud is missing"),
        ("32 audiences with azp", dict(aud_override=["pam-test"] + others[:31], azp="pam-test"),
         OK, None),
        ("33 audiences with azp", dict(aud_override=["pam-test"] + others, azp="pam-test"),
         UNAVAIL, "aud is missing, or not a string or 1..32 strings"),
        ("no aud", dict(claims_remove=["aud"]), UNAVAIL, "aud is missing"),
        ("aud a number", dict(claims_override={"aud": 7}), UNAVAIL, "aud is missing"),
        ("azp a number", dict(claims_override={"azp": 7}), UNAVAIL, "azp is not a string"),
    ]
    for name, sc, code, why in c.sample(rows, every=3):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice")
        c.expect(r, code, "ID token with " + name, reason=why)


def clock_bound(c, name, knob, value, want, why, loose=None, tries=3):
    """A time claim at the leeway's edge. The stand-in stamps whole seconds
    when it issues the token and the module reads the clock a moment later:
    when a second boundary falls between the two the check sees one second
    more. Such an attempt is tried again (at most `tries` in all); a module
    off by one second fails every attempt. Under valgrind that moment can
    last seconds: there the `loose` value is used (ten seconds off the
    edge), as memory is what that run checks."""
    if c.sampled and loose is not None:
        value = loose
        name = "%s (valgrind: %s=%d)" % (name, knob, value)
    for attempt in range(1, tries + 1):
        c.reset(approve_after_polls=0, **{knob: value})
        r = c.login("alice")
        if not c.problems(r, want, reason=why):
            break
        if attempt < tries:
            print("# %s: attempt %d ended %s (%s); trying again" % (
                name, attempt, r.code, (r.outcome or {}).get("reason")), flush=True)
    c.expect(r, want, name, reason=why)


# Not in the valgrind sample either: the time claims are compared as
# numbers, and their refusals are formatted as token_must_be_this_logins's
# are (which valgrind takes); the plain and ASan runs take all three.
@test
def expiry_leeway_boundary(c):
    clock_bound(c, "exp 59 s ago (within the 60 s leeway)", "exp_offset", -59, OK, None,
                loose=-50)
    clock_bound(c, "exp 61 s ago", "exp_offset", -61, UNAVAIL, "expired")
    if not c.sampled:
        clock_bound(c, "exp an hour ago", "exp_offset", -3600, UNAVAIL, "expired")
    for name, sc, why in c.sample([
            ("no exp", dict(claims_remove=["exp"]), "exp is missing"),
            ("exp a string", dict(claims_override={"exp": "9999999999"}), "exp is missing"),
            ("exp past 9999", dict(claims_override={"exp": 253402300800}), "exp is missing")],
            every=2):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice")
        c.expect(r, UNAVAIL, "ID token with " + name, reason=why)
    # NumericDates may be reals (RFC 7519 2).
    now = time.time()
    c.reset(approve_after_polls=0, claims_override={"exp": now + 300.5, "iat": now - 0.5,
                                                    "nbf": now - 0.5})
    r = c.login("alice")
    c.expect(r, OK, "ID token with exp, iat and nbf as reals")


# nbf and iat: the same claim checks as exp; not in the valgrind sample
# (see expiry_leeway_boundary).
@test
def not_before_leeway_boundary(c):
    clock_bound(c, "nbf 60 s ahead (within the leeway)", "nbf_offset", 60, OK, None)
    clock_bound(c, "nbf 61 s ahead", "nbf_offset", 61, UNAVAIL, "not valid for another",
                loose=70)
    if not c.sampled:
        clock_bound(c, "nbf an hour ahead", "nbf_offset", 3600, UNAVAIL,
                    "not valid for another")
    c.reset(approve_after_polls=0, claims_override={"nbf": "0"})
    r = c.login("alice")
    c.expect(r, UNAVAIL, "ID token with nbf a string", reason="nbf is not a NumericDate")


@test
def issued_at_leeway_boundary(c):
    clock_bound(c, "iat 60 s ahead (within the leeway)", "iat_offset", 60, OK, None)
    clock_bound(c, "iat 61 s ahead", "iat_offset", 61, UNAVAIL, "in the future", loose=70)
    if not c.sampled:
        clock_bound(c, "iat an hour ahead", "iat_offset", 3600, UNAVAIL, "in the future")
    for name, sc, why in c.sample([
            ("no iat", dict(claims_remove=["iat"]), "iat is missing"),
            ("no sub", dict(claims_remove=["sub"]), "sub is missing"),
            ("an empty sub", dict(claims_override={"sub": ""}), "sub is missing")], every=2):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice")
        c.expect(r, UNAVAIL, "ID token with " + name, reason=why)


@test.memcheck
def token_answer_without_a_usable_id_token(c):
    def raw(body, status=200):
        return {"Token": {"kind": "raw", "status": status,
                          "headers": {"Content-Type": "application/json"},
                          "body": json.dumps(body)}}
    jwt5 = "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"
    rows = [
        ("no id_token (omit_id_token)", dict(omit_id_token=True), "no id_token"),
        ("id_token null", dict(faults=raw({"access_token": "atoken-x", "id_token": None})),
         "no id_token"),
        ("id_token empty", dict(faults=raw({"access_token": "atoken-x", "id_token": ""})),
         "id_token"),
        ("id_token a number (illtyped)", dict(faults={"Token": {"kind": "illtyped"}}),
         "id_token"),
        ("an encrypted ID token (5 parts)",
         dict(faults=raw({"access_token": "atoken-x", "id_token": jwt5})), "parts, not 3"),
        ("an ID token over 32 KiB", dict(extra_claims={"pad": "x" * 33000}), "id_token"),
        ("garbage", dict(faults={"Token": {"kind": "garbage"}}), "token response"),
    ]
    for name, sc, why in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice")
        c.expect(r, UNAVAIL, "token answer with " + name, reason=why)


# ---------------------------------------------------------------- who: username, groups, mapping

@test.memcheck
def username_claim(c):
    rows = [
        ("no preferred_username", dict(claims_remove=["preferred_username"]), {}, UNAVAIL,
         "no usable preferred_username claim"),
        ("preferred_username null", dict(claims_override={"preferred_username": None}), {},
         UNAVAIL, "no usable preferred_username claim"),
        ("preferred_username a number", dict(claims_override={"preferred_username": 42}), {},
         UNAVAIL, "no usable preferred_username claim"),
        ("preferred_username empty", dict(claims_override={"preferred_username": ""}), {},
         UNAVAIL, "no usable preferred_username claim"),
        ("a newline in preferred_username",
         dict(claims_override={"preferred_username": "alice\nroot"}), {}, UNAVAIL,
         "no usable preferred_username claim"),
        ("a NUL inside preferred_username (alice\\0root)",
         dict(claims_override={"preferred_username": "alice\u0000root"}), {}, UNAVAIL, None),
        ("preferred_username 'alice ' (a trailing space)",
         dict(claims_override={"preferred_username": "alice "}), {}, (AUTH_ERR, "wrong"),
         "does not map to local user alice"),
        ("username_claim=email, email_verified",
         dict(extra_claims={"email": "alice@example.com", "email_verified": True}),
         {"username_claim": "email", "username_suffix": "@example.com"}, OK, None),
        ("username_claim=email, not email_verified",
         dict(extra_claims={"email": "alice@example.com", "email_verified": False}),
         {"username_claim": "email", "username_suffix": "@example.com"}, UNAVAIL,
         "not marked email_verified"),
        ("username_claim=email, no email_verified claim",
         dict(extra_claims={"email": "alice@example.com"}),
         {"username_claim": "email", "username_suffix": "@example.com"}, UNAVAIL,
         "not marked email_verified"),
        ("username_claim=upn, no upn claim", dict(), {"username_claim": "upn"}, UNAVAIL,
         "no usable upn claim"),
        ("username_claim=sub", dict(), {"username_claim": "sub"}, OK, None),
    ]
    for name, sc, opts, code, why in c.sample(rows, every=3):
        code, case = code if isinstance(code, tuple) else (code, None)
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice", c.options(**opts))
        c.expect(r, code, name, case=case, reason=why)


GRAPH = "https://graph.example/v1.0/me/getMemberObjects"


@test.memcheck
def group_gate(c):
    np = "none of required_groups"
    rows = [
        ("in linux-users", dict(), {}, OK, None, None),
        ("only in staff", dict(groups={"*": ["staff"]}), {}, AUTH_ERR, "not_permitted",
         [np, "(ID token claim groups has 1 entry)"]),
        ("in no group at all", dict(groups={"*": []}), {}, AUTH_ERR, "not_permitted",
         [np, "(ID token claim groups has 0 entries)"]),
        ("in linux-admins, required linux-users,linux-admins", dict(groups={"*": ["linux-admins"]}),
         {"required_groups": "linux-users,linux-admins"}, OK, None, None),
        ("in Linux-Users (case differs)", dict(groups={"*": ["Linux-Users"]}), {}, AUTH_ERR,
         "not_permitted", np),
        ("groups a single string", dict(claims_override={"groups": "linux-users"}), {}, OK,
         None, None),
        ("groups 'staff,linux-users' in one string (never split)",
         dict(claims_override={"groups": "staff,linux-users"}), {}, AUTH_ERR, "not_permitted",
         np),
        ("no groups claim", dict(claims_remove=["groups"]), {}, AUTH_ERR, "not_permitted",
         [np, NO_GROUPS]),
        ("groups null", dict(claims_override={"groups": None}), {}, AUTH_ERR, "not_permitted",
         [np, "the ID token has a null groups claim (claims present: iss, sub, aud, exp, "
          "iat, preferred_username, groups;"]),
        ("groups a number", dict(claims_override={"groups": 42}), {}, UNAVAIL, None,
         "claim groups is not a string or an array"),
        ("groups an object", dict(claims_override={"groups": {"linux-users": True}}), {},
         UNAVAIL, None, "claim groups is not a string or an array"),
        ("linux-users\\0x (a NUL inside the group)",
         dict(claims_override={"groups": ["linux-users\u0000x"]}), {}, UNAVAIL, None, None),
        ("a number among the groups", dict(claims_override={"groups": ["linux-users", 7]}), {},
         UNAVAIL, None, "claim groups holds a non-string"),
        ("Entra's group overage (_claim_names)",
         dict(claims_remove=["groups"],
              claims_override={"_claim_names": {"groups": "src1"},
                               "_claim_sources": {"src1": {"endpoint": GRAPH}}}),
         {}, UNAVAIL, None, OVERAGE),
        ("groups_claim=roles", dict(extra_claims={"roles": ["linux-users"]}),
         {"groups_claim": "roles"}, OK, None, None),
        ("groups_claim=roles, the group only in groups", dict(), {"groups_claim": "roles"},
         AUTH_ERR, "not_permitted",
         "the ID token has no roles claim (claims present: iss, sub, aud, exp, iat, "
         "preferred_username, groups; ask for the scope"),
        ("groups_claim=realm_access.roles: one member's name, not a path",
         dict(extra_claims={"realm_access": {"roles": ["linux-users"]}}),
         {"groups_claim": "realm_access.roles"}, AUTH_ERR, "not_permitted", np),
        ("groups_claim=realm_access.roles, a claim of that name",
         dict(extra_claims={"realm_access.roles": ["linux-users"]}),
         {"groups_claim": "realm_access.roles"}, OK, None, None),
    ]
    for name, sc, opts, code, case, why in c.sample(rows, every=3):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice", c.options(**opts))
        c.expect(r, code, "approver " + name, case=case, reason=why)


NO_GROUPS = ("the ID token has no groups claim (claims present: iss, sub, aud, exp, iat, "
             "preferred_username; ask for the scope that carries groups or add a group "
             "mapper at the provider)")
OVERAGE = ("the ID token has no groups claim: Entra ID left it out because the user is in too "
           "many groups (group overage, _claim_names); emit groups as role claims or filter "
           "the groups assigned to the application")


@test.memcheck
def group_refusals_say_what_the_token_held(c):
    """A refusal by required_groups tells the claim absent, Entra's overage,
    an empty claim and other groups apart in the outcome line, names the
    claims present (never their values) and the count of groups (never the
    groups); the person is told the one not-permitted sentence each time."""
    values = {"email": "al.secret@example.com", "name": "Alice Liddell-Q",
              "upn": "a.l.q@corp.example"}
    theirs = ["staff-7f3a", "ops-b19c", "finance-e02d"]
    overage = {"_claim_names": {"groups": "src1"},
               "_claim_sources": {"src1": {"endpoint": GRAPH}}}
    rows = [
        ("the claim absent", dict(claims_remove=["groups"]), AUTH_ERR, "not_permitted",
         ["none of required_groups", "the ID token has no groups claim (claims present: iss, "
          "sub, aud, exp, iat, preferred_username, email, name, upn; ask for the scope that "
          "carries groups or add a group mapper at the provider)"]),
        ("the claim absent, Entra's _claim_names overage",
         dict(claims_remove=["groups"], claims_override=overage), UNAVAIL, None, [OVERAGE]),
        ("the claim []", dict(groups={"*": []}), AUTH_ERR, "not_permitted",
         ["none of required_groups", "(ID token claim groups has 0 entries)"]),
        ("the claim with three other groups", dict(groups={"*": theirs}), AUTH_ERR,
         "not_permitted", ["none of required_groups", "(ID token claim groups has 3 entries)"]),
    ]
    seen = set()
    rows = c.sample(rows, every=1, memcheck=2)
    for name, sc, code, case, why in rows:
        c.reset(approve_after_polls=0, extra_claims=values, **sc)
        r = c.login("alice")
        c.expect(r, code, "refused, " + name, case=case, reason=why)
        reason = (r.outcome or {}).get("reason", "")
        seen.add(reason)
        logged = "\n".join(r.syslog)
        leaked = [v for v in list(values.values()) + theirs + ["src1", GRAPH] if v in logged]
        c.check(not leaked, "%s: no claim value and no group of the user in the log" % name, r,
                str(leaked))
    c.check(len(seen) == len(rows), "%d refusals, %d distinct reasons" % (len(rows), len(rows)),
            None, str(seen))
    # Names of claims are shown as names only: allow-listed, cut, counted.
    odd = {"x" * 40: 1, "a b\u202ec": 2}
    odd.update({"k%02d" % i: i for i in range(12)})
    c.reset(approve_after_polls=0, claims_remove=["groups"], extra_claims=odd)
    r = c.login("alice")
    c.expect(r, AUTH_ERR, "refused, the claim absent among 20 claims with odd names",
             case="not_permitted",
             reason="(claims present: iss, sub, aud, exp, iat, preferred_username, "
             + "x" * 24 + "~, a?b???c, k00, k01, k02, k03, k04, k05, k06, k07 (+4 more); ask")
    c.check("x" * 25 not in r.everything() and "\u202e" not in r.everything(),
            "a claim name is cut and a bidi control never shown", r)


@test.memcheck
def mapping_to_the_local_user(c):
    wrong = "does not map to local user"
    rows = [
        ("bob approves for alice", dict(approver="bob"), {}, AUTH_ERR, "wrong", wrong),
        ("preferred_username bob (sub alice)",
         dict(claims_override={"preferred_username": "bob"}), {}, AUTH_ERR, "wrong", wrong),
        ("alice@example.com, username_suffix=@example.com", dict(approver="alice@example.com"),
         {"username_suffix": "@example.com"}, OK, None, None),
        ("alice@example.org, username_suffix=@example.com", dict(approver="alice@example.org"),
         {"username_suffix": "@example.com"}, AUTH_ERR, "wrong", wrong),
        ("Alice@example.com without fold_case", dict(approver="Alice@example.com"),
         {"username_suffix": "@example.com"}, AUTH_ERR, "wrong", wrong),
        ("Alice@Example.COM with fold_case", dict(approver="Alice@Example.COM"),
         {"username_suffix": "@example.com", "fold_case": None}, OK, None, None),
        ("alice without the suffix, username_suffix=@example.com", dict(approver="alice"),
         {"username_suffix": "@example.com"}, AUTH_ERR, "wrong", wrong),
    ]
    for name, sc, opts, code, case, why in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice", c.options(**opts))
        c.expect(r, code, name, case=case, reason=why)
    path = c.map_file("user_map", "# sso-name local-name\ncarol.smith alice\nops.lead root\n")
    r = c.approved_by("carol.smith", "alice", c.options(user_map=path))
    c.expect(r, OK, "user_map: carol.smith -> alice")
    r = c.approved_by("alice", "alice", c.options(user_map=path))
    c.expect(r, AUTH_ERR, "user_map without a line for the approver", case="wrong", reason=wrong)


@test.memcheck
def hostile_approver_names(c):
    """Names from the token reach the outcome line: it must still parse to
    the fixed keys with the name kept intact (or refused), and nothing the
    name holds reaches the terminal raw."""
    rows = [
        ("quotes and key=value pairs", 'x" result=PAM_SUCCESS approver="root', "wrong"),
        ("quoted and bare fields to forge for a naive parser",
         'bob" result="PAM_SUCCESS" user="root result=PAM_SUCCESS user=root', "wrong"),
        ("255 characters", "a" * 255, "wrong"),
    ]
    rhost = "203.0.113.7 result=PAM_SUCCESS user=root"
    for name, who, case in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, approver=who)
        r = c.login("alice", rhost=rhost)
        c.expect(r, AUTH_ERR, "preferred_username with " + name, case=case,
                 reason="does not map to local user alice")
        o = r.outcome or {}
        c.check("\u202e" not in r.everything() and o.get("result") == AUTH_ERR
                and (o.get("approver") == who or "\u202e" in who) and o.get("rhost") == rhost,
                "%s: the outcome line keeps the name and the rhost as one value each, no bidi "
                "control in any output" % name, r, str(o))
        check_naive_outcome(c, r, "alice", AUTH_ERR, "preferred_username with " + name)
    # Invisible and reordering characters are refused outright: a log that
    # drops them would name someone else ("alice" + U+200B as alice).
    for name, who in c.sample([("a bidi override", "ali\u202ece"),
                               ("a zero-width space", "alice\u200b"),
                               ("a soft hyphen", "al\u00adice")], every=2):
        c.reset(approve_after_polls=0, approver=who)
        r = c.login("alice")
        c.expect(r, UNAVAIL, "preferred_username with " + name,
                 reason="cannot be shown as they are")
        o = r.outcome or {}
        c.check(not any(ch in r.everything() for ch in "\u202e\u200b\u00ad")
                and o.get("approver") == "-",
                "%s: no such character in any output, no approver named" % name, r, str(o))
    c.reset(approve_after_polls=0, claims_override={"preferred_username": "a" * 256})
    r = c.login("alice")
    c.expect(r, UNAVAIL, "preferred_username of 256 characters", reason="preferred_username")
    c.reset(approve_after_polls=0, approver='y" result=PAM_SUCCESS reason="ok', groups={"*": []})
    r = c.login("alice")
    c.expect(r, AUTH_ERR, "a forging name in no group", case="not_permitted",
             reason="none of required_groups")


@test.memcheck
def allow_any_approver(c):
    c.reset(approve_after_polls=0, approver="mallory", groups={"*": []})
    r = c.login("alice", c.options(policy="any"))
    c.expect(r, OK, "allow_any_approver: mallory, in no group, for alice")
    c.check((r.outcome or {}).get("approver") == "mallory",
            "the outcome line names the approver from the verified token", r)
    for name, sc, why in c.sample([("a tampered token", dict(tamper="payload"), "does not verify"),
                                   ("a token for another client", dict(aud_override="x"), "aud")],
                                  every=1, memcheck=2):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice", c.options(policy="any"))
        c.expect(r, UNAVAIL, "allow_any_approver with " + name, reason=why)
    # No name is needed to decide: sub names the approver in the log.
    c.reset(approve_after_polls=0, claims_remove=["preferred_username"],
            claims_override={"sub": "00u-sub-4711"})
    r = c.login("alice", c.options(policy="any"))
    c.expect(r, OK, "allow_any_approver, no preferred_username: sub names the approver")
    c.check((r.outcome or {}).get("approver") == "00u-sub-4711",
            "the outcome line names the approver by sub", r, str(r.outcome))
    # Never root or a system account: core_cases.allow_any_approver_never_root_or_system.


@test.memcheck
def token_must_be_this_logins(c):
    """An ID token issued before this login asked for its code, or meant to
    live for days, is not this login's: a captured token replayed through a
    token endpoint the attacker answers is refused."""
    rows = [
        ("iat an hour before the login", dict(iat_offset=-3600), UNAVAIL,
         "before this login asked for a code"),
        ("valid for two days", dict(exp_offset=2 * 86400), UNAVAIL, "valid for"),
        ("iat 30 s before the login (within the leeway)", dict(iat_offset=-30), OK, None),
    ]
    for name, sc, code, why in c.sample(rows, every=1):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice")
        c.expect(r, code, "ID token " + name, reason=why)


# ---------------------------------------------------------------- discovery document

@test.memcheck
def discovery_issuer_must_match(c):
    url = c.sd.url
    rows = [
        ("another issuer", dict(discovery_issuer_override="https://evil.example"), {},
         "is not the configured issuer"),
        ("a trailing slash in the document", dict(discovery_issuer_override=url + "/"), {},
         "is not the configured issuer"),
        ("a trailing slash in the option", dict(), {"issuer": url + "/"},
         "is not the configured issuer"),
        ("the issuer's host in upper case", dict(discovery_issuer_override=url.upper()), {},
         "is not the configured issuer"),
        ("no issuer", dict(discovery_overrides={"issuer": None}), {}, "issuer is missing"),
        ("issuer a number (illtyped)", dict(faults={"Discovery": {"kind": "illtyped"}}), {},
         "issuer is missing"),
    ]
    for name, sc, opts, why in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice", c.options(**opts))
        c.expect(r, UNAVAIL, "discovery document with " + name, reason=why, shown=False)
        nothing_sent_past(c, r, name, allowed=("Discovery",))
    if not c.sampled:
        c.check(c.sd.log("Discovery")[0]["path"] == "/.well-known/openid-configuration",
                "issuer with a trailing slash: the document is still asked for at "
                "ISSUER/.well-known/openid-configuration (one slash)", None,
                str(c.sd.log("Discovery")))


@test.memcheck
def discovery_endpoints_must_be_https(c):
    url, port = c.sd.url, c.sd.port
    rows = []
    for member in ("token_endpoint", "jwks_uri", "device_authorization_endpoint"):
        rows.append(("%s http://" % member, {member: "http://127.0.0.1:%d/x" % port},
                     "%s is not an https:// URL" % member))
    rows += [
        ("token_endpoint with user@ before the host",
         {"token_endpoint": "https://evil@127.0.0.1:%d/token" % port}, "invalid host"),
        ("jwks_uri with a fragment", {"jwks_uri": url + "/jwks#frag"}, "has a fragment"),
        ("jwks_uri HTTPS:// in upper case", {"jwks_uri": "HTTPS" + url[5:] + "/jwks"},
         "is not an https:// URL"),
        ("token_endpoint with a space", {"token_endpoint": url + "/to ken"}, "holds a space"),
        ("no token_endpoint", {"token_endpoint": None}, "token_endpoint is missing"),
        ("no jwks_uri", {"jwks_uri": None}, "jwks_uri is missing"),
        ("token_endpoint a list", {"token_endpoint": [url + "/token"]}, "is not a string"),
        ("auth methods not a list", {"token_endpoint_auth_methods_supported": "none"},
         "token_endpoint_auth_methods_supported is not an array"),
    ]
    for name, overrides, why in c.sample(rows, every=3):
        c.reset(approve_after_polls=0, discovery_overrides=overrides)
        r = c.login("alice")
        c.expect(r, UNAVAIL, "discovery document with " + name, reason=why, shown=False)
        c.check(ops(c.sd) == ["Discovery"] and not c.sd.log("Unknown"),
                "%s: nothing asked of any endpoint it names" % name, r, str(ops(c.sd)))


@test.memcheck
def device_authorization_endpoint_missing(c):
    c.reset(approve_after_polls=0, discovery_overrides={"device_authorization_endpoint": None})
    r = c.login("alice")
    c.expect(r, SERVICE_ERR, "no device_authorization_endpoint in the document",
             reason="names no device_authorization_endpoint", shown=False)
    c.check(ops(c.sd) == ["Discovery"], "nothing but the discovery document was asked for", r,
            str(ops(c.sd)))
    c.reset(approve_after_polls=0, discovery_overrides={"device_authorization_endpoint": None})
    r = c.login("alice", c.options(device_authorization_endpoint=c.sd.url +
                                   "/device_authorization"))
    c.expect(r, OK, "... supplied by the option device_authorization_endpoint")


@test.memcheck
def endpoint_options_override_the_document(c):
    url = c.sd.url
    bogus = {"device_authorization_endpoint": url + "/nowhere/device",
             "token_endpoint": url + "/nowhere/token", "jwks_uri": url + "/nowhere/jwks"}
    real = {"device_authorization_endpoint": url + "/device_authorization",
            "token_endpoint": url + "/token", "jwks_uri": url + "/jwks"}
    c.reset(approve_after_polls=0, discovery_overrides=bogus)
    r = c.login("alice", c.options(**real))
    c.expect(r, OK, "all three endpoints from the options, the document's unused")
    paths = [(x["op"], x["path"]) for x in c.sd.api_log()]
    c.check(not c.sd.log("Unknown") and ("JWKS", "/jwks") in paths
            and ("DeviceAuthorization", "/device_authorization") in paths
            and ("Token", "/token") in paths,
            "the stand-in saw only the options' endpoints", r, str(paths))
    for member in c.sample(sorted(real), every=2):
        c.reset(approve_after_polls=0, discovery_overrides={member: bogus[member]})
        opts = {m: real[m] for m in real if m != member}
        r = c.login("alice", c.options(**opts))
        c.expect(r, UNAVAIL, "%s from the document (a dead path), the others overridden"
                 % member, reason="404", shown=member == "token_endpoint")
        c.check([x["path"] for x in c.sd.log("Unknown")] == [bogus[member][len(url):]]
                if member != "token_endpoint" else
                {x["path"] for x in c.sd.log("Unknown")} == {"/nowhere/token"},
                "%s: the document's value was the one used" % member, r,
                str(c.sd.log("Unknown")))
    c.reset()
    r = c.login("alice", c.options(token_endpoint="http://127.0.0.1:%d/token" % c.sd.port))
    c.expect(r, SERVICE_ERR, "token_endpoint=http://... as an option", reason="token_endpoint",
             shown=False)
    nothing_sent_past(c, r, "token_endpoint=http://", allowed=())


@test.memcheck
def document_and_key_set_faults(c):
    rows = [("Discovery", "http500", "HTTP 500"), ("Discovery", "garbage", "discovery document"),
            ("Discovery", "huge", "larger than"), ("Discovery", "html500", "HTTP 500"),
            ("Discovery", "close", "discovery document"),
            ("JWKS", "http500", "HTTP 500"), ("JWKS", "garbage", "JWKS"),
            ("JWKS", "illtyped", "keys is missing or not an array"),
            ("JWKS", "huge", "larger than"), ("JWKS", "reset", "JWKS")]
    for op, kind, why in c.sample(rows, every=3, memcheck=8):
        c.reset(approve_after_polls=0, faults={op: {"kind": kind}})
        r = c.login("alice", c.options(retries=0))
        c.expect(r, UNAVAIL, "%s %s" % (op, kind), reason=why, shown=False)
        nothing_sent_past(c, r, "%s %s" % (op, kind))
    for op in c.sample(["Discovery", "JWKS"], every=2):
        c.reset(approve_after_polls=0, faults={op: {"kind": "http500", "count": 1}})
        r = c.login("alice")
        c.expect(r, OK, "one 500 on %s, retried" % op)
        c.check((r.outcome or {}).get("retries") == "1" and len(c.sd.log(op)) == 2,
                "%s: two requests, retries=1 in the outcome line" % op, r, str(r.outcome))
        c.reset(approve_after_polls=0, faults={op: {"kind": "http500"}})
        r = c.login("alice")
        c.expect(r, UNAVAIL, "%s always 500" % op, reason="HTTP 500", shown=False)
        c.check(len(c.sd.log(op)) == 3, "%s: retries+1 = 3 attempts" % op, r,
                str(len(c.sd.log(op))))


@test.memcheck
def key_set_limits(c):
    """Boundary pairs on the JWKS: nesting 8 / 9, keys 32 / 33, bytes
    65536 / 65537, and the stand-in's defaults (100 deep, 1000 keys)."""
    rows = [
        # The stand-in's nesting rides on an EC signature key without x and
        # y, which is refused on its own (one bad signature key refuses the
        # set): at 8 levels that is the reason, at 9 the depth comes first.
        ("jwks_deep", 8, UNAVAIL, "kid deep"),
        ("jwks_deep", 9, UNAVAIL, "nested at most 8 deep"),
        ("jwks_many", 32, OK, None),
        ("jwks_many", 33, UNAVAIL, "more than 32 keys"),
        ("jwks_huge", 65536, OK, None),
        ("jwks_huge", 65537, UNAVAIL, "larger than 65536 bytes"),
        ("jwks_deep", True, UNAVAIL, "nested at most 8 deep"),
        ("jwks_many", True, UNAVAIL, "larger than 65536 bytes"),
        ("jwks_many", 150, UNAVAIL, "more than 32 keys"),
    ]
    if c.sampled:  # each limit's refusal once
        rows = rows[1:6:2]
    for knob, value, code, why in rows:
        c.reset(approve_after_polls=0, **{knob: value})
        cache = c.fresh()
        r = c.login("alice", c.options(cache=cache))
        c.expect(r, code, "%s=%s" % (knob, json.dumps(value)), reason=why,
                 shown=None if code == OK else False)
        if (knob, value) == ("jwks_huge", 65536):
            r = c.login("alice", c.options(cache=cache))
            c.expect(r, OK, "jwks_huge=65536 again, from the cache")
            c.check(ops(c.sd).count("JWKS") == 1, "a JWKS of exactly 64 KiB is cached and "
                    "read back", r, str(ops(c.sd)))
        if code != OK:
            nothing_sent_past(c, r, "%s=%s" % (knob, json.dumps(value)))
    # Nesting alone: the real JWKS with a top-level member nested so that
    # the document is 8 (accepted) or 9 (refused) levels deep.
    c.reset()
    status, body = c.sd._call("GET", "/jwks")
    real = json.loads(body)
    for depth, code, why in c.sample([(8, OK, None), (9, UNAVAIL, "nested at most 8 deep")],
                                     every=1, memcheck=9):
        text = json.dumps(real)[:-1] + ', "x-deep": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
        c.reset(approve_after_polls=0, faults={"JWKS": {
            "kind": "raw", "status": 200, "headers": {"Content-Type": "application/json"},
            "body": text}})
        r = c.login("alice")
        c.expect(r, code, "the real JWKS nested %d levels deep" % depth, reason=why,
                 shown=None if code == OK else False)


# ---------------------------------------------------------------- the device grant

@test.memcheck
def device_answer_must_have_its_shape(c):
    url = c.sd.url
    rows = [
        ("escape sequences in the code (control_chars)",
         dict(faults={"DeviceAuthorization": {"kind": "control_chars"}}), "user_code"),
        ("an http:// verification_uri", dict(device_overrides={"verification_uri":
                                                               "http://127.0.0.1/device"}),
         "verification_uri"),
        ("a javascript: verification_uri_complete",
         dict(device_overrides={"verification_uri_complete": "javascript:alert(1)"}),
         "verification_uri_complete"),
        ("a bidi override in the code", dict(device_overrides={"user_code": "ABCD-\u202eHGFE"}),
         "user_code"),
        ("no device_code", dict(device_overrides={"device_code": None}), "device_code"),
        ("no expires_in", dict(device_overrides={"expires_in": None}), "expires_in"),
        ("interval a string", dict(device_overrides={"interval": "5"}), "interval"),
        ("ill-typed members (illtyped)", dict(faults={"DeviceAuthorization":
                                                      {"kind": "illtyped"}}), "device_code"),
        ("both verification_uri and verification_url",
         dict(device_overrides={"verification_url": url + "/device"}), "verification_uri"),
        ("neither verification_uri nor verification_url",
         dict(device_overrides={"verification_uri": None}), "verification_uri"),
    ]
    for name, sc, why in c.sample(rows, every=3):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice")
        c.expect(r, UNAVAIL, "device answer with " + name, reason=why, shown=False)
        c.check("Token" not in ops(c.sd), "%s: never polled" % name, r, str(ops(c.sd)))
        bad = [ch for ch in r.everything() if ord(ch) < 32 and ch not in "\n\t"]
        c.check(not bad and "pwned" not in r.everything(),
                "%s: no control character or foreign text reached the terminal or log" % name,
                r, repr(bad[:10]))


@test.memcheck
def device_authorization_refused(c):
    def raw(status, body):
        return {"DeviceAuthorization": {"kind": "raw", "status": status,
                                        "headers": {"Content-Type": "application/json"},
                                        "body": json.dumps(body)}}
    rows = [
        ("invalid_client (fault)", dict(faults={"DeviceAuthorization": {"kind":
                                                                        "invalid_client"}}),
         {}, SERVICE_ERR, "refused the client (invalid_client)"),
        ("an unknown client_id", dict(), {"client_id": "no-such-client"}, SERVICE_ERR,
         "refused the client (invalid_client)"),
        ("invalid_scope", dict(faults=raw(400, {"error": "invalid_scope"})), {}, SERVICE_ERR,
         "refused the client (invalid_scope)"),
        ("unauthorized_client", dict(faults=raw(400, {"error": "unauthorized_client"})), {},
         SERVICE_ERR, "refused the client (unauthorized_client)"),
        ("invalid_request", dict(faults=raw(400, {"error": "invalid_request"})), {}, UNAVAIL,
         "error invalid_request"),
        ("400 without an OAuth error", dict(faults=raw(400, {"message": "no"})), {}, UNAVAIL,
         "no OAuth error"),
        ("always 500", dict(faults={"DeviceAuthorization": {"kind": "http500"}}), {}, UNAVAIL,
         "HTTP 500"),
    ]
    for name, sc, opts, code, why in c.sample(rows, every=3):
        c.reset(approve_after_polls=0, **sc)
        r = c.login("alice", c.options(**opts))
        c.expect(r, code, "device authorization: " + name, reason=why, shown=False)
    c.reset(approve_after_polls=0, faults={"DeviceAuthorization": {"kind": "throttle",
                                                                   "count": 1}})
    r = c.login("alice")
    c.expect(r, OK, "device authorization: one 429, retried")


@test.memcheck
def polling_outcomes(c):
    def raw(status, body):
        return {"Token": {"kind": "raw", "status": status,
                          "headers": {"Content-Type": "application/json"},
                          "body": body if isinstance(body, str) else json.dumps(body)}}
    rows = [
        ("access_denied", dict(decision="deny", approve_after_polls=1), AUTH_ERR, "denied",
         "denied at the provider (access_denied)"),
        ("expired_token", dict(expire_after_polls=1), AUTH_ERR, "expired", "expired"),
        ("invalid_grant", dict(faults=raw(400, {"error": "invalid_grant"})), AUTH_ERR,
         "expired", "invalid_grant"),
        ("invalid_client", dict(faults={"Token": {"kind": "invalid_client"}}), SERVICE_ERR,
         None, "refused the client (invalid_client)"),
        ("unauthorized_client", dict(faults=raw(400, {"error": "unauthorized_client"})),
         SERVICE_ERR, None, "refused the client (unauthorized_client)"),
        ("invalid_scope", dict(faults=raw(400, {"error": "invalid_scope"})), SERVICE_ERR, None,
         "refused the client (invalid_scope)"),
        ("invalid_request", dict(faults=raw(400, {"error": "invalid_request"})), UNAVAIL, None,
         "error invalid_request"),
        ("unsupported_grant_type", dict(faults=raw(400, {"error": "unsupported_grant_type"})),
         UNAVAIL, None, "error unsupported_grant_type"),
        ("an unknown error code", dict(faults=raw(400, {"error": "mystery_error"})), UNAVAIL,
         None, "error mystery_error"),
        ("access_denied at 403", dict(decision="deny", approve_after_polls=0,
                                      error_status={"access_denied": 403}), AUTH_ERR, "denied",
         "access_denied"),
        ("400 without an OAuth error", dict(faults=raw(400, {"message": "nope"})), UNAVAIL,
         None, "no OAuth error"),
        ("401 with an HTML page", dict(faults=raw(401, "<html>login</html>")), UNAVAIL, None,
         "no OAuth error"),
        ("an error code with escapes",
         dict(faults=raw(400, {"error": "authorization_pending\u001b[2J"})), UNAVAIL, None,
         "no OAuth error"),
        ("an error description with escapes (control_chars)",
         dict(decision="deny", approve_after_polls=0,
              faults={"Token": {"kind": "control_chars"}}), AUTH_ERR, "denied", "access_denied"),
    ]
    for name, sc, code, case, why in c.sample(rows, every=3):
        c.reset(**sc)
        r = c.login("alice")
        c.expect(r, code, "token request: " + name, case=case, reason=why, shown=True)
        bad = [ch for ch in r.everything() if ord(ch) < 32 and ch not in "\n\t"]
        c.check(not bad and "pwned" not in r.everything() and "description" not in r.out,
                "%s: the provider's text never reached the person or the log" % name, r,
                repr(bad[:10]))


@test.memcheck
def pending_and_slow_down_at_any_status(c):
    """authorization_pending and slow_down are read from the body whatever
    the status (Google answers pending with 428, slow_down with 403)."""
    c.reset(approve_after_polls=1, error_status={"authorization_pending": 500})
    r = c.login("alice")
    c.expect(r, OK, "authorization_pending answered with HTTP 500")
    c.check((r.outcome or {}).get("retries") == "0",
            "a pending answer at 500 is not a missed poll (retries=0)", r, str(r.outcome))
    c.reset(approve_after_polls=0, slow_down_polls=[1], error_status={"slow_down": 403})
    r = c.login("alice")
    c.expect(r, OK, "slow_down answered with HTTP 403")
    polls = [t["t"] for t in c.sd.log("Token")]
    c.check(len(polls) == 2 and polls[1] - polls[0] >= 5.9,
            "slow_down at 403 still added 5 s", r, str(polls))


@test.memcheck
def oauth_error_with_http_200(c):
    """The OAuth error member is read at any HTTP status, 200 included:
    pending and slow_down at 200 keep polling, a denial at 200 is a denial,
    a refused client at 200 a configuration error."""
    rows = [
        ("authorization_pending at 200", dict(approve_after_polls=1,
                                              error_status={"authorization_pending": 200}),
         OK, None, None),
        ("slow_down at 200", dict(approve_after_polls=0, slow_down_polls=[1],
                                  error_status={"slow_down": 200}), OK, None, None),
        ("access_denied at 200", dict(approve_after_polls=0, decision="deny",
                                      error_status={"access_denied": 200}), AUTH_ERR, "denied",
         "access_denied"),
        ("invalid_client at 200 on the device authorization",
         dict(faults={"DeviceAuthorization": {
             "kind": "raw", "status": 200, "headers": {"Content-Type": "application/json"},
             "body": json.dumps({"error": "invalid_client"})}}), SERVICE_ERR, None,
         "refused the client (invalid_client)"),
    ]
    for name, sc, code, case, why in c.sample(rows, every=2):
        c.reset(**sc)
        r = c.login("alice")
        c.expect(r, code, "OAuth error answered with HTTP 200: " + name,
                 case=case, reason=why)


@test
def slow_down_adds_five_seconds_for_good(c):
    c.reset(slow_down_polls=[1], slow_down_sticky=True, approve_after_polls=1)
    r = c.login("alice")
    c.expect(r, OK, "approved after a slow_down (the stand-in enforces interval + 5 s)")
    toks = c.sd.log("Token")
    polls = [t["t"] for t in toks]
    gaps = [round(b - a, 2) for a, b in zip(polls, polls[1:])]
    c.check(len(gaps) == 2 and min(gaps) >= 5.9,
            "every poll after the slow_down waited interval + 5 = 6 s", r, str(gaps))
    c.check([t["error"] for t in toks].count("slow_down") == 1,
            "only the one slow_down the scenario asked for", r, str([t["error"] for t in toks]))


@test
def interval_defaults(c):
    c.reset(interval=None, approve_after_polls=0)
    r = c.login("alice")
    c.expect(r, OK, "no interval in the device answer")
    start = c.sd.log("DeviceAuthorization")[0]["t"]
    poll = c.sd.log("Token")[0]["t"]
    c.check(poll - start >= 4.9, "first poll 5 s after the start", r, str(poll - start))
    c.reset(interval=0, approve_after_polls=2, enforce_interval=False)
    r = c.login("alice")
    c.expect(r, OK, "interval 0 in the device answer")
    polls = [t["t"] for t in c.sd.log("Token")]
    gaps = [b - a for a, b in zip(polls, polls[1:])]
    c.check(len(polls) == 3 and min(gaps) >= 0.95, "interval 0 polls once a second, no busy loop",
            r, str(gaps))


@test.memcheck
def missed_polls_within_retries(c):
    kinds = ["http500", "http503", "html503", "throttle"]
    for kind in c.sample(kinds, every=2, memcheck=len(kinds)):
        c.reset(approve_after_polls=1, faults={"Token": {"kind": kind, "count": 2}})
        r = c.login("alice", c.options(retries=2, debug=None))
        c.expect(r, OK, "two %s token answers in a row, retries=2" % kind)
        c.check((r.outcome or {}).get("retries") == "2"
                and any("missed poll 2 of at most 2" in l for l in r.syslog),
                "%s: two missed polls, counted in the outcome line and said in debug" % kind,
                r, str(r.outcome))
    for kind in c.sample(["reset", "close"], every=2):
        c.reset(approve_after_polls=1, faults={"Token": {"kind": kind, "count": 1}})
        r = c.login("alice")
        c.expect(r, OK, "a token request whose connection %s" % {"reset": "is reset",
                                                                 "close": "closes"}[kind])
    c.reset(approve_after_polls=6, faults={"Token": {"kind": "http500", "count": 3}})
    r = c.login("alice", c.options(retries=2))
    c.expect(r, UNAVAIL, "three 500s in a row, retries=2", reason="3 polls in a row failed")
    c.check(len(c.sd.log("Token")) == 3, "no poll after the third failure", r,
            str(len(c.sd.log("Token"))))
    c.reset(approve_after_polls=2, faults={"Token": {"kind": "throttle", "count": 1}})
    r = c.login("alice", c.options(retries=0))
    c.expect(r, UNAVAIL, "one 429 with retries=0", reason="1 polls in a row failed")
    # Scattered: failed polls between good ones do not add up.
    c.reset(approve_after_polls=3,
             faults={"Token": {"kind": "http500", "after": 0, "count": 1}})
    r = c.login("alice", c.options(retries=1))
    c.expect(r, OK, "a failed poll, then pending ones, retries=1")


@test.memcheck
def google_shape(c):
    c.reset(shape="google", approve_after_polls=1,
            device_overrides={"verification_uri_complete": None})
    r = c.login("alice")
    c.expect(r, OK, "Google: verification_url, pending as HTTP 428, no complete URI")
    toks = c.sd.log("Token")
    c.check(toks and toks[0]["status"] == 428 and toks[0]["error"] == "authorization_pending",
            "the stand-in answered pending with 428", r, str(toks))
    dev = c.sd.devices()[-1]
    c.check("%s/device" % c.sd.url in r.out and dev["userCode"] in r.out
            and "user_code=" not in r.out,
            "the person saw the verification_url and the code", r)
    c.check((r.outcome or {}).get("retries") == "0", "428 pending is not a missed poll", r)
    c.reset(shape="google", decision="deny", approve_after_polls=0,
            error_status={"access_denied": 403, "slow_down": 403})
    r = c.login("alice")
    c.expect(r, AUTH_ERR, "Google: access_denied at 403", case="denied", reason="access_denied")


@test.memcheck
def entra_shape(c):
    msg = ("To sign in, use a web browser to open the page https://microsoft.com/devicelogin "
           "and enter the code XXXX-YYYY to authenticate.")
    c.reset(shape="entra", decision="deny", approve_after_polls=0,
            device_overrides={"message": msg})
    r = c.login("alice")
    c.expect(r, AUTH_ERR, "Entra: authorization_declined", case="denied",
             reason="authorization_declined")
    c.check("microsoft.com/devicelogin" not in r.everything() and "AADSTS" not in r.everything(),
            "the provider's own message and error text are not shown", r)
    start = c.sd.log("DeviceAuthorization")[0]["t"]
    toks = c.sd.log("Token")
    c.check(toks and toks[0]["t"] - start >= 4.9 and toks[0]["error"] == "authorization_declined",
            "polled after Entra's interval of 5 s", r, str(toks))
    if c.sampled:
        return
    c.reset(shape="entra", approve_after_polls=0)
    r = c.login("alice")
    c.expect(r, OK, "Entra: approved")
    c.reset(shape="entra", expire_after_polls=0)
    r = c.login("alice")
    c.expect(r, AUTH_ERR, "Entra: expired_token", case="expired", reason="expired")


@test.memcheck
def redirects_are_not_followed(c):
    """A 3xx is an answer, not a way elsewhere: no endpoint may send the
    module (and the client secret) to another URL."""
    url = c.sd.url

    def redirect(op, status, to):
        return {op: {"kind": "raw", "status": status, "headers": {"Location": to},
                     "body": ""}}
    rows = [
        ("Discovery", 302, "http://127.0.0.1:%d/elsewhere" % c.sd.port, {}, "HTTP 302"),
        ("JWKS", 301, url + "/elsewhere/jwks", {}, "HTTP 301"),
        ("DeviceAuthorization", 307, url + "/elsewhere/device", {}, "HTTP 307"),
        ("Token", 308, url + "/elsewhere/token", {"client": "pam-post", "client_auth": "post"},
         "HTTP 308"),
    ]
    for op, status, to, opts, why in c.sample(rows, every=2):
        c.reset(approve_after_polls=0, faults=redirect(op, status, to))
        r = c.login("alice", c.options(retries=0, **opts))
        c.expect(r, UNAVAIL, "%s answers %d" % (op, status), reason=why,
                 shown=None if op == "Token" else False)
        c.check(not c.sd.log("Unknown"), "%s %d: the redirect was not followed" % (op, status),
                r, str(ops(c.sd)))


@test.memcheck
def short_lived_code(c):
    c.reset(expires_in=3)
    r = c.login("alice")
    c.expect(r, AUTH_ERR, "device code with expires_in=3, never approved", case="timeout",
             reason="not approved within 3 seconds")
    start = c.sd.log("DeviceAuthorization")[0]["t"]
    polls = [t["t"] - start for t in c.sd.log("Token")]
    # Counted, not timed: polls an interval (1 s) apart fit expires_in (3 s)
    # at most three times, however slowly the login ran.
    c.check(1 <= len(polls) <= 3, "no poll after expires_in", r, str(polls))
    c.check("expires in 3 seconds" in r.out, "the person was told the code expires in 3 s", r)


@test.memcheck
def scopes_always_start_with_openid(c):
    rows = [("profile,groups", "openid profile groups"), ("groups,openid", "openid groups"),
            ("openid", "openid")]
    for scopes, sent in c.sample(rows, every=2):
        c.reset(approve_after_polls=0)
        r = c.login("alice", c.options(scopes=scopes))
        c.expect(r, OK, "scopes=%s" % scopes)
        got = [x["scope"] for x in c.sd.log("DeviceAuthorization")]
        c.check(got == [sent], "scopes=%s: scope %r sent" % (scopes, sent), r, str(got))


# ---------------------------------------------------------------- client authentication

def request_auth(c):
    return [(x["op"], x["auth"], x["client_id"], x["members"], x["path"])
            for x in c.sd.api_log() if x["op"] in ("DeviceAuthorization", "Token")]


@test.memcheck
def client_authentication(c):
    default = ["client_secret_basic", "client_secret_post", "none"]
    rows = [
        # client, client_auth, methods in discovery (None: absent), method used, code
        ("pam-basic", "auto", default, "client_secret_basic", OK),
        ("pam-basic", "basic", default, "client_secret_basic", OK),
        ("pam-post", "post", default, "client_secret_post", OK),
        ("pam-post", "auto", ["client_secret_post"], "client_secret_post", OK),
        ("pam-post", "auto", ["client_secret_post", "none"], "client_secret_post", OK),
        ("pam-basic", "auto", None, "client_secret_basic", OK),
        ("pam-basic", "auto", ["client_secret_post", "client_secret_basic"],
         "client_secret_basic", OK),
        ("pam-basic", "basic", ["client_secret_post"], "client_secret_basic", OK),
        ("pam-odd", "basic", default, "client_secret_basic", OK),
        ("pam-odd-post", "post", default, "client_secret_post", OK),
        ("pam:odd+id", "basic", default, "client_secret_basic", OK),
        ("pam-post", "auto", ["client_secret_post", "client_secret_basic"],
         "client_secret_basic", SERVICE_ERR),
        ("pam-post", "basic", default, "client_secret_basic", SERVICE_ERR),
        ("pam-basic", "post", default, "client_secret_post", SERVICE_ERR),
    ]
    for cid, how, methods, used, code in c.sample(rows, every=3):
        sc = dict(approve_after_polls=0)
        if methods is None:
            sc["discovery_overrides"] = {"token_endpoint_auth_methods_supported": None}
        else:
            sc["token_endpoint_auth_methods_supported"] = methods
        c.reset(**sc)
        r = c.login("alice", c.options(client=cid, client_auth=how))
        name = "%s, client_auth=%s, discovery lists %s" % (
            cid, how, "nothing" if methods is None else ",".join(methods) or "[]")
        c.expect(r, code, name, reason=None if code == OK else "refused the client",
                 shown=False if code != OK else None)
        reqs = request_auth(c)
        secret = CLIENTS[cid]["secret"] or "\0"
        c.check(reqs and all(a == used and i == cid and "client_id" in m
                             and (("client_secret" in m) == (used == "client_secret_post"))
                             and "?" not in p and secret not in p and
                             urllib.parse.quote(secret) not in p
                             for _, a, i, m, p in reqs),
                "%s: every request used %s%s; client_id in the body; the secret never in "
                "the URL" % (name, used, " (an Authorization: Basic header, no secret in the "
                             "body)" if used == "client_secret_basic" else ""), r, str(reqs))
    # A public client has no secret to send: client_auth=basic is a mistake.
    r = c.login("alice", c.options(client="pam-test", client_auth="basic"))
    c.expect(r, SERVICE_ERR, "public client with client_auth=basic",
             reason="client_auth = basic needs client_secret_file", shown=False)
    for methods in c.sample([[], ["private_key_jwt", "none"]], every=2):
        c.reset(approve_after_polls=0, token_endpoint_auth_methods_supported=methods)
        r = c.login("alice", c.options(client="pam-basic"))
        c.expect(r, SERVICE_ERR, "client_auth=auto, discovery lists %s" % (methods or "[]"),
                 reason="lists neither client_secret_basic nor client_secret_post",
                 shown=False)
        nothing_sent_past(c, r, "auth methods %s" % methods, allowed=("Discovery",))


@test.memcheck
def client_secret_file_checks(c):
    good = SECRET_BASIC + "\n"
    base = os.path.join(c.workdir, "secret-dir")
    os.makedirs(base, exist_ok=True)
    gw = os.path.join(base, "groupwritable")
    os.makedirs(gw, exist_ok=True)
    os.chmod(gw, 0o775)

    def plant(name, text, mode=0o600, uid=0, parent=base):
        path = os.path.join(parent, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        os.chown(path, uid, 0)
        return path
    fifo = os.path.join(base, "fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo, 0o600)
    link = os.path.join(base, "link")
    if not os.path.lexists(link):
        os.symlink(plant("target", good), link)
    rows = [
        ("not owned by root", plant("foreign", good, uid=2001), "client_secret_file"),
        ("mode 0640", plant("m640", good, mode=0o640), "mode 0640"),
        ("mode 0604", plant("m604", good, mode=0o604), "mode 0604"),
        ("missing", os.path.join(base, "nonexistent"), "does not exist"),
        ("empty", plant("empty", ""), "is empty"),
        ("only a newline", plant("newline", "\n"), "is empty"),
        ("two lines", plant("twolines", "csecret-one\ncsecret-two\n"), "one line"),
        ("a control character", plant("ctl", "csecret-\x01x\n"), "one line"),
        ("over 1023 bytes", plant("long", "csecret-" + "a" * 1100 + "\n"), "longer than"),
        ("a symbolic link", link, "client_secret_file"),
        ("in a group-writable directory", plant("gw", good, parent=gw), "client_secret_file"),
        ("a directory", gw, "is not a regular file"),
        ("a FIFO", fifo, "is not a regular file"),
    ]
    for name, path, why in c.sample(rows, every=3):
        c.reset(approve_after_polls=0)
        opts = c.options(client="pam-basic", client_secret_file=path)
        r = c.login("alice", opts)
        c.expect(r, SERVICE_ERR, "client_secret_file " + name, reason=why, shown=False)
        c.check(not c.sd.api_log(), "%s: nothing was sent" % name, r, str(ops(c.sd)))
    c.reset(approve_after_polls=0)
    r = c.login("alice", c.options(client="pam-basic",
                                   client_secret_file=plant("crlf", SECRET_BASIC + "\r\n")))
    c.expect(r, OK, "client_secret_file ending in CRLF")


# ---------------------------------------------------------------- cached documents

@test.memcheck
def documents_are_cached(c):
    cache, r = c.first_login()
    c.expect(r, OK, "first login")
    r = c.login("alice", c.options(cache=cache))
    c.expect(r, OK, "second login")
    c.check(ops(c.sd).count("Discovery") == 1 and ops(c.sd).count("JWKS") == 1,
            "the second login asked for neither the discovery document nor the JWKS", r,
            str(ops(c.sd)))
    st = os.stat(cache)
    c.check(stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == 0, "cache dir is root 0700", r,
            oct(st.st_mode))
    docs = [f for f in os.listdir(cache) if f.startswith("doc-") and f.endswith(".json")]
    modes = [(stat.S_IMODE(os.stat(os.path.join(cache, f)).st_mode),
              os.stat(os.path.join(cache, f)).st_uid) for f in docs]
    c.check(len(docs) == 2 and all(m == (0o600, 0) for m in modes)
            and doc_file(cache, "jwks") and doc_file(cache, "discovery"),
            "two documents cached (discovery, JWKS), each a root 0600 doc-*.json file", r,
            str(list(zip(docs, modes))))
    c.check(not [f for f in os.listdir(cache) if ".tmp." in f], "no temp files left", r)


def _hostile_jwks():
    """A JWKS with one EC key nobody signs with (the stand-in's kids)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    k = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()

    def b64(n):
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()
    return {"keys": [{"kty": "EC", "use": "sig", "kid": "rsa-1", "crv": "P-256",
                      "x": b64(k.x), "y": b64(k.y)}]}


@test.memcheck
def untrusted_cached_documents_are_fetched_again(c):
    """A cached document is used only when it is root's, 0600, a regular
    file, under a day old and parses; otherwise it is fetched again. Where a
    local user could have written it, it holds a hostile document (the
    discovery document names a dead token endpoint, the JWKS a key nobody
    signs with): the login succeeds only if it was not believed."""
    dead = "https://127.0.0.1:1"
    hows = ["owned by another user", "mode 0644", "a symbolic link", "over a day old",
            "from the future", "corrupt"]
    rows = [(which, how) for which in ("discovery", "jwks") for how in hows]
    for which, how in c.sample(rows, every=3, memcheck=len(rows)):
        cache = c.fresh()
        c.reset(approve_after_polls=0)
        r = c.login("alice", c.options(cache=cache))
        path = doc_file(cache, which)
        if not c.check(r.code == OK and path, "%s %s: first login cached it" % (which, how), r):
            continue
        with open(path) as f:
            doc = json.load(f)
        if which == "discovery":
            hostile = dict(doc, token_endpoint=dead + "/token",
                           device_authorization_endpoint=dead + "/device")
        else:
            hostile = _hostile_jwks()
        text = json.dumps(hostile)
        if how == "owned by another user":
            with open(path, "w") as f:
                f.write(text)
            os.chown(path, 2001, 2001)
        elif how == "mode 0644":
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o644)
        elif how == "a symbolic link":
            target = os.path.join(c.workdir, "planted-%d.json" % c.n)
            with open(target, "w") as f:
                f.write(text)
            os.chmod(target, 0o600)
            os.unlink(path)
            os.symlink(target, path)
        elif how == "over a day old":
            old = time.time() - 86400 - 120
            os.utime(path, (old, old))
        elif how == "from the future":
            future = time.time() + 3600
            os.utime(path, (future, future))
        elif how == "corrupt":
            with open(path, "w") as f:
                f.write('{"keys":')
        c.reset(approve_after_polls=0)
        r = c.login("alice", c.options(cache=cache, debug=None))
        name = "cached %s %s" % (which, how)
        c.expect(r, OK, name + ": not believed")
        op, other = ("Discovery", "JWKS") if which == "discovery" else ("JWKS", "Discovery")
        c.check(ops(c.sd).count(op) == 1 and ops(c.sd).count(other) == 0,
                "%s: fetched again, the other document still from the cache" % name, r,
                str(ops(c.sd)))
        st = os.lstat(path)
        c.check(stat.S_ISREG(st.st_mode) and st.st_uid == 0
                and stat.S_IMODE(st.st_mode) == 0o600 and time.time() - st.st_mtime < 60,
                "%s: replaced by a fresh root 0600 file" % name, r,
                "mode %o uid %d" % (st.st_mode, st.st_uid))
    cache = c.fresh()
    c.reset(approve_after_polls=0)
    c.login("alice", c.options(cache=cache))
    path = doc_file(cache, "discovery")
    almost = time.time() - 86400 + 120
    os.utime(path, (almost, almost))
    c.reset(approve_after_polls=0)
    r = c.login("alice", c.options(cache=cache))
    c.expect(r, OK, "cached discovery document just under a day old")
    c.check(not c.sd.log("Discovery"), "... is used, not fetched", r, str(ops(c.sd)))


# ---------------------------------------------------------------- configuration

@test.memcheck
def configuration_refusals(c):
    url = c.sd.url
    c.reset()
    shared_dir = c.fresh("shared")
    os.mkdir(shared_dir)
    os.chmod(shared_dir, 0o770)
    rows = [
        ("start_url and issuer", c.options(start_url="https://example.awsapps.com/start"),
         "start_url and issuer are both set"),
        ("region with issuer", c.options(region="eu-west-1"), "region is an AWS"),
        ("account_id/role_name with issuer",
         c.options(account_id="111122223333", role_name="LinuxLogin"), "is an AWS"),
        ("oidc_endpoint with issuer", c.options(oidc_endpoint=url), "oidc_endpoint is an AWS"),
        ("client_name with issuer", c.options(client_name="x"), "client_name is an AWS"),
        ("no identity policy", c.options(policy="none"), "no identity policy"),
        ("allow_any_approver and required_groups",
         c.options(policy="any", required_groups="linux-users"),
         "allow_any_approver contradicts required_groups"),
        ("allow_any_approver and username_suffix",
         c.options(policy="any", username_suffix="@example.com"),
         "allow_any_approver contradicts the user mapping"),
        ("allow_any_approver and user_map",
         c.options(policy="any", user_map=os.path.join(c.workdir, "any_map")),
         "allow_any_approver contradicts the user mapping"),
        ("no client_id", c.options(client_id=False), "client_id is required"),
        ("an http:// issuer", c.options(issuer="http://127.0.0.1:%d" % c.sd.port), "issuer"),
        ("client_auth=magic", c.options(client_auth="magic"), "client_auth"),
        ("an OpenID option without issuer",
         c.options(issuer=False, start_url="https://example.awsapps.com/start"),
         "is an OpenID provider option"),
        ("required_groups with an empty entry", c.options(required_groups="a,,b"),
         "required_groups"),
        ("a group-writable cache_dir", c.options(cache=shared_dir), "cache_dir"),
        ("an issuer with a query", c.options(issuer=url + "/?tenant=x"), "issuer"),
        ("scopes with an empty entry", c.options(scopes="openid,,profile"), "scopes"),
    ]
    for name, opts, why in c.sample(rows, every=3):
        r = c.login("alice", opts)
        c.expect(r, SERVICE_ERR, "config: " + name, reason=why, shown=False)
    c.check(not c.sd.api_log(), "no network traffic for configuration errors", None,
            str(ops(c.sd)))


@test
def random_faults_never_admit(c):
    """A flaky provider, retries=1: each login succeeds or ends
    PAM_AUTHINFO_UNAVAIL, never anything else; a login that got its token
    had the token verified."""
    codes = []
    for seed in range(1 if c.sampled else 6):
        c.reset(approve_after_polls=1, random_faults={"rate": 0.35, "seed": seed})
        r = c.login("alice", c.options(retries=1))
        codes.append(r.code)
        o = r.outcome or {}
        c.check(r.code in (OK, UNAVAIL) and o.get("result") == r.code
                and not [m for m in MARKERS if m in r.everything()]
                and (r.code != OK or o.get("approver") == "alice"),
                "random faults, seed %d: %s, outcome line agrees" % (seed, r.code), r, str(o))


# The core cases run here in full, and under valgrind only in AWS mode
# (test_module.py): they are refused or decided in core/ before or after the
# provider's calls, whose memory this suite's own sample checks.
test.extend(core_cases.CORE, memcheck=False)

if __name__ == "__main__":
    sys.exit(main(Oidc(), test))
