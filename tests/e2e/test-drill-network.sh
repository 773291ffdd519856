#!/bin/bash
# tests/e2e/test-drill-network.sh: failure drills, 2 nodes, ffsplit lowest, a bad network
# instead of a clean cut:
#   loss-nodes   30 % of the packets between n1 and n2 dropped for 12 s (nftables
#                numgen): whatever corosync makes of it, never two quorate disjoint
#                memberships; loss removed: 3 votes
#   loss-arb     30 % loss on the arbiter's link for 12 s: TCP copes, quorum never lost
#   loss-split   n1|n2 cut while 30 % of the arbiter's packets are lost: n1 still wins
#   delay        200 ms delay on everything n1 sends (tc netem; without netem an nftables
#                NFQUEUE rule and drill-nfq-delay.py holding each packet 200 ms): the
#                round trips n1->n2 and n1->arb grow by ~200 ms; 3 votes under the delay;
#                n1|n2: n1 wins; heal: 3 votes; with NFQUEUE, the helper held both UDP
#                (totem) and TCP (qdevice). Fails if neither netem nor NFQUEUE works.
#   delay-arb    the link to the arbiter delayed by 1 s each way (a TCP relay,
#                drill-delay-relay.pl, in front of qnetd: works without netem); 3 votes;
#                n1|n2: n1 still wins, later; heal: 3 votes
# Our qnetd and our qdevice by default (QNETD_BIN / QDEVICE_BIN; DRILL_ONLY selects).

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

FULL2=("n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=3")
N1_WINS=("n1 members=1 quorate=yes votes=2" "n2 members=2 quorate=no votes=1")
BASE=(algorithm=ffsplit tie_breaker=lowest)
: "${DRILL_LOSS:=30}"		# percent
: "${DRILL_LOSS_SECS:=12}"	# how long the loss lasts
: "${DRILL_DELAY_MS:=200}"
: "${DRILL_ARB_DELAY_MS:=1000}"	# one way, on the arbiter link (delay-arb)

# rtt_grew HOST PEER BEFORE_MS: the round trip HOST -> PEER is now BEFORE_MS plus about
# DRILL_DELAY_MS (at least 90 %, at most 1.5 times + 100 ms: the machine may be busy).
rtt_grew() {
	local now
	[[ -n $3 ]] || { lab_log "no round trip $1 -> $2 before the delay"; return 1; }
	drill_net_rtt "$1" "$2" || return 1
	now=$DRILL_RTT_MS
	lab_log "round trip $1 -> $2: before $3 ms, with the delay $now ms (+$((now - $3)) ms)"
	(( now - $3 >= DRILL_DELAY_MS * 9 / 10 && now - $3 <= DRILL_DELAY_MS * 3 / 2 + 100 ))
}

# nfq_saw_udp_tcp HOST: the NFQUEUE helper of HOST held UDP and TCP packets (its counts).
nfq_saw_udp_tcp() {
	local s=${DRILL_NFQ_SUMMARY[$1]:-} udp='[( ]udp [1-9]' tcp='[( ]tcp [1-9]'
	[[ $s =~ $udp && $s =~ $tcp ]]
}

drill_lab 2

if drill_scenario loss-nodes "random packet loss (30 %) between n1 and n2: no split brain"; then
	drill_cluster "${BASE[@]}"
	drill_fault "${DRILL_LOSS} % loss n1<->n2" drill_net_loss n1 "$DRILL_LOSS" n2
	drill_dirty
	drill_observe "$DRILL_LOSS_SECS"
	drill_fault "loss removed" drill_net_clear
	drill_expect --hold 3 "${FULL2[@]}"
	drill_done
fi

if drill_scenario loss-arb "random packet loss (30 %) on the arbiter's link: quorum kept"; then
	drill_cluster "${BASE[@]}"
	drill_fault "${DRILL_LOSS} % loss on arb's link" drill_net_loss arb "$DRILL_LOSS"
	drill_dirty
	drill_observe "$DRILL_LOSS_SECS"
	check "$DRILL_NAME: nobody lost quorum" drill_always_quorate n1 n2
	drill_fault "loss removed" drill_net_clear
	drill_expect --hold 3 "${FULL2[@]}"
	drill_done
