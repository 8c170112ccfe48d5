#!/usr/bin/env bash
# cli_misc.sh - the claimgate command as a whole: --help, --version,
# unknown verbs and options, every verb's --help; keygen (mode 0600, never
# overwrites, --jwks); mint's algorithm checks; and a round trip
# keygen -> mint -> verify for every algorithm of the contract, allowed
# by a policy naming that algorithm and denied alg_not_allowed by one
# naming another.
#
# Environment: CG_BINARY (the claimgate binary). CG_VERBOSE=1 lists every
# passing check on stderr.
# Predicates handed to `ok` are single-quoted for eval, on purpose.
# shellcheck disable=SC2016,SC2317
set -euo pipefail
# shellcheck source=lib/setup.bash
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/setup.bash"

VERBS=(inspect verify lint mint keygen)
ALGS=(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA HS256 HS384 HS512)
NOW=1700000000

# ---- the command ------------------------------------------------------------

for h in --help -h; do
  run "$CG" "$h"
  check "claimgate $h: exit 0, usage on stdout" 0 '^usage: claimgate <command>' '@empty'
done
for v in "${VERBS[@]}"; do
  check "claimgate --help lists $v" 0 "^  $v "
done
run "$CG" --version
check "--version: exit 0, 'claimgate X.Y.Z'" 0 '^claimgate [0-9]+\.[0-9]+\.[0-9]+' '@empty'
ok "--version: one line" line_count 1 "$OUT"
run "$CG"
check "no verb: exit 2, usage on stderr, nothing on stdout" 2 '@empty' '^usage: claimgate'
run "$CG" frobnicate
check "unknown verb: exit 2, message, nothing on stdout" 2 '@empty' \
  "^claimgate: unknown command 'frobnicate'"
run "$CG" Verify -p x
check "verbs are case-sensitive: 'Verify' is unknown" 2 '@empty' "^claimgate: unknown command"

for v in "${VERBS[@]}"; do
  for h in --help -h; do
    run "$CG" "$v" "$h"
    check "$v $h: exit 0, nothing on stderr" 0 '' '@empty'
    ok "$v $h: first line is 'usage: claimgate $v'" \
      eval 'head -n1 "$OUT" | grep -q "^usage: claimgate $v "'
  done
  run "$CG" "$v" --frobnicate
  check "$v --frobnicate: exit 2, nothing on stdout" 2 '@empty'
  check "$v: unknown option message starts 'claimgate: $v:'" 2 '@empty' \
    "^claimgate: $v: .*frobnicate"
done

# ---- keygen -----------------------------------------------------------------

run "$CG" keygen -a ES256 --kid k1 -o k1.pem --jwks set.jwks.json
check "keygen: exit 0, the public JWK on stdout" 0 '^\{.*"kty": ?"EC".*\}$' '@empty'
cp "$OUT" k1.jwk
ok "keygen: the printed JWK is public (no d) and carries kid and alg" "$PY" -c '
import json, sys
k = json.load(open(sys.argv[1]))
assert "d" not in k and k["kid"] == "k1" and k["alg"] == "ES256" and k["crv"] == "P-256", k
' k1.jwk
ok "keygen: private key file has mode 0600" eval '[[ $(stat -c %a k1.pem) == 600 ]]'
ok "keygen: private key file is PEM" grep -q -- '-----BEGIN .*PRIVATE KEY-----' k1.pem
ok "keygen: private key file is not in the JWK Set" eval '! grep -q "\"d\"" set.jwks.json'

run bash -c 'umask 000 && exec "$0" keygen -a EdDSA -o open.pem' "$CG"
check "keygen under umask 000: exit 0" 0
ok "keygen under umask 000: still mode 0600" eval '[[ $(stat -c %a open.pem) == 600 ]]'

"$CG" keygen -a ES384 --kid k2 -o k2.pem --jwks set.jwks.json >/dev/null
ok "keygen --jwks adds to an existing set" "$PY" -c '
import json
ks = json.load(open("set.jwks.json"))["keys"]
assert [k["kid"] for k in ks] == ["k1", "k2"], ks
'

printf 'precious\n' >taken.pem
cp set.jwks.json set.before
run "$CG" keygen -a ES256 --kid k3 -o taken.pem --jwks set.jwks.json
check "keygen refuses to overwrite an existing key file: exit 2" 2 '@empty' \
  '^claimgate: keygen: .*taken\.pem'
