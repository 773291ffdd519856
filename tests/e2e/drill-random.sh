#!/bin/bash
# tests/e2e/drill-random.sh: randomized failure drills (scripts/drill random).
#
#   drill-random.sh [--seed N] [--count K] [--nodes 2|3|4] [--max-seconds S]
#
# K fault schedules, drawn from a generator seeded with N (the same seed gives the same
# schedules; the seed is printed). A schedule: a random algorithm (ffsplit/lms) and
# tie-breaker (lowest/highest), then 2-5 events with random pauses of 2-11 s: partitions
# (random sides, the arbiter on one side or reachable from both), heals, node kills and
# restarts, qdevice kills and restarts, qnetd kill and restart, the arbiter cut from a
# node. Checked: the safety invariant on readings of all nodes every 200 ms, from the
# first event until the cluster has recovered (never two disjoint memberships both quorate
# beyond LAB_GRACE after the ring change), and the recovery itself: after healing and
# restarting everything, all votes on all nodes within LAB_SETTLE_TIMEOUT. New schedules
# are not started once --max-seconds (default 900) would be exceeded.

HERE=$(cd "$(dirname "$0")" && pwd)

seed=$(( $(date +%s) % 100000 ))
count=3
nnodes=3
max_secs=900
while (( $# )); do
	case $1 in
	--seed)		seed=$2; shift 2;;
	--count)	count=$2; shift 2;;
	--nodes)	nnodes=$2; shift 2;;
	--max-seconds)	max_secs=$2; shift 2;;
	-h | --help)	sed -n '2,16p' "$0"; exit 0;;
	*)		echo "drill-random: unknown argument '$1'" >&2; exit 2;;
	esac
done
[[ $seed =~ ^[0-9]+$ && $count =~ ^[0-9]+$ && $nnodes =~ ^[2-4]$ && $max_secs =~ ^[0-9]+$ ]] ||
	{ echo "drill-random: --seed/--count/--max-seconds are numbers, --nodes 2..4" >&2; exit 2; }

# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

# --- a small deterministic generator (independent of bash's RANDOM) --------------------------
RNG=$seed
rnd() {		# rnd N: sets R to a number in 0..N-1
	RNG=$(( (RNG * 1103515245 + 12345) % 2147483648 ))
	R=$(( (RNG / 65536) % $1 ))
}

declare -A DOWN=()	# "n2/corosync" "n1/qdevice" "arb/qnetd" -> 1 while we killed it
declare -A CUT=()	# node -> 1 while cut from the arbiter
PLAN=()			# the current schedule: event words

