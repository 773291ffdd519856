#!/bin/bash
# tests/e2e/test-drill-4node.sh: failure drills with 4 nodes (the token timeout grows with
# the node count: a new membership takes ~9 s):
#   4n-ffsplit-2-2   ffsplit lowest, {n1,n2}|{n3,n4}: the half with node 1 wins (3 of 5
#                    votes); heal: 5 votes
#   4n-ffsplit-1-3   ffsplit, n1|{n2,n3,n4}: the majority wins although it lacks the
#                    tie-breaker node; heal: 5 votes
#   4n-lms-2-2       lms lowest (qdevice votes 3 of 7), 2|2: {n1,n2} wins with 5 votes
#   4n-lms-last-man  lms: n2, n3, n4 killed at once: n1 alone keeps quorum (1+3 of 7)
# Every step checks the safety invariant on readings of all nodes every 200 ms.
# Our qnetd and our qdevice by default (QNETD_BIN / QDEVICE_BIN; DRILL_ONLY selects).

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

full() {	# full VOTES: every node sees all 4 and the given total
	local n
	for n in n1 n2 n3 n4; do echo "$n members=1,2,3,4 quorate=yes votes=$1"; done
}

# split_and_heal VOTES "SIDE A" "SIDE B" SPEC...: the scenario's fault: cut SIDE A from
# SIDE B and expect SPEC..., then heal and expect every node back with VOTES in total.
split_and_heal() {
	local votes=$1 a=$2 b=$3 full_votes
	shift 3
	drill_fault "partition ${a// /,}|${b// /,}" lab_partition "$a" "$b"
	drill_expect "$@"
	drill_fault "heal" lab_heal
	mapfile -t full_votes < <(full "$votes")
	drill_expect --hold 3 "${full_votes[@]}"
	drill_done
}

drill_lab 4

if drill_scenario 4n-ffsplit-2-2 "ffsplit lowest, {1,2}|{3,4}: the half with node 1 wins"; then
	drill_cluster algorithm=ffsplit tie_breaker=lowest
	split_and_heal 5 "n1 n2" "n3 n4" \
	    "n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=3" \
	    "n3 members=3,4 quorate=no votes=2" "n4 members=3,4 quorate=no votes=2"
fi

if drill_scenario 4n-ffsplit-1-3 "ffsplit lowest, {1}|{2,3,4}: the majority wins"; then
	drill_cluster algorithm=ffsplit tie_breaker=lowest
	split_and_heal 5 n1 "n2 n3 n4" \
	    "n1 members=1 quorate=no votes=1" "n2 members=2,3,4 quorate=yes votes=4" \
	    "n3 members=2,3,4 quorate=yes votes=4" "n4 members=2,3,4 quorate=yes votes=4"
fi

if drill_scenario 4n-lms-2-2 "lms lowest, {1,2}|{3,4}: the half with node 1 wins"; then
	drill_cluster algorithm=lms tie_breaker=lowest
	split_and_heal 7 "n1 n2" "n3 n4" \
	    "n1 members=1,2 quorate=yes votes=5" "n2 members=1,2 quorate=yes votes=5" \
	    "n3 members=3,4 quorate=no votes=2" "n4 members=3,4 quorate=no votes=2"
fi

if drill_scenario 4n-lms-last-man "lms: three nodes killed at once, n1 keeps quorum alone"; then
	drill_cluster algorithm=lms tie_breaker=lowest
	drill_fault "kill -9 n2, n3, n4" eval 'lab_kill_node n2; lab_kill_node n3; lab_kill_node n4'
	drill_dirty
	drill_expect "n1 members=1 quorate=yes votes=4"
	check "$DRILL_NAME: n1 never lost quorum" drill_always_quorate n1
	drill_done
fi
