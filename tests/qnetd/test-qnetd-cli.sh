#!/bin/bash
# tests/qnetd/test-qnetd-cli.sh: qnetd and qnetd-tool as processes, on loopback
# without TLS: exit codes and messages of the command line, the pid lock,
# systemd readiness, -m, the IPv4-mapped client address on the dual-stack
# socket, the admin protocol's errors, qnetd-tool's options beside upstream
# corosync-qnetd-tool's (and that tool against qnetd, when installed), and
# an orderly shutdown. Then one with TLS: certificate expiry warnings,
# stalled handshakes.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$HERE/qnet_client.py

. "$HERE/../lib.sh"

# A free port on loopback (both families are used below).
loopback_qnetd 6

exit_code_is() {	# want, command...
	local want=$1
	shift
	"$@"
	[[ $? == "$want" ]]
}

admin_reply() {	# line: what the admin socket answers to it, raw
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
out = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())' "$sock" "$1"
}

UPSTREAM_TOOL=$(command -v corosync-qnetd-tool)
same_as_upstream_tool() {	# options...: corosync-qnetd-tool prints what qnetd-tool prints
	local a b
	a=$("$UPSTREAM_TOOL" "$@" -p "$sock") || { echo "upstream's tool failed"; return 1; }
	b=$("$TOOL" "$@" -p "$sock") || { echo "qnetd-tool failed"; return 1; }
	[[ -n $a && $a == "$b" ]] || { diff <(echo "$a") <(echo "$b"); return 1; }
}

check "-v prints algorithms and exits 1" eval \
    '[[ $("$QNETD" -v; echo "rc=$?") == *"Fifty-Fifty split (1)"*"rc=1" ]]'
check "-h prints usage and exits 1" eval '[[ $("$QNETD" -h; echo "rc=$?") == usage:*"rc=1" ]]'
check "-s required is refused with a message (upstream accepts only req)" eval \
    'out=$("$QNETD" -f -s required 2>&1); [[ $? == 1 && $out == *"not on, off or req"* ]]'
check "-S with an unknown name is refused naming it" eval \
    '"$QNETD" -f -S bogus=1 2>&1 | grep -q "bogus"'
check "-s on without an NSS database fails clearly" eval \
    '"$QNETD" -f -s on -p "$port" -S "$adv,nss_db_dir=$dir/none" 2>&1 | grep -q "qnetd-certutil -i"'

# systemd readiness: a datagram socket stands in for systemd's.
python3 - "$dir/notify" >"$dir/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print(s.recv(256).decode())
PY
pids+=($!)
for _ in $(seq 50); do [[ -S $dir/notify ]] && break; sleep 0.1; done

NOTIFY_SOCKET=$dir/notify "$QNETD" -f -s off -m 2 -p "$port" -S "$adv" 2>"$dir/qnetd.log" &
qnetd_pid=$!
pids+=("$qnetd_pid")
for _ in $(seq 50); do "$TOOL" -s -p "$sock" >/dev/null 2>&1 && break; sleep 0.1; done

check "READY=1 is sent to NOTIFY_SOCKET" eval 'sleep 0.2; grep -qx "READY=1" "$dir/notify.out"'
check "pid file holds our pid" eval '[[ $(cat "$dir/q.pid") == "$qnetd_pid" ]]'
# listen_backlog defaults to 4096 (man qnetd), as far as the kernel's somaxconn allows
listen_backlog() { ss -Hltn "sport = :$port" | awk '{ print $3; exit }'; }
check "the listening socket's backlog is 4096 (or somaxconn, if lower)" eval \
    'max=$(cat /proc/sys/net/core/somaxconn); want=$((max < 4096 ? max : 4096));
     echo "# backlog $(listen_backlog), want $want"; [[ $(listen_backlog) == "$want" ]]'
check "a second instance refuses the held lock" eval \
    '"$QNETD" -f -s off -p "$port" -S "$adv" 2>&1 | grep -qi "another instance"'
check "qnetd-tool -s shows the wildcard address and TLS off" eval \
    '[[ $("$TOOL" -s -p "$sock") == "QNetd address:"$'"'\t\t\t'"'"*:$port"*"TLS:"$'"'\t\t\t\t'"'"Unsupported"* ]]'

