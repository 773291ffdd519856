#!/bin/bash
# tests/e2e/test-drill-daemons.sh: failure drills, 2 nodes, ffsplit tie_breaker lowest;
# daemons die and the arbiter becomes unreachable:
#   node-kill          SIGKILL corosync+qdevice on n1 (the tie-breaker's node): n2 stays
#                      quorate with its qdevice vote; n1 restarted: 3 votes
#   qdevice-kill       SIGKILL n1's qdevice: both nodes stay quorate; then n1|n2: n2 wins
#                      (the only side with a qdevice); heal + restart: 3 votes
#   qnetd-kill         SIGKILL qnetd: both stay quorate on 2 node votes; n1|n2 while qnetd
#                      is dead: nobody is quorate; qnetd restarted: exactly one side wins
#                      (the first qdevice to reconnect, random); heal: 3 votes
#   qnetd-restart      qnetd restarted while all is well: quorum never lost, 3 votes again
#   qnetd-unreachable  arbiter cut off from both nodes: its vote goes (2 votes, quorate);
#                      reconnected: 3 votes
#   isolate-n1         n1 cut off from n2 and from the arbiter at once: n2 wins
# Every step checks the safety invariant on readings every 200 ms; where quorum must not
# be lost, that no reading of the surviving node(s) was non-quorate. Our qnetd and
# our qdevice by default (QNETD_BIN / QDEVICE_BIN choose others; DRILL_ONLY selects).

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

FULL2=("n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=3")
BASE=(algorithm=ffsplit tie_breaker=lowest)

drill_lab 2

if drill_scenario node-kill "n1 (tie-breaker node) killed: n2 keeps quorum"; then
	drill_cluster "${BASE[@]}"
	drill_fault "kill -9 corosync+qdevice on n1" lab_kill_node n1
	drill_dirty
	drill_expect "n2 members=2 quorate=yes votes=2"
	check "$DRILL_NAME: n2 never lost quorum" drill_always_quorate n2
	drill_fault "n1 restarted" eval 'lab_start_corosync n1 && lab_start_qdevice n1'
	drill_expect --hold 3 "${FULL2[@]}"
	drill_done
fi

if drill_scenario qdevice-kill "n1's qdevice killed, then n1|n2: n2 wins"; then
	drill_cluster "${BASE[@]}"
	drill_fault "kill -9 qdevice on n1" lab_kill_qdevice n1
	drill_dirty
	drill_expect --hold 3 "n1 members=1,2 quorate=yes" "n2 members=1,2 quorate=yes"
	check "$DRILL_NAME: nobody lost quorum" drill_always_quorate n1 n2
	drill_fault "partition n1|n2 (n1 without qdevice)" lab_partition n1 n2
	drill_expect "n1 members=1 quorate=no votes=1" "n2 members=2 quorate=yes votes=2"
	drill_fault "heal, qdevice on n1 restarted" eval 'lab_heal && lab_start_qdevice n1'
	drill_expect --hold 3 "${FULL2[@]}"
	drill_done
fi

if drill_scenario qnetd-kill "qnetd killed: 2 votes; split: nobody; qnetd back: one side"; then
	drill_cluster "${BASE[@]}"
	drill_fault "kill -9 qnetd" lab_kill_qnetd
	drill_dirty
	drill_expect --hold 3 "n1 members=1,2 quorate=yes votes=2" "n2 members=1,2 quorate=yes votes=2"
	check "$DRILL_NAME: nobody lost quorum" drill_always_quorate n1 n2
	drill_fault "partition n1|n2 without qnetd" lab_partition n1 n2
	drill_expect "n1 members=1 quorate=no votes=1" "n2 members=2 quorate=no votes=1"
	# The first qdevice to reconnect is alone with qnetd and gets the vote (its side is
	# the only active one); KAP then keeps it there. The reconnect delay is random.
	drill_fault "qnetd restarted (still split)" lab_start_qnetd -s on -c on
	drill_expect_one_winner n1 n2
	drill_fault "heal" lab_heal
	drill_expect --hold 3 "${FULL2[@]}"
	drill_done
fi

if drill_scenario qnetd-restart "qnetd restarted while all is well: quorum never lost"; then
	drill_cluster "${BASE[@]}"
	drill_fault "qnetd stopped and started again" \
	    eval 'lab_stop qnetd arb && lab_start_qnetd -s on -c on'
	drill_expect --hold 3 "${FULL2[@]}"
	check "$DRILL_NAME: nobody lost quorum" drill_always_quorate n1 n2
	drill_done
fi

if drill_scenario qnetd-unreachable "arbiter unreachable: 2 votes, quorate; back: 3 votes"; then
	drill_cluster "${BASE[@]}"
	drill_fault "arbiter cut off from n1 and n2" eval 'lab_cut_arbiter n1 && lab_cut_arbiter n2'
	drill_dirty
	drill_expect --hold 3 "n1 members=1,2 quorate=yes votes=2" "n2 members=1,2 quorate=yes votes=2"
	check "$DRILL_NAME: nobody lost quorum" drill_always_quorate n1 n2
	drill_fault "arbiter reachable again" eval 'lab_uncut_arbiter n1 && lab_uncut_arbiter n2'
	drill_expect --hold 3 "${FULL2[@]}"
	check "$DRILL_NAME: nobody lost quorum on the way back" drill_always_quorate n1 n2
	drill_done
fi

if drill_scenario isolate-n1 "n1 loses the cluster network and the arbiter at once: n2 wins"; then
	drill_cluster "${BASE[@]}"
	drill_fault "n1 isolated from n2 and arb" lab_partition n1 "n2 arb"
	drill_dirty
	drill_expect "n1 members=1 quorate=no votes=1" "n2 members=2 quorate=yes votes=2"
	drill_fault "heal" lab_heal
	drill_expect --hold 3 "${FULL2[@]}"
	drill_done
fi