fi

if drill_scenario loss-split "n1|n2 while the arbiter's link loses 30 %: n1 wins"; then
	drill_cluster "${BASE[@]}"
	drill_net_loss arb "$DRILL_LOSS"
	drill_dirty
	drill_fault "partition n1|n2 (lossy arbiter)" lab_partition n1 n2
	drill_expect "${N1_WINS[@]}"
	drill_fault "heal, loss removed" eval 'lab_heal && drill_net_clear'
	drill_expect --hold 3 "${FULL2[@]}"
	drill_done
fi

if drill_scenario delay "200 ms delay on n1, then n1|n2: n1 wins"; then
	if drill_net_delay_method >/dev/null; then
		drill_cluster "${BASE[@]}"
		drill_net_rtt n1 n2; rtt_n2=$DRILL_RTT_MS
		drill_net_rtt n1 arb; rtt_arb=$DRILL_RTT_MS
		drill_fault "${DRILL_DELAY_MS} ms delay on n1 ($DRILL_NET_HOW)" \
		    drill_net_delay n1 "$DRILL_DELAY_MS"
		drill_dirty
		check "$DRILL_NAME: the round trip n1 -> n2 grew by ~${DRILL_DELAY_MS} ms" \
		    rtt_grew n1 n2 "$rtt_n2"
		check "$DRILL_NAME: the round trip n1 -> arb grew by ~${DRILL_DELAY_MS} ms" \
		    rtt_grew n1 arb "$rtt_arb"
		drill_expect --hold 3 --label "delay on n1" "${FULL2[@]}"
		drill_fault "partition n1|n2 (n1 delayed)" lab_partition n1 n2
		drill_expect "${N1_WINS[@]}"
		drill_fault "heal, delay removed" eval 'lab_heal && drill_net_clear'
		drill_expect --hold 3 "${FULL2[@]}"
		if [[ $DRILL_NET_HOW == nfqueue ]]; then
			# knet's UDP (totem) and qdevice's TCP to qnetd both went through the queue
			check "$DRILL_NAME: corosync's UDP and qdevice's TCP were delayed" \
			    nfq_saw_udp_tcp n1
		fi
	else
		check "$DRILL_NAME: this kernel cannot delay packets: $DRILL_NET_WHY" false
		drill_row "$DRILL_NAME" "cannot delay packets" "FAIL" "-" "-" "-" "-" "-"
	fi
	drill_done
fi

if drill_scenario delay-arb "arbiter link delayed 1 s each way (TCP relay): n1 still wins"; then
	perl -MTime::HiRes -MIO::Select -MIO::Socket::INET -e 1 2>/dev/null ||
		lab_die "setup: delay-arb needs perl with Time::HiRes (Debian package perl)"
	# qnetd moves to port 5404, the relay takes its place on 5403 (what the nodes use)
	_drill_stop_all
	lab_stop qnetd arb
	LAB_QNETD_PORT=5404 lab_start_qnetd -s on -c on
	_lab_spawn arb relay perl "$HERE/drill-delay-relay.pl" "$LAB_ARB_ADDR" 5403 \
	    "$LAB_ARB_ADDR" 5404 "$DRILL_ARB_DELAY_MS"
	lab_wait_until 10 eval 'lab_exec arb bash -c "exec 3<>/dev/tcp/$LAB_ARB_ADDR/5403" 2>/dev/null' ||
		lab_die "setup: the delay relay does not listen"
	drill_cluster "${BASE[@]}"
	drill_fault "partition n1|n2 (slow arbiter)" lab_partition n1 n2
	drill_expect "${N1_WINS[@]}"
	drill_fault "heal" lab_heal
	drill_expect --hold 3 "${FULL2[@]}"
	_drill_stop_all
	lab_kill arb relay
	lab_stop qnetd arb
	drill_done
fi
