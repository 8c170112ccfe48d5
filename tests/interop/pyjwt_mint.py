#!/usr/bin/python3
"""pyjwt_mint.py - tokens minted and judged by PyJWT, for test_interop_pyjwt.

Usage: pyjwt_mint.py OUTDIR

Writes OUTDIR/jwks.json (public keys as JWK via jwt.algorithms.*.to_jwk,
one per algorithm, kid = the algorithm name (the RS* kids share one RSA
key and the PS* kids another), plus a few keys claimgate must
refuse) and OUTDIR/tokens.json:

  {"tokens": [{"name": ..., "alg": ..., "token": ...,
               "pyjwt_ok": true|false, "pyjwt_error": "...",
               "reason": null | "<why claimgate may be stricter>"}]}

`pyjwt_ok` is whether jwt.decode(token, <the key>, algorithms=<every
algorithm of that key's type>, options={"verify_exp": False,
"verify_aud": False}) accepts the token. `reason` names the rule under
which claimgate is allowed (and required) to reject a token PyJWT may
accept; the C test maps each reason to the exact cg_code it expects.

Needs Debian's python3-jwt and python3-cryptography (see the README).
"""

import base64
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import (ECAlgorithm, HMACAlgorithm, OKPAlgorithm,
                            RSAAlgorithm, get_default_algorithms)

PAYLOAD = {
    "iss": "https://sso.example.com",
    "sub": "alice",
    "aud": "https://api.example.com",
    "iat": 1700000000,
    "exp": 2000000000,
    "scope": "read write",
    "name": "Zo\u00eb \U0001F389",
    "n": 1.5,
}
OTHER = dict(PAYLOAD, sub="mallory", scope="admin")

RSA_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
EC_ALGS = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1,
           "ES512": ec.SECP521R1}
HS_ALGS = ["HS256", "HS384", "HS512"]
ALL_ALGS = RSA_ALGS + list(EC_ALGS) + ["EdDSA"] + HS_ALGS
ALGS = get_default_algorithms()
EC_N = {
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ES384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                 "581A0DB248B0A77AECEC196ACCC52973", 16),
    "ES512": int("01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
                 "FA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E913864"
                 "09", 16),
}
COORD = {"ES256": 32, "ES384": 48, "ES512": 66}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def full_length(jwk, alg):
    """RFC 7518 6.2.1.2: coordinates are full length. PyJWT 2.6's to_jwk
    writes them minimal (leading zero bytes dropped)."""
    d = json.loads(jwk)
    return all(len(unb64(d[c])) == COORD[alg] for c in ("x", "y"))


class Keys:
    def __init__(self):
        self.priv = {}   # kid -> private key object (or secret bytes)
        self.pub = {}    # kid -> public key object (or secret bytes)
        self.family = {}  # kid -> algorithms PyJWT may use with it
        self.jwks = []

    def add(self, kid, priv, pub, family, jwk_json):
        self.priv[kid] = priv
        self.pub[kid] = pub
        self.family[kid] = family
        d = json.loads(jwk_json)
        d["kid"] = kid
        d["use"] = "sig"
        self.jwks.append(d)


def make_keys():
    k = Keys()
    # RSA generation dominates the run time: one 2048-bit key for the
    # RS* kids and one for the PS* kids (each published once per kid).
    rs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ps = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for alg in RSA_ALGS:
        p = rs if alg.startswith("RS") else ps
        k.add(alg, p, p.public_key(), RSA_ALGS, RSAAlgorithm.to_jwk(p.public_key()))
    for alg, curve in EC_ALGS.items():
        # Keep drawing until to_jwk's output is a conforming JWK; the
        # short form is tested on its own below ("short_ec_coordinate").
        while True:
            p = ec.generate_private_key(curve())
            jwk = ECAlgorithm.to_jwk(p.public_key())
            if full_length(jwk, alg):
                break
        k.add(alg, p, p.public_key(), list(EC_ALGS), jwk)
    p = ed25519.Ed25519PrivateKey.generate()
    k.add("EdDSA", p, p.public_key(), ["EdDSA"],
          OKPAlgorithm.to_jwk(p.public_key()))
    for alg in HS_ALGS:
        secret = os.urandom(64)
        k.add(alg, secret, secret, HS_ALGS, HMACAlgorithm.to_jwk(secret))
    # Keys claimgate refuses (skipped with a warning) but PyJWT uses.
    while True:
        p = ec.generate_private_key(ec.SECP521R1())
        jwk = ECAlgorithm.to_jwk(p.public_key())
        if not full_length(jwk, "ES512"):
            break
    k.add("ES512-short", p, p.public_key(), list(EC_ALGS), jwk)
    p = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    k.add("RS256-1024", p, p.public_key(), RSA_ALGS,
          RSAAlgorithm.to_jwk(p.public_key()))
    secret = os.urandom(16)
    k.add("HS256-16", secret, secret, HS_ALGS, HMACAlgorithm.to_jwk(secret))
    return k


