#!/usr/bin/env bash
# keys_remote.sh - remote key sets (issue 5) against a real HTTPS key server:
# a test CA and a certificate for 127.0.0.1 made here with the openssl CLI,
# and keys_lib/jwks_server.py, switched at run time between serving the
# current JWK Set, 500, garbage, a 5 MiB body, hanging and redirecting,
# counting every request it gets.
#
#   serve, key server down at start  /readyz 503, keys_unavailable (503,
#                                    Retry-After); up -> ready, allowed
#   rotation                         new kid passes without restart, a
#                                    removed kid is key_not_found
#   faults (500, garbage, 5 MiB, hang)
#                                    previous keys serve, every request
#                                    under 1 s, failures in /metrics
#   stale_for 3s                     past it: keys_unavailable, not ready
#   Cache-Control max-age            overrides refresh
#   kid miss + flood                 one fetch for a new kid; 200 random
#                                    kids: at most one fetch per 30 s
#   jku / x5u                        never fetched
#   cache_dir                        the file exists; a restart with the
#                                    key server down serves from it
#   claimgate keys / verify          keys, sources, skipped keys; fetch
#                                    errors; unknown CA; OIDC discovery;
#                                    http:// and insecure_http; redirects
#
# Environment: CG_BINARY (the claimgate binary). CG_VERBOSE=1 lists every
# passing check on stderr. About 60 s with an ASan build.
# shellcheck disable=SC2016,SC2119,SC2317
set -euo pipefail
work=$(mktemp -d)
trap 'srv_cleanup; rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/check.bash"
. "$here/server_lib.bash"
cd "$work"
T_START=$(date +%s)

# ---- a test CA and a certificate for 127.0.0.1 -------------------------------------

ec_req() { # KEY CERT SUBJ [openssl req options...]
	local key=$1 crt=$2 subj=$3
	shift 3
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$key" -out "$crt" -days 2 -subj "$subj" "$@" 2>/dev/null
}
ec_req ca.key ca.pem /CN=claimgate-test-ca \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key \
	-out srv.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >srv.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out srv.pem -days 2 -extfile srv.ext 2>/dev/null

# ---- signing keys and JWK Sets ---------------------------------------------------

