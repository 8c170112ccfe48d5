#!/usr/bin/env bash
# Checks that a release binary carries the hardening the build asks for:
# PIE, full RELRO (BIND_NOW), a non-executable stack, the stack protector
# and fortified libc calls (_FORTIFY_SOURCE=3). Prints what it found; exits
# 1 when something is missing.
set -euo pipefail
bin=${1:?usage: scripts/check-hardening.sh BINARY}
fail=0
# Captured first: `grep -q` on a pipe would stop readelf early (SIGPIPE)
# and pipefail would call that a failure.
hdr=$(readelf -h "$bin")
seg=$(readelf -lW "$bin")
dyn=$(readelf -d "$bin")
syms=$(readelf -sW --dyn-syms "$bin")
say() { printf '%-28s %s\n' "$1" "$2"; }
if grep -q 'Type:.*DYN' <<<"$hdr"; then say "PIE" yes; else say "PIE" MISSING; fail=1; fi
if grep -q GNU_RELRO <<<"$seg" && grep -Eq 'BIND_NOW|FLAGS.*NOW' <<<"$dyn"; then
  say "full RELRO" yes
else
  say "full RELRO" MISSING; fail=1
fi
if grep GNU_STACK <<<"$seg" | grep -q 'RWE'; then say "non-executable stack" MISSING; fail=1; else say "non-executable stack" yes; fi
if grep -q '__stack_chk_fail' <<<"$syms"; then say "stack protector" yes; else say "stack protector" MISSING; fail=1; fi
n=$(grep -c '__[a-z_]*_chk@' <<<"$syms" || true)
if [ "$n" -gt 0 ]; then say "fortified calls" "yes ($n)"; else say "fortified calls" MISSING; fail=1; fi
exit $fail
