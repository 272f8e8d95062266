#!/usr/bin/python3
"""Conformance test: botocore's real identitystore client and IMDS fetcher
against the Identity Store / IMDSv2 stand-in (directory.py).

Starts its own stand-in in a temporary directory, prints TAP
(ok N - ... / not ok N - ..., then 1..N) and exits 1 if any check failed.
"""

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

for k in list(os.environ):
    if k.startswith("AWS_") or k.lower().endswith("_proxy"):
        del os.environ[k]
os.environ["AWS_CONFIG_FILE"] = "/dev/null"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.config  # noqa: E402
import botocore.credentials  # noqa: E402
import botocore.session  # noqa: E402
import botocore.utils  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DIRECTORY = os.path.join(HERE, "directory.py")
STORE = "d-1234567890"
REGION = "us-east-1"

sys.path.insert(0, os.path.join(HERE, ".."))
from tap import Tap  # noqa: E402

TAP = Tap()


def check(desc, cond, detail=None):
    return bool(TAP.check(cond, desc, detail))


def client_error(desc, fn, code, pred=None):
    """fn() must raise ClientError with this error code (and pred(e)); returns e or None."""
    try:
        r = fn()
    except ClientError as e:
        ok = e.response.get("Error", {}).get("Code") == code and (pred(e) if pred else True)
        check(desc, ok, None if ok else "got %r" % (e.response,))
        return e
    except Exception as e:
        check(desc, False, "raised %s: %s" % (type(e).__name__, e))
        return None
    check(desc, False, "no exception; returned %r" % (r,))
    return None


def uid(i):
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, "user%d.test" % i))


def gid(i):
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, "group%d.test" % i))


sys.path.insert(0, HERE)
from dirctl import Directory  # noqa: E402


def make_client(d, creds, retries=None, region=REGION):
    sess = botocore.session.get_session()
    cfg = botocore.config.Config(retries=retries or {"mode": "standard",
                                                            "total_max_attempts": 1},
                                 connect_timeout=5, read_timeout=20)
    return sess.create_client("identitystore", region_name=region, endpoint_url=d.base,
                              verify=d.ca, config=cfg,
                              aws_access_key_id=creds["access_key"],
                              aws_secret_access_key=creds["secret_key"],
                              aws_session_token=creds.get("token"))


def raw_call(d, creds, op, payload, region=REGION):
    """One identitystore call signed by botocore's SigV4Auth, sent with http.client:
    (status, headers, body bytes) or the exception raised while reading."""
    body = json.dumps(payload).encode()
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=d.base + "/", data=body,
        headers={"X-Amz-Target": "AWSIdentityStore." + op,
                 "Content-Type": "application/x-amz-json-1.1"})
    c = botocore.credentials.Credentials(creds["access_key"], creds["secret_key"],
                                         creds.get("token"))
    botocore.auth.SigV4Auth(c, "identitystore", region).add_auth(req)
    prep = req.prepare()
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ctx, timeout=20)
    try:
        conn.request("POST", "/", body=body, headers=dict(prep.headers))
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except Exception as e:
        return e
    finally:
        conn.close()


def main():
    d = Directory()
    try:
        run(d)
    except Exception as e:
        import traceback
        check("the test ran to the end", False, traceback.format_exc())
        del e
    rc = d.stop()
    bad = subprocess.run(["/usr/bin/python3", DIRECTORY, "--dir", d.dir, "--scenario",
                          '{"page_size": 0}'], capture_output=True, text=True, timeout=20)
    check("--scenario with a bad value: exit status 2 and the reason",
          bad.returncode == 2 and "page_size" in bad.stderr, bad.stderr)
    check("SIGTERM: the stand-in exits 0 and deletes directory.port",
          rc == 0 and not os.path.exists(os.path.join(d.dir, "directory.port")), "rc=%r" % rc)
    shutil.rmtree(d.dir, ignore_errors=True)
    return TAP.done()


