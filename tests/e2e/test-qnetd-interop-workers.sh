#!/bin/bash
# tests/e2e/test-qnetd-interop-workers.sh: test-qnetd-interop.sh with our qnetd split
# into a front and 2 worker processes (-S worker_processes=2): Debian's qdevice over
# TLS through the hand-over, the algorithms, event hooks, and qnetd-tool text equal
# to Debian's corosync-qnetd-tool, all answered by the front from the workers.
QNETD_WORKERS=2 exec "$(dirname "$0")/test-qnetd-interop.sh" "$@"
