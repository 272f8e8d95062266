#!/usr/bin/python3
"""Conformance test: botocore's real sso-oidc / sso / sts clients against the stand-in.

Starts its own stand-in in a temporary directory, drives it with botocore and
raw HTTPS, prints TAP (ok N - ... / not ok N - ..., then 1..N) and exits 1 if
any check failed.
"""

import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

for k in list(os.environ):
    if k.startswith("AWS_"):
        del os.environ[k]
os.environ["AWS_CONFIG_FILE"] = "/dev/null"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import botocore  # noqa: E402
import botocore.config  # noqa: E402
import botocore.session  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "standin.py")
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ACCT, ROLE = "111122223333", "LinuxLogin"

sys.path.insert(0, os.path.join(HERE, ".."))
from tap import Tap  # noqa: E402

TAP = Tap()


def check(desc, cond, detail=None):
    return bool(TAP.check(cond, desc, detail))


def raises(desc, fn, exc, pred=None):
    """Check that fn() raises exc (and pred(e) holds); return the exception or None."""
    try:
        r = fn()
    except exc as e:
        ok = pred(e) if pred else True
        check(desc, ok, None if ok else "exception did not match: %r %r"
              % (e, getattr(e, "response", None)))
        return e
    except Exception as e:  # wrong exception
        check(desc, False, "raised %s: %s" % (type(e).__name__, e))
        return None
    check(desc, False, "no exception; returned %r" % (r,))
    return None


def attempt(desc, fn):
    """Run fn(); a crash is reported as a failed check.  Returns fn's value or None."""
    try:
        return fn()
    except Exception as e:
        check(desc, False, "%s: %s" % (type(e).__name__, e))
        return None


class Standin:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="standin-test-")
        self.out = open(os.path.join(self.dir, "stdout.txt"), "w")
        self.proc = subprocess.Popen(["/usr/bin/python3", STANDIN, "--dir", self.dir,
                                      "--port", "0"], stdout=self.out, stderr=subprocess.STDOUT)
        pf = os.path.join(self.dir, "port")
        deadline = time.time() + 20
        while not os.path.exists(pf):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("stand-in did not start: " + open(self.out.name).read())
            time.sleep(0.05)
        self.port = int(open(pf).read())
        self.base = "https://127.0.0.1:%d" % self.port
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def conn(self, timeout=10):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                           timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or self.conn()
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def ctl(self, method, path, obj=None):
        st, _, data = self.request(method, "/_standin/" + path, obj if obj is not None else
                                   (b"" if method == "POST" else None))
        return st, json.loads(data) if data else None

    def scenario(self, **kw):
        st, sc = self.ctl("POST", "scenario", kw)
        if st != 200:
            raise RuntimeError("scenario rejected: %s" % sc)
        return sc

    def reset(self, **kw):
        self.ctl("POST", "reset")
        if kw:
            self.scenario(**kw)

    def decide(self, code, user="alice", decision="approve"):
        data = urllib.parse.urlencode({"user_code": code, "user": user,
                                       "decision": decision}).encode()
        req = urllib.request.Request(self.base + "/device/decide", data=data)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode


# ---------------------------------------------------------------------------
# model conformance of every raw answer botocore received
# ---------------------------------------------------------------------------

captured = []
capture_on = [True]


def _capture(http_response, parsed, model, **kw):
    if capture_on[0]:
        captured.append((model, http_response.status_code,
                         {k.lower(): v for k, v in http_response.headers.items()},
                         http_response.content))


def shape_problems(shape, value, where):
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            return ["%s: expected object, got %r" % (where, value)]
        out = []
        for k, v in value.items():
            if k not in shape.members:
                out.append("%s: member %r not in %s" % (where, k, shape.name))
            else:
                out += shape_problems(shape.members[k], v, where + "." + k)
        return out
    if t == "list":
        if not isinstance(value, list):
            return ["%s: expected list" % where]
        return sum((shape_problems(shape.member, v, "%s[%d]" % (where, i))
                    for i, v in enumerate(value)), [])
    if t == "string":
        return [] if isinstance(value, str) else ["%s: expected string" % where]
    if t in ("integer", "long"):
        return [] if isinstance(value, int) and not isinstance(value, bool) else \
            ["%s: expected integer" % where]
    if t == "boolean":
        return [] if isinstance(value, bool) else ["%s: expected boolean" % where]
    return []