ok "keygen refusal: the existing file is untouched" eval '[[ $(cat taken.pem) == precious ]]'
ok "keygen refusal: the JWK Set is untouched" same_file set.before set.jwks.json
ln -s nowhere.pem dangling.pem
run "$CG" keygen -a ES256 -o dangling.pem
check "keygen does not write through a dangling symlink" 2 '@empty' '^claimgate: keygen: '
ok "keygen: the symlink target was not created" eval '[[ ! -e nowhere.pem ]]'

run "$CG" keygen -a none -o none.pem
check "keygen -a none: exit 2" 2 '@empty' '^claimgate: keygen: .*none'
ok "keygen -a none: no file written" eval '[[ ! -e none.pem ]]'
run "$CG" keygen -a ES256
check "keygen without -o: exit 2" 2 '@empty'

# ---- mint -------------------------------------------------------------------

for bad in FOO none None es256 ''; do
  run "$CG" mint -k k1.pem -a "$bad" --sub x
  check "mint -a '$bad': exit 2, nothing on stdout" 2 '@empty' '^claimgate: mint: '
done
run "$CG" mint -k k1.pem -a RS256 --sub x
check "mint with a key that does not fit the alg: exit 2" 2 '@empty' '^claimgate: mint: '
run "$CG" mint -k no-such.pem -a ES256 --sub x
check "mint with a missing key file: exit 2" 2 '@empty' '^claimgate: mint: '
run "$CG" mint -k k1.pem -a ES256 --claims '[1]'
check "mint --claims not an object: exit 2" 2 '@empty' '^claimgate: mint: '
run "$CG" mint -k k1.pem -a ES256 --now "$NOW" --ttl 10m --jti j --sub s
check "mint: exit 0, one compact JWS on stdout" 0 \
  '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' '@empty'
tok=$(cat "$OUT")
run "$CG" inspect "$tok"
check "mint --now/--ttl: iat is now, exp is now + ttl" 0 '"exp": 1700000600'
check "mint --jti: given jti" 0 '"jti": "j"'

# ---- round trip for every algorithm -----------------------------------------

# policy ALLOWED-ALG JWKS: one issuer, one zone
policy() {
  cat <<YAML
version: 1
issuers:
  iss:
    issuer: https://issuer.example.com
    jwks_file: $2
    algorithms: [$1]
    max_lifetime: 1h
zones:
  api:
    audience: https://api.example.com
    accept: [iss]
    claims:
      sub: {}
YAML
}

n=${#ALGS[@]}
for i in "${!ALGS[@]}"; do
  alg=${ALGS[$i]}
  other=${ALGS[$(((i + 1) % n))]}
  run "$CG" keygen -a "$alg" --kid "kid-$alg" -o "$alg.key" --jwks "$alg.jwks.json"
  check "$alg: keygen" 0 '' '@empty'
  cp "$OUT" "$alg.jwk"
  policy "$alg" "$alg.jwks.json" >"allow-$alg.yaml"
  policy "$other" "$alg.jwks.json" >"other-$alg.yaml"
  run "$CG" mint -k "$alg.key" -a "$alg" --kid "kid-$alg" --iss https://issuer.example.com \
    --aud https://api.example.com --sub "user-$alg" --now "$NOW"
  check "$alg: mint" 0 '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' '@empty'
  tok=$(cat "$OUT")
  run "$CG" verify -p "allow-$alg.yaml" --now $((NOW + 1)) --json "$tok"
  check "$alg: verify with a policy allowing $alg: allow" 0 '"decision":"allow"' '@empty'
  ok "$alg: provenance alg, kid, jkt (RFC 7638) and claims" pyj '
d = L[0]
p = d["provenance"]
assert d["claims"] == {"sub": "user-" + A[0]}, d
assert p["alg"] == A[0] and p["kid"] == "kid-" + A[0], p
assert p["jkt"] == A[1], (p["jkt"], A[1])
' "$alg" "$(jkt_of "$alg.jwk")"
  run "$CG" verify -p "other-$alg.yaml" --now $((NOW + 1)) "$tok"
  check "$alg: verify with a policy allowing only $other: alg_not_allowed" 1 \
    '^deny alg_not_allowed zone=api: '
done

# A key of one family presented under another alg of the same family.
run "$CG" mint -k RS256.key -a PS256 --kid kid-RS256 --iss https://issuer.example.com \
  --aud https://api.example.com --sub x --now "$NOW"
check "mint PS256 with the RS256 key" 0
tok=$(cat "$OUT")
policy "RS256, PS256" RS256.jwks.json >rsps.yaml
run "$CG" verify -p rsps.yaml --now $((NOW + 1)) "$tok"
check "PS256 token, RSA JWK with alg RS256: key_not_found (the JWK's alg binds)" 1 \
  '^deny key_not_found zone=api: '

finish
