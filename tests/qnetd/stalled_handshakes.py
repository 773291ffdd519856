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

  stalled_handshakes.py flood HOST PORT RATE ADDRESSES DURATION_S [options]
For DURATION_S seconds opens RATE connections a second from ADDRESSES
source addresses (127.0.0.2 on, round robin), each sending PREINIT,
STARTTLS and half a ClientHello, then nothing (held until the server
closes them or the flood ends). Meanwhile an honest client from 127.0.0.1
connects one after another (a pause between), and each connection is
timed from connect() to the INIT reply over TLS. Prints one line per
probe and a summary "probes N served M p50 X.XXX s max Y.YYY s"; exits 0
when every probe was served within --max-s (default: --probe-deadline).
Run with --help for the options. From Python: flood(...) returns the
probe times (None for a probe not served).
"""
import argparse
import os
import resource
import selectors
import socket
import ssl
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qnetwire import (INIT_REPLY, STARTTLS, init, msg, preinit, read_msg, tls_wrap,  # noqa: E402
                      u32)


def stalled_peer(host, port, source, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((host, port))
    sock.sendall(preinit(1, b"stall"))
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


def honest_client(host, port, deadline, cluster="honest", cert=None, source=None):
    """PREINIT, STARTTLS, TLS (with cert, a PEM of certificate and key, when
    given) and INIT: True when the INIT reply came."""
    sock = socket.create_connection((host, port), timeout=deadline,
                                    source_address=(source, 0) if source else None)
    sock.sendall(preinit(1, cluster))
    reply = read_msg(sock)
    if reply is None or reply[0] != 1:
        return False
    sock.sendall(msg(STARTTLS, u32(0, 2)))
    tls = tls_wrap(sock, cert)
    tls.sendall(init(3, 1, ring=(1, 8)))
    reply = read_msg(tls)
    tls.close()
    return reply is not None and reply[0] == INIT_REPLY


# A TLS record header announcing a 512-byte handshake message, then the first
# part of a ClientHello (type 1, TLS 1.2, a random): the server buffers it
# and waits for the rest, which never comes.
HALF_CLIENT_HELLO = (b"\x16\x03\x01\x02\x00" + b"\x01\x00\x01\xfc" + b"\x03\x03" +
                     bytes(range(32)) + b"\x00" + b"\x00\x20" + bytes(64))


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Flood(threading.Thread):
    """Opens rate connections a second from `addresses` sources, each sending
    PREINIT, STARTTLS and half a ClientHello, then silence. Non-blocking
    connects, so a full listen queue slows no other connection."""

    def __init__(self, host, port, rate, addresses, first_source=2, hold_s=None):
        super().__init__(daemon=True)
        self.host, self.port, self.rate = host, port, rate
        self.sources = ["127.0.0.%d" % (first_source + i) for i in range(addresses)]
        self.hold_s = hold_s
        self.stop = threading.Event()
        self.opened = self.sent = self.failed = 0

    def run(self):
        sel = selectors.DefaultSelector()
        held = []	# (opened at, socket)
        start = time.monotonic()
        n = 0
        payload = (preinit(1, b"stall") + msg(STARTTLS, u32(0, 2)) +
                   HALF_CLIENT_HELLO)
        while not self.stop.is_set():
            now = time.monotonic()
            while n < (now - start) * self.rate:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                try:
                    sock.bind((self.sources[n % len(self.sources)], 0))
                    sock.connect_ex((self.host, self.port))
                    sel.register(sock, selectors.EVENT_WRITE)
                    held.append((now, sock))
                    self.opened += 1
                except OSError:
                    sock.close()
                    self.failed += 1
                n += 1
            for key, _ in sel.select(timeout=0.005):
                sock = key.fileobj
                sel.unregister(sock)
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    self.failed += 1
                    continue
                try:
                    sock.send(payload)
                    self.sent += 1
                except OSError:
                    self.failed += 1
            while held and self.hold_s is not None and now - held[0][0] > self.hold_s:
                _, sock = held.pop(0)
                try:
                    sel.unregister(sock)	# still connecting
                except (KeyError, ValueError):
                    pass
                sock.close()
        for _, sock in held:
            sock.close()
        sel.close()


def flood(host, port, rate, addresses, duration_s, probe_deadline_s=30.0, pause_s=0.5,
          warmup_s=3.0, cluster="honest", cert=None, hold_s=None, log=None):
    """Run the flood for duration_s; after warmup_s an honest client from
    127.0.0.1 connects again and again. Returns the probe times in seconds
    (None: not served within probe_deadline_s) and the flood's counts."""
    raise_fd_limit()
    f = Flood(host, port, rate, addresses, hold_s=hold_s)
    f.start()
    times = []
    end = time.monotonic() + duration_s
    time.sleep(warmup_s)
    while time.monotonic() < end:
        start = time.monotonic()
        try:
            ok = honest_client(host, port, probe_deadline_s, cluster, cert, "127.0.0.1")
        except (OSError, ssl.SSLError) as e:
            if log:
                log("# probe: %r" % e)
            ok = False
        took = time.monotonic() - start
        times.append(took if ok and took <= probe_deadline_s else None)
        if log:
            log("probe %d: %s" % (len(times), "served in %.3f s" % took if ok
                                  else "not served (%.3f s)" % took))
        time.sleep(pause_s)
    f.stop.set()
    f.join(10)
    return times, {"opened": f.opened, "sent": f.sent, "failed": f.failed}


def flood_main(argv):
    ap = argparse.ArgumentParser(prog="stalled_handshakes.py flood",
                                 description="Flood qnetd with stalled TLS handshakes from "
                                 "many addresses and time an honest client's connects.")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("rate", type=float, help="new stalled connections a second")
    ap.add_argument("addresses", type=int, help="source addresses, 127.0.0.2 on")
    ap.add_argument("duration", type=float, help="seconds the flood lasts")
    ap.add_argument("--warmup", type=float, default=3.0,
                    help="seconds of flood before the first probe (default 3)")
    ap.add_argument("--pause", type=float, default=0.5,
                    help="seconds between probes (default 0.5)")
    ap.add_argument("--probe-deadline", type=float, default=30.0,
                    help="a probe not served within this is a failure (default 30)")
    ap.add_argument("--max-s", type=float, default=None,
                    help="exit 1 unless every probe was served within this (default: "
                    "the probe deadline)")
    ap.add_argument("--hold", type=float, default=None,
                    help="close each stalled connection after this many seconds "
                    "(default: hold it until the server closes it or the flood ends)")
    ap.add_argument("--cluster", default="honest", help="the probe's cluster name")
    ap.add_argument("--cert", default=None,
                    help="PEM with the probe's client certificate and key (qnetd -c on)")
    a = ap.parse_args(argv)
    times, counts = flood(a.host, a.port, a.rate, a.addresses, a.duration, a.probe_deadline,
                          a.pause, a.warmup, a.cluster, a.cert, a.hold,
                          log=lambda line: print(line, flush=True))
    served = sorted(t for t in times if t is not None)
    limit = a.max_s if a.max_s is not None else a.probe_deadline
    print("flood: %d connections opened, %d stalled, %d failed" %
          (counts["opened"], counts["sent"], counts["failed"]))
    if served:
        print("probes %d served %d p50 %.3f s max %.3f s" %
              (len(times), len(served), statistics.median(served), served[-1]))
    else:
        print("probes %d served 0" % len(times))
    return 0 if times and len(served) == len(times) and served[-1] <= limit else 1


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "flood":
        return flood_main(sys.argv[2:])
    if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(sys.argv) != 7 or sys.argv[1] not in ("silent", "dribble"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
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
