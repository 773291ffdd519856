#!/bin/bash
# tests/e2e/test-qdevice-vs-debian-qnetd.sh: our qdevice (QDEVICE_BIN, QDEVICE_TOOL; default
# the build in ../../build) against Debian's corosync-qnetd in a real 2-node corosync cluster:
# TLS with client certificates, ffsplit, tie_breaker lowest. Both nodes quorate with 3 votes;
# an n1|n2 split leaves n1 (lowest node id) quorate; healing restores 3 votes everywhere.
# Also checks what qdevice-tool reports and that qnetd sees TLS-verified clients.

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS=qdevice
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# status_has HOST REGEX [-v]: the tool's status output has a line matching REGEX.
status_has() {
	local h=$1 re=$2
	shift 2
	lab_qdevice_tool "$h" -s "$@" | grep -Eq "$re"
}

lab_start_pair algorithm=ffsplit tie_breaker=lowest tls=on

LAB_HOLD=2 check "both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
check "qdevice-tool -s on n1: State Connected" status_has n1 $'^State:\t\t\tConnected$'
check "qdevice-tool -s on n2: ffsplit, lowest" \
    eval 'status_has n2 $'"'"'^Algorithm:\t\tFifty-Fifty split$'"'"' &&
	status_has n2 $'"'"'^Tie-breaker:\t\tNode with lowest node ID$'"'"''
check "qdevice-tool -s -v on n1: TLS active with client certificate" \
    status_has n1 $'^TLS active:\t\tYes \\(client certificate sent\\)$' -v
check "qdevice-tool -s -v on n1: poll timer casts the vote" \
    status_has n1 $'^Poll timer running:\tYes \\(cast vote\\)$' -v
check "qnetd lists cluster $LAB_CLUSTER with 2 TLS-verified clients" \
    eval 'lab_qnetd_tool -l -v | grep -c "TLS active:.*Yes (client certificate verified)" | grep -qx 2'

lab_partition n1 n2
check "n1|n2: n1 quorate (2 votes), n2 not quorate" lab_settled "${LAB_SPLIT_N1[@]}"
check "n1|n2: n2's qdevice still connected, not casting its vote" \
    eval 'status_has n2 $'"'"'^Poll timer running:\tYes$'"'"' -v'

lab_heal
check "healed: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"

check "qdevice-tool -H stops qdevice on n2" lab_qdevice_tool n2 -H
check "qdevice on n2 exits after -H" lab_wait_until 10 eval '! lab_running n2 qdevice'
# The device vote is node-local in votequorum: n1's qdevice still votes for n1.
check "without n2's qdevice: n2 sees 2 votes, n1 still 3" \
    lab_settled "n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=2"

check "qdevice-tool without a daemon: exit 3" \
    eval 'lab_exec n1 "$QDEVICE_TOOL" -p /run/no-such.sock -s >/dev/null 2>&1; [ $? -eq 3 ]'
check "qdevice-tool without an operation: usage, exit 1" \
    eval 'lab_exec n1 "$QDEVICE_TOOL" >/dev/null 2>&1; [ $? -eq 1 ]'
