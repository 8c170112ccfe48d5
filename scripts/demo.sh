#!/usr/bin/env bash
# The main job on the bundled example: installs what is missing, builds
# claimgate, generates fresh keys for the example issuers, mints tokens
# for the example's scenarios, and lets `claimgate verify` decide each one
# against examples/policy.yaml. No external service is needed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
bin="$("$top/scripts/build.sh" release)/claimgate"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$top/examples/policy.yaml" "$work/"
mkdir -p "$work/keys"
cd "$work"

# Keys: the SSO signs RS256 (kid corp-2026), the gateway's exchange
# service EdDSA; an attacker has a key of their own with the same kid.
"$bin" keygen -a RS256 --kid corp-2026 -o keys/corp-sso.pem --jwks keys/corp-sso.jwks.json >/dev/null
"$bin" keygen -a EdDSA --kid sts-1 -o keys/gateway-sts.pem --jwks keys/gateway-sts.jwks.json >/dev/null
"$bin" keygen -a RS256 --kid corp-2026 -o keys/attacker.pem >/dev/null

now=$(date +%s)
sso() { "$bin" mint -k keys/corp-sso.pem -a RS256 --kid corp-2026 --typ at+jwt --iss https://sso.example.com --now "$now" "$@"; }
sts() { "$bin" mint -k keys/gateway-sts.pem -a EdDSA --kid sts-1 --iss https://sts.gateway.internal --now "$now" "$@"; }
pay=https://api.example.com/payments

echo "claimgate $("$bin" --version | cut -d' ' -f2) on examples/policy.yaml"
echo
echo "== lint"
"$bin" lint -p policy.yaml && echo "no findings"
echo

run() { # zone, label, token
  printf '%-58s ' "$2"
  "$bin" verify -p policy.yaml -z "$1" --now "$now" "$3" || true
}
writer=$(sso --sub alice --aud $pay --scope "payments:write openid" --claims '{"tid":"acme-1"}')
echo "== zone payments"
run payments "alice, payments:write, fresh" "$writer"
printf '%s\n%s\n' "$writer" "$writer" | "$bin" verify -p policy.yaml -z payments --now "$now" --json - |
  sed -n '2p' | sed 's/^/same token twice (stdin, --json), second: /' || true
run payments "bob, payments:read only" "$(sso --sub bob --aud $pay --scope payments:read --claims '{"tid":"acme-1"}')"
run payments "minted for the admin portal" "$(sso --sub alice --aud https://admin.example.com --scope payments:write --claims '{"tid":"acme-1"}')"
run payments "issued 10 minutes ago (max_age 5m)" "$("$bin" mint -k keys/corp-sso.pem -a RS256 --kid corp-2026 --typ at+jwt --iss https://sso.example.com --now $((now - 600)) --ttl 30m --sub alice --aud $pay --scope payments:write --claims '{"tid":"acme-1"}')"
run payments "tenant with an upper-case letter" "$(sso --sub alice --aud $pay --scope payments:write --claims '{"tid":"Acme-1"}')"
run payments "forged: attacker key, same kid" "$("$bin" mint -k keys/attacker.pem -a RS256 --kid corp-2026 --typ at+jwt --iss https://sso.example.com --now "$now" --sub mallory --aud $pay --scope payments:write --claims '{"tid":"acme-1"}')"
none="$(printf '{"alg":"none"}' | base64 -w0 | tr '+/' '-_' | tr -d =).$(printf '{"iss":"https://sso.example.com","sub":"mallory"}' | base64 -w0 | tr '+/' '-_' | tr -d =)."
run payments "alg none" "$none"
echo
echo "== zone admin"
run admin "carol, admin:users -> user-admin" "$(sso --sub carol --aud https://admin.example.com --scope "openid admin:users" --claims '{"email":"carol@example.com"}')"
run admin "dave, openid only" "$(sso --sub dave --aud https://admin.example.com --scope openid)"
echo
echo "== zone agent-tool"
run agent-tool "agent-7 acting for alice, exact audience" "$(sts --sub alice --aud https://tools.example.com/search --scope search:read --ttl 2m --claims '{"act":{"sub":"agent-7"}}')"
run agent-tool "token also valid for another tool" "$(sts --sub alice --ttl 2m --scope search:read --claims '{"aud":["https://tools.example.com/search","https://tools.example.com/mail"],"act":{"sub":"agent-7"}}')"
run agent-tool "two delegation hops" "$(sts --sub alice --aud https://tools.example.com/search --scope search:read --ttl 2m --claims '{"act":{"sub":"agent-7","act":{"sub":"planner"}}}')"
run agent-tool "SSO token sent straight to the tool" "$(sso --sub alice --aud https://tools.example.com/search --scope search:read)"
