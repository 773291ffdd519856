#!/usr/bin/env python3
"""A minimal plaintext qnet client for tests: PREINIT, INIT, node lists.

  qnet_client.py HOST PORT CLUSTER NODE_ID [HOLD_SECONDS]
Connects, initialises as NODE_ID of CLUSTER (ffsplit, lowest), sends the
config/membership/quorum lists for nodes 1..2, prints every reply type it
gets as "type=N vote=V" lines, and keeps the connection open for
HOLD_SECONDS (default 0) while answering VOTE_INFO.

The wire format is tests/lib/qnetwire.py.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import qnetwire as w  # noqa: E402


def main():
    try:
        session()
    except (BrokenPipeError, ConnectionResetError):
        print("closed")


def session():
    host, port, cluster, node = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    hold = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    sock = socket.create_connection((host, port), timeout=5)
    ring = (1, 8)
    sock.sendall(w.preinit(1, cluster) + w.init(2, node, ring=ring))
    sock.sendall(w.node_list(3, w.LIST_INITIAL, (1, 2)))
    sock.sendall(w.node_list(4, w.LIST_MEMBERSHIP, (1, 2), ring=ring))
    sock.sendall(w.node_list(5, w.LIST_QUORUM, (1, 2), quorate=1))
    deadline = time.time() + max(hold, 2)
    # An echo request every 2 s, well inside the 8 s heartbeat: qnetd drops a client
    # silent for 1.5 heartbeats, and a loaded machine stretches a test past 12 s.
    next_echo, echo_seq = time.time() + 2, 100
    sock.settimeout(0.5)
    while time.time() < deadline:
        if time.time() >= next_echo:
            sock.sendall(w.echo_request(echo_seq))
            next_echo, echo_seq = time.time() + 2, echo_seq + 1
        try:
            m = w.read_msg(sock)
        except socket.timeout:
            continue
        except ConnectionResetError:
            m = None
        if m is None:
            print("closed")
            return
        mtype, opts = m
        vote = opts.get(19, b"\x00")[0]
        code = w.opt_u(opts, w.OPT_REPLY_ERROR_CODE)
        print("type=%d vote=%d code=%d" % (mtype, vote, -1 if code is None else code), flush=True)
        if mtype == w.VOTE_INFO:
            sock.sendall(w.message(w.VOTE_INFO_REPLY, w.tlv(w.OPT_SEQ, opts[w.OPT_SEQ])))
    sock.close()


if __name__ == "__main__":
    main()
