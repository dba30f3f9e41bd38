# `medkd experiment` end to end on a tiny study: the dry run, a full run with its outputs (tables,
# results.csv, a report that Chromium renders) with two seeds per student, reuse of finished runs,
# resumption of an interrupted one, retraining after a recipe change, the teacher gate, and bad
# input.
source "$(dirname "$0")/lib.sh"
OUT="$SCRATCH/study"
cat > "$SCRATCH/study.yaml" <<'YAML'
name: Tiny <study>
description: A teacher, a student and a distilled student on tiny synthetic PET/CT.
dataset: {synth: {kind: petct, preset: tiny, cases: 4, test_cases: 2, seed: 3}}
folds: 2
report_label: 1
dims: 3
plan: {patch_size: [16, 16, 8], batch_size: 2}
training:
  epochs: 2
  iterations_per_epoch: 2
  validation: {every: 1, max_cases: 1}
  loader: {workers: 2}
seeds: [0, 1]
gate: {margin: 0.05, on_fail: continue}   # teachers of two steps
primary: student + KD
budgets:
  one: {epochs: 1}
runs:
  - {name: teacher, role: teacher, model: {name: unet, options: {channels: [4, 8, 16], blocks_per_stage: 1}}}
  - {name: student, role: student, model: {name: unet, options: {channels: [2, 4, 8], blocks_per_stage: 1}}}
  - name: student + KD
    role: distilled
    student: student
    teachers: [teacher]
    loss: [{type: dice_ce}, {type: pixel_kl, temperature: 2.0}]
    ablation: terms
YAML

expect_exit 0 "--dry-run" -- "$MEDKD" experiment --help
expect_exit 0 "student \+ KD +distilled +1 +1 +new" -- "$MEDKD" experiment --config "$SCRATCH/study.yaml" --out "$OUT" --dry-run
[ ! -e "$OUT" ] || fail "a dry run wrote $OUT"
expect_file_contains "$SCRATCH/stdout" "estimated training time left"

expect_exit 0 "Paired tests against the baseline" -- "$MEDKD" experiment --config "$SCRATCH/study.yaml" --out "$OUT"
for f in results.csv tables.md report.html study.yaml runs/student___kd/fold-1-seed-1/predictions/test/summary.json; do
  [ -s "$OUT/$f" ] || fail "missing $OUT/$f"
done
expect_file_contains "$OUT/results.csv" "^run,role,fold,seed,set,case,label,label_name,dice,iou,hd95,assd$"
expect_file_contains "$OUT/results.csv" "^student \+ KD,distilled,1,1,test,petct_00[45],foreground,"
expect_file_contains "$OUT/results.csv" "^teacher,teacher,0,,cv,petct_00[0-3],1,tumour,"
expect_file_contains "$OUT/tables.md" "^## Test set: test"
expect_file_contains "$OUT/tables.md" "^## Ablation: terms"
expect_file_contains "$OUT/tables.md" "^## Primary comparison"
expect_file_contains "$OUT/tables.md" "^\| student \+ KD \| student \| primary \| test \| 2 \| [-+]0\.[0-9]+ \| "
expect_file_contains "$OUT/tables.md" "\(n 2\) \|"
expect_file_contains "$OUT/tables.md" "^## Teachers"
expect_file_contains "$OUT/report.html" "Tiny &lt;study&gt;"
if grep -qE "https?://" "$OUT/report.html"; then fail "report.html refers to the network"; fi
# 2 folds x (1 teacher + 2 seeds x 2 students) x (2 validation + 2 test cases) x (2 labels +
# foreground)
rows=$(($(grep -c '' "$OUT/results.csv") - 1))
[ "$rows" -eq 120 ] || fail "results.csv has $rows rows, expected 120"

# The page renders: Chromium parses every chart of the real report.
dom=$(timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$SCRATCH/chromium" \
  --dump-dom "file://$OUT/report.html" 2>/dev/null || true)
[ "$(grep -o '<svg' <<<"$dom" | wc -l)" -ge 4 ] || fail "Chromium did not render the report's charts"

# Run again: everything is reused.
stamp=$(stat -c %Y "$OUT/runs/teacher/fold-0/checkpoint_last.pt")
expect_exit 0 "teacher +teacher +0 +- +finished" -- "$MEDKD" experiment --config "$SCRATCH/study.yaml" --out "$OUT"
[ "$stamp" = "$(stat -c %Y "$OUT/runs/teacher/fold-0/checkpoint_last.pt")" ] || fail "a finished run was trained again"

# An interrupted run (its marker not finished, its checkpoint there) is resumed, not restarted.
sed -i 's/"finished": true/"finished": false/' "$OUT/runs/student/fold-1-seed-0/experiment.json"
expect_exit 0 "student +student +1 +0 +resume" -- "$MEDKD" experiment --config "$SCRATCH/study.yaml" --out "$OUT" --dry-run
expect_exit 0 "student +student +1 +0 +resume" -- "$MEDKD" experiment --config "$SCRATCH/study.yaml" --out "$OUT"
expect_file_contains "$OUT/runs/student/fold-1-seed-0/experiment.json" '"finished": true'

# A gate that stops: the teachers and students are reused, and no distillation starts.
sed 's/gate: {margin: 0.05, on_fail: continue}/gate: {margin: 0.9}/' "$SCRATCH/study.yaml" > "$SCRATCH/gated.yaml"
expect_exit 2 "gate failed: teacher 'teacher' has a validation Dice of" -- "$MEDKD" --quiet experiment --config "$SCRATCH/gated.yaml" --out "$OUT"
expect_file_contains "$SCRATCH/stderr" "the gate asks for 0.900"

# Another budget is another recipe: every run is new again.
expect_exit 0 "teacher +teacher +0 +- +new" -- "$MEDKD" experiment --config "$SCRATCH/study.yaml" --out "$OUT" --budget one --dry-run

# A dataset whose generation was interrupted (its options written, no folder) is made again;
# other dataset options with the same --out are refused.
rm -rf "$OUT/data/synth_petct"
expect_exit 0 "making the dataset" -- "$MEDKD" experiment --config "$SCRATCH/study.yaml" --out "$OUT"
[ -s "$OUT/data/synth_petct/dataset.json" ] || fail "the dataset was not made again"
sed 's/seed: 3}}/seed: 4}}/' "$SCRATCH/study.yaml" > "$SCRATCH/other.yaml"
expect_exit 2 "made from other dataset options" -- "$MEDKD" experiment --config "$SCRATCH/other.yaml" --out "$OUT"

# Bad input: one line, exit 2.
expect_exit 2 "no such budget" -- "$MEDKD" experiment --config "$SCRATCH/study.yaml" --out "$OUT" --budget huge
expect_exit 2 "--config .*: no such file" -- "$MEDKD" experiment --config "$SCRATCH/none.yaml" --out "$OUT"
sed 's/teachers: \[teacher\]/teachers: [nobody]/' "$SCRATCH/study.yaml" > "$SCRATCH/bad.yaml"
expect_exit 2 "names teacher 'nobody'" -- "$MEDKD" experiment --config "$SCRATCH/bad.yaml" --out "$SCRATCH/bad"
sed 's/seed: 3}}/seed: 3, color: red}}/' "$SCRATCH/study.yaml" > "$SCRATCH/bad.yaml"
expect_exit 2 "dataset.synth: unknown key \"color\"" -- "$MEDKD" experiment --config "$SCRATCH/bad.yaml" --out "$SCRATCH/bad2" --dry-run
finish
