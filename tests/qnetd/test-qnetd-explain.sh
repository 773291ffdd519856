#!/bin/bash
# tests/qnetd/test-qnetd-explain.sh: qnetd-tool --explain against a real qnetd on
# loopback without TLS, fed by fake clients (explain_clients.py): cluster alpha is a
# 2|2 ffsplit split decided by tie_breaker lowest, cluster gamma one decided by the
# heuristics score; the text and the JSON (-j) name the rule and the partitions of
# each node, -c picks one cluster, the journal keeps at most explain_journal_size
# decisions (0: none; bad values refused), and all of it the same through worker
# processes (-S worker_processes=2: alpha and gamma hash to different workers).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENTS=$HERE/explain_clients.py

. "$HERE/../lib.sh"

loopback_qnetd
CFG=1,2,3,4
SPLIT=(alpha/1/$CFG/1,2 alpha/2/$CFG/1,2 alpha/3/$CFG/3,4 alpha/4/$CFG/3,4
    gamma/1/$CFG/1,2 gamma/2/$CFG/1,2 gamma/3/$CFG/3,4/pass gamma/4/$CFG/3,4/pass
    delta/1/1,2,3/1,2/none/lms delta/2/1,2,3/1,2/none/lms delta/3/1,2,3/3/none/lms)

# start_qnetd LOG SETTINGS: qnetd in the foreground; waits for its socket.
start_qnetd() {
	rm -f "$dir/q.pid"
	"$QNETD" -f -d -s off -l 127.0.0.1 -p "$port" -S "$adv${2:+,$2}" 2>"$1" &
	qnetd_pid=$!
	pids+=("$qnetd_pid")
	for _ in $(seq 100); do "$TOOL" -s -p "$sock" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

stop_qnetd() {
	kill "$qnetd_pid" 2>/dev/null
	wait "$qnetd_pid" 2>/dev/null
}

# start_clients HOLD ARGS...: the fake clients; returns once they sent every list.
start_clients() {
	local hold=$1
	shift
	python3 "$CLIENTS" 127.0.0.1 "$port" "$hold" "$@" >"$dir/clients.out" 2>&1 &
	clients_pid=$!
	pids+=("$clients_pid")
	for _ in $(seq 100); do grep -qx ready "$dir/clients.out" && return 0; sleep 0.1; done
	cat "$dir/clients.out"
	return 1
}

# settled: alpha's node 4 and gamma's node 1 hold their final votes (the ACK phase done).
settled() {
	for _ in $(seq 50); do
		out=$("$TOOL" --explain -p "$sock")
		grep -q "^    Node ID 4: NACK" <<<"$out" && grep -q "^    Node ID 3: ACK.*heuristics" <<<"$out" &&
		    [[ $(grep -c "^    Node ID [0-9]*: ACK" <<<"$out") == 6 ]] && return 0
		sleep 0.1
	done
	echo "$out"
	return 1
}

# JSON checks: python3 -c CODE reading qnetd-tool --explain -j ARGS on stdin as d.
jcheck() {
	local code=$1
	shift
	"$TOOL" --explain -j -p "$sock" "$@" | python3 -c "import json, sys
d = json.load(sys.stdin)
c = {x['name']: x for x in d['clusters']}
$code"
}

# explain_shows [--settled] CLUSTER ARG...: qnetd-tool --explain -c CLUSTER (printed), after
# `settled` with --settled, holds for every ARG: that exact line; "-r REGEX": a line
# matching REGEX (grep); "-1 PREFIX": the text starts with PREFIX.
explain_shows() {
	local out
	if [[ $1 == --settled ]]; then
		settled || return 1
		shift
	fi
	out=$("$TOOL" --explain -c "$1" -p "$sock") || return 1
	echo "$out"
	shift
	while (($#)); do
		case $1 in
		-r) grep -q -- "$2" <<<"$out" || return 1; shift 2;;
		-1) [[ $out == "$2"* ]] || return 1; shift 2;;
		*) grep -qxF -- "$1" <<<"$out" || return 1; shift;;
		esac
	done
}

