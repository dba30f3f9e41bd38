#!/usr/bin/env bash
# The demo behind `make demo`: everything runs on data medkd makes itself.
#   1. synthesise a PET/CT dataset (HECKTOR-like: CT + PET, tumour and lymph-node labels)
#   2. validate it with `medkd dataset check`
#   3. train a small 3-D U-Net for a few minutes (configs/models/unet_3d_small.yaml)
#   4. segment the held-out test cases and evaluate them against their labels
#   5. distil: a second teacher, a student 16x smaller trained alone, the student distilled from
#      one teacher and from both (Teach-Former's loss), and a table of all five models
# MEDKD_DEMO_SEED (default 1) changes the synthetic data, to repeat the table over several datasets.
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
SEED=${MEDKD_DEMO_SEED:-1}
"$MEDKD" synth --kind petct --cases 12 --test-cases 4 --size 96,96,64 --spacing 2,2,3 --seed "$SEED" --out "$DATA"

step "check it"
"$MEDKD" dataset check "$DATA"

step "train a small 3-D U-Net ($CONFIG)"
"$MEDKD" train --dataset "$DATA" --config "$CONFIG" --out "$OUT/unet_small" --fold 0

step "segment the test cases"
"$MEDKD" predict --model "$OUT/unet_small" --input "$DATA/imagesTs" --output "$OUT/predictions"

step "evaluate against the test labels"
"$MEDKD" evaluate --pred "$OUT/predictions" --ref "$DATA/labelsTs" --dataset-json "$DATA/dataset.json" \
  --out "$OUT/predictions/summary.json"

# One budget for every network: the demo recipe's training keys (epochs, optimiser, sampling,
# augmentation, ...) after another model or distillation part. A distillation lists its own loss.
recipe() {  # recipe FILE [distill]  (the model or distillation part comes on stdin)
  { cat; sed -n '/^epochs:/,$p' "$CONFIG" | if [ "${2:-}" = distill ]; then sed '/^loss:/d'; else cat; fi; } > "$1"
}
evaluate_run() {  # evaluate_run RUN
  "$MEDKD" --quiet predict --model "$1" --input "$DATA/imagesTs" --output "$1/predictions" >/dev/null
  "$MEDKD" --quiet evaluate --pred "$1/predictions" --ref "$DATA/labelsTs" \
    --dataset-json "$DATA/dataset.json" --out "$1/predictions/summary.json" >/dev/null
}

step "distil: a second teacher (the same U-Net with max pooling and batch norm)"
recipe "$OUT/teacher_b.yaml" <<'YAML'
model:
  name: unet
  options: {channels: [16, 32, 64, 128], blocks_per_stage: 2, deep_supervision: true, norm: batch, downsampling: max_pool}
dims: 3
plan: {patch_size: [48, 48, 48], batch_size: 2, target_spacing: [4, 4, 4]}
YAML
"$MEDKD" train --dataset "$DATA" --config "$OUT/teacher_b.yaml" --out "$OUT/teacher_b" --fold 0 --cache "$OUT/unet_small/preprocessed"
evaluate_run "$OUT/teacher_b"

STUDENT='{model: unet, options: {channels: [4, 8, 16, 32], blocks_per_stage: 2, deep_supervision: true}}'
step "distil: the student (4-32 channels) trained alone"
recipe "$OUT/student.yaml" <<YAML
model: ${STUDENT//model:/name:}
dims: 3
plan: {patch_size: [48, 48, 48], batch_size: 2, target_spacing: [4, 4, 4]}
YAML
"$MEDKD" train --dataset "$DATA" --config "$OUT/student.yaml" --out "$OUT/student_alone" --fold 0 --cache "$OUT/unet_small/preprocessed"
evaluate_run "$OUT/student_alone"

for teachers in one both; do
  step "distil: the student from $teachers teacher(s) (Dice + CE, pixel-wise KL, attention similarity)"
  list="[{name: unet_small, checkpoint: $OUT/unet_small}"
  [ "$teachers" = both ] && list="$list, {name: teacher_b, checkpoint: $OUT/teacher_b}"
  recipe "$OUT/kd_$teachers.yaml" distill <<YAML
dataset: $DATA
teachers: $list]
student: $STUDENT
multi_teacher: sum
loss:
  - {type: dice_ce, weight: 1.0}
  - {type: pixel_kl, weight: 1.0, temperature: 1.0}
  - {type: attention_similarity, weight: 1.0, taps: [bottleneck, dec.last]}
YAML
  "$MEDKD" distill --config "$OUT/kd_$teachers.yaml" --out "$OUT/student_kd_$teachers" --fold 0 --cache "$OUT/unet_small/preprocessed"
  evaluate_run "$OUT/student_kd_$teachers"
done

step "the five models on the test cases (tumour)"
"$MEDKD" compare --label 1 --out "$OUT/table.md" --markdown \
  --run "teacher A (U-Net)" "$OUT/unet_small" "$OUT/predictions/summary.json" \
  --run "teacher B (U-Net, max pool, BN)" "$OUT/teacher_b" "$OUT/teacher_b/predictions/summary.json" \
  --run "student alone" "$OUT/student_alone" "$OUT/student_alone/predictions/summary.json" \
  --run "student + KD from A" "$OUT/student_kd_one" "$OUT/student_kd_one/predictions/summary.json" \
  --run "student + KD from A and B" "$OUT/student_kd_both" "$OUT/student_kd_both/predictions/summary.json" \
  >/dev/null
"$MEDKD" compare --label 1 \
  --run "teacher A (U-Net)" "$OUT/unet_small" "$OUT/predictions/summary.json" \
  --run "teacher B (U-Net, max pool, BN)" "$OUT/teacher_b" "$OUT/teacher_b/predictions/summary.json" \
  --run "student alone" "$OUT/student_alone" "$OUT/student_alone/predictions/summary.json" \
  --run "student + KD from A" "$OUT/student_kd_one" "$OUT/student_kd_one/predictions/summary.json" \
  --run "student + KD from A and B" "$OUT/student_kd_both" "$OUT/student_kd_both/predictions/summary.json"

printf '\nDemo finished: models in %s (training_log.csv each), the table in %s/table.md\n' "$OUT" "$OUT"
