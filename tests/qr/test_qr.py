#!/usr/bin/python3
"""QR rendering round trip (TAP).

Builds tests/qr/qr_print.c with pam_ssooidc/core/qr.c (warnings are errors, under
AddressSanitizer so a leak fails the run), renders URLs through qr_render(),
parses the half-block text back into a module matrix, draws that matrix as a
PNG with PIL (our own drawing, not libqrencode's), decodes the PNG with
`zbarimg --raw -q` and compares the result with the URL.

Usage: test_qr.py [--keep DIR]   (DIR: keep the PNGs there for inspection)
"""
import os
import shutil
import subprocess
import sys
import tempfile

from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WARN = ["-Wall", "-Wextra", "-Wformat=2", "-Wshadow", "-Wstrict-prototypes",
        "-Wmissing-prototypes", "-Werror"]
SAN = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
       "-fno-sanitize-recover=undefined"]
SCALE = 8        # pixels per module
MARGIN = 4       # extra white modules around the drawing in the PNG
COLUMNS = 80

UPPER, LOWER, FULL, EMPTY = "\u2580", "\u2584", "\u2588", " "
# character -> (upper module drawn, lower module drawn); drawn = light
CELLS = {FULL: (True, True), UPPER: (True, False), LOWER: (False, True), EMPTY: (False, False)}

