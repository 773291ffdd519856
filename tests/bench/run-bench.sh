#!/bin/bash
#
# tests/bench/run-bench.sh: run qnetd-bench against our qnetd and Debian's
# corosync-qnetd, one after the other on this machine, at several client
# counts, plaintext and TLS, and print a side-by-side table with ratios.
# Everything lives in a temporary directory (certificates, lock files,
# sockets, logs) that is removed at exit; only daemons started here are
# stopped. Loopback only (127.0.0.1, ports below the ephemeral range).
#
# usage: tests/bench/run-bench.sh [--quick] [--clients "1000 5000"] [--modes "plain tls"]
#            [--servers "ours debian"] [--duration S] [--nodes N] [--hb-ms MS]
#            [--partition-every S] [--out FILE] [--keep]
#        tests/bench/run-bench.sh --table-from DIR   (table of a --keep'ed run)
#        tests/bench/run-bench.sh --failover GAP_S [--policies "500-1500 8000"] [--clients ..]
#            [--servers ..]   (TLS clients lose qnetd (SIGKILL), a new one starts on the
#            same address, port and NSS DB GAP_S later; per refused-retry policy, see README)
#        tests/bench/run-bench.sh --storm [--clients ..] [--servers ..] [--connect-timer MS]
#            (qnetd listens, every TLS client connects at once with qdevice's pacing; time
#            to every vote, qnetd CPU per handshake against the public-key floor; README)
# Environment: QNETD_BIN, DEBIAN_QNETD, BENCH_BIN, QNETD_CERTUTIL, QDEVICE_CERTUTIL,
#   BENCH_RATE / BENCH_INFLIGHT (plaintext connects/s and handshakes at once, 1000 / 200),
#   BENCH_TLS_RATE / BENCH_TLS_INFLIGHT (TLS, 100 / 16), BENCH_WORKERS (2),
#   BENCH_EXTRA (more qnetd-bench options), SERVER_EXTRA (more options for both daemons),
#   BENCH_RAMP_TIMEOUT (s to connect everybody, 300; TLS 10,000 needs ~700 here without
#   workers), OURS_WORKERS (our qnetd's -S worker_processes, 1; --storm runs ours with 1
#   process and, when > 1, again with this many), STORM_TIMEOUT (s until every vote, 300),
#   NSS_FLOOR_BIN (the NSS floor program, built by make bench), BENCH_CLIENT_KEY (--storm:
#   rsa, as qdevice-net-certutil makes them, or ec, which saves the load generator's CPU).

set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${QNETD_BIN:=$TOP/build/qnetd/qnetd}"
: "${DEBIAN_QNETD:=/usr/bin/corosync-qnetd}"
: "${BENCH_BIN:=$TOP/build/tests/bench/qnetd-bench}"
: "${QNETD_CERTUTIL:=$TOP/certs/qnetd-certutil}"
: "${QDEVICE_CERTUTIL:=$TOP/certs/qdevice-net-certutil}"
: "${BENCH_RATE:=1000}"
: "${BENCH_INFLIGHT:=200}"
: "${BENCH_TLS_RATE:=100}"
: "${BENCH_TLS_INFLIGHT:=16}"
: "${BENCH_WORKERS:=2}"
: "${BENCH_EXTRA:=}"
: "${SERVER_EXTRA:=}"
: "${BENCH_RAMP_TIMEOUT:=300}"
: "${OURS_WORKERS:=1}"	# our qnetd's -S worker_processes
: "${STORM_TIMEOUT:=300}"
: "${BENCH_CLIENT_KEY:=rsa}"	# --storm: rsa (as qdevice-net-certutil) or ec (a cheaper load generator)
: "${NSS_FLOOR_BIN:=$(dirname "$BENCH_BIN")/nss-floor}"

CLIENTS="1000 5000 10000 20000"
MODES="plain tls"
SERVERS="ours debian"
DURATION=30
NODES=2
HB_MS=1000
PART_EVERY=5
OUT=""
KEEP=0
TABLE_FROM=""
FAILOVER_GAP=""			# --failover: seconds between the kill and the new qnetd
POLICIES="500-1500 8000"	# refused-connect retry: ours, upstream's connect timer
STORM=0				# --storm: everybody connects at once to a listening qnetd
CONNECT_TIMER=60000		# --storm: qdevice's connect timer (8000 there); long to measure throughput
CLUSTER_SUFFIX=.bench.test	# the client certificate is for *.bench.test

usage() {
	sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick)	CLIENTS="500 2000"; DURATION=10;;
	--clients)	CLIENTS=$2; shift;;
	--modes)	MODES=$2; shift;;
	--servers)	SERVERS=$2; shift;;
	--duration)	DURATION=$2; shift;;
	--nodes)	NODES=$2; shift;;
	--hb-ms)	HB_MS=$2; shift;;
	--partition-every) PART_EVERY=$2; shift;;
	--out)		OUT=$2; shift;;
	--keep)		KEEP=1;;
	--table-from)	TABLE_FROM=$2; shift;;
	--failover)	FAILOVER_GAP=$2; shift;;
	--policies)	POLICIES=$2; shift;;
	--storm)	STORM=1;;
	--connect-timer) CONNECT_TIMER=$2; shift;;
	-h|--help)	usage 0;;
	*)		echo "run-bench.sh: unknown option $1" >&2; usage 2;;
	esac
	shift
