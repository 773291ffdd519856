#!/bin/bash
# tests/e2e/demo.sh: the partition demo (run by `scripts/dev demo`, as root).
#
# Builds a throw-away lab on this machine (network namespaces, nothing outside
# 198.18.0.0/24 is touched): a 2-node corosync cluster and an arbiter host running our
# qnetd, a qdevice on each node (ours when it is built and works, Debian's otherwise).
# The failure planner (qdevice-tool --plan) predicts every failure first; then the demo
# cuts the network between the two nodes, shows which node keeps quorum and why, checks
# the planner's prediction for that partition,
# heals the network and removes everything again. About one minute.
#
# Exit status: 0 if the cluster behaved as expected (node 1 kept quorum, node 2 lost it,
# 3 votes again after the heal), 1 otherwise (logs are kept and their path printed).
# Variables: QNET_BUILD (build directory, default ./build), QNETD_BIN, QDEVICE_BIN, ...
# as in tests/e2e/README.md; NO_COLOR=1 turns colours off.

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${QNET_BUILD:-$TOP/build}
DEBIAN_QDEVICE=/usr/sbin/corosync-qdevice
DEBIAN_QDEVICE_TOOL=/usr/sbin/corosync-qdevice-tool

# Our qnetd (lib.sh's default with LAB_OURS below) unless the caller chose another.
QNETD_IS=ours
[[ -z ${QNETD_BIN:-} || $QNETD_BIN == "$BUILD"/* ]] || QNETD_IS=$QNETD_BIN

# Our qdevice if it is built (and QDEVICE_BIN was not chosen by the caller).
QDEVICE_IS=""
if [[ -z ${QDEVICE_BIN:-} ]]; then
	if [[ -x $BUILD/qdevice/qdevice ]]; then
		QDEVICE_BIN=$BUILD/qdevice/qdevice
		[[ -x $BUILD/qdevice/qdevice-tool ]] && : "${QDEVICE_TOOL:=$BUILD/qdevice/qdevice-tool}"
		QDEVICE_IS=ours
	else
		QDEVICE_BIN=$DEBIAN_QDEVICE
		QDEVICE_IS=debian
	fi
fi
: "${QDEVICE_TOOL:=$DEBIAN_QDEVICE_TOOL}"
# The failure planner is ours (qdevice-tool --plan), whichever qdevice runs.
PLAN_TOOL=$BUILD/qdevice/qdevice-tool
PLANJSON=$TOP/tests/lib/planjson.py

LAB_DUMP_LINES=${LAB_DUMP_LINES:-0}	# no log dump; the logs are kept on failure instead
LAB_HOLD=${LAB_HOLD:-6}
LAB_OURS="qnetd certutil"	# qnetd and its tool from $BUILD, the tree's certutils
# shellcheck source=lib.sh
. "$HERE/lib.sh"
export QNETD_BIN QNETD_TOOL QNETD_CERTUTIL QDEVICE_CERTUTIL QDEVICE_BIN QDEVICE_TOOL

# --- presentation ----------------------------------------------------------------------
if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
	B=$'\e[1m' DIM=$'\e[2m' G=$'\e[32m' R=$'\e[31m' Y=$'\e[33m' C=$'\e[36m' N=$'\e[0m'
else
	B="" DIM="" G="" R="" Y="" C="" N=""
fi
T0=$(_lab_now_ms)
STEP=0
DEMO_OK=1
DEMO_VERDICT=""

# The library's progress lines go to a file, not to the screen.
lab_log() {
	[[ -n $LAB_DIR && -d $LAB_DIR/logs ]] &&
		printf '[+%ss] %s\n' "$(_lab_elapsed)" "$*" >>"$LAB_DIR/logs/lab.log"
	return 0
}

secs() { local d=$(( $(_lab_now_ms) - ${1:-$T0} )); printf '%d.%d s' $((d / 1000)) $(((d % 1000) / 100)); }
step() { STEP=$((STEP + 1)); printf '\n%s%s== %d. %s%s\n' "$B" "$C" "$STEP" "$*" "$N"; }
say() { printf '   %s\n' "$@"; }
note() { printf '   %s%s%s\n' "$DIM" "$*" "$N"; }
good() { printf '   %s✔ %s%s\n' "$G" "$*" "$N"; }
bad() { printf '   %s✘ %s%s\n' "$R" "$*" "$N"; DEMO_OK=0; }
indent() { sed 's/^/      /'; }

# A failing setup step (lab_die) ends up here too.
demo_exit() {
	local rc=$?
	trap - EXIT
	trap '' INT TERM
	(( rc != 0 || LAB_FAILED > 0 )) && DEMO_OK=0
	if (( ! DEMO_OK )); then
		LAB_KEEP=1
		[[ -z $DEMO_VERDICT ]] && DEMO_VERDICT="the demo stopped early (exit status $rc)"
	fi
	printf '\n%s%s== Cleaning up%s\n' "$B" "$C" "$N"
	lab_cleanup >/dev/null 2>&1
	if (( DEMO_OK )); then
		say "All processes, namespaces and files of the lab are gone."
		printf '\n%s%sVERDICT: PASS%s - %s (the demo took %s)\n' "$B" "$G" "$N" "$DEMO_VERDICT" "$(secs)"
		exit 0
	fi
	say "Processes and namespaces are gone; logs are kept in $LAB_DIR"
	say "(logs/*.log: daemon output; hosts/*/log/corosync.log: corosync's own log)"
	printf '\n%s%sVERDICT: FAIL%s - %s (the demo took %s)\n' "$B" "$R" "$N" "$DEMO_VERDICT" "$(secs)"
	exit 1
}

# show_node NODE: one readable line from corosync-quorumtool -s.
show_node() {
	local h=$1 q
	lab_query "$h"
	if (( ! Q_OK )); then
		say "$h: corosync does not answer"
		return
	fi
	if [[ $Q_QUORATE == yes ]]; then q="${G}QUORATE${N}"; else q="${R}NOT quorate${N}"; fi
	printf '   %s (node %s): sees members {%s}, %s of %s expected votes -> %s\n' \
	    "$h" "${h#n}" "$Q_MEMBERS" "$Q_TOTAL" "$Q_EXPECTED" "$q"
}

# split_seen: n1 sees only itself and n2 sees only itself.
split_seen() { lab_state n1 members=1 && lab_state n2 members=2; }
# full_now: both nodes see both, quorate with 3 votes.
full_now() {
	lab_state n1 members=1,2 quorate=yes votes=3 && lab_state n2 members=1,2 quorate=yes votes=3
}

# full_and_steady SINCE_MS HOLD_S: wait for full_now (FULL_MS := ms from SINCE_MS to the
# first such reading: the one figure shown), then require it to hold HOLD_S s.
FULL_MS=-1
full_and_steady() {
	FULL_MS=-1
	lab_wait_until "$LAB_SETTLE_TIMEOUT" full_now || return 1
	FULL_MS=$(( $(_lab_now_ms) - $1 ))
	LAB_HOLD=$2 lab_settled "${both_full[@]}" 2>/dev/null
}

demo_fail() { DEMO_VERDICT=$1; bad "$1"; exit 1; }

# --- the demo --------------------------------------------------------------------------
printf '%sqnet demo: what happens to a 2-node cluster when its network splits%s\n' "$B" "$N"
cat <<EOF

   A cluster of two nodes has a problem: if the link between them breaks, each node
   holds one vote of two, and neither can tell whether the other one died or is just
   unreachable. A third vote from an arbiter outside the cluster (qnetd, reached by a
   qdevice on every node) decides which half may keep running.

        n1 (198.18.0.1) ---------X--------- n2 (198.18.0.2)      corosync + qdevice
             \\                                  /
              '---------- arb (198.18.0.100) --'                  qnetd ($QNETD_IS)

   Everything runs on this machine in private network namespaces and is removed at the
   end. Nothing outside the test range 198.18.0.0/24 is touched.
EOF

step "Building the lab"
lab_create 2
trap demo_exit EXIT
say "Network namespaces: arbiter 'arb' and nodes 'n1', 'n2' on one virtual switch."
say "qnetd:   $QNETD_BIN"
case $QDEVICE_IS in
ours)	say "qdevice: $QDEVICE_BIN (ours)";;
debian)	say "qdevice: $QDEVICE_BIN (Debian's: ours is not built yet)";;
*)	say "qdevice: $QDEVICE_BIN (chosen by QDEVICE_BIN)";;
esac

