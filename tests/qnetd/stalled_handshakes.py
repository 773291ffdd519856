#!/usr/bin/env python3
"""Stalled TLS handshakes must not lock new clients out of qnetd.

  stalled_handshakes.py HOST PORT COUNT DEADLINE_S
Opens COUNT connections that each send PREINIT and STARTTLS and then
nothing (no ClientHello), keeps them open, and then runs one honest client:
PREINIT, STARTTLS, a TLS handshake (no client certificate: qnetd -c off)
and INIT over TLS. Prints "served after N.N s" and exits 0 when the INIT
reply arrives within DEADLINE_S, else "not served" and exits 1.
"""
import socket
import ssl
import struct
import sys
import time

from qnet_client import msg, read_msg, tlv, u32

PREINIT, STARTTLS, INIT, INIT_REPLY = 0, 2, 3, 4


def preinit_starttls(host, port, timeout):
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.sendall(msg(PREINIT, u32(0, 1), tlv(1, b"stall")))
    sock.sendall(msg(STARTTLS, u32(0, 2)))
    return sock


def honest_client(host, port, deadline):
    sock = socket.create_connection((host, port), timeout=deadline)
    sock.sendall(msg(PREINIT, u32(0, 1), tlv(1, b"honest")))
    reply = read_msg(sock)
    if reply is None or reply[0] != 1:
        return False
    sock.sendall(msg(STARTTLS, u32(0, 2)))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    tls = ctx.wrap_socket(sock, server_hostname=None)
    ring = struct.pack(">IQ", 1, 8)
    tls.sendall(msg(INIT, u32(0, 3), u32(9, 1), tlv(11, struct.pack(">H", 1)),
                    u32(12, 8000), tlv(21, struct.pack(">BI", 1, 0)), tlv(13, ring)))
    reply = read_msg(tls)
    tls.close()
    return reply is not None and reply[0] == INIT_REPLY


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    count, deadline = int(sys.argv[3]), float(sys.argv[4])
    stalled = [preinit_starttls(host, port, deadline) for _ in range(count)]
    time.sleep(0.5)	# the server has read them all and holds their handshakes
    start = time.monotonic()
    try:
        served = honest_client(host, port, deadline)
    except (OSError, ssl.SSLError) as e:
        print("# honest client: %r" % e)
        served = False
    took = time.monotonic() - start
    for sock in stalled:
        sock.close()
    if served and took <= deadline:
        print("served after %.1f s" % took)
        return 0
    print("not served (%.1f s)" % took)
    return 1


if __name__ == "__main__":
    sys.exit(main())
