#!/bin/bash
# tests/e2e/test-drill-random.sh: the randomized drill mode in the suite, kept short:
# three random fault schedules on 3 nodes (drill-random.sh checks the safety invariant and
# the recovery of each). The seed is new every run and printed first; replay a failure with
# `scripts/drill random --seed N --count 3 --nodes 3`. DRILL_RANDOM_SEED fixes it here.
HERE=$(cd "$(dirname "$0")" && pwd)
seed=${DRILL_RANDOM_SEED:-$(( $(date +%s%N) / 1000 % 100000 ))}
echo "# drill-random seed $seed"
exec "$HERE/drill-random.sh" --seed "$seed" --count "${DRILL_RANDOM_COUNT:-3}" --nodes 3 \
    --max-seconds "${DRILL_RANDOM_SECONDS:-300}"
