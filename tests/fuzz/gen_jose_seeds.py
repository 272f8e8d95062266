#!/usr/bin/python3
"""Generate the JOSE fuzzing fixture and seed corpora (run once; the output
is committed). Every run makes new keys, so the fixture and the seeds it
writes belong together: rerun it only to replace both.

Writes:
  tests/fuzz/jose_fixture.h         public JWKS, fuzz-only private keys for the
                                    harness's signing mode, valid tokens, and
                                    the SHA-256 of every input signed here
  tests/fuzz/corpus/fuzz_jwt/*      selector byte + token / header+payload
  tests/fuzz/corpus/fuzz_jwks/*     JWKS documents
  tests/fuzz/corpus/fuzz_discovery/* issuer line + discovery document

Needs python3-cryptography (Debian's /usr/bin/python3 has it).
"""
import base64
import hashlib
import hmac
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FUZZ = os.path.join(ROOT, "tests", "fuzz")
ISS = "https://idp.example.com/realms/corp"
CLIENT = "pam-client"
NOW = 1750000000

# selector byte of fuzz_jwt: mode in bits 6-7, leeway (x20 s) in bits 2-5,
# allow-list in bits 0-1 (0: every algorithm)
RAW, STRUCT, SIGNED = 0x00, 0x80, 0xC0
LEEWAY60 = 3 << 2


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


rsa1 = rsa.generate_private_key(65537, 2048)
rsa_small = rsa.generate_private_key(65537, 1024)
ec1 = ec.generate_private_key(ec.SECP256R1())
ec384 = ec.generate_private_key(ec.SECP384R1())
ed1 = ed25519.Ed25519PrivateKey.generate()
KEYS = {"rsa1": rsa1, "ec1": ec1, "ec384": ec384, "ed1": ed1}


def jwk(key, kid, **extra):
    pub = key.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        d = {"kty": "RSA", "n": b64(uint(nums.n)), "e": b64(uint(nums.e))}
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        nums = pub.public_numbers()
        crv, size = {"secp256r1": ("P-256", 32), "secp384r1": ("P-384", 48)}[pub.curve.name]
        d = {"kty": "EC", "crv": crv, "x": b64(uint(nums.x, size)), "y": b64(uint(nums.y, size))}
    else:
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        d = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
    if kid is not None:
        d = {"kid": kid, **d}
    d.update(extra)
    return d


HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def sign(key, alg, msg, der=False):
    msg = msg.encode()
    if alg == "EdDSA":
        return key.sign(msg)
    h = HASHES[alg[2:]]
    if alg.startswith("RS"):
        return key.sign(msg, padding.PKCS1v15(), h)
    if alg.startswith("PS"):
        return key.sign(msg, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    sig = key.sign(msg, ec.ECDSA(h))
    if der:
        return sig
    r, s = decode_dss_signature(sig)
    size = (key.curve.key_size + 7) // 8
    return uint(r, size) + uint(s, size)


SIGNED_INPUTS = []  # every header.payload signed with a fixture key


def claims(**over):
    c = {"iss": ISS, "sub": "248289761001", "aud": CLIENT, "exp": NOW + 3600, "iat": NOW - 10,
         "preferred_username": "alice", "groups": ["/admins", "/dev"]}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def token(alg, kid, payload, key=None, header=None, der=False):
    h = header if header is not None else {"alg": alg, "kid": kid, "typ": "JWT"}
    hp = b64(json.dumps(h, separators=(",", ":"))) + "." + b64(
        json.dumps(payload, separators=(",", ":")) if not isinstance(payload, str) else payload)
    key = key or KEYS[kid]
    SIGNED_INPUTS.append(hp)
    return hp + "." + b64(sign(key, alg, hp, der))


def write(target, name, data):
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def c_string(s):
    out = []
    for i in range(0, len(s), 90):
        chunk = s[i:i + 90].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append('    "' + chunk + '"')
    return "\n".join(out)


# ---- fixture ----
jwks = {"keys": [jwk(rsa1, "rsa1", use="sig"), jwk(ec1, "ec1"), jwk(ec384, "ec384"),
                 jwk(ed1, "ed1")]}
jwks_text = json.dumps(jwks, separators=(",", ":"))
valid = [token("RS256", "rsa1", claims()), token("PS256", "rsa1", claims()),
         token("ES256", "ec1", claims()), token("ES384", "ec384", claims()),
         token("EdDSA", "ed1", claims())]

# ---- fuzz_jwt seeds: raw tokens ----
raw = {
    "rs256-ok": valid[0], "ps256-ok": valid[1], "es256-ok": valid[2], "es384-ok": valid[3],
    "eddsa-ok": valid[4],
    "rs512-ok": token("RS512", "rsa1", claims()),
    "es256-azp-multi-aud": token("ES256", "ec1", claims(aud=[CLIENT, "other"], azp=CLIENT)),
    "es256-real-dates": token("ES256", "ec1", claims(exp=NOW + 600.5, iat=NOW - 0.25, nbf=NOW)),
    "es256-entra-overage": token("ES256", "ec1", claims(
        groups=None, _claim_names={"groups": "src1"},
        _claim_sources={"src1": {"endpoint": "https://graph.microsoft.com/v1.0/x"}})),
    "expired": token("RS256", "rsa1", claims(exp=NOW - 61)),
    "nbf-future": token("ES256", "ec1", claims(nbf=NOW + 120)),
    "iat-future": token("ES256", "ec1", claims(iat=NOW + 120)),
    "no-exp": token("ES256", "ec1", claims(exp=None)),
    "wrong-iss": token("ES256", "ec1", claims(iss=ISS + "/")),
    "aud-mismatch": token("EdDSA", "ed1", claims(aud="someone-else")),
    "multi-aud-no-azp": token("EdDSA", "ed1", claims(aud=[CLIENT, "other"])),
    "azp-mismatch": token("EdDSA", "ed1", claims(azp="other")),
    "unknown-kid": token("RS256", "rsa1", claims(), header={"alg": "RS256", "kid": "rotated"}),
    "no-kid": token("RS256", "rsa1", claims(), header={"alg": "RS256"}),
    "crit": token("ES256", "ec1", claims(), header={"alg": "ES256", "kid": "ec1",
                                                    "crit": ["exp"], "exp": 1}),
    "typ-at-jwt": token("ES256", "ec1", claims(), header={"alg": "ES256", "kid": "ec1",
                                                          "typ": "at+jwt"}),
    "es256-der": token("ES256", "ec1", claims(), der=True),
    "wrong-key-type": token("RS256", "rsa1", claims(), header={"alg": "RS256", "kid": "ec1"}),
    "dup-claims": token("ES256", "ec1", '{"iss":"x","iss":"%s","sub":"1","aud":"%s",'
                        '"exp":%d,"iat":%d}' % (ISS, CLIENT, NOW + 60, NOW)),
}
none_hp = b64('{"alg":"none"}') + "." + b64(json.dumps(claims()))
raw["alg-none"] = none_hp + "."
pem = rsa1.public_key().public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
hs_hp = b64('{"alg":"HS256","kid":"rsa1"}') + "." + b64(json.dumps(claims()))
raw["hs256-rsa-pem-key"] = hs_hp + "." + b64(hmac.new(pem, hs_hp.encode(), "sha256").digest())
raw["jwe-five-parts"] = valid[0] + ".AAAA.BBBB"
for name, tok in raw.items():
    write("fuzz_jwt", name, bytes([RAW | LEEWAY60]) + tok.encode())
write("fuzz_jwt", "default-algs-eddsa", bytes([RAW | LEEWAY60 | 1]) + valid[4].encode())

# ---- fuzz_jwt seeds: structured (unsigned) and harness-signed ----
def lines(header, payload, tail=b""):
    return (json.dumps(header, separators=(",", ":")) + "\n" +
            json.dumps(payload, separators=(",", ":")) + "\n").encode() + tail


write("fuzz_jwt", "struct-rs256", bytes([STRUCT | LEEWAY60]) +
      lines({"alg": "RS256", "kid": "rsa1"}, claims(), b"\x00" * 256))
write("fuzz_jwt", "struct-none", bytes([STRUCT | LEEWAY60]) + lines({"alg": "none"}, claims()))
write("fuzz_jwt", "struct-hs256", bytes([STRUCT | LEEWAY60]) +
      lines({"alg": "HS256", "kid": "rsa1"}, claims(), b"\x01" * 32))
write("fuzz_jwt", "struct-crit-jwk", bytes([STRUCT | LEEWAY60]) +
      lines({"alg": "ES256", "kid": "ec1", "crit": [], "jwk": jwk(ec1, "ec1"),
             "x5c": ["MIIB"]}, claims(), b"\x02" * 64))
for name, (h, c) in {
    "ok-es256": ({"alg": "ES256", "kid": "ec1", "typ": "JWT"}, claims()),
    "ok-eddsa": ({"alg": "EdDSA", "kid": "ed1"}, claims()),
    "ok-eddsa-no-kid": ({"alg": "EdDSA"}, claims()),
    "aud-array": ({"alg": "ES256", "kid": "ec1"}, claims(aud=[CLIENT, "x"], azp=CLIENT)),
    "aud-array-no-azp": ({"alg": "ES256", "kid": "ec1"}, claims(aud=[CLIENT, "x"])),
    "times-real": ({"alg": "EdDSA", "kid": "ed1"},
                   claims(exp=NOW + 59.9, iat=NOW + 59.5, nbf=NOW + 60.0)),
    "expired-edge": ({"alg": "EdDSA", "kid": "ed1"}, claims(exp=NOW - 60)),
    "strings-for-dates": ({"alg": "EdDSA", "kid": "ed1"}, claims(exp=str(NOW + 60))),
    "groups-string": ({"alg": "EdDSA", "kid": "ed1"}, claims(groups="/admins")),
    "groups-mixed": ({"alg": "EdDSA", "kid": "ed1"}, claims(groups=["/admins", 1])),
    "username-control": ({"alg": "EdDSA", "kid": "ed1"}, claims(preferred_username="al\x1bice")),
    "nested": ({"alg": "EdDSA", "kid": "ed1"},
               claims(realm_access={"roles": ["a", ["b", {"c": [1.5, None, True]}]]})),
}.items():
    write("fuzz_jwt", "signed-" + name, bytes([SIGNED | LEEWAY60]) + lines(h, c))

# ---- fuzz_jwks seeds ----
def jw(*keys, **top):
    return json.dumps({"keys": list(keys), **top}, separators=(",", ":"))


other = rsa.generate_private_key(65537, 2048)
p521 = ec.generate_private_key(ec.SECP521R1())
p521_pub = p521.public_key().public_numbers()
jwks_seeds = {
    "fixture": jwks_text,
    "keycloak-sig-and-enc": jw(jwk(other, "enc-1", use="enc", alg="RSA-OAEP"),
                               jwk(rsa1, "rsa1", use="sig", alg="RS256",
                                   x5c=["MIICmzCCAYMCBgGN"], x5t="abc", **{"x5t#S256": "def"})),
    "google-two-rsa": jw(jwk(rsa1, "rsa1", use="sig", alg="RS256"),
                         jwk(other, "0e72da1df5", use="sig", alg="RS256")),
    "entra": jw(jwk(rsa1, "rsa1", use="sig", x5c=["MIIC"], issuer=ISS,
                    cloud_instance_name="microsoftonline.com")),
    "ec-and-okp": jw(jwk(ec1, "ec1", key_ops=["verify"]), jwk(ed1, "ed1", alg="EdDSA"),
                     jwk(ec384, "ec384", alg="ES384")),
    "p521": jw({"kty": "EC", "kid": "p521", "crv": "P-521", "x": b64(uint(p521_pub.x, 66)),
                "y": b64(uint(p521_pub.y, 66))}),
    "no-kid-single": jw(jwk(ed1, None)),
    "small-rsa": jw(jwk(rsa_small, "small")),
    "off-curve": jw(dict(jwk(ec1, "ec1"), y=b64(b"\x01" * 32))),
    "dup-kid": jw(jwk(rsa1, "same"), jwk(ec1, "same")),
    "private-member": jw(dict(jwk(ec1, "ec1"), d=b64(b"\x01" * 32))),
    "oct-and-unknown": jw({"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
                          {"kty": "EC", "crv": "secp256k1", "kid": "k1", "x": "AA", "y": "AA"},
                          jwk(ed1, "ed1")),
    "alg-mismatch": jw(jwk(ec1, "ec1", alg="RS256")),
    "deep": '{"keys":[{"kty":"oct","x":[[[[[[[[[[1]]]]]]]]]]}]}',
}
for name, text in jwks_seeds.items():
    write("fuzz_jwks", name, text)

# ---- fuzz_discovery seeds ----
KC = "https://kc.example.com/realms/corp"
disc = {
    "keycloak": (KC, {
        "issuer": KC, "token_endpoint": KC + "/protocol/openid-connect/token",
        "jwks_uri": KC + "/protocol/openid-connect/certs",
        "device_authorization_endpoint": KC + "/protocol/openid-connect/auth/device",
        "id_token_signing_alg_values_supported": ["PS384", "RS256", "HS256", "ES256", "none"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic",
                                                  "client_secret_post"],
        "mtls_endpoint_aliases": {"token_endpoint": KC + "/mtls/token"}}),
    "google": ("https://accounts.google.com", {
        "issuer": "https://accounts.google.com",
        "device_authorization_endpoint": "https://oauth2.googleapis.com/device/code",
        "token_endpoint": "https://oauth2.googleapis.com/token",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
        "id_token_signing_alg_values_supported": ["RS256"]}),
    "entra": ("https://login.microsoftonline.com/tid/v2.0", {
        "issuer": "https://login.microsoftonline.com/tid/v2.0",
        "token_endpoint": "https://login.microsoftonline.com/tid/oauth2/v2.0/token",
        "jwks_uri": "https://login.microsoftonline.com/tid/discovery/v2.0/keys",
        "device_authorization_endpoint":
            "https://login.microsoftonline.com/tid/oauth2/v2.0/devicecode",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                  "client_secret_basic"],
        "tenant_region_scope": None}),
    "public-client": (KC, {"issuer": KC, "token_endpoint": KC + "/t", "jwks_uri": KC + "/c",
                           "token_endpoint_auth_methods_supported": ["none"]}),
    "issuer-slash": (KC, {"issuer": KC + "/", "token_endpoint": KC + "/t", "jwks_uri": KC + "/c"}),
    "http-endpoint": (KC, {"issuer": KC, "token_endpoint": "http://kc.example.com/t",
                           "jwks_uri": KC + "/c"}),
    "userinfo-host": (KC, {"issuer": KC, "token_endpoint": "https://kc.example.com@evil/t",
                           "jwks_uri": KC + "/c#x"}),
}
for name, (issuer, doc) in disc.items():
    write("fuzz_discovery", name, issuer + "\n" + json.dumps(doc))
write("fuzz_discovery", "duplicate-issuer",
      KC + '\n{"issuer":"https://evil","issuer":"%s","token_endpoint":"%s/t","jwks_uri":"%s/c"}'
      % (KC, KC, KC))

# ---- the fixture header ----
def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


hashes_hex = sorted({hashlib.sha256(s.encode()).hexdigest() for s in SIGNED_INPUTS})
with open(os.path.join(FUZZ, "jose_fixture.h"), "w") as f:
    f.write("/* jose_fixture.h - written by tests/fuzz/gen_jose_seeds.py; do not edit.\n"
            " * The JWKS the JOSE fuzz targets verify with, tokens valid under it, and\n"
            " * the SHA-256 of every header.payload the generator signed: fuzz_jwt\n"
            " * checks that no other input of a raw token is ever accepted. The\n"
            " * private keys of ec1 and ed1 are for the harness's signing mode only\n"
            " * (they protect nothing). */\n")
    f.write("#ifndef JOSE_FIXTURE_H\n#define JOSE_FIXTURE_H\n\n")
    f.write('#define FIXTURE_ISS "%s"\n#define FIXTURE_CLIENT "%s"\n#define FIXTURE_NOW %dLL\n\n'
            % (ISS, CLIENT, NOW))
    f.write("static const char fixture_jwks[] =\n%s;\n\n" % c_string(jwks_text))
    f.write('static const char *const fixture_kids[] = {"rsa1", "ec1", "ec384", "ed1"};\n\n')
    f.write("static const char fixture_ec1_pem[] =\n%s;\n\n" % c_string(pem_private(ec1)))
    f.write("static const char fixture_ed1_pem[] =\n%s;\n\n" % c_string(pem_private(ed1)))
    f.write("static const char *const fixture_tokens[] = {\n%s\n};\n\n" %
            ",\n".join(c_string(t) for t in valid))
    f.write("static const char *const fixture_signed_sha256[] = {\n%s\n};\n\n#endif\n" %
            ",\n".join('    "%s"' % h for h in hashes_hex))
print("fixture: %d valid tokens, %d signed inputs; seeds: fuzz_jwt %d, fuzz_jwks %d, "
      "fuzz_discovery %d" % (len(valid), len(hashes_hex), len(os.listdir(
          os.path.join(FUZZ, "corpus", "fuzz_jwt"))), len(jwks_seeds), len(disc) + 1),
      file=sys.stderr)
