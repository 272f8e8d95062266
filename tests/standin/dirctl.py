"""The Identity Store / IMDSv2 stand-in (directory.py) as a Python object:
started in a directory of its own (or the caller's, to share the CA of
standin.py), controlled through its control API. The conformance test, the
end-to-end tests and the benchmark use it."""

import http.client
import json
import os
import signal
import ssl
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DIRECTORY = os.path.join(HERE, "directory.py")


class Directory:
    def __init__(self, workdir=None, scenario=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="dirstandin-test-")
        self.out = open(os.path.join(self.dir, "directory-stdout.txt"), "w")
        args = ["/usr/bin/python3", DIRECTORY, "--dir", self.dir]
        if scenario is not None:
            args += ["--scenario", json.dumps(scenario)]
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT)
        pf = os.path.join(self.dir, "directory.port")
        deadline = time.time() + 20
        while not os.path.exists(pf):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("stand-in did not start: " + open(self.out.name).read())
            time.sleep(0.05)
        ports = json.load(open(pf))
        self.port, self.imds_port = ports["https"], ports["imds"]
        self.base = "https://127.0.0.1:%d" % self.port
        self.imds = "http://127.0.0.1:%d" % self.imds_port
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=20)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def ctl(self, method, path, obj=None):
        body = json.dumps(obj) if obj is not None else (b"" if method == "POST" else None)
        st, _, data = self.request(method, "/_standin/" + path, body)
        return st, json.loads(data) if data else None

    def set(self, **kw):
        st, r = self.ctl("POST", "directory", kw)
        if st != 200:
            raise RuntimeError("POST /_standin/directory %r: %s %r" % (list(kw), st, r))

    def op(self, **kw):
        st, r = self.ctl("POST", "directory", kw)
        if st != 200:
            raise RuntimeError("op %r: %s %r" % (kw, st, r))

    def log(self):
        return self.ctl("GET", "log")[1]

    def imds_req(self, method, path, headers=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.imds_port, timeout=timeout)
        try:
            c.request(method, path, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

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
