#!/usr/bin/python3
"""Local test stand-in for AWS IAM Identity Center.

Serves, over HTTPS on 127.0.0.1, the three AWS APIs pam_ssooidc talks to:

  * SSO OIDC  (RegisterClient, StartDeviceAuthorization, CreateToken)  restJson1
  * SSO portal (GetRoleCredentials, ListAccounts, ListAccountRoles, Logout) restJson1
  * STS GetCallerIdentity (query protocol, SigV4 verified here)

plus an approval page for people (/device) and a control API for tests
(/_standin/...).  The wire format follows botocore's service models
(sso-oidc/2019-06-10, sso/2019-06-10, sts/2011-06-15).  Standard library only.

With --mode oidc the same server is instead a deliberately hostile OpenID
provider: discovery, JWKS, RFC 8628 device authorization and token
endpoints, ID tokens signed (or mis-signed) as the scenario says.  That mode
needs python3-cryptography; the AWS mode does not import it.

Usage: standin.py --dir DIR [--port 0] [--scenario JSON] [--mode aws|oidc]
See README.md next to this file for the contract.
"""

import argparse
import calendar
import hashlib
import hmac
import html
import http.server
import json
import os
import re
import secrets
import signal
import socket
import ssl
import string
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape as xml_escape

# --------------------------------------------------------------------------
# Constants taken from the botocore service models
# --------------------------------------------------------------------------

OIDC_ERROR_NS = "http://internal.amazon.com/coral/com.amazonaws.ssooidc/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

# sso-oidc error shape -> (HTTP status from the model, OAuth "error" code)
OIDC_ERRORS = {
    "AccessDeniedException": (400, "access_denied"),
    "AuthorizationPendingException": (400, "authorization_pending"),
    "ExpiredTokenException": (400, "expired_token"),
    "InternalServerException": (500, "server_error"),
    "InvalidClientException": (401, "invalid_client"),
    "InvalidClientMetadataException": (400, "invalid_client_metadata"),
    "InvalidGrantException": (400, "invalid_grant"),
    "InvalidRequestException": (400, "invalid_request"),
    "InvalidScopeException": (400, "invalid_scope"),
    "SlowDownException": (400, "slow_down"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
}

# sso (portal) error shape -> HTTP status.  ForbiddenException is not in the
# model (botocore surfaces it as a generic ClientError), the rest are.
PORTAL_ERRORS = {
    "InvalidRequestException": 400,
    "UnauthorizedException": 401,
    "ForbiddenException": 403,
    "ResourceNotFoundException": 404,
    "TooManyRequestsException": 429,
    "InternalServerException": 500,
}

OIDC_OPS = ("RegisterClient", "StartDeviceAuthorization", "CreateToken")
PORTAL_OPS = ("GetRoleCredentials", "ListAccounts", "ListAccountRoles", "Logout")
STS_OPS = ("GetCallerIdentity",)
API_OPS = OIDC_OPS + PORTAL_OPS + STS_OPS

FAULT_KINDS = ("http500", "http503", "html500", "html503", "throttle", "slowdown", "garbage",
               "illtyped", "huge", "hang", "reset", "close", "invalid_client", "control_chars",
               "raw")
# The kinds a busy fleet meets without anyone being at fault: what a client
# should retry (random_faults draws from these).
TRANSIENT_KINDS = ("http500", "http503", "html503", "throttle", "slowdown", "reset", "close")

ACCESS_TOKEN_TTL = 28800
ROLE_CREDENTIALS_TTL = 3600
STS_SKEW = 15 * 60
HUGE_SIZE = 1024 * 1024
MAX_BODY = 1024 * 1024
ARN_SUFFIX = "0123456789abcdef"
CC_PREFIX = "\u001b[2J\u001b]0;pwned\u0007"
CC_SUFFIX = "\u009b31m\u0008\r\n\u007f\u0085"
# Only C1 characters are legal in XML 1.0, so STS gets these.
CC_XML_PREFIX = "\u009b2J\u009d0;pwned\u009c"
CC_XML_SUFFIX = "\u009b31m\u0085"

DEFAULT_SCENARIO = {
    "interval": 1,
    "expires_in": 600,
    "registration_ttl": 7776000,
    "enforce_interval": True,
    "approve_after_polls": None,
    "approve_after_seconds": None,
    "decision": "approve",
    "approver": "alice",
    "expire_after_polls": None,
    "slow_down_polls": [],
    "faults": {},
    "hang_seconds": 30,
    "clock_offset": 0,
    "assignments": {"*": [["111122223333", "LinuxLogin"]]},
    "arn_override": None,
    "latency": 0,
    "sts_region": None,
    "random_faults": None,
    "complete_uri": None,
}

# ---- OpenID provider mode (--mode oidc) ------------------------------------

OIDC_API_OPS = ("Discovery", "JWKS", "DeviceAuthorization", "Token")
OIDC_ACCESS_TOKEN_TTL = 3600
JWKS_HUGE_DEFAULT = 65537        # one byte over 64 KiB
JWKS_DEEP_DEFAULT = 100
JWKS_MANY_DEFAULT = 1000
ID_TOKEN_ALGS = ("RS256", "PS256", "ES256", "none", "HS256-pubkey", "HS256-pubkey-der")
CLIENT_AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
# Claims the stand-in sets itself; extra_claims may not name them
# (claims_override is the knob that replaces them).
STANDARD_CLAIMS = ("iss", "sub", "aud", "azp", "exp", "iat", "nbf", "preferred_username", "groups")
# Entra ID's AADSTS numbers for the errors it sends (illustrative: Microsoft
# says clients must not depend on them, and neither may the module).
ENTRA_CODES = {
    "authorization_pending": (70016, "OAuth 2.0 device flow error. Authorization is pending. "
                                     "Continue polling."),
    "authorization_declined": (70000, "The user has declined the authorization request."),
    "expired_token": (70019, "Verification code expired."),
    "invalid_grant": (70000, "The provided value for the 'device_code' is not valid."),
    "invalid_client": (7000215, "Invalid client secret provided."),
    "invalid_request": (900144, "The request body must contain the required parameters."),
    "invalid_scope": (70011, "The provided value for the input parameter 'scope' is not valid."),
    "unsupported_grant_type": (70003, "The app requested an unsupported grant type."),
    "slow_down": (50196, "The server terminated an operation because it encountered a "
                         "client request loop."),
    "server_error": (90033, "A transient error has occurred. Please try again."),
    "temporarily_unavailable": (90033, "A transient error has occurred. Please try again."),
}

OIDC_DEFAULT_SCENARIO = {
    # the device flow, as in the AWS mode
    "interval": 1,
    "expires_in": 600,
    "enforce_interval": True,
    "slow_down_sticky": False,
    "approve_after_polls": None,
    "approve_after_seconds": None,
    "decision": "approve",
    "approver": "alice",
    "expire_after_polls": None,
    "slow_down_polls": [],
    "faults": {},
    "hang_seconds": 30,
    "latency": 0,
    "random_faults": None,
    "complete_uri": None,
    # the provider
    "issuer_path": "",
    "clients": {"pam-test": {"secret": None, "auth": "none"},
                "pam-conf": {"secret": "s3cret-conf", "auth": "client_secret_basic"}},
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    "groups": {"*": ["linux-users"]},
    "extra_claims": {},
    # hostile knobs
    "shape": "standard",
    "error_status": {},
    "device_overrides": {},
    "discovery_issuer_override": None,
    "discovery_overrides": {},
    "id_token_alg": "RS256",
    "kid_override": False,
    "iss_override": None,
    "aud_override": None,
    "azp": None,
    "exp_offset": 300,
    "iat_offset": 0,
    "nbf_offset": None,
    "signature_der": False,
    "tamper": None,
    "claims_override": {},
    "claims_remove": [],
    "omit_id_token": False,
    "jwks_wrong_type": False,
    "jwks_huge": False,
    "jwks_deep": False,
    "jwks_many": False,
}


def _is_str_list(v):
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def oidc_value_ok(k, v):
    """Validation of the keys only the oidc mode has (True: acceptable)."""
    if k == "slow_down_sticky" or k in ("signature_der", "omit_id_token", "jwks_wrong_type"):
        return isinstance(v, bool)
    if k == "issuer_path":
        seg = r"/[A-Za-z0-9._~!$&'()*+,;=:@%-]+"
        return isinstance(v, str) and (v == "" or re.fullmatch("(%s)+" % seg, v) is not None)
    if k == "clients":
        return isinstance(v, dict) and all(
            isinstance(cid, str) and cid and isinstance(c, dict) and set(c) <= {"secret", "auth"}
            and c.get("auth", "none") in CLIENT_AUTH_METHODS
            and ((c.get("auth", "none") == "none" and c.get("secret") is None)
                 or (c.get("auth", "none") != "none" and isinstance(c.get("secret"), str)
                     and c["secret"]))
            for cid, c in v.items())
    if k == "token_endpoint_auth_methods_supported":
        return _is_str_list(v)
    if k == "groups":
        return isinstance(v, dict) and all(_is_str_list(g) for g in v.values())
    if k == "extra_claims":
        return isinstance(v, dict) and not set(v) & set(STANDARD_CLAIMS)
    if k in ("claims_override", "discovery_overrides", "device_overrides"):
        return isinstance(v, dict)
    if k == "claims_remove":
        return _is_str_list(v)
    if k == "shape":
        return v in ("standard", "google", "entra")
    if k == "error_status":
        return isinstance(v, dict) and all(_is_int(x) and 100 <= x <= 599 for x in v.values())
    if k in ("discovery_issuer_override", "iss_override", "azp"):
        return v is None or isinstance(v, str)
    if k == "id_token_alg":
        return v in ID_TOKEN_ALGS
    if k == "kid_override":
        return v is False or v is None or isinstance(v, str)
    if k == "aud_override":
        return v is None or isinstance(v, str) or _is_str_list(v)
    if k in ("exp_offset", "iat_offset"):
        return _is_int(v)
    if k == "nbf_offset":
        return v is None or _is_int(v)
    if k == "tamper":
        return v in (None, "payload", "header")
    if k == "jwks_huge":
        return isinstance(v, bool) or (_is_int(v) and 0 <= v <= 64 * 1024 * 1024)
    if k == "jwks_deep":
        return isinstance(v, bool) or (_is_int(v) and 4 <= v <= 100000)
    if k == "jwks_many":
        return isinstance(v, bool) or (_is_int(v) and 0 <= v <= 100000)
    return False


def complete_uri(sc, page, port, ucode):
    """The complete verification link: PAGE?user_code=CODE, or the
    scenario's complete_uri with {port} and {user_code} filled in."""
    t = sc["complete_uri"]
    if t is None:
        return page + "?user_code=" + ucode
    return t.replace("{port}", str(port)).replace("{user_code}", ucode)


STOP = threading.Event()


def _copy(obj):
    return json.loads(json.dumps(obj))


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate_scenario(upd, mode="aws"):
    """Raise ValueError if the update is not acceptable."""
    if not isinstance(upd, dict):
        raise ValueError("scenario must be a JSON object")
    defaults = DEFAULT_SCENARIO if mode == "aws" else OIDC_DEFAULT_SCENARIO
    api_ops = API_OPS if mode == "aws" else OIDC_API_OPS
    for k, v in upd.items():
        if k not in defaults:
            raise ValueError("unknown scenario key: %s" % k)
        bad = False
        if k in ("interval", "approve_after_polls", "expire_after_polls"):
            bad = not (v is None or (_is_int(v) and v >= 0))
        elif k in ("expires_in", "registration_ttl"):
            bad = not (_is_int(v) and v >= 0)
        elif k == "enforce_interval":
            bad = not isinstance(v, bool)
        elif k == "approve_after_seconds":
            bad = not (v is None or (_is_num(v) and v >= 0))
        elif k == "decision":
            bad = v not in ("approve", "deny")
        elif k == "approver":
            bad = not (isinstance(v, str) and v)
        elif k == "slow_down_polls":
            bad = not (isinstance(v, list) and all(_is_int(x) for x in v))
        elif k in ("hang_seconds", "latency"):
            bad = not (_is_num(v) and v >= 0)
        elif k == "clock_offset":
            bad = not _is_num(v)
        elif k in ("arn_override", "sts_region", "complete_uri"):
            bad = not (v is None or isinstance(v, str))
        elif k == "random_faults":
            bad = not (v is None or (
                isinstance(v, dict) and set(v) <= {"rate", "kinds", "ops", "seed"}
                and _is_num(v.get("rate")) and 0 <= v["rate"] <= 1
                and all(x in FAULT_KINDS for x in v.get("kinds", TRANSIENT_KINDS))
                and all(x in api_ops for x in v.get("ops", api_ops))
                and _is_int(v.get("seed", 0))))
        elif k == "assignments":
            bad = not (isinstance(v, dict) and all(
                isinstance(lst, list) and all(
                    isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p)
                    for p in lst) for lst in v.values()))
        elif k == "faults":
            if not isinstance(v, dict):
                bad = True
            else:
                for op, spec in v.items():
                    if op not in api_ops:
                        raise ValueError("faults: unknown operation %r (one of %s)"
                                         % (op, ", ".join(api_ops)))
                    if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
                        raise ValueError("faults[%s]: kind must be one of %s"
                                         % (op, ", ".join(FAULT_KINDS)))
                    if not (_is_int(spec.get("after", 0)) and spec.get("after", 0) >= 0):
                        raise ValueError("faults[%s]: after must be an integer >= 0" % op)
                    if not _is_int(spec.get("count", -1)):
                        raise ValueError("faults[%s]: count must be an integer" % op)
                    if not isinstance(spec.get("retry_after", ""), str):
                        raise ValueError("faults[%s]: retry_after must be a string" % op)
                    if spec["kind"] == "raw":
                        if not _is_int(spec.get("status", 200)):
                            raise ValueError("faults[%s]: status must be an integer" % op)
                        hd = spec.get("headers", {})
                        if not (isinstance(hd, dict) and all(
                                isinstance(a, str) and isinstance(b, str) for a, b in hd.items())):
                            raise ValueError("faults[%s]: headers must be a string->string object" % op)
                        if not isinstance(spec.get("body", ""), str):
                            raise ValueError("faults[%s]: body must be a string" % op)
        elif mode == "oidc" and k != "complete_uri":
            bad = not oidc_value_ok(k, v)
        if bad:
            raise ValueError("bad value for scenario key %s: %s" % (k, json.dumps(v)))


