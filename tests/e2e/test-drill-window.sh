#!/bin/bash
# tests/e2e/test-drill-window.sh: the known <= 5 s window of the stock stack (E2E-NOTES):
# a qdevice that (re)connects to qnetd after the ring was cut but before corosync formed
# the new membership gets an ACK for the old ring; on the losing side that vote is still
# counted when the new membership forms, so both halves can be quorate for a while.
#
# Recipe (ffsplit, tie_breaker lowest, so n2 must lose): kill n2's qdevice; cut n1|n2;
# DRILL_WINDOW_DELAY s later (default 1) start n2's qdevice again: it connects while
# corosync still has the old ring. Then the settled state must be n1 quorate, n2 not,
# and the sampler measures how long both halves were quorate after the new membership.
#
# The recipe runs once per qdevice in DRILL_WINDOW_STACKS (default "debian ours"), against
# the same qnetd. With our qdevice an overlap longer than LAB_GRACE fails the test (the
# window is closed). With Debian's the overlap is measured and reported ("window
# reproduced"; it does not open on every try), and only a wrong settled state fails.
# DRILL_WINDOW_STRICT=1/0 forces either judgement; DRILL_WINDOW_TRIES (default 1) tries
# per stack.
#@scenario window-debian Debian's qdevice reconnects between the ring cut and the new membership
#@scenario window-ours our qdevice reconnects between the ring cut and the new membership

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

: "${DRILL_WINDOW_DELAY:=1}"
: "${DRILL_WINDOW_TRIES:=1}"
: "${DRILL_WINDOW_STACKS:=debian ours}"
N1_WINS=("n1 members=1 quorate=yes votes=2" "n2 members=2 quorate=no votes=1")
DRILL_BINS_LABEL="qnetd: $(drill_which "$QNETD_BIN"), qdevice: per row, window-QDEVICE"

drill_lab 2

for stack in $DRILL_WINDOW_STACKS; do
	case $stack in
	ours)	QDEVICE_BIN=$DRILL_BUILD/qdevice/qdevice QDEVICE_TOOL=$DRILL_BUILD/qdevice/qdevice-tool;;
	debian)	QDEVICE_BIN=/usr/sbin/corosync-qdevice QDEVICE_TOOL=/usr/sbin/corosync-qdevice-tool;;
	*)	lab_die "DRILL_WINDOW_STACKS: unknown stack '$stack' (ours or debian)";;
	esac
	drill_scenario "window-$stack" "$stack qdevice reconnects between the ring cut and the new membership" ||
		continue
	strict=${DRILL_WINDOW_STRICT:-}
	[[ -n $strict ]] || { [[ $stack == ours ]] && strict=1 || strict=0; }
	reproduced=0
	# A fresh cluster per stack: the qdevices of the previous row must not stay.
	_drill_stop_all
	for ((try = 1; try <= DRILL_WINDOW_TRIES; try++)); do
		drill_cluster algorithm=ffsplit tie_breaker=lowest
		lab_kill_qdevice n2
		drill_dirty
		# n2's old qdevice vote must be gone (votequorum drops it after quorum.device.timeout)
		lab_wait_until 20 lab_state n2 votes=2 ||
			lab_log "n2 still counts 3 votes 20 s after its qdevice died"
		DRILL_STRICT_INVARIANT=$strict
		drill_fault "cut n1|n2, n2's qdevice starts ${DRILL_WINDOW_DELAY} s later" \
		    eval 'lab_partition n1 n2; sleep "$DRILL_WINDOW_DELAY"; lab_start_qdevice n2'
		drill_expect --label "try $try: n1|n2, qdevice n2 back in the window" "${N1_WINS[@]}"
		DRILL_STRICT_INVARIANT=1
		if (( SAMPLER_VIOLATIONS > 0 )); then
			reproduced=$((reproduced + 1))
			drill_note "try $try: window reproduced: both halves quorate for ~$(_lab_ms_str "$SAMPLER_OVERLAP_MS") after the new membership"
		else
			drill_note "try $try: no overlap longer than the ${LAB_GRACE} s grace (longest $(_lab_ms_str "$SAMPLER_OVERLAP_MS"))"
		fi
	done
	if (( strict )); then
		check "$stack qdevice: window closed, no try left both halves quorate beyond ${LAB_GRACE} s" \
		    eval '(( reproduced == 0 ))'
	else
		echo "# window: reproduced in $reproduced of $DRILL_WINDOW_TRIES tries" \
		    "($stack qdevice; reported, not failed: not strict)"
	fi
	drill_done
done
