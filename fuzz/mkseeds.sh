#!/usr/bin/env bash
# Regenerates the token seeds of the fuzz corpora and fuzz/keys/minted.txt
# (the tokens the fuzz targets know they signed). Run it after changing
# fuzz/keys/ or the fixed policy in fuzz/fuzz_common.c:
#   fuzz/mkseeds.sh [path/to/claimgate]
# The claimgate binary comes from a normal build (default: build/release).
# Tokens are minted at a fixed time (--now 1700000000) and the targets
# decide at 1700000060, so the seeds never expire.
#
# Writes fuzz/corpus/token/{valid,deny}-*.jwt with `claimgate mint`, then
# fuzz/mkseeds.py adds the attack tokens (alg none, padding, duplicate
# members, deep nesting, key injection, ...) and the route seeds. The other
# corpora (b64url, jwks, policy) are hand-written files, kept as they are.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cg=${1:-${CG_BINARY:-$top/build/release/claimgate}}
[ -x "$cg" ] || { echo "mkseeds: no claimgate binary at $cg" >&2; exit 2; }
keys=$top/fuzz/keys
out=$top/fuzz/corpus/token
minted=$keys/minted.txt
now=1700000000
idp=https://idp.fuzz.example
hmac=https://hmac.fuzz.example
api=https://api.fuzz.example
exact=https://exact.fuzz.example

mkdir -p "$out"
rm -f "$out"/valid-*.jwt "$out"/deny-*.jwt "$out"/attack-*.jwt
{
  echo "# Tokens signed with fuzz/keys that parse and verify (fuzz/mkseeds.sh)."
  echo "# A fuzzed token that verifies or is allowed must be one of these."
} >"$minted"

# mint NAME KEYFILE ALG [mint options...]: one token, listed in minted.txt.
mint() {
  local name=$1 key=$2 alg=$3
  shift 3
  local tok
  tok=$("$cg" mint -k "$keys/$key" -a "$alg" --now "$now" "$@")
  printf '%s' "$tok" >"$out/$name.jwt"
  printf '%s %s\n' "$name" "$tok" >>"$minted"
}

base='"sub":"alice","tid":"acme","scope":"r:read r:write","groups":"ops,dev","email":"alice@fuzz.example"'

# Allowed in zone api (one per algorithm), exact and open.
mint valid-rs256 rs.pem RS256 --kid rs1 --iss $idp --aud $api --jti v-rs256 --claims "{$base}"
mint valid-ps256 rs.pem PS256 --kid rs1 --iss $idp --aud $api --jti v-ps256 --claims "{$base}"
mint valid-es256 es.pem ES256 --kid es1 --iss $idp --aud $api --jti v-es256 --claims "{$base}"
mint valid-eddsa ed.pem EdDSA --kid ed1 --iss $idp --aud $api --jti v-eddsa \
  --claims "{$base,\"act\":{\"sub\":\"agent-1\",\"act\":{\"sub\":\"agent-0\"}}}"
mint valid-hs256 hs.jwk.json HS256 --kid hs1 --typ at+jwt --iss $hmac --aud $api --jti v-hs256 --claims "{$base}"
mint valid-hs256-apptyp hs.jwk.json HS256 --typ application/AT+JWT --iss $hmac --aud "$api" \
  --jti v-hs256-apptyp --claims "{$base}"
mint valid-rs256-nokid-exact rs.pem RS256 --iss $idp --jti v-exact \
  --claims "{\"sub\":\"alice\",\"aud\":[\"$exact\"],\"lvl\":3}"
mint valid-hs256-open hs.jwk.json HS256 --kid hs1 --typ at+jwt --iss $hmac --aud open --jti v-open \
  --claims '{"sub":"bob","data":["a","b",1,null,{"x":1},"c"],"num":12.5,"flag":true,"obj":{"k":"v"}}'
mint valid-hs256-open-ctl hs.jwk.json HS256 --kid hs1 --typ at+jwt --iss $hmac --aud open --jti v-open-ctl \
  --claims '{"sub":"eve\r\nX-Injected: 1","data":["ok","bad\nline","del\u007f"],"num":1e308,"flag":false,"obj":"tab\there"}'