done

log() { printf '# %s %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "run-bench.sh: $*" >&2; exit 1; }
# add_once VAR WORD: WORD appended to the space-separated list in VAR unless it is there
add_once() { case " ${!1} " in *" $2 "*) ;; *) printf -v "$1" '%s %s' "${!1}" "$2";; esac; }

server_bin() {
	case $1 in
	ours|ours-w*)	echo "$QNETD_BIN";;
	debian)	echo "$DEBIAN_QNETD";;
	*)	die "unknown server $1 (ours, ours-wN, debian)";;
	esac
}

# ---- table ----
declare -A R	# "server/mode/clients/key" -> value
val() { echo "${R[$1/$2/$3/$4]:--}"; }

# ratio A B: A/B with 2 digits ("-" if either is missing or B is 0)
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) { print "-"; exit }
		printf "%.2f", a / b }'
}

COLS="connected hs_per_s rtt_p50_ms rtt_p99_ms dec_p50_ms dec_p99_ms cpu_pct us_per_echo sys_us_per_echo kib_per_client missed errors"
HEAD="| mode | clients | server | connected | handshakes/s | HB RTT p50 ms | HB RTT p99 ms | decision p50 ms | decision p99 ms | qnetd CPU % | CPU us/echo | of it kernel | RSS KiB/client | echoes missed | errors |"

