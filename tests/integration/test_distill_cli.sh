# `medkd distill` end to end on tiny data: a teacher from `medkd train`, a student distilled from
# it, interrupted and resumed, used by predict and evaluate like any model; and bad input.
source "$(dirname "$0")/lib.sh"
D="$SCRATCH/data"
"$MEDKD" --quiet synth --kind petct --preset tiny --cases 4 --test-cases 2 --unlabelled-cases 2 --seed 4 --out "$D" >/dev/null
cat > "$SCRATCH/teacher.yaml" <<'YAML'
model: {name: unet, options: {channels: [4, 8, 16], blocks_per_stage: 1}}
plan: {patch_size: [16, 16, 8], batch_size: 2}
epochs: 1
iterations_per_epoch: 2
validation: {max_cases: 1}
loader: {workers: 2}
folds: 2
YAML
"$MEDKD" --quiet train --dataset "$D" --config "$SCRATCH/teacher.yaml" --out "$SCRATCH/teacher" >/dev/null
cat > "$SCRATCH/distill.yaml" <<YAML
dataset: $D
teachers: [{name: unet, checkpoint: $SCRATCH/teacher}]
student: {model: unet, options: {channels: [2, 4, 8], blocks_per_stage: 1}}
loss:
  - {type: dice_ce}
  - {type: pixel_kl, temperature: 2.0}
  - {type: hint, taps: [bottleneck], weight: 0.5}
allow_weak_teachers: true   # a one-epoch teacher
epochs: 2
iterations_per_epoch: 2
validation: {max_cases: 1}
loader: {workers: 2}
folds: 2
YAML

expect_exit 0 "--list-terms" -- "$MEDKD" distill --help
expect_exit 0 "hlfd" -- "$MEDKD" distill --list-terms
expect_exit 0 "distilled 1 epoch" -- "$MEDKD" --quiet distill --config "$SCRATCH/distill.yaml" --out "$SCRATCH/student" --max-epochs 1
expect_exit 2 "already holds a run" -- "$MEDKD" --quiet distill --config "$SCRATCH/distill.yaml" --out "$SCRATCH/student"
expect_exit 0 "distilled 2 epoch" -- "$MEDKD" --quiet distill --out "$SCRATCH/student" --resume
expect_file_contains "$SCRATCH/student/training_log.csv" "^epoch,lr,train_loss,dice_ce,pixel_kl,hint,val_dice"
expect_file_contains "$SCRATCH/student/training_log.csv" "^2,"
expect_file_contains "$SCRATCH/student/teachers.json" '"name": "unet"'
expect_file_contains "$SCRATCH/student/training_log.csv" "data_wait_fraction,val_foreground_fraction,pixel_kl_weight,pixel_kl_grad_ratio,hint_weight,hint_grad_ratio$"

# Every new option is listed with its default; a misspelt schedule key fails before any teacher is
# read (the config names a teacher that does not exist).
expect_exit 0 "foreground_weight +0.5" -- "$MEDKD" distill --list-terms
expect_exit 0 "schedule.warmup +0 " -- "$MEDKD" distill --list-terms
expect_exit 0 "reduction +mean" -- "$MEDKD" distill --list-terms
sed -e "s|checkpoint: $SCRATCH/teacher|checkpoint: $SCRATCH/missing_teacher|" \
    -e 's|{type: pixel_kl, temperature: 2.0}|{type: pixel_kl, temperature: 2.0, schedule: {warmpu: 5}}|' \
    "$SCRATCH/distill.yaml" > "$SCRATCH/early.yaml"
expect_exit 2 "warmpu.*valid: start, warmup, decay, final" -- "$MEDKD" --quiet distill --config "$SCRATCH/early.yaml" --out "$SCRATCH/early"
[ ! -e "$SCRATCH/early" ] || fail "a bad schedule left $SCRATCH/early"

# A weak teacher is refused unless allowed; its validation Dice is printed.
sed -e 's|allow_weak_teachers: true.*|min_teacher_dice: 1.0|' "$SCRATCH/distill.yaml" > "$SCRATCH/weak.yaml"
expect_exit 2 "teacher unet has validation Dice.*allow_weak_teachers: true" -- "$MEDKD" --quiet distill --config "$SCRATCH/weak.yaml" --out "$SCRATCH/weak"

# KD on unlabelled images (synth --unlabelled-cases): runs end to end, with a warm-up.
"$MEDKD" --quiet dataset check "$D" > "$SCRATCH/check.txt" || fail "dataset check failed on imagesUl"
expect_file_contains "$SCRATCH/check.txt" "2 unlabelled case"
{ cat "$SCRATCH/distill.yaml"; echo "unlabelled: [imagesUl]"; echo "unlabelled_share: 0.5"; echo "kd_schedule: {warmup: 0.5}"; } > "$SCRATCH/unlabelled.yaml"
expect_exit 0 "validation Dice" -- "$MEDKD" distill --config "$SCRATCH/unlabelled.yaml" --out "$SCRATCH/student_ul"
expect_file_contains "$SCRATCH/stderr" "teacher unet: validation Dice"
[ -d "$SCRATCH/student_ul/preprocessed_unlabelled" ] || fail "no preprocessed unlabelled cases"
expect_exit 0 "wrote 2 segmentation" -- "$MEDKD" --quiet predict --model "$SCRATCH/student_ul" --input "$D/imagesTs" --output "$SCRATCH/pred_ul"
expect_exit 0 "foreground mean" -- "$MEDKD" --quiet evaluate --pred "$SCRATCH/pred_ul" --ref "$D/labelsTs" --dataset-json "$D/dataset.json" --out "$SCRATCH/summary_ul.json"

