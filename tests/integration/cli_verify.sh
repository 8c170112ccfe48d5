#!/usr/bin/env bash
# cli_verify.sh - `claimgate verify` against contract section 4: -p, -z,
# --now (expiry edges), the readable and --json output (allow and deny
# shapes, provenance), standard-input mode (one token per line, CRLF,
# empty lines, replay, empty input, '-'), exit statuses 0/1/2 with the
# message conventions, the size limit, and no token data in deny output.
#
# Environment: CG_BINARY (the claimgate binary). CG_VERBOSE=1 lists every
# passing check on stderr.
# Predicates handed to `ok` are single-quoted for eval, on purpose.
# shellcheck disable=SC2016,SC2317
set -euo pipefail
# shellcheck source=lib/setup.bash
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/setup.bash"

# ---- keys, policies, tokens ------------------------------------------------

sso_keys
"$CG" keygen -a ES256 --kid k1 -o keys/rogue.pem >/dev/null # same kid, not trusted

cat >one.yaml <<'YAML'
version: 1
issuers:
  sso:
    issuer: https://sso.example.com
    jwks_file: keys/sso.jwks.json
    algorithms: [ES256]
    max_lifetime: 1h
zones:
  api:
    audience: https://api.example.com
    accept: [sso]
    replay: reject
    max_delegation: 2
    claims:
      sub: {}
      roles: { claim: scope, split: space, map: { "api:write": writer } }
YAML

{
  sed '/^zones:/,$d' one.yaml
  cat <<'YAML'
zones:
  api:
    audience: https://api.example.com
    accept: [sso]
    replay: reject
    claims:
      sub: {}
  open:
    audience: https://api.example.com
    accept: [sso]
    claims:
      sub: {}
YAML
} >two.yaml

# A policy error at a known place: line 7, column 5.
cat >bad.yaml <<'YAML'
version: 1
issuers:
  sso:
    issuer: https://sso.example.com
    jwks_file: keys/sso.jwks.json
    algorithms: [ES256]
    colour: blue
zones:
  api:
    audience: https://api.example.com
    accept: [sso]
YAML
# An unknown issuer in accept, at line 10.
sed -e '/colour/d' -e 's/accept: \[sso\]/accept: [sso, nobody]/' bad.yaml >bad-accept.yaml

NOW=1700000000
E=$((NOW + 300)) # exp of a token minted at NOW with the default ttl 5m
mint() { # [MINT OPTIONS...]: an sso token for the api zone, minted at NOW
  sso_mint https://api.example.com --now "$NOW" "$@"
}
T=$(mint --sub alice --scope "api:write openid" --jti j-alice)
T1=$(mint --sub u1 --jti s-1)
T2=$(mint --sub u2 --jti s-2)
T3=$(mint --sub u3 --jti s-3)
JKT=$(jkt_of keys/sso.jwk)

# ---- -p, -z, the readable format --------------------------------------------

run "$CG" verify -p one.yaml --now $((NOW + 10)) "$T"
check "allow: readable line" 0 \
  '^allow ok zone=api claims=\{"sub":"alice","roles":\["writer"\]\}$' '@empty'
ok "allow: exactly one line" line_count 1 "$OUT"

run "$CG" verify --policy one.yaml -z api --now $((NOW + 10)) "$T"
check "-z with a one-zone policy, --policy long form" 0 '^allow ok zone=api '

run "$CG" verify -p one.yaml "$T"
check "no --now: the real clock, token minted in 2023 is expired" 1 \
  '^deny token_expired zone=api: .+$'

run "$CG" verify -p two.yaml --now $((NOW + 10)) "$T"
check "-z omitted with two zones: exit 2, message, nothing on stdout" 2 '@empty' \
  '^claimgate: verify: '
run --stdin "$T"$'\n' "$CG" verify -p two.yaml --now $((NOW + 10))
check "-z omitted with two zones, tokens on stdin: exit 2, nothing on stdout" 2 \
  '@empty' '^claimgate: verify: '
