# tests/lib.sh: what every script suite shares. Source it after `set -u`:
#   . "$(dirname "$0")/../lib.sh"
# It makes a scratch directory $dir (kept with KEEP=1, removed otherwise), kills
# the PIDs a suite adds to the array pids at exit (a suite may define
# tests_at_exit for more), and counts checks:
#   check DESC CMD...            runs CMD in this shell (it may start processes and
#                                record them in variables and arrays)
#   check DESC subshell CMD...   runs CMD in a subshell, where `exit` ends only the check
# Each check prints "ok - DESC" or "not ok - DESC" and then, on failure, the last
# TESTS_TAIL (30) lines of CMD's output, each prefixed "#   "; TESTS_VERBOSE=1 shows
# the output of passing checks too. tests_summary prints "N passed, M failed" and
# returns non-zero when a check failed. Safe under set -e.

suite_name=$(basename "$0" .sh)
dir=$(mktemp -d "/tmp/$suite_name.XXXXXX") || exit 1
pids=()
passed=0
failed=0
TESTS_TAIL=${TESTS_TAIL:-30}
TESTS_VERBOSE=${TESTS_VERBOSE:-}

tests_cleanup() {
	local p
	if declare -F tests_at_exit >/dev/null; then
		tests_at_exit || true
	fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ -n ${KEEP:-} ]]; then
		echo "# kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap tests_cleanup EXIT

check() {
	local desc=$1 rc=0
	shift
	if [[ ${1:-} == subshell ]]; then
		shift
		( "$@" ) >"$dir/out" 2>&1 || rc=$?
	else
		"$@" >"$dir/out" 2>&1 || rc=$?
	fi
	if [[ $rc == 0 ]]; then
		echo "ok - $desc"
		passed=$((passed + 1))
		[[ -z $TESTS_VERBOSE ]] || sed 's/^/#   /' "$dir/out"
	else
		echo "not ok - $desc"
		tail -n "$TESTS_TAIL" "$dir/out" | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
	return 0
}

tests_summary() {
	echo "$passed passed, $failed failed"
	[[ $failed == 0 ]]
}

# free_port [4|6]: a free TCP port on loopback (6: on the dual-stack wildcard).
free_port() {
	if [[ ${1:-4} == 6 ]]; then
		python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::", 0)); print(s.getsockname()[1])'
	else
		python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
	fi
}

# loopback_qnetd [4|6]: what a suite needs to run our qnetd on loopback: QNETD and TOOL
# (qnetd and qnetd-tool of QNET_BUILD, default the tree's build/), port (free_port of
# that family), sock and adv (admin socket and lock file in $dir, for qnetd's -S).
# shellcheck disable=SC2034  # the suite reads them
loopback_qnetd() {
	local build=${QNET_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
	QNETD=$build/qnetd/qnetd
	TOOL=$build/qnetd/qnetd-tool
	port=$(free_port "${1:-4}")
	sock=$dir/q.sock
	adv="lock_file=$dir/q.pid,local_socket_file=$sock"
}
