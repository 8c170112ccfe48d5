#!/usr/bin/env bash
# bench/soak.sh - a soak of `claimgate serve`: a mixed request load under
# wrk for SECONDS, with policy reloads, while memory and descriptors are
# watched. Not part of CI; results are recorded in docs/security.md.
#   bench/soak.sh [SECONDS]                  (default 600)
# Environment:
#   CLAIMGATE=/path/to/claimgate   binary to soak (default: scripts/build.sh release)
#   SOAK_THREADS=2                 serve --threads (default 2, both on CPU 0)
#   SOAK_CONNECTIONS=32            wrk connections
#   SOAK_INTERVAL=10               seconds between samples and reloads
#   SOAK_KEEP=1                    keep the work folder (audit log, samples)
# Needs: wrk, curl, python3, taskset, and room in $TMPDIR for the audit
# log (2 to 3 GB for a 600 s run).
#
# What runs: keys for HS256, RS256 and ES256 (`claimgate keygen`); a policy
# of four zones (one per algorithm, and `once` with `replay: reject` on the
# memory store); about 2,000 request lines minted with `claimgate mint`,
# shuffled: valid tokens of each algorithm (300 distinct each, and one
# token of each repeated 100-150 times: cache hits), replay-zone tokens,
# expired tokens, tokens of an untrusted issuer, forged signatures, malformed
# tokens, no Authorization, tokens denied 403 by a `require` rule, a
# required trusted claim failing its pattern, and requests that select no
# zone. `serve` runs pinned to CPU 0 with --audit; wrk (-t1, pinned to CPU
# 1) rotates through the lines with bench/serve/soak.lua, which checks
# every response (see that file). Every SOAK_INTERVAL seconds the script
# samples serve's VmRSS and open descriptors, then installs the other of
# two valid policies (equivalent in outcome, different in text) and sends
# SIGHUP; twice (once in a short run) it installs a broken policy instead,
# which must be refused while the old one keeps serving.
#
# At the end, after a clean SIGTERM, the audit log is matched line by line
# to the requests (by token SHA-256) and a summary is printed. The exit
# status is 1 when: a response or audit line does not fit its request, a
# token of the replay zone was allowed more than once, wrk saw socket
# errors, RSS grew by 5 % or more after the warm-up (the first 60 s, or the
# first fifth of a run shorter than 300 s), the descriptor count grew
# (under load from the warm-up to the end, or idle before against idle
# after), the reloads done or refused differ from those sent, serve died
# or did not stop cleanly, or /healthz failed at the end.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
interval=${SOAK_INTERVAL:-10}
threads=${SOAK_THREADS:-2}
conns=${SOAK_CONNECTIONS:-32}
case "$secs" in '' | *[!0-9]*) echo "usage: bench/soak.sh [SECONDS]" >&2; exit 2 ;; esac
[ "$secs" -ge $((3 * interval)) ] || { echo "soak: SECONDS must be at least $((3 * interval))" >&2; exit 2; }
for t in wrk curl python3 taskset; do
  command -v "$t" >/dev/null || { echo "soak: $t is needed" >&2; exit 2; }
done
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "${SOAK_KEEP:-}" ]; then echo "soak: work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
bin=${CLAIMGATE:-$("$top/scripts/build.sh" release)/claimgate}
[ -x "$bin" ] || { echo "soak: $bin is not executable" >&2; exit 2; }
bin=$(readlink -f "$bin")
cd "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
nfds() { ls "/proc/$1/fd" | wc -l; }

# ---- keys, policies ----------------------------------------------------
for a in HS256 RS256 ES256; do
  "$bin" keygen -a "$a" --kid "$a-1" -o "$a.key" --jwks "$a.jwks.json" >/dev/null
