#!/bin/bash
# tests/e2e/test-qnetd-interop.sh: our qnetd (TLS, client certificates made by our
# certutils) serving Debian's corosync-qdevice 3.0.3 in a real 2-node corosync cluster.
#   ffsplit lowest: 3 votes; n1|n2 -> n1 keeps quorum; heal -> 3 votes
#   ffsplit highest: n2 keeps quorum
#   lms: n1 keeps quorum (tie-breaker lowest), heal -> 3 votes
#   qnetd-tool -s/-l output: the same text as Debian's corosync-qnetd-tool for the
#   same cluster state (Debian's qnetd run on the NSS DB our certutil made), and it
#   parses with the patterns pcs uses.
# QNETD_WORKERS=N runs our qnetd with -S worker_processes=N (test-qnetd-interop-workers.sh).

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS="qnetd certutil"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
export QNETD_BIN QNETD_TOOL QNETD_CERTUTIL QDEVICE_CERTUTIL

# pcs reads `corosync-qnetd-tool -l`: a cluster header, node headers, "label: value" lines.
pcs_parse() {
	awk '
		/^Cluster "[^"]+":$/ { clusters++; next }
		/^    Node ID [0-9]+:$/ { nodes++; next }
		/^ +[A-Za-z][A-Za-z /-]*:\t+[^\t].*$/ { next }
		{ bad++; print "unparsed: " $0 > "/dev/stderr" }
		END { if (bad || clusters != 1 || nodes != 2) exit 1 }'
}

# Client addresses (ports) and ring ids legitimately differ between two runs.
# The vote's first word is the last reply sent ("ACK", then "No change" once the client
# sent another list): it depends on message timing, not on the format; the vote itself,
# in parentheses, is compared.
mask_volatile() {
	sed -E 's/^( +Client address:\t+).*/\1ADDR/; s/^( +Ring ID:\t+).*/\1RING/;
	    s/^( +Vote:\t+)[^(]*\(/\1LAST (/'
}

lab_create 2
lab_make_certs
# Our extension: an event hook; it appends one line per event to a file.
events="$LAB_DIR/events.log"
cat >"$LAB_DIR/hook.sh" <<HOOK
#!/bin/sh
echo "\$1 node=\${QNET_NODE_ID:-} vote=\${QNET_VOTE:-} acked=[\${QNET_ACKED_NODES:-}]" >>"$events"
HOOK
chmod 0755 "$LAB_DIR/hook.sh"
ours_extra=()
[[ -n ${QNETD_WORKERS:-} ]] && ours_extra=(-S "worker_processes=$QNETD_WORKERS")
lab_start_qnetd -s on -c on -S "event_hook=$LAB_DIR/hook.sh" "${ours_extra[@]}"
if [[ -n ${QNETD_WORKERS:-} ]]; then
	check "qnetd runs $QNETD_WORKERS worker processes behind a front" eval \
	    'grep -q "$QNETD_WORKERS processes and a front" "$LAB_DIR/logs/arb-qnetd.log" &&
	     grep -q "worker $((QNETD_WORKERS - 1)) ready" "$LAB_DIR/logs/arb-qnetd.log"'
fi

# --- ffsplit, tie_breaker lowest --------------------------------------------------
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on
lab_start_cluster
LAB_HOLD=2 check "ffsplit lowest: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"

ours_list=$(lab_qnetd_tool -l -v)
ours_status=$(lab_qnetd_tool -s -v)
check "qnetd-tool -l -v parses with pcs's patterns" pcs_parse <<<"$ours_list"
check "qnetd-tool -l shows both clients TLS-verified with ACK" eval \
    '[[ $(grep -c "TLS active:.*Yes (client certificate verified)" <<<"$ours_list") == 2 &&
        $(grep -c "Vote:.*(ACK)$" <<<"$ours_list") == 2 ]]'
check "qnetd-tool -l -c NAME filters by cluster" eval \
    '[[ $(lab_qnetd_tool -l -c "$LAB_CLUSTER") == "$(lab_qnetd_tool -l)" &&
        -z $(lab_qnetd_tool -l -c no-such-cluster) ]]'

check "qnetd-tool -s -j is JSON with the right counts" eval \
    'lab_qnetd_tool -s -j | "$HERE/check-tool-formats.py" status-json 2 1'
check "qnetd-tool -l -j is JSON: 2 TLS-verified nodes, both ACKed" eval \
    'lab_qnetd_tool -l -j | "$HERE/check-tool-formats.py" list-json "$LAB_CLUSTER" 2 2'
check "qnetd-tool --metrics is Prometheus text with cluster gauges and a histogram" eval \
    'lab_qnetd_tool --metrics | "$HERE/check-tool-formats.py" metrics "$LAB_CLUSTER" 2'

check "event hook saw both clients connect and get ACK" eval \
    'grep -q "^client_connected node=1 " "$events" && grep -q "^client_connected node=2 " "$events" &&
     grep -q "^vote_changed node=1 vote=ACK" "$events" && grep -q "^partition_changed .*acked=\[1 2\]" "$events"'

# Only events from the partition on: node 2 may have been NACKed at the start already
# (its qdevice connected before the two nodes had formed one ring).
ev_lines=$(($(wc -l <"$events") + 1))
lab_partition n1 n2
check "ffsplit lowest, n1|n2: n1 quorate (2 votes), n2 not" lab_settled "${LAB_SPLIT_N1[@]}"
partition_events() {
	tail -n +"$ev_lines" "$events" | grep -q "^vote_changed node=2 vote=NACK" &&
	    [[ $(grep "^partition_changed" "$events" | tail -n 1) == *"acked=[1]"* ]]
}
check "event hook saw the partition: node 2 NACKed, only node 1 holds the vote" partition_events
lab_heal
check "ffsplit lowest, healed: 3 votes again" lab_settled "${LAB_BOTH_FULL[@]}"

# --- ffsplit, tie_breaker highest -------------------------------------------------
lab_restart_cluster algorithm=ffsplit tie_breaker=highest tls=on
lab_check_split "ffsplit highest" n2

# --- lms ------------------------------------------------------------------------------
lab_restart_cluster algorithm=lms tie_breaker=lowest tls=on
lab_check_split lms n1

# --- the same state under Debian's qnetd, for the tool text ---------------------------
lab_stop_cluster
lab_stop qnetd arb
QNETD_BIN=/usr/bin/corosync-qnetd QNETD_TOOL=/usr/bin/corosync-qnetd-tool
lab_start_qnetd -s on -c on
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on
lab_start_cluster
LAB_HOLD=2 check "Debian qnetd on our certutil's NSS DB: 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
debian_list=$(lab_qnetd_tool -l -v)
debian_status=$(lab_qnetd_tool -s -v)
check "qnetd-tool -s -v text equals Debian's" eval '[[ "$ours_status" == "$debian_status" ]]'
check "qnetd-tool -l -v text equals Debian's (addresses and ring ids masked)" eval \
    'diff <(mask_volatile <<<"$ours_list") <(mask_volatile <<<"$debian_list")'

