"""Two real OpenID providers on 127.0.0.1 for pam_ssooidc's tests, each with
the device authorization grant (RFC 8628), over HTTPS with a CA made at test
time, keys, clients and users made at start-up:

    p = start_panva(workdir, id_token_alg="RS256", device_ttl=600)
    p = start_glewlwyd(workdir, id_token_alg="RS256", device_ttl=600)

Both return a Provider (see the class below for every attribute). Use it as a
context manager, or call stop() in a finally: block; every server still
running when the interpreter exits is stopped too.

panva's oidc-provider runs from tests/providers/panva (npm ci there first,
tests/providers/deps.sh does it); Glewlwyd is Debian's package, run as a
throw-away instance with its own configuration file and SQLite database under
workdir, configured entirely through its admin REST API. See README.md.
"""
import atexit
import collections
import gzip
import html.parser
import json
import os
import pwd
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PANVA_DIR = os.path.join(HERE, "panva")
sys.path.insert(0, os.path.join(ROOT, "tests", "standin"))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from connect_proxy import free_port  # noqa: E402

import oidcclient  # noqa: E402
from oidcclient import DEVICE_GRANT, Http  # noqa: E402

User = collections.namedtuple("User", "password groups")
Client = collections.namedtuple("Client", "client_id client_secret auth_method id_token_alg")

# name -> groups; passwords are made at start-up.
DEFAULT_USERS = {"alice": ["linux-users"], "bob": ["linux-admins"], "carol": []}
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
ALGS = ("RS256", "ES256")
SCOPES = ("openid", "profile", "groups")
START_TIMEOUT = 30
MIN_NODE = (20, 19)  # oidc-provider 9's jose 6; tested on 20.20
UNPRIVILEGED = "nobody"

GLEWLWYD_BIN = "/usr/bin/glewlwyd"
GLEWLWYD_LIB = "/usr/lib/glewlwyd"
GLEWLWYD_SQL = ("/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3",
                "/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz")


class ProviderError(Exception):
    pass


class ProviderUnavailable(ProviderError):
    """The provider's software is not installed here (a test should skip)."""


class ApprovalError(ProviderError):
    """The provider's own pages or API refused the approval or denial."""


_LIVE = set()


@atexit.register
def _stop_all():
    for p in list(_LIVE):
        try:
            p.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


# --------------------------------------------------------------------------
# Shared plumbing
# --------------------------------------------------------------------------

def make_pki(workdir):
    """A CA and a server certificate for 127.0.0.1, made once per workdir
    (tests/standin/standin.py's ensure_certs). Returns (ca, cert, key)."""
    import standin
    d = os.path.join(workdir, "pki")
    os.makedirs(d, exist_ok=True)
    cert, key = standin.ensure_certs(d)
    return os.path.join(d, "ca.pem"), cert, key


def _others_can_reach(path):
    """True if a user with no relation to the owners can reach path's
    directory (every ancestor has o+x)."""
    path = os.path.abspath(path)
    while True:
        st = os.stat(path)
        if not st.st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _run_as(instdir, reads=()):
    """The command prefix for a server: setpriv(1), which
    - as root, runs it as nobody when nobody can reach its directory and
      read the files in `reads` (the instance directory is then given to
      nobody);
    - when called from the main thread, asks the kernel to send the server
      SIGTERM when this process dies, even by SIGKILL (the parent-death
      signal follows the creating thread, hence not from other threads).
    Returns [] when neither applies."""
    opts = []
    if threading.current_thread() is threading.main_thread():
        opts += ["--pdeathsig", "TERM"]
    if (os.geteuid() == 0 and _others_can_reach(os.path.dirname(instdir))
            and all(_others_can_reach(os.path.dirname(f)) and os.stat(f).st_mode & 0o004
                    for f in reads)):
        pw = pwd.getpwnam(UNPRIVILEGED)
        for dirpath, dirnames, filenames in os.walk(instdir):
            for n in [dirpath] + [os.path.join(dirpath, f) for f in dirnames + filenames]:
                os.chown(n, pw.pw_uid, pw.pw_gid)
        os.chmod(instdir, 0o700)
        opts += ["--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--clear-groups",
                 "--inh-caps=-all"]
    if not opts or shutil.which("setpriv") is None:
        return []
    return ["setpriv"] + opts + ["--"]


