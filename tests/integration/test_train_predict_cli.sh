# `medkd train` and `medkd predict` end to end on tiny data: a run that is interrupted and
# resumed, predictions with the input geometry, and the errors a user is likely to meet.
source "$(dirname "$0")/lib.sh"
D="$SCRATCH/data"
"$MEDKD" --quiet synth --kind petct --preset tiny --cases 4 --test-cases 2 --seed 4 --out "$D" >/dev/null
cat > "$SCRATCH/config.yaml" <<'YAML'
model: {name: unet, options: {channels: [4, 8], blocks_per_stage: 1, deep_supervision: true}}
plan: {patch_size: [16, 16, 8], batch_size: 2}
epochs: 2
iterations_per_epoch: 2
validation: {max_cases: 1}
loader: {workers: 2}
folds: 2
YAML

expect_exit 0 "trained 1 epoch" -- "$MEDKD" --quiet train --dataset "$D" --config "$SCRATCH/config.yaml" --out "$SCRATCH/run" --max-epochs 1
expect_exit 2 "already holds a run" -- "$MEDKD" --quiet train --dataset "$D" --config "$SCRATCH/config.yaml" --out "$SCRATCH/run"
expect_exit 0 "trained 2 epoch" -- "$MEDKD" --quiet train --dataset "$D" --out "$SCRATCH/run" --resume
expect_file_contains "$SCRATCH/run/training_log.csv" "^2,"
expect_file_contains "$SCRATCH/run/plans.json" "target_spacing"

expect_exit 0 "wrote 2 segmentation" -- "$MEDKD" --quiet predict --model "$SCRATCH/run" --input "$D/imagesTs" --output "$SCRATCH/pred"
for f in "$D"/labelsTs/*.nii.gz; do
  ref=$("$MEDKD" image info "$f" | grep -E "size|spacing|origin|direction")
  out=$("$MEDKD" image info "$SCRATCH/pred/$(basename "$f")" | grep -E "size|spacing|origin|direction")
  [ "$ref" = "$out" ] || fail "prediction $(basename "$f") does not have the reference geometry"
done
expect_exit 0 "foreground mean" -- "$MEDKD" --quiet evaluate --pred "$SCRATCH/pred" --ref "$D/labelsTs" --dataset-json "$D/dataset.json" --out "$SCRATCH/summary.json"

expect_exit 2 "unknown key \"epochz\"" -- bash -c "printf 'epochz: 1\n' > '$SCRATCH/bad.yaml' && '$MEDKD' --quiet train --dataset '$D' --config '$SCRATCH/bad.yaml' --out '$SCRATCH/bad'"
expect_exit 2 "unknown model|known" -- bash -c "printf 'model: {name: nonet}\nfolds: 2\n' > '$SCRATCH/bad2.yaml' && '$MEDKD' --quiet train --dataset '$D' --config '$SCRATCH/bad2.yaml' --out '$SCRATCH/bad2'"
expect_exit 2 "nothing to resume" -- "$MEDKD" --quiet train --dataset "$D" --out "$SCRATCH/none" --resume
expect_exit 2 "CUDA is not available|not a valid" -- "$MEDKD" --quiet train --dataset "$D" --config "$SCRATCH/config.yaml" --out "$SCRATCH/gpu" --device cuda
expect_exit 2 "no checkpoint" -- "$MEDKD" --quiet predict --model "$SCRATCH" --input "$D/imagesTs" --output "$SCRATCH/p2"
expect_exit 2 "no channel 1" -- bash -c "mkdir -p '$SCRATCH/one' && cp '$D'/imagesTs/*_0000.nii.gz '$SCRATCH/one/' && '$MEDKD' --quiet predict --model '$SCRATCH/run' --input '$SCRATCH/one' --output '$SCRATCH/p3'"
finish