# Two plaintext clients over IPv4 to the dual-stack socket, held 30 s (every check
# below wants them connected, even on a loaded machine); the third is over -m 2.
"$CLIENT" 127.0.0.1 "$port" lab 1 30 >"$dir/c1.out" 2>&1 &
pids+=($!)
"$CLIENT" 127.0.0.1 "$port" lab 2 30 >"$dir/c2.out" 2>&1 &
pids+=($!)
both_acked() {	# polled, up to 10 s: a loaded machine may take a while
	local _
	for _ in $(seq 100); do
		grep -q "^type=14 vote=1" "$dir/c1.out" && grep -q "^type=14 vote=1" "$dir/c2.out" &&
		    return 0
		sleep 0.1
	done
	cat "$dir/c1.out" "$dir/c2.out"
	return 1
}
check "both clients get ACK pushed (VOTE_INFO ACK)" both_acked
# An event hook must not inherit the listener or a client's connection (it would hold the
# port, or keep a closed client's connection open): every socket is close-on-exec.
sockets_cloexec() {	# pid: every socket descriptor has O_CLOEXEC (octal 02000000)
	local fd flags n=0
	for fd in /proc/"$1"/fd/*; do
		[[ $(readlink "$fd") == socket:* ]] || continue
		flags=$(awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/${fd##*/}")
		(( 8#$flags & 8#2000000 )) || { echo "fd ${fd##*/} inheritable (flags $flags)"; return 1; }
		n=$((n + 1))
	done
	echo "$n sockets, all close-on-exec"
	(( n >= 4 ))	# the listener, the admin socket, two clients
}
check "qnetd's sockets (listener, admin, clients) are not inherited by hooks" sockets_cloexec "$qnetd_pid"
check "IPv4 clients show as ::ffff:127.0.0.1 on the dual-stack socket" eval \
    '"$TOOL" -l -p "$sock" | grep -q "Client address:.*::ffff:127.0.0.1:"'
check "qnetd-tool -l: Vote shows the last ACK/NACK in parentheses" eval \
    '"$TOOL" -l -p "$sock" | grep -Eq "^        Vote:"$'"'\t\t\t'"'"(ACK|No change) \(ACK\)$"'
check "qnetd-tool: of several operations the last one counts, as with upstream's tool" eval \
    '[[ $("$TOOL" -s -l -p "$sock") == "Cluster \"lab\":"* && $("$TOOL" -l -s -p "$sock") == "QNetd address:"* ]]'
check "qnetd-tool: -c is ignored without -l; -l -c \"\" lists every cluster" eval \
    '"$TOOL" -s -c lab -p "$sock" | grep -q "^Connected clusters:" &&
     "$TOOL" -l -c "" -p "$sock" | grep -qx "Cluster \"lab\":"'
check "qnetd-tool refuses -H beside another operation (exit 1), qnetd still answers" eval \
    'exit_code_is 1 "$TOOL" -l -H -p "$sock" && exit_code_is 1 "$TOOL" -H -s -p "$sock" &&
     "$TOOL" -s -p "$sock" >/dev/null'
check "admin socket: the lines upstream's tool sends for -s -v -c, -l -v -c and -l -c '' are answered" eval \
    '[[ $(admin_reply "status verbose cluster \"lab\" "$'"'\n'"') == OK$'"'\n'"'"QNetd address:"*"Maximum send/receive size:"* &&
        $(admin_reply "list verbose cluster \"lab\" "$'"'\n'"') == OK$'"'\n'"'"Cluster \"lab\":"*"HB interval:"* &&
        $(admin_reply "list cluster \"\" "$'"'\n'"') == OK$'"'\n'"'"Cluster \"lab\":"* ]]'
if [[ -n $UPSTREAM_TOOL ]]; then
	check "corosync-qnetd-tool (upstream's) -s -v, -l -v -c lab and -l -c '' work against qnetd" eval \
	    'same_as_upstream_tool -s -v && same_as_upstream_tool -l -v -c lab &&
	     same_as_upstream_tool -l -c "" && same_as_upstream_tool -s -c lab'
else
	echo "ok - corosync-qnetd-tool against qnetd # SKIP corosync-qnetd-tool not installed"
