#!/bin/bash
# tests/e2e/test-plan-tool.sh: `qdevice-tool --plan` on a live 2-node ffsplit cluster
# with our qnetd and qdevice (qdevice-tool(8), PLAN):
#  - -j prints one JSON object (schema 1) that python3 parses, with the cluster as
#    configured, the arithmetic of 2 nodes + 1 device vote, every required row field,
#    the baseline, node, arbiter, arbiter-path, double and partition rows, qdevice's
#    state, and an exit status that is the worst readiness check's;
#  - the text has the three sections and marks exactly the rows the JSON says stand out;
#  - with qdevice unreachable the plan is still computed (not exit 3), qdevice unknown;
#  - with corosync stopped: exit 3 and a message saying the cluster could not be read.
# Predictions are checked against drills by the drill suites, not here.
#
# Run as root: tests/e2e/test-plan-tool.sh (about 25 seconds).
# The checks are single-quoted strings eval'ed later, which read PLAN_ERR and JSON_RC:
# shellcheck disable=SC2016,SC2034

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS="qdevice qnetd"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

command -v python3 >/dev/null || { echo "# python3 not found"; echo "0 passed, 1 failed"; exit 1; }

PLAN_RC=0 PLAN_OUT="" PLAN_ERR=""

# plan HOST ARGS...: qdevice-tool --plan ARGS on HOST; output in PLAN_OUT, stderr in
# PLAN_ERR, exit status in PLAN_RC. Always succeeds (the checks judge).
plan() {
	local h=$1 errf=$LAB_DIR/plan.err
	shift
	PLAN_OUT=$(lab_exec "$h" timeout 30 "$QDEVICE_TOOL" --plan "$@" 2>"$errf")
	PLAN_RC=$?
	PLAN_ERR=$(cat "$errf")
	return 0
}

# json_holds PYTHON_CONDITIONS...: PLAN_OUT is one JSON object with schema 1's required
# fields, and each condition (a python expression over d and rc) holds.
json_holds() {
	python3 - "$PLAN_RC" "$@" 3<<<"$PLAN_OUT" <<'EOF'
import json, os, sys
text = os.fdopen(3).read()
if len(text.splitlines()) != 1:
    sys.exit("not one line: %r" % text[:200])
d = json.loads(text)
rc = int(sys.argv[1])
for k in ("schema", "cluster", "arithmetic", "matrix", "checks", "qdevice", "exit_status"):
    if k not in d:
        sys.exit("missing " + k)
kinds = {"none", "node", "link", "arbiter", "arbiter-path", "double", "partition"}
verdicts = {"survives", "degraded", "nobody quorate"}
for row in d["matrix"]["rows"]:
    for k in ("scenario", "kind", "quorate", "verdict", "race", "quorate_alt", "failure"):
        if k not in row:
            sys.exit("row without %s: %r" % (k, row))
    if row["kind"] not in kinds or row["verdict"] not in verdicts:
        sys.exit("bad row %r" % row)
    if row["quorate"] != sorted(row["quorate"]) or not row["scenario"]:
        sys.exit("bad row %r" % row)
for cond in sys.argv[2:]:
    if not eval(cond, {"d": d, "rc": rc, "rows": d["matrix"]["rows"]}):
        sys.exit("false: %s\n%s" % (cond, json.dumps({k: v for k, v in d.items() if k != "matrix"})))
EOF
}

# text_marks_match: the text's "!!" rows are the rows the JSON (in JSON_OUT) says stand out.
text_marks_match() {
	local marked wanted
	marked=$(grep -c '^!! ' <<<"$PLAN_OUT")
	wanted=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["matrix"]["stand_out_count"])' \
	    <<<"$JSON_OUT") || return 1
	if [[ $marked != "$wanted" ]] || ! grep -q "marked !!" <<<"$PLAN_OUT"; then
		echo "# $marked rows marked, the JSON says $wanted" >&2
		return 1
	fi
}

lab_create 2
lab_start_qnetd -s off
lab_write_config algorithm=ffsplit tie_breaker=lowest tls=off
lab_start_cluster
LAB_HOLD=2 check "start: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"

# --- JSON ---------------------------------------------------------------------------------
plan n1 -j -p "$LAB_QDEVICE_SOCK"
JSON_OUT=$PLAN_OUT JSON_RC=$PLAN_RC
check "json: parses, schema 1, every row has the required fields" json_holds 'd["schema"] == 1'
check "json: follows schema 1 as tests/lib/planjson.py reads it" eval \
    'python3 "$LAB_TOP/tests/lib/planjson.py" validate <<<"$JSON_OUT"'
