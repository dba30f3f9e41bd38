#!/usr/bin/env bash
# The longer demo behind `make demo-full` (about 38 min per dataset on two cores): the step-by-step
# commands of train, predict, evaluate, distil and compare on a 3-D PET/CT dataset medkd makes
# itself. `make demo` (scripts/demo.sh) is the short one.
#   1. synthesise a PET/CT dataset (HECKTOR-like: CT + PET, tumour and lymph-node labels)
#   2. validate it with `medkd dataset check`
#   3. train a small 3-D U-Net for a few minutes (configs/models/unet_3d_small.yaml)
#   4. segment the held-out test cases and evaluate them against their labels
#   5. distil: a second teacher, a student 7x smaller trained alone, the student distilled from
#      one teacher and from both (Teach-Former's loss), and a table of all the models
# MEDKD_DEMO_SEED (default 1) picks the synthetic dataset. A list (MEDKD_DEMO_SEED=1,2,3) runs the
# demo once per dataset into OUT/seed-N and ends with one table, mean ± std over the datasets; a
# dataset finished earlier with the same script and recipe is reused, so an interrupted list
# loses at most the dataset it was working on. MEDKD_DEMO_ALLOW_WEAK_TEACHERS=true lets the
# distillations use teachers below the 0.05 validation Dice that `medkd distill` requires, for
# smoke runs of the script with a budget of a few steps.
set -euo pipefail
MEDKD=${1:-build/bin/medkd}
OUT=${2:-demo-output}
CONFIG=${3:-configs/models/unet_3d_small.yaml}
SEEDS=${MEDKD_DEMO_SEED:-1}

step() { printf '\n== %s\n' "$*"; }

# The rows of the table: name and run folder (below one dataset's output folder). Every row gets
# p-values of paired tests of its per-case Dice against the student trained alone.
ROWS=(
  "teacher A (U-Net)" unet_small
  "teacher B (U-Net, max pool, BN)" teacher_b
  "student alone" student_alone
  "student + KD from A" student_kd_one
  "student + KD from A and B (sum)" student_kd_both_sum
  "student + KD from A and B (mean)" student_kd_both_mean
)