explain_checks() {
	local mode=$1
	check "$mode: --explain text: alpha's nodes 1, 2 won by tie_breaker lowest, 3, 4 lost" subshell \
	    explain_shows --settled alpha \
	    "    Node ID 1: ACK, partition {1 2} (2 nodes, score 2) won: tie_breaker lowest (node 1)" \
	    "    Node ID 2: ACK, partition {1 2} (2 nodes, score 2) won: tie_breaker lowest (node 1)" \
	    "    Node ID 3: NACK, partition {3 4} (2 nodes, score 2) lost to {1 2}: tie_breaker lowest (node 1)" \
	    "    Node ID 4: NACK, partition {3 4} (2 nodes, score 2) lost to {1 2}: tie_breaker lowest (node 1)"
	check "$mode: --explain text: gamma's {3 4} won on the heuristics score" subshell \
	    explain_shows gamma -1 'Cluster "gamma" (ffsplit):' \
	    "    Node ID 3: ACK, partition {3 4} (2 nodes, score 3) won: equal size: heuristics score" \
	    "    Node ID 1: NACK, partition {1 2} (2 nodes, score 2) lost to {3 4}: equal size: heuristics score" \
	    -r "^    Recent decisions (newest first, [0-9]* kept of at most 32):" \
	    -r "^        [0-9.]* s ago, membership_list of node 4: round; {1 2} (2 nodes, score 2), {3 4} (2 nodes, score 3) won; equal size: heuristics score$"
	# Node 3 asks after nodes 1 and 2 hold ACK: lms's newcomer rule, not the score, says NACK.
	check "$mode: --explain text: lms decides per node: delta's {1 2} by the score, 3 as newcomer" subshell \
	    explain_shows delta -1 'Cluster "delta" (lms):' \
	    "    Node ID 1: ACK, partition {1 2} (2 nodes, score 2) won: highest score (nodes + heuristics)" \
	    "    Node ID 3: NACK, partition {3} (1 node, score 1) lost to {1 2}: another partition already holds ACK" \
	    -r "^        [0-9.]* s ago, membership_list of node 3: node 3 NACK; {1 2} (2 nodes, score 2) won, {3} (1 node, score 1); another partition already holds ACK$" \
	    -r "^        [0-9.]* s ago, membership_list of node 1: node 1 ACK; {1 2} (2 nodes, score 2) won, {3} (1 node, score 1); highest score (nodes + heuristics)$"
	check "$mode: --explain without -c shows every cluster" subshell eval \
	    'out=$("$TOOL" --explain -p "$sock") && [[ $(grep -c "^Cluster " <<<"$out") == 3 ]] &&
	     grep -q "^Cluster \"alpha\" (ffsplit):" <<<"$out" && grep -q "^Cluster \"gamma\" (ffsplit):" <<<"$out"'
	check "$mode: --explain -j: rule, partitions, sizes, scores and winners per node" subshell jcheck '
assert sorted(c) == ["alpha", "delta", "gamma"], sorted(c)
for n in c["delta"]["nodes"]:
    dec = n["decision"]
    rule = "highest_score" if n["node_id"] <= 2 else "newcomer"
    assert (dec["subject_node_id"], dec["rule"], dec["vote"]) == (n["node_id"], rule, n["vote"]), n
a, g = c["alpha"], c["gamma"]
assert a["algorithm"] == "ffsplit" and a["journal_size"] == 32
for n in a["nodes"]:
    dec = n["decision"]
    assert n["rule"] == "tie_breaker" and not n["waiting"], n
    assert dec["tie_breaker"] == {"mode": "lowest", "node_id": 1}, dec
    assert n["vote"] == ("ACK" if n["node_id"] <= 2 else "NACK"), n
    parts = [(p["node_ids"], p["size"], p["score"], p["won"]) for p in dec["partitions"]]
    assert parts == [([1, 2], 2, 2, True), ([3, 4], 2, 2, False)], parts
    assert n["partition"] == (0 if n["node_id"] <= 2 else 1)
for n in g["nodes"]:
    assert n["rule"] == "heuristics_score", n
    assert n["vote"] == ("ACK" if n["node_id"] >= 3 else "NACK"), n
    p = n["decision"]["partitions"][1]
    assert (p["node_ids"], p["score"], p["heuristics"], p["won"]) == ([3, 4], 3, "Pass", True), p
j = g["journal"]
assert j[0]["rule"] == "heuristics_score" and j[0]["trigger_node_id"] == 4, j[0]
assert all(e["age_ms"] >= 0 and e["event"] for e in j)
assert g["decisions_total"] >= len(j) >= 4
'
	check "$mode: --explain -j -c gamma has gamma alone" subshell jcheck 'assert list(c) == ["gamma"]' -c gamma
	check "$mode: --explain -c of an unknown cluster: nothing, and an empty JSON list" subshell eval \
	    '[[ -z $("$TOOL" --explain -c nosuch -p "$sock") ]] &&
	     jcheck "assert c == {}" -c nosuch'
}