for k in k1 k2 k3; do "$CG" keygen -a ES256 --kid "$k" -o "$k.pem" >"$k.jwk"; done
openssl genrsa -out weak.pem 1024 2>/dev/null
"$PY" - weak.pem >weak.jwk <<'PY'
import base64, json, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
n = load_pem_private_key(open(sys.argv[1], "rb").read(), None).public_key().public_numbers()
b = lambda i: base64.urlsafe_b64encode(i.to_bytes((i.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
print(json.dumps({"kty": "RSA", "kid": "weak", "alg": "RS256", "n": b(n.n), "e": b(n.e)}))
PY

# key server folders: $ks/NAME/{mode,jwks.json,max_age,...}
ks=$work/ks
mkdir -p "$ks"
: >"$ks/requests.log"
jwks() { # NAME JWK-NAMES...: writes ks/NAME/jwks.json
	local name=$1 f
	shift
	mkdir -p "$ks/$name"
	{
		printf '{"keys":['
		local sep=
		for f in "$@"; do
			printf '%s' "$sep"
			cat "$f.jwk"
			sep=,
		done
		printf ']}\n'
	} >"$ks/$name/jwks.json.tmp"
	mv "$ks/$name/jwks.json.tmp" "$ks/$name/jwks.json"
}
mode() { mkdir -p "$ks/$1" && printf '%s\n' "$2" >"$ks/$1/mode"; }
# requests the key server got for NAME (and FILE, default jwks.json)
count() { grep -c "^$1 ${2:-jwks.json} " "$ks/requests.log" || true; }

KS_PIDS=()
ks_start() { # PORT [http]: starts a key server on PORT; 1 if it does not come up
	local port=$1 scheme=https tls=(srv.pem srv.key) i
	if [[ ${2-} == http ]]; then
		scheme=http
		tls=()
	fi
	"$PY" "$here/keys_lib/jwks_server.py" "$ks" "$port" "${tls[@]}" 2>>"$work/ks.err" &
	local pid=$!
	for ((i = 0; i < 50; i++)); do
		if curl -sf --cacert ca.pem --max-time 1 -o /dev/null "$scheme://127.0.0.1:$port/_health" 2>/dev/null; then
			bg_track "$pid"
			KS_PIDS+=("$pid")
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return 1
}
ks_start_free() { # [http]: sets KP
	local try
	for ((try = 0; try < 5; try++)); do
		KP=$(free_port)
		if ks_start "$KP" "$@"; then return 0; fi
	done
	echo "the key server did not start" >&2
	cat "$work/ks.err" >&2
	return 1
}

ks_start_free
P=$KP # the HTTPS key server most checks use
U=https://127.0.0.1:$P

mint() { # ISS KEY KID [MINT OPTIONS...]
	local iss=$1 key=$2 kid=$3
	shift 3
	"$CG" mint -k "$key.pem" -a ES256 --kid "$kid" --iss "$iss" --aud api --sub alice --ttl 30m "$@"
}

# 200 tokens with random kids for the flood, minted in the background
# while the first checks run.
mkdir flood
(seq 1 200 | xargs -P 2 -I{} sh -c '"$1" mint -k k1.pem -a ES256 --kid "random-{}-$$" \
	--iss https://f.test --aud api --sub alice --ttl 30m >flood/{}' _ "$CG") &
FLOOD_PID=$!

# ---- requests to serve ----------------------------------------------------------------

D=        # "CODE REASON" of the last decide
DT=0      # its curl time_total
DT_MAX=0  # the largest DT since reset_dt
reset_dt() { DT_MAX=0; }
us_of() { # SECONDS (curl's time_total, "1.234567"): microseconds
	local i=${1%%.*} f=
	[[ $1 == *.* ]] && f=${1#*.}
	f=${f}000000
	echo $((10#${i:-0} * 1000000 + 10#${f:0:6}))
}
decide() { # ZONE TOKEN
	local out
	out=$(curl -sS --max-time 10 -o "$work/.d" -w '%{http_code} %{time_total}' \
		-H "Authorization: Bearer $2" "$SRV_URL/v1/authorize?zone=$1" 2>/dev/null) || out="000 10"
	DT=${out#* }
	D="${out%% *} $(sed -n 's/^{"decision":"[a-z]*","reason":"\([a-z_]*\)".*/\1/p' "$work/.d")"
	if (($(us_of "$DT") > $(us_of "$DT_MAX"))); then DT_MAX=$DT; fi
}
is_decision() { # WANT ZONE TOKEN
	decide "$2" "$3"
	[[ $D == "$1" ]] && return 0
	echo "got [$D], expected [$1]: $(head -c 300 "$work/.d")"
	return 1
}
within() { # SECONDS CMD...: polls CMD every 0.2 s until it succeeds
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while :; do
		if "$@" >"$work/.within" 2>&1; then return 0; fi
		if (($(date +%s%N) >= end)); then
			cat "$work/.within"
			return 1
		fi
		sleep 0.2
	done
}
readyz_is() { # CODE
	local c
	c=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$SRV_URL/readyz" 2>/dev/null) || c=000
	[[ $c == "$1" ]] && return 0
	echo "/readyz answered $c, expected $1"
	return 1
}
metric() { # NAME{LABELS}: its value (0 when absent)
	curl -sf --max-time 5 "$SRV_URL/metrics" 2>/dev/null |
		awk -v m="$1" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
}
failed_of() { metric "claimgate_keyset_fetches_total{issuer=\"$1\",result=\"failed\"}"; }
ok_of() { metric "claimgate_keyset_fetches_total{issuer=\"$1\",result=\"ok\"}"; }
metric_above() { # NAME{LABELS} VALUE
	local v
	v=$(metric "$1")
	(($(printf '%.0f' "$v") > $2)) && return 0
	echo "$1 is $v, expected more than $2"
	return 1
}
dt_under() { # SECONDS: every request since reset_dt took less
	(($(us_of "$DT_MAX") < $(us_of "$1"))) && return 0
	echo "slowest request took $DT_MAX s"
	return 1
}
count_is() { # N NAME [FILE]
	local n
	n=$(count "$2" "${3-}")
	[[ $n == "$1" ]] && return 0
	echo "the key server got $n requests for $2 ${3:-jwks.json}, expected $1"
	tail -n 20 "$ks/requests.log"
	return 1
}
count_at_least() { # N NAME [FILE]
	local n
	n=$(count "$2" "${3-}")
	((n >= $1)) && return 0
	echo "the key server got $n requests for $2 ${3:-jwks.json}, expected at least $1"
	return 1
}
no_sanitizer() { # FILE
	if grep -E 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$1"; then
		return 1
	fi
}
ms_now() { date +%s%3N; }

remote_issuer() { # NAME ISS PATHNAME REFRESH STALE_FOR [EXTRA LINE]
	cat <<YAML
  $1:
    issuer: $2
    jwks_uri: $U/$3/jwks.json
    ca_file: $work/ca.pem
    algorithms: [ES256, RS256]
    refresh: $4
    stale_for: $5
${6-}
YAML
}
zone() { # ZONE ISSUER
	printf '  %s:\n    audience: api\n    accept: [%s]\n    claims:\n      sub: {}\n' "$1" "$2"
}

# ==== serve: key server down at start, rotation, faults, stale_for ==================

# Issuer a (refresh 2s, stale_for 1h) and issuer s (refresh 1s, stale_for
# 3s), at a port where nothing listens yet.
P2=$(free_port)
jwks a k1
jwks s k1
{
	echo "version: 1"
	echo "issuers:"
	remote_issuer a https://a.test a 2s 1h | sed "s/:$P\\//:$P2\\//"
	remote_issuer s https://s.test s 1s 3s | sed "s/:$P\\//:$P2\\//"
	echo "zones:"
	zone za a
	zone zs s
} >main.yaml

serve_start -p main.yaml --threads 2
TA1=$(mint https://a.test k1 k1)
TA2=$(mint https://a.test k2 k2)
TS1=$(mint https://s.test k1 k1)

ok "key server down: /readyz 503" readyz_is 503
ok "key server down: a token is keys_unavailable (503)" is_decision "503 keys_unavailable" za "$TA1"
http GET "$SRV_URL/v1/authorize?zone=za" -H "$(bearer "$TA1")"
ok "keys_unavailable carries Retry-After" hdr_count Retry-After 1
ok "the failed fetches are counted" within 5 metric_above 'claimgate_keyset_fetches_total{issuer="a",result="failed"}' 0

t0=$(ms_now)
if ks_start "$P2"; then
	ok "key server up: /readyz 200 within 10 s, no restart" within 10 readyz_is 200
	echo "keys_remote: ready $(($(ms_now) - t0)) ms after the key server came up" >&2
	ok "key server up: the token is allowed" is_decision "200 ok" za "$TA1"
	ok "key server up: the other issuer too" is_decision "200 ok" zs "$TS1"
	ok "the key-set age is in /metrics" metric_above 'claimgate_keyset_age_seconds{issuer="a"}' -1
	ok "successful fetches are counted" metric_above 'claimgate_keyset_fetches_total{issuer="a",result="ok"}' 0
else
	_cg_fail "the key server did not come up again on port $P2"
fi

# -- rotation
ok "before rotation: a token with kid k2 is key_not_found" is_decision "401 key_not_found" za "$TA2"
jwks a k1 k2
ok "rotation: the new kid k2 passes within 5 s, no restart" within 5 is_decision "200 ok" za "$TA2"
ok "rotation: k1 still passes" is_decision "200 ok" za "$TA1"
jwks a k2
ok "rotation: the removed kid k1 is key_not_found after the next refresh" \
	within 6 is_decision "401 key_not_found" za "$TA1"
ok "rotation: k2 still passes" is_decision "200 ok" za "$TA2"

# -- stale_for: s fails from now on; its last good set lasts 3 s
mode s 500
ok "stale_for: right after the failure starts, s still serves" is_decision "200 ok" zs "$TS1"
t0=$(ms_now)
ok "stale_for 3s: then s's tokens are keys_unavailable" within 8 is_decision "503 keys_unavailable" zs "$TS1"
stale_ms=$(($(ms_now) - t0))
echo "keys_remote: s became unusable $stale_ms ms after its key server failed (stale_for 3s)" >&2
ok "stale_for: not at once" test "$stale_ms" -ge 500
ok "stale_for: /readyz 503 while an issuer has no usable keys" readyz_is 503
ok "stale_for: issuer a is not affected" is_decision "200 ok" za "$TA2"

# -- faults on a: previous keys keep serving, no request waits, counted
for fault in 500 garbage big hang; do
	f0=$(failed_of a)
	f0=${f0%.*}
	mode a "$fault"
	reset_dt
	t0=$(date +%s)
	span=3
	[[ $fault == hang ]] && span=7
	# requests while the fetcher meets the fault (hang: 5 s timeout)
	while (($(date +%s) - t0 < span)); do
		decide za "$TA2"
		[[ $D == "200 ok" ]] || break
		sleep 0.2
	done
	ok "fault $fault: previous keys keep serving" is_decision "200 ok" za "$TA2"
	ok "fault $fault: every request answered in under 1 s" dt_under 1
	ok "fault $fault: counted as failed in /metrics" within 8 metric_above \
		'claimgate_keyset_fetches_total{issuer="a",result="failed"}' "$f0"
	ok "fault $fault: the server still answers /healthz" wait_http "$SRV_URL/healthz"
done
mode a ok
mode s ok
ok "after the faults: s recovers without restart" within 8 is_decision "200 ok" zs "$TS1"
ok "after the faults: /readyz 200 again" within 5 readyz_is 200
ok "a failed fetch is logged while the previous keys still serve" \
	grep -Eq 'issuer a: key set not refreshed \(the previous set keeps serving\): HTTP status 500' serve.err

# -- Cache-Control max-age overrides refresh (clamped to [1m, 24h])
printf '3600\n' >"$ks/a/max_age"
printf '3600\n' >"$ks/s/max_age"
ok "max-age: a fetch answered with max-age=3600" within 6 grep -q '^a jwks.json ok,max-age=3600$' "$ks/requests.log"
ok "max-age: s too" within 6 grep -q '^s jwks.json ok,max-age=3600$' "$ks/requests.log"
sleep 0.5
n0=$(count a)
jwks a k1
sleep 4
ok "max-age=3600: no fetch for 4 s although refresh is 2s" count_is "$n0" a
ok "max-age=3600: the old set (k2) still serves" is_decision "200 ok" za "$TA2"
# s: stale_for 3s, and the key server (healthy) said max-age=3600
ok "a healthy issuer whose max-age exceeds stale_for keeps serving" \
	is_decision "200 ok" zs "$TS1"

serve_stop
ok "serve #1 exits 0" test "$SRV_RC" = 0
rm -f "$ks/a/max_age"

# ==== serve: kid miss, flood, jku/x5u, cache_dir ===================================

jwks f k1
rm -rf cache
mkdir cache
{
	echo "version: 1"
	echo "cache_dir: cache"
	echo "issuers:"
	remote_issuer f https://f.test f 1h 1d
	echo "zones:"
	zone zf f
} >flood.yaml
cache_file=cache/$(sha256_of https://f.test | cut -c1-32).jwks.json
TF1=$(mint https://f.test k1 k1)
TF2=$(mint https://f.test k2 k2)
serve_start -p flood.yaml --threads 2
ok "flood policy: ready" within 10 readyz_is 200
ok "flood policy: one scheduled fetch" count_is 1 f
ok "cache_dir: the last good set is saved as cache/<sha256(iss)[:16] hex>.jwks.json" \
	same_file "$ks/f/jwks.json" "$cache_file"
ok "flood policy: k1 allowed" is_decision "200 ok" zf "$TF1"

# -- a token's jku and x5u are never fetched
pymint() { # KEY HEADER-JSON PAYLOAD-JSON: an ES256 token with exactly this header
	"$PY" - "$@" <<'PY'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_private_key
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
key = load_pem_private_key(open(sys.argv[1], "rb").read(), None)
now = int(time.time())
pl = json.loads(sys.argv[3])
pl.update({"iat": now, "exp": now + 1800})
si = b(sys.argv[2].encode()) + "." + b(json.dumps(pl, separators=(",", ":")).encode())
r, s = decode_dss_signature(key.sign(si.encode(), ec.ECDSA(hashes.SHA256())))
print(si + "." + b(r.to_bytes(32, "big") + s.to_bytes(32, "big")))
PY
}
jwks f3 k3
cp "$ks/f3/jwks.json" "$ks/f/jku.json"
PL='{"iss":"https://f.test","aud":"api","sub":"alice","jti":"j-'$RANDOM'"}'
TJKU=$(pymint k1.pem '{"alg":"ES256","kid":"k1","jku":"'"$U"'/f/jku.json","x5u":"'"$U"'/f/x5u.pem"}' "$PL")
ok "jku/x5u: a token (kid k1) that names them is decided on the policy's keys" \
	is_decision "200 ok" zf "$TJKU"

# -- kid miss: a new kid makes one refresh, whose result later requests use
n0=$(count f)
jwks f k1 k2
ok "kid miss: the first token with the new kid k2 is key_not_found (not kept waiting)" \
	is_decision "401 key_not_found" zf "$TF2"
t_miss=$(date +%s)
ok "kid miss: k2 passes within 5 s (refresh is 1h)" within 5 is_decision "200 ok" zf "$TF2"
ok "kid miss: exactly one fetch" count_is $((n0 + 1)) f

# -- flood: 200 random kids
wait "$FLOOD_PID" || true
ok "flood: 200 tokens minted" test "$(find flood -type f -size +0 | wc -l)" = 200
n0=$(count f)
reset_dt
flood_bad=0
for t in flood/*; do
	decide zf "$(cat "$t")"
	[[ $D == "401 key_not_found" ]] || flood_bad=$((flood_bad + 1))
done
t_end=$(date +%s)
windows=$(((t_end - t_miss) / 30))
echo "keys_remote: flood of 200 random kids took $((t_end - t_miss)) s since the last miss; fetches $n0 -> $(count f)" >&2
ok "flood: every random kid is key_not_found" test "$flood_bad" = 0
ok "flood: at most one fetch per 30 s window" test "$(count f)" -le $((n0 + windows))
ok "flood: no request took 1 s" dt_under 1

# -- a token signed by another key that its jku serves: still not fetched
TEVIL=$(pymint k3.pem '{"alg":"ES256","kid":"k3","jku":"'"$U"'/f/jku.json"}' "$PL")
ok "jku: a token whose key only its jku serves is key_not_found" is_decision "401 key_not_found" zf "$TEVIL"
sleep 1
ok "jku/x5u: the key server never got a request for them" \
	test "$(grep -Ec '^f (jku\.json|x5u\.pem) ' "$ks/requests.log")" = 0
serve_stop
ok "serve #2 exits 0" test "$SRV_RC" = 0
ok "serves #1 and #2: no sanitizer report" no_sanitizer serve.err
mv serve.err serve-1-2.err

# -- cache_dir: a restart with the key server failing serves from the cache
mode f 500
serve_start -p flood.yaml --threads 2
ok "cache_dir: restart with the key server failing: ready" within 5 readyz_is 200
ok "cache_dir: tokens allowed from the cache" is_decision "200 ok" zf "$TF1"
ok "cache_dir: the cache is not replaced by a failed fetch" \
	same_file "$ks/f/jwks.json" "$cache_file"
kill -HUP "$SRV_PID"
ok "cache_dir: the reload (SIGHUP) is done" wait_metric 'claimgate_policy_reloads_total{result="ok"} 1'
ok "cache_dir: after the reload tokens are still allowed" is_decision "200 ok" zf "$TF1"
serve_stop
ok "serve #3 (cache_dir, reload) exits 0" test "$SRV_RC" = 0
ok "serve #3 (cache_dir, reload): no sanitizer report" no_sanitizer serve.err
mv serve.err serve-3.err
mode f ok
"$CG" verify -p flood.yaml -z zf "$TF1" >/dev/null 2>&1 || true
touch -d '2 days ago' "$cache_file"
mode f 500
run "$CG" verify -p flood.yaml -z zf "$TF1"
check "cache_dir: a cached set older than stale_for is not used" 1 '^deny keys_unavailable' 'HTTP status 500'
mode f ok

# ==== claimgate keys and verify ===================================================

{
	echo "version: 1"
	echo "issuers:"
	remote_issuer kk https://k.test k 1h 1d
	echo "zones:"
	zone zk kk
} >keys.yaml
jwks k k1 k2 weak
TK1=$(mint https://k.test k1 k1)
run "$CG" keys -p keys.yaml
check "keys: exit 0" 0 '^issuer kk \(iss https://k.test\)$'
jkt1=$(jkt_of k1.jwk)
jkt2=$(jkt_of k2.jwk)
ok "keys: the source URL" grep -qx "  source  $U/k/jwks.json" "$OUT"
ok "keys: when it was fetched" grep -Eq '^  fetched 20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \(1 ok, 0 failed\)$' "$OUT"
ok "keys: k1 with kid, kty, alg, size and jkt" grep -qx "  key  kid=k1 kty=EC crv=P-256 alg=ES256 bits=256 jkt=$jkt1" "$OUT"
ok "keys: k2" grep -qx "  key  kid=k2 kty=EC crv=P-256 alg=ES256 bits=256 jkt=$jkt2" "$OUT"
ok "keys: the 1024-bit RSA key is skipped, with the reason" grep -Eq '^  note .*weak.*(1024|2048)' "$OUT"
ok "keys: the weak key is not listed as usable" not_in "kid=weak" "$OUT"

n0=$(count k)
run "$CG" verify -p keys.yaml -z zk "$TK1"
check "verify: a remote issuer's token is allowed" 0 '^allow ok zone=zk'
ok "verify: exactly one fetch" count_is $((n0 + 1)) k

# fetch errors as `claimgate keys` reports them
keys_err() { # MODE EXPECTED-ERROR-ERE
	mode k "$1"
	run "$CG" keys -p keys.yaml
	check "keys: $1 -> exit 1, the error shown" 1 "^  last error: .*$2"
	ok "keys: $1 -> no usable keys" grep -q 'NO USABLE KEYS' "$OUT"
}
keys_err 500 'HTTP status 500'
keys_err garbage '.'
keys_err big 'response larger than 1048576 bytes'
printf '%s\n' "$U/k/jwks.json" >"$ks/k/location"
keys_err redirect 'Number of redirects hit maximum amount'
mode k ok

# too many keys
"$PY" - k1.jwk >"$ks/k/many.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))
print(json.dumps({"keys": [dict(k, kid="m%d" % i) for i in range(101)]}))
PY
cp "$ks/k/jwks.json" "$ks/k/jwks.json.good"
cp "$ks/k/many.json" "$ks/k/jwks.json"
run "$CG" keys -p keys.yaml
check "keys: a set of 101 keys is refused" 1 '^  last error: more than 100 keys'
cp "$ks/k/jwks.json.good" "$ks/k/jwks.json"

# -- unknown CA: the system store does not know the test CA
grep -v ca_file keys.yaml >noca.yaml
n0=$(count k)
run "$CG" keys -p noca.yaml
check "unknown CA: keys exit 1" 1 '^  last error: .*(SSL|certificate|CA)'
run "$CG" verify -p noca.yaml -z zk "$TK1"
check "unknown CA: tokens are keys_unavailable" 1 '^deny keys_unavailable'
ok "unknown CA: the TLS handshake failed before any request" count_is "$n0" k

# -- ca_file names another CA: refused, also when the system store would
# trust the server (run where a private mount namespace can be had)
ec_req other-ca.key other-ca.pem /CN=other-test-ca \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
sed "s|ca_file: .*|ca_file: $work/other-ca.pem|" keys.yaml >otherca.yaml
run "$CG" keys -p otherca.yaml
check "ca_file of another CA: refused" 1 '^  last error: .*(SSL|certificate|CA)'
if [[ -d /etc/ssl/certs ]] && unshare -m true 2>/dev/null; then
	mkdir syscerts
	cp ca.pem syscerts/
	openssl rehash syscerts 2>/dev/null
	run unshare -m sh -c 'mount --bind "$1" /etc/ssl/certs && exec "$2" keys -p "$3"' \
		_ "$work/syscerts" "$CG" otherca.yaml
	check "ca_file: a CA in the system CA folder only is not trusted" 1 '^  last error: .*(SSL|certificate|CA)'
fi

# -- OIDC discovery
DISS=$U/d
mkdir -p "$ks/d"
jwks d k1
printf '{"issuer":"%s","jwks_uri":"%s/d/jwks.json"}\n' "$DISS" "$U" >"$ks/d/openid-configuration"
cat >disc.yaml <<YAML
version: 1
issuers:
  dd:
    issuer: $DISS
    discovery: true
    ca_file: $work/ca.pem
    algorithms: [ES256]
zones:
$(zone zd dd)
YAML
TD1=$(mint "$DISS" k1 k1)
run "$CG" keys -p disc.yaml
check "discovery: keys exit 0, the jwks_uri from the document" 0 "^  source  $U/d/jwks.json$"
ok "discovery: the document was fetched" count_at_least 1 d .well-known/openid-configuration
ok "discovery: then its jwks_uri" count_at_least 1 d
run "$CG" verify -p disc.yaml -z zd "$TD1"
check "discovery: tokens are allowed" 0 '^allow ok'
printf '{"issuer":"%s/other","jwks_uri":"%s/d/jwks.json"}\n' "$U" "$U" >"$ks/d/openid-configuration"
n0=$(count d)
run "$CG" keys -p disc.yaml
check "discovery: a document naming another issuer is refused" 1 \
	"^  last error: discovery: the document's issuer is not the configured one"
ok "discovery: its jwks_uri was not fetched" count_is "$n0" d
printf '{"issuer":"%s","jwks_uri":"http://127.0.0.1:%s/d/jwks.json"}\n' "$DISS" "$P" >"$ks/d/openid-configuration"
run "$CG" keys -p disc.yaml
check "discovery: a plain http jwks_uri in the document is refused" 1 'last error: discovery: no https jwks_uri'
printf '{"issuer":"%s\\u0000.evil","jwks_uri":"%s/d/jwks.json"}\n' "$DISS" "$U" >"$ks/d/openid-configuration"
run "$CG" keys -p disc.yaml
check "discovery: an issuer with a NUL and more after the configured one is refused" 1 \
	"^  last error: discovery: "

# -- http:// and insecure_http (to 127.0.0.1 only)
ks_start_free http
HP=$KP
jwks h k1
cat >http.yaml <<YAML
version: 1
issuers:
  hh:
    issuer: https://h.test
    jwks_uri: http://127.0.0.1:$HP/h/jwks.json
    algorithms: [ES256]
zones:
$(zone zh hh)
YAML
run "$CG" lint -p http.yaml
check "http:// without insecure_http: policy error" 2 @empty \
	'http.yaml:5:15: issuers.hh.jwks_uri: http:// needs insecure_http: true'
sed 's|^    algorithms:|    insecure_http: true\n    algorithms:|' http.yaml >http-ok.yaml
run "$CG" keys -p http-ok.yaml
check "http:// with insecure_http: true to 127.0.0.1 works" 0 "^  source  http://127.0.0.1:$HP/h/jwks.json"
run "$CG" verify -p http-ok.yaml -z zh "$(mint https://h.test k1 k1)"
check "insecure_http: tokens are allowed" 0 '^allow ok'
sed "s|http://127.0.0.1:$HP|https://127.0.0.1:$P|; s|^    algorithms:|    ca_file: $work/ca.pem\n    algorithms:|" \
	http.yaml >redir.yaml
printf '%s\n' "http://127.0.0.1:$HP/h/jwks.json" >"$ks/h/location"
mode h redirect
n0=$(count h)
run "$CG" keys -p redir.yaml
check "a redirect from https to http is not followed" 1 '^  last error: '
ok "the http target of the redirect got no request" count_is $((n0 + 1)) h
mode h ok
sed 's|http://127|HTTP://127|' http.yaml >http-upper.yaml
run "$CG" lint -p http-upper.yaml
check "HTTP:// (upper case) without insecure_http is refused" 2 @empty 'needs insecure_http'
printf '{"issuer":"http://127.0.0.1:%s/d","jwks_uri":"http://127.0.0.1@localhost:%s/d/jwks.json"}\n' \
	"$HP" "$HP" >"$ks/d/openid-configuration"
cat >disc-http.yaml <<YAML
version: 1
issuers:
  dh:
    issuer: http://127.0.0.1:$HP/d
    discovery: true
    insecure_http: true
    algorithms: [ES256]
zones:
$(zone zdh dh)
YAML
run "$CG" keys -p disc-http.yaml
check "discovery: an http jwks_uri whose host is not 127.0.0.1 is refused" 1 \
	'last error: discovery: no https jwks_uri'

# ==== the whole run ================================================================

ok "the key server logged no error" test ! -s "$work/ks.err"
echo "keys_remote: $(($(date +%s) - T_START)) s" >&2
finish