done
"$bin" keygen -a RS256 --kid rogue-1 -o rogue.key >/dev/null # a key no policy trusts
# Valid tokens must outlive the run: minted now, used until the end.
life=$((secs + 1800))
aud=https://api.soak.example
policy() { # VARIANT (a | b | broken-ref | broken-yaml)
  local extra_map="" leeway=30s
  [ "$1" = b ] && { extra_map=', "api:admin": admin'; leeway=45s; }
  local once_accept="[hs-sso, rs-sso]"
  [ "$1" = broken-ref ] && once_accept="[hs-sso, nobody]"
  cat <<Y
# soak policy, variant $1
version: 1
store: { type: memory }
issuers:
  hs-sso: { issuer: https://hs.soak.example, jwks_file: HS256.jwks.json, algorithms: [HS256], max_lifetime: ${life}s }
  rs-sso: { issuer: https://rs.soak.example, jwks_file: RS256.jwks.json, algorithms: [RS256], types: [at+jwt], max_lifetime: ${life}s }
  es-sso: { issuer: https://es.soak.example, jwks_file: ES256.jwks.json, algorithms: [ES256], max_lifetime: ${life}s }
zones:
  hs:
    audience: $aud
    accept: [hs-sso]
    leeway: $leeway
    max_age: ${life}s
    claims:
      sub: {}
      roles: { claim: scope, split: space, map: { "api:read": reader, "api:write": writer$extra_map } }
    require: { roles: { any_of: [reader, writer] } }
    forward: { X-Auth-Subject: sub, X-Auth-Roles: roles }
  rs:
    audience: $aud
    accept: [rs-sso]
    leeway: $leeway
    max_age: ${life}s
    require_claims: [sub]
    claims:
      sub: {}
      tenant: { claim: tid, pattern: "[a-z0-9-]{1,32}", required: true }
      roles: { claim: scope, split: space, map: { "api:write": writer, "api:read": reader$extra_map } }
    require: { roles: { all_of: [writer] } }
    forward: { X-Auth-Subject: sub, X-Auth-Tenant: tenant, X-Auth-Roles: roles }
  es:
    audience: $aud
    accept: [es-sso]
    max_age: ${life}s
    claims:
      sub: {}
      groups: { claim: groups, split: comma, pattern: "[a-z]+" }
    forward: { X-Auth-Subject: sub, X-Auth-Groups: groups }
    match: { paths: [/es/], methods: [GET] }
  once:
    audience: $aud
    accept: $once_accept
    max_age: ${life}s
    require_claims: [sub, jti]
    replay: reject
    claims: { sub: {} }
    forward: { X-Auth-Subject: sub }
Y
  [ "$1" = b ] && printf '  spare:\n    audience: %s\n    accept: [hs-sso]\n    match: { paths: [/spare/] }\n' "$aud"
  [ "$1" = broken-yaml ] && printf '  hs2:\n    audience: [unclosed\n'
  return 0
}
for v in a b broken-ref broken-yaml; do policy "$v" >"policy-$v.yaml"; done
for v in a b; do "$bin" serve -n -p "policy-$v.yaml" 2>/dev/null || { echo "soak: policy $v does not load" >&2; exit 1; }; done
for v in broken-ref broken-yaml; do
  if "$bin" serve -n -p "policy-$v.yaml" 2>/dev/null; then echo "soak: policy $v loads but must not" >&2; exit 1; fi
done
cp policy-a.yaml policy.yaml

# ---- tokens --------------------------------------------------------------
now=$(date +%s)
HS=(-k HS256.key -a HS256 --kid HS256-1 --iss https://hs.soak.example --aud "$aud")
RS=(-k RS256.key -a RS256 --kid RS256-1 --typ at+jwt --iss https://rs.soak.example --aud "$aud")
ES=(-k ES256.key -a ES256 --kid ES256-1 --iss https://es.soak.example --aud "$aud")
echo "soak: minting tokens" >&2
for i in $(seq 300); do "$bin" mint "${HS[@]}" --sub "hs-user$i" --scope "api:read" --ttl "${life}s"; done >ok_hs
for i in $(seq 300); do "$bin" mint "${RS[@]}" --sub "rs-user$i" --scope "api:write api:read" --claims "{\"tid\":\"tenant-$((i % 7))\"}" --ttl "${life}s"; done >ok_rs
for i in $(seq 300); do "$bin" mint "${ES[@]}" --sub "es-user$i" --claims '{"groups":"ops,dev,Not-A-Group"}' --ttl "${life}s"; done >ok_es
{
  for i in $(seq 100); do "$bin" mint "${HS[@]}" --sub "once-hs$i" --ttl "${life}s"; done
  for i in $(seq 100); do "$bin" mint "${RS[@]}" --sub "once-rs$i" --ttl "${life}s"; done
} >once
for i in $(seq 50); do # iat two hours ago, exp 10 minutes later
  "$bin" mint "${HS[@]}" --sub "old-hs$i" --scope "api:read" --now $((now - 7200)) --ttl 10m >>expired_hs
  "$bin" mint "${RS[@]}" --sub "old-rs$i" --scope api:write --claims '{"tid":"acme"}' --now $((now - 7200)) --ttl 10m >>expired_rs
done
for i in $(seq 50); do "$bin" mint -k rogue.key -a RS256 --kid rogue-1 --typ at+jwt --iss https://rogue.soak.example --aud "$aud" --sub "rogue$i" --scope api:write --claims '{"tid":"acme"}' --ttl "${life}s"; done >untrusted
for i in $(seq 100); do "$bin" mint "${RS[@]}" --sub "reader$i" --scope api:read --claims '{"tid":"acme"}' --ttl "${life}s"; done >forbidden
for i in $(seq 50); do "$bin" mint "${RS[@]}" --sub "badtenant$i" --scope api:write --claims '{"tid":"Not A Tenant"}' --ttl "${life}s"; done >untrusted_claim

# ---- the request mix ------------------------------------------------------
python3 - <<'PY'
import random
random.seed(1)
lines = []
def add(cls, path, toks):
    lines.extend(f"{cls}\t{path}\t{t}" for t in toks)
def rd(name):
    return open(name).read().split()
def forge(t):
    # one signature character changed, in the middle of the segment so
    # that the base64url stays canonical: a signature_invalid, not a
    # token_malformed
    h, p, s = t.split(".")
    k = len(s) // 2
    return f"{h}.{p}.{s[:k]}{'B' if s[k] == 'A' else 'A'}{s[k + 1:]}"
Z = "/v1/authorize?zone="
ok_hs, ok_rs, ok_es = rd("ok_hs"), rd("ok_rs"), rd("ok_es")
add("ok@hs", Z + "hs", ok_hs + [ok_hs[0]] * 150)
add("ok@rs", Z + "rs", ok_rs + [ok_rs[0]] * 100)
add("ok@es", "/v1/authorize/es/items", ok_es + [ok_es[0]] * 100)  # routed by match
add("replay@once", Z + "once", rd("once"))
add("token_expired@hs", Z + "hs", rd("expired_hs"))
add("token_expired@rs", Z + "rs", rd("expired_rs"))
add("issuer_untrusted@rs", Z + "rs", rd("untrusted"))
add("forbidden@rs", Z + "rs", rd("forbidden"))
add("claim_untrusted@rs", Z + "rs", rd("untrusted_claim"))
add("signature_invalid@hs", Z + "hs", [forge(t) for t in ok_hs[-20:]])
add("signature_invalid@rs", Z + "rs", [forge(t) for t in ok_rs[-20:]])
add("signature_invalid@es", "/v1/authorize/es/items", [forge(t) for t in ok_es[-20:]])
bad = []
for i, t in enumerate(ok_rs[-10:]):
    h, p, s = t.split(".")
    bad += [f"{h}.{p}",                      # two segments
            f"{h}.{p}.{s}.{s}",              # four segments
            f"{h}.{p[:9]}*{p[10:]}.{s}",     # a byte outside base64url
            f"{h}=.{p}.{s}",                 # padding
            f"bm90IGpzb24.{p}.{s}",          # header is not JSON
            f"garbage-{i}",                  # no dots at all
            f"a.b{i}.c"]                     # short, non-canonical segments
add("token_malformed@rs", Z + "rs", bad)
add("token_missing@hs", Z + "hs", [""] * 60)
add("no_zone@", "/v1/authorize/nowhere", ok_hs[:20])
random.shuffle(lines)
open("mix.tsv", "w").write("\n".join(lines) + "\n")
PY
mixn=$(wc -l <mix.tsv)

# ---- serve -------------------------------------------------------------
port=$(free_port)
base="http://127.0.0.1:$port"
taskset -c 0 "$bin" serve -p policy.yaml --listen "127.0.0.1:$port" --threads "$threads" --audit audit.log 2>serve.err &
spid=$!
pids+=("$spid")
for _ in $(seq 100); do curl -sf -o /dev/null "$base/readyz" && break; sleep 0.05; done
curl -sf -o /dev/null "$base/readyz" || { echo "soak: serve did not become ready" >&2; cat serve.err >&2; exit 1; }
sleep 0.5
idle_fds_before=$(nfds "$spid")
idle_rss_before=$(rss_kb "$spid")

# ---- load, samples, reloads ----------------------------------------------
ticks=$((secs / interval))
broken1=$((ticks * 3 / 10)); [ "$broken1" -ge 2 ] || broken1=2
broken2=$((ticks * 7 / 10)); [ "$broken2" -gt $((broken1 + 1)) ] && [ "$broken2" -lt $((ticks - 1)) ] || broken2=0
if [ "$secs" -ge 300 ]; then warm=60; else warm=$((secs / 5)); fi
echo "soak: $secs s, $mixn request lines, serve --threads $threads on CPU 0, wrk -t1 -c$conns on CPU 1, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
MIX="$work/mix.tsv" SOAK_RESULT="$work/result.txt" taskset -c 1 \
  wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s --latency -s "$top/bench/serve/soak.lua" "$base/" >wrk.out 2>&1 &
wpid=$!
pids+=("$wpid")
start=$(date +%s)
echo "t rss_kb hwm_kb fds then" >samples.txt
tick=0 cur=a sent_ok=0 sent_bad=0 died=0
while kill -0 "$wpid" 2>/dev/null; do
  sleep 1
  [ $(($(date +%s) - start)) -ge $(((tick + 1) * interval)) ] || continue
  kill -0 "$wpid" 2>/dev/null || break # samples are taken under load only
  tick=$((tick + 1))
  if ! kill -0 "$spid" 2>/dev/null; then died=1; kill "$wpid" 2>/dev/null || true; break; fi
  # sample first: a reload opens the policy and key files for a moment
  sample="$(($(date +%s) - start)) $(rss_kb "$spid") $(hwm_kb "$spid") $(nfds "$spid")"
  action=-
  # no reload in the last half interval: its outcome must be counted
  if [ $((tick * interval)) -le $((secs - interval / 2)) ]; then
    if [ "$tick" -eq "$broken1" ]; then next=broken-ref
    elif [ "$tick" -eq "$broken2" ]; then next=broken-yaml
    elif [ "$cur" = a ]; then next=b
    else next=a
    fi
    cp "policy-$next.yaml" policy.tmp && mv policy.tmp policy.yaml
    kill -HUP "$spid"
    case "$next" in broken-*) sent_bad=$((sent_bad + 1)) ;; *) sent_ok=$((sent_ok + 1)); cur=$next ;; esac
    action="reload:$next"
  fi
  echo "$sample $action" >>samples.txt
  echo "soak: t rss_kb hwm_kb fds then: $sample $action" >&2
done
wait "$wpid" || true
# `pids` keeps the pid; cleanup's kill of a finished wrk is harmless
if ! kill -0 "$spid" 2>/dev/null; then died=1; fi

# ---- after the load ------------------------------------------------------
health=fail idle_fds_after=- metrics_ok=- metrics_failed=- serve_rc=-
if [ "$died" = 0 ]; then
  # the client's connections are closed: the count must come back
  for _ in $(seq 50); do
    idle_fds_after=$(nfds "$spid")
    [ "$idle_fds_after" -le "$idle_fds_before" ] && break
    sleep 0.1
  done
  hwm_end=$(hwm_kb "$spid")
  curl -sf "$base/healthz" >/dev/null && health=ok
  curl -sf "$base/metrics" >metrics.txt || true
  metrics_ok=$(awk '/^claimgate_policy_reloads_total\{result="ok"\}/ {print $2}' metrics.txt)
  metrics_failed=$(awk '/^claimgate_policy_reloads_total\{result="failed"\}/ {print $2}' metrics.txt)
  kill -TERM "$spid"
  serve_rc=0
  wait "$spid" || serve_rc=$?
else
  hwm_end=-
  wait "$spid" || true
fi
[ -s result.txt ] || { echo "soak: wrk wrote no result" >&2; cat wrk.out >&2; exit 1; }

# ---- the audit log against the requests, and the verdict ------------------
export secs interval threads conns warm died health idle_fds_before idle_fds_after idle_rss_before \
  hwm_end metrics_ok metrics_failed serve_rc sent_ok sent_bad mixn
set +e
python3 - <<'PY'
import collections, hashlib, os, re
E = os.environ
fail = []
# wrk's counts
res = collections.defaultdict(dict)
scalars = {}
samples = []
for line in open("result.txt"):
    f = line.rstrip("\n").split(" ")
    if f[0] in ("sent", "got", "status"):
        res[f[0]][f[1]] = int(f[2])
    elif f[0] == "sample":
        samples.append(line[7:].rstrip())
    else:
        scalars[f[0]] = int(f[1])
sent, got, status = res["sent"], res["got"], res["status"]
# the request lines: token SHA-256 -> class
cls_of = {}
replay = set()
classes = set()
for line in open("mix.tsv"):
    c, path, tok = line.rstrip("\n").split("\t")
    classes.add(c)
    if tok and c != "no_zone@":
        h = hashlib.sha256(tok.encode()).hexdigest()
        assert cls_of.setdefault(h, c) == c, "one token in two classes"
        if c == "replay@once":
            replay.add(h)
# the audit log: every line one decision of one request
rx = re.compile(rb'^\{"time":"[^"]+","zone":"([^"]*)","decision":"(allow|deny)","reason":"([a-z_]+)"(?:,"token_sha256":"([0-9a-f]{64})")?.*\}$')
audit = collections.Counter()
allowed_once = collections.Counter()
bad_lines = wrong = unknown = 0
wrong_samples = []
with open("audit.log", "rb") as f:
    for raw in f:
        m = rx.match(raw.rstrip(b"\n"))
        if not m:
            bad_lines += 1
            continue
        zone, decision, reason, h = (x.decode() if x is not None else None for x in m.groups())
        c = f"{reason}@{zone}"
        if zone == "once" and reason in ("ok", "replayed"):
            c = "replay@once"
            if reason == "ok":
                allowed_once[h] += 1
        audit[c] += 1
        if (decision == "allow") != (reason == "ok"):
            wrong += 1
        if h is None:
            # no parsed token: only these outcomes can have none
            ok = c in ("token_missing@hs", "token_malformed@rs", "no_zone@")
        elif h not in cls_of:
            unknown += 1
            ok = False
        else:
            ok = cls_of[h] == c
        if not ok:
            wrong += 1
            if len(wrong_samples) < 5:
                wrong_samples.append(raw[:300].decode(errors="replace").rstrip())
twice = sum(1 for v in allowed_once.values() if v > 1)
n_audit = sum(audit.values())
# per class: responses seen <= decisions audited <= requests sent
for c in sorted(set(sent) | set(got) | set(audit)):
    if c not in classes:
        fail.append(f"class {c} is no class of the mix")
    elif not got.get(c, 0) <= audit.get(c, 0) <= sent.get(c, 0):
        fail.append(f"class {c}: wrk saw {got.get(c, 0)}, audit {audit.get(c, 0)}, sent {sent.get(c, 0)}")
# samples
rows = [l.split() for l in open("samples.txt").read().splitlines()[1:]]
loaded = [(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]
warm = int(E["warm"])
after = [s for s in loaded if s[0] >= warm]
if len(after) >= 2:
    w, e = after[0], after[-1]
    growth = 100.0 * (e[1] - w[1]) / w[1]
else:
    w = e = None
    growth = float("nan")
    fail.append("too few samples after the warm-up")
peak = max([s[2] for s in loaded] + ([int(E["hwm_end"])] if E["hwm_end"] != "-" else []))
errs = sum(scalars[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout"))
reloads = [r[4] for r in rows if r[4] != "-"]
# verdict
if scalars["unexpected"]: fail.append(f"{scalars['unexpected']} unexpected responses")
if bad_lines: fail.append(f"{bad_lines} audit lines not of the expected shape")
if wrong: fail.append(f"{wrong} audit lines do not fit their request ({unknown} of unknown tokens)")
if twice: fail.append(f"{twice} replay-zone tokens allowed more than once")
if len(allowed_once) != len(replay): fail.append(f"{len(allowed_once)} replay-zone tokens allowed, {len(replay)} sent")
if scalars["allowed_once"] > len(replay): fail.append("wrk saw more replay-zone allows than tokens")
if n_audit > sum(sent.values()) or n_audit < sum(got.values()): fail.append("audit line count outside [seen, sent]")
if errs: fail.append(f"{errs} socket errors")
if w and growth >= 5.0: fail.append(f"RSS grew {growth:.1f} % after the warm-up")
if w and e[3] > w[3]: fail.append(f"descriptors under load grew: {w[3]} -> {e[3]}")
if E["idle_fds_after"] != "-" and int(E["idle_fds_after"]) > int(E["idle_fds_before"]):
    fail.append(f"idle descriptors grew: {E['idle_fds_before']} -> {E['idle_fds_after']}")
if E["died"] != "0": fail.append("serve died")
if E["serve_rc"] not in ("0",): fail.append(f"serve exit status {E['serve_rc']} after SIGTERM")
if E["health"] != "ok": fail.append("/healthz failed at the end")
if (E["metrics_ok"], E["metrics_failed"]) != (E["sent_ok"], E["sent_bad"]):
    fail.append(f"reloads: sent {E['sent_ok']} good, {E['sent_bad']} broken; metrics say {E['metrics_ok']} ok, {E['metrics_failed']} failed")
dur = scalars["duration_us"] / 1e6
req = scalars["requests"]
def kb(v): return f"{v / 1024:.1f} MiB"
print(f"| | |\n|---|---|")
print(f"| duration | {dur:.0f} s (serve --threads {E['threads']} on CPU 0, wrk -t1 -c{E['conns']} on CPU 1) |")
print(f"| requests | {req:,} ({req / dur:,.0f} req/s), p50 {scalars['p50_us'] / 1000:.2f} ms, p99 {scalars['p99_us'] / 1000:.2f} ms, max {scalars['max_us'] / 1000:.1f} ms |")
print("| by status | " + ", ".join(f"{k}: {v:,}" for k, v in sorted(status.items())) + " |")
print("| by outcome | " + ", ".join(f"{c} {got.get(c, 0):,}" for c in sorted(classes)) + " |")
print(f"| unexpected responses | {scalars['unexpected']} |")
print(f"| audit lines | {n_audit:,}; not of the expected shape {bad_lines}; not fitting their request {wrong} |")
print(f"| replay zone | {len(replay)} tokens, {sum(allowed_once.values())} allows (each token at most once: {'yes' if not twice else 'NO'}), {audit.get('replay@once', 0) - sum(allowed_once.values()):,} replayed |")
print(f"| socket errors | connect {scalars['errors_connect']}, read {scalars['errors_read']}, write {scalars['errors_write']}, timeout {scalars['errors_timeout']} |")
if w:
    print(f"| RSS | idle before load {kb(int(E['idle_rss_before']))}; at {w[0]} s (after warm-up) {kb(w[1])}; at {e[0]} s {kb(e[1])}; growth {growth:+.2f} %; peak (VmHWM) {kb(peak)} |")
    print(f"| descriptors | idle {E['idle_fds_before']} before, {E['idle_fds_after']} after; under load {w[3]} at {w[0]} s, {e[3]} at {e[0]} s |")
print(f"| reloads | {len(reloads)} sent: {E['sent_ok']} good, {E['sent_bad']} broken; metrics: {E['metrics_ok']} ok, {E['metrics_failed']} refused |")
print(f"| serve | {'died' if E['died'] != '0' else 'alive'}; /healthz {E['health']}; exit status after SIGTERM {E['serve_rc']} |")
for s in samples: print("unexpected:", s)
for s in wrong_samples: print("audit line not fitting:", s)
print()
if fail:
    print("SOAK FAILED:\n  " + "\n  ".join(fail))
    raise SystemExit(1)
print("soak passed")
PY
rc=$?
set -e
echo
echo "samples (every ${interval} s):"
column -t samples.txt 2>/dev/null || cat samples.txt
grep -c "policy reloaded" serve.err | sed 's/^/serve: policy reloaded lines: /'
grep "reload refused" serve.err | sed 's/^/serve: /' || true
grep -v -e "policy reloaded" -e "reload refused" -e "listening on" -e "stopping" -e "Thread pool is not used" serve.err | sed 's/^/serve stderr: /' || true
exit "$rc"
