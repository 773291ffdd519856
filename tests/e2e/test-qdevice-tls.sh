#!/bin/bash
# tests/e2e/test-qdevice-tls.sh: TLS choices of our qdevice against Debian's qnetd.
#  1. quorum.device.net.tls: off with qnetd -s on: plain connection, quorate with 3 votes.
#  2. qnetd -s req with tls: off: incompatible (docs/protocol.md 2.3), qdevice exits.
#  3. qnetd serving an expired certificate: qdevice refuses it (no vote), unless started
#     with -S net_allow_expired_server_cert=on.

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS=qdevice
# shellcheck source=lib.sh
. "$HERE/lib.sh"

status_has() {		# HOST REGEX: a line of qdevice-tool -s -v matches
	lab_qdevice_tool "$1" -s -v | grep -Eq "$2"
}

# Replace qnetd's server certificate by one that expired a month ago (same CA, same CN).
expire_server_cert() {
	local db
	db=$(lab_path arb "$LAB_QNETD_DB")
	certutil -D -d "$db" -n "QNetd Cert" &&
	certutil -S -d "$db" -n "QNetd Cert" -s "CN=Qnetd Server" -c "QNet CA" -t "u,u,u" \
	    -m 900 -w -13 -v 12 -f "$db/pwdfile.txt" -z "$db/noise.txt" >/dev/null 2>&1
}

# --- 1. TLS off on our side ------------------------------------------------------------
lab_start_pair algorithm=ffsplit tie_breaker=lowest tls=off
LAB_HOLD=2 check "tls off: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
check "tls off: qdevice-tool shows TLS Unsupported, TLS active No" \
    eval 'status_has n1 $'"'"'^TLS:\t\t\tUnsupported$'"'"' && status_has n1 $'"'"'^TLS active:\t\tNo$'"'"''
lab_stop_cluster
lab_kill_qnetd

# --- 2. qnetd requires TLS, we refuse it --------------------------------------------------
lab_start_qnetd -s req -c on
lab_start_corosync
# Not lab_start_qdevice: it waits for an admin socket this qdevice closes at once.
for h in n1 n2; do
	_lab_spawn "$h" qdevice "$QDEVICE_BIN" -f \
	    -S "lock_file=$LAB_QDEVICE_LOCK,local_socket_file=$LAB_QDEVICE_SOCK,net_nss_db_dir=$LAB_QDEVICE_DB"
done
check "tls off vs qnetd -s req: qdevice exits" \
    lab_wait_until 20 eval '! lab_running n1 qdevice && ! lab_running n2 qdevice'
check "tls off vs qnetd -s req: the reason is logged" \
    grep -q "incompatible" "$LAB_DIR/logs/n1-qdevice.log"
lab_stop_cluster
lab_kill_qnetd

# --- 3. expired server certificate ---------------------------------------------------------
check "qnetd certificate replaced by an expired one" expire_server_cert
lab_start_qnetd -s on -c on
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=on
lab_start_cluster
check "expired qnetd certificate: no qdevice vote" lab_settled "${LAB_BOTH_BARE[@]}"
check "expired qnetd certificate: qdevice not connected" \
    eval '! status_has n1 $'"'"'^State:\t\t\tConnected$'"'"''
lab_stop_cluster

LAB_QDEVICE_ARGS=(-S net_allow_expired_server_cert=on)
lab_start_cluster
check "expired certificate allowed by -S: both nodes quorate with 3 votes" \
    lab_settled "${LAB_BOTH_FULL[@]}"
