#!/bin/bash
# tests/e2e/test-qdevice-reconnect.sh: our qdevice losing Debian's qnetd and finding it again
# (2 nodes, ffsplit, TLS). qnetd killed: the device vote goes (ffsplit NACKs on disconnect),
# qdevice keeps trying, and the vote is back once qnetd runs again. qnetd unreachable from
# n1 only: n1's qdevice notices the missing echo replies, drops its vote, and recovers
# when the path is back. corosync killed under a qdevice: that qdevice exits.

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS=qdevice
# shellcheck source=lib.sh
. "$HERE/lib.sh"

state_is() {		# HOST STATE
	lab_qdevice_tool "$1" -s | grep -Eq "^State:[[:space:]]+$2\$"
}

lab_start_pair algorithm=ffsplit tie_breaker=lowest tls=on
LAB_HOLD=2 check "start: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"

lab_kill_qnetd
check "qnetd killed: the device vote is gone on both nodes" lab_settled "${LAB_BOTH_BARE[@]}"
check "qnetd killed: qdevice on n1 reports Connect failed" lab_wait_until 20 state_is n1 "Connect failed"
check "qnetd killed: qdevice keeps running" eval 'lab_running n1 qdevice && lab_running n2 qdevice'
# Ours: a refused connect is tried again after 0.5-1.5 s, not after connect_timeout (3.2 s
# here, 8 s by default), so a qnetd starting again (or on a standby host) is found soon.
# Each attempt is logged, the repeated ones at debug level.
refused_attempts() { grep -c "Cannot connect to qnetd .*(attempt " "$LAB_DIR/logs/n1-qdevice.log"; }
if (( LAB_DEBUG )); then
	check "qnetd killed: a refused connect is retried about every second (>= 4 in 6 s)" eval \
	    'a=$(refused_attempts); sleep 6; b=$(refused_attempts); echo "# $((b - a)) attempts in 6 s"; ((b - a >= 4))'
fi

lab_start_qnetd -s on -c on
check "qnetd back: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
check "qnetd back: qdevice on n1 Connected" state_is n1 Connected

lab_cut_arbiter n1
check "qnetd unreachable from n1: n1 loses the device vote, n2 keeps it" \
    lab_settled "n1 members=1,2 quorate=yes votes=2" "n2 members=1,2 quorate=yes votes=3"
lab_uncut_arbiter n1
check "path back: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"

lab_kill n2 corosync
check "corosync killed on n2: its qdevice exits" lab_wait_until 15 eval '! lab_running n2 qdevice'
check "n1 alone keeps quorum with its device vote" \
    lab_settled "n1 members=1 quorate=yes votes=2"
