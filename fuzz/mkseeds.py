#!/usr/bin/python3
# Attack-token and route seeds for the fuzz corpora; run by fuzz/mkseeds.sh
# after it minted the valid-* and deny-* tokens with `claimgate mint`.
# Needs Debian's python3-cryptography. Tokens that we sign correctly and
# that must parse and verify are appended to fuzz/keys/minted.txt; every
# other token here must never verify (the fuzz targets abort if one does).
import base64
import datetime
import hashlib
import hmac
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature, encode_dss_signature)
from cryptography.x509.oid import NameOID

FUZZ = sys.argv[1]
KEYS = os.path.join(FUZZ, "keys")
TOK = os.path.join(FUZZ, "corpus", "token")
ROUTE = os.path.join(FUZZ, "corpus", "route")
NOW = 1700000000
IDP = "https://idp.fuzz.example"
HMAC_ISS = "https://hmac.fuzz.example"
API = "https://api.fuzz.example"
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED_L = 2**252 + 27742317777372353535851937790883648493


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def pem(name):
    with open(os.path.join(KEYS, name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


RS = pem("rs.pem")
ES = pem("es.pem")
ED = pem("ed.pem")
with open(os.path.join(KEYS, "hs.jwk.json")) as f:
    HS = unb64(json.load(f)["k"])


def sign(alg, key, msg):
    if alg == "HS256":
        return hmac.new(key, msg, hashlib.sha256).digest()
    if alg == "RS256":
        return key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
    if alg == "PS256":
        return key.sign(msg, padding.PSS(padding.MGF1(hashes.SHA256()), 32),
                        hashes.SHA256())
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == "EdDSA":
        return key.sign(msg)
    raise ValueError(alg)


def jws(header, payload, alg, key, raw_sig=None):
    """header/payload: exact JSON text (str) or dict."""
    h = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    p = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    si = b64(h.encode()) + "." + b64(p.encode())
    sig = raw_sig if raw_sig is not None else sign(alg, key, si.encode())
    return si + "." + b64(sig)


def claims(**extra):
    c = {"iss": IDP, "sub": "alice", "aud": API, "tid": "acme",
         "scope": "r:read r:write", "jti": "a-" + str(len(extra)),
         "iat": NOW, "exp": NOW + 300}
    c.update(extra)
    return c


def write(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(TOK, name), "wb") as f:
        f.write(data)


def mint(name, tok):
    """A correctly signed token that must parse and verify."""
    write(name + ".jwt", tok)
    with open(os.path.join(KEYS, "minted.txt"), "a") as f:
        f.write(name + " " + tok + "\n")


def attack(name, tok):
    write("attack-" + name + ".jwt", tok)


def read_tok(name):
    with open(os.path.join(TOK, name + ".jwt")) as f:
        return f.read()


valid_rs = read_tok("valid-rs256")
valid_es = read_tok("valid-es256")
valid_ed = read_tok("valid-eddsa")
valid_hs = read_tok("valid-hs256")
h_rs, p_rs, s_rs = valid_rs.split(".")

# ---- signed by us, parse and verify, denied or allowed later ------------
mint("deny-jti-missing", jws({"alg": "RS256", "kid": "rs1"},
     {k: v for k, v in claims().items() if k != "jti"}, "RS256", RS))
deep16 = claims(jti="deep16")
deep16["x"] = json.loads("[" * 15 + "]" * 15)       # level 16 with the object
mint("deny-deep16-ok", jws({"alg": "HS256", "kid": "hs1", "typ": "at+jwt"},
     dict(deep16, iss=HMAC_ISS, scope="r:other"), "HS256", HS))
mint("valid-eddsa-unicode", jws({"alg": "EdDSA", "kid": "ed1"},
     claims(sub="\u00e9l\u00e8ve \U0001F600", jti="uni", tid="t-1"), "EdDSA", ED))
mint("valid-es256-header-extras", jws(
    {"alg": "ES256", "kid": "es1", "typ": "JWT", "cty": "x", "jku": "https://evil.example/jwks",
     "x5u": "https://evil.example/cert", "unknown": {"a": [1, 2]}},
    claims(jti="extras"), "ES256", ES))
mint("deny-aud-array-objects", jws({"alg": "RS256", "kid": "rs1"},
     claims(aud=[{"a": 1}], jti="audobj"), "RS256", RS))
mint("deny-claims-null", jws({"alg": "EdDSA", "kid": "ed1"},
     claims(sub=None, nbf=None, jti="nulls"), "EdDSA", ED))

# ---- alg none and algorithm confusion ------------------------------------
none_payload = b64(json.dumps(claims(), separators=(",", ":")).encode())
attack("alg-none", b64(b'{"alg":"none"}') + "." + none_payload + ".")
attack("alg-None", b64(b'{"alg":"None","kid":"rs1"}') + "." + none_payload + ".")
attack("alg-none-with-sig", b64(b'{"alg":"none"}') + "." + p_rs + "." + s_rs)
attack("alg-empty", b64(b'{"alg":""}') + "." + none_payload + ".")
attack("alg-rs256-lower", b64(b'{"alg":"rs256","kid":"rs1"}') + "." + p_rs + "." + s_rs)
attack("alg-number", b64(b'{"alg":256}') + "." + p_rs + "." + s_rs)
rsa_pub_pem = RS.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
attack("hs256-with-rsa-pubkey", jws({"alg": "HS256", "kid": "rs1"}, claims(), "HS256", rsa_pub_pem))
n_bytes = RS.public_key().public_numbers().n.to_bytes(256, "big")
attack("hs256-with-rsa-modulus", jws({"alg": "HS256"}, claims(), "HS256", n_bytes))
es_pub = ES.public_key().public_bytes(serialization.Encoding.X962,
                                      serialization.PublicFormat.UncompressedPoint)
attack("hs256-with-ec-point", jws({"alg": "HS256", "kid": "es1"}, claims(), "HS256", es_pub))
attack("es256-header-with-ed-key", jws({"alg": "ES256", "kid": "ed1"}, claims(), "EdDSA", ED))
attack("rs256-header-ps256-sig", jws({"alg": "RS256", "kid": "rs1"}, claims(), "PS256", RS))
attack("ps256-header-rs256-sig", jws({"alg": "PS256", "kid": "rs1"}, claims(), "RS256", RS))
attack("hs256-kid-es1-our-secret", jws({"alg": "HS256", "kid": "es1"}, claims(), "HS256", HS))

# ---- key injection through the header -----------------------------------
evil_ec = ec.generate_private_key(ec.SECP256R1())
evil_rs = rsa.generate_private_key(65537, 2048)
en = evil_ec.public_key().public_numbers()
evil_jwk = {"kty": "EC", "crv": "P-256", "x": b64(en.x.to_bytes(32, "big")),
            "y": b64(en.y.to_bytes(32, "big"))}
attack("jwk-header-injection", jws({"alg": "ES256", "jwk": evil_jwk}, claims(), "ES256", evil_ec))
attack("jwk-header-injection-kid", jws({"alg": "ES256", "kid": "es1", "jwk": dict(evil_jwk, kid="es1")},
                                       claims(), "ES256", evil_ec))
attack("jku-injection", jws({"alg": "RS256", "kid": "evil", "jku": "https://evil.example/jwks.json"},
                            claims(), "RS256", evil_rs))
attack("x5u-injection", jws({"alg": "RS256", "x5u": "https://evil.example/cert.pem"},
                            claims(), "RS256", evil_rs))
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.fuzz.example")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(evil_rs.public_key()).serial_number(1)
        .not_valid_before(datetime.datetime(2023, 1, 1))
        .not_valid_after(datetime.datetime(2033, 1, 1))
        .sign(evil_rs, hashes.SHA256()))
x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
attack("x5c-injection", jws({"alg": "RS256", "x5c": [x5c]}, claims(), "RS256", evil_rs))
attack("kid-path-traversal", jws({"alg": "HS256", "kid": "../../../../../dev/null"}, claims(), "HS256", b""))
attack("kid-sql-injection", jws({"alg": "HS256", "kid": "x' UNION SELECT 'key"}, claims(), "HS256", b"key"))
attack("kid-nul-escape", jws('{"alg":"RS256","kid":"rs1\\u0000x"}', claims(), "RS256", RS))
attack("kid-number", jws('{"alg":"RS256","kid":1}', claims(), "RS256", RS))
attack("crit-header", jws({"alg": "ES256", "kid": "es1", "crit": ["exp"], "exp": NOW + 300},
                          claims(), "ES256", ES))
attack("crit-empty", jws({"alg": "ES256", "kid": "es1", "crit": []}, claims(), "ES256", ES))

# ---- signatures: encodings and malleability ------------------------------
si = (h_rs + "." + p_rs).encode()
es_h, es_p, es_s = valid_es.split(".")
r = int.from_bytes(unb64(es_s)[:32], "big")
s = int.from_bytes(unb64(es_s)[32:], "big")
# ECDSA malleability: (r, n - s) is a second valid signature of the same
# message (RFC 7518 does not require low-S). Accepted by OpenSSL and so by
# claimgate; listed as ours, since it is our signature re-encoded.
mint("malleable-es256-high-s", es_h + "." + es_p + "." + b64(r.to_bytes(32, "big") + (P256_N - s).to_bytes(32, "big")))
attack("es256-der-sig", es_h + "." + es_p + "." + b64(encode_dss_signature(r, s)))
attack("es256-zero-r", es_h + "." + es_p + "." + b64(bytes(32) + s.to_bytes(32, "big")))
attack("es256-r-equals-n", es_h + "." + es_p + "." + b64(P256_N.to_bytes(32, "big") + s.to_bytes(32, "big")))
attack("es256-short-sig", es_h + "." + es_p + "." + b64(unb64(es_s)[:63]))
attack("es256-long-sig", es_h + "." + es_p + "." + b64(unb64(es_s) + b"\0"))
ed_h, ed_p, ed_s = valid_ed.split(".")
ed_sig = unb64(ed_s)
ed_S = int.from_bytes(ed_sig[32:], "little")
attack("eddsa-s-plus-l", ed_h + "." + ed_p + "." + b64(ed_sig[:32] + (ed_S + ED_L).to_bytes(32, "little")))
attack("eddsa-zero-sig", ed_h + "." + ed_p + "." + b64(bytes(64)))
rs_sig = unb64(s_rs)
attack("rs256-sig-short", h_rs + "." + p_rs + "." + b64(rs_sig[1:]))
attack("rs256-sig-long", h_rs + "." + p_rs + "." + b64(b"\0" + rs_sig))
attack("rs256-sig-flipped", h_rs + "." + p_rs + "." + b64(rs_sig[:-1] + bytes([rs_sig[-1] ^ 1])))
hs_h, hs_p, hs_s = valid_hs.split(".")
attack("hs256-truncated-tag", hs_h + "." + hs_p + "." + b64(unb64(hs_s)[:16]))
attack("empty-signature", h_rs + "." + p_rs + ".")
attack("payload-swapped", h_rs + "." + valid_ed.split(".")[1] + "." + s_rs)
attack("header-swapped", es_h + "." + p_rs + "." + s_rs)

# ---- base64url -----------------------------------------------------------
attack("b64-padding", h_rs + "=." + p_rs + "." + s_rs)
attack("b64-padding-sig", valid_rs + "==")
attack("b64-std-alphabet", valid_rs.replace("-", "+").replace("_", "/") if ("-" in valid_rs or "_" in valid_rs)
       else valid_rs[:-1] + "+")
last = s_rs[-1]
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
attack("b64-trailing-bits", h_rs + "." + p_rs + "." + s_rs[:-1] + alphabet[alphabet.index(last) | 1])
attack("b64-whitespace", h_rs + "." + p_rs[:10] + "\n" + p_rs[10:] + "." + s_rs)
attack("b64-len-1-mod-4", h_rs + "." + p_rs + "." + s_rs + "A")
attack("b64-percent", valid_rs.replace("-", "%2D", 1))

# ---- JSON strictness (correctly signed: only the parser can refuse) ------
def raw_hs(header, payload):
    return jws(header, payload, "HS256", HS)


H = '{"alg":"HS256","kid":"hs1","typ":"at+jwt"}'
body = json.dumps(dict(claims(), iss=HMAC_ISS), separators=(",", ":"))[1:-1]
attack("dup-exp-member", raw_hs(H, '{' + body + ',"exp":9999999999}'))
attack("dup-iss-member", raw_hs(H, '{"iss":"https://evil.example",' + body + '}'))
attack("dup-alg-header", raw_hs('{"alg":"HS256","kid":"hs1","typ":"at+jwt","alg":"none"}', '{' + body + '}'))
attack("dup-nested-member", raw_hs(H, '{' + body + ',"act":{"sub":"a","sub":"b"}}'))
attack("dup-escaped-member", raw_hs(H, '{' + body + ',"\\u0065xp":1}'))
attack("deep-nesting-17", raw_hs(H, '{' + body + ',"x":' + "[" * 16 + "]" * 16 + '}'))
attack("deep-nesting-1000", raw_hs(H, '{' + body + ',"x":' + "[" * 1000 + "]" * 1000 + '}'))
attack("deep-header", raw_hs('{"alg":"HS256","x":' + "{\"a\":" * 20 + "1" + "}" * 20 + '}', '{' + body + '}'))
attack("nul-escape", raw_hs(H, '{' + body + ',"note":"a\\u0000b"}'))
attack("lone-surrogate", raw_hs(H, '{' + body + ',"note":"\\ud800"}'))
si_utf8 = b64(H.encode()) + "." + b64(('{' + body + ',"note":"').encode() + b'\xc0\xaf"}')
attack("invalid-utf8", si_utf8 + "." + b64(hmac.new(HS, si_utf8.encode(), hashlib.sha256).digest()))
attack("number-overflow", raw_hs(H, '{' + body.replace('"exp":' + str(NOW + 300), '"exp":1e400') + '}'))
attack("bom-prefix", b64(b"\xef\xbb\xbf" + H.encode()) + "." + b64(('{' + body + '}').encode()) + "." + hs_s)
attack("trailing-garbage", raw_hs(H, '{' + body + '} x'))
attack("payload-array", raw_hs(H, '[' + body.split(",")[0].split(":", 1)[1] + ']'))
attack("payload-string", raw_hs(H, '"hello"'))
attack("header-null-param", raw_hs('{"alg":"HS256","kid":null}', '{' + body + '}'))
attack("header-typ-object", raw_hs('{"alg":"HS256","typ":{"a":1}}', '{' + body + '}'))
attack("comments", raw_hs(H, '{' + body + ' /* c */}'))
attack("single-quotes", raw_hs(H, "{'sub':'x'}"))
attack("nan", raw_hs(H, '{' + body + ',"n":NaN}'))

# ---- structure and size --------------------------------------------------
attack("jwe-5-segments", valid_rs + ".AAAA.BBBB")
attack("two-segments", h_rs + "." + p_rs)
attack("four-segments", valid_rs + ".x")
attack("empty-header", "." + p_rs + "." + s_rs)
attack("empty-payload", h_rs + ".." + s_rs)
attack("only-dots", "..")
attack("bearer-prefix", "Bearer " + valid_rs)
attack("trailing-newline", valid_rs + "\n")
attack("too-large", h_rs + "." + b64(json.dumps(claims(pad="x" * 6200)).encode()) + "." + s_rs)
write("attack-empty.jwt", b"")

# ---- route seeds: host NUL path NUL method NUL authorization -------------
os.makedirs(ROUTE, exist_ok=True)
for f in os.listdir(ROUTE):
    os.unlink(os.path.join(ROUTE, f))


def route(name, host, path, method, auth):
    parts = []
    for p in (host, path, method, auth):
        if p is None:
            break
        parts.append(p.encode() if isinstance(p, str) else p)
    with open(os.path.join(ROUTE, name), "wb") as f:
        f.write(b"\0".join(parts))


valid_hs_open = read_tok("valid-hs256-open")
valid_ctl = read_tok("valid-hs256-open-ctl")
valid_exact = read_tok("valid-rs256-nokid-exact")
A = "api.fuzz.example"
route("api-allow-rs256", A, "/v1/items?x=1", "GET", "Bearer " + valid_rs)
route("api-allow-es256", A, "/admin/users", "POST", "Bearer " + valid_es)
route("api-allow-eddsa-port", A + ":8443", "/v1/", "DELETE", "bearer \t" + valid_ed + "  ")
route("api-allow-hs256-case", "API.Fuzz.Example", "/v1//x/./y", "GET", "BEARER " + valid_hs)
route("api-basic-auth", A, "/v1/x", "GET", "Basic YWxpY2U6cGFzcw==")
route("api-no-auth", A, "/v1/x", "GET", None)
route("api-empty-bearer", A, "/v1/x", "GET", "Bearer ")
route("api-method-lower", A, "/v1/x", "get", "Bearer " + valid_rs)
route("api-method-put", A, "/v1/x", "PUT", "Bearer " + valid_rs)
route("api-dotdot-escape", A, "/public/..%2fv1/x", "GET", "Bearer " + valid_rs)
route("api-dotdot", A, "/public/../v1/x", "GET", "Bearer " + valid_rs)
route("api-encoded-dots", A, "/x/%2e%2e/v1/a", "GET", "Bearer " + valid_rs)
route("api-encoded-dots-upper", A, "/x/%2E%2E/admin/", "POST", "Bearer " + valid_es)
route("api-above-root", A, "/../../v1/x", "GET", "Bearer " + valid_rs)
route("api-backslash", A, "/v1\\..\\admin", "GET", "Bearer " + valid_rs)
route("api-nul-escape", A, "/v1/%00", "GET", "Bearer " + valid_rs)
route("api-bad-escape", A, "/v1/%zz", "GET", "Bearer " + valid_rs)
route("api-truncated-escape", A, "/v1/%2", "GET", "Bearer " + valid_rs)
route("api-ctl-escape", A, "/v1/%0d%0aX-Evil:%201", "GET", "Bearer " + valid_rs)
route("api-fragment", A, "/v1/x#/../../admin", "GET", "Bearer " + valid_rs)
route("api-query-dots", A, "/v1/x?/../../admin", "GET", "Bearer " + valid_rs)
route("api-double-encoded", A, "/v1/%252e%252e/admin", "GET", "Bearer " + valid_rs)
route("api-utf8-path", A, "/v1/caf\u00e9/%C3%A9", "GET", "Bearer " + valid_rs)
route("api-long-path", A, "/v1/" + "a/" * 2100, "GET", "Bearer " + valid_rs)
route("api-trailing-dot", A, "/v1/x/.", "GET", "Bearer " + valid_rs)
route("api-trailing-dotdot", A, "/v1/x/..", "GET", "Bearer " + valid_rs)
route("api-no-leading-slash", A, "v1/x", "GET", "Bearer " + valid_rs)
route("api-empty-path", A, "", "GET", "Bearer " + valid_rs)
route("api-alg-none", A, "/v1/x", "GET", "Bearer " + read_tok("attack-alg-none"))
route("api-forged", A, "/v1/x", "GET", "Bearer " + read_tok("attack-jwk-header-injection"))
route("host-ipv6", "[::1]:8080", "/open/x", "GET", "Bearer " + valid_hs_open)
route("host-none-open", None, "/open/", "GET", None)
route("open-allow", "anything.example", "/open/data", "GET", "Bearer " + valid_hs_open)
route("open-ctl-claims", "h", "/open/ctl", "GET", "Bearer " + valid_ctl)
route("exact-allow", "exact.fuzz.example", "/", "GET", "Bearer " + valid_exact)
route("exact-host-ctl", "exact.fuzz.example\r\nX: y", "/", "GET", "Bearer " + valid_exact)
route("host-trailing-dot", "api.fuzz.example.", "/v1/x", "GET", "Bearer " + valid_rs)
route("host-userinfo", "evil@api.fuzz.example", "/v1/x", "GET", "Bearer " + valid_rs)
route("no-zone", "other.example", "/elsewhere", "GET", "Bearer " + valid_rs)
route("audit-escapes", "h\"\\\x01", "/open/\"x\x7f", "METH\x01", "Bearer x")
with open(os.path.join(ROUTE, "path-only"), "wb") as f:
    f.write(b"\0/v1/x")