def _tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def _rand(n=18):
    return secrets.token_urlsafe(n)


class _Forms(html.parser.HTMLParser):
    """Forms of one HTML page: id, action, method, named fields, and the named
    buttons (inside the form or tied to it by form="id")."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._cur = None
        self._stray = []
        self._skip = 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "form":
            self._cur = {"id": a.get("id"), "action": a.get("action") or "",
                         "method": (a.get("method") or "get").lower(), "fields": {},
                         "buttons": []}
            self.forms.append(self._cur)
        elif tag == "input" and a.get("name"):
            owner = self._owner(a)
            if owner is not None and a.get("type", "text") not in ("submit", "button"):
                owner["fields"][a["name"]] = a.get("value") or ""
        elif tag == "button":
            owner = self._owner(a)
            b = (a.get("name"), a.get("value") or "", a.get("form"))
            if owner is not None:
                owner["buttons"].append(b)
            else:
                self._stray.append(b)

    def _owner(self, a):
        if a.get("form"):
            return next((f for f in self.forms if f["id"] == a["form"]), None)
        return self._cur

    def handle_endtag(self, tag):
        if tag == "form":
            self._cur = None
        elif tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if data.strip() and not self._skip:
            self.text.append(data.strip())

    def close(self):
        super().close()
        for b in self._stray:  # buttons before their form
            f = next((f for f in self.forms if f["id"] == b[2]), None)
            if f is not None:
                f["buttons"].append(b)


def parse_forms(text):
    p = _Forms()
    p.feed(text)
    p.close()
    return p


# --------------------------------------------------------------------------
# The provider object
# --------------------------------------------------------------------------

class Provider:
    """A running provider.

    issuer          the issuer URL; discovery is issuer + /.well-known/openid-configuration
    ca              PEM path of the CA that signed the server certificate
    client_id, client_secret, auth_method, id_token_alg
                    the default client (client_secret None for a public client)
    clients         {(auth_method, alg): Client} for every auth method in
                    AUTH_METHODS and alg in ALGS, all registered
    users           {name: User(password, groups)}
    verification_uri  where a person types the user code
    deny_error      the token endpoint's error after deny() (None: there is
                    none, the code stays pending until it expires)
    interval        the interval the device authorization response carries
                    (None: the response has none, RFC 8628's default 5 applies)
    quirks          what this provider does where providers differ (see the
                    class attribute; tests/providers/test_providers.py checks
                    every entry)
    log             the server's log file
    """

    name = "?"
    deny_error = None
    interval = None
    quirks = {}

    def __init__(self):
        self.proc = None
        self._out = None
        self.users = {}
        self.clients = {}
        self.issuer = None
        self.ca = None

    # -- what every provider offers
    def client(self, auth_method=None, alg=None):
        return self.clients[(auth_method or self.auth_method, alg or self.id_token_alg)]

    def _pick_default(self, auth_method, alg):
        c = self.clients[(auth_method, alg)]
        self.client_id, self.client_secret = c.client_id, c.client_secret
        self.auth_method, self.id_token_alg = auth_method, alg

    def http(self):
        return Http(self.ca)

    def discovery(self):
        return oidcclient.discover(self.http(), self.issuer)

    def jwks(self):
        h = self.http()
        return oidcclient.fetch_jwks(h, oidcclient.discover(h, self.issuer))

    def approve(self, user_code, user, password):
        raise NotImplementedError

    def deny(self, user_code, user, password):
        raise NotImplementedError

    def rotate_keys(self, keep_old=False):
        raise NotImplementedError

    def set_device_ttl(self, seconds):
        raise NotImplementedError

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        _LIVE.discard(self)
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        if self._out:
            self._out.close()
            self._out = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _spawn(self, argv, cwd):
        self._out = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        _LIVE.add(self)

    def _fail(self, msg):
        detail = _tail(self.log) or _tail(os.path.join(self.dir, "stdout.log"))
        self.stop()
        raise ProviderError("%s: %s\n%s" % (self.name, msg, detail))


def _make_users(users):
    users = DEFAULT_USERS if users is None else users
    return {name: User(_rand(12), list(groups)) for name, groups in users.items()}


# --------------------------------------------------------------------------
# panva's oidc-provider
# --------------------------------------------------------------------------

class Panva(Provider):
    """panva's oidc-provider (npm), tests/providers/panva/server.mjs."""
    name = "oidc-provider"
    deny_error = "access_denied"
    interval = None  # oidc-provider sends no interval
    quirks = {
        "interval_sent": False,         # device authorization response has no interval
        "slow_down": False,             # polling faster is never answered with slow_down
        "pending_status": 400,
        "deny_error": "access_denied",  # consent Deny, or [ Abort ] on the device page
        "expired_error": "expired_token",  # for clockTolerance (15 s) after expiry, then invalid_grant
        "reused_code_error": "invalid_grant",
        "unknown_code_error": "invalid_grant",
        "empty_groups": [],             # a user in no group: "groups": []
        "aud_type": str,
        "azp": False,                   # no azp claim
        "none_advertised": True,        # "none" in token_endpoint_auth_methods_supported
        "basic_post_interchangeable": True,  # a client_secret_basic client may post its secret
    }

    def __init__(self, workdir, id_token_alg="RS256", device_ttl=600, auth_method="none",
                 issuer_path="", users=None):
        super().__init__()
        node = shutil.which("node")
        server = os.path.join(PANVA_DIR, "server.mjs")
        if node is None:
            raise ProviderUnavailable("node is not installed (tests/providers/deps.sh)")
        version = subprocess.run([node, "-p", "process.versions.node"], capture_output=True,
                                 text=True).stdout.strip()
        if tuple(int(x) for x in version.split(".")[:2]) < MIN_NODE:
            raise ProviderUnavailable("node %s: oidc-provider 9 needs %d.%d or later"
                                      % (version, *MIN_NODE))
        if not os.path.isdir(os.path.join(PANVA_DIR, "node_modules", "oidc-provider")):
            raise ProviderUnavailable("oidc-provider is not installed: run tests/providers/deps.sh")
        self.dir = tempfile.mkdtemp(prefix="panva-", dir=workdir)
        self.ca, cert, key = make_pki(workdir)
        shutil.copy(cert, os.path.join(self.dir, "server.pem"))
        shutil.copy(key, os.path.join(self.dir, "server.key"))
        self.users = _make_users(users)
        self.control_token = _rand(24)
        self.log = os.path.join(self.dir, "stdout.log")
        self.device_ttl = device_ttl
        clients = []
        for auth in AUTH_METHODS:
            for alg in ALGS:
                cid = "pam-%s-%s" % ({"none": "public", "client_secret_basic": "basic",
                                      "client_secret_post": "post"}[auth], alg.lower())
                secret = None if auth == "none" else _rand(24)
                self.clients[(auth, alg)] = Client(cid, secret, auth, alg)
                c = {"client_id": cid, "token_endpoint_auth_method": auth,
                     "grant_types": [DEVICE_GRANT, "refresh_token"], "response_types": [],
                     "redirect_uris": [], "id_token_signed_response_alg": alg,
                     "client_name": "pam_ssooidc test client %s" % cid}
                if secret:
                    c["client_secret"] = secret
                clients.append(c)
        self._pick_default(auth_method, id_token_alg)
        port_file = os.path.join(self.dir, "port")
        conf = {
            "cert": os.path.join(self.dir, "server.pem"),
            "key": os.path.join(self.dir, "server.key"),
            "port": 0, "port_file": port_file, "issuer_path": issuer_path,
            "device_ttl": device_ttl,
            "users": {n: {"password": u.password, "groups": u.groups} for n, u in self.users.items()},
            "clients": clients,
            "control_token": self.control_token,
            "keys_file": os.path.join(self.dir, "jwks.json"),
        }
        conf_path = os.path.join(self.dir, "config.json")
        old = os.umask(0o077)
        try:
            with open(conf_path, "w") as f:
                json.dump(conf, f, indent=1)
        finally:
            os.umask(old)
        prefix = _run_as(self.dir, reads=(server, os.path.join(
            PANVA_DIR, "node_modules", "oidc-provider", "lib", "index.js")))
        self._spawn(prefix + [node, server, conf_path], cwd=PANVA_DIR)
        deadline = time.time() + START_TIMEOUT
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self._fail("did not start")
            time.sleep(0.05)
        self.port = int(open(port_file).read())
        self.base_url = "https://127.0.0.1:%d" % self.port
        self.issuer = self.base_url + issuer_path
        self.verification_uri = self.issuer + "/device"

    def _control(self, path, query=None):
        url = self.base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        r = self.http().post(url, headers={"Authorization": "Bearer " + self.control_token},
                             form={})
        if r.status != 200:
            raise ProviderError("%s %s: HTTP %d %s" % (self.name, path, r.status, r.text[:200]))
        return r.json()

    def wire(self):
        """The server's last 2000 requests, oldest first: [{seq, conn, method,
        path}], conn numbering TCP connections (test-only endpoint)."""
        r = self.http().get(self.base_url + "/_test/wire",
                            headers={"Authorization": "Bearer " + self.control_token})
        if r.status != 200:
            raise ProviderError("%s /_test/wire: HTTP %d" % (self.name, r.status))
        return r.json()

    def rotate_keys(self, keep_old=False):
        """New RSA and EC signing keys with new kids; the old ones leave the
        JWKS (keep_old: they stay, after the new ones). Returns the JWKS."""
        return self._control("/_test/rotate", {"keep_old": "1" if keep_old else "0"})

    def set_device_ttl(self, seconds):
        self._control("/_test/config", {"device_ttl": str(int(seconds))})
        self.device_ttl = seconds

    # -- the user's side, through oidc-provider's own pages
    def _page(self, h, resp, form_id, what):
        """Follow redirects; return (response, the form with id form_id)."""
        resp = h.follow(resp)
        page = parse_forms(resp.text)
        form = next((f for f in page.forms if f["id"] == form_id), None)
        if resp.status != 200 or form is None:
            raise ApprovalError("%s: no %s (HTTP %d at %s): %s" % (
                self.name, what, resp.status, resp.url, " / ".join(page.text)[:400]))
        return resp, form

    def _submit(self, h, resp, form, extra=None):
        fields = dict(form["fields"])
        fields.update(extra or {})
        return h.post(urllib.parse.urljoin(resp.url, form["action"]), form=fields)

    def _to_confirm(self, h, user_code):
        """verification_uri, type the code: oidc-provider's confirmation page."""
        r, form = self._page(h, h.get(self.verification_uri), "op.deviceInputForm",
                             "user code form")
        return self._page(h, self._submit(h, r, form, {"user_code": user_code}),
                          "op.deviceConfirmForm", "device confirmation (code refused?)")

    def _sign_in(self, h, r, confirm, user, password):
        """Continue on the confirmation page, then the login form."""
        r, form = self._page(h, self._submit(h, r, confirm), "login", "login form")
        r = h.follow(self._submit(h, r, form, {"login": user, "password": password}))
        page = parse_forms(r.text)
        if any(f["id"] == "login" for f in page.forms):
            raise ApprovalError("%s: login refused for %s: %s" % (
                self.name, user, " / ".join(page.text)[:300]))
        return r

    def approve(self, user_code, user, password):
        """Type the user code, confirm, sign in, allow: what a person does in
        a browser, through oidc-provider's device pages and this server's
        login and consent pages. Returns the final page's text."""
        h = self.http()
        r, confirm = self._to_confirm(h, user_code)
        r = self._sign_in(h, r, confirm, user, password)
        r, form = self._page(h, r, "consent", "consent form")
        r = h.follow(self._submit(h, r, form))
        text = " / ".join(parse_forms(r.text).text)
        if r.status != 200 or "Sign-in Success" not in text:
            raise ApprovalError("%s: approval did not finish (HTTP %d): %s" % (
                self.name, r.status, text[:400]))
        return text

    def deny(self, user_code, user=None, password=None, how="consent"):
        """how="consent": sign in, then Deny on the consent page (the
        interaction ends with access_denied). how="abort": [ Abort ] on
        oidc-provider's device confirmation page, without signing in.
        Returns the final page's text."""
        h = self.http()
        r, confirm = self._to_confirm(h, user_code)
        if how == "abort":
            r = h.follow(self._submit(h, r, confirm, {"abort": "yes"}))
        elif how == "consent":
            r = self._sign_in(h, r, confirm, user, password)
            r, form = self._page(h, r, "abort", "consent form")
            r = h.follow(self._submit(h, r, form))
        else:
            raise ValueError(how)
        return " / ".join(parse_forms(r.text).text)


def start_panva(workdir, id_token_alg="RS256", device_ttl=600, auth_method="none",
                issuer_path="", users=None):
    """Start panva's oidc-provider. Every client in AUTH_METHODS x ALGS is
    registered; (auth_method, id_token_alg) picks the default one.
    issuer_path: "" or e.g. "/oidc" for an issuer with a path."""
    return Panva(workdir, id_token_alg, device_ttl, auth_method, issuer_path, users)


# --------------------------------------------------------------------------
# Glewlwyd
# --------------------------------------------------------------------------

def _jwk_b64(n, length=None):
    import base64
    length = length or (n.bit_length() + 7) // 8
    return base64.urlsafe_b64encode(n.to_bytes(length, "big")).rstrip(b"=").decode()


def new_private_jwks(tag):
    """An RSA 2048 (RS256) and an EC P-256 (ES256) private key, with kids."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    stamp = "%s-%s" % (tag, secrets.token_hex(4))
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p = k.private_numbers()
    pub = p.public_numbers
    rsa_jwk = {"kty": "RSA", "kid": "rsa-" + stamp, "alg": "RS256", "use": "sig",
               "n": _jwk_b64(pub.n), "e": _jwk_b64(pub.e), "d": _jwk_b64(p.d),
               "p": _jwk_b64(p.p), "q": _jwk_b64(p.q), "dp": _jwk_b64(p.dmp1),
               "dq": _jwk_b64(p.dmq1), "qi": _jwk_b64(p.iqmp)}
    k = ec.generate_private_key(ec.SECP256R1())
    p = k.private_numbers()
    pub = p.public_numbers
    ec_jwk = {"kty": "EC", "kid": "ec-" + stamp, "alg": "ES256", "use": "sig", "crv": "P-256",
              "x": _jwk_b64(pub.x, 32), "y": _jwk_b64(pub.y, 32),
              "d": _jwk_b64(p.private_value, 32)}
    return [rsa_jwk, ec_jwk]


GLEWLWYD_CONF = """\
# A throw-away Glewlwyd instance for pam_ssooidc's tests.
port={port}
bind_address="127.0.0.1"
external_url="{base}"
login_url="login.html"
api_prefix="api"
allow_origin="{base}"
log_mode="file"
log_level="{log_level}"
log_file="{log}"
cookie_secure=1
cookie_same_site="strict"
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="{lib}/user"
client_module_path="{lib}/client"
user_auth_scheme_module_path="{lib}/scheme"
plugin_module_path="{lib}/plugin"
use_secure_connection=true
secure_connection_key_file="{key}"
secure_connection_pem_file="{cert}"
hash_algorithm="SHA512"
database =
{{
  type = "sqlite3"
  path = "{db}"
}};
"""


class Glewlwyd(Provider):
    """Debian's glewlwyd, a throw-away instance configured through its API."""
    name = "glewlwyd"
    deny_error = None  # glewlwyd has no refusal: the code stays pending
    quirks = {
        "interval_sent": True,
        "slow_down": True,              # a poll sooner than interval after the last one
        "pending_status": 400,
        "deny_error": None,             # no way to refuse; the code stays pending
        "expired_error": "expired_token",
        "reused_code_error": "access_denied",
        "unknown_code_error": "access_denied",
        "empty_groups": "absent",       # a user in no group: no groups claim at all
        "aud_type": str,
        "azp": True,                    # azp = client_id, always
        "none_advertised": False,       # public clients work, "none" is not advertised
        "basic_post_interchangeable": False,  # token_endpoint_auth_method is enforced
    }

    PLUGIN = "oidc"

    def __init__(self, workdir, id_token_alg="RS256", device_ttl=600, interval=5,
                 auth_method="none", users=None, log_level="INFO"):
        super().__init__()
        if not os.access(GLEWLWYD_BIN, os.X_OK):
            raise ProviderUnavailable("glewlwyd is not installed (tests/providers/deps.sh)")
        sql = next((p for p in GLEWLWYD_SQL if os.path.exists(p)), None)
        if sql is None:
            raise ProviderUnavailable("glewlwyd's SQLite init script is missing")
        self.dir = tempfile.mkdtemp(prefix="glewlwyd-", dir=workdir)
        self.ca, cert, key = make_pki(workdir)
        shutil.copy(cert, os.path.join(self.dir, "server.pem"))
        shutil.copy(key, os.path.join(self.dir, "server.key"))
        self.log = os.path.join(self.dir, "glewlwyd.log")
        self.db = os.path.join(self.dir, "glewlwyd.db")
        self.device_ttl, self.interval = device_ttl, interval
        self.users = _make_users(users)
        opener = gzip.open if sql.endswith(".gz") else open
        with opener(sql, "rt") as f:
            script = f.read()
        # One transaction (statement by statement, each commit is an fsync:
        # seconds), and WAL, which stays with the file: cheaper commits for
        # glewlwyd's own writes. A throw-away database needs no more.
        con = sqlite3.connect(self.db)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript("BEGIN;\n" + script + "\nCOMMIT;")
        finally:
            con.close()
        prefix = _run_as(self.dir)
        for attempt in range(3):
            self.port = free_port()
            self.base_url = "https://127.0.0.1:%d" % self.port
            conf = os.path.join(self.dir, "glewlwyd.conf")
            with open(conf, "w") as f:
                f.write(GLEWLWYD_CONF.format(
                    port=self.port, base=self.base_url, log=self.log, lib=GLEWLWYD_LIB,
                    key=os.path.join(self.dir, "server.key"), log_level=log_level,
                    cert=os.path.join(self.dir, "server.pem"), db=self.db))
            if "--reuid=%d" % pwd.getpwnam(UNPRIVILEGED).pw_uid in prefix:
                os.chown(conf, pwd.getpwnam(UNPRIVILEGED).pw_uid, -1)
            self._spawn(prefix + [GLEWLWYD_BIN, "--config-file", conf], cwd=self.dir)
            if self._wait_ready():
                break
            self.stop()
        else:
            self._fail("did not start on a free port in 3 attempts")
        self.issuer = self.base_url + "/api/" + self.PLUGIN
        self.verification_uri = self.issuer + "/device"
        try:
            self._configure(id_token_alg, auth_method)
        except Exception:
            self.stop()
            raise

    def _wait_ready(self):
        deadline = time.time() + START_TIMEOUT
        h = self.http()
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if h.get(self.base_url + "/config").status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    # -- admin API
    def _api(self, method, path, body=None, ok=(200,)):
        r = self.admin.request(method, self.base_url + "/api" + path, body=body)
        if r.status not in ok:
            raise ProviderError("glewlwyd %s /api%s: HTTP %d %s" % (method, path, r.status,
                                                                     r.text[:400]))
        return r.json() if r.body else None

    def _plugin_params(self, keys):
        # Parameter names: src/plugin/protocol_oidc.c (check_parameters) and
        # docs/OIDC.md of glewlwyd 2.7.
        return {
            "iss": self.issuer,
            "jwks-private": json.dumps({"keys": keys}),
            "default-kid": keys[0]["kid"],
            "jwks-show": True,
            "access-token-duration": 3600,
            "refresh-token-duration": 86400,
            "code-duration": 600,
            "refresh-token-rolling": False,
            "allow-non-oidc": False,
            "auth-type-code-enabled": False,
            "auth-type-token-enabled": False,
            "auth-type-id-token-enabled": True,
            "auth-type-none-enabled": False,
            "auth-type-password-enabled": False,
            "auth-type-client-enabled": False,
            "auth-type-refresh-enabled": True,
            "auth-type-device-enabled": True,
            "device-authorization-expiration": int(self.device_ttl),
            "device-authorization-interval": int(self.interval),
            "subject-type": "public",
            "allowed-scope": list(SCOPES),
            "name-claim": "on-demand",
            "email-claim": "no",
            "scope-claim": "no",
            # Glewlwyd has no preferred_username or groups of its own: both are
            # "additional claims" taken from user properties, given with the
            # scope that asks for them.
            "claims": [
                {"name": "preferred_username", "user-property": "username", "type": "string",
                 "mandatory": False, "on-demand": False, "scope": ["profile"]},
                {"name": "groups", "user-property": "groups", "type": "string",
                 "mandatory": False, "on-demand": False, "scope": ["groups"]},
            ],
        }

    def _configure(self, id_token_alg, auth_method):
        self.admin = self.http()
        self.admin_password = "password"  # the init script's, replaced below
        r = self.admin.post(self.base_url + "/api/auth/",
                            body={"username": "admin", "password": self.admin_password})
        if r.status != 200:
            raise ProviderError("glewlwyd: admin login: HTTP %d" % r.status)
        admin = self._api("GET", "/user/admin")
        admin.pop("source", None)
        admin["password"] = self.admin_password = _rand(18)
        self._api("PUT", "/user/admin", admin)
        # User properties: "groups" (multiple values). Client property:
        # id_token_signing_alg (read by the OIDC plugin per client). A module
        # instance reads its data-format when (re)started, hence the resets.
        mod = self._api("GET", "/mod/user/database")
        mod["parameters"]["data-format"]["groups"] = {
            "multiple": True, "read": True, "write": True,
            "profile-read": True, "profile-write": False}
        self._api("PUT", "/mod/user/database", mod)
        self._api("PUT", "/mod/user/database/reset")
        mod = self._api("GET", "/mod/client/database")
        mod["parameters"]["data-format"]["id_token_signing_alg"] = {
            "multiple": False, "read": True, "write": True}
        self._api("PUT", "/mod/client/database", mod)
        self._api("PUT", "/mod/client/database/reset")
        for sc in SCOPES[1:]:
            self._api("POST", "/scope/", {"name": sc, "display_name": sc,
                                          "description": "pam_ssooidc tests: " + sc,
                                          "password_required": False, "scheme": {}})
        self.keys = new_private_jwks("g1")
        self._api("POST", "/mod/plugin/", {"module": "oidc", "name": self.PLUGIN,
                                           "display_name": "OpenID Connect", "enabled": True,
                                           "parameters": self._plugin_params(self.keys)})
        for name, u in self.users.items():
            body = {"username": name, "name": name.title(), "email": "", "enabled": True,
                    "password": u.password, "scope": ["g_profile"] + list(SCOPES)}
            if u.groups:  # an empty list is not stored: no groups claim at all
                body["groups"] = u.groups
            self._api("POST", "/user/", body)
        for auth in AUTH_METHODS:
            for alg in ALGS:
                cid = "pam-%s-%s" % ({"none": "public", "client_secret_basic": "basic",
                                      "client_secret_post": "post"}[auth], alg.lower())
                secret = None if auth == "none" else _rand(24)
                body = {"client_id": cid, "client_name": cid, "name": cid, "enabled": True,
                        "confidential": secret is not None, "scope": [], "redirect_uri": [],
                        "authorization_type": ["device_authorization", "refresh_token"],
                        "id_token_signing_alg": alg}
                if secret:
                    body["client_secret"] = secret
                    body["token_endpoint_auth_method"] = [auth]
                self._api("POST", "/client/", body)
                self.clients[(auth, alg)] = Client(cid, secret, auth, alg)
        self._pick_default(auth_method, id_token_alg)

    def _update_plugin(self):
        cur = self._api("GET", "/mod/plugin/" + self.PLUGIN)
        cur["parameters"] = self._plugin_params(self.keys)
        for k in ("module", "name", "enabled"):
            cur.pop(k, None)
        self._api("PUT", "/mod/plugin/" + self.PLUGIN, cur)
        self._api("PUT", "/mod/plugin/%s/reset" % self.PLUGIN)

    def rotate_keys(self, keep_old=False):
        """New RSA and EC keys with new kids through the admin API (plugin
        parameters, then the plugin's reset). Returns the public JWKS."""
        fresh = new_private_jwks("g%d" % int(time.time()))
        self.keys = fresh + (self.keys if keep_old else [])
        self._update_plugin()
        return self.jwks()

    def set_device_ttl(self, seconds):
        self.device_ttl = int(seconds)
        self._update_plugin()

    # -- the user's side, through the API glewlwyd's login page uses
    def _verify(self, h, user_code):
        r = h.get(self.verification_uri + "?" + urllib.parse.urlencode({"code": user_code}))
        loc = r.location() or ""
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
        if r.status != 302 or "callback_url" not in q or q.get("prompt", "").startswith("device"):
            raise ApprovalError("glewlwyd: user code refused (HTTP %d, %s)" % (r.status, loc))
        return q

    def _sign_in(self, h, user, password):
        r = h.post(self.base_url + "/api/auth/", body={"username": user, "password": password})
        if r.status != 200:
            raise ApprovalError("glewlwyd: sign-in refused for %s (HTTP %d)" % (user, r.status))

    def approve(self, user_code, user, password, scopes=None):
        """What glewlwyd's login page does, in plain HTTP: open the
        verification URL (a redirect to the login page names the client,
        the scopes and the callback), sign in with the password, grant the
        scopes to the client, then go back to the callback with g_continue.
        scopes: the scopes the user grants (default: all requested; [] grants
        nothing, and glewlwyd still completes the code with openid alone)."""
        h = self.http()
        q = self._verify(h, user_code)
        self._sign_in(h, user, password)
        asked = q.get("scope", "").split()
        grant = asked if scopes is None else list(scopes)
        r = h.request("PUT", "%s/api/auth/grant/%s/" % (self.base_url,
                                                         urllib.parse.quote(q["client_id"])),
                      body={"scope": " ".join(grant)})
        if r.status != 200:
            raise ApprovalError("glewlwyd: grant refused (HTTP %d)" % r.status)
        cb = q["callback_url"]
        r = h.get(cb + ("&" if "?" in cb else "?") + "g_continue")
        loc = r.location() or ""
        prompt = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query)).get("prompt")
        if prompt != "deviceComplete":
            raise ApprovalError("glewlwyd: device not completed (HTTP %d, %s)" % (r.status, loc))
        return prompt

    def deny(self, user_code, user, password):
        """Glewlwyd offers no way to refuse a device code. The nearest a
        person can do: sign in, withdraw every grant for the client, and not
        continue. The code stays pending (deny_error is None) until it
        expires."""
        h = self.http()
        q = self._verify(h, user_code)
        self._sign_in(h, user, password)
        r = h.request("PUT", "%s/api/auth/grant/%s/" % (self.base_url,
                                                         urllib.parse.quote(q["client_id"])),
                      body={"scope": ""})
        if r.status != 200:
            raise ApprovalError("glewlwyd: grant withdrawal refused (HTTP %d)" % r.status)
        return "pending"


def start_glewlwyd(workdir, id_token_alg="RS256", device_ttl=600, interval=5, auth_method="none",
                   users=None, log_level="INFO"):
    """Start a throw-away Glewlwyd on 127.0.0.1 and configure it through its
    admin API. Every client in AUTH_METHODS x ALGS is registered;
    (auth_method, id_token_alg) picks the default one. interval: the
    device-authorization-interval glewlwyd announces and enforces."""
    return Glewlwyd(workdir, id_token_alg, device_ttl, interval, auth_method, users, log_level)


STARTERS = {"oidc-provider": start_panva, "glewlwyd": start_glewlwyd}
