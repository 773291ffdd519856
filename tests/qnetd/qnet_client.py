#!/usr/bin/env python3
"""A minimal plaintext qnet client for tests: PREINIT, INIT, node lists.

  qnet_client.py HOST PORT CLUSTER NODE_ID [HOLD_SECONDS]
Connects, initialises as NODE_ID of CLUSTER (ffsplit, lowest), sends the
config/membership/quorum lists for nodes 1..2, prints every reply type it
gets as "type=N vote=V" lines, and keeps the connection open for
HOLD_SECONDS (default 0) while answering VOTE_INFO.

Importable wire helpers for the other test clients: msg, tlv, u32, node_info,
read_msg, preinit, init, handshake (PREINIT + INIT, the INIT_REPLY code),
opt_u and the message/option numbers they use.
"""
import socket
import struct
import sys
import time


def tlv(t, v):
    return struct.pack(">HH", t, len(v)) + v


def u32(t, x):
    return tlv(t, struct.pack(">I", x))


def msg(mtype, *opts):
    body = b"".join(opts)
    return struct.pack(">HI", mtype, len(body)) + body


def node_info(node):
    return tlv(17, u32(9, node))


# Message and option numbers (docs/protocol.md 1.5, 1.6) for the helpers below.
PREINIT, PREINIT_REPLY, STARTTLS, INIT, INIT_REPLY, SERVER_ERROR = 0, 1, 2, 3, 4, 5
SET_OPTION, SET_OPTION_REPLY, ECHO_REQUEST, ECHO_REPLY = 6, 7, 8, 9
NODE_LIST, NODE_LIST_REPLY, VOTE_INFO, VOTE_INFO_REPLY = 10, 11, 14, 15
HEURISTICS_CHANGE, HEURISTICS_CHANGE_REPLY = 16, 17
OPT_SEQ, OPT_CLUSTER_NAME, OPT_REPLY_ERROR_CODE, OPT_HEARTBEAT = 0, 1, 6, 12


def preinit(seq, cluster):
    """PREINIT naming CLUSTER (str or bytes: hostile names are bytes)."""
    name = cluster.encode() if isinstance(cluster, str) else cluster
    return msg(PREINIT, u32(OPT_SEQ, seq), tlv(OPT_CLUSTER_NAME, name))


def init(seq, node, hb=8000, ring_seq=8):
    """INIT of NODE: ffsplit, tie-breaker lowest, heartbeat HB ms."""
    return msg(INIT, u32(OPT_SEQ, seq), u32(9, node), tlv(11, struct.pack(">H", 1)),
               u32(OPT_HEARTBEAT, hb), tlv(21, struct.pack(">BI", 1, 0)),
               tlv(13, struct.pack(">IQ", node, ring_seq)))


def opt_u(opts, opt):
    """An option's value as an unsigned integer, None when it is absent."""
    v = opts.get(opt)
    return None if v is None else int.from_bytes(v, "big")


def handshake(sock, cluster, node, hb=8000):
    """PREINIT and INIT over SOCK (plaintext); returns INIT_REPLY's error code,
    or None when the server closed or answered something else."""
    sock.sendall(preinit(1, cluster) + init(2, node, hb))
    for want in (PREINIT_REPLY, INIT_REPLY):
        m = read_msg(sock)
        if m is None or m[0] != want:
            return None
    return opt_u(m[1], OPT_REPLY_ERROR_CODE)


def read_msg(sock):
    hdr = b""
    while len(hdr) < 6:
        chunk = sock.recv(6 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    mtype, length = struct.unpack(">HI", hdr)
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    opts = {}
    pos = 0
    while pos + 4 <= len(body):
        t, ln = struct.unpack(">HH", body[pos:pos + 4])
        opts.setdefault(t, body[pos + 4:pos + 4 + ln])
        pos += 4 + ln
    return mtype, opts


def main():
    try:
        session()
    except (BrokenPipeError, ConnectionResetError):
        print("closed")


def session():
    host, port, cluster, node = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    hold = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    sock = socket.create_connection((host, port), timeout=5)
    ring = struct.pack(">IQ", 1, 8)
    sock.sendall(msg(0, u32(0, 1), tlv(1, cluster.encode())))
    sock.sendall(msg(3, u32(0, 2), u32(9, node), tlv(11, struct.pack(">H", 1)),
                     u32(12, 8000), tlv(21, struct.pack(">BI", 1, 0)), tlv(13, ring)))
    sock.sendall(msg(10, u32(0, 3), tlv(18, b"\x00"), node_info(1), node_info(2)))
    sock.sendall(msg(10, u32(0, 4), tlv(18, b"\x02"), tlv(13, ring), node_info(1), node_info(2)))
    sock.sendall(msg(10, u32(0, 5), tlv(18, b"\x03"), tlv(20, b"\x01"), node_info(1), node_info(2)))
    deadline = time.time() + max(hold, 2)
    sock.settimeout(0.5)
    while time.time() < deadline:
        try:
            m = read_msg(sock)
        except socket.timeout:
            continue
        except ConnectionResetError:
            m = None
        if m is None:
            print("closed")
            return
        mtype, opts = m
        vote = opts.get(19, b"\x00")[0]
        code = struct.unpack(">H", opts[6])[0] if 6 in opts else -1
        print("type=%d vote=%d code=%d" % (mtype, vote, code), flush=True)
        if mtype == 14:
            sock.sendall(msg(15, tlv(0, opts[0])))
    sock.close()


if __name__ == "__main__":
    main()
