#!/usr/bin/env python3
"""tests/hostile/qnet-hostile.py: misbehaving qnet clients for test-hostile-qnetd.sh.

One case per run: `qnet-hostile.py --host H --port P CASE [options]`. The case
speaks the qnet wire format (docs/protocol.md section 1) badly on purpose and
checks what the server answers: the expected reply, or that it drops us. Prints
`# ...` diagnostics, then `OK: ...` and exits 0, or `FAIL: ...` and exits 1.
Every wait is bounded; nothing is sent anywhere but --host.
"""

import argparse
import os
import resource
import socket
import ssl
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qnetwire import (ALGO_FFSPLIT, ECHO_REPLY, ECHO_REQUEST, INIT_REPLY,  # noqa: E402
                      MAX_MSG, NODE_LIST, NODE_LIST_REPLY, OPT_CLUSTER_NAME, OPT_NODE_INFO,
                      OPT_REPLY_ERROR_CODE, OPT_SEQ, PREINIT, PREINIT_REPLY, SERVER_ERROR,
                      STARTTLS, TB_LOWEST, VOTE_INFO_REPLY, Closed, Conn, echo_request, init,
                      message, node_list, preinit, run_case, tlv, u32)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return -1
    return -1


def kept(conn, seq=77):
    """The connection still works: a PREINIT gets its reply."""
    conn.send(preinit(seq, "hostile-probe"))
    conn.expect(PREINIT_REPLY, seq=seq)


def refused_kept(conn, data, code, seq=None):
    """DATA gets SERVER_ERROR CODE carrying SEQ (None: no seq at all), and the connection
    still works."""
    conn.send(data)
    conn.expect(SERVER_ERROR, code=code, seq=seq)
    kept(conn)


# ---- cases ------------------------------------------------------------------------


def case_truncated_header(a):
    c = Conn(a.host, a.port)
    c.send(b"\x00\x00\x00")
    c.close()
    time.sleep(0.2)
    c = Conn(a.host, a.port)
    kept(c)
    return "3 header bytes then close: nothing to answer; the next client is served"


def case_too_long(a):
    c = Conn(a.host, a.port)
    refused_kept(c, struct.pack(">HI", PREINIT, 40000) + b"\0" * 40000, 5)
    return "length 40006 > 32768: SERVER_ERROR 5 without seq, connection kept"


def case_lying_tlv(a):
    c = Conn(a.host, a.port)
    # SEQ 5, then a cluster name claiming 100 bytes of which 3 follow
    c.send(message(PREINIT, u32(OPT_SEQ, 5), struct.pack(">HH", OPT_CLUSTER_NAME, 100) + b"e2e"))
    c.expect(SERVER_ERROR, code=9, seq=5)
    # an option header cut in half
    c.send(message(PREINIT, u32(OPT_SEQ, 6), b"\x00\x01"))
    c.expect(SERVER_ERROR, code=9, seq=6)
    # a NODE_INFO whose inner option lies
    refused_kept(c, message(NODE_LIST, u32(OPT_SEQ, 7),
                            tlv(OPT_NODE_INFO, struct.pack(">HHI", 9, 40, 1))), 9, 7)
    return "TLV lengths past the end: SERVER_ERROR 9 with the seq seen, connection kept"


def plain_session(a, cluster, node=1):
    c = Conn(a.host, a.port)
    c.send(preinit(1, cluster))
    c.expect(PREINIT_REPLY, seq=1)
    c.send(init(2, node))
    c.expect(INIT_REPLY, seq=2, code=0)
    return c


def case_node_list_over_limit(a):
    c = plain_session(a, "hostile-nodes")
    big = node_list(3, 0, range(1, 3001))
    print("# node list of 3000 nodes: %d bytes" % len(big))
    c.send(big)
    c.expect(SERVER_ERROR, code=5, seq=None)
    fits = node_list(4, 0, range(1, 2700))
    print("# node list of 2699 nodes: %d bytes" % len(fits))
    c.send(fits)
    c.expect(NODE_LIST_REPLY, seq=4)
    c.send(echo_request(5))
    c.expect(ECHO_REPLY, seq=5)
    return "3000 nodes: SERVER_ERROR 5, connection kept; 2699 nodes (under 32768) served"


def case_unknown_type(a):
    c = Conn(a.host, a.port)
    refused_kept(c, message(0x1234, u32(OPT_SEQ, 8)), 4)
    return "type 0x1234: SERVER_ERROR 4 without seq, connection kept"