# ---- one process ----
start_qnetd "$dir/qnetd.log" ""
start_clients 60 "${SPLIT[@]}"
explain_checks "one process"
kill "$clients_pid" 2>/dev/null
wait "$clients_pid" 2>/dev/null
stop_qnetd

# ---- worker processes ----
start_qnetd "$dir/qnetd-workers.log" "worker_processes=2"
start_clients 60 "${SPLIT[@]}"
explain_checks "2 workers"
check "2 workers: alpha and gamma were served by different workers" subshell eval \
    'a=$(grep -o "qnetd\[[0-9]*\] debug: client [^ ]* (cluster alpha" "$dir/qnetd-workers.log" | cut -d" " -f1 | sort -u)
     g=$(grep -o "qnetd\[[0-9]*\] debug: client [^ ]* (cluster gamma" "$dir/qnetd-workers.log" | cut -d" " -f1 | sort -u)
     echo "$a / $g"; [[ -n $a && -n $g && $a != "$g" ]]'
kill "$clients_pid" 2>/dev/null
wait "$clients_pid" 2>/dev/null
stop_qnetd

# ---- the journal's bound ----
# Node 1 of a 2-node cluster changes its heuristics 12 times: 12 more rounds, each
# a different record (score 3 and 1 in turn), none folded into the one before.
FLAP=(--flap 0:12 alpha/1/1,2/1,2 alpha/2/1,2/1,2)
# within_10s CMD...: CMD holds within 10 s (the last heuristics changes may still be on
# their way when the clients say ready); on failure the clients' own output too.
within_10s() {
	for _ in $(seq 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	"$@" || { sed 's/^/clients: /' "$dir/clients.out"; return 1; }
}

start_qnetd "$dir/qnetd-j4.log" "explain_journal_size=4"
start_clients 60 "${FLAP[@]}"
check "explain_journal_size=4: the journal keeps the 4 newest of more decisions" subshell within_10s jcheck '
a = c["alpha"]
j = a["journal"]
assert a["journal_size"] == 4 and len(j) == 4, (a["journal_size"], len(j))
assert a["decisions_total"] >= 14, a["decisions_total"]
assert all(e["event"] == "heuristics_change" and e["trigger_node_id"] == 1 for e in j), j
assert j[0]["age_ms"] <= j[-1]["age_ms"]
'
check "... and the text says 4 kept of at most 4" subshell within_10s eval \
    '"$TOOL" --explain -p "$sock" | grep -qx "    Recent decisions (newest first, 4 kept of at most 4):"'
kill "$clients_pid" 2>/dev/null
wait "$clients_pid" 2>/dev/null
stop_qnetd

start_qnetd "$dir/qnetd-j0.log" "explain_journal_size=0"
start_clients 60 "${FLAP[@]}"
check "explain_journal_size=0: no journal, the nodes are still explained" subshell eval \
    'out=$("$TOOL" --explain -p "$sock") && echo "$out" &&
     grep -qx "    Recent decisions: journal disabled (explain_journal_size=0)" <<<"$out" &&
     grep -q "^    Node ID 1: ACK, partition {1 2} (2 nodes, score [0-9]*) won: largest partition" <<<"$out" &&
     jcheck "assert c[\"alpha\"][\"journal\"] == [] and c[\"alpha\"][\"journal_size\"] == 0"'
kill "$clients_pid" 2>/dev/null
wait "$clients_pid" 2>/dev/null
stop_qnetd

check "explain_journal_size=x and =1025 are refused naming the range" subshell eval \
    'for v in x 1025 -1; do
	out=$("$QNETD" -f -s off -p "$port" -S "$adv,explain_journal_size=$v" 2>&1); rc=$?
	echo "$v: $rc $out"
	[[ $rc != 0 && $out == *"explain_journal_size"*"0..1024"* ]] || exit 1
     done'
check "qnetd-tool --explain with -H is refused, -j only with -s, -l or --explain" subshell eval \
    '! "$TOOL" --explain -H -p "$sock" >/dev/null 2>&1 && "$TOOL" -h | grep -q -- "--explain"'

tests_summary
