#!/bin/bash
# tests/e2e/test-qdevice-reload.sh: live reload in our qdevice (corosync-cfgtool -R) against
# Debian's qnetd: a heuristics command that starts failing, commands that cannot be used
# (refused, qdevice stays), a check stuck on a command that a reload fixes (run again at
# once), a third node added to the node list (qnetd gets a changed config list), and
# logging.debug switched on at run time.
# qdevice runs without -d here so the logging switch is visible.

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS=qdevice
CFGTOOL=${CFGTOOL:-/usr/sbin/corosync-cfgtool}
# shellcheck source=lib.sh
. "$HERE/lib.sh"
LAB_DEBUG=0

heuristics_result() {	# HOST WORD
	lab_qdevice_tool "$1" -s | grep -Eq "^Heuristics result:[[:space:]]+$2\$"
}

reload() {		# rewrite corosync.conf on every node (lab_write_config args), then -R
	lab_write_config "$@"
	lab_exec n1 timeout 10 "$CFGTOOL" -R >/dev/null
}

# edit_conf SED_SCRIPT: apply to every node's corosync.conf (after lab_write_config).
edit_conf() {
	local n
	for n in "${LAB_NODES[@]}"; do
		sed -i -e "$1" "$LAB_DIR/hosts/$n/etc/corosync.conf" || return 1
	done
}

debug_lines() {		# HOST: number of debug lines in its qdevice log
	grep -c ' debug: ' "$LAB_DIR/logs/$1-qdevice.log"
}

base=(algorithm=ffsplit tie_breaker=lowest tls=on heuristics=on heuristics.interval=1000)

lab_create 2
lab_make_certs
lab_start_qnetd -s on -c on
lab_write_config "${base[@]}" heuristics.exec_ok=/bin/true
lab_start_cluster

LAB_HOLD=2 check "start: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
check "start: n1 heuristics Pass" heuristics_result n1 Pass

reload "${base[@]}" heuristics.exec_ok=/bin/false
check "reloaded exec_ok=/bin/false: n1 and n2 report Fail" \
    lab_wait_until 15 eval 'heuristics_result n1 Fail && heuristics_result n2 Fail'
check "qnetd sees the changed heuristics" \
    lab_wait_until 10 eval 'lab_qnetd_tool -l | grep -c "Heuristics:.*Fail" | grep -qx 2'

# Commands that cannot be handed to the heuristics worker (a line break, over the length
# limit), set straight in cmap: refused with a logged error, the old ones kept, no exit.
lab_exec n1 corosync-cmapctl -s quorum.device.heuristics.exec_ok str $'/bin/true\n/bin/false'
lab_exec n1 corosync-cmapctl -s quorum.device.heuristics.exec_ok str \
    "/bin/true $(printf '%04100d' 0)"
check "a command with a line break or over the limit: refused, logged, qdevice keeps running" \
    lab_wait_until 10 eval '[ "$(grep -c "keeping the old one: quorum.device.heuristics.exec_ok: the command" \
        "$LAB_DIR/logs/n1-qdevice.log")" = 2 ] && lab_running n1 qdevice &&
        heuristics_result n1 Fail'

# A run stuck on a command (20 s timeout), then that command fixed: qdevice runs the
# heuristics again with the new command at once instead of waiting for the stuck run.
reload "${base[@]}" heuristics.timeout=20000 heuristics.exec_ok="/bin/sleep 60"
sleep 3
check "a regular run stuck in /bin/sleep: still Fail" heuristics_result n1 Fail
reload "${base[@]}" heuristics.exec_ok=/bin/true
check "reloaded exec_ok=/bin/true during the stuck run: Pass within 8 s, not after it" \
    lab_wait_until 8 heuristics_result n1 Pass

# A third configured node (never started): qnetd must get the changed config list.
lab_write_config "${base[@]}" heuristics.exec_ok=/bin/true
edit_conf '/^nodelist {/a\	node {\n\t\tnodeid: 3\n\t\tname: n3\n\t\tring0_addr: 198.18.0.3\n\t}'
lab_exec n1 timeout 10 "$CFGTOOL" -R >/dev/null
check "node list with node 3: qdevice-tool shows it" \
    lab_wait_until 10 eval 'lab_qdevice_tool n1 -s | grep -q "Node ID = 3"'
check "node list with node 3: qnetd has the changed config list" \
    lab_wait_until 10 eval 'lab_qnetd_tool -l | grep -Ec "Configured node list:.*\<3\>" | grep -qx 2'
check "node list with node 3: still quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"

before=$(debug_lines n1)
check "without -d and logging.debug: no debug lines" test "$before" -eq 0
edit_conf '/^logging {/a\	debug: on'
lab_exec n1 timeout 10 "$CFGTOOL" -R >/dev/null
check "logging.debug: on reloaded: debug lines appear" \
    lab_wait_until 15 eval '[ "$(debug_lines n1)" -gt 0 ]'
