#!/usr/bin/env python3
"""tests/hostile/qnetd_attacks.py: the attacks of test-qnetd-attacks.sh, and its bystander.

  qnetd_attacks.py --host H --port P MODE [options]     (--help lists the modes)

bystander     a client of its own cluster: PREINIT, INIT, then an ECHO_REQUEST every
              --interval s over the same connection until --stop-file appears (or
              --seconds pass). Prints "bystander echo: n=.. p50=.. p99=.. max=.. ms";
              exits 1 if the connection was lost, an echo went unanswered, or p99 is
              not below --max-p99-ms. With --near C --workers N its cluster is one
              that qnetd's front routes to the same worker process as cluster C.
dead-peers    --count clients (PREINIT + INIT with heartbeat --hb ms) that go silent:
              the server must drop them all once their dead-peer time is over.
silent        --count connections that send nothing for --hold s (or --bytes of a
              message header and then nothing).
hb-churn      one client, --count SET_OPTION messages each asking for another
              heartbeat (120000 ms down): every one must be answered with its value.
hook-churn    --rate connect/INIT/close sessions a second of --clusters other clusters
              for --seconds while two clients of --cluster join and leave; then the
              hook log --hook-log (lines "EVENT CLUSTER") must show --cluster's two
              client_connected and two client_disconnected within --wait s.
cert-case     TLS with the certificate of cluster --cluster (--cert): announcing
              --cluster is served; announcing --announce (same letters, other case)
              must be dropped.
churn         --hold clients of --clusters clusters stay while others connect, INIT
              and close over and over, until --stop-file appears; then the held ones
              all close at once and --term-pid gets SIGTERM at that very moment (the
              server stops while it tears them down), and the churn goes on 1 s more.

Standard library only; the wire helpers are tests/lib/qnetwire.py. Every wait is
bounded; nothing is sent anywhere but --host (loopback in the suite).
"""
import argparse
import os
import signal
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qnetwire import (ECHO_REPLY, ECHO_REQUEST, INIT_REPLY, OPT_HEARTBEAT,  # noqa: E402
                         OPT_REPLY_ERROR_CODE, OPT_SEQ, PREINIT_REPLY, SET_OPTION,
                         SET_OPTION_REPLY, STARTTLS, VOTE_INFO, VOTE_INFO_REPLY, handshake,
                         init, msg, opt_u, preinit, read_msg, tls_wrap, tlv, u32)


