#!/bin/bash
# tests/e2e/test-qdevice-ops.sh: what our qdevice offers operators beyond upstream, on a
# 2-node ffsplit cluster with TLS and Debian's qnetd:
#  - `qdevice-tool -s -j`: one JSON object that python3 parses, with the documented fields
#    and values matching the cluster (and the text output unchanged); `--metrics`: valid
#    Prometheus text with the documented gauges and counters;
#  - event hooks (-S event_hook=...): a hook appending one line per event to a file sees
#    connected, vote_changed, heuristics_failed/_passed (a heuristics command that fails
#    while a marker file exists), disconnected (qnetd killed) and the reconnect;
#  - certificate expiry: with a client certificate valid for 10 days (signed by the QNet CA
#    with openssl), qdevice warns at start, shows the days left in the JSON, and connects.
# Needs python3, openssl and pk12util besides what lib.sh needs.
#
# Run as root: tests/e2e/test-qdevice-ops.sh (about 1.5 minutes).

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS=qdevice
# shellcheck source=lib.sh
. "$HERE/lib.sh"

HOOK=/var/lib/corosync/hook.sh
EVENTS=/var/lib/corosync/events.log
MARKER=/var/lib/corosync/heur-fail
SHORT_NICK="Short Cert"

for tool in python3 openssl pk12util; do
	command -v "$tool" >/dev/null || { echo "# $tool not found"; echo "0 passed, 1 failed"; exit 1; }
done

# _check_tool HOST "TOOL_OPTIONS" FORMAT CONDITIONS...: qdevice-tool TOOL_OPTIONS on HOST
# answers and its output passes check-tool-formats.py FORMAT CONDITIONS...
_check_tool() {
	local h=$1 opts out
	read -ra opts <<<"$2"
	out=$(lab_qdevice_tool "$h" "${opts[@]}") || { echo "# qdevice-tool $2 failed" >&2; return 1; }
	"$HERE/check-tool-formats.py" "${@:3}" <<<"$out"
}
# check_json HOST PYTHON_CONDITIONS...: qdevice-tool -s -j on HOST parses as one JSON object
# with every documented field, and each condition (a python expression over d) holds.
check_json() { _check_tool "$1" "-s -j" qdevice-json "${@:2}"; }
# check_metrics HOST PYTHON_CONDITIONS...: qdevice-tool --metrics on HOST is valid
# Prometheus text (every sample has a TYPE) and each condition over m (name -> value) holds.
check_metrics() { _check_tool "$1" --metrics qdevice-metrics "${@:2}"; }

# events HOST: the event lines HOST's hook wrote so far.
events() { cat "$(lab_path "$1" "$EVENTS")" 2>/dev/null; }

# has_event HOST REGEX: some event line of HOST matches REGEX (grep -E).
has_event() { events "$1" | grep -Eq -- "$2"; }

# count_events HOST REGEX
count_events() { events "$1" | grep -Ec -- "$2"; }

# make_short_cert HOST DAYS: a client certificate for the cluster valid DAYS days, signed
# by the QNet CA (exported with its key from the arbiter's database), imported into HOST's
# database as SHORT_NICK.
make_short_cert() {
	local h=$1 days=$2 c=$LAB_DIR/certs/short arbdb nodedb
	arbdb=$(lab_path arb "$LAB_QNETD_DB")
	nodedb=$(lab_path "$h" "$LAB_QDEVICE_DB")
	mkdir -p "$c" && {
		pk12util -o "$c/ca.p12" -n "QNet CA" -d "$arbdb" -k "$arbdb/pwdfile.txt" -W "" &&
		openssl pkcs12 -in "$c/ca.p12" -passin pass: -nodes -out "$c/ca.pem" &&
		openssl req -new -newkey rsa:2048 -nodes -keyout "$c/key.pem" \
		    -subj "/CN=$LAB_CLUSTER" -out "$c/req.csr" &&
		openssl x509 -req -in "$c/req.csr" -CA "$c/ca.pem" -CAkey "$c/ca.pem" \
		    -set_serial "$RANDOM$RANDOM" -days "$days" -out "$c/crt.pem" &&
		openssl pkcs12 -export -in "$c/crt.pem" -inkey "$c/key.pem" -name "$SHORT_NICK" \
		    -passout pass: -out "$c/short.p12" &&
		pk12util -i "$c/short.p12" -d "$nodedb" -k "$nodedb/pwdfile.txt" -W ""
	} >>"$LAB_DIR/logs/certs.log" 2>&1
}

lab_create 2
lab_make_certs
lab_start_qnetd -s on -c on
for n in "${LAB_NODES[@]}"; do
	cat >"$(lab_path "$n" "$HOOK")" <<'EOF'
