#!/usr/bin/env bash
# cli_lint.sh - `claimgate lint -p POLICY`: a clean policy is exit 0 with
# no output; each finding listed by `claimgate lint --help` is triggered by
# a policy of its own and reported once, as file:line:column at the line
# of the offending element (exit 1); a policy that does not load is exit 2.
#
# Environment: CG_BINARY (the claimgate binary), CG_SOURCE_DIR (the repo,
# for examples/policy.yaml). CG_VERBOSE=1 lists every passing check.
# Predicates handed to `ok` are single-quoted for eval, on purpose.
# shellcheck disable=SC2016,SC2317
set -euo pipefail
# shellcheck source=lib/setup.bash
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/setup.bash"
src=${CG_SOURCE_DIR:-$(cd "$here/../.." && pwd)}

# ---- keys -------------------------------------------------------------------

"$CG" keygen -a ES256 --kid a1 -o a.pem --jwks a.jwks.json >/dev/null
"$CG" keygen -a ES256 --kid b1 -o b.pem --jwks b.jwks.json >/dev/null
"$CG" keygen -a HS256 --kid h1 -o h.key --jwks h.jwks.json >/dev/null
cp a.jwks.json a-copy.jwks.json # the same public key, another file
cp h.jwks.json h-copy.jwks.json # the same HMAC secret, another file