step "Certificates (TLS with client certificates, made by our certutils)"
lab_make_certs
certline() { printf '   %-44s -> %s\n' "$1" "$2"; }
certline "arb: qnetd-certutil -i" "a CA and the qnetd server certificate"
certline "n1, n2: qdevice-net-certutil -i -c CA" "a node database trusting that CA"
certline "n1: qdevice-net-certutil -r -n $LAB_CLUSTER" "a certificate request for cluster '$LAB_CLUSTER'"
certline "arb: qnetd-certutil -s -c REQ -n $LAB_CLUSTER" "the cluster certificate, signed by the CA"
certline "n1: -M, n2: -m" "both nodes hold the same client certificate"
good "certificates ready"

step "Starting qnetd, corosync and qdevice"
lab_start_qnetd -s on -c on
say "qnetd listens on $LAB_ARB_ADDR:$LAB_QNETD_PORT (TLS required, client certificates checked)."
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on
note "corosync.conf: quorum.device { model: net; votes: 1; net { algorithm: ffsplit; tie_breaker: lowest } }"
lab_start_corosync
if ! lab_try_start_qdevice; then
	if [[ $QDEVICE_IS == ours ]]; then
		say "${Y}Our qdevice did not come up; using Debian's corosync-qdevice instead.${N}"
		lab_stop qdevice "${LAB_NODES[@]}" >/dev/null 2>&1
		QDEVICE_BIN=$DEBIAN_QDEVICE QDEVICE_TOOL=$DEBIAN_QDEVICE_TOOL QDEVICE_IS=debian
		lab_try_start_qdevice || demo_fail "Debian's qdevice did not start either"
	else
		demo_fail "qdevice did not start"
	fi
