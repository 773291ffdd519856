#!/bin/bash
# tests/e2e/test-qdevice-heuristics.sh: heuristics of our qdevice against Debian's qnetd
# (2 nodes, ffsplit, tie_breaker lowest, TLS). Each node runs one exec_ check that fails
# while the flag file /etc/corosync/heuristics-fail exists on that node. With n1 failing,
# qdevice reports Fail (regular heuristics send HEURISTICS_CHANGE) and n2 wins the 50:50
# split although the tie-breaker favours n1. Clearing the flag makes n1 pass again.

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS=qdevice
# shellcheck source=lib.sh
. "$HERE/lib.sh"

FLAG=/etc/corosync/heuristics-fail

heuristics_result() {	# HOST WORD: qdevice-tool -s shows "Heuristics result: WORD"
	lab_qdevice_tool "$1" -s | grep -Eq "^Heuristics result:[[:space:]]+$2\$"
}

qnetd_sees() {		# NODE_ID WORD: qnetd-tool -l lists that heuristics for the node
	lab_qnetd_tool -l | awk -v id="Node ID $1:" -v want="$2" '
		$0 ~ id { on = 1; next }
		/Node ID/ { on = 0 }
		on && /Heuristics:/ { if ($2 == want) found = 1 }
		END { exit !found }'
}

lab_create 2
lab_make_certs
lab_start_qnetd -s on -c on
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on heuristics=on \
    heuristics.interval=1000 heuristics.timeout=1000 \
    "heuristics.exec_flag=/bin/sh -c \"test ! -e $FLAG\""
lab_start_cluster

LAB_HOLD=2 check "heuristics pass: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
check "n1 reports heuristics Pass" heuristics_result n1 Pass
check "qnetd sees Pass for node 1" lab_wait_until 10 qnetd_sees 1 Pass

touch "$(lab_path n1 $FLAG)"
check "n1 reports heuristics Fail after the flag appears" lab_wait_until 15 heuristics_result n1 Fail
check "qnetd sees Fail for node 1 (heuristics change)" lab_wait_until 10 qnetd_sees 1 Fail
check "a failing check alone does not cost quorum" lab_settled "${LAB_BOTH_FULL[@]}"

lab_partition n1 n2
check "n1 failing, n1|n2: n2 wins (2 votes) despite tie_breaker lowest" \
    lab_settled "n1 members=1 quorate=no votes=1" "n2 members=2 quorate=yes votes=2"

rm -f "$(lab_path n1 $FLAG)"
lab_heal
check "healed: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
check "n1 reports heuristics Pass again" lab_wait_until 15 heuristics_result n1 Pass

lab_partition n1 n2
check "all passing, n1|n2: n1 wins again (tie_breaker lowest)" \
    lab_settled "n1 members=1 quorate=yes votes=2" "n2 members=2 quorate=no votes=1"
