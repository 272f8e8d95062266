"""A small, strict OpenID Connect device-flow client for the tests: discovery,
RFC 8628 device authorization and token polling, and ID token verification
with python3-cryptography. Independent of the module under test, so that a
test can tell "the provider did this" from "the module did this".

Nothing here follows redirects or guesses: every response is returned or
raised as it came.
"""
import base64
import http.cookiejar
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class OidcError(Exception):
    pass


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body, url):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise OidcError("%s: not JSON (HTTP %d): %r" % (self.url, self.status, self.body[:300])) from e

    def location(self):
        loc = self.headers.get("Location")
        return urllib.parse.urljoin(self.url, loc) if loc else None

    def __repr__(self):
        return "<HTTP %d %s %r>" % (self.status, self.url, self.body[:200])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Http:
    """One user agent: a cookie jar, a CA, no automatic redirects."""

    def __init__(self, ca, timeout=15):
        self.ctx = ssl.create_default_context(cafile=ca)
        self.jar = http.cookiejar.CookieJar()
        self.timeout = timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self.ctx),
            urllib.request.HTTPCookieProcessor(self.jar),
            _NoRedirect())

    def request(self, method, url, form=None, body=None, headers=None, basic=None):
        h = {"Accept": "application/json, text/html;q=0.9"}
        h.update(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if basic is not None:
            user, pw = basic
            # RFC 6749 2.3.1: form-urlencode each part before Basic encoding.
            cred = "%s:%s" % (urllib.parse.quote(user, safe=""), urllib.parse.quote(pw, safe=""))
            h["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        req = urllib.request.Request(url, data=data, method=method, headers=h)
        try:
            with self.opener.open(req, timeout=self.timeout) as r:
                return Response(r.status, r.headers, r.read(), url)
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read(), url)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def follow(self, resp, limit=10):
        """Follow 30x answers with GET, as a browser would; return the last."""
        for _ in range(limit):
            if resp.status not in (301, 302, 303, 307, 308):
                return resp
            resp = self.get(resp.location())
        raise OidcError("too many redirects from " + resp.url)


# --------------------------------------------------------------------------
# Discovery, device authorization, polling
# --------------------------------------------------------------------------

def discover(http, issuer):
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    r = http.get(url)
    if r.status != 200:
        raise OidcError("discovery: HTTP %d from %s" % (r.status, url))
    doc = r.json()
    if doc.get("issuer") != issuer:
        raise OidcError("discovery: issuer %r is not %r" % (doc.get("issuer"), issuer))
    return doc


def _client_auth(client, form):
    """Return (form, basic) for the client's token_endpoint_auth_method."""
    form = dict(form)
    basic = None
    if client.auth_method == "client_secret_basic":
        basic = (client.client_id, client.client_secret)
    elif client.auth_method == "client_secret_post":
        form["client_id"] = client.client_id
        form["client_secret"] = client.client_secret
    elif client.auth_method == "none":
        form["client_id"] = client.client_id
    else:
        raise OidcError("unsupported auth method " + client.auth_method)
    return form, basic


def device_authorize(http, disco, client, scope="openid profile groups"):
    form, basic = _client_auth(client, {"scope": scope})
    r = http.post(disco["device_authorization_endpoint"], form=form, basic=basic)
    if r.status != 200:
        raise OidcError("device authorization: HTTP %d %s" % (r.status, r.text[:300]))
    return r.json()


def token_request(http, disco, client, device_code):
    """One poll. Returns the Response; the caller reads .json()."""
    form, basic = _client_auth(client, {"grant_type": DEVICE_GRANT, "device_code": device_code})
    return http.post(disco["token_endpoint"], form=form, basic=basic)


class PollResult:
    def __init__(self):
        self.polls = []        # [(seconds since start, HTTP status, error or "tokens")]
        self.tokens = None
        self.error = None
        self.status = None
        self.interval = None

    def __repr__(self):
        return "<PollResult error=%r polls=%r>" % (self.error, self.polls)


def poll(http, disco, client, dev, default_interval=5, first_wait=0.0, max_seconds=None,
         sleep=time.sleep):
    """Poll the token endpoint as RFC 8628 3.5 says: wait `interval` (default
    5) between requests, add 5 s on slow_down, stop on anything but
    authorization_pending / slow_down, and never poll past expires_in.
    The first request goes out after first_wait seconds."""
    res = PollResult()
    interval = dev.get("interval", default_interval)
    if not isinstance(interval, int) or interval < 0:
        raise OidcError("bad interval %r" % (interval,))
    t0 = time.monotonic()
    deadline = t0 + dev["expires_in"]
    if max_seconds is not None:
        deadline = min(deadline, t0 + max_seconds)
    wait = first_wait
    while True:
        if time.monotonic() + wait > deadline:
            res.error = "client_timeout"
            break
        if wait:
            sleep(wait)
        r = token_request(http, disco, client, dev["device_code"])
        doc = r.json()
        res.status = r.status
        if r.status == 200 and "error" not in doc:
            res.polls.append((round(time.monotonic() - t0, 2), r.status, "tokens"))
            res.tokens = doc
            break
        err = doc.get("error")
        res.polls.append((round(time.monotonic() - t0, 2), r.status, err))
        if err == "authorization_pending":
            pass
        elif err == "slow_down":
            interval += 5
        else:
            res.error = err or "HTTP %d" % r.status
            break
        wait = interval
    res.interval = interval
    return res


# --------------------------------------------------------------------------
# JWT verification
# --------------------------------------------------------------------------

def b64url_decode(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def jwt_parts(token):
    parts = token.split(".")
    if len(parts) != 3:
        raise OidcError("JWT must have 3 parts, has %d" % len(parts))
    header = json.loads(b64url_decode(parts[0]))
    payload = json.loads(b64url_decode(parts[1]))
    return header, payload, (parts[0] + "." + parts[1]).encode(), b64url_decode(parts[2])


def _int_b64(s):
    return int.from_bytes(b64url_decode(s), "big")


def public_key(jwk):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    if jwk.get("kty") == "RSA":
        return rsa.RSAPublicNumbers(_int_b64(jwk["e"]), _int_b64(jwk["n"])).public_key()
    if jwk.get("kty") == "EC":
        curves = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
        if jwk.get("crv") not in curves:
            raise OidcError("unsupported curve %r" % jwk.get("crv"))
        return ec.EllipticCurvePublicNumbers(_int_b64(jwk["x"]), _int_b64(jwk["y"]),
                                             curves[jwk["crv"]]).public_key()
    raise OidcError("unsupported kty %r" % jwk.get("kty"))


def verify_signature(alg, jwk, signing_input, sig):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    key = public_key(jwk)
    try:
        if alg == "RS256":
            if jwk["kty"] != "RSA":
                raise OidcError("RS256 with a %s key" % jwk["kty"])
            key.verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "PS256":
            if jwk["kty"] != "RSA":
                raise OidcError("PS256 with a %s key" % jwk["kty"])
            key.verify(sig, signing_input, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                       salt_length=32), hashes.SHA256())
        elif alg == "ES256":
            if jwk["kty"] != "EC" or jwk.get("crv") != "P-256":
                raise OidcError("ES256 with a %s/%s key" % (jwk["kty"], jwk.get("crv")))
            if len(sig) != 64:
                raise OidcError("ES256 signature of %d bytes (want 64, r||s)" % len(sig))
            der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                             int.from_bytes(sig[32:], "big"))
            key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            raise OidcError("algorithm %r not allowed" % alg)
    except InvalidSignature as e:
        raise OidcError("bad %s signature" % alg) from e