fi
t=$(_lab_now_ms)
both_full=("n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=3")
if ! full_and_steady "$t" 2; then
	if [[ $QDEVICE_IS == ours ]]; then
		say "${Y}With our qdevice the cluster did not reach 3 votes; switching to Debian's.${N}"
		lab_stop qdevice "${LAB_NODES[@]}" >/dev/null 2>&1
		QDEVICE_BIN=$DEBIAN_QDEVICE QDEVICE_TOOL=$DEBIAN_QDEVICE_TOOL QDEVICE_IS=debian
		lab_try_start_qdevice || demo_fail "Debian's qdevice did not start"
		t=$(_lab_now_ms)
		full_and_steady "$t" 2 ||
			demo_fail "the cluster did not become quorate with 3 votes"
	else
		demo_fail "the cluster did not become quorate with 3 votes"
	fi
fi
good "cluster up: both nodes quorate with 3 votes"
say "Figure: $(_lab_ms_str "$FULL_MS") from starting the qdevices to the first reading with all 3"
say "votes on both nodes (corosync-quorumtool polled every $LAB_POLL s; it then held 2 s)."

step "Quorum as the cluster sees it"
say "corosync-quorumtool -s on n1:"
lab_exec n1 timeout 5 "$QUORUMTOOL" -s 2>/dev/null | sed -n '/^Quorate:/p; /^Expected votes:/p; /^Total votes:/p; /^Quorum:/p; /^Membership information/,$p' | indent
say ""
show_node n1
show_node n2
say ""
say "Two node votes plus one vote from the arbiter: 3 expected, 2 needed for quorum."
say ""
say "qnetd-tool -l on the arbiter (what qnetd knows about the cluster):"
lab_qnetd_tool -l 2>/dev/null | indent

step "The failure plan, before anything fails"
PLAN_QUORATE=""
if [[ -x $PLAN_TOOL ]]; then
	say "qdevice-tool --plan on n1 (read from the live cluster: cmap and qdevice's socket;"
	say "each row decided by running qnetd's own ffsplit code on a simulated arbiter):"
	lab_exec n1 timeout 30 "$PLAN_TOOL" --plan -p "$LAB_QDEVICE_SOCK" 2>&1 |
		sed -n '/^Quorum arithmetic/,/^Readiness/p' | sed '$d' | indent
	plan_json=$(lab_exec n1 timeout 30 "$PLAN_TOOL" --plan -j -p "$LAB_QDEVICE_SOCK" 2>/dev/null)
	# the row of the drill below: "QUORATE RACE ALT VERDICT SCENARIO"
	if row=$(python3 "$PLANJSON" find partition "1|2" <<<"$plan_json") && [[ -n $row ]]; then
		read -r PLAN_QUORATE _ _ plan_verdict _ <<<"$row"
		say ""
		say "The planner's row for the drill below (partition 1 | 2): quorate {$PLAN_QUORATE},"
		say "verdict: ${plan_verdict//_/ }."
	else
		note "(the planner gave no row for the partition 1 | 2)"
	fi
