#!/usr/bin/env bash
# server_http.sh - `claimgate serve` on its own, driven with curl and small
# python3 clients (contract section 5; issue 4 items 1-4):
#   - the request forms of the proxies: Envoy ext_authz HTTP (path_prefix:
#     /v1/authorize + the original path, method and Host), Traefik
#     ForwardAuth and Caddy forward_auth (X-Forwarded-Method/-Host/-Uri),
#     nginx (X-Original-*), their precedence, and ?zone=;
#   - no_zone, 401/403 challenges, 503 + Retry-After for keys_unavailable,
#     /healthz, /readyz, /metrics (exact counters after a known sequence,
#     histogram), the body equal to `verify --json`;
#   - the audit log: one JSON line per decision with its fields, token
#     SHA-256 but never the token (nor on stderr), complete after SIGTERM;
#   - exit statuses: graceful stop 0, -n check 0/2, bad --listen 2;
#   - bad HTTP input (huge or many headers, malformed Authorization, huge
#     tokens, a slow client, a 10 MB body, 200 concurrent keep-alive
#     clients), each followed by a /healthz check;
#   - claims with control characters are never emitted as headers.
#
# Environment: CG_BINARY (the claimgate binary). CG_VERBOSE=1 lists every
# passing check on stderr.
set -euo pipefail
# shellcheck source=lib/setup.bash
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/setup.bash" --server

# ---- keys, policies, tokens ------------------------------------------------------

sso_keys
"$CG" keygen -a HS256 --kid h1 -o keys/hs.jwk --jwks keys/hs.jwks.json >/dev/null

cat >policy.yaml <<'YAML'
version: 1
issuers:
  sso:
    issuer: https://sso.example.com
    jwks_file: keys/sso.jwks.json
    algorithms: [ES256]
  hs:
    issuer: https://hs.example.com
    jwks_file: keys/hs.jwks.json
    algorithms: [HS256]
zones:
  payments:
    audience: https://api.example.com/payments
    accept: [sso]
    replay: reject
    claims:
      sub: {}
      tenant: { claim: tid, pattern: "^[a-z0-9-]{1,64}$", required: true }
      roles:
        claim: scope
        split: space
        map: { "payments:write": payments-writer }
    require:
      roles: { all_of: [payments-writer] }
    forward:
      X-Auth-Subject: sub
      X-Auth-Tenant: tenant
      X-Auth-Roles: roles
    match:
      hosts: [api.example.com]
      paths: [/payments/]
      methods: [POST]
  public:
    audience: https://api.example.com
    accept: [sso, hs]
    claims:
      sub: {}
    forward:
      X-Auth-Subject: sub
    match:
      hosts: [api.example.com]
      paths: [/public/]
  intranet-admin:
    audience: https://intranet.example.com/admin
    accept: [sso]
    claims:
      sub: {}
    match:
      hosts: [intranet.example.com]
      paths: [/admin/]
  intranet:
    audience: https://intranet.example.com
    accept: [sso]
    claims:
      sub: {}
    match:
      hosts: [intranet.example.com]
  types:
    # no match: reached with ?zone=types only.
    audience: https://api.example.com
    accept: [sso]
    claims:
      sub: {}
      n: {}
      b: {}
      l: {}
    forward:
      X-Auth-Subject: sub
      X-Auth-N: n
      X-Auth-B: b
      X-Auth-L: l
YAML

# The same, plus an issuer whose remote key set is never available (a
# closed loopback port).
sed 's/^zones:$/  remote:\n    issuer: https:\/\/remote.example.com\n    jwks_uri: http:\/\/127.0.0.1:1\/jwks.json\n    insecure_http: true\n    algorithms: [ES256]\nzones:/' \
	policy.yaml >remote.yaml
cat >>remote.yaml <<'YAML'
  remote:
    audience: https://api.example.com
    accept: [remote]
    claims:
      sub: {}
    match:
      hosts: [remote.example.com]
YAML

PAY=https://api.example.com/payments
API=https://api.example.com

T_PUB=$(sso_mint $API --sub alice)
T_PUB2=$(sso_mint $API --sub bob)
T_WRITER=$(sso_mint $PAY --sub dave --scope payments:write --claims '{"tid":"acme"}')
T_READER=$(sso_mint $PAY --sub carol --scope payments:read --claims '{"tid":"acme"}')
T_REMOTE=$("$CG" mint -k keys/sso.pem -a ES256 --kid k1 --iss https://remote.example.com \
	--aud $API --sub rita)
