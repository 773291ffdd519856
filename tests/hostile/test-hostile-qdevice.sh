#!/bin/bash
# tests/hostile/test-hostile-qdevice.sh: a hostile qnetd against our qdevice.
#
# A REAL 2-node corosync cluster (lab of tests/e2e/lib.sh, 198.18.0.0/15 only); our qdevice
# runs on n1 and talks to qdevice-hostile-server.py, a fake qnetd in the arbiter's
# namespace that misbehaves in one way per case (bad replies, wrong rings, oversized
# messages, TLS errors, a silent or slow server). For every case:
#  - qdevice never crashes: it stays up with the same PID when the reason is one upstream
#    retries (docs/protocol.md 2.10), or, for the reasons upstream treats as fatal, it exits in
#    order (status 1, "Not reconnecting" in its log) and is started again; never a signal,
#    never a sanitizer report;
#  - n1's votequorum never counts the qdevice vote (total votes stay 2) unless the fake
#    server gave a valid ACK for the current ring, and a counted ACK is gone again within
#    a bound once the server breaks (ack-* cases: ACK first, then the fault).
# Controls: a well-behaved fake server gets the vote counted, a correct ACK after the
# wrong-ring ones is counted, and at the end our real qnetd replaces the fake one and the
# vote comes back. Needs root, python3, openssl, certutil/pk12util (libnss3-tools).
# QNET_BUILD selects the build (default ./build; an --enable-sanitizers build works).
# Last line: "N passed, M failed".
# shellcheck disable=SC2015,SC2016,SC2034

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS="qdevice qnetd certutil"
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
export QDEVICE_BIN QDEVICE_TOOL QNETD_BIN QNETD_TOOL QNETD_CERTUTIL QDEVICE_CERTUTIL

FAKE=$HERE/qdevice-hostile-server.py
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
DEVICE_TIMEOUT=4000		# quorum.device.timeout: HB 3.2 s, vote poll every 2 s
DROP_BOUND=20			# s: a counted ACK must be gone this long after the fault
COUNT_BOUND=30			# s: a valid ACK must be counted within this
QD=n1				# the node whose qdevice faces the fake server

for tool in openssl certutil pk12util; do
	command -v "$tool" >/dev/null || {
		echo "not ok - setup: $tool not found"; echo "0 passed, 1 failed"; exit 1; }
done
"$PY" -c 'import ssl' 2>/dev/null || {
	echo "not ok - setup: $PY has no ssl module"; echo "0 passed, 1 failed"; exit 1; }

# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

# PEM files for the fake server: qnetd's own certificate ("QNetd Cert", CN=Qnetd Server)
# and the CA, one of the same CA named "Qnetd Imposter", one of an unknown CA.
make_pems() {
	local c=$LAB_DIR/certs log=$LAB_DIR/logs/certs.log db
	db=$(lab_path arb "$LAB_QNETD_DB")
	head -c 64 /dev/urandom >"$c/noise.bin"
	{
		certutil -L -d "$db" -n "QNet CA" -a >"$c/ca.pem" &&
		certutil -S -d "$db" -n "Imposter Cert" -s "CN=Qnetd Imposter" -c "QNet CA" \
		    -t "u,u,u" -m 9001 -v 12 -f "$db/pwdfile.txt" -z "$c/noise.bin" &&
		for nick in "QNetd Cert:server" "Imposter Cert:imposter"; do
			pk12util -o "$c/${nick#*:}.p12" -n "${nick%%:*}" -d "$db" -W "" \
			    -k "$db/pwdfile.txt" || exit 1
			openssl pkcs12 -in "$c/${nick#*:}.p12" -passin pass: -clcerts -nokeys \
			    -out "$c/${nick#*:}.pem" || exit 1
			openssl pkcs12 -in "$c/${nick#*:}.p12" -passin pass: -nocerts -nodes \
			    >>"$c/${nick#*:}.pem" || exit 1
		done &&
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Qnetd Server" \
		    -keyout "$c/unknown-ca.key" -out "$c/unknown-ca.pem" &&
		cat "$c/unknown-ca.key" >>"$c/unknown-ca.pem"
	} >>"$log" 2>&1 || lab_die "setup: cannot make the fake server's PEM files (logs/certs.log)"
	lab_log "PEM files ready: server.pem, imposter.pem, unknown-ca.pem"
}

