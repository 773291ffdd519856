#!/bin/bash
# tests/e2e/test-qdevice-algorithms.sh: our qdevice with the other decision algorithms of
# Debian's qnetd (2 nodes, TLS): lms and 2nodelms, tie_breaker lowest then highest. In each
# case both nodes are quorate with 3 votes, the n1|n2 split keeps the tie-breaker's node
# quorate, and healing restores 3 votes.

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS=qdevice
# shellcheck source=lib.sh
. "$HERE/lib.sh"

lab_create 2
lab_make_certs
lab_start_qnetd -s on -c on

run_case() {	# ALGORITHM TIE_BREAKER WINNER
	local alg=$1 tb=$2 win=$3
	lab_write_config algorithm="$alg" tie_breaker="$tb" tls=on
	# qdevices start once both nodes share one membership: 2nodelms's newcomer rule
	# (docs/protocol.md 3.3) NACKs a node that reports a ring the other has not reported
	# yet, and nothing re-evaluates it until the next membership change.
	lab_start_corosync
	lab_wait_until 30 eval '[[ $(lab_members n1) == 1,2 && $(lab_members n2) == 1,2 ]]' ||
		lab_die "setup: corosync nodes did not form one membership"
	lab_start_qdevice
	lab_check_split "$alg/$tb" "$win"
	lab_stop_cluster
}

run_case lms lowest n1
run_case 2nodelms highest n2
