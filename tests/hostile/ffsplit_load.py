#!/usr/bin/env python3
"""One busy ffsplit cluster against another cluster's echo latency.

  ffsplit_load.py --qnetd BUILD/qnetd/qnetd [--workers 2] [--burst 32] ...
  ffsplit_load.py --port PORT              (a qnetd you started: plaintext, -s off)

CLIENTS clients of cluster ALPHA (node ids 1..CLIENTS, ffsplit, tie-breaker
lowest; threads of one process, niced by ALPHA_NICE) each send INIT, a
config and a membership list of NODES node ids (2,727 fills a 32 KiB
message, docs/protocol.md 1.9; every client lists them in its own shuffled
order) and then HEURISTICS_CHANGE messages: BURST per
write, the next write once all replies are in. Meanwhile one client of
cluster BETA, in a process of its own, sends an ECHO_REQUEST every
INTERVAL seconds and times each ECHO_REPLY.

Phases and what is printed:
  setup    the ALPHA clients connect and send their lists;
  serial   client 1 alone sends SERIAL heuristics changes, one at a time:
           the median round trip is the server's cost per message (the
           decision plus its VOTE_INFO pushes), loopback included;
  flood    every ALPHA client sends for DURATION seconds; BETA's echo
           round trips give p50/p99/max (an echo still unanswered at the
           end counts with the time it waited, as a lower bound).
Finally whether qnetd (when started here) is still running, and its exit
status if not. With --workers N, BETA's cluster name is chosen to land on
ALPHA's worker (the front routes by FNV-1a of the name) unless --beta is
given.

Importable: run(options) returns the figures as a dict; options() gives
the defaults. Standard library only. Loopback only. With --max-p99-ms the
exit status says whether BETA was served in time (and qnetd survived).
Figures from a loaded machine are noisy: compare builds on the same run.
"""
import argparse
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import qnetwire as q  # noqa: E402

RING = (1, 8)


def fnv1a_worker(name, workers):
    """The worker qnetd's front routes cluster NAME to (shard-front.c)."""
    h = 2166136261
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h % workers


def beta_name_on_worker(alpha, workers):
    """A cluster name served by the same worker as ALPHA."""
    for i in range(1000):
        name = "beta" if i == 0 else "beta%d" % i
        if fnv1a_worker(name, workers) == fnv1a_worker(alpha, workers):
            return name
    raise RuntimeError("no beta name on alpha's worker")


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


class Alpha:
    """One client of the busy cluster; its socket blocks with a timeout."""

    def __init__(self, opts, node):
        self.opts = opts
        self.node = node
        self.seq = 10
        self.sock = None
        self.replies = 0
        self.error = None

    def connect(self):
        o = self.opts
        self.sock = socket.create_connection((o.host, o.port), timeout=o.reply_timeout)
        code = q.handshake(self.sock, o.alpha, self.node, hb=o.heartbeat_ms)
        if code != 0:
            raise RuntimeError("node %d: INIT answered %r" % (self.node, code))
        ids = list(range(1, o.nodes + 1))
        random.Random(self.node).shuffle(ids)
        self.sock.sendall(q.node_list(3, q.LIST_INITIAL_CONFIG, ids))
        self.wait_for(q.NODE_LIST_REPLY, 1)
        random.Random(-self.node).shuffle(ids)
        self.sock.sendall(q.node_list(4, q.LIST_MEMBERSHIP, ids, RING, q.HEUR_PASS))
        self.wait_for(q.NODE_LIST_REPLY, 1)

    def wait_for(self, mtype, count):
        """Read until COUNT messages of MTYPE came (VOTE_INFO and others are skipped)."""
        got = 0
        while got < count:
            m = q.read_msg(self.sock)
            if m is None:
                raise RuntimeError("node %d: connection closed" % self.node)
            if m[0] == mtype:
                got += 1
            elif m[0] == q.SERVER_ERROR:
                raise RuntimeError("node %d: SERVER_ERROR %r" % (self.node, q.opt_u(m[1], 6)))
        return got

    def send_heuristics(self, count):
        data = b""
        for _ in range(count):
            self.seq += 1
            data += q.heuristics_change(self.seq, q.HEUR_PASS if self.seq % 2 else q.HEUR_FAIL)
        self.sock.sendall(data)
        self.wait_for(q.HEURISTICS_CHANGE_REPLY, count)
        self.replies += count

    def flood(self, deadline):
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.05, deadline - time.monotonic()))
                self.send_heuristics(self.opts.burst)
        except socket.timeout:
            pass
        except (OSError, RuntimeError) as e:
            self.error = str(e)

    def close(self):
        if self.sock is not None:
            self.sock.close()


