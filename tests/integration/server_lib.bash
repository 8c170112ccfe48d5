# tests/integration/server_lib.bash - helpers for the server_*.sh scripts
# (`claimgate serve` behind real and simulated proxies). Not a test itself:
# the ctest glob only picks up tests/integration/*.sh.
#
# Source it after lib/check.bash, with $work set. The sourcing script's
# EXIT trap must call `srv_cleanup` (before removing $work): it stops every
# process started here, so nothing is left running, even on failure.
#
#   free_port                  prints a loopback port that was free just now
#   serve_start ARGS...        starts `claimgate serve ARGS... --listen
#                              127.0.0.1:PORT` (stderr appended to
#                              $work/serve.err), waits for /healthz; sets
#                              SRV_PID, SRV_PORT, SRV_URL. Retries with
#                              another port when the first was taken.
#   serve_stop [SIGNAL]        stops SRV_PID (default TERM), waits for it
#                              (bounded, then KILL); sets SRV_RC
#   bg_track PID               stop PID too on exit (upstreams, nginx)
#   bg_start_on_port START PROBE [--any]
#                              up to 5 tries: `START PORT` starts a process
#                              in the background listening on a free PORT;
#                              waits (wait_http) for http://127.0.0.1:PORT
#                              followed by PROBE; then bg_track's it and
#                              sets BG_PORT. Returns 1 if no try came up.
#   wait_http [--any] URL [PID]
#                              polls URL until it answers 2xx, or anything
#                              with --any (at most 10 s; gives up early
#                              when PID dies)
#   wait_metric LINE           polls $SRV_URL/metrics until LINE is there
#   wait_grep ERE FILE         polls until FILE has a line matching ERE
#   http METHOD URL [CURL...]  one request with curl; sets HS (status,
#                              000 when the connection failed) and leaves
#                              headers in $work/.h and body in $work/.b
#
# Request and answer values:
#   bearer TOKEN               prints the header "Authorization: Bearer TOKEN"
#   CHALLENGE                  the bare WWW-Authenticate challenge (no token)
#   invalid REASON             prints the 401 challenge for REASON
#   scope REASON               prints the 403 challenge for REASON
#
# Predicates for `ok DESC PRED ...` (check.bash), on the last `http`:
#   status_is CODE, hdr_eq NAME VALUE, hdr_count NAME N, hdr_absent NAME,
#   body_has ERE, json_eq EXPR VALUE (python expression over J, the body),
#   up_hdr_eq NAME VALUE / up_hdr_absent NAME / up_clean MARK (the echo
#   upstream's view: headers it received, from the JSON body).

SRV_PID=
SRV_PORT=
SRV_URL=
SRV_RC=
BG_PORT=
_SRV_BG=()

free_port() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

bg_track() { _SRV_BG+=("$1"); }