#!/bin/sh
echo "$1 cluster=$QNET_CLUSTER node=$QNET_NODE_ID vote=${QNET_VOTE-} prev=${QNET_PREVIOUS_VOTE-}" \
    "heur=${QNET_HEURISTICS-} prevheur=${QNET_PREVIOUS_HEURISTICS-}" \
    "host=${QNET_QNETD_HOST-} reason=${QNET_REASON-}" >>/var/lib/corosync/events.log
EOF
	chmod 0755 "$(lab_path "$n" "$HOOK")"
done
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on heuristics=on \
    "heuristics.exec_check=/usr/bin/test ! -e $MARKER" heuristics.interval=2000
LAB_QDEVICE_ARGS=(-S "event_hook=$HOOK,event_hook_timeout=2000")
lab_start_cluster
LAB_HOLD=2 check "start: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"

# --- JSON ----------------------------------------------------------------------------------
check "json: n1's status parses and matches the cluster" check_json n1 \
    'd["model"] == "Net" and d["node_id"] == 1 and d["cluster_name"] == "e2e"' \
    'd["state"] == "Connected" and d["vote"] == "ACK" and d["vote_held_ms"] is None' \
    'd["quorate"] and d["expected_votes"] == 3 and d["membership_node_list"] == [1, 2]' \
    '[n["node_id"] for n in d["config_node_list"]] == [1, 2]' \
    'sorted(n["node_id"] for n in d["quorum_node_list"]) == [1, 2]' \
    'all(n["state"] == "member" for n in d["quorum_node_list"])' \
    'd["qnetd_host"] == "198.18.0.100" and d["qnetd_port"] == 5403' \
    'd["algorithm"] == "Fifty-Fifty split" and d["tie_breaker"] == {"mode": "lowest", "node_id": 0}' \
    'd["tls"] == "Supported" and d["tls_active"] and d["client_certificate_sent"]' \
    'd["heuristics_enabled"] and d["heuristics"] == "Pass" and d["heuristics_mode"] == "Enabled"' \
    'd["poll_timer_running"] and d["last_poll_cast_vote"] and d["last_poll"] > 0' \
    'd["connected_since"] > 0 and d["timeout_ms"] == 10000 and d["vote_timer_interval_ms"] == 5000' \
    'd["certificate_days_left"] > 30 and d["event_hooks_dropped"] == 0'
check "json: n2's status names node 2" check_json n2 'd["node_id"] == 2 and d["vote"] == "ACK"'
check "json: -j needs -s (usage error, exit 1)" \
    eval 'lab_qdevice_tool n1 -H -j >/dev/null 2>&1; (( $? == 1 ))'
text=$(lab_qdevice_tool n1 -s -v)
check "json: the text output is unchanged (upstream's sections, no extra facts)" \
    eval '[[ $text == "Qdevice information"* && $text == *"Qdevice-net information"* &&
        $text != *"day"* && $text != *"held"* && $text != *"{"* ]]'

check "metrics: n1's metrics parse and match the cluster" check_metrics n1 \
    'm["qdevice_up"] == 1 and m["qdevice_connected"] == 1 and m["qdevice_quorate"] == 1' \
    'm["qdevice_vote_cast"] == 1 and m["qdevice_expected_votes"] == 3' \
    'm["qdevice_membership_nodes"] == 2 and m["qdevice_heuristics_result"] == 1' \
    'm["qdevice_connects_total"] == 1 and m["qdevice_acks_received_total"] >= 1' \
    'm["qdevice_certificate_days_left"] > 30 and m["qdevice_last_poll_timestamp_seconds"] > 0'

# --- event hooks ---------------------------------------------------------------------------
check "hooks: n1 saw connected with the qnetd host" lab_wait_until 10 \
    has_event n1 '^connected cluster=e2e node=1 .*host=198\.18\.0\.100:5403'
check "hooks: n1 saw its vote turn to ACK" lab_wait_until 10 \
    has_event n1 '^vote_changed cluster=e2e node=1 vote=ACK prev=(none|NACK) '
check "hooks: n1 saw the first heuristics result" lab_wait_until 10 \
    has_event n1 '^heuristics_passed cluster=e2e node=1 .*heur=Pass prevheur=Undefined'
check "hooks: n2's events carry node 2" lab_wait_until 10 \
    has_event n2 '^connected cluster=e2e node=2 '

touch "$(lab_path n1 "$MARKER")"
check "hooks: heuristics failing on n1 give heuristics_failed" lab_wait_until 15 \
    has_event n1 '^heuristics_failed cluster=e2e node=1 .*heur=Fail prevheur=Pass'
