#!/bin/bash
# tests/e2e/test-drill-partition.sh: failure drills, 2 nodes, the network between the
# nodes is cut (both still reach qnetd) and healed. Who keeps quorum is decided by qnetd:
#   ffsplit-lowest   ffsplit, tie_breaker lowest: n1 wins a 1|1 split; heal: 3 votes
#   ffsplit-highest  tie_breaker highest: n2 wins (no heal: the next scenario restarts)
#   ffsplit-nodeid   tie_breaker 2 (a node id): n2 wins (no heal)
#   lms              lms, tie_breaker lowest: n1 wins; heal: 3 votes
#   heuristics       ffsplit lowest, a heuristics check fails on n1 only: n2 wins 50:50
#   kap-on           keep_active_partition_tie_breaker on: n2 won a split while n1's qdevice
#                    was down; n1's qdevice comes back (a flap): n2 keeps quorum
#   kap-off          the same with it off: the vote moves to n1 (tie-breaker), n2 loses
# Every step also checks the safety invariant (never two disjoint memberships both quorate)
# on readings of every node every 200 ms. Our qnetd and our qdevice by default;
# QNETD_BIN / QDEVICE_BIN (or =ours / =debian) choose others. DRILL_ONLY selects scenarios.

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

FULL2=("n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=3")
N1_WINS=("n1 members=1 quorate=yes votes=2" "n2 members=2 quorate=no votes=1")
N2_WINS=("n1 members=1 quorate=no votes=1" "n2 members=2 quorate=yes votes=2")

# split_only WINNER-SPECS...: partition n1|n2, expect the specs.
split_only() {
	drill_fault "partition n1|n2" lab_partition n1 n2
	drill_expect "$@"
}

# split_and_heal WINNER-SPECS...: the same, then heal: 3 votes again.
split_and_heal() {
	split_only "$@"
	drill_fault "heal" lab_heal
	drill_expect --hold 3 "${FULL2[@]}"
}

drill_lab 2

if drill_scenario ffsplit-lowest "ffsplit, tie_breaker lowest: n1 keeps quorum"; then
	drill_cluster algorithm=ffsplit tie_breaker=lowest
	split_and_heal "${N1_WINS[@]}"
	drill_done
fi

if drill_scenario ffsplit-highest "ffsplit, tie_breaker highest: n2 keeps quorum"; then
	drill_cluster algorithm=ffsplit tie_breaker=highest
	split_only "${N2_WINS[@]}"
	drill_done
fi

if drill_scenario ffsplit-nodeid "ffsplit, tie_breaker 2 (node id): n2 keeps quorum"; then
	drill_cluster algorithm=ffsplit tie_breaker=2
	split_only "${N2_WINS[@]}"
	drill_done
fi

if drill_scenario lms "lms, tie_breaker lowest: n1 keeps quorum"; then
	drill_cluster algorithm=lms tie_breaker=lowest
	split_and_heal "${N1_WINS[@]}"
	drill_done
fi

if drill_scenario heuristics "ffsplit lowest, heuristics fail on n1: n2 wins the 50:50 split"; then
	drill_cluster algorithm=ffsplit tie_breaker=lowest heuristics=on \
	    heuristics.exec_check=/bin/true heuristics.interval=5000 'n1:heuristics.exec_check=/bin/false'
	split_and_heal "${N2_WINS[@]}"
	drill_done
fi

# kap_flap [--no-heal] WINNER-SPECS...: n1's qdevice is down when the split happens (n2
# wins, the only side with a connected qdevice), then it comes back while the nodes are
# still split; the specs say who must hold quorum then.
kap_flap() {
	local heal=1
	[[ $1 == --no-heal ]] && { heal=0; shift; }
	drill_fault "qdevice on n1 stopped" lab_stop qdevice n1
	drill_dirty
	drill_expect --hold 2 --label "qdevice on n1 stopped" \
	    "n1 members=1,2 quorate=yes" "n2 members=1,2 quorate=yes"
	drill_fault "partition n1|n2 (n1 has no qdevice)" lab_partition n1 n2
	drill_expect "${N2_WINS[@]}"
	drill_fault "qdevice on n1 back (flap)" lab_start_qdevice n1
	drill_expect "$@"
	(( heal )) || return 0
	drill_fault "heal" lab_heal
	drill_expect --hold 3 "${FULL2[@]}"
}

if drill_scenario kap-on "keep_active_partition_tie_breaker on: the active side n2 keeps quorum"; then
	drill_cluster algorithm=ffsplit tie_breaker=lowest net.keep_active_partition_tie_breaker=on
	kap_flap "${N2_WINS[@]}"
	drill_done
fi

if drill_scenario kap-off "keep_active_partition_tie_breaker off: the vote moves to n1"; then
	drill_cluster algorithm=ffsplit tie_breaker=lowest net.keep_active_partition_tie_breaker=off
	kap_flap --no-heal "${N1_WINS[@]}"	# the heal is the same as in kap-on
	drill_done
fi