def case_node_list_before_init(a):
    c = Conn(a.host, a.port)
    c.send(preinit(1, "hostile-early"))
    c.expect(PREINIT_REPLY, seq=1)
    refused_kept(c, node_list(3, 0, [1, 2]), 11, 3)
    return "NODE_LIST before INIT: SERVER_ERROR 11"


def case_vote_info_reply_before_init(a):
    c = Conn(a.host, a.port)
    refused_kept(c, message(VOTE_INFO_REPLY, u32(OPT_SEQ, 4)), 11, 4)
    return "VOTE_INFO_REPLY before INIT: SERVER_ERROR 11"


def case_garbage_after_starttls(a):
    c = Conn(a.host, a.port)
    c.send(preinit(1, "hostile-garbage"))
    c.expect(PREINIT_REPLY, seq=1)
    c.send(message(STARTTLS, u32(OPT_SEQ, 2)))
    # What a confused client sends: its INIT in plaintext, then more plaintext. NSS
    # reads the first 5 bytes as a record header; the garbage must also cover the
    # record length that header claims, or NSS just waits for the rest (as it would
    # for any slow peer, until the dead-peer timer).
    try:
        c.send(init(3, 1) + b"GET / HTTP/1.0\r\n" + b"x" * 33000)
    except OSError:
        pass
    if not c.dropped():
        raise AssertionError("plaintext after STARTTLS did not cost the connection")
    return "plaintext where the TLS ClientHello belongs: dropped"


def case_starttls_tls_off(a):
    c = Conn(a.host, a.port)
    c.send(preinit(1, "hostile-notls"))
    c.expect(PREINIT_REPLY, seq=1, tls=0)
    c.send(message(STARTTLS, u32(OPT_SEQ, 2)))
    try:
        c.send(b"\x16\x03\x01\x00\x05hello")	# a bogus ClientHello start
    except OSError:
        pass
    if not c.dropped():
        raise AssertionError("STARTTLS on a TLS-off server did not cost the connection")
    return "server -s off answered TLS unsupported; STARTTLS anyway: dropped"


def tls_session(a, cluster, certfile):
    c = Conn(a.host, a.port)
    c.send(preinit(1, cluster))
    c.expect(PREINIT_REPLY, seq=1)
    try:
        c.starttls(2, certfile)
    except (ssl.SSLError, OSError) as e:
        print("# TLS handshake failed: %r" % e)
        return None
    return c


def send_init_expect_drop(c, node):
    try:
        c.send(init(3, node))
    except (ssl.SSLError, OSError) as e:
        print("# send failed: %r" % e)
        return True
    return c.dropped()


def case_no_client_cert(a):
    c = tls_session(a, a.cluster, None)
    if c is not None and not send_init_expect_drop(c, 9):
        raise AssertionError("TLS without a client certificate was served")
    return "TLS without a client certificate (-c on): dropped"


def case_foreign_cert(a):
    c = tls_session(a, a.cluster, a.cert)
    if c is None:
        raise AssertionError("the handshake with a certificate of our CA failed")
    if not send_init_expect_drop(c, 9):
        raise AssertionError("a certificate for another cluster was accepted")
    return "certificate for another cluster announcing %s: dropped" % a.cluster


def case_untrusted_cert(a):
    """A certificate naming our cluster, issued by a CA that carries our
    CA's name but not its key: the chain does not verify, so no INIT may be
    served, however often it is tried (a failed verification is never
    remembered by the server's cache of verified certificates)."""
    c = tls_session(a, a.cluster, a.cert)
    if c is not None and not send_init_expect_drop(c, 9):
        raise AssertionError("a certificate of an untrusted CA was served")
    return "certificate of an untrusted CA announcing %s: refused" % a.cluster


def case_rename_after_tls(a):
    """The certificate of --cluster passes its check (first message over TLS),
    then a PREINIT names --target: the server must drop us, not let that
    certificate into another cluster."""
    c = tls_session(a, a.cluster, a.cert)
    if c is None:
        raise AssertionError("TLS handshake with the cluster's own certificate failed")
    c.send(echo_request(3))
    c.expect(SERVER_ERROR, seq=3, code=11)	# certificate accepted, INIT still missing
    c.send(preinit(4, a.target))
    if not c.dropped():
        raise AssertionError("PREINIT for %s over %s's TLS session was served"
                             % (a.target, a.cluster))
    return "%s's verified TLS session announcing %s: dropped" % (a.cluster, a.target)


