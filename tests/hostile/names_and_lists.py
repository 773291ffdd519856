#!/usr/bin/env python3
"""tests/hostile/names_and_lists.py: peer-chosen names and long lists against qnetd-tool.

Three checks against a running qnetd on --host/--port whose admin socket is --socket:

  names      clients of clusters named b"al\\xffpha" (not UTF-8), b"evil\\nCluster name:
             forged" (a newline), b"al\\\\xffpha" (the text of an escape) and "plain-ascii";
             while they are connected, `qnetd-tool -l`, `-l -j` and `--metrics` must be
             valid UTF-8, one name must stay one line, the JSON must parse and tell the four
             names apart, and "plain-ascii" must print as it is. With --log FILE, qnetd's
             log must not hold a forged line or a byte that is not UTF-8.
  big-list   --clients clients (default 400), --per-cluster of them per cluster (default 1),
             each sending a configuration and a membership list of --nodes nodes (default
             2727, the most a 32768-byte message holds); then `qnetd-tool -l -j` must give
             every client with its whole lists, and `qnetd-tool -l` must take less than
             --max-seconds (default 2.0; the time is printed either way).
  cert       TLS with the client certificate --cert (PEM, certificate and key) announcing
             --cluster; --expect accepted (INIT answered) or dropped (disconnected).

The qnetd must run with -s off for names and big-list (or -s on -c off; TLS is not used),
with -s on -c on for cert. Prints `# ...` diagnostics, then `OK: ...` and exits 0, or
`FAIL: ...` and exits 1. Every wait is bounded; nothing is sent anywhere but --host.

  names_and_lists.py names --host 127.0.0.1 --port P --socket S --tool build/qnetd/qnetd-tool
  names_and_lists.py big-list --host 127.0.0.1 --port P --socket S --tool ...
  names_and_lists.py cert --host 127.0.0.1 --port P --cert alpha.pem --cluster ALPHA \\
      --expect dropped
"""

import argparse
import json
import os
import re
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import qnetwire as w  # noqa: E402

LIST_INITIAL_CONFIG, LIST_MEMBERSHIP = 0, 2
VOTE_INFO = 14
HB_MS = 60000   # long enough that no echo is needed while a check runs

NAMES = {
    # what the cluster is called: (what the JSON value must be, what -l must show)
    b"al\xffpha": ("al\\xffpha", 'Cluster "al\\xffpha":'),
    b"evil\nCluster name: forged": ("evil\nCluster name: forged",
                                    'Cluster "evil\\x0aCluster name: forged":'),
    b"al\\xffpha": ("al\\x5cxffpha", 'Cluster "al\\x5cxffpha":'),
    b"plain-ascii": ("plain-ascii", 'Cluster "plain-ascii":'),
}


def node_list(seq, list_type, node_ids, ring_node):
    if list_type == LIST_MEMBERSHIP:
        return w.node_list(seq, list_type, node_ids, ring=(ring_node, 4))
    return w.node_list(seq, list_type, node_ids, config_version=1)


def expect_skipping_votes(c, mtype, seq):
    """The reply to seq; VOTE_INFO pushed before it (docs/protocol.md 7) is skipped."""
    for _ in range(8):
        r = c.read()
        if r.type == VOTE_INFO:
            continue
        if r.type != mtype or r.u(w.OPT_SEQ) != seq:
            raise AssertionError("want %s seq %d, got %s" % (w.name(mtype), seq, r))
        return r
    raise AssertionError("no %s seq %d among the replies" % (w.name(mtype), seq))


def session(a, cluster, node, nodes=(1, 2), quiet=False):
    """A client of `cluster` (bytes) as node `node` with both lists sent; the Conn."""
    c = w.Conn(a.host, a.port, timeout=20.0)
    c.send(w.preinit(1, cluster))
    r = c.read()
    if r.type != w.PREINIT_REPLY:
        raise AssertionError("PREINIT of %r: got %s" % (cluster, r))
    c.send(w.init(2, node, hb=HB_MS))
    r = c.read()
    if r.type != w.INIT_REPLY or r.u(w.OPT_REPLY_ERROR_CODE) != 0:
        raise AssertionError("INIT of %r node %d: got %s" % (cluster, node, r))
    c.send(node_list(3, LIST_INITIAL_CONFIG, nodes, node))
    expect_skipping_votes(c, w.NODE_LIST_REPLY, 3)
    c.send(node_list(4, LIST_MEMBERSHIP, nodes, node))
    expect_skipping_votes(c, w.NODE_LIST_REPLY, 4)
    if not quiet:
        print("# connected: cluster %r node %d, %d-node lists" % (cluster, node, len(nodes)))
    return c