T_TYPES=$(sso_mint $API --claims '{"sub":"tess","n":42,"b":true,"l":["a","b","c"]}')
TOKENS=("$T_PUB" "$T_PUB2" "$T_WRITER" "$T_READER" "$T_REMOTE" "$T_TYPES")
writer() { sso_mint $PAY --sub dave --scope payments:write --claims '{"tid":"acme"}'; }

# Raw-socket clients for what curl will not send.
cat >raw.py <<'PY'
import http.client, json, socket, sys, threading, time

port = int(sys.argv[2])

def status_of(data):
    """The status code of a raw answer, or 'closed'."""
    if not data:
        return "closed"
    return data.split(b"\r\n", 1)[0].split(b" ")[1].decode()

def send_raw(req):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(req)
        return status_of(s.recv(4096))
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    finally:
        s.close()

cmd = sys.argv[1]
if cmd == "headers":          # N small headers
    n = int(sys.argv[3])
    hs = "".join("X-H-%d: v\r\n" % i for i in range(n))
    print(send_raw(("GET /v1/authorize/public/x HTTP/1.1\r\nHost: api.example.com\r\n%s\r\n" % hs).encode()))
elif cmd == "line":           # one header line of N bytes
    n = int(sys.argv[3])
    print(send_raw(("GET /v1/authorize/public/x HTTP/1.1\r\nHost: api.example.com\r\nX-Big: %s\r\n\r\n" % ("a" * n)).encode()))
elif cmd == "twoauth":        # two Authorization headers
    t = sys.argv[3]
    print(send_raw(("GET /v1/authorize/public/x HTTP/1.1\r\nHost: api.example.com\r\n"
                    "Authorization: Bearer %s\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n" % (t, t)).encode()))
elif cmd == "slow":           # half a request line held open; others still served
    slow = socket.create_connection(("127.0.0.1", port), timeout=10)
    slow.sendall(b"GET /v1/autho")
    ok, worst = 0, 0.0
    for i in range(20):
        t0 = time.time()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
        try:
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                ok += 1
        except Exception:
            pass
        c.close()
        worst = max(worst, time.time() - t0)
        time.sleep(0.05)
    # the slow connection has had no answer yet (the timeout is 15 s)
    slow.settimeout(0.2)
    try:
        early = slow.recv(100)
        early = "answered" if early else "closed"
    except socket.timeout:
        early = "waiting"
    slow.close()
    print("%d %s %.2f" % (ok, early, worst))
elif cmd == "burst":          # N connections, ROUNDS times a request on all at once
    import selectors
    tok, n, rounds = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    req = ("GET /v1/authorize/public/b HTTP/1.1\r\nHost: api.example.com\r\n"
           "Authorization: Bearer %s\r\n\r\n" % tok).encode()
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
    time.sleep(0.5)           # every connection accepted before the first burst
    answered = 0
    for r in range(rounds):
        for s in socks:       # all N requests in flight at the same moment
            s.sendall(req)
        sel = selectors.DefaultSelector()
        bufs = {}
        for s in socks:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            bufs[s] = b""
        deadline = time.time() + 10
        left = set(socks)
        while left and time.time() < deadline:
            for key, _ in sel.select(timeout=0.5):
                s = key.fileobj
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                bufs[s] += chunk
                head, sep, body = bufs[s].partition(b"\r\n\r\n")
                if not chunk or (sep and b" 200 " in head.split(b"\r\n")[0] and
                        len(body) >= int([l.split(b":")[1] for l in head.split(b"\r\n")
                                          if l.lower().startswith(b"content-length:")][0])):
                    sel.unregister(s)
                    left.discard(s)
                    if chunk:
                        answered += 1
        for s in list(left):
            sel.unregister(s)
        for s in socks:
            s.setblocking(True)
        sel.close()
    for s in socks:
        s.close()
    print(answered)
