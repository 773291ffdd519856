#!/usr/bin/env python3
"""tests/lib/planjson.py: read the failure planner's JSON (`qdevice-tool --plan -j`,
schema 1, documented in qdevice-tool(8)) for the tests: check it against the schema, find
the matrix row of one failure, list the readiness checks. Standard library only.

As a module:
    doc = planjson.load(text)            # dict; ValueError if it is not JSON
    planjson.problems(doc)               # [] when it follows schema 1
    planjson.failure(row)                # what fails, e.g. {"kind": "node", "nodes": [2]}
    planjson.find(doc, "partition", "1,2|3,4")   # the row, or None
As a command (shell suites), the JSON on stdin:
    planjson.py validate                 # exit 1 with one line per problem
    planjson.py summary                  # all of it for a shell to grep, one parse:
                                         # "problem TEXT", "row KEY QUORATE RACE ALT
                                         # VERDICT SCENARIO", "check ID LEVEL TEXT"
    planjson.py rows                     # one line per row: KEY QUORATE RACE ALT VERDICT SCENARIO
    planjson.py find KIND [WHAT]         # the row: QUORATE RACE ALT VERDICT SCENARIO; exit 1 if none
    planjson.py checks                   # one line per check: ID LEVEL TEXT
    planjson.py check ID LEVEL...        # exit 0 if a check ID (or ID.* when ID ends in
                                         # '.') has one of the LEVELs; prints the lines seen
KIND is node, link, arbiter, arbiter-path, double or partition; WHAT a node id (node,
arbiter-path), a link id (link) or "1,2|3,4" (partition: the sides, either order). Sets of
node ids print as "1,2" ("-" when empty), a verdict with "_" for spaces. A row's KEY is
node:ID, link:ID, arbiter, arbiter-path:ID, partition:A|B (the side with the lowest id
first, ids ascending) or the kind.
"""
import json
import re
import sys

KINDS = ("node", "link", "arbiter", "arbiter-path", "double", "partition")
LEVELS = ("OK", "WARN", "FAIL")


def load(text):
    return json.loads(text)


def _is_ids(v):
    return isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool)
                                       for x in v)


def problems(doc):
    """Every way doc departs from schema 1 (an empty list when it follows it)."""
    out = []
    if not isinstance(doc, dict):
        return ["the document is not an object"]
    if doc.get("schema") != 1:
        out.append("schema is %r, not 1" % (doc.get("schema"),))
    if not isinstance(doc.get("arithmetic"), dict):
        out.append("no arithmetic object")
    m = doc.get("matrix")
    if not isinstance(m, dict):
        out.append("no matrix object")
        m = {}
    if not isinstance(m.get("complete"), bool):
        out.append("matrix.complete is not a boolean")
    rows = m.get("rows")
    if not isinstance(rows, list):
        out.append("matrix.rows is not a list")
        rows = []
    for i, r in enumerate(rows):
        where = "row %d" % i
        if not isinstance(r, dict):
            out.append(where + " is not an object")
            continue
        for k in ("scenario", "kind", "verdict"):
            if not isinstance(r.get(k), str) or not r.get(k):
                out.append("%s: %s missing or not a string" % (where, k))
        if r.get("kind") not in KINDS + ("none",):
            out.append("%s: unknown kind %r" % (where, r.get("kind")))
        for k in ("quorate", "quorate_alt"):
            if k == "quorate_alt" and k not in r:
                continue
            v = r.get(k)
            if not _is_ids(v):
                out.append("%s: %s is not a list of node ids" % (where, k))
            elif v != sorted(v):
                out.append("%s: %s is not sorted: %r" % (where, k, v))
        if "race" in r and not isinstance(r["race"], bool):
            out.append("%s: race is not a boolean" % where)
    checks = doc.get("checks")
    if not isinstance(checks, list):
        out.append("checks is not a list")
        checks = []
    for i, c in enumerate(checks):
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or \
                c.get("level") not in LEVELS or not isinstance(c.get("text"), str):
            out.append("check %d: needs id, level (OK/WARN/FAIL) and text: %r" % (i, c))
    return out


def _ints(text):
    return [int(x) for x in re.findall(r"\d+", text)]


