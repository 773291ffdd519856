# tests/e2e/lib.sh: run real corosync clusters with qnetd/qdevice in network namespaces.
#
# Sourced (bash) by the scenario scripts test-*.sh. One "lab" per run: a hub namespace
# with a bridge, an arbiter host "arb" (198.18.0.100) and nodes n1..nN (198.18.0.1..N).
# With LAB_LINKS=2 every node also has eth1 on a second bridge (198.18.1.1..N), its
# knet link 1 (ring1_addr); lab_cut_link cuts one link, lab_partition every link.
# Each host also gets a private mount namespace per command (see lab_exec) in which
# per-host directories replace /run, /etc/corosync, /var/lib/corosync, /var/log/corosync.
# Everything the lab creates is torn down by the EXIT/INT/TERM trap, even on failure.
# Needs root, iproute2, nftables, util-linux (unshare, mount), coreutils (timeout).
# See README.md for the variables that select which binaries run.
# shellcheck disable=SC2015,SC2016,SC2119,SC2120

# ---------------------------------------------------------------------------------------
# Settings (environment overrides)
# ---------------------------------------------------------------------------------------
# A suite that tests our builds sets LAB_OURS before sourcing this file: "qdevice"
# (qdevice and qdevice-tool), "qnetd" (qnetd and qnetd-tool), "certutil" (the tree's
# certs/qnetd-certutil and certs/qdevice-net-certutil) or several; those then default
# to QNET_BUILD's (the tree's build/ unless set) or the tree's instead of Debian's. A
# variable the caller set (QDEVICE_BIN=...) always wins. LAB_TOP is the source tree.
LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${QNET_BUILD:=$LAB_TOP/build}"
if [[ " ${LAB_OURS:-} " == *" qdevice "* ]]; then
	: "${QDEVICE_BIN:=$QNET_BUILD/qdevice/qdevice}"
	: "${QDEVICE_TOOL:=$QNET_BUILD/qdevice/qdevice-tool}"
fi
if [[ " ${LAB_OURS:-} " == *" qnetd "* ]]; then
	: "${QNETD_BIN:=$QNET_BUILD/qnetd/qnetd}"
	: "${QNETD_TOOL:=$QNET_BUILD/qnetd/qnetd-tool}"
fi
if [[ " ${LAB_OURS:-} " == *" certutil "* ]]; then
	: "${QNETD_CERTUTIL:=$LAB_TOP/certs/qnetd-certutil}"
	: "${QDEVICE_CERTUTIL:=$LAB_TOP/certs/qdevice-net-certutil}"
fi
: "${COROSYNC_BIN:=/usr/sbin/corosync}"
: "${QUORUMTOOL:=/usr/sbin/corosync-quorumtool}"
: "${CMAPCTL:=/usr/sbin/corosync-cmapctl}"
: "${QNETD_BIN:=/usr/bin/corosync-qnetd}"
: "${QNETD_TOOL:=/usr/bin/corosync-qnetd-tool}"
: "${QDEVICE_BIN:=/usr/sbin/corosync-qdevice}"
: "${QDEVICE_TOOL:=/usr/sbin/corosync-qdevice-tool}"
: "${QNETD_CERTUTIL:=/usr/bin/corosync-qnetd-certutil}"
: "${QDEVICE_CERTUTIL:=/usr/sbin/corosync-qdevice-net-certutil}"

: "${LAB_TMPDIR:=/tmp}"		# run directories are created below this
: "${LAB_KEEP:=0}"		# 1: keep the run directory (logs) after the run
: "${LAB_DUMP_LINES:=40}"	# on failure, print this many last lines of each log (0: none)
: "${LAB_DEBUG:=1}"		# 1: run qnetd and qdevice with -d
: "${LAB_CLUSTER:=e2e}"		# totem.cluster_name (= cluster certificate CN)
: "${LAB_QNETD_PORT:=5403}"
: "${LAB_HOLD:=6}"		# seconds a settled state must hold (E2E-NOTES: >= 6 s)
: "${LAB_SETTLE_TIMEOUT:=45}"	# upper bound for lab_settled, seconds
: "${LAB_POLL:=0.5}"		# poll interval of all wait loops, seconds
: "${LAB_STRICT:=0}"		# 1: lab_settled fails on any wrong reading after LAB_GRACE
: "${LAB_GRACE:=1}"		# strict mode: seconds after the new membership before judging
: "${LAB_LINKS:=1}"		# knet links per node, 1 or 2 (set before lab_create)

LAB_SUBNET_PREFIX=198.18.0	# /24 inside 198.18.0.0/15 (RFC 2544), never anything else
LAB_ARB_ADDR=$LAB_SUBNET_PREFIX.100
LAB_LINK_PREFIX=(198.18.0 198.18.1)	# subnet of knet link L (link 0 = LAB_SUBNET_PREFIX)

# Paths inside a host's private mount namespace (the defaults; passed explicitly anyway).
LAB_QNETD_DB=/etc/corosync/qnetd/nssdb
LAB_QNETD_LOCK=/run/corosync-qnetd/corosync-qnetd.pid
LAB_QNETD_SOCK=/run/corosync-qnetd/corosync-qnetd.sock
LAB_QDEVICE_DB=/etc/corosync/qdevice/net/nssdb
LAB_QDEVICE_LOCK=/run/corosync-qdevice/corosync-qdevice.pid
LAB_QDEVICE_SOCK=/run/corosync-qdevice/corosync-qdevice.sock

# ---------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------
LAB_PREFIX=""			# unique per run, prefix of every namespace name
LAB_DIR=""			# run directory (hosts/, logs/, certs/)
LAB_NODES=()			# n1 .. nN
LAB_HOSTS=()			# arb n1 .. nN
LAB_NETNS=()			# every namespace created, hub included (for cleanup)
declare -A LAB_NS=()		# host -> namespace name
declare -A LAB_ADDR=()		# host -> IPv4 address (link 0, eth0)
declare -A LAB_LINK_ADDR=()	# "host/L" -> address of a node on knet link L (eth<L>)
declare -A LAB_PID=()		# "host/daemon" -> PID of a running daemon we started
LAB_ALL_PIDS=()			# every PID we ever started (for /dev/shm cleanup)
declare -A LAB_BLOCK=()		# "hostA|hostB" (sorted) -> 1 while traffic is dropped
declare -A LAB_LINK_BLOCK=()	# "L|hostA|hostB" -> 1 while link L between them is cut
declare -A LAB_CONF=()		# current cluster configuration (lab_write_config)
declare -p LAB_QDEVICE_ARGS >/dev/null 2>&1 || LAB_QDEVICE_ARGS=()	# extra qdevice args
LAB_PASSED=0
LAB_FAILED=0
LAB_T0_MS=0
LAB_CLEANED=0
LAB_FAILED_AT_CREATE=0		# LAB_FAILED when the lab was created (lab_destroy)

# Last lab_query result.
Q_OK=0 Q_QUORATE="" Q_TOTAL="" Q_EXPECTED="" Q_RING="" Q_MEMBERS="" Q_FLAGS=""

# ---------------------------------------------------------------------------------------
# Output, checks, summary
# ---------------------------------------------------------------------------------------

_lab_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# Seconds since lab start with one decimal, e.g. "12.3".
_lab_elapsed() {
	local d=$(( $(_lab_now_ms) - LAB_T0_MS ))
	printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100))
}

# _lab_ms_str MS: "1.23 s"
_lab_ms_str() {
	printf '%d.%02d s' $(($1 / 1000)) $((($1 % 1000) / 10))
}

# lab_log MSG...: a diagnostic line ("# [+T s] MSG").
lab_log() {
	printf '# [+%ss] %s\n' "$(_lab_elapsed)" "$*"
}

# check DESCRIPTION CMD...: run CMD, print "ok - DESCRIPTION" or "not ok - DESCRIPTION".
check() {
	local desc=$1
	shift
	if "$@"; then
		LAB_PASSED=$((LAB_PASSED + 1))
		echo "ok - $desc"
		return 0
	fi
	LAB_FAILED=$((LAB_FAILED + 1))
	echo "not ok - $desc"
	return 1
}

# lab_die MSG: a setup step failed; count it as a failure and exit (cleanup runs).
lab_die() {
	LAB_FAILED=$((LAB_FAILED + 1))
	echo "not ok - $*"
	exit 1
}

# ---------------------------------------------------------------------------------------
# Lab creation
# ---------------------------------------------------------------------------------------