def verify_id_token(token, jwks, issuer, client_id, algs=("RS256", "PS256", "ES256"),
                    leeway=60, now=None):
    """Verify an ID token as issue 12 asks of the module; return (header, claims)."""
    header, claims, signing_input, sig = jwt_parts(token)
    alg = header.get("alg")
    if alg not in algs:
        raise OidcError("alg %r not in %r" % (alg, algs))
    kid = header.get("kid")
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    if len(keys) != 1:
        raise OidcError("kid %r matches %d keys in the JWKS" % (kid, len(keys)))
    verify_signature(alg, keys[0], signing_input, sig)
    if claims.get("iss") != issuer:
        raise OidcError("iss %r is not %r" % (claims.get("iss"), issuer))
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    if client_id not in auds:
        raise OidcError("aud %r lacks %r" % (aud, client_id))
    if len(auds) > 1 and claims.get("azp") != client_id:
        raise OidcError("several audiences and azp %r" % claims.get("azp"))
    now = time.time() if now is None else now
    for name in ("exp", "iat"):
        if not isinstance(claims.get(name), int):
            raise OidcError("%s missing or not an integer: %r" % (name, claims.get(name)))
    if claims["exp"] + leeway < now:
        raise OidcError("expired %d s ago" % (now - claims["exp"]))
    if claims["iat"] - leeway > now:
        raise OidcError("iat %d s in the future" % (claims["iat"] - now))
    if "nbf" in claims and claims["nbf"] - leeway > now:
        raise OidcError("nbf in the future")
    return header, claims


def fetch_jwks(http, disco):
    r = http.get(disco["jwks_uri"])
    if r.status != 200:
        raise OidcError("jwks: HTTP %d" % r.status)
    return r.json()