def run(d):
    st, state = d.ctl("GET", "directory")
    sc_creds = state["credentials"]
    check("start-up: directory.port names both ports, the HTTPS one answers the control API",
          st == 200 and d.port != d.imds_port and state["store_id"] == STORE
          and state["region"] == REGION)

    # ---- IMDSv2 through botocore's own fetcher -------------------------------------
    fetcher = botocore.utils.InstanceMetadataFetcher(timeout=5, num_attempts=1, base_url=d.imds,
                                                     env={})
    creds = fetcher.retrieve_iam_role_credentials()
    check("IMDSv2: botocore's InstanceMetadataFetcher gets the scenario's credentials",
          creds.get("access_key") == sc_creds["AccessKeyId"]
          and creds.get("secret_key") == sc_creds["SecretAccessKey"]
          and creds.get("token") == sc_creds["Token"]
          and creds.get("role_name") == state["role"], repr(creds))
    imds_log = [r for r in d.log() if r["server"] == "imds"]
    check("IMDSv2: the log shows PUT token, role list, credentials, all 200",
          [(r["op"], r["method"], r["status"]) for r in imds_log]
          == [("ImdsToken", "PUT", 200), ("ImdsRoleList", "GET", 200),
              ("ImdsCredentials", "GET", 200)], repr(imds_log))

    role_path = "/latest/meta-data/iam/security-credentials/"
    s, _, _ = d.imds_req("GET", role_path)
    check("IMDSv2: a GET without a token is refused with 401", s == 401, s)
    s, _, _ = d.imds_req("GET", role_path, {"X-aws-ec2-metadata-token": "forged"})
    check("IMDSv2: a GET with an unknown token is refused with 401", s == 401, s)
    bad_ttls = [d.imds_req("PUT", "/latest/api/token", h)[0] for h in
                ({}, {"X-aws-ec2-metadata-token-ttl-seconds": "0"},
                 {"X-aws-ec2-metadata-token-ttl-seconds": "21601"},
                 {"X-aws-ec2-metadata-token-ttl-seconds": "ten"})]
    check("IMDSv2: PUT without a TTL, or with TTL 0, 21601 or not a number: 400",
          bad_ttls == [400] * 4, bad_ttls)
    s, h, tok = d.imds_req("PUT", "/latest/api/token",
                           {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    check("IMDSv2: TTL 21600 gives a token", s == 200 and len(tok) > 20, s)
    tok = tok.decode()
    s, _, _ = d.imds_req("PUT", "/latest/api/token",
                         {"X-aws-ec2-metadata-token-ttl-seconds": "60",
                          "X-Forwarded-For": "10.0.0.1"})
    s2, _, _ = d.imds_req("GET", role_path, {"X-aws-ec2-metadata-token": tok,
                                             "X-Forwarded-For": "10.0.0.1"})
    check("IMDS: requests with X-Forwarded-For are refused with 403", (s, s2) == (403, 403),
          (s, s2))

    # ---- directory data ------------------------------------------------------------
    hostile = ["alice", "bob\nroot:x:0:0::/:/bin/sh", "c:d", "e/f", "g" * 200,
               "\u00e9l\u00e8ve-\u65e5\u672c", "root", "../x", "zed"]
    users = [{"UserId": uid(i), "UserName": n} for i, n in enumerate(hostile)]
    users[8]["UserStatus"] = "DISABLED"
    groups = {gid(1): {"DisplayName": "linux-users", "members": [uid(i) for i in range(8)]},
              gid(2): [uid(0), uid(8)]}
    d.set(users=users, groups=groups)
    cl = make_client(d, creds)

    pages = list(cl.get_paginator("list_group_memberships").paginate(
        IdentityStoreId=STORE, GroupId=gid(1), PaginationConfig={"PageSize": 3}))
    got = [m["MemberId"]["UserId"] for p in pages for m in p["GroupMemberships"]]
    check("ListGroupMemberships paginator (page size 3): every member exactly once, in order",
          got == [uid(i) for i in range(8)] and len(pages) == 3
          and all(m["GroupId"] == gid(1) and m["IdentityStoreId"] == STORE
                  and m.get("MembershipId") for p in pages for m in p["GroupMemberships"]),
          repr(got))
    toks = [p.get("NextToken") for p in pages]
    check("NextToken: on every page but the last, and opaque (no plain offset)",
          all(toks[:-1]) and toks[-1] is None and not any(t.isdigit() for t in toks[:-1]),
          repr(toks))

    pages = list(cl.get_paginator("list_users").paginate(
        IdentityStoreId=STORE, PaginationConfig={"PageSize": 4}))
    got = [(u["UserId"], u["UserName"]) for p in pages for u in p["Users"]]
    check("ListUsers paginator: every user exactly once with hostile names intact",
          got == [(u["UserId"], u["UserName"]) for u in users] and len(pages) == 3, repr(got))
    s, _, body = raw_call(d, creds, "ListUsers", {"IdentityStoreId": STORE, "MaxResults": 100})
    wire = json.loads(body)["Users"] if s == 200 else []
    check("ListUsers on the wire: full User objects with UserStatus and DisplayName",
          len(wire) == 9 and wire[8] == {"IdentityStoreId": STORE, "UserId": uid(8),
                                         "UserName": "zed", "UserStatus": "DISABLED",
                                         "DisplayName": "zed"}
          and wire[0]["UserStatus"] == "ENABLED", repr(wire[-1:]))
    r = cl.list_users(IdentityStoreId=STORE,
                      Filters=[{"AttributePath": "UserName", "AttributeValue": "c:d"}])
    check("ListUsers with a UserName filter finds that one user",
          [u["UserId"] for u in r["Users"]] == [uid(2)], repr(r["Users"]))

    r = cl.describe_user(IdentityStoreId=STORE, UserId=uid(1))
    check("DescribeUser: the user object (newline in the name intact)",
          r["UserId"] == uid(1) and r["UserName"] == hostile[1]
          and r["IdentityStoreId"] == STORE and r["DisplayName"] == hostile[1], repr(r))
    r = cl.get_group_id(IdentityStoreId=STORE, AlternateIdentifier={"UniqueAttribute": {
        "AttributePath": "DisplayName", "AttributeValue": "linux-users"}})
    check("GetGroupId by DisplayName", r["GroupId"] == gid(1), repr(r))
    r = cl.is_member_in_groups(IdentityStoreId=STORE, MemberId={"UserId": uid(8)},
                               GroupIds=[gid(1), gid(2)])
    check("IsMemberInGroups",
          [(x["GroupId"], x["MembershipExists"]) for x in r["Results"]]
          == [(gid(1), False), (gid(2), True)], repr(r))

    # ---- errors --------------------------------------------------------------------
    RNF = cl.exceptions.ResourceNotFoundException
    e = client_error("unknown GroupId: ResourceNotFoundException, ResourceType GROUP",
                     lambda: cl.list_group_memberships(IdentityStoreId=STORE, GroupId=gid(99)),
                     "ResourceNotFoundException",
                     lambda e: e.response.get("ResourceType") == "GROUP")
    check("... parsed as the modelled exception class", isinstance(e, RNF), repr(e))
    client_error("unknown UserId: ResourceNotFoundException, ResourceType USER",
                 lambda: cl.describe_user(IdentityStoreId=STORE, UserId=uid(99)),
                 "ResourceNotFoundException", lambda e: e.response.get("ResourceType") == "USER")
    client_error("other IdentityStoreId: ResourceNotFoundException, ResourceType IDENTITY_STORE",
                 lambda: cl.list_users(IdentityStoreId="d-0000000000"),
                 "ResourceNotFoundException",
                 lambda e: e.response.get("ResourceType") == "IDENTITY_STORE")
    client_error("GetGroupId of an unknown name: ResourceNotFoundException",
                 lambda: cl.get_group_id(IdentityStoreId=STORE, AlternateIdentifier={
                     "UniqueAttribute": {"AttributePath": "DisplayName",
                                         "AttributeValue": "nope"}}),
                 "ResourceNotFoundException")
    client_error("UserId not matching the model's pattern: ValidationException",
                 lambda: cl.describe_user(IdentityStoreId=STORE, UserId="../etc/passwd"),
                 "ValidationException")
    client_error("IdentityStoreId not matching the pattern: ValidationException",
                 lambda: cl.list_users(IdentityStoreId="store-1"), "ValidationException")
    client_error("MaxResults 101: ValidationException",
                 lambda: cl.list_users(IdentityStoreId=STORE, MaxResults=101),
                 "ValidationException")
    s, _, body = raw_call(d, creds, "ListUsers", {"IdentityStoreId": STORE, "MaxResults": 0})
    check("MaxResults 0 (sent raw): ValidationException",
          s == 400 and json.loads(body).get("__type") == "ValidationException", (s, body))
    lu_tok = cl.list_users(IdentityStoreId=STORE, MaxResults=2)["NextToken"]
    lgm_tok = cl.list_group_memberships(IdentityStoreId=STORE, GroupId=gid(1),
                                        MaxResults=2)["NextToken"]
    client_error("a ListUsers NextToken given to ListGroupMemberships: ValidationException",
                 lambda: cl.list_group_memberships(IdentityStoreId=STORE, GroupId=gid(1),
                                                   NextToken=lu_tok), "ValidationException")
    client_error("a NextToken of one group given for another: ValidationException",
                 lambda: cl.list_group_memberships(IdentityStoreId=STORE, GroupId=gid(2),
                                                   NextToken=lgm_tok), "ValidationException")
    client_error("a forged NextToken: ValidationException",
                 lambda: cl.list_users(IdentityStoreId=STORE, NextToken="AAAA" + lu_tok[4:]),
                 "ValidationException")
    r = cl.list_users(IdentityStoreId=STORE, MaxResults=2, NextToken=lu_tok)
    check("a good NextToken continues where the page ended",
          [u["UserId"] for u in r["Users"]] == [uid(2), uid(3)], repr(r["Users"]))
    s, h, body = raw_call(d, creds, "DeleteUser", {"IdentityStoreId": STORE})
    check("an operation the stand-in does not serve: 400 UnknownOperationException",
          s == 400 and json.loads(body).get("__type") == "UnknownOperationException", (s, body))

    # ---- SigV4 ---------------------------------------------------------------------
    d.ctl("POST", "reset_log")
    bad = dict(creds, secret_key="x" + creds["secret_key"][1:])
    client_error("wrong secret: refused with InvalidSignatureException",
                 lambda: make_client(d, bad).list_users(IdentityStoreId=STORE),
                 "InvalidSignatureException",
                 lambda e: e.response["ResponseMetadata"]["HTTPStatusCode"] == 403)
    log = d.log()
    check("... and the log records the verdict",
          len(log) == 1 and log[0]["op"] == "ListUsers" and log[0]["status"] == 403
          and log[0]["sigv4"] == "InvalidSignatureException"
          and log[0]["error_type"] == "InvalidSignatureException", repr(log))
    client_error("unknown access key: UnrecognizedClientException",
                 lambda: make_client(d, dict(creds, access_key="ASIAXXXXXXXXXXXXXXXX"))
                 .list_users(IdentityStoreId=STORE), "UnrecognizedClientException")
    client_error("session token missing: UnrecognizedClientException",
                 lambda: make_client(d, dict(creds, token=None)).list_users(
                     IdentityStoreId=STORE), "UnrecognizedClientException")
    client_error("signed for another region: InvalidSignatureException",
                 lambda: make_client(d, creds, region="eu-west-1").list_users(
                     IdentityStoreId=STORE), "InvalidSignatureException")
    d.set(clock_offset=3600)
    client_error("clock skew over 15 minutes: InvalidSignatureException",
                 lambda: cl.list_users(IdentityStoreId=STORE), "InvalidSignatureException")
    d.set(clock_offset=0)
    s, _, body = d.request("POST", "/", b"{}", {"X-Amz-Target": "AWSIdentityStore.ListUsers",
                                                "Content-Type": "application/x-amz-json-1.1"})
    check("no Authorization at all: refused (403, MissingAuthenticationTokenException)",
          s == 403 and json.loads(body)["__type"] == "MissingAuthenticationTokenException",
          (s, body))
    log = d.log()
    check("every refusal is logged with its verdict, the good one as ok",
          [r["sigv4"] for r in log] == ["InvalidSignatureException",
                                        "UnrecognizedClientException",
                                        "UnrecognizedClientException",
                                        "InvalidSignatureException",
                                        "InvalidSignatureException",
                                        "MissingAuthenticationTokenException"],
          repr([r["sigv4"] for r in log]))
    cl.list_users(IdentityStoreId=STORE, MaxResults=1)
    check("a good request is logged with sigv4 ok", d.log()[-1]["sigv4"] == "ok",
          repr(d.log()[-1]))
    d.set(credentials={"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "s3cr3t"})
    c2 = make_client(d, {"access_key": "AKIDEXAMPLE", "secret_key": "s3cr3t"})
    r = c2.list_users(IdentityStoreId=STORE, MaxResults=1)
    check("scenario credentials without a session token are accepted", len(r["Users"]) == 1)
    d.set(credentials={"AccessKeyId": sc_creds["AccessKeyId"],
                       "SecretAccessKey": sc_creds["SecretAccessKey"],
                       "Token": sc_creds["Token"]})

    # ---- throttling and injected failures ------------------------------------------
    d.set(throttle={"ListUsers": {"count": 1, "retry_after": 3}})
    e = client_error("throttle: ThrottlingException with RetryAfterSeconds from the body",
                     lambda: cl.list_users(IdentityStoreId=STORE), "ThrottlingException",
                     lambda e: e.response.get("RetryAfterSeconds") == 3
                     and "retry-after" not in e.response["ResponseMetadata"]["HTTPHeaders"]
                     and e.response["ResponseMetadata"]["HTTPStatusCode"] == 400)
    check("... as the modelled exception class",
          isinstance(e, cl.exceptions.ThrottlingException), repr(e))
    r = cl.list_users(IdentityStoreId=STORE, MaxResults=1)
    check("throttle count 1: the next call succeeds", len(r["Users"]) == 1)
    d.set(throttle={"ListUsers": {"count": 1, "retry_after": 2}}, retry_after_header=True)
    client_error("retry_after_header: the throttle also carries Retry-After",
                 lambda: cl.list_users(IdentityStoreId=STORE), "ThrottlingException",
                 lambda e: e.response["ResponseMetadata"]["HTTPHeaders"].get("retry-after")
                 == "2")
    d.set(retry_after_header=False)
    d.ctl("POST", "reset_log")
    d.set(throttle={"DescribeUser": {"count": 2, "retry_after": 0}})
    cr = make_client(d, creds, retries={"mode": "standard", "total_max_attempts": 5})
    r = cr.describe_user(IdentityStoreId=STORE, UserId=uid(0))
    counts = d.ctl("GET", "counts")[1]
    log = d.log()
    check("throttle count 2: botocore retries and the third call succeeds",
          r["UserName"] == "alice" and counts.get("DescribeUser") == 3
          and [x["status"] for x in log] == [400, 400, 200]
          and [x["fault"] for x in log] == ["throttle", "throttle", None], repr(log))

    for typ, status in (("AccessDeniedException", 400), ("ValidationException", 400),
                        ("ResourceNotFoundException", 400), ("InternalServerException", 500)):
        d.set(fail={"DescribeUser": {"type": typ, "count": 1}})
        e = client_error("fail %s: HTTP %d, parsed as %s" % (typ, status, typ),
                         lambda: cl.describe_user(IdentityStoreId=STORE, UserId=uid(0)), typ,
                         lambda e: e.response["ResponseMetadata"]["HTTPStatusCode"] == status
                         and (typ != "InternalServerException"
                              or e.response.get("RetryAfterSeconds") == 1))
        check("... as the modelled exception class",
              isinstance(e, getattr(cl.exceptions, typ)), repr(e))
    r = cl.describe_user(IdentityStoreId=STORE, UserId=uid(0))
    check("fail count 1: the next call succeeds", r["UserId"] == uid(0))
    d.set(fail={"ListUsers": {"type": "AccessDeniedException", "status": 403}})
    codes = []
    for _ in range(3):
        try:
            cl.list_users(IdentityStoreId=STORE)
        except ClientError as e:
            codes.append((e.response["Error"]["Code"],
                          e.response["ResponseMetadata"]["HTTPStatusCode"]))
    check("fail without count: every call fails, status override applies",
          codes == [("AccessDeniedException", 403)] * 3, repr(codes))
    d.set(fail={"ListUsers": None})
    check("fail: null clears it", len(cl.list_users(IdentityStoreId=STORE)["Users"]) == 9)

    # ---- malformed answers and dropped connections ---------------------------------
    lgm = {"IdentityStoreId": STORE, "GroupId": gid(1), "MaxResults": 5}

    def mal(kind, op="ListGroupMemberships", payload=lgm):
        d.set(malformed={op: kind})
        return raw_call(d, creds, op, payload)

    s, _, b = mal("notjson")
    check("malformed notjson: 200 with a body that is not JSON", s == 200 and b.startswith(b"<"))
    s, _, b = mal("wrongtype")
    check("malformed wrongtype: GroupMemberships is not a list",
          s == 200 and isinstance(json.loads(b)["GroupMemberships"], dict))
    s, _, b = mal("missing_member")
    check("malformed missing_member: no GroupMemberships, NextToken still there",
          s == 200 and "GroupMemberships" not in json.loads(b) and "NextToken" in json.loads(b))
    s, _, b = mal("bad_userid")
    ids = [m["MemberId"]["UserId"] for m in json.loads(b)["GroupMemberships"]]
    check("malformed bad_userid: UserIds that break the pattern",
          s == 200 and "../../etc/passwd" in ids and "x\ny" in ids, repr(ids))
    s, h, b = mal("huge")
    check("malformed huge: a valid answer over 4 MiB",
          s == 200 and len(b) > 4 * 1024 * 1024 and int(h["content-length"]) == len(b)
          and len(json.loads(b)["GroupMemberships"]) == 5)
    s, h, b = mal("truncated")
    try:
        json.loads(b)
        parsed = True
    except ValueError:
        parsed = False
    check("malformed truncated: Content-Length matches, JSON cut short",
          s == 200 and int(h["content-length"]) == len(b) and not parsed and b.startswith(b"{"))
    res = mal("short")
    check("malformed short: fewer bytes than Content-Length, then the connection closes",
          isinstance(res, http.client.IncompleteRead), repr(res)[:200])
    s, _, b = raw_call(d, creds, "ListGroupMemberships", lgm)
    check("malformed applies to one call by default", s == 200
          and len(json.loads(b)["GroupMemberships"]) == 5)
    d.set(malformed={"DescribeUser": {"kind": "wrongtype", "count": 2}})
    got = [json.loads(raw_call(d, creds, "DescribeUser", {"IdentityStoreId": STORE,
                                                          "UserId": uid(0)})[2])["UserName"]
           for _ in range(3)]
    check("malformed with count 2: two bad answers, then a good one", got == [42, 42, "alice"],
          repr(got))
    d.set(drop={"ListUsers": 1})
    res = raw_call(d, creds, "ListUsers", {"IdentityStoreId": STORE})
    check("drop: the connection closes without an answer",
          isinstance(res, (http.client.RemoteDisconnected, ConnectionError)), repr(res))
    check("drop: logged", d.log()[-1]["fault"] == "drop" and d.log()[-1]["status"] is None)

    # ---- live mutations ------------------------------------------------------------
    def members(g):
        return [m["MemberId"]["UserId"] for p in cl.get_paginator("list_group_memberships")
                .paginate(IdentityStoreId=STORE, GroupId=g) for m in p["GroupMemberships"]]

    d.op(op="add_member", GroupId=gid(2), UserId=uid(3))
    d.op(op="remove_member", GroupId=gid(2), UserId=uid(0))
    check("add_member / remove_member show in ListGroupMemberships",
          members(gid(2)) == [uid(8), uid(3)], repr(members(gid(2))))
    d.op(op="rename", UserId=uid(0), UserName="alice2")
    d.op(op="disable", UserId=uid(3))
    r0 = cl.describe_user(IdentityStoreId=STORE, UserId=uid(0))
    s, _, b = raw_call(d, creds, "DescribeUser", {"IdentityStoreId": STORE, "UserId": uid(3)})
    check("rename and disable show in DescribeUser",
          r0["UserName"] == "alice2" and json.loads(b)["UserStatus"] == "DISABLED", b)
    r = cl.list_users(IdentityStoreId=STORE,
                      Filters=[{"AttributePath": "UserName", "AttributeValue": "alice"}])
    check("the old name is gone from the UserName index", r["Users"] == [], repr(r))
    d.op(op="add_user", UserId=uid(50), UserName="newbie")
    d.op(op="add_member", GroupId=gid(2), UserId=uid(50))
    d.op(op="remove_user", UserId=uid(8))
    check("add_user / remove_user (which also leaves its groups)",
          members(gid(2)) == [uid(3), uid(50)]
          and cl.describe_user(IdentityStoreId=STORE, UserId=uid(50))["UserName"] == "newbie")

    # ---- control API ---------------------------------------------------------------
    st1, _ = d.ctl("POST", "directory", {"nonsense": 1})
    st2, _ = d.ctl("POST", "directory", {"page_size": 101})
    st3, _ = d.ctl("POST", "directory", {"throttle": {"DeleteUser": {"count": 1}}})
    st4, _ = d.ctl("POST", "directory", {"op": "rename", "UserId": uid(77), "UserName": "x"})
    st5, _ = d.ctl("POST", "directory", {"users": [{"UserId": uid(1), "UserName": "a"},
                                                   {"UserId": uid(2), "UserName": "a"}]})
    check("control: unknown key, bad value, unknown op target, duplicate names: 400",
          (st1, st2, st3, st4, st5) == (400,) * 5, (st1, st2, st3, st4, st5))
    check("control: a refused update changes nothing",
          len(cl.list_users(IdentityStoreId=STORE)["Users"]) == 9)
    d.ctl("POST", "reset_log")
    cl.list_users(IdentityStoreId=STORE)
    cl.list_users(IdentityStoreId=STORE)
    cl.describe_user(IdentityStoreId=STORE, UserId=uid(0))
    check("counts after reset_log", d.ctl("GET", "counts")[1]
          == {"ListUsers": 2, "DescribeUser": 1}, repr(d.ctl("GET", "counts")[1]))
    d.set(page_size=2)
    r = cl.list_users(IdentityStoreId=STORE)
    check("page_size sets the page size when MaxResults is absent",
          len(r["Users"]) == 2 and "NextToken" in r)
    d.set(page_size=100)

    # ---- IMDS modes ----------------------------------------------------------------
    def imds_mode(mode, **kw):
        d.set(imds=dict({"mode": mode}, **kw))

    def v2_flow():
        s, _, t = d.imds_req("PUT", "/latest/api/token",
                             {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        if s != 200:
            return ("put", s)
        h = {"X-aws-ec2-metadata-token": t.decode()}
        s, _, role = d.imds_req("GET", role_path, h)
        if s != 200:
            return ("list", s, role)
        s, _, doc = d.imds_req("GET", role_path + urllib.parse.quote(role.decode()), h)
        return ("creds", s, role, doc)

    imds_mode("v1only")
    r = v2_flow()
    s, _, role = d.imds_req("GET", role_path)
    check("imds v1only: the PUT is refused (403), so a v2-only flow gets no token",
          r == ("put", 403), repr(r))
    check("imds v1only: GETs answer without a token", s == 200 and role.decode() == state["role"])
    d.ctl("POST", "reset_log")
    c1 = botocore.utils.InstanceMetadataFetcher(
        timeout=5, num_attempts=1, base_url=d.imds, env={}).retrieve_iam_role_credentials()
    log = d.log()
    check("imds v1only: botocore's PUT is refused (403), it falls back to token-less GETs",
          [(x["op"], x["status"]) for x in log] == [("ImdsToken", 403), ("ImdsRoleList", 200),
                                                    ("ImdsCredentials", 200)]
          and c1.get("access_key") == sc_creds["AccessKeyId"], repr(log))
    imds_mode("down")
    try:
        d.imds_req("GET", role_path)
        res = None
    except Exception as e:
        res = e
    check("imds down: the connection closes without an answer",
          isinstance(res, (http.client.RemoteDisconnected, ConnectionError)), repr(res))
    imds_mode("huge")
    r = v2_flow()
    check("imds huge: a credentials document over 4 MiB",
          r[0] == "creds" and r[1] == 200 and len(r[3]) > 4 * 1024 * 1024)
    imds_mode("badjson")
    r = v2_flow()
    try:
        json.loads(r[3])
        parsed = True
    except (ValueError, IndexError):
        parsed = False
    check("imds badjson: 200 with a credentials document that is not JSON",
          r[0] == "creds" and r[1] == 200 and not parsed, repr(r)[:200])
    imds_mode("redirect")
    r = v2_flow()
    check("imds redirect: 302 elsewhere for the credential paths",
          r[0] == "list" and r[1] == 302, repr(r)[:200])
    d.ctl("POST", "reset_log")
    s, h, _ = d.imds_req("GET", role_path, {"X-aws-ec2-metadata-token": tok})
    loc = urllib.parse.urlsplit(h.get("location", ""))
    s2, _, role = d.imds_req("GET", loc.path, {"X-aws-ec2-metadata-token": tok})
    check("imds redirect: a client that follows the Location is seen in the log",
          s == 302 and loc.port == d.imds_port and s2 == 200 and role.decode() == state["role"]
          and d.log()[-1]["op"] == "ImdsRedirectFollowed", (s, h, s2))
    imds_mode("expired")
    r = v2_flow()
    exp = json.loads(r[3])["Expiration"]
    check("imds expired: Expiration in the past",
          r[1] == 200 and exp < time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), exp)
    imds_mode("slow", slow_seconds=1)
    t0 = time.time()
    s, _, _ = d.imds_req("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "5"})
    check("imds slow: the answer comes after slow_seconds", s == 200 and time.time() - t0 >= 1)
    imds_mode("control_chars")
    r = v2_flow()
    check("imds control_chars: a role name with newline and escape; its credentials still serve",
          r[0] == "creds" and b"\n" in r[2] and b"\x1b" in r[2] and r[1] == 200, repr(r)[:200])
    imds_mode("no_role")
    r = v2_flow()
    check("imds no_role: an empty role list", r[0] == "creds" and r[2] == b"", repr(r)[:200])
    imds_mode("v2")
    creds2 = botocore.utils.InstanceMetadataFetcher(
        timeout=5, num_attempts=1, base_url=d.imds, env={}).retrieve_iam_role_credentials()
    check("imds back to v2: botocore gets credentials again",
          creds2.get("access_key") == sc_creds["AccessKeyId"])

    # ---- 10,000 users in 5 groups of 2,000 -----------------------------------------
    t0 = time.time()
    d.set(generate={"users": 10000, "groups": 5, "per_group": 2000})
    t_gen = time.time() - t0
    g3 = cl.get_group_id(IdentityStoreId=STORE, AlternateIdentifier={"UniqueAttribute": {
        "AttributePath": "DisplayName", "AttributeValue": "group3"}})["GroupId"]
    d.ctl("POST", "reset_log")
    t0 = time.time()
    got = [m["MemberId"]["UserId"] for p in cl.get_paginator("list_group_memberships").paginate(
        IdentityStoreId=STORE, GroupId=g3) for m in p["GroupMemberships"]]
    t_page = time.time() - t0
    snap = d.ctl("GET", "directory")[1]
    want = [u["UserId"] for u in snap["users"][4000:6000]]
    check("10,000 users / 5 groups: generated in %.2f s (< 3 s)" % t_gen, t_gen < 3)
    check("10,000 users: group3 paged in %.2f s (< 3 s), 2,000 members once, in 20 pages"
          % t_page, t_page < 3 and got == want and len(set(got)) == 2000
          and d.ctl("GET", "counts")[1].get("ListGroupMemberships") == 20,
          "%d members, %d unique" % (len(got), len(set(got))))
    # botocore ignores RetryAfterSeconds and sleeps up to 2^n s itself: two throttles only.
    d.set(throttle={"ListGroupMemberships": {"count": 2, "retry_after": 0}})
    cr = make_client(d, creds, retries={"mode": "standard", "total_max_attempts": 5})
    d.ctl("POST", "reset_log")
    got = [m["MemberId"]["UserId"] for p in cr.get_paginator("list_group_memberships").paginate(
        IdentityStoreId=STORE, GroupId=g3) for m in p["GroupMemberships"]]
    check("10,000 users: paged with 2 throttles on the way, still 2,000 members once",
          got == want and d.ctl("GET", "counts")[1].get("ListGroupMemberships") == 22,
          repr(d.ctl("GET", "counts")[1]))
    check("generated names: user00001..user10000, groups group1..group5",
          snap["users"][0]["UserName"] == "user00001"
          and snap["users"][-1]["UserName"] == "user10000"
          and sorted(g["DisplayName"] for g in snap["groups"].values())
          == ["group%d" % i for i in range(1, 6)], snap["users"][0])
    t0 = time.time()
    n = sum(len(p["Users"]) for p in cl.get_paginator("list_users").paginate(
        IdentityStoreId=STORE))
    t_users = time.time() - t0
    check("10,000 users: ListUsers pages through all in %.2f s (< 8 s)" % t_users,
          n == 10000 and t_users < 8, n)


if __name__ == "__main__":
    sys.exit(main())