elif cmd == "conc":           # N keep-alive clients, PER requests each
    tok, n, per = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    good, bad, lock = [0], [], threading.Lock()
    barrier = threading.Barrier(n, timeout=30)
    def worker(i):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.connect()
            barrier.wait()
            for j in range(per):
                c.request("GET", "/v1/authorize/public/%d/%d" % (i, j),
                          headers={"Host": "api.example.com", "Authorization": "Bearer " + tok})
                r = c.getresponse()
                body = json.loads(r.read())
                if (r.status == 200 and r.getheader("X-Auth-Subject") == "alice"
                        and body["decision"] == "allow" and body["zone"] == "public"
                        and r.getheader("Connection", "").lower() != "close"):
                    with lock:
                        good[0] += 1
                else:
                    with lock:
                        bad.append((r.status, r.getheaders()))
            c.close()
        except Exception as e:
            with lock:
                bad.append(repr(e))
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    print(good[0])
    for b in bad[:3]:
        print(b, file=sys.stderr)
PY
raw() { "$PY" raw.py "$1" "$SRV_PORT" "${@:2}"; }
healthy() { # DESC: one check that /healthz still answers 200 ok
	http GET "$SRV_URL/healthz"
	ok "$1: server still healthy" status_is 200
}
answered_or_closed() {
	[[ $1 == 000 || $1 == 2?? || $1 == 4?? ]] && return 0
	echo "got $1, expected a closed connection, 2xx or 4xx"
	return 1
}
# a 4xx answer or a closed connection (curl: 000)
is_4xx_or_closed() {
	[[ $1 == 000 || $1 == closed || $1 == 4?? ]] && return 0
	echo "got $1, expected a 4xx or a closed connection"
	return 1
}

# ---- start, and exact metrics after a known sequence --------------------------------

serve_start -p policy.yaml --audit audit.log --threads 2
S=$SRV_URL

http GET "$S/healthz"
ok "/healthz: 200" status_is 200
ok "/healthz: ok" body_has '^ok$'
http GET "$S/readyz"
ok "/readyz: 200 when every issuer has keys" status_is 200
http GET "$S/nothing-here"
ok "unknown path: 404" status_is 404

# The known sequence: 3 allow (public), 2 token_missing (public),
# 1 forbidden (payments), 1 no_zone.
for t in "$T_PUB" "$T_PUB2" "$T_PUB"; do
	http GET "$S/v1/authorize/public/a" -H 'Host: api.example.com' -H "$(bearer "$t")"
done
http GET "$S/v1/authorize/public/a" -H 'Host: api.example.com'
http GET "$S/v1/authorize/public/a" -H 'Host: api.example.com' -H 'Authorization: Bearer '
http POST "$S/v1/authorize/payments/a" -H 'Host: api.example.com' -H "$(bearer "$T_READER")"
http GET "$S/v1/authorize/x" -H 'Host: nowhere.example.com'
http GET "$S/metrics"
cp "$work/.b" metrics.1
ok "/metrics: 200" status_is 200
metric() { # DESC LINE: LINE is exactly in metrics.1
	ok "$1" grep -qxF -- "$2" metrics.1
}
metric "metrics: 3 public allows" 'claimgate_decisions_total{zone="public",decision="allow",reason="ok"} 3'
metric "metrics: 2 public token_missing" 'claimgate_decisions_total{zone="public",decision="deny",reason="token_missing"} 2'
metric "metrics: 1 payments forbidden" 'claimgate_decisions_total{zone="payments",decision="deny",reason="forbidden"} 1'
metric "metrics: 1 no_zone" 'claimgate_decisions_total{zone="",decision="deny",reason="no_zone"} 1'
metric "metrics: histogram count 7" 'claimgate_decision_seconds_count 7'
metric "metrics: histogram +Inf bucket 7" 'claimgate_decision_seconds_bucket{le="+Inf"} 7'
ok "metrics: no other decision counters" test "$(grep -c '^claimgate_decisions_total{' metrics.1)" = 4
ok "metrics: histogram buckets present and cumulative" "$PY" -c 'import re, sys
b = [(m.group(1), int(m.group(2))) for m in re.finditer(r"^claimgate_decision_seconds_bucket\{le=\"([^\"]+)\"\} (\d+)$", open(sys.argv[1]).read(), re.M)]
assert len(b) >= 5 and b[-1][0] == "+Inf", b
assert all(x[1] <= y[1] for x, y in zip(b, b[1:])), b
assert re.search(r"^claimgate_decision_seconds_sum [0-9.]+$", open(sys.argv[1]).read(), re.M)' metrics.1
metric "metrics: TYPE histogram" '# TYPE claimgate_decision_seconds histogram'
metric "metrics: TYPE counter" '# TYPE claimgate_decisions_total counter'
metric "metrics: keys of sso" 'claimgate_keys{issuer="sso"} 1'
metric "metrics: ready" 'claimgate_ready 1'
metric "metrics: no reload yet" 'claimgate_policy_reloads_total{result="ok"} 0'

