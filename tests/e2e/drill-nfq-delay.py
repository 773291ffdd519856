#!/usr/bin/env python3
"""tests/e2e/drill-nfq-delay.py: delay packets by a fixed time with nfnetlink_queue.

The failure drills use it for a slow node where the kernel has no tc netem. Two modes, both
run inside the namespace whose packets are to be delayed:

  drill-nfq-delay.py [--queue N] [--maxlen N] DELAY_MS
      Bind nfnetlink_queue queue N (a raw AF_NETLINK socket, NETLINK_NETFILTER) and give
      every queued packet its NF_ACCEPT verdict DELAY_MS after it arrived, first in first
      out. At most --maxlen packets are held: beyond that a packet is accepted at once
      (never dropped) and counted as an overflow; the kernel side fails open as well.
      Prints "ready" once bound; on SIGTERM/SIGINT it releases what it holds, unbinds the
      queue and prints its counts (packets delayed per protocol, max backlog, hold times).

  drill-nfq-delay.py --check [--queue N]
      Bind the queue, release it and exit: 0 if this kernel has nfnetlink_queue.

  drill-nfq-delay.py --add-rule FAMILY TABLE CHAIN [--queue N]
      Append the rule "NFQUEUE to queue N, bypass when nobody listens" to an existing
      nftables chain and exit. nft(8) cannot write that rule itself when the kernel has
      no nft_queue (CONFIG_NFT_QUEUE) but has the xtables NFQUEUE target and nft_compat:
      this sends the nf_tables netlink batch that iptables-nft would send.

  drill-nfq-delay.py --ping ADDR [--count N] [--interval S] [--timeout S]
      Measure the round trip to ADDR with ICMP echo (a raw socket; ping(8) may not be
      installed) and print "rtt ADDR: n/N answered, min/avg/max A/B/C ms".

Standard library only. Linux only; needs CAP_NET_ADMIN.
"""

import argparse
import collections
import errno
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12

# netlink message header flags and types
NLM_F_REQUEST = 0x001
NLM_F_ACK = 0x004
NLM_F_CREATE = 0x400
NLM_F_APPEND = 0x800
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF

# nfnetlink
NFNL_SUBSYS_QUEUE = 3
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN = 0x10
NFNL_MSG_BATCH_END = 0x11
NFNETLINK_V0 = 0

# nfnetlink_queue
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQNL_MSG_VERDICT_BATCH = 3
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_PAYLOAD = 10
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NFQNL_COPY_PACKET = 2
NFQA_CFG_F_FAIL_OPEN = 0x1
NFQA_CFG_F_GSO = 0x4
NF_ACCEPT = 1

# nf_tables (for --add-rule)
NFT_MSG_NEWRULE = 6
NFTA_RULE_TABLE = 1
NFTA_RULE_CHAIN = 2
NFTA_RULE_EXPRESSIONS = 4
NFTA_LIST_ELEM = 1
NFTA_EXPR_NAME = 1
NFTA_EXPR_DATA = 2
NFTA_TARGET_NAME = 1
NFTA_TARGET_REV = 2
NFTA_TARGET_INFO = 3
NFQ_FLAG_BYPASS = 0x01
FAMILIES = {"ip": 2, "inet": 1, "ip6": 10, "bridge": 7, "arp": 3}

COPY_RANGE = 64		# enough of each packet for its IP header (protocol statistics)
PROTOS = {1: "icmp", 6: "tcp", 17: "udp"}


def log(msg):
    print("nfq-delay: " + msg, flush=True)


def nla(atype, payload):
    """One netlink attribute, padded to 4 bytes."""
    n = 4 + len(payload)
    return struct.pack("=HH", n, atype) + payload + b"\0" * ((4 - n % 4) % 4)


def nla_nest(atype, *attrs):
    return nla(atype | NLA_F_NESTED, b"".join(attrs))


def nla_str(atype, s):
    return nla(atype, s.encode() + b"\0")


def parse_attrs(data):
    """{type: payload} of a run of netlink attributes."""
    attrs = {}
    off = 0
    while off + 4 <= len(data):
        n, atype = struct.unpack_from("=HH", data, off)
        if n < 4 or off + n > len(data):
            break
        attrs[atype & NLA_TYPE_MASK] = data[off + 4:off + n]
        off += (n + 3) & ~3
    return attrs


def nfmsg(mtype, flags, seq, family, res_id, body):
    """A netlink message with an nfgenmsg header (res_id in network byte order)."""
    payload = struct.pack("=BBH", family, NFNETLINK_V0, socket.htons(res_id)) + body
    return struct.pack("=IHHII", 16 + len(payload), mtype, flags, seq, 0) + payload


