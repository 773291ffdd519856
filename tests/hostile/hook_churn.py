#!/usr/bin/env python3
"""tests/hostile/hook_churn.py: other clusters' churn must not suppress a cluster's hooks.

Starts qnetd (`-f -s off` on a free loopback port) with an event hook that appends
"EVENT CLUSTER NODE" to a file and then sleeps --hook-seconds. Clients of other
clusters connect, initialise and disconnect at --rate sessions per second for
--seconds; meanwhile a "real" cluster of 2 nodes connects, sends its node lists,
gets its votes, and leaves. Afterwards (once the hooks have drained) it counts the
real cluster's events that ran, the "dropped" warnings in qnetd's log, and shows the
hook metrics of `qnetd-tool --metrics`. Exit 0 when every event of the real cluster
ran (2 connected, 2 vote_changed, a partition_changed, 2 disconnected), else 1.

  hook_churn.py --qnetd BUILD/qnetd/qnetd [--tool BUILD/qnetd/qnetd-tool]
"""
import argparse
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qnetwire import (LIST_INITIAL, LIST_MEMBERSHIP, LIST_QUORUM, OPT_SEQ,  # noqa: E402
                      VOTE_INFO, VOTE_INFO_REPLY, handshake, message, node_list, read_msg, tlv)
from qnetd_lab import Qnetd  # noqa: E402

WANT = {"client_connected": 2, "vote_changed": 2, "partition_changed": 1,
        "client_disconnected": 2}


def churn(port, rate, seconds, names, stop, counts):
    t_end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < t_end and not stop.is_set():
        t0 = time.monotonic()
        name = "churn-%d" % (i if names == 0 else i % names)
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if handshake(s, name, 1) == 0:
                counts["sessions"] += 1
            s.close()
        except OSError:
            counts["errors"] += 1
        i += 1
        time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - t0)))


def real_node(port, node, hold, log):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if handshake(s, "real", node) != 0:
        log.append("node %d: INIT refused" % node)
        return
    s.sendall(node_list(3, LIST_INITIAL, (1, 2)))
    s.sendall(node_list(4, LIST_MEMBERSHIP, (1, 2), ring=(1, 8)))
    s.sendall(node_list(5, LIST_QUORUM, (1, 2), quorate=1))
    s.settimeout(0.5)
    t_end = time.monotonic() + hold
    while time.monotonic() < t_end:
        try:
            m = read_msg(s)
        except socket.timeout:
            continue
        if m is None:
            log.append("node %d: closed by qnetd" % node)
            return
        if m[0] == VOTE_INFO:
            s.sendall(message(VOTE_INFO_REPLY, tlv(OPT_SEQ, m[1][OPT_SEQ])))
    s.close()


def metrics(tool, sock):
    try:
        out = subprocess.run([tool, "--metrics", "-p", sock], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {ln.split()[0]: ln.split()[1] for ln in out.splitlines()
            if ln.startswith("qnetd_event_hooks")}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                epilog="\n".join(__doc__.splitlines()[2:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--qnetd", required=True, help="qnetd binary")
    p.add_argument("--tool", help="qnetd-tool binary (default: next to qnetd)")
    p.add_argument("--rate", type=float, default=65, help="churn sessions per second (65)")
    p.add_argument("--seconds", type=float, default=10, help="churn duration (10)")
    p.add_argument("--churn-names", type=int, default=8,
                   help="cluster names the churn cycles through; 0: a new one per session (8)")
    p.add_argument("--hook-seconds", type=float, default=1.0, help="each hook's run time (1)")
    p.add_argument("--hold", type=float, default=4, help="the real nodes' session, s (4)")
    a = p.parse_args()
    tool = a.tool or os.path.join(os.path.dirname(os.path.abspath(a.qnetd)), "qnetd-tool")
    q = Qnetd(a.qnetd)
    hook, out = os.path.join(q.dir, "hook.sh"), os.path.join(q.dir, "events")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\necho "$1 $QNET_CLUSTER $QNET_NODE_ID" >> %s\nsleep %s\n'
                % (out, a.hook_seconds))
    os.chmod(hook, 0o755)
    q.settings = "event_hook=" + hook
    counts = {"sessions": 0, "errors": 0}
    log = []
    with q:
        stop = threading.Event()
        churner = threading.Thread(target=churn, args=(q.port, a.rate, a.seconds,
                                                       a.churn_names, stop, counts))
        churner.start()
        time.sleep(min(2.0, a.seconds / 4))
        nodes = [threading.Thread(target=real_node, args=(q.port, n, a.hold, log))
                 for n in (1, 2)]
        for t in nodes:
            t.start()
        for t in nodes:
            t.join(timeout=a.hold + 30)
        churner.join(timeout=a.seconds + 30)
        stop.set()
        m = metrics(tool, q.sock)
        # let queued hooks run: until nothing runs or waits (bounded)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = metrics(tool, q.sock)
            if m.get("qnetd_event_hooks_running", "0") == "0" and \
                    m.get("qnetd_event_hooks_queued", "0") == "0":
                break
            time.sleep(0.5)
        if not m:   # a qnetd without hook metrics: give running hooks their time
            time.sleep(a.hook_seconds + 1)
            m = metrics(tool, q.sock)
        log_text = q.log_text()
        ran = {}
        try:
            with open(out) as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
    for ln in lines:
        w = ln.split()
        if len(w) >= 2 and w[1] == "real":
            ran[w[0]] = ran.get(w[0], 0) + 1
    warnings = sum(1 for ln in log_text.splitlines() if "dropped" in ln)
    print("# churn: %d sessions (%d failed) in %.0f s, %s cluster names; hook runs %.1f s"
          % (counts["sessions"], counts["errors"], a.seconds,
             a.churn_names or "unique", a.hook_seconds))
    print("# hook runs in all: %d; real cluster's: %s" % (len(lines), ran or "none"))
    print("# 'dropped' lines in qnetd's log: %d" % warnings)
    print("# metrics: %s" % (" ".join("%s=%s" % kv for kv in sorted(m.items()))
                             or "no qnetd_event_hooks_* metrics"))
    for line in log:
        print("# " + line)
    missing = {k: v for k, v in WANT.items() if ran.get(k, 0) < v}
    if missing or log:
        print("FAIL: real cluster's events missing: %s" % missing)
        return 1
    print("OK: every event of the real cluster ran despite the churn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
