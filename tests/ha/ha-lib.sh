# shellcheck shell=bash
# tests/ha/ha-lib.sh: an arbiter cluster on real Pacemaker inside the drill lab.
#
# Sourced by tests/ha/test-*.sh; sources tests/e2e/lib.sh and reuses its lab (hub bridge,
# namespaces, private /run and /etc/corosync, nftables faults, corosync helpers, sampler).
# On top of it: three arbiter hosts a1..a3 (198.18.0.11..13), each running corosync and
# pacemakerd in its own network, mount and UTS namespaces, with private /var/lib/pacemaker,
# /var/log/pacemaker and /run; a group "arbiter" of an IPaddr2 floating address
# (HA_VIP) and qnetd; the workload nodes n1..nN of lib.sh point their qdevice at HA_VIP.
# Lab only: stonith-enabled=false (production needs fencing), no-quorum-policy=stop.
# shellcheck disable=SC2015,SC2016,SC2034,SC2120

HA_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HA_TOP=$(cd "$HA_HERE/../.." && pwd)

# --- binaries: ours, as the drills use them (daemons, tools, certutils: lib.sh's LAB_OURS)
LAB_OURS="qnetd qdevice certutil"
: "${HA_AGENT:=$HA_TOP/ha/qnetd}"	# the OCF agent under test (ocf:qnet:qnetd)
: "${PACEMAKERD:=/usr/sbin/pacemakerd}"
: "${LAB_DUMP_LINES:=25}"
# shellcheck source=../e2e/lib.sh
. "$HA_HERE/../e2e/lib.sh"
export QNETD_BIN QNETD_TOOL QDEVICE_BIN QDEVICE_TOOL QNETD_CERTUTIL QDEVICE_CERTUTIL

HA_ARBITERS=(a1 a2 a3)
HA_VIP=198.18.0.50		# the floating address (inside the lab's /24)
HA_CLUSTER=arbiters		# the arbiter cluster's totem.cluster_name
: "${HA_TOKEN:=1000}"		# arbiter cluster's totem.token, ms (E2E-NOTES: ~4-5 s failover)
HA_SAMPLER_PID=""
HA_SAMPLER_FILE=""
# Results of ha_placement_stop.
HA_ROUNDS=0 HA_BOTH_QNETD=0 HA_BOTH_VIP=0 HA_BOTH_VIP_MS=0 HA_FIRST=""

# Mounts of an arbiter host: the lab's (see lib.sh), the pacemaker directories, the OCF
# agent tree (with ocf:qnet:qnetd in it), and its own host name.
_HA_MOUNT_SH='d=$1 h=$2; shift 2
mount --bind "$d/run" /run &&
mount --bind "$d/etc" /etc/corosync &&
mount --bind "$d/lib" /var/lib/corosync &&
mount --bind "$d/log" /var/log/corosync &&
mount --bind "$d/pcmk-lib" /var/lib/pacemaker &&
mount --bind "$d/pcmk-log" /var/log/pacemaker &&
mount --bind "$d/hosts" /etc/hosts &&
{ [ ! -d "$d/../../ocf" ] || mount --bind "$d/../../ocf" /usr/lib/ocf/resource.d; } &&
hostname "$h" ||
	{ echo "ha_exec: mounts failed" >&2; exit 125; }
exec "$@"'

# ha_exec HOST CMD...: run CMD as a process of arbiter HOST (network, mount, UTS views).
ha_exec() {
	local h=$1
	shift
	_lab_host_ok "$h" || return 125
	ip netns exec "${LAB_NS[$h]}" unshare -m -u --propagation private \
	    sh -c "$_HA_MOUNT_SH" ha-exec "$LAB_DIR/hosts/$h" "$h" "$@"
}

