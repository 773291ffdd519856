#!/bin/bash
# tests/e2e/test-qdevice-reconnect.sh: our qdevice losing Debian's qnetd and finding it again
# (2 nodes, ffsplit, TLS). qnetd killed: the device vote goes (ffsplit NACKs on disconnect),
# qdevice keeps trying, and the vote is back once qnetd runs again. qnetd unreachable from
# n1 only: n1's qdevice notices the missing echo replies, drops its vote, and recovers
# when the path is back. corosync killed under a qdevice: that qdevice exits.

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
: "${QNET_BUILD:=$TOP/build}"
: "${QDEVICE_BIN:=$QNET_BUILD/qdevice/qdevice}"
: "${QDEVICE_TOOL:=$QNET_BUILD/qdevice/qdevice-tool}"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

both_full=("n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=3")
both_bare=("n1 members=1,2 quorate=yes votes=2" "n2 members=1,2 quorate=yes votes=2")

state_is() {		# HOST STATE
	lab_qdevice_tool "$1" -s | grep -Eq "^State:[[:space:]]+$2\$"
}

lab_create 2
lab_make_certs
lab_start_qnetd -s on -c on
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on
lab_start_cluster
LAB_HOLD=2 check "start: both nodes quorate with 3 votes" lab_settled "${both_full[@]}"

lab_kill_qnetd
check "qnetd killed: the device vote is gone on both nodes" lab_settled "${both_bare[@]}"
check "qnetd killed: qdevice on n1 reports Connect failed" lab_wait_until 20 state_is n1 "Connect failed"
check "qnetd killed: qdevice keeps running" eval 'lab_running n1 qdevice && lab_running n2 qdevice'

lab_start_qnetd -s on -c on
check "qnetd back: both nodes quorate with 3 votes" lab_settled "${both_full[@]}"
check "qnetd back: qdevice on n1 Connected" state_is n1 Connected

lab_cut_arbiter n1
check "qnetd unreachable from n1: n1 loses the device vote, n2 keeps it" \
    lab_settled "n1 members=1,2 quorate=yes votes=2" "n2 members=1,2 quorate=yes votes=3"
lab_uncut_arbiter n1
check "path back: both nodes quorate with 3 votes" lab_settled "${both_full[@]}"

lab_kill n2 corosync
check "corosync killed on n2: its qdevice exits" lab_wait_until 15 eval '! lab_running n2 qdevice'
check "n1 alone keeps quorum with its device vote" \
    lab_settled "n1 members=1 quorate=yes votes=2"
