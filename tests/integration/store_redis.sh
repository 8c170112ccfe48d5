#!/usr/bin/env bash
# store_redis.sh - two `claimgate serve` instances sharing one real
# redis-server (issue 6 items 2-5):
#   - the same jti sent to both instances, 50 requests at once: exactly one
#     allow, every other answer `replayed`;
#   - `claimgate revoke` seen by both instances within 1 s (measured and
#     printed), `revoke --list`;
#   - Redis killed mid-test: every decision that needs the store is 503
#     store_unavailable with Retry-After, each within the timeout, counted
#     in /metrics; a jti sent during the outage is not used up;
#   - Redis started again on the same port: both instances recover without
#     a restart (time printed);
#   - entries expire: the replay key at exp + leeway, a revocation at the
#     end of its lifetime (max_lifetime + 2 x leeway, or --ttl).
# Redis runs on a free loopback port with --save '' --appendonly no and is
# stopped by the EXIT trap, like both instances. Skipped (0 passed) when
# redis-server is not installed.
#
# Environment: CG_BINARY (the claimgate binary). CG_VERBOSE=1 lists every
# passing check on stderr.
set -euo pipefail
work=$(mktemp -d)
REDIS_PID=
redis_stop() {
	if [[ -n $REDIS_PID ]]; then
		kill -CONT "$REDIS_PID" 2>/dev/null || true
		kill -KILL "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
		REDIS_PID=
	fi
}
trap 'srv_cleanup; redis_stop; rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/check.bash"
. "$here/server_lib.bash"
cd "$work"

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	echo "redis-server not installed: skipped" >&2
	finish
fi

ms_now() { date +%s%3N; }

RPORT=$(free_port)
redis_start() {
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
		>>"$work/redis.log" 2>&1 &
	REDIS_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		if redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG; then return 0; fi
		sleep 0.05
	done
	echo "redis-server did not start:" >&2
	tail -n 20 "$work/redis.log" >&2
	return 1
}
rcli() { redis-cli -p "$RPORT" "$@"; }
redis_start

# ---- keys, policy, two instances -------------------------------------------

"$CG" keygen -a ES256 --kid k1 -o sso.pem --jwks sso.jwks.json >/dev/null
# The store timeout: 200 ms rather than the 50 ms default, so that 50
# requests at once against two sanitizer builds on a small CI machine
# never take a slow scheduler for a slow Redis.
cat >policy.yaml <<YAML
version: 1
store:
  type: redis
  url: redis://127.0.0.1:$RPORT/0
  key_prefix: "it:"
  timeout: 200ms
issuers:
  sso:
    issuer: https://sso.example.com
    jwks_file: sso.jwks.json
    algorithms: [ES256]
    max_lifetime: 1h
  short:
    issuer: https://short.example.com
    jwks_file: sso.jwks.json
    algorithms: [ES256]
    max_lifetime: 2s
zones:
  pay:
    audience: api
    accept: [sso, short]
    replay: reject
    leeway: 0s
    claims:
      sub: {}
  plain:
    audience: api
    accept: [sso, short]
    leeway: 0s
    claims:
      sub: {}
YAML

mint() { # ISSUER-HOST [mint options...]
	local iss=$1
	shift
	"$CG" mint -k sso.pem -a ES256 --kid k1 --iss "https://$iss.example.com" \
		--aud api "$@"
}

serve_start -p policy.yaml --threads 4
A_PID=$SRV_PID
A=$SRV_URL
bg_track "$A_PID"
SRV_PID=
serve_start -p policy.yaml --threads 4
B_PID=$SRV_PID
B=$SRV_URL

# status and reason of one decision: "CODE REASON"
decide() { # URL ZONE TOKEN
	local out code
	out=$(curl -sS --max-time 10 -o "$work/.d" -w '%{http_code}' \
		-H "Authorization: Bearer $3" "$1/v1/authorize?zone=$2" 2>/dev/null) || out=000
	code=$out
	printf '%s %s\n' "$code" \
		"$(sed -n 's/^{"decision":"[a-z]*","reason":"\([a-z_]*\)".*/\1/p' "$work/.d")"
}
is_decision() { # WANT URL ZONE TOKEN
	local got
	got=$(decide "$2" "$3" "$4")
	[[ $got == "$1" ]] && return 0
	echo "got [$got], expected [$1]"
	return 1
}

