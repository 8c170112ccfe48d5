#!/usr/bin/env bash
# bench/bench_memory.sh - resident size of `claimgate serve` with 1,000 keys
# and a full verified-token cache.
#   bench/bench_memory.sh
# Environment:
#   CLAIMGATE=/path/to/claimgate  binary to measure (default: scripts/build.sh release)
#   BENCH_NTOKENS=20000           distinct tokens sent (each twice)
#   BENCH_CONNS=1000              connections opened at once at the end
#                                 (serve accepts at most 1024)
#
# The keys: 10 issuers with 100 RSA-2048 public keys each (a key set holds
# at most 100 usable keys), as JWK Set files. Generating them takes a
# minute or two, so they are made once with python3-cryptography and kept
# in build/bench-memory/keys (delete it for new ones). The last key of
# each issuer signs the tokens.
#
# The run: `claimgate serve --threads 1` with the default cache (100,000
# entries, at most 32 MiB of parsed tokens), pinned to CPU 0. VmRSS is read
# from /proc after start (keys loaded, cache empty). BENCH_NTOKENS distinct
# RS256 access tokens (11 claims, spread over the 10 issuers) are sent once
# each with wrk (one connection, each token exactly once, in file order),
# then once more in the same order; the cache hits and misses of each pass
# come from /metrics (claimgate_vcache_lookups_total). VmRSS and VmHWM
# (peak) are read after that, and again after BENCH_CONNS connections at
# once have sent a cached token for 3 s (each connection has a 32 KiB
# libmicrohttpd pool). A second `serve`, with one issuer and one key, gives
# the baseline.
#
# Hits in the second pass are a lower bound of what the cache held after the
# first: a miss of the second pass is inserted and may evict, from the same
# set, a token that would have been a hit later in the pass.
# Needs: wrk, curl, python3-cryptography and python3-jwt (Debian). Prints a
# Markdown table; never gates anything.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
bin=$(readlink -f "${CLAIMGATE:-$("$top/scripts/build.sh" release)/claimgate}")
ntok=${BENCH_NTOKENS:-20000}
py=/usr/bin/python3   # the Debian python3, with python3-cryptography and python3-jwt
nissuers=10
nkeys=100
keydir="$top/build/bench-memory/keys"
target_mib=64
conns=${BENCH_CONNS:-1000}
ulimit -n 4096 2>/dev/null || true  # wrk and serve: BENCH_CONNS sockets each

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.05; done; return 1; }
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; } # PID VmRSS|VmHWM
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
metric() { # PORT REGEX -> sum of the matching samples
  curl -s "http://127.0.0.1:$1/metrics" | awk -v re="$2" '$0 ~ re { s += $NF } END { printf "%d\n", s }'
}
hits() { metric "$1" '^claimgate_vcache_lookups_total\\{result="hit"\\}'; }
misses() { metric "$1" '^claimgate_vcache_lookups_total\\{result="miss"\\}'; }
allowed() { metric "$1" '^claimgate_decisions_total\\{.*decision="allow"'; }

# 1. The keys, made once.
if [ ! -f "$keydir/done" ]; then
  mkdir -p "$keydir"
  echo "generating $((nissuers * nkeys)) RSA-2048 keys into $keydir (once)..." >&2
  "$py" - "$keydir" "$nissuers" "$nkeys" <<'PY'
import base64, json, os, sys
from concurrent.futures import ProcessPoolExecutor
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

out, ni, nk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def b64(n):
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def gen(_):
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()).decode()
    pub = k.public_key().public_numbers()
    return pem, b64(pub.n), b64(pub.e)

with ProcessPoolExecutor(os.cpu_count() or 1) as ex:
    keys = list(ex.map(gen, range(ni * nk), chunksize=10))