# load_result SERVER MODE CLIENTS FILE: the RESULT line of one qnetd-bench run
load_result() {
	local line kv
	line=$(grep '^RESULT ' "$4")
	for kv in ${line#RESULT }; do
		R["$1/$2/$3/${kv%%=*}"]=${kv#*=}
	done
}

print_table() {
	local mode n m srv row
	echo "qnetd-bench: ours ($QNETD_BIN) vs Debian ($DEBIAN_QNETD)"
	echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, kernel $(uname -r)"
	if [ -z "$TABLE_FROM" ]; then
		echo "$NODES nodes per cluster, heartbeat $HB_MS ms, ${DURATION} s window, membership change every $PART_EVERY s in 10% of the clusters"
	else
		echo "runs kept in $TABLE_FROM"
	fi
	echo "ratio = ours / debian (latency, CPU, memory: lower is better; handshakes/s: higher is better)"
	echo
	echo "$HEAD"
	echo "$HEAD" | sed -e 's/[^|]\{1,\}|/---|/g'
	for mode in $MODES; do
		for n in $CLIENTS; do
			for srv in $SERVERS; do
				row="| $mode | $n | $srv |"
				for m in $COLS; do row="$row $(val "$srv" "$mode" "$n" "$m") |"; done
				echo "$row"
			done
			if [[ " $SERVERS " == *" ours "* && " $SERVERS " == *" debian "* ]]; then
				row="| $mode | $n | ratio |"
				for m in $COLS; do
					row="$row $(ratio "$(val ours "$mode" "$n" "$m")" "$(val debian "$mode" "$n" "$m")") |"
				done
				echo "$row"
			fi
		done
	done
}

# ---- reconnect storm (issue 18) ----

# measure_floor TAG: the public-key floor of one full TLS handshake on
# qnetd's side, on this machine now, one process, CPU time: openssl's
# (`openssl speed`: sign/s and verify/s of RSA-2048 and ECDSA P-256, ECDH
# P-256 and X25519 derives/s) and NSS's own (nss-floor, with qnetd's keys).
# floor = 1 sign (server key) + 1 verify (CA key: the client certificate's
# signature) + 1 verify (client key: its CertificateVerify) + 1 ECDH, for
# P-256 and X25519; pick_floor takes the group the handshakes negotiated.
measure_floor() {
	local client=rsa
	certutil -L -d "$WORK/node-db-0" -n "Cluster Cert" 2>/dev/null | grep -qi 'elliptic curve' && client=ec
	{
		openssl speed -seconds 2 rsa2048 ecdsap256 ecdhp256 ecdhx25519 2>/dev/null
		"$NSS_FLOOR_BIN" -d "$WORK/qnetd-db" -k "$client" -c 300
	} >"$WORK/$1.floor.txt" 2>&1
	parse_floor "$1"
	log "$1: keys server $(val2 "$1" server_key), CA $(val2 "$1" ca_key), client $client; floor P-256 / X25519: openssl $(val2 "$1" floor_ossl_p256_ms) / $(val2 "$1" floor_ossl_x25519_ms) ms, NSS $(val2 "$1" floor_nss_p256_ms) / $(val2 "$1" floor_nss_x25519_ms) ms"
}

# parse_floor TAG: the figures of $WORK/TAG.floor.txt into R
parse_floor() {
	local tag=$1 f=$WORK/$1.floor.txt line kv g sk ck lk rsa_s rsa_v ec_s ec_v p256 x25519
	read -r rsa_s rsa_v < <(awk '/^rsa 2048 bits/ { print $(NF - 1), $NF }' "$f")
	read -r ec_s ec_v < <(awk '/ecdsa \(nistp256\)/ { print $(NF - 1), $NF }' "$f")
	p256=$(awk '/ecdh \(nistp256\)/ { print $NF }' "$f")
	x25519=$(awk '/ecdh \(X25519\)/ { print $NF }' "$f")
	line=$(grep '^FLOOR ' "$f")
	for kv in ${line#FLOOR }; do R["$tag/${kv%%=*}"]=${kv#*=}; done
	if [ -z "$rsa_v" ] || [ -z "$ec_v" ] || [ -z "$p256" ] || [ -z "$x25519" ] || [ -z "$line" ]; then
		log "$tag: no openssl speed or nss-floor figures (see $f)"
		return
	fi
	# ms per op of the key types nss-floor found
	sk=$(awk -v t="$(val2 "$tag" server_key)" -v r="$rsa_s" -v e="$ec_s" 'BEGIN { printf "%.4f", 1000 / (t == "ec" ? e : r) }')
	ck=$(awk -v t="$(val2 "$tag" ca_key)" -v r="$rsa_v" -v e="$ec_v" 'BEGIN { printf "%.4f", 1000 / (t == "ec" ? e : r) }')
	lk=$(awk -v t="$(val2 "$tag" client_key)" -v r="$rsa_v" -v e="$ec_v" 'BEGIN { printf "%.4f", 1000 / (t == "ec" ? e : r) }')
	for g in p256 x25519; do
		R["$tag/floor_ossl_${g}_ms"]=$(awk -v a="$sk" -v b="$ck" -v c="$lk" \
		    -v e="$([ $g = p256 ] && echo "$p256" || echo "$x25519")" \
		    'BEGIN { printf "%.3f", a + b + c + 1000 / e }')
	done
	R["$tag/ossl_per_s"]="rsa2048-sign:$rsa_s,rsa2048-verify:$rsa_v,ecdsap256-sign:$ec_s,ecdsap256-verify:$ec_v,ecdhp256:$p256,ecdhx25519:$x25519"
}

val2() { echo "${R[$1/$2]:--}"; }

# pick_floor TAG: floor_ossl_ms and floor_nss_ms for the group the run negotiated
pick_floor() {
	local g
	case $(val2 "$1" tls_group) in
	29)	g=x25519;;
	*)	g=p256;;	# secp256r1 (23), or nothing was negotiated
	esac
	R["$1/floor_group"]=$g
	R["$1/floor_ossl_ms"]=$(val2 "$1" "floor_ossl_${g}_ms")
	if [ "$g" = x25519 ]; then
		R["$1/floor_nss_ms"]=$(val2 "$1" floor_nss_x25519_ms)
	else
		R["$1/floor_nss_ms"]=$(val2 "$1" floor_nss_p256_ms)
	fi
}


# run_storm CLIENTS SERVER: qnetd listens; every client connects at once
# (no rate or in-flight cap in the bench), retries paced as qdevice's
# (refused: 0.5-1.5 s, lost: random() % 4.5 s, connect timer CONNECT_TIMER);
# the floor is measured just before, on the same machine.
run_storm() {
	local n=$1 srv=$2 port tag clusters adv="" procs=1 out rc w
	RUN=$((RUN + 1))
	port=$((PORT + RUN))
	while listening "$port"; do port=$((port + 1)); done
	case $srv in
	ours-w*)	w=${srv#ours-w}; adv=",worker_processes=$w"; procs=$w
			[ "$BENCH_WORKERS" -lt "$procs" ] && procs=$BENCH_WORKERS;;
	esac
	tag="storm-$srv-$n"
	clusters=$(((n + NODES - 1) / NODES))
	if [ $((clusters * NODES / procs + 100)) -gt "$FD_LIMIT" ]; then
		clusters=$(((FD_LIMIT - 100) * procs / NODES))
		log "$tag: only $((clusters * NODES)) clients fit the open files limit"
	fi
	R["$tag/run_clients"]=$((clusters * NODES))
	measure_floor "$tag"
	start_server "$srv" "$tag" "$port" "$adv"
	if ! wait_listening "$port"; then
		log "$tag: qnetd did not start"; tail -5 "$WORK/$tag.server.log" >&2
		stop_server; return
	fi
	log "$tag: $(server_bin "$srv") pid $SERVER_PID on port $port, $((clusters * NODES)) TLS clients at once, connect timer $CONNECT_TIMER ms, load $(cut -d' ' -f1 /proc/loadavg)"
	out=$WORK/$tag.bench.txt
	# shellcheck disable=SC2086
	timeout $((STORM_TIMEOUT + 120)) "$BENCH_BIN" --host 127.0.0.1 --port "$port" \
	    --clusters "$clusters" --nodes "$NODES" --hb-ms "$HB_MS" --tls \
	    --nssdb "$WORK/node-db-%u" --partition-every 0 --workers "$BENCH_WORKERS" \
	    --cluster-suffix "$CLUSTER_SUFFIX" --qnetd-pid "$SERVER_PID" --storm \
	    --connect-timeout-ms "$CONNECT_TIMER" --refused-retry-ms 500-1500 \
	    --failover-timeout "$STORM_TIMEOUT" $BENCH_EXTRA >"$out" 2>"$WORK/$tag.bench.err" &
	BENCH_PID=$!
	wait "$BENCH_PID"; rc=$?
	BENCH_PID=""
	[ "$rc" = 0 ] || { log "$tag: bench exit $rc"; tail -3 "$WORK/$tag.bench.err" >&2; }
	kill -0 "$SERVER_PID" 2>/dev/null || log "$tag: qnetd exited during the run: $(tail -2 "$WORK/$tag.server.log")"
	sed 's/^/    /' "$out" | grep -v RESULT >&2
	load_storm "$tag"
	log "$tag: qnetd CPU per handshake / floor ($(val2 "$tag" floor_group)): $(ratio "$(val2 "$tag" cpu_ms_per_hs)" "$(val2 "$tag" floor_ossl_ms)") x openssl's, $(ratio "$(val2 "$tag" cpu_ms_per_hs)" "$(val2 "$tag" floor_nss_ms)") x NSS's"
	stop_server
}

# load_storm TAG: the RESULT line of $WORK/TAG.bench.txt into R, and the floor to compare with
load_storm() {
	local line kv
	line=$(grep '^RESULT ' "$WORK/$1.bench.txt")
	for kv in ${line#RESULT }; do R["$1/${kv%%=*}"]=${kv#*=}; done
	[ -n "$line" ] && R["$1/run_clients"]=$(val2 "$1" clients)
	pick_floor "$1"
}

storm_label() {
	case $1 in
	ours)		echo "ours, 1 process";;
	ours-w*)	echo "ours, ${1#ours-w} worker processes";;
	debian)		echo "Debian 3.0.3";;
	*)		echo "$1";;
	esac
}

