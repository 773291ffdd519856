#!/bin/bash
#
# The OCF resource agent ha/qnetd (ocf:qnet:qnetd) against our qnetd on
# loopback: resource-agents' ocf-tester must pass, then each bad input must
# give its OCF exit code and an exit reason naming the cause:
#   missing NSS database, database without the server certificate, database
#   of another CA than ca_fingerprint -> 6 (OCF_ERR_CONFIGURED); invalid port -> 6; missing daemon -> 5
#   (OCF_ERR_INSTALLED), a probe then says 7 (OCF_NOT_RUNNING); port already
#   in use, listen address not on this host, qnetd refusing its settings -> 1 (OCF_ERR_GENERIC) with the
#   daemon's own error line; a stopped (SIGSTOP) qnetd fails monitor with 1
#   within monitor_tool_timeout; stop of a stopped instance -> 0; stop and
#   monitor never touch a process that is not their qnetd.
#
# Needs resource-agents (ocf-shellfuncs, ocf-tester), libnss3-tools, python3.
# Uses only 127.0.0.1; kills only the processes it started.
# QNET_BUILD=DIR selects the build (default ./build). KEEP=1 keeps the scratch dir.

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${QNET_BUILD:-$TOP/build}
AGENT=$TOP/ha/qnetd
QNETD=$BUILD/qnetd/qnetd
TOOL=$BUILD/qnetd/qnetd-tool
export OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}

. "$TOP/tests/lib.sh"

for f in "$QNETD" "$TOOL"; do
    [ -x "$f" ] || { echo "$f missing: build first (QNET_BUILD=DIR)" >&2; exit 1; }
done
for t in ocf-tester certutil openssl xmllint python3 timeout setsid; do
    command -v "$t" >/dev/null || { echo "$t is required (apt-get install resource-agents libnss3-tools)" >&2; exit 1; }
done
[ -r "$OCF_ROOT/lib/heartbeat/ocf-shellfuncs" ] ||
    { echo "$OCF_ROOT/lib/heartbeat/ocf-shellfuncs missing (resource-agents)" >&2; exit 1; }

started=$SECONDS
DB=$dir/nssdb
PORT=$(free_port)

# The processes this suite started (qnetd instances of the agent, listeners):
# their lock files are read at exit, and only a PID still running our qnetd
# binary is killed.
tests_at_exit() {
    local lock pid
    for lock in "$dir"/run*/*.pid; do
        [ -f "$lock" ] || continue
        pid=$(head -n 1 "$lock" | tr -dc '0-9')
        [ -n "$pid" ] || continue
        if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$QNETD")" ]; then
            kill -CONT "$pid" 2>/dev/null || true
            kill "$pid" 2>/dev/null || true
        fi
    done
}

# agent ACTION [name=value...]: run the agent with the common parameters
# (instance "$INST", run directory $dir/run-$INST) overridden by the given ones;
# stdout+stderr in $dir/agent.out, exit status in $arc (not rc: check() owns that).
INST=ha1
agent() {
    local action=$1
    shift
    arc=0
    env OCF_RESOURCE_INSTANCE="$INST" \
        OCF_RESKEY_binary="$QNETD" OCF_RESKEY_tool_binary="$TOOL" \
        OCF_RESKEY_nss_db_dir="$DB" OCF_RESKEY_ip=127.0.0.1 \
        OCF_RESKEY_port="$PORT" OCF_RESKEY_run_dir="$dir/run-$INST" \
        OCF_RESKEY_log_file="$dir/qnetd-$INST.log" \
        "${@/#/OCF_RESKEY_}" "$AGENT" "$action" >"$dir/agent.out" 2>&1 || arc=$?
}

# expect CODE PATTERN ACTION [name=value...]: exit status CODE and an
# ocf-exit-reason line matching PATTERN (none wanted when PATTERN is empty).
expect() {
    local want=$1 pattern=$2 reason
    shift 2
    agent "$@"
    reason=$(sed -n 's/^ocf-exit-reason://p' "$dir/agent.out" | tail -n 1)
    echo "exit $arc (expected $want), reason: ${reason:-none}"
    [ "$arc" = "$want" ] || { cat "$dir/agent.out"; return 1; }
    if [ -n "$pattern" ]; then
        grep -qE -- "$pattern" <<<"$reason" || { cat "$dir/agent.out"; return 1; }
    fi
    # shown in the suite's output: the code and the message of each case
    printf '%s\n' "$arc|${reason:-}" >"$dir/last"
}

# shown CODE...: print the last case's exit code and reason under its check.
shown() {
    local line
    line=$(cat "$dir/last")
    echo "#   -> OCF exit ${line%%|*}: ${line#*|}"
}

lock_pid() {
    head -n 1 "$dir/run-$INST/$INST.pid" | tr -dc '0-9'
}

###########################################################################
check "test NSS database made by qnetd-certutil -i" \
    "$TOP/certs/qnetd-certutil" -d "$DB" -i
check "meta-data is valid OCF XML listing every parameter and action" eval '
    "$AGENT" meta-data >"$dir/meta.xml" && xmllint --noout "$dir/meta.xml" &&
    for p in binary tool_binary nss_db_dir ip port tls client_cert_required \
        max_clients worker_processes settings user lock_file socket_file log_file debug \
        monitor_tool_timeout ca_fingerprint run_dir; do
        grep -q "<parameter name=\"$p\"" "$dir/meta.xml" || { echo "no $p"; exit 1; }
    done &&
    for a in start stop monitor validate-all meta-data; do
        grep -q "<action name=\"$a\" timeout=" "$dir/meta.xml" || { echo "no $a"; exit 1; }
    done'

check "ocf-tester passes (loopback, TLS on, our NSS database)" \
    timeout 120 ocf-tester -n "$INST" -o binary="$QNETD" -o tool_binary="$TOOL" \
    -o nss_db_dir="$DB" -o ip=127.0.0.1 -o port="$PORT" \
    -o run_dir="$dir/run-$INST" -o log_file="$dir/qnetd-$INST.log" "$AGENT"
tail -n 1 "$dir/out" | sed 's/^/#   /'

echo "# bad input"
check "missing NSS database -> 6 OCF_ERR_CONFIGURED" \
    expect 6 "NSS database directory .* does not exist" start nss_db_dir="$dir/none"
shown
mkdir -p "$dir/empty-db"
certutil -N -d "$dir/empty-db" --empty-password >/dev/null 2>&1
check "NSS database without the server certificate -> 6" \
    expect 6 'lacks the server certificate "QNetd Cert"' validate-all nss_db_dir="$dir/empty-db"
shown
mkdir -p "$dir/no-db"
check "empty directory instead of a database -> 6" \
    expect 6 "holds no NSS database" start nss_db_dir="$dir/no-db"
shown
ca_sha256() {
    certutil -L -d "$1" -n "QNet CA" | sed -n '/Fingerprint (SHA-256):/{n;s/^ *//;p;q}'
}
OTHER_DB=$dir/other-nssdb
"$TOP/certs/qnetd-certutil" -d "$OTHER_DB" -i >/dev/null 2>&1
check "database of another CA than ca_fingerprint (mismatched standby) -> 6" \
    expect 6 "holds another CA" start nss_db_dir="$OTHER_DB" ca_fingerprint="$(ca_sha256 "$DB")"