for i in range(ni):
    jwks = []
    for j in range(nk):
        pem, n, e = keys[i * nk + j]
        jwks.append({"kty": "RSA", "kid": f"iss{i}-k{j}", "use": "sig", "alg": "RS256", "n": n, "e": e})
        if j == nk - 1:
            fd = os.open(os.path.join(out, f"iss{i}.pem"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(pem)
    with open(os.path.join(out, f"iss{i}.jwks.json"), "w") as f:
        json.dump({"keys": jwks}, f)
PY
  touch "$keydir/done"
fi
cd "$work"

# 2. The policy: 10 issuers, one zone accepting all of them.
{
  echo "version: 1"
  echo "issuers:"
  for i in $(seq 0 $((nissuers - 1))); do
    echo "  iss$i: { issuer: https://sso$i.example.com, jwks_file: $keydir/iss$i.jwks.json, algorithms: [RS256], types: [at+jwt], max_lifetime: 1h }"
  done
  cat <<'Y'
zones:
  api:
    audience: https://api.example.com
    accept: [iss0, iss1, iss2, iss3, iss4, iss5, iss6, iss7, iss8, iss9]
    max_age: 1h
    require_claims: [sub, jti]
    claims:
      sub: {}
      tenant: { claim: tid, pattern: "[0-9a-f-]+" }
      roles: { claim: scope, split: space, map: { "api:read": reader, "api:write": writer } }
      client: { claim: client_id }
    require:
      roles: { any_of: [reader, writer] }
    forward: { X-Auth-Subject: sub, X-Auth-Tenant: tenant, X-Auth-Roles: roles, X-Auth-Client: client }
Y
} >policy.yaml
# The baseline: one issuer, one key.
"$py" -c 'import json,sys; k=json.load(open(sys.argv[1]))["keys"][-1]; json.dump({"keys":[k]}, open("one.jwks.json","w"))' "$keydir/iss0.jwks.json"
cat >one.yaml <<'Y'
version: 1
issuers:
  iss0: { issuer: https://sso0.example.com, jwks_file: one.jwks.json, algorithms: [RS256], types: [at+jwt], max_lifetime: 1h }
zones:
  api:
    audience: https://api.example.com
    accept: [iss0]
    max_age: 1h
    claims: { sub: {} }
Y

# 3. The tokens: realistic access tokens, spread over the issuers.
"$py" - "$keydir" "$nissuers" "$nkeys" "$ntok" >tokens <<'PY'
import sys, time, uuid, random
import jwt
from cryptography.hazmat.primitives import serialization

keydir, ni, nk, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
keys = []
for i in range(ni):
    with open(f"{keydir}/iss{i}.pem", "rb") as f:
        keys.append(serialization.load_pem_private_key(f.read(), password=None))
now = int(time.time())
rnd = random.Random(1)
scopes = ["api:read", "api:read api:write", "openid profile api:read", "api:write offline_access"]
for t in range(n):
    i = t % ni
    claims = {
        "iss": f"https://sso{i}.example.com",
        "sub": f"user-{t:06d}@example.com",
        "aud": "https://api.example.com",
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "auth_time": now - rnd.randint(0, 600),
        "jti": str(uuid.UUID(int=rnd.getrandbits(128))),
        "client_id": f"web-app-{rnd.randint(1, 50)}",
        "tid": str(uuid.UUID(int=rnd.getrandbits(128))),
        "scope": rnd.choice(scopes),
    }
    hdr = {"typ": "at+jwt", "kid": f"iss{i}-k{nk - 1}"}
    print(jwt.encode(claims, keys[i], algorithm="RS256", headers=hdr))
PY
toklen=$(awk '{ s += length($0) } END { printf "%.0f", s / NR }' tokens)
"$bin" verify -p policy.yaml -z api "$(head -1 tokens)" >/dev/null

# Sends every token of TOKENS exactly once, in order, on one connection:
# the thread stops after the last answer; wrk itself runs until SIGINT,
# sent once /metrics has counted every lookup.
cat >once.lua <<'LUA'
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local sent, got = 0, 0
request = function()
  sent = sent % #tokens + 1
  return wrk.format("GET", "/v1/authorize?zone=api", { ["Authorization"] = "Bearer " .. tokens[sent] })
end
response = function(status, headers, body)
  got = got + 1
  if got >= #tokens then wrk.thread:stop() end
end
LUA
pass() { # PORT
  local before wp
  before=$(( $(hits "$1") + $(misses "$1") ))
  TOKENS=tokens taskset -c 1 wrk -t1 -c1 -d600s -s once.lua "http://127.0.0.1:$1/v1/authorize?zone=api" >wrk.out 2>&1 & wp=$!; pids+=("$wp")
  while [ $(( $(hits "$1") + $(misses "$1") - before )) -lt "$ntok" ]; do
    kill -0 "$wp" 2>/dev/null || { cat wrk.out >&2; exit 1; }
    sleep 0.2
  done
  kill -INT "$wp"; wait "$wp" || true
  if grep -q 'Non-2xx' wrk.out; then echo "non-2xx answers:" >&2; cat wrk.out >&2; exit 1; fi
}

# The baseline process.
bp=$(free_port)
taskset -c 0 "$bin" serve -p one.yaml --listen "127.0.0.1:$bp" --threads 1 2>/dev/null & pids+=($!)
wait_port "$bp"
sleep 0.5
base_rss=$(status_kib "${pids[-1]}" VmRSS)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# 4. The measured process.
sp=$(free_port)
taskset -c 0 "$bin" serve -p policy.yaml --listen "127.0.0.1:$sp" --threads 1 2>/dev/null & pids+=($!)
spid=${pids[-1]}
wait_port "$sp"
sleep 0.5
nkeys_loaded=$(metric "$sp" '^claimgate_keys\\{')
start_rss=$(status_kib "$spid" VmRSS)
pass "$sp"
h1=$(hits "$sp"); m1=$(misses "$sp")
fill_rss=$(status_kib "$spid" VmRSS)
pass "$sp"
h2=$(( $(hits "$sp") - h1 )); m2=$(( $(misses "$sp") - m1 ))
nallow=$(allowed "$sp")
fill_hwm=$(status_kib "$spid" VmHWM)
[ "$nallow" -eq $((2 * ntok)) ] || { echo "expected $((2 * ntok)) allowed decisions, got $nallow" >&2; exit 1; }
# 5. Then BENCH_CONNS connections at once, each sending a cached token:
# every connection has its own libmicrohttpd memory pool (32 KiB).
taskset -c 1 wrk -t1 -c"$conns" -d3s -H "Authorization: Bearer $(head -1 tokens)" "http://127.0.0.1:$sp/v1/authorize?zone=api" >wrk.out 2>&1 || true
conn_rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' wrk.out)
sleep 1
end_rss=$(status_kib "$spid" VmRSS)
end_hwm=$(status_kib "$spid" VmHWM)
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", 100 * a / (a + b) }'; }
verdict() { awk -v k="$1" -v t="$target_mib" 'BEGIN { printf (k / 1024 < t ? "met" : "missed") }'; }
per_hit=$(awk -v a="$fill_rss" -v b="$start_rss" -v n="$h2" 'BEGIN { printf "%.1f KiB", (a - b) / n }')

echo "| measure | value |"
echo "|---|---:|"
echo "| keys loaded (claimgate_keys) | $nkeys_loaded ($nissuers issuers x $nkeys RSA-2048) |"
echo "| distinct tokens, each sent twice | $ntok (RS256, 11 claims, $toklen bytes on average) |"
echo "| pass 1: cache hits / misses | $h1 / $m1 |"
echo "| pass 2: cache hits / misses (hit ratio) | $h2 / $m2 ($(pct "$h2" "$m2")) |"
echo "| RSS after start, 1 issuer x 1 key | $(mib "$base_rss") |"
echo "| RSS after start, $nkeys_loaded keys, cache empty | $(mib "$start_rss") |"
echo "| RSS, $nkeys_loaded keys, cache full (after pass 1) | $(mib "$fill_rss") |"
echo "| RSS growth per token held (at most: growth / pass-2 hits) | $per_hit |"
echo "| peak RSS (VmHWM) after pass 2, 1 connection | $(mib "$fill_hwm") |"
echo "| peak RSS (VmHWM) after $conns connections at once (${conn_rps:-?} req/s) | $(mib "$end_hwm") |"
echo "| RSS at end | $(mib "$end_rss") |"
echo "| target: under $target_mib MiB with 1,000 keys and a full cache | $(verdict "$fill_hwm") ($(mib "$fill_hwm")) |"
echo "| the same with $conns connections open | $(verdict "$end_hwm") ($(mib "$end_hwm")) |"