# qdevice on $QD, wrapped so that its exit status lands in its log. QDEV_PID is the
# qdevice process itself (the wrapper's child).
QDEV_PID=""
QDEV_LOG=""	# set after lab_create

qdevice_start() {
	local args=(-f) wrapper
	(( LAB_DEBUG )) && args+=(-d)
	args+=(-S "lock_file=$LAB_QDEVICE_LOCK,local_socket_file=$LAB_QDEVICE_SOCK,net_nss_db_dir=$LAB_QDEVICE_DB")
	# shellcheck disable=SC2016
	_lab_spawn "$QD" qdevice sh -c '"$@"; echo "=== qdevice exit status $?"' qd-wrap \
	    "$QDEVICE_BIN" "${args[@]}"
	wrapper=${LAB_PID[$QD/qdevice]}
	QDEV_PID=""
	# Against a fake server that is already up, qdevice may be gone again at once.
	lab_wait_until 10 eval 'QDEV_PID=$(find_qdevice_pid "$wrapper"); [[ -n $QDEV_PID ]] || ! lab_running "$QD" qdevice' ||
		lab_die "setup: qdevice did not start on $QD"
	if [[ -z $QDEV_PID ]]; then
		lab_log "qdevice exited before its PID was seen"
		return 0
	fi
	lab_log "qdevice pid $QDEV_PID"
	[[ ${1:-} == quick ]] && return 0
	_lab_wait_daemon "$QD" qdevice 30 eval "lab_qdevice_tool $QD -s >/dev/null 2>&1" ||
		lab_die "setup: qdevice on $QD does not answer"
}