run "$CG" verify -p two.yaml -z open --now $((NOW + 10)) "$T"
check "-z picks a zone of a two-zone policy" 0 '^allow ok zone=open claims=\{"sub":"alice"\}$'
run "$CG" verify -p two.yaml -z nowhere --now $((NOW + 10)) "$T"
check "unknown zone: exit 2, message, nothing on stdout" 2 '@empty' \
  '^claimgate: verify: .*nowhere'

# ---- --now and the expiry edge (leeway 30s by default) ----------------------

run "$CG" verify -p one.yaml --now $((E + 29)) "$T"
check "--now exp+29 with leeway 30: allow" 0 '^allow ok zone=api '
run "$CG" verify -p one.yaml --now $((E + 30)) "$T"
check "--now exp+30 with leeway 30: deny token_expired (readable line)" 1 \
  '^deny token_expired zone=api: .+$'
ok "deny: exactly one line" line_count 1 "$OUT"
run "$CG" verify -p one.yaml --now $((E + 30)) --json "$T"
check "--now exp+30, --json: deny" 1 '"reason":"token_expired"'

# ---- --json shapes ----------------------------------------------------------

run "$CG" verify -p one.yaml --now $((NOW + 10)) --json "$T"
check "--json allow: exit 0, stderr empty" 0 '' '@empty'
ok "--json allow: keys and values of the object and its provenance" pyj '
assert len(L) == 1, L
d = L[0]
assert set(d) == {"decision", "reason", "zone", "claims", "provenance"}, sorted(d)
assert (d["decision"], d["reason"], d["zone"]) == ("allow", "ok", "api"), d
assert d["claims"] == {"sub": "alice", "roles": ["writer"]}, d["claims"]
p = d["provenance"]
assert set(p) == {"issuer", "iss", "alg", "kid", "jkt", "jti", "token_sha256",
                  "delegation"}, sorted(p)
assert p["issuer"] == "sso", p
assert p["iss"] == "https://sso.example.com", p
assert p["alg"] == "ES256" and p["kid"] == "k1" and p["jti"] == "j-alice", p
assert p["delegation"] == [], p
' 
ok "--json allow: token_sha256 equals sha256sum of the token" \
  pyj 'assert L[0]["provenance"]["token_sha256"] == A[0], (L[0], A)' "$(sha256_of "$T")"
ok "--json allow: jkt is the RFC 7638 thumbprint of the verifying key" \
  pyj 'assert L[0]["provenance"]["jkt"] == A[0], (L[0], A)' "$JKT"

run "$CG" verify -p one.yaml --now $((E + 30)) --json "$T"
check "--json deny: exit 1" 1
ok "--json deny: keys decision, reason, zone, detail only" pyj '
assert len(L) == 1, L
d = L[0]
assert set(d) == {"decision", "reason", "zone", "detail"}, sorted(d)
assert (d["decision"], d["reason"], d["zone"]) == ("deny", "token_expired", "api"), d
assert isinstance(d["detail"], str) and d["detail"], d
'