def tool(a, *args, timeout=60.0):
    """qnetd-tool's (exit code, stdout bytes, seconds)."""
    t0 = time.monotonic()
    p = subprocess.run([a.tool, "-p", a.socket] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    took = time.monotonic() - t0
    if p.returncode != 0:
        raise AssertionError("qnetd-tool %s: exit %d: %s" % (
            " ".join(args), p.returncode, p.stderr.decode("utf-8", "replace").strip()))
    return p.stdout, took


def utf8(what, data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("%s is not valid UTF-8: %s" % (what, e))


# Prometheus text format: name{label="value",...} number; values escape \\ \" \n only.
METRIC_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="'
                         r'(?:[^"\\\n]|\\[\\"n])*",?)*\})? \S+$')


def unescape_label(v):
    return re.sub(r'\\([\\"n])', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def case_names(a):
    conns = [session(a, name, 1) for name in NAMES]
    try:
        text = utf8("qnetd-tool -l", tool(a, "-l")[0])
        print("# qnetd-tool -l:\n" + "".join("#   %s\n" % l for l in text.splitlines()))
        headers = [l for l in text.splitlines() if not l.startswith(" ") and
                   l not in ['Cluster "%s":' % n for n in a.ignore_cluster]]
        for name, (_, shown) in NAMES.items():
            if shown not in headers:
                raise AssertionError("-l: no line %r for %r" % (shown, name))
        if len(headers) != len(NAMES):
            raise AssertionError("-l: %d unindented lines for %d clusters (forged ones?)"
                                 % (len(headers), len(NAMES)))

        raw = tool(a, "-l", "-j")[0]
        doc = json.loads(utf8("qnetd-tool -l -j", raw))
        got = sorted(cl["name"] for cl in doc["clusters"] if cl["name"] not in a.ignore_cluster)
        want = sorted(v[0] for v in NAMES.values())
        print("# qnetd-tool -l -j names: %r" % got)
        if got != want:
            raise AssertionError("-l -j names %r, want %r" % (got, want))

        metrics = utf8("qnetd-tool --metrics", tool(a, "--metrics")[0])
        labels = []
        for line in metrics.splitlines():
            if line.startswith("#"):
                continue
            if not METRIC_LINE.match(line):
                raise AssertionError("--metrics: not a metric line: %r" % line)
            m = re.match(r'^qnetd_cluster_nodes\{cluster="((?:[^"\\]|\\.)*)"\}', line)
            if m and unescape_label(m.group(1)) not in a.ignore_cluster:
                labels.append(unescape_label(m.group(1)))
        want = sorted(v[1][len('Cluster "'):-2] for v in NAMES.values())
        print("# --metrics cluster labels: %r" % sorted(labels))
        if sorted(labels) != want:
            raise AssertionError("--metrics labels %r, want %r" % (sorted(labels), want))
    finally:
        for c in conns:
            c.close()
    if a.log:
        time.sleep(0.5)
        with open(a.log, "rb") as f:
            log = f.read()
        utf8("the log " + a.log, log)
        for line in log.splitlines():
            if line.startswith(b"Cluster name: forged"):
                raise AssertionError("the log has a forged line: %r" % line)
        print("# log %s: UTF-8, no forged line" % a.log)
    return "names shown escaped and distinct in -l, -l -j, --metrics%s" % (
        " and the log" if a.log else "")


def case_big_list(a):
    nodes = list(range(1, a.nodes + 1))
    conns = []
    t0 = time.monotonic()
    try:
        for i in range(a.clients):
            cluster = ("big-%d" % (i // a.per_cluster)).encode()
            conns.append(session(a, cluster, i % a.per_cluster + 1, nodes, quiet=True))
        print("# %d clients with %d-node lists connected in %.1f s" % (
            a.clients, a.nodes, time.monotonic() - t0))
        raw, took_j = tool(a, "-l", "-j")
        doc = json.loads(utf8("qnetd-tool -l -j", raw))
        doc["clusters"] = [cl for cl in doc["clusters"] if cl["name"] not in a.ignore_cluster]
        clients = [n for cl in doc["clusters"] for n in cl["nodes"]]
        print("# qnetd-tool -l -j: %d bytes in %.2f s, %d clients" % (len(raw), took_j,
                                                                     len(clients)))
        if len(clients) != a.clients:
            raise AssertionError("-l -j lists %d clients, want %d" % (len(clients), a.clients))
        for n in clients:
            if (len(n["config_node_list"]) != a.nodes or
                    len(n["membership_node_list"]) != a.nodes):
                raise AssertionError("-l -j: node %d has %d/%d nodes listed, want %d" % (
                    n["node_id"], len(n["config_node_list"]),
                    len(n["membership_node_list"]), a.nodes))
        raw, took = tool(a, "-l")
        print("# qnetd-tool -l: %d bytes in %.2f s" % (len(raw), took))
        if raw.count(b"Cluster \"big-") != len(doc["clusters"]):
            raise AssertionError("-l lists %d clusters, -l -j %d" % (
                raw.count(b"Cluster \"big-"), len(doc["clusters"])))
        if took > a.max_seconds:
            raise AssertionError("qnetd-tool -l took %.2f s (limit %.1f s)" % (
                took, a.max_seconds))
    finally:
        for c in conns:
            c.close()
    return "%d clients x %d nodes: -l -j complete (%.2f s), -l in %.2f s" % (
        a.clients, a.nodes, took_j, took)


def case_cert(a):
    if not a.cert:
        raise AssertionError("cert needs --cert")
    c = w.Conn(a.host, a.port)
    c.send(w.preinit(1, a.cluster.encode()))
    c.expect(w.PREINIT_REPLY, seq=1)
    c.starttls(2, a.cert)
    try:
        c.send(w.init(3, a.node, hb=HB_MS))
        r = c.read()
        accepted = r.type == w.INIT_REPLY
        print("# got %s" % r)
    except (w.Closed, ssl.SSLError, OSError) as e:
        print("# dropped: %r" % e)
        accepted = False
    finally:
        c.close()
    got = "accepted" if accepted else "dropped"
    if got != a.expect:
        raise AssertionError("certificate %s announcing %r: %s, want %s" % (
            a.cert, a.cluster, got, a.expect))
    return "certificate %s announcing %r: %s" % (os.path.basename(a.cert), a.cluster, got)


CASES = {"names": case_names, "big-list": case_big_list, "cert": case_cert}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                epilog="\n".join(__doc__.splitlines()[2:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("case", choices=sorted(CASES))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5403)
    p.add_argument("--socket", help="qnetd's admin socket (names, big-list)")
    p.add_argument("--tool", default="qnetd-tool", help="qnetd-tool to run")
    p.add_argument("--log", help="names: qnetd's log file to check")
    p.add_argument("--clients", type=int, default=400)
    p.add_argument("--per-cluster", type=int, default=1)
    p.add_argument("--nodes", type=int, default=2727)
    p.add_argument("--max-seconds", type=float, default=2.0)
    p.add_argument("--cert", help="cert: PEM file with client certificate and key")
    p.add_argument("--cluster", default="alpha", help="cert: cluster name to announce")
    p.add_argument("--node", type=int, default=1)
    p.add_argument("--ignore-cluster", action="append", default=[],
                   help="names, big-list: a cluster of someone else on the same qnetd")
    p.add_argument("--expect", choices=["accepted", "dropped"], default="dropped")
    a = p.parse_args()
    if a.case != "cert" and not a.socket:
        p.error("%s needs --socket" % a.case)
    return w.run_case(CASES, a, (subprocess.TimeoutExpired, ValueError, KeyError))


if __name__ == "__main__":
    sys.exit(main())