# Resolve a binary variable to an absolute path (relative paths are taken from the
# current directory), so that it still works inside lab_exec.
_lab_resolve() {
	local var=$1 val=${!1} p
	if [[ $val == */* ]]; then
		p=$(realpath -m -- "$val")
	else
		p=$(command -v -- "$val") || p=""
	fi
	[[ -n $p && -x $p ]] || lab_die "setup: $var=$val is not an executable"
	printf -v "$var" '%s' "$p"
}

_lab_install_traps() {
	trap '_lab_on_exit' EXIT
	trap 'echo "# interrupted (SIGINT)"; exit 130' INT
	trap 'echo "# terminated (SIGTERM)"; exit 143' TERM
}

# lab_create N: build a lab with an arbiter and N nodes; installs the cleanup trap.
lab_create() {
	local n=${1:?lab_create: node count} i tool

	LAB_T0_MS=$(_lab_now_ms)
	LAB_FAILED_AT_CREATE=$LAB_FAILED
	_lab_install_traps
	[[ $(id -u) == 0 ]] || lab_die "setup: must run as root"
	(( n >= 1 && n <= 99 )) || lab_die "setup: node count $n out of range 1..99"
	[[ $LAB_LINKS == [12] ]] || lab_die "setup: LAB_LINKS=$LAB_LINKS: say 1 or 2"
	for tool in ip nft unshare mount timeout realpath mktemp; do
		command -v "$tool" >/dev/null || lab_die "setup: $tool not found"
	done
	for tool in COROSYNC_BIN QUORUMTOOL CMAPCTL QNETD_BIN QNETD_TOOL QDEVICE_BIN \
	    QDEVICE_TOOL QNETD_CERTUTIL QDEVICE_CERTUTIL; do
		_lab_resolve "$tool"
	done

	case $(realpath -m -- "$LAB_TMPDIR")/ in
	/run/* | /var/run/* | /etc/corosync/* | /var/lib/corosync/* | /var/log/corosync/*)
		lab_die "setup: LAB_TMPDIR must not be under a path that lab_exec hides";;
	esac
	LAB_DIR=$(mktemp -d "$LAB_TMPDIR/qnet-e2e.XXXXXX") || lab_die "setup: mktemp failed"
	chmod 0755 "$LAB_DIR"
	mkdir -p "$LAB_DIR/logs" "$LAB_DIR/certs" "$LAB_DIR/hosts"

	# Unique prefix: our PID, plus a suffix if a crashed earlier run left namespaces.
	LAB_PREFIX="qe$$"
	while ip netns list | grep -q "^$LAB_PREFIX-"; do
		LAB_PREFIX="qe$$x$RANDOM"
	done
	lab_log "lab $LAB_PREFIX in $LAB_DIR ($n nodes, $LAB_LINKS knet link(s) each)"

	_lab_netns_add "$LAB_PREFIX-hub"
	ip -n "$LAB_PREFIX-hub" link set lo up || lab_die "setup: hub loopback"
	for ((i = 0; i < LAB_LINKS; i++)); do
		ip -n "$LAB_PREFIX-hub" link add "br$i" type bridge stp_state 0 forward_delay 0 &&
		ip -n "$LAB_PREFIX-hub" link set "br$i" up ||
			lab_die "setup: cannot create the bridge br$i"
	done

	_lab_add_host arb "$LAB_ARB_ADDR"
	LAB_NODES=()
	for ((i = 1; i <= n; i++)); do
		_lab_add_host "n$i" "$LAB_SUBNET_PREFIX.$i"
		LAB_LINK_ADDR[n$i/0]=$LAB_SUBNET_PREFIX.$i
		(( LAB_LINKS < 2 )) || _lab_add_link "n$i" 1 "${LAB_LINK_PREFIX[1]}.$i"
		LAB_NODES+=("n$i")
	done
	_lab_write_hosts_file
}

# _lab_add_link HOST L ADDR: a further interface eth<L> of HOST on bridge br<L> (knet link L).
_lab_add_link() {
	local h=$1 l=$2 addr=$3 ns="$LAB_PREFIX-$1" hub="$LAB_PREFIX-hub"
	ip -n "$hub" link add "v$l-$h" type veth peer name "eth$l" netns "$ns" &&
	ip -n "$hub" link set "v$l-$h" master "br$l" &&
	ip -n "$hub" link set "v$l-$h" up &&
	ip -n "$ns" addr add "$addr/24" dev "eth$l" &&
	ip -n "$ns" link set "eth$l" up ||
		lab_die "setup: cannot wire link $l of host $h"
	LAB_LINK_ADDR[$h/$l]=$addr
}

# _lab_write_hosts_file: every host's /etc/hosts (bind-mounted by lab_exec) is the real one
# plus the lab's names (nX -> its link 0 address, arb), so node names resolve as on a real
# cluster; a name that is not there does not.
_lab_write_hosts_file() {
	local h f n
	for h in "${LAB_HOSTS[@]}"; do
		f=$LAB_DIR/hosts/$h/hosts
		{
			cat /etc/hosts 2>/dev/null
			echo "# qnet e2e lab $LAB_PREFIX"
			for n in "${LAB_HOSTS[@]}"; do echo "${LAB_ADDR[$n]}	$n"; done
		} >"$f" || lab_die "setup: cannot write $f"
	done
}

_lab_netns_add() {
	ip netns add "$1" || lab_die "setup: ip netns add $1 failed"
	LAB_NETNS+=("$1")
}

# _lab_add_host NAME ADDR: namespace, veth to the hub bridge, private directories.
_lab_add_host() {
	local h=$1 addr=$2 ns="$LAB_PREFIX-$1" hub="$LAB_PREFIX-hub" d

	_lab_netns_add "$ns"
	LAB_NS[$h]=$ns
	LAB_ADDR[$h]=$addr
	LAB_HOSTS+=("$h")
	d=$LAB_DIR/hosts/$h
	mkdir -p "$d/run/lock" "$d/etc" "$d/lib" "$d/log" || lab_die "setup: mkdir $d"

	ip -n "$hub" link add "v-$h" type veth peer name eth0 netns "$ns" &&
	ip -n "$hub" link set "v-$h" master br0 &&
	ip -n "$hub" link set "v-$h" up &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" addr add "$addr/24" dev eth0 &&
	ip -n "$ns" link set eth0 up ||
		lab_die "setup: cannot wire host $h"
}

# The shell snippet run by lab_exec inside the new mount namespace.
_LAB_MOUNT_SH='d=$1; shift
mount --bind "$d/run" /run &&
mount --bind "$d/etc" /etc/corosync &&
mount --bind "$d/lib" /var/lib/corosync &&
mount --bind "$d/log" /var/log/corosync &&
{ [ ! -f "$d/hosts" ] || [ ! -f /etc/hosts ] || mount --bind "$d/hosts" /etc/hosts; } ||
	{ echo "lab_exec: bind mounts failed" >&2; exit 125; }
exec "$@"'

_lab_host_ok() {
	[[ -n ${LAB_NS[$1]:-} ]] || { echo "# unknown host '$1'" >&2; return 1; }
}

# lab_exec HOST CMD...: run CMD as a process of HOST (its network namespace, its private
# /run, /etc/corosync, /var/lib/corosync, /var/log/corosync, and an /etc/hosts that knows
# the lab's host names). The command is exec'ed,
# so in the background $! is its PID.
lab_exec() {
	local h=$1
	shift
	_lab_host_ok "$h" || return 125
	ip netns exec "${LAB_NS[$h]}" unshare -m --propagation private \
	    sh -c "$_LAB_MOUNT_SH" lab-exec "$LAB_DIR/hosts/$h" "$@"
}

# lab_path HOST PATH: where PATH of HOST's private directories lives in the real tree.
lab_path() {
	local h=$1 p=$2 d=$LAB_DIR/hosts/$1
	case $p in
	/run/* | /var/run/*)	echo "$d/run/${p#*/run/}";;
	/etc/corosync/*)	echo "$d/etc/${p#/etc/corosync/}";;
	/var/lib/corosync/*)	echo "$d/lib/${p#/var/lib/corosync/}";;
	/var/log/corosync/*)	echo "$d/log/${p#/var/log/corosync/}";;
	*)			echo "$p";;
	esac
}

# ---------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------

# _lab_alive PID: the process exists and is not a zombie.
_lab_alive() {
	local st
	{ st=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
	st=${st##*) }		# the state follows "(comm) "
	st=${st%% *}
	[[ -n $st && $st != Z && $st != X ]]
}

# _lab_pid_ours PID HOST: alive and living in HOST's network namespace (guards against a
# recycled PID).
_lab_pid_ours() {
	local pid=$1 h=$2 want got
	_lab_alive "$pid" || return 1
	want=$(stat -L -c %i "/run/netns/${LAB_NS[$h]}" 2>/dev/null) || return 1
	got=$(readlink "/proc/$pid/ns/net" 2>/dev/null) || return 1
	[[ $got == "net:[$want]" ]]
}

# _lab_spawn HOST NAME CMD...: start CMD in the background as HOST's daemon NAME.
_lab_spawn() {
	local h=$1 name=$2 log pid
	shift 2
	log=$LAB_DIR/logs/$h-$name.log
	printf '=== [+%ss] start: %s\n' "$(_lab_elapsed)" "$*" >>"$log"
	ip netns exec "${LAB_NS[$h]}" unshare -m --propagation private \
	    sh -c "$_LAB_MOUNT_SH" lab-exec "$LAB_DIR/hosts/$h" "$@" </dev/null >>"$log" 2>&1 &
	pid=$!
	disown "$pid"	# no "Killed" job notices; bash still reaps it
	LAB_PID[$h/$name]=$pid
	LAB_ALL_PIDS+=("$pid")
	lab_log "started $name on $h, pid $pid"
}

# _lab_shm_clean PID...: remove libqb leftovers in /dev/shm of our dead processes:
# qb-NAME-PID-* (blackbox of PID), qb-PID-CLIENT-* (IPC server PID), and
# qb-SERVER-PID-* when the server is dead as well (both ends were ours).
_lab_shm_clean() {
	local pid f rest a b
	local -A dead=()
	for pid in "$@"; do
		[[ $pid =~ ^[0-9]+$ ]] && ! _lab_alive "$pid" && dead[$pid]=1
	done
	(( ${#dead[@]} )) || return 0
	for f in /dev/shm/qb-*; do
		[[ -e $f ]] || continue
		rest=${f#/dev/shm/qb-}
		a=${rest%%-*}
		rest=${rest#*-}
		b=${rest%%-*}
		if [[ $a =~ ^[0-9]+$ ]]; then
			[[ -n ${dead[$a]:-} ]] || { [[ -n ${dead[$b]:-} ]] && ! _lab_alive "$a"; } ||
				continue
		else
			[[ -n ${dead[$b]:-} ]] || continue
		fi
		rm -rf -- "$f"
	done
}

# _lab_reap PID TIMEOUT_S: wait (bounded) until PID is gone, then collect its status.
_lab_reap() {
	local pid=$1 deadline=$(( $(_lab_now_ms) + $2 * 1000 ))
	while _lab_alive "$pid"; do
		(( $(_lab_now_ms) < deadline )) || return 1
		sleep 0.1
	done
	wait "$pid" 2>/dev/null
	return 0
}

# lab_kill HOST DAEMON [SIGNAL]: signal (default KILL) a daemon we started, wait for it,
# clean its /dev/shm leftovers. DAEMON is corosync, qdevice or qnetd.
lab_kill() {
	local h=$1 d=$2 sig=${3:-KILL} pid=${LAB_PID[$1/$2]:-}
	[[ -n $pid ]] || { echo "# lab_kill: no $d running on $h" >&2; return 1; }
	if _lab_pid_ours "$pid" "$h"; then
		kill -s "$sig" "$pid" 2>/dev/null
	fi
	if ! _lab_reap "$pid" 10; then
		echo "# lab_kill: $d on $h (pid $pid) did not exit on SIG$sig, killing" >&2
		_lab_pid_ours "$pid" "$h" && kill -s KILL "$pid" 2>/dev/null
		_lab_reap "$pid" 5 || { echo "# lab_kill: pid $pid survives" >&2; return 1; }
	fi
	unset "LAB_PID[$h/$d]"
	_lab_shm_clean "$pid"
	lab_log "$d on $h (pid $pid) gone after SIG$sig"
}

# lab_stop DAEMON HOST...: orderly stop of DAEMON on the hosts, all at once (SIGTERM,
# SIGKILL after 15 s).
lab_stop() {
	local d=$1 h pid
	shift
	for h in "$@"; do
		pid=${LAB_PID[$h/$d]:-}
		[[ -n $pid ]] && _lab_pid_ours "$pid" "$h" && kill -s TERM "$pid" 2>/dev/null
	done
	for h in "$@"; do
		pid=${LAB_PID[$h/$d]:-}
		[[ -n $pid ]] || continue
		if ! _lab_reap "$pid" 15; then
			echo "# lab_stop: $d on $h ignores SIGTERM, killing" >&2
			_lab_pid_ours "$pid" "$h" && kill -s KILL "$pid" 2>/dev/null
			_lab_reap "$pid" 5
		fi
		unset "LAB_PID[$h/$d]"
		_lab_shm_clean "$pid"
		lab_log "stopped $d on $h (pid $pid)"
	done
}

lab_kill_node() {
	[[ -n ${LAB_PID[$1/qdevice]:-} ]] && lab_kill "$1" qdevice
	lab_kill "$1" corosync
}
lab_kill_qnetd() { lab_kill arb qnetd; }
lab_kill_qdevice() { lab_kill "$1" qdevice; }

# lab_running HOST DAEMON: the daemon we started is still alive.
lab_running() {
	local pid=${LAB_PID[$1/$2]:-}
	[[ -n $pid ]] && _lab_pid_ours "$pid" "$1"
}

# ---------------------------------------------------------------------------------------
# Waiting
# ---------------------------------------------------------------------------------------

# lab_wait_until TIMEOUT_S CMD...: poll CMD every LAB_POLL s until it succeeds; 1 on timeout.
lab_wait_until() {
	local deadline=$(( $(_lab_now_ms) + $1 * 1000 ))
	shift
	while ! "$@"; do
		(( $(_lab_now_ms) < deadline )) || return 1
		sleep "$LAB_POLL"
	done
	return 0
}

# ---------------------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------------------

# _lab_certstep HOST DESC CMD...: one certutil step inside HOST; its output goes to the log.
_lab_certstep() {
	local h=$1 desc=$2
	shift 2
	echo "=== $h: $*" >>"$LAB_DIR/logs/certs.log"
	lab_exec "$h" "$@" </dev/null >>"$LAB_DIR/logs/certs.log" 2>&1 ||
		lab_die "setup: certificates: $desc on $h failed (see logs/certs.log)"
}

_lab_copy_out() {
	cp -- "$1" "$2" 2>/dev/null || lab_die "setup: certificates: missing $1"
}

# lab_make_certs: NSS databases for the arbiter and every node, the way an operator does
# it with QNETD_CERTUTIL / QDEVICE_CERTUTIL (docs/protocol.md 6). Files travel through certs/.
lab_make_certs() {
	local c=$LAB_DIR/certs first=${LAB_NODES[0]} n

	_lab_certstep arb "init CA" "$QNETD_CERTUTIL" -i
	_lab_copy_out "$(lab_path arb "$LAB_QNETD_DB/qnetd-cacert.crt")" "$c/qnetd-cacert.crt"
	for n in "${LAB_NODES[@]}"; do
		_lab_certstep "$n" "init node DB" "$QDEVICE_CERTUTIL" -i -c "$c/qnetd-cacert.crt"
	done
	_lab_certstep "$first" "request" "$QDEVICE_CERTUTIL" -r -n "$LAB_CLUSTER"
	_lab_copy_out "$(lab_path "$first" "$LAB_QDEVICE_DB/qdevice-net-node.crq")" \
	    "$c/qdevice-net-node.crq"
	_lab_certstep arb "sign" "$QNETD_CERTUTIL" -s -c "$c/qdevice-net-node.crq" -n "$LAB_CLUSTER"
	_lab_copy_out "$(lab_path arb "$LAB_QNETD_DB/cluster-$LAB_CLUSTER.crt")" \
	    "$c/cluster-$LAB_CLUSTER.crt"
	_lab_certstep "$first" "import signed cert" "$QDEVICE_CERTUTIL" -M \
	    -c "$c/cluster-$LAB_CLUSTER.crt"
	_lab_copy_out "$(lab_path "$first" "$LAB_QDEVICE_DB/qdevice-net-node.p12")" \
	    "$c/qdevice-net-node.p12"
	for n in "${LAB_NODES[@]:1}"; do
		_lab_certstep "$n" "import p12" "$QDEVICE_CERTUTIL" -m -c "$c/qdevice-net-node.p12"
	done
	lab_log "certificates ready (cluster $LAB_CLUSTER)"
}

# lab_save_certs DIR: keep the arbiter's and the first node's NSS databases in DIR, so
# that a later lab of the same cluster name can skip lab_make_certs (lab_load_certs).
lab_save_certs() {
	local d=$1
	mkdir -p "$d/arb" "$d/node" &&
	cp -a "$LAB_DIR/hosts/arb/etc/qnetd" "$d/arb/" &&
	cp -a "$LAB_DIR/hosts/${LAB_NODES[0]}/etc/qdevice" "$d/node/" ||
		lab_die "setup: cannot save the certificates to $d"
}

# lab_load_certs DIR: the databases of lab_save_certs for the arbiter and every node (a
# node's database holds the CA and the cluster's client certificate, the same on all).
lab_load_certs() {
	local d=$1 n
	cp -a "$d/arb/qnetd" "$LAB_DIR/hosts/arb/etc/" ||
		lab_die "setup: cannot load the arbiter's certificates from $d"
	for n in "${LAB_NODES[@]}"; do
		cp -a "$d/node/qdevice" "$LAB_DIR/hosts/$n/etc/" ||
			lab_die "setup: cannot load $n's certificates from $d"
	done
	lab_log "certificates loaded from $d (cluster $LAB_CLUSTER)"
}

# ---------------------------------------------------------------------------------------
# corosync.conf
# ---------------------------------------------------------------------------------------

# _lab_corosync_logging [SUBSYS...]: corosync.conf's logging section as every lab host has
# it (the host's own log file, hires timestamps), with debug on for each SUBSYS.
_lab_corosync_logging() {
	local s
	echo "logging {"
	echo "	to_logfile: yes"
	echo "	logfile: /var/log/corosync/corosync.log"
	echo "	to_stderr: no"
	echo "	to_syslog: no"
	echo "	timestamp: hires"
	for s in "$@"; do
		echo "	logger_subsys {"
		echo "		subsys: $s"
		echo "		debug: on"
		echo "	}"
	done
	echo "}"
}

# lab_write_config [KEY=VALUE...]: write /etc/corosync/corosync.conf of every node.
# Shorthands: algorithm= tie_breaker= tls= (quorum.device.net.*), votes=, heuristics=
# (mode), device=none (no quorum.device section), token=, links=N (knet links written,
# default LAB_LINKS), host=ADDR (quorum.device.net.host, default the arbiter),
# name.nX=NAME (node nX's name, default nX). Dotted keys go to their section:
# totem.K=V, quorum.K=V, device.K=V, net.K=V, heuristics.K=V (e.g. heuristics.exec_ping=...),
# link.K=V (every totem.interface section, one per link, e.g. link.knet_ping_timeout=600).
# Defaults: algorithm=ffsplit tie_breaker=lowest tls=on, votes=1 for ffsplit.
lab_write_config() {
	local kv k v n i l
	local -A c=([algorithm]=ffsplit [tie_breaker]=lowest [tls]=on [device]=on
	    [links]=$LAB_LINKS [host]=$LAB_ARB_ADDR)
	local -A names=()
	local -a totem=() quorum=() device=() net=() heur=() iface=()

	for kv in "$@"; do
		[[ $kv == *=* ]] || lab_die "setup: lab_write_config: '$kv' is not KEY=VALUE"
		k=${kv%%=*} v=${kv#*=}
		case $k in
		algorithm | tie_breaker | tls | votes | heuristics | device | links | host)
			c[$k]=$v;;
		name.n[0-9]*)	names[${k#name.}]=$v;;
		token)		totem+=("token: $v");;
		totem.*)	totem+=("${k#totem.}: $v");;
		quorum.*)	quorum+=("${k#quorum.}: $v");;
		device.*)	device+=("${k#device.}: $v");;
		net.*)		net+=("${k#net.}: $v");;
		heuristics.*)	heur+=("${k#heuristics.}: $v");;
		link.*)		iface+=("${k#link.}: $v");;
		*)		lab_die "setup: lab_write_config: unknown key '$k'";;
		esac
	done
	[[ -z ${c[votes]:-} && ${c[algorithm]} == ffsplit ]] && c[votes]=1
	[[ ${c[links]} =~ ^[1-9]$ ]] && (( c[links] <= LAB_LINKS )) ||
		lab_die "setup: lab_write_config: links=${c[links]}, the lab has $LAB_LINKS"
	LAB_CONF=()
	for k in "${!c[@]}"; do LAB_CONF[$k]=${c[$k]}; done

	for n in "${LAB_NODES[@]}"; do
		{
			echo "# written by tests/e2e/lib.sh"
			echo "totem {"
			echo "	version: 2"
			echo "	cluster_name: $LAB_CLUSTER"
			echo "	transport: knet"
			echo "	crypto_cipher: none"
			echo "	crypto_hash: none"
			for i in "${totem[@]}"; do echo "	$i"; done
			if (( c[links] > 1 || ${#iface[@]} )); then
				for ((l = 0; l < c[links]; l++)); do
					echo "	interface {"
					echo "		linknumber: $l"
					for i in "${iface[@]}"; do echo "		$i"; done
					echo "	}"
				done
			fi
			echo "}"
			echo "nodelist {"
			for i in "${LAB_NODES[@]}"; do
				echo "	node {"
				echo "		nodeid: ${i#n}"
				echo "		name: ${names[$i]:-$i}"
				for ((l = 0; l < c[links]; l++)); do
					echo "		ring${l}_addr: ${LAB_LINK_ADDR[$i/$l]}"
				done
				echo "	}"
			done
			echo "}"
			echo "quorum {"
			echo "	provider: corosync_votequorum"
			for i in "${quorum[@]}"; do echo "	$i"; done
			if [[ ${c[device]} != none ]]; then
				echo "	device {"
				echo "		model: net"
				[[ -n ${c[votes]:-} ]] && echo "		votes: ${c[votes]}"
				for i in "${device[@]}"; do echo "		$i"; done
				echo "		net {"
				echo "			host: ${c[host]}"
				echo "			port: $LAB_QNETD_PORT"
				echo "			algorithm: ${c[algorithm]}"
				echo "			tie_breaker: ${c[tie_breaker]}"
				echo "			tls: ${c[tls]}"
				for i in "${net[@]}"; do echo "			$i"; done
				echo "		}"
				if [[ -n ${c[heuristics]:-} || ${#heur[@]} -gt 0 ]]; then
					echo "		heuristics {"
					[[ -n ${c[heuristics]:-} ]] &&
						echo "			mode: ${c[heuristics]}"
					for i in "${heur[@]}"; do echo "			$i"; done
					echo "		}"
				fi
				echo "	}"
			fi
			echo "}"
			_lab_corosync_logging VOTEQ
		} >"$LAB_DIR/hosts/$n/etc/corosync.conf" ||
			lab_die "setup: cannot write corosync.conf of $n"
	done
	lab_log "corosync.conf: algorithm=${c[algorithm]} tie_breaker=${c[tie_breaker]}" \
	    "tls=${c[tls]} votes=${c[votes]:-default} heuristics=${c[heuristics]:-off}" \
	    "links=${c[links]}"
}

# ---------------------------------------------------------------------------------------
# Daemons
# ---------------------------------------------------------------------------------------

_lab_corosync_up() {
	lab_exec "$1" timeout 5 "$CMAPCTL" -g runtime.votequorum.this_node_id >/dev/null 2>&1
}

_lab_daemon_dead() {
	local h=$1 d=$2
	lab_running "$h" "$d" && return 1
	echo "# $d on $h exited; last log lines:" >&2
	tail -n 15 "$LAB_DIR/logs/$h-$d.log" 2>/dev/null | sed 's/^/#   /' >&2
	return 0
}

# _lab_wait_daemon HOST DAEMON TIMEOUT_S READY_CMD...: wait until READY_CMD succeeds;
# gives up at once if the daemon has exited.
_lab_wait_daemon() {
	local h=$1 d=$2 deadline=$(( $(_lab_now_ms) + $3 * 1000 ))
	shift 3
	until "$@"; do
		_lab_daemon_dead "$h" "$d" && return 1
		(( $(_lab_now_ms) < deadline )) || return 1
		sleep "$LAB_POLL"
	done
	return 0
}

# lab_start_corosync [HOST...]: corosync -f on the given nodes (default: all), wait for
# its IPC to answer.
lab_start_corosync() {
	local h hosts=("$@")
	(( ${#hosts[@]} )) || hosts=("${LAB_NODES[@]}")
	for h in "${hosts[@]}"; do
		_lab_host_ok "$h" || lab_die "setup: bad host $h"
		_lab_spawn "$h" corosync "$COROSYNC_BIN" -f
	done
	for h in "${hosts[@]}"; do
		_lab_wait_daemon "$h" corosync 20 _lab_corosync_up "$h" ||
			lab_die "setup: corosync on $h did not come up"
	done
}

# lab_qnetd_tool ARGS...: QNETD_TOOL on the arbiter, talking to our socket.
lab_qnetd_tool() {
	lab_exec arb timeout 10 "$QNETD_TOOL" -p "$LAB_QNETD_SOCK" "$@"
}

# lab_qdevice_tool HOST ARGS...: QDEVICE_TOOL on a node, talking to our socket.
lab_qdevice_tool() {
	local h=$1
	shift
	lab_exec "$h" timeout 10 "$QDEVICE_TOOL" -p "$LAB_QDEVICE_SOCK" "$@"
}

# lab_start_qnetd [QNETD_ARGS...]: qnetd -f on the arbiter with the given TLS options
# (default "-s on -c on"), our port/address/paths, -d if LAB_DEBUG=1.
lab_start_qnetd() {
	local args=("$@")
	(( ${#args[@]} )) || args=(-s on -c on)
	(( LAB_DEBUG )) && args=(-d "${args[@]}")
	_lab_spawn arb qnetd "$QNETD_BIN" -f "${args[@]}" -p "$LAB_QNETD_PORT" -l "$LAB_ARB_ADDR" \
	    -S "nss_db_dir=$LAB_QNETD_DB,lock_file=$LAB_QNETD_LOCK,local_socket_file=$LAB_QNETD_SOCK"
	_lab_wait_daemon arb qnetd 15 eval 'lab_qnetd_tool -s >/dev/null 2>&1' ||
		lab_die "setup: qnetd did not come up"
}

# lab_start_qdevice [HOST...]: qdevice -f on the given nodes (default: all). Extra
# arguments for every qdevice may be put in the array LAB_QDEVICE_ARGS.
lab_start_qdevice() {
	local h hosts=("$@") args=()
	(( ${#hosts[@]} )) || hosts=("${LAB_NODES[@]}")
	(( LAB_DEBUG )) && args=(-d)
	args+=(-S "lock_file=$LAB_QDEVICE_LOCK,local_socket_file=$LAB_QDEVICE_SOCK,net_nss_db_dir=$LAB_QDEVICE_DB")
	args+=("${LAB_QDEVICE_ARGS[@]}")
	for h in "${hosts[@]}"; do
		_lab_host_ok "$h" || lab_die "setup: bad host $h"
		_lab_spawn "$h" qdevice "$QDEVICE_BIN" -f "${args[@]}"
	done
	for h in "${hosts[@]}"; do
		_lab_wait_daemon "$h" qdevice 30 eval "lab_qdevice_tool $h -s >/dev/null 2>&1" ||
			lab_die "setup: qdevice on $h did not come up"
	done
}

# lab_start_cluster: corosync on every node, then, once every node sees the others (or
# after 30 s), qdevice on every node. Corosync 3.1.7 aborts (votequorum's nodeinfo
# handler asserts it knows the sender) when a peer's device message reaches it in the
# middle of forming the first membership; a CI run met that with qdevice started 1 s
# after corosync. Admins start qdevice on a running cluster, as we now do.
lab_start_cluster() {
	lab_start_corosync
	[[ ${LAB_CONF[device]:-on} == none ]] && return 0
	lab_wait_until 30 _lab_all_see_all ||
		lab_log "not every node sees all ${#LAB_NODES[@]} nodes after 30 s; starting qdevice anyway"
	lab_start_qdevice
}

# lab_start_pair KEY=VALUE...: the usual start of a 2-node suite: the lab (n1, n2),
# certificates, qnetd with TLS and client certificates required, corosync.conf from
# KEY=VALUE... (lab_write_config) and the cluster.
lab_start_pair() {
	lab_create 2
	lab_make_certs
	lab_start_qnetd -s on -c on
	lab_write_config "$@"
	lab_start_cluster
}

# lab_restart_cluster KEY=VALUE...: stop the cluster, write corosync.conf anew from
# KEY=VALUE... (lab_write_config) and start it again.
lab_restart_cluster() {
	lab_stop_cluster
	lab_write_config "$@"
	lab_start_cluster
}

# _lab_all_see_all: every node's membership is every node of the lab.
_lab_all_see_all() {
	local h want
	want=$(IFS=,; echo "${LAB_NODES[*]#n}")
	for h in "${LAB_NODES[@]}"; do
		lab_query "$h" && [[ $Q_MEMBERS == "$want" ]] || return 1
	done
}

# lab_stop_cluster: orderly stop of every node's qdevice, then corosync.
lab_stop_cluster() {
	lab_stop qdevice "${LAB_NODES[@]}"
	lab_stop corosync "${LAB_NODES[@]}"
}

# ---------------------------------------------------------------------------------------
# Network faults (nftables inside the namespaces)
# ---------------------------------------------------------------------------------------

_lab_pair() {
	if [[ $1 < $2 ]]; then echo "$1|$2"; else echo "$2|$1"; fi
}

# _lab_host_addrs HOST: every address of HOST (link 0 first).
_lab_host_addrs() {
	local l
	echo "${LAB_ADDR[$1]}"
	for ((l = 1; l < LAB_LINKS; l++)); do
		[[ -n ${LAB_LINK_ADDR[$1/$l]:-} ]] && echo "${LAB_LINK_ADDR[$1/$l]}"
	done
	return 0
}

# _lab_nft_apply HOST: (re)write HOST's drop table from LAB_BLOCK (every address of the
# peer) and LAB_LINK_BLOCK (the peer's address on that link), atomically.
_lab_nft_apply() {
	local h=$1 p other addrs="" a l
	for p in "${!LAB_BLOCK[@]}"; do
		case $p in
		"$h|"*) other=${p#*|};;
		*"|$h") other=${p%|*};;
		*) continue;;
		esac
		for a in $(_lab_host_addrs "$other"); do addrs+="${addrs:+, }$a"; done
	done
	for p in "${!LAB_LINK_BLOCK[@]}"; do
		l=${p%%|*} p=${p#*|}
		case $p in
		"$h|"*) other=${p#*|};;
		*"|$h") other=${p%|*};;
		*) continue;;
		esac
		[[ -n ${LAB_BLOCK[$p]:-} ]] && continue
		addrs+="${addrs:+, }${LAB_LINK_ADDR[$other/$l]}"
	done
	if [[ -z $addrs ]]; then
		ip netns exec "${LAB_NS[$h]}" nft delete table inet qnet_e2e 2>/dev/null
		return 0
	fi
	_lab_nft_drop "$h" qnet_e2e -100 "$addrs"
}

# _lab_nft_drop HOST TABLE PRIORITY ADDRS [CONDITION]: (re)write HOST's nftables table
# inet TABLE: drop what HOST receives from and sends to ADDRS (comma-separated), hooked
# at PRIORITY; with CONDITION (an nft expression) only the packets it matches.
_lab_nft_drop() {
	ip netns exec "${LAB_NS[$1]}" nft -f - <<-EOF
	table inet $2
	delete table inet $2
	table inet $2 {
		chain input {
			type filter hook input priority $3; policy accept;
			ip saddr { $4 } ${5:+$5 }drop
		}
		chain output {
			type filter hook output priority $3; policy accept;
			ip daddr { $4 } ${5:+$5 }drop
		}
	}
	EOF
}

# _lab_nft_apply_hosts HOST...: _lab_nft_apply once for each host named (repeats allowed).
_lab_nft_apply_hosts() {
	local h
	for h in $(printf '%s\n' "$@" | sort -u); do
		_lab_nft_apply "$h" || return 1
	done
}

# _lab_words "a b,c" -> a b c (hosts may be separated by spaces or commas)
_lab_words() {
	echo "${*//,/ }"
}

