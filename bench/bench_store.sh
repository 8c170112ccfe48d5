#!/usr/bin/env bash
# bench/bench_store.sh - what the shared store costs a decision: the
# latency that the revocation check (one MGET) and the replay entry (one
# SET NX PXAT) add to `claimgate serve` on a loopback Redis, and serve's
# throughput with and without them (docs/performance.md, "Shared store").
#
# Builds claimgate (Release, in $CG_BENCH_BUILD, default build/bench-store)
# and starts redis-server on a free loopback port (no persistence).
#
# 1. The store's operations alone, as the engine calls them (a small C
#    program built here against libclaimgate.a, one thread, N calls each):
#    the revocation check (MGET), the replay entry (SET NX PXAT), both one
#    after the other, and both in one round trip (the script the engine
#    uses for a replay zone when revocation is configured).
# 2. Per configuration, one `claimgate serve --threads 2` with an audit log:
#   memory        no store section: no revocation, no replay (the baseline)
#   redis         store: redis, zone without replay: + one MGET
#   redis+replay  store: redis, zone with replay: reject: + MGET + SET NX
#   memory+replay store: memory, replay: reject (the in-process store)
# Latency: N sequential requests on one keep-alive connection, each with a
# fresh token (fresh jti); the decision's latency is the server's own
# (`latency_us` of the audit line: request in to answer queued), so the
# client's overhead is not in it. Throughput: wrk, C connections, S seconds,
# every request a fresh token. Tokens are HS256 (minted here with Python's
# hmac), so that signature checking, the same in every row, stays small
# next to what is measured. Everything runs on this machine: the numbers
# include wrk, Redis and claimgate sharing its cores.
#
# Usage: bench/bench_store.sh [-n REQUESTS] [-s SECONDS] [-c CONNECTIONS]
# Benchmarks never gate: the numbers are printed, not judged.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${CG_BENCH_BUILD:-$top/build/bench-store}
n=5000
secs=5
conns=16
while getopts n:s:c: o; do
	case $o in
	n) n=$OPTARG ;;
	s) secs=$OPTARG ;;
	c) conns=$OPTARG ;;
	*) echo "usage: $0 [-n REQUESTS] [-s SECONDS] [-c CONNECTIONS]" >&2; exit 2 ;;
	esac
done
for t in redis-server redis-cli python3 curl; do
	command -v "$t" >/dev/null || { echo "$0: needs $t" >&2; exit 2; }
done
have_wrk=0
command -v wrk >/dev/null && have_wrk=1

