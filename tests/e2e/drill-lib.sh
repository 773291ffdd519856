# shellcheck shell=bash
# tests/e2e/drill-lib.sh: scenario framing for the failure drills (test-drill-*.sh).
#
# Sourced after choosing binaries; sources lib.sh itself. A drill script is a list of
# scenarios:
#
#   drill_scenario NAME "what it shows"  || skip ...   (returns 1 if not selected)
#   drill_cluster KEY=VALUE...          fresh cluster with this corosync.conf (reused if
#                                       the last one had the same config and is healthy)
#   drill_fault "what" CMD...           note the time, start the safety sampler, run CMD
#   drill_expect "NODE KEY=V..." ...    settled-state check + invariant check + timings
#   drill_expect_set --want IDS ...     the same for a predicted set of quorate nodes
#
# Every scenario gives one row of the table printed at the end: outcome, and from
# corosync's log (VOTEQ/QUORUM/TOTEM lines): time from the fault to the new membership, to
# the loser(s) being non-quorate, to the winner(s) having finished the sync (settled).
#
# Selection: DRILL_ONLY="name1 name2" runs only those scenarios (scripts/drill run).
# Results: rows are also appended (tab-separated) to $DRILL_RESULTS if set.
# Binaries: our qnetd and our qdevice unless QNETD_BIN / QDEVICE_BIN say otherwise
# (=ours / =debian are shorthands: the build directory's / Debian's, tools follow).

DRILL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DRILL_TOP=$(cd "$DRILL_HERE/../.." && pwd)
DRILL_BUILD=${QNET_BUILD:-$DRILL_TOP/build}

