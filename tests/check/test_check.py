#!/usr/bin/python3
"""pam_ssooidc_check, tried as an administrator would (TAP).

Real runs of the built command against the stand-in over real TLS: a good
configuration, each kind of bad configuration, the service down, a skewed
clock, --login approved and refused, --json, and a host with several
mistakes planted at once (each must be found in one run).

Usage: /usr/bin/python3 tests/check/test_check.py   (as root)"""
import base64
import json
import os
import re
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))
import harness  # noqa: E402

CHECK = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_check")
MODULE = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
tap = harness.Tap()


def run(*args, stdin="\n", env=None):
    p = subprocess.run([CHECK] + list(args), input=stdin, capture_output=True, text=True,
                       timeout=120, env=env)
    return p.returncode, p.stdout, p.stderr


def lines(out, status):
    return [l for l in out.splitlines() if l.startswith(status + " ")]


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, "https://127.0.0.1:%d" % s.getsockname()[1]


def full_backlog_port():
    """A port whose listen queue is full: further SYNs are dropped, so a
    connection attempt times out as behind a dropping firewall."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    held = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(s.getsockname())
        except BlockingIOError:
            pass
        held.append(c)
    return [s] + held, "https://127.0.0.1:%d" % s.getsockname()[1]


class RequestRecorder:
    """A TLS server with the stand-in's certificate that records each
    request line as sent (http.server would fold a leading '//') and
    answers 404, closing the connection."""

    def __init__(self, sd):
        import ssl
        import threading
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(sd.dir, "server.pem"), os.path.join(sd.dir, "server.key"))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = "https://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.lines = []
        self.ctx = ctx
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as c:
                    c.settimeout(5)
                    f = c.makefile("rb")
                    self.lines.append(f.readline().decode("latin-1").rstrip("\r\n"))
                    while f.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                              b"Connection: close\r\n\r\n")
            except OSError:
                pass

    def close(self):
        self.sock.close()


def base_conf(sd, work, **over):
    opts = {"start_url": "https://example.awsapps.com/start", "oidc_endpoint": sd.url,
            "portal_endpoint": sd.url, "sts_endpoint": sd.url, "ca_file": sd.ca,
            "cache_dir": os.path.join(work, "cache"), "account_id": harness.ACCOUNT,
            "role_name": harness.ROLE}
    opts.update(over)
    return "".join("%s = %s\n" % kv for kv in opts.items() if kv[1] is not None)


def main():
    if os.geteuid() != 0:
        print("ok 1 - pam_ssooidc_check # SKIP needs root (trusted files)")
        print("1..1")
        return 0
    work = harness.trusted_tempdir("ssooidc-check-")
    sd = harness.Standin(work)
    od = harness.Standin(os.path.join(work, "oidc"), mode="oidc")
    try:
        cases(sd, work)
        openid_cases(od, work)
        service_cases(sd, work)
    finally:
        sd.stop()
        od.stop()
        subprocess.run(["rm", "-rf", work])
        harness.cleanup_pam_wrapper_dirs()
    return tap.done()


def cases(sd, work):
    conf = write(os.path.join(work, "good.conf"), "# a good configuration\n" + base_conf(sd, work))
    # ---- a good configuration
    rc, out, err = run("--conf", conf, "prompt=never")
    tap.check(rc == 0 and out.rstrip().endswith("all is well") and not lines(out, "FAIL")
              and not lines(out, "warn"), "good configuration: exit 0, all is well", out + err)
    tap.check(re.search(r"^  start_url\s+= https://example.awsapps.com/start\s+\(%s:2\)$"
                        % re.escape(conf), out, re.M)
              and re.search(r"^  prompt\s+= never\s+\(argument\)$", out, re.M)
              and re.search(r"^  timeout\s+= 300\s+\(default\)$", out, re.M)
              and re.search(r"^  client_name\s+= pam_ssooidc on \S+\s+\(derived\)$", out, re.M),
              "each value with where it came from: file:line, argument, default, derived", out)
    tap.check(all(re.search(r"^ok +%s: TLS verified, HTTP \d+" % ep, out, re.M)
                  for ep in ("oidc_endpoint", "portal_endpoint", "sts_endpoint"))
              and re.search(r"^ok +oidc_endpoint: TCP connection", out, re.M)
              and re.search(r"^ok +oidc_endpoint: 127.0.0.1 resolves", out, re.M),
              "each endpoint: name resolution, TCP, TLS, an HTTP answer", out)
    tap.check(re.search(r"^info +trusted path: cache_dir .* does not exist yet", out, re.M)
              and re.search(r"^ok +clock: ", out, re.M),
              "a new host's missing cache is information, not a finding; the clock agrees", out)
    users = subprocess.run(["id", "alice"], capture_output=True).returncode == 0
    # ---- bad configurations, each named with its origin
    bad = write(os.path.join(work, "bad.conf"), base_conf(sd, work) + "timeout = 5\n")
    rc, out, err = run("--conf", bad)
    tap.check(rc == 2 and re.search(r"^FAIL +configuration: %s line 9: timeout: 5 is out of "
                                    r"range" % re.escape(bad), out, re.M),
              "an out-of-range value: FAIL naming file:line, exit 2", out)
    rc, out, err = run("--conf", conf, "frobnicate=1")
    tap.check(rc == 2 and "PAM stanza: unknown option 'frobnicate'" in out,
              "an unknown argument: FAIL naming the stanza", out)
    nopol = write(os.path.join(work, "nopolicy.conf"), base_conf(sd, work, account_id=None,
                                                                 role_name=None))
    rc, out, err = run("--conf", nopol)
    tap.check(rc == 2 and "no identity policy" in out, "no identity policy: FAIL", out)
    gw = os.path.join(work, "gw")
    os.mkdir(gw)
    os.chmod(gw, 0o775)
    gwconf = write(os.path.join(gw, "c.conf"), base_conf(sd, work))
    rc, out, err = run("--conf", gwconf)
    tap.check(rc == 2 and "writable by group or others" in out and gw in out,
              "a config file in a group-writable directory: FAIL naming the directory", out)
    rc, out, err = run("--conf", "/nonexistent/x.conf")
    tap.check(rc == 2 and "does not exist" in out, "a missing --conf file: FAIL", out)
    rc, out, err = run("--bogus")
    tap.check(rc == 3 and "usage:" in err, "a usage error: exit 3 (UNKNOWN)", out + err)
    # ---- the service down
    s, dead = dead_port()
    rc, out, err = run("--conf", conf, "oidc_endpoint=" + dead)
    s.close()
    tap.check(rc == 2 and re.search(r"^FAIL +oidc_endpoint: TCP connection to 127\.0\.0\.1 "
                                    r"port %s refused \(nothing listens on that port, or a "
                                    r"firewall rejects it\)$" % dead.rsplit(":", 1)[1],
                                    out, re.M),
              "the OIDC endpoint down: FAIL at TCP, saying the connection was refused", out)
    socks, silent = full_backlog_port()
    rc, out, err = run("--conf", conf, "oidc_endpoint=" + silent, "http_timeout=1")
    for x in socks:
        x.close()
    tap.check(rc == 2 and re.search(r"^FAIL +oidc_endpoint: no TCP connection to 127\.0\.0\.1 "
                                    r"port \d+ within 1 s \(timed out: a firewall drops the "
                                    r"packets, or the host is down\)$", out, re.M),
              "an endpoint that never answers the SYN: FAIL saying it timed out", out)
    # ---- a TLS trust problem: one prefix, and what to set
    rc, out, err = run("--conf", conf, "ca_file=/etc/ssl/certs/ca-certificates.crt")
    tap.check(rc == 2 and re.search(r"^FAIL +sts_endpoint: https://127\.0\.0\.1:\d+/: TLS "
                                    r"certificate not trusted \(SSL certificate problem: .*\); "
                                    r"is the CA that signed it in ca_file "
                                    r"/etc/ssl/certs/ca-certificates\.crt\?$", out, re.M)
              and not re.search(r"sts_endpoint: sts_endpoint:", out),
              "the service's certificate is not trusted by ca_file: FAIL at TLS, one prefix, "
              "the URL and the ca_file named", out)
    noca = write(os.path.join(work, "noca.conf"), base_conf(sd, work, ca_file=None))
    rc, out, err = run("--conf", noca)
    tap.check(rc == 2 and re.search(r"^FAIL +oidc_endpoint: https://127\.0\.0\.1:\d+/: TLS "
                                    r"certificate not trusted \(.*\); for a private CA, set "
                                    r"ca_file to a root-owned PEM bundle holding it$", out, re.M),
              "not trusted by the system store: FAIL with the hint to set ca_file", out)
    der = os.path.join(work, "ca.der")
    subprocess.run(["openssl", "x509", "-in", sd.ca, "-outform", "der", "-out", der],
                   check=True)
    os.chmod(der, 0o644)
    rc, out, err = run("--conf", conf, "ca_file=" + der)
    tap.check(rc == 2 and re.search(r"^FAIL +https: TLS and HTTP not checked: ca_file %s is not "
                                    r"a PEM certificate bundle \(no -----BEGIN CERTIFICATE----- "
                                    r"block OpenSSL can read\)" % re.escape(der), out, re.M)
              and "error importing CA certificate blob" not in out,
              "a DER ca_file: FAIL naming the option and path, not curl's words", out)
    # A PEM certificate block whose contents are no certificate: only libcurl
    # decodes the certificates (at the connection), and its failure is told
    # in words naming ca_file, not curl's.
    broken = os.path.join(work, "broken.pem")
    with open(broken, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n"
                % base64.b64encode(b"not a certificate at all, just bytes").decode())
    os.chmod(broken, 0o644)
    rc, out, err = run("--conf", conf, "ca_file=" + broken)
    tap.check(rc == 2 and re.search(r"^FAIL +oidc_endpoint: ca_file %s holds a certificate "
                                    r"block that does not decode \(corrupt or truncated\?\)"
                                    % re.escape(broken), out, re.M)
              and "error importing CA certificate blob" not in out,
              "a PEM block that holds no certificate: FAIL naming the option and path at the "
              "first connection, not curl's words", out)
    # ---- a skewed clock
    sd.reset(clock_offset=1200)
    rc, out, err = run("--conf", conf)
    tap.check(rc == 2 and re.search(r"^FAIL +clock: this host's clock is 1[12]\d\d s behind",
                                    out, re.M), "a clock 20 minutes off: FAIL (STS refuses), exit 2", out)
    sd.reset(clock_offset=-400)
    rc, out, err = run("--conf", conf)
    tap.check(rc == 1 and re.search(r"^warn +clock: this host's clock is \d+ s ahead", out, re.M),
              "a clock 400 s off: warn, exit 1 (WARNING)", out)
    sd.reset()
    # ---- --json
    rc, out, err = run("--conf", conf, "--json")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    tap.check(doc and doc["ok"] is True and rc == 0
              and {f["status"] for f in doc["findings"]} <= {"ok", "info"}
              and any(o["option"] == "start_url" and o["from"] == conf + ":2"
                      for o in doc["configuration"]),
              "--json: the same findings and configuration as JSON", out[:2000])
    rc, out, err = run("--conf", bad, "--json")
    doc = json.loads(out) if out.strip().startswith("{") else None
    tap.check(doc and doc["ok"] is False and rc == 2
              and any(f["status"] == "FAIL" and "line 9" in f["detail"] for f in doc["findings"]),
              "--json with a bad file: ok false, the FAIL with its line", out[:2000])
    tap.check(doc and all(set(f) >= {"status", "severity", "check", "detail", "file", "line",
                                      "option"} for f in doc["findings"])
              and any(f["file"] == bad and f["line"] == 9 and f["option"] == "timeout"
                      and f["severity"] == "critical" for f in doc["findings"])
              and doc["status"] == "CRITICAL" and doc["exit"] == 2,
              "--json: each finding has file, line, option and severity members", out[:3000])
    tap.check(doc and any(o["option"] == "timeout" and o["value"] == "300"
                          for o in doc.get("configuration", [])),
              "--json: the configuration it could read is there although it did not load",
              out[:3000])
    # ---- every error of the configuration in one run, near misses named
    many = write(os.path.join(work, "many.conf"), base_conf(sd, work) +
                 "regoin = us-east-1\ntimeout = 5\nretries = 2\nretries = 3\nclient_id = x\n")
    rc, out, err = run("--conf", many, "Debug", "http_timeout=0", "--json")
    doc = json.loads(out) if out.strip().startswith("{") else {"findings": []}
    got = {(f["file"], f["line"], f["option"]) for f in doc["findings"] if f["status"] == "FAIL"}
    want = {(many, 9, "regoin"), (many, 10, "timeout"), (many, 12, "retries"),
            (many, 13, "client_id"), (None, None, "Debug"), (None, None, "http_timeout")}
    tap.check(rc == 2 and want <= got, "every configuration error in one run, each at its "
              "file:line with its option", "%s\n%s" % (sorted(map(str, got)), out[:3000]))
    rc, out, err = run("--conf", many, "Debug")
    tap.check(rc == 2 and "line 9: unknown option 'regoin' (did you mean region?)" in out
              and "unknown option 'Debug' (did you mean debug?)" in out
              and len(lines(out, "FAIL")) >= 5,
              "a near-miss option name: did you mean the known one", out)
    rc, out, err = run("--conf", conf, "frobnicate=1")
    tap.check("did you mean" not in out, "no suggestion for a name near nothing", out)
    # ---- --login, approved and refused
    if not users:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", "ssochkuser"], check=True)
    user = "alice" if users else "ssochkuser"
    try:
        sd.reset(approve_after_polls=0, approver=user)
        rc, out, err = run("--conf", conf, "prompt=never", "--login", user, "--module", MODULE)
        tap.check(rc == 0 and "--- verdict: PAM_SUCCESS" in out
                  and "StartDeviceAuthorization: POST" in err and "CreateToken: POST" in err
                  and "GetCallerIdentity: POST" in err and 'result=PAM_SUCCESS' in err,
                  "--login approved: each step (start, polls, portal, STS) and the verdict", out + err)
        sd.reset(approve_after_polls=0, decision="deny", approver=user)
        rc, out, err = run("--conf", conf, "prompt=never", "--login", user, "--module", MODULE)
        tap.check(rc == 2 and "--- verdict: PAM_AUTH_ERR" in out and "denied" in err
                  and "the login did not succeed (PAM_AUTH_ERR)" in out and "warn/FAIL" not in out
                  and "The sign-in request was denied." in out + err,
                  "--login refused: the verdict with its reason, exit 2, no pointer to lines that are not there", out + err)
        # The logins registered: the cache is shown by its id's prefix and
        # expiry, never its secret.
        rc, out, err = run("--conf", conf)
        m = re.search(r"^ok +registration: client id (\S+)\.\.\. valid until \S+ \S+ UTC "
                      r"\((\d+) days\)$", out, re.M)
        secret = [x for x in harness.SECRET_MARKERS if x in out + err]
        full_ids = re.findall(r"cid-[0-9a-f]{24}", out)
        tap.check(m and len(m.group(1)) == 8 and int(m.group(2)) >= 89 and not secret
                  and not full_ids, "the registration: an 8-character id prefix and its expiry "
                  "(%s), no secret, no whole id" % (m.group(0) if m else "no line"), out)
    finally:
        if not users:
            subprocess.run(["userdel", "ssochkuser"], capture_output=True)
    # ---- an untrusted ca_file: named, and endpoints still reached
    ca_dir = os.path.join(work, "ca")
    os.mkdir(ca_dir)
    os.chmod(ca_dir, 0o770)
    with open(sd.ca) as f:
        ca = write(os.path.join(ca_dir, "ca.pem"), f.read(), 0o644)
    rc, out, err = run("--conf", conf, "ca_file=" + ca)
    tap.check(rc == 2 and re.search(r"^FAIL +trusted path: ca_file: %s is writable by group"
                                    % re.escape(ca_dir), out, re.M)
              and re.search(r"^ok +sts_endpoint: TCP connection", out, re.M),
              "ca_file in a group-writable directory: FAIL naming it; TCP still checked", out)
    # ---- a new host with five mistakes planted: all found in one run
    host = os.path.join(work, "planted")
    os.mkdir(host)
    real_map = write(os.path.join(host, "real.map"), "alice alice\n")
    os.symlink(real_map, os.path.join(host, "users.map"))
    cache = os.path.join(host, "cache")
    os.mkdir(cache)
    os.chmod(cache, 0o755)
    s, dead = dead_port()
    planted = write(os.path.join(host, "p.conf"), base_conf(
        sd, work, user_map=os.path.join(host, "users.map"), cache_dir=cache,
        sts_endpoint=dead, portal_endpoint="https://portal.no-such-host.invalid"))
    sd.reset(clock_offset=1800)
    rc, out, err = run("--conf", planted)
    s.close()
    sd.reset()
    found = {
        "user_map is a symbolic link": re.search(r"^FAIL .*users\.map is a symbolic link", out,
                                                 re.M),
        "cache_dir readable by others": re.search(r"^FAIL .*cache_dir %s is group- or world-"
                                                  r"accessible" % re.escape(cache), out, re.M),
        "STS endpoint down": re.search(r"^FAIL +sts_endpoint: TCP connection to .* refused",
                                       out, re.M),
        "portal host name does not resolve": re.search(
            r"^FAIL +portal_endpoint: name resolution of portal.no-such-host.invalid", out, re.M),
        "clock 30 minutes off": re.search(r"^FAIL +clock: ", out, re.M),
    }
    for what, hit in found.items():
        tap.check(hit, "planted mistake found in the one run: %s" % what, out)
    tap.check(rc == 2, "and the run exits 2 (CRITICAL)", out)


def openid_conf(od, work, **over):
    opts = {"issuer": od.url, "client_id": "pam-test", "ca_file": od.ca,
            "cache_dir": os.path.join(work, "oidc-cache"), "required_groups": "linux-users"}
    opts.update(over)
    return "".join("%s = %s\n" % kv for kv in opts.items() if kv[1] is not None)


def openid_cases(od, work):
    conf = write(os.path.join(work, "oidc.conf"), openid_conf(od, work))
    rc, out, err = run("--conf", conf, "prompt=never")
    tap.check(rc == 0 and re.search(r"^ok +provider: discovery document of %s, client pam-test "
                                    r"and JWKS ready" % re.escape(od.url), out, re.M)
              and re.search(r"^ok +issuer: TLS verified", out, re.M)
              and not re.search(r"oidc_endpoint|registration", out),
              "OpenID: discovery, client and JWKS checked; nothing of AWS shown", out + err)
    tap.check(re.search(r"^ok +client: client pam-test accepted by %s/device_authorization "
                        r"\(one device authorization made, left to expire unused\)$"
                        % re.escape(od.url), out, re.M)
              and [x["op"] for x in od.log() if x["op"] in ("DeviceAuthorization", "Token")]
              == ["DeviceAuthorization"],
              "OpenID: the client verified by one device authorization request, never polled",
              out + err)
    shown = [d["userCode"] for d in od.devices()]
    tap.check(len(shown) == 1 and shown[0] not in out + err,
              "OpenID: the user code of that request is never shown", out + err)
    od.reset()
    rc, out, err = run("--conf", conf, "client_id=no-such-client")
    tap.check(rc == 2 and re.search(r"^FAIL +client: client no-such-client: device authorization: "
                                    r"the provider refused the client \(invalid_client\)",
                                    out, re.M),
              "OpenID: an unknown client_id is a FAIL naming the client and the provider's "
              "error", out + err)
    wrong = write(os.path.join(work, "wrong-secret"), "not-the-secret\n")
    right = write(os.path.join(work, "right-secret"), "s3cret-conf\n")
    for auth in ("basic", "post"):
        rc, out, err = run("--conf", conf, "client_id=pam-conf", "client_secret_file=" + wrong,
                           "client_auth=" + auth)
        tap.check(rc == 2 and re.search(r"^FAIL +client: client pam-conf: device authorization: "
                                        r"the provider refused the client \(invalid_client\)",
                                        out, re.M)
                  and "not-the-secret" not in out + err,
                  "OpenID: a wrong client secret (client_auth=%s) is a FAIL naming the client, "
                  "never the secret" % auth, out + err)
    rc, out, err = run("--conf", conf, "client_id=pam-conf", "client_secret_file=" + right)
    tap.check(rc == 0 and re.search(r"^ok +client: client pam-conf with its secret accepted by ",
                                    out, re.M) and "s3cret-conf" not in out + err,
              "OpenID: the right client secret: accepted, the secret never printed", out + err)
    secret = write(os.path.join(work, "secret"), "s3cret-conf\n", mode=0o640)
    bad = write(os.path.join(work, "oidc-bad.conf"), openid_conf(
        od, work, client_id="pam-conf", client_secret_file=secret))
    rc, out, err = run("--conf", bad)
    tap.check(rc == 2 and re.search(r"^FAIL +provider: client_secret_file %s has mode 0640"
                                    % re.escape(secret), out, re.M),
              "OpenID: a client secret others may read is a FAIL naming the file and mode",
              out + err)
    tap.check("s3cret-conf" not in out + err, "OpenID: the secret itself is never printed",
              out + err)
    od.reset(discovery_issuer_override=od.url + "/")
    rc, out, err = run("--conf", conf)
    od.reset()
    tap.check(rc == 2 and re.search(r"^FAIL +provider: discovery document: issuer", out, re.M),
              "OpenID: a discovery document for another issuer is a FAIL", out + err)
    rc, out, err = run("--conf", conf, "issuer=" + od.url + "/nowhere")
    tap.check(rc == 2 and re.search(r"^FAIL +provider: discovery document: HTTP 404 from the "
                                    r"provider for %s/nowhere/\.well-known/openid-configuration$"
                                    % re.escape(od.url), out, re.M),
              "OpenID: a discovery document not found: FAIL with the status and the URL tried",
              out + err)
    # An issuer written with a trailing '/' (and the provider's document
    # saying so): every request has one '/' after the host, never two.
    od.reset(discovery_issuer_override=od.url + "/")
    rc, out, err = run("--conf", conf, "issuer=" + od.url + "/")
    paths = [x["path"] for x in od.log()]
    od.reset()
    tap.check(rc == 0 and re.search(r"^ok +issuer: TLS verified", out, re.M)
              and "/.well-known/openid-configuration" in paths,
              "OpenID: an issuer ending in '/' (so written in its document): all is well (%s)"
              % paths, out + err)
    rec = RequestRecorder(od)
    rc, out, err = run("--conf", conf, "issuer=" + rec.url + "/")
    rec.close()
    tap.check(rec.lines == ["GET / HTTP/1.1", "GET /.well-known/openid-configuration HTTP/1.1"],
              "OpenID: an issuer ending in '/' is probed at / and discovered at "
              "/.well-known/openid-configuration, never with '//' (%s)" % rec.lines, out + err)
    rc, out, err = run("--conf", conf, "region=eu-west-1")
    tap.check(rc == 2 and re.search(r"^FAIL +configuration: .*region is an AWS IAM Identity "
                                    r"Center option", out, re.M),
              "OpenID: an AWS option beside issuer is a FAIL that says so", out + err)


# ---------------------------------------------------------------- a host

SERVICES = []  # throw-away /etc/pam.d names, removed at the end


def service(text):
    """A throw-away PAM service (the suite runs under the system lock)."""
    name = "ssochk-%d-%d" % (os.getpid(), len(SERVICES))
    SERVICES.append(name)
    write("/etc/pam.d/" + name, text, 0o644)
    return name


def sshd_config(work, name, text):
    key = os.path.join(work, "hostkey")
    if not os.path.exists(key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    return write(os.path.join(work, name), "HostKey %s\n%s" % (key, text), 0o600)


GOOD_SSHD = ("UsePAM yes\nKbdInteractiveAuthentication yes\nPasswordAuthentication no\n"
             "AuthenticationMethods keyboard-interactive\nLoginGraceTime 360\n"
             "MaxStartups 10:30:100\n")


def line_of(path, text):
    """The number of the first line of path containing text."""
    with open(path) as f:
        for n, l in enumerate(f, 1):
            if text in l:
                return n
    return None


# Stacks that log in without the module (proved below with a real
# pam_authenticate, the module failing wherever it runs): each must be a
# warning that names the line at fault.
BYPASSES = [
    ("a line before it jumps past it when that line fails",
     "auth [success=ok default=1] pam_succeed_if.so quiet user = ssochk-nobody\n"
     "auth required {module} {bad}\nauth required pam_permit.so\n",
     1, r"jumps 1 line on default, past it"),
    ("its own failure jumps over the pam_deny.so after it",
     "auth [success=ok default=1] {module} {bad}\nauth requisite pam_deny.so\n"
     "auth required pam_permit.so\n",
     1, r"jumps when the module fails \(auth_err=1, authinfo_unavail=1, service_err=1"),
    ("auth_err dies but its other failures are ignored",
     "auth [success=ok auth_err=die default=ignore] {module} {bad}\n"
     "auth required pam_permit.so\n",
     2, r"'auth required pam_permit.so' after pam_ssooidc.so .*ignores authinfo_unavail, "
        r"service_err, user_unknown, conv_err"),
    ("a jump over a substack, which libpam counts as one line",
     "auth [success=1 default=ignore] pam_succeed_if.so quiet user = root\n"
     "auth substack {sub}\nauth required pam_permit.so\n",
     1, r"over lines of another file \(an include or a substack"),
]


def bypass_cases(work):
    drive = os.path.join(ROOT, "build", "tools", "pam_drive")
    bad = "conf=" + os.path.join(work, "no-such.conf")
    sub = service("auth optional pam_permit.so\nauth required %s %s\n" % (MODULE, bad))
    for what, text, at_line, want in BYPASSES:
        name = service(text.format(module=MODULE, bad=bad, sub=sub))
        p = subprocess.run([drive, "-c", "fail", name, "root"], capture_output=True, text=True)
        verdict = re.findall(r"^login 0 (\S+)", p.stdout, re.M)
        rc, out, err = run("--service", name, "--module", MODULE)
        tap.check(verdict == ["PAM_SUCCESS"] and rc in (1, 2)
                  and re.search(r"^warn +stack: /etc/pam.d/%s:%d: .*%s" % (name, at_line, want),
                                out, re.M),
                  "--service: a stack that logs in without the module is a warning at the "
                  "line at fault: %s" % what, "real pam_authenticate: %s\n%s" % (verdict, out))


def service_cases(sd, work):
    try:
        host_cases(sd, work)
        bypass_cases(work)
    finally:
        for name in SERVICES:
            try:
                os.unlink("/etc/pam.d/" + name)
            except FileNotFoundError:
                pass


def host_cases(sd, work):
    sshd = os.path.exists("/usr/sbin/sshd")
    good_conf = write(os.path.join(work, "svc-good.conf"), base_conf(sd, work))
    good = service("auth required pam_ssooidc.so conf=%s prompt=always\n"
                   "account required pam_permit.so\n" % good_conf)
    good_sshd = sshd_config(work, "sshd_good", GOOD_SSHD)
    args = ["--service", good, "--module", MODULE]
    rc, out, err = run(*args)
    tap.check(rc == 0 and out.rstrip().endswith("all is well")
              and re.search(r"^info +service: /etc/pam.d/%s:1: 'auth required pam_ssooidc.so "
                            r"conf=" % good, out, re.M)
              and re.search(r"^  start_url\s+= https://example.awsapps.com/start\s+\(%s:1\)$"
                            % re.escape(good_conf), out, re.M),
              "--service: the stanza's own conf= file is the one checked; exit 0", out + err)
    tap.check(re.search(r"^  prompt\s+= always\s+\(/etc/pam.d/%s:1\)$" % good, out, re.M),
              "--service: a stanza option is shown as from the stanza's file:line", out)
    silent = service("-auth required pam_ssooidc.so conf=%s prompt=always\n"
                     "account required pam_ssooidc.so conf=%s\n" % (good_conf, good_conf))
    rc, out, err = run("--service", silent, "--module", MODULE)
    tap.check(rc == 1 and re.search(r"^warn +stack: /etc/pam.d/%s:1: a '-auth' line: when the "
                                    r"module file is missing, libpam skips it" % silent, out, re.M),
              "--service: a '-auth' line is a warning (skipped silently without the module)",
              out + err)
    tap.check(re.search(r"^warn +stack: /etc/pam.d/%s:2: pam_ssooidc.so has only the auth "
                        r"functions: for its 'account' line" % silent, out, re.M),
              "--service: the module on an account line is a warning (libpam fails that line)",
              out + err)
    rc, out, err = run("--service", "ssochk-no-such-service", "--module", MODULE)
    tap.check(rc == 2 and re.search(r"^FAIL +service: /etc/pam.d/ssochk-no-such-service does "
                                    r"not exist", out, re.M),
              "--service of a service that does not exist: FAIL, exit 2", out + err)
    plain = service("auth required pam_unix.so\n")
    rc, out, err = run("--service", plain, "--module", MODULE)
    tap.check(rc == 2 and "no line loads" in out,
              "--service of a service that does not load the module: FAIL, exit 2", out + err)
    # ---- --login through the service's own stack (the module by its path)
    own = service("auth required %s conf=%s prompt=never\naccount required pam_permit.so\n"
                  % (MODULE, good_conf))
    users = subprocess.run(["id", "alice"], capture_output=True).returncode == 0
    if not users:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", "ssochkuser"], check=True)
    user = "alice" if users else "ssochkuser"
    try:
        sd.reset(approve_after_polls=0, approver=user)
        rc, out, err = run("--service", own, "--module", MODULE, "--login", user)
        tap.check(rc == 0 and "its own stack in /etc/pam.d" in out
                  and "--- verdict: PAM_SUCCESS" in out,
                  "--service with --login: a real login through that service's stack", out + err)
        sd.reset(approve_after_polls=0, decision="deny", approver=user)
        rc, out, err = run("--service", own, "--module", MODULE, "--login", user)
        tap.check(rc == 2 and "--- verdict: PAM_AUTH_ERR" in out
                  and out.rstrip().endswith("CRITICAL: the login did not succeed (PAM_AUTH_ERR)"),
                  "--service with --login refused: exit 2, the closing line says why", out + err)
        sd.reset()
    finally:
        if not users:
            subprocess.run(["userdel", "ssochkuser"], capture_output=True)
    # ---- usage errors: 3 (UNKNOWN)
    for bad in (["--all", "--login", "x"], ["--sshd-user", "bob"], ["--service"],
                ["--pam-users", "--service", good]):
        rc, out, err = run(*bad)
        tap.check(rc == 3 and "usage:" in err, "usage error %s: exit 3" % " ".join(bad),
                  out + err)
    if not sshd:
        tap.skip("the --sshd cases", "sshd is not installed")
        return
    # ---- a correct host: exit 0
    rc, out, err = run(*args, "--sshd", "--sshd-config", good_sshd)
    tap.check(rc == 0 and out.rstrip().endswith("all is well")
              and re.search(r"^ok +sshd: %s:\d+: UsePAM yes" % re.escape(good_sshd), out, re.M)
              and re.search(r"^ok +sshd: %s:\d+: LoginGraceTime 360 s leaves room for the "
                            r"module's timeout \(300 s, /etc/pam.d/%s:1\)"
                            % (re.escape(good_sshd), good), out, re.M),
              "a correct host (service, conf= file, sshd_config): exit 0", out + err)
    # ---- warnings only: exit 1
    warn_sshd = sshd_config(work, "sshd_warn", GOOD_SSHD.replace("LoginGraceTime 360",
                                                                 "LoginGraceTime 120"))
    rc, out, err = run(*args, "--sshd", "--sshd-config", warn_sshd)
    tap.check(rc == 1 and not lines(out, "FAIL")
              and re.search(r"^warn +sshd: %s:%d: LoginGraceTime 120 s is below"
                            % (re.escape(warn_sshd), line_of(warn_sshd, "LoginGraceTime")),
                            out, re.M)
              and out.rstrip().splitlines()[-1] == "WARNING: 1 warn line",
              "a host with a warning only: exit 1, the line cited", out + err)
    # ---- sshd -T cannot run: UNKNOWN
    rc, out, err = run(*args, "--sshd", "--sshd-config", os.path.join(work, "no-such-config"))
    tap.check(rc == 3 and re.search(r"^info +sshd: not checked: .*sshd -T -f ", out, re.M),
              "sshd -T that cannot run: said so, exit 3 (UNKNOWN), no crash", out + err)
    # ---- a broken host: every planted mistake found in one run, at file:line
    bad_conf = write(os.path.join(work, "svc-bad.conf"),
                     base_conf(sd, work) + "regoin = us-east-1\ntimeout = 5\n")
    broken = service("# a broken stanza\n"
                     "auth sufficient pam_unix.so nullok\n"
                     "auth [success=done default=ignore] pam_ssooidc.so \\\n"
                     "    conf=%s promt=always\n"
                     "auth optional pam_permit.so\n"
                     "account required pam_permit.so\n" % bad_conf)
    inc = write(os.path.join(work, "sshd_inc"), "KbdInteractiveAuthentication no\n")
    bad_sshd = sshd_config(work, "sshd_bad", "UsePAM no\nInclude %s\nPasswordAuthentication yes\n"
                           "LoginGraceTime 60\nMaxStartups 3:30:5\nPerSourceMaxStartups 1\n"
                           % inc)
    pamd = "/etc/pam.d/" + broken
    rc, out, err = run("--service", broken, "--module", MODULE, "--sshd", "--sshd-config",
                       bad_sshd)
    found = {
        "sufficient pam_unix.so before the module": r"^warn +stack: %s:2: 'auth sufficient "
                                                    r"pam_unix.so nullok' before" % pamd,
        "a fallback after it": r"^warn +stack: %s:5: 'auth optional pam_permit.so' after" % pamd,
        "nothing after it denies": r"^warn +stack: %s:3: its failure is ignored .*nothing after "
                                   r"it denies" % pamd,
        "a misspelt stanza option": r"^FAIL +configuration: %s:3: PAM stanza: unknown option "
                                    r"'promt' \(did you mean prompt\?\)" % pamd,
        "a misspelt option in conf=": r"^FAIL +configuration: %s line 9: unknown option 'regoin' "
                                      r"\(did you mean region\?\)" % re.escape(bad_conf),
        "a bad value in conf=": r"^FAIL +configuration: %s line 10: timeout" % re.escape(bad_conf),
        "UsePAM no": r"^FAIL +sshd: %s:2: UsePAM is not yes" % re.escape(bad_sshd),
        "keyboard-interactive off (in an Include)": r"^FAIL +sshd: %s:1: KbdInteractive"
                                                     % re.escape(inc),
        "PasswordAuthentication yes": r"^warn +sshd: %s:4: PasswordAuthentication yes"
                                      % re.escape(bad_sshd),
        "AuthenticationMethods any (effective value)": r"^warn +sshd: %s: AuthenticationMethods "
                                                       r"any: .*\(effective value"
                                                       % re.escape(bad_sshd),
    }
    for what, pattern in found.items():
        tap.check(re.search(pattern, out, re.M), "broken host, found in one run: %s" % what, out)
    tap.check(rc == 2 and out.rstrip().splitlines()[-1].startswith("CRITICAL: "),
              "a broken host: exit 2 (CRITICAL)", out)
    # the same as JSON: each finding with its file and line
    rc, out, err = run("--service", broken, "--module", MODULE, "--sshd", "--sshd-config",
                       bad_sshd, "--json")
    doc = json.loads(out) if out.strip().startswith("{") else {"findings": []}
    places = {(f["file"], f["line"], f["option"]) for f in doc["findings"]
              if f["status"] in ("warn", "FAIL")}
    want = {(pamd, 2, None), (pamd, 3, "promt"), (bad_conf, 9, "regoin"),
            (bad_conf, 10, "timeout"), (bad_sshd, 2, "UsePAM"),
            (inc, 1, "KbdInteractiveAuthentication"), (bad_sshd, 5, "LoginGraceTime"),
            (bad_sshd, 6, "MaxStartups"), (bad_sshd, 7, "PerSourceMaxStartups")}
    tap.check(rc == 2 and doc.get("exit") == 2 and want <= places
              and all(f["file"] for f in doc["findings"] if f["status"] in ("warn", "FAIL")),
              "--json of the broken host: every warn and FAIL has its file (and line)",
              "%s\n%s" % (sorted(map(str, places)), json.dumps(doc["findings"], indent=1)))
    # ---- --sshd-user: the connection's Match blocks count
    match_sshd = sshd_config(work, "sshd_match", GOOD_SSHD + "Match User bob\n"
                             "    AuthenticationMethods publickey\n")
    rc, out, err = run(*args, "--sshd", "--sshd-config", match_sshd, "--sshd-user", "bob")
    tap.check(rc == 1 and re.search(r"^warn +sshd: %s:%d: AuthenticationMethods: a login by "
                                    r"publickey skips keyboard-interactive.*Match block"
                                    % (re.escape(match_sshd), line_of(match_sshd, "publickey")),
                                    out, re.M),
              "--sshd-user: sshd -T -C sees the Match block, cited at its line", out + err)
    rc, out, err = run(*args, "--sshd", "--sshd-config", match_sshd, "--sshd-user", "alice")
    tap.check(rc == 0, "--sshd-user for a user no Match block names: exit 0", out + err)
    # ---- --all: every service that loads the module, and only those
    rc, out, err = run("--all", "--module", MODULE)
    tap.check(re.search(r"^info +service: /etc/pam.d/%s:1: " % good, out, re.M)
              and re.search(r"^info +service: /etc/pam.d/%s:3: " % broken, out, re.M)
              and "/etc/pam.d/%s:" % plain not in out and rc == 2,
              "--all: each service that loads the module, checked", out + err)


if __name__ == "__main__":
    sys.exit(main())