# --------------------------------------------------------------------------
# Certificates (openssl CLI)
# --------------------------------------------------------------------------

def _openssl(*args):
    subprocess.run(("openssl",) + args, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ensure_certs(d):
    ca, cakey = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    srv, srvkey = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
    old = os.umask(0o077)
    try:
        with tempfile.TemporaryDirectory(dir=d, prefix=".certgen-") as tmp:
            if not os.path.exists(ca) or not os.path.exists(cakey):
                k, c = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.pem")
                _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                         "-out", k)
                _openssl("req", "-x509", "-new", "-key", k, "-sha256", "-days", "3650",
                         "-subj", "/O=pam_ssooidc tests/CN=pam_ssooidc stand-in CA",
                         "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                         "-addext", "subjectKeyIdentifier=hash",
                         "-out", c)
                os.chmod(k, 0o600)
                os.chmod(c, 0o644)
                os.replace(k, cakey)
                os.replace(c, ca)
                for f in (srv, srvkey):
                    if os.path.exists(f):
                        os.unlink(f)
            if not os.path.exists(srv) or not os.path.exists(srvkey):
                k, r, c = (os.path.join(tmp, n) for n in ("server.key", "server.csr", "server.pem"))
                ext = os.path.join(tmp, "ext.cnf")
                with open(ext, "w") as f:
                    f.write("basicConstraints=critical,CA:FALSE\n"
                            "keyUsage=critical,digitalSignature\n"
                            "extendedKeyUsage=serverAuth\n"
                            "subjectKeyIdentifier=hash\n"
                            "authorityKeyIdentifier=keyid:always\n"
                            "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
                _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                         "-out", k)
                _openssl("req", "-new", "-key", k, "-subj", "/CN=localhost", "-out", r)
                _openssl("x509", "-req", "-in", r, "-CA", ca, "-CAkey", cakey,
                         "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
                         "-days", "825", "-sha256", "-extfile", ext, "-out", c)
                os.chmod(k, 0o600)
                os.chmod(c, 0o644)
                os.replace(k, srvkey)
                os.replace(c, srv)
    finally:
        os.umask(old)
    return srv, srvkey


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def rand_hex(n=16):
    return secrets.token_hex(n)


def rand_upper_alnum(n):
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def jbytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


class Resp:
    """A response not yet written.  action: send | hang | reset | close."""

    def __init__(self, status=200, body=b"", ctype="application/json",
                 headers=None, error=None, action="send", raw=False):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers or [])
        self.error = error
        self.action = action
        self.raw = raw


def oidc_error(shape, desc):
    status, code = OIDC_ERRORS[shape]
    return Resp(status, jbytes({"error": code, "error_description": desc}),
                headers=[("x-amzn-ErrorType", shape + ":" + OIDC_ERROR_NS)], error=shape)


def portal_error(shape, msg):
    return Resp(PORTAL_ERRORS[shape], jbytes({"message": msg}),
                headers=[("x-amzn-ErrorType", shape)], error=shape)


def sts_error(status, code, msg, kind="Sender", rid=None):
    rid = rid or str(uuid.uuid4())
    body = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n'
            '    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n'
            % (STS_NS, kind, code, xml_escape(msg), rid))
    r = Resp(status, body.encode(), ctype="text/xml", error=code)
    r.request_id = rid
    return r


def html_page(title, inner, status=200):
    doc = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>%s</title><style>"
           "body{font-family:system-ui,sans-serif;max-width:34em;margin:3em auto;padding:0 1em;"
           "color:#16191f;background:#f2f3f3}"
           "main{background:#fff;padding:1.5em 2em;border-radius:6px;box-shadow:0 1px 3px #0003}"
           "h1{font-size:1.3em}label{display:block;margin:1em 0 .3em;font-weight:600}"
           "input[type=text]{width:100%%;box-sizing:border-box;padding:.5em;font-size:1.1em}"
           ".code{font-family:monospace;letter-spacing:.1em}"
           "button{margin:1.2em .6em 0 0;padding:.5em 1.4em;font-size:1em;border-radius:4px;"
           "border:1px solid #545b64;cursor:pointer}"
           "button.ok{background:#ec7211;border-color:#ec7211;color:#fff}"
           "p.note{color:#545b64;font-size:.9em}"
           "</style></head><body><main>%s</main></body></html>\n"
           % (html.escape(title), inner))
    return Resp(status, doc.encode(), ctype="text/html; charset=utf-8")


def normalize_user_code(s):
    s = "".join(s.split()).upper()
    if len(s) == 8 and "-" not in s:
        s = s[:4] + "-" + s[4:]
    return s


# --------------------------------------------------------------------------
# OpenID mode: keys, JWKS and ID tokens (python3-cryptography, loaded lazily)
# --------------------------------------------------------------------------

