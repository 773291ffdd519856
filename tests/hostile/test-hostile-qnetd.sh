#!/bin/bash
# tests/hostile/test-hostile-qnetd.sh: hostile clients against our qnetd (TLS on, client
# certificates required) while a REAL 2-node corosync cluster with Debian's
# corosync-qdevice is connected to it (lab of tests/e2e/lib.sh, 198.18.0.0/15 only).
#
# Each case is one run of qnet-hostile.py inside the arbiter's namespace and asserts the
# expected reply or disconnect; after each, qnetd must be alive, `qnetd-tool -s` must
# answer and both real nodes must still count 3 votes. At the end the real cluster must
# have kept its 3 votes (lab_settled), its two qdevice connections must be the very same
# ones as before the first case, and qnetd must exit cleanly on SIGTERM with no sanitizer
# report in its log (meaningful when QNETD_BIN is a --enable-sanitizers build).
# A second qnetd (-s off, another port, only OFF_NOFILE descriptors) serves the STARTTLS
# case and the descriptor exhaustion case.
#
# Needs root, python3, openssl and what tests/e2e/README.md lists. Binaries as for the e2e
# tests (QNETD_BIN, QNETD_TOOL, ...; default: the build in $QNET_BUILD or ./build).
# Last line: "N passed, M failed".

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS="qnetd certutil"
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
export QNETD_BIN QNETD_TOOL QNETD_CERTUTIL QDEVICE_CERTUTIL

HOSTILE=$HERE/qnet-hostile.py
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
OFF_PORT=$((LAB_QNETD_PORT + 1))	# a second qnetd, TLS off, same arbiter
OFF_LOCK=/run/corosync-qnetd/qnetd-off.pid
OFF_SOCK=/run/corosync-qnetd/qnetd-off.sock
OFF_NOFILE=128
OTHER_CLUSTER=hostile-b
IDLE_COUNT=${HOSTILE_IDLE_COUNT:-1000}
RSS_GROWTH_KB=${HOSTILE_RSS_GROWTH_KB:-32768}	# bound for the never-reading client

both_full=("n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=3")

command -v openssl >/dev/null || { echo "not ok - setup: openssl not found (apt-get install openssl)"; echo "0 passed, 1 failed"; exit 1; }
"$PY" -c 'import ssl' 2>/dev/null || { echo "not ok - setup: $PY has no ssl module"; echo "0 passed, 1 failed"; exit 1; }
# 1000 idle connections: qnetd (started from here) and the client need the descriptors.
(( $(ulimit -Hn) >= 4096 )) && ulimit -n 4096

# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

qnetd_pid() { echo "${LAB_PID[arb/qnetd]:-0}"; }

qnetd_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$(qnetd_pid)/status" 2>/dev/null
}

# hostile CASE ARGS...: run the client in the arbiter's namespace; its lines become
# diagnostics; the status is the client's.
hostile() {
	local out rc
	out=$(lab_exec arb timeout 90 "$PY" "$HOSTILE" --host "$LAB_ARB_ADDR" \
	    --port "$LAB_QNETD_PORT" --cluster "$LAB_CLUSTER" "$@" 2>&1)
	rc=$?
	sed 's/^/#   /' <<<"$out"
	return "$rc"
}

# The server survived and the real cluster did not notice.
still_fine() {
	local bad=0
	lab_running arb qnetd || { echo "# qnetd is gone"; bad=1; }
	lab_qnetd_tool -s >/dev/null 2>&1 || { echo "# qnetd-tool -s does not answer"; bad=1; }
	lab_state n1 quorate=yes votes=3 || { echo "# n1: $(_lab_q_summary)"; bad=1; }
	lab_state n2 quorate=yes votes=3 || { echo "# n2: $(_lab_q_summary)"; bad=1; }
	return "$bad"
}

_case_run() { hostile "$@" && still_fine; }

# hostile_case DESCRIPTION CASE ARGS...: one check per case (reply and survival).
hostile_case() {
	local desc=$1
	shift
	check "$desc" _case_run "$@"
}

# The real qdevices' connections ("addr:port" of every e2e client, sorted).
real_clients() {
	lab_qnetd_tool -l -c "$LAB_CLUSTER" 2>/dev/null |
		awk -F'\t+' '/Client address:/ { print $2 }' | sort | tr '\n' ' '
}