# Stops one process: SIGNAL, then up to 10 s, then SIGKILL. Returns its
# exit status when it is our child.
_stop_pid() { # PID [SIGNAL]
	local pid=$1 sig=${2:-TERM} i rc=0
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "process $pid did not stop in 10 s: killed" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

srv_cleanup() {
	local pid
	if [[ -n $SRV_PID ]]; then _stop_pid "$SRV_PID" || true; fi
	SRV_PID=
	for pid in "${_SRV_BG[@]}"; do _stop_pid "$pid" || true; done
	_SRV_BG=()
}

wait_http() { # [--any] URL [PID]
	local fail=(-f) url pid i
	if [[ $1 == --any ]]; then
		fail=()
		shift
	fi
	url=$1
	pid=${2-}
	for ((i = 0; i < 100; i++)); do
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
		if curl -s "${fail[@]}" --max-time 1 -o /dev/null "$url" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

bg_start_on_port() { # START PROBE [--any]
	local start=$1 probe=$2 any=(${3+"$3"}) try port pid
	BG_PORT=
	for ((try = 0; try < 5; try++)); do
		port=$(free_port)
		"$start" "$port"
		pid=$!
		if wait_http "${any[@]}" "http://127.0.0.1:$port$probe" "$pid"; then
			bg_track "$pid"
			# shellcheck disable=SC2034 # for the sourcing script
			BG_PORT=$port
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	return 1
}

serve_start() { # ARGS...
	local try port pid
	for ((try = 0; try < 5; try++)); do
		port=$(free_port)
		"$CG" serve "$@" --listen "127.0.0.1:$port" 2>>"$work/serve.err" &
		pid=$!
		if wait_http "http://127.0.0.1:$port/healthz" "$pid"; then
			SRV_PID=$pid
			SRV_PORT=$port
			SRV_URL=http://127.0.0.1:$port
			return 0
		fi
		_stop_pid "$pid" KILL || true
		if ! tail -n 3 "$work/serve.err" | grep -q 'cannot listen'; then
			echo "claimgate serve did not become healthy:" >&2
			tail -n 20 "$work/serve.err" >&2
			return 1
		fi
	done
	return 1
}

serve_stop() { # [SIGNAL]
	SRV_RC=0
	if [[ -z $SRV_PID ]]; then return 0; fi
	_stop_pid "$SRV_PID" "${1:-TERM}" || SRV_RC=$?
	SRV_PID=
}

wait_metric() { # LINE
	local i
	for ((i = 0; i < 100; i++)); do
		if curl -sf --max-time 1 "$SRV_URL/metrics" 2>/dev/null | grep -qxF -- "$1"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

wait_grep() { # ERE FILE: polls (at most 5 s) until FILE has a line matching ERE
	local i
	for ((i = 0; i < 50; i++)); do
		if grep -Eq -- "$1" "$2" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "no line matching $1 in $2"
	return 1
}

http() { # METHOD URL [CURL ARGS...]
	local m=$1 u=$2
	shift 2
	: >"$work/.h"
	: >"$work/.b"
	HS=$(curl -sS --path-as-is --max-time 10 -X "$m" -D "$work/.h" \
		-o "$work/.b" -w '%{http_code}' "$@" "$u" 2>"$work/.curlerr") || HS=000
	[[ -n $HS ]] || HS=000
}

# ---- request and answer values -------------------------------------------------

bearer() { printf 'Authorization: Bearer %s' "$1"; }
CHALLENGE='Bearer realm="claimgate"'
invalid() { printf '%s, error="invalid_token", error_description="%s"' "$CHALLENGE" "$1"; }
scope() { printf '%s, error="insufficient_scope", error_description="%s"' "$CHALLENGE" "$1"; }

# ---- predicates on the last `http` ------------------------------------------

_hdr_values() { # NAME: every value of header NAME (case-insensitive), one a line
	tr -d '\r' <"$work/.h" | awk -v n="$1" 'BEGIN { n = tolower(n) }
		{ i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) {
			v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v } }'
}

_show_last() {
	echo "status $HS"
	tr -d '\r' <"$work/.h" | sed 's/^/  < /'
	head -c 600 "$work/.b"
	echo
}

status_is() {
	[[ $HS == "$1" ]] && return 0
	echo "status $HS, expected $1"
	_show_last
	return 1
}

hdr_eq() { # NAME VALUE: exactly one NAME header, equal to VALUE
	local v
	v=$(_hdr_values "$1")
	[[ $v == "$2" ]] && return 0
	echo "header $1: got [$v], expected [$2]"
	_show_last
	return 1
}

hdr_count() { # NAME N
	local n
	n=$(_hdr_values "$1" | grep -c '' || true)
	[[ $n == "$2" ]] && return 0
	echo "header $1 appears $n times, expected $2"
	_show_last
	return 1
}

hdr_absent() { hdr_count "$1" 0; }

body_has() { # ERE
	grep -Eq -- "$1" "$work/.b" && return 0
	echo "body does not match: $1"
	_show_last
	return 1
}

json_eq() { # EXPR VALUE: str(eval(EXPR)) == VALUE, J = the JSON body
	"$PY" -c 'import json, sys
J = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
v = json.dumps(v) if not isinstance(v, str) else v
if v != sys.argv[3]:
    print("%s = %r, expected %r" % (sys.argv[2], v, sys.argv[3]))
    sys.exit(1)' "$work/.b" "$1" "$2"
}

# The echo upstream answers {"method":..,"path":..,"headers":[[name,value],...]}.
_up() { # CODE (python, with H = list of (lower name, value))
	"$PY" -c 'import json, sys
try:
    J = json.load(open(sys.argv[1]))
except Exception:
    print("not an upstream echo: " + open(sys.argv[1], errors="replace").read()[:300])
    sys.exit(1)
H = [(k.lower(), v) for k, v in J["headers"]]
A = sys.argv[3:]
'"$1" "$work/.b" "$@"
}

up_hdr_eq() { # NAME VALUE: the upstream got exactly one NAME, equal to VALUE
	_up 'got = [v for k, v in H if k == A[0].lower()]
if got != [A[1]]:
    print("upstream got %s = %r, expected [%r]; all: %r" % (A[0], got, A[1], H))
    sys.exit(1)' "$1" "$2"
}

up_hdr_absent() { # NAME
	_up 'got = [v for k, v in H if k == A[0].lower()]
if got:
    print("upstream got %s = %r, expected none" % (A[0], got))
    sys.exit(1)' "$1"
}

up_clean() { # MARK: no header name or value the upstream got contains MARK,
	# and no name that reads as an X-Auth-* name with "_" for "-"
	_up 'bad = [(k, v) for k, v in H if A[0].lower() in (k + v).lower()
       or ("_" in k and k.replace("_", "-").startswith("x-auth-"))]
if bad:
    print("client-sent identity data reached the upstream: %r" % bad)
    sys.exit(1)' "$1"
}
