#!/usr/bin/env bash
# server_nginx.sh - Debian's nginx with auth_request in front of `claimgate
# serve`, in front of an upstream that echoes the request headers it got
# (contract section 5; issue 4 item 4). Everything runs on 127.0.0.1 on
# ports chosen at run time and is stopped on exit.
#
# Proves, through the real proxy:
#   - a valid token passes and the upstream sees the boundary's X-Auth-*
#     headers with the right values;
#   - an invalid token gets 401 with WWW-Authenticate error="invalid_token"
#     and error_description=<reason>; no token gets a bare Bearer challenge;
#     a forbidden request gets 403 with error="insufficient_scope"; the
#     challenge appears exactly once;
#   - a client-sent X-Auth-* header (every `forward` name, in several
#     casings, duplicated, and with "_" for "-") never reaches the upstream:
#     replaced when allowed, removed when the trusted claim is absent, and
#     a denied request never reaches the upstream at all;
#   - zones are chosen by host, path (dot segments, encoded dots and an
#     encoded slash never select a weaker zone) and method, and a client
#     cannot choose the zone with ?zone=, X-Original-* or X-Forwarded-*;
#   - replay through nginx; SIGHUP reload (a good policy takes effect, a
#     broken one is refused and the old one keeps serving, as /metrics
#     counts); claimgate down means 503 with Retry-After (fail closed).
#
# docs/deploy/nginx.md shows this same nginx configuration.
#
# Environment: CG_BINARY (the claimgate binary); NGINX (default
# /usr/sbin/nginx; Debian package `nginx`, which has auth_request).
# CG_VERBOSE=1 lists every passing check on stderr.
set -euo pipefail
# shellcheck source=lib/setup.bash
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/setup.bash" --server

NGINX=${NGINX:-/usr/sbin/nginx}
if ! "$NGINX" -V 2>&1 | grep -q -- '--with-http_auth_request_module'; then
	echo "server_nginx.sh: $NGINX lacks the auth_request module (install Debian's nginx)" >&2
	exit 1
fi

# ---- keys, policy, tokens ------------------------------------------------------

sso_keys
"$CG" keygen -a ES256 --kid k1 -o keys/rogue.pem >/dev/null # same kid, not trusted

# Four zones: admin by host; payments by host + path + method (write:
# POST/PUT, replay rejected; read: GET); public by host + path.
cat >policy.yaml <<'YAML'
version: 1
issuers:
  sso:
    issuer: https://sso.example.com
    jwks_file: keys/sso.jwks.json
    algorithms: [ES256]
zones:
  admin:
    audience: https://admin.example.com
    accept: [sso]
    claims:
      sub: {}
      roles: { claim: scope, split: space }
    require:
      roles: { all_of: [admin] }
    forward:
      X-Auth-Subject: sub
      X-Auth-Roles: roles
    match:
      hosts: [admin.example.com]
  payments-write:
    audience: https://api.example.com/payments
    accept: [sso]
    replay: reject
    claims:
      sub: {}
      tenant: { claim: tid, pattern: "^[a-z0-9-]{1,64}$", required: true }
      roles:
        claim: scope
        split: space
        map: { "payments:write": payments-writer, "payments:read": payments-reader }
    require:
      roles: { all_of: [payments-writer] }
    forward:
      X-Auth-Subject: sub
      X-Auth-Tenant: tenant
      X-Auth-Roles: roles
    match:
      hosts: [api.example.com]
      paths: [/payments/]
      methods: [POST, PUT]
  payments-read:
    audience: https://api.example.com/payments
    accept: [sso]
    claims:
      sub: {}
      tenant: { claim: tid, pattern: "^[a-z0-9-]{1,64}$", required: true }
      roles:
        claim: scope
        split: space
        map: { "payments:write": payments-writer, "payments:read": payments-reader }
    require:
      roles: { any_of: [payments-reader, payments-writer] }
    forward:
      X-Auth-Subject: sub
      X-Auth-Tenant: tenant
      X-Auth-Roles: roles
    match:
      hosts: [api.example.com]
      paths: [/payments/]
      methods: [GET]
  public:
    audience: https://api.example.com
    accept: [sso]
    claims:
      sub: {}
      tenant: { claim: tid, pattern: "^[a-z0-9-]{1,64}$" }
      roles: { claim: scope, split: space, pattern: "^[a-z0-9:-]{1,64}$" }
    forward:
      X-Auth-Subject: sub
      X-Auth-Tenant: tenant
      X-Auth-Roles: roles
    match:
      hosts: [api.example.com]
      paths: [/public/]
  plain:
    # Trusted claims without pattern or map; absent ones are simply left out.
    audience: https://api.example.com
    accept: [sso]
    claims:
      sub: {}
      tenant: { claim: tid }
    forward:
      X-Auth-Subject: sub
      X-Auth-Tenant: tenant
    match:
      hosts: [plain.example.com]
