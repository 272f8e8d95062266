"""A small HTTP CONNECT proxy on 127.0.0.1 for the tests: it records every
request it gets (a hostile user's tunnel, or the `proxy` option at work)
and relays CONNECT tunnels byte for byte, as a real forward proxy does.

    p = ConnectProxy(); p.port; p.requests -> [("CONNECT", "127.0.0.1:4431"), ...]
    p.stop()
"""
import socket
import threading


def recv_until(sock, marker, limit, size=4096):
    """Bytes from sock until `marker` is in them, `limit` bytes are read
    or the peer closes."""
    data = b""
    while marker not in data and len(data) < limit:
        chunk = sock.recv(size)
        if not chunk:
            break
        data += chunk
    return data


def free_port():
    """A loopback port nobody listens on (a moment ago)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ConnectProxy:
    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.stopped = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        conn.settimeout(30)
        try:
            head = recv_until(conn, b"\r\n\r\n", 16384)
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split()
            method = parts[0] if parts else "?"
            target = parts[1] if len(parts) > 1 else "?"
            with self.lock:
                self.requests.append((method, target))
            if method != "CONNECT":
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            host, _, port = target.rpartition(":")
            if host not in ("127.0.0.1", "localhost"):  # loopback only, always
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            up = socket.create_connection((host, int(port)), timeout=10)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            rest = head.split(b"\r\n\r\n", 1)[1]
            if rest:
                up.sendall(rest)
            self._relay(conn, up)
        except OSError:
            pass
        finally:
            conn.close()

    @staticmethod
    def _relay(a, b):
        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        t = threading.Thread(target=pump, args=(b, a), daemon=True)
        t.start()
        pump(a, b)
        t.join(30)
        b.close()

    def connects(self):
        with self.lock:
            return [r for r in self.requests if r[0] == "CONNECT"]

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of _serve
        except OSError:
            pass
        self.sock.close()