# A 1024-bit RSA key as a JWK: in a set next to a good key, and alone.
openssl genrsa -out weak.pem 1024 2>/dev/null
"$CG" keygen -a RS256 --kid good-1 -o good.pem --jwks weak.jwks.json >/dev/null
"$PY" - weak.pem weak.jwks.json weakonly.jwks.json <<'PY'
import base64, json, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
pub = load_pem_private_key(open(sys.argv[1], "rb").read(), None).public_key()
n = pub.public_numbers()
assert pub.key_size == 1024
b = lambda i: base64.urlsafe_b64encode(i.to_bytes((i.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
jwk = {"kty": "RSA", "kid": "weak-1", "alg": "RS256", "use": "sig", "n": b(n.n), "e": b(n.e)}
s = json.load(open(sys.argv[2]))
s["keys"].append(jwk)
json.dump(s, open(sys.argv[2], "w"), indent=2)
json.dump({"keys": [jwk]}, open(sys.argv[3], "w"), indent=2)
PY

# issuer NAME ISS JWKS ALGS [extra line]: one issuer entry
issuer() {
  printf '  %s:\n    issuer: %s\n    jwks_file: %s\n    algorithms: [%s]\n' "$1" "$2" "$3" "$4"
  if [[ -n ${5-} ]]; then printf '    %s\n' "$5"; fi
}

# lint_finding DESC FILE LINE-REGEX MESSAGE-REGEX: exactly one finding,
# at that line, on stdout; exit 1; the count on stderr.
lint_finding() {
  run "$CG" lint -p "$2"
  check "$1: exit 1, reported at $2:$3" 1 "^${2//./\\.}:($3):[0-9]+: .*$4" \
    '^claimgate: lint: 1 finding$'
  ok "$1: exactly one line" line_count 1 "$OUT"
}

# ---- a clean policy ---------------------------------------------------------

{
  echo 'version: 1'
  echo 'issuers:'
  issuer a https://a.example.com a.jwks.json ES256 'max_lifetime: 1h'
  issuer b https://b.example.com b.jwks.json ES256 'max_lifetime: 10m'
  issuer h https://h.example.com h.jwks.json HS256 'max_lifetime: 5m'
  cat <<'YAML'
zones:
  api:
    audience: https://api.example.com
    accept: [a]
    leeway: 60s
    claims:
      sub: {}
  both:
    audience: https://both.example.com
    accept: [a, b]
    claims:
      sub: { from: [a, b] }
      tenant: { claim: tid, from: [a] }
  internal:
    audience: https://internal.example.com
    accept: [h]
    max_age: 2m
    claims:
      sub: {}
YAML
} >clean.yaml
run "$CG" lint -p clean.yaml
check "clean policy (leeway 60s, HS256 with max_age, claims with from): exit 0, no output" \
  0 '@empty' '@empty'
run "$CG" lint --policy clean.yaml
check "clean policy, --policy long form: exit 0" 0 '@empty' '@empty'

# The bundled example, with keys made the way scripts/demo.sh makes them.
if [[ -f $src/examples/policy.yaml ]]; then
  mkdir -p example/keys
  cp "$src/examples/policy.yaml" example/
  "$CG" keygen -a RS256 --kid corp-2026 -o example/keys/corp-sso.pem \
    --jwks example/keys/corp-sso.jwks.json >/dev/null
  "$CG" keygen -a EdDSA --kid sts-1 -o example/keys/gateway-sts.pem \
    --jwks example/keys/gateway-sts.jwks.json >/dev/null
  run "$CG" lint -p example/policy.yaml
  check "examples/policy.yaml with demo keys: exit 0, no findings" 0 '@empty' '@empty'
fi

# ---- one policy per finding -------------------------------------------------

{
  echo 'version: 1'
  echo 'issuers:'
  issuer sso https://sso.example.com weak.jwks.json RS256 'max_lifetime: 1h'
  printf 'zones:\n  api:\n    audience: https://api.example.com\n    accept: [sso]\n'
} >skipped.yaml
lint_finding "1024-bit RSA key skipped" skipped.yaml \
  "$(line_of 'jwks_file: weak.jwks.json' skipped.yaml)" 'weak-1.*1024'
run "$CG" verify -p skipped.yaml --now 1700000000 "x.y.z"
check "verify warns about the skipped key on stderr, naming its kid" 1 '' \
  '^claimgate: verify: warning: .*weak-1'

{
  echo 'version: 1'
  echo 'issuers:'
  issuer sso https://sso.example.com weakonly.jwks.json RS256 'max_lifetime: 1h'
  printf 'zones:\n  api:\n    audience: https://api.example.com\n    accept: [sso]\n'
} >weakonly.yaml
run "$CG" lint -p weakonly.yaml
check "a set whose only key is skipped: exit 1, the key and the empty set reported" 1 \
  "^weakonly\\.yaml:$(line_of 'jwks_file:' weakonly.yaml):[0-9]+: .*weak-1.*1024"
check "a set whose only key is skipped: 'no usable key' reported" 1 'no usable key'
ok "the set-level 'no usable key' finding names no key that does not exist" \
  eval '! grep -E "key 1 .*no usable key" "$OUT"'

{
  echo 'version: 1'
  echo 'issuers:'
  issuer h https://h.example.com h.jwks.json HS256 'max_lifetime: 5m'
  cat <<'YAML'
zones:
  fresh:
    audience: https://fresh.example.com
    accept: [h]
    max_age: 5m
  hs-api:
    audience: https://api.example.com
    accept: [h]
YAML
} >hs-noage.yaml
lint_finding "zone accepting HS256 without max_age" hs-noage.yaml \
  "$(line_of '  hs-api:' hs-noage.yaml)" 'hs-api.*max_age'

{
  echo 'version: 1'
  echo 'issuers:'
  issuer a https://a.example.com a.jwks.json ES256 'max_lifetime: 1h'
  cat <<'YAML'
zones:
  api:
    audience: https://api.example.com
    accept: [a]
    max_age: 5m
    leeway: 90s
    claims:
      sub: {}
YAML
} >leeway.yaml
lint_finding "leeway 90s" leeway.yaml "$(line_of 'leeway: 90s' leeway.yaml)" 'leeway.*90'

{
  echo 'version: 1'
  echo 'issuers:'
  issuer a https://a.example.com a.jwks.json ES256 'max_lifetime: 1h'
  issuer forever https://forever.example.com b.jwks.json ES256
  printf 'zones:\n  api:\n    audience: https://api.example.com\n    accept: [a, forever]\n'
} >nolife.yaml
lint_finding "issuer without max_lifetime" nolife.yaml \
  "$(line_of '  forever:' nolife.yaml)" 'forever.*max_lifetime'

{
  echo 'version: 1'
  echo 'issuers:'
  issuer a https://a.example.com a.jwks.json ES256 'max_lifetime: 1h'
  issuer b https://b.example.com b.jwks.json ES256 'max_lifetime: 1h'
  cat <<'YAML'
zones:
  api:
    audience: https://api.example.com
    accept: [a, b]
    claims:
      tenant: { claim: tid, from: [a] }
      sub: {}
      email: { from: [a, b] }
YAML
} >nofrom.yaml
lint_finding "trusted claim without from, zone accepting two issuers" nofrom.yaml \
  "$(line_of '      sub: {}' nofrom.yaml)" 'sub.*from'

{
  echo 'version: 1'
  echo 'issuers:'
  issuer prod https://prod.example.com a.jwks.json ES256 'max_lifetime: 1h'
  issuer staging https://staging.example.com a-copy.jwks.json ES256 'max_lifetime: 1h'
  printf 'zones:\n  api:\n    audience: https://api.example.com\n    accept: [prod]\n'
} >samekey.yaml
lint_finding "the same public key under two issuers" samekey.yaml \
  "$(line_of 'jwks_file: a.jwks.json' samekey.yaml)|$(line_of 'jwks_file: a-copy.jwks.json' samekey.yaml)" \
  '(prod.*staging|staging.*prod)'
check "the same public key: the message gives the key's thumbprint" 1 \
  "$(jkt_of <("$PY" -c 'import json; print(json.dumps(json.load(open("a.jwks.json"))["keys"][0]))'))"

{
  echo 'version: 1'
  echo 'issuers:'
  issuer hr https://hr.example.com h.jwks.json HS256 'max_lifetime: 5m'
  issuer payroll https://payroll.example.com h-copy.jwks.json HS256 'max_lifetime: 5m'
  printf 'zones:\n  api:\n    audience: https://api.example.com\n    accept: [hr]\n    max_age: 5m\n'
} >samesecret.yaml
lint_finding "the same HMAC secret under two issuers" samesecret.yaml \
  "$(line_of 'jwks_file: h.jwks.json' samesecret.yaml)|$(line_of 'jwks_file: h-copy.jwks.json' samesecret.yaml)" \
  '(hr.*payroll|payroll.*hr)'
check "the same HMAC secret: said to be an HMAC secret" 1 'HMAC'
ok "the same HMAC secret: the secret itself is not printed" \
  not_in "$("$PY" -c 'import json; print(json.load(open("h.key"))["k"])')" "$OUT" "$ERR"

# Two findings in one policy: two lines, the count on stderr.
{
  cat nolife.yaml
  printf '    leeway: 2m\n'
} >two.yaml
run "$CG" lint -p two.yaml
check "two findings: exit 1, count on stderr" 1 '' '^claimgate: lint: 2 findings$'
ok "two findings: two lines" line_count 2 "$OUT"

# ---- the policy does not load: exit 2 ---------------------------------------

printf 'version: 1\nissuers:\n  a: [unclosed\n' >broken.yaml
run "$CG" lint -p broken.yaml
check "YAML syntax error: exit 2, file:line:column on stderr, nothing on stdout" 2 '@empty' \
  '^claimgate: lint: broken\.yaml:[0-9]+:[0-9]+: '
sed 's/accept: \[a, b\]/accept: [a, nobody]/' nofrom.yaml >unknown-issuer.yaml
run "$CG" lint -p unknown-issuer.yaml
check "unknown issuer in accept: exit 2, at its line" 2 '@empty' \
  "^claimgate: lint: unknown-issuer\\.yaml:$(line_of 'accept: [a, nobody]' unknown-issuer.yaml):[0-9]+: .*nobody"
sed 's/algorithms: \[ES256\]/algorithms: [ES256, None]/' clean.yaml >alg-none.yaml
run "$CG" lint -p alg-none.yaml
check "algorithm None in a policy: exit 2" 2 '@empty' \
  "^claimgate: lint: alg-none\\.yaml:$(line_of 'None' alg-none.yaml):[0-9]+: "
echo 'not json' >junk.jwks.json
sed 's/b\.jwks\.json/junk.jwks.json/' clean.yaml >junk-keys.yaml
run "$CG" lint -p junk-keys.yaml
check "key set that is not JSON: exit 2, naming the file" 2 '@empty' \
  '^claimgate: lint: junk-keys\.yaml:[0-9]+:[0-9]+: .*junk\.jwks\.json'
run "$CG" lint -p no-such-policy.yaml
check "missing policy file: exit 2" 2 '@empty' '^claimgate: lint: .*no-such-policy\.yaml'
run "$CG" lint
check "no -p: exit 2" 2 '@empty' '^claimgate: lint: '
run "$CG" lint -p clean.yaml extra
check "extra argument: exit 2" 2 '@empty'
run "$CG" lint --help
check "--help: exit 0" 0 '^usage: claimgate lint' '@empty'

finish
