#!/usr/bin/env bash
# cli_inspect.sh - `claimgate inspect`: decodes without verifying; output
# marked UNVERIFIED, header and claims as pretty JSON, the token's SHA-256,
# NumericDates in UTC; the token from an argument, '-' or standard input;
# malformed input is exit 2 with the segment and the byte offset.
#
# Environment: CG_BINARY (the claimgate binary). CG_VERBOSE=1 lists every
# passing check on stderr.
# Predicates handed to `ok` are single-quoted for eval, on purpose.
# shellcheck disable=SC2016,SC2317
set -euo pipefail
# shellcheck source=lib/setup.bash
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/setup.bash"

"$CG" keygen -a ES256 --kid k1 -o es.pem >/dev/null
NOW=1700000000
T=$("$CG" mint -k es.pem -a ES256 --kid k1 --typ at+jwt --iss https://sso.example.com \
  --sub alice --aud https://api.example.com --jti j-1 --now "$NOW" \
  --claims '{"nbf":1700000000,"tid":"acme","ctx":{"ip":["10.0.0.1"]}}')

# The pretty JSON block that follows the line "NAME:" in $OUT, as compact
# sorted JSON, after checking it is indented (multi-line, members at 2).
block() { # NAME
  "$PY" -c 'import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
i = lines.index(sys.argv[2] + ":") + 1
j = i
while j < len(lines) and lines[j] != "":
    j += 1
blk = lines[i:j]
assert blk[0] == "{" and blk[-1] == "}" and len(blk) > 2, blk
assert all(l.startswith("  ") for l in blk[1:-1]), blk
print(json.dumps(json.loads("\n".join(blk)), sort_keys=True, separators=(",", ":")))
' "$OUT" "$1"
}
json_is() { # NAME EXPECTED-JSON
  local got want
  got=$(block "$1") || return 1
  want=$("$PY" -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True, separators=(",", ":")))' "$2")
  if [[ $got != "$want" ]]; then
    echo "got  $got"
    echo "want $want"
    return 1
  fi
}

# ---- a good token, three ways in --------------------------------------------

run "$CG" inspect "$T"
check "argument: exit 0, nothing on stderr" 0 '' '@empty'
ok "output begins with UNVERIFIED" eval 'head -n1 "$OUT" | grep -q "^UNVERIFIED"'
check "the SHA-256 of the token is shown and equals sha256sum" 0 \
  "^token sha256: $(sha256_of "$T")\$"
ok "header: pretty JSON, as minted" json_is header '{"alg":"ES256","typ":"at+jwt","kid":"k1"}'
ok "claims: pretty JSON, as minted" json_is claims \
  '{"nbf":1700000000,"tid":"acme","ctx":{"ip":["10.0.0.1"]},"iss":"https://sso.example.com",
    "sub":"alice","aud":"https://api.example.com","iat":1700000000,"exp":1700000300,"jti":"j-1"}'
check "header member indented by two spaces" 0 '^  "alg": "ES256",?$'
check "iat in UTC: 1700000000 is 2023-11-14T22:13:20Z" 0 '^ +iat +1700000000 +2023-11-14T22:13:20Z$'
check "nbf in UTC" 0 '^ +nbf +1700000000 +2023-11-14T22:13:20Z$'
check "exp in UTC: 1700000300 is 2023-11-14T22:18:20Z" 0 '^ +exp +1700000300 +2023-11-14T22:18:20Z$'
cp "$OUT" arg.out

run env TZ=America/New_York "$CG" inspect "$T"
check "TZ does not change the dates: still UTC" 0 '^ +iat +1700000000 +2023-11-14T22:13:20Z$'

run --stdin "$T"$'\n' "$CG" inspect -
check "'-': exit 0" 0 '^UNVERIFIED' '@empty'
ok "'-': same output as the argument" same_file arg.out "$OUT"
run --stdin "$T"$'\n' "$CG" inspect
check "standard input without argument: exit 0" 0 '^UNVERIFIED' '@empty'
ok "standard input: same output as the argument" same_file arg.out "$OUT"
run --stdin "$T" "$CG" inspect
check "standard input without a newline" 0 '^UNVERIFIED'
ok "standard input without a newline: same output" same_file arg.out "$OUT"
run --stdin "$T"$'\r\n' "$CG" inspect -
check "standard input with CRLF: the \\r is removed" 0 "^token sha256: $(sha256_of "$T")\$"

