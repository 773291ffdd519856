#!/usr/bin/env python3
"""Parse qnetd-tool's machine-readable outputs and check them against
expectations given on the command line.

  check-tool-formats.py status-json CLIENTS CLUSTERS < json
  check-tool-formats.py list-json CLUSTER NODES ACKED < json
  check-tool-formats.py metrics CLUSTER NODES < prometheus text
Exit 0 when everything parses and matches; otherwise print why and exit 1.
"""
import json
import re
import sys


def fail(msg):
    print("check-tool-formats: " + msg, file=sys.stderr)
    sys.exit(1)


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
        if not re.fullmatch(r"[0-9a-f]+\.[0-9a-f]+", n["ring_id"]):
            fail("bad ring id " + n["ring_id"])
        if not n["tls_active"] or not n["client_certificate_verified"]:
            fail("node %d not TLS-verified" % n["node_id"])


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (?P<value>-?[0-9.e+]+|\+Inf|NaN)$')


def metrics(cluster, nodes):
    typed = {}
    samples = {}
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
        samples[m.group(1) + (m.group(2) or "")] = float(m.group("value"))
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


def main():
    if len(sys.argv) < 2:
        fail("usage")
    {"status-json": status_json, "list-json": list_json,
     "metrics": metrics}[sys.argv[1]](*sys.argv[2:])


main()