# PEM files for Python's ssl: the real cluster's certificate and key (the p12 that
# qdevice-net-certutil exported) and a certificate of the same CA for another cluster.
make_pems() {
	local c=$LAB_DIR/certs log=$LAB_DIR/logs/certs.log crt
	# the p12 also holds the CA: the leaf ("Cluster Cert") first, then its key
	{
		openssl pkcs12 -in "$c/qdevice-net-node.p12" -passin pass: -clcerts -nokeys \
		    -out "$c/real.pem" &&
			openssl pkcs12 -in "$c/qdevice-net-node.p12" -passin pass: -nocerts -nodes \
			    >>"$c/real.pem"
	} >>"$log" 2>&1 || lab_die "setup: cannot convert the cluster's p12 to PEM"
	openssl req -new -newkey rsa:2048 -nodes -keyout "$c/other.key" -subj "/CN=$OTHER_CLUSTER" \
	    -outform DER -out "$c/other.crq" >>"$log" 2>&1 ||
		lab_die "setup: openssl cannot make a certificate request"
	_lab_certstep arb "sign $OTHER_CLUSTER" "$QNETD_CERTUTIL" -s -c "$c/other.crq" -n "$OTHER_CLUSTER"
	crt=$(lab_path arb "$LAB_QNETD_DB/cluster-$OTHER_CLUSTER.crt")
	openssl x509 -inform DER -in "$crt" -out "$c/other.pem" >>"$log" 2>&1 ||
		lab_die "setup: cannot read cluster-$OTHER_CLUSTER.crt"
	cat "$c/other.key" >>"$c/other.pem"
	# A CA with our CA's name ("CN=QNet CA") but its own key, and a certificate
	# it issued for our cluster: only a signature check tells them apart.
	{
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c/fake-ca.key" \
		    -subj "/CN=QNet CA" -days 30 -addext basicConstraints=critical,CA:TRUE \
		    -out "$c/fake-ca.pem" &&
		openssl req -new -newkey rsa:2048 -nodes -keyout "$c/untrusted.key" \
		    -subj "/CN=$LAB_CLUSTER" -out "$c/untrusted.csr" &&
		openssl x509 -req -in "$c/untrusted.csr" -CA "$c/fake-ca.pem" \
		    -CAkey "$c/fake-ca.key" -set_serial 102 -days 30 -out "$c/untrusted.pem" &&
		cat "$c/untrusted.key" >>"$c/untrusted.pem"
	} >>"$log" 2>&1 || lab_die "setup: openssl cannot make the untrusted certificate"
	lab_log "PEM files ready: real.pem (cluster $LAB_CLUSTER), other.pem ($OTHER_CLUSTER)," \
	    "untrusted.pem ($LAB_CLUSTER, from another CA named QNet CA)"
}

# One counter of qnetd-tool --metrics.
metric() {
	lab_qnetd_tool --metrics 2>/dev/null | awk -v m="$1" '$1 == m { print $2 }'
}

# Client certificates verified once are remembered (common/cert-cache.h):
# the same certificate twice within a minute costs one chain verification,
# and the untrusted one, tried twice, is refused twice and never counted.
cert_cache_case() {
	local h0 v0 h1 v1
	h0=$(metric qnetd_client_cert_cache_hits_total)
	v0=$(metric qnetd_client_chains_verified_total)
	hostile own-cert --cert "$CERTS/other.pem" --cluster "$OTHER_CLUSTER" &&
		hostile own-cert --cert "$CERTS/other.pem" --cluster "$OTHER_CLUSTER" ||
		return 1
	hostile untrusted-cert --cert "$CERTS/untrusted.pem" --node 9 &&
		hostile untrusted-cert --cert "$CERTS/untrusted.pem" --node 9 || return 1
	h1=$(metric qnetd_client_cert_cache_hits_total)
	v1=$(metric qnetd_client_chains_verified_total)
	echo "# cache hits $h0 -> $h1, chains verified $v0 -> $v1"
	[[ -n $h0 && -n $v0 && -n $h1 && -n $v1 ]] &&
		((h1 - h0 >= 1 && v1 - v0 <= 1 && (h1 - h0) + (v1 - v0) == 2))
}

# The TLS-off qnetd runs with few descriptors (OFF_NOFILE), for the exhaustion case.
start_qnetd_off() {
	# shellcheck disable=SC2016
	_lab_spawn arb qnetd-off sh -c 'ulimit -n "$0" && exec "$@"' "$OFF_NOFILE" \
	    "$QNETD_BIN" -f -s off -p "$OFF_PORT" -l "$LAB_ARB_ADDR" \
	    -S "lock_file=$OFF_LOCK,local_socket_file=$OFF_SOCK"
	_lab_wait_daemon arb qnetd-off 15 \
	    eval 'lab_exec arb timeout 5 "$QNETD_TOOL" -p "$OFF_SOCK" -s >/dev/null 2>&1' ||
		lab_die "setup: the TLS-off qnetd did not come up"
}

