#!/usr/bin/env bash
# The demo behind `make demo`: everything runs on data medkd makes itself.
#   1. synthesise a PET/CT dataset (HECKTOR-like: CT + PET, tumour and lymph-node labels)
#   2. validate it with `medkd dataset check`
#   3. train a small 3-D U-Net for a few minutes (configs/models/unet_3d_small.yaml)
#   4. segment the held-out test cases and evaluate them against their labels
set -euo pipefail
MEDKD=${1:-build/bin/medkd}
OUT=${2:-demo-output}
CONFIG=${3:-configs/models/unet_3d_small.yaml}
rm -rf "$OUT"
mkdir -p "$OUT"
DATA="$OUT/Dataset001_SynthPetCt"

step() { printf '\n== %s\n' "$*"; }

step "medkd --version"
"$MEDKD" --version

step "synthesise a PET/CT dataset"
"$MEDKD" synth --kind petct --cases 12 --test-cases 4 --size 96,96,64 --spacing 2,2,3 --seed 1 --out "$DATA"

step "check it"
"$MEDKD" dataset check "$DATA"

step "train a small 3-D U-Net ($CONFIG)"
"$MEDKD" train --dataset "$DATA" --config "$CONFIG" --out "$OUT/unet_small" --fold 0

step "segment the test cases"
"$MEDKD" predict --model "$OUT/unet_small" --input "$DATA/imagesTs" --output "$OUT/predictions"

step "evaluate against the test labels"
"$MEDKD" evaluate --pred "$OUT/predictions" --ref "$DATA/labelsTs" --dataset-json "$DATA/dataset.json" \
  --out "$OUT/predictions/summary.json"

printf '\nDemo finished: model in %s/unet_small (training_log.csv), metrics in %s/predictions/summary.json\n' "$OUT" "$OUT"
