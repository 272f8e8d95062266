#!/usr/bin/python3
"""Local test stand-in for the AWS Identity Store API and EC2 IMDSv2.

Two servers on 127.0.0.1:

  * HTTPS: the Identity Store JSON 1.1 API (ListGroupMemberships, ListUsers,
    DescribeUser, GetGroupId, IsMemberInGroups), every request's SigV4
    signature verified (service "identitystore"), plus a control API for
    tests (/_standin/...).
  * plain HTTP: the EC2 instance metadata service (IMDSv2 token, role name,
    role credentials), which hands out the credentials the API accepts.

The wire format follows botocore's identitystore/2020-06-15 model.  Certificates,
Resp/jbytes, the connection plumbing and the SigV4 computation come from
standin.py next to this file.  Standard library only.

Usage: directory.py --dir DIR [--port 0] [--imds-port 0] [--scenario JSON]
See README.md next to this file ("Identity Store and IMDS stand-in") for the contract.
"""

import argparse
import base64
import calendar
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import signal
import socket
import ssl
import string
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import standin  # noqa: E402
from standin import Resp, ensure_certs, jbytes, sigv4_signature  # noqa: E402

SERVICE = "identitystore"
TARGET_PREFIX = "AWSIdentityStore."
API_OPS = ("ListGroupMemberships", "ListUsers", "DescribeUser", "GetGroupId", "IsMemberInGroups")
SKEW = 15 * 60
HUGE_SIZE = 4 * 1024 * 1024
ERROR_STATUS = {"AccessDeniedException": 400, "ValidationException": 400,
                "ResourceNotFoundException": 400, "ThrottlingException": 400,
                "InternalServerException": 500}
FAIL_TYPES = ("AccessDeniedException", "ValidationException", "ResourceNotFoundException",
              "InternalServerException")
MALFORMED_KINDS = ("notjson", "wrongtype", "huge", "missing_member", "bad_userid", "truncated",
                   "short")
IMDS_MODES = ("v2", "v1only", "down", "huge", "badjson", "redirect", "expired", "slow",
              "control_chars", "no_role")
# The model's patterns (botocore identitystore/2020-06-15).
RESOURCE_ID_RE = re.compile(r"([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-"
                            r"[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}")