shown
check "database of the expected CA passes validate-all (openssl's fingerprint form)" \
    expect 0 "" validate-all ca_fingerprint="$(openssl x509 -noout -fingerprint -sha256 -in "$DB/qnetd-cacert.crt")"
check "invalid port -> 6" expect 6 "port '70000' is not a TCP port" start port=70000
shown
check "invalid tls word -> 6" expect 6 "tls 'maybe'" validate-all tls=maybe
shown
check "missing daemon -> 5 OCF_ERR_INSTALLED" \
    expect 5 "not found" start binary="$dir/no-qnetd"
shown
check "probe with the daemon missing -> 7 OCF_NOT_RUNNING" \
    expect 7 "" monitor binary="$dir/no-qnetd" CRM_meta_interval=0

listener_up() {
    python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("listening", flush=True)
time.sleep(60)' "$PORT" >"$dir/listener.out" 2>&1 &
    LISTENER=$!
    pids+=("$LISTENER")
    for _ in $(seq 100); do
        grep -q listening "$dir/listener.out" && return 0
        sleep 0.1
    done
    return 1
}
check "port held by another listener" listener_up
check "port already in use -> 1 OCF_ERR_GENERIC with qnetd's error line" \
    expect 1 "qnetd failed to start .*(in use|IN_USE)" start
shown
kill "$LISTENER"
wait "$LISTENER" 2>/dev/null || true
# 198.18.0.0/15 is not on any interface of this host (nothing is sent)
check "listen address not on this host (floating address missing) -> 1" \
    expect 1 "qnetd failed to start .*(not available|NOT_AVAILABLE)" start ip=198.18.0.99
shown
check "qnetd refusing a setting -> 1 with its message" \
    expect 1 "qnetd failed to start .*unknown advanced setting 'no_such_setting'" \
    start settings=no_such_setting=1
shown
check "the agent's own settings are not accepted in settings -> 6" \
    expect 6 "use the agent's parameters" validate-all settings=lock_file=/tmp/x
shown