def split_msgs(buf):
    """(type, flags, seq, payload) for each netlink message in a datagram."""
    off = 0
    while off + 16 <= len(buf):
        n, mtype, flags, seq, _pid = struct.unpack_from("=IHHII", buf, off)
        if n < 16 or off + n > len(buf):
            break
        yield mtype, flags, seq, buf[off + 16:off + n]
        off += (n + 3) & ~3


def nl_error(payload):
    """errno (positive, 0 = ack) of an NLMSG_ERROR payload."""
    (err,) = struct.unpack_from("=i", payload, 0)
    return -err


class Delayer:
    def __init__(self, queue, delay_ms, maxlen):
        self.queue = queue
        self.delay = delay_ms / 1000.0
        self.maxlen = maxlen
        self.pending = collections.deque()	# (due, packet id, arrival), FIFO
        self.seq = 0
        self.max_id = None		# highest packet id seen (for the final release)
        self.delayed = 0
        self.by_proto = collections.Counter()
        self.overflow = 0
        self.lost_notes = 0		# ENOBUFS: notifications the kernel could not deliver
        self.verdict_errors = 0
        self.max_backlog = 0
        self.hold_min = None
        self.hold_max = 0.0
        self.hold_sum = 0.0
        self.released = 0
        self.acks = {}			# config seq -> errno of its answer
        self.waiting = set()		# config seqs still unanswered
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        for opt in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
                break
            except OSError:
                continue

    # --- sending ------------------------------------------------------------------------
    def _send(self, mtype, flags, body):
        self.seq += 1
        self.sock.send(nfmsg((NFNL_SUBSYS_QUEUE << 8) | mtype, flags, self.seq, socket.AF_UNSPEC,
                             self.queue, body))
        return self.seq

    def config(self, *attrs, timeout=5.0):
        """Send a config message and wait for its ack; raise OSError on an error."""
        seq = self._send(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, b"".join(attrs))
        self.waiting.add(seq)
        deadline = time.monotonic() + timeout
        while seq not in self.acks:
            left = deadline - time.monotonic()
            if left <= 0:
                self.waiting.discard(seq)
                raise OSError(errno.ETIMEDOUT, "no answer to a queue config message")
            if select.select([self.sock], [], [], left)[0]:
                self.receive()
        self.waiting.discard(seq)
        err = self.acks.pop(seq)
        if err:
            raise OSError(err, os.strerror(err))

    def bind(self):
        cmd = struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET)
        params = struct.pack("!IB", COPY_RANGE, NFQNL_COPY_PACKET)
        flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO
        # the kernel may hold a few more than we do: our own limit triggers first
        self.config(nla(NFQA_CFG_CMD, cmd), nla(NFQA_CFG_PARAMS, params),
                    nla(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", self.maxlen * 2)),
                    nla(NFQA_CFG_MASK, struct.pack("!I", flags)),
                    nla(NFQA_CFG_FLAGS, struct.pack("!I", flags)))

    def unbind(self):
        cmd = struct.pack("!BBH", NFQNL_CFG_CMD_UNBIND, 0, socket.AF_INET)
        self.config(nla(NFQA_CFG_CMD, cmd), timeout=2.0)

    def verdict(self, packet_id, batch=False):
        """NF_ACCEPT for one packet, or (batch) for every queued packet up to packet_id."""
        body = nla(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))
        self._send(NFQNL_MSG_VERDICT_BATCH if batch else NFQNL_MSG_VERDICT, NLM_F_REQUEST, body)

    # --- receiving ----------------------------------------------------------------------
    def receive(self):
        """Read every datagram that is waiting; queue the packets, note the acks."""
        while True:
            try:
                buf = self.sock.recv(1 << 16, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno == errno.ENOBUFS:
                    # some packets were queued without us hearing of them: they are released
                    # by the next batch verdict (it covers every id up to its own)
                    self.lost_notes += 1
                    continue
                raise
            now = time.monotonic()
            for mtype, _flags, seq, payload in split_msgs(buf):
                if mtype == NLMSG_ERROR:
                    err = nl_error(payload)
                    if seq in self.waiting:
                        self.acks[seq] = err
                    elif err:
                        # a verdict that found no packet (the kernel let it go already)
                        self.verdict_errors += 1
                    continue
                if mtype == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    self.packet(payload[4:], now)

    def packet(self, attrs_data, now):
        attrs = parse_attrs(attrs_data)
        hdr = attrs.get(NFQA_PACKET_HDR)
        if hdr is None or len(hdr) < 4:
            return
        (pid,) = struct.unpack_from("!I", hdr, 0)
        self.max_id = pid
        payload = attrs.get(NFQA_PAYLOAD, b"")
        if len(payload) >= 10 and payload[0] >> 4 == 4:
            proto = PROTOS.get(payload[9], "other")
        elif len(payload) >= 7 and payload[0] >> 4 == 6:
            proto = PROTOS.get(payload[6], "other") + "6"
        else:
            proto = "other"
        if len(self.pending) >= self.maxlen:
            self.overflow += 1
            self.verdict(pid)
            return
        self.pending.append((now + self.delay, pid, now))
        self.delayed += 1
        self.by_proto[proto] += 1
        self.max_backlog = max(self.max_backlog, len(self.pending))

    # --- releasing ----------------------------------------------------------------------
    def release_due(self, now):
        """Accept every packet whose time has come (one batch verdict); seconds to the next."""
        last = None
        while self.pending and self.pending[0][0] <= now:
            _due, pid, arrived = self.pending.popleft()
            last = pid
            hold = now - arrived
            self.hold_sum += hold
            self.released += 1
            self.hold_max = max(self.hold_max, hold)
            self.hold_min = hold if self.hold_min is None else min(self.hold_min, hold)
        if last is not None:
            self.verdict(last, batch=True)
        return self.pending[0][0] - now if self.pending else None

    def release_all(self):
        """Accept everything still held (and any packet we never heard of: ENOBUFS)."""
        if self.max_id is not None and (self.pending or self.lost_notes):
            self.verdict(self.max_id, batch=True)
        self.pending.clear()

    def summary(self):
        protos = " ".join("%s %d" % (p, self.by_proto[p]) for p in sorted(self.by_proto)) or "-"
        if self.released:
            hold = "%.1f/%.1f/%.1f ms" % (self.hold_min * 1000,
                                          self.hold_sum / self.released * 1000,
                                          self.hold_max * 1000)
        else:
            hold = "-"
        return ("delayed %d packets (%s), max backlog %d, overflow (accepted at once) %d, "
                "lost notifications %d, verdict errors %d, hold min/avg/max %s"
                % (self.delayed, protos, self.max_backlog, self.overflow, self.lost_notes,
                   self.verdict_errors, hold))


def run(args):
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    stop = []

    def on_signal(signum, _frame):
        stop.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.set_wakeup_fd(wake_w.fileno())

    try:
        d = Delayer(args.queue, args.delay_ms, args.maxlen)
        d.bind()
    except OSError as e:
        log("cannot bind queue %d: %s" % (args.queue, e))
        return 1
    log("queue %d bound, delay %d ms, at most %d packets held: ready"
        % (args.queue, args.delay_ms, args.maxlen))
    if args.check:
        stop.append(0)
    rc = 0
    try:
        while not stop:
            timeout = d.release_due(time.monotonic())
            # wake up at least once a second (a stop signal also wakes us through wake_r)
            timeout = 1.0 if timeout is None else min(max(timeout, 0.0), 1.0)
            ready = select.select([d.sock, wake_r], [], [], timeout)[0]
            if wake_r in ready:
                try:
                    wake_r.recv(64)
                except BlockingIOError:
                    pass
            if d.sock in ready:
                d.receive()
    except OSError as e:
        log("error: %s" % e)
        rc = 1
    finally:
        try:
            d.release_all()
            d.unbind()
        except OSError as e:
            log("releasing the queue: %s" % e)
        d.sock.close()
        why = ("signal %d" % stop[0]) if stop and stop[0] else "check" if stop else "error"
        log("exit (%s): %s" % (why, d.summary()))
    return rc


def add_rule(args):
    """Append "NFQUEUE num Q bypass" (xtables target through nft_compat) to FAMILY TABLE CHAIN."""
    family, table, chain = args.add_rule
    if family not in FAMILIES:
        log("unknown nftables family %s" % family)
        return 2
    # struct xt_NFQ_info_v3 { __u16 queuenum; __u16 queues_total; __u16 flags; }, XT_ALIGNed
    info = struct.pack("=HHH", args.queue, 1, NFQ_FLAG_BYPASS) + b"\0\0"
    target = nla_nest(NFTA_LIST_ELEM,
                      nla_str(NFTA_EXPR_NAME, "target"),
                      nla_nest(NFTA_EXPR_DATA,
                               nla_str(NFTA_TARGET_NAME, "NFQUEUE"),
                               nla(NFTA_TARGET_REV, struct.pack("!I", 3)),
                               nla(NFTA_TARGET_INFO, info)))
    rule = (nla_str(NFTA_RULE_TABLE, table) + nla_str(NFTA_RULE_CHAIN, chain) +
            nla_nest(NFTA_RULE_EXPRESSIONS, target))
    batch = (nfmsg(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 1, socket.AF_UNSPEC,
                   NFNL_SUBSYS_NFTABLES, b"") +
             nfmsg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE,
                   NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, 2,
                   FAMILIES[family], 0, rule) +
             nfmsg(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 3, socket.AF_UNSPEC,
                   NFNL_SUBSYS_NFTABLES, b""))
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        sock.bind((0, 0))
        sock.send(batch)
        deadline = time.monotonic() + 5.0
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                log("add-rule: no answer from nf_tables")
                return 1
            for mtype, _flags, seq, payload in split_msgs(sock.recv(1 << 16)):
                if mtype == NLMSG_ERROR:
                    err = nl_error(payload)
                    if err:
                        log("add-rule: %s %s %s: %s" % (family, table, chain, os.strerror(err)))
                        return 1
                    if seq == 2:
                        log("add-rule: %s %s %s: NFQUEUE num %d bypass"
                            % (family, table, chain, args.queue))
                        return 0
    except OSError as e:
        log("add-rule: %s" % e)
        return 1
    finally:
        sock.close()


