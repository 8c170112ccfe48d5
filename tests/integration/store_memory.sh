#!/usr/bin/env bash
# store_memory.sh - revocation with the memory store: `claimgate revoke`
# appends to the policy's revocations_file, a running `claimgate serve`
# sees it within about a second (measured and printed), `--list` shows it
# and reports a broken file with its line and column, a broken file makes
# serve fail closed (503 store_unavailable) until it is fixed, and a
# policy whose revocations_file is missing or invalid does not load.
#
# Environment: CG_BINARY (the claimgate binary). CG_VERBOSE=1 lists every
# passing check on stderr.
set -euo pipefail
work=$(mktemp -d)
trap 'srv_cleanup; rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/check.bash"
. "$here/server_lib.bash"
cd "$work"

ms_now() { date +%s%3N; }

"$CG" keygen -a ES256 --kid k1 -o sso.pem --jwks sso.jwks.json >/dev/null
: >revoked.jsonl
cat >policy.yaml <<'YAML'
version: 1
store:
  type: memory
  revocations_file: revoked.jsonl
issuers:
  sso:
    issuer: https://sso.example.com
    jwks_file: sso.jwks.json
    algorithms: [ES256]
    max_lifetime: 10m
zones:
  plain:
    audience: api
    accept: [sso]
    leeway: 30s
    claims:
      sub: {}
YAML
mint() { "$CG" mint -k sso.pem -a ES256 --kid k1 --iss https://sso.example.com --aud api "$@"; }
decide() { # TOKEN: "CODE REASON"
	local code
	code=$(curl -sS --max-time 10 -o "$work/.d" -w '%{http_code}' \
		-H "Authorization: Bearer $1" "$SRV_URL/v1/authorize?zone=plain" 2>/dev/null) || code=000
	printf '%s %s\n' "$code" \
		"$(sed -n 's/^{"decision":"[a-z]*","reason":"\([a-z_]*\)".*/\1/p' "$work/.d")"
}
is_decision() { # WANT TOKEN
	local got
	got=$(decide "$2")
	[[ $got == "$1" ]] && return 0
	echo "got [$got], expected [$1]"
	return 1
}

# ---- load-time checks ---------------------------------------------------------

sed 's/revoked.jsonl/missing.jsonl/' policy.yaml >missing.yaml
run "$CG" lint -p missing.yaml
check "a missing revocations_file fails the load" 2 @empty 'missing.yaml:4:21: store.revocations_file: .*missing.jsonl: No such file'
printf '{"issuer":"sso","sub":"a"}\n{"issuer":"sso","jti":1}\n' >bad.jsonl
sed 's/revoked.jsonl/bad.jsonl/' policy.yaml >bad.yaml
run "$CG" lint -p bad.yaml
check "an invalid revocations_file fails the load with file:line:column" 2 @empty 'bad.jsonl:2:1: "jti" must be a non-empty string'
run "$CG" serve -p bad.yaml -n
check "serve -n refuses it too" 2 @empty 'bad.jsonl:2:1:'

# ---- revoke, seen by a running serve ---------------------------------------------------

serve_start -p policy.yaml --threads 2
T=$(mint --sub alice --ttl 5m)
ok "before: allowed" is_decision "200 ok" "$T"
t0=$(ms_now)
run "$CG" revoke -p policy.yaml --issuer sso --sub alice --reason "left"
t1=$(ms_now)
check "revoke --sub appends to the file" 0 '^revoked: issuer sso sub alice until ' @empty
ok "the file has the line" grep -q '^{"issuer":"sso","sub":"alice","reason":"left","at":[0-9]*,"expires":[0-9]*}$' revoked.jsonl
seen=
for ((i = 0; i < 300; i++)); do
	if [[ $(decide "$T") == "401 revoked" ]]; then seen=$(ms_now); break; fi
	sleep 0.01
done
echo "revocations_file: serve saw the revocation $((${seen:-0} - t1)) ms after \`claimgate revoke\` returned" >&2
ok "serve sees it" test -n "$seen"
ok "within 1.5 s ($((${seen:-99999999999999} - t1)) ms; the file is checked once a second)" \
	test $((${seen:-99999999999999} - t1)) -le 1500
ok "other subjects unaffected" is_decision "200 ok" "$(mint --sub bob --ttl 5m)"
# Lifetime: max_lifetime 10m + 2 x leeway 30s.
ok "the entry lives max_lifetime + 2 x leeway" "$PY" -c 'import json, sys
e = json.loads(open("revoked.jsonl").readline())
sys.exit(0 if e["expires"] - e["at"] == 660 else 1)'

run "$CG" revoke -p policy.yaml --list
check "revoke --list" 0 '^sso sub alice revoked=.* expires=.* reason="left"$' @empty

# ---- a broken file: fail closed until fixed ------------------------------------------------

printf 'not json\n' >>revoked.jsonl
bad=
for ((i = 0; i < 300; i++)); do
	if [[ $(decide "$(mint --sub carol --ttl 5m)") == "503 store_unavailable" ]]; then bad=1; break; fi
	sleep 0.02
done
ok "a broken file: 503 store_unavailable" test -n "$bad"
run "$CG" revoke -p policy.yaml --list
check "revoke --list reports where" 2 @empty 'revoked.jsonl:2:[0-9]+: not a JSON object'
# Fixed (atomically, with mv): answers again, and still revokes alice.
grep -v 'not json' revoked.jsonl >fixed.jsonl
mv fixed.jsonl revoked.jsonl
fixed=
for ((i = 0; i < 300; i++)); do
	if [[ $(decide "$(mint --sub carol --ttl 5m)") == "200 ok" ]]; then fixed=1; break; fi
	sleep 0.02
done
ok "fixed: allowed again" test -n "$fixed"
ok "fixed: alice still revoked" is_decision "401 revoked" "$T"
# Emptied: nothing revoked.
: >revoked.jsonl
cleared=
for ((i = 0; i < 300; i++)); do
	if [[ $(decide "$T") == "200 ok" ]]; then cleared=1; break; fi
	sleep 0.02
done
ok "emptied: alice allowed again" test -n "$cleared"

# ---- the CLI without a revocation source ---------------------------------------------------

sed '/^store:/,/revocations_file/d' policy.yaml >nostore.yaml
run "$CG" revoke -p nostore.yaml --issuer sso --sub x
check "revoke with a policy that keeps no revocations: exit 2" 2 @empty 'keeps no revocations'

serve_stop
ok "serve stopped cleanly" test "$SRV_RC" -eq 0
ok "no sanitizer report from serve" not_in 'Sanitizer' "$work/serve.err"

finish
