#!/usr/bin/env bash
# bench/bench_serve.sh - `claimgate serve` under wrk on loopback, beside the
# HTTP ceiling of this machine (nginx `return 200`, one worker) and a
# minimal Node service verifying with fast-jwt (npm), in one run.
# The server is pinned to CPU 0 and wrk to CPU 1 (taskset).
#   bench/bench_serve.sh [SECONDS]          (default 10 per cell)
# Environment:
#   CLAIMGATE=/path/to/claimgate  binary to measure (default: scripts/build.sh release)
#   BENCH_ALGS="HS256 RS256 ES256"       algorithms to run
#   BENCH_CELLS="nginx peak paced paired node"  cells to run:
#     nginx  the HTTP ceiling (nginx `return 200`); with paced, also nginx
#            paced at half of its own peak, the machine's own tail (control)
#     peak   claimgate serve at full load: one repeated token, 2000 distinct
#     paced  claimgate serve paced at half of the peak just measured, for
#            both token kinds (implies peak); bench_pace (bench/serve/pace.c)
#     node   the Node fast-jwt service
#     paired claimgate serve with one repeated token and nginx `return 200`
#            in alternating rounds (BENCH_ROUNDS, default 7, of
#            BENCH_ROUND_SECS, default 2, each): the median of the rounds'
#            own ratios, which the machine's drift moves less than a ratio
#            of two cells measured minutes apart (implies nginx)
#   BENCH_NTOKENS=2000                   distinct tokens per algorithm
#   e.g. BENCH_ALGS=RS256 BENCH_CELLS=paced BENCH_NTOKENS=200 bench/bench_serve.sh 5
# Needs: wrk, nginx (Debian), node + npm (fast-jwt is installed into
# build/bench-serve), cmake for the paced cells (bench_pace is built into
# build/bench when missing or older than its source). Prints a Markdown
# table, then the targets its cells measure (met or missed by how much);
# never gates anything.
#
# The paced rows: wrk has no constant-rate mode, so they use bench_pace
# (bench/serve/pace.c), an open-loop generator on 32 keep-alive
# connections, pinned to CPU 1 like wrk. Request i is due at
# start + i / RATE, in nanoseconds; the generator sleeps on an absolute
# timer (timerfd) to each due time and writes the request on an idle
# connection, or queues it when all 32 are busy (counted as late) - the
# schedule never waits for the server. A request's latency runs from its
# due time to the end of its response, so queueing and a late send count
# against the result (coordinated omission corrected); it includes the
# generator's own wake-up delay (typically 5-10 us here). The target is
# half of the peak of the same server, algorithm and tokens, measured just
# before (for nginx, nginx's own peak). The row gives the target, the rate
# reached, p50, p99 and p99.9 from the due time, and in its label the
# service time p99 (from the write) and the late requests. The wrk rows
# have no p99.9 (-). A 1 s warm-up on the same schedule precedes each
# paced cell.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
bin=$(readlink -f "${CLAIMGATE:-$("$top/scripts/build.sh" release)/claimgate}")
algs=${BENCH_ALGS:-HS256 RS256 ES256}
ntok=${BENCH_NTOKENS:-2000}
cells=" ${BENCH_CELLS:-nginx peak paced paired node} "
has() { [[ "$cells" == *" $1 "* ]]; }
has paced && cells="$cells peak "
has paired && cells="$cells nginx peak "
rounds=${BENCH_ROUNDS:-7}
round_secs=${BENCH_ROUND_SECS:-2}
nodedir="$top/build/bench-serve"
if has node; then
  mkdir -p "$nodedir"
  [ -d "$nodedir/node_modules/fast-jwt" ] || (cd "$nodedir" && npm install --silent fast-jwt@6 >/dev/null)
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.05; done; return 1; }
pace="$top/build/bench/bench/bench_pace"
if has paced && { [ ! -x "$pace" ] || [ "$top/bench/serve/pace.c" -nt "$pace" ]; }; then
  grep -qs '^CG_BENCH:BOOL=ON' "$top/build/bench/CMakeCache.txt" ||
    cmake -S "$top" -B "$top/build/bench" -DCMAKE_BUILD_TYPE=Release -DCG_BENCH=ON -DCG_TESTS=OFF >/dev/null
  cmake --build "$top/build/bench" --target bench_pace -j "$(nproc)" >/dev/null