table() {  # table COMPARE_OPTIONS... -- DATASET_OUTPUT_FOLDER...
  local options=() runs=() i dir
  while [ "$1" != -- ]; do options+=("$1"); shift; done
  shift
  for ((i = 0; i < ${#ROWS[@]}; i += 2)); do
    for dir in "$@"; do
      runs+=(--run "${ROWS[i]}" "$dir/${ROWS[i + 1]}" "$dir/${ROWS[i + 1]}/predictions/summary.json")
    done
  done
  "$MEDKD" compare --label 1 --baseline "student alone" "${options[@]}" "${runs[@]}"
}

one_dataset() {  # one_dataset SEED OUT
  local seed=$1 out=$2
  local data="$out/Dataset001_SynthPetCt"
  rm -rf "$out"
  mkdir -p "$out"

  step "medkd --version"
  "$MEDKD" --version

  step "synthesise a PET/CT dataset (seed $seed)"
  "$MEDKD" synth --kind petct --cases 12 --test-cases 4 --size 96,96,64 --spacing 2,2,3 --seed "$seed" --out "$data"

  step "check it"
  "$MEDKD" dataset check "$data"

  step "train a small 3-D U-Net ($CONFIG)"
  "$MEDKD" train --dataset "$data" --config "$CONFIG" --out "$out/unet_small" --fold 0

  step "segment the test cases"
  "$MEDKD" predict --model "$out/unet_small" --input "$data/imagesTs" --output "$out/unet_small/predictions"

  step "evaluate against the test labels"
  "$MEDKD" evaluate --pred "$out/unet_small/predictions" --ref "$data/labelsTs" \
    --dataset-json "$data/dataset.json" --out "$out/unet_small/predictions/summary.json"

  # One budget for every network: the demo recipe's training keys (epochs, optimiser, sampling,
  # augmentation, ...) after another model or distillation part. A distillation lists its own loss.
  recipe() {  # recipe FILE [distill]  (the model or distillation part comes on stdin)
    { cat; sed -n '/^epochs:/,$p' "$CONFIG" | if [ "${2:-}" = distill ]; then sed '/^loss:/d'; else cat; fi; } > "$1"
  }
  evaluate_run() {  # evaluate_run RUN
    "$MEDKD" --quiet predict --model "$1" --input "$data/imagesTs" --output "$1/predictions" >/dev/null
    "$MEDKD" --quiet evaluate --pred "$1/predictions" --ref "$data/labelsTs" \
      --dataset-json "$data/dataset.json" --out "$1/predictions/summary.json" >/dev/null
  }

  step "distil: a second teacher (the same U-Net with max pooling and batch norm)"
  recipe "$out/teacher_b.yaml" <<'YAML'
model:
  name: unet
  options: {channels: [16, 32, 64, 128], blocks_per_stage: 2, deep_supervision: true, norm: batch, downsampling: max_pool}
dims: 3
plan: {patch_size: [48, 48, 48], batch_size: 2, target_spacing: [4, 4, 4]}
YAML
  "$MEDKD" train --dataset "$data" --config "$out/teacher_b.yaml" --out "$out/teacher_b" --fold 0 --cache "$out/unet_small/preprocessed"
  evaluate_run "$out/teacher_b"

  local student='{model: unet, options: {channels: [6, 12, 24, 48], blocks_per_stage: 2, deep_supervision: true}}'
  step "distil: the student (6-48 channels, 7x fewer parameters) trained alone"
  recipe "$out/student.yaml" <<YAML
model: ${student//model:/name:}
dims: 3
plan: {patch_size: [48, 48, 48], batch_size: 2, target_spacing: [4, 4, 4]}
YAML
  "$MEDKD" train --dataset "$data" --config "$out/student.yaml" --out "$out/student_alone" --fold 0 --cache "$out/unet_small/preprocessed"
  evaluate_run "$out/student_alone"

  local run list mode
  for run in one both_sum both_mean; do
    list="[{name: unet_small, checkpoint: $out/unet_small}"
    mode=sum
    case $run in
      one) step "distil: the student from teacher A (Dice + CE, pixel-wise KL, attention similarity)" ;;
      *) list="$list, {name: teacher_b, checkpoint: $out/teacher_b}"
         mode=${run#both_}
         step "distil: the student from teachers A and B, KD terms combined by $mode" ;;
    esac
    recipe "$out/kd_$run.yaml" distill <<YAML
dataset: $data
teachers: $list]
student: $student
multi_teacher: $mode
loss:
  - {type: dice_ce, weight: 1.0}
  - {type: pixel_kl, weight: 1.0, temperature: 1.0}
  - {type: attention_similarity, weight: 1.0, taps: [bottleneck, dec.last]}
allow_weak_teachers: ${MEDKD_DEMO_ALLOW_WEAK_TEACHERS:-false}
YAML
    "$MEDKD" distill --config "$out/kd_$run.yaml" --out "$out/student_kd_$run" --fold 0 --cache "$out/unet_small/preprocessed"
    evaluate_run "$out/student_kd_$run"
  done

  step "the models on the test cases (tumour)"
  table --markdown --out "$out/table.md" -- "$out" >/dev/null
  table -- "$out"
}

IFS=, read -r -a seed_list <<< "$SEEDS"
if [ "${#seed_list[@]}" -eq 1 ]; then
  one_dataset "${seed_list[0]}" "$OUT"
  printf '\nDemo finished: models in %s (training_log.csv each), the table in %s/table.md\n' "$OUT" "$OUT"
  exit 0
fi

# Several datasets: a finished one is reused when this script, the recipe and medkd are unchanged.
stamp=$(cat "$0" "$CONFIG" | sha256sum | cut -d' ' -f1)-$("$MEDKD" --version | tr -d '\n ')
mkdir -p "$OUT"
dirs=()
for seed in "${seed_list[@]}"; do
  dir="$OUT/seed-$seed"
  dirs+=("$dir")
  if [ -f "$dir/table.md" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then
    step "dataset seed $seed: finished earlier, reused ($dir)"
    continue
  fi
  one_dataset "$seed" "$dir"
  echo "$stamp" > "$dir/stamp"
done
step "the models on the test cases of ${#seed_list[@]} datasets (tumour, mean ± std over datasets)"
table --markdown --out "$OUT/table.md" -- "${dirs[@]}" >/dev/null
table -- "${dirs[@]}"
printf '\nDemo finished: one folder per dataset in %s, the table over them in %s/table.md\n' "$OUT" "$OUT"
