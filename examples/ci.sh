#!/usr/bin/env bash
# An example CI job: gate a model's predictions, then compare them with the last released model's.
#   examples/ci.sh BASELINE.csv CANDIDATE.csv
# Exit status: 0 all gates pass, 1 a gate tripped or the candidate is worse, 2 usage, 3 bad data.
set -euo pipefail
root=${LOSSCLI_ROOT:-.}
baseline=${1:-$root/sample_data/binary.csv}
candidate=${2:-$root/sample_data/binary.csv}

# 1. Absolute gates on the candidate: fail the job if a loss is too high, overall or on a slice.
losscli compute "$candidate" \
  --loss bce_logits --loss focal:gamma=2 \
  --group-by size \
  --fail-if 'bce_logits>0.5' --fail-if 'focal:gamma=2[size=large]>0.2' \
  --format junit > losscli-gates.xml

# 2. Relative gate: fail if the candidate is worse than the baseline beyond noise.
losscli diff "$baseline" "$candidate" \
  --loss bce_logits --loss focal:gamma=2 --on id \
  --bootstrap 1000 --seed 0 --fail-if-worse 0.005 \
  --format markdown --summary