fi
run_wrk() { # URL [LUA] -> "req/s p50 p99"   (SECS overrides the cell length)
  local out
  out=$(TOKENS="${TOKENS:-}" taskset -c 1 wrk -t1 -c32 -d"${SECS:-$secs}s" --latency ${2:+-s "$2"} ${AUTH:+-H "$AUTH"} "$1" 2>&1)
  awk '/Requests\/sec/ {r=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%s %s %s\n", r, p50, p99}' <<<"$out"
}
cd "$work"
ng_rps=
pct() { if [ -n "$ng_rps" ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; else echo -; fi; }
# Paced at RATE requests/s by bench_pace (times from the due time):
# "req/s p50 p99 p99.9 service-p99 late".
run_pace() { # RATE URL   (AUTH or TOKENS from the caller)
  local out
  out=$(taskset -c 1 "$pace" --rate "$1" --seconds "$secs" --conns 32 ${AUTH:+-H "$AUTH"} ${TOKENS:+--tokens "$TOKENS"} "$2") || true
  awk '/^RESULT / {printf "%s %s %s %s %s %s\n", $2, $3, $5, $6, $8, $9; ok = 1} END {if (!ok) print "failed - - - - -"}' <<<"$out"
}
paced_row() { # SERVER-LABEL ALG TOKENS-LABEL TARGET URL   (AUTH or TOKENS from the caller)
  local a b c d e f
  read -r a b c d e f < <(run_pace "$4" "$5")
  echo "| $1 (target $4/s; service p99 $e, $f late) | $2 | $3 | $a | $b | $c | $d | - |"
  pace_p99=$c
}
# The targets of the performance work, as this run measured them: rows
# collected while the cells run, printed last.
targets=()
ms() { # a time as wrk writes it (212.00us, 1.15ms, 2.01s) -> milliseconds
  awk -v t="$1" 'BEGIN { v = t + 0; if (t ~ /us$/) v /= 1000; else if (t ~ /[0-9]s$/ && t !~ /ms$/) v *= 1000; printf "%.3f", v }'
}
target() { # WHAT GOAL-TEXT GOT-TEXT MET(1/0) MISS-TEXT
  targets+=("| $1 | $2 | $3 | $([ "$4" = 1 ] && echo met || echo "missed by $5") |")
}
p99_target() { # ALG TOKENS-LABEL P99
  local m
  if [ "$3" = failed ] || [ -z "$3" ]; then
    target "$1, $2: p99 at half of peak" "< 1 ms" "failed" 0 "a failed run"
    return
  fi
  m=$(ms "$3")
  target "$1, $2: p99 at half of peak" "< 1 ms" "$m ms" \
    "$(awk -v m="$m" 'BEGIN { print (m < 1 ? 1 : 0) }')" \
    "$(awk -v m="$m" 'BEGIN { printf "%.0f %%", 100 * (m - 1) }')"
}
half() { awk -v p="$1" 'BEGIN { printf "%.0f", p / 2 }'; }
half="claimgate serve (1 thread), paced at half of peak"
echo "| server | alg | tokens | req/s | p50 | p99 | p99.9 | vs nginx |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
if has nginx; then
# nginx ceiling
np=$(free_port)
mkdir -p ng/logs
cat >ng/nginx.conf <<NG
worker_processes 1; daemon off; pid $work/ng/nginx.pid; error_log $work/ng/logs/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$np; location / { return 200; } } }
NG
taskset -c 0 nginx -p "$work/ng" -c "$work/ng/nginx.conf" & pids+=($!)
wait_port "$np"
read -r ng_rps ng_p50 ng_p99 < <(run_wrk "http://127.0.0.1:$np/")
echo "| nginx \`return 200\`, 1 worker | - | - | $ng_rps | $ng_p50 | $ng_p99 | - | 100% |"
# The machine's own tail under a paced load: nginx paced the same way at
# half of its own peak, just measured.
has paced && paced_row "nginx \`return 200\`, paced at half of peak, control" - - "$(half "$ng_rps")" "http://127.0.0.1:$np/"
ng_pid=${pids[-1]}
has paired || { kill "$ng_pid"; wait "$ng_pid" 2>/dev/null || true; }
fi
# Alternating rounds of nginx and serve (URL, with AUTH from the caller):
# "median-serve-req/s median-nginx-req/s median-ratio%".
paired() {
  local i a n rs=() ns=() qs=()
  for i in $(seq 1 "$rounds"); do
    read -r n _ < <(AUTH= SECS="$round_secs" run_wrk "http://127.0.0.1:$np/")
    read -r a _ < <(SECS="$round_secs" run_wrk "$1")
    rs+=("$a"); ns+=("$n"); qs+=("$(awk -v a="$a" -v b="$n" 'BEGIN { printf "%.1f", 100 * a / b }')")
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  echo "$(med "${rs[@]}") $(med "${ns[@]}") $(med "${qs[@]}")"
}
for alg in $algs; do
  "$bin" keygen -a "$alg" --kid k -o "$alg.key" --jwks "$alg.jwks.json" >/dev/null
  cat >"$alg.yaml" <<Y