# lab_block "HOSTS_A" "HOSTS_B": drop all traffic between every host of A and of B.
lab_block() {
	local a b touched=()
	for a in $(_lab_words "$1"); do
		_lab_host_ok "$a" || return 1
		for b in $(_lab_words "$2"); do
			_lab_host_ok "$b" || return 1
			[[ $a == "$b" ]] && continue
			LAB_BLOCK[$(_lab_pair "$a" "$b")]=1
			touched+=("$a" "$b")
		done
	done
	_lab_nft_apply_hosts "${touched[@]}"
}

# lab_unblock "HOSTS_A" "HOSTS_B": undo lab_block for those pairs.
lab_unblock() {
	local a b touched=()
	for a in $(_lab_words "$1"); do
		for b in $(_lab_words "$2"); do
			unset "LAB_BLOCK[$(_lab_pair "$a" "$b")]"
			touched+=("$a" "$b")
		done
	done
	_lab_nft_apply_hosts "${touched[@]}"
}

# lab_partition "n1 arb" "n2": split the lab into two sides (hosts of the same side still
# talk). Hosts named on neither side keep talking to everybody.
lab_partition() {
	lab_log "partition: [$(_lab_words "$1")] | [$(_lab_words "$2")]"
	lab_block "$1" "$2"
}