echo "# hung daemon, stop"
check "start" expect 0 "" start
check "monitor of a running qnetd -> 0" expect 0 "" monitor
hung_monitor() {
    local pid t0 elapsed
    pid=$(lock_pid)
    kill -STOP "$pid"
    t0=$(date +%s%N)
    local r=0
    expect 1 "does not answer qnetd-tool -s .* within 2s" monitor monitor_tool_timeout=2 || r=1
    elapsed=$((($(date +%s%N) - t0) / 1000000))
    kill -CONT "$pid"
    [ $r = 0 ] || return 1
    echo "monitor of the stopped qnetd took $elapsed ms"
    echo "$elapsed" >"$dir/hung-ms"
    [ "$elapsed" -lt 4000 ]
}
check "monitor of a SIGSTOPped qnetd -> 1 within its 2 s timeout" hung_monitor
shown
echo "#   (took $(cat "$dir/hung-ms" 2>/dev/null) ms)"
check "monitor within a 3 s operation timeout honours it" eval '
    pid=$(lock_pid) && kill -STOP "$pid" &&
    expect 1 "within 1s" monitor CRM_meta_timeout=3000; r=$?; kill -CONT "$pid"; [ $r = 0 ]'
check "monitor answers again once resumed -> 0" expect 0 "" monitor

foreign_pid() {
    local pid lock=$dir/run-$INST/$INST.pid saved
    pid=$(lock_pid)
    saved=$(cat "$lock")
    sleep 60 &
    SLEEPER=$!
    pids+=("$SLEEPER")
    # a lock file naming a process that is not qnetd: not ours to signal
    echo "$SLEEPER" >"$lock"
    expect 7 "" monitor || return 1
    expect 0 "" stop || return 1
    kill -0 "$SLEEPER" || { echo "stop killed an unrelated process"; return 1; }
    echo "$saved" >"$lock"
    kill -0 "$pid"
}
check "lock file naming another program: monitor 7, stop 0, that program untouched" foreign_pid

second_instance() {
    local other
    INST=ha2 PORT2=$(free_port)
    PORT_SAVED=$PORT
    PORT=$PORT2
    expect 0 "" start || return 1
    other=$(lock_pid)
    INST=ha1 PORT=$PORT_SAVED
    expect 0 "" stop || return 1
    expect 7 "" monitor || return 1
    kill -0 "$other" || { echo "stopping ha1 stopped ha2"; return 1; }
    INST=ha2 PORT=$PORT2
    expect 0 "" stop
    local r=$?
    INST=ha1 PORT=$PORT_SAVED
    return $r
}
check "stop ends only its own instance (two on one host)" second_instance
# live processes of the session the agent started qnetd in (front and
# workers; zombies left for a PID 1 that does not reap do not count)
session_pids() {
    ps -e -o pid=,sid=,stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
}
workers_stop() {
    local pid n
    expect 0 "" start worker_processes=2 || return 1
    pid=$(lock_pid)
    for _ in $(seq 50); do
        n=$(session_pids "$pid" | wc -l)
        [ "$n" -ge 3 ] && break
        sleep 0.1
    done
    echo "qnetd session $pid: $n processes (front and 2 workers)"
    [ "$n" -ge 3 ] || return 1
    expect 0 "" monitor worker_processes=2 || return 1
    expect 0 "" stop worker_processes=2 || return 1
    n=$(session_pids "$pid" | wc -l)
    echo "after stop: $n"
    [ "$n" = 0 ]
}
check "worker_processes=2: started, monitored, stopped with its workers" workers_stop
hung_stop() {
    local pid t0 n
    expect 0 "" start worker_processes=2 || return 1
    pid=$(lock_pid)
    sleep 0.5
    kill -STOP "$pid"
    t0=$SECONDS
    # a 7 s stop operation: SIGTERM waits 2 s, then SIGKILL for the session
    expect 0 "" stop CRM_meta_timeout=7000 || { kill -CONT "$pid"; return 1; }
    echo "stop of the stopped qnetd took $((SECONDS - t0)) s"
    n=$(session_pids "$pid" | wc -l)
    echo "left in its session: $n"
    [ "$n" = 0 ] && [ $((SECONDS - t0)) -le 7 ]
}
check "stop of a hung qnetd (SIGSTOP) kills it and its workers within the stop timeout" hung_stop
as_user() {
    local pid owner
    # nobody needs to reach a readable copy of the database
    chmod 0711 "$dir"
    cp -r "$DB" "$dir/user-db" && chmod 0755 "$dir/user-db" && chmod 0644 "$dir/user-db"/*
    expect 0 "" start user=nobody nss_db_dir="$dir/user-db" || return 1
    pid=$(lock_pid)
    owner=$(ps -o user= -p "$pid")
    echo "qnetd $pid runs as $owner"
    expect 0 "" monitor user=nobody nss_db_dir="$dir/user-db" &&
        expect 0 "" stop user=nobody nss_db_dir="$dir/user-db" && [ "$owner" = nobody ]
}
check "user=nobody: qnetd runs as nobody, monitored and stopped" as_user
check "stop of a stopped instance -> 0" expect 0 "" stop
check "monitor of a stopped instance -> 7" expect 7 "" monitor
check "no qnetd of this suite left running" eval \
    "! pgrep -f -- '$dir/run-' >/dev/null"

echo "# runtime $((SECONDS - started)) s"
tests_summary
