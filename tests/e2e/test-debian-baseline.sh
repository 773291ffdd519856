#!/bin/bash
# tests/e2e/test-debian-baseline.sh: validate the harness with the stock Debian binaries
# (or whatever QNETD_BIN / QDEVICE_BIN / ... select): 2 nodes + qnetd, TLS with client
# certificates, ffsplit. tie_breaker lowest: n1 wins a n1|n2 split, heal restores 3 votes;
# restarted with tie_breaker highest: n2 wins (and heal again restores 3 votes).

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# --- tie_breaker: lowest -------------------------------------------------------------
lab_start_pair algorithm=ffsplit tie_breaker=lowest tls=on
lab_check_split lowest n1
check "qdevice on n1 reports Connected" \
    eval 'lab_qdevice_tool n1 -s | grep -Eq "^State:[[:space:]]+Connected$"'
check "qnetd lists cluster $LAB_CLUSTER with 2 TLS-verified clients" \
    eval 'lab_qnetd_tool -l -v | grep -c "TLS active:.*Yes (client certificate verified)" | grep -qx 2'

# --- tie_breaker: highest ------------------------------------------------------------
lab_restart_cluster algorithm=ffsplit tie_breaker=highest tls=on
lab_check_split highest n2