# _ha_spawn HOST NAME CMD...: CMD in the background as HOST's daemon NAME (recorded like
# lib.sh's daemons, so lab_cleanup kills it).
_ha_spawn() {
	local h=$1 name=$2 log pid
	shift 2
	log=$LAB_DIR/logs/$h-$name.log
	printf '=== [+%ss] start: %s\n' "$(_lab_elapsed)" "$*" >>"$log"
	ip netns exec "${LAB_NS[$h]}" unshare -m -u --propagation private \
	    sh -c "$_HA_MOUNT_SH" ha-exec "$LAB_DIR/hosts/$h" "$h" "$@" \
	    </dev/null >>"$log" 2>&1 &
	pid=$!
	disown "$pid"
	LAB_PID[$h/$name]=$pid
	LAB_ALL_PIDS+=("$pid")
	lab_log "started $name on $h, pid $pid"
}

# ha_crm HOST CMD...: a pacemaker CLI on HOST, bounded.
ha_crm() {
	local h=$1
	shift
	ha_exec "$h" timeout 15 "$@"
}

# _ha_prepare_host HOST: the private pacemaker directories (E2E-NOTES "Pacemaker in
# namespaces") and a clean /run.
_ha_prepare_host() {
	local d=$LAB_DIR/hosts/$1
	rm -rf -- "${d:?}/run"
	mkdir -p "$d/run/lock" "$d/run/crm" "$d/run/resource-agents" \
	    "$d/pcmk-lib"/{cib,pengine,blackbox,cores} "$d/pcmk-log" ||
		lab_die "setup: pacemaker directories of $1"
	chown hacluster:haclient "$d/run/crm" "$d/pcmk-lib" "$d/pcmk-lib"/{cib,pengine,blackbox,cores} \
	    "$d/pcmk-log" &&
	chmod 0750 "$d/pcmk-lib"/{cib,pengine,blackbox,cores} &&
	chmod 0770 "$d/pcmk-log" || lab_die "setup: ownership of $1's pacemaker directories"
}

# _ha_ocf_tree: a copy of the OCF agent tree with ocf:qnet:qnetd (HA_AGENT) added,
# bind-mounted over /usr/lib/ocf/resource.d on the arbiters only (the real tree is not
# touched, and the agent under test is the tree's, not an installed one).
_ha_ocf_tree() {
	local o=$LAB_DIR/ocf
	[[ -f $HA_AGENT ]] || lab_die "setup: no OCF agent $HA_AGENT"
	cp -a /usr/lib/ocf/resource.d "$o" &&
	mkdir -p "$o/qnet" && cp -- "$HA_AGENT" "$o/qnet/qnetd" && chmod 0755 "$o/qnet/qnetd" ||
		lab_die "setup: cannot build the OCF agent tree with $HA_AGENT"
}

# _ha_write_corosync_conf: the arbiter cluster's corosync.conf on a1..a3.
_ha_write_corosync_conf() {
	local h i n
	for h in "${HA_ARBITERS[@]}"; do
		{
			echo "totem {"
			echo "	version: 2"
			echo "	cluster_name: $HA_CLUSTER"
			echo "	transport: knet"
			echo "	token: $HA_TOKEN"
			echo "	crypto_cipher: none"
			echo "	crypto_hash: none"
			echo "}"
			echo "nodelist {"
			i=0
			for n in "${HA_ARBITERS[@]}"; do
				i=$((i + 1))
				echo "	node {"
				echo "		nodeid: $i"
				echo "		name: $n"
				echo "		ring0_addr: ${LAB_ADDR[$n]}"
				echo "	}"
			done
			echo "}"
			echo "quorum {"
			echo "	provider: corosync_votequorum"
			echo "}"
			_lab_corosync_logging
		} >"$LAB_DIR/hosts/$h/etc/corosync.conf" || lab_die "setup: corosync.conf of $h"
	done
}

