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

# ---- wire format (docs/protocol.md 1.2-1.8) ------------------------------------------

PREINIT, PREINIT_REPLY, STARTTLS, INIT, INIT_REPLY, SERVER_ERROR = 0, 1, 2, 3, 4, 5
SET_OPTION, ECHO_REQUEST, ECHO_REPLY, NODE_LIST, NODE_LIST_REPLY = 6, 8, 9, 10, 11
VOTE_INFO_REPLY = 15

OPT_SEQ, OPT_CLUSTER_NAME, OPT_TLS_SUPPORTED = 0, 1, 2
OPT_REPLY_ERROR_CODE, OPT_NODE_ID, OPT_ALGORITHM, OPT_HEARTBEAT = 6, 9, 11, 12
OPT_RING_ID, OPT_NODE_INFO, OPT_NODE_LIST_TYPE, OPT_TIE_BREAKER = 13, 17, 18, 21

ALGO_FFSPLIT, ALGO_LMS = 1, 3
TB_LOWEST, TB_HIGHEST = 1, 2
MAX_MSG = 32768

MSG_NAMES = ["Preinit", "Preinit reply", "StartTLS", "Init", "Init reply",
             "Server error", "Set option", "Set option reply", "Echo request",
             "Echo reply", "Node list", "Node list reply", "Ask for vote",
             "Ask for vote reply", "Vote info", "Vote info reply",
             "Heuristics change", "Heuristics change reply"]


def tlv(opt, value):
    return struct.pack(">HH", opt, len(value)) + value


def u8(opt, v):
    return tlv(opt, struct.pack(">B", v))


def u16(opt, v):
    return tlv(opt, struct.pack(">H", v))


def u32(opt, v):
    return tlv(opt, struct.pack(">I", v))


def message(mtype, *options, length=None):
    body = b"".join(options)
    return struct.pack(">HI", mtype, len(body) if length is None else length) + body


def preinit(seq, cluster):
    return message(PREINIT, u32(OPT_SEQ, seq), tlv(OPT_CLUSTER_NAME, cluster.encode()))


def init(seq, node, algorithm=ALGO_FFSPLIT, tie_breaker=TB_LOWEST, hb=8000):
    return message(INIT, u32(OPT_SEQ, seq), u32(OPT_NODE_ID, node),
                   u16(OPT_ALGORITHM, algorithm), u32(OPT_HEARTBEAT, hb),
                   tlv(OPT_TIE_BREAKER, struct.pack(">BI", tie_breaker, 0)),
                   tlv(OPT_RING_ID, struct.pack(">IQ", node, 4)))


def node_list(seq, list_type, node_ids):
    infos = [tlv(OPT_NODE_INFO, u32(OPT_NODE_ID, n)) for n in node_ids]
    return message(NODE_LIST, u32(OPT_SEQ, seq), u8(OPT_NODE_LIST_TYPE, list_type), *infos)


def name(mtype):
    return MSG_NAMES[mtype] if mtype < len(MSG_NAMES) else "type %d" % mtype


class Closed(Exception):
    """The server closed (or reset) the connection."""


class Reply:
    def __init__(self, mtype, body):
        self.type = mtype
        self.opts = {}
        pos = 0
        while len(body) - pos >= 4:
            opt, length = struct.unpack_from(">HH", body, pos)
            self.opts[opt] = body[pos + 4:pos + 4 + length]
            pos += 4 + length

    def u(self, opt):
        v = self.opts.get(opt)
        if v is None:
            return None
        return int.from_bytes(v, "big")

    def __str__(self):
        s = name(self.type)
        if OPT_SEQ in self.opts:
            s += " seq %d" % self.u(OPT_SEQ)
        if OPT_REPLY_ERROR_CODE in self.opts:
            s += " code %d" % self.u(OPT_REPLY_ERROR_CODE)
        return s


class Conn:
    def __init__(self, args, port=None, timeout=5.0, connect_timeout=10.0):
        self.args = args
        self.sock = socket.create_connection((args.host, port or args.port),
                                             timeout=connect_timeout)
        self.sock.settimeout(timeout)

    def send(self, data):
        self.sock.sendall(data)

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
                raise Closed(repr(e))
            if not chunk:
                raise Closed("EOF")
            buf += chunk
        return buf

    def read(self):
        """The next message; Closed when the server is gone, socket.timeout if silent."""
        hdr = self._exact(6)
        mtype, length = struct.unpack(">HI", hdr)
        if length > 16 * 1024 * 1024:
            raise AssertionError("server sent a length of %d" % length)
        return Reply(mtype, self._exact(length))

    def expect(self, mtype, **want):
        r = self.read()
        if r.type != mtype:
            raise AssertionError("want %s, got %s" % (name(mtype), r))
        for key, value in want.items():
            opt = {"seq": OPT_SEQ, "code": OPT_REPLY_ERROR_CODE, "tls": OPT_TLS_SUPPORTED}[key]
            got = r.u(opt)
            if got != value:
                raise AssertionError("%s: want %s %s, got %s" % (r, key, value, got))
        print("# got %s" % r)
        return r

    def dropped(self, within=5.0):
        """True if the server closes the connection within `within` s without a qnet reply.

        Bytes before the close are fine unless they start a qnet message: after
        STARTTLS the server may well send a TLS alert first."""
        deadline = time.monotonic() + within
        got = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                print("# server still holds the connection after %.1f s" % within)
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
                print("# server dropped the connection (%r) after %d bytes" % (e, len(got)))
                return True
            if not chunk:
                print("# server closed the connection after %d bytes%s" % (
                    len(got), " (a TLS alert)" if got[:1] == b"\x15" else ""))
                return True
            if not got and len(chunk) >= 6:
                mtype, length = struct.unpack_from(">HI", chunk)
                if mtype < len(MSG_NAMES) and length <= MAX_MSG:
                    print("# server answered %s instead of dropping us" % name(mtype))
                    return False
            got += chunk

    def starttls(self, seq, certfile=None):
        """PREINIT was answered: send STARTTLS and wrap the socket (we are the TLS client)."""
        self.send(message(STARTTLS, u32(OPT_SEQ, seq)))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE	# we attack the server, we do not judge it
        if certfile:
            ctx.load_cert_chain(certfile)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=None)
        print("# TLS %s established, client certificate: %s"
              % (self.sock.version(), certfile or "none"))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


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