def failure(row):
    """What fails in a row, from its structured fields when it has them, else from the
    scenario's words: {"kind", "nodes": [ids down / cut from the arbiter], "links": [ids],
    "sides": [[ids], [ids]]}."""
    kind = row.get("kind")
    f = {"kind": kind, "nodes": [], "links": [], "sides": []}
    fail = row.get("failure") if isinstance(row.get("failure"), dict) else {}
    words = re.sub(r"\([^)]*\)", " ", row.get("scenario", ""))	# drop "(n2)" name asides
    if kind in ("node", "arbiter-path"):
        got = fail.get("nodes_down") or fail.get("arbiter_path_down") or fail.get("nodes")
        if not _is_ids(got):
            mt = re.search(r"node\w*\s+([\d ,]+)", words)
            got = _ints(mt.group(1)) if mt else _ints(words)
        f["nodes"] = sorted(got)
    elif kind == "link":
        got = fail.get("links_down") or fail.get("links")
        if not _is_ids(got):
            mt = re.search(r"link\w*\s+([\d ,]+)", words)
            got = _ints(mt.group(1)) if mt else _ints(words)
        f["links"] = sorted(got)
    elif kind == "partition":
        a, b = fail.get("side_a"), fail.get("side_b")
        if not (_is_ids(a) and _is_ids(b)):
            sides = words.split("|")
            a, b = (_ints(sides[0]), _ints(sides[1])) if len(sides) == 2 else ([], [])
        f["sides"] = sorted([sorted(a), sorted(b)])
    return f


def _ids_text(ids):
    return ",".join(str(x) for x in ids) if ids else "-"


def key(row):
    """A row's failure as one word: node:2, link:0, arbiter, partition:1,2|3,4, ..."""
    f = failure(row)
    if f["kind"] in ("node", "arbiter-path"):
        return "%s:%s" % (f["kind"], _ids_text(f["nodes"]))
    if f["kind"] == "link":
        return "link:%s" % _ids_text(f["links"])
    if f["kind"] == "partition":
        return "partition:%s" % "|".join(_ids_text(s) for s in f["sides"])
    return f["kind"] or "?"


def _want_key(kind, what):
    if what is None:
        return kind
    if kind == "partition":
        sides = sorted(sorted(_ints(s)) for s in what.split("|"))
        return "partition:%s" % "|".join(_ids_text(s) for s in sides)
    return "%s:%s" % (kind, _ids_text(sorted(_ints(what))))


def find(doc, kind, what=None):
    want = _want_key(kind, what)
    for r in doc.get("matrix", {}).get("rows", []):
        if r.get("kind") == kind and key(r) == want:
            return r
    return None


def _row_line(r):
    return "%s %s %s %s %s" % (_ids_text(r.get("quorate", [])),
                               "1" if r.get("race") else "0",
                               _ids_text(r.get("quorate_alt", [])) if r.get("race") else "-",
                               r.get("verdict", "?").replace(" ", "_"), r.get("scenario", ""))


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    try:
        doc = load(sys.stdin.read())
    except ValueError as e:
        print("not JSON: %s" % e)
        return 1
    cmd = argv[1]
    if cmd == "validate":
        p = problems(doc)
        for line in p:
            print(line)
        return 1 if p else 0
    if cmd == "summary":
        for line in problems(doc):
            print("problem", line)
        for r in doc.get("matrix", {}).get("rows", []) if isinstance(doc, dict) else []:
            if isinstance(r, dict):
                print("row", key(r), _row_line(r))
        for c in doc.get("checks", []) if isinstance(doc, dict) else []:
            if isinstance(c, dict):
                print("check", c.get("id"), c.get("level"), c.get("text"))
        return 0
    if cmd == "rows":
        for r in doc.get("matrix", {}).get("rows", []):
            print(key(r), _row_line(r))
        return 0
    if cmd == "find" and len(argv) in (3, 4):
        r = find(doc, argv[2], argv[3] if len(argv) == 4 else None)
        if r is None:
            return 1
        print(_row_line(r))
        return 0
    if cmd == "checks":
        for c in doc.get("checks", []):
            print(c.get("id"), c.get("level"), c.get("text"))
        return 0
    if cmd == "check" and len(argv) >= 4:
        want, levels, hit = argv[2], set(argv[3:]), False
        for c in doc.get("checks", []):
            cid = c.get("id", "")
            if cid == want or (want.endswith(".") and cid.startswith(want)):
                print(cid, c.get("level"), c.get("text"))
                hit = hit or c.get("level") in levels
        return 0 if hit else 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