YAML

ADMIN=https://admin.example.com
PAY=https://api.example.com/payments
API=https://api.example.com

T_ADMIN=$(sso_mint $ADMIN --sub root-user --scope "admin ops")
T_ADMIN_USER=$(sso_mint $ADMIN --sub eve --scope user)
T_PUB=$(sso_mint $API --sub alice --scope "read write" --claims '{"tid":"acme"}')
T_PUB_BARE=$(sso_mint $API --sub bob) # no tid, no scope: those headers are absent
T_READER=$(sso_mint $PAY --sub carol --scope payments:read --claims '{"tid":"acme"}')
T_WRITER=$(sso_mint $PAY --sub dave --scope "payments:write payments:read" --claims '{"tid":"acme-eu"}')
T_BADTID=$(sso_mint $PAY --sub mallory --scope payments:write --claims '{"tid":"ACME!"}')
T_EXPIRED=$(sso_mint $API --sub alice --now $(($(date +%s) - 3600)))
T_ROGUE=$("$CG" mint -k keys/rogue.pem -a ES256 --kid k1 --iss https://sso.example.com \
	--aud $API --sub admin)

# ---- upstream: echoes the request headers it received ------------------------

cat >upstream.py <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        with open(sys.argv[2], "a") as log:
            log.write("%s %s\n" % (self.command, self.path))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
PY
: >upstream.log
# shellcheck disable=SC2317 # called by bg_start_on_port
upstream_start() { "$PY" upstream.py "$1" "$work/upstream.log" 2>>upstream.err & }
bg_start_on_port upstream_start /ready ||
	{ echo "upstream did not start" >&2; cat upstream.err >&2; exit 1; }
UP=$BG_PORT
hits() { wc -l <"$work/upstream.log"; }

# ---- claimgate -------------------------------------------------------------------

serve_start -p policy.yaml --audit audit.log --threads 2
CGPORT=$SRV_PORT

# ---- nginx -----------------------------------------------------------------------
# The configuration documented in docs/deploy/nginx.md; @..@ are filled in.

cat >nginx.conf.in <<'NGINX'
@USER@
worker_processes 1;
error_log @WORK@/nginx-error.log info;
events { worker_connections 256; }

http {
    access_log @WORK@/nginx-access.log;
    client_body_temp_path @WORK@/nginx-tmp/body;
    proxy_temp_path       @WORK@/nginx-tmp/proxy;
    fastcgi_temp_path     @WORK@/nginx-tmp/fastcgi;
    uwsgi_temp_path       @WORK@/nginx-tmp/uwsgi;
    scgi_temp_path        @WORK@/nginx-tmp/scgi;

    upstream claimgate { server 127.0.0.1:@CGPORT@; }
    upstream app       { server 127.0.0.1:@UPPORT@; }

    server {
        listen 127.0.0.1:@NGPORT@;

        location / {
            auth_request /_claimgate;

            # One pair per `forward` header of the policy. proxy_set_header
            # replaces any header of that name the client sent (in any
            # casing); an empty value (claim absent) removes it.
            auth_request_set $cg_subject $upstream_http_x_auth_subject;
            auth_request_set $cg_tenant  $upstream_http_x_auth_tenant;
            auth_request_set $cg_roles   $upstream_http_x_auth_roles;
            proxy_set_header X-Auth-Subject $cg_subject;
            proxy_set_header X-Auth-Tenant  $cg_tenant;
            proxy_set_header X-Auth-Roles   $cg_roles;

            # 401: auth_request itself passes the WWW-Authenticate of the
            # subrequest on. 403: it does not, so add it here.
            auth_request_set $cg_www $upstream_http_www_authenticate;
            error_page 403 = @claimgate_403;
            # claimgate down or 503 (keys or store unavailable): nginx
            # answers 500; say 503 so clients retry. Fail closed either way.
            error_page 500 = @claimgate_503;

            proxy_pass http://app;
        }

        location = /_claimgate {
            internal;
            proxy_pass http://claimgate/v1/authorize;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Forwarded-Host $host;
        }

        location @claimgate_403 {
            add_header WWW-Authenticate $cg_www always;
            return 403;
        }

        location @claimgate_503 {
            add_header Retry-After 5 always;
            return 503;
        }
    }
}
NGINX

