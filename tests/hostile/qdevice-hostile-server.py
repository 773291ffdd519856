#!/usr/bin/env python3
"""tests/hostile/qdevice-hostile-server.py: a fake qnetd that misbehaves, for test-hostile-qdevice.sh.

One behaviour per run: `qdevice-hostile-server.py --listen ADDR --port P --cert PEM
--ca PEM MODE`. The server speaks the server side of the qnet protocol
(docs/protocol.md sections 1 and 2: PREINIT_REPLY, STARTTLS, INIT_REPLY,
node list replies, VOTE_INFO, echo replies) well enough for a real qdevice to
connect, and breaks it in the way MODE says. Connections are served one after
the other, each the same way, until the server is killed or --max-time passes.

Progress goes to stdout as `# ...` lines; `MISBEHAVED: ...` marks the moment
the chosen fault was delivered, `ACKED ring ...` the moment a valid ACK went
out. Modes of the "ack-*" kind first give a correct ACK and wait for
--trigger-file before misbehaving. Python 3, standard library only; listens
only on --listen.
"""

import argparse
import os
import random
import select
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import qnetwire as w  # noqa: E402
from qnetwire import (ASK_FOR_VOTE_REPLY, ECHO_REPLY, ECHO_REQUEST,  # noqa: E402
                      HEURISTICS_CHANGE, HEURISTICS_CHANGE_REPLY, INIT, LIST_CHANGED,
                      LIST_INITIAL, LIST_MEMBERSHIP, NODE_LIST, NODE_LIST_REPLY,
                      OPT_ALGORITHMS, OPT_ERROR, OPT_HEURISTICS, OPT_KAP, OPT_MAX_REPLY,
                      OPT_NODE_ID, OPT_NODE_INFO, OPT_NODE_LIST_TYPE, OPT_RING_ID, OPT_SEQ,
                      OPT_TLS_CERT_REQUIRED, OPT_TLS_SUPPORTED, OPT_VOTE, PREINIT,
                      PREINIT_REPLY, SERVER_ERROR, SET_OPTION, SET_OPTION_REPLY, STARTTLS,
                      VOTE_ACK, VOTE_ASK_LATER, VOTE_INFO, VOTE_INFO_REPLY, VOTE_NACK,
                      VOTE_NO_CHANGE, init_reply, message, preinit_reply, ring_tlv, tlv, u8,
                      u16, u32)

MAX_READ = 1 << 20	# what we accept from qdevice (it sends < 32768)


def log(*args):
    print("#", *args, flush=True)


def mark(what, text):
    print("%s: %s" % (what, text), flush=True)


class Gone(Exception):
    """qdevice closed the connection (or it broke)."""


Msg = w.Message


def parse_ring(raw):
    if raw is None or len(raw) != 12:
        return None
    return struct.unpack(">IQ", raw)


class Peer:
    """One qdevice connection. Reads exact lengths: after STARTTLS the next
    bytes belong to the TLS handshake and must stay in the kernel buffer."""

    def __init__(self, sock, addr):
        self.sock = sock
        self.addr = addr
        self.tls = False

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise Gone("send: %r" % e)

    def readable(self, timeout):
        if self.tls and self.sock.pending():
            return True
        try:
            r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        except (OSError, ValueError):
            raise Gone("select failed")
        return bool(r)

    def _exact(self, n, timeout=30.0):
        buf = b""
        deadline = time.monotonic() + timeout
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Gone("read timed out")
            if not self.readable(left):
                continue
            try:
                chunk = self.sock.recv(n - len(buf))
            except ssl.SSLWantReadError:
                continue
            except (OSError, ssl.SSLError) as e:
                raise Gone("recv: %r" % e)
            if not chunk:
                raise Gone("EOF")
            buf += chunk
        return buf

    def read(self, timeout=30.0):
        mtype, length = struct.unpack(">HI", self._exact(6, timeout))
        if length > MAX_READ:
            raise Gone("qdevice sent a length of %d" % length)
        m = Msg(mtype, self._exact(length, timeout))
        log("got %s (%d bytes), seq %s" % (w.name(mtype), 6 + length, m.u(OPT_SEQ)))
        return m

    def start_tls(self, ctx):
        self.sock.settimeout(15)
        try:
            self.sock = ctx.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            raise Gone("TLS handshake: %r" % e)
        self.sock.settimeout(None)
        self.tls = True
        cert = self.sock.getpeercert()
        subject = dict(x[0] for x in cert.get("subject", ())) if cert else {}
        log("TLS %s up, client certificate CN=%s" % (self.sock.version(),
                                                     subject.get("commonName", "none")))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- replies as qnetd builds them (docs/protocol.md 1.8) ----------------------------------

