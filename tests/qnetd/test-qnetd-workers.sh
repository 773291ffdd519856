#!/bin/bash
# tests/qnetd/test-qnetd-workers.sh: qnetd -S worker_processes=3 as processes, on
# loopback without TLS (TLS through worker processes, with Debian's qdevice, is in
# tests/e2e/test-qnetd-interop-workers.sh): every cluster is served by one worker
# and the clusters spread over all three; qnetd-tool shows the totals of all
# workers (text, JSON, metrics); -m counts every worker's clients; a worker that
# dies, or stops answering the front's pings for 30 s, stops the whole daemon with
# status 1; SIGTERM and qnetd-tool -H stop all processes.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$HERE/qnet_client.py

# Checks run in a subshell: an "exit 1" inside one ends only that check. Workers of
# a front killed at exit get SIGTERM from the kernel (PDEATHSIG).
. "$HERE/../lib.sh"

loopback_qnetd

# children PID: the pids of PID's child processes (our workers), one per line.
children() {
	pgrep -P "$1"
}

# start_qnetd LOG ARGS...: qnetd in the foreground with 3 workers; waits for its socket.
start_qnetd() {
	local log=$1
	shift
	"$QNETD" -f -d -s off -l 127.0.0.1 -p "$port" "$@" -S "$adv,worker_processes=3" \
	    2>"$log" &
	qnetd_pid=$!
	pids+=("$qnetd_pid")
	for _ in $(seq 100); do "$TOOL" -s -p "$sock" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

# wait_exit PID SECONDS: 0 once PID is gone; its exit status in $exit_status.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1" 2>/dev/null
			exit_status=$?
			return 0
		fi
		sleep 0.1
	done
	return 1
}

all_gone() {
	local p
	for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done
	return 0
}

check "worker_processes=0 is refused naming the range" subshell eval \
    '"$QNETD" -f -s off -S worker_processes=0 2>&1 | grep -q "worker_processes.*1\.\.64"'
check "worker_processes=65 is refused" subshell eval \
    '! "$QNETD" -f -s off -p "$port" -S "$adv,worker_processes=65" >/dev/null 2>&1'

check "no NSS database: one clear error before any worker starts, exit 1" subshell eval \
    'out=$(timeout 20 "$QNETD" -f -s on -p "$port" -S "$adv,worker_processes=3,nss_db_dir=$dir/none" 2>&1)
     rc=$?; echo "$out"
     [[ $rc == 1 && $(grep -c "qnetd-certutil -i" <<<"$out") == 1 && $out != *"worker process"* ]]'

start_qnetd "$dir/qnetd.log" -m 6
workers=$(children "$qnetd_pid")
check "three worker processes run under the front, each announced ready" subshell eval \
    '[[ $(wc -w <<<"$workers") == 3 ]] && grep -q "worker 2 ready" "$dir/qnetd.log" &&
     grep -q "3 processes and a front" "$dir/qnetd.log"'

# alpha, gamma and delta hash to three different workers (FNV-1a mod 3: 2, 0, 1).
client_pids=()
for cl in alpha gamma delta; do
	for node in 1 2; do
		"$CLIENT" 127.0.0.1 "$port" "$cl" "$node" 60 >"$dir/$cl-$node.out" 2>&1 &
		client_pids+=($!)
		pids+=($!)
	done
done
all_acked() {
	local f
	for f in "$dir"/{alpha,gamma,delta}-[12].out; do
		grep -q "^type=14 vote=1" "$f" || return 1
	done
}
for _ in $(seq 100); do all_acked && break; sleep 0.1; done
check "all six clients got ACK pushed (VOTE_INFO ACK) from their worker" subshell all_acked
# "qnetd[PID] debug: client ADDR (cluster NAME, node N): ..." lines name the serving process.
served_by() {
	grep -o "qnetd\[[0-9]*\] debug: client [^ ]* (cluster $1, node" "$dir/qnetd.log" |
	    sed 's/qnetd\[\([0-9]*\)\].*/\1/' | sort -u
}
check "each cluster is served by one worker, the three by three different ones" subshell eval \
    'a=$(served_by alpha) g=$(served_by gamma) d=$(served_by delta);
     [[ $(wc -w <<<"$a") == 1 && $(wc -w <<<"$g") == 1 && $(wc -w <<<"$d") == 1 ]] &&
     [[ $(printf "%s\n" "$a" "$g" "$d" | sort -u | wc -l) == 3 ]] &&
     for p in $a $g $d; do grep -qx "$p" <<<"$workers" || exit 1; done'