# 1000 connections that never send: held while the tool and the real cluster are checked.
idle_case() {
	local ready=$LAB_DIR/idle.ready release=$LAB_DIR/idle.release pid t0 ms bad=0
	rm -f "$ready" "$release"
	lab_exec arb timeout 120 "$PY" "$HOSTILE" --host "$LAB_ARB_ADDR" --port "$LAB_QNETD_PORT" \
	    idle --count "$IDLE_COUNT" --pid "$(qnetd_pid)" --ready-file "$ready" \
	    --release-file "$release" --hold 60 >"$LAB_DIR/logs/hostile-idle.log" 2>&1 &
	pid=$!
	if lab_wait_until 60 test -f "$ready"; then
		t0=$(_lab_now_ms)
		lab_qnetd_tool -s >/dev/null 2>&1 || { echo "# qnetd-tool -s failed"; bad=1; }
		ms=$(( $(_lab_now_ms) - t0 ))
		echo "# with $IDLE_COUNT idle connections: qnetd-tool -s took $(_lab_ms_str "$ms")," \
		    "qnetd RSS $(qnetd_rss_kb) kB"
		(( ms < 2000 )) || { echo "# qnetd-tool -s took longer than 2 s"; bad=1; }
		lab_state n1 quorate=yes votes=3 || { echo "# n1: $(_lab_q_summary)"; bad=1; }
		lab_state n2 quorate=yes votes=3 || { echo "# n2: $(_lab_q_summary)"; bad=1; }
	else
		echo "# the idle connections were not all open within 60 s"
		bad=1
	fi
	touch "$release"
	wait "$pid" || bad=1
	sed 's/^/#   /' "$LAB_DIR/logs/hostile-idle.log"
	still_fine || bad=1
	return "$bad"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# More connections than the TLS-off qnetd has descriptors (OFF_NOFILE): while accept()
# fails it must neither spin nor flood its log, and it must serve again afterwards.
fd_exhaust_case() {
	local ready=$LAB_DIR/exhaust.ready release=$LAB_DIR/exhaust.release
	local log=$LAB_DIR/logs/arb-qnetd-off.log qpid=${LAB_PID[arb/qnetd-off]:-0}
	local pid n0 n1 c0 c1 lines pct bad=0 hz
	hz=$(getconf CLK_TCK)
	rm -f "$ready" "$release"
	lab_exec arb timeout 90 "$PY" "$HOSTILE" --host "$LAB_ARB_ADDR" --port "$OFF_PORT" \
	    fd-exhaust --count $((OFF_NOFILE + 40)) --ready-file "$ready" \
	    --release-file "$release" --hold 30 >"$LAB_DIR/logs/hostile-exhaust.log" 2>&1 &
	pid=$!
	if lab_wait_until 60 test -f "$ready"; then
		n0=$(wc -l <"$log") c0=$(cpu_ticks "$qpid")
		sleep 3
		n1=$(wc -l <"$log") c1=$(cpu_ticks "$qpid")
		lines=$((n1 - n0)) pct=$(( (c1 - c0) * 100 / (3 * hz) ))
		echo "# out of descriptors for 3 s: $lines log lines, ${pct}% of a CPU"
		tail -n 2 "$log" | sed 's/^/#   log: /'
		(( lines < 100 )) || { echo "# the log is flooded"; bad=1; }
		(( pct < 50 )) || { echo "# qnetd spins"; bad=1; }
	else
		echo "# the connections were not open within 60 s"
		bad=1
	fi
	touch "$release"
	wait "$pid" || bad=1
	sed 's/^/#   /' "$LAB_DIR/logs/hostile-exhaust.log"
	lab_running arb qnetd-off || { echo "# the TLS-off qnetd is gone"; bad=1; }
	still_fine || bad=1
	return "$bad"
}

no_sanitizer_report() {
	if grep -E -n 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
	    "$LAB_DIR/logs/arb-qnetd.log" "$LAB_DIR/logs/arb-qnetd-off.log"; then
		return 1
	fi
	return 0
}

stop_qnetd_cleanly() {
	local h
	lab_stop qnetd arb
	lab_stop qnetd-off arb
	for h in qnetd qnetd-off; do
		grep -q "qnetd shutting down" "$LAB_DIR/logs/arb-$h.log" || {
			echo "# $h: no orderly shutdown in the log"
			return 1
		}
	done
	no_sanitizer_report
}

# --------------------------------------------------------------------------------------
# lab: real cluster e2e (ffsplit, lowest), our qnetd -s on -c on, and a -s off one
# --------------------------------------------------------------------------------------

lab_create 2
lab_make_certs
make_pems
lab_start_qnetd -s on -c on
start_qnetd_off
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on
lab_start_cluster
LAB_HOLD=2 check "real cluster: both nodes quorate with 3 votes" lab_settled "${both_full[@]}"
real_before=$(real_clients)
lab_log "real qdevice connections: $real_before; qnetd RSS $(qnetd_rss_kb) kB"

CERTS=$LAB_DIR/certs

# --------------------------------------------------------------------------------------
# framing and decoding
# --------------------------------------------------------------------------------------
hostile_case "truncated header then close: nothing breaks" truncated-header
hostile_case "length past 32768: SERVER_ERROR 5 without seq, connection kept" too-long
hostile_case "TLV lengths lying: SERVER_ERROR 9, connection kept" lying-tlv
hostile_case "node list over the size limit: SERVER_ERROR 5; one just under it is served" \
    node-list-over-limit
hostile_case "unknown message type: SERVER_ERROR 4 without seq" unknown-type

# --------------------------------------------------------------------------------------
# state machine
# --------------------------------------------------------------------------------------
hostile_case "node list before INIT: SERVER_ERROR 11" node-list-before-init
hostile_case "vote info reply before INIT: SERVER_ERROR 11" vote-info-reply-before-init

# --------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------
hostile_case "plaintext garbage after STARTTLS: disconnected" garbage-after-starttls
check "STARTTLS to a -s off qnetd: disconnected, that qnetd stays up" eval \
    'hostile starttls-tls-off --port "$OFF_PORT" && lab_running arb qnetd-off &&
     lab_exec arb timeout 5 "$QNETD_TOOL" -p "$OFF_SOCK" -s >/dev/null && still_fine'
hostile_case "TLS without a client certificate (-c on): disconnected" no-client-cert
hostile_case "control: $OTHER_CLUSTER's certificate announcing $OTHER_CLUSTER is accepted" \
    own-cert --cert "$CERTS/other.pem" --cluster "$OTHER_CLUSTER"
hostile_case "$OTHER_CLUSTER's certificate announcing $LAB_CLUSTER: disconnected" \
    foreign-cert --cert "$CERTS/other.pem" --node 9
hostile_case "$OTHER_CLUSTER's verified TLS session renamed to $LAB_CLUSTER by PREINIT: disconnected" \
    rename-after-tls --cert "$CERTS/other.pem" --cluster "$OTHER_CLUSTER" --target "$LAB_CLUSTER"
hostile_case "certificate for $LAB_CLUSTER from another CA named QNet CA: refused" \
    untrusted-cert --cert "$CERTS/untrusted.pem" --node 9
check "verified certificates remembered a minute: one verification for two handshakes, untrusted one refused twice" \
    cert_cache_case

# --------------------------------------------------------------------------------------
# the real cluster's own certificate, inconsistent INITs
# --------------------------------------------------------------------------------------
hostile_case "duplicate node id 1 of the real cluster: INIT_REPLY 17" \
    init-code --cert "$CERTS/real.pem" --node 1 --want 17
hostile_case "duplicate node id 2 of the real cluster: INIT_REPLY 17" \
    init-code --cert "$CERTS/real.pem" --node 2 --want 17
hostile_case "algorithm differs from the real cluster's (lms): INIT_REPLY 16" \
    init-code --cert "$CERTS/real.pem" --node 3 --algorithm 3 --want 16
hostile_case "tie-breaker differs from the real cluster's (highest): INIT_REPLY 15" \
    init-code --cert "$CERTS/real.pem" --node 3 --tie-breaker 2 --want 15

# --------------------------------------------------------------------------------------
# resource exhaustion
# --------------------------------------------------------------------------------------
hostile_case "slowloris (1 byte/s for 5 s): everybody else is served meanwhile" \
    slowloris --seconds 5
check "$IDLE_COUNT idle connections: tool answers within 2 s, real cluster keeps 3 votes" \
    idle_case
hostile_case "client that never reads its echo replies: dropped, qnetd RSS bounded" \
    no-read-flood --pid "$(qnetd_pid)" --seconds 30 --max-growth-kb "$RSS_GROWTH_KB"
check "out of descriptors (ulimit -n $OFF_NOFILE): no busy loop, no log flood, recovers" \
    fd_exhaust_case

# --------------------------------------------------------------------------------------
# afterwards
# --------------------------------------------------------------------------------------
lab_log "qnetd RSS after all cases: $(qnetd_rss_kb) kB"
check "the real cluster kept 3 votes" lab_settled "${both_full[@]}"
check "the real qdevice connections were never dropped" eval \
    'real_after=$(real_clients); echo "# before: $real_before; after: $real_after";
     [[ -n $real_before && $real_after == "$real_before" ]]'
check "no sanitizer report in the qnetd logs" no_sanitizer_report
lab_stop_cluster
check "both qnetds exit cleanly on SIGTERM (orderly shutdown, no leak report)" \
    stop_qnetd_cleanly