# ---- the proxies' request forms -----------------------------------------------------

# Envoy ext_authz HTTP service, path_prefix /v1/authorize: the original
# method, path and Host; no X-Original-* / X-Forwarded-* headers.
http POST "$S/v1/authorize/payments/42?x=1" -H 'Host: api.example.com' -H "$(bearer "$T_WRITER")"
ok "envoy form: payments POST allowed" status_is 200
ok "envoy form: X-Auth-Subject" hdr_eq X-Auth-Subject dave
ok "envoy form: X-Auth-Tenant" hdr_eq X-Auth-Tenant acme
ok "envoy form: X-Auth-Roles" hdr_eq X-Auth-Roles payments-writer
ok "envoy form: body is the allow decision of zone payments" json_eq '[J["decision"], J["zone"]]' '["allow", "payments"]'
http GET "$S/v1/authorize/payments/42" -H 'Host: api.example.com' -H "$(bearer "$T_WRITER")"
ok "envoy form: GET on payments matches no zone (method)" hdr_eq WWW-Authenticate "$(scope no_zone)"
http GET "$S/v1/authorize/public/x" -H 'Host: API.Example.com:8443' -H "$(bearer "$T_PUB")"
ok "envoy form: Host with case and port" status_is 200
http GET "$S/v1/authorize/public/../payments/x" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")"
ok "envoy form: /public/../payments/x is not public" status_is 403
ok "envoy form: dot segments resolved before matching (no zone for GET payments)" \
	hdr_eq WWW-Authenticate "$(scope no_zone)"

# Traefik ForwardAuth: fixed address, X-Forwarded-* describe the request.
T_W2=$(writer)
TOKENS+=("$T_W2")
http GET "$S/v1/authorize" -H "$(bearer "$T_W2")" \
	-H 'X-Forwarded-Method: POST' -H 'X-Forwarded-Proto: https' \
	-H 'X-Forwarded-Host: api.example.com' -H 'X-Forwarded-Uri: /payments/42?a=b' \
	-H 'X-Forwarded-For: 192.0.2.7'
ok "traefik form: payments POST allowed" status_is 200
ok "traefik form: X-Auth-Subject" hdr_eq X-Auth-Subject dave
http GET "$S/v1/authorize" -H "$(bearer "$T_WRITER")" \
	-H 'X-Forwarded-Method: GET' -H 'X-Forwarded-Host: api.example.com' \
	-H 'X-Forwarded-Uri: /payments/42'
ok "traefik form: the forwarded method decides (GET: no zone)" hdr_eq WWW-Authenticate "$(scope no_zone)"

# Caddy forward_auth: the original Host is passed through, plus
# X-Forwarded-Method / -Uri (and -Host, -Proto, -For).
http GET "$S/v1/authorize" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")" \
	-H 'X-Forwarded-Method: GET' -H 'X-Forwarded-Uri: /public/page?q=1' \
	-H 'X-Forwarded-Host: api.example.com' -H 'X-Forwarded-Proto: https'
ok "caddy form: public GET allowed" status_is 200
ok "caddy form: X-Auth-Subject" hdr_eq X-Auth-Subject alice
http GET "$S/v1/authorize" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")" \
	-H 'X-Forwarded-Method: POST' -H 'X-Forwarded-Uri: /payments/1'
ok "caddy form: payments POST with a public token is 401 audience_mismatch" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"

# Precedence: X-Original-* over X-Forwarded-* over the request itself;
# X-Forwarded-Host over Host.
http POST "$S/v1/authorize/payments/1" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")" \
	-H 'X-Forwarded-Uri: /public/1' -H 'X-Forwarded-Method: GET'
ok "precedence: X-Forwarded-Uri/-Method over the suffix and method" status_is 200
http GET "$S/v1/authorize/public/1" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")" \
	-H 'X-Original-URI: /payments/1' -H 'X-Forwarded-Uri: /public/1' \
	-H 'X-Original-Method: POST' -H 'X-Forwarded-Method: GET'
ok "precedence: X-Original-URI/-Method over X-Forwarded-*" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"
http GET "$S/v1/authorize/public/1" -H 'Host: nowhere.example.com' -H "$(bearer "$T_PUB")" \
	-H 'X-Forwarded-Host: api.example.com'