mkdir nginx-tmp
# shellcheck disable=SC2317 # called by bg_start_on_port
nginx_start() { # PORT
	local user=
	if [[ $EUID == 0 ]]; then user="user $(id -un) $(id -gn);"; fi
	sed -e "s|@WORK@|$work|g" -e "s|@CGPORT@|$CGPORT|g" -e "s|@UPPORT@|$UP|g" \
		-e "s|@NGPORT@|$1|g" -e "s|@USER@|$user|" nginx.conf.in >nginx.conf
	"$NGINX" -p "$work" -c "$work/nginx.conf" \
		-g "daemon off; pid $work/nginx.pid;" 2>>nginx.stderr &
}
# Any answer will do (the auth request denies this one).
bg_start_on_port nginx_start / --any ||
	{ echo "nginx did not start" >&2; cat nginx.stderr nginx-error.log >&2 || true; exit 1; }
NG=$BG_PORT
N=http://127.0.0.1:$NG

# A request through nginx. HOST PATH [curl args...]; method with -X.
via() { # METHOD HOST PATH [CURL ARGS...]
	local m=$1 host=$2 path=$3
	shift 3
	http "$m" "$N$path" -H "Host: $host" "$@"
}

# ---- allowed: the upstream sees the boundary's headers ------------------------------

via GET api.example.com /public/hello -H "$(bearer "$T_PUB")"
ok "public token passes" status_is 200
ok "upstream got X-Auth-Subject" up_hdr_eq X-Auth-Subject alice
ok "upstream got X-Auth-Tenant" up_hdr_eq X-Auth-Tenant acme
ok "upstream got X-Auth-Roles (list joined with ,)" up_hdr_eq X-Auth-Roles read,write
ok "upstream got the original path" json_eq 'J["path"]' /public/hello

via GET admin.example.com /anything -H "$(bearer "$T_ADMIN")"
ok "zone by host: admin token on admin host passes" status_is 200
ok "admin: X-Auth-Subject" up_hdr_eq X-Auth-Subject root-user
ok "admin: X-Auth-Roles" up_hdr_eq X-Auth-Roles admin,ops
ok "admin zone forwards no tenant" up_hdr_absent X-Auth-Tenant

via GET Admin.Example.COM:8443 /anything -H "$(bearer "$T_ADMIN")"
ok "zone by host: case and port do not matter" status_is 200

via GET api.example.com /payments/42 -H "$(bearer "$T_READER")"
ok "zone by path+method: reader may GET payments" status_is 200
ok "payments: X-Auth-Roles mapped" up_hdr_eq X-Auth-Roles payments-reader
ok "payments: X-Auth-Tenant" up_hdr_eq X-Auth-Tenant acme

via POST api.example.com /payments/42 -H "$(bearer "$T_WRITER")" -d '{"amount":1}'
ok "zone by method: writer may POST payments" status_is 200
ok "payments POST: X-Auth-Subject" up_hdr_eq X-Auth-Subject dave
ok "payments POST: X-Auth-Roles" up_hdr_eq X-Auth-Roles payments-writer,payments-reader
ok "payments POST: X-Auth-Tenant" up_hdr_eq X-Auth-Tenant acme-eu
ok "upstream got the POST" json_eq 'J["method"]' POST

# ---- denied: the right status and challenge, the upstream never reached --------------

before=$(hits)
via GET api.example.com /public/hello
ok "no token: 401" status_is 401
ok "no token: bare Bearer challenge, no error" hdr_eq WWW-Authenticate "$CHALLENGE"