# ha_lab NODES: the drill lab with NODES workload nodes, plus the arbiter hosts a1..a3.
ha_lab() {
	local h i=10
	lab_create "${1:?ha_lab: node count}"
	for tool in "$PACEMAKERD" /usr/sbin/crm_mon /usr/sbin/cibadmin /usr/sbin/crm_resource \
	    /usr/sbin/crm_attribute /usr/lib/ocf/resource.d/heartbeat/IPaddr2; do
		[[ -x $tool ]] || lab_die "setup: $tool missing (scripts/dev deps installs pacemaker)"
	done
	id hacluster >/dev/null 2>&1 || lab_die "setup: no hacluster user (install pacemaker)"
	for h in "${HA_ARBITERS[@]}"; do
		i=$((i + 1))
		_lab_add_host "$h" "$LAB_SUBNET_PREFIX.$i"
		_ha_prepare_host "$h"
	done
	_lab_write_hosts_file
	_ha_ocf_tree
	_ha_write_corosync_conf
	lab_log "arbiter hosts ${HA_ARBITERS[*]}, floating address $HA_VIP, agent $HA_AGENT"
}

# ha_share_identity: one arbiter identity on a1..a3, as an operator makes it: the NSS
# database made by lab_make_certs (on the lab's "arb" host: CA, server certificate) is
# a1's; qnetd-certutil -e exports it on a1, -I imports it on a2 and a3.
ha_share_identity() {
	local h f=$LAB_DIR/certs/qnetd-identity.tar
	cp -a "$LAB_DIR/hosts/arb/etc/qnetd" "$LAB_DIR/hosts/a1/etc/" || lab_die "setup: NSS DB to a1"
	_lab_certstep a1 "export identity" "$QNETD_CERTUTIL" -e "$f"
	for h in "${HA_ARBITERS[@]:1}"; do
		_lab_certstep "$h" "import identity" "$QNETD_CERTUTIL" -I "$f"
	done
	lab_log "arbiter identity exported on a1 (qnetd-certutil -e), imported on the others (-I)"
}

# ha_start_host HOST...: corosync on every HOST, then (each once its corosync answers)
# pacemakerd (E2E-NOTES order).
ha_start_host() {
	local h
	for h in "$@"; do _ha_spawn "$h" corosync "$COROSYNC_BIN" -f; done
	for h in "$@"; do
		_lab_wait_daemon "$h" corosync 20 _ha_corosync_up "$h" ||
			lab_die "setup: corosync on $h did not come up"
		_ha_spawn "$h" pacemaker "$PACEMAKERD"
	done
}

_ha_corosync_up() {
	ha_exec "$1" timeout 5 "$CMAPCTL" -g runtime.votequorum.this_node_id >/dev/null 2>&1
}

# ha_online HOST: the arbiter hosts pacemaker on HOST reports online, sorted ("a1 a2 a3").
ha_online() {
	ha_crm "$1" crm_mon -1 --output-as=xml 2>/dev/null |
		sed -n 's/.*<node name="\([^"]*\)".* online="true".*/\1/p' | sort | xargs
}

# ha_wait_online HOST "a1 a2 a3" TIMEOUT_S: HOST sees exactly those online.
ha_wait_online() {
	local h=$1 want=$2 t=$3
	lab_wait_until "$t" eval '[[ $(ha_online '"$h"') == "'"$want"'" ]]'
}

# _ha_primitive ID PROVIDER TYPE NAME=VALUE...: an ocf resource of PROVIDER:TYPE with
# those instance attributes and a monitor every 2 s (values are the lab's, no XML quoting).
_ha_primitive() {
	local id=$1 provider=$2 type=$3 attr
	shift 3
	echo "<primitive id=\"$id\" class=\"ocf\" provider=\"$provider\" type=\"$type\">"
	echo "  <instance_attributes id=\"$id-ia\">"
	for attr; do
		echo "    <nvpair id=\"$id-${attr%%=*}\" name=\"${attr%%=*}\" value=\"${attr#*=}\"/>"
	done
	echo "  </instance_attributes>"
	echo "  <operations>"
	echo "    <op id=\"$id-mon\" name=\"monitor\" interval=\"2s\" timeout=\"20s\"/>"
	echo "  </operations>"
	echo "</primitive>"
}

