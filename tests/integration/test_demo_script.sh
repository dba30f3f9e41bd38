# `make demo`'s script (scripts/demo.sh) on a tiny study with the shape of the evidence study's
# demo budget (a teacher, a student alone and the primary distilled run, two seeds): every step
# runs, the tables hold the primary comparison, the distilled student predicts and is evaluated,
# and the script ends with a plain verdict and where the outputs are. A study without a primary
# comparison is refused.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cat > "$SCRATCH/study.yaml" <<'YAML'
name: Tiny demo
dataset: {synth: {kind: petct, preset: tiny, cases: 4, test_cases: 2, seed: 5}}
folds: 2
run_folds: [0]
seeds: [0, 1]
report_label: 1
dims: 3
plan: {patch_size: [16, 16, 8], batch_size: 2}
training: {epochs: 1, iterations_per_epoch: 2, validation: {every: 1, max_cases: 1}, loader: {workers: 2}}
teacher_training: {epochs: 2}
gate: {on_fail: continue}   # a teacher of four steps
primary: + pixel KL
budgets:
  quick: {iterations_per_epoch: 1}
runs:
  - {name: teacher, role: teacher, model: {name: unet, options: {channels: [4, 8, 16], blocks_per_stage: 1}}}
  - {name: student, role: student, model: {name: unet, options: {channels: [2, 4, 8], blocks_per_stage: 1}}}
  - name: + pixel KL
    role: distilled
    student: student
    teachers: [teacher]
    loss: [{type: dice_ce}, {type: pixel_kl, temperature: 4.0}]
    distillation: {kd_schedule: {warmup: 0.3}}
YAML

OUT="$SCRATCH/demo"
bash "$ROOT/scripts/demo.sh" "$MEDKD" "$OUT" "$SCRATCH/study.yaml" quick > "$SCRATCH/log" 2>&1 ||
  { fail "the demo failed"; tail -20 "$SCRATCH/log" >&2; finish; }
expect_file_contains "$SCRATCH/log" "estimated training time left"
expect_file_contains "$SCRATCH/log" "gate failed, continuing|gate passed"
expect_file_contains "$SCRATCH/log" "^== segment the test images with the distilled student \(.*/runs/__pixel_kl/fold-0-seed-0\)"
expect_file_contains "$SCRATCH/log" "^## Primary comparison"
expect_file_contains "$SCRATCH/log" "^\| \+ pixel KL \| student \| primary \| test \| "
expect_file_contains "$SCRATCH/log" "^Plainly, on this demo: (yes|no|no clear difference)"
expect_file_contains "$SCRATCH/log" "^Demo finished in [0-9]+ min: tables in .*/tables.md, report in .*/report.html"
for f in tables.md report.html results.csv demo_predictions/summary.json runs/__pixel_kl/fold-0-seed-1/checkpoint_last.pt; do
  [ -s "$OUT/$f" ] || fail "missing $OUT/$f"
done

sed '/^primary:/d' "$SCRATCH/study.yaml" > "$SCRATCH/no_primary.yaml"
bash "$ROOT/scripts/demo.sh" "$MEDKD" "$SCRATCH/demo2" "$SCRATCH/no_primary.yaml" quick > "$SCRATCH/log2" 2>&1 &&
  fail "a study without a primary comparison was accepted"
expect_file_contains "$SCRATCH/log2" "declares no primary comparison"
finish