def init_code(a, node, algorithm, tie_breaker):
    c = tls_session(a, a.cluster, a.cert)
    if c is None:
        raise AssertionError("TLS handshake with the cluster's own certificate failed")
    c.send(init(3, node, algorithm, tie_breaker))
    r = c.expect(INIT_REPLY, seq=3)
    return c, r.u(OPT_REPLY_ERROR_CODE)


def case_own_cert(a):
    _, code = init_code(a, 1, ALGO_FFSPLIT, TB_LOWEST)
    if code != 0:
        raise AssertionError("INIT_REPLY %d" % code)
    return "certificate of cluster %s announcing %s: INIT accepted" % (a.cluster, a.cluster)


def case_init_code(a):
    _, code = init_code(a, a.node, a.algorithm, a.tie_breaker)
    if code != a.want:
        raise AssertionError("INIT_REPLY code %d, want %d" % (code, a.want))
    return "INIT node %d algorithm %d tie-breaker %d in %s: INIT_REPLY %d" % (
        a.node, a.algorithm, a.tie_breaker, a.cluster, code)


def case_slowloris(a):
    data = preinit(1, "hostile-slow")
    slow = Conn(a.host, a.port, timeout=a.seconds + 10)
    errors = []

    def dribble():
        try:
            for i in range(a.seconds):
                slow.send(data[i:i + 1])
                time.sleep(1)
            slow.send(data[a.seconds:])
            slow.expect(PREINIT_REPLY, seq=1)
        except Exception as e:	# reported by the main thread
            errors.append(repr(e))

    t = threading.Thread(target=dribble)
    t.start()
    served = 0
    while t.is_alive():
        t0 = time.monotonic()
        c = Conn(a.host, a.port, timeout=2)
        kept(c)
        c.close()
        dt = time.monotonic() - t0
        if dt > 1.0:
            raise AssertionError("another client waited %.2f s during the slowloris" % dt)
        served += 1
        time.sleep(0.5)
    t.join()
    if errors:
        raise AssertionError("the slow client was not served in the end: %s" % errors[0])
    return "1 byte/s for %d s: %d other clients served meanwhile (< 1 s each), slow one too" % (
        a.seconds, served)


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def case_idle(a):
    raise_nofile(a.count + 64)
    before = rss_kb(a.pid)
    conns = []
    t0 = time.monotonic()
    for _ in range(a.count):
        conns.append(Conn(a.host, a.port, timeout=10))
        # Paced: a burst overflows qnetd's accept backlog (10, as upstream), and
        # every dropped SYN costs that connect a 1 s retransmission.
        time.sleep(0.001)
    print("# %d idle connections open after %.1f s; qnetd RSS %d -> %d kB"
          % (len(conns), time.monotonic() - t0, before, rss_kb(a.pid)))
    with open(a.ready_file, "w") as f:
        f.write("ready\n")
    deadline = time.monotonic() + a.hold
    while not os.path.exists(a.release_file) and time.monotonic() < deadline:
        time.sleep(0.1)
    # they must all still be open: the server may not drop silent clients this early
    alive = 0
    for c in conns:
        c.sock.setblocking(False)
        try:
            if c.sock.recv(1) != b"":
                alive += 1	# unexpected data, but the connection is up
        except BlockingIOError:
            alive += 1	# nothing to read, not closed: what we want
        except OSError:
            pass
        c.close()
    if alive != a.count:
        raise AssertionError("only %d of %d idle connections were still open" % (alive, a.count))
    return "%d idle connections held, all still open; qnetd RSS %d kB" % (a.count, rss_kb(a.pid))


def case_fd_exhaust(a):
    """More connections than the server has descriptors: held, then released."""
    raise_nofile(a.count + 64)
    conns = []
    for _ in range(a.count):
        try:
            conns.append(Conn(a.host, a.port, connect_timeout=1))
        except OSError as e:
            print("# connection %d not accepted: %r" % (len(conns) + 1, e))
            break
        time.sleep(0.001)
    print("# %d connections open" % len(conns))
    with open(a.ready_file, "w") as f:
        f.write("ready\n")
    deadline = time.monotonic() + a.hold
    while not os.path.exists(a.release_file) and time.monotonic() < deadline:
        time.sleep(0.1)
    for c in conns:
        c.close()
    # the server must recover: a new client is served within a few seconds
    t_end = time.monotonic() + 10
    while True:
        try:
            c = Conn(a.host, a.port, connect_timeout=2)
            kept(c)
            break
        except (OSError, Closed, AssertionError) as e:
            if time.monotonic() > t_end:
                raise AssertionError("not served 10 s after the descriptors came back: %r" % e)
            time.sleep(0.5)
    return "%d connections held against a small descriptor limit; served again afterwards" % (
        len(conns))