def vote_msg(mtype, seq, vote, ring, extra=b""):
    return message(mtype, u32(OPT_SEQ, seq), u8(OPT_VOTE, vote), ring_tlv(ring), extra)


def node_list_reply(seq, list_type, ring, vote):
    return message(NODE_LIST_REPLY, u32(OPT_SEQ, seq), u8(OPT_NODE_LIST_TYPE, list_type),
                   ring_tlv(ring), u8(OPT_VOTE, vote))


def lying_vote_info(seq, ring):
    """VOTE_INFO ACK whose last option claims 200 bytes of which 12 follow."""
    return message(VOTE_INFO, u32(OPT_SEQ, seq), u8(OPT_VOTE, VOTE_ACK),
                   struct.pack(">HH", OPT_RING_ID, 200) + struct.pack(">IQ", ring[0], ring[1]))


def garbage(n, seed):
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for _ in range(n))


# ---- one session ----------------------------------------------------------------------

class Session:
    def __init__(self, peer, a, ctx):
        self.p = peer
        self.a = a
        self.ctx = ctx
        self.ring = (0, 0)		# of INIT, then of the last membership list
        self.vote_seq = 0
        self.echo = True		# answer echo requests
        self.acked = False
        self.max_reply = 32768

    def next_vote_seq(self):
        self.vote_seq += 1
        return self.vote_seq

    # -- handshake, with the hooks the modes use --
    def handshake(self, preinit_hook=None, init_hook=None, max_reply=32768):
        """PREINIT .. INIT_REPLY. A hook may answer instead of us: it returns True
        when it did (then the handshake stops there)."""
        m = self.p.read()
        if m.type != PREINIT:
            raise Gone("first message is %s" % w.name(m.type))
        seq = m.u(OPT_SEQ)
        if preinit_hook is not None and preinit_hook(m, seq):
            return False
        self.p.send(preinit_reply(seq))
        m = self.p.read()
        if m.type == STARTTLS:
            if self.a.mode.startswith("tls-"):
                tls_misbehave(self, self.a.mode)
                return False
            self.p.start_tls(self.ctx)
            m = self.p.read()
        if m.type != INIT:
            raise Gone("expected INIT, got %s" % w.name(m.type))
        self.ring = parse_ring(m.raw(OPT_RING_ID)) or (0, 0)
        log("INIT node %s, ring %x.%x" % (m.u(OPT_NODE_ID), self.ring[0], self.ring[1]))
        if init_hook is not None and init_hook(m, m.u(OPT_SEQ)):
            return False
        self.max_reply = max_reply
        self.p.send(init_reply(m.u(OPT_SEQ), max_reply=max_reply))
        return True

    # -- the connected part: ffsplit-like answers, the ACK for every membership --
    def answer(self, m, vote_hook=None):
        t = m.type
        seq = m.u(OPT_SEQ)
        if t == ECHO_REQUEST:
            if self.echo:
                self.p.send(struct.pack(">HI", ECHO_REPLY, len(m.body)) + m.body)
        elif t == SET_OPTION:
            opts = [u32(OPT_SEQ, seq)]
            if OPT_KAP in m.opts:
                opts.append(u8(OPT_KAP, m.u(OPT_KAP)))
            self.p.send(message(SET_OPTION_REPLY, *opts))
        elif t == NODE_LIST:
            lt = m.u(OPT_NODE_LIST_TYPE)
            if lt == LIST_MEMBERSHIP:
                self.ring = parse_ring(m.raw(OPT_RING_ID)) or self.ring
                log("membership list, ring %x.%x" % self.ring)
                if vote_hook is not None:
                    vote_hook(m, seq)
                else:
                    self.send_ack()
                self.p.send(node_list_reply(seq, lt, self.ring, VOTE_NO_CHANGE))
            elif lt in (LIST_INITIAL, LIST_CHANGED):
                self.p.send(node_list_reply(seq, lt, self.ring, VOTE_ASK_LATER))
            else:
                self.p.send(node_list_reply(seq, lt, self.ring, VOTE_NO_CHANGE))
        elif t == HEURISTICS_CHANGE:
            self.p.send(message(HEURISTICS_CHANGE_REPLY, u32(OPT_SEQ, seq),
                                u8(OPT_VOTE, VOTE_NO_CHANGE), ring_tlv(self.ring),
                                u8(OPT_HEURISTICS, m.u(OPT_HEURISTICS, 1))))
        elif t == VOTE_INFO_REPLY:
            pass
        else:
            log("ignoring %s" % w.name(t))

    def send_ack(self):
        self.p.send(vote_msg(VOTE_INFO, self.next_vote_seq(), VOTE_ACK, self.ring))
        self.acked = True
        mark("ACKED", "ring %x.%x" % self.ring)

    def serve(self, vote_hook=None, on_trigger=None, until=None):
        """Answer until qdevice goes away, --max-time, or on_trigger returns True
        (called once the trigger file exists)."""
        triggered = False
        while until is None or time.monotonic() < until:
            if not triggered and on_trigger is not None and self.a.trigger_file and \
                    os.path.exists(self.a.trigger_file):
                triggered = True
                if on_trigger(self):
                    return
            if not self.p.readable(0.2):
                continue
            self.answer(self.p.read(), vote_hook)