# pick_side: SIDE := a random non-empty proper subset of the nodes, as "n1,n3"
pick_side() {
	local n a=()
	while :; do
		a=()
		for n in "${LAB_NODES[@]}"; do rnd 2; (( R )) && a+=("$n"); done
		(( ${#a[@]} > 0 && ${#a[@]} < ${#LAB_NODES[@]} )) && break
	done
	SIDE=$(IFS=,; echo "${a[*]}")
}

# make_plan: fill PLAN with 2-5 events ("partition A|B|arbside", "heal", "kill-node n2", ...)
# and pauses of 2-11 s; the state is simulated so that every event makes sense when it
# runs (a heal only when something is cut, a restart only of what is down).
make_plan() {
	local k i n b alive=() gone=() qd_up=() qd_down=() sim_qnetd=1 broken=0 ev cand=()
	local -A sd=() sq=()
	PLAN=()
	rnd 4; k=$((R + 2))
	for ((i = 0; i < k; i++)); do
		alive=() gone=() qd_up=() qd_down=()
		for n in "${LAB_NODES[@]}"; do
			if [[ -n ${sd[$n]:-} ]]; then gone+=("$n"); else alive+=("$n"); fi
			[[ -z ${sd[$n]:-} && -z ${sq[$n]:-} ]] && qd_up+=("$n")
			[[ -z ${sd[$n]:-} && -n ${sq[$n]:-} ]] && qd_down+=("$n")
		done
		# candidates, weighted by repetition
		cand=(partition partition partition cut-arb qnetd)
		(( broken )) && cand+=(heal heal)
		(( ${#alive[@]} > 1 )) && cand+=(kill-node)
		(( ${#gone[@]} )) && cand+=(start-node)
		(( ${#qd_up[@]} )) && cand+=(kill-qdevice)
		(( ${#qd_down[@]} )) && cand+=(start-qdevice)
		rnd ${#cand[@]}
		case ${cand[R]} in
		partition)
			pick_side
			rnd 3
			case $R in 0) b=A;; 1) b=B;; *) b=both;; esac
			ev="partition $SIDE $b"; broken=1;;
		heal)	ev="heal"; broken=0;;
		kill-node)
			rnd ${#alive[@]}; n=${alive[R]}; sd[$n]=1; ev="kill-node $n";;
		start-node)
			rnd ${#gone[@]}; n=${gone[R]}; unset "sd[$n]" "sq[$n]"; ev="start-node $n";;
		kill-qdevice)
			rnd ${#qd_up[@]}; n=${qd_up[R]}; sq[$n]=1; ev="kill-qdevice $n";;
		start-qdevice)
			rnd ${#qd_down[@]}; n=${qd_down[R]}; unset "sq[$n]"; ev="start-qdevice $n";;
		qnetd)	if (( sim_qnetd )); then sim_qnetd=0; ev="kill-qnetd"
			else sim_qnetd=1; ev="start-qnetd"; fi;;
		cut-arb)
			rnd ${#LAB_NODES[@]}; ev="cut-arb ${LAB_NODES[R]}"; broken=1;;
		esac
		PLAN+=("$ev")
		rnd 10
		PLAN+=("wait $((R + 2))")
	done
}

# run_event WORDS...: carry out one event of the plan.
run_event() {
	local what=$1 a b x n
	case $what in
	partition)
		a=${2//,/ } b=""
		for n in "${LAB_NODES[@]}"; do [[ " $a " == *" $n "* ]] || b+="${b:+ }$n"; done
		lab_heal >/dev/null
		for n in "${!CUT[@]}"; do lab_block "$n" arb; done
		case $3 in
		A) lab_partition "$a arb" "$b";;
		B) lab_partition "$a" "$b arb";;
		*) lab_partition "$a" "$b";;
		esac;;
	heal)	lab_heal; CUT=();;
	kill-node)
		lab_kill_node "$2"; DOWN[$2/corosync]=1; unset "DOWN[$2/qdevice]";;
	start-node)
		lab_start_corosync "$2" && lab_start_qdevice "$2"; unset "DOWN[$2/corosync]";;
	kill-qdevice)	lab_kill_qdevice "$2"; DOWN[$2/qdevice]=1;;
	start-qdevice)	lab_start_qdevice "$2"; unset "DOWN[$2/qdevice]";;
	kill-qnetd)	lab_kill_qnetd; DOWN[arb/qnetd]=1;;
	start-qnetd)	lab_start_qnetd -s on -c on; unset "DOWN[arb/qnetd]";;
	cut-arb)	lab_cut_arbiter "$2"; CUT[$2]=1;;
	wait)		sleep "$2";;
	esac
}

# event_text WORDS...: EV_TEXT := what the event does, in words. SPLIT (1 while a partition
# stands) says whether a new one replaces it.
SPLIT=0
event_text() {
	local a=${2:-} b="" n
	for n in "${LAB_NODES[@]}"; do [[ ",$a," == *",$n,"* ]] || b+="${b:+,}$n"; done
	case $1 in
	partition)
		EV_TEXT="$( ((SPLIT)) && echo "new split, replacing the last one" || echo "split the network"):"
		case $3 in
		A) EV_TEXT+=" {$a} with the arbiter | {$b}";;
		B) EV_TEXT+=" {$a} | {$b} with the arbiter";;
		*) EV_TEXT+=" {$a} | {$b}, the arbiter on neither side of the cut";;
		esac
		(( ${#CUT[@]} )) && EV_TEXT+=" ($(IFS=,; echo "${!CUT[*]}") stays cut from the arbiter)";;
	heal)		EV_TEXT="heal the network: every node and the arbiter reach each other again";;
	kill-node)	EV_TEXT="kill $2 (SIGKILL to its qdevice and corosync)";;
	start-node)	EV_TEXT="start $2 again (corosync, then qdevice)";;
	kill-qdevice)	EV_TEXT="kill $2's qdevice (SIGKILL; corosync stays)";;
	start-qdevice)	EV_TEXT="start $2's qdevice again";;
	kill-qnetd)	EV_TEXT="kill qnetd on the arbiter (SIGKILL)";;
	start-qnetd)	EV_TEXT="start qnetd again";;
	cut-arb)	EV_TEXT="cut $2 off from the arbiter (it still reaches the other nodes)";;
	*)		EV_TEXT="$*";;
	esac
}