# ha_configure HOST: cluster properties (lab: no fencing) and the group vip + qnetd
# (ocf:heartbeat:IPaddr2, and ocf:qnet:qnetd from ha/qnetd with the lab's paths).
ha_configure() {
	local h=$1 xml
	ha_crm "$h" crm_attribute -t crm_config -n stonith-enabled -v false &&
	ha_crm "$h" crm_attribute -t crm_config -n no-quorum-policy -v stop &&
	ha_crm "$h" crm_attribute -t rsc_defaults -n resource-stickiness -v 100 ||
		lab_die "setup: cluster properties"
	xml="<group id=\"arbiter\">
$(_ha_primitive vip heartbeat IPaddr2 ip="$HA_VIP" cidr_netmask=24 nic=eth0)
$(_ha_primitive qnetd qnet qnetd binary="$QNETD_BIN" tool_binary="$QNETD_TOOL" \
	nss_db_dir="$LAB_QNETD_DB" ip="$HA_VIP" port="$LAB_QNETD_PORT" tls=on \
	client_cert_required=on lock_file="$LAB_QNETD_LOCK" socket_file="$LAB_QNETD_SOCK" \
	log_file=/var/log/corosync/qnetd.log debug="$( ((LAB_DEBUG)) && echo true || echo false)")
</group>"
	ha_crm "$h" cibadmin -C -o resources -X "$xml" >>"$LAB_DIR/logs/cib.log" 2>&1 ||
		lab_die "setup: cibadmin -C of the arbiter group (logs/cib.log)"
	lab_log "arbiter group configured (vip $HA_VIP + ocf:qnet:qnetd)"
}

# ha_located HOST: where pacemaker on HOST says qnetd runs (host names, sorted).
ha_located() {
	ha_crm "$1" crm_resource --locate -r qnetd -Q 2>/dev/null | sort | xargs
}

# _ha_qnetd_pids HOST: PIDs of our qnetd binary in HOST's network namespace. One pgrep
# and bash's -ef (same inode), not `ip netns pids` (reads every process): samplers need speed.
_ha_qnetd_pids() {
	local p out="" ns=/run/netns/${LAB_NS[$1]}
	for p in $(pgrep -x "${QNETD_BIN##*/}"); do
		[[ /proc/$p/ns/net -ef $ns && /proc/$p/exe -ef $QNETD_BIN ]] && out+="$p "
	done
	echo "${out% }"
}

# _ha_has_vip HOST: the floating address is on an interface of HOST that is up.
_ha_has_vip() {
	ip -n "${LAB_NS[$1]}" -4 -o addr show up 2>/dev/null | grep -q " $HA_VIP/"
}