def tls_misbehave(s, mode):
    """STARTTLS arrived: break the TLS part."""
    p = s.p
    if mode in ("tls-wrong-name", "tls-unknown-ca"):
        # s.ctx already carries the bad certificate; qdevice must refuse it
        try:
            p.start_tls(s.ctx)
        except Gone as e:
            mark("MISBEHAVED", "served a bad certificate; handshake ended: %s" % e)
            return
        mark("MISBEHAVED", "served a bad certificate; handshake completed anyway")
        try:
            m = p.read(timeout=10)
            s.p.send(init_reply(m.u(OPT_SEQ)))
            log("qdevice sent %s over TLS with the bad certificate" % w.name(m.type))
        except Gone as e:
            log("then: %s" % e)
    elif mode == "tls-plaintext":
        # the INIT_REPLY a confused server sends in plaintext where TLS belongs
        p.send(init_reply(3) + b"\x00" * 64)
        mark("MISBEHAVED", "plaintext INIT_REPLY instead of a TLS handshake")
    elif mode == "tls-garbage":
        try:
            p._exact(5, timeout=10)	# the ClientHello's record header
        except Gone:
            pass
        p.send(b"\x16\x03\x03\x00\x40" + garbage(64, 7) + garbage(4096, 8))
        mark("MISBEHAVED", "a handshake record full of garbage")
    elif mode == "tls-close":
        try:
            p._exact(5, timeout=10)
        except Gone:
            pass
        mark("MISBEHAVED", "closing in the middle of the TLS handshake")
    # drain what qdevice still sends, briefly, then close
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            if p.sock.fileno() < 0 or not p.readable(0.2):
                continue
            if not p.sock.recv(4096):
                break
        except (OSError, ssl.SSLError, Gone):
            break


# ---- the modes ------------------------------------------------------------------------

def _truncated_preinit_reply(seq):
    full = preinit_reply(seq)
    return full[:10], "10 of %d bytes of PREINIT_REPLY, then close" % len(full)