work=$(mktemp -d)
redis_pid=
serve_pid=
cleanup() {
	if [[ -n $serve_pid ]]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
	if [[ -n $redis_pid ]]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCG_TESTS=OFF \
	-DCG_SANITIZE= >/dev/null
cmake --build "$dir" --target claimgate >/dev/null
cg=$dir/claimgate
cd "$work"

free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
	>redis.log 2>&1 &
redis_pid=$!
for ((i = 0; i < 100; i++)); do
	redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break
	sleep 0.05
done

"$cg" keygen -a HS256 --kid h1 -o hs.jwk --jwks hs.jwks.json >/dev/null

policy() { # NAME STORE-SECTION
	cat >"$1.yaml" <<YAML
version: 1
$2
issuers:
  hs:
    issuer: https://hs.example.com
    jwks_file: hs.jwks.json
    algorithms: [HS256]
    max_lifetime: 1h
zones:
  plain:
    audience: api
    accept: [hs]
    claims:
      sub: {}
  replay:
    audience: api
    accept: [hs]
    replay: reject
    claims:
      sub: {}
YAML
}
policy memory ""
policy redis "store: { type: redis, url: \"redis://127.0.0.1:$rport\", key_prefix: \"bench:\", timeout: 50ms }"

# Tokens: HS256 over {iss, aud, sub, jti, iat, exp}, a fresh jti each.
mint_tokens() { # FILE COUNT
	python3 - "$1" "$2" <<'PY'
import base64, hashlib, hmac, json, sys, time
k = json.load(open("hs.jwk"))
key = base64.urlsafe_b64decode(k["k"] + "=" * (-len(k["k"]) % 4))
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
head = b64(json.dumps({"alg": "HS256", "kid": "h1"}, separators=(",", ":")).encode())
now = int(time.time())
tag = "%d-%d" % (now, time.monotonic_ns() % 1000000)
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        p = b64(json.dumps({"iss": "https://hs.example.com", "aud": "api",
            "sub": "user%d" % (i % 1000), "jti": "%s-%d" % (tag, i),
            "iat": now, "exp": now + 1800}, separators=(",", ":")).encode())
        si = head + b"." + p
        sig = b64(hmac.new(key, si, hashlib.sha256).digest())
        f.write((si + b"." + sig).decode() + "\n")
PY
}

serve() { # POLICY
	local port i
	port=$(free_port)
	: >audit.log
	"$cg" serve -p "$1" --listen "127.0.0.1:$port" --threads 2 \
		--audit audit.log 2>>serve.err &
	serve_pid=$!
	for ((i = 0; i < 100; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
		sleep 0.05
	done
	url=http://127.0.0.1:$port
}

unserve() {
	kill "$serve_pid" 2>/dev/null || true
	wait "$serve_pid" 2>/dev/null || true
	serve_pid=
}

# N sequential requests on one connection; prints the server-side p50,
# p90, p99 in microseconds and the decisions seen.
latency() { # ZONE TOKENS
	python3 - "$url" "$1" "$2" <<'PY'
import http.client, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
for t in open(sys.argv[3]).read().split():
    c.request("GET", "/v1/authorize?zone=" + sys.argv[2],
              headers={"Authorization": "Bearer " + t})
    c.getresponse().read()
PY
	sleep 0.3 # the audit writer flushes
	python3 - audit.log <<'PY'
import collections, json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
lat = sorted(l["latency_us"] for l in L[50:])   # the first 50 warm up
r = collections.Counter(l.get("reason") for l in L)
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("%d %d %d %s" % (q(0.50), q(0.90), q(0.99),
      ",".join("%s=%d" % kv for kv in sorted(r.items()))))
PY
}

cat >rotate.lua <<'LUA'
-- each wrk thread walks its own stripe of the token file: no token twice
local tokens, i, step = {}, 0, 1
local seen = 0
function setup(thread)
  thread:set("id", seen)   -- the global `id` of that thread's state
  seen = seen + 1
end
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  step = tonumber(args[2])
  i = id + 1 - step
end
function request()
  i = i + step
  if i > #tokens then i = id + 1 end
  return wrk.format("GET", "/v1/authorize?zone=" .. args_zone, {
    ["Authorization"] = "Bearer " .. tokens[i] })
end
LUA

throughput() { # ZONE TOKENS: prints requests/s and non-2xx count
	local out
	sed "s/args_zone/\"$1\"/" rotate.lua >rot.lua
	out=$(wrk -t2 -c"$conns" -d"${secs}s" -s rot.lua "$url" -- "$work/$2" 2)
	printf '%s %s\n' "$(awk '/^Requests\/sec/ { printf "%d", $2 }' <<<"$out")" \
		"$(awk '/Non-2xx/ { print $NF }' <<<"$out" | grep . || echo 0)"
}

# ---- 1. the store operations alone ------------------------------------------

cat >ops.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "policy.h"
#include "store.h"

static int
cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void
report(const char *what, int64_t *lat, int n)
{
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("%-34s %6lld %6lld %6lld\n", what, (long long)lat[n / 2],
	    (long long)lat[n * 9 / 10], (long long)lat[n * 99 / 100]);
}

int
main(int argc, char **argv)
{
	struct cg_policy *p;
	struct cg_store *st;
	struct cg_error e;
	const struct cg_store_ext *x;
	struct cg_revoke_query q;
	int n = atoi(argv[2]), i, rv, ins;
	int64_t *lat = calloc((size_t)n, sizeof(*lat)), t0, now = time(NULL);
	unsigned char key[32];
	cg_revoke_kind k;
	char jti[64];

	if (cg_policy_load(argv[1], &p, &e) != CG_OK ||
	    cg_store_new(p, &st, &e) != CG_OK) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	x = cg__store_ext(st);
	memset(&q, 0, sizeof(q));
	q.issuer = "hs";
	q.jti = "j-0123456789";
	q.jti_len = strlen(q.jti);
	q.sub = "user42";
	q.sub_len = 6;
	q.kid = "h1";
	q.jkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
	q.has_iat = 1;
	q.iat = (double)now;
	q.now = now;
#define LOOP(what, body)                                                    \
	for (i = 0; i < n + 200; i++) {                                     \
		snprintf(jti, sizeof(jti), "%s-%lld-%d", what, (long long)now, \
		    i);                                                     \
		cg__replay_key("z", "https://hs.example.com", 22, jti,       \
		    strlen(jti), key);                                      \
		t0 = cg__mono_us();                                         \
		if ((body) != CG_OK)                                        \
			return 2;                                           \
		if (i >= 200)                                               \
			lat[i - 200] = cg__mono_us() - t0;                  \
	}                                                                   \
	report(what, lat, n)
	printf("%-34s %6s %6s %6s\n", "operation (one thread)", "p50_us",
	    "p90_us", "p99_us");
	LOOP("revocation check (MGET)", x->is_revoked(st, &q, &rv, &k));
	LOOP("replay entry (SET NX PXAT)",
	    st->ops->insert_if_absent(st, key, now + 600, now, &ins));
	LOOP("both, one after the other",
	    x->is_revoked(st, &q, &rv, &k) != CG_OK
		? CG_ERR_STORE
		: st->ops->insert_if_absent(st, key, now + 600, now, &ins));
	LOOP("both in one round trip (script)",
	    x->check_insert(st, &q, key, now + 600, &rv, &k, &ins));
	cg_store_free(st);
	cg_policy_free(p);
	free(lat);
	return 0;
}
C
ops_ok=0
if cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$top/include" -I"$top/src" \
	ops.c "$dir/libclaimgate.a" \
	$(PKG_CONFIG_PATH="$dir" pkg-config --static --libs claimgate | sed 's/-lclaimgate//') \
	$(pkg-config --libs libcurl 2>/dev/null) -o ops 2>ops.err; then
	ops_ok=1
fi

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "nproc: $(nproc)"
echo "redis: $(redis-server --version | awk '{print $3}')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "requests per latency run: $n (after 50 to warm up); wrk: $conns connections, ${secs}s"
echo

if ((ops_ok)); then
	echo "== the store's operations alone ($n calls each, loopback Redis)"
	./ops redis.yaml "$n"
else
	echo "== the store's operations alone: could not build the harness:"
	head -5 ops.err
fi
echo
echo "== claimgate serve, one connection, sequential (server-side latency)"
rows=("memory:memory:plain" "redis:redis:plain" "redis+replay:redis:replay" "memory+replay:memory:replay")
declare -A p50 p99
printf '%-14s %8s %8s %8s  %s\n' config p50_us p90_us p99_us decisions
for row in "${rows[@]}"; do
	IFS=: read -r name pol zone <<<"$row"
	mint_tokens "lat-$name.txt" $((n + 50))
	serve "$pol.yaml"
	read -r a b c d <<<"$(latency "$zone" "lat-$name.txt")"
	unserve
	p50[$name]=$a
	p99[$name]=$c
	printf '%-14s %8s %8s %8s  %s\n' "$name" "$a" "$b" "$c" "$d"
done
echo
echo "added by the store (difference of the server-side percentiles):"
printf '  revocation check (MGET):         p50 %+d us, p99 %+d us\n' \
	$((p50[redis] - p50[memory])) $((p99[redis] - p99[memory]))
printf '  revocation + replay (MGET + SET): p50 %+d us, p99 %+d us\n' \
	$((p50[redis+replay] - p50[memory])) $((p99[redis+replay] - p99[memory]))
echo

if ((have_wrk)); then
	echo "== claimgate serve --threads 2, wrk -t2 -c$conns, ${secs}s"
	printf '%-14s %10s %8s\n' config req_per_s non_2xx
	declare -A rps
	for row in "${rows[@]}"; do
		IFS=: read -r name pol zone <<<"$row"
		# enough fresh tokens for the run at up to 40k requests/s
		mint_tokens "tp-$name.txt" $((secs * 40000))
		serve "$pol.yaml"
		read -r r x <<<"$(throughput "$zone" "tp-$name.txt")"
		unserve
		rps[$name]=$r
		printf '%-14s %10s %8s\n' "$name" "$r" "$x"
	done
	echo
	echo "throughput, replay on (redis+replay) / replay off (redis): $((100 * rps[redis+replay] / rps[redis]))%"
	echo "throughput, redis+replay / memory (no store): $((100 * rps[redis+replay] / rps[memory]))%"
else
	echo "wrk not installed: no throughput runs"
fi
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