# ---- replay: one jti, two instances, 50 requests at once ------------------------

T=$(mint sso --sub alice --jti "race-$$" --ttl 60s)
mkdir race
curls=()
for i in $(seq 1 50); do
	if ((i % 2)); then u=$A; else u=$B; fi
	curl -sS --max-time 20 -o "race/$i.body" -w '%{http_code}\n' \
		-H "Authorization: Bearer $T" "$u/v1/authorize?zone=pay" \
		>"race/$i.code" 2>/dev/null &
	curls+=("$!")
done
for pid in "${curls[@]}"; do wait "$pid" || true; done
allowed=$(cat race/*.code | grep -c '^200$' || true)
replayed=$(grep -l '"reason":"replayed"' race/*.body | wc -l)
echo "race: 50 requests, $allowed allowed, $replayed replayed" >&2
if ((allowed + replayed != 50)); then
	for i in $(seq 1 50); do
		printf '%s %s\n' "$(cat "race/$i.code")" "$(head -c 200 "race/$i.body")"
	done | sort | uniq -c >&2
fi
ok "same jti, 50 concurrent requests over two instances: exactly one allow" \
	test "$allowed" -eq 1
ok "... and the 49 others are replayed (401)" test "$replayed" -eq 49
ok "a third instance-independent check: still replayed on A" \
	is_decision "401 replayed" "$A" pay "$T"
ok "... and on B" is_decision "401 replayed" "$B" pay "$T"
ok "the replay key lives in Redis under the hash tag {it:}" \
	test "$(rcli --scan --pattern '{it:}r:*' | grep -c '' || true)" -eq 1

# A jti is per zone: the plain zone (no replay) keeps allowing it.
ok "replay: off zone ignores the used jti" is_decision "200 ok" "$A" plain "$T"

# ---- revocation, seen by both within a second ------------------------------------

TV=$(mint sso --sub victim --jti "v-$$" --ttl 60s)
ok "before revocation: A allows" is_decision "200 ok" "$A" plain "$TV"
ok "before revocation: B allows" is_decision "200 ok" "$B" plain "$TV"
t0=$(ms_now)
run "$CG" revoke -p policy.yaml --issuer sso --sub victim --reason "integration test"
t1=$(ms_now)
check "revoke --sub exits 0" 0 '^revoked: issuer sso sub victim until ' @empty
seen_a= seen_b=
for ((i = 0; i < 200; i++)); do
	if [[ -z $seen_a ]] && [[ $(decide "$A" plain "$TV") == "401 revoked" ]]; then seen_a=$(ms_now); fi
	if [[ -z $seen_b ]] && [[ $(decide "$B" plain "$TV") == "401 revoked" ]]; then seen_b=$(ms_now); fi
	if [[ -n $seen_a && -n $seen_b ]]; then break; fi
	sleep 0.01
done
last=$(( ${seen_a:-99999999999999} > ${seen_b:-0} ? ${seen_a:-99999999999999} : ${seen_b:-0} ))
prop=$((last - t1))
echo "revocation propagation: seen by A after $((${seen_a:-0} - t1)) ms, by B after $((${seen_b:-0} - t1)) ms once \`claimgate revoke\` returned ($((t1 - t0)) ms for the command itself)" >&2
ok "revocation seen by both instances" test -n "$seen_a" -a -n "$seen_b"
ok "revocation seen by both within 1 s (${prop} ms)" test "$prop" -le 1000
ok "... and within 1 s of starting the command ($((last - t0)) ms)" \
	test $((last - t0)) -le 1000
ok "other subjects unaffected" is_decision "200 ok" "$B" plain "$(mint sso --sub bystander --ttl 60s)"

run "$CG" revoke -p policy.yaml --list
check "revoke --list shows it" 0 '^sso sub victim revoked=.* expires=.* reason="integration test"$' @empty
run "$CG" revoke -p policy.yaml --list --json
ok "revoke --list --json: one object" pyj 'assert len(L) == 1 and L[0]["sub"] == "victim" and L[0]["issuer"] == "sso", L'

# Lifetime: max_lifetime 1h + 2 x leeway 0 for sso.
key=$(rcli --scan --pattern '{it:}v:sub:*')
ttl=$(rcli ttl "$key")
ok "a sub revocation lives max_lifetime + 2 x leeway (3600 s; got $ttl)" \
	test "$ttl" -gt 3590 -a "$ttl" -le 3600

# Every kind: jti, kid, jkt, cut-off.
TJ=$(mint sso --sub j --jti "kill-me-$$" --ttl 60s)
run "$CG" revoke -p policy.yaml --issuer sso --jti "kill-me-$$"
check "revoke --jti" 0 '^revoked: issuer sso jti kill-me-'
ok "revoked jti denied on B" is_decision "401 revoked" "$B" plain "$TJ"
ok "revoked jti denied before replay" is_decision "401 revoked" "$A" pay "$TJ"
TC=$(mint sso --sub cut --ttl 60s)
TS=$(mint short --sub s --ttl 2s)
ok "issuer short: allowed before its cut-off" is_decision "200 ok" "$A" plain "$TS"
# A cut-off 30 s ahead: every token of short minted until then.
run "$CG" revoke -p policy.yaml --issuer short --issued-before $(($(date +%s) + 30))
check "revoke --issued-before (issuer short)" 0 '^revoked: issuer short issued_before '
ok "issuer sso unaffected by short's cut-off" is_decision "200 ok" "$A" plain "$TC"
ok "short's tokens issued before the cut-off are revoked" \
	is_decision "401 revoked" "$B" plain "$(mint short --sub s --ttl 2s)"
run "$CG" revoke -p policy.yaml --issuer nobody --jti x
check "revoke for an unknown issuer: exit 2" 2 @empty "no issuer named 'nobody'"
run "$CG" revoke -p policy.yaml --issuer sso --jti x --sub y
check "two kinds at once: exit 2" 2 @empty 'exactly one of'
run "$CG" revoke -p policy.yaml --issuer sso --jkt short
check "--jkt must be a thumbprint: exit 2" 2 @empty 'RFC 7638'
run "$CG" revoke --help
check "revoke --help" 0 '^usage: claimgate revoke -p POLICY --issuer NAME' @empty

# ---- Redis killed: fail closed; restarted: recovery ---------------------------------

TO=$(mint sso --sub outage --jti "outage-$$" --ttl 60s)
ok "before the outage: allowed" is_decision "200 ok" "$B" plain "$TO"
{ kill -KILL "$REDIS_PID" && wait "$REDIS_PID"; } 2>/dev/null || true
REDIS_PID=
worst=0
bad=0
for i in $(seq 1 10); do
	for u in "$A" "$B"; do
		s=$(ms_now)
		got=$(decide "$u" plain "$TO")
		d=$(($(ms_now) - s))
		((d > worst)) && worst=$d
		[[ $got == "503 store_unavailable" ]] || { bad=$((bad + 1)); echo "outage: got $got" >&2; }
	done
done
echo "Redis down: 20 decisions, slowest answered in $worst ms (curl included)" >&2
ok "Redis down: every decision is 503 store_unavailable" test "$bad" -eq 0
ok "Redis down: none waits much beyond the store timeout ($worst ms)" test "$worst" -le 1000
ok "Redis down: a replay zone fails closed too" \
	is_decision "503 store_unavailable" "$A" pay "$TO"
http GET "$A/v1/authorize?zone=plain" -H "Authorization: Bearer $TO"
ok "Redis down: Retry-After" hdr_eq Retry-After 5
ok "Redis down: detail" body_has '"detail":"revocation store cannot answer"'
metric() { # URL ZONE: the store_unavailable counter
	curl -sf "$1/metrics" | awk -v z="$2" '$1 == "claimgate_decisions_total{zone=\"" z "\",decision=\"deny\",reason=\"store_unavailable\"}" { print $2 }'
}
ma=$(metric "$A" plain)
mb=$(metric "$B" plain)
ok "store_unavailable counted in /metrics on A (11 = 10 + 1; got $ma)" test "${ma:-0}" -eq 11
ok "store_unavailable counted in /metrics on B (10; got $mb)" test "${mb:-0}" -eq 10
ok "/healthz still 200 while Redis is down" \
	curl -sf -o /dev/null --max-time 5 "$A/healthz"

redis_start
t0=$(ms_now)
rec_a= rec_b=
for ((i = 0; i < 300; i++)); do
	[[ -z $rec_a && $(decide "$A" plain "$TO") == "200 ok" ]] && rec_a=$(ms_now)
	[[ -z $rec_b && $(decide "$B" plain "$TO") == "200 ok" ]] && rec_b=$(ms_now)
	[[ -n $rec_a && -n $rec_b ]] && break
	sleep 0.05
done
echo "Redis restarted: A answers again after $((${rec_a:-0} - t0)) ms, B after $((${rec_b:-0} - t0)) ms" >&2
ok "recovery without restarting claimgate: A" test -n "$rec_a"
ok "recovery without restarting claimgate: B" test -n "$rec_b"
ok "recovery within 3 s" test $((${rec_a:-99999999999999} - t0)) -le 3000 -a $((${rec_b:-99999999999999} - t0)) -le 3000
ok "a jti sent during the outage was not used up" is_decision "200 ok" "$A" pay "$TO"
ok "... and is used now" is_decision "401 replayed" "$B" pay "$TO"
ok "both instances still the same processes" kill -0 "$A_PID" "$B_PID"

# ---- expiry -------------------------------------------------------------------------

# Replay entries live until exp + leeway (0 here).
TE=$(mint sso --sub e --jti "exp-$$" --ttl 2s)
ok "short-lived token: allowed once" is_decision "200 ok" "$A" pay "$TE"
ok "... replayed on B" is_decision "401 replayed" "$B" pay "$TE"
n_before=$(rcli --scan --pattern '{it:}r:*' | grep -c '' || true)
pttl=$(for k in $(rcli --scan --pattern '{it:}r:*'); do rcli pttl "$k"; done | sort -n | head -1)
ok "its replay key expires with the token (pttl $pttl ms <= 2000)" test "$pttl" -gt 0 -a "$pttl" -le 2000
# Revocations: by --ttl, and by the issuer's max_lifetime (2 s for short).
TR=$(mint sso --sub ttl-user --ttl 60s)
run "$CG" revoke -p policy.yaml --issuer sso --sub ttl-user --ttl 2s
check "revoke --ttl 2s" 0 '^revoked: '
ok "revoked for now" is_decision "401 revoked" "$A" plain "$TR"
run "$CG" revoke -p policy.yaml --issuer short --jti "short-$$"
check "revoke --jti (issuer short, max_lifetime 2s)" 0 '^revoked: '
short_ttl=$(rcli pttl "$(rcli --scan --pattern '{it:}v:jti:*' | while read -r k; do
	if rcli get "$k" | grep -q "short-$$"; then echo "$k"; fi; done)")
ok "its lifetime is max_lifetime + 2 x leeway = 2 s (pttl $short_ttl)" \
	test "$short_ttl" -gt 0 -a "$short_ttl" -le 2000
sleep 2.5
n_after=$(rcli --scan --pattern '{it:}r:*' | grep -c '' || true)
ok "the replay key is gone after exp + leeway ($n_before -> $n_after keys)" \
	test "$n_after" -eq $((n_before - 1))
ok "the --ttl revocation has lapsed: allowed again" is_decision "200 ok" "$B" plain "$TR"
run "$CG" revoke -p policy.yaml --list
ok "lapsed entries are not listed" not_in ttl-user "$OUT"
ok "... nor the short-lived jti" not_in "short-$$" "$OUT"

# No request ever waited on a dead Redis: the instances are still healthy
# and no sanitizer spoke.
ok "no sanitizer report from the instances" not_in 'Sanitizer' "$work/serve.err"

finish