# Faults before the connection is up: MODE -> a function giving what to send instead of
# the reply and how the log names it. PREINIT_FAULTS answer PREINIT (seq), INIT_FAULTS
# answer INIT (seq, the INIT's ring).
PREINIT_FAULTS = {
    "preinit-lying-tlv": lambda seq: (
        message(PREINIT_REPLY, u32(OPT_SEQ, seq), u8(OPT_TLS_SUPPORTED, 1),
                struct.pack(">HH", OPT_TLS_CERT_REQUIRED, 300) + b"\x01"),
        "PREINIT_REPLY whose last option claims 300 bytes of 1"),
    "preinit-half-tlv": lambda seq: (
        message(PREINIT_REPLY, u32(OPT_SEQ, seq), u8(OPT_TLS_SUPPORTED, 1),
                u8(OPT_TLS_CERT_REQUIRED, 1), b"\x00\x07"),
        "PREINIT_REPLY ending in half an option header"),
    "preinit-truncated": _truncated_preinit_reply,
    "preinit-unknown-type": lambda seq: (
        message(0x1234, u32(OPT_SEQ, seq)), "a message of type 0x1234"),
    "preinit-wrong-type": lambda seq: (
        vote_msg(VOTE_INFO, 1, VOTE_ACK, (1, 4)), "VOTE_INFO ACK instead of PREINIT_REPLY"),
    "preinit-wrong-seq": lambda seq: (
        preinit_reply(seq + 1), "PREINIT_REPLY with seq %d for %d" % (seq + 1, seq)),
    "preinit-no-seq": lambda seq: (preinit_reply(None), "PREINIT_REPLY without seq"),
    "preinit-server-error": lambda seq: (
        message(SERVER_ERROR, u32(OPT_SEQ, seq), u16(OPT_ERROR, 10)), "SERVER_ERROR 10"),
    "preinit-empty": lambda seq: (message(PREINIT_REPLY), "PREINIT_REPLY without any option"),
    "too-long": lambda seq: (
        message(PREINIT_REPLY, b"\x00" * 40000), "PREINIT_REPLY of length 40000 (> 32768)"),
    "huge-length": lambda seq: (
        message(PREINIT_REPLY, b"\x00" * 4096, length=0xFFFFFFFF),
        "PREINIT_REPLY header claiming 4 GiB"),
}
INIT_FAULTS = {
    "init-error": lambda seq, ring: (
        init_reply(seq, code=10), "INIT_REPLY with error 10 (internal error)"),
    "init-error-retry": lambda seq, ring: (
        init_reply(seq, code=17), "INIT_REPLY with error 17 (duplicate node id)"),
    "init-wrong-seq": lambda seq, ring: (
        init_reply(seq + 5), "INIT_REPLY with seq %d for %d" % (seq + 5, seq)),
    "init-no-seq": lambda seq, ring: (init_reply(None), "INIT_REPLY without seq"),
    "init-missing-option": lambda seq, ring: (
        init_reply(seq, skip=(OPT_MAX_REPLY, OPT_ALGORITHMS)),
        "INIT_REPLY without SERVER_MAXIMUM_REPLY_SIZE and algorithms"),
    "init-wrong-type": lambda seq, ring: (
        node_list_reply(seq, LIST_MEMBERSHIP, ring, VOTE_ACK),
        "NODE_LIST_REPLY ACK for the INIT's ring instead of INIT_REPLY"),
    "init-small-sizes": lambda seq, ring: (
        init_reply(seq, max_request=1024), "INIT_REPLY with a request size of 1024 (< 32768)"),
    # not connected yet: a vote for the right ring must not count
    "init-vote-first": lambda seq, ring: (
        vote_msg(VOTE_INFO, 1, VOTE_ACK, ring),
        "VOTE_INFO ACK for ring %x.%x before INIT_REPLY" % ring),
}


def handshake_mode(s, mode):
    """Faults before the connection is up. Returns after the fault."""

    def misbehave(faults, *args):
        if mode not in faults:
            return False
        body, what = faults[mode](*args)
        s.p.send(body)
        mark("MISBEHAVED", what)
        return True

    s.handshake(lambda m, seq: misbehave(PREINIT_FAULTS, seq),
                lambda m, seq: misbehave(INIT_FAULTS, seq, s.ring))
    # qdevice has the fault; hold the connection a little (it should drop it)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if s.p.readable(0.2):
            try:
                s.p.read(timeout=2)
            except Gone:
                return


def wrong_ring_mode(s):
    """Connected; every vote names another ring than the current one. On the trigger:
    a correct ACK (the control: qdevice was healthy and listening all along)."""
    def vote_hook(m, seq):
        r = s.ring
        wrong = [(r[0], r[1] + 1), (r[0] + 1, r[1]), (r[0], r[1] - 1 if r[1] else 99), (0, 0)]
        for ring in wrong:
            s.p.send(vote_msg(VOTE_INFO, s.next_vote_seq(), VOTE_ACK, ring))
        s.p.send(vote_msg(ASK_FOR_VOTE_REPLY, seq, VOTE_ACK, wrong[0]))
        s.p.send(message(HEURISTICS_CHANGE_REPLY, u32(OPT_SEQ, seq), u8(OPT_VOTE, VOTE_ACK),
                         ring_tlv(wrong[1]), u8(OPT_HEURISTICS, 1)))
        mark("MISBEHAVED", "ACKs for rings %s, current %x.%x" % (
            ", ".join("%x.%x" % x for x in wrong), r[0], r[1]))

    def trigger(s):
        s.send_ack()
        return False

    if s.handshake():
        s.serve(vote_hook=vote_hook, on_trigger=trigger, until=s.a.deadline)


