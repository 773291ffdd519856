#!/usr/bin/env python3
"""tests/hostile/pipeline_flood.py: pipelined requests must all be answered.

Sends PREINIT, INIT and COUNT ECHO_REQUESTs in one write (a sender thread, so a
server that stops reading only blocks it) and counts the ECHO_REPLYs, which must
come back in order. --pad makes every request (and so its reply) bigger, and
--read-delay leaves the replies unread for a while first: both fill the server's
send queue and socket buffers, so its backpressure is exercised, not only its
queue. Exit 0 when every request was answered and the connection kept, else 1.

  pipeline_flood.py --qnetd BUILD/qnetd/qnetd          # starts its own qnetd on loopback
  pipeline_flood.py --host 127.0.0.1 --port 5403       # against a running one
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qnetwire import (ECHO_REPLY, ECHO_REQUEST, INIT_REPLY, OPT_SEQ,  # noqa: E402
                         PREINIT_REPLY, init, msg, preinit, read_msg, tlv, u32)
from qnetd_lab import Qnetd  # noqa: E402


def flood(host, port, count, pad, read_delay, timeout):
    sock = socket.create_connection((host, port), timeout=timeout)
    filler = tlv(0x7fff, b"p" * pad) if pad else b""
    data = preinit(1, "pipeline") + init(2, 1) + b"".join(
        msg(ECHO_REQUEST, u32(OPT_SEQ, 100 + i), filler) for i in range(count))
    sent_error = []

    def send_all():
        try:
            sock.sendall(data)
        except OSError as e:
            sent_error.append(repr(e))

    sender = threading.Thread(target=send_all, daemon=True)
    t0 = time.monotonic()
    sender.start()
    time.sleep(read_delay)
    echoes, closed, wrong = 0, None, None
    try:
        for want in (PREINIT_REPLY, INIT_REPLY):
            m = read_msg(sock)
            if m is None:
                closed = "EOF before the %s reply" % ("PREINIT" if want == PREINIT_REPLY else "INIT")
                count = 0
                break
            if m[0] != want:
                wrong = "want type %d, got %d" % (want, m[0])
                count = 0
                break
        while echoes < count:
            m = read_msg(sock)
            if m is None:
                closed = "EOF"
                break
            seq = int.from_bytes(m[1].get(OPT_SEQ, b""), "big")
            if m[0] != ECHO_REPLY or seq != 100 + echoes:
                wrong = "reply %d: type %d seq %d" % (echoes, m[0], seq)
                break
            echoes += 1
    except socket.timeout:
        closed = "no reply for %.0f s" % timeout
    except (ConnectionResetError, BrokenPipeError) as e:
        closed = repr(e)
    elapsed = time.monotonic() - t0
    sender.join(timeout=timeout)
    sock.close()
    return echoes, closed, wrong, elapsed, len(data), sent_error


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                epilog="\n".join(__doc__.splitlines()[2:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--qnetd", help="qnetd binary: start one on a free loopback port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5403)
    p.add_argument("--count", type=int, default=1000, help="echo requests (default 1000)")
    p.add_argument("--pad", type=int, default=0, help="extra bytes per request (default 0)")
    p.add_argument("--read-delay", type=float, default=0.0,
                   help="seconds before the first read (default 0)")
    p.add_argument("--timeout", type=float, default=10.0, help="longest wait for a reply, s")
    a = p.parse_args()
    if a.qnetd:
        with Qnetd(a.qnetd) as q:
            res = flood("127.0.0.1", q.port, a.count, a.pad, a.read_delay, a.timeout)
            log = q.log_text()
            alive = q.proc.poll() is None
    else:
        res = flood(a.host, a.port, a.count, a.pad, a.read_delay, a.timeout)
        log, alive = "", True
    echoes, closed, wrong, elapsed, size, sent_error = res
    print("# %d requests (%d bytes) in one write; %d echo replies in %.2f s%s%s"
          % (a.count, size, echoes, elapsed, "; closed: %s" % closed if closed else "",
             "; sender: %s" % sent_error[0] if sent_error else ""))
    if "send queue full" in log:
        print("# qnetd log: 'send queue full'")
    if echoes == a.count and not wrong and not closed and alive:
        print("OK: all %d pipelined requests answered in order" % a.count)
        return 0
    print("FAIL: %d of %d answered%s%s" % (echoes, a.count, "; " + wrong if wrong else "",
                                           "" if alive else "; qnetd died"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