T_NOKID=$("$CG" mint -k keys/sso.pem -a ES256 --iss https://sso.example.com \
  --aud https://api.example.com --now "$NOW" --sub bob --jti j-nokid)
run "$CG" verify -p one.yaml --now $((NOW + 10)) --json "$T_NOKID"
check "token without kid: allow" 0
ok "token without kid: provenance has no kid, the rest is there" pyj '
p = L[0]["provenance"]
assert "kid" not in p, p
assert set(p) == {"issuer", "iss", "alg", "jkt", "jti", "token_sha256", "delegation"}, sorted(p)
assert p["jti"] == "j-nokid" and p["jkt"] == A[0], (p, A)
' "$JKT"

T_ACT=$(mint --sub alice --jti j-act --claims '{"act":{"sub":"agent-7","act":{"sub":"planner"}}}')
run "$CG" verify -p one.yaml --now $((NOW + 10)) --json "$T_ACT"
check "nested act within max_delegation 2: allow" 0
ok "delegation lists the act chain outermost first" \
  pyj 'assert L[0]["provenance"]["delegation"] == ["agent-7", "planner"], L[0]'
T_ACT3=$(mint --sub alice --jti j-act3 \
  --claims '{"act":{"sub":"a1","act":{"sub":"a2","act":{"sub":"a3"}}}}')
run "$CG" verify -p one.yaml --now $((NOW + 10)) "$T_ACT3"
check "act chain of 3 with max_delegation 2: delegation_too_deep" 1 \
  '^deny delegation_too_deep zone=api: '

# ---- standard input ---------------------------------------------------------

run --stdin "$T1"$'\n'"$T2"$'\n'"$T3"$'\n' "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "stdin: three tokens, all allowed: exit 0" 0
ok "stdin: one decision per line, in input order" pyj '
assert [d["reason"] for d in L] == ["ok"] * 3, L
assert [d["provenance"]["jti"] for d in L] == ["s-1", "s-2", "s-3"], L
'

run --stdin "$T1"$'\r\n'"$T2"$'\r\n' "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "stdin: CRLF line ends: the \\r is removed, both allowed" 0
ok "stdin: CRLF: token_sha256 is the one of the token without \\r" pyj '
assert [d["reason"] for d in L] == ["ok", "ok"], L
assert L[0]["provenance"]["token_sha256"] == A[0], (L[0], A)
' "$(sha256_of "$T1")"

run --stdin "$T1"$'\n\n'"$T2"$'\n' "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "stdin: an empty line among tokens: exit 1" 1
ok "stdin: the empty line is decided as token_missing, in place" \
  pyj 'assert [d["reason"] for d in L] == ["ok", "token_missing", "ok"], L'

run --stdin $'\r\n \n' "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "stdin: a line of only \\r, a line of one space: exit 1" 1
ok "stdin: '\\r' alone is empty (token_missing); whitespace is token_malformed" \
  pyj 'assert [d["reason"] for d in L] == ["token_missing", "token_malformed"], L'

run --stdin "$T1"$'\n'"$T2" "$CG" verify -p one.yaml --now $((NOW + 10))
check "stdin: a last line without newline is decided" 0 '^allow ok zone=api claims=\{"sub":"u2"\}$'
ok "stdin: two lines in, two decisions out" line_count 2 "$OUT"

T_DUP1=$(mint --sub carol --jti dup-1)
T_DUP2=$(mint --sub carol --jti dup-1) # another token (ES256 is randomised), same jti
run --stdin "$T_DUP1"$'\n'"$T_DUP2"$'\n' "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "replay: reject, two tokens with the same jti: exit 1" 1
ok "replay: the second one is replayed" \
  pyj 'assert [d["reason"] for d in L] == ["ok", "replayed"], L'
run --stdin "$T1"$'\n'"$T1"$'\n' "$CG" verify -p one.yaml --now $((NOW + 10))
check "replay: the same token twice: second line is a replayed deny" 1 \
  '^deny replayed zone=api: '
ok "replay: first line allowed" grep -q '^allow ok zone=api ' "$OUT"
run --stdin "$T1"$'\n'"$T1"$'\n' "$CG" verify -p two.yaml -z open --now $((NOW + 10))
check "replay off: the same token twice is allowed twice" 0 '^allow ok zone=open '
ok "replay off: two allow lines" line_count 2 "$OUT"
T_OLD=$(sso_mint https://api.example.com --now $((NOW - 3600)) --sub carol --jti dup-2)
T_NEW=$(mint --sub carol --jti dup-2)
run --stdin "$T_OLD"$'\n'"$T_NEW"$'\n' "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "replay: a denied token does not use up its jti" 1
ok "replay: expired first, then the same jti allowed" \
  pyj 'assert [d["reason"] for d in L] == ["token_expired", "ok"], L'

run "$CG" verify -p one.yaml --now $((NOW + 10))
check "empty stdin: one token_missing decision, exit 1" 1 \
  '^deny token_missing zone=api: ' '@empty'
ok "empty stdin: exactly one line" line_count 1 "$OUT"
run "$CG" verify -p one.yaml --now $((NOW + 10)) --json -
check "empty stdin, '-', --json: exit 1" 1
ok "empty stdin, --json: one deny object token_missing" pyj '
assert len(L) == 1, L
assert set(L[0]) == {"decision", "reason", "zone", "detail"}, L
assert (L[0]["decision"], L[0]["reason"]) == ("deny", "token_missing"), L
'
run "$CG" verify -p one.yaml --now $((NOW + 10)) ""
check "empty TOKEN argument: token_missing, exit 1" 1 '^deny token_missing zone=api: '

mixed="$T1"$'\n\n'"not-a-token"$'\n'"$T1"$'\n'"$T2"$'\r\n'
run --stdin "$mixed" "$CG" verify -p one.yaml --now $((NOW + 10)) --json -
cp "$OUT" dash.out
rc_dash=$RC
run --stdin "$mixed" "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "'-' and no argument: same exit status" "$rc_dash"
ok "'-' and no argument: same output" same_file dash.out "$OUT"
ok "mixed stdin: decisions in order" pyj '
assert [d["reason"] for d in L] == ["ok", "token_missing", "token_malformed", "replayed", "ok"], L
'

# ---- exit status 2: usage and policy errors ---------------------------------

run "$CG" verify "$T"
check "missing -p: exit 2, message, nothing on stdout" 2 '@empty' '^claimgate: verify: '
for bad in abc -1 1.5 '' 1e9 253402300800 99999999999999999999999; do
  run "$CG" verify -p one.yaml --now "$bad" "$T"
  check "bad --now '$bad': exit 2, message, nothing on stdout" 2 '@empty' \
    '^claimgate: verify: .*--now'
done
run "$CG" verify -p one.yaml --now 253402300799 "$T"
check "--now at the largest NumericDate is accepted (token expired)" 1 '^deny token_expired '
run "$CG" verify -p one.yaml --frobnicate "$T"
check "unknown option: exit 2, nothing on stdout" 2 '@empty'
check "unknown option: stderr message starts 'claimgate: verify:'" 2 '@empty' \
  '^claimgate: verify: .*frobnicate'
run "$CG" verify -p one.yaml "$T" "$T"
check "two TOKEN arguments: exit 2, nothing on stdout" 2 '@empty'
run "$CG" verify -p bad.yaml --now $((NOW + 10)) "$T"
check "policy error: exit 2, file:line:column message, nothing on stdout" 2 '@empty' \
  '^claimgate: verify: bad\.yaml:7:5: .*colour'
run "$CG" verify -p bad-accept.yaml --now $((NOW + 10)) "$T"
check "policy error (unknown issuer in accept): file:line:column" 2 '@empty' \
  '^claimgate: verify: bad-accept\.yaml:10:[0-9]+: .*nobody'
run --stdin "$T"$'\n' "$CG" verify -p bad.yaml --now $((NOW + 10)) -
check "policy error, tokens on stdin: exit 2, nothing on stdout" 2 '@empty' \
  '^claimgate: verify: bad\.yaml:7:5: '
run "$CG" verify -p no-such-policy.yaml "$T"
check "missing policy file: exit 2, message naming it" 2 '@empty' \
  '^claimgate: verify: .*no-such-policy\.yaml'

# ---- size limit -------------------------------------------------------------

big=$(head -c 9000 /dev/zero | tr '\0' a)
run "$CG" verify -p one.yaml --now $((NOW + 10)) "$big"
check "9000-byte TOKEN argument: token_too_large" 1 '^deny token_too_large zone=api: '
run --stdin "$big"$'\n'"$T1"$'\n' "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "9000-byte line on stdin: exit 1" 1
ok "9000-byte line on stdin: token_too_large, next line still decided" \
  pyj 'assert [d["reason"] for d in L] == ["token_too_large", "ok"], L'
ok "9000-byte line on stdin: the detail does not misstate the size as 8193" \
  pyj 'assert "8193" not in L[0]["detail"], L[0]'
a8192=$(head -c 8192 /dev/zero | tr '\0' a)
run --stdin "$a8192"$'\r\n'"${a8192}a"$'\r\n' "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "stdin: 8192 bytes + CRLF is within the limit, 8193 + CRLF is not" 1
ok "stdin: 8192 bytes + CRLF malformed, 8193 + CRLF too large" \
  pyj 'assert [d["reason"] for d in L] == ["token_malformed", "token_too_large"], L'
run "$CG" verify -p one.yaml --now $((NOW + 10)) "$(head -c 8192 /dev/zero | tr '\0' a)"
check "8192 bytes is within the limit (then malformed)" 1 '^deny token_malformed '
run "$CG" verify -p one.yaml --now $((NOW + 10)) "$(head -c 8193 /dev/zero | tr '\0' a)"
check "8193 bytes is over the limit" 1 '^deny token_too_large '

# ---- no token data in deny output -------------------------------------------

SUB=zz-Distinctive-Sub-7f3a91
denials=(
  "$(sso_mint https://api.example.com --now $((NOW - 3600)) --sub "$SUB")"
  "$(mint --sub "$SUB" --aud https://elsewhere.example.com/$SUB)"
  "$("$CG" mint -k keys/rogue.pem -a ES256 --kid k1 --iss https://sso.example.com \
    --aud https://api.example.com --now "$NOW" --sub "$SUB")"
  "$(mint --sub "$SUB" --iss "https://rogue.example.com/$SUB")"
  "$(mint --sub "$SUB" --claims '{"act":{"sub":"'"$SUB"'","act":{"sub":"x","act":{"sub":"y"}}}}')"
  "$(mint --sub "$SUB" --jti "$SUB" --kid "$SUB")"
)
reasons='["token_expired", "audience_mismatch", "signature_invalid", "issuer_untrusted", "delegation_too_deep", "key_not_found"]'
i=0
for tok in "${denials[@]}"; do
  i=$((i + 1))
  run "$CG" verify -p one.yaml --now $((NOW + 10)) "$tok"
  check "deny #$i (argument): exit 1" 1 '^deny '
  ok "deny #$i (argument): neither the sub nor the token on stdout/stderr" \
    eval 'not_in "$SUB" "$OUT" "$ERR" && not_in "$tok" "$OUT" "$ERR"'
done
lines=$(printf '%s\n' "${denials[@]}" "$T1" "$T1")
run --stdin "$lines" "$CG" verify -p one.yaml --now $((NOW + 10)) --json
check "denies on stdin, --json: exit 1" 1
ok "denies on stdin, --json: the expected reasons" \
  pyj 'assert [d["reason"] for d in L] == json.loads(A[0]) + ["ok", "replayed"], L' "$reasons"
ok "denies on stdin, --json: deny objects carry no claims or provenance" \
  pyj 'assert all(set(d) == {"decision", "reason", "zone", "detail"} for d in L if d["decision"] == "deny"), L'
ok "denies on stdin, --json: the sub appears nowhere" not_in "$SUB" "$OUT" "$ERR"
run --stdin "$lines" "$CG" verify -p one.yaml --now $((NOW + 10))
check "denies on stdin, readable: exit 1" 1 '^deny '
ok "denies on stdin, readable: the sub appears nowhere" not_in "$SUB" "$OUT" "$ERR"

finish
