#!/usr/bin/env python3
"""Stalled TLS handshakes must not lock new clients out of qnetd.

  stalled_handshakes.py MODE HOST PORT COUNT ADDRESSES DEADLINE_S
Opens COUNT connections from ADDRESSES source addresses (127.0.0.2 on,
round robin) that each send PREINIT and STARTTLS and then, by MODE:
  silent  nothing more;
  dribble a TLS record header announcing a 512-byte ClientHello, then one
          byte of it every second (the peer never looks idle).
It keeps them open and then runs one honest client from 127.0.0.1:
PREINIT, STARTTLS, a TLS handshake (no client certificate: qnetd -c off)
and INIT over TLS. Prints "served after N.N s" and exits 0 when the INIT
reply arrives within DEADLINE_S, else "not served" and exits 1.
"""
import socket
import ssl
import struct
import sys
import threading
import time

from qnet_client import msg, read_msg, tlv, u32

PREINIT, STARTTLS, INIT, INIT_REPLY = 0, 2, 3, 4


def stalled_peer(host, port, source, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((host, port))
    sock.sendall(msg(PREINIT, u32(0, 1), tlv(1, b"stall")))
    sock.sendall(msg(STARTTLS, u32(0, 2)))
    return sock


def dribble(socks, stop):
    """One byte of the announced ClientHello per second on every socket."""
    for sock in socks:
        sock.sendall(b"\x16\x03\x01\x02\x00")	# handshake record, 512 bytes to come
    while not stop.wait(1.0):
        for sock in socks:
            try:
                sock.sendall(b"\x01")
            except OSError:
                pass


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
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    count, addresses, deadline = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    sources = ["127.0.0.%d" % (2 + i % addresses) for i in range(count)]
    stalled = [stalled_peer(host, port, src, deadline) for src in sources]
    stop = threading.Event()
    if mode == "dribble":
        threading.Thread(target=dribble, args=(stalled, stop), daemon=True).start()
    time.sleep(0.5)	# the server has read them all and holds their handshakes
    start = time.monotonic()
    try:
        served = honest_client(host, port, deadline)
    except (OSError, ssl.SSLError) as e:
        print("# honest client: %r" % e)
        served = False
    took = time.monotonic() - start
    stop.set()
    for sock in stalled:
        sock.close()
    if served and took <= deadline:
        print("served after %.1f s" % took)
        return 0
    print("not served (%.1f s)" % took)
    return 1


if __name__ == "__main__":
    sys.exit(main())