else
	note "(qdevice-tool is not built: no plan)"
fi

step "What is about to happen"
cat <<EOF
   We now drop every packet between n1 and n2. Both nodes can still reach the arbiter.
   corosync needs a few seconds (token timeout 3 s + consensus) to form a new membership;
   then each node is alone with 1 vote and needs the arbiter's vote to reach 2.

   qnetd's ffsplit algorithm sees a 50:50 split (1 node of 2 on each side). Both sides
   are equal (same size, both connected, no heuristics), and no side was the only
   active one before, so the configured tie-breaker decides: "lowest" = the side that
   contains the node with the lowest node id, node 1. Expected: n1 keeps quorum, n2
   loses it (and a cluster manager on n2 would stop its services).
EOF

step "Cutting the network between n1 and n2"
fault=$(_lab_now_ms)
lab_partition n1 n2
say "packets between 198.18.0.1 and 198.18.0.2 are now dropped (nftables)"
if ! lab_wait_until 30 split_seen; then
	show_node n1
	show_node n2
	demo_fail "no new membership within 30 s of the cut"
fi
good "new membership: n1 sees only {1}, n2 sees only {2}"
say "waiting until the state holds steady for ${LAB_HOLD} s ..."
if ! lab_settled "n1 members=1 quorate=yes votes=2" "n2 members=2 quorate=no votes=1" 2>/dev/null; then
	show_node n1
	show_node n2
	demo_fail "after the cut the cluster did not settle as expected (n1 quorate, n2 not)"
fi
show_node n1
show_node n2
say ""
say "qnetd-tool -l now:"
lab_qnetd_tool -l 2>/dev/null | indent
lab_log_times n1 "$fault" && w_sync=$LT_SYNC
lab_log_times n2 "$fault" && l_nonq=$LT_NONQ_FIRST
say ""
printf '   %sWho kept quorum: n1 (node 1).%s\n' "$B" "$N"
PLAN_HELD=""
if [[ -n $PLAN_QUORATE ]]; then
	if [[ $PLAN_QUORATE == 1 ]]; then
		good "the planner predicted exactly this: quorate {1} (actual: n1 quorate, n2 not)"
		PLAN_HELD=", as the failure plan predicted"
	else
		demo_fail "the planner predicted quorate {$PLAN_QUORATE}, but n1 alone kept quorum"
	fi
fi
say "Why: both halves have 1 node of 2, both qdevices are connected, no heuristics, so"
say "ffsplit's scores tie; the tie-breaker 'lowest' picks the half that contains node 1."
say "qnetd sent NACK to n2 first and, once n2 had confirmed it, ACK to n1: the arbiter's"
say "vote is never given to both halves at once. n1: 1 + 1 = 2 votes of 3 -> quorate;"
say "n2: 1 vote -> not quorate."
say ""
decided=-1
if [[ ${w_sync:--1} -ge 0 && ${l_nonq:--1} -ge 0 ]]; then
	decided=$w_sync
	(( l_nonq > decided )) && decided=$l_nonq
fi
if (( decided >= 0 )); then
	say "Figure: $(_lab_ms_str "$decided") from the cut until the split was decided: n2 no longer"
	say "quorate and n1 quorate on its own (from the millisecond timestamps of corosync's logs)."
	note "Most of it is corosync noticing the cut and forming the new membership (token"
	note "timeout, then consensus); qnetd's answer and corosync's sync are the rest."
else
	note "(corosync's logs gave no timestamps for the cut, so no figure)"
fi

step "Healing the network"
heal=$(_lab_now_ms)
lab_heal
if ! full_and_steady "$heal" 3; then
	show_node n1
	show_node n2
	demo_fail "after the heal the cluster did not get back to 3 votes"
fi
show_node n1
show_node n2
good "one cluster again with all 3 votes"
say "Figure: $(_lab_ms_str "$FULL_MS") from the heal to the first reading with all 3 votes on both"
say "nodes (polled every $LAB_POLL s; it then held 3 s)."

lab_stop_cluster >/dev/null 2>&1
lab_stop qnetd arb >/dev/null 2>&1
DEMO_VERDICT="n1 kept quorum (tie-breaker: lowest node id)${PLAN_HELD}, n2 stepped down, 3 votes after the heal; qdevice: $QDEVICE_IS"
exit 0