def case_no_read_flood(a):
    """Echo requests, never a read. The server must not buffer without bound: once
    its send queue is full it stops reading us (backpressure), and its dead-peer
    timer (heartbeat 2000 ms x 1.5) drops us, since no message of ours is taken up."""
    c = Conn(a.host, a.port)
    c.send(preinit(1, "hostile-flood"))
    c.expect(PREINIT_REPLY, seq=1)
    c.send(init(2, 1, hb=2000))
    c.expect(INIT_REPLY, seq=2, code=0)
    pad = tlv(0x7fff, b"x" * (MAX_MSG - 6 - 8 - 4 - 64))
    base = rss_kb(a.pid)
    peak = base
    sent = 0
    t_end = time.monotonic() + a.seconds
    c.sock.settimeout(5)
    dropped = None
    while time.monotonic() < t_end and sent < 20000:
        try:
            c.send(message(ECHO_REQUEST, u32(OPT_SEQ, sent + 1), pad))
        except (ConnectionResetError, BrokenPipeError) as e:
            dropped = repr(e)
            break
        except socket.timeout:
            dropped = "send blocked for 5 s"
            break
        sent += 1
        if sent % 20 == 0:
            peak = max(peak, rss_kb(a.pid))
    peak = max(peak, rss_kb(a.pid))
    print("# sent %d echo requests of %d bytes; qnetd RSS %d kB -> peak %d kB"
          % (sent, len(pad) + 14, base, peak))
    if dropped is None:
        raise AssertionError("neither dropped nor held back after %d unread replies" % sent)
    if dropped == "send blocked for 5 s":
        # the server stopped reading us: its dead-peer timer must close the connection;
        # what it queued for us before may come first (read and thrown away)
        deadline = time.monotonic() + 15
        got = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("server stopped reading but kept the connection for 20 s")
            c.sock.settimeout(left)
            try:
                chunk = c.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError) as e:
                dropped = "reading paused, then %r after %d queued bytes" % (e, got)
                break
            if not chunk:
                dropped = "reading paused, then closed after %d queued bytes" % got
                break
            got += len(chunk)
    print("# dropped: %s" % dropped)
    if peak - base > a.max_growth_kb:
        raise AssertionError("qnetd RSS grew by %d kB (limit %d kB)" % (peak - base, a.max_growth_kb))
    return "client that never reads dropped after %d echo requests; RSS growth %d kB (limit %d)" % (
        sent, peak - base, a.max_growth_kb)


CASES = {
    "truncated-header": case_truncated_header,
    "too-long": case_too_long,
    "lying-tlv": case_lying_tlv,
    "node-list-over-limit": case_node_list_over_limit,
    "unknown-type": case_unknown_type,
    "node-list-before-init": case_node_list_before_init,
    "vote-info-reply-before-init": case_vote_info_reply_before_init,
    "garbage-after-starttls": case_garbage_after_starttls,
    "starttls-tls-off": case_starttls_tls_off,
    "no-client-cert": case_no_client_cert,
    "foreign-cert": case_foreign_cert,
    "own-cert": case_own_cert,
    "untrusted-cert": case_untrusted_cert,
    "rename-after-tls": case_rename_after_tls,
    "init-code": case_init_code,
    "slowloris": case_slowloris,
    "idle": case_idle,
    "no-read-flood": case_no_read_flood,
    "fd-exhaust": case_fd_exhaust,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case", choices=sorted(CASES))
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=5403)
    p.add_argument("--cluster", default="e2e", help="cluster name to announce")
    p.add_argument("--cert", help="PEM file with client certificate and key")
    p.add_argument("--target", help="rename-after-tls: the cluster named after TLS")
    p.add_argument("--node", type=int, default=1)
    p.add_argument("--algorithm", type=int, default=ALGO_FFSPLIT)
    p.add_argument("--tie-breaker", type=int, default=TB_LOWEST)
    p.add_argument("--want", type=int, default=0, help="expected INIT_REPLY code")
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--hold", type=float, default=30, help="idle: longest hold, s")
    p.add_argument("--ready-file")
    p.add_argument("--release-file")
    p.add_argument("--pid", type=int, default=0, help="qnetd's pid, for its RSS")
    p.add_argument("--max-growth-kb", type=int, default=65536)
    return run_case(CASES, p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