# The student is an ordinary model: predict, evaluate and models read it as they read a trained one.
expect_exit 0 "wrote 2 segmentation" -- "$MEDKD" --quiet predict --model "$SCRATCH/student" --input "$D/imagesTs" --output "$SCRATCH/pred"
expect_exit 0 "foreground mean" -- "$MEDKD" --quiet evaluate --pred "$SCRATCH/pred" --ref "$D/labelsTs" --dataset-json "$D/dataset.json" --out "$SCRATCH/summary.json"

# The comparison table: parameters and GFLOPs from the models, metrics from the summaries; runs
# under one name are averaged (mean ± std).
"$MEDKD" --quiet predict --model "$SCRATCH/teacher" --input "$D/imagesTs" --output "$SCRATCH/tpred" >/dev/null
"$MEDKD" --quiet evaluate --pred "$SCRATCH/tpred" --ref "$D/labelsTs" --dataset-json "$D/dataset.json" --out "$SCRATCH/tsummary.json" >/dev/null
expect_exit 0 "^student +unet +0\.00[0-9] " -- "$MEDKD" compare --run teacher "$SCRATCH/teacher" "$SCRATCH/tsummary.json" \
  --run student "$SCRATCH/student" "$SCRATCH/summary.json" --label foreground
grep -qE "^teacher +unet +0\.0[0-9]{2} " "$SCRATCH/stdout" || fail "compare lacks the teacher row"
expect_exit 0 "\| both \| unet \|.*±" -- "$MEDKD" compare --run both "$SCRATCH/student" "$SCRATCH/summary.json" \
  --run both "$SCRATCH/student" "$SCRATCH/summary.json" --markdown --out "$SCRATCH/table.md"
expect_file_contains "$SCRATCH/table.md" "^\| model \| network \| Params"
# Against a baseline: p-value columns; a model compared with itself has no difference to test.
expect_exit 0 "p Wilcoxon" -- "$MEDKD" compare --run teacher "$SCRATCH/teacher" "$SCRATCH/tsummary.json" \
  --run student "$SCRATCH/student" "$SCRATCH/summary.json" --run same "$SCRATCH/teacher" "$SCRATCH/tsummary.json" \
  --baseline teacher
grep -qE "^teacher +unet .* - +-$" "$SCRATCH/stdout" || fail "the baseline row should have no p-values"
grep -qE "^same +unet .* nan +nan$" "$SCRATCH/stdout" || fail "a row equal to the baseline should have NaN p-values"
expect_exit 2 "baseline 'nobody' is not a row \(rows: teacher, student\)" -- "$MEDKD" compare \
  --run teacher "$SCRATCH/teacher" "$SCRATCH/tsummary.json" --run student "$SCRATCH/student" "$SCRATCH/summary.json" \
  --baseline nobody
expect_exit 2 "no label 7" -- "$MEDKD" compare --run s "$SCRATCH/student" "$SCRATCH/summary.json" --label 7
expect_exit 2 "takes NAME MODEL SUMMARY|--run" -- "$MEDKD" compare --run s "$SCRATCH/student"

# Bad input: exit 2, one line naming what to fix, no run folder.
bad() { sed "$1" "$SCRATCH/distill.yaml" > "$SCRATCH/bad.yaml"; }
bad 's/type: hint/type: hints/'
expect_exit 2 "unknown loss type 'hints'.*hint" -- "$MEDKD" --quiet distill --config "$SCRATCH/bad.yaml" --out "$SCRATCH/bad1"
bad 's/taps: \[bottleneck\]/taps: [enc.9]/'
expect_exit 2 "enc.9.*bottleneck" -- "$MEDKD" --quiet distill --config "$SCRATCH/bad.yaml" --out "$SCRATCH/bad2"
[ ! -e "$SCRATCH/bad2" ] || fail "a config error left a run folder"
bad 's/temperature: 2.0/temprature: 2.0/'
expect_exit 2 "unknown option 'temprature'.*temperature" -- "$MEDKD" --quiet distill --config "$SCRATCH/bad.yaml" --out "$SCRATCH/bad3"
bad "s#checkpoint: $SCRATCH/teacher#checkpoint: $SCRATCH/nowhere#"
expect_exit 2 "teacher unet" -- "$MEDKD" --quiet distill --config "$SCRATCH/bad.yaml" --out "$SCRATCH/bad4"
expect_exit 2 "nothing to resume" -- "$MEDKD" --quiet distill --out "$SCRATCH/none" --resume
expect_exit 2 "--out is required" -- "$MEDKD" --quiet distill --config "$SCRATCH/distill.yaml"
finish