check "json: n1 shows the failed heuristics" check_json n1 'd["heuristics"] == "Fail"'
rm -f "$(lab_path n1 "$MARKER")"
check "hooks: and heuristics_passed once they pass again" lab_wait_until 15 \
    has_event n1 '^heuristics_passed cluster=e2e node=1 .*heur=Pass prevheur=Fail'
check "hooks: no heuristics event on n2 (its result never changed)" \
    eval '(( $(count_events n2 "^heuristics_") == 1 ))'

lab_kill_qnetd
check "hooks: qnetd killed: n1 saw disconnected with the reason" lab_wait_until 15 \
    has_event n1 '^disconnected cluster=e2e node=1 .*host=198\.18\.0\.100:5403 reason=server closed the connection'
check "hooks: and its vote turn to NACK" lab_wait_until 10 \
    has_event n1 '^vote_changed cluster=e2e node=1 vote=NACK prev=ACK'
check "hooks: connection attempts while qnetd is away give no events" \
    eval 'sleep 10; (( $(count_events n1 "^disconnected") == 1 ))'
# the first connection's ACK was held as well: judge the log and the held-vote count from here on
qd_lines=$(($(wc -l <"$LAB_DIR/logs/n1-qdevice.log") + 1))
held0=$(lab_qdevice_tool n1 --metrics | awk '$1 == "qdevice_votes_held_total" { print $2 }')
lab_start_qnetd -s on -c on
check "hooks: qnetd back: n1 connected again" lab_wait_until 20 \
    eval '(( $(count_events n1 "^connected") == 2 ))'
# On connect the vote is "none" (waiting for qnetd's reply) before the ACK. Hooks run
# asynchronously, so their lines may land in either order: the prev= fields give it.
last_votes_are() {	# the last two vote_changed lines of n1 are these two, in any order
	local last2
	last2=$(events n1 | grep "^vote_changed" | tail -n 2)
	grep -q "vote=$1 " <<<"$last2" && grep -q "vote=$2 " <<<"$last2"
}
check "hooks: and its vote turned back to ACK" lab_wait_until 20 \
    last_votes_are "none prev=NACK" "ACK prev=none"
held_since() {		# LINE: n1's qdevice held an ACK from LINE of its log on
	tail -n +"$1" "$LAB_DIR/logs/n1-qdevice.log" | grep -q "Holding qnetd's ACK"
}
check "qnetd back: the reconnect's ACK was held until the ring was shown whole" \
    held_since "$qd_lines"
LAB_HOLD=2 check "qnetd back: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
check "metrics: n1 counted the reconnect and the held vote" check_metrics n1 \
    'm["qdevice_connects_total"] == 2 and m["qdevice_disconnects_total"] == 1' \
    "m[\"qdevice_votes_held_total\"] >= ${held0:-0} + 1" \
    'm["qdevice_event_hooks_dropped_total"] == 0'

# --- certificate expiry --------------------------------------------------------------------
lab_stop qdevice n2
check "cert: a 10-day client certificate signed by the QNet CA" make_short_cert n2 10
LAB_QDEVICE_ARGS+=(-S "net_nss_client_cert_nickname=$SHORT_NICK")
lab_start_qdevice n2
check "cert: qdevice warns that its certificate expires soon" lab_wait_until 10 \
    grep -Eq "Client certificate \"$SHORT_NICK\" expires in (9|10) day\(s\)" \
    "$LAB_DIR/logs/n2-qdevice.log"
LAB_HOLD=2 check "cert: n2 connects with it: both nodes quorate with 3 votes" \
    lab_settled "${LAB_BOTH_FULL[@]}"
check "cert: the JSON shows the days left" check_json n2 \
    'd["certificate_days_left"] in (9, 10) and d["state"] == "Connected"'
check "cert: the text output does not" \
    eval '! lab_qdevice_tool n2 -s -v | grep -qi "day"'

# --- upstream's tool against our qdevice ---------------------------------------------------
# It sends "status verbose " and "shutdown verbose " (with -v); both must work as upstream's.
DEBIAN_TOOL=/usr/sbin/corosync-qdevice-tool
check "Debian's corosync-qdevice-tool -s -v reads our qdevice's status" eval \
    'out=$(lab_exec n2 timeout 10 "$DEBIAN_TOOL" -p "$LAB_QDEVICE_SOCK" -s -v) &&
     grep -Eq $'"'"'^State:\t+Connected$'"'"' <<<"$out" && grep -q "^Qdevice information" <<<"$out"'
check "Debian's corosync-qdevice-tool -H -v stops our qdevice" eval \
    'lab_exec n2 timeout 10 "$DEBIAN_TOOL" -p "$LAB_QDEVICE_SOCK" -H -v &&
     lab_wait_until 10 eval "! lab_running n2 qdevice"'