version: 1
issuers:
  sso: { issuer: https://sso.example.com, jwks_file: $alg.jwks.json, algorithms: [$alg], max_lifetime: 1h }
zones:
  api:
    audience: https://api.example.com
    accept: [sso]
    max_age: 1h
    claims: { sub: {}, roles: { claim: scope, split: space } }
    forward: { X-Auth-Subject: sub, X-Auth-Roles: roles }
Y
  for i in $(seq 1 "$ntok"); do
    "$bin" mint -k "$alg.key" -a "$alg" --kid k --iss https://sso.example.com --sub "user$i" --aud https://api.example.com --scope "read write" --ttl 30m
  done >"$alg.tokens"
  one=$(head -1 "$alg.tokens")
  if has peak; then
  sp=$(free_port)
  taskset -c 0 "$bin" serve -p "$alg.yaml" --listen "127.0.0.1:$sp" --threads 1 2>/dev/null & pids+=($!)
  wait_port "$sp"
  url="http://127.0.0.1:$sp/v1/authorize?zone=api"
  read -r a b c < <(AUTH="Authorization: Bearer $one" run_wrk "$url")
  echo "| claimgate serve (1 thread) | $alg | 1 repeated (cache hits) | $a | $b | $c | - | $(pct "$a" "$ng_rps") |"
  peak_one=$a
  read -r a b c < <(TOKENS="$alg.tokens" run_wrk "$url" "$top/bench/serve/rotate.lua")
  echo "| claimgate serve (1 thread) | $alg | $ntok distinct | $a | $b | $c | - | $(pct "$a" "$ng_rps") |"
  peak_many=$a
  if has paced; then
    AUTH="Authorization: Bearer $one" paced_row "$half" "$alg" "1 repeated (cache hits)" "$(half "$peak_one")" "$url"
    p99_target "$alg" "1 repeated token" "$pace_p99"
    TOKENS="$alg.tokens" paced_row "$half" "$alg" "$ntok distinct" "$(half "$peak_many")" "$url"
    p99_target "$alg" "$ntok distinct tokens" "$pace_p99"
  fi
  if has paired; then
    read -r a b c < <(AUTH="Authorization: Bearer $one" paired "$url")
    echo "| claimgate serve (1 thread), $rounds rounds of ${round_secs} s alternating with nginx (median; nginx's median $b) | $alg | 1 repeated (cache hits) | $a | - | - | - | **$c%** paired |"
    target "$alg, 1 repeated token / nginx \`return 200\` (paired)" "70 %" "$c %" \
      "$(awk -v c="$c" 'BEGIN { print (c >= 70 ? 1 : 0) }')" \
      "$(awk -v c="$c" 'BEGIN { printf "%.1f points", 70 - c }')"
  fi
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  fi
  has node || continue
  if [ "$alg" != HS256 ]; then
    openssl pkey -in "$alg.key" -pubout -out "$alg.pub.pem" 2>/dev/null
    key="$alg.pub.pem"
  else
    key="$alg.secret"
    python3 -c 'import json,base64,sys; k=json.load(open(sys.argv[1]))["k"]; sys.stdout.buffer.write(base64.urlsafe_b64decode(k+"="*(-len(k)%4)))' "$alg.key" >"$key"
  fi
  fp=$(free_port)
  NODE_PATH="$nodedir/node_modules" taskset -c 0 node "$top/bench/serve/fastjwt_server.js" "$fp" "$key" "$alg" & pids+=($!)
  wait_port "$fp" || true
  read -r a b c < <(TOKENS="$alg.tokens" run_wrk "http://127.0.0.1:$fp/v1/authorize?zone=api" "$top/bench/serve/rotate.lua")
  echo "| Node http + fast-jwt (no cache) | $alg | $ntok distinct | $a | $b | $c | - | $(pct "$a" "$ng_rps") |"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done
if [ "${#targets[@]}" -gt 0 ]; then
  echo
  echo "Against the targets (this run; the nginx control's own p99 is in its row above):"
  echo
  echo "| target | goal | this run | verdict |"
  echo "|---|---:|---:|---|"
  printf '%s\n' "${targets[@]}"
fi