def b64url(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_bytes(n, length=None):
    return n.to_bytes(length or max(1, (n.bit_length() + 7) // 8), "big")


class SigningKey:
    """One signing key: kid, kty ("RSA" or "EC"), the private key, its JWK."""

    def __init__(self, kty, kid):
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        self.kty, self.kid = kty, kid
        if kty == "RSA":
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pn = self.priv.public_key().public_numbers()
            self.jwk = {"kty": "RSA", "use": "sig", "kid": kid,
                        "n": b64url(_int_bytes(pn.n)), "e": b64url(_int_bytes(pn.e))}
        else:
            self.priv = ec.generate_private_key(ec.SECP256R1())
            pn = self.priv.public_key().public_numbers()
            self.jwk = {"kty": "EC", "use": "sig", "kid": kid, "crv": "P-256",
                        "x": b64url(_int_bytes(pn.x, 32)), "y": b64url(_int_bytes(pn.y, 32))}

    def public_pem(self):
        from cryptography.hazmat.primitives import serialization
        return self.priv.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def public_der(self):
        from cryptography.hazmat.primitives import serialization
        return self.priv.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def jws_sign(alg, key, signing_input, der=False):
    """The JWS signature bytes for alg (ID_TOKEN_ALGS names) with key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    if alg == "RS256":
        return key.priv.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    if alg == "PS256":
        return key.priv.sign(signing_input, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                        salt_length=32), hashes.SHA256())
    if alg == "ES256":
        sig = key.priv.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        if der:
            return sig
        r, s_ = utils.decode_dss_signature(sig)
        return _int_bytes(r, 32) + _int_bytes(s_, 32)
    if alg == "HS256-pubkey":
        return hmac.new(key.public_pem(), signing_input, hashlib.sha256).digest()
    if alg == "HS256-pubkey-der":
        return hmac.new(key.public_der(), signing_input, hashlib.sha256).digest()
    if alg == "none":
        return b""
    raise ValueError(alg)


def _flip_char(c):
    if c.isdigit():
        return str((int(c) + 1) % 10)
    return c.swapcase()


def tamper_json(text, part):
    """One character of a JOSE header or claims set changed, JSON still valid:
    header: the last letter of "typ"'s value has its case swapped (JWT -> JWt);
    payload: the last digit of "exp" is incremented mod 10. Without those
    members, the last letter or digit of the text is changed instead."""
    pat = r'"typ":"[^"]*([A-Za-z0-9])"' if part == "header" else r'"exp":-?\d*(\d)'
    m = re.search(pat, text)
    if m:
        i = m.start(1)
    else:
        i = max(j for j, c in enumerate(text) if c.isalnum())
    return text[:i] + _flip_char(text[i]) + text[i + 1:]


_FILLERS = []


def filler_keys(n):
    """n RSA-shaped public JWKs with random 2048-bit moduli, kids filler-0001...
    The same n keys every time (fixed seed), so a cached JWKS stays valid."""
    import random
    if len(_FILLERS) < n:
        rng = random.Random(4242 + len(_FILLERS))
        for i in range(len(_FILLERS), n):
            modulus = rng.getrandbits(2048) | (1 << 2047) | 1
            _FILLERS.append({"kty": "RSA", "use": "sig", "kid": "filler-%04d" % (i + 1),
                             "n": b64url(_int_bytes(modulus, 256)), "e": "AQAB"})
    return [dict(k) for k in _FILLERS[:n]]


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------

class State:
    def __init__(self, directory, initial_scenario, mode="aws"):
        self.lock = threading.RLock()
        self.dir = directory
        self.mode = mode
        self.api_ops = API_OPS if mode == "aws" else OIDC_API_OPS
        self.defaults = DEFAULT_SCENARIO if mode == "aws" else OIDC_DEFAULT_SCENARIO
        self.log_path = os.path.join(directory, "requests.jsonl")
        self.logf = open(self.log_path, "w", buffering=1)
        self.port = None
        self._conn = 0
        if mode == "oidc":
            # Made once; reset brings back these very keys (rsa-1, ec-1).
            self.initial_keys = [SigningKey("RSA", "rsa-1"), SigningKey("EC", "ec-1")]
        self._reset_locked()
        if initial_scenario:
            self.merge_scenario(initial_scenario)

    def _reset_locked(self):
        self.scenario = _copy(self.defaults)
        if self.mode == "oidc":
            self.keys = list(self.initial_keys)   # newest first
            self.key_gen = 1
        self.clients = {}      # clientId -> dict
        self.devices = {}      # deviceCode -> dict
        self.user_codes = {}   # userCode -> deviceCode
        self.tokens = {}       # accessToken -> dict
        self.creds = {}        # accessKeyId -> dict
        self.log = []
        self.fault_calls = {}
        import random
        self.rng = random.Random(0)

    def reset(self):
        with self.lock:
            self._reset_locked()
            self.logf.close()
            self.logf = open(self.log_path, "w", buffering=1)

    def next_conn(self):
        with self.lock:
            self._conn += 1
            return self._conn

    def add_log(self, rec):
        # POST /_standin/reset starts a fresh, empty log: it is not logged itself.
        if rec["op"] == "Control" and rec["path"].split("?")[0] == "/_standin/reset":
            return
        line = json.dumps(rec, separators=(",", ":"))
        with self.lock:
            self.log.append(rec)
            self.logf.write(line + "\n")

    def merge_scenario(self, upd):
        validate_scenario(upd, self.mode)
        with self.lock:
            self.scenario.update(_copy(upd))
            if "faults" in upd:
                self.fault_calls = {}
            if upd.get("random_faults"):
                import random
                self.rng = random.Random(upd["random_faults"].get("seed", 0))
            return _copy(self.scenario)

    def pick_fault(self, op):
        """Count this call of op and return the fault spec to apply, or None."""
        with self.lock:
            spec = self.scenario["faults"].get(op)
            i = self.fault_calls.get(op, 0)
            self.fault_calls[op] = i + 1
            rnd = self.scenario.get("random_faults")
            if not spec and rnd and op in rnd.get("ops", self.api_ops):
                if self.rng.random() < rnd["rate"]:
                    return {"kind": self.rng.choice(list(rnd.get("kinds", TRANSIENT_KINDS))),
                            "random": True}
                return None
            if not spec:
                return None
            after = spec.get("after", 0)
            count = spec.get("count", -1)
            if i >= after and (count < 0 or i < after + count):
                return _copy(spec)
            return None

    def assignments_for(self, user):
        a = self.scenario["assignments"]
        lst = a[user] if user in a else a.get("*", [])
        return [(p[0], p[1]) for p in lst]

    # device helpers (lock held)
    def dev_status(self, dev, now):
        if dev["status"] == "redeemed":
            return "redeemed"
        if dev["expired"] or now >= dev["deadline"]:
            return "expired"
        return dev["status"]

    # OpenID mode (lock held)
    def issuer(self):
        return "https://127.0.0.1:%d%s" % (self.port, self.scenario["issuer_path"])

    def current_key(self, kty):
        return next(k for k in self.keys if k.kty == kty)

    def rotate(self, keep_old):
        """New RSA and EC keys (rsa-N, ec-N); the old ones stay only if keep_old."""
        self.key_gen += 1
        new = [SigningKey("RSA", "rsa-%d" % self.key_gen),
               SigningKey("EC", "ec-%d" % self.key_gen)]
        self.keys = new + (self.keys if keep_old else [])
        return [k.kid for k in self.keys]

    def settle_timed(self, dev, now):
        if (dev["status"] == "pending" and dev["auto_at"] is not None
                and now >= dev["auto_at"] and self.dev_status(dev, now) == "pending"):
            dev["status"] = "approved" if dev["auto_decision"] == "approve" else "denied"
            dev["approver"] = dev["auto_approver"]


# --------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------

class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, state, ssl_ctx):
        self.state = state
        self.ssl_ctx = ssl_ctx
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


class BodyError(Exception):
    def __init__(self, status, msg):
        super().__init__(msg)
        self.status = status


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are dropped after this

    # ---- connection plumbing -------------------------------------------
    def setup(self):
        self.st = self.server.state
        self.conn_id = self.st.next_conn()
        raw = self.request
        raw.settimeout(30)
        # Headers and body go out as separate writes: without TCP_NODELAY,
        # Nagle plus the client's delayed ACK adds 40 ms to every answer
        # that follows another closely, which would distort the benchmark.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = self.server.ssl_ctx.wrap_socket(raw, server_side=True)
        super().setup()

    def finish(self):
        for f in (getattr(self, "wfile", None), getattr(self, "rfile", None)):
            try:
                if f is not None and not f.closed:
                    if f is self.wfile:
                        f.flush()
                    f.close()
            except Exception:
                pass
        try:
            self.connection.close()
        except Exception:
            pass

    def log_message(self, fmt, *args):  # quiet
        pass

    def version_string(self):
        return self.server_version

    def date_time_string(self, timestamp=None):
        # The Date header follows the scenario's clock, as AWS's would if
        # this host's clock were off by clock_offset.
        if timestamp is None:
            timestamp = time.time() + float(self.st.scenario.get("clock_offset") or 0)
        return super().date_time_string(timestamp)

    def _drop(self, rst):
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            else:
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
        except Exception:
            pass

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise BodyError(400, "truncated chunked body")
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BodyError(400, "bad chunk size")
                if size == 0:
                    while True:
                        t = self.rfile.readline(8192)
                        if t in (b"\r\n", b"\n", b""):
                            return bytes(out)
                if len(out) + size > MAX_BODY:
                    raise BodyError(413, "request body too large")
                out += self.rfile.read(size)
                self.rfile.readline(8)
        cl = self.headers.get("Content-Length")
        if not cl:
            return b""
        try:
            n = int(cl)
        except ValueError:
            raise BodyError(400, "bad Content-Length")
        if n < 0:
            raise BodyError(400, "bad Content-Length")
        if n > MAX_BODY:
            raise BodyError(413, "request body too large")
        data = self.rfile.read(n)
        if len(data) != n:
            raise BodyError(400, "truncated body")
        return data

    def _write(self, resp):
        rid = getattr(resp, "request_id", None) or str(uuid.uuid4())
        self.send_response(resp.status)
        if resp.raw:
            has_len = False
            for k, v in resp.headers:
                if k.lower() == "content-length":
                    has_len = True
                self.send_header(k, v)
            if not has_len:
                self.send_header("Content-Length", str(len(resp.body)))
            else:
                self.close_connection = True
        else:
            if self.st.mode == "aws":
                self.send_header("x-amzn-RequestId", rid)
            if resp.ctype:
                self.send_header("Content-Type", resp.ctype)
            for k, v in resp.headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = lambda self: self.dispatch()

    # ---- routing ----------------------------------------------------------
    def _route(self, method, path, query):
        if path.startswith("/_standin/"):
            return "Control"
        if self.st.mode == "oidc":
            return self._route_oidc(method, path)
        table = {
            ("POST", "/client/register"): "RegisterClient",
            ("POST", "/device_authorization"): "StartDeviceAuthorization",
            ("POST", "/token"): "CreateToken",
            ("GET", "/federation/credentials"): "GetRoleCredentials",
            ("GET", "/assignment/accounts"): "ListAccounts",
            ("GET", "/assignment/roles"): "ListAccountRoles",
            ("POST", "/logout"): "Logout",
        }
        if (method, path) in table:
            return table[(method, path)]
        if path == "/" and (method == "POST" or (method == "GET" and "Action=" in query)):
            return "GetCallerIdentity"
        if method == "GET" and path in ("/", "/device", "/device/"):
            return "Page"
        if method == "POST" and path == "/device/decide":
            return "Decide"
        return "Unknown"

    def dispatch(self):
        t0 = time.time()
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, url.query
        method = self.command
        op = self._route(method, path, query)
        if self.st.mode == "aws":
            rec = {"t": round(t0, 6), "conn": self.conn_id, "op": op, "method": method,
                   "path": self.path[:2048], "status": None, "error": None, "fault": None,
                   "client_id": None, "user_code": None, "approver": None, "sigv4": None,
                   "user_agent": self.headers.get("User-Agent"), "members": None}
        else:
            rec = {"t": round(t0, 6), "conn": self.conn_id, "op": op, "method": method,
                   "path": self.path[:2048], "status": None, "error": None, "fault": None,
                   "client_id": None, "auth": None, "grant": None, "scope": None,
                   "user_code": None, "approver": None, "poll": None, "kid": None, "alg": None,
                   "user_agent": self.headers.get("User-Agent"), "members": None}
        try:
            body = self._read_body()
        except BodyError as e:
            self.close_connection = True
            resp = Resp(e.status, jbytes({"message": str(e)}), error="InvalidRequest")
            rec["status"], rec["error"] = resp.status, resp.error
            self.st.add_log(rec)
            self._write(resp)
            return

        fault = None
        if op in self.st.api_ops:
            fault = self.st.pick_fault(op)
        if fault:
            rec["fault"] = fault["kind"]
            if self.st.mode == "aws":
                resp = self._fault_response(op, fault, rec, body, path, query)
            else:
                resp = self._oidc_fault_response(op, fault, rec, body, path, query)
        else:
            resp = self._handle(op, rec, body, path, query)

        if op in self.st.api_ops:
            lat = self.st.scenario.get("latency") or 0
            if lat > 0:
                STOP.wait(lat)

        if resp.action != "send":
            rec["status"] = None
            self.st.add_log(rec)
            if resp.action == "hang":
                STOP.wait(float(self.st.scenario.get("hang_seconds", 30)))
                self._drop(rst=False)
            else:
                self._drop(rst=(resp.action == "reset"))
            return
        rec["status"] = resp.status
        rec["error"] = rec["error"] or resp.error
        self.st.add_log(rec)
        try:
            self._write(resp)
        except (OSError, ssl.SSLError):
            self.close_connection = True

    def _handle(self, op, rec, body, path, query):
        if op == "Control":
            return self.h_control(rec, body, path, query)
        if op == "Page":
            return self.h_page(rec, query)
        if op == "Decide":
            return self.h_decide(rec, body)
        if op == "Unknown" and self.st.mode == "oidc":
            return Resp(404, jbytes({"error": "not_found",
                                     "error_description": "no such endpoint"}),
                        error="not_found")
        if op == "Unknown":
            return Resp(404, jbytes({"message": "Not Found"}),
                        headers=[("x-amzn-ErrorType", "UnknownOperationException")],
                        error="UnknownOperationException")
        return getattr(self, "h_" + op)(rec, body, query)

    # ---- faults -------------------------------------------------------------
    def _fault_response(self, op, fault, rec, body, path, query):
        kind = fault["kind"]
        shared = self._shared_fault(kind, fault)
        if shared is not None:
            return shared
        if kind == "http500":
            if op in OIDC_OPS:
                return oidc_error("InternalServerException", "An internal error occurred")
            if op in PORTAL_OPS:
                return portal_error("InternalServerException", "An internal error occurred")
            return sts_error(500, "InternalFailure",
                             "The request processing has failed because of an unknown error, "
                             "exception or failure.", kind="Receiver")
        if kind == "throttle":
            # Each API's own throttling answer: SSO OIDC and STS say so in a
            # 400, the portal with 429 TooManyRequestsException.
            if op in OIDC_OPS:
                r = Resp(400, jbytes({"__type": "ThrottlingException",
                                      "message": "Rate exceeded"}),
                         headers=[("x-amzn-ErrorType", "ThrottlingException")],
                         error="ThrottlingException")
            elif op in PORTAL_OPS:
                r = portal_error("TooManyRequestsException", "Rate exceeded")
            else:
                r = sts_error(400, "Throttling", "Rate exceeded")
            return self._with_retry_after(r, fault)
        if kind == "slowdown":
            if op in OIDC_OPS:
                return oidc_error("SlowDownException", "Client is polling too quickly")
            return Resp(400, jbytes({"__type": "SlowDownException", "message": "Slow down"}),
                        headers=[("x-amzn-ErrorType", "SlowDownException")],
                        error="SlowDownException")
        if kind == "illtyped":
            bad = {
                "RegisterClient": {"clientId": 42, "clientSecret": True,
                                   "clientIdIssuedAt": "now", "clientSecretExpiresAt": "later"},
                "StartDeviceAuthorization": {"deviceCode": 1, "userCode": ["ABCD-EFGH"],
                                             "verificationUri": 5,
                                             "verificationUriComplete": {"u": 1},
                                             "expiresIn": "600", "interval": "fast"},
                "CreateToken": {"accessToken": 7, "tokenType": ["Bearer"], "expiresIn": "28800"},
                "GetRoleCredentials": {"roleCredentials": "x"},
                "ListAccounts": {"accountList": "x", "nextToken": 3},
                "ListAccountRoles": {"roleList": {"roleName": 1}, "nextToken": 3},
                "Logout": {"x": 1},
            }
            if op == "GetCallerIdentity":
                rid = str(uuid.uuid4())
                xml = ('<GetCallerIdentityResponse xmlns="%s"><GetCallerIdentityResult>'
                       '<UserId>7</UserId><Account>not-an-account</Account>'
                       '</GetCallerIdentityResult><ResponseMetadata><RequestId>%s</RequestId>'
                       '</ResponseMetadata></GetCallerIdentityResponse>' % (STS_NS, rid))
                r = Resp(200, xml.encode(), ctype="text/xml")
                r.request_id = rid
                return r
            return Resp(200, jbytes(bad[op]))
        if kind == "invalid_client":
            if op in OIDC_OPS:
                return oidc_error("InvalidClientException", "Invalid client")
            if op in PORTAL_OPS:
                return portal_error("UnauthorizedException", "Session token not found or invalid")
            rec["sigv4"] = "InvalidClientTokenId"
            return sts_error(403, "InvalidClientTokenId",
                             "The security token included in the request is invalid.")
        # transforming faults: compute the real answer first
        resp = self._handle(op, rec, body, path, query)
        if kind == "huge":
            return self._make_huge(resp)
        if kind == "control_chars":
            return self._add_control_chars(resp)
        return resp

    @classmethod
    def _shared_fault(cls, kind, fault):
        """The answer to a fault both modes give alike, or None."""
        if kind == "http503":
            return cls._with_retry_after(
                Resp(503, jbytes({"message": "Service Unavailable"}), error="ServiceUnavailable"),
                fault)
        if kind == "html503":
            return cls._with_retry_after(
                Resp(503, b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
                     ctype="text/html", error="ServiceUnavailable"), fault)
        if kind == "html500":
            return Resp(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>",
                        ctype="text/html")
        if kind == "garbage":
            return Resp(200, b"\x00\xff not json {{{")
        if kind in ("hang", "reset", "close"):
            return Resp(action=kind)
        if kind == "raw":
            hdrs = list(fault.get("headers", {}).items())
            return Resp(fault.get("status", 200), fault.get("body", "").encode("utf-8"),
                        headers=hdrs, raw=True)
        return None

    @staticmethod
    def _with_retry_after(resp, fault):
        if fault.get("retry_after"):
            resp.headers.append(("Retry-After", fault["retry_after"]))
        return resp

    @staticmethod
    def _make_huge(resp):
        b = resp.body
        if b.startswith(b"{") and b.endswith(b"}"):
            prefix = b[:-1] + (b"," if len(b) > 2 else b"") + b'"padding":"'
            n = max(0, HUGE_SIZE - len(prefix) - 2)
            resp.body = prefix + b"A" * n + b'"}'
        elif b.startswith(b"<"):
            n = max(0, HUGE_SIZE - len(b) - 7)
            resp.body = b + b"<!--" + b"A" * n + b"-->"
        else:
            resp.body = b + b" " * max(0, HUGE_SIZE - len(b))
        return resp

    @staticmethod
    def _add_control_chars(resp):
        if resp.ctype and "xml" in resp.ctype:
            txt = resp.body.decode()
            for tag in ("Arn", "UserId", "Message"):
                txt = re.sub(r"<%s>(.*?)</%s>" % (tag, tag),
                             lambda m, t=tag: "<%s>%s%s%s</%s>" % (t, CC_XML_PREFIX, m.group(1),
                                                                   CC_XML_SUFFIX, t),
                             txt, flags=re.S)
            resp.body = txt.encode()
            return resp
        try:
            obj = json.loads(resp.body)
        except ValueError:
            return resp
        if isinstance(obj, dict):
            for k in ("userCode", "verificationUri", "verificationUriComplete",
                      "error_description", "message"):
                if isinstance(obj.get(k), str):
                    obj[k] = CC_PREFIX + obj[k] + CC_SUFFIX
            resp.body = jbytes(obj)
        return resp

    # ---- OIDC -----------------------------------------------------------------
    @staticmethod
    def _json_req(rec, body):
        try:
            req = json.loads(body.decode("utf-8")) if body else {}
        except (ValueError, UnicodeDecodeError):
            return None
        if isinstance(req, dict):
            rec["members"] = sorted(req.keys())
            return req
        return None

    def _check_client(self, req, now):
        """Return an error Resp or None (lock held)."""
        c = self.st.clients.get(req.get("clientId"))
        if c is None or not hmac.compare_digest(c["secret"].encode(),
                                                str(req.get("clientSecret")).encode()):
            return oidc_error("InvalidClientException", "Invalid client credentials")
        if now >= c["expires"]:
            return oidc_error("InvalidClientException", "Client registration has expired")
        return None

    def h_RegisterClient(self, rec, body, query):
        req = self._json_req(rec, body)
        if req is None:
            return oidc_error("InvalidRequestException", "Request body must be a JSON object")
        name, ctype = req.get("clientName"), req.get("clientType")
        rec["clientName"] = name[:256] if isinstance(name, str) else name
        rec["clientType"] = ctype[:256] if isinstance(ctype, str) else ctype
        if not isinstance(name, str) or not name:
            return oidc_error("InvalidRequestException", "clientName is required")
        if not isinstance(ctype, str) or not ctype:
            return oidc_error("InvalidRequestException", "clientType is required")
        if ctype != "public":
            return oidc_error("InvalidRequestException",
                              "Invalid client type: only 'public' is supported")
        scopes = req.get("scopes")
        if scopes is not None and not (isinstance(scopes, list)
                                       and all(isinstance(s, str) for s in scopes)):
            return oidc_error("InvalidScopeException", "Invalid scopes")
        now = int(time.time())
        cid = "cid-" + rand_hex(12)
        with self.st.lock:
            ttl = self.st.scenario["registration_ttl"]
            self.st.clients[cid] = {"secret": "csecret-" + rand_hex(24), "issued": now,
                                    "expires": now + ttl, "name": name}
            secret = self.st.clients[cid]["secret"]
        rec["client_id"] = cid
        return Resp(200, jbytes({"clientId": cid, "clientSecret": secret,
                                 "clientIdIssuedAt": now, "clientSecretExpiresAt": now + ttl}))

    def _client_json(self, rec, body, member):
        """An SSO OIDC request's JSON body with clientId, clientSecret and
        `member`, each a non-empty string: (the body, None), or (None, the
        error answer)."""
        req = self._json_req(rec, body)
        if req is None:
            return None, oidc_error("InvalidRequestException",
                                    "Request body must be a JSON object")
        if isinstance(req.get("clientId"), str):
            rec["client_id"] = req["clientId"][:128]
        for m in ("clientId", "clientSecret", member):
            if not isinstance(req.get(m), str) or not req[m]:
                return None, oidc_error("InvalidRequestException", "%s is required" % m)
        return req, None

    def _new_device(self, sc, now, client_id, interval, **extra):
        """A pending device authorization with a fresh user code, recorded
        (the caller holds the lock)."""
        while True:
            a = "".join(secrets.choice(string.ascii_uppercase) for _ in range(8))
            ucode = a[:4] + "-" + a[4:]
            if ucode not in self.st.user_codes:
                break
        dcode = "devcode-" + rand_hex(24)
        t = sc["approve_after_seconds"]
        dev = {"device_code": dcode, "user_code": ucode, "client_id": client_id,
               "start": now, "deadline": now + sc["expires_in"],
               "interval": interval, "status": "pending", "approver": None,
               "expired": False, "polls": 0, "pending_answers": 0, "slow_downs": 0,
               "last_poll": None, "auto_at": None if t is None else now + t,
               "auto_decision": sc["decision"], "auto_approver": sc["approver"]}
        dev.update(extra)
        self.st.devices[dcode] = dev
        self.st.user_codes[ucode] = dcode
        return dev

    def h_StartDeviceAuthorization(self, rec, body, query):
        req, err = self._client_json(rec, body, "startUrl")
        if err:
            return err
        now = time.time()
        with self.st.lock:
            err = self._check_client(req, now)
            if err:
                return err
            sc = self.st.scenario
            dev = self._new_device(sc, now, req["clientId"], sc["interval"])
            dcode, ucode = dev["device_code"], dev["user_code"]
            out = {"deviceCode": dcode, "userCode": ucode,
                   "verificationUri": "https://127.0.0.1:%d/device" % self.st.port,
                   "verificationUriComplete": complete_uri(
                       sc, "https://127.0.0.1:%d/device" % self.st.port, self.st.port, ucode),
                   "expiresIn": sc["expires_in"]}
            if sc["interval"] is not None:
                out["interval"] = sc["interval"]
        rec["user_code"] = ucode
        return Resp(200, jbytes(out))

    def h_CreateToken(self, rec, body, query):
        req, err = self._client_json(rec, body, "grantType")
        if err:
            return err
        if req["grantType"] != DEVICE_GRANT:
            return oidc_error("UnsupportedGrantTypeException",
                              "Unsupported grant type: only %s is supported" % DEVICE_GRANT)
        now = time.time()
        with self.st.lock:
            err = self._check_client(req, now)
            if err:
                return err
            dc = req.get("deviceCode")
            if not isinstance(dc, str) or not dc:
                return oidc_error("InvalidRequestException", "deviceCode is required")
            dev = self.st.devices.get(dc)
            if dev is None or dev["client_id"] != req["clientId"]:
                return oidc_error("InvalidGrantException", "Invalid device code provided")
            rec["user_code"] = dev["user_code"]
            if dev["status"] == "redeemed":
                return oidc_error("InvalidGrantException", "Device code has already been used")
            if self.st.dev_status(dev, now) == "expired":
                return oidc_error("ExpiredTokenException", "Device code has expired")
            sc = self.st.scenario
            dev["polls"] += 1
            idx = dev["polls"]
            rec["poll"] = idx
            prev, dev["last_poll"] = dev["last_poll"], now
            interval = dev["interval"] if dev["interval"] is not None else 5
            if sc["enforce_interval"] and prev is not None and now - prev < interval - 0.25:
                dev["slow_downs"] += 1
                return oidc_error("SlowDownException", "Client is polling too quickly")
            if idx in sc["slow_down_polls"]:
                dev["slow_downs"] += 1
                return oidc_error("SlowDownException", "Client is polling too quickly")
            if sc["expire_after_polls"] is not None and idx > sc["expire_after_polls"]:
                dev["expired"] = True
                return oidc_error("ExpiredTokenException", "Device code has expired")
            self.st.settle_timed(dev, now)
            if (dev["status"] == "pending" and sc["approve_after_polls"] is not None
                    and dev["pending_answers"] >= sc["approve_after_polls"]):
                dev["status"] = "approved" if sc["decision"] == "approve" else "denied"
                dev["approver"] = sc["approver"]
            rec["approver"] = dev["approver"]
            if dev["status"] == "denied":
                return oidc_error("AccessDeniedException", "Access denied by the user")
            if dev["status"] == "approved":
                tok = "atoken-" + rand_hex(32)
                self.st.tokens[tok] = {"approver": dev["approver"], "client_id": dev["client_id"],
                                       "user_code": dev["user_code"],
                                       "expires": now + ACCESS_TOKEN_TTL}
                dev["status"] = "redeemed"
                return Resp(200, jbytes({"accessToken": tok, "tokenType": "Bearer",
                                         "expiresIn": ACCESS_TOKEN_TTL}))
            dev["pending_answers"] += 1
            return oidc_error("AuthorizationPendingException", "Authorization is still pending")

    # ---- portal -----------------------------------------------------------------
    def _portal_token(self, rec):
        tok = self.headers.get("x-amz-sso_bearer_token")
        with self.st.lock:
            t = self.st.tokens.get(tok) if tok else None
            if t is None or time.time() >= t["expires"]:
                return None, portal_error("UnauthorizedException",
                                          "Session token not found or invalid")
            rec["approver"] = t["approver"]
            rec["client_id"] = t["client_id"]
            rec["user_code"] = t["user_code"]
            return t, None

    def h_GetRoleCredentials(self, rec, body, query):
        t, err = self._portal_token(rec)
        if err:
            return err
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        role = q.get("role_name", [""])[0]
        acct = q.get("account_id", [""])[0]
        rec["account_id"], rec["role_name"] = acct or None, role or None
        if not role or not acct:
            return portal_error("InvalidRequestException",
                                "role_name and account_id are required")
        with self.st.lock:
            if (acct, role) not in self.st.assignments_for(t["approver"]):
                return portal_error("ForbiddenException", "No access")
            akid = "ASIA" + rand_upper_alnum(16)
            exp_ms = int((time.time() + ROLE_CREDENTIALS_TTL) * 1000)
            c = {"secret": "sak-" + rand_hex(20), "session_token": "stoken-" + rand_hex(48),
                 "approver": t["approver"], "account": acct, "role": role, "expiration": exp_ms}
            self.st.creds[akid] = c
        return Resp(200, jbytes({"roleCredentials": {
            "accessKeyId": akid, "secretAccessKey": c["secret"],
            "sessionToken": c["session_token"], "expiration": exp_ms}}))

    @staticmethod
    def _paginate(items, q, key):
        mr = q.get("max_result", [None])[0]
        nt = q.get("next_token", [None])[0]
        if mr is not None:
            try:
                mr = int(mr)
            except ValueError:
                mr = 0
            if not 1 <= mr <= 100:
                return None, portal_error("InvalidRequestException",
                                          "max_result must be between 1 and 100")
        start = 0
        if nt:
            m = re.fullmatch(r"page-(\d+)", nt)
            if not m:
                return None, portal_error("InvalidRequestException", "Invalid next_token")
            start = int(m.group(1))
        end = len(items) if mr is None else start + mr
        out = {key: items[start:end]}
        if end < len(items):
            out["nextToken"] = "page-%d" % end
        return out, None

    def h_ListAccounts(self, rec, body, query):
        t, err = self._portal_token(rec)
        if err:
            return err
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        with self.st.lock:
            accts = []
            for a, _ in self.st.assignments_for(t["approver"]):
                if a not in accts:
                    accts.append(a)
        items = [{"accountId": a, "accountName": "standin-%s" % a,
                  "emailAddress": "aws+%s@example.com" % a} for a in accts]
        out, err = self._paginate(items, q, "accountList")
        return err or Resp(200, jbytes(out))

    def h_ListAccountRoles(self, rec, body, query):
        t, err = self._portal_token(rec)
        if err:
            return err
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        acct = q.get("account_id", [""])[0]
        rec["account_id"] = acct or None
        if not acct:
            return portal_error("InvalidRequestException", "account_id is required")
        with self.st.lock:
            items = [{"roleName": r, "accountId": a}
                     for a, r in self.st.assignments_for(t["approver"]) if a == acct]
        out, err = self._paginate(items, q, "roleList")
        return err or Resp(200, jbytes(out))

    def h_Logout(self, rec, body, query):
        t, err = self._portal_token(rec)
        if err:
            return err
        tok = self.headers.get("x-amz-sso_bearer_token")
        with self.st.lock:
            self.st.tokens.pop(tok, None)
        return Resp(200, b"", ctype=None)

    # ---- STS --------------------------------------------------------------------
    def h_GetCallerIdentity(self, rec, body, query):
        rid = str(uuid.uuid4())

        def fail(status, code, msg):
            rec["sigv4"] = code
            return sts_error(status, code, msg, rid=rid)

        auth = self.headers.get("Authorization")
        if not auth:
            rec["sigv4"] = "MissingAuthenticationToken"
            return sts_error(403, "MissingAuthenticationToken",
                             "Request is missing Authentication Token", rid=rid)
        algo, _, rest = auth.strip().partition(" ")
        if algo != "AWS4-HMAC-SHA256":
            return fail(400, "IncompleteSignature",
                        "Unsupported AWS 'algorithm': '%s'" % algo[:64])
        params = {}
        for item in rest.split(","):
            k, eq, v = item.strip().partition("=")
            if eq:
                params[k.strip()] = v.strip()
        missing = [p for p in ("Credential", "SignedHeaders", "Signature") if not params.get(p)]
        if missing:
            return fail(400, "IncompleteSignature",
                        " ".join("Authorization header requires '%s' parameter." % p
                                 for p in missing))
        scope = params["Credential"].split("/")
        if len(scope) != 5 or not all(scope):
            return fail(400, "IncompleteSignature",
                        "Credential must have exactly 5 slash-delimited elements, "
                        "e.g. keyid/date/region/service/term")
        akid, sdate, region, service, term = scope
        signed = params["SignedHeaders"].split(";")
        amz_date = self.headers.get("X-Amz-Date")
        if not amz_date:
            return fail(400, "IncompleteSignature",
                        "Authorization header requires existence of either a 'X-Amz-Date' "
                        "or a 'Date' header.")
        try:
            req_ts = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return fail(400, "IncompleteSignature",
                        "Date must be in ISO-8601 'basic format'. Got '%s'." % amz_date[:32])

        with self.st.lock:
            cred = self.st.creds.get(akid)
            sc = self.st.scenario
            offset = sc["clock_offset"]
            want_region = sc["sts_region"]
        if cred is None:
            return fail(403, "InvalidClientTokenId",
                        "The security token included in the request is invalid.")
        rec["approver"] = cred["approver"]
        rec["account_id"], rec["role_name"] = cred["account"], cred["role"]
        tok = self.headers.get("X-Amz-Security-Token")
        if (tok is None or "x-amz-security-token" not in signed
                or not hmac.compare_digest(tok.encode(), cred["session_token"].encode())):
            return fail(403, "InvalidClientTokenId",
                        "The security token included in the request is invalid.")
        now = time.time() + offset
        fmt = lambda ts: time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ts))
        if req_ts < now - STS_SKEW:
            return fail(403, "SignatureDoesNotMatch",
                        "Signature expired: %s is now earlier than %s (%s - 15 min.)"
                        % (amz_date, fmt(now - STS_SKEW), fmt(now)))
        if req_ts > now + STS_SKEW:
            return fail(403, "SignatureDoesNotMatch",
                        "Signature not yet current: %s is still later than %s (%s + 15 min.)"
                        % (amz_date, fmt(now + STS_SKEW), fmt(now)))
        if sdate != amz_date[:8]:
            return fail(403, "SignatureDoesNotMatch",
                        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                        "of date from HTTP: '%s' != '%s', from '%s'."
                        % (sdate[:16], amz_date[:8], amz_date))
        if want_region and region != want_region:
            return fail(403, "SignatureDoesNotMatch",
                        "Credential should be scoped to a valid region. ")
        if service != "sts":
            return fail(403, "SignatureDoesNotMatch",
                        "Credential should be scoped to correct service: 'sts'. ")
        if term != "aws4_request":
            return fail(403, "SignatureDoesNotMatch",
                        "Credential should be scoped with a valid terminator: 'aws4_request', "
                        "not '%s'. " % term[:32])
        if "host" not in signed:
            return fail(403, "SignatureDoesNotMatch",
                        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        want = sigv4_signature(cred["secret"], self.command, self.path, self.headers,
                               signed, body, amz_date, "/".join(scope[1:]), sdate, region, service)
        if not hmac.compare_digest(want.encode(), params["Signature"].lower().encode()):
            return fail(403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your AWS Secret Access Key and signing method. Consult "
                        "the service documentation for details.")
        if now * 1000 >= cred["expiration"]:
            return fail(403, "ExpiredToken",
                        "The security token included in the request is expired")
        form = urllib.parse.parse_qs(query, keep_blank_values=True)
        if body:
            for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                              keep_blank_values=True).items():
                form.setdefault(k, []).extend(v)
        rec["members"] = sorted(form.keys())
        action = form.get("Action", [""])[0]
        version = form.get("Version", [""])[0]
        if action != "GetCallerIdentity" or version != "2011-06-15":
            return fail(400, "InvalidAction",
                        "Could not find operation %s for version %s"
                        % (action[:64] or "NO_ACTION", version[:32] or "NO_VERSION"))
        rec["sigv4"] = "ok"
        acct, role, who = cred["account"], cred["role"], cred["approver"]
        arn = sc["arn_override"] if sc["arn_override"] is not None else \
            "arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s_%s/%s" % (acct, role, ARN_SUFFIX, who)
        h = hashlib.sha256(("%s/%s" % (acct, role)).encode()).digest()
        role_id = "AROA" + "".join(string.ascii_uppercase[b % 26] if b % 3 else
                                   string.digits[b % 10] for b in h[:17])
        xml = ('<GetCallerIdentityResponse xmlns="%s">\n  <GetCallerIdentityResult>\n'
               '    <Arn>%s</Arn>\n    <UserId>%s:%s</UserId>\n    <Account>%s</Account>\n'
               '  </GetCallerIdentityResult>\n  <ResponseMetadata>\n'
               '    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n'
               '</GetCallerIdentityResponse>\n'
               % (STS_NS, xml_escape(arn), role_id, xml_escape(who), xml_escape(acct), rid))
        r = Resp(200, xml.encode(), ctype="text/xml")
        r.request_id = rid
        return r

    # ---- OpenID provider (--mode oidc) ---------------------------------------------
    def _route_oidc(self, method, path):
        with self.st.lock:
            ip = self.st.scenario["issuer_path"]
        table = {
            ("GET", ip + "/.well-known/openid-configuration"): "Discovery",
            ("GET", ip + "/jwks"): "JWKS",
            ("POST", ip + "/device_authorization"): "DeviceAuthorization",
            ("POST", ip + "/token"): "Token",
        }
        if (method, path) in table:
            return table[(method, path)]
        if method == "GET" and path in ("/", "/device", "/device/",
                                        ip + "/device", ip + "/device/"):
            return "Page"
        if method == "POST" and path in ("/device/decide", ip + "/device/decide"):
            return "Decide"
        return "Unknown"

    def _oerr(self, sc, code, desc, status=None, basic=False):
        """An OAuth error answer in the scenario's shape (lock held or sc a copy)."""
        shape = sc["shape"]
        if status is None:
            status = 401 if code == "invalid_client" else 400
            if shape == "google" and code == "authorization_pending":
                status = 428
        status = sc["error_status"].get(code, status)
        body = {"error": code, "error_description": desc}
        if shape == "entra":
            num, text = ENTRA_CODES.get(code, (90000, desc))
            trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
            ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
            body = {"error": code,
                    "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\n"
                                         "Timestamp: %s" % (num, text, trace, corr, ts),
                    "error_codes": [num], "timestamp": ts, "trace_id": trace,
                    "correlation_id": corr,
                    "error_uri": "https://login.microsoftonline.com/error?code=%d" % num}
        headers = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        if basic and status == 401:
            headers.append(("WWW-Authenticate", 'Basic realm="standin"'))
        return Resp(status, jbytes(body), headers=headers, error=code)

    def _form(self, rec, body, sc):
        """The form parameters as {name: value}, or (None, error answer).
        Strict as RFC 6749 asks: form-encoded, no parameter twice; an empty
        value counts as absent (RFC 6749 3.1)."""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return None, self._oerr(sc, "invalid_request",
                                    "Content-Type must be application/x-www-form-urlencoded")
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                           strict_parsing=bool(body), errors="strict")
        except (ValueError, UnicodeDecodeError):
            return None, self._oerr(sc, "invalid_request", "malformed form body")
        rec["members"] = sorted(set(k for k, _ in pairs))
        form = {}
        for k, v in pairs:
            if k in form:
                return None, self._oerr(sc, "invalid_request", "parameter %s repeated" % k[:64])
            form[k] = v
        return {k: v for k, v in form.items() if v != ""}, None

    def _client_form(self, rec, body, sc):
        """The request's form and the client it authenticated as: (form,
        client_id, None), or (.., .., the error answer)."""
        form, err = self._form(rec, body, sc)
        if err:
            return None, None, err
        cid, err = self._client_auth(rec, form, sc)
        return form, cid, err

    def _client_auth(self, rec, form, sc):
        """Authenticate the client (RFC 6749 2.3); return (client_id, None) or
        (None, error answer). Each client must use exactly its own method."""
        import base64
        import binascii
        authz = self.headers.get("Authorization")
        body_id, body_secret = form.get("client_id"), form.get("client_secret")
        basic = authz is not None
        if basic:
            scheme, _, cred = authz.strip().partition(" ")
            rec["auth"] = "client_secret_basic"
            if scheme.lower() != "basic":
                rec["auth"] = scheme[:32]
                return None, self._oerr(sc, "invalid_client",
                                        "unsupported authorization scheme", basic=True)
            try:
                raw = base64.b64decode(cred.strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                return None, self._oerr(sc, "invalid_client", "malformed Basic credentials",
                                        basic=True)
            user, colon, pw = raw.partition(":")
            cid, secret = urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(pw)
            rec["client_id"] = cid[:128] or None
            if not colon or not cid:
                return None, self._oerr(sc, "invalid_client", "malformed Basic credentials",
                                        basic=True)
            if body_secret is not None:
                return None, self._oerr(sc, "invalid_request",
                                        "more than one client authentication method")
            if body_id is not None and body_id != cid:
                return None, self._oerr(sc, "invalid_client",
                                        "client_id differs from the Basic credentials",
                                        basic=True)
            method = "client_secret_basic"
        elif body_secret is not None:
            method, cid, secret = "client_secret_post", body_id, body_secret
        elif body_id is not None:
            method, cid, secret = "none", body_id, None
        else:
            return None, self._oerr(sc, "invalid_client", "no client authentication")
        rec["auth"], rec["client_id"] = method, cid[:128] if cid else None
        if not cid:
            return None, self._oerr(sc, "invalid_client", "client_id is required")
        c = sc["clients"].get(cid)
        if c is None:
            return None, self._oerr(sc, "invalid_client", "unknown client", basic=basic)
        want = c.get("auth", "none")
        if want != method:
            return None, self._oerr(sc, "invalid_client",
                                    "this client authenticates with %s, not %s" % (want, method),
                                    basic=basic)
        if method != "none" and not hmac.compare_digest(c["secret"].encode(), secret.encode()):
            return None, self._oerr(sc, "invalid_client", "wrong client secret", basic=basic)
        return cid, None

    def h_Discovery(self, rec, body, query):
        with self.st.lock:
            sc = _copy(self.st.scenario)
            iss = self.st.issuer()
        doc = {
            "issuer": iss,
            "device_authorization_endpoint": iss + "/device_authorization",
            "token_endpoint": iss + "/token",
            "jwks_uri": iss + "/jwks",
            "token_endpoint_auth_methods_supported": sc["token_endpoint_auth_methods_supported"],
            "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "grant_types_supported": [DEVICE_GRANT],
        }
        if sc["discovery_issuer_override"] is not None:
            doc["issuer"] = sc["discovery_issuer_override"]
        for k, v in sc["discovery_overrides"].items():
            if v is None:
                doc.pop(k, None)
            else:
                doc[k] = v
        return Resp(200, jbytes(doc))

    def h_JWKS(self, rec, body, query):
        with self.st.lock:
            sc = self.st.scenario
            keys = [dict(k.jwk) for k in self.st.keys]
            if sc["jwks_wrong_type"]:
                rk, ek = self.st.current_key("RSA"), self.st.current_key("EC")
                for j in keys:
                    if j["kid"] == rk.kid and j["kty"] == "RSA":
                        j["kid"] = ek.kid
                    elif j["kid"] == ek.kid and j["kty"] == "EC":
                        j["kid"] = rk.kid
            many, deep, huge = sc["jwks_many"], sc["jwks_deep"], sc["jwks_huge"]
        if many is not False:
            n = JWKS_MANY_DEFAULT if many is True else many
            keys = filler_keys(max(0, n - len(keys))) + keys
        if deep is not False:
            d = JWKS_DEEP_DEFAULT if deep is True else deep
            # {"keys":[{..., "x-deep":[[...]]}]}: object, array, object, then d-3 arrays.
            keys = [{"kty": "EC", "use": "sig", "kid": "deep", "crv": "P-256",
                     "x-deep": "@DEEP@"}] + keys
            out = jbytes({"keys": keys}).replace(b'"@DEEP@"', b"[" * (d - 3) + b"]" * (d - 3))
        else:
            out = jbytes({"keys": keys})
        if huge is not False:
            size = JWKS_HUGE_DEFAULT if huge is True else huge
            prefix = out[:-1] + b',"padding":"'
            out = prefix + b"A" * max(0, size - len(prefix) - 2) + b'"}'
        return Resp(200, out)

    def h_DeviceAuthorization(self, rec, body, query):
        with self.st.lock:
            sc = self.st.scenario
            form, cid, err = self._client_form(rec, body, sc)
            if err:
                return err
            scope = form.get("scope")
            rec["scope"] = scope[:512] if scope else None
            if scope is None or "openid" not in scope.split(" "):
                return self._oerr(sc, "invalid_scope", "the scope must include openid")
            now = time.time()
            interval = 5 if sc["shape"] == "entra" else sc["interval"]
            dev = self._new_device(sc, now, cid, interval, scope=scope)
            dcode, ucode = dev["device_code"], dev["user_code"]
            page = self.st.issuer() + "/device"
            uri_name = "verification_url" if sc["shape"] == "google" else "verification_uri"
            out = {"device_code": dcode, "user_code": ucode, uri_name: page,
                   "verification_uri_complete": complete_uri(sc, page, self.st.port, ucode),
                   "expires_in": sc["expires_in"]}
            if interval is not None:
                out["interval"] = interval
            for k, v in sc["device_overrides"].items():
                if v is None:
                    out.pop(k, None)
                else:
                    out[k] = v
        rec["user_code"] = ucode
        return Resp(200, jbytes(out), headers=[("Cache-Control", "no-store")])

    def _id_token(self, sc, dev, client_id, now):
        """The ID token for an approved device, as the scenario shapes it
        (lock held). Returns (token, kid or None, alg of the header)."""
        alg = sc["id_token_alg"]
        key = self.st.current_key("EC" if alg == "ES256" else "RSA")
        header = {"alg": {"HS256-pubkey": "HS256", "HS256-pubkey-der": "HS256"}.get(alg, alg),
                  "typ": "JWT"}
        kid = key.kid if sc["kid_override"] is False else sc["kid_override"]
        if kid is not None:
            header["kid"] = kid
        now = int(now)
        who = dev["approver"]
        claims = {"iss": self.st.issuer() if sc["iss_override"] is None else sc["iss_override"],
                  "sub": who,
                  "aud": client_id if sc["aud_override"] is None else sc["aud_override"]}
        if sc["azp"] is not None:
            claims["azp"] = sc["azp"]
        claims["exp"] = now + sc["exp_offset"]
        claims["iat"] = now + sc["iat_offset"]
        if sc["nbf_offset"] is not None:
            claims["nbf"] = now + sc["nbf_offset"]
        claims["preferred_username"] = who
        groups = sc["groups"]
        if who in groups or "*" in groups:
            claims["groups"] = list(groups[who] if who in groups else groups["*"])
        claims.update(_copy(sc["extra_claims"]))
        claims.update(_copy(sc["claims_override"]))
        for name in sc["claims_remove"]:
            claims.pop(name, None)
        htext = jbytes(header).decode()
        ptext = json.dumps(claims, separators=(",", ":"), ensure_ascii=False)
        signing_input = (b64url(htext.encode()) + "." + b64url(ptext.encode())).encode()
        sig = jws_sign(alg, key, signing_input, der=sc["signature_der"])
        if sc["tamper"] == "header":
            htext = tamper_json(htext, "header")
        elif sc["tamper"] == "payload":
            ptext = tamper_json(ptext, "payload")
        token = "%s.%s.%s" % (b64url(htext.encode()), b64url(ptext.encode()), b64url(sig))
        return token, header.get("kid"), header["alg"]

    def h_Token(self, rec, body, query):
        now = time.time()
        with self.st.lock:
            sc = self.st.scenario
            form, cid, err = self._client_form(rec, body, sc)
            if err:
                return err
            gt = form.get("grant_type")
            rec["grant"] = gt[:128] if gt else None
            if gt is None:
                return self._oerr(sc, "invalid_request", "grant_type is required")
            if gt != DEVICE_GRANT:
                return self._oerr(sc, "unsupported_grant_type",
                                  "only %s is supported" % DEVICE_GRANT)
            dc = form.get("device_code")
            if dc is None:
                return self._oerr(sc, "invalid_request", "device_code is required")
            dev = self.st.devices.get(dc)
            if dev is None or dev["client_id"] != cid:
                return self._oerr(sc, "invalid_grant", "unknown device_code")
            rec["user_code"] = dev["user_code"]
            rec["scope"] = dev["scope"][:512]
            if dev["status"] == "redeemed":
                return self._oerr(sc, "invalid_grant", "device_code already used")
            if self.st.dev_status(dev, now) == "expired":
                return self._oerr(sc, "expired_token", "device_code expired")
            dev["polls"] += 1
            idx = dev["polls"]
            rec["poll"] = idx
            prev, dev["last_poll"] = dev["last_poll"], now
            interval = dev["interval"] if dev["interval"] is not None else 5
            if sc["enforce_interval"] and prev is not None and now - prev < interval - 0.25:
                return self._slow_down(sc, dev)
            if idx in sc["slow_down_polls"]:
                return self._slow_down(sc, dev)
            if sc["expire_after_polls"] is not None and idx > sc["expire_after_polls"]:
                dev["expired"] = True
                return self._oerr(sc, "expired_token", "device_code expired")
            self.st.settle_timed(dev, now)
            if (dev["status"] == "pending" and sc["approve_after_polls"] is not None
                    and dev["pending_answers"] >= sc["approve_after_polls"]):
                dev["status"] = "approved" if sc["decision"] == "approve" else "denied"
                dev["approver"] = sc["approver"]
            rec["approver"] = dev["approver"]
            if dev["status"] == "denied":
                if sc["shape"] == "entra":
                    return self._oerr(sc, "authorization_declined", "the user declined")
                return self._oerr(sc, "access_denied", "the user denied the request")
            if dev["status"] == "approved":
                out = {"access_token": "atoken-" + rand_hex(32), "token_type": "Bearer",
                       "expires_in": OIDC_ACCESS_TOKEN_TTL}
                if not sc["omit_id_token"]:
                    out["id_token"], rec["kid"], rec["alg"] = self._id_token(sc, dev, cid, now)
                dev["status"] = "redeemed"
                return Resp(200, jbytes(out),
                            headers=[("Cache-Control", "no-store"), ("Pragma", "no-cache")])
            dev["pending_answers"] += 1
            return self._oerr(sc, "authorization_pending", "the user has not decided yet")

    def _slow_down(self, sc, dev):
        dev["slow_downs"] += 1
        if sc["slow_down_sticky"]:
            # RFC 8628 3.5: the interval grows by 5 s for this and every later poll.
            dev["interval"] = (dev["interval"] if dev["interval"] is not None else 5) + 5
        return self._oerr(sc, "slow_down", "polling too fast")

    def _oidc_fault_response(self, op, fault, rec, body, path, query):
        kind = fault["kind"]
        shared = self._shared_fault(kind, fault)
        if shared is not None:
            return shared
        with self.st.lock:
            sc = _copy(self.st.scenario)
        if kind == "http500":
            return self._oerr(sc, "server_error", "internal error", status=500)
        if kind == "throttle":
            return self._with_retry_after(
                self._oerr(sc, "temporarily_unavailable", "rate exceeded", status=429), fault)
        if kind == "slowdown":
            return self._oerr(sc, "slow_down", "polling too fast")
        if kind == "illtyped":
            bad = {
                "Discovery": {"issuer": 42, "device_authorization_endpoint": ["x"],
                              "token_endpoint": {"u": 1}, "jwks_uri": True,
                              "token_endpoint_auth_methods_supported": "none"},
                "JWKS": {"keys": "x"},
                "DeviceAuthorization": {"device_code": 1, "user_code": ["ABCD-EFGH"],
                                        "verification_uri": 5,
                                        "verification_uri_complete": {"u": 1},
                                        "expires_in": "600", "interval": "fast"},
                "Token": {"access_token": 7, "token_type": ["Bearer"], "expires_in": "3600",
                          "id_token": 42},
            }
            return Resp(200, jbytes(bad[op]))
        if kind == "invalid_client":
            return self._oerr(sc, "invalid_client", "client authentication failed")
        resp = self._handle(op, rec, body, path, query)
        if kind == "huge":
            return self._make_huge(resp)
        if kind == "control_chars":
            try:
                obj = json.loads(resp.body)
            except ValueError:
                return resp
            if isinstance(obj, dict):
                for k in ("user_code", "verification_uri", "verification_url",
                          "verification_uri_complete", "error_description", "message"):
                    if isinstance(obj.get(k), str):
                        obj[k] = CC_PREFIX + obj[k] + CC_SUFFIX
                resp.body = jbytes(obj)
            return resp
        return resp

    # ---- approval page -----------------------------------------------------------
    def h_page(self, rec, query):
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        code = q.get("user_code", [""])[0]
        rec["user_code"] = code[:64] or None
        with self.st.lock:
            user = self.st.scenario["approver"]
        inner = ("<h1>Authorize request</h1>"
                 "<p>A device is asking to sign in with your identity. Check that the code "
                 "below matches the one shown on the device.</p>"
                 "<form method=\"post\" action=\"/device/decide\">"
                 "<label for=\"user_code\">Code</label>"
                 "<input type=\"text\" class=\"code\" id=\"user_code\" name=\"user_code\" "
                 "value=\"%s\" autocomplete=\"off\" required>"
                 "<label for=\"user\">Signed in as</label>"
                 "<input type=\"text\" id=\"user\" name=\"user\" value=\"%s\" required>"
                 "<button class=\"ok\" type=\"submit\" name=\"decision\" value=\"approve\">"
                 "Approve</button>"
                 "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>"
                 "</form><p class=\"note\">Local test stand-in &mdash; not %s.</p>"
                 % (html.escape(code, quote=True), html.escape(user, quote=True),
                    "an AWS service" if self.st.mode == "aws" else "a real identity provider"))
        if self.st.mode == "oidc":
            return html_page("Stand-in OpenID provider \u2014 authorize request", inner)
        return html_page("Stand-in for AWS access portal \u2014 authorize request", inner)

    def h_decide(self, rec, body):
        f = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        code = normalize_user_code(f.get("user_code", [""])[0])
        user = f.get("user", [""])[0].strip()
        decision = f.get("decision", [""])[0]
        rec["user_code"] = code[:64] or None
        rec["members"] = sorted(f.keys())
        if decision not in ("approve", "deny"):
            rec["op"] = "Page"
            return html_page("Bad request",
                             "<h1>Bad request</h1><p>decision must be approve or deny.</p>", 400)
        rec["op"] = "Approve" if decision == "approve" else "Deny"
        now = time.time()
        with self.st.lock:
            user = user or self.st.scenario["approver"]
            rec["approver"] = user
            dev = self.st.devices.get(self.st.user_codes.get(code))
            if dev is not None:
                self.st.settle_timed(dev, now)
            if dev is None or self.st.dev_status(dev, now) != "pending":
                r = html_page("Unknown or expired code",
                              "<h1>Unknown or expired code</h1><p>The code <span class=\"code\">"
                              "%s</span> is not waiting for a decision.</p>"
                              % html.escape(code), 404)
                r.error = "UnknownCode"
                return r
            dev["status"] = "approved" if decision == "approve" else "denied"
            dev["approver"] = user
            rec["client_id"] = dev["client_id"]
        word = "approved" if decision == "approve" else "denied"
        return html_page("Request " + word,
                         "<h1>Request %s</h1><p>Code <span class=\"code\">%s</span> %s as "
                         "<b>%s</b>. You can close this window.</p>"
                         % (word, html.escape(code), word, html.escape(user)))

    # ---- control ----------------------------------------------------------------
    def h_control(self, rec, body, path, query):
        m = self.command
        ok = lambda obj: Resp(200, jbytes(obj))
        if path == "/_standin/reset" and m == "POST":
            self.st.reset()
            return ok({"ok": True})
        if path == "/_standin/scenario" and m in ("POST", "GET"):
            if m == "GET":
                with self.st.lock:
                    return ok(_copy(self.st.scenario))
            try:
                upd = json.loads(body.decode("utf-8")) if body else {}
                rec["members"] = sorted(upd) if isinstance(upd, dict) else None
                return ok(self.st.merge_scenario(upd))
            except (ValueError, UnicodeDecodeError) as e:
                return Resp(400, jbytes({"error": str(e)}), error="BadScenario")
        if path == "/_standin/log" and m == "GET":
            with self.st.lock:
                return ok(list(self.st.log))
        if path == "/_standin/devices" and m == "GET":
            now = time.time()
            out = []
            with self.st.lock:
                for dev in self.st.devices.values():
                    self.st.settle_timed(dev, now)
                    out.append({"userCode": dev["user_code"],
                                "status": self.st.dev_status(dev, now),
                                "approver": dev["approver"], "clientId": dev["client_id"],
                                "polls": dev["polls"], "slowDowns": dev["slow_downs"]})
            return ok(out)
        if path == "/_standin/rotate" and m == "POST" and self.st.mode == "oidc":
            try:
                upd = json.loads(body.decode("utf-8")) if body else {}
                if not (isinstance(upd, dict) and set(upd) <= {"keep_old"}
                        and isinstance(upd.get("keep_old", False), bool)):
                    raise ValueError('rotate takes {"keep_old": true|false}')
            except (ValueError, UnicodeDecodeError) as e:
                return Resp(400, jbytes({"error": str(e)}), error="BadRotate")
            rec["members"] = sorted(upd)
            with self.st.lock:
                return ok({"ok": True, "kids": self.st.rotate(upd.get("keep_old", False))})
        return Resp(404, jbytes({"error": "unknown control endpoint"}), error="NotFound")


def _uri_encode(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def _canonical_uri(raw_path):
    path = raw_path or "/"
    segs = []
    for seg in path.split("/"):
        if seg == "..":
            if segs:
                segs.pop()
        elif seg not in ("", "."):
            segs.append(seg)
    norm = "/" + "/".join(segs)
    if path.endswith("/") and norm != "/":
        norm += "/"
    return _uri_encode(norm, safe="-_.~/")


def _canonical_query(raw_query):
    pairs = []
    if raw_query:
        for part in raw_query.split("&"):
            if not part:
                continue
            k, _, v = part.partition("=")
            k = urllib.parse.unquote(k)
            v = urllib.parse.unquote(v)
            pairs.append((_uri_encode(k), _uri_encode(v)))
    pairs.sort()
    return "&".join("%s=%s" % kv for kv in pairs)


def sigv4_signature(secret, method, target, headers, signed, body, amz_date, scope,
                    sdate, region, service):
    """Independent AWS Signature Version 4 computation for a received request."""
    url = urllib.parse.urlsplit(target)
    canon_headers = ""
    for name in signed:
        vals = headers.get_all(name) or []
        canon_headers += "%s:%s\n" % (name.lower(),
                                      ",".join(" ".join(v.split()) for v in vals))
    canonical = "\n".join([method, _canonical_uri(url.path), _canonical_query(url.query),
                           canon_headers, ";".join(signed), hashlib.sha256(body).hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (sdate, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="Local test stand-in for AWS IAM Identity Center")
    ap.add_argument("--dir", required=True, help="state directory (certs, port, requests.jsonl)")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free)")
    ap.add_argument("--scenario", default=None, help="JSON object of initial scenario keys")
    ap.add_argument("--mode", choices=("aws", "oidc"), default="aws",
                    help="aws: IAM Identity Center (default); oidc: a hostile OpenID provider")
    a = ap.parse_args(argv)

    initial = None
    if a.scenario:
        try:
            initial = json.loads(a.scenario)
            validate_scenario(initial, a.mode)
        except ValueError as e:
            print("standin: bad --scenario: %s" % e, file=sys.stderr)
            return 2
    if a.mode == "oidc":
        import importlib.util
        if importlib.util.find_spec("cryptography") is None:
            print("standin: --mode oidc needs python3-cryptography", file=sys.stderr)
            return 2

    d = os.path.abspath(a.dir)
    os.makedirs(d, mode=0o700, exist_ok=True)
    port_file = os.path.join(d, "port")
    try:
        os.unlink(port_file)
    except FileNotFoundError:
        pass
    cert, key = ensure_certs(d)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])

    state = State(d, initial, a.mode)
    srv = Server(("127.0.0.1", a.port), state, ctx)
    state.port = srv.server_address[1]

    def on_signal(signum, frame):
        STOP.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    tmp = port_file + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write("%d\n" % state.port)
    os.replace(tmp, port_file)
    print("standin listening on https://127.0.0.1:%d" % state.port, flush=True)

    while not STOP.wait(1.0):
        pass
    srv.shutdown()
    srv.server_close()
    try:
        os.unlink(port_file)
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