def sign(keys, kid, alg, signing_input):
    a = ALGS[alg]
    return a.sign(signing_input, a.prepare_key(keys.priv[kid]))


def raw_token(keys, kid, alg, header_bytes, payload_bytes):
    """A token over exact header and payload bytes."""
    si = (b64(header_bytes) + "." + b64(payload_bytes)).encode("ascii")
    return si.decode("ascii") + "." + b64(sign(keys, kid, alg, si))


def parts(tok):
    return tok.split(".")


def judge(keys, kid, tok):
    try:
        jwt.decode(tok, keys.pub[kid], algorithms=keys.family[kid],
                   options={"verify_exp": False, "verify_aud": False})
        return True, ""
    except Exception as e:  # any PyJWT or crypto failure is a rejection
        return False, type(e).__name__ + ": " + str(e)[:120]


def main():
    out = sys.argv[1]
    keys = make_keys()
    tokens = []

    def add(name, alg, kid, tok, reason=None):
        ok, why = judge(keys, kid, tok)
        tokens.append({"name": name, "alg": alg, "token": tok,
                       "pyjwt_ok": ok, "pyjwt_error": why,
                       "reason": reason})

    for alg in ALL_ALGS:
        kid = alg
        key = keys.priv[kid]
        a = jwt.encode(PAYLOAD, key, algorithm=alg, headers={"kid": kid})
        b = jwt.encode(OTHER, key, algorithm=alg, headers={"kid": kid})
        add(alg + " valid", alg, kid, a)
        add(alg + " valid, other payload", alg, kid, b)
        add(alg + " valid, no kid", alg, kid,
            jwt.encode(PAYLOAD, key, algorithm=alg))
        add(alg + " valid, extra headers", alg, kid,
            jwt.encode(PAYLOAD, key, algorithm=alg,
                       headers={"kid": kid, "typ": "at+jwt",
                                "x-ext": [1, {"a": None}]}))
        pa, pb = parts(a), parts(b)
        add(alg + " payload swapped", alg, kid, ".".join([pa[0], pb[1], pa[2]]))
        add(alg + " signature of another token", alg, kid,
            ".".join([pa[0], pa[1], pb[2]]))
        # alg header changed: another algorithm of the same key type, or
        # (EdDSA) of another one; payload and signature kept.
        other = {"RS256": "RS384", "RS384": "PS384", "RS512": "RS256",
                 "PS256": "RS256", "PS384": "PS512", "PS512": "PS256",
                 "ES256": "ES384", "ES384": "ES256", "ES512": "ES256",
                 "EdDSA": "ES256", "HS256": "HS512", "HS384": "HS256",
                 "HS512": "HS384"}[alg]
        h = b64(json.dumps({"alg": other, "kid": kid},
                           separators=(",", ":")).encode())
        add(alg + " alg changed to " + other, alg, kid,
            ".".join([h, pa[1], pa[2]]))
        h = b64(b'{"alg":"none","kid":"%s"}' % kid.encode())
        add(alg + " alg changed to none", alg, kid, ".".join([h, pa[1], ""]))
        sig = unb64(pa[2])
        add(alg + " last signature byte changed", alg, kid,
            ".".join([pa[0], pa[1], b64(sig[:-1] + bytes([sig[-1] ^ 0x01]))]))
        add(alg + " signature one byte short", alg, kid,
            ".".join([pa[0], pa[1], b64(sig[:-1])]))
        add(alg + " empty signature", alg, kid, ".".join([pa[0], pa[1], ""]))

        # Encodings PyJWT's decoder tolerates (it pads, maps the standard
        # alphabet and drops stray characters); claimgate accepts exactly
        # one spelling per byte string (RFC 7515 section 2).
        s = pa[2]
        if len(s) % 4:
            add(alg + " padded signature", alg, kid,
                ".".join([pa[0], pa[1], s + "=" * (-len(s) % 4)]), "padding")
        add(alg + " newline in signature", alg, kid,
            ".".join([pa[0], pa[1], s[:8] + "\n" + s[8:]]), "whitespace")
        i = next((j for j, c in enumerate(s) if c in "-_"), None)
        if i is not None:
            add(alg + " standard alphabet", alg, kid,
                ".".join([pa[0], pa[1],
                          s[:i] + {"-": "+", "_": "/"}[s[i]] + s[i + 1:]]),
                "std_alphabet")
        if len(s) % 4:
            alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789-_")
            v = alphabet.index(s[-1]) | 1
            add(alg + " non-canonical last character", alg, kid,
                ".".join([pa[0], pa[1], s[:-1] + alphabet[v]]),
                "noncanonical")

    # ECDSA: (r, n - s) is a valid signature too (JOSE does not require
    # low s), DER is not the JOSE form, r = s = 0 is CVE-2022-21449.
    for alg in EC_ALGS:
        kid = alg
        a = jwt.encode(PAYLOAD, keys.priv[kid], algorithm=alg,
                       headers={"kid": kid})
        pa = parts(a)
        sig = unb64(pa[2])
        n = COORD[alg]
        r, s = int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big")
        hs = r.to_bytes(n, "big") + (EC_N[alg] - s).to_bytes(n, "big")
        add(alg + " high s", alg, kid, ".".join([pa[0], pa[1], b64(hs)]))
        from jwt.utils import raw_to_der_signature
        der = raw_to_der_signature(sig, keys.pub[kid].curve)
        add(alg + " DER signature", alg, kid, ".".join([pa[0], pa[1], b64(der)]))
        add(alg + " r = s = 0", alg, kid,
            ".".join([pa[0], pa[1], b64(bytes(2 * n))]))
        nb = EC_N[alg].to_bytes(n, "big")
        add(alg + " r = s = n", alg, kid, ".".join([pa[0], pa[1], b64(nb + nb)]))

    # RFC 7518 3.4: ES384 means P-384. PyJWT signs and verifies ES384 with
    # a P-256 key; claimgate's P-256 key fits ES256 only.
    add("ES384 with the P-256 key", "ES384", "ES256",
        jwt.encode(PAYLOAD, keys.priv["ES256"], algorithm="ES384",
                   headers={"kid": "ES256"}), "ec_curve_mismatch")
    # Keys claimgate skips at load time.
    add("ES512 key with short coordinates", "ES512", "ES512-short",
        jwt.encode(PAYLOAD, keys.priv["ES512-short"], algorithm="ES512",
                   headers={"kid": "ES512-short"}), "short_ec_coordinate")
    add("RS256 with a 1024-bit key", "RS256", "RS256-1024",
        jwt.encode(PAYLOAD, keys.priv["RS256-1024"], algorithm="RS256",
                   headers={"kid": "RS256-1024"}), "weak_rsa")
    add("HS256 with a 16-byte secret", "HS256", "HS256-16",
        jwt.encode(PAYLOAD, keys.priv["HS256-16"], algorithm="HS256",
                   headers={"kid": "HS256-16"}), "weak_hmac")

    # JSON that Python's json module accepts (last duplicate wins, lone
    # surrogates, inf) but claimgate's strict reader refuses; all validly
    # signed over the exact bytes.
    hs = "HS256"
    std_h = b'{"alg":"HS256","kid":"HS256"}'
    std_p = json.dumps(PAYLOAD, separators=(",", ":")).encode()
    add("duplicate alg in header", hs, hs,
        raw_token(keys, hs, hs, b'{"alg":"none","alg":"HS256","kid":"HS256"}',
                  std_p), "duplicate")
    add("duplicate kid in header", hs, hs,
        raw_token(keys, hs, hs, b'{"alg":"HS256","kid":"x","kid":"HS256"}',
                  std_p), "duplicate")
    add("duplicate sub in payload", hs, hs,
        raw_token(keys, hs, hs, std_h,
                  b'{"sub":"alice","exp":2000000000,"sub":"admin"}'),
        "duplicate")
    add("duplicate exp in payload", hs, hs,
        raw_token(keys, hs, hs, std_h,
                  b'{"sub":"alice","exp":1,"exp":2000000000}'), "duplicate")
    add("payload nested 17 deep", hs, hs,
        raw_token(keys, hs, hs, std_h,
                  b'{"sub":"a","x":' + b"[" * 16 + b"]" * 16 + b"}"), "depth")
    add("payload nested 16 deep", hs, hs,
        raw_token(keys, hs, hs, std_h,
                  b'{"sub":"a","x":' + b"[" * 15 + b"]" * 15 + b"}"))
    add("payload number 1e999", hs, hs,
        raw_token(keys, hs, hs, std_h, b'{"sub":"a","exp":1e999}'),
        "number_overflow")
    add("payload big integer", hs, hs,
        raw_token(keys, hs, hs, std_h,
                  b'{"sub":"a","big":123456789012345678901234567890}'))
    add("payload unpaired surrogate", hs, hs,
        raw_token(keys, hs, hs, std_h, b'{"sub":"\\ud800"}'),
        "unpaired_surrogate")
    add("payload escaped pair", hs, hs,
        raw_token(keys, hs, hs, std_h, b'{"sub":"\\ud83c\\udf89"}'))
    add("header crit b64", hs, hs,
        raw_token(keys, hs, hs,
                  b'{"alg":"HS256","kid":"HS256","crit":["b64"],"b64":true}',
                  std_p), "crit")
    add("header kid not a string", hs, hs,
        raw_token(keys, hs, hs, b'{"alg":"HS256","kid":7}', std_p),
        "header_type")
    add("payload not an object", hs, hs,
        raw_token(keys, hs, hs, std_h, b'["alice"]'), "not_object")
    add("payload not JSON", hs, hs,
        raw_token(keys, hs, hs, std_h, b'{"sub":'), "not_object")

    with open(os.path.join(out, "jwks.json"), "w") as f:
        json.dump({"keys": keys.jwks}, f)
    with open(os.path.join(out, "tokens.json"), "w") as f:
        json.dump({"tokens": tokens}, f, indent=1)


if __name__ == "__main__":
    main()
