#!/usr/bin/env bash
# The demo behind `make demo`: medkd's main job on data it makes itself, in about 15 minutes on
# two cores.
#   1. plan the study: the evidence study's `demo` budget (configs/experiments/kd_evidence.yaml):
#      a U-Net teacher, a 9x smaller U-Net student alone and distilled with the study's primary
#      recipe (pixel KL with a warm-up), 3 seeds per student, and the estimate of its cost
#   2. run it: synthesise the dataset, train, check the teacher gate, distil, predict and score
#      every model on 50 test cases, and write the tables, results.csv and report.html
#   3. use the distilled student as a user would: `medkd predict` on the test images and
#      `medkd evaluate` against their labels
#   4. the verdict: the primary comparison (the difference, its 95% CI and p-values)
# Usage: demo.sh [MEDKD [OUT [STUDY [BUDGET]]]]; the longer PET/CT demo over several datasets is
# scripts/demo_petct.sh (`make demo-full`).
set -euo pipefail
MEDKD=${1:-build/bin/medkd}
OUT=${2:-demo-output}
STUDY=${3:-configs/experiments/kd_evidence.yaml}
BUDGET=${4-demo}  # "" runs the study's own schedule
budget=()
[ -z "$BUDGET" ] || budget=(--budget "$BUDGET")

step() { printf '\n== %s\n' "$*"; }
start=$SECONDS
[ -f "$STUDY" ] || { echo "demo: no study $STUDY" >&2; exit 2; }
# The study's primary comparison: the run the demo predicts with and reports on.
primary=$(sed -n 's/^primary: *//p' "$STUDY" | sed 's/ *#.*//')
[ -n "$primary" ] || { echo "demo: $STUDY declares no primary comparison" >&2; exit 2; }
slug=$(printf '%s' "$primary" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]/_/g')

step "medkd --version"
"$MEDKD" --version

step "the study and its cost on this machine ($STUDY, budget ${BUDGET:-full})"
"$MEDKD" experiment --config "$STUDY" "${budget[@]}" --out "$OUT" --dry-run

step "run it: dataset, teacher, student alone, distilled student, predictions, tables"
"$MEDKD" experiment --config "$STUDY" "${budget[@]}" --out "$OUT" > /dev/null  # = tables.md

# The study's first model of the primary run (fold-F-seed-S, or fold-F without seeds).
model=$(find "$OUT/runs/$slug" -mindepth 1 -maxdepth 1 -type d -name 'fold-*' | sort | head -n 1)
data=$(find "$OUT/data" -mindepth 1 -maxdepth 1 -type d | head -n 1)

step "check the dataset it made"
"$MEDKD" dataset check "$data"

step "segment the test images with the distilled student ($model)"
"$MEDKD" predict --model "$model" --input "$data/imagesTs" --output "$OUT/demo_predictions"

step "evaluate them against the test labels"
"$MEDKD" evaluate --pred "$OUT/demo_predictions" --ref "$data/labelsTs" \
  --dataset-json "$data/dataset.json" --out "$OUT/demo_predictions/summary.json"

step "the verdict: does the distilled student beat the same student trained alone?"
# The primary comparison and the test-set table of tables.md, as written.
awk '/^## /{show = ($0 == "## Primary comparison" || $0 ~ /^## Test set: /)} show' "$OUT/tables.md"
row=$(grep -m 1 -F "| $primary | " "$OUT/tables.md" || true)
if [ -n "$row" ]; then
  IFS='|' read -r -a cells <<< "$row"
  diff=$(echo "${cells[6]}" | xargs) ci=$(echo "${cells[7]}" | xargs) p=$(echo "${cells[8]}" | xargs)
  low=$(echo "$ci" | sed 's/^\[\([^,]*\),.*/\1/') high=$(echo "$ci" | sed 's/.*, \(.*\)\]$/\1/')
  if awk -v l="$low" 'BEGIN { exit !(l + 0 > 0) }'; then
    verdict="yes: the distilled student's Dice is higher by $diff on average, 95% CI $ci (p $p)."
  elif awk -v h="$high" 'BEGIN { exit !(h + 0 < 0) }'; then
    verdict="no: the distilled student's Dice is lower by ${diff#-} on average, 95% CI $ci (p $p)."
  else
    verdict="no clear difference: $diff on average, and the 95% CI $ci includes 0 (p $p)."
  fi
  printf '\nPlainly, on this demo: %s\n' "$verdict"
fi
printf '\nDemo finished in %d min: tables in %s/tables.md, report in %s/report.html, per-case\n' \
  $(((SECONDS - start + 30) / 60)) "$OUT" "$OUT"
printf 'scores in %s/results.csv, models in %s/runs/.\n' "$OUT" "$OUT"