def beta_echoes(opts, beta, start_at, stop_at, conn):
    """In its own process: echo every INTERVAL s from START_AT to STOP_AT (monotonic)."""
    rtts, unanswered, error = [], [], None
    try:
        sock = socket.create_connection((opts.host, opts.port), timeout=10)
        if q.handshake(sock, beta, 1, hb=opts.heartbeat_ms) != 0:
            raise RuntimeError("beta INIT refused")
        seq = 100
        while time.monotonic() < start_at:
            time.sleep(0.01)
        next_at = time.monotonic()
        while next_at < stop_at:
            time.sleep(max(0.0, next_at - time.monotonic()))
            seq += 1
            sent = time.monotonic()
            sock.sendall(q.echo_request(seq))
            sock.settimeout(max(0.1, stop_at + opts.grace - sent))
            try:
                while True:
                    m = q.read_msg(sock)
                    if m is None:
                        raise RuntimeError("beta: connection closed")
                    if m[0] == q.ECHO_REPLY and q.opt_u(m[1], q.OPT_SEQ) == seq:
                        break
            except socket.timeout:
                unanswered.append(time.monotonic() - sent)
                break
            rtts.append(time.monotonic() - sent)
            next_at = max(next_at + opts.interval, time.monotonic())
        sock.close()
    except (OSError, RuntimeError) as e:
        error = str(e)
    conn.send({"rtts": rtts, "unanswered": unanswered, "error": error})
    conn.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_qnetd(opts, workdir):
    tool = os.path.join(os.path.dirname(opts.qnetd), "qnetd-tool")
    sock = os.path.join(workdir, "q.sock")
    adv = "lock_file=%s,local_socket_file=%s" % (os.path.join(workdir, "q.pid"), sock)
    if opts.workers > 1:
        adv += ",worker_processes=%d" % opts.workers
    log = open(os.path.join(workdir, "qnetd.log"), "w")
    proc = subprocess.Popen([opts.qnetd, "-f", "-s", "off", "-l", "127.0.0.1",
                             "-p", str(opts.port), "-S", adv],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("qnetd exited %d at start" % proc.returncode)
        if subprocess.call([tool, "-s", "-p", sock], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) == 0:
            return proc
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise RuntimeError("qnetd did not come up")


def stop_qnetd(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def alpha_side(opts, conn):
    """In its own process (niced: on loopback the attackers' CPU is the
    server's): setup and serial phases, then the flood at the time the
    parent sends; reports figures over CONN."""
    res = {}
    alphas = [Alpha(opts, n) for n in range(1, opts.clients + 1)]
    try:
        if opts.alpha_nice:
            os.nice(opts.alpha_nice)
        t0 = time.monotonic()
        for a in alphas:
            a.connect()
        res["setup_s"] = round(time.monotonic() - t0, 2)
        serial = []
        for _ in range(opts.serial):
            t = time.monotonic()
            alphas[0].send_heuristics(1)
            serial.append(time.monotonic() - t)
        res["serial_ms"] = [round(x * 1000, 3) for x in serial]
        res["per_message_ms"] = round(statistics.median(serial) * 1000, 3) if serial else None
        conn.send(res)
        start_at, stop_at = conn.recv()
        while time.monotonic() < start_at:
            time.sleep(0.01)
        threads = [threading.Thread(target=a.flood, args=(stop_at,)) for a in alphas]
        for t in threads:
            t.start()
        for t in threads:
            t.join(opts.duration + opts.grace + 30)
        flood_s = time.monotonic() - start_at
        replies = sum(a.replies for a in alphas)
        res["flood_s"] = round(flood_s, 2)
        res["flood_replies"] = replies
        res["flood_ms_per_reply"] = round(flood_s * 1000 / replies, 3) if replies else None
        res["alpha_errors"] = sorted({a.error for a in alphas if a.error})
    except (OSError, RuntimeError) as e:
        res["error"] = str(e)
    finally:
        for a in alphas:
            a.close()
    conn.send(res)
    conn.close()


def measure(opts, beta):
    """Setup, serial and flood phases against a running qnetd; the figures."""
    res = {"alpha": opts.alpha, "beta": beta, "clients": opts.clients, "nodes": opts.nodes,
           "burst": opts.burst, "workers": opts.workers}
    a_conn, a_child = multiprocessing.Pipe()
    alpha = multiprocessing.Process(target=alpha_side, args=(opts, a_child))
    alpha.start()
    try:
        if not a_conn.poll(opts.reply_timeout * 2):
            raise RuntimeError("alpha clients not set up in time")
        res.update(a_conn.recv())
        if "error" in res:
            return res
        start_at = time.monotonic() + 0.5
        stop_at = start_at + opts.duration
        b_conn, b_child = multiprocessing.Pipe(duplex=False)
        beta_proc = multiprocessing.Process(target=beta_echoes,
                                            args=(opts, beta, start_at, stop_at, b_child))
        beta_proc.start()
        a_conn.send((start_at, stop_at))
        wait = opts.duration + opts.grace + 60
        echo = b_conn.recv() if b_conn.poll(wait) else {"error": "no beta report"}
        beta_proc.join(5)
        res.update(a_conn.recv() if a_conn.poll(wait) else {"error": "no alpha report"})
        rtts = echo.get("rtts", [])
        waits = rtts + echo.get("unanswered", [])
        res["echoes"] = len(rtts)
        res["echo_unanswered"] = len(echo.get("unanswered", []))
        res["echo_error"] = echo.get("error")
        for name, p in (("p50", 50), ("p99", 99)):
            v = percentile(waits, p)
            res["echo_%s_ms" % name] = None if v is None else round(v * 1000, 1)
        res["echo_max_ms"] = round(max(waits) * 1000, 1) if waits else None
    finally:
        alpha.join(5)
        if alpha.is_alive():
            alpha.terminate()
            alpha.join()
    return res


def options(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--qnetd", help="qnetd binary to start (-s off, loopback); else use --port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="port of a running qnetd (or to start on)")
    p.add_argument("--workers", type=int, default=1, help="worker_processes for a started qnetd")
    p.add_argument("--clients", type=int, default=16, help="ALPHA clients (default 16)")
    p.add_argument("--nodes", type=int, default=2727, help="node ids per list (default 2727)")
    p.add_argument("--burst", type=int, default=1,
                   help="HEURISTICS_CHANGE per write (default 1; 32 = a 640-byte write)")
    p.add_argument("--serial", type=int, default=5, help="serial messages timed (default 5)")
    p.add_argument("--duration", type=float, default=10.0, help="flood seconds (default 10)")
    p.add_argument("--interval", type=float, default=0.05, help="BETA echo period (default 0.05)")
    p.add_argument("--grace", type=float, default=20.0,
                   help="how long past the flood an echo may still be answered (default 20)")
    p.add_argument("--reply-timeout", type=float, default=120.0,
                   help="socket timeout of ALPHA's setup and serial phases (default 120)")
    p.add_argument("--heartbeat-ms", type=int, default=120000,
                   help="heartbeat announced in INIT (default 120000, so a stalled server "
                        "does not drop the clients)")
    p.add_argument("--alpha-nice", type=int, default=10,
                   help="niceness of the ALPHA clients' process (default 10; 0 = none): "
                        "on loopback their CPU would otherwise be taken from qnetd")
    p.add_argument("--alpha", default="alpha")
    p.add_argument("--beta", help="BETA cluster name (default beta, or one on ALPHA's worker)")
    p.add_argument("--settle", type=float, default=1.0,
                   help="seconds to wait after the flood before checking that qnetd runs "
                        "(default 1; a worker stalled by the flood is killed by the front "
                        "after 30 s)")
    p.add_argument("--max-p99-ms", type=float,
                   help="exit 1 unless BETA's echo p99 stays under this and qnetd runs")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return p.parse_args(argv)


def run(opts):
    """Start qnetd if asked, measure, stop it; the figures as a dict."""
    beta = opts.beta or (beta_name_on_worker(opts.alpha, opts.workers) if opts.workers > 1
                         else "beta")
    proc = None
    workdir = tempfile.mkdtemp(prefix="ffsplit-load.")
    try:
        if opts.qnetd:
            if opts.port == 0:
                opts.port = free_port()
            proc = start_qnetd(opts, workdir)
        elif opts.port == 0:
            raise RuntimeError("give --qnetd or --port")
        try:
            res = measure(opts, beta)
        except (OSError, RuntimeError) as e:
            res = {"error": str(e)}
        if proc is not None:
            time.sleep(opts.settle)
            res["qnetd_running"] = proc.poll() is None
            res["qnetd_exit"] = proc.returncode
            res["qnetd_log"] = os.path.join(workdir, "qnetd.log")
    finally:
        if proc is not None:
            stop_qnetd(proc)
    return res


def main():
    opts = options()
    res = run(opts)
    if opts.json:
        print(json.dumps(res, sort_keys=True))
    else:
        for k in sorted(res):
            if k != "serial_ms":
                print("%-20s %s" % (k, res[k]))
    if "error" in res:
        return 1
    if opts.max_p99_ms is not None:
        p99 = res.get("echo_p99_ms")
        if p99 is None or p99 >= opts.max_p99_ms or res.get("echo_unanswered") or \
                res.get("echo_error") or res.get("qnetd_running") is False:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