# --- binaries --------------------------------------------------------------------------
: "${QNETD_BIN:=$DRILL_BUILD/qnetd/qnetd}"
: "${QNETD_TOOL:=$DRILL_BUILD/qnetd/qnetd-tool}"
: "${QNETD_CERTUTIL:=$DRILL_TOP/certs/qnetd-certutil}"
: "${QDEVICE_CERTUTIL:=$DRILL_TOP/certs/qdevice-net-certutil}"
case ${QDEVICE_BIN:-ours} in
ours)	QDEVICE_BIN=$DRILL_BUILD/qdevice/qdevice;;
debian)	QDEVICE_BIN=/usr/sbin/corosync-qdevice;;
esac
case ${QNETD_BIN} in
ours)	QNETD_BIN=$DRILL_BUILD/qnetd/qnetd QNETD_TOOL=$DRILL_BUILD/qnetd/qnetd-tool;;
debian)	QNETD_BIN=/usr/bin/corosync-qnetd QNETD_TOOL=/usr/bin/corosync-qnetd-tool;;
esac
if [[ -z ${QDEVICE_TOOL:-} ]]; then
	if [[ $QDEVICE_BIN == "$DRILL_BUILD"/* && -x ${QDEVICE_BIN%/*}/qdevice-tool ]]; then
		QDEVICE_TOOL=${QDEVICE_BIN%/*}/qdevice-tool
	else
		QDEVICE_TOOL=/usr/sbin/corosync-qdevice-tool
	fi
fi
export QNETD_BIN QNETD_TOOL QNETD_CERTUTIL QDEVICE_CERTUTIL QDEVICE_BIN QDEVICE_TOOL

: "${LAB_DUMP_LINES:=25}"
# shellcheck source=lib.sh
. "$DRILL_HERE/lib.sh"

# Every reading lab_settled (and everything else) takes through lab_query is also written
# to logs/queries.log, so that a check that did not settle can be explained afterwards.
eval "_drill_lab_query_orig() $(declare -f lab_query | tail -n +2)"
lab_query() {
	local rc
	_drill_lab_query_orig "$@"
	rc=$?
	[[ -n $LAB_DIR && -d $LAB_DIR/logs ]] &&
		echo "$(_lab_now_ms) $1 $(_lab_q_summary)" >>"$LAB_DIR/logs/queries.log"
	return $rc
}

# The sampler's STALE and VIOLATION lines (lab_sampler_stop) are kept, each with why it is
# no failure where it is not: a reader of a passing run must not have to look that up.
eval "_drill_sampler_stop_orig() $(declare -f lab_sampler_stop | tail -n +2)"
lab_sampler_stop() {
	local rc out=$LAB_DIR/sampler-lines.txt
	_drill_sampler_stop_orig >"$out"
	rc=$?
	sed -E \
	    -e 's/^(# STALE .*: (n[0-9]+) still quorate in .*)$/\1 - expected, not a violation: \2 still shows its old ring, which overlaps the new one, and corosync holds its services until its sync ends/' \
	    -e "/^# VIOLATION /{ $( ((DRILL_STRICT_INVARIANT)) && echo 's/$/ - FAILS this step/' ||
		echo 's/$/ - reported, not failed: this step measures that overlap (DRILL_STRICT_INVARIANT=0)/') }" \
	    "$out"
	rm -f -- "$out"
	(( rc == 0 )) || _drill_violation_evidence
	return $rc
}

# _drill_violation_evidence: after a failed invariant, what a reader needs to tell a real
# split from a misread one: every sampler reading of the step, qnetd's vote lines, and each
# node's corosync membership and quorum lines and qdevice votes (the suite's log dump at the
# end shows only each log's last 25 lines). A CI run met one violation reading it could not
# explain afterwards (test-drill-random, seed 20898, not reproduced in five replays).
_drill_violation_evidence() {
	local h
	echo "# sampler readings (round, ms, node, ring, quorate, members, votes):"
	sed 's/^/#   /' "$LAB_SAMPLER_FILE"
	echo "# qnetd's votes:"
	grep -E 'vote (ACK|NACK)|holding' "$LAB_DIR/logs/arb-qnetd.log" 2>/dev/null | tail -n 40 |
	    sed 's/^/#   /'
	for h in "${LAB_NODES[@]}"; do
		echo "# $h: corosync membership and quorum:"
		grep -E 'TOTEM.*(new membership|processor failed)|QUORUM|VOTEQ.*(quorate|qdevice)' \
		    "$(lab_path "$h" /var/log/corosync/corosync.log)" 2>/dev/null | tail -n 30 |
		    sed 's/^/#   /'
		echo "# $h: its qdevice's votes:"
		grep -E 'votes (ACK|NACK)|Vote given|Holding' "$LAB_DIR/logs/$h-qdevice.log" \
		    2>/dev/null | tail -n 20 | sed 's/^/#   /'
	done
}

# drill_which BIN: "ours" / "debian" / the path
drill_which() {
	case $1 in
	/usr/*)			echo "debian";;
	"$DRILL_BUILD"/*)	echo "ours";;
	*)			echo "$1";;
	esac
}

# --- state ---------------------------------------------------------------------------------
DRILL_NAME=""			# current scenario
DRILL_FAULT_MS=0		# time of its fault
DRILL_FAULT_DESC=""
DRILL_CONF_KEY=""		# config of the running cluster ("" = none running)
DRILL_ROWS=()			# table rows, tab-separated
DRILL_FAILED_BEFORE=0		# LAB_FAILED when the scenario began
DRILL_NOTES=()			# free-form remarks printed under the table
DRILL_STEP=0			# steps so far (names the sampler files)
DRILL_STRICT_INVARIANT=1	# 0: drill_expect reports a broken invariant, does not fail

# drill_lab N: create the lab with N nodes, certificates, qnetd; the table is printed at exit.
# With DRILL_CERT_CACHE=DIR the certificates are made once and kept in DIR for the next
# lab of the same script (the script removes DIR).
drill_lab() {
	lab_create "$1"
	trap '_drill_on_exit' EXIT
	lab_log "qnetd: $QNETD_BIN ($(drill_which "$QNETD_BIN")); qdevice: $QDEVICE_BIN ($(drill_which "$QDEVICE_BIN"))"
	if [[ -n ${DRILL_CERT_CACHE:-} && -d $DRILL_CERT_CACHE/arb ]]; then
		lab_load_certs "$DRILL_CERT_CACHE"
	else
		lab_make_certs
		[[ -z ${DRILL_CERT_CACHE:-} ]] || lab_save_certs "$DRILL_CERT_CACHE"
	fi
	lab_start_qnetd -s on -c on
}

_drill_on_exit() {
	local rc=$?
	_drill_check_closed
	drill_table
	(exit "$rc")
	_lab_on_exit
}

# drill_selected NAME: is NAME selected by DRILL_ONLY (empty: everything)?
drill_selected() {
	local w
	[[ -z ${DRILL_ONLY:-} ]] && return 0
	for w in ${DRILL_ONLY//,/ }; do
		# shellcheck disable=SC2053
		[[ $1 == $w ]] && return 0
	done
	return 1
}

# drill_scenario NAME DESCRIPTION: start a scenario; returns 1 (skip it) if not selected.
# Every started scenario must reach drill_done: bash abandons a whole top-level command
# (the scenario's `if` block) on an expansion error and carries on, which would otherwise
# look like a scenario that passed.
drill_scenario() {
	drill_selected "$1" || return 1
	_drill_check_closed
	DRILL_OPEN=$1
	DRILL_NAME=$1
	DRILL_FAULT_MS=0
	DRILL_FAULT_DESC=""
	DRILL_FAILED_BEFORE=$LAB_FAILED
	echo "# ======== $1: $2"
	return 0
}

# drill_done: the current scenario ran to its end.
drill_done() { DRILL_OPEN=""; }

_drill_check_closed() {
	[[ -n ${DRILL_OPEN:-} ]] || return 0
	echo "not ok - $DRILL_OPEN: the scenario stopped before its end (see the shell error above)"
	LAB_FAILED=$((LAB_FAILED + 1))
	DRILL_OPEN=""
}

# _drill_conf_key ARGS...: canonical text of a config (order does not matter).
_drill_conf_key() {
	printf '%s\n' "$@" | sort | tr '\n' ' '
}

# drill_healthy: every node runs corosync and qdevice, sees every node, 3+ votes, quorate.
drill_healthy() {
	local n all
	all=$(IFS=,; echo "${LAB_NODES[*]#n}")
	for n in "${LAB_NODES[@]}"; do
		lab_running "$n" corosync && lab_running "$n" qdevice || return 1
		lab_state "$n" members="$all" quorate=yes || return 1
		[[ $Q_TOTAL == "$Q_EXPECTED" ]] || return 1
	done
	return 0
}

# drill_cluster KEY=VALUE...: make sure the cluster runs with this configuration (the
# arguments of lab_write_config) and every node is quorate with all votes. Reuses the
# running cluster when the configuration is the same and it is healthy.
drill_cluster() {
	local key
	key=$(_drill_conf_key "$@")
	lab_running arb qnetd || lab_start_qnetd -s on -c on
	if [[ $key == "$DRILL_CONF_KEY" ]] && drill_healthy; then
		lab_log "reusing the running cluster ($*)"
		return 0
	fi
	lab_heal
	drill_net_clear
	_drill_stop_all
	_drill_write_config "$@"
	lab_start_cluster
	DRILL_CONF_KEY=$key
	drill_wait_full || lab_die "setup: $DRILL_NAME: cluster did not become quorate with all votes"
}

# _drill_write_config ARGS...: lab_write_config with per-node overrides: an argument
# "nX:KEY=VALUE" sets KEY only in nX's corosync.conf (replacing a common KEY=...).
_drill_write_config() {
	local a n k common=() per=() over=() nodes=()
	for a in "$@"; do
		if [[ $a =~ ^(n[0-9]+):(.*)$ ]]; then over+=("$a"); else common+=("$a"); fi
	done
	lab_write_config "${common[@]}"
	for a in "${over[@]}"; do nodes+=("${a%%:*}"); done
	for n in $(printf '%s\n' "${nodes[@]}" | sort -u); do
		per=()
		for a in "${common[@]}"; do
			k=${a%%=*}
			printf '%s\n' "${over[@]}" | grep -qF "$n:$k=" || per+=("$a")
		done
		for a in "${over[@]}"; do [[ ${a%%:*} == "$n" ]] && per+=("${a#*:}"); done
		lab_write_config_node "$n" "${per[@]}"
	done
}

# drill_wait_full [HOLD_S]: all nodes see everybody, quorate, total = expected votes
# (held HOLD_S s, default 1).
drill_wait_full() {
	local n specs=() all exp
	all=$(IFS=,; echo "${LAB_NODES[*]#n}")
	# expected votes: nodes + qdevice votes (ffsplit 1, lms nodes-1 by default)
	if [[ ${LAB_CONF[algorithm]} == ffsplit || -n ${LAB_CONF[votes]:-} ]]; then
		exp=$(( ${#LAB_NODES[@]} + ${LAB_CONF[votes]:-1} ))
	else
		exp=$(( ${#LAB_NODES[@]} * 2 - 1 ))
	fi
	for n in "${LAB_NODES[@]}"; do
		specs+=("$n members=$all quorate=yes votes=$exp")
	done
	LAB_HOLD=${1:-1} lab_settled "${specs[@]}"
}

# _drill_stop_all: stop every qdevice and corosync we run (whatever state they are in).
_drill_stop_all() {
	local n d hosts
	for d in qdevice corosync; do
		hosts=()
		for n in "${LAB_NODES[@]}"; do
			[[ -n ${LAB_PID[$n/$d]:-} ]] && hosts+=("$n")
		done
		(( ${#hosts[@]} )) && lab_stop "$d" "${hosts[@]}"
	done
	DRILL_CONF_KEY=""
}

# drill_dirty: the next drill_cluster must restart (the scenario changed daemons/network).
drill_dirty() { DRILL_CONF_KEY=""; }

# drill_fault DESCRIPTION CMD...: note the time, start the sampler, inject the fault.
drill_fault() {
	DRILL_FAULT_DESC=$1
	shift
	DRILL_STEP=$((DRILL_STEP + 1))
	lab_sampler_start "$DRILL_NAME-$DRILL_STEP"
	DRILL_FAULT_MS=$(_lab_now_ms)
	lab_log "fault: $DRILL_FAULT_DESC"
	"$@" || lab_log "fault command failed: $*"
}

# _drill_ms MS: "6.28" (seconds) or "-" for a negative value
_drill_ms() {
	if (( $1 < 0 )); then echo "-"; else printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); fi
}

# drill_expect [--label TEXT] [--hold S] "NODE KEY=V..." ...: the settled-state check
# (the state must hold S s, default LAB_HOLD), then the
# invariant check over the sampler's readings since drill_fault, then one table row.
# Nodes with quorate=yes are winners, quorate=no losers.
drill_expect() {
	local label="" spec h memb=-1 nonq=-1 settled=-1 v winners=() losers=() end ok=1 inv
	local hold=$LAB_HOLD
	while :; do
		case $1 in
		--label) label=$2; shift 2;;
		--hold) hold=$2; shift 2;;
		*) break;;
		esac
	done
	[[ -n $label ]] || label="$DRILL_FAULT_DESC"
	LAB_HOLD=$hold check "$DRILL_NAME: $label: $(_drill_spec_text "$@")" lab_settled "$@" || ok=0
	end=$(_lab_now_ms)
	if [[ -n $LAB_SAMPLER_PID ]]; then
		if (( DRILL_STRICT_INVARIANT )); then
			check "$DRILL_NAME: $label: never two disjoint memberships both quorate" \
			    lab_sampler_stop || ok=0
		else
			lab_sampler_stop ||
				echo "# (invariant broken, reported only: DRILL_STRICT_INVARIANT=0)"
		fi
		_drill_inv_text; inv=$DRILL_INV
	else
		inv="-"
	fi
	for spec in "$@"; do
		h=${spec%% *}
		case " $spec " in
		*" quorate=yes "*) winners+=("$h");;
		*" quorate=no "*) losers+=("$h");;
		esac
	done
	for h in "${winners[@]}" "${losers[@]}"; do
		lab_log_times "$h" "$DRILL_FAULT_MS" "$end" || continue
		(( LT_MEMBERSHIP > memb )) && memb=$LT_MEMBERSHIP
	done
	for h in "${losers[@]}"; do
		lab_log_times "$h" "$DRILL_FAULT_MS" "$end" || continue
		(( LT_NONQ_LAST > nonq )) && nonq=$LT_NONQ_LAST
	done
	for h in "${winners[@]}"; do
		lab_log_times "$h" "$DRILL_FAULT_MS" "$end" || continue
		v=$LT_SYNC
		(( LT_PRIMARY > v )) && v=$LT_PRIMARY
		(( v > settled )) && settled=$v
	done
	drill_row "$DRILL_NAME" "$label" "$( ((ok)) && echo ok || echo FAIL)" \
	    "$(_drill_ms "$memb")" "$(_drill_ms "$nonq")" "$(_drill_ms "$settled")" "$inv" \
	    "$(_drill_outcome "$@")"
	return $((1 - ok))
}

# "n1 members=1 quorate=yes votes=2" ... -> "n1 quorate 2v, n2 not quorate 1v"
_drill_spec_text() {
	local spec out="" h q v
	for spec in "$@"; do
		h=${spec%% *} q="" v=""
		[[ " $spec " == *" quorate=yes "* ]] && q="quorate"
		[[ " $spec " == *" quorate=no "* ]] && q="NOT quorate"
		[[ $spec =~ votes=([0-9]+) ]] && v=" ${BASH_REMATCH[1]}v"
		out+="${out:+, }$h $q$v"
	done
	echo "$out"
}

# Winners as "{1,2} q" style text for the table.
_drill_outcome() {
	local spec w=() l=() h
	for spec in "$@"; do
		h=${spec%% *}
		case " $spec " in
		*" quorate=yes "*) w+=("${h#n}");;
		*" quorate=no "*) l+=("${h#n}");;
		esac
	done
	echo "Q:{$(IFS=,; echo "${w[*]}")} noQ:{$(IFS=,; echo "${l[*]}")}"
}

# drill_row NAME STEP RESULT MEMBERSHIP NONQ SETTLED INVARIANT OUTCOME
drill_row() {
	local row
	row=$(IFS=$'\t'; echo "$*")
	DRILL_ROWS+=("$row")
	[[ -n ${DRILL_RESULTS:-} ]] && printf '%s\n' "$row" >>"$DRILL_RESULTS"
	return 0
}

# drill_note TEXT: a remark printed under the table.
drill_note() { DRILL_NOTES+=("$*"); lab_log "NOTE: $*"; }

# drill_table: the per-scenario timing table (times in s after the fault, from corosync's
# log: membership = new membership formed, lost = loser non-quorate, settled = winner's
# sync completed / quorum regained).
# DRILL_TABLE=no (scripts/drill run, which prints one table for all scripts): the binaries
# line and the notes only.
drill_table() {
	local r
	(( ${#DRILL_ROWS[@]} )) || return 0
	echo "#"
	echo "# ${DRILL_BINS_LABEL:-qnetd: $(drill_which "$QNETD_BIN"), qdevice: $(drill_which "$QDEVICE_BIN")}"
	[[ ${DRILL_TABLE:-yes} == no ]] || drill_print_table "${DRILL_ROWS[@]}"
	for r in "${DRILL_NOTES[@]}"; do echo "# note: $r"; done
}

# drill_print_table ROW...: rows as made by drill_row.
drill_print_table() {
	printf '%s\n' "$@" | awk -F'\t' '
		BEGIN {
			printf "# %-21s %-30s %-4s %8s %8s %8s  %-26s %s\n", "scenario", "step", "res",
			    "membrsh", "lost", "settled", "outcome", "invariant"
		}
		{
			printf "# %-21s %-30s %-4s %8s %8s %8s  %-26s %s\n", $1, substr($2, 1, 30), $3,
			    $4, $5, $6, $8, $7
		}'
}

# --- network quality (packet loss, delay) ---------------------------------------------------

declare -A DRILL_NET=()		# host -> loss / delay while drill_net_* changed its network

# drill_net_loss HOST PERCENT [PEER...]: drop PERCENT % of HOST's packets to and from the
# peers (default: every other host), at random (nftables numgen; netem is not needed).
drill_net_loss() {
	local h=$1 pct=$2 p addrs=""
	shift 2
	local peers=("$@")
	(( ${#peers[@]} )) || for p in "${LAB_HOSTS[@]}"; do [[ $p != "$h" ]] && peers+=("$p"); done
	for p in "${peers[@]}"; do addrs+="${addrs:+, }${LAB_ADDR[$p]}"; done
	lab_log "packet loss $pct % on $h <-> ${peers[*]}"
	_lab_nft_drop "$h" qnet_loss -90 "$addrs" "numgen random mod 100 < $pct"
	DRILL_NET[$h]=loss
}

# How drill_net_delay delays: auto (tc netem when the kernel has it, else NFQUEUE), netem,
# nfqueue. Without netem, nftables in HOST's namespace hands every packet HOST sends on eth0
# (postrouting, after every other rule, where netem would sit) to an nfnetlink queue, and
# drill-nfq-delay.py, HOST's daemon "nfqdelay", gives each its verdict MS ms later. nft(8)
# cannot write an NFQUEUE rule when the kernel has the xtables target but no nft_queue
# (CONFIG_NFT_QUEUE): then the helper adds that one rule itself (nft_compat, as
# iptables-nft would).
: "${DRILL_NET_DELAY:=auto}"
: "${DRILL_NFQ_NUM:=3417}"		# queue number (queues are per network namespace)
: "${DRILL_PYTHON:=python3}"
DRILL_NFQ=$DRILL_HERE/drill-nfq-delay.py
DRILL_NET_HOW=""			# netem / nfqueue once known
DRILL_NET_WHY=""			# why neither works
DRILL_RTT_MS=""				# drill_net_rtt's result
declare -A DRILL_NFQ_SUMMARY=()		# host -> the helper's last exit line (counts)

# drill_net_delay HOST MS: delay every packet HOST sends to the network by MS ms (loopback
# is not touched), with tc netem or NFQUEUE (above). Returns 1 if neither works.
drill_net_delay() {
	local h=$1 ms=$2
	drill_net_delay_method >/dev/null || { echo "# drill_net_delay: $DRILL_NET_WHY" >&2; return 1; }
	case $DRILL_NET_HOW in
	netem)
		ip netns exec "${LAB_NS[$h]}" tc qdisc replace dev eth0 root netem delay "${ms}ms" ||
			return 1;;
	nfqueue)
		_drill_net_nfq_start "$h" "$ms" || return 1;;
	esac
	lab_log "delay ${ms} ms on everything $h sends ($DRILL_NET_HOW)"
	DRILL_NET[$h]=delay
}

# drill_net_have_netem: can this kernel delay packets with tc netem?
drill_net_have_netem() {
	local h=${LAB_NODES[0]}
	ip netns exec "${LAB_NS[$h]}" tc qdisc replace dev eth0 root netem delay 1ms 2>/dev/null ||
		return 1
	ip netns exec "${LAB_NS[$h]}" tc qdisc del dev eth0 root 2>/dev/null
	return 0
}

# _drill_net_nfq_rule NS TABLE CHAIN: append "queue num DRILL_NFQ_NUM bypass" to the ip
# TABLE's CHAIN: nft's own queue statement (nft_queue) or, without it, the xtables target
# through nft_compat (the helper's --add-rule). Prints why not on failure.
_drill_net_nfq_rule() {
	ip netns exec "$1" nft add rule ip "$2" "$3" queue num "$DRILL_NFQ_NUM" bypass 2>/dev/null &&
		return 0
	local out
	out=$(ip netns exec "$1" "$DRILL_PYTHON" "$DRILL_NFQ" --add-rule ip "$2" "$3" \
	    --queue "$DRILL_NFQ_NUM" 2>&1) || { echo "$out"; return 1; }
}

# drill_net_have_nfqueue: can nftables send packets to an NFQUEUE that the helper binds?
# (Tried in a throw-away table in the arbiter's namespace.) Sets DRILL_NET_WHY if not.
drill_net_have_nfqueue() {
	local ns=${LAB_NS[arb]} out
	command -v "$DRILL_PYTHON" >/dev/null || { DRILL_NET_WHY="no $DRILL_PYTHON"; return 1; }
	[[ -r $DRILL_NFQ ]] || { DRILL_NET_WHY="$DRILL_NFQ missing"; return 1; }
	ip netns exec "$ns" nft -f - <<-EOF || { DRILL_NET_WHY="nft cannot make a table"; return 1; }
	table ip qnet_delay_probe
	delete table ip qnet_delay_probe
	table ip qnet_delay_probe {
		chain nfq {
		}
	}
	EOF
	out=$(_drill_net_nfq_rule "$ns" qnet_delay_probe nfq)
	local rc=$?
	ip netns exec "$ns" nft delete table ip qnet_delay_probe 2>/dev/null
	(( rc == 0 )) || { DRILL_NET_WHY="no NFQUEUE rule in nftables: ${out##*$'\n'}"; return 1; }
	out=$(ip netns exec "$ns" timeout 20 "$DRILL_PYTHON" "$DRILL_NFQ" --check \
	    --queue "$DRILL_NFQ_NUM" 2>&1) ||
		{ DRILL_NET_WHY="cannot bind an nfnetlink queue: ${out##*$'\n'}"; return 1; }
	return 0
}

# drill_net_delay_method: print how drill_net_delay works here (netem / nfqueue, as
# DRILL_NET_DELAY allows); returns 1, with the reasons in DRILL_NET_WHY, if it cannot.
drill_net_delay_method() {
	local why=""
	if [[ -z $DRILL_NET_HOW ]]; then
		case $DRILL_NET_DELAY in
		auto | netem | nfqueue) ;;
		*)	DRILL_NET_WHY="DRILL_NET_DELAY=$DRILL_NET_DELAY: say auto, netem or nfqueue"
			return 1;;
		esac
		if [[ $DRILL_NET_DELAY != nfqueue ]]; then
			drill_net_have_netem && DRILL_NET_HOW=netem ||
				why="no tc netem (CONFIG_NET_SCH_NETEM)"
		fi
		if [[ -z $DRILL_NET_HOW && $DRILL_NET_DELAY != netem ]]; then
			drill_net_have_nfqueue && DRILL_NET_HOW=nfqueue ||
				why+="${why:+; }$DRILL_NET_WHY"
		fi
		DRILL_NET_WHY=$why
	fi
	[[ -n $DRILL_NET_HOW ]] || return 1
	echo "$DRILL_NET_HOW"
}

# _drill_net_nfq_ready LOG LINES HOST: the helper started after line LINES of LOG said
# "ready", or has exited.
_drill_net_nfq_ready() {
	tail -n +"$(($2 + 1))" "$1" | grep -q ': ready$' || ! lab_running "$3" nfqdelay
}

# _drill_net_nfq_start HOST MS: the helper on HOST, then the nftables table that feeds it.
_drill_net_nfq_start() {
	local h=$1 ms=$2 ns=${LAB_NS[$1]} log=$LAB_DIR/logs/$1-nfqdelay.log n0=0 out
	[[ -n ${LAB_PID[$h/nfqdelay]:-} ]] && lab_stop nfqdelay "$h"
	[[ -f $log ]] && n0=$(wc -l <"$log")
	_lab_spawn "$h" nfqdelay "$DRILL_PYTHON" "$DRILL_NFQ" --queue "$DRILL_NFQ_NUM" "$ms"
	if ! lab_wait_until 20 _drill_net_nfq_ready "$log" "$n0" "$h" ||
	    ! lab_running "$h" nfqdelay; then
		echo "# drill_net_delay: the NFQUEUE helper did not start on $h: $(tail -n 1 "$log")" >&2
		[[ -n ${LAB_PID[$h/nfqdelay]:-} ]] && lab_stop nfqdelay "$h"
		return 1
	fi
	ip netns exec "$ns" nft -f - <<-EOF || { lab_stop nfqdelay "$h"; return 1; }
	table ip qnet_delay
	delete table ip qnet_delay
	table ip qnet_delay {
		chain post {
			type filter hook postrouting priority 500; policy accept;
			oifname "eth0" jump nfq
		}
		chain nfq {
		}
	}
	EOF
	out=$(_drill_net_nfq_rule "$ns" qnet_delay nfq) || {
		echo "# drill_net_delay: cannot add the NFQUEUE rule on $h: $out" >&2
		ip netns exec "$ns" nft delete table ip qnet_delay 2>/dev/null
		lab_stop nfqdelay "$h"
		return 1
	}
}

# drill_net_rtt HOST PEER: the mean round trip HOST -> PEER (5 ICMP echoes, by
# drill-nfq-delay.py --ping: ping(8) is not always installed) in DRILL_RTT_MS, whole ms;
# returns 1 without answers.
# shellcheck disable=SC2034	# read by the drill scripts
drill_net_rtt() {
	local out
	DRILL_RTT_MS=""
	out=$(ip netns exec "${LAB_NS[$1]}" "$DRILL_PYTHON" "$DRILL_NFQ" --ping "${LAB_ADDR[$2]}" \
	    --count 5 --timeout 5 2>&1)
	lab_log "$1 -> $2: $out"
	[[ $out =~ min/avg/max\ [0-9.]+/([0-9]+)\.[0-9]+/ ]] || return 1
	DRILL_RTT_MS=${BASH_REMATCH[1]}
}

# drill_net_clear [HOST...]: remove loss rules and delays (default: all hosts).
drill_net_clear() {
	local h hosts=("$@") log
	(( ${#hosts[@]} )) || hosts=("${!DRILL_NET[@]}")
	for h in "${hosts[@]}"; do
		ip netns exec "${LAB_NS[$h]}" nft delete table inet qnet_loss 2>/dev/null
		ip netns exec "${LAB_NS[$h]}" nft delete table ip qnet_delay 2>/dev/null
		ip netns exec "${LAB_NS[$h]}" tc qdisc del dev eth0 root 2>/dev/null
		if [[ -n ${LAB_PID[$h/nfqdelay]:-} ]]; then
			lab_stop nfqdelay "$h"	# SIGTERM: it lets go of what it holds
			log=$LAB_DIR/logs/$h-nfqdelay.log
			DRILL_NFQ_SUMMARY[$h]=$(grep 'nfq-delay: exit' "$log" | tail -n 1)
			lab_log "${DRILL_NFQ_SUMMARY[$h]:-no summary from the NFQUEUE helper on $h}"
		fi
		unset "DRILL_NET[$h]"
		lab_log "network quality of $h restored"
	done
	return 0
}

# drill_always_quorate NODE...: in the last sampler run, no reading of these nodes was
# "not quorate" (readings without an answer do not count).
drill_always_quorate() {
	local bad
	[[ -n $LAB_SAMPLER_FILE && -r $LAB_SAMPLER_FILE ]] || return 1
	bad=$(awk -v nodes=" $* " 'index(nodes, " " $3 " ") && $5 == "no"' "$LAB_SAMPLER_FILE")
	[[ -z $bad ]] && return 0
	echo "# non-quorate readings: $(wc -l <<<"$bad"), first: $(head -n1 <<<"$bad")" >&2
	return 1
}

# drill_observe SECONDS [LABEL]: let the fault act for SECONDS s, then judge the safety
# invariant over that time and add a row (membership changes counted from the logs).
drill_observe() {
	local secs=$1 label=${2:-$DRILL_FAULT_DESC} h flaps=0 c f ok=1 inv
	sleep "$secs"
	check "$DRILL_NAME: $label (${secs} s): never two disjoint memberships both quorate" \
	    lab_sampler_stop || ok=0
	_drill_inv_text; inv=$DRILL_INV
	for h in "${LAB_NODES[@]}"; do
		f=$(lab_path "$h" /var/log/corosync/corosync.log)
		c=$(_drill_count_since "$f" "$DRILL_FAULT_MS" 'A new membership')
		(( c > flaps )) && flaps=$c
	done
	drill_row "$DRILL_NAME" "$label" "$( ((ok)) && echo ok || echo FAIL)" "-" "-" "-" "$inv" \
	    "observed ${secs}s: $flaps membership(s)"
	return $((1 - ok))
}

# _drill_count_since FILE SINCE_MS PATTERN: lines of corosync's log after SINCE_MS
# matching PATTERN.
_drill_count_since() {
	awk -v since="$2" -v pat="$3" -v year="$(date +%Y)" '
		BEGIN {
			split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mn, " ")
			for (i = 1; i <= 12; i++) mon[mn[i]] = i
		}
		!($1 in mon) { next }
		{
			split($3, hms, /[:.]/)
			t = mktime(year " " mon[$1] " " $2 " " hms[1] " " hms[2] " " hms[3]) * 1000 + hms[4]
			if (t >= since && index($0, pat)) c++
		}
		END { print c + 0 }' "$1" 2>/dev/null || echo 0
}

# _drill_inv_text: DRILL_INV := the invariant column from the last lab_sampler_stop, e.g.
# "0 viol, 2 in grace, stale 1.47s"; a stale view also becomes a note under the table.
_drill_inv_text() {
	local t="$SAMPLER_VIOLATIONS viol"
	(( SAMPLER_VIOLATIONS )) && t+=" ($(_drill_ms "$SAMPLER_OVERLAP_MS")s)"
	(( SAMPLER_GRACE_HITS )) && t+=", $SAMPLER_GRACE_HITS in grace"
	if (( SAMPLER_STALE_HITS )); then
		t+=", stale $(_drill_ms "$SAMPLER_STALE_MS")s"
		DRILL_NOTES+=("$DRILL_NAME: a node still in corosync's sync showed its old ring as quorate for ~$(_drill_ms "$SAMPLER_STALE_MS") s after a quorate peer had formed a newer ring without it (see STALE lines)")
	fi
	DRILL_INV=$t
}

# drill_expect_one_winner A B [LABEL]: after a 1|1 split where qnetd's choice depends on
# timing (e.g. which qdevice reconnects first: with KAP the first one keeps the vote),
# exactly one of A and B must end up quorate with 2 votes and the other not. The winner
# is whichever is seen quorate in its own membership first (bounded wait), then it must
# hold like any drill_expect.
drill_expect_one_winner() {
	local a=$1 b=$2 label=${3:-$DRILL_FAULT_DESC} win="" lose deadline
	deadline=$(( $(_lab_now_ms) + LAB_SETTLE_TIMEOUT * 1000 ))
	while [[ -z $win ]] && (( $(_lab_now_ms) < deadline )); do
		if lab_state "$a" members="${a#n}" quorate=yes; then win=$a
		elif lab_state "$b" members="${b#n}" quorate=yes; then win=$b
		else sleep "$LAB_POLL"
		fi
	done
	[[ -n $win ]] || win=$a	# nobody: let the check below fail with the readings
	if [[ $win == "$a" ]]; then lose=$b; else lose=$a; fi
	drill_note "$DRILL_NAME: $label: qnetd gave its vote to $win"
	drill_expect --label "$label (winner: $win)" "$win members=${win#n} quorate=yes votes=2" \
	    "$lose members=${lose#n} quorate=no votes=1"
}

# drill_expect_set [--label TEXT] [--hold S] --want IDS [--alt IDS] "NODE KEY=V..." ...:
# measure which nodes end up quorate, for a prediction (the planner's) that says only
# that. Each spec names a running node and what shows the fault took effect there
# (members=, votes=, expected=, as lab_state; no quorate=). Once every node matches its
# spec, the set of quorate nodes ("1,3"; "-" if none) must stay the same, with the
# specs, for S s (default LAB_HOLD, bounded by LAB_SETTLE_TIMEOUT); it is DRILL_ACTUAL and
# must equal IDS, or IDS of --alt (a race: either outcome is right). Then the invariant
# check over the sampler's readings since drill_fault, and one table row.
DRILL_ACTUAL=""
drill_expect_set() {
	local label="" hold=$LAB_HOLD want="" alt="" spec h deadline since=0 sig last="" ok=0
	local q=() mem=-1 now inv res="FAIL"
	while :; do
		case $1 in
		--label) label=$2; shift 2;;
		--hold) hold=$2; shift 2;;
		--want) want=$2; shift 2;;
		--alt) alt=$2; shift 2;;
		*) break;;
		esac
	done
	[[ -n $label ]] || label="$DRILL_FAULT_DESC"
	DRILL_ACTUAL=""
	deadline=$(( $(_lab_now_ms) + LAB_SETTLE_TIMEOUT * 1000 ))
	while (( $(_lab_now_ms) < deadline )); do
		sig="" q=()
		for spec in "$@"; do
			h=${spec%% *}
			# shellcheck disable=SC2086
			if ! lab_state "$h" ${spec#"$h"}; then sig=""; break; fi
			sig+="$h:$Q_MEMBERS:$Q_QUORATE "
			[[ $Q_QUORATE == yes ]] && q+=("${h#n}")
		done
		now=$(_lab_now_ms)
		if [[ -z $sig ]]; then
			last=""
		elif [[ $sig != "$last" ]]; then
			last=$sig since=$now
		elif (( now - since >= hold * 1000 )); then
			ok=1
			break
		fi
		sleep "$LAB_POLL"
	done
	DRILL_ACTUAL=$(printf '%s\n' "${q[@]}" | sort -n | paste -sd, -)
	[[ -n $DRILL_ACTUAL ]] || DRILL_ACTUAL="-"
	if (( ! ok )); then
		echo "# $DRILL_NAME: $label: no settled state in ${LAB_SETTLE_TIMEOUT}s; last readings:" >&2
		for spec in "$@"; do
			lab_query "${spec%% *}"
			echo "#   ${spec%% *} (want ${spec#* }): $(_lab_q_summary)" >&2
		done
		DRILL_ACTUAL="?"
	fi
	check "$DRILL_NAME: $label: quorate {$DRILL_ACTUAL}, predicted {$want}${alt:+ or {$alt\} (race)}" \
	    eval '(( ok )) && [[ $DRILL_ACTUAL == "$want" || ( -n $alt && $DRILL_ACTUAL == "$alt" ) ]]' &&
		res=ok
	if [[ -n $LAB_SAMPLER_PID ]]; then
		check "$DRILL_NAME: $label: never two disjoint memberships both quorate" \
		    lab_sampler_stop || res=FAIL
		_drill_inv_text; inv=$DRILL_INV
	else
		inv="-"
	fi
	for spec in "$@"; do	# the membership column, from corosync's log as drill_expect
		lab_log_times "${spec%% *}" "$DRILL_FAULT_MS" "$(_lab_now_ms)" || continue
		(( LT_MEMBERSHIP > mem )) && mem=$LT_MEMBERSHIP
	done
	drill_row "$DRILL_NAME" "$label" "$res" "$(_drill_ms "$mem")" "-" \
	    "$(_drill_ms $(( since ? since - DRILL_FAULT_MS : -1 )))" "$inv" \
	    "Q:{$DRILL_ACTUAL} plan:{$want${alt:+ or $alt}}"
	[[ $res == ok ]]
}
