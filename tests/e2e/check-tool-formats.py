#!/usr/bin/env python3
"""Parse qnetd-tool's and qdevice-tool's machine-readable outputs and check them
against expectations given on the command line.

  check-tool-formats.py status-json CLIENTS CLUSTERS < json       (qnetd-tool -s -j)
  check-tool-formats.py list-json CLUSTER NODES ACKED < json      (qnetd-tool -l -j)
  check-tool-formats.py metrics CLUSTER NODES < prometheus text   (qnetd-tool --metrics)
  check-tool-formats.py qdevice-json CONDITION... < json          (qdevice-tool -s -j)
  check-tool-formats.py qdevice-metrics CONDITION... < text       (qdevice-tool --metrics)
A CONDITION is a python expression over d (the JSON object) or m (metric name -> value).
Exit 0 when everything parses and matches; otherwise print why and exit 1.
"""
import json
import re
import sys


def fail(msg):
    print("check-tool-formats: " + msg, file=sys.stderr)
    sys.exit(1)


def check_ring_id(ring_id):
    if not re.fullmatch(r"[0-9a-f]+\.[0-9a-f]+", ring_id):
        fail("bad ring id " + ring_id)


def check_conditions(conditions, name, value):
    """Each CONDITION, a python expression over NAME (bound to VALUE), holds."""
    for cond in conditions:
        if not eval(cond, {name: value}):
            fail("false: %s (%r)" % (cond, value))


def status_json(clients, clusters):
    d = json.load(sys.stdin)
    for key in ("address", "port", "tls", "client_certificate_required",
                "connected_clients", "connected_clusters", "max_clients",
                "max_send_size", "max_receive_size", "uptime_seconds",
                "certificate_days_left"):
        if key not in d:
            fail("status json lacks " + key)
    if d["connected_clients"] != int(clients) or d["connected_clusters"] != int(clusters):
        fail("status json counts %r" % d)
    if d["tls"] == "Supported" and not isinstance(d["certificate_days_left"], int):
        fail("certificate_days_left missing with TLS on")


def list_json(cluster, nodes, acked):
    d = json.load(sys.stdin)
    found = [c for c in d["clusters"] if c["name"] == cluster]
    if len(found) != 1:
        fail("cluster %s not listed once" % cluster)
    c = found[0]
    if len(c["nodes"]) != int(nodes):
        fail("cluster has %d nodes" % len(c["nodes"]))
    ids = [n["node_id"] for n in c["nodes"]]
    if ids != sorted(ids):
        fail("nodes not sorted by id")
    if sum(1 for n in c["nodes"] if n["last_ack_nack_vote"] == "ACK") != int(acked):
        fail("ACK count differs: %r" % [n["last_ack_nack_vote"] for n in c["nodes"]])
    for n in c["nodes"]:
        check_ring_id(n["ring_id"])
        if not n["tls_active"] or not n["client_certificate_verified"]:
            fail("node %d not TLS-verified" % n["node_id"])


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (?P<value>-?[0-9.e+]+|\+Inf|NaN)$')


def read_metrics():
    """Prometheus text on stdin: (TYPE of each metric, [(line, sample match)]), every
    sample parsed and of a metric with a TYPE (a histogram's by its base name)."""
    typed = {}
    samples = []
    for line in sys.stdin.read().splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            typed[name] = kind
            continue
        m = SAMPLE.match(line)
        if not m:
            fail("unparsable metrics line: " + line)
        base = re.sub(r"_(bucket|sum|count)$", "", m.group(1))
        if m.group(1) not in typed and base not in typed:
            fail("sample without TYPE: " + line)
        samples.append((line, m))
    return typed, samples


def metrics(cluster, nodes):
    _, parsed = read_metrics()
    samples = {m.group(1) + (m.group(2) or ""): float(m.group("value")) for _, m in parsed}
    need = ["qnetd_up", "qnetd_clients", "qnetd_clusters", "qnetd_acks_sent_total",
            "qnetd_nacks_sent_total", "qnetd_dead_peer_expiries_total",
            "qnetd_tls_handshake_failures_total", "qnetd_certificate_days_left",
            "qnetd_decision_latency_seconds_count"]
    for n in need:
        if n not in samples:
            fail("metric missing: " + n)
    if samples['qnetd_cluster_nodes{cluster="%s"}' % cluster] != int(nodes):
        fail("qnetd_cluster_nodes for %s wrong" % cluster)
    buckets = [(k, v) for k, v in samples.items()
               if k.startswith("qnetd_decision_latency_seconds_bucket")]
    values = [v for _, v in buckets]
    if values != sorted(values) or values[-1] != samples["qnetd_decision_latency_seconds_count"]:
        fail("histogram buckets not cumulative")
    if samples["qnetd_acks_sent_total"] < 1:
        fail("no ACK counted")


QDEVICE_FIELDS = {
    "model": str, "node_id": int, "timeout_ms": int, "sync_timeout_ms": int,
    "config_version": (int, type(None)), "config_node_list": list, "heuristics_mode": str,
    "ring_id": str, "membership_node_list": list, "quorate": bool, "quorum_node_list": list,
    "expected_votes": int, "last_poll": (int, type(None)), "last_poll_cast_vote": bool,
    "cluster_name": str, "qnetd_host": str, "qnetd_port": int, "force_ip_version": int,
    "connect_timeout_ms": int, "heartbeat_interval_ms": int, "vote_timer_interval_ms": int,
    "tls": str, "algorithm": str, "tie_breaker": dict, "kap_tie_breaker": str,
    "poll_timer_running": bool, "vote": str, "vote_held_ms": (int, type(None)),
    "state": str, "heuristics_enabled": bool, "heuristics": str, "regular_heuristics": str,
    "membership_heuristics": str, "connect_heuristics": str, "tls_active": bool,
    "client_certificate_sent": bool, "connected_since": (int, type(None)),
    "echo_reply_received": (int, type(None)), "certificate_days_left": (int, type(None)),
    "event_hooks_running": int, "event_hooks_dropped": int, "event_hooks_timed_out": int,
}


def qdevice_json(*conditions):
    """One line, one JSON object with every documented field of its type."""
    text = sys.stdin.read()
    lines = text.splitlines()
    if len(lines) != 1:
        fail("not one line: %r" % text)
    d = json.loads(lines[0])
    for k, t in QDEVICE_FIELDS.items():
        if k not in d:
            fail("missing field " + k)
        if not isinstance(d[k], t) or (t is int and isinstance(d[k], bool)):
            fail("field %s has type %s" % (k, type(d[k]).__name__))
    check_ring_id(d["ring_id"])
    if d["vote"] not in ("ACK", "NACK", "none"):
        fail("bad vote " + d["vote"])
    check_conditions(conditions, "d", d)


def qdevice_metrics(*conditions):
    """Plain samples (lowercase names, no labels, integer values), each of a metric with
    its own TYPE; counters end in _total."""
    typed, parsed = read_metrics()
    m = {}
    for line, g in parsed:
        if not re.fullmatch(r"[a-z_]+ -?[0-9]+", line) or g.group(1) not in typed:
            fail("bad sample: " + line)
        m[g.group(1)] = int(g.group("value"))
    for n, k in typed.items():
        if k == "counter" and not n.endswith("_total"):
            fail("counter without _total: " + n)
    check_conditions(conditions, "m", m)


def main():
    if len(sys.argv) < 2:
        fail("usage")
    {"status-json": status_json, "list-json": list_json, "metrics": metrics,
     "qdevice-json": qdevice_json,
     "qdevice-metrics": qdevice_metrics}[sys.argv[1]](*sys.argv[2:])


main()