check "qnetd-tool -s counts the clients and clusters of all workers" subshell eval \
    '"$TOOL" -s -p "$sock" | grep -qP "^Connected clients:\t+6$" &&
     "$TOOL" -s -p "$sock" | grep -qP "^Connected clusters:\t+3$"'
check "qnetd-tool -l lists the three clusters with their two nodes" subshell eval \
    'out=$("$TOOL" -l -p "$sock");
     [[ $(grep -c "^Cluster " <<<"$out") == 3 && $(grep -c "^    Node ID " <<<"$out") == 6 ]]'
check "qnetd-tool -l -c gamma shows only gamma" subshell eval \
    'out=$("$TOOL" -l -c gamma -p "$sock");
     [[ $(grep -c "^Cluster " <<<"$out") == 1 && $out == "Cluster \"gamma\":"* ]]'
check "qnetd-tool -l -c of an unknown cluster prints nothing" subshell eval \
    '[[ -z $("$TOOL" -l -c nosuch -p "$sock") ]]'
check "qnetd-tool -s -j and -l -j are JSON with the totals" subshell eval \
    '"$TOOL" -s -j -p "$sock" | python3 -c "import json,sys; d=json.load(sys.stdin);
sys.exit(0 if (d[\"connected_clients\"], d[\"connected_clusters\"]) == (6, 3) else 1)" &&
     "$TOOL" -l -j -p "$sock" | python3 -c "import json,sys; d=json.load(sys.stdin);
names = sorted(c[\"name\"] for c in d[\"clusters\"]);
sys.exit(0 if names == [\"alpha\", \"delta\", \"gamma\"] and
         all(len(c[\"nodes\"]) == 2 for c in d[\"clusters\"]) else 1)" &&
     [[ $("$TOOL" -l -j -c delta -p "$sock" | python3 -c "import json,sys; print(len(json.load(sys.stdin)[\"clusters\"]))") == 1 ]]'
check "qnetd-tool --metrics sums the workers and lists every cluster" subshell eval \
    'm=$("$TOOL" --metrics -p "$sock");
     grep -qx "qnetd_clients 6" <<<"$m" && grep -qx "qnetd_clusters 3" <<<"$m" &&
     grep -qx "qnetd_acks_sent_total [1-9][0-9]*" <<<"$m" &&
     for c in alpha gamma delta; do grep -qx "qnetd_cluster_acked_nodes{cluster=\"$c\"} 2" <<<"$m" || exit 1; done &&
     grep -qx "qnetd_clients_accepted_total 6" <<<"$m"'
check "a seventh client is over -m 6 counted across workers and refused" subshell eval \
    '"$CLIENT" 127.0.0.1 "$port" zeta 1 | grep -qx closed &&
     "$TOOL" --metrics -p "$sock" | grep -qx "qnetd_clients_refused_total 1"'
# The clients leave: every worker reports its clients gone.
kill "${client_pids[@]}" 2>/dev/null
check "clients that left are no longer counted (notices from the workers)" subshell eval \
    'for _ in $(seq 30); do "$TOOL" -s -p "$sock" | grep -qP "^Connected clients:\t+0$" && exit 0; sleep 0.1; done; exit 1'

check "a message other than PREINIT first is answered by the front as by one process" subshell eval \
    'python3 -c "
import socket, struct, sys
s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])), timeout=5)
s.sendall(struct.pack(\">HI\", 3, 0))     # INIT without anything
h = s.recv(6); t, n = struct.unpack(\">HI\", h); b = s.recv(n)
sys.exit(0 if t == 5 else 1)             # SERVER_ERROR
" "$port"'

victim=$(head -n 1 <<<"$workers")
kill -KILL "$victim"
exit_status=none
wait_exit "$qnetd_pid" 10
check "a worker killed: the front exits with status 1 and names the lost worker" subshell eval \
    '[[ $exit_status == 1 ]] && grep -q "worker process $victim is gone" "$dir/qnetd.log"'
check "... and no worker process is left behind" subshell eval \
    'for _ in $(seq 50); do all_gone $workers && exit 0; sleep 0.1; done; exit 1'

rm -f "$dir/q.pid"
start_qnetd "$dir/qnetd2.log"
workers=$(children "$qnetd_pid")
kill -TERM "$qnetd_pid"
exit_status=none
wait_exit "$qnetd_pid" 10
check "SIGTERM: the front exits 0, its workers are gone, its files removed" subshell eval \
    '[[ $exit_status == 0 ]] && all_gone $workers &&
     [[ ! -e $sock && ! -e $dir/q.pid ]]'
check "... and no worker logged an error on the way out" subshell eval \
    '! grep -E " (error|warning): " "$dir/qnetd2.log"'

start_qnetd "$dir/qnetd3.log"
workers=$(children "$qnetd_pid")
"$TOOL" -H -p "$sock" >/dev/null
exit_status=none
wait_exit "$qnetd_pid" 10
check "qnetd-tool -H stops the front and every worker" subshell eval \
    '[[ $exit_status == 0 ]] && all_gone $workers'

# wait_clients N: qnetd-tool -s reports N connected clients within 3 s.
wait_clients() {
	for _ in $(seq 30); do
		"$TOOL" -s -p "$sock" | grep -qP "^Connected clients:\t+$1\$" && return 0
		sleep 0.1
	done
	return 1
}

rm -f "$dir/q.pid"
start_qnetd "$dir/qnetd4.log"
workers=$(children "$qnetd_pid")
"$CLIENT" 127.0.0.1 "$port" "two words" 1 30 >"$dir/two.out" 2>&1 &
two_pid=$!
pids+=("$two_pid")
check "qnetd-tool -l -c with a space in the cluster name finds it in its worker" subshell eval \
    'wait_clients 1 && out=$("$TOOL" -l -c "two words" -p "$sock") &&
     [[ $out == "Cluster \"two words\":"* ]]'
kill "$two_pid" 2>/dev/null
wait_clients 0

# A worker that answers late (stopped here) must not have its stale answer
# taken for the next command's.
stopped=$(head -n 1 <<<"$workers")
kill -STOP "$stopped"
check "an admin command fails while a worker does not answer, with a plain message" subshell eval \
    '! out=$("$TOOL" -l -j -p "$sock" 2>&1) &&
     [[ $out == "Error: A worker process did not answer; see the log" ]]'
"$TOOL" -s -p "$sock" >"$dir/late.out" 2>&1 &
late=$!
sleep 1
kill -CONT "$stopped"
wait "$late"
check "... and the next command gets its own answer, not the late one" subshell eval \
    'grep -qP "^Connected clients:\t+0$" "$dir/late.out" &&
     [[ -z $("$TOOL" -l -p "$sock") ]]'
kill -TERM "$qnetd_pid"
wait_exit "$qnetd_pid" 10

# A worker out of descriptors gets the hand-over without its socket (MSG_CTRUNC):
# the client is gone, and the front must not go on counting it against -m.
rm -f "$dir/q.pid"
start_qnetd "$dir/qnetd5.log" -m 1
workers=$(children "$qnetd_pid")
# The limit is on descriptor numbers: the lowest free one makes the next open fail.
lowest_free_fd() {
	local n=0
	while [[ -e /proc/$1/fd/$n ]]; do n=$((n + 1)); done
	echo "$n"
}
for w in $workers; do prlimit --pid "$w" --nofile="$(lowest_free_fd "$w"):"; done
"$CLIENT" 127.0.0.1 "$port" alpha 1 >"$dir/emfile.out" 2>&1
for w in $workers; do prlimit --pid "$w" --nofile=1024:; done
check "a hand-over that lost its socket in the worker is not counted against -m" subshell eval \
    'grep -qx closed "$dir/emfile.out" &&
     "$CLIENT" 127.0.0.1 "$port" alpha 1 | grep -q "^type=14 vote=1"'
kill -TERM "$qnetd_pid"
wait_exit "$qnetd_pid" 10

# A worker that stops answering (stopped here, for good) is found by the front's
# pings and killed: qnetd exits 1 like for any lost worker.
rm -f "$dir/q.pid"
start_qnetd "$dir/qnetd6.log"
workers=$(children "$qnetd_pid")
stopped=$(head -n 1 <<<"$workers")
kill -STOP "$stopped"
exit_status=none
wait_exit "$qnetd_pid" 50
check "a worker stuck for good: killed after 30 s unanswered, the front exits with status 1" subshell eval \
    '[[ $exit_status == 1 ]] &&
     grep -q "worker process $stopped has not answered for [0-9]* s: killing it" "$dir/qnetd6.log" &&
     grep -q "worker process $stopped is gone" "$dir/qnetd6.log"'
check "... and no worker process is left behind" subshell eval \
    'for _ in $(seq 50); do all_gone $workers && exit 0; sleep 0.1; done; exit 1'

tests_summary