def conformance_problems():
    probs, seen_ops, seen_errors = [], set(), set()
    for model, status, headers, content in captured:
        if model.service_model.protocol != "rest-json":
            continue
        name = model.name
        if status == 200:
            seen_ops.add(name)
            if model.output_shape is None:
                continue
            try:
                obj = json.loads(content) if content else {}
            except ValueError as e:
                probs.append("%s: body not JSON: %s" % (name, e))
                continue
            probs += shape_problems(model.output_shape, obj, name)
            continue
        etype = headers.get("x-amzn-errortype", "").split(":")[0]
        shapes = {s.name: s for s in model.error_shapes}
        if etype not in shapes:
            if etype != "ForbiddenException":  # deliberately not modelled by AWS either
                probs.append("%s: HTTP %d error type %r not in model" % (name, status, etype))
            continue
        seen_errors.add(etype)
        want = shapes[etype].metadata.get("error", {}).get("httpStatusCode")
        if want != status:
            probs.append("%s: %s sent with HTTP %d, model says %s" % (name, etype, status, want))
        try:
            probs += shape_problems(shapes[etype], json.loads(content), name + ":" + etype)
        except ValueError:
            probs.append("%s: %s body not JSON" % (name, etype))
    return probs, seen_ops, seen_errors


# ---------------------------------------------------------------------------

def main():
    t_start = time.time()
    sd = Standin()
    try:
        run(sd)
    except Exception as e:
        import traceback
        check("test driver did not crash", False, traceback.format_exc())
        del e
    finally:
        rc = sd.stop()
        check("stand-in exits 0 on SIGTERM", rc == 0, "rc=%r" % rc)
        check("port file removed on exit", not os.path.exists(os.path.join(sd.dir, "port")))
        # Said, not asserted: a loaded machine may take any time; every
        # request above has its own timeout.
        TAP.comment("the whole test took %.1f s" % (time.time() - t_start))
        shutil.rmtree(sd.dir, ignore_errors=True)
    return TAP.done()