# ha_active: the one arbiter host running qnetd with the floating address; "" if none
# (or more than one).
ha_active() {
	local h found=()
	for h in "${HA_ARBITERS[@]}"; do
		[[ -n $(_ha_qnetd_pids "$h") ]] && _ha_has_vip "$h" && found+=("$h")
	done
	(( ${#found[@]} == 1 )) && echo "${found[0]}"
}

# ha_qnetd_tool HOST ARGS...: qnetd-tool on an arbiter host, talking to its socket.
ha_qnetd_tool() {
	local h=$1
	shift
	ha_exec "$h" timeout 5 "$QNETD_TOOL" -p "$LAB_QNETD_SOCK" "$@"
}

# ha_votes_back HOST NODE...: the qnetd on HOST lists every NODE, its last ACK/NACK an ACK, and
# every NODE sees all its votes (nodes + qdevice, quorate). Prints nothing.
ha_votes_back() {
	local h=$1 out n
	shift
	out=$(ha_qnetd_tool "$h" -l 2>/dev/null) || return 1
	for n in "$@"; do
		awk -v id="${n#n}" '
			/^ *Node ID / { cur = $3; sub(/:$/, "", cur) }
			# "Vote: V (last ACK/NACK)", e.g. "No change (ACK)"; or just "ACK"
			/^ *Vote:/ && cur == id && ($NF == "(ACK)" || $0 ~ /Vote:[ \t]*ACK[ \t]*$/) { ok = 1 }
			END { exit !ok }' <<<"$out" || return 1
	done
	for n in "$@"; do
		lab_state "$n" quorate=yes "votes=$((${#LAB_NODES[@]} + 1))" || return 1
	done
}

# ha_wait_votes_back FROM_MS TIMEOUT_S NOT_ON NODE...: wait until an active arbiter host
# other than NOT_ON ("" for any) exists and ha_votes_back holds there. Sets, in ms from
# FROM_MS, HA_UP_MS (first time that host's qnetd answers qnetd-tool -s) and HA_VOTES_MS
# (every NODE's vote back), and HA_NEW_ACTIVE. Polls every ~0.1 s plus the queries' time.
HA_VOTES_MS=-1 HA_UP_MS=-1 HA_NEW_ACTIVE=""
ha_wait_votes_back() {
	local from=$1 deadline=$(( $(_lab_now_ms) + $2 * 1000 )) not=$3 a
	shift 3
	HA_VOTES_MS=-1 HA_UP_MS=-1 HA_NEW_ACTIVE=""
	while (( $(_lab_now_ms) < deadline )); do
		a=$(ha_active)
		[[ -n $a && $a == "$not" ]] && a=""
		if [[ -n $a ]] && (( HA_UP_MS < 0 )) && ha_qnetd_tool "$a" -s >/dev/null 2>&1; then
			HA_UP_MS=$(( $(_lab_now_ms) - from ))
		fi
		if [[ -n $a ]] && (( HA_UP_MS >= 0 )) && ha_votes_back "$a" "$@"; then
			HA_VOTES_MS=$(( $(_lab_now_ms) - from ))
			HA_NEW_ACTIVE=$a
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ha_kill_host HOST: power off: SIGKILL every process of HOST's network namespace (until
# none is left, bounded), and take its link down (E2E-NOTES: killed pacemaker children
# survive pacemakerd; a node whose link stays up keeps the floating address).
ha_kill_host() {
	local h=$1 ns=${LAB_NS[$1]} pids=() p i k
	ip -n "$ns" link set eth0 down
	for ((i = 0; i < 50; i++)); do
		read -ra pids <<<"$(ip netns pids "$ns" 2>/dev/null | xargs)"
		(( ${#pids[@]} )) || break
		for p in "${pids[@]}"; do kill -s KILL "$p" 2>/dev/null; done
		LAB_ALL_PIDS+=("${pids[@]}")
		sleep 0.1
	done
	[[ -z $(ip netns pids "$ns" 2>/dev/null) ]] || { echo "# ha_kill_host: $h survives" >&2; return 1; }
	for k in "${!LAB_PID[@]}"; do
		[[ $k == "$h/"* ]] || continue
		wait "${LAB_PID[$k]}" 2>/dev/null
		unset "LAB_PID[$k]"
	done
	_lab_shm_clean "${LAB_ALL_PIDS[@]}"
	lab_log "host $h killed (every process, link down)"
}

# ha_restore_host HOST: boot a killed host again: no floating address left over, link up,
# a clean /run, then corosync and pacemakerd.
ha_restore_host() {
	local h=$1 ns=${LAB_NS[$1]}
	ip -n "$ns" addr del "$HA_VIP/24" dev eth0 2>/dev/null
	_ha_prepare_host "$h"
	ip -n "$ns" link set eth0 up || lab_die "cannot bring $h's link up"
	ha_start_host "$h"
}

# ha_placement_start [LABEL]: sample every HA_SAMPLE_INTERVAL s, per arbiter host,
# whether a qnetd process runs and whether the floating address is up, into
# logs/placement-LABEL.log ("T_MS a1=QV a2=QV a3=QV", Q and V 0 or 1).
: "${HA_SAMPLE_INTERVAL:=0.15}"
ha_placement_start() {
	local label=${1:-run} parent=$$
	HA_SAMPLER_FILE=$LAB_DIR/logs/placement-$label.log
	: >"$HA_SAMPLER_FILE"
	rm -f -- "$LAB_DIR/placement.stop"
	(
		trap - EXIT INT TERM
		while [[ -d $LAB_DIR && ! -e $LAB_DIR/placement.stop ]] && kill -0 "$parent" 2>/dev/null; do
			line=$(_lab_now_ms)
			qpids=$(pgrep -x "${QNETD_BIN##*/}")
			for h in "${HA_ARBITERS[@]}"; do
				q=0 v=0
				for p in $qpids; do
					[[ /proc/$p/ns/net -ef /run/netns/${LAB_NS[$h]} &&
					    /proc/$p/exe -ef $QNETD_BIN ]] && q=1
				done
				_ha_has_vip "$h" && v=1
				line+=" $h=$q$v"
			done
			echo "$line"
			sleep "$HA_SAMPLE_INTERVAL"
		done >>"$HA_SAMPLER_FILE"
	) </dev/null >/dev/null 2>&1 &
	HA_SAMPLER_PID=$!
	disown "$HA_SAMPLER_PID"
}

# ha_placement_stop: stop the sampler; HA_ROUNDS, HA_BOTH_QNETD (rounds with qnetd on
# more than one host), HA_BOTH_VIP (the address up on more than one host) and
# HA_BOTH_VIP_MS (the longest such stretch, first to last reading of it), HA_FIRST (the
# first reading, e.g. "a1=11 a2=00 a3=00").
ha_placement_stop() {
	local pid=$HA_SAMPLER_PID i
	[[ -n $pid ]] || return 1
	: >"$LAB_DIR/placement.stop"
	for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && kill -s KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f -- "$LAB_DIR/placement.stop"
	HA_SAMPLER_PID=""
	HA_FIRST=$(head -n 1 "$HA_SAMPLER_FILE" | cut -d' ' -f2-)
	eval "$(awk '{
		q = v = 0
		for (i = 2; i <= NF; i++) { s = $i; sub(/.*=/, "", s)
			q += substr(s, 1, 1); v += substr(s, 2, 1) }
		n++; if (q > 1) bq++
		if (v > 1) { bv++; if (!vs) vs = $1; if ($1 - vs > vmax) vmax = $1 - vs }
		else vs = 0
	} END { printf "HA_ROUNDS=%d HA_BOTH_QNETD=%d HA_BOTH_VIP=%d HA_BOTH_VIP_MS=%d\n", n, bq, bv, vmax }' "$HA_SAMPLER_FILE")"
	lab_log "placement: $HA_ROUNDS rounds, qnetd on two hosts in $HA_BOTH_QNETD," \
	    "the address on two hosts in $HA_BOTH_VIP (longest $HA_BOTH_VIP_MS ms)"
}

# Stop the placement sampler before lib.sh's cleanup removes the run directory.
eval "_ha_lab_cleanup_orig() $(declare -f lab_cleanup | tail -n +2)"
lab_cleanup() {
	[[ -n $HA_SAMPLER_PID ]] && ha_placement_stop >/dev/null 2>&1
	_ha_lab_cleanup_orig "$@"
}

# On failure, lib.sh prints the lab's logs; add each arbiter's pacemaker actions and errors.
eval "_ha_dump_logs_orig() $(declare -f _lab_dump_logs | tail -n +2)"
_lab_dump_logs() {
	local f
	_ha_dump_logs_orig "$@"
	(( LAB_DUMP_LINES > 0 )) && [[ -n $LAB_DIR && -d $LAB_DIR ]] || return 0
	for f in "$LAB_DIR"/hosts/*/pcmk-log/pacemaker.log; do
		[[ -f $f ]] || continue
		echo "# ---- last $LAB_DUMP_LINES actions/errors of ${f#"$LAB_DIR"/} ----"
		grep -E 'error|warning|Initiating|Result of' "$f" | tail -n "$LAB_DUMP_LINES" |
			cut -c1-220 | sed 's/^/#   /'
	done
}