# lab_heal: remove every drop rule in every namespace.
lab_heal() {
	local h
	LAB_BLOCK=()
	LAB_LINK_BLOCK=()
	for h in "${LAB_HOSTS[@]}"; do _lab_nft_apply "$h"; done
	lab_log "healed"
}

# _lab_link_pairs CUT|HEAL LINK NODE...: set or clear LAB_LINK_BLOCK for LINK (a link
# number or "all") between every two of the nodes (default: every node), then rewrite
# the nodes' tables.
_lab_link_pairs() {
	local op=$1 link=$2 links=() nodes a b l i j
	shift 2
	read -ra nodes <<<"$(_lab_words "$*")"
	(( ${#nodes[@]} )) || nodes=("${LAB_NODES[@]}")
	if [[ $link == all ]]; then
		for ((l = 0; l < LAB_LINKS; l++)); do links+=("$l"); done
	elif [[ $link =~ ^[0-9]+$ ]] && (( link < LAB_LINKS )); then
		links=("$link")
	else
		echo "# lab_cut_link: no link '$link' (the lab has $LAB_LINKS)" >&2
		return 1
	fi
	for a in "${nodes[@]}"; do
		_lab_host_ok "$a" && [[ -n ${LAB_LINK_ADDR[$a/0]:-} ]] ||
			{ echo "# lab_cut_link: '$a' is not a node" >&2; return 1; }
	done
	for ((i = 0; i < ${#nodes[@]}; i++)); do
		for ((j = i + 1; j < ${#nodes[@]}; j++)); do
			a=${nodes[i]} b=${nodes[j]}
			[[ $a == "$b" ]] && continue
			for l in "${links[@]}"; do
				if [[ $op == cut ]]; then
					LAB_LINK_BLOCK[$l|$(_lab_pair "$a" "$b")]=1
				else
					unset "LAB_LINK_BLOCK[$l|$(_lab_pair "$a" "$b")]"
				fi
			done
		done
	done
	_lab_nft_apply_hosts "${nodes[@]}"
}

# lab_cut_link LINK [NODE...]: drop knet link LINK (0, 1 or "all") between every two of
# the nodes (default: all nodes); the other link and the arbiter keep working. Cutting
# "all" links between two groups is what lab_partition does.
lab_cut_link() {
	lab_log "cut knet link $1 between ${*:2}${2:-all nodes}"
	_lab_link_pairs cut "$@"
}

# lab_heal_link LINK [NODE...]: undo lab_cut_link for those pairs.
lab_heal_link() {
	lab_log "heal knet link $1 between ${*:2}${2:-all nodes}"
	_lab_link_pairs heal "$@"
}

# lab_link_states NODE: what NODE's knet reports of its links, one line per peer and link:
# "PEER_ID LINK 1" (connected) or "... 0" (one cmap read); returns 1 if not readable.
lab_link_states() {
	timeout 5 ip netns exec "${LAB_NS[$1]}" "$CMAPCTL" -m stats stats.knet.node 2>/dev/null |
	    sed -n 's/^stats\.knet\.node\([0-9]*\)\.link\([0-9]*\)\.connected ([a-z0-9]*) = \([01]\)$/\1 \2 \3/p' |
	    grep . || return 1
}

# lab_link_connected NODE PEER LINK: NODE's knet reports its link LINK to PEER connected
# (cmap stats.knet.nodeID.linkL.connected = 1); returns 1 if down, 2 if not readable.
# Like _lab_sample it needs only the network namespace (corosync's IPC is abstract).
lab_link_connected() {
	local out
	out=$(timeout 5 ip netns exec "${LAB_NS[$1]}" "$CMAPCTL" -m stats \
	    "stats.knet.node${2#n}.link$3.connected" 2>/dev/null) || return 2
	[[ $out =~ =\ *([01])\ *$ ]] || return 2
	[[ ${BASH_REMATCH[1]} == 1 ]]
}

# lab_cut_arbiter NODE / lab_uncut_arbiter NODE: (re)connect one node and the arbiter.
lab_cut_arbiter() {
	lab_log "cut arb from $1"
	lab_block "$1" arb
}
lab_uncut_arbiter() {
	lab_log "reconnect arb and $1"
	lab_unblock "$1" arb
}

# ---------------------------------------------------------------------------------------
# Quorum queries
# ---------------------------------------------------------------------------------------

# lab_query NODE: run corosync-quorumtool -s in NODE and parse it into Q_OK (1 if read),
# Q_QUORATE (yes/no), Q_TOTAL, Q_EXPECTED, Q_RING, Q_MEMBERS ("1,2": node ids, sorted,
# qdevice excluded), Q_FLAGS.
lab_query() {
	local out
	Q_OK=0 Q_QUORATE="" Q_TOTAL="" Q_EXPECTED="" Q_RING="" Q_MEMBERS="" Q_FLAGS=""
	out=$(lab_exec "$1" timeout 5 "$QUORUMTOOL" -s 2>/dev/null)
	[[ $out == *"Quorate:"* ]] || return 1
	eval "$(awk '
		/^Quorate:/		{ q = tolower($2) }
		/^Total votes:/		{ t = $3 }
		/^Expected votes:/	{ e = $3 }
		/^Ring ID:/		{ r = $3 }
		/^Flags:/		{ sub(/^Flags:[ \t]*/, ""); f = $0 }
		/^Membership information/ { m = 1; next }
		m && $1 ~ /^[0-9]+$/ && $1 != 0 { ids[n++] = $1 }
		END {
			for (i = 0; i < n; i++)
				for (j = i + 1; j < n; j++)
					if (ids[j] + 0 < ids[i] + 0) { x = ids[i]; ids[i] = ids[j]; ids[j] = x }
			s = ""
			for (i = 0; i < n; i++) s = s (i ? "," : "") ids[i]
			printf "Q_QUORATE=%s Q_TOTAL=%s Q_EXPECTED=%s Q_RING=%s Q_MEMBERS=%s Q_FLAGS=\"%s\"\n",
			    q, t, e, r, s, f
		}' <<<"$out")"
	Q_OK=1
}

# lab_quorate NODE: prints yes / no (empty when corosync does not answer).
lab_quorate() { lab_query "$1"; echo "$Q_QUORATE"; }
# lab_total_votes NODE: prints the total votes NODE sees.
lab_total_votes() { lab_query "$1"; echo "$Q_TOTAL"; }
# lab_members NODE: prints the membership NODE sees, e.g. "1,2".
lab_members() { lab_query "$1"; echo "$Q_MEMBERS"; }

_lab_q_summary() {
	if (( Q_OK )); then
		echo "members=$Q_MEMBERS quorate=$Q_QUORATE votes=$Q_TOTAL expected=$Q_EXPECTED ring=$Q_RING flags=[$Q_FLAGS]"
	else
		echo "no answer"
	fi
}

# _lab_spec_match "KEY=V..." : does the last lab_query match? (keys: members quorate
# votes expected)
_lab_spec_match() {
	local kv k v
	(( Q_OK )) || return 1
	for kv in "$@"; do
		k=${kv%%=*} v=${kv#*=}
		case $k in
		members)	[[ $Q_MEMBERS == "$v" ]] || return 1;;
		quorate)	[[ $Q_QUORATE == "${v,,}" ]] || return 1;;
		votes)		[[ $Q_TOTAL == "$v" ]] || return 1;;
		expected)	[[ $Q_EXPECTED == "$v" ]] || return 1;;
		*)		echo "# bad state key '$k'" >&2; return 2;;
		esac
	done
	return 0
}

# lab_state NODE KEY=V...: one reading matches, e.g. lab_state n1 quorate=yes votes=3.
lab_state() {
	local h=$1
	shift
	lab_query "$h"
	_lab_spec_match "$@"
}

# The two settled states of a 2-node cluster with a quorum device, for lab_settled:
# both nodes quorate with the device's vote (3) or without it (2).
# shellcheck disable=SC2034
LAB_BOTH_FULL=("n1 members=1,2 quorate=yes votes=3" "n2 members=1,2 quorate=yes votes=3")
# shellcheck disable=SC2034
LAB_BOTH_BARE=("n1 members=1,2 quorate=yes votes=2" "n2 members=1,2 quorate=yes votes=2")
# After lab_partition n1 n2: the named node keeps quorum with its own and the device's
# vote (2), the other one is alone without the device's vote (1), not quorate.
# shellcheck disable=SC2034
LAB_SPLIT_N1=("n1 members=1 quorate=yes votes=2" "n2 members=2 quorate=no votes=1")
# shellcheck disable=SC2034
LAB_SPLIT_N2=("n1 members=1 quorate=no votes=1" "n2 members=2 quorate=yes votes=2")

# lab_settled "NODE KEY=V..." ...: the settled-state assertion. For every spec: wait for
# NODE to see the membership in members= (if given), then require all of the spec to hold
# continuously for LAB_HOLD s. Specs are followed together, so the hold windows overlap.
# A wrong reading after the membership restarts that spec's hold window (the stock stack
# has a known <= 5 s window, E2E-NOTES). With LAB_STRICT=1 the check fails at once on a
# wrong reading after a right one, or, if the membership had to change first, on a wrong
# reading later than LAB_GRACE s after it. Bounded by LAB_SETTLE_TIMEOUT.
lab_settled() {
	local specs=("$@") n=$# i now start deadline all_done spec h
	local -a mem_ms=() ok_ms=() flips=() mem_want=() last=() mem_changed=() polls=()
	start=$(_lab_now_ms)
	deadline=$((start + LAB_SETTLE_TIMEOUT * 1000))
	for ((i = 0; i < n; i++)); do
		mem_ms[i]=0 ok_ms[i]=0 flips[i]=0 mem_want[i]="" mem_changed[i]=0 polls[i]=0
		for spec in ${specs[i]}; do
			[[ $spec == members=* ]] && mem_want[i]=${spec#members=}
		done
	done
	while :; do
		all_done=1
		for ((i = 0; i < n; i++)); do
			read -r h spec <<<"${specs[i]}"
			lab_query "$h"
			now=$(_lab_now_ms)
			last[i]=$(_lab_q_summary)
			polls[i]=$((polls[i] + 1))
			if (( mem_ms[i] == 0 )); then
				if (( Q_OK )) && [[ -z ${mem_want[i]} || $Q_MEMBERS == "${mem_want[i]}" ]]; then
					mem_ms[i]=$now
					(( polls[i] > 1 )) && mem_changed[i]=1
				else
					all_done=0
					continue
				fi
			fi
			# shellcheck disable=SC2086
			if _lab_spec_match $spec; then
				(( ok_ms[i] )) || ok_ms[i]=$now
				(( now - ok_ms[i] >= LAB_HOLD * 1000 )) || all_done=0
			else
				if (( ok_ms[i] )); then
					flips[i]=$((flips[i] + 1))
					if (( LAB_STRICT )); then
						echo "# $h: state went wrong again: ${last[i]} (want: $spec)" >&2
						return 1
					fi
				fi
				if (( LAB_STRICT && mem_changed[i] && now - mem_ms[i] > LAB_GRACE * 1000 )); then
					echo "# $h: wrong state $(_lab_ms_str $((now - mem_ms[i]))) after the membership:" \
					    "${last[i]} (want: $spec)" >&2
					return 1
				fi
				ok_ms[i]=0
				all_done=0
			fi
		done
		(( all_done )) && break
		if (( $(_lab_now_ms) >= deadline )); then
			for ((i = 0; i < n; i++)); do
				echo "# ${specs[i]%% *}: not settled in ${LAB_SETTLE_TIMEOUT}s, want: ${specs[i]#* }; last: ${last[i]}" >&2
			done
			return 1
		fi
		sleep "$LAB_POLL"
	done
	for ((i = 0; i < n; i++)); do
		h=${specs[i]%% *}
		spec=""
		(( flips[i] )) && spec=", state flipped back ${flips[i]} time(s)"
		lab_log "$h settled: ${last[i]}; membership seen after $(_lab_ms_str $((mem_ms[i] - start)))," \
		    "state right from $(_lab_ms_str $((ok_ms[i] - start)))$spec"
	done
	return 0
}

# lab_check_split LABEL WINNER: a 2-node cluster's split drill as three checks: both nodes
# quorate with 3 votes (held 2 s); after lab_partition n1 n2, WINNER (n1 or n2) quorate
# with 2 votes and the other one not (LAB_SPLIT_N1/N2); healed, 3 votes on both again.
lab_check_split() {
	local label=$1 win=$2 lose=n1
	[[ $win == n1 ]] && lose=n2
	local -n split_state=LAB_SPLIT_${win^^}
	LAB_HOLD=2 check "$label: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
	lab_partition n1 n2
	check "$label, n1|n2: $win quorate (2 votes), $lose not" lab_settled "${split_state[@]}"
	lab_heal
	check "$label, healed: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
}

# ---------------------------------------------------------------------------------------
# Cleanup
# ---------------------------------------------------------------------------------------

_lab_dump_logs() {
	local f
	(( LAB_DUMP_LINES > 0 )) || return 0
	[[ -n $LAB_DIR && -d $LAB_DIR ]] || return 0
	for f in "$LAB_DIR"/logs/*.log "$LAB_DIR"/hosts/*/log/*.log; do
		[[ -f $f ]] || continue
		echo "# ---- last $LAB_DUMP_LINES lines of ${f#"$LAB_DIR"/} ----"
		tail -n "$LAB_DUMP_LINES" "$f" | sed 's/^/#   /'
	done
}

# lab_cleanup: kill what we started (and anything left in our namespaces), delete the
# namespaces, remove our /dev/shm leftovers and the run directory. Idempotent.
lab_cleanup() {
	local ns pid pids=() k
	(( LAB_CLEANED )) && return 0
	LAB_CLEANED=1
	for k in "${!LAB_PID[@]}"; do
		pid=${LAB_PID[$k]}
		_lab_pid_ours "$pid" "${k%%/*}" && kill -s KILL "$pid" 2>/dev/null
	done
	# Anything else still inside our namespaces (tools, heuristics workers) is ours too.
	for ns in "${LAB_NETNS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			pids+=("$pid")
			kill -s KILL "$pid" 2>/dev/null
		done
	done
	for pid in "${LAB_ALL_PIDS[@]}" "${pids[@]}"; do
		_lab_reap "$pid" 5 || echo "# cleanup: pid $pid does not die" >&2
	done
	_lab_shm_clean "${LAB_ALL_PIDS[@]}" "${pids[@]}"
	for ns in "${LAB_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null || echo "# cleanup: cannot delete netns $ns" >&2
	done
	LAB_NETNS=()
	if [[ -n $LAB_DIR && -d $LAB_DIR ]]; then
		if (( LAB_KEEP )); then
			echo "# run directory kept: $LAB_DIR"
		else
			rm -rf -- "$LAB_DIR"
		fi
	fi
}

# lab_destroy: tear the lab down as at exit (its logs printed first if a check failed
# since it was created), so that the same script can lab_create another; the pass/fail
# counts carry on.
lab_destroy() {
	[[ -n ${LAB_SAMPLER_PID:-} ]] && lab_sampler_stop >/dev/null
	(( LAB_FAILED > LAB_FAILED_AT_CREATE )) && _lab_dump_logs
	lab_cleanup
	LAB_CLEANED=0 LAB_DIR="" LAB_PREFIX=""
	LAB_NODES=() LAB_HOSTS=() LAB_NETNS=() LAB_ALL_PIDS=()
	LAB_NS=() LAB_ADDR=() LAB_LINK_ADDR=() LAB_PID=() LAB_BLOCK=() LAB_LINK_BLOCK=()
	LAB_CONF=()
}

_lab_on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	trap '' INT TERM	# finish cleaning up even if interrupted again
	if (( LAB_FAILED > 0 || rc != 0 )); then
		_lab_dump_logs
	fi
	lab_cleanup
	if (( rc != 0 && LAB_FAILED == 0 )); then
		# died outside a check (e.g. a bug in the scenario): that is a failure too
		LAB_FAILED=1
		echo "not ok - scenario exited with status $rc"
	fi
	if (( LAB_PASSED + LAB_FAILED == 0 )); then
		# a script that checked nothing proves nothing (e.g. a shell error skipped it all)
		LAB_FAILED=1
		echo "not ok - no check ran"
	fi
	echo "$LAB_PASSED passed, $LAB_FAILED failed"
	(( LAB_FAILED > 0 )) && exit 1
	exit 0
}

# =======================================================================================
# Failure drills (demo.sh, test-drill-*.sh, scripts/drill): per-node configuration,
# a tolerant qdevice start, a background safety sampler, timings from corosync's log.
# =======================================================================================

: "${LAB_SAMPLE_INTERVAL:=0.2}"	# sampler: seconds between two rounds over all nodes

LAB_SAMPLER_PID=""		# background sampler (lab_sampler_start), "" when none
LAB_SAMPLER_FILE=""		# its readings: "ROUND T_MS NODE RING QUORATE MEMBERS VOTES"
# Results of the last lab_sampler_stop.
SAMPLER_ROUNDS=0 SAMPLER_VIOLATIONS=0 SAMPLER_GRACE_HITS=0 SAMPLER_OVERLAP_MS=0
SAMPLER_STALE_HITS=0 SAMPLER_STALE_MS=0
# Results of the last lab_log_times (ms after the fault; -1: no such event).
LT_MEMBERSHIP=-1 LT_NONQ_FIRST=-1 LT_NONQ_LAST=-1 LT_PRIMARY=-1 LT_SYNC=-1 LT_QUORATE=""

# lab_write_config_node NODE KEY=VALUE...: like lab_write_config, but only NODE's
# corosync.conf is rewritten; every other node keeps the file it has (e.g. a heuristics
# check that fails on one node only). LAB_CONF keeps describing the last full write.
lab_write_config_node() {
	local node=$1 n f k
	local -A saved=() conf=()
	shift
	_lab_host_ok "$node" || lab_die "setup: lab_write_config_node: bad node $node"
	for k in "${!LAB_CONF[@]}"; do conf[$k]=${LAB_CONF[$k]}; done
	for n in "${LAB_NODES[@]}"; do
		f=$LAB_DIR/hosts/$n/etc/corosync.conf
		[[ $n != "$node" && -f $f ]] && saved[$n]=$(<"$f")
	done
	lab_write_config "$@"
	for n in "${!saved[@]}"; do
		printf '%s\n' "${saved[$n]}" >"$LAB_DIR/hosts/$n/etc/corosync.conf" ||
			lab_die "setup: cannot restore corosync.conf of $n"
	done
	LAB_CONF=()
	for k in "${!conf[@]}"; do LAB_CONF[$k]=${conf[$k]}; done
	lab_log "(only $node's corosync.conf was rewritten)"
}

# lab_try_start_qdevice [HOST...]: lab_start_qdevice that returns 1 instead of ending the
# run when a qdevice does not come up within 30 s (the daemons started stay recorded).
lab_try_start_qdevice() {
	local h hosts=("$@") args=() rc=0
	(( ${#hosts[@]} )) || hosts=("${LAB_NODES[@]}")
	(( LAB_DEBUG )) && args=(-d)
	args+=(-S "lock_file=$LAB_QDEVICE_LOCK,local_socket_file=$LAB_QDEVICE_SOCK,net_nss_db_dir=$LAB_QDEVICE_DB")
	args+=("${LAB_QDEVICE_ARGS[@]}")
	for h in "${hosts[@]}"; do
		_lab_host_ok "$h" || return 1
		_lab_spawn "$h" qdevice "$QDEVICE_BIN" -f "${args[@]}"
	done
	for h in "${hosts[@]}"; do
		_lab_wait_daemon "$h" qdevice 30 eval "lab_qdevice_tool $h -s >/dev/null 2>&1" || rc=1
	done
	return $rc
}

# _lab_sample NODE: one cheap reading (no mount namespace needed: corosync's IPC sockets
# are abstract, per network namespace): prints "RING QUORATE MEMBERS VOTES", "- - - -" if
# no answer.
_lab_sample() {
	timeout 2 ip netns exec "${LAB_NS[$1]}" "$QUORUMTOOL" -s 2>/dev/null | awk '
		/^Quorate:/	{ q = tolower($2) }
		/^Ring ID:/	{ r = $3 }
		/^Membership information/ { m = 1; next }
		/^Total votes:/	{ v = $3 }
		m && $1 ~ /^[0-9]+$/ && $1 != 0 { s = s (s == "" ? "" : ",") $1 }
		END {
			if (q == "" || r == "") print "- - - -"
			else print r, q, (s == "" ? "-" : s), (v == "" ? "-" : v)
		}'
}

# lab_sampler_start [LABEL]: poll every node every LAB_SAMPLE_INTERVAL s in the background
# until lab_sampler_stop (or until this shell or the run directory is gone), recording
# ring, quorate and membership per node into logs/sampler-LABEL.log.
lab_sampler_start() {
	local label=${1:-run} parent=$$
	[[ -n $LAB_SAMPLER_PID ]] && lab_sampler_stop >/dev/null
	LAB_SAMPLER_FILE=$LAB_DIR/logs/sampler-$label.log
	: >"$LAB_SAMPLER_FILE"
	rm -f -- "$LAB_DIR/sampler.stop"
	(
		trap - EXIT INT TERM
		r=0
		while [[ -d $LAB_DIR && ! -e $LAB_DIR/sampler.stop ]] && kill -0 "$parent" 2>/dev/null; do
			r=$((r + 1))
			for n in "${LAB_NODES[@]}"; do
				t=$(_lab_now_ms)
				echo "$r $t $n $(_lab_sample "$n")"
			done >>"$LAB_SAMPLER_FILE"
			sleep "$LAB_SAMPLE_INTERVAL"
		done
	) </dev/null >/dev/null 2>&1 &
	LAB_SAMPLER_PID=$!
	disown "$LAB_SAMPLER_PID"
}

# lab_sampler_stop: stop the sampler and judge its readings. Safety invariant: two nodes
# that see disjoint memberships are never both quorate, except within LAB_GRACE s after
# the later of the two ring changes (as seen by the sampler). Sets SAMPLER_ROUNDS,
# SAMPLER_VIOLATIONS, SAMPLER_GRACE_HITS (both quorate inside the grace window) and
# SAMPLER_OVERLAP_MS (longest stretch, measured from the ring change, during which two
# disjoint memberships were both quorate). Returns 1 if there was a violation.
# Also measured, not judged: stale views (corosync still in its sync shows the old ring
# and quorate): SAMPLER_STALE_HITS readings where node A was quorate while a quorate node
# B had already formed a newer ring without A (beyond LAB_GRACE), SAMPLER_STALE_MS the
# longest such stretch, from B's ring change.
lab_sampler_stop() {
	local pid=$LAB_SAMPLER_PID i out
	SAMPLER_ROUNDS=0 SAMPLER_VIOLATIONS=0 SAMPLER_GRACE_HITS=0 SAMPLER_OVERLAP_MS=0
	SAMPLER_STALE_HITS=0 SAMPLER_STALE_MS=0
	[[ -n $pid ]] || { echo "# lab_sampler_stop: no sampler running" >&2; return 1; }
	: >"$LAB_DIR/sampler.stop"
	for ((i = 0; i < 50 && $(kill -0 "$pid" 2>/dev/null; echo $?) == 0; i++)); do
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -s KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f -- "$LAB_DIR/sampler.stop"
	LAB_SAMPLER_PID=""
	out=$(awk -v grace=$((LAB_GRACE * 1000)) '
		function disjoint(a, b,   x, y, i, j, nx, ny) {
			nx = split(a, x, ","); ny = split(b, y, ",")
			for (i = 1; i <= nx; i++)
				for (j = 1; j <= ny; j++)
					if (x[i] == y[j]) return 0
			return 1
		}
		function hex(s,   i, v) {
			v = 0; s = tolower(s)
			for (i = 1; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return v
		}
		function seq(r) { sub(/^[^.]*\./, "", r); return hex(r) }
		function member(n, list) { sub(/^n/, "", n); return index("," list ",", "," n ",") > 0 }
		# a stale view: b formed a newer ring without a, both quorate (a has not noticed)
		function stale(a, b,   dt) {
			if (seq(ring[b]) <= seq(ring[a]) || member(a, mem[b])) return 0
			dt = rt - chg[b]
			if (dt <= grace) return 0
			if (!sstart) sstart = chg[b]
			shit++
			if (shit <= 3)
				printf "# STALE at +%d ms after %s'"'"'s ring change: %s still quorate in %s (%s), %s quorate in %s (%s) without it\n",
				    dt, b, a, mem[a], ring[a], b, mem[b], ring[b]
			return 1
		}
		function judge(   i, j, a, b, since, dt, hit, st) {
			hit = 0; st = 0
			for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) {
				a = nd[i]; b = nd[j]
				if (q[a] != "yes" || q[b] != "yes") continue
				if (stale(a, b) || stale(b, a)) st = 1
				if (!disjoint(mem[a], mem[b])) continue
				since = chg[a] > chg[b] ? chg[a] : chg[b]
				dt = rt - since
				hit = 1
				if (!ostart) ostart = since
				if (dt > grace) {
					viol++
					if (viol <= 5)
						printf "# VIOLATION at +%d ms after the ring change: %s sees %s (%s) quorate, %s sees %s (%s) quorate\n",
						    dt, a, mem[a], ring[a], b, mem[b], ring[b]
				} else
					ghit++
			}
			if (hit) { o = rt - ostart; if (o > omax) omax = o }
			else ostart = 0
			if (st) { o = rt - sstart; if (o > smax) smax = o }
			else sstart = 0
		}
		$1 != round { if (round != "") judge(); round = $1; rt = $2; cnt = 0; rounds++ }
		{
			n = $3
			nd[++cnt] = n
			if ($4 != ring[n]) { ring[n] = $4; chg[n] = $2 }
			q[n] = $5; mem[n] = $6
		}
		END {
			if (round != "") judge()
			printf "SAMPLER_ROUNDS=%d SAMPLER_VIOLATIONS=%d SAMPLER_GRACE_HITS=%d SAMPLER_OVERLAP_MS=%d\n",
			    rounds, viol, ghit, omax
			printf "SAMPLER_STALE_HITS=%d SAMPLER_STALE_MS=%d\n", shit, smax
		}' "$LAB_SAMPLER_FILE")
	grep '^#' <<<"$out"
	eval "$(grep '^SAMPLER_' <<<"$out")"
	lab_log "sampler: $SAMPLER_ROUNDS rounds, $SAMPLER_VIOLATIONS violation(s)," \
	    "$SAMPLER_GRACE_HITS both-quorate reading(s) inside the ${LAB_GRACE} s grace window," \
	    "$SAMPLER_STALE_HITS stale reading(s) (longest $SAMPLER_STALE_MS ms)"
	(( SAMPLER_VIOLATIONS == 0 ))
}

# lab_log_times NODE FAULT_MS [END_MS]: read NODE's corosync log (VOTEQ/QUORUM/TOTEM lines,
# ms timestamps) for events after FAULT_MS (epoch ms, e.g. $(_lab_now_ms) just before the
# fault) and before END_MS. Sets, in ms after the fault (-1: none): LT_MEMBERSHIP (first
# "A new membership"), LT_NONQ_FIRST / LT_NONQ_LAST (first / last loss of quorum: a
# change from quorate or unknown to not quorate), LT_PRIMARY (last regain), LT_SYNC (first completed sync after the membership);
# LT_QUORATE: the last quorum state logged (yes/no, "" if none).
lab_log_times() {
	local h=$1 fault=$2 end=${3:-0} f out
	LT_MEMBERSHIP=-1 LT_NONQ_FIRST=-1 LT_NONQ_LAST=-1 LT_PRIMARY=-1 LT_SYNC=-1 LT_QUORATE=""
	f=$(lab_path "$h" /var/log/corosync/corosync.log)
	[[ -r $f ]] || return 1
	out=$(awk -v fault="$fault" -v end="$end" -v year="$(date +%Y)" '
		BEGIN {
			split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mn, " ")
			for (i = 1; i <= 12; i++) mon[mn[i]] = i
			memb = nq1 = nql = prim = sync = -1; q = ""
		}
		!($1 in mon) { next }
		{
			split($3, hms, /[:.]/)
			t = mktime(year " " mon[$1] " " $2 " " hms[1] " " hms[2] " " hms[3]) * 1000 + hms[4]
			if (t < fault || (end > 0 && t > end)) next
			d = t - fault
		}
		/\[TOTEM \] A new membership/		{ if (memb < 0) memb = d }
		/non-primary component|quorum lost, blocking/ {
			if (q != "no") { if (nq1 < 0) nq1 = d; nql = d }
			q = "no"
		}
		/within the primary component|quorum regained/ {
			if (q != "yes") prim = d
			q = "yes"
		}
		/Completed service synchronization/	{ if (memb >= 0 && sync < 0) sync = d }
		/Sending quorum callback, quorate = 1/	{ q = "yes" }
		/Sending quorum callback, quorate = 0/	{ q = "no" }
		END {
			printf "LT_MEMBERSHIP=%d LT_NONQ_FIRST=%d LT_NONQ_LAST=%d LT_PRIMARY=%d LT_SYNC=%d LT_QUORATE=%s\n",
			    memb, nq1, nql, prim, sync, q
		}' "$f") || return 1
	eval "$out"
}