print_storm_table() {
	local n srv t
	echo "reconnect storm: qnetd listening, every TLS client ($NODES per cluster, heartbeat $HB_MS ms) connects at once; connect timer $CONNECT_TIMER ms, refused retry 0.5-1.5 s"
	echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared with the load generator ($BENCH_WORKERS workers; its CPU, the client side of every handshake, in the last column); server options: ${SERVER_EXTRA:-none (listen backlog: the default: ours 4096, Debian 10)}; net.core.somaxconn $(cat /proc/sys/net/core/somaxconn 2>/dev/null), tcp_max_syn_backlog $(cat /proc/sys/net/ipv4/tcp_max_syn_backlog 2>/dev/null), tcp_syncookies $(cat /proc/sys/net/ipv4/tcp_syncookies 2>/dev/null)"
	echo "times from the first connect; CPU/handshake = qnetd CPU (all its processes) until the last vote / TLS handshakes completed (abandoned ones included); floor = 1 sign (server key) + 1 verify (CA key) + 1 verify (client key) + 1 ECDH of the negotiated group, one core, measured before each row (RSA = 2048, EC = P-256)"
	echo
	echo "| clients | server | voted | all voted s | p50 s | p99 s | max s | handshakes/s | TLS handshakes (abandoned) | qnetd CPU s (% of a core) | CPU ms/handshake | group, keys srv/CA/client | floor openssl ms | x floor | floor NSS ms | x floor | refused | timer expiries | bench CPU s |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for n in $CLIENTS; do
		for srv in $STORM_SERVERS; do
			t="storm-$srv-$n"
			[ -n "${R[$t/run_clients]:-}" ] || continue
			awk -v c="$(val2 "$t" run_clients)" -v s="$(storm_label "$srv")" \
			    -v rv="$(val2 "$t" revoted)" -v all="$(val2 "$t" all_ms)" \
			    -v p50="$(val2 "$t" p50_ms)" -v p99="$(val2 "$t" p99_ms)" \
			    -v mx="$(val2 "$t" max_ms)" -v hs="$(val2 "$t" hs_per_s)" \
			    -v td="$(val2 "$t" tls_done)" -v ab="$(val2 "$t" tls_abandoned)" \
			    -v cpu="$(val2 "$t" qnetd_cpu_s)" -v pct="$(val2 "$t" qnetd_cpu_pct)" \
			    -v per="$(val2 "$t" cpu_ms_per_hs)" -v fo="$(val2 "$t" floor_ossl_ms)" \
			    -v fn="$(val2 "$t" floor_nss_ms)" -v rf="$(val2 "$t" refused)" \
			    -v to="$(val2 "$t" timeouts)" -v bc="$(val2 "$t" bench_cpu_s)" -v g="$(val2 "$t" floor_group), $(val2 "$t" server_key)/$(val2 "$t" ca_key)/$(val2 "$t" client_key)" '
			    function s_(x) { return x == "-" ? x : sprintf("%.1f", x / 1000) }
			    function r_(a, b) { return (a == "-" || b == "-" || b + 0 <= 0 || a + 0 < 0) ? "-" : sprintf("%.1f", a / b) }
			    BEGIN {
				voted = (rv == "-") ? "-" : rv (rv + 0 < c + 0 ? " of " c : "")
				if (rv != "-" && rv + 0 < c + 0) all = "-"
				printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s (%s) | %s (%s%%) | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				    c, s, voted, s_(all), s_(p50), s_(p99), s_(mx), hs, td, ab, cpu, pct,
				    per, g, fo, r_(per, fo), fn, r_(per, fn), rf, to, bc }'
		done
	done
}

