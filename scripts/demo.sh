#!/usr/bin/env bash
# The demo behind `make demo`: everything runs on data medkd makes itself.
#   1. synthesise a small PET/CT dataset (HECKTOR-like: CT + PET, tumour and lymph-node labels)
#   2. validate it with `medkd dataset check`
#   3. draw a perturbed copy of its labels, as a second rater might
#   4. evaluate the copy against the originals and print the table
set -euo pipefail
MEDKD=${1:-build/bin/medkd}
OUT=${2:-demo-output}
rm -rf "$OUT"
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*"; }

step "medkd --version"
"$MEDKD" --version

step "synthesise a PET/CT dataset"
"$MEDKD" synth --kind petct --cases 10 --test-cases 2 --size 96,96,64 --spacing 2,2,3 --seed 1 \
  --out "$OUT/Dataset001_SynthPetCt"

step "check it"
"$MEDKD" dataset check "$OUT/Dataset001_SynthPetCt"

step "a perturbed copy of its labels (simulated second rater)"
"$MEDKD" labels perturb --in "$OUT/Dataset001_SynthPetCt/labelsTr" --out "$OUT/second_rater" \
  --seed 7 --max-shift 1 --dilate 0.3 --erode 0.3

step "evaluate the copy against the originals"
"$MEDKD" evaluate --pred "$OUT/second_rater" --ref "$OUT/Dataset001_SynthPetCt/labelsTr" \
  --dataset-json "$OUT/Dataset001_SynthPetCt/dataset.json" --out "$OUT/summary.json"

printf '\nDemo finished: dataset in %s/Dataset001_SynthPetCt, metrics in %s/summary.json and %s/summary.csv\n' \
  "$OUT" "$OUT" "$OUT"
