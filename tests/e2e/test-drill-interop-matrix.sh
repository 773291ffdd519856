#!/bin/bash
# tests/e2e/test-drill-interop-matrix.sh: {our, Debian's} qnetd x {our, Debian's} qdevice
# on the core drill: 2 nodes, ffsplit tie_breaker lowest, n1|n2 -> n1 keeps quorum
# (2 votes), n2 does not; heal -> 3 votes. All rows must give the same winners. Rows with
# our qdevice are skipped only when it is not built (a "SKIPPED: qdevice not built" line).
# Certificates are made by our certutils for every row.
#@scenario interop-ours-ours qnetd: ours, qdevice: ours
#@scenario interop-ours-debian qnetd: ours, qdevice: Debian's
#@scenario interop-debian-ours qnetd: Debian's, qdevice: ours
#@scenario interop-debian-debian qnetd: Debian's, qdevice: Debian's

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

FULL2=("n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=3")
N1_WINS=("n1 members=1 quorate=yes votes=2" "n2 members=2 quorate=no votes=1")

OUR_QNETD=$DRILL_BUILD/qnetd/qnetd OUR_QNETD_TOOL=$DRILL_BUILD/qnetd/qnetd-tool
OUR_QDEVICE=$DRILL_BUILD/qdevice/qdevice OUR_QDEVICE_TOOL=$DRILL_BUILD/qdevice/qdevice-tool
[[ -x $OUR_QDEVICE_TOOL ]] || OUR_QDEVICE_TOOL=/usr/sbin/corosync-qdevice-tool
declare -A WINNERS=()
DRILL_BINS_LABEL="binaries: per row, interop-QNETD-QDEVICE"

drill_lab 2

for qnetd in ours debian; do
	for qdevice in ours debian; do
		drill_scenario "interop-$qnetd-$qdevice" "qnetd: $qnetd, qdevice: $qdevice" || continue
		if [[ $qdevice == ours && ! -x $OUR_QDEVICE ]]; then
			echo "ok - $DRILL_NAME # SKIP qdevice not built"
			echo "# SKIPPED: qdevice not built ($OUR_QDEVICE missing): row qnetd=$qnetd qdevice=ours"
			drill_row "$DRILL_NAME" "SKIPPED: qdevice not built" "skip" "-" "-" "-" "-" "-"
			drill_done
			continue
		fi
		_drill_stop_all
		lab_running arb qnetd && lab_stop qnetd arb
		if [[ $qnetd == ours ]]; then
			QNETD_BIN=$OUR_QNETD QNETD_TOOL=$OUR_QNETD_TOOL
		else
			QNETD_BIN=/usr/bin/corosync-qnetd QNETD_TOOL=/usr/bin/corosync-qnetd-tool
		fi
		if [[ $qdevice == ours ]]; then
			QDEVICE_BIN=$OUR_QDEVICE QDEVICE_TOOL=$OUR_QDEVICE_TOOL
		else
			QDEVICE_BIN=/usr/sbin/corosync-qdevice QDEVICE_TOOL=/usr/sbin/corosync-qdevice-tool
		fi
		lab_log "row: qnetd $QNETD_BIN, qdevice $QDEVICE_BIN"
		lab_start_qnetd -s on -c on
		drill_cluster algorithm=ffsplit tie_breaker=lowest
		drill_fault "partition n1|n2" lab_partition n1 n2
		if drill_expect "${N1_WINS[@]}"; then
			WINNERS[$DRILL_NAME]="n1"
		else
			lab_query n1; w1=$Q_QUORATE
			lab_query n2; w2=$Q_QUORATE
			WINNERS[$DRILL_NAME]="n1:$w1,n2:$w2"
		fi
		drill_fault "heal" lab_heal
		drill_expect --hold 3 "${FULL2[@]}"
		drill_done
	done
done

if (( ${#WINNERS[@]} )); then
	winners_text=$(printf '%s\n' "${WINNERS[@]}" | sort -u | tr '\n' ' ')
	check "every row that ran chose the same winner (${#WINNERS[@]} rows: $winners_text)" \
	    eval '[[ $(printf "%s\n" "${WINNERS[@]}" | sort -u | wc -l) == 1 ]]'
fi