AWS_URL = "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH"
URLS = [
    ("short URL", "https://a.io/x"),
    ("typical AWS device URL with user_code", AWS_URL),
    ("mixed-case user code (case preserved)",
     "https://device.sso.eu-west-1.amazonaws.com/?user_code=WxYz-QrSt"),
    ("~200-character URL",
     "https://device.sso.ap-southeast-2.amazonaws.com/?user_code=LKJH-MNBV&state="
     + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" * 3 + "&x=1"),
    ("~400-character URL (largest the module displays)",
     "https://device.sso.us-gov-west-1.amazonaws.com/?user_code=QWER-TYUI&p="
     + "0123456789abcdefABCDEF-_." * 13),
]

sys.path.insert(0, os.path.join(ROOT, "tests"))
from tap import Tap  # noqa: E402

TAP = Tap()


def check(cond, desc, diag=None):
    return TAP.check(cond, desc, diag)


def build(tmp):
    exe = os.path.join(tmp, "qr_print")
    cmd = [os.environ.get("CC", "cc"), "-std=c11", "-O1", "-g", "-D_DEFAULT_SOURCE",
           *WARN, *SAN, "-I" + os.path.join(ROOT, "pam_ssooidc"), "-o", exe,
           os.path.join(ROOT, "tests/qr/qr_print.c"), os.path.join(ROOT, "pam_ssooidc/core/qr.c"),
           "-DHAVE_QRENCODE", "-lqrencode"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    ok = check(r.returncode == 0 and not r.stderr.strip(),
               "qr.c builds warning-free (-Werror) with ASan/UBSan", r.stderr)
    return exe if ok else None


def render(exe, text):
    """(exit status, stdout text, stderr text) of qr_print TEXT."""
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:exitcode=99")
    r = subprocess.run([exe, text], capture_output=True, env=env)
    return r.returncode, r.stdout.decode("utf-8", "strict"), r.stderr.decode("utf-8", "replace")


def parse(text):
    """Half-block text -> list of rows of booleans (True = light module)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    width = len(lines[0])
    rows = []
    for line in lines:
        if len(line) != width:
            raise ValueError(f"ragged line: {len(line)} != {width} columns")
        upper, lower = [], []
        for ch in line:
            if ch not in CELLS:
                raise ValueError(f"unexpected character U+{ord(ch):04X}")
            u, lo = CELLS[ch]
            upper.append(u)
            lower.append(lo)
        rows += [upper, lower]
    # An odd number of module rows leaves the last line's lower half undrawn.
    if len(rows) == width + 1 and not any(rows[-1]):
        rows.pop()
    return rows


def quiet_zone(rows):
    """Width of the all-light border around the symbol."""
    size = len(rows)
    q = 0
    while q < size // 2:
        ring = rows[q][q:size - q] + rows[size - 1 - q][q:size - q] + \
            [rows[y][q] for y in range(q, size - q)] + [rows[y][size - 1 - q] for y in range(q, size - q)]
        if not all(ring):
            break
        q += 1
    return q


def to_png(rows, path):
    size = len(rows)
    total = (size + 2 * MARGIN) * SCALE
    img = Image.new("L", (total, total), 255)
    px = img.load()
    for y, row in enumerate(rows):
        for x, light in enumerate(row):
            if light:
                continue
            x0, y0 = (x + MARGIN) * SCALE, (y + MARGIN) * SCALE
            for dy in range(SCALE):
                for dx in range(SCALE):
                    px[x0 + dx, y0 + dy] = 0
    img.save(path)


def zbar(path):
    r = subprocess.run(["zbarimg", "--raw", "-q", path], capture_output=True)
    return r.returncode, r.stdout.decode("utf-8", "replace").rstrip("\n")


def main():
    keep = None
    if len(sys.argv) == 3 and sys.argv[1] == "--keep":
        keep = sys.argv[2]
        os.makedirs(keep, exist_ok=True)
    if not shutil.which("zbarimg"):
        print("Bail out! zbarimg not found (apt-get install zbar-tools)")
        return 1
    tmp = tempfile.mkdtemp(prefix="qr-test.")
    try:
        exe = build(tmp)
        if not exe:
            TAP.done()
            return 1
        for i, (desc, url) in enumerate(URLS):
            rc, out, err = render(exe, url)
            if not check(rc == 0 and out and not err, f"{desc}: rendered ({len(url)} bytes)",
                         f"exit {rc}\n{err}"):
                continue
            widths = [len(line) for line in out.rstrip("\n").split("\n")]
            check(max(widths) <= COLUMNS, f"{desc}: every line <= {COLUMNS} columns "
                  f"(widest {max(widths)}, {len(widths)} lines)")
            check(out.endswith("\n") and not any(line.endswith(" ") for line in out.split("\n")),
                  f"{desc}: lines end with a newline and no trailing spaces")
            try:
                rows = parse(out)
            except ValueError as e:
                check(False, f"{desc}: text parses into a module matrix", str(e))
                continue
            size = len(rows)
            q = quiet_zone(rows)
            check(size == len(rows[0]) and (size - 2 * q - 17) % 4 == 0 and q >= 2,
                  f"{desc}: square symbol {size - 2 * q} modules + quiet zone {q} (>= 2)")
            png = os.path.join(keep or tmp, f"qr{i}.png")
            to_png(rows, png)
            zrc, decoded = zbar(png)
            check(zrc == 0 and decoded == url, f"{desc}: zbarimg decodes the exact URL",
                  f"zbarimg exit {zrc}\nwant {url!r}\ngot  {decoded!r}")

        # Level L keeps the device URL at version 4 in every region.
        for region, domain in [("us-east-1", "com"), ("ap-southeast-2", "com"),
                               ("eusc-de-east-1", "com"), ("cn-north-1", "com.cn")]:
            url = f"https://device.sso.{region}.amazonaws.{domain}/?user_code=ABCD-EFGH"
            rc, out, err = render(exe, url)
            size = len(parse(out)) if rc == 0 else 0
            check(size == 33 + 8, f"{region} device URL: version 4 (33 modules) with a "
                  f"4-module quiet zone = 41 columns (got {size})")

        # Inputs that must give NULL (qr_print exits 3 and prints nothing).
        for desc, text in [
            ("input of 513 bytes is refused", "https://x.io/?" + "a" * 499),
            ("input of 4096 bytes is refused", "https://x.io/?" + "b" * 4082),
            ("empty input is refused", ""),
            ("512 bytes that would not fit 80 columns is refused", "https://x.io/?" + "c" * 498),
        ]:
            rc, out, err = render(exe, text)
            check(rc == 3 and out == "" and not err, f"{desc} (NULL)",
                  f"exit {rc}, {len(out)} chars of output\n{err}")

        # The largest symbol that fits: quiet zone shrinks, never below 2.
        longest_ok = None
        lo, hi = 1, 512
        while lo <= hi:
            mid = (lo + hi) // 2
            if render(exe, "h" * mid)[0] == 0:
                longest_ok, lo = mid, mid + 1
            else:
                hi = mid - 1
        rc, out, _ = render(exe, "h" * longest_ok)
        rows = parse(out)
        q = quiet_zone(rows)
        widths = [len(line) for line in out.rstrip("\n").split("\n")]
        check(max(widths) <= COLUMNS and q >= 2,
              f"largest input that renders ({longest_ok} bytes): {max(widths)} columns, "
              f"quiet zone {q}")
        png = os.path.join(keep or tmp, "qr-largest.png")
        to_png(rows, png)
        zrc, decoded = zbar(png)
        check(zrc == 0 and decoded == "h" * longest_ok, "largest symbol decodes too")
        check(render(exe, "h" * (longest_ok + 1))[0] == 3,
              f"one byte more ({longest_ok + 1}) is refused (NULL)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TAP.done()


if __name__ == "__main__":
    sys.exit(main())
