#!/bin/bash
# tests/e2e/test-qdevice-window.sh: our qdevice closes the known race of E2E-NOTES.md
# ("Known race in the stock stack") on its own, here against Debian's qnetd (2 nodes,
# ffsplit, tie_breaker lowest, TLS). The recipe is that of test-drill-window.sh: kill n2's
# qdevice, wait until votequorum dropped its vote, cut n1|n2 and start n2's qdevice 1 s
# later, while corosync still has the old ring, so qnetd (seeing the old membership)
# ACKs n2. With the stock stack n2 is quorate again in its own ring for ~4 s.
#
#  1. vote_guard on (the default): the ACK is held and dropped when the new membership
#     comes; n2 is never quorate in its own ring (not even within LAB_GRACE).
#  2. vote_guard=off (upstream's timing): the late message of the dead ring arrives, and
#     qdevice withdraws the vote at once ("withdrawing it again") instead of at its next
#     poll: no two disjoint quorate halves beyond LAB_GRACE.
#  3. Start-up: qdevice start to 3 votes on both nodes, guard on and off (reported; the
#     guard may add at most WINDOW_MAX_EXTRA_MS, default 3000).
#
# Run as root: tests/e2e/test-qdevice-window.sh (about 2.5 minutes).

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS=qdevice
: "${WINDOW_ROUNDS:=2}"
: "${WINDOW_MAX_EXTRA_MS:=3000}"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

N1_WINS=("n1 members=1 quorate=yes votes=2" "n2 members=2 quorate=no votes=1")

# qdevice_log HOST: the log of HOST's current qdevice instance (from its last start line).
qdevice_log() {
	awk '/^=== / { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' \
	    "$LAB_DIR/logs/$1-qdevice.log"
}

# both_votes N: both nodes count N votes.
both_votes() { lab_state n1 "votes=$1" && lab_state n2 "votes=$1"; }

# start_time ARGS...: with corosync up and no qdevice running, start both qdevices with
# ARGS; START_MS := the ms until both nodes count 3 votes (-1: not within 30 s).
start_time() {
	local t0 deadline
	LAB_QDEVICE_ARGS=("$@")
	t0=$(_lab_now_ms)
	deadline=$((t0 + 30000))
	lab_start_qdevice
	until both_votes 3; do
		(( $(_lab_now_ms) < deadline )) || { START_MS=-1; return; }
		sleep 0.1
	done
	START_MS=$(( $(_lab_now_ms) - t0 ))
}

# n2_alone_quorate: readings of the last sampler run where n2, alone in its ring, was quorate.
n2_alone_quorate() {
	awk '$3 == "n2" && $6 == "2" && $5 == "yes"' "$LAB_SAMPLER_FILE" | wc -l
}

# window_try LABEL QDEVICE_ARGS...: the recipe; leaves the partition in place.
window_try() {
	local label=$1 fault
	shift
	LAB_HOLD=2 lab_settled "${LAB_BOTH_FULL[@]}" || lab_die "$label: cluster not healthy"
	lab_kill_qdevice n2
	lab_wait_until 20 lab_state n2 votes=2 ||
		lab_log "n2 still counts 3 votes 20 s after its qdevice died"
	lab_sampler_start "$label"
	fault=$(_lab_now_ms)
	lab_partition n1 n2
	sleep 1
	LAB_QDEVICE_ARGS=("$@")
	lab_start_qdevice n2
	check "$label: n1 keeps quorum, n2 loses it" lab_settled "${N1_WINS[@]}"
	check "$label: never two disjoint memberships both quorate beyond ${LAB_GRACE} s" \
	    lab_sampler_stop
	if lab_log_times n2 "$fault"; then
		lab_log "$label: n2's new membership after $(_lab_ms_str "$LT_MEMBERSHIP")," \
		    "last loss of quorum after $(_lab_ms_str "$LT_NONQ_LAST")," \
		    "both halves quorate for up to $(_lab_ms_str "$SAMPLER_OVERLAP_MS")"
	fi
}

lab_create 2
lab_make_certs
lab_start_qnetd -s on -c on
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on

# --- 3. start-up time, interleaved so that both see the same conditions --------------------
lab_start_corosync
LAB_HOLD=2 check "corosync alone: both nodes quorate with 2 votes" \
    lab_settled "n1 members=1,2 quorate=yes votes=2" "n2 members=1,2 quorate=yes votes=2"
on_ms=() off_ms=()
for ((r = 1; r <= WINDOW_ROUNDS; r++)); do
	for mode in off on; do
		start_time -S "vote_guard=$mode"
		lab_log "start-up with vote_guard=$mode: $START_MS ms to 3 votes on both nodes"
		if [[ $mode == on ]]; then on_ms+=("$START_MS"); else off_ms+=("$START_MS"); fi
		lab_stop qdevice n1 n2
		lab_wait_until 20 both_votes 2 || lab_log "device vote still counted after stop"
	done
done
avg() { local s=0 v; for v in "$@"; do s=$((s + v)); done; echo $((s / $#)); }
echo "# start-up to 3 votes: vote_guard=off ${off_ms[*]} ms (avg $(avg "${off_ms[@]}")," \
    "vote_guard=on ${on_ms[*]} ms (avg $(avg "${on_ms[@]}"))"
check "start-up: every start reached 3 votes" \
    eval '[[ " ${on_ms[*]} ${off_ms[*]} " != *" -1 "* ]]'
check "start-up: the guard adds at most ${WINDOW_MAX_EXTRA_MS} ms" \
    eval '(( $(avg "${on_ms[@]}") <= $(avg "${off_ms[@]}") + WINDOW_MAX_EXTRA_MS ))'
LAB_QDEVICE_ARGS=()
lab_start_qdevice

# --- 1. the window with the guard ----------------------------------------------------------
window_try "guard on"
log=$(qdevice_log n2)
check "guard on: n2 held qnetd's ACK for the old ring" \
    grep -q "Holding qnetd's ACK for ring" <<<"$log"
check "guard on: the held ACK was dropped at the new membership" \
    grep -q "Dropped the held ACK for ring .*: the membership changed" <<<"$log"
check "guard on: n2's qdevice never gave votequorum a yes" \
    eval '! grep -q "Vote given to votequorum: ACK" <<<"$log"'
check "guard on: n2 alone was never quorate, not even within the grace" \
    eval '(( $(n2_alone_quorate) == 0 ))'
lab_heal

# --- 2. upstream timing, repaired by withdrawing the late vote at once ----------------------
window_try "guard off" -S vote_guard=off
log=$(qdevice_log n2)
check "guard off: qnetd's ACK for the old ring was cast (upstream's timing)" \
    grep -q "Vote given to votequorum: ACK" <<<"$log"
check "guard off: the vote counted again by the late message was withdrawn at once" \
    grep -q "withdrawing it again" <<<"$log"
lab_heal
LAB_HOLD=2 check "healed: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