STORE_ID_RE = re.compile(r"d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                         r"[0-9a-f]{12}")
NEXT_TOKEN_RE = re.compile(r"[-a-zA-Z0-9+=/:]*")
GEN_NS = uuid.UUID("6f1c7e0a-3b7e-4c6e-9a51-5d1e2b7c0d11")
CC_ROLE = "Linux\nRole\r\u001b[2J\u0007"
DEFAULT_ROLE = "pam-ssooidc-instance-role"

STOP = threading.Event()


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def gen_id(kind, i):
    return str(uuid.uuid5(GEN_NS, "%s-%d" % (kind, i)))


def new_credentials():
    alnum = string.ascii_uppercase + string.digits
    return {"AccessKeyId": "ASIA" + "".join(secrets.choice(alnum) for _ in range(16)),
            "SecretAccessKey": secrets.token_urlsafe(30)[:40],
            "Token": "IQoJb3JpZ2luX2Vj" + secrets.token_urlsafe(96)}


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------

SCENARIO_KEYS = ("store_id", "region", "role", "credentials", "users", "groups", "generate",
                 "page_size", "retry_after_header", "clock_offset", "imds", "throttle", "fail",
                 "malformed", "drop")
FAULT_KEYS = ("throttle", "fail", "malformed", "drop")
OPS = ("add_member", "remove_member", "rename", "disable", "enable", "add_user", "remove_user")


class DirState:
    mode = "aws"   # what standin.Handler's plumbing looks at

    def __init__(self, directory):
        self.lock = threading.RLock()
        self.dir = directory
        self._conn = 0
        self.secret = os.urandom(32)    # NextToken MACs
        self.log = []
        self.counts = {}
        self.logf = open(os.path.join(directory, "directory.jsonl"), "w", buffering=1)
        self.imds_tokens = {}           # token -> expiry (epoch s)
        self.https_port = self.imds_port = None
        self.scenario = {"store_id": "d-1234567890", "region": "us-east-1", "role": DEFAULT_ROLE,
                         "credentials": new_credentials(), "page_size": 100,
                         "retry_after_header": False, "clock_offset": 0,
                         "imds": {"mode": "v2", "slow_seconds": 5, "token_ttl_max": 21600},
                         "throttle": {}, "fail": {}, "malformed": {}, "drop": {}}
        self._set_users([])
        self._set_groups({})

    # ---- plumbing used by standin.Handler
    def next_conn(self):
        with self.lock:
            self._conn += 1
            return self._conn

    def add_log(self, rec):
        with self.lock:
            self.log.append(rec)
            self.counts[rec["op"]] = self.counts.get(rec["op"], 0) + 1
            self.logf.write(json.dumps(rec, separators=(",", ":")) + "\n")

    def reset_log(self):
        with self.lock:
            self.log = []
            self.counts = {}

    # ---- directory data (lock held)
    def _set_users(self, users):
        by_id, by_name, order = {}, {}, []
        for u in users:
            if not isinstance(u, dict) or not set(u) <= {"UserId", "UserName", "UserStatus",
                                                         "DisplayName"}:
                raise ValueError("users: each user is an object with UserId, UserName "
                                 "[, UserStatus, DisplayName]")
            uid, name = u.get("UserId"), u.get("UserName")
            if not (isinstance(uid, str) and uid and isinstance(name, str) and name):
                raise ValueError("users: UserId and UserName must be non-empty strings")
            if u.get("UserStatus", "ENABLED") not in ("ENABLED", "DISABLED"):
                raise ValueError("users: UserStatus must be ENABLED or DISABLED")
            if not isinstance(u.get("DisplayName", name), str):
                raise ValueError("users: DisplayName must be a string")
            if uid in by_id:
                raise ValueError("users: duplicate UserId %s" % uid)
            if name in by_name:
                raise ValueError("users: duplicate UserName %r" % name)
            by_id[uid] = {"UserId": uid, "UserName": name,
                          "UserStatus": u.get("UserStatus", "ENABLED"),
                          "DisplayName": u.get("DisplayName", name)}
            by_name[name] = uid
            order.append(uid)
        self.users, self.user_by_name, self.user_order = by_id, by_name, order
        self.user_pos = {uid: i for i, uid in enumerate(order)}

    def _set_groups(self, groups):
        if not isinstance(groups, dict):
            raise ValueError("groups must be an object {GroupId: [UserId, ...] | "
                             "{\"DisplayName\": ..., \"members\": [...]}}")
        out, by_name = {}, {}
        for gid, g in groups.items():
            if isinstance(g, list):
                g = {"DisplayName": gid, "members": g}
            if not (isinstance(g, dict) and set(g) <= {"DisplayName", "members"}
                    and isinstance(g.get("DisplayName", gid), str)
                    and isinstance(g.get("members", []), list)
                    and all(isinstance(m, str) for m in g.get("members", []))):
                raise ValueError("groups[%s]: a list of UserIds or {\"DisplayName\", \"members\"}"
                                 % gid)
            name = g.get("DisplayName", gid)
            if name in by_name:
                raise ValueError("groups: duplicate DisplayName %r" % name)
            members = list(dict.fromkeys(g.get("members", [])))
            out[gid] = {"DisplayName": name, "members": members, "set": set(members)}
            by_name[name] = gid
        self.groups, self.group_by_name = out, by_name

    def _generate(self, spec):
        if not (isinstance(spec, dict) and set(spec) <= {"users", "groups", "per_group", "prefix",
                                                         "group_prefix"}
                and all(_is_int(spec.get(k, 0)) and spec.get(k, 0) >= 0
                        for k in ("users", "groups", "per_group"))
                and isinstance(spec.get("prefix", "user"), str)
                and isinstance(spec.get("group_prefix", "group"), str)):
            raise ValueError("generate: {users: N, groups: G, per_group: M, prefix, group_prefix}")
        n, g, m = spec.get("users", 0), spec.get("groups", 0), spec.get("per_group", 0)
        prefix, gprefix = spec.get("prefix", "user"), spec.get("group_prefix", "group")
        if n > 1000000 or g > 10000 or (g and m > n):
            raise ValueError("generate: too large (users <= 1000000, groups <= 10000, "
                             "per_group <= users)")
        width = max(4, len(str(n)))
        users = [{"UserId": gen_id("user", i), "UserName": "%s%0*d" % (prefix, width, i)}
                 for i in range(1, n + 1)]
        groups = {}
        for j in range(g):
            members = [users[(j * m + k) % n]["UserId"] for k in range(m)] if n else []
            groups[gen_id("group", j + 1)] = {"DisplayName": "%s%d" % (gprefix, j + 1),
                                              "members": members}
        self._set_users(users)
        self._set_groups(groups)

    def snapshot(self):
        with self.lock:
            out = json.loads(json.dumps(self.scenario))
            out["users"] = [dict(self.users[u]) for u in self.user_order]
            out["groups"] = {gid: {"DisplayName": g["DisplayName"], "members": list(g["members"])}
                             for gid, g in self.groups.items()}
            return out

    def apply_op(self, req):
        op = req.get("op")
        need = {"add_member": ("GroupId", "UserId"), "remove_member": ("GroupId", "UserId"),
                "rename": ("UserId", "UserName"), "disable": ("UserId",), "enable": ("UserId",),
                "add_user": ("UserId", "UserName"), "remove_user": ("UserId",)}
        if op not in need:
            raise ValueError("op must be one of %s" % ", ".join(OPS))
        extra = set(req) - {"op"} - set(need[op]) - ({"UserStatus", "DisplayName"}
                                                     if op == "add_user" else set())
        if extra:
            raise ValueError("unknown key for op %s: %s" % (op, ", ".join(sorted(extra))))
        for k in need[op]:
            if not (isinstance(req.get(k), str) and req[k]):
                raise ValueError("op %s needs %s (non-empty string)" % (op, k))
        uid = req["UserId"]
        if op in ("add_member", "remove_member"):
            g = self.groups.get(req["GroupId"])
            if g is None:
                raise ValueError("no such group %s" % req["GroupId"])
            if op == "add_member" and uid not in g["set"]:
                g["members"].append(uid)
                g["set"].add(uid)
            elif op == "remove_member" and uid in g["set"]:
                g["members"].remove(uid)
                g["set"].discard(uid)
            return
        if op == "add_user":
            if uid in self.users:
                raise ValueError("UserId %s exists" % uid)
            u = {k: v for k, v in req.items() if k != "op"}
            self._set_users([self.users[x] for x in self.user_order] + [u])
            return
        if uid not in self.users:
            raise ValueError("no such user %s" % uid)
        u = self.users[uid]
        if op == "rename":
            if req["UserName"] in self.user_by_name and self.user_by_name[req["UserName"]] != uid:
                raise ValueError("UserName %r is taken" % req["UserName"])
            del self.user_by_name[u["UserName"]]
            if u["DisplayName"] == u["UserName"]:
                u["DisplayName"] = req["UserName"]
            u["UserName"] = req["UserName"]
            self.user_by_name[u["UserName"]] = uid
        elif op in ("disable", "enable"):
            u["UserStatus"] = "DISABLED" if op == "disable" else "ENABLED"
        elif op == "remove_user":
            self._set_users([self.users[x] for x in self.user_order if x != uid])
            for g in self.groups.values():
                if uid in g["set"]:
                    g["members"].remove(uid)
                    g["set"].discard(uid)

    def merge(self, upd):
        """POST /_standin/directory.  Raises ValueError (nothing changed) if not acceptable."""
        if not isinstance(upd, dict):
            raise ValueError("body must be a JSON object")
        with self.lock:
            if "op" in upd:
                self.apply_op(upd)
                return
            for k in upd:
                if k not in SCENARIO_KEYS:
                    raise ValueError("unknown key: %s" % k)
            validate(upd)
            # Data first (they can fail on duplicates); keep the old on failure.
            saved = (self.users, self.user_by_name, self.user_order, self.user_pos,
                     self.groups, self.group_by_name)
            try:
                if "generate" in upd:
                    self._generate(upd["generate"])
                if "users" in upd:
                    self._set_users(upd["users"])
                if "groups" in upd:
                    self._set_groups(upd["groups"])
            except ValueError:
                (self.users, self.user_by_name, self.user_order, self.user_pos,
                 self.groups, self.group_by_name) = saved
                raise
            for k, v in upd.items():
                if k in ("users", "groups", "generate"):
                    continue
                if k in FAULT_KEYS:
                    for op, spec in v.items():
                        if spec is None:
                            self.scenario[k].pop(op, None)
                        else:
                            self.scenario[k][op] = normalize_fault(k, spec)
                elif k == "imds":
                    self.scenario["imds"].update(v)
                elif k == "credentials":
                    c = dict(v)
                    c.setdefault("Token", None)
                    self.scenario["credentials"] = c
                else:
                    self.scenario[k] = v

    def take_fault(self, kind, op):
        """Use up one call of the fault of this kind for op; the spec, or None."""
        with self.lock:
            spec = self.scenario[kind].get(op)
            if spec is None:
                return None
            if spec["count"] > 0:
                spec["count"] -= 1
                if spec["count"] == 0:
                    del self.scenario[kind][op]
            return dict(spec)


def normalize_fault(kind, spec):
    if kind == "malformed" and isinstance(spec, str):
        spec = {"kind": spec}
    if kind == "drop" and _is_int(spec):
        spec = {"count": spec}
    spec = dict(spec)
    spec.setdefault("count", 1 if kind in ("malformed", "drop") else -1 if kind == "fail" else 1)
    if kind == "throttle":
        spec.setdefault("retry_after", 1)
    return spec


def validate(upd):
    def bad(k, why):
        raise ValueError("bad value for %s: %s" % (k, why))
    for k, v in upd.items():
        if k == "store_id" and not (isinstance(v, str) and STORE_ID_RE.fullmatch(v)):
            bad(k, "must match the model's IdentityStoreId pattern (d-0123456789)")
        if k == "region" and not (isinstance(v, str) and re.fullmatch(r"[a-z0-9-]+", v)):
            bad(k, "a region name")
        if k == "role" and not (isinstance(v, str) and v):
            bad(k, "a non-empty string")
        if k == "credentials":
            if not (isinstance(v, dict) and set(v) <= {"AccessKeyId", "SecretAccessKey", "Token"}
                    and all(isinstance(v.get(x), str) and v.get(x)
                            for x in ("AccessKeyId", "SecretAccessKey"))
                    and (v.get("Token") is None or isinstance(v["Token"], str))):
                bad(k, "{AccessKeyId, SecretAccessKey[, Token (null: none)]}")
        if k == "page_size" and not (_is_int(v) and 1 <= v <= 100):
            bad(k, "an integer 1..100")
        if k == "retry_after_header" and not isinstance(v, bool):
            bad(k, "true or false")
        if k == "clock_offset" and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            bad(k, "a number of seconds")
        if k == "imds":
            if not (isinstance(v, dict) and set(v) <= {"mode", "slow_seconds", "token_ttl_max"}
                    and v.get("mode", "v2") in IMDS_MODES
                    and isinstance(v.get("slow_seconds", 0), (int, float))
                    and _is_int(v.get("token_ttl_max", 1))):
                bad(k, "{mode: %s, slow_seconds: N}" % "|".join(IMDS_MODES))
        if k in FAULT_KEYS:
            if not isinstance(v, dict):
                bad(k, "an object {Operation: spec}")
            for op, spec in v.items():
                if op not in API_OPS:
                    bad(k, "unknown operation %r (one of %s)" % (op, ", ".join(API_OPS)))
                if spec is None:
                    continue
                if kind_ok(k, spec) is False:
                    bad(k, "spec for %s: %s" % (op, json.dumps(spec)))


def kind_ok(kind, spec):
    if kind == "malformed" and isinstance(spec, str):
        return spec in MALFORMED_KINDS
    if kind == "drop" and _is_int(spec):
        return True
    if not isinstance(spec, dict) or not _is_int(spec.get("count", 1)) or spec.get("count") == 0:
        return False
    allowed = {"throttle": {"count", "retry_after"}, "fail": {"count", "type", "status", "message"},
               "malformed": {"count", "kind"}, "drop": {"count"}}[kind]
    if not set(spec) <= allowed:
        return False
    if kind == "throttle":
        return _is_int(spec.get("retry_after", 1)) and spec.get("retry_after", 1) >= 0
    if kind == "fail":
        return (spec.get("type") in FAIL_TYPES and _is_int(spec.get("status", 400))
                and isinstance(spec.get("message", ""), str))
    if kind == "malformed":
        return spec.get("kind") in MALFORMED_KINDS
    return True


# --------------------------------------------------------------------------
# Paging tokens: base64("op|key|offset|nonce|mac")
# --------------------------------------------------------------------------

def make_token(st, op, key, offset):
    body = "%s|%s|%d|%s" % (op, key, offset, secrets.token_hex(6))
    mac = hmac.new(st.secret, body.encode(), hashlib.sha256).hexdigest()[:24]
    return base64.b64encode(("%s|%s" % (body, mac)).encode()).decode()


def read_token(st, tok, op, key):
    """The offset in tok, or None if tok is not one this op (and key) handed out."""
    try:
        raw = base64.b64decode(tok.encode(), validate=True).decode()
        t_op, t_key, off, nonce, mac = raw.rsplit("|", 4)
    except (ValueError, UnicodeError):
        return None
    want = hmac.new(st.secret, ("%s|%s|%s|%s" % (t_op, t_key, off, nonce)).encode(),
                    hashlib.sha256).hexdigest()[:24]
    if not hmac.compare_digest(want, mac) or t_op != op or t_key != key or not off.isdigit():
        return None
    return int(off)


# --------------------------------------------------------------------------
# The Identity Store API
# --------------------------------------------------------------------------

class ApiError(Exception):
    def __init__(self, shape, msg, status=None, **extra):
        super().__init__(msg)
        self.shape, self.msg, self.status, self.extra = shape, msg, status, extra


def error_resp(shape, msg, status=None, headers=None, **extra):
    rid = str(uuid.uuid4())
    body = {"__type": shape, "Message": msg, "RequestId": rid}
    body.update(extra)
    r = Resp(status or ERROR_STATUS.get(shape, 400), jbytes(body),
             ctype="application/x-amz-json-1.1",
             headers=[("x-amzn-ErrorType", shape)] + list(headers or []), error=shape)
    r.request_id = rid
    return r


class HttpsServer(standin.Server):
    def __init__(self, addr, state, ssl_ctx):
        self.state = state
        self.ssl_ctx = ssl_ctx
        http.server.ThreadingHTTPServer.__init__(self, addr, ApiHandler)


class ApiHandler(standin.Handler):
    server_version = "Server"

    def dispatch(self):
        t0 = time.time()
        path = urllib.parse.urlsplit(self.path).path
        rec = {"time": round(t0, 6), "server": "api", "conn": self.conn_id, "op": None,
               "method": self.command, "path": self.path[:512], "status": None,
               "error_type": None, "sigv4": None, "fault": None, "members": None,
               "content_type": self.headers.get("Content-Type"),
               "user_agent": self.headers.get("User-Agent")}
        try:
            body = self._read_body()
        except standin.BodyError as e:
            self.close_connection = True
            rec["op"] = "Invalid"
            resp = error_resp("SerializationException", str(e), status=e.status)
            return self._finish(rec, resp)
        if path.startswith("/_standin/"):
            rec["op"] = "Control"
            return self._finish(rec, self.control(rec, path, body), log=False)
        target = self.headers.get("X-Amz-Target") or ""
        op = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else None
        rec["op"] = op if op in API_OPS else "Unknown"
        resp = self.verify_sigv4(rec, body)
        if resp is None and (self.command != "POST" or path != "/" or op not in API_OPS):
            resp = error_resp("UnknownOperationException", "Unknown operation %s" % target[:80])
        if resp is None:
            resp = self.api(rec, op, body)
        self._finish(rec, resp)

    def _finish(self, rec, resp, log=True):
        if resp.action != "send":
            if log:
                self.st.add_log(rec)
            self._drop(rst=False)
            return
        rec["status"] = resp.status
        rec["error_type"] = rec["error_type"] or resp.error
        if log:
            self.st.add_log(rec)
        try:
            if getattr(resp, "truncate_to", None) is not None:
                self.close_connection = True
                self.send_response(resp.status)
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.send_header("Content-Type", resp.ctype)
                self.send_header("Content-Length", str(len(resp.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(resp.body[:resp.truncate_to])
                self.wfile.flush()
                self._drop(rst=False)
                return
            self._write(resp)
        except (OSError, ssl.SSLError):
            self.close_connection = True

    # ---- SigV4 -----------------------------------------------------------------
    def verify_sigv4(self, rec, body):
        """None if the signature is good; else the error answer (rec["sigv4"] says why)."""
        def fail(shape, status, msg):
            rec["sigv4"] = shape
            return error_resp(shape, msg, status=status)

        auth = self.headers.get("Authorization")
        if not auth:
            return fail("MissingAuthenticationTokenException", 403,
                        "Missing Authentication Token")
        algo, _, rest = auth.strip().partition(" ")
        if algo != "AWS4-HMAC-SHA256":
            return fail("IncompleteSignatureException", 400,
                        "Unsupported AWS 'algorithm': '%s'" % algo[:64])
        params = {}
        for item in rest.split(","):
            k, eq, v = item.strip().partition("=")
            if eq:
                params[k.strip()] = v.strip()
        if not all(params.get(p) for p in ("Credential", "SignedHeaders", "Signature")):
            return fail("IncompleteSignatureException", 400,
                        "Authorization header requires 'Credential', 'SignedHeaders' and "
                        "'Signature' parameters.")
        scope = params["Credential"].split("/")
        if len(scope) != 5 or not all(scope):
            return fail("IncompleteSignatureException", 400,
                        "Credential must have exactly 5 slash-delimited elements")
        akid, sdate, region, service, term = scope
        signed = params["SignedHeaders"].split(";")
        amz_date = self.headers.get("X-Amz-Date") or ""
        try:
            req_ts = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return fail("IncompleteSignatureException", 400,
                        "X-Amz-Date must be in ISO-8601 'basic format'")
        with self.st.lock:
            sc = self.st.scenario
            cred = dict(sc["credentials"])
            want_region, offset = sc["region"], sc["clock_offset"]
        if not hmac.compare_digest(akid.encode(), cred["AccessKeyId"].encode()):
            return fail("UnrecognizedClientException", 403,
                        "The security token included in the request is invalid.")
        tok = self.headers.get("X-Amz-Security-Token")
        if cred.get("Token") is not None:
            if (tok is None or "x-amz-security-token" not in signed
                    or not hmac.compare_digest(tok.encode(), cred["Token"].encode())):
                return fail("UnrecognizedClientException", 403,
                            "The security token included in the request is invalid.")
        elif tok is not None:
            return fail("UnrecognizedClientException", 403,
                        "The security token included in the request is invalid.")
        now = time.time() + offset
        if abs(req_ts - now) > SKEW:
            return fail("InvalidSignatureException", 400,
                        "Signature expired: %s is now earlier than or later than 15 min from %s"
                        % (amz_date, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))))
        if (sdate != amz_date[:8] or region != want_region or service != SERVICE
                or term != "aws4_request" or "host" not in signed):
            return fail("InvalidSignatureException", 400,
                        "Credential should be scoped to a valid region, service 'identitystore' "
                        "and date, and must sign 'host'.")
        want = sigv4_signature(cred["SecretAccessKey"], self.command, self.path, self.headers,
                               signed, body, amz_date, "/".join(scope[1:]), sdate, region,
                               service)
        if not hmac.compare_digest(want.encode(), params["Signature"].lower().encode()):
            return fail("InvalidSignatureException", 403,
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your AWS Secret Access Key and signing method.")
        rec["sigv4"] = "ok"
        return None

    # ---- operations -----------------------------------------------------------
    def api(self, rec, op, body):
        st = self.st
        if st.take_fault("drop", op):
            rec["fault"] = "drop"
            return Resp(action="close")
        spec = st.take_fault("throttle", op)
        if spec:
            rec["fault"] = "throttle"
            with st.lock:
                hdr = st.scenario["retry_after_header"]
            return error_resp("ThrottlingException", "Rate exceeded",
                              headers=[("Retry-After", str(spec["retry_after"]))] if hdr else None,
                              RetryAfterSeconds=spec["retry_after"])
        spec = st.take_fault("fail", op)
        if spec:
            rec["fault"] = "fail"
            extra = {}
            if spec["type"] == "InternalServerException":
                extra["RetryAfterSeconds"] = 1
            if spec["type"] == "ResourceNotFoundException":
                extra["ResourceType"] = "IDENTITY_STORE"
            return error_resp(spec["type"], spec.get("message", "injected failure"),
                              status=spec.get("status"), **extra)
        try:
            req = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            req = None
        if not isinstance(req, dict):
            return error_resp("SerializationException", "Start of structure or map found where "
                              "not expected" if body else "Request body is empty")
        rec["members"] = sorted(req)
        try:
            out = getattr(self, "op_" + op)(req)
        except ApiError as e:
            return error_resp(e.shape, e.msg, status=e.status, **e.extra)
        mal = st.take_fault("malformed", op)
        if mal:
            rec["fault"] = "malformed:" + mal["kind"]
            return malformed(op, out, mal["kind"])
        return Resp(200, jbytes(out), ctype="application/x-amz-json-1.1")

    def _store(self, req):
        sid = req.get("IdentityStoreId")
        if not isinstance(sid, str) or not STORE_ID_RE.fullmatch(sid):
            raise ApiError("ValidationException",
                           "1 validation error detected: Value at 'identityStoreId' failed to "
                           "satisfy constraint: Member must satisfy regular expression pattern")
        with self.st.lock:
            want = self.st.scenario["store_id"]
        if sid != want:
            raise ApiError("ResourceNotFoundException", "Identity store %s not found" % sid,
                           ResourceType="IDENTITY_STORE")
        return sid

    @staticmethod
    def _rid(req, member, what):
        v = req.get(member)
        if not isinstance(v, str) or not RESOURCE_ID_RE.fullmatch(v):
            raise ApiError("ValidationException",
                           "1 validation error detected: Value at '%s' failed to satisfy "
                           "constraint: Member must satisfy regular expression pattern" % what)
        return v

    def _page(self, req, op, key):
        """(offset, size) of the page req asks for."""
        mr = req.get("MaxResults")
        with self.st.lock:
            size = self.st.scenario["page_size"]
        if mr is not None:
            if not _is_int(mr) or not 1 <= mr <= 100:
                raise ApiError("ValidationException",
                               "1 validation error detected: Value at 'maxResults' failed to "
                               "satisfy constraint: Member must have value between 1 and 100")
            size = mr
        tok = req.get("NextToken")
        if tok is None:
            return 0, size
        off = None
        if isinstance(tok, str) and tok and NEXT_TOKEN_RE.fullmatch(tok):
            off = read_token(self.st, tok, op, key)
        if off is None:
            raise ApiError("ValidationException", "The NextToken is invalid.")
        return off, size

    def op_ListGroupMemberships(self, req):
        sid = self._store(req)
        gid = self._rid(req, "GroupId", "groupId")
        off, size = self._page(req, "ListGroupMemberships", gid)
        with self.st.lock:
            g = self.st.groups.get(gid)
            if g is None:
                raise ApiError("ResourceNotFoundException", "Group %s not found" % gid,
                               ResourceType="GROUP", ResourceId=gid)
            chunk = g["members"][off:off + size]
            more = off + size < len(g["members"])
        out = {"GroupMemberships": [
            {"IdentityStoreId": sid, "MembershipId": str(uuid.uuid5(GEN_NS, gid + "/" + uid)),
             "GroupId": gid, "MemberId": {"UserId": uid}} for uid in chunk]}
        if more:
            out["NextToken"] = make_token(self.st, "ListGroupMemberships", gid, off + size)
        return out

    def _user_obj(self, sid, u):
        return {"IdentityStoreId": sid, "UserId": u["UserId"], "UserName": u["UserName"],
                "UserStatus": u["UserStatus"], "DisplayName": u["DisplayName"]}

    def op_ListUsers(self, req):
        sid = self._store(req)
        filters = req.get("Filters")
        fkey = ""
        if filters is not None:
            if not (isinstance(filters, list) and len(filters) <= 1 and all(
                    isinstance(f, dict) and f.get("AttributePath") == "UserName"
                    and isinstance(f.get("AttributeValue"), str) for f in filters)):
                raise ApiError("ValidationException", "Filters: only one filter on the "
                               "AttributePath UserName is supported")
            if filters:
                fkey = "UserName=" + hashlib.sha256(
                    filters[0]["AttributeValue"].encode()).hexdigest()[:16]
        off, size = self._page(req, "ListUsers", fkey)
        with self.st.lock:
            if filters:
                uid = self.st.user_by_name.get(filters[0]["AttributeValue"])
                ids = [uid] if uid else []
            else:
                ids = self.st.user_order
            chunk = [self._user_obj(sid, self.st.users[u]) for u in ids[off:off + size]]
            more = off + size < len(ids)
        out = {"Users": chunk}
        if more:
            out["NextToken"] = make_token(self.st, "ListUsers", fkey, off + size)
        return out

    def op_DescribeUser(self, req):
        sid = self._store(req)
        uid = self._rid(req, "UserId", "userId")
        with self.st.lock:
            u = self.st.users.get(uid)
            if u is None:
                raise ApiError("ResourceNotFoundException", "User %s not found" % uid,
                               ResourceType="USER", ResourceId=uid)
            return self._user_obj(sid, u)

    def op_GetGroupId(self, req):
        sid = self._store(req)
        alt = req.get("AlternateIdentifier")
        ua = alt.get("UniqueAttribute") if isinstance(alt, dict) else None
        if not (isinstance(ua, dict) and ua.get("AttributePath") == "DisplayName"
                and isinstance(ua.get("AttributeValue"), str)):
            raise ApiError("ValidationException", "AlternateIdentifier: only UniqueAttribute "
                           "DisplayName (a string) is supported")
        with self.st.lock:
            gid = self.st.group_by_name.get(ua["AttributeValue"])
        if gid is None:
            raise ApiError("ResourceNotFoundException", "Group not found", ResourceType="GROUP")
        return {"GroupId": gid, "IdentityStoreId": sid}

    def op_IsMemberInGroups(self, req):
        sid = self._store(req)
        mid = req.get("MemberId")
        if not isinstance(mid, dict) or set(mid) != {"UserId"}:
            raise ApiError("ValidationException", "MemberId must be {\"UserId\": ...}")
        uid = self._rid(mid, "UserId", "memberId.userId")
        gids = req.get("GroupIds")
        if not (isinstance(gids, list) and 1 <= len(gids) <= 100):
            raise ApiError("ValidationException", "GroupIds must have 1..100 members")
        gids = [self._rid({"g": g}, "g", "groupIds") for g in gids]
        with self.st.lock:
            for g in gids:
                if g not in self.st.groups:
                    raise ApiError("ResourceNotFoundException", "Group %s not found" % g,
                                   ResourceType="GROUP", ResourceId=g)
            res = [{"GroupId": g, "MemberId": {"UserId": uid},
                    "MembershipExists": uid in self.st.groups[g]["set"]} for g in gids]
        del sid
        return {"Results": res}

    # ---- control ------------------------------------------------------------------
    def control(self, rec, path, body):
        m = self.command
        ok = lambda obj: Resp(200, jbytes(obj))
        if path == "/_standin/directory" and m == "GET":
            return ok(self.st.snapshot())
        if path == "/_standin/directory" and m == "POST":
            try:
                upd = json.loads(body.decode("utf-8")) if body else {}
                self.st.merge(upd)
            except (ValueError, UnicodeDecodeError) as e:
                return Resp(400, jbytes({"error": str(e)}), error="BadRequest")
            return ok({"ok": True})
        if path == "/_standin/log" and m == "GET":
            with self.st.lock:
                return ok(list(self.st.log))
        if path == "/_standin/counts" and m == "GET":
            with self.st.lock:
                return ok(dict(self.st.counts))
        if path == "/_standin/reset_log" and m == "POST":
            self.st.reset_log()
            return ok({"ok": True})
        return Resp(404, jbytes({"error": "unknown control endpoint"}), error="NotFound")


def malformed(op, out, kind):
    ct = "application/x-amz-json-1.1"
    list_member = {"ListGroupMemberships": "GroupMemberships", "ListUsers": "Users",
                   "IsMemberInGroups": "Results"}.get(op)
    if kind == "notjson":
        return Resp(200, b"<html><body>Service Unavailable</body></html>\n", ctype=ct)
    if kind == "truncated":
        b = jbytes(out)
        return Resp(200, b[:max(1, len(b) // 2)], ctype=ct)
    if kind == "short":
        r = Resp(200, jbytes(out), ctype=ct)
        r.truncate_to = len(r.body) // 2
        return r
    if kind == "huge":
        out = dict(out)
        out["Padding"] = "A" * HUGE_SIZE
        return Resp(200, jbytes(out), ctype=ct)
    out = json.loads(json.dumps(out))
    if kind == "missing_member":
        out.pop(list_member or {"DescribeUser": "UserName", "GetGroupId": "GroupId"}[op], None)
    elif kind == "wrongtype":
        if list_member:
            out[list_member] = {"not": "a list"}
        elif op == "DescribeUser":
            out["UserName"], out["UserId"] = 42, ["x"]
        else:
            out["GroupId"] = 42
    elif kind == "bad_userid":
        bad = ["../../etc/passwd", "x\ny", "", "0" * 100, "root"]
        if op == "ListGroupMemberships":
            for i, gm in enumerate(out["GroupMemberships"]):
                gm["MemberId"]["UserId"] = bad[i % len(bad)]
        elif op == "ListUsers":
            for i, u in enumerate(out["Users"]):
                u["UserId"] = bad[i % len(bad)]
        elif op == "DescribeUser":
            out["UserId"] = bad[0]
        elif op == "IsMemberInGroups":
            for r in out["Results"]:
                r["MemberId"]["UserId"] = bad[0]
        else:
            out["GroupId"] = bad[0]
    return Resp(200, jbytes(out), ctype=ct)


# --------------------------------------------------------------------------
# IMDS (plain HTTP)
# --------------------------------------------------------------------------

class ImdsServer(http.server.ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, state):
        self.state = state
        super().__init__(addr, ImdsHandler)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


class ImdsHandler(standin.Handler):
    server_version = "EC2ws"

    def setup(self):   # standin.Handler.setup without TLS
        self.st = self.server.state
        self.conn_id = self.st.next_conn()
        self.request.settimeout(30)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        http.server.BaseHTTPRequestHandler.setup(self)

    def date_time_string(self, timestamp=None):
        return http.server.BaseHTTPRequestHandler.date_time_string(self, timestamp)

    def _text(self, status, text, ctype="text/plain", headers=None):
        body = text.encode("utf-8") if isinstance(text, str) else text
        return Resp(status, body, ctype=ctype, headers=headers)

    def dispatch(self):
        t0 = time.time()
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        rec = {"time": round(t0, 6), "server": "imds", "conn": self.conn_id, "op": "ImdsUnknown",
               "method": self.command, "path": self.path[:512], "status": None,
               "error_type": None, "sigv4": None, "fault": None, "members": None,
               "user_agent": self.headers.get("User-Agent")}
        try:
            self._read_body()
        except standin.BodyError:
            self.close_connection = True
        with self.st.lock:
            sc = self.st.scenario
            mode, slow = sc["imds"]["mode"], sc["imds"]["slow_seconds"]
            ttl_max = sc["imds"]["token_ttl_max"]
            role = sc["role"] if mode != "control_chars" else CC_ROLE
            cred = dict(sc["credentials"])
        redirected = path.startswith("/redirected/")
        if redirected:
            path = path[len("/redirected"):]
        cpath = "/latest/meta-data/iam/security-credentials/"
        if path == "/latest/api/token":
            rec["op"] = "ImdsToken"
        elif path in (cpath, cpath[:-1]):
            rec["op"] = "ImdsRoleList"
        elif path.startswith(cpath):
            rec["op"] = "ImdsCredentials"
        if redirected:
            rec["op"] = "ImdsRedirectFollowed"
        rec["fault"] = mode if mode != "v2" else None
        resp = self._imds(rec, path, mode, slow, ttl_max, role, cred, cpath, redirected)
        if resp.action != "send":
            self.st.add_log(rec)
            self._drop(rst=False)
            return
        rec["status"] = resp.status
        rec["error_type"] = resp.error
        self.st.add_log(rec)
        try:
            self._write(resp)
        except OSError:
            self.close_connection = True

    def _imds(self, rec, path, mode, slow, ttl_max, role, cred, cpath, redirected):
        if mode == "down":
            return Resp(action="close")
        if mode == "slow":
            STOP.wait(slow)
        if self.headers.get("X-Forwarded-For") is not None:
            r = self._text(403, "Forbidden")
            r.error = "XForwardedFor"
            return r
        if path == "/latest/api/token":
            if self.command != "PUT":
                return self._text(405, "Method Not Allowed")
            if mode == "v1only":
                return self._text(403, "Forbidden")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if ttl is None or not ttl.strip().isdigit() or not 1 <= int(ttl) <= ttl_max:
                r = self._text(400, "Bad Request")
                r.error = "BadTTL"
                return r
            tok = base64.urlsafe_b64encode(os.urandom(42)).decode()
            with self.st.lock:
                now = time.time()
                self.st.imds_tokens = {t: e for t, e in self.st.imds_tokens.items() if e > now}
                self.st.imds_tokens[tok] = now + int(ttl)
            return self._text(200, tok, headers=[("X-aws-ec2-metadata-token-ttl-seconds",
                                                  str(int(ttl)))])
        if self.command not in ("GET", "HEAD"):
            return self._text(405, "Method Not Allowed")
        if mode != "v1only":
            tok = self.headers.get("X-aws-ec2-metadata-token")
            with self.st.lock:
                exp = self.st.imds_tokens.get(tok or "")
            if exp is None or exp <= time.time():
                r = self._text(401, "Unauthorized")
                r.error = "Unauthorized"
                return r
        if mode == "redirect" and not redirected and path.startswith(cpath):
            return self._text(302, "Found", headers=[
                ("Location", "http://127.0.0.1:%d/redirected%s" % (self.st.imds_port,
                                                                   urllib.parse.quote(path)))])
        if path in (cpath, cpath[:-1]):
            if mode == "no_role":
                return self._text(200, "")
            return self._text(200, role)
        if path.startswith(cpath):
            name = path[len(cpath):]
            if mode == "no_role" or name != role:
                r = self._text(404, "Not Found")
                r.error = "NoSuchRole"
                return r
            now = time.time()
            doc = {"Code": "Success", "LastUpdated": iso(now - 60), "Type": "AWS-HMAC",
                   "AccessKeyId": cred["AccessKeyId"], "SecretAccessKey": cred["SecretAccessKey"],
                   "Token": cred.get("Token") or "",
                   "Expiration": iso(now - 3600 if mode == "expired" else now + 6 * 3600)}
            if mode == "badjson":
                return self._text(200, json.dumps(doc, indent=2)[:-40], ctype="text/plain")
            text = json.dumps(doc, indent=2)
            if mode == "huge":
                text = text[:-2] + ',\n  "Padding" : "%s"\n}' % ("A" * HUGE_SIZE)
            return self._text(200, text)
        r = self._text(404, "Not Found")
        r.error = "NotFound"
        return r


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="Local stand-in for AWS Identity Store and IMDSv2")
    ap.add_argument("--dir", required=True, help="state directory (certs, directory.port)")
    ap.add_argument("--port", type=int, default=0, help="HTTPS port on 127.0.0.1 (0 = any)")
    ap.add_argument("--imds-port", type=int, default=0, help="IMDS port on 127.0.0.1 (0 = any)")
    ap.add_argument("--scenario", default=None, help="JSON object, as POST /_standin/directory")
    a = ap.parse_args(argv)

    d = os.path.abspath(a.dir)
    os.makedirs(d, mode=0o700, exist_ok=True)
    port_file = os.path.join(d, "directory.port")
    try:
        os.unlink(port_file)
    except FileNotFoundError:
        pass
    state = DirState(d)
    if a.scenario:
        try:
            state.merge(json.loads(a.scenario))
        except ValueError as e:
            print("directory: bad --scenario: %s" % e, file=sys.stderr)
            return 2
    cert, key = ensure_certs(d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])

    api = HttpsServer(("127.0.0.1", a.port), state, ctx)
    imds = ImdsServer(("127.0.0.1", a.imds_port), state)
    state.https_port, state.imds_port = api.server_address[1], imds.server_address[1]

    def on_signal(signum, frame):
        STOP.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for s in (api, imds):
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    tmp = port_file + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(json.dumps({"https": state.https_port, "imds": state.imds_port}) + "\n")
    os.replace(tmp, port_file)
    print("directory stand-in listening on https://127.0.0.1:%d (imds http://127.0.0.1:%d)"
          % (state.https_port, state.imds_port), flush=True)
    while not STOP.wait(1.0):
        pass
    for s in (api, imds):
        s.shutdown()
        s.server_close()
    try:
        os.unlink(port_file)
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
