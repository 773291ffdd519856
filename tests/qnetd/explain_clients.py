#!/usr/bin/env python3
"""Fake qdevice clients of several clusters at once, for tests/qnetd/test-qnetd-explain.sh.

  explain_clients.py HOST PORT HOLD_SECONDS [--flap NODE_SPEC_INDEX:COUNT] SPEC...

SPEC is CLUSTER/NODE/CONFIG/MEMBERSHIP[/HEURISTICS[/ALGORITHM]], e.g.
alpha/3/1,2,3,4/3,4/pass/ffsplit: node 3 of cluster alpha, configured nodes 1-4,
in the partition {3 4} (ring id (lowest member, 8)), membership heuristics
pass (or fail, or none), algorithm ffsplit (or lms); tie-breaker lowest.

Every client connects and initialises first, then all send their config lists,
then all their membership and quorum lists, so ffsplit decides once every
partition is known. VOTE_INFO is answered. --flap I:N then makes client number
I (0-based, in SPEC order) send N heuristics changes, pass and fail in turn,
each a new decision. Prints "ready" once all lists are sent, holds every
connection HOLD_SECONDS, then exits. The wire format is tests/lib/qnetwire.py.
"""
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import qnetwire as w  # noqa: E402

HEUR = {"none": None, "pass": w.HEUR_PASS, "fail": w.HEUR_FAIL}
ALGO = {"ffsplit": w.ALGO_FFSPLIT, "lms": w.ALGO_LMS}


class Client:
    def __init__(self, host, port, spec):
        parts = spec.split("/")
        self.cluster, self.node = parts[0], int(parts[1])
        self.config = [int(x) for x in parts[2].split(",")]
        self.members = [int(x) for x in parts[3].split(",")]
        self.heur = HEUR[parts[4]] if len(parts) > 4 else None
        algo = ALGO[parts[5]] if len(parts) > 5 else w.ALGO_FFSPLIT
        self.ring = (min(self.members), 8)
        self.seq = 10
        self.sock = socket.create_connection((host, port), timeout=5)
        # A long heartbeat: the test holds the connections without echo requests.
        self.sock.sendall(w.preinit(1, self.cluster) +
                          w.init(2, self.node, algorithm=algo, hb=60000, ring=self.ring))
        for want in (w.PREINIT_REPLY, w.INIT_REPLY):
            m = w.read_msg(self.sock)
            if m is None or m[0] != want:
                raise SystemExit("node %d of %s: no %s" % (self.node, self.cluster, w.name(want)))
        self.sock.setblocking(False)
        self.buf = b""

    def send(self, data):
        self.sock.setblocking(True)
        self.sock.sendall(data)
        self.sock.setblocking(False)

    def next_seq(self):
        self.seq += 1
        return self.seq

    def pump(self):
        """Read what arrived; answer VOTE_INFO. False once the server closed."""
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        self.buf += chunk
        while len(self.buf) >= 6:
            mtype, length = int.from_bytes(self.buf[0:2], "big"), int.from_bytes(self.buf[2:6], "big")
            if len(self.buf) < 6 + length:
                break
            body, self.buf = self.buf[6:6 + length], self.buf[6 + length:]
            if mtype == w.VOTE_INFO:
                opts = w.options(body)
                self.send(w.message(w.VOTE_INFO_REPLY, w.tlv(w.OPT_SEQ, opts[w.OPT_SEQ][0])))
        return True


def pump_all(clients, seconds):
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([c.sock for c in clients], [], [], min(left, 0.2))
        for c in clients:
            if c.sock in ready and not c.pump():
                raise SystemExit("node %d of %s: server closed" % (c.node, c.cluster))


def main():
    host, port, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    args = sys.argv[4:]
    flap = None
    if args and args[0] == "--flap":
        index, count = args[1].split(":")
        flap = (int(index), int(count))
        args = args[2:]
    clients = [Client(host, port, spec) for spec in args]
    for c in clients:
        c.send(w.node_list(c.next_seq(), w.LIST_INITIAL, c.config, config_version=1))
    pump_all(clients, 0.2)
    for c in clients:
        c.send(w.node_list(c.next_seq(), w.LIST_MEMBERSHIP, c.members, ring=c.ring,
                           heuristics=c.heur))
        c.send(w.node_list(c.next_seq(), w.LIST_QUORUM, c.members, quorate=1))
        pump_all(clients, 0.1)
    if flap is not None:
        c = clients[flap[0]]
        for i in range(flap[1]):
            c.send(w.heuristics_change(c.next_seq(), w.HEUR_PASS if i % 2 == 0 else w.HEUR_FAIL))
            pump_all(clients, 0.05)
    print("ready", flush=True)
    pump_all(clients, hold)


if __name__ == "__main__":
    main()
