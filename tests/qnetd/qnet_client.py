#!/usr/bin/env python3
"""A minimal plaintext qnet client for tests: PREINIT, INIT, node lists.

  qnet_client.py HOST PORT CLUSTER NODE_ID [HOLD_SECONDS]
Connects, initialises as NODE_ID of CLUSTER (ffsplit, lowest), sends the
config/membership/quorum lists for nodes 1..2, prints every reply type it
gets as "type=N vote=V" lines, and keeps the connection open for
HOLD_SECONDS (default 0) while answering VOTE_INFO.
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
