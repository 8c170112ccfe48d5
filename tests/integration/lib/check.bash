# tests/integration/lib/check.bash - helpers shared by the CLI integration
# scripts (tests/integration/*.sh). Not a test itself: the ctest glob only
# picks up tests/integration/*.sh.
#
# The sourcing script has already done `set -euo pipefail`, created its
# work directory in $work and set its EXIT trap. This file defines:
#
#   run [--stdin TEXT | --stdin-file FILE] CMD...
#       runs CMD with standard input TEXT (printf %s, no newline added),
#       FILE, or /dev/null; sets RC and leaves stdout in $OUT, stderr in
#       $ERR. Never aborts the script.
#   check DESC EXPECTED_RC [STDOUT_PATTERN [STDERR_PATTERN]]
#       one check on the last `run`: the exit status, and each pattern
#       (grep -E, any line) against stdout / stderr. A pattern of ''
#       is not checked; '@empty' means the stream must be empty. Any
#       sanitizer report on stderr fails the check.
#   ok DESC CMD...
#       one check that passes when CMD exits 0 (its output is shown on
#       failure).
#   unless_known_bug VAR DESC
#       guards a check that fails because of a known bug:
#         if unless_known_bug KNOWN_BUG_X "desc"; then run ...; check ...; fi
#       While VAR is unset or not 0 the check is skipped (noted on
#       stderr, not counted); VAR=0 runs it, to see whether it is fixed.
#   finish
#       prints "N passed, M failed" and exits: 1 if M > 0, else 0.
#
# Small predicates for `ok`: same_file A B, not_in STRING FILE...,
# line_count N FILE, pyj CODE [ARGS...] (python3 with L = the JSON objects
# of $OUT, one per line, and A = ARGS).
#
# The issuer most scripts trust, "sso" (https://sso.example.com, an ES256
# key with kid k1; its policies name keys/sso.jwks.json):
#   sso_keys              writes keys/sso.pem, keys/sso.jwks.json and the
#                         public JWK keys/sso.jwk
#   sso_mint AUD [MINT OPTIONS...]
#                         prints a token for audience AUD signed with
#                         keys/sso.pem (later options override earlier ones)

# Sourced: $work comes from the script, CG/OUT/... are used by it.
# shellcheck shell=bash disable=SC2034,SC2154
: "${CG_BINARY:?CG_BINARY must name the claimgate binary}"
CG=$CG_BINARY
PY=/usr/bin/python3
OUT=$work/.stdout
ERR=$work/.stderr
IN=$work/.stdin
CG_PASSED=0
CG_FAILED=0
CG_SKIPPED=0
RC=0

# A failing setup command (keygen, mint, ...) ends the script via set -e:
# say where, since no summary line follows.
trap 'echo "${0##*/}: setup command failed at line $LINENO" >&2' ERR

run() {
  local src=/dev/null
  case "${1-}" in
  --stdin)
    printf '%s' "$2" >"$IN"
    src=$IN
    shift 2
    ;;
  --stdin-file)
    src=$2
    shift 2
    ;;
  esac
  "$@" <"$src" >"$OUT" 2>"$ERR" && RC=0 || RC=$?
}

_cg_pass() {
  CG_PASSED=$((CG_PASSED + 1))
  if [[ ${CG_VERBOSE:-0} == 1 ]]; then echo "ok   $1" >&2; fi
  return 0
}

_cg_fail() {
  CG_FAILED=$((CG_FAILED + 1))
  {
    echo "FAIL $1"
    shift
    printf '     %s\n' "$@"
  } >&2
  return 0
}

_cg_show() { # label file
  if [[ -s $2 ]]; then
    echo "     --- $1:" >&2
    head -c 2000 "$2" | sed 's/^/     | /' >&2
  fi
}

_cg_match() { # pattern file
  if [[ $1 == '@empty' ]]; then
    [[ ! -s $2 ]]
  else
    grep -Eq -- "$1" "$2"
  fi
}

check() {
  local desc=$1 want=$2 opat=${3-} epat=${4-} why=()

  if [[ $RC != "$want" ]]; then why+=("exit status $RC, expected $want"); fi
  if [[ -n $opat ]] && ! _cg_match "$opat" "$OUT"; then
    why+=("stdout does not match: $opat")
  fi
  if [[ -n $epat ]] && ! _cg_match "$epat" "$ERR"; then
    why+=("stderr does not match: $epat")
  fi
  if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$ERR"; then
    why+=("sanitizer report on stderr")
  fi
  if ((${#why[@]} == 0)); then
    _cg_pass "$desc"
  else
    _cg_fail "$desc" "${why[@]}"
    _cg_show stdout "$OUT"
    _cg_show stderr "$ERR"
  fi
}

ok() {
  local desc=$1 log=$work/.oklog
  shift
  if "$@" >"$log" 2>&1; then
    _cg_pass "$desc"
  else
    _cg_fail "$desc" "predicate failed: $*"
    _cg_show output "$log"
  fi
}

unless_known_bug() { # VAR DESC
  local var=$1
  if [[ ${!var:-1} != 0 ]]; then
    CG_SKIPPED=$((CG_SKIPPED + 1))
    echo "skip $2 (known bug: $var; run with $var=0 to check)" >&2
    return 1
  fi
  return 0
}

finish() {
  echo "$CG_PASSED passed, $CG_FAILED failed"
  if ((CG_FAILED > 0)); then exit 1; fi
  exit 0
}

same_file() { cmp -- "$1" "$2"; }

not_in() { # STRING FILE...: STRING occurs in none of the files
  local s=$1 f
  shift
  for f in "$@"; do
    if grep -Fq -- "$s" "$f"; then
      echo "'$s' found in $f"
      return 1
    fi
  done
}

line_count() { # N FILE
  local n
  n=$(wc -l <"$2")
  if [[ $n != "$1" ]]; then
    echo "$2 has $n lines, expected $1"
    return 1
  fi
}

pyj() { # CODE [ARGS...]
  local code=$1
  shift
  "$PY" -c 'import json, sys
L = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l]
A = sys.argv[2:]
'"$code" "$OUT" "$@"
}

# sha256 of a string, as lower-case hex
sha256_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# line number of the first line of FILE containing STRING (fixed string)
line_of() { grep -nF -- "$1" "$2" | head -n1 | cut -d: -f1; }

# RFC 7638 thumbprint (base64url SHA-256) of the JWK in FILE
jkt_of() {
  "$PY" -c 'import base64, hashlib, json, sys
k = json.load(open(sys.argv[1]))
req = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
       "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}[k["kty"]]
s = json.dumps({m: k[m] for m in req}, separators=(",", ":"), sort_keys=True)
print(base64.urlsafe_b64encode(hashlib.sha256(s.encode()).digest()).rstrip(b"=").decode())' "$1"
}

# base64url without padding of a string
b64url() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }

# ---- the "sso" issuer -------------------------------------------------------

sso_keys() {
  mkdir -p keys
  "$CG" keygen -a ES256 --kid k1 -o keys/sso.pem --jwks keys/sso.jwks.json >keys/sso.jwk
}

sso_mint() { # AUD [MINT OPTIONS...]
  local aud=$1
  shift
  "$CG" mint -k keys/sso.pem -a ES256 --kid k1 --iss https://sso.example.com \
    --aud "$aud" "$@"
}