ok "precedence: X-Forwarded-Host over Host" status_is 200

# ?zone= names the zone outright.
http GET "$S/v1/authorize?zone=public" -H 'Host: nowhere.example.com' -H "$(bearer "$T_PUB")"
ok "?zone=public decides in zone public whatever the request" status_is 200
ok "?zone=public: body zone" json_eq 'J["zone"]' public
http GET "$S/v1/authorize?zone=types" -H "$(bearer "$T_TYPES")"
ok "?zone= reaches a zone without match" json_eq 'J["zone"]' types
http GET "$S/v1/authorize?zone=nope" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")"
ok "?zone=<unknown>: 403" status_is 403
ok "?zone=<unknown>: no_zone" hdr_eq WWW-Authenticate "$(scope no_zone)"

# no_zone: status, header and body.
http GET "$S/v1/authorize/anything" -H 'Host: nowhere.example.com' -H "$(bearer "$T_PUB")"
ok "no_zone: 403" status_is 403
ok "no_zone: WWW-Authenticate insufficient_scope" hdr_eq WWW-Authenticate "$(scope no_zone)"
ok "no_zone: body" json_eq '[J["decision"], J["reason"]]' '["deny", "no_zone"]'
ok "no_zone: JSON content type" hdr_eq Content-Type application/json

# The body is what `verify --json` prints for the same token and zone.
http GET "$S/v1/authorize/public/v" -H 'Host: api.example.com' -H "$(bearer "$T_PUB2")"
cp "$work/.b" serve-body.json
"$CG" verify -p policy.yaml -z public --json "$T_PUB2" >verify-body.json || true
ok "allow body equals verify --json" "$PY" -c 'import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a == b, (a, b)' serve-body.json verify-body.json
T_EXP=$(sso_mint $API --sub alice --now $(($(date +%s) - 7200)))
TOKENS+=("$T_EXP")
http GET "$S/v1/authorize/public/v" -H 'Host: api.example.com' -H "$(bearer "$T_EXP")"
cp "$work/.b" serve-body.json
ok "expired: 401 token_expired" hdr_eq WWW-Authenticate "$(invalid token_expired)"
"$CG" verify -p policy.yaml -z public --json "$T_EXP" >verify-body.json || true
ok "deny body equals verify --json" "$PY" -c 'import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a == b, (a, b)' serve-body.json verify-body.json

# Replay: a second use of a jti in payments.
T_ONCE=$(writer)
TOKENS+=("$T_ONCE")
http POST "$S/v1/authorize/payments/r" -H 'Host: api.example.com' -H "$(bearer "$T_ONCE")"
ok "replay: first use 200" status_is 200
http POST "$S/v1/authorize/payments/r" -H 'Host: api.example.com' -H "$(bearer "$T_ONCE")"
ok "replay: second use 401 replayed" hdr_eq WWW-Authenticate "$(invalid replayed)"

# ---- client-controlled zone selection (known issues) ---------------------------------

http POST "$S/v1/authorize/payments/1?zone=public" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")"
ok "envoy form: a client's ?zone=public does not select zone public" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"

http POST "$S/v1/authorize/payments%2f..%2fpublic/x" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")"
ok "envoy form: an encoded slash selects no zone" hdr_eq WWW-Authenticate "$(scope no_zone)"
http POST "$S/v1/authorize/payments%2F..%2Fpublic/x" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")"
ok "envoy form: an encoded slash selects no zone (upper case)" hdr_eq WWW-Authenticate "$(scope no_zone)"
http GET "$S/v1/authorize" -H "$(bearer "$T_PUB")" -H 'X-Forwarded-Host: api.example.com' \
	-H 'X-Forwarded-Method: POST' -H 'X-Forwarded-Uri: /payments%2f..%2fpublic/x'
ok "an encoded slash in X-Forwarded-Uri selects no zone" hdr_eq WWW-Authenticate "$(scope no_zone)"
http GET "$S/v1/authorize" -H "$(bearer "$T_PUB")" -H 'X-Forwarded-Host: api.example.com' \
	-H 'X-Forwarded-Uri: /public/a%5c..%5cb'
ok "an encoded backslash in X-Forwarded-Uri selects no zone" hdr_eq WWW-Authenticate "$(scope no_zone)"

http GET "$S/v1/authorize" -H "$(bearer "$T_PUB")" -H 'X-Forwarded-Host: intranet.example.com' \
	-H 'X-Forwarded-Uri: /x/..%2fadmin/users'