via GET api.example.com /public/hello -H 'Authorization: Bearer abc.def.ghi'
ok "malformed token: 401" status_is 401
ok "malformed token: challenge says token_malformed (once)" hdr_eq WWW-Authenticate "$(invalid token_malformed)"

via GET api.example.com /public/hello -H "$(bearer "$T_EXPIRED")"
ok "expired token: 401" status_is 401
ok "expired token: challenge says token_expired" hdr_eq WWW-Authenticate "$(invalid token_expired)"

via GET api.example.com /public/hello -H "$(bearer "$T_ROGUE")"
ok "token signed by another key: 401" status_is 401
ok "rogue key: challenge says signature_invalid" hdr_eq WWW-Authenticate "$(invalid signature_invalid)"

via GET api.example.com /payments/1 -H "$(bearer "$T_PUB")"
ok "public token on payments: 401" status_is 401
ok "public token on payments: audience_mismatch" hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"

via POST api.example.com /payments/1 -H "$(bearer "$T_BADTID")"
ok "tenant failing its pattern: 401" status_is 401
ok "tenant failing its pattern: claim_untrusted" hdr_eq WWW-Authenticate "$(invalid claim_untrusted)"

via GET admin.example.com /anything -H "$(bearer "$T_ADMIN_USER")"
ok "admin host without the admin role: 403" status_is 403
ok "forbidden: insufficient_scope challenge (once)" hdr_eq WWW-Authenticate "$(scope forbidden)"

via POST api.example.com /payments/1 -H "$(bearer "$T_READER")"
ok "zone by method: reader may not POST payments (403)" status_is 403
ok "reader POST: forbidden" hdr_eq WWW-Authenticate "$(scope forbidden)"

via DELETE api.example.com /payments/1 -H "$(bearer "$T_WRITER")"
ok "a method no zone matches: 403" status_is 403
ok "unmatched method: no_zone" hdr_eq WWW-Authenticate "$(scope no_zone)"

via GET other.example.com /public/x -H "$(bearer "$T_PUB")"
ok "a host no zone matches: 403 no_zone" hdr_eq WWW-Authenticate "$(scope no_zone)"

ok "no denied request reached the upstream" test "$(hits)" = "$before"

# ---- zone selection cannot be steered by the client ---------------------------------

before=$(hits)
via GET api.example.com /public/../payments/x -H "$(bearer "$T_PUB")"
ok "/public/../payments/x is the payments zone, not public" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"
via GET api.example.com /public/%2e%2e/payments/x -H "$(bearer "$T_PUB")"
ok "/public/%2e%2e/payments/x is the payments zone" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"
via GET api.example.com /public/.%2E/payments/x -H "$(bearer "$T_PUB")"
ok "/public/.%2E/payments/x is the payments zone" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"
via GET api.example.com /public//..//payments/x -H "$(bearer "$T_PUB")"
ok "/public//..//payments/x is not the public zone" status_is 401
via GET api.example.com /public/..%2fpayments/x -H "$(bearer "$T_PUB")"
ok "/public/..%2fpayments/x (encoded slash) selects no zone: 403" \
	hdr_eq WWW-Authenticate "$(scope no_zone)"
via GET api.example.com '/payments/x?zone=public' -H "$(bearer "$T_PUB")"
ok "?zone=public on the client request does not choose the zone" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"
via GET api.example.com /payments/x -H "$(bearer "$T_PUB")" \
	-H 'X-Original-URI: /public/x' -H 'X-Forwarded-Uri: /public/x'
ok "client X-Original-URI / X-Forwarded-Uri are overwritten" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"
via POST api.example.com /payments/x -H "$(bearer "$T_READER")" \
	-H 'X-Original-Method: GET' -H 'X-Forwarded-Method: GET'
ok "client X-Original-Method / X-Forwarded-Method are overwritten" \
	hdr_eq WWW-Authenticate "$(scope forbidden)"
via GET admin.example.com /public/x -H "$(bearer "$T_PUB")" \
	-H 'X-Forwarded-Host: api.example.com'
ok "client X-Forwarded-Host is overwritten" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"
via GET other.example.com / -H "$(bearer "$T_PUB")" \
	--request-target 'http://api.example.com/payments/x'
