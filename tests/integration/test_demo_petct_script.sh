# `make demo-full`'s script (scripts/demo_petct.sh) over two datasets with a budget of two iterations per
# model: every step runs, the per-dataset tables and the table over datasets have all the rows
# with mean ± std, a second call reuses the finished datasets instead of training again, and a
# dataset made by another recipe is run again.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# The demo recipe with the smallest budget (the script takes the training keys from `epochs:` on).
sed -e 's/^epochs:.*/epochs: 1/' -e 's/^iterations_per_epoch:.*/iterations_per_epoch: 2/' \
  -e 's/^validation:.*/validation: {every: 1, max_cases: 1, overlap: 0.25}/' \
  "$ROOT/configs/models/unet_3d_small.yaml" > "$SCRATCH/tiny.yaml"
expect_file_contains "$SCRATCH/tiny.yaml" '^iterations_per_epoch: 2$'

OUT="$SCRATCH/demo"
MEDKD_DEMO_SEED=1,2 MEDKD_DEMO_ALLOW_WEAK_TEACHERS=true bash "$ROOT/scripts/demo_petct.sh" "$MEDKD" "$OUT" "$SCRATCH/tiny.yaml" > "$SCRATCH/first.log" 2>&1 ||
  { fail "the demo over two datasets failed"; tail -20 "$SCRATCH/first.log" >&2; finish; }

rows=("teacher A (U-Net)" "teacher B (U-Net, max pool, BN)" "student alone" "student + KD from A"
  "student + KD from A and B (sum)" "student + KD from A and B (mean)")
escaped() { printf '%s' "$1" | sed 's/[][().*+?^$|\\]/\\&/g'; }
for seed in 1 2; do
  [ -f "$OUT/seed-$seed/Dataset001_SynthPetCt/dataset.json" ] || fail "seed $seed: no dataset"
  for row in "${rows[@]}"; do
    expect_file_contains "$OUT/seed-$seed/table.md" "^\| $(escaped "$row") \| unet \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|"
  done
done
# The datasets differ, so the table over them has a spread on every row.
for row in "${rows[@]}"; do
  expect_file_contains "$OUT/table.md" "^\| $(escaped "$row") \| unet \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ ± [0-9.]+ \|"
done
expect_file_contains "$OUT/table.md" '^\| model \|.* \| p \(t-test\) \| p \(Wilcoxon\) \|$'
expect_file_contains "$OUT/table.md" '^\| student alone \|.* \| - \| - \|$'
expect_file_contains "$OUT/table.md" '^\| student \+ KD from A \|.* \| ([0-9.e-]+|nan) \| ([0-9.e-]+|nan) \|$'
[ "$(grep -c '^|' "$OUT/table.md")" -eq 8 ] || fail "table.md should have a header, a rule and six rows"
if cmp -s "$OUT/seed-1/Dataset001_SynthPetCt/imagesTr/petct_000_0001.nii.gz" \
  "$OUT/seed-2/Dataset001_SynthPetCt/imagesTr/petct_000_0001.nii.gz"; then
  fail "seeds 1 and 2 made the same dataset"
fi

# Again: both datasets are reused, nothing is trained, the table is the same.
cp "$OUT/table.md" "$SCRATCH/table_before.md"
MEDKD_DEMO_SEED=1,2 MEDKD_DEMO_ALLOW_WEAK_TEACHERS=true bash "$ROOT/scripts/demo_petct.sh" "$MEDKD" "$OUT" "$SCRATCH/tiny.yaml" > "$SCRATCH/second.log" 2>&1 ||
  fail "the second call failed"
[ "$(grep -c 'finished earlier, reused' "$SCRATCH/second.log")" -eq 2 ] || fail "the datasets were not reused"
grep -q 'epoch 1' "$SCRATCH/second.log" && fail "the second call trained again"
cmp -s "$OUT/table.md" "$SCRATCH/table_before.md" || fail "the table changed on the second call"

# A dataset whose stamp does not match (another recipe, script or medkd build) is run again.
echo stale > "$OUT/seed-1/stamp"
MEDKD_DEMO_SEED=1,2 MEDKD_DEMO_ALLOW_WEAK_TEACHERS=true bash "$ROOT/scripts/demo_petct.sh" "$MEDKD" "$OUT" "$SCRATCH/tiny.yaml" > "$SCRATCH/third.log" 2>&1 ||
  fail "the third call failed"
grep -q 'dataset seed 1: finished earlier' "$SCRATCH/third.log" && fail "a stale dataset was reused"
grep -q 'dataset seed 2: finished earlier, reused' "$SCRATCH/third.log" || fail "seed 2 was not reused"
[ "$(cat "$OUT/seed-1/stamp")" != stale ] || fail "the rerun dataset got no new stamp"
finish
