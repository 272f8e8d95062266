#!/usr/bin/python3
"""A hostile metadata service on 127.0.0.1 against pam_ssooidc_sync's
IMDSv2 client. TAP on stdout. Each mode: the sync must fail at the
metadata step (exit 2) in bounded time, write nothing but the status
file, and never reach a proxy the environment names.

Usage (as root, from the top of the tree, after make all tools):
  tests/tools/nss_sandbox.sh build/nss/libnss_ssooidc.so.2 -- \\
      /usr/bin/python3 tests/attack/imds_hostile.py"""
import http.server
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SYNC = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_sync")
ROLE_PATH = "/latest/meta-data/iam/security-credentials/"
GOOD_CREDS = {"Code": "Success", "AccessKeyId": "ASIAABCDEFGHIJKLMNOP",
              "SecretAccessKey": "a" * 40, "Token": "b" * 300,
              "Expiration": "2099-01-01T00:00:00Z"}
state = {"mode": "good", "seen": []}


sys.path.insert(0, os.path.join(ROOT, "tests"))
from tap import Tap  # noqa: E402

TAP = Tap(detail_lines=12)


def ok(cond, what, detail=""):
    return TAP.check(cond, what, detail)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, headers=()):
        body = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        state["seen"].append(("PUT", self.path, dict(self.headers)))
        m = state["mode"]
        if m == "huge-token":
            return self.send(200, "A" * 15000)
        if m == "token-crlf":
            return self.send(200, "abc\r\nX-Injected: 1")
        if m == "slow-drip":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(60):
                    self.wfile.write(b"A")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            return
        if m == "chunked-huge":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(100):
                    chunk = b"A" * 1024
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            return
        if m == "redirect":
            return self.send(307, "", [("Location", "http://127.0.0.1:1/latest/api/token")])
        return self.send(200, "TOKEN-abc_123")

    def do_GET(self):
        state["seen"].append(("GET", self.path, dict(self.headers)))
        m = state["mode"]
        if self.path == ROLE_PATH:
            if m == "role-dotdot":  # curl squashes the dot segment: GET .../iam/
                return self.send(200, "..")
            if m == "role-ctl":
                return self.send(200, "role\x1b[2J")
            return self.send(200, "the-role")
        creds = dict(GOOD_CREDS)
        if m == "expiry-garbage":
            creds["Expiration"] = "soon"
        elif m == "expiry-past":
            creds["Expiration"] = "2001-01-01T00:00:00Z"
        elif m == "token-huge-creds":
            creds["Token"] = "c" * 9000
        elif m == "key-ctl":
            creds["AccessKeyId"] = "ASIA\r\nX-Evil: 1"
        elif m == "not-json":
            return self.send(200, "<html>")
        elif m == "dup-keys":
            body = ('{"Code":"Success","AccessKeyId":"ASIAABCDEFGHIJKLMNOP",'
                    '"AccessKeyId":"ASIAZZZZZZZZZZZZZZZZ","SecretAccessKey":"%s",'
                    '"Token":"t","Expiration":"2099-01-01T00:00:00Z"}' % ("a" * 40))
            return self.send(200, body)
        return self.send(200, json.dumps(creds))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root")
        return 0
    with open("/etc/nsswitch.conf") as f:
        if "ssooidc" not in f.read():
            print("1..0 # SKIP runs inside tests/tools/nss_sandbox.sh")
            return 0
    srv = Server(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen(5)
    proxy.settimeout(0.1)
    work = tempfile.mkdtemp(prefix="attack-imds-", dir="/run")
    os.chmod(work, 0o755)
    data = os.path.join(work, "data")
    conf = os.path.join(work, "pam_ssooidc.conf")
    with open(conf, "w") as f:
        f.write("start_url = https://d-1234567890.awsapps.com/start\nregion = us-east-1\n"
                "account_id = 111122223333\nrole_name = Dev\nprovision = sync\n"
                "identity_store_id = d-1234567890\n"
                "sync_groups = 11111111-1111-1111-1111-111111111111\n"
                "identity_store_endpoint = https://127.0.0.1:1\nretries = 0\n"
                "imds_endpoint = http://127.0.0.1:%d\n" % srv.server_address[1])
    os.chmod(conf, 0o600)
    env = {"PATH": "/usr/bin:/bin",
           "http_proxy": "http://127.0.0.1:%d" % proxy.getsockname()[1],
           "HTTP_PROXY": "http://127.0.0.1:%d" % proxy.getsockname()[1],
           "ALL_PROXY": "http://127.0.0.1:%d" % proxy.getsockname()[1], "NO_PROXY": ""}
    try:
        for mode in ("huge-token", "token-crlf", "slow-drip", "chunked-huge", "redirect",
                     "role-dotdot", "role-ctl", "expiry-garbage", "expiry-past",
                     "token-huge-creds", "key-ctl", "not-json", "dup-keys", "good"):
            state["mode"], state["seen"] = mode, []
            t0 = time.monotonic()
            p = subprocess.run([SYNC, "--conf", conf, "--dir", data, "--json"], env=env,
                               capture_output=True, text=True, timeout=120)
            took = time.monotonic() - t0
            try:
                out = json.loads(p.stdout)
            except ValueError:
                out = {"message": p.stdout + p.stderr}
            msg = out.get("message", "")
            at_metadata = "metadata" in msg
            want_metadata = mode != "good"
            ok(p.returncode == 2 and at_metadata == want_metadata and took < 60,
               "%s: exit 2 %s, in %.1f s" % (mode, "at the metadata step" if want_metadata
                                             else "past the metadata step", took),
               "exit %s: %s" % (p.returncode, msg))
            left = sorted(os.listdir(data)) if os.path.isdir(data) else []
            ok(set(left) <= {"sync-status.json"}, "%s: nothing but the status written" % mode,
               str(left))
            got = None
            try:
                got, _ = proxy.accept()
            except OSError:
                pass
            ok(got is None, "%s: the proxy in the environment is never reached" % mode)
            if got:
                got.close()
            gets = [s for s in state["seen"] if s[0] == "GET"]
            ok(all("X-aws-ec2-metadata-token" in s[2] for s in gets),
               "%s: no GET without the token" % mode, str(gets)[:300])
    finally:
        srv.shutdown()
        proxy.close()
        shutil.rmtree(work, ignore_errors=True)
    return TAP.done()


if __name__ == "__main__":
    sys.exit(main())