ok "absolute-form target: its host and path decide, as nginx routes it" \
	hdr_eq WWW-Authenticate "$(invalid audience_mismatch)"
ok "none of those reached the upstream" test "$(hits)" = "$before"
via GET other.example.com / -H "$(bearer "$T_PUB")" \
	--request-target 'http://api.example.com/public/x'
ok "absolute-form target on a public path passes" status_is 200

# ---- spoofed identity headers never reach the upstream -------------------------------

SPOOF=(-H 'X-Auth-Subject: admin-SPOOF' -H 'x-auth-subject: root-SPOOF'
	-H 'X-AUTH-TENANT: evil-SPOOF' -H 'x-Auth-tEnAnt: evil2-SPOOF'
	-H 'X-Auth-Roles: admin-SPOOF' -H 'x-auth-roles: payments-writer-SPOOF'
	-H 'X_Auth_Subject: admin-SPOOF' -H 'X_AUTH_ROLES: admin-SPOOF')

via GET api.example.com /public/x -H "$(bearer "$T_PUB")" "${SPOOF[@]}"
ok "allowed with spoofed headers: 200" status_is 200
ok "allowed: X-Auth-Subject is claimgate's" up_hdr_eq X-Auth-Subject alice
ok "allowed: X-Auth-Tenant is claimgate's" up_hdr_eq X-Auth-Tenant acme
ok "allowed: X-Auth-Roles is claimgate's" up_hdr_eq X-Auth-Roles read,write
ok "allowed: nothing the client sent as identity reached the upstream" up_clean SPOOF

via GET api.example.com /public/x -H "$(bearer "$T_PUB_BARE")" "${SPOOF[@]}"
ok "allowed, tenant and roles absent: 200" status_is 200
ok "claim absent: X-Auth-Subject is claimgate's" up_hdr_eq X-Auth-Subject bob
ok "claim absent: the client's X-Auth-Tenant is removed" up_hdr_absent X-Auth-Tenant
ok "claim absent: the client's X-Auth-Roles is removed" up_hdr_absent X-Auth-Roles
ok "claim absent: nothing spoofed reached the upstream" up_clean SPOOF

via GET plain.example.com /x -H "$(bearer "$T_PUB_BARE")" "${SPOOF[@]}"
ok "plain claim absent: 200" status_is 200
ok "plain claim absent: the client's X-Auth-Tenant is removed" up_hdr_absent X-Auth-Tenant
ok "plain claim absent: nothing spoofed reached the upstream" up_clean SPOOF
via GET plain.example.com /x -H "$(bearer "$T_PUB")" "${SPOOF[@]}"
ok "plain zone, claims present: 200" status_is 200
ok "plain zone: X-Auth-Tenant is claimgate's" up_hdr_eq X-Auth-Tenant acme
ok "plain zone: nothing spoofed reached the upstream" up_clean SPOOF

via GET admin.example.com /x -H "$(bearer "$T_ADMIN")" "${SPOOF[@]}"
ok "admin zone (no tenant forward) with spoofed tenant: 200" status_is 200
ok "a header only other zones forward is removed too" up_hdr_absent X-Auth-Tenant
ok "admin zone: nothing spoofed reached the upstream" up_clean SPOOF

T_W2=$(sso_mint $PAY --sub dave --scope payments:write --claims '{"tid":"acme"}')
via PUT api.example.com /payments/7 -H "$(bearer "$T_W2")" "${SPOOF[@]}"
ok "payments PUT with spoofed headers: 200" status_is 200
ok "payments PUT: X-Auth-Subject is claimgate's" up_hdr_eq X-Auth-Subject dave
ok "payments PUT: nothing spoofed reached the upstream" up_clean SPOOF

before=$(hits)
via GET api.example.com /public/x "${SPOOF[@]}"
ok "denied (no token) with spoofed headers: 401" status_is 401
via GET api.example.com /public/x -H "$(bearer "$T_ROGUE")" "${SPOOF[@]}"
ok "denied (bad signature) with spoofed headers: 401" status_is 401
via GET admin.example.com /x -H "$(bearer "$T_ADMIN_USER")" "${SPOOF[@]}"
ok "denied (forbidden) with spoofed headers: 403" status_is 403
via GET nowhere.example.com /x -H "$(bearer "$T_PUB")" "${SPOOF[@]}"
ok "denied (no zone) with spoofed headers: 403" status_is 403
ok "denied requests never reached the upstream" test "$(hits)" = "$before"