# Signed and verified, then denied by a later step of the decision table.
mint deny-expired rs.pem RS256 --kid rs1 --iss $idp --aud $api --jti d1 --ttl 10s --claims "{$base}"
mint deny-nbf-future es.pem ES256 --kid es1 --iss $idp --aud $api --jti d2 --claims "{$base,\"nbf\":$((now + 3600))}"
mint deny-iat-future ed.pem EdDSA --kid ed1 --iss $idp --aud $api --jti d3 \
  --claims "{$base,\"iat\":$((now + 3600)),\"exp\":$((now + 3900))}"
mint deny-lifetime rs.pem RS256 --kid rs1 --iss $idp --aud $api --jti d4 --ttl 2h --claims "{$base}"
mint deny-too-old rs.pem RS256 --kid rs1 --iss $idp --aud $api --jti d5 \
  --claims "{$base,\"iat\":$((now - 1200)),\"exp\":$((now + 600))}"
mint deny-aud es.pem ES256 --kid es1 --iss $idp --aud https://other.fuzz.example --jti d6 --claims "{$base}"
mint deny-aud-exact-multi rs.pem RS256 --iss $idp --jti d7 \
  --claims "{\"sub\":\"alice\",\"aud\":[\"$exact\",\"$api\"]}"
mint deny-tenant-pattern hs.jwk.json HS256 --kid hs1 --typ at+jwt --iss $hmac --aud $api --jti d8 \
  --claims '{"sub":"alice","tid":"ACME!","scope":"r:read"}'
mint deny-forbidden ed.pem EdDSA --kid ed1 --iss $idp --aud $api --jti d9 \
  --claims '{"sub":"alice","tid":"acme","scope":"r:other admin"}'
mint deny-act-deep ed.pem EdDSA --kid ed1 --iss $idp --aud $api --jti d10 \
  --claims "{$base,\"act\":{\"sub\":\"a\",\"act\":{\"sub\":\"b\",\"act\":{\"sub\":\"c\"}}}}"
mint deny-act-invalid ed.pem EdDSA --kid ed1 --iss $idp --aud $api --jti d11 \
  --claims "{$base,\"act\":{\"sub\":7}}"
mint deny-exp-string rs.pem RS256 --kid rs1 --iss $idp --aud $api --jti d12 \
  --claims "{$base,\"exp\":\"$((now + 300))\"}"
mint deny-exp-huge es.pem ES256 --kid es1 --iss $idp --aud $api --jti d13 \
  --claims "{$base,\"exp\":1e300}"
mint deny-iss-untrusted rs.pem RS256 --kid rs1 --iss https://evil.fuzz.example --aud $api --jti d14 --claims "{$base}"
mint deny-iss-number rs.pem RS256 --kid rs1 --aud $api --jti d15 --claims "{$base,\"iss\":42}"
mint deny-alg-not-allowed hs.jwk.json HS256 --kid hs1 --iss $idp --aud $api --jti d16 --claims "{$base}"
mint deny-typ-missing hs.jwk.json HS256 --kid hs1 --iss $hmac --aud $api --jti d17 --claims "{$base}"
mint deny-remote-keys rs.pem RS256 --kid rs1 --iss https://remote.fuzz.example --aud $api --jti d18 --claims "{$base}"
mint deny-sub-missing es.pem ES256 --kid es1 --iss $idp --aud $api --jti d19 \
  --claims '{"tid":"acme","scope":"r:read"}'
mint deny-aud-empty-array rs.pem RS256 --kid rs1 --iss $idp --jti d20 --claims "{$base,\"aud\":[]}"
mint deny-sub-not-exact rs.pem RS256 --iss $idp --jti d21 \
  --claims "{\"sub\":\"mallory\",\"aud\":\"$exact\"}"

/usr/bin/python3 "$top/fuzz/mkseeds.py" "$top/fuzz"
echo "mkseeds: $(grep -vc '^#' "$minted") minted tokens;" \
  "$(ls "$out" | wc -l) token seeds; $(ls "$top/fuzz/corpus/route" | wc -l) route seeds"
