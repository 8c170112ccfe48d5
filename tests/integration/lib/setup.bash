# tests/integration/lib/setup.bash - the start the tests/integration/*.sh
# scripts share. Not a test itself: the ctest glob only picks up
# tests/integration/*.sh. Source it right after `set -euo pipefail`:
#
#   . "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/setup.bash" [--server]
#
# It creates the work directory $work, removed on exit; sets $here to
# tests/integration; sources lib/check.bash; and changes into $work. With
# --server it also sources server_lib.bash, stops every process started
# through it on exit (srv_cleanup, before $work is removed), and turns
# SIGTERM and SIGINT into exits (143, 130) so that this cleanup runs.
#
# A script that needs more on exit (another daemon to stop) sets up $work,
# its traps and the sourcing itself, as this file does.

# Sourced: $work and $here are used by the script.
# shellcheck shell=bash disable=SC2034
work=$(mktemp -d)
if [[ ${1-} == --server ]]; then
	trap 'srv_cleanup; rm -rf "$work"' EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
else
	trap 'rm -rf "$work"' EXIT
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/check.bash
. "$here/lib/check.bash"
if [[ ${1-} == --server ]]; then
	# shellcheck source=server_lib.bash
	. "$here/server_lib.bash"
fi
cd "$work" || exit 1