# ---- cases ------------------------------------------------------------------------


def case_truncated_header(a):
    c = Conn(a)
    c.send(b"\x00\x00\x00")
    c.close()
    time.sleep(0.2)
    c = Conn(a)
    kept(c)
    return "3 header bytes then close: nothing to answer; the next client is served"


def case_too_long(a):
    c = Conn(a)
    c.send(struct.pack(">HI", PREINIT, 40000) + b"\0" * 40000)
    r = c.expect(SERVER_ERROR, code=5)
    if OPT_SEQ in r.opts:
        raise AssertionError("SERVER_ERROR 5 must not carry a seq")
    kept(c)
    return "length 40006 > 32768: SERVER_ERROR 5 without seq, connection kept"


def case_lying_tlv(a):
    c = Conn(a)
    # SEQ 5, then a cluster name claiming 100 bytes of which 3 follow
    c.send(message(PREINIT, u32(OPT_SEQ, 5), struct.pack(">HH", OPT_CLUSTER_NAME, 100) + b"e2e"))
    c.expect(SERVER_ERROR, code=9, seq=5)
    # an option header cut in half
    c.send(message(PREINIT, u32(OPT_SEQ, 6), b"\x00\x01"))
    c.expect(SERVER_ERROR, code=9, seq=6)
    # a NODE_INFO whose inner option lies
    c.send(message(NODE_LIST, u32(OPT_SEQ, 7), tlv(OPT_NODE_INFO, struct.pack(">HHI", 9, 40, 1))))
    c.expect(SERVER_ERROR, code=9, seq=7)
    kept(c)
    return "TLV lengths past the end: SERVER_ERROR 9 with the seq seen, connection kept"


def plain_session(a, cluster, node=1):
    c = Conn(a)
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
    r = c.expect(SERVER_ERROR, code=5)
    if OPT_SEQ in r.opts:
        raise AssertionError("SERVER_ERROR 5 must not carry a seq")
    fits = node_list(4, 0, range(1, 2700))
    print("# node list of 2699 nodes: %d bytes" % len(fits))
    c.send(fits)
    c.expect(NODE_LIST_REPLY, seq=4)
    c.send(message(ECHO_REQUEST, u32(OPT_SEQ, 5)))
    c.expect(ECHO_REPLY, seq=5)
    return "3000 nodes: SERVER_ERROR 5, connection kept; 2699 nodes (under 32768) served"


def case_unknown_type(a):
    c = Conn(a)
    c.send(message(0x1234, u32(OPT_SEQ, 8)))
    r = c.expect(SERVER_ERROR, code=4)
    if OPT_SEQ in r.opts:
        raise AssertionError("SERVER_ERROR 4 must not carry a seq")
    kept(c)
    return "type 0x1234: SERVER_ERROR 4 without seq, connection kept"


def case_node_list_before_init(a):
    c = Conn(a)
    c.send(preinit(1, "hostile-early"))
    c.expect(PREINIT_REPLY, seq=1)
    c.send(node_list(3, 0, [1, 2]))
    c.expect(SERVER_ERROR, code=11, seq=3)
    kept(c)
    return "NODE_LIST before INIT: SERVER_ERROR 11"


def case_vote_info_reply_before_init(a):
    c = Conn(a)
    c.send(message(VOTE_INFO_REPLY, u32(OPT_SEQ, 4)))
    c.expect(SERVER_ERROR, code=11, seq=4)
    kept(c)
    return "VOTE_INFO_REPLY before INIT: SERVER_ERROR 11"


def case_garbage_after_starttls(a):
    c = Conn(a)
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
    c = Conn(a)
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
    c = Conn(a)
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


def case_rename_after_tls(a):
    """The certificate of --cluster passes its check (first message over TLS),
    then a PREINIT names --target: the server must drop us, not let that
    certificate into another cluster."""
    c = tls_session(a, a.cluster, a.cert)
    if c is None:
        raise AssertionError("TLS handshake with the cluster's own certificate failed")
    c.send(message(ECHO_REQUEST, u32(OPT_SEQ, 3)))
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
    slow = Conn(a, timeout=a.seconds + 10)
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
        c = Conn(a, timeout=2)
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
        conns.append(Conn(a, timeout=10))
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
            conns.append(Conn(a, connect_timeout=1))
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
            c = Conn(a, connect_timeout=2)
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
    c = Conn(a)
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
    a = p.parse_args()
    try:
        what = CASES[a.case](a)
    except (AssertionError, Closed, OSError, ssl.SSLError) as e:
        print("FAIL: %s: %s" % (a.case, e))
        return 1
    print("OK: %s" % what)
    return 0


if __name__ == "__main__":
    sys.exit(main())