# Nothing is verified: a token whose signature no one checks, alg none.
NONE="$(b64url '{"alg":"none"}').$(b64url '{"sub":"mallory","exp":1}')."
run "$CG" inspect "$NONE"
check "alg none decodes (nothing is verified), still marked UNVERIFIED" 0 '^UNVERIFIED'
check "exp 1 shown in UTC" 0 '^ +exp +1 +1970-01-01T00:00:01Z$'

# ---- malformed input: exit 2, segment and offset, nothing on stdout ---------

H=$(b64url '{"alg":"ES256","b":"x"}') # 31 characters
P=$(b64url '{"sub":"a"}')             # 15 characters
S=c2ln                                # "sig"
poff=$((${#H} + 1))                   # offset of the payload's first character

run "$CG" inspect "$H.$P"
check "2 segments: exit 2, nothing on stdout, says 2 segments" 2 '@empty' \
  '^claimgate: inspect: .*2 segments'
check "2 segments: the message gives the byte offset" 2 '@empty' \
  '^claimgate: inspect: .*offset [0-9]+'
run "$CG" inspect "a.b.c.d.e"
check "5 segments: exit 2, offset of the third '.'" 2 '@empty' \
  "^claimgate: inspect: .*offset 5"
run "$CG" inspect "$H.$P=.$S"
check "padding in the payload: segment and offset" 2 '@empty' \
  "^claimgate: inspect: .*payload: .*padding.* offset $((poff + ${#P}))\$"
run "$CG" inspect "$H=.$P.$S"
check "padding in the header: segment and offset" 2 '@empty' \
  "^claimgate: inspect: .*header: .*padding.* offset ${#H}\$"
run "$CG" inspect "$H.${P:0:4}*${P:5}.$S"
check "bad character in the payload: segment and offset, not the byte" 2 '@empty' \
  "^claimgate: inspect: .*payload: invalid base64url character at offset $((poff + 4))\$"
run "$CG" inspect "${H:0:5}!${H:6}.$P.$S"
check "bad character in the header: segment and offset" 2 '@empty' \
  "^claimgate: inspect: .*header: .* offset 5\$"
run "$CG" inspect "$H.$P.$S="
check "padding in the signature: segment named" 2 '@empty' \
  "^claimgate: inspect: .*signature: .*offset [0-9]+"
# Invalid JSON: the offset is into the decoded segment ("decoded byte N").
run "$CG" inspect "$H.$(b64url '{"sub":x}').$S"
check "invalid JSON payload: segment and offset of the bad byte" 2 '@empty' \
  '^claimgate: inspect: .*payload: .*(offset|byte) 7\)?$'
run "$CG" inspect "$(b64url '{"alg":"ES256"').$P.$S"
check "truncated JSON header: segment and offset" 2 '@empty' \
  '^claimgate: inspect: .*header: .*(offset|byte) [0-9]+'
run "$CG" inspect "$H.$(b64url '[1,2]').$S"
check "payload not an object: segment named" 2 '@empty' '^claimgate: inspect: .*payload: .*object'
run "$CG" inspect "$H.$(b64url '{"sub":"a","sub":"b"}').$S"
check "duplicate member: segment named" 2 '@empty' '^claimgate: inspect: .*payload: .*duplicate'
run "$CG" inspect ""
check "empty argument: exit 2" 2 '@empty' '^claimgate: inspect: '
run "$CG" inspect
check "empty standard input: exit 2" 2 '@empty' '^claimgate: inspect: '
run "$CG" inspect "$(head -c 9000 /dev/zero | tr '\0' a)"
check "9000-byte token over the default limit: exit 2" 2 '@empty' '^claimgate: inspect: .*8192'
run "$CG" inspect --max-bytes 20 "$T"
check "--max-bytes 20: the token is too large" 2 '@empty' '^claimgate: inspect: .*20'

# ---- usage ------------------------------------------------------------------

run "$CG" inspect --help
check "--help: exit 0, usage on stdout" 0 '^usage: claimgate inspect' '@empty'
run "$CG" inspect "$T" "$T"
check "two arguments: exit 2, nothing on stdout" 2 '@empty'
run "$CG" inspect --frobnicate "$T"
check "unknown option: exit 2, nothing on stdout" 2 '@empty'
check "unknown option message starts 'claimgate: inspect:'" 2 '@empty' \
  '^claimgate: inspect: .*frobnicate'

finish