ok "unsafe path on a host with a path-less zone: no_zone" hdr_eq WWW-Authenticate "$(scope no_zone)"
http GET "$S/v1/authorize" -H "$(bearer "$T_PUB")" -H 'X-Forwarded-Host: intranet.example.com' \
	-H 'X-Forwarded-Uri: /x/../admin/users'
ok "intranet: /x/../admin/ is the admin zone" json_eq 'J["zone"]' intranet-admin

# ---- claims that must not become headers --------------------------------------------

http GET "$S/v1/authorize?zone=types" -H "$(bearer "$T_TYPES")"
ok "types: allowed" status_is 200
ok "types: number rendered" hdr_eq X-Auth-N 42
ok "types: bool rendered" hdr_eq X-Auth-B true
ok "types: list joined with ," hdr_eq X-Auth-L a,b,c
T_BEL=$(sso_mint $API --claims '{"sub":"a\u0007b","n":1.5,"b":false,"l":["x","y\u001fz"]}')
http GET "$S/v1/authorize?zone=types" -H "$(bearer "$T_BEL")"
ok "control characters: still allowed" status_is 200
ok "control characters: sub with BEL never emitted" hdr_absent X-Auth-Subject
ok "control characters: a list with US (0x1f) never emitted" hdr_absent X-Auth-L
ok "control characters: clean headers still emitted" hdr_eq X-Auth-N 1.5
T_CRLF=$(sso_mint $API --claims '{"sub":"x\r\nX-Evil: 1","n":0,"b":true,"l":["\u007f"]}')
http GET "$S/v1/authorize?zone=types" -H "$(bearer "$T_CRLF")"
ok "CR LF in a claim: allowed" status_is 200
ok "CR LF in a claim: never emitted" hdr_absent X-Auth-Subject
ok "CR LF in a claim: no header injected" hdr_absent X-Evil
ok "DEL in a claim: never emitted" hdr_absent X-Auth-L
TOKENS+=("$T_BEL" "$T_CRLF")