# --table-from: only print the table of an earlier run kept with --keep
if [ -n "$TABLE_FROM" ] && compgen -G "$TABLE_FROM/storm-*.bench.txt" >/dev/null; then
	WORK=$TABLE_FROM CLIENTS="" STORM_SERVERS=""
	for f in "$TABLE_FROM"/storm-*.bench.txt; do
		t=$(basename "$f" .bench.txt)
		n=${t##*-} srv=${t#storm-} srv=${srv%-*}
		parse_floor "$t"
		load_storm "$t"
		add_once CLIENTS "$n"
		add_once STORM_SERVERS "$srv"
	done
	CLIENTS=$(tr ' ' '\n' <<<"$CLIENTS" | sort -n | xargs)
	# ours, then ours-wN by N, then the rest (debian)
	STORM_SERVERS=$(tr ' ' '\n' <<<"$STORM_SERVERS" | awk 'NF { k = $0 == "ours" ? 0 : $0 ~ /^ours-w/ ? 1 : 2
	    printf "%d %09d %s\n", k, k == 1 ? substr($0, 7) : 0, $0 }' | sort | cut -d' ' -f3 | xargs)
	HB_MS=$(grep -o 'heartbeat [0-9]*' "$f" | head -1 | cut -d' ' -f2)
	CONNECT_TIMER=$(val2 "$t" connect_timer_ms) SERVER_EXTRA="(see the run's log)"
	print_storm_table
	exit 0
fi
if [ -n "$TABLE_FROM" ]; then
	declare -A R
	CLIENTS="" MODES="" SERVERS=""
	for f in "$TABLE_FROM"/*.bench.txt; do
		[ -f "$f" ] || die "no *.bench.txt in $TABLE_FROM"
		t=$(basename "$f" .bench.txt)
		IFS=- read -r srv mode n <<<"$t"
		load_result "$srv" "$mode" "$n" "$f"
		add_once CLIENTS "$n"
		add_once MODES "$mode"
		add_once SERVERS "$srv"
	done
	CLIENTS=$(tr ' ' '\n' <<<"$CLIENTS" | sort -n | xargs)
	MODES=$(tr ' ' '\n' <<<"$MODES" | sort | xargs)
	SERVERS=$(tr ' ' '\n' <<<"$SERVERS" | sort -r | xargs)
	print_table
	exit 0
fi

# ---- checks ----
for s in $SERVERS; do
	[ -x "$(server_bin "$s")" ] || die "$s server $(server_bin "$s") is not executable"
done
if [ ! -x "$BENCH_BIN" ] || { [ "$STORM" = 1 ] && [ ! -x "$NSS_FLOOR_BIN" ]; }; then
	log "building qnetd-bench and nss-floor (make -C $TOP/build bench)"
	make -C "$TOP/build" bench >/dev/null || die "cannot build $BENCH_BIN"
fi
[ "$STORM" = 0 ] || [ -x "$NSS_FLOOR_BIN" ] || die "no $NSS_FLOOR_BIN (make bench builds it)"
[ "$STORM" = 0 ] || command -v openssl >/dev/null || die "openssl is needed for the storm's floor"
for m in $MODES; do
	case $m in plain|tls) ;; *) die "unknown mode $m (plain, tls)";; esac
done
command -v ss >/dev/null || die "ss (iproute2) is needed"

# One connection = one fd in qnetd (and one in a bench worker); root may raise
# the hard limit, a container without CAP_SYS_RESOURCE may not: then counts
# above the limit are lowered to fit (and the table shows the real count).
max_clients=0
for n in $CLIENTS; do [ "$n" -gt "$max_clients" ] && max_clients=$n; done
want_fds=$((max_clients + 256))
if [ "$(ulimit -n)" -lt "$want_fds" ]; then
	ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
FD_LIMIT=$(ulimit -n)
[ "$FD_LIMIT" -ge "$want_fds" ] ||
	log "open files limit is $FD_LIMIT (hard $(ulimit -Hn)): client counts are capped at $((FD_LIMIT - 100))"

# ---- temp dir and cleanup ----
WORK=$(mktemp -d /tmp/qnetd-bench.XXXXXX) || die "mktemp failed"
SERVER_PID=""
BENCH_PID=""

stop_server() {
	local pid=$SERVER_PID
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	SERVER_PID=""
}

cleanup() {
	if [ -n "$BENCH_PID" ]; then
		kill -TERM "$BENCH_PID" 2>/dev/null
		wait "$BENCH_PID" 2>/dev/null
	fi
	stop_server
	if [ "$KEEP" = 1 ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'log terminated; exit 143' TERM

# ---- certificates (docs/protocol.md 6): one CA, the server cert, one cluster cert ----
# qnetd matches the cluster name byte for byte (no wildcards), so the one
# cluster certificate lists every simulated cluster "cNNNNNN.bench.test" as
# a DNS alternative name (signed here with certutil -8, which
# qnetd-certutil -s does not offer). One argument holds at most 128 KiB:
# about 6,500 names; more clusters than that fail the name check.
make_certs() {
	local q=$WORK/qnetd-db n=$WORK/node-db names max_cl=0 c
	for c in $CLIENTS; do [ $(((c + NODES - 1) / NODES)) -gt "$max_cl" ] && max_cl=$(((c + NODES - 1) / NODES)); done
	# (--storm gives each bench worker its own certificate below)
	[ "$max_cl" -gt 6500 ] && { [ "$STORM" = 1 ] || log "only the first 6500 clusters get a name in the certificate"; max_cl=6500; }
	names=$(awk -v n="$max_cl" -v s="$CLUSTER_SUFFIX" 'BEGIN { for (i = 0; i < n; i++) printf "%sc%06d%s", i ? "," : "", i, s }')
	log "creating certificates in $WORK"
	"$QNETD_CERTUTIL" -i -d "$q" >"$WORK/certs.log" 2>&1 &&
	"$QDEVICE_CERTUTIL" -i -c "$q/qnetd-cacert.crt" -d "$n" >>"$WORK/certs.log" 2>&1 &&
	"$QDEVICE_CERTUTIL" -r -n "bench$CLUSTER_SUFFIX" -d "$n" >>"$WORK/certs.log" 2>&1 &&
	certutil -C -c "QNet CA" -i "$n/qdevice-net-node.crq" -o "$q/cluster-bench.crt" \
	    -m 1000 -v 12 -8 "$names" -d "$q" -f "$q/pwdfile.txt" >>"$WORK/certs.log" 2>&1 &&
	"$QDEVICE_CERTUTIL" -M -c "$q/cluster-bench.crt" -d "$n" \
	    >>"$WORK/certs.log" 2>&1 ||
		{ cat "$WORK/certs.log" >&2; die "certificate setup failed"; }
	[ "$STORM" = 1 ] && make_worker_certs
}

# --storm: one client DB per bench worker (qnetd-bench --nssdb DIR-%u), its
# certificate naming only that worker's clusters (worker i has clusters i,
# i + W, ...): 20,000 clients fit (10,000 names would not fit one argument)
# and each handshake carries 1/W of the names.
make_worker_certs() {
	local q=$WORK/qnetd-db i d names max_cl=0 c
	for c in $CLIENTS; do [ $(((c + NODES - 1) / NODES)) -gt "$max_cl" ] && max_cl=$(((c + NODES - 1) / NODES)); done
	for ((i = 0; i < BENCH_WORKERS; i++)); do
		d=$WORK/node-db-$i
		names=$(awk -v n="$max_cl" -v w="$BENCH_WORKERS" -v i="$i" -v s="$CLUSTER_SUFFIX" \
		    'BEGIN { for (k = i; k < n; k += w) printf "%sc%06d%s", (k > i ? "," : ""), k, s }')
		[ -n "$names" ] || continue	# more workers than clusters
		[ ${#names} -lt 120000 ] || die "too many clusters per bench worker: raise BENCH_WORKERS"
		"$QDEVICE_CERTUTIL" -i -c "$q/qnetd-cacert.crt" -d "$d" >>"$WORK/certs.log" 2>&1 &&
		if [ "$BENCH_CLIENT_KEY" = ec ]; then
			# as qdevice-net-certutil -r, with a P-256 key (README "Reconnect storm")
			certutil -R -s "CN=bench-w$i$CLUSTER_SUFFIX" -o "$d/qdevice-net-node.crq" -d "$d" \
			    -f "$d/pwdfile.txt" -z "$d/noise.txt" -k ec -q nistp256 >>"$WORK/certs.log" 2>&1
		else
			"$QDEVICE_CERTUTIL" -r -n "bench-w$i$CLUSTER_SUFFIX" -d "$d" >>"$WORK/certs.log" 2>&1
		fi &&
		certutil -C -c "QNet CA" -i "$d/qdevice-net-node.crq" -o "$q/cluster-bench-w$i.crt" \
		    -m $((1001 + i)) -v 12 -8 "$names" -d "$q" -f "$q/pwdfile.txt" >>"$WORK/certs.log" 2>&1 &&
		"$QDEVICE_CERTUTIL" -M -c "$q/cluster-bench-w$i.crt" -d "$d" >>"$WORK/certs.log" 2>&1 ||
			{ cat "$WORK/certs.log" >&2; die "certificate setup for bench worker $i failed"; }
	done
	log "storm: $BENCH_WORKERS client DBs, a certificate each for its worker's clusters"
}
make_certs	# the servers want their DB for "-s on" even in plaintext runs

# ---- one run ----
PORT=$((21000 + (RANDOM % 400) * 20))	# below the ephemeral range, rarely in use
RUN=0

listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# run_one MODE CLIENTS SERVER
run_one() {
	local mode=$1 n=$2 srv=$3 bin port tag clusters tlsopt out rate inflight procs adv
	bin=$(server_bin "$srv")
	RUN=$((RUN + 1))
	port=$((PORT + RUN))
	while listening "$port"; do port=$((port + 1)); done
	tag="$srv-$mode-$n"
	clusters=$(((n + NODES - 1) / NODES))
	# The limit is per process: our workers (and the bench's) each hold a share.
	procs=1 adv=""
	if [ "$srv" = ours ] && [ "$OURS_WORKERS" -gt 1 ]; then
		procs=$OURS_WORKERS adv=",worker_processes=$OURS_WORKERS"
		[ "$BENCH_WORKERS" -lt "$procs" ] && procs=$BENCH_WORKERS
	fi
	if [ $((clusters * NODES / procs + 100)) -gt "$FD_LIMIT" ]; then
		clusters=$(((FD_LIMIT - 100) * procs / NODES))
		log "$tag: only $((clusters * NODES)) clients fit the open files limit"
	fi
	# shellcheck disable=SC2086
	"$bin" -f -l 127.0.0.1 -p "$port" -s on -c on $SERVER_EXTRA \
	    -S "nss_db_dir=$WORK/qnetd-db,lock_file=$WORK/$tag.pid,local_socket_file=$WORK/$tag.sock$adv" \
	    >"$WORK/$tag.server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		listening "$port" && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! listening "$port"; then
		log "$tag: server did not start"; tail -5 "$WORK/$tag.server.log" >&2
		stop_server
		return
	fi
	if [ "$mode" = tls ]; then
		tlsopt=--tls rate=$BENCH_TLS_RATE inflight=$BENCH_TLS_INFLIGHT
	else
		tlsopt=--no-tls rate=$BENCH_RATE inflight=$BENCH_INFLIGHT
	fi
	log "$tag: $bin on port $port, $clusters clusters x $NODES nodes, $DURATION s"
	out=$WORK/$tag.bench.txt
	# in the background, so that a signal to this script is handled at once
	# shellcheck disable=SC2086
	timeout $((DURATION + BENCH_RAMP_TIMEOUT + 300)) "$BENCH_BIN" --host 127.0.0.1 --port "$port" \
	    --clusters "$clusters" --nodes "$NODES" --hb-ms "$HB_MS" --duration "$DURATION" \
	    $tlsopt --nssdb "$WORK/node-db" --qnetd-pid "$SERVER_PID" \
	    --partition-every "$PART_EVERY" --workers "$BENCH_WORKERS" --rate "$rate" \
	    --inflight "$inflight" --ramp-timeout "$BENCH_RAMP_TIMEOUT" \
	    --cluster-suffix "$CLUSTER_SUFFIX" $BENCH_EXTRA >"$out" 2>"$WORK/$tag.bench.err" &
	BENCH_PID=$!
	wait "$BENCH_PID"
	BENCH_PID=""
	sed 's/^/    /' "$out" | grep -v RESULT >&2
	load_result "$srv" "$mode" "$n" "$out"
	stop_server
}

# start_server SERVER TAG PORT EXTRA_S: a daemon in the background, SERVER_PID set;
# 0 once it listens
start_server() {
	local bin
	bin=$(server_bin "$1")
	# shellcheck disable=SC2086
	"$bin" -f -l 127.0.0.1 -p "$3" -s on -c on $SERVER_EXTRA \
	    -S "nss_db_dir=$WORK/qnetd-db,lock_file=$WORK/$2.pid,local_socket_file=$WORK/$2.sock$4" \
	    >"$WORK/$2.server.log" 2>&1 &
	SERVER_PID=$!
}

wait_listening() {
	for _ in $(seq 1 200); do
		listening "$1" && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# run_failover CLIENTS SERVER POLICY: qnetd A serves every client until all
# hold ACK; A is SIGKILLed (a dead host), and GAP s later qnetd B starts on
# the same address and port with the same NSS DB (the floating address has
# moved); the bench times every client's vote back from B's first connect.
run_failover() {
	local n=$1 srv=$2 policy=$3 port tag clusters adv="" out ready rc
	RUN=$((RUN + 1))
	port=$((PORT + RUN))
	while listening "$port"; do port=$((port + 1)); done
	[ "$srv" = ours ] && [ "$OURS_WORKERS" -gt 1 ] && adv=",worker_processes=$OURS_WORKERS"
	tag="failover-$srv-$n-$policy"
	clusters=$(((n + NODES - 1) / NODES))
	ready=$WORK/$tag.ready
	start_server "$srv" "$tag-a" "$port" "$adv"
	if ! wait_listening "$port"; then
		log "$tag: qnetd A did not start"; tail -5 "$WORK/$tag-a.server.log" >&2
		stop_server; return
	fi
	log "$tag: A pid $SERVER_PID on port $port, $n TLS clients, refused retry $policy ms, gap $FAILOVER_GAP s"
	out=$WORK/$tag.bench.txt
	# shellcheck disable=SC2086
	timeout $((BENCH_RAMP_TIMEOUT + 400)) "$BENCH_BIN" --host 127.0.0.1 --port "$port" \
	    --clusters "$clusters" --nodes "$NODES" --hb-ms "$HB_MS" --tls \
	    --nssdb "$WORK/node-db" --partition-every 0 --workers "$BENCH_WORKERS" \
	    --rate "$BENCH_TLS_RATE" --inflight "$BENCH_TLS_INFLIGHT" \
	    --ramp-timeout "$BENCH_RAMP_TIMEOUT" --cluster-suffix "$CLUSTER_SUFFIX" \
	    --failover --failover-ready-file "$ready" --failover-pid-file "$WORK/$tag.b-pid" \
	    --refused-retry-ms "$policy" $BENCH_EXTRA >"$out" 2>"$WORK/$tag.bench.err" &
	BENCH_PID=$!
	for _ in $(seq 1 $(((BENCH_RAMP_TIMEOUT + 150) * 10))); do
		[ -e "$ready" ] && break
		kill -0 "$BENCH_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -e "$ready" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null	# the host dies: no FIN from qnetd's side
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=""
		sleep "$FAILOVER_GAP"
		start_server "$srv" "$tag-b" "$port" "$adv"
		echo "$SERVER_PID" >"$WORK/$tag.b-pid"
	fi
	wait "$BENCH_PID"; rc=$?
	BENCH_PID=""
	[ "$rc" = 0 ] || { log "$tag: bench exit $rc"; tail -3 "$WORK/$tag.bench.err" >&2; }
	sed 's/^/    /' "$out" | grep -v RESULT >&2
	load_result "$srv" "$policy" "$n" "$out"
	stop_server
}

print_failover_table() {
	local n srv p
	echo "failover: TLS clients ($NODES per cluster, heartbeat $HB_MS ms), qnetd killed, new qnetd on the same address after $FAILOVER_GAP s; $(nproc) CPUs shared with the load generator"
	echo "times from the new qnetd's first accepted TCP connect; 'refused retry' = pause after a refused connect (8000 = upstream qdevice's connect timer)"
	echo
	echo "| clients | server | refused retry ms | re-voted | all back s | p50 s | p99 s | max s | handshakes/s | new qnetd CPU s | CPU % | refused connects | bench CPU s |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for n in $CLIENTS; do
		for srv in $SERVERS; do
			for p in $POLICIES; do
				awk -v c="$n" -v s="$srv" -v p="$p" -v rv="$(val "$srv" "$p" "$n" revoted)" \
				    -v all="$(val "$srv" "$p" "$n" all_ms)" -v p50="$(val "$srv" "$p" "$n" p50_ms)" \
				    -v p99="$(val "$srv" "$p" "$n" p99_ms)" -v mx="$(val "$srv" "$p" "$n" max_ms)" \
				    -v hs="$(val "$srv" "$p" "$n" hs_per_s)" -v cpu="$(val "$srv" "$p" "$n" qnetd_cpu_s)" \
				    -v pct="$(val "$srv" "$p" "$n" qnetd_cpu_pct)" -v rf="$(val "$srv" "$p" "$n" refused)" \
				    -v bc="$(val "$srv" "$p" "$n" bench_cpu_s)" 'function s_(x) { return x == "-" ? x : sprintf("%.2f", x / 1000) }
				    BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				        c, s, p, rv, s_(all), s_(p50), s_(p99), s_(mx), hs, cpu, pct, rf, bc }'
			done
		done
	done
}

# each LIST... -- RUN ARG...: RUN ARG... W1 W2 ... for every choice of a word Wi of each
# LIST, the first LIST outermost (the order of the runs is the order of the table's rows).
each() {
	local list=$1 w
	shift
	[ "$list" = -- ] && { "$@"; return; }
	for w in $list; do
		each "$@" "$w"
	done
}

# runs LABEL NOTE TABLE LIST... -- RUN: RUN for every combination of the LISTs' words
# (each) between two load readings, then TABLE's table on stdout and, with --out, in
# that file.
runs() {
	local label=$1 note=$2 table=$3
	shift 3
	log "$label: load $(cut -d' ' -f1-3 /proc/loadavg) before start; $(nproc) CPUs$note"
	each "$@"
	log "$label: load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	if [ -n "$OUT" ]; then "$table" | tee "$OUT"; else "$table"; fi
}

if [ "$STORM" = 1 ]; then
	[ "$HB_MS" = 1000 ] && HB_MS=8000	# qdevice's default heartbeat (0.8 x 10 s)
	STORM_SERVERS=""
	for srv in $SERVERS; do
		# STORM_WORKERS_ONLY=1: ours only with its workers (one process holding
		# 10,000+ TLS connections takes minutes: README "Capacity")
		[ "$srv" = ours ] && [ "${STORM_WORKERS_ONLY:-0}" = 1 ] && [ "$OURS_WORKERS" -gt 1 ] ||
			STORM_SERVERS="$STORM_SERVERS $srv"
		[ "$srv" = ours ] && [ "$OURS_WORKERS" -gt 1 ] && STORM_SERVERS="$STORM_SERVERS ours-w$OURS_WORKERS"
	done
	runs storm "; servers$STORM_SERVERS" print_storm_table "$CLIENTS" "$STORM_SERVERS" -- run_storm
elif [ -n "$FAILOVER_GAP" ]; then
	[ "$HB_MS" = 1000 ] && HB_MS=8000	# qdevice's default heartbeat (0.8 x 10 s)
	runs failover "" print_failover_table "$CLIENTS" "$SERVERS" "$POLICIES" -- run_failover
else
	runs bench "" print_table "$MODES" "$CLIENTS" "$SERVERS" -- run_one
fi