check "json: the cluster as configured" json_holds \
    'd["cluster"]["name"] == "e2e" and d["cluster"]["local_node_id"] == 1' \
    '[(n["id"], n["name"], n["votes"]) for n in d["cluster"]["nodes"]] == [(1, "n1", 1), (2, "n2", 1)]' \
    'd["cluster"]["nodes"][1]["addrs"] == [{"link": 0, "addr": "198.18.0.2"}]' \
    'd["cluster"]["transport"] == "knet" and d["cluster"]["token_ms"] > 0' \
    'd["cluster"]["device"]["algorithm"] == "ffsplit" and d["cluster"]["device"]["host"] == "198.18.0.100"' \
    'd["cluster"]["device"]["port"] == 5403 and d["cluster"]["device"]["tls"] == "off"' \
    'd["cluster"]["device"]["tie_breaker"] == {"mode": "lowest", "node_id": 0}' \
    'any(k["node_id"] == 2 and k["link"] == 0 and k["connected"] for k in d["cluster"]["knet"])'
check "json: arithmetic of 2 nodes and 1 device vote" json_holds \
    'd["arithmetic"] == {"node_votes": 2, "device_votes": 1, "expected_votes": 3, "quorum": 2,
        "node_failures_with_arbiter": 1, "node_failures_without_arbiter": 0}'
check "json: the baseline, node, arbiter, arbiter-path, double and partition rows" json_holds \
    '{"none", "node", "arbiter", "arbiter-path", "double", "partition"} <= {r["kind"] for r in rows}' \
    '[r["quorate"] for r in rows if r["kind"] == "none"] == [[1, 2]]' \
    'all(r["verdict"] == "survives" for r in rows if r["kind"] == "none")' \
    'sorted(r["failure"]["nodes_down"] for r in rows if r["kind"] == "node") == [[1], [2]]' \
    'any(sorted([r["failure"]["side_a"], r["failure"]["side_b"]]) == [[1], [2]] for r in rows if r["kind"] == "partition")' \
    'd["matrix"]["complete"] is True'
check "json: qdevice is connected and votes" json_holds \
    'd["qdevice"] == {"known": True, "state": "Connected", "connected": True, "vote": "ACK", "error": None}'
check "json: exit status is the worst readiness check (and not 3)" json_holds \
    'isinstance(d["checks"], list) and len(d["checks"]) > 0' \
    'all(c["level"] in ("OK", "WARN", "FAIL") and c["id"] and c["text"] for c in d["checks"])' \
    'rc == d["exit_status"] == max([{"OK": 0, "WARN": 1, "FAIL": 2}[c["level"]] for c in d["checks"]])'

# --- text ---------------------------------------------------------------------------------
plan n1 -p "$LAB_QDEVICE_SOCK"
check "text: the three sections and the arithmetic" eval \
    '[[ $PLAN_OUT == *$'"'"'\nQuorum arithmetic\n'"'"'* && $PLAN_OUT == *$'"'"'\nSurvivability\n'"'"'* &&
       $PLAN_OUT == *$'"'"'\nReadiness\n'"'"'* && $PLAN_OUT == *$'"'"'Expected votes:\t\t3\n'"'"'* &&
       $PLAN_OUT == *"1 with the arbiter reachable, 0 with it gone"* ]]'
check "text: marks exactly the rows the JSON says stand out" text_marks_match
check "text: same exit status as the JSON" eval '(( PLAN_RC == JSON_RC ))'

# --- qdevice unreachable: still a plan -----------------------------------------------------
plan n2 -j -p /run/corosync-qdevice/none.sock
check "no qdevice: still a plan (not exit 3), qdevice unknown with the reason" json_holds \
    'rc in (0, 1, 2) and d["qdevice"]["known"] is False and d["qdevice"]["state"] is None' \
    '"none.sock" in d["qdevice"]["error"] and d["arithmetic"]["expected_votes"] == 3' \
    'd["cluster"]["local_node_id"] == 2'
plan n2 -p /run/corosync-qdevice/none.sock
check "no qdevice: the text says qdevice's state is unknown" eval \
    '(( PLAN_RC != 3 )) && [[ $PLAN_OUT == *$'"'"'qdevice:\t\tunknown (cannot connect'"'"'* ]]'

# --- corosync stopped: exit 3 ---------------------------------------------------------------
lab_stop qdevice n1
lab_stop corosync n1
plan n1 -j -p "$LAB_QDEVICE_SOCK"
check "no corosync: exit 3, nothing on stdout, the message says why" eval \
    '(( PLAN_RC == 3 )) && [[ -z $PLAN_OUT && $PLAN_ERR == *"cannot read the cluster"* &&
       $PLAN_ERR == *"is corosync running?"* ]]'
plan n1 -p "$LAB_QDEVICE_SOCK"
check "no corosync: the text form exits 3 too" eval '(( PLAN_RC == 3 ))'