def ack_mode(s, mode):
    """A correct ACK first; the fault once the trigger file exists."""
    def trigger(s):
        r = s.ring
        if mode == "ack-silent":
            s.echo = False
            mark("MISBEHAVED", "no more echo replies, everything else read and ignored")
            while time.monotonic() < s.a.deadline:
                if s.p.readable(0.5):
                    s.p.read()
            return True
        if mode == "ack-garbage":
            s.p.send(garbage(512, 42))
            mark("MISBEHAVED", "512 random bytes")
        elif mode == "ack-garbage-valid-header":
            s.p.send(struct.pack(">HI", VOTE_INFO, 200) + garbage(200, 43))
            mark("MISBEHAVED", "VOTE_INFO header with 200 random bytes")
        elif mode == "ack-lying-tlv":
            s.p.send(lying_vote_info(s.next_vote_seq(), r))
            mark("MISBEHAVED", "VOTE_INFO ACK whose ring option claims 200 bytes")
        elif mode == "ack-truncated":
            full = vote_msg(VOTE_INFO, s.next_vote_seq(), VOTE_ACK, r)
            s.p.send(full[:20])
            mark("MISBEHAVED", "20 of %d bytes of a VOTE_INFO, then close" % len(full))
            return True
        elif mode == "ack-unknown-type":
            s.p.send(message(0x4242, u32(OPT_SEQ, 9)))
            mark("MISBEHAVED", "a message of type 0x4242")
        elif mode == "ack-wrong-type":
            s.p.send(preinit_reply(1))
            mark("MISBEHAVED", "PREINIT_REPLY while connected")
        elif mode == "ack-too-long":
            s.p.send(struct.pack(">HI", VOTE_INFO, 100000) + b"\x00" * 100000)
            mark("MISBEHAVED", "VOTE_INFO of length 100000 (limit 32768)")
        elif mode == "ack-huge-nodes":
            # NACK for the current ring, padded with NODE_INFOs to almost 16 MiB
            info = tlv(OPT_NODE_INFO, u32(OPT_NODE_ID, 7))
            count = (16 * 1024 * 1024 - 64) // len(info)
            body = vote_msg(VOTE_INFO, s.next_vote_seq(), VOTE_NACK, r, info * count)
            s.p.send(body)
            mark("MISBEHAVED", "VOTE_INFO NACK with %d node infos (%d bytes)" % (count, len(body)))
        elif mode == "ack-echo-wrong-seq":
            s.echo = False
            s.p.send(message(ECHO_REPLY, u32(OPT_SEQ, 0x7fffffff)))
            mark("MISBEHAVED", "ECHO_REPLY with seq 0x7fffffff")
        elif mode == "ack-missing-ring":
            s.p.send(message(VOTE_INFO, u32(OPT_SEQ, s.next_vote_seq()), u8(OPT_VOTE, VOTE_NACK)))
            mark("MISBEHAVED", "VOTE_INFO NACK without a ring id")
        elif mode == "ack-server-error":
            s.p.send(message(SERVER_ERROR, u16(OPT_ERROR, 10)))
            mark("MISBEHAVED", "SERVER_ERROR 10")
        elif mode == "ack-bad-vote":
            s.p.send(message(VOTE_INFO, u32(OPT_SEQ, s.next_vote_seq()), u8(OPT_VOTE, 0),
                             ring_tlv(r)))
            mark("MISBEHAVED", "VOTE_INFO with vote 0 (invalid on the wire)")
        elif mode == "ack-flood":
            # a burst far over qdevice's send queue (10), sent without reading in between
            burst = b"".join(vote_msg(VOTE_INFO, s.next_vote_seq(), VOTE_NACK, r)
                             for _ in range(300))
            s.p.send(burst)
            mark("MISBEHAVED", "300 VOTE_INFO NACKs in one burst (%d bytes)" % len(burst))
        elif mode == "ack-keepalive-set-option":
            # no echo replies; instead an unsolicited SET_OPTION_REPLY with a heartbeat
            # interval every second (it must not reset qdevice's echo check)
            s.echo = False
            mark("MISBEHAVED", "no echo replies, SET_OPTION_REPLY(heartbeat) every second")
            nxt = time.monotonic()
            while time.monotonic() < s.a.deadline:
                if time.monotonic() >= nxt:
                    s.p.send(message(SET_OPTION_REPLY, u32(OPT_SEQ, 1000),
                                     u32(12, 3200)))
                    nxt += 1
                if s.p.readable(0.2):
                    s.p.read()
            return True
        elif mode == "ack-close":
            mark("MISBEHAVED", "closing the connection")
            return True
        # keep answering (echo too): qdevice should drop the connection itself
        return False

    if s.handshake(max_reply=16 * 1024 * 1024 if mode == "ack-huge-nodes" else 32768):
        s.serve(on_trigger=trigger, until=s.a.deadline)


