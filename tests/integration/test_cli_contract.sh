# The command-line contract: --version, --help everywhere, exit codes and one-line errors.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "LibTorch 1\.|LibTorch [0-9]" -- "$MEDKD" --version
expect_exit 0 "ITK 5" -- "$MEDKD" --version
expect_exit 0 "BLAS" -- "$MEDKD" --version
expect_exit 0 "threads 1 " -- "$MEDKD" --threads 1 --version
for cmd in "" "synth" "dataset" "dataset check" "evaluate" "labels perturb" "image info" "train" "predict"; do
  # shellcheck disable=SC2086
  expect_exit 0 "Usage" -- "$MEDKD" $cmd --help
done
expect_exit 2 "no command given" -- "$MEDKD"
expect_exit 2 "--no-such-option" -- "$MEDKD" evaluate --pred a --ref b --out c --no-such-option
expect_exit 2 "--ref is required" -- "$MEDKD" evaluate --pred a --out b
expect_exit 2 "threads" -- "$MEDKD" --threads -3 --version
expect_exit 2 "no such file" -- "$MEDKD" image info "$SCRATCH/missing.nii.gz"
printf 'not an image' > "$SCRATCH/bad.nii.gz"
expect_exit 2 "bad.nii.gz" -- "$MEDKD" image info "$SCRATCH/bad.nii.gz"
finish
