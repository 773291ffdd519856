#!/bin/bash
# tests/e2e/test-qdevice-hostlist.sh: quorum.device.net.host as a list (our extension,
# docs/protocol.md 4.5), against Debian's qnetd without TLS (no certificates: a short
# suite). The first host is n2's own address, where nothing listens on the qnetd port (a
# standby arbiter host whose qnetd is stopped): both qdevices pass over it, connect to the
# arbiter, and qdevice-tool names the address in use. qnetd killed and started again:
# the vote comes back through the same walk, again from the first host.

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_OURS=qdevice
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# uses_arbiter HOST: -s -v names the arbiter as the second of two addresses.
uses_arbiter() {
	lab_qdevice_tool "$1" -s -v |
	    grep -Fqx $'QNetd address:\t\t'"$LAB_ARB_ADDR:$LAB_QNETD_PORT (2 of 2)"
}

# json_address HOST: -s -j carries the same facts.
json_address() {
	lab_qdevice_tool "$1" -s -j | python3 -c '
import json, sys
d = json.load(sys.stdin)
want = {"qnetd_address": sys.argv[1], "qnetd_address_host": sys.argv[2],
        "qnetd_address_index": 2, "qnetd_address_count": 2}
bad = {k: d.get(k) for k in want if d.get(k) != want[k]}
sys.exit("unexpected: %r" % bad if bad else 0)' "$LAB_ARB_ADDR:$LAB_QNETD_PORT" "$LAB_ARB_ADDR"
}

lab_create 2
lab_start_qnetd -s off
# connect_timeout 2 s: qnetd back is found within 2 s (the pacing of the attempts).
lab_write_config tls=off host="${LAB_LINK_ADDR[n2/0]}, $LAB_ARB_ADDR" net.connect_timeout=2000
lab_start_cluster

LAB_HOLD=2 check "host list, first refused: both nodes quorate with 3 votes" \
    lab_settled "${LAB_BOTH_FULL[@]}"
check "qdevice-tool -s -v on n1 and n2: QNetd address is the arbiter, 2 of 2" \
    eval 'uses_arbiter n1 && uses_arbiter n2'
check "qdevice-tool -s -j on n1: qnetd_address fields" json_address n1
check "qdevice-tool -s (not -v) stays upstream's: no QNetd address line" \
    eval '! lab_qdevice_tool n1 -s | grep -q "^QNetd address:"'

lab_kill_qnetd
LAB_HOLD=1 check "qnetd killed: the device vote is gone" lab_settled "${LAB_BOTH_BARE[@]}"
lab_start_qnetd -s off
LAB_HOLD=2 check "qnetd back: both nodes quorate with 3 votes again" \
    lab_settled "${LAB_BOTH_FULL[@]}"
check "after the reconnect: still the arbiter, 2 of 2" eval 'uses_arbiter n1 && uses_arbiter n2'