def slow_mode(s):
    """PREINIT_REPLY one byte per second (qdevice's connect timeout ends it)."""
    m = s.p.read()
    data = preinit_reply(m.u(OPT_SEQ))
    mark("MISBEHAVED", "sending PREINIT_REPLY at 1 byte/s (%d bytes)" % len(data))
    for i in range(len(data)):
        s.p.send(data[i:i + 1])
        time.sleep(1)
        if time.monotonic() > s.a.deadline:
            return
    log("the whole PREINIT_REPLY went out slowly")


HANDSHAKE_MODES = list(PREINIT_FAULTS) + list(INIT_FAULTS)
ACK_MODES = [
    "ack-silent", "ack-garbage", "ack-garbage-valid-header", "ack-lying-tlv", "ack-truncated",
    "ack-unknown-type", "ack-wrong-type", "ack-too-long", "ack-huge-nodes",
    "ack-echo-wrong-seq", "ack-missing-ring", "ack-server-error", "ack-bad-vote", "ack-close",
    "ack-flood", "ack-keepalive-set-option",
]
TLS_MODES = ["tls-wrong-name", "tls-unknown-ca", "tls-plaintext", "tls-garbage", "tls-close"]
MODES = ["good", "wrong-ring", "slow"] + HANDSHAKE_MODES + ACK_MODES + TLS_MODES


def session(peer, a, ctx):
    s = Session(peer, a, ctx)
    mode = a.mode
    if mode == "good":
        if s.handshake():
            s.serve(until=a.deadline)
    elif mode == "wrong-ring":
        wrong_ring_mode(s)
    elif mode == "slow":
        slow_mode(s)
    elif mode in ACK_MODES:
        ack_mode(s, mode)
    elif mode in TLS_MODES:
        s.handshake()	# STARTTLS leads to tls_misbehave()
    else:
        handshake_mode(s, mode)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=MODES)
    p.add_argument("--listen", required=True)
    p.add_argument("--port", type=int, default=5403)
    p.add_argument("--cert", required=True, help="PEM: server certificate and key")
    p.add_argument("--ca", required=True, help="PEM: CA that signed the client certificates")
    p.add_argument("--trigger-file", help="ack-* and wrong-ring: misbehave once it exists")
    p.add_argument("--max-time", type=float, default=120, help="seconds, then exit")
    a = p.parse_args()
    a.deadline = time.monotonic() + a.max_time

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert)
    ctx.load_verify_locations(a.ca)
    ctx.verify_mode = ssl.CERT_REQUIRED	# as qnetd -c on

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.listen, a.port))
    srv.listen(8)
    log("fake qnetd (%s) listening on %s:%d" % (a.mode, a.listen, a.port))
    print("LISTENING", flush=True)
    n = 0
    while time.monotonic() < a.deadline:
        srv.settimeout(max(0.1, min(1.0, a.deadline - time.monotonic())))
        try:
            sock, addr = srv.accept()
        except socket.timeout:
            continue
        n += 1
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log("connection %d from %s:%d" % (n, addr[0], addr[1]))
        peer = Peer(sock, addr)
        try:
            session(peer, a, ctx)
            log("connection %d: done with it" % n)
        except Gone as e:
            log("connection %d gone: %s" % (n, e))
        peer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