def icmp_checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ping(args):
    """ICMP echo to ADDR (a raw socket; no ping(8) needed): one line with the round trips."""
    addr = args.ping
    ident = os.getpid() & 0xFFFF
    rtts = []
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    except OSError as e:
        log("ping: %s" % e)
        return 1
    with sock:
        for seq in range(1, args.count + 1):
            body = struct.pack("!d", time.monotonic()) + b"qnet-drill-rtt".ljust(48, b".")
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            hdr = struct.pack("!BBHHH", 8, 0, icmp_checksum(hdr + body), ident, seq)
            sent = time.monotonic()
            try:
                sock.sendto(hdr + body, (addr, 0))
            except OSError as e:
                log("ping %s: %s" % (addr, e))
                return 1
            deadline = sent + args.timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([sock], [], [], left)[0]:
                    break
                pkt, src = sock.recvfrom(4096)
                ihl = (pkt[0] & 0x0F) * 4
                if src[0] != addr or len(pkt) < ihl + 8:
                    continue
                itype, _code, _sum, rid, rseq = struct.unpack_from("!BBHHH", pkt, ihl)
                if itype == 0 and rid == ident and rseq == seq:
                    rtts.append((time.monotonic() - sent) * 1000)
                    break
            time.sleep(max(0.0, sent + args.interval - time.monotonic()))
    if not rtts:
        print("rtt %s: 0/%d answered" % (addr, args.count), flush=True)
        return 1
    print("rtt %s: %d/%d answered, min/avg/max %.1f/%.1f/%.1f ms"
          % (addr, len(rtts), args.count, min(rtts), sum(rtts) / len(rtts), max(rtts)),
          flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queue", type=int, default=3417, help="queue number (default 3417)")
    ap.add_argument("--maxlen", type=int, default=4096,
                    help="packets held at most; more are accepted at once (default 4096)")
    ap.add_argument("--add-rule", nargs=3, metavar=("FAMILY", "TABLE", "CHAIN"),
                    help="append an NFQUEUE rule to this nftables chain and exit")
    ap.add_argument("--check", action="store_true",
                    help="bind the queue, release it and exit (can this kernel do it?)")
    ap.add_argument("--ping", metavar="ADDR",
                    help="measure the round trip to ADDR with ICMP echo and exit")
    ap.add_argument("--count", type=int, default=5, help="--ping: echoes (default 5)")
    ap.add_argument("--interval", type=float, default=0.2,
                    help="--ping: seconds between echoes (default 0.2)")
    ap.add_argument("--timeout", type=float, default=3.0,
                    help="--ping: seconds to wait for each reply (default 3)")
    ap.add_argument("delay_ms", type=int, nargs="?", help="delay in milliseconds")
    args = ap.parse_args()
    if not 0 <= args.queue <= 65535:
        ap.error("--queue: 0..65535")
    if args.add_rule:
        return add_rule(args)
    if args.ping:
        if args.count < 1 or args.timeout <= 0:
            ap.error("--count >= 1, --timeout > 0")
        return ping(args)
    if args.check and args.delay_ms is None:
        args.delay_ms = 0
    if args.delay_ms is None or args.delay_ms < 0 or args.maxlen < 1:
        ap.error("DELAY_MS (>= 0) is required, --maxlen >= 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