# ---- replay through nginx ------------------------------------------------------------

T_ONCE=$(sso_mint $PAY --sub dave --scope payments:write --claims '{"tid":"acme"}' --jti once-1)
via POST api.example.com /payments/9 -H "$(bearer "$T_ONCE")"
ok "replay: first use passes" status_is 200
before=$(hits)
via POST api.example.com /payments/9 -H "$(bearer "$T_ONCE")"
ok "replay: second use is 401" status_is 401
ok "replay: challenge says replayed" hdr_eq WWW-Authenticate "$(invalid replayed)"
ok "replay: the second use never reached the upstream" test "$(hits)" = "$before"
via GET api.example.com /payments/9 -H "$(bearer "$T_ONCE")"
ok "replay is per zone: the same jti in payments-read (replay off) passes" status_is 200

# ---- SIGHUP reload ------------------------------------------------------------------

cp policy.yaml policy.orig.yaml
# The public zone now requires the `vip` role.
sed '/^  public:/,/^  plain:/ s/^    forward:/    require:\n      roles: { any_of: [vip] }\n    forward:/' \
	policy.orig.yaml >policy.yaml
ok "the changed policy is valid (serve -n)" "$CG" serve -n -p policy.yaml
T_VIP=$(sso_mint $API --sub vic --scope vip)
kill -HUP "$SRV_PID"
ok "reload counted ok" wait_metric 'claimgate_policy_reloads_total{result="ok"} 1'
via GET api.example.com /public/x -H "$(bearer "$T_PUB")"
ok "after reload: the new require denies the old token (403)" status_is 403
ok "after reload: forbidden" hdr_eq WWW-Authenticate "$(scope forbidden)"
via GET api.example.com /public/x -H "$(bearer "$T_VIP")"
ok "after reload: a vip token passes" status_is 200

printf 'version: 1\nissuers: {}\nzones:\n  public:\n    audience: x\n    colour: blue\n' >policy.yaml
kill -HUP "$SRV_PID"
ok "broken policy: reload counted failed" wait_metric 'claimgate_policy_reloads_total{result="failed"} 1'
ok "broken policy: ok count unchanged" wait_metric 'claimgate_policy_reloads_total{result="ok"} 1'
ok "broken policy: the refusal is logged" wait_grep 'reload refused' serve.err
via GET api.example.com /public/x -H "$(bearer "$T_VIP")"
ok "broken policy: the previous policy keeps serving (vip passes)" status_is 200
via GET api.example.com /public/x -H "$(bearer "$T_PUB")"
ok "broken policy: the previous policy keeps serving (non-vip 403)" status_is 403
via GET admin.example.com /x -H "$(bearer "$T_ADMIN")"
ok "broken policy: other zones still serve" status_is 200

# ---- claimgate down: fail closed, visibly ---------------------------------------------

serve_stop
ok "claimgate stops with exit 0 on SIGTERM" test "$SRV_RC" = 0
before=$(hits)
via GET api.example.com /public/x -H "$(bearer "$T_VIP")"
ok "claimgate down: nginx answers 503" status_is 503
ok "claimgate down: with Retry-After" hdr_eq Retry-After 5
ok "claimgate down: the upstream is not reached" test "$(hits)" = "$before"

# ---- the boundary's own records ------------------------------------------------------

for t in "$T_PUB" "$T_WRITER" "$T_ADMIN" "$T_ROGUE"; do
	ok "no token in the audit log or stderr (${t:0:12}...)" not_in "$t" audit.log serve.err
done
ok "audit lines are JSON, one per decision, with zones" \
	"$PY" -c 'import json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
assert len(L) >= 30, len(L)
assert {"admin", "payments-write", "payments-read", "public", "plain", ""} <= {l["zone"] for l in L}, L
assert all(l["host"] for l in L), L' audit.log
ok "no sanitizer report from claimgate" bash -c '! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$1"' _ serve.err
ok "nginx logged no emergency or alert" bash -c '! grep -E "\[(emerg|alert|crit)\]" "$1" "$2"' _ nginx-error.log nginx.stderr

finish