def run(sd):
    spec = importlib.util.spec_from_file_location("standin", STANDIN)
    standin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(standin)

    session = botocore.session.get_session()
    # botocore's retries={"max_attempts": 1} still allows one retry (legacy mode counts
    # retries); total_max_attempts=1 means exactly one attempt per call.
    unsigned = botocore.config.Config(retries={"total_max_attempts": 1},
                                      signature_version=botocore.UNSIGNED)
    oidc = session.create_client("sso-oidc", endpoint_url=sd.base, region_name="us-east-1",
                                 verify=sd.ca, config=unsigned)
    sso = session.create_client("sso", endpoint_url=sd.base, region_name="us-east-1",
                                verify=sd.ca, config=unsigned)
    for c in (oidc, sso):
        c.meta.events.register("after-call", _capture)

    # --- the stand-in's error table agrees with the model ---------------------------
    m = session.get_service_model("sso-oidc")
    model_status = {n: m.shape_for(n).metadata["error"]["httpStatusCode"]
                    for n in m.shape_names if m.shape_for(n).metadata.get("exception")}
    mine = {k: v[0] for k, v in standin.OIDC_ERRORS.items()}
    check("stand-in OIDC error statuses equal the sso-oidc model", mine == model_status,
          "%r != %r" % (mine, model_status))
    pm = session.get_service_model("sso")
    pstat = {n: pm.shape_for(n).metadata["error"]["httpStatusCode"]
             for n in pm.shape_names if pm.shape_for(n).metadata.get("exception")}
    check("stand-in portal error statuses equal the sso model",
          all(standin.PORTAL_ERRORS[k] == v for k, v in pstat.items()), pstat)

    # --- RegisterClient -----------------------------------------------------------------
    t0 = int(time.time())
    reg = oidc.register_client(clientName="pam_ssooidc-test", clientType="public")
    check("register_client: clientId is cid-...", re.fullmatch(r"cid-[0-9a-f]+",
                                                               reg.get("clientId", "")), reg)
    check("register_client: clientSecret starts with csecret-",
          reg.get("clientSecret", "").startswith("csecret-"))
    check("register_client: clientIdIssuedAt is an int near now",
          isinstance(reg.get("clientIdIssuedAt"), int) and abs(reg["clientIdIssuedAt"] - t0) <= 2)
    check("register_client: clientSecretExpiresAt = issued + 7776000",
          reg.get("clientSecretExpiresAt") == reg.get("clientIdIssuedAt", 0) + 7776000)
    raises("register_client clientType=confidential -> InvalidRequestException",
           lambda: oidc.register_client(clientName="x", clientType="confidential"),
           oidc.exceptions.InvalidRequestException,
           lambda e: e.response["error"] == "invalid_request"
           and e.response["ResponseMetadata"]["HTTPStatusCode"] == 400)
    raises("register_client clientName='' -> InvalidRequestException",
           lambda: oidc.register_client(clientName="", clientType="public"),
           oidc.exceptions.InvalidRequestException)
    cid, csec = reg["clientId"], reg["clientSecret"]

    def start(c=cid, s=csec):
        return oidc.start_device_authorization(clientId=c, clientSecret=s,
                                               startUrl="https://example.awsapps.com/start")

    def poll(dev, c=cid, s=csec):
        return oidc.create_token(clientId=c, clientSecret=s, grantType=GRANT,
                                 deviceCode=dev["deviceCode"])

    # --- StartDeviceAuthorization ---------------------------------------------------------
    dev = start()
    uc = dev.get("userCode", "")
    check("start_device_authorization: deviceCode devcode-...",
          dev.get("deviceCode", "").startswith("devcode-"))
    check("start_device_authorization: userCode ABCD-EFGH", re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", uc),
          uc)
    check("start_device_authorization: verificationUri", dev.get("verificationUri") ==
          sd.base + "/device", dev.get("verificationUri"))
    check("start_device_authorization: verificationUriComplete",
          dev.get("verificationUriComplete") == sd.base + "/device?user_code=" + uc)
    check("start_device_authorization: expiresIn 600, interval 1",
          dev.get("expiresIn") == 600 and dev.get("interval") == 1, dev)
    raises("start_device_authorization wrong secret -> InvalidClientException (401)",
           lambda: start(s="csecret-wrong"), oidc.exceptions.InvalidClientException,
           lambda e: e.response["ResponseMetadata"]["HTTPStatusCode"] == 401
           and e.response["error"] == "invalid_client")
    raises("start_device_authorization unknown client -> InvalidClientException",
           lambda: start(c="cid-nope"), oidc.exceptions.InvalidClientException)

    # --- CreateToken: pending, slow_down, approve ------------------------------------------
    raises("create_token before approval -> AuthorizationPendingException",
           lambda: poll(dev), oidc.exceptions.AuthorizationPendingException,
           lambda e: e.response["error"] == "authorization_pending")
    raises("create_token polled too fast -> SlowDownException", lambda: poll(dev),
           oidc.exceptions.SlowDownException, lambda e: e.response["error"] == "slow_down")
    st, page = sd.decide(uc.lower().replace("-", "- "), "alice", "approve")
    check("approval page: POST /device/decide approves (200, 'Request approved')",
          st == 200 and "Request approved" in page, (st, page[:300]))
    st, page = sd.decide(uc, "alice", "approve")
    check("approval page: deciding twice -> 404 'Unknown or expired code'",
          st == 404 and "Unknown or expired code" in page, st)
    time.sleep(1.0)
    tok = attempt("create_token after approval", lambda: poll(dev)) or {}
    check("create_token: accessToken atoken-..., tokenType Bearer, expiresIn 28800",
          tok.get("accessToken", "").startswith("atoken-") and tok.get("tokenType") == "Bearer"
          and tok.get("expiresIn") == 28800, tok)
    raises("create_token redeemed twice -> InvalidGrantException", lambda: poll(dev),
           oidc.exceptions.InvalidGrantException)
    raises("create_token unknown deviceCode -> InvalidGrantException",
           lambda: poll({"deviceCode": "devcode-unknown"}), oidc.exceptions.InvalidGrantException,
           lambda e: e.response["ResponseMetadata"]["HTTPStatusCode"] == 400)
    raises("create_token grantType refresh_token -> UnsupportedGrantTypeException",
           lambda: oidc.create_token(clientId=cid, clientSecret=csec, grantType="refresh_token",
                                     refreshToken="x"),
           oidc.exceptions.UnsupportedGrantTypeException)
    raises("create_token wrong secret -> InvalidClientException",
           lambda: poll(dev, s="csecret-x"), oidc.exceptions.InvalidClientException)
    st, devs = sd.ctl("GET", "devices")
    check("GET /_standin/devices shows the code redeemed by alice",
          any(d["userCode"] == uc and d["status"] == "redeemed" and d["approver"] == "alice"
              for d in devs), devs)
    page_st, _, page_body = sd.request("GET", "/device?user_code=%3Cb%3E")
    check("GET /device page: title, form, escaped user_code",
          page_st == 200 and b"Stand-in for AWS access portal" in page_body
          and b'action="/device/decide"' in page_body and b"&lt;b&gt;" in page_body
          and b"<b>\"" not in page_body, page_st)

    # --- deny -----------------------------------------------------------------------------
    dev2 = start()
    st, page = sd.decide(dev2["userCode"], "bob", "deny")
    check("approval page: deny -> 'Request denied'", st == 200 and "Request denied" in page, st)
    raises("create_token after deny -> AccessDeniedException", lambda: poll(dev2),
           oidc.exceptions.AccessDeniedException, lambda e: e.response["error"] == "access_denied")
    st, page = sd.decide("ZZZZ-ZZZZ")
    check("approval page: unknown code -> 404", st == 404 and "Unknown or expired code" in page)

    # --- expiry of device codes and registrations -------------------------------------------
    sd.scenario(registration_ttl=1)
    short = oidc.register_client(clientName="short", clientType="public")
    check("registration_ttl=1: clientSecretExpiresAt = issued + 1",
          short["clientSecretExpiresAt"] == short["clientIdIssuedAt"] + 1)
    sd.scenario(registration_ttl=7776000, expires_in=1)
    dev3 = start()
    check("expires_in=1 is returned", dev3["expiresIn"] == 1)
    time.sleep(1.2)
    raises("create_token after expiresIn -> ExpiredTokenException", lambda: poll(dev3),
           oidc.exceptions.ExpiredTokenException, lambda e: e.response["error"] == "expired_token")
    raises("start_device_authorization with expired registration -> InvalidClientException",
           lambda: start(short["clientId"], short["clientSecret"]),
           oidc.exceptions.InvalidClientException)

    # --- scripted decisions ---------------------------------------------------------------
    sd.reset(interval=None)
    reg = oidc.register_client(clientName="t2", clientType="public")
    cid, csec = reg["clientId"], reg["clientSecret"]
    d = start(cid, csec)
    check("interval=null: interval member omitted", "interval" not in d, d)
    raw = [c for c in captured if c[0].name == "StartDeviceAuthorization" and c[1] == 200][-1]
    check("interval=null: raw JSON has no interval key", "interval" not in json.loads(raw[3]))
    sd.scenario(interval=0, approve_after_polls=0, approver="bob")
    d = start(cid, csec)
    t = attempt("approve_after_polls=0: first poll", lambda: poll(d, cid, csec)) or {}
    check("approve_after_polls=0: first poll returns a token",
          t.get("accessToken", "").startswith("atoken-"))
    bob_token = t.get("accessToken")
    sd.scenario(approve_after_polls=2, approver="alice")
    d = start(cid, csec)
    raises("approve_after_polls=2: poll 1 pending", lambda: poll(d, cid, csec),
           oidc.exceptions.AuthorizationPendingException)
    raises("approve_after_polls=2: poll 2 pending", lambda: poll(d, cid, csec),
           oidc.exceptions.AuthorizationPendingException)
    t = attempt("approve_after_polls=2: poll 3", lambda: poll(d, cid, csec)) or {}
    check("approve_after_polls=2: poll 3 returns a token", "accessToken" in t)
    alice_token = t.get("accessToken")
    sd.scenario(approve_after_polls=0, decision="deny")
    d = start(cid, csec)
    raises("decision=deny auto-decision -> AccessDeniedException", lambda: poll(d, cid, csec),
           oidc.exceptions.AccessDeniedException)
    sd.scenario(approve_after_polls=None, decision="approve", approve_after_seconds=0.3)
    d = start(cid, csec)
    raises("approve_after_seconds=0.3: immediate poll pending", lambda: poll(d, cid, csec),
           oidc.exceptions.AuthorizationPendingException)
    time.sleep(0.4)
    t = attempt("approve_after_seconds=0.3: poll after 0.4 s", lambda: poll(d, cid, csec)) or {}
    check("approve_after_seconds=0.3: token after 0.4 s", "accessToken" in t)
    sd.scenario(approve_after_seconds=None, approve_after_polls=1, slow_down_polls=[1])
    d = start(cid, csec)
    raises("slow_down_polls=[1]: poll 1 -> SlowDownException", lambda: poll(d, cid, csec),
           oidc.exceptions.SlowDownException)
    raises("slow_down_polls=[1]: poll 2 pending", lambda: poll(d, cid, csec),
           oidc.exceptions.AuthorizationPendingException)
    check("slow_down_polls=[1]: poll 3 returns a token",
          "accessToken" in (attempt("poll 3", lambda: poll(d, cid, csec)) or {}))
    sd.scenario(approve_after_polls=None, slow_down_polls=[], expire_after_polls=1)
    d = start(cid, csec)
    raises("expire_after_polls=1: poll 1 pending", lambda: poll(d, cid, csec),
           oidc.exceptions.AuthorizationPendingException)
    raises("expire_after_polls=1: poll 2 -> ExpiredTokenException", lambda: poll(d, cid, csec),
           oidc.exceptions.ExpiredTokenException)
    sd.scenario(expire_after_polls=None)

    # --- portal ----------------------------------------------------------------------------
    rc = attempt("get_role_credentials", lambda: sso.get_role_credentials(
        roleName=ROLE, accountId=ACCT, accessToken=alice_token)) or {}
    rc = rc.get("roleCredentials", {})
    now_ms = time.time() * 1000
    check("get_role_credentials: accessKeyId ASIA + 16",
          re.fullmatch(r"ASIA[A-Z0-9]{16}", rc.get("accessKeyId", "")), rc.get("accessKeyId"))
    check("get_role_credentials: secretAccessKey sak-..., sessionToken stoken-...",
          rc.get("secretAccessKey", "").startswith("sak-")
          and rc.get("sessionToken", "").startswith("stoken-"))
    check("get_role_credentials: expiration is epoch ms ~ now + 1 h",
          isinstance(rc.get("expiration"), int)
          and abs(rc["expiration"] - (now_ms + 3600000)) < 60000, rc.get("expiration"))
    raises("get_role_credentials bad token -> UnauthorizedException",
           lambda: sso.get_role_credentials(roleName=ROLE, accountId=ACCT,
                                            accessToken="atoken-bogus"),
           sso.exceptions.UnauthorizedException,
           lambda e: e.response["ResponseMetadata"]["HTTPStatusCode"] == 401
           and "Session token not found or invalid" in e.response["Error"]["Message"])
    raises("get_role_credentials unassigned role -> ClientError ForbiddenException (403)",
           lambda: sso.get_role_credentials(roleName="Admin", accountId=ACCT,
                                            accessToken=alice_token),
           ClientError, lambda e: e.response["Error"]["Code"] == "ForbiddenException"
           and e.response["ResponseMetadata"]["HTTPStatusCode"] == 403)
    la = attempt("list_accounts", lambda: sso.list_accounts(accessToken=alice_token)) or {}
    check("list_accounts: accountList with 111122223333",
          [a.get("accountId") for a in la.get("accountList", [])] == [ACCT]
          and la["accountList"][0].get("accountName") and la["accountList"][0].get("emailAddress"),
          la)
    lr = attempt("list_account_roles", lambda: sso.list_account_roles(
        accessToken=alice_token, accountId=ACCT)) or {}
    check("list_account_roles: roleList LinuxLogin",
          lr.get("roleList") == [{"roleName": ROLE, "accountId": ACCT}], lr)
    sd.scenario(assignments={"*": [[ACCT, ROLE]],
                             "bob": [["444455556666", "Admin"], ["444455556666", "ReadOnly"],
                                     ["777788889999", "Admin"]]})
    la = sso.list_accounts(accessToken=bob_token)
    check("assignments per user override '*'",
          [a["accountId"] for a in la["accountList"]] == ["444455556666", "777788889999"], la)
    p1 = sso.list_account_roles(accessToken=bob_token, accountId="444455556666", maxResults=1)
    p2 = sso.list_account_roles(accessToken=bob_token, accountId="444455556666", maxResults=1,
                                nextToken=p1.get("nextToken", "?"))
    check("list_account_roles paginates with nextToken",
          [r["roleName"] for r in p1["roleList"] + p2["roleList"]] == ["Admin", "ReadOnly"]
          and "nextToken" not in p2, (p1, p2))
    raises("bob has no LinuxLogin -> ForbiddenException",
           lambda: sso.get_role_credentials(roleName=ROLE, accountId=ACCT, accessToken=bob_token),
           ClientError, lambda e: e.response["Error"]["Code"] == "ForbiddenException")

    # --- STS ---------------------------------------------------------------------------------
    def sts_client(akid=None, secret=None, token="__default__"):
        return session.create_client(
            "sts", endpoint_url=sd.base, region_name="us-east-1", verify=sd.ca,
            aws_access_key_id=akid or rc.get("accessKeyId"),
            aws_secret_access_key=secret or rc.get("secretAccessKey"),
            aws_session_token=rc.get("sessionToken") if token == "__default__" else token,
            config=botocore.config.Config(retries={"total_max_attempts": 1}))

    ident = attempt("sts get_caller_identity", lambda: sts_client().get_caller_identity()) or {}
    check("sts get_caller_identity: Arn",
          ident.get("Arn") == "arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s_0123456789abcdef/alice"
          % (ACCT, ROLE), ident.get("Arn"))
    check("sts get_caller_identity: Account", ident.get("Account") == ACCT)
    check("sts get_caller_identity: UserId AROA...:alice",
          re.fullmatch(r"AROA[A-Z0-9]+:alice", ident.get("UserId", "")), ident.get("UserId"))
    sd.scenario(arn_override="arn:aws:iam::999999999999:user/mallory")
    ident = sts_client().get_caller_identity()
    check("arn_override replaces the Arn", ident["Arn"] == "arn:aws:iam::999999999999:user/mallory")
    sd.scenario(arn_override=None)

    def sts_err(code, pred=None):
        return lambda e: e.response["Error"]["Code"] == code and (pred is None or pred(e))

    raises("sts wrong secret -> SignatureDoesNotMatch",
           lambda: sts_client(secret="sak-wrong").get_caller_identity(), ClientError,
           sts_err("SignatureDoesNotMatch", lambda e: "does not match" in
                   e.response["Error"]["Message"]
                   and e.response["ResponseMetadata"]["HTTPStatusCode"] == 403))
    raises("sts unknown access key -> InvalidClientTokenId",
           lambda: sts_client(akid="ASIAAAAAAAAAAAAAAAAA").get_caller_identity(), ClientError,
           sts_err("InvalidClientTokenId", lambda e: e.response["Error"]["Message"] ==
                   "The security token included in the request is invalid."))
    raises("sts wrong session token -> InvalidClientTokenId",
           lambda: sts_client(token="stoken-wrong").get_caller_identity(), ClientError,
           sts_err("InvalidClientTokenId"))
    raises("sts no session token -> InvalidClientTokenId",
           lambda: sts_client(token=None).get_caller_identity(), ClientError,
           sts_err("InvalidClientTokenId"))
    sd.scenario(clock_offset=3600)
    raises("sts clock_offset=3600 -> SignatureDoesNotMatch 'Signature expired'",
           lambda: sts_client().get_caller_identity(), ClientError,
           sts_err("SignatureDoesNotMatch", lambda e: re.match(
               r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z "
               r"\(\d{8}T\d{6}Z - 15 min\.\)$", e.response["Error"]["Message"])))
    sd.scenario(clock_offset=-3600)
    raises("sts clock_offset=-3600 -> SignatureDoesNotMatch 'Signature not yet current'",
           lambda: sts_client().get_caller_identity(), ClientError,
           sts_err("SignatureDoesNotMatch", lambda e: "not yet current" in
                   e.response["Error"]["Message"]))
    sd.scenario(clock_offset=600, sts_region="eu-west-1")
    raises("sts sts_region mismatch -> SignatureDoesNotMatch",
           lambda: sts_client().get_caller_identity(), ClientError,
           sts_err("SignatureDoesNotMatch"))
    sd.scenario(sts_region="us-east-1")
    check("sts clock_offset=600 (within 15 min) and matching sts_region still succeed",
          "Arn" in (attempt("sts skew 600", lambda: sts_client().get_caller_identity()) or {}))
    sd.scenario(clock_offset=0, sts_region=None)
    st, hd, body = sd.request("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15",
                              {"Content-Type": "application/x-www-form-urlencoded"})
    root = ET.fromstring(body)
    ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
    check("sts without Authorization -> 403 MissingAuthenticationToken XML ErrorResponse",
          st == 403 and root.findtext("s:Error/s:Code", namespaces=ns) ==
          "MissingAuthenticationToken" and root.findtext("s:Error/s:Type", namespaces=ns) ==
          "Sender" and root.findtext("s:RequestId", namespaces=ns) == hd.get("x-amzn-requestid"),
          body)
    st, hd, body = sd.request("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15",
                              {"Authorization": "AWS4-HMAC-SHA256 garbage"})
    check("sts malformed Authorization -> 400 IncompleteSignature",
          st == 400 and b"<Code>IncompleteSignature</Code>" in body, (st, body))

    # --- faults --------------------------------------------------------------------------------
    sd.scenario(faults={"RegisterClient": {"kind": "http500"}})
    raises("fault http500 -> botocore InternalServerException",
           lambda: oidc.register_client(clientName="f", clientType="public"),
           oidc.exceptions.InternalServerException,
           lambda e: e.response["ResponseMetadata"]["HTTPStatusCode"] == 500)
    sd.scenario(faults={"RegisterClient": {"kind": "http500", "after": 1, "count": 1}})
    seq = []
    for _ in range(3):
        try:
            oidc.register_client(clientName="f", clientType="public")
            seq.append("ok")
        except oidc.exceptions.InternalServerException:
            seq.append("500")
    check("fault after=1 count=1 hits only the 2nd call", seq == ["ok", "500", "ok"], seq)
    sd.scenario(faults={"GetCallerIdentity": {"kind": "http500"}})
    raises("fault http500 on STS -> ClientError InternalFailure (500)",
           lambda: sts_client().get_caller_identity(), ClientError,
           sts_err("InternalFailure", lambda e:
                   e.response["ResponseMetadata"]["HTTPStatusCode"] == 500))
    sd.scenario(faults={"CreateToken": {"kind": "invalid_client"}})
    raises("fault invalid_client on CreateToken -> InvalidClientException",
           lambda: poll({"deviceCode": "devcode-x"}, cid, csec),
           oidc.exceptions.InvalidClientException)
    capture_on[0] = False
    sd.scenario(faults={"StartDeviceAuthorization": {"kind": "control_chars"}})
    d = start(cid, csec)
    check("fault control_chars: userCode/verificationUri carry ESC and C1 bytes",
          "\x1b]0;pwned\x07" in d["userCode"] and "\x9b" in d["userCode"]
          and "\x1b" in d["verificationUri"] and "\x1b" in d["verificationUriComplete"]
          and re.search(r"[A-Z]{4}-[A-Z]{4}", d["userCode"]), repr(d.get("userCode")))
    sd.scenario(faults={"CreateToken": {"kind": "control_chars"}})
    raises("fault control_chars on a 400: error_description carries ESC",
           lambda: poll(d, cid, csec), oidc.exceptions.AuthorizationPendingException,
           lambda e: "\x1b[2J" in e.response["error_description"])
    capture_on[0] = True
    creg = json.dumps({"clientName": "r", "clientType": "public"})
    sd.scenario(faults={"RegisterClient": {"kind": "huge"}})
    st, hd, body = sd.request("POST", "/client/register", creg)
    check("fault huge: 200, exactly 1 MiB, valid JSON with real members",
          st == 200 and len(body) == 1048576 and "clientId" in json.loads(body), (st, len(body)))
    sd.scenario(faults={"RegisterClient": {"kind": "garbage"}})
    st, hd, body = sd.request("POST", "/client/register", creg)
    check("fault garbage: 200 application/json with non-JSON bytes",
          st == 200 and body == b"\x00\xff not json {{{"
          and hd.get("content-type") == "application/json", body)
    sd.scenario(faults={"RegisterClient": {"kind": "html500"}})
    st, hd, body = sd.request("POST", "/client/register", creg)
    check("fault html500: 500 text/html", st == 500 and hd["content-type"].startswith("text/html")
          and b"<h1>500 Internal Server Error</h1>" in body)
    sd.scenario(faults={"RegisterClient": {"kind": "http503"}})
    st, hd, body = sd.request("POST", "/client/register", creg)
    check("fault http503: 503 Service Unavailable",
          st == 503 and json.loads(body) == {"message": "Service Unavailable"})
    sd.scenario(faults={"StartDeviceAuthorization": {"kind": "illtyped"}})
    st, hd, body = sd.request("POST", "/device_authorization", {"clientId": cid})
    j = json.loads(body)
    check("fault illtyped: right member names, wrong types",
          st == 200 and j.get("interval") == "fast" and j.get("expiresIn") == "600", j)
    sd.scenario(faults={"RegisterClient": {"kind": "raw", "status": 418,
                                           "headers": {"X-Test": "1", "Content-Type": "text/x"},
                                           "body": "teapot"}})
    st, hd, body = sd.request("POST", "/client/register", creg)
    check("fault raw: status, headers and body verbatim",
          st == 418 and hd.get("x-test") == "1" and body == b"teapot"
          and hd.get("content-type") == "text/x", (st, hd, body))
    for kind in ("reset", "close"):
        sd.scenario(faults={"RegisterClient": {"kind": kind}})
        try:
            st = sd.request("POST", "/client/register", creg)[0]
            got = "status %d" % st
        except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError) as ex:
            got = type(ex).__name__
        check("fault %s: connection dropped without an answer (%s)" % (kind, got),
              not got.startswith("status"))
    sd.scenario(faults={"RegisterClient": {"kind": "hang"}}, hang_seconds=0.5)
    t1 = time.time()
    try:
        st = sd.request("POST", "/client/register", creg)[0]
        got = "status %d" % st
    except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError) as ex:
        got = type(ex).__name__
    el = time.time() - t1
    check("fault hang: no answer, closed after hang_seconds (%.2f s, %s)" % (el, got),
          not got.startswith("status") and 0.4 <= el < 5)
    sd.scenario(faults={}, hang_seconds=30, latency=0.3)
    t1 = time.time()
    oidc.register_client(clientName="lat", clientType="public")
    check("latency=0.3 delays API answers", time.time() - t1 >= 0.3)
    sd.scenario(latency=0)
    st, log = sd.ctl("GET", "log")
    faults_logged = {r["fault"] for r in log if r["fault"]}
    check("every fault use is logged", {"http500", "invalid_client", "control_chars", "huge",
                                        "garbage", "html500", "http503", "illtyped", "raw",
                                        "reset", "close", "hang"} <= faults_logged, faults_logged)
    check("hang/reset/close log status null",
          all(r["status"] is None for r in log if r["fault"] in ("hang", "reset", "close")))

    # --- control API -----------------------------------------------------------------------------
    st, err = sd.ctl("POST", "scenario", {"intervall": 1})
    check("POST /_standin/scenario rejects unknown keys (400)", st == 400, (st, err))
    st, sc = sd.ctl("POST", "scenario", {"interval": 3})
    check("POST /_standin/scenario answers the full scenario",
          st == 200 and sc["interval"] == 3 and sc["expires_in"] == 600 and "faults" in sc)

    # --- log, keep-alive, connections ------------------------------------------------------------
    sd.reset()
    c = sd.conn()
    sd.request("POST", "/client/register", creg, conn=c)
    sd.request("POST", "/client/register", creg, conn=c)
    c.close()
    sd.request("POST", "/client/register", creg)
    st, log = sd.ctl("GET", "log")
    regs = [r for r in log if r["op"] == "RegisterClient"]
    check("log: keep-alive requests share conn, new connection gets a new conn",
          len(regs) == 3 and regs[0]["conn"] == regs[1]["conn"] != regs[2]["conn"],
          [r["conn"] for r in regs])
    r0 = regs[0] if regs else {}
    check("log record fields", all(k in r0 for k in (
        "t", "conn", "op", "method", "path", "status", "error", "fault", "client_id",
        "user_code", "approver", "sigv4", "user_agent", "members"))
        and r0.get("clientName") == "r" and r0.get("clientType") == "public"
        and r0.get("members") == ["clientName", "clientType"], r0)
    # botocore keeps one connection for a whole login
    reg = oidc.register_client(clientName="ka", clientType="public")
    d = oidc.start_device_authorization(clientId=reg["clientId"],
                                        clientSecret=reg["clientSecret"], startUrl="https://x")
    sd.decide(d["userCode"])
    sd.scenario(enforce_interval=False)
    t = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                          grantType=GRANT, deviceCode=d["deviceCode"])
    creds = sso.get_role_credentials(roleName=ROLE, accountId=ACCT,
                                     accessToken=t["accessToken"])["roleCredentials"]
    rc = creds
    sts_client().get_caller_identity()
    st, log = sd.ctl("GET", "log")
    api = [r for r in log if r["op"] in ("RegisterClient", "StartDeviceAuthorization",
                                         "CreateToken")][-3:]
    check("botocore's sso-oidc client reuses one connection for a login's OIDC calls",
          len(api) == 3 and len({r["conn"] for r in api}) == 1, [(r["op"], r["conn"]) for r in api])
    seq_ok = [r["op"] for r in log if r["op"] in ("RegisterClient", "StartDeviceAuthorization",
                                                  "CreateToken", "GetRoleCredentials",
                                                  "GetCallerIdentity")][-5:]
    check("no retries: each botocore call logged exactly once", seq_ok == [
        "RegisterClient", "StartDeviceAuthorization", "CreateToken", "GetRoleCredentials",
        "GetCallerIdentity"], seq_ok)
    gci = [r for r in log if r["op"] == "GetCallerIdentity"][-1:]
    check("log: GetCallerIdentity has sigv4 ok and approver",
          gci and gci[0]["sigv4"] == "ok" and gci[0]["approver"] == "alice", gci)
    appr = [r for r in log if r["op"] == "Approve"]
    check("log: Approve record with user_code and approver",
          appr and appr[-1]["user_code"] == d["userCode"] and appr[-1]["approver"] == "alice")
    text = open(os.path.join(sd.dir, "requests.jsonl")).read()
    lines = [json.loads(x) for x in text.splitlines()]
    check("requests.jsonl mirrors GET /_standin/log",
          len(lines) >= len(log) and lines[:len(log)] == log, (len(lines), len(log)))
    leaked = [m for m in ("csecret-", "atoken-", "sak-", "stoken-", "devcode-") if m in text]
    check("requests.jsonl contains no secrets", not leaked, leaked)

    # --- concurrency ------------------------------------------------------------------------------
    results = []

    def worker():
        try:
            cc = sd.conn(timeout=30)
            s1, _, b1 = sd.request("POST", "/client/register", creg, conn=cc)
            j1 = json.loads(b1)
            s2, _, b2 = sd.request("POST", "/device_authorization",
                                   {"clientId": j1["clientId"], "clientSecret": j1["clientSecret"],
                                    "startUrl": "https://x"}, conn=cc)
            cc.close()
            results.append((s1, s2))
        except Exception as ex:
            results.append(repr(ex))

    ths = [threading.Thread(target=worker) for _ in range(100)]
    t1 = time.time()
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    check("100 concurrent clients all served (%.2f s)" % (time.time() - t1),
          results.count((200, 200)) == 100, [r for r in results if r != (200, 200)][:5])

    # --- whole-run model conformance of every raw botocore answer -------------------------------
    probs, ops, errs = conformance_problems()
    check("every raw sso-oidc/sso answer matches the model (members, types, statuses)",
          not probs, "\n".join(probs[:20]))
    check("conformance covered all OIDC and portal operations",
          {"RegisterClient", "StartDeviceAuthorization", "CreateToken", "GetRoleCredentials",
           "ListAccounts", "ListAccountRoles"} <= ops, ops)
    check("conformance covered the OIDC error shapes",
          {"AuthorizationPendingException", "SlowDownException", "AccessDeniedException",
           "ExpiredTokenException", "InvalidClientException", "InvalidGrantException",
           "InvalidRequestException", "UnsupportedGrantTypeException",
           "InternalServerException", "UnauthorizedException"} <= errs, errs)


if __name__ == "__main__":
    sys.exit(main())