# Non-UTF-8 bytes in a claim: an HS256 token made by hand (mint only
# signs JSON text). It must be refused as malformed: nothing is emitted.
T_LATIN1=$("$PY" -c 'import base64, hashlib, hmac, json, sys, time
k = json.load(open(sys.argv[1]))
key = base64.urlsafe_b64decode(k["k"] + "=" * (-len(k["k"]) % 4))
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
h = b64(json.dumps({"alg": "HS256", "kid": "h1"}).encode())
p = b64(b"{\"iss\":\"https://hs.example.com\",\"aud\":\"https://api.example.com\",\"exp\":%d,\"sub\":\"caf\xe9\"}" % (now + 300))
sig = hmac.new(key, (h + "." + p).encode(), hashlib.sha256).digest()
print(h + "." + p + "." + b64(sig))' keys/hs.jwk)
TOKENS+=("$T_LATIN1")
http GET "$S/v1/authorize/public/x" -H 'Host: api.example.com' -H "$(bearer "$T_LATIN1")"
ok "non-UTF-8 claim: 401 token_malformed" hdr_eq WWW-Authenticate "$(invalid token_malformed)"
ok "non-UTF-8 claim: no X-Auth-Subject" hdr_absent X-Auth-Subject

# ---- bad HTTP input ------------------------------------------------------------------

big=$(head -c 100000 /dev/zero | tr '\0' 'a')
http GET "$S/v1/authorize/public/x" -H 'Host: api.example.com' -H "Authorization: Bearer $big"
ok "100 KB Authorization header: 4xx or closed" is_4xx_or_closed "$HS"
healthy "after a 100 KB Authorization header"

ok "5000 small headers: 4xx or closed" is_4xx_or_closed "$(raw headers 5000)"
healthy "after 5000 headers"

ok "one 40 KB header line: 4xx or closed" is_4xx_or_closed "$(raw line 40000)"
healthy "after a 40 KB header line"

for a in 'Bearer' 'Bearer ' 'Basic dXNlcjpwYXNz' 'Token abc' 'Bearerabc.def.ghi'; do
	http GET "$S/v1/authorize/public/x" -H 'Host: api.example.com' -H "Authorization: $a"
	ok "Authorization [$a]: 401 with a bare challenge" hdr_eq WWW-Authenticate "$CHALLENGE"
done
http GET "$S/v1/authorize/public/x" -H 'Host: api.example.com' -H 'Authorization: Bearer a b'
ok "Authorization [Bearer a b]: 401 token_malformed" hdr_eq WWW-Authenticate "$(invalid token_malformed)"
http GET "$S/v1/authorize/public/x" -H 'Host: api.example.com' -H "Authorization: bEaReR $T_PUB"
ok "scheme is case-insensitive" status_is 200
ok "two Authorization headers: 401" test "$(raw twoauth "$T_PUB")" = 401
healthy "after malformed Authorization headers"

t9k=$(head -c 9000 /dev/zero | tr '\0' 'a')
http GET "$S/v1/authorize/public/x" -H 'Host: api.example.com' -H "Authorization: Bearer $t9k"
ok "a 9000-byte token: 401 token_too_large" hdr_eq WWW-Authenticate "$(invalid token_too_large)"
t100k="$T_PUB$big"
http GET "$S/v1/authorize/public/x" -H 'Host: api.example.com' -H "Authorization: Bearer $t100k"
ok "a 100 KB token: 401 token_too_large, 4xx or closed" is_4xx_or_closed "$HS"
healthy "after huge tokens"

read -r slow_ok slow_state slow_worst < <(raw slow) || true
ok "slow client: 20 other requests served meanwhile" test "$slow_ok" = 20
ok "slow client: still waiting (not answered) after ~2 s" test "$slow_state" = waiting
ok "slow client: no request delayed more than 2 s" "$PY" -c "assert $slow_worst < 2.0, $slow_worst"
healthy "after a slow client"

head -c 10000000 /dev/zero >body.bin
http POST "$S/v1/authorize/public/x" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")" \
	-H 'Expect:' --data-binary @body.bin
ok "10 MB body: closed, or answered without a server error" answered_or_closed "$HS"
healthy "after a 10 MB body"

conc=$(raw conc "$T_PUB" 200 3 2>conc.err)
ok "200 concurrent keep-alive clients x 3: all 600 answered correctly" test "$conc" = 600
healthy "after 200 concurrent clients"

# ---- audit log ----------------------------------------------------------------------

# A last burst, then stop at once: every line must be written anyway.
for i in 1 2 3 4 5; do
	http GET "$S/v1/authorize/public/burst$i" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")"
done
decisions=$(curl -s --max-time 5 "$S/metrics" | sed -n 's/^claimgate_decision_seconds_count //p')
serve_stop
ok "SIGTERM: graceful stop exits 0" test "$SRV_RC" = 0
ok "stderr says it stopped" grep -q 'claimgate: serve: stopping' serve.err
ok "audit: one line per decision, all written by the stop ($decisions)" \
	test "$(wc -l <audit.log)" = "$decisions"
ok "audit: every line a JSON object with the request fields" "$PY" -c 'import json, re, sys
for n, l in enumerate(open(sys.argv[1]), 1):
    a = json.loads(l)
    for k in ("time", "zone", "decision", "reason", "method", "path", "client", "latency_us"):
        assert k in a, (n, k, a)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", a["time"]), a
    assert a["decision"] in ("allow", "deny"), a
    assert a["client"] == "127.0.0.1", a
    assert isinstance(a["latency_us"], int) and a["latency_us"] >= 0, a' audit.log
SHA_WRITER=$(sha256_of "$T_WRITER")
JKT=$(jkt_of keys/sso.jwk)
ok "audit: a verified token's line has its provenance" "$PY" -c 'import json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
m = [a for a in L if a.get("token_sha256") == sys.argv[2] and a["decision"] == "allow"]
assert m, "no allow line for the writer token"
a = m[0]
want = {"zone": "payments", "reason": "ok", "iss": "https://sso.example.com",
        "sub": "dave", "alg": "ES256", "kid": "k1", "jkt": sys.argv[3],
        "aud": "https://api.example.com/payments", "method": "POST",
        "host": "api.example.com", "path": "/payments/42"}
for k, v in want.items():
    assert a.get(k) == v, (k, a.get(k), v)
assert isinstance(a.get("jti"), str) and a["jti"], a' audit.log "$SHA_WRITER" "$JKT"
ok "audit: token_sha256 on a deny line too" "$PY" -c 'import json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
assert any(a.get("token_sha256") == sys.argv[2] and a["reason"] == "forbidden" for a in L)' \
	audit.log "$(sha256_of "$T_READER")"
ok "audit: the no_zone line" "$PY" -c 'import json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
assert any(a["reason"] == "no_zone" and a["zone"] == "" and a["host"] == "nowhere.example.com" for a in L)' audit.log
ok "audit: the Traefik form records the forwarded method, host and path" "$PY" -c 'import json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
assert any(a["method"] == "POST" and a["host"] == "api.example.com" and a["path"] == "/payments/42?a=b" for a in L), L[-1]' audit.log
for t in "${TOKENS[@]}"; do
	ok "no token in the audit log or stderr (${t:0:16}...)" not_in "$t" audit.log serve.err
done
# The signature part alone is as secret as the token.
ok "no signature segment in the audit log" not_in "${T_WRITER##*.}" audit.log serve.err

# ---- keys_unavailable, /readyz, SIGINT ------------------------------------------------

serve_start -p remote.yaml
http GET "$SRV_URL/readyz"
ok "/readyz: 503 while an issuer has no keys" status_is 503
http GET "$SRV_URL/healthz"
ok "/healthz: 200 all the same" status_is 200
http GET "$SRV_URL/v1/authorize/x" -H 'Host: remote.example.com' -H "$(bearer "$T_REMOTE")"
ok "keys_unavailable: 503" status_is 503
ok "keys_unavailable: Retry-After" hdr_eq Retry-After 5
ok "keys_unavailable: reason in the body" json_eq 'J["reason"]' keys_unavailable
ok "keys_unavailable: no WWW-Authenticate (not the client's fault)" hdr_absent WWW-Authenticate
http GET "$SRV_URL/v1/authorize/public/x" -H 'Host: api.example.com' -H "$(bearer "$T_PUB")"
ok "other issuers still decide while one has no keys" status_is 200
http GET "$SRV_URL/metrics"
ok "metrics: not ready" grep -qxF 'claimgate_ready 0' "$work/.b"
ok "metrics: remote has 0 keys" grep -qxF 'claimgate_keys{issuer="remote"} 0' "$work/.b"
serve_stop INT
ok "SIGINT: graceful stop exits 0" test "$SRV_RC" = 0

# ---- one worker thread, every connection busy at once --------------------------------
# Around the size where an event loop's batch of ready connections fills
# (128) and well past it: every request is answered, none is left waiting.

serve_start -p policy.yaml --threads 1
for n in 127 128 300; do
	got=$(raw burst "$T_PUB" "$n" 3)
	ok "one thread, $n connections, 3 bursts of a request on each: all answered" \
		test "$got" = $((n * 3))
done
healthy "after 300 concurrent clients on one thread"
serve_stop

# ---- exit statuses ---------------------------------------------------------------------

run "$CG" serve -n -p policy.yaml
check "-n with a good policy: exit 0" 0 '@empty' 'policy OK'
printf 'version: 1\nissuers: {}\nzones:\n  z:\n    audience: x\n    accept: []\n' >bad.yaml
run "$CG" serve -n -p bad.yaml
check "-n with a bad policy: exit 2, file:line:col" 2 '@empty' 'bad\.yaml:[0-9]+:[0-9]+: '
run "$CG" serve -n -p missing.yaml
check "-n with a missing policy: exit 2" 2 '@empty' 'missing\.yaml'
for l in nonsense 127.0.0.1: :8080 256.1.1.1:80 '[::1' 127.0.0.1:http; do
	run timeout 10 "$CG" serve -p policy.yaml --listen "$l"
	check "--listen '$l': exit 2" 2 '@empty' 'claimgate: serve: '
done
run timeout 5 "$CG" serve -p policy.yaml --listen 127.0.0.1:99999
check "--listen '127.0.0.1:99999': exit 2" 2 '@empty' 'claimgate: serve: '
port=$(free_port)
"$PY" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(15)' "$port" &
holder=$!
bg_track "$holder"
sleep 0.3
run timeout 10 "$CG" serve -p policy.yaml --listen "127.0.0.1:$port"
check "--listen on a port in use: exit 2" 2 '@empty' 'cannot listen'
run "$CG" serve -p policy.yaml --threads 0
check "--threads 0: exit 2" 2 '@empty' 'threads'
run "$CG" serve
check "no -p: exit 2" 2 '@empty' 'POLICY'
run "$CG" serve --help
check "--help: exit 0, usage on stdout" 0 'usage: claimgate serve'

ok "no sanitizer report from any server run" bash -c '! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$1"' _ serve.err

finish