fi
check "a client over -m 2 is refused" eval \
    '"$CLIENT" 127.0.0.1 "$port" lab 3 | grep -qx closed &&
     "$TOOL" --metrics -p "$sock" | grep -qx "qnetd_clients_refused_total 1"'

check "admin socket: unknown command gives Error" eval \
    '[[ $(python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b\"bogus\n\"); print(s.recv(999).decode())" "$sock") == Error$'"'\n'"'"Unknown command"* ]]'
check "admin socket: an empty request gives upstream's words" eval \
    '[[ $(python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b\"\n\"); print(s.recv(999).decode())" "$sock") == Error$'"'\n'"'"No command specified"* ]]'
check "qnetd-tool exits 1 on bad usage" exit_code_is 1 "$TOOL" -x -s -p "$sock"
check "qnetd-tool exits 3 without a daemon" exit_code_is 3 "$TOOL" -s -p "$dir/nothing.sock"
check "qnetd-tool -H stops qnetd cleanly and removes its files" eval \
    '"$TOOL" -H -p "$sock" && wait "$qnetd_pid"; rc=$?; [[ $rc == 0 && ! -e $sock && ! -e $dir/q.pid ]]'

# A server certificate that expires within 30 days: warned about at start, days shown.
db=$dir/shortdb
mkdir -p "$db" && : >"$db/pw" && head -c 64 /dev/urandom >"$db/noise"
certutil -N -d "sql:$db" -f "$db/pw" >/dev/null 2>&1 &&
certutil -S -x -n "QNetd Cert" -s "CN=Qnetd Server" -t "u,u,u" -v 1 -k rsa -g 2048 \
    -d "sql:$db" -f "$db/pw" -z "$db/noise" >/dev/null 2>&1
sock2=$dir/q2.sock
# Dead-peer detection off: nothing but the handshake places' own rule frees them.
"$QNETD" -f -s on -c off -p "$port" \
    -S "nss_db_dir=$db,lock_file=$dir/q2.pid,local_socket_file=$sock2,dpd_enabled=off" \
    2>"$dir/qnetd2.log" &
qnetd2_pid=$!
pids+=("$qnetd2_pid")
for _ in $(seq 50); do "$TOOL" -s -p "$sock2" >/dev/null 2>&1 && break; sleep 0.1; done
check "a certificate expiring within 30 days is warned about at start" \
    grep -Eq 'server certificate "QNetd Cert" expires in [0-9]+ days' "$dir/qnetd2.log"
check "qnetd-tool -s -j shows the certificate's days left" eval \
    '"$TOOL" -s -j -p "$sock2" | python3 -c "import json,sys; d=json.load(sys.stdin)[\"certificate_days_left\"]; sys.exit(0 if 0 <= d <= 31 else 1)"'
# 40 peers stalled after STARTTLS, more than the 32 places of the accept gate. Each
# case starts once the peers of the one before have given their places back.
metric() { "$TOOL" --metrics -p "$sock2" | awk -v m="$1" '$1 == m { print $2 }'; }
places_free() {
	for _ in $(seq 100); do
		[[ $(metric qnetd_tls_handshake_places_used) == 0 ]] && return 0
		sleep 0.1
	done
	echo "# places still used: $(metric qnetd_tls_handshake_places_used)"
	return 1
}
stalled() { python3 "$HERE/stalled_handshakes.py" "$1" 127.0.0.1 "$port" 40 "$2" 15; }
check "40 silent TLS peers from 10 addresses: a client is served, places given up" eval \
    'places_free && stalled silent 10 &&
     released=$(metric qnetd_tls_places_released_total) && echo "released: $released" &&
     (( released >= 1 ))'
check "40 silent TLS peers from one address: at most 4 hold places at once, the others go on without" eval \
    'places_free && before=$(metric qnetd_tls_handshakes_without_place_total) &&
     stalled silent 1 && after=$(metric qnetd_tls_handshakes_without_place_total) &&
     echo "without a place: $before -> $after" && (( after - before >= 20 ))'
check "40 TLS peers dribbling a ClientHello from 10 addresses: a client is served" eval \
    'places_free && stalled dribble 10'
check "no handshake holds a place once the peers are gone" places_free
kill "$qnetd2_pid" 2>/dev/null

tests_summary