# who_won: WON_TEXT := what every node sees now, in words, quorate nodes first, e.g.
# "quorate: n1,n2 (members 1,2; 3 of 4 votes) | not quorate: n3 (members 3; 1 vote)".
who_won() {
	local n q=() nq=() other=()
	for n in "${LAB_NODES[@]}"; do
		if [[ -n ${DOWN[$n/corosync]:-} ]]; then
			other+=("$n down")
		elif ! lab_query "$n"; then
			other+=("$n: corosync does not answer")
		elif [[ $Q_QUORATE == yes ]]; then
			q+=("$n (members $Q_MEMBERS; $Q_TOTAL of $Q_EXPECTED votes)")
		else
			nq+=("$n (members $Q_MEMBERS; $Q_TOTAL of $Q_EXPECTED votes)")
		fi
	done
	WON_TEXT="quorate: $( ((${#q[@]})) && printf '%s, ' "${q[@]}" | sed 's/, $//' || echo nobody)"
	(( ${#nq[@]} )) && WON_TEXT+=" | not quorate: $(printf '%s, ' "${nq[@]}" | sed 's/, $//')"
	(( ${#other[@]} )) && WON_TEXT+=" | $(printf '%s, ' "${other[@]}" | sed 's/, $//')"
	return 0
}

# recover: heal, restart whatever is down.
recover() {
	local k n
	lab_heal
	CUT=()
	[[ -n ${DOWN[arb/qnetd]:-} ]] && lab_start_qnetd -s on -c on
	for n in "${LAB_NODES[@]}"; do
		if [[ -n ${DOWN[$n/corosync]:-} ]]; then
			lab_start_corosync "$n" && lab_start_qdevice "$n"
		elif [[ -n ${DOWN[$n/qdevice]:-} ]]; then
			lab_start_qdevice "$n"
		fi
	done
	for k in "${!DOWN[@]}"; do unset "DOWN[$k]"; done
}

echo "# drill-random: seed $seed, $count schedule(s), $nnodes nodes, at most $max_secs s"
echo "# (again with: scripts/drill random --seed $seed --count $count --nodes $nnodes)"
drill_lab "$nnodes"
# The last line is the verdict, after the table and the counts.
_random_on_exit() {
	local rc=$? res
	( (exit "$rc"); _drill_on_exit )
	res=$?
	if (( res == 0 )); then
		echo "RESULT: passed: seed $seed, $ran of $count schedule(s): never two disjoint memberships both quorate, all votes back after each"
	else
		echo "RESULT: FAILED: seed $seed (see the 'not ok' lines above; again with: scripts/drill random --seed $seed --count $count --nodes $nnodes)"
	fi
	exit "$res"
}
trap _random_on_exit EXIT
ran=0
start=$SECONDS
algos=(ffsplit lms)
tbs=(lowest highest)
for ((s = 1; s <= count; s++)); do
	# a schedule takes at most ~ 5 x 9 s of pauses + restarts + recovery (45 s bound)
	if (( SECONDS - start + 120 > max_secs )); then
		echo "# time budget: not starting schedule $s ($((SECONDS - start)) s used of $max_secs)"
		break
	fi
	rnd 2; algo=${algos[R]}
	rnd 2; tb=${tbs[R]}
	make_plan
	name="random-$seed-$s"
	drill_scenario "$name" "algorithm $algo, tie_breaker $tb, $((${#PLAN[@]} / 2)) steps" || continue
	drill_cluster algorithm="$algo" tie_breaker="$tb"
	drill_fault "schedule $s" true
	SPLIT=0
	for ((i = 0; i < ${#PLAN[@]}; i++)); do
		lab_log "event: ${PLAN[i]}"
		# shellcheck disable=SC2086
		case ${PLAN[i]} in
		wait\ *)
			run_event ${PLAN[i]}
			who_won
			echo "#    ${PLAN[i]#wait } s later, corosync says: $WON_TEXT";;
		*)
			event_text ${PLAN[i]}
			echo "# step $((i / 2 + 1)): $EV_TEXT"
			run_event ${PLAN[i]}
			case ${PLAN[i]} in partition*) SPLIT=1;; heal) SPLIT=0;; esac;;
		esac
	done
	drill_dirty
	echo "# recovery: heal the network, start whatever is down, wait for all votes (held 3 s)"
	recover
	check "$name: recovered: every node quorate with all votes" drill_wait_full 3
	check "$name: never two disjoint memberships both quorate" lab_sampler_stop
	inv="$SAMPLER_VIOLATIONS viol"
	(( SAMPLER_GRACE_HITS )) && inv+=", $SAMPLER_GRACE_HITS in grace"
	res=ok
	(( LAB_FAILED > DRILL_FAILED_BEFORE )) && res=FAIL
	drill_row "$name" "$algo/$tb $((${#PLAN[@]} / 2)) steps" "$res" "-" "-" "-" "$inv" \
	    "ended $((SECONDS - start)) s after the start"
	ran=$((ran + 1))
	drill_done
done
echo "# drill-random: seed $seed: $ran schedule(s) run in $((SECONDS - start)) s"
