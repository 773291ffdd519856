#!/bin/bash
# tests/e2e/test-debian-baseline.sh: validate the harness with the stock Debian binaries
# (or whatever QNETD_BIN / QDEVICE_BIN / ... select): 2 nodes + qnetd, TLS with client
# certificates, ffsplit. tie_breaker lowest: n1 wins a n1|n2 split, heal restores 3 votes;
# restarted with tie_breaker highest: n2 wins.

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# --- tie_breaker: lowest -------------------------------------------------------------
lab_start_pair algorithm=ffsplit tie_breaker=lowest tls=on

LAB_HOLD=2 check "lowest: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"
check "qdevice on n1 reports Connected" \
    eval 'lab_qdevice_tool n1 -s | grep -Eq "^State:[[:space:]]+Connected$"'
check "qnetd lists cluster $LAB_CLUSTER with 2 TLS-verified clients" \
    eval 'lab_qnetd_tool -l -v | grep -c "TLS active:.*Yes (client certificate verified)" | grep -qx 2'

lab_partition n1 n2
check "lowest, n1|n2: n1 quorate (2 votes), n2 not quorate" lab_settled "${LAB_SPLIT_N1[@]}"

lab_heal
check "lowest, healed: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"

# --- tie_breaker: highest ------------------------------------------------------------
lab_restart_cluster algorithm=ffsplit tie_breaker=highest tls=on

LAB_HOLD=2 check "highest: both nodes quorate with 3 votes" lab_settled "${LAB_BOTH_FULL[@]}"

lab_partition n1 n2
check "highest, n1|n2: n2 quorate (2 votes), n1 not quorate" lab_settled "${LAB_SPLIT_N2[@]}"