def connect(a, source=None, timeout=10.0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    if source:
        sock.bind((source, 0))
    sock.connect((a.host, a.port))
    return sock


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = max(0, min(len(sorted_values) - 1, int(len(sorted_values) * p / 100.0 + 0.999999) - 1))
    return sorted_values[i]


def stop_wanted(a, t_end):
    return (a.stop_file and os.path.exists(a.stop_file)) or time.monotonic() >= t_end


# ---- bystander -----------------------------------------------------------------------

def worker_of(name, workers):
    """The worker process qnetd's front routes cluster NAME to (FNV-1a, shard-front.c)."""
    h = 2166136261
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h % workers


def bystander_cluster(a):
    """--cluster, or with --near and --workers the first --cluster-N on --near's worker."""
    if not a.near or a.workers < 2:
        return a.cluster
    for i in range(1000):
        name = "%s-%d" % (a.cluster, i)
        if worker_of(name, a.workers) == worker_of(a.near, a.workers):
            return name
    raise AssertionError("no cluster name on %s's worker" % a.near)


def mode_bystander(a):
    a.cluster = bystander_cluster(a)
    sock = connect(a)
    code = handshake(sock, a.cluster, 1, hb=a.hb or 8000)
    if code != 0:
        print("bystander: INIT refused or connection lost (code %s)" % code)
        return 1
    if a.ready_file:
        open(a.ready_file, "w").close()
    rtts, lost, seq = [], None, 100
    t_end = time.monotonic() + a.seconds
    next_send = time.monotonic()
    sock.settimeout(a.reply_timeout)
    while not stop_wanted(a, t_end) and lost is None:
        now = time.monotonic()
        if next_send > now:
            time.sleep(next_send - now)
        next_send += a.interval
        seq += 1
        sent = time.monotonic()
        try:
            sock.sendall(msg(ECHO_REQUEST, u32(OPT_SEQ, seq)))
            while True:
                m = read_msg(sock)
                if m is None:
                    lost = "connection closed by the server"
                    break
                if m[0] == VOTE_INFO:
                    sock.sendall(msg(VOTE_INFO_REPLY, tlv(OPT_SEQ, m[1][OPT_SEQ])))
                    continue
                if m[0] == ECHO_REPLY and opt_u(m[1], OPT_SEQ) == seq:
                    rtts.append((time.monotonic() - sent) * 1000.0)
                    break
                lost = "unexpected message type %d" % m[0]
                break
        except socket.timeout:
            lost = "no echo reply within %.0f s" % a.reply_timeout
        except OSError as e:
            lost = "connection lost: %r" % e
        # A late reply puts the schedule behind: send the next at once, not in a burst.
        next_send = max(next_send, time.monotonic())
    sock.close()
    s = sorted(rtts)
    p99 = percentile(s, 99)
    print("bystander echo: n=%d p50=%.1f p99=%.1f max=%.1f ms (cluster %s)%s" % (
        len(s), percentile(s, 50), p99, s[-1] if s else 0.0, a.cluster,
        "" if lost is None else "; then %s" % lost))
    if lost is not None or not s:
        return 1
    if p99 >= a.max_p99_ms:
        print("bystander: p99 %.1f ms is not below the liveness bound %.0f ms"
              % (p99, a.max_p99_ms))
        return 1
    return 0


# ---- 1a: clients that go silent after INIT -------------------------------------------

def wait_closed(socks, deadline):
    """Seconds until every socket is closed by the peer, None past the deadline."""
    t0 = time.monotonic()
    open_socks = list(socks)
    while open_socks and time.monotonic() < deadline:
        still = []
        for s in open_socks:
            s.settimeout(0)
            try:
                d = s.recv(65536)
                if d:
                    still.append(s)	# a late reply; the close comes later
            except (BlockingIOError, socket.timeout):
                still.append(s)
            except OSError:
                pass	# reset: closed
        open_socks = still
        if open_socks:
            time.sleep(0.1)
    return (time.monotonic() - t0, len(open_socks))


def mode_dead_peers(a):
    socks, refused = [], 0
    per_cluster = max(1, a.per_cluster)
    for i in range(a.count):
        sock = connect(a)
        code = handshake(sock, "%s-%d" % (a.cluster, i // per_cluster), 1 + i % per_cluster,
                         hb=a.hb or 1000)
        if code != 0:
            refused += 1
        socks.append(sock)
    print("# %d clients initialised (heartbeat %d ms), %d refused; now silent"
          % (a.count - refused, a.hb or 1000, refused))
    if refused:
        print("FAIL: %d INITs refused" % refused)
        return 1
    took, left = wait_closed(socks, time.monotonic() + a.wait)
    for s in socks:
        s.close()
    if left:
        print("FAIL: %d of %d silent clients still connected after %.1f s" % (left, a.count, took))
        return 1
    print("# all %d silent clients dropped after %.1f s" % (a.count, took))
    return 0


# ---- 1b: connections that never send a message ---------------------------------------

def mode_silent(a):
    socks = []
    for i in range(a.count):
        sock = connect(a)
        if a.bytes:
            sock.sendall(preinit(1, "silent")[:a.bytes])	# part of a PREINIT
        socks.append(sock)
    print("# %d silent connections open; holding them %.0f s" % (a.count, a.hold))
    took, left = wait_closed(socks, time.monotonic() + a.hold)
    for s in socks:
        s.close()
    print("# after %.1f s: %d dropped by the server, %d still open"
          % (took, a.count - left, left))
    return 0


# ---- 2: a heartbeat per SET_OPTION ---------------------------------------------------

def mode_hb_churn(a):
    sock = connect(a)
    if handshake(sock, a.cluster, 1, hb=8000) != 0:
        print("FAIL: INIT refused")
        return 1
    sock.settimeout(a.reply_timeout)
    window = 16		# requests in flight: well below the 32 queued replies allowed
    sent = answered = 0
    t0 = time.monotonic()
    deadline = t0 + a.seconds
    try:
        while answered < a.count:
            while sent < a.count and sent - answered < window:
                hb = 120000 - sent
                sock.sendall(msg(SET_OPTION, u32(OPT_SEQ, 10 + sent), u32(OPT_HEARTBEAT, hb)))
                sent += 1
            m = read_msg(sock)
            if m is None:
                print("FAIL: connection closed after %d of %d replies (%.1f s)"
                      % (answered, a.count, time.monotonic() - t0))
                return 1
            if m[0] != SET_OPTION_REPLY:
                print("FAIL: message type %d (code %s) instead of SET_OPTION_REPLY %d"
                      % (m[0], opt_u(m[1], OPT_REPLY_ERROR_CODE), answered))
                return 1
            want = 120000 - answered
            got = opt_u(m[1], OPT_HEARTBEAT)
            if opt_u(m[1], OPT_SEQ) != 10 + answered or got != want:
                print("FAIL: reply %d: seq %s heartbeat %s, want heartbeat %d"
                      % (answered, opt_u(m[1], OPT_SEQ), got, want))
                return 1
            answered += 1
            if answered % 10000 == 0:
                print("# %d replies after %.1f s" % (answered, time.monotonic() - t0), flush=True)
            if time.monotonic() > deadline:
                print("FAIL: only %d of %d replies within %.0f s" % (answered, a.count, a.seconds))
                return 1
    except socket.timeout:
        print("FAIL: no reply within %.0f s after %d of %d" % (a.reply_timeout, answered, a.count))
        return 1
    except OSError as e:
        print("FAIL: %r after %d of %d replies" % (e, answered, a.count))
        return 1
    print("# %d SET_OPTION heartbeats (120000 down to %d ms) answered in %.1f s"
          % (answered, 120000 - a.count + 1, time.monotonic() - t0))
    return 0


# ---- 6: connect/disconnect churn of many clusters against one cluster's hooks --------

def hook_lines(path, cluster):
    try:
        with open(path) as f:
            return [l.split()[0] for l in f if l.split()[1:] == [cluster]]
    except OSError:
        return []


def mode_hook_churn(a):
    """--rate sessions a second (connect, PREINIT + INIT, close) of --clusters other
    clusters for --seconds; meanwhile two clients of --cluster connect (at 1 s) and
    leave (at --seconds - 3 s). The hook log (lines "EVENT CLUSTER" written by the
    hook) must then show that cluster's connects and disconnects."""
    t0 = time.monotonic()
    real, joined, left, sessions, sessions_at_join, i = [], False, False, 0, 0, 0
    while time.monotonic() - t0 < a.seconds:
        now = time.monotonic() - t0
        if now >= 1 and not joined:
            joined, sessions_at_join = True, sessions
            for node in (1, 2):
                sock = connect(a)
                if handshake(sock, a.cluster, node, hb=8000) != 0:
                    print("FAIL: INIT of %s node %d refused" % (a.cluster, node))
                    return 1
                real.append(sock)
        if now >= a.seconds - 3 and not left:
            left = True
            for sock in real:
                sock.close()
        if i >= now * a.rate:
            time.sleep(0.002)
            continue
        i += 1
        try:
            sock = connect(a, timeout=5)
            handshake(sock, "churn-%d" % (i % a.clusters), 1)
            sock.close()
            sessions += 1
        except OSError:
            pass
    took = time.monotonic() - t0
    print("# %d connect/disconnect sessions of %d other clusters in %.1f s (%.0f/s); %s's two "
          "clients joined after %d of them" % (sessions, a.clusters, took, sessions / took,
                                               a.cluster, sessions_at_join))
    want = {"client_connected": 2, "client_disconnected": 2}
    deadline = time.monotonic() + a.wait
    while True:
        got = hook_lines(a.hook_log, a.cluster)
        counts = {e: got.count(e) for e in want}
        if counts == want or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    with open(a.hook_log) as f:
        ran = sum(1 for _ in f)
    print("# hooks run: %d in all; cluster %s: %s" % (ran, a.cluster, ", ".join(
        "%s %d of %d" % (e, counts[e], n) for e, n in want.items())))
    if counts != want:
        print("FAIL: %s's event hooks did not all run" % a.cluster)
        return 1
    return 0


# ---- 9: a certificate for another spelling of the cluster name ----------------------

def tls_init(a, announce):
    """PREINIT naming ANNOUNCE, STARTTLS with --cert, INIT: the INIT_REPLY code,
    or None when the server dropped us."""
    sock = connect(a)
    sock.sendall(preinit(1, announce))
    m = read_msg(sock)
    if m is None or m[0] != PREINIT_REPLY:
        raise AssertionError("no PREINIT_REPLY")
    sock.sendall(msg(STARTTLS, u32(OPT_SEQ, 2)))
    tls = tls_wrap(sock, a.cert)
    try:
        tls.sendall(init(3, 1))
        m = read_msg(tls)
    except (ssl.SSLError, OSError):
        m = None
    tls.close()
    if m is None:
        return None
    if m[0] != INIT_REPLY:
        raise AssertionError("message type %d instead of INIT_REPLY" % m[0])
    return opt_u(m[1], OPT_REPLY_ERROR_CODE)


def mode_cert_case(a):
    code = tls_init(a, a.cluster)
    print("# certificate of %r announcing %r: %s" % (
        a.cluster, a.cluster, "dropped" if code is None else "INIT_REPLY %d" % code))
    if code != 0:
        print("FAIL: the control (the certificate's own name) was not served")
        return 1
    code = tls_init(a, a.announce)
    print("# certificate of %r announcing %r: %s" % (
        a.cluster, a.announce, "dropped" if code is None else "INIT_REPLY %d" % code))
    if code is not None:
        print("FAIL: a certificate for %r was accepted for %r" % (a.cluster, a.announce))
        return 1
    return 0


# ---- 10: traffic while the server stops ----------------------------------------------

def churn_once(a, i):
    """One short session: connect, PREINIT + INIT, close (every other one with its
    INIT unanswered)."""
    try:
        sock = connect(a, timeout=2)
        sock.sendall(preinit(1, "%s-%d" % (a.cluster, i % a.clusters)) + init(2, 1000 + i % 50))
        if i % 2 == 0:
            read_msg(sock)
        sock.close()
        return True
    except OSError:
        time.sleep(0.05)		# the server is going away
        return False


def mode_churn(a):
    held = []
    for i in range(a.hold):
        sock = connect(a)
        if handshake(sock, "%s-%d" % (a.cluster, i % a.clusters), 100 + i) != 0:
            print("FAIL: INIT of held client %d refused" % i)
            return 1
        held.append(sock)
    if a.ready_file:
        open(a.ready_file, "w").close()
    sessions = i = 0
    t_end = time.monotonic() + a.seconds
    while not stop_wanted(a, t_end):
        i += 1
        sessions += churn_once(a, i)
    # All held clients close at once and the server is told to stop while it is
    # still tearing them down (the jobs that free them are pending).
    for s in held:
        s.close()
    if a.term_pid:
        os.kill(a.term_pid, signal.SIGTERM)
    after = 0
    t_end = time.monotonic() + 1.0
    while time.monotonic() < t_end:
        i += 1
        after += churn_once(a, i)
    print("# %d connect/close sessions while %d clients were held; all %d closed, "
          "SIGTERM%s, %d more sessions" % (sessions, a.hold, a.hold,
                                           " sent" if a.term_pid else " not sent", after))
    return 0


MODES = {
    "bystander": mode_bystander,
    "dead-peers": mode_dead_peers,
    "silent": mode_silent,
    "hb-churn": mode_hb_churn,
    "cert-case": mode_cert_case,
    "hook-churn": mode_hook_churn,
    "churn": mode_churn,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("mode", choices=sorted(MODES))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cluster", default="attack", help="cluster name (prefix)")
    p.add_argument("--announce", help="cert-case: the name announced with --cluster's cert")
    p.add_argument("--cert", help="cert-case: PEM file with the client certificate and key")
    p.add_argument("--near", help="bystander: a cluster whose worker process to share")
    p.add_argument("--workers", type=int, default=1, help="bystander: qnetd's worker_processes")
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--per-cluster", type=int, default=10, help="dead-peers: nodes per cluster")
    p.add_argument("--clusters", type=int, default=8, help="churn, hook-churn: clusters used")
    p.add_argument("--hb", type=int, default=None,
                   help="heartbeat in INIT, ms (bystander 8000, dead-peers 1000)")
    p.add_argument("--rate", type=float, default=65, help="hook-churn: sessions a second")
    p.add_argument("--hook-log", help="hook-churn: the file the event hook appends to")
    p.add_argument("--bytes", type=int, default=0, help="silent: bytes of a header sent")
    p.add_argument("--hold", type=float, default=30,
                   help="silent: seconds held; churn: connections held")
    p.add_argument("--wait", type=float, default=20,
                   help="dead-peers, hook-churn: longest wait, s")
    p.add_argument("--seconds", type=float, default=120, help="longest run, s")
    p.add_argument("--interval", type=float, default=0.05, help="bystander: echo every, s")
    p.add_argument("--reply-timeout", type=float, default=20)
    p.add_argument("--max-p99-ms", type=float, default=1000)
    p.add_argument("--stop-file")
    p.add_argument("--ready-file")
    p.add_argument("--term-pid", type=int, default=0,
                   help="churn: SIGTERM this pid right after the held clients close")
    a = p.parse_args()
    if a.mode == "churn":
        a.hold = int(a.hold)
    try:
        return MODES[a.mode](a)
    except (OSError, AssertionError) as e:
        print("FAIL: %r" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