# find_qdevice_pid PID: the first process running QDEVICE_BIN below PID, breadth first
# (ip netns exec, the wrapper shell, then qdevice; its heuristics worker comes later).
find_qdevice_pid() {
	local queue=("$1") p exe bin
	bin=$(realpath -- "$QDEVICE_BIN")
	while (( ${#queue[@]} )); do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		exe=$(readlink "/proc/$p/exe" 2>/dev/null)
		[[ $exe == "$bin" ]] && { echo "$p"; return 0; }
		# shellcheck disable=SC2207
		queue+=($(cat /proc/"$p"/task/*/children 2>/dev/null))
	done
	return 1
}

qdevice_alive() {
	[[ -n $QDEV_PID ]] && _lab_pid_ours "$QDEV_PID" "$QD"
}

# The qdevice exited on its own, in order, since line SINCE_LINE of its log: the first exit
# status logged from there on is 1, with the reason logged before it. Judged from that
# line on, not from the log's tail: a qdevice that was retrying may meet the fault (and
# exit) before the case looks at it, and the one started after it may exit as well.
qdevice_exited_in_order() {
	local since=$1 part
	qdevice_alive && return 1
	lab_wait_until 5 eval '! lab_running "$QD" qdevice' || return 1
	part=$(tail -n +"$since" "$QDEV_LOG" | sed '/^=== qdevice exit status/q')
	if ! grep -q "^=== qdevice exit status 1$" <<<"$part"; then
		echo "# qdevice did not exit with status 1:"; tail -n 5 <<<"$part" | sed 's/^/#   /'
		return 1
	fi
	if ! grep -q "Not reconnecting" <<<"$part"; then
		# qdevice logs a disconnect as an error only when it will not reconnect, so that
		# line is the decision. (Its absence was once a lost line: libqb drops what one
		# thread logs while another is inside qb_log; see qdevice/ringwatch.c.)
		echo "# no 'Not reconnecting' line; its warnings and errors before the exit:"
		grep -E ' (warning|error|crit|emerg): |^=== ' <<<"$part" | tail -n 12 | sed 's/^/#   /'
		return 1
	fi
	echo "# qdevice exited in order: $(grep -m1 'Not reconnecting' <<<"$part" | sed 's/.*Not reconnecting/Not reconnecting/')"
	return 0
}

no_sanitizer_report() {
	! grep -E -n 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|exit status (1[3-9][0-9]|2[0-9][0-9])' \
	    "$QDEV_LOG"
}

# n1's total votes, sampled in the background (qdevice vote counted: 3, not: 2).
SAMPLES=""	# set after lab_create
SAMPLER=""
sampler_start() {
	local parent=$$
	: >"$SAMPLES"
	(
		trap - EXIT INT TERM
		while [[ -d $LAB_DIR ]] && kill -0 "$parent" 2>/dev/null; do
			echo "$(_lab_now_ms) $(_lab_sample "$QD")"
			sleep 0.25
		done >>"$SAMPLES"
	) </dev/null >/dev/null 2>&1 &
	SAMPLER=$!
	disown "$SAMPLER"
}
sampler_stop() {
	[[ -n $SAMPLER ]] && kill "$SAMPLER" 2>/dev/null
	SAMPLER=""
}

votes_now() {
	lab_query "$QD" >/dev/null 2>&1
	echo "${Q_TOTAL:-?}"
}
votes_are() { [[ $(votes_now) == "$1" ]]; }

# counted_since MS: number of samples with the qdevice vote counted (4th field 3) since MS.
counted_since() {
	awk -v t="$1" '$1 >= t && $5 == 3 { n++ } END { print n + 0 }' "$SAMPLES"
}
# last_counted_ms SINCE_MS: the time of the last sample with 3 votes after SINCE_MS (0: none)
last_counted_ms() {
	awk -v t="$1" '$1 >= t && $5 == 3 { last = $1 } END { print last + 0 }' "$SAMPLES"
}

FAKE_NAME=""
# fake_start MODE [ARGS...]: the fake qnetd in the arbiter's namespace.
fake_start() {
	local mode=$1 cert=$LAB_DIR/certs/server.pem
	shift
	case $mode in
	tls-wrong-name)	cert=$LAB_DIR/certs/imposter.pem;;
	tls-unknown-ca)	cert=$LAB_DIR/certs/unknown-ca.pem;;
	esac
	FAKE_NAME=fake-$mode
	_lab_spawn arb "$FAKE_NAME" "$PY" -u "$FAKE" "$mode" --listen "$LAB_ARB_ADDR" \
	    --port "$LAB_QNETD_PORT" --cert "$cert" --ca "$LAB_DIR/certs/ca.pem" \
	    --trigger-file "$LAB_DIR/trigger" --max-time 90 "$@"
	lab_wait_until 10 grep -q '^LISTENING' "$LAB_DIR/logs/arb-$FAKE_NAME.log" ||
		{ echo "# the fake server did not start"; tail -n 5 "$LAB_DIR/logs/arb-$FAKE_NAME.log"; return 1; }
}
fake_stop() {
	[[ -n $FAKE_NAME && -n ${LAB_PID[arb/$FAKE_NAME]:-} ]] && lab_kill arb "$FAKE_NAME" >/dev/null
	FAKE_NAME=""
}
fake_log() { cat "$LAB_DIR/logs/arb-$FAKE_NAME.log" 2>/dev/null; }
fake_said() { grep -q "^$1" "$LAB_DIR/logs/arb-$FAKE_NAME.log" 2>/dev/null; }
fake_show() {
	grep -E '^(MISBEHAVED|ACKED)' "$LAB_DIR/logs/arb-$FAKE_NAME.log" | sort -u | head -n 3 |
		sed 's/^/#   fake: /'
}

# Before a case: the vote is not counted.
case_prepare() {
	rm -f "$LAB_DIR/trigger"
	lab_wait_until 20 votes_are 2 || { echo "# before the case n1 counts $(votes_now) votes"; return 1; }
}

# After the fake server is up: qdevice running (started again after an orderly exit).
ensure_qdevice() {
	qdevice_alive && return 0
	# one that met the fault already may still be shutting down: let it log its exit
	lab_wait_until 5 eval '! lab_running "$QD" qdevice' ||
		lab_kill "$QD" qdevice >/dev/null
	qdevice_start quick
}

# case_start MODE: a case against the fake server in MODE begins: the vote not counted,
# the server up, qdevice running. CASE_T0 (ms) and CASE_LINE (qdevice's next log line)
# are from before the server started, CASE_PID is qdevice's PID once it runs.
case_start() {
	case_prepare || return 1
	CASE_T0=$(_lab_now_ms)
	CASE_LINE=$(($(wc -l <"$QDEV_LOG") + 1))
	fake_start "$1" || return 1
	ensure_qdevice
	CASE_PID=$QDEV_PID
}

# case_end BAD: the fake server stopped; BAD (0 or 1), or 1 if a sanitizer spoke.
case_end() {
	fake_stop
	no_sanitizer_report || return 1
	return "$1"
}

# new_disconnect SINCE_LINE: the first "Disconnected from qnetd" line of qdevice's log from
# SINCE_LINE on, except "connect timeout" (the connect timer pacing refused attempts while
# no server listens between two cases).
new_disconnect() {
	tail -n +"$1" "$QDEV_LOG" | grep "Disconnected from qnetd" | grep -v -m1 "connect timeout"
}

# slow_attempt_timed_out SINCE_LINE: from SINCE_LINE of qdevice's log on, the first
# attempt that reached the server (its "Connected to ..., sending preinit" debug line, or a
# disconnect logged as a warning, which only such an attempt gets) ended in "connect
# timeout". Refused attempts while no server listens end in "connect timeout" too (at
# debug level) and fill the log from the first case on: they must not count.
slow_attempt_timed_out() {
	tail -n +"$1" "$QDEV_LOG" | awk '
		/Connected to .*, sending preinit/ { reached = 1; next }
		/Disconnected from qnetd/ && (reached || / warning: /) {
			found = /Disconnected from qnetd: connect timeout/; exit
		}
		END { exit !found }'
}

# The fault reached qdevice and it reacted: EXPECT is "retry" (same PID, disconnected
# and retrying) or "exit" (orderly exit).
await_reaction() {
	local expect=$1 since_lines=$2
	lab_wait_until 25 fake_said MISBEHAVED || { echo "# the fault was never delivered"; return 1; }
	fake_show
	if [[ $expect == alive ]]; then
		# valid if unusual messages: taken as they are, the connection stays
		sleep 2
		qdevice_alive || { echo "# qdevice is gone"; tail -n 5 "$QDEV_LOG" | sed 's/^/#   /'; return 1; }
		if [[ -n $(new_disconnect "$since_lines") ]]; then
			new_disconnect "$since_lines" | sed 's/^/#   /'
			return 1
		fi
		return 0
	fi
	if [[ $expect == exit ]]; then
		lab_wait_until 15 eval '! qdevice_alive' || { echo "# qdevice is still running"; return 1; }
		qdevice_exited_in_order "$since_lines"
		return
	fi
	# a new disconnect in qdevice's log (the fault ended that connection)
	lab_wait_until 20 eval '[[ -n $(new_disconnect "$since_lines") ]]' ||
		{ echo "# qdevice never dropped the connection"; return 1; }
	new_disconnect "$since_lines" | sed 's/^.*Disconnected/#   qdevice: Disconnected/'
	qdevice_alive || { echo "# qdevice died"; tail -n 5 "$QDEV_LOG" | sed 's/^/#   /'; return 1; }
}

# hs_case EXPECT MODE: a fault before or during the handshake (no valid ACK ever).
_hs_case() {
	local expect=$1 mode=$2 bad=0 n
	case_start "$mode" || return 1
	await_reaction "$expect" "$CASE_LINE" || bad=1
	[[ $expect != exit && $QDEV_PID != "$CASE_PID" ]] && { echo "# qdevice PID changed"; bad=1; }
	sleep 1
	n=$(counted_since "$CASE_T0")
	(( n == 0 )) || { echo "# the qdevice vote was counted in $n sample(s)"; bad=1; }
	fake_said ACKED && { echo "# the fake server gave a valid ACK?"; bad=1; }
	case_end "$bad"
}
# HOSTILE_CASES="mode ...": run only these hs/ack cases (by hand, while debugging).
selected() {
	[[ -z ${HOSTILE_CASES:-} || " $HOSTILE_CASES " == *" $1 "* ]]
}
hs_case() {
	local desc=$1
	shift
	selected "$2" || return 0
	check "$desc" _hs_case "$@"
}

# ack_case EXPECT MODE: a valid ACK first (must be counted), then the fault: the vote
# must leave votequorum within DROP_BOUND s and stay out.
_ack_case() {
	local expect=$1 mode=$2 t0 t1 lines bad=0 last
	case_start "$mode" || return 1
	if ! lab_wait_until "$COUNT_BOUND" votes_are 3; then
		echo "# the valid ACK was not counted (votes $(votes_now))"; fake_stop; return 1
	fi
	t0=$(_lab_now_ms)
	lines=$(($(wc -l <"$QDEV_LOG") + 1))	# the ACKed connection is up: judge what follows
	touch "$LAB_DIR/trigger"
	await_reaction "$expect" "$lines" || bad=1
	[[ $expect != exit && $QDEV_PID != "$CASE_PID" ]] && { echo "# qdevice PID changed"; bad=1; }
	if lab_wait_until "$DROP_BOUND" votes_are 2; then
		t1=$(_lab_now_ms)
		echo "# vote gone $(_lab_ms_str $((t1 - t0))) after the fault"
		sleep 2
		last=$(last_counted_ms "$t1")
		(( last == 0 )) || { echo "# counted again at +$(_lab_ms_str $((last - t1)))"; bad=1; }
		votes_are 2 || { echo "# counted again: $(votes_now) votes"; bad=1; }
	else
		echo "# stale ACK: still $(votes_now) votes $DROP_BOUND s after the fault"
		bad=1
	fi
	case_end "$bad"
}
ack_case() {
	local desc=$1
	shift
	selected "$2" || return 0
	check "$desc" _ack_case "$@"
}

# --------------------------------------------------------------------------------------
# lab: corosync on n1 and n2; our qdevice on n1 only, pointed at the arbiter
# --------------------------------------------------------------------------------------

lab_create 2
QDEV_LOG=$LAB_DIR/logs/$QD-qdevice.log
SAMPLES=$LAB_DIR/logs/votes.log
lab_make_certs
make_pems
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on device.timeout="$DEVICE_TIMEOUT"
lab_start_corosync
LAB_HOLD=1 check "corosync: both nodes quorate without a qdevice vote (2 votes)" \
    lab_settled "n1 members=1,2 quorate=yes votes=2" "n2 members=1,2 quorate=yes votes=2"
qdevice_start
sampler_start

# --------------------------------------------------------------------------------------
# positive control: a well-behaved fake server gets the vote counted
# --------------------------------------------------------------------------------------
_good_case() {
	local bad=0
	fake_start good || return 1
	lab_wait_until "$COUNT_BOUND" votes_are 3 || { echo "# votes: $(votes_now)"; bad=1; }
	fake_show
	# still counted a few polls later, and the connection is up
	sleep 3
	votes_are 3 || { echo "# votes: $(votes_now)"; bad=1; }
	lab_qdevice_tool "$QD" -s | grep -Eq $'^State:\t+Connected$' || { echo "# qdevice not connected"; bad=1; }
	fake_stop
	lab_wait_until "$DROP_BOUND" votes_are 2 || { echo "# vote kept after the server died"; bad=1; }
	return "$bad"
}
check "control: a correct fake qnetd (TLS, ACK) gets the vote counted, lost when it dies" _good_case

# --------------------------------------------------------------------------------------
# malformed replies during the handshake
# --------------------------------------------------------------------------------------
hs_case "PREINIT_REPLY with an option length past the end: retried, no vote" retry preinit-lying-tlv
hs_case "PREINIT_REPLY ending in half an option header: retried, no vote" retry preinit-half-tlv
hs_case "PREINIT_REPLY cut after 10 bytes, then close: retried, no vote" retry preinit-truncated
hs_case "PREINIT_REPLY without options: decode error, retried, no vote" retry preinit-empty
hs_case "message type 0x1234: orderly exit (not retried, 2.10), no vote" exit preinit-unknown-type
hs_case "VOTE_INFO ACK instead of PREINIT_REPLY: orderly exit, no vote" exit preinit-wrong-type
hs_case "PREINIT_REPLY with the wrong seq: orderly exit, no vote" exit preinit-wrong-seq
hs_case "PREINIT_REPLY without seq: orderly exit, no vote" exit preinit-no-seq
hs_case "SERVER_ERROR during the handshake: orderly exit, no vote" exit preinit-server-error
hs_case "INIT_REPLY with error 10: orderly exit, no vote" exit init-error
hs_case "INIT_REPLY with error 17 (duplicate node id): retried, no vote" retry init-error-retry
hs_case "INIT_REPLY with the wrong seq: orderly exit, no vote" exit init-wrong-seq
hs_case "INIT_REPLY without seq: orderly exit, no vote" exit init-no-seq
hs_case "INIT_REPLY without max reply size and algorithms: orderly exit, no vote" exit init-missing-option
hs_case "INIT_REPLY with a request size under 32768: orderly exit, no vote" exit init-small-sizes
hs_case "NODE_LIST_REPLY ACK instead of INIT_REPLY: orderly exit, no vote" exit init-wrong-type
hs_case "VOTE_INFO ACK for the right ring before INIT_REPLY: orderly exit, no vote" exit init-vote-first

# --------------------------------------------------------------------------------------
# oversized messages
# --------------------------------------------------------------------------------------
hs_case "PREINIT_REPLY of 40006 bytes (limit 32768): retried, no vote" retry too-long
hs_case "header claiming 4 GiB: retried, nothing allocated, no vote" retry huge-length

# --------------------------------------------------------------------------------------
# votes for other rings
# --------------------------------------------------------------------------------------
_wrong_ring_case() {
	local bad=0 n
	case_start wrong-ring || return 1
	lab_wait_until 25 fake_said MISBEHAVED || { echo "# no membership list reached the server"; fake_stop; return 1; }
	fake_show
	sleep 6		# 3 poll intervals
	n=$(counted_since "$CASE_T0")
	(( n == 0 )) || { echo "# an ACK for another ring was counted ($n samples)"; bad=1; }
	lab_qdevice_tool "$QD" -s | grep -Eq $'^State:\t+Connected$' || { echo "# qdevice not connected"; bad=1; }
	[[ $QDEV_PID == "$CASE_PID" ]] && qdevice_alive || { echo "# qdevice died or was replaced"; bad=1; }
	# control: now one ACK for the current ring
	touch "$LAB_DIR/trigger"
	lab_wait_until "$COUNT_BOUND" votes_are 3 || { echo "# the correct ACK afterwards was not counted"; bad=1; }
	case_end "$bad"
}
check "VOTE_INFO/ASK_FOR_VOTE_REPLY/HEURISTICS_CHANGE_REPLY ACKs for other rings: not counted; a correct ACK then is" \
    _wrong_ring_case

# --------------------------------------------------------------------------------------
# a counted ACK, then the server breaks: the vote must not stay
# --------------------------------------------------------------------------------------
ack_case "ACK, then no echo replies: vote dropped within the heartbeat timeout" retry ack-silent
ack_case "ACK, then no echo replies but SET_OPTION_REPLY(heartbeat) every second: vote dropped" retry ack-keepalive-set-option
ack_case "ACK, then 512 random bytes: vote dropped, no crash" exit ack-garbage
ack_case "ACK, then a VOTE_INFO header with random contents: vote dropped" retry ack-garbage-valid-header
ack_case "ACK, then a VOTE_INFO with a lying TLV length: vote dropped, retried" retry ack-lying-tlv
ack_case "ACK, then half a VOTE_INFO and close: vote dropped, retried" retry ack-truncated
ack_case "ACK, then a message of unknown type: vote dropped, orderly exit" exit ack-unknown-type
ack_case "ACK, then PREINIT_REPLY while connected: vote dropped, orderly exit" exit ack-wrong-type
ack_case "ACK, then a message over the size limit: vote dropped, retried" retry ack-too-long
ack_case "ACK, then a 16 MiB VOTE_INFO NACK with 1.4M node infos: taken, vote dropped" alive ack-huge-nodes
ack_case "ACK, then 300 VOTE_INFO NACKs in one burst: all answered, vote dropped, connection kept" alive ack-flood
ack_case "ACK, then an echo reply with a wrong seq: vote dropped, orderly exit" exit ack-echo-wrong-seq
ack_case "ACK, then VOTE_INFO without a ring id: vote dropped, orderly exit" exit ack-missing-ring
ack_case "ACK, then VOTE_INFO with vote 0: vote dropped, retried" retry ack-bad-vote
ack_case "ACK, then SERVER_ERROR: vote dropped, orderly exit" exit ack-server-error
ack_case "ACK, then the server closes: vote dropped, retried" retry ack-close

# --------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------
hs_case "TLS: server certificate named 'Qnetd Imposter' (our CA): refused, retried" retry tls-wrong-name
hs_case "TLS: 'Qnetd Server' certificate of an unknown CA: refused, retried" retry tls-unknown-ca
hs_case "TLS: plaintext reply after STARTTLS: retried, no vote" retry tls-plaintext
hs_case "TLS: handshake record of garbage: retried, no vote" retry tls-garbage
hs_case "TLS: server closes in the middle of the handshake: retried, no vote" retry tls-close

# --------------------------------------------------------------------------------------
# slow server
# --------------------------------------------------------------------------------------
_slow_case() {
	local bad=0 ms n
	case_start slow || return 1
	lab_wait_until 25 fake_said MISBEHAVED || { echo "# never connected"; fake_stop; return 1; }
	sleep 1
	ms=$(_lab_now_ms)
	lab_qdevice_tool "$QD" -s >/dev/null || { echo "# qdevice-tool -s failed during the dribble"; bad=1; }
	ms=$(( $(_lab_now_ms) - ms ))
	echo "# qdevice-tool -s answered in $(_lab_ms_str "$ms") while the server dribbles"
	(( ms < 2000 )) || { echo "# qdevice is blocked"; bad=1; }
	# the connect timeout (= heartbeat interval) ends the attempt
	lab_wait_until 20 slow_attempt_timed_out "$CASE_LINE" ||
		{ echo "# no connect timeout"; bad=1; }
	n=$(counted_since "$CASE_T0")
	(( n == 0 )) || { echo "# vote counted"; bad=1; }
	[[ $QDEV_PID == "$CASE_PID" ]] && qdevice_alive || { echo "# qdevice died"; bad=1; }
	case_end "$bad"
}
check "slow server (PREINIT_REPLY at 1 byte/s): qdevice stays responsive, connect timeout, no vote" \
    _slow_case

# --------------------------------------------------------------------------------------
# the real qnetd takes over
# --------------------------------------------------------------------------------------
_real_qnetd_case() {
	case_prepare || return 1
	lab_start_qnetd -s on -c on
	ensure_qdevice
	lab_wait_until 40 votes_are 3 || { echo "# votes: $(votes_now)"; return 1; }
	lab_qnetd_tool -l | grep -q "Node ID 1:" || { echo "# qnetd does not list node 1"; return 1; }
	qdevice_alive
}
check "our qnetd replaces the fake one: qdevice reconnects, the vote is counted" _real_qnetd_case
sampler_stop

check "no sanitizer report or signal in qdevice's log" no_sanitizer_report
_stop_qdevice() {
	# only a qdevice still running: a stale QDEV_PID may be another process's by now
	qdevice_alive || { echo "# qdevice is not running"; return 1; }
	kill -s TERM "$QDEV_PID" 2>/dev/null
	lab_wait_until 15 eval '! lab_running "$QD" qdevice' || return 1
	grep -q "=== qdevice exit status 0$" "$QDEV_LOG" || { tail -n 3 "$QDEV_LOG" | sed 's/^/#   /'; return 1; }
	no_sanitizer_report
}
check "qdevice exits cleanly on SIGTERM" _stop_qdevice
