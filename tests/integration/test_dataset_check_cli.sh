# `medkd synth` + `medkd dataset check` end to end: a clean dataset passes, a damaged one is
# reported file by file with exit 2, never a crash.
source "$(dirname "$0")/lib.sh"
D="$SCRATCH/petct"

# The size and spacing of the issue's example; the files must carry that spacing.
expect_exit 0 "" -- "$MEDKD" --quiet synth --kind petct --cases 4 --size 96,96,96 --spacing 1,1,2 --seed 2 --out "$D"
expect_exit 0 "OK" -- "$MEDKD" --quiet dataset check "$D"
expect_exit 0 "spacing +1,1,2" -- "$MEDKD" image info "$D/imagesTr/$(ls "$D/imagesTr" | head -n 1)"
expect_exit 0 "size +96x96x96" -- "$MEDKD" image info "$D/labelsTr/$(ls "$D/labelsTr" | head -n 1)"
expect_exit 0 "unsigned_char" -- "$MEDKD" image info "$D/labelsTr/$(ls "$D/labelsTr" | head -n 1)"

M="$SCRATCH/mri"
expect_exit 0 "" -- "$MEDKD" --quiet synth --kind mri --preset tiny --cases 2 --seed 2 --out "$M"
expect_exit 0 "OK" -- "$MEDKD" --quiet dataset check "$M"
expect_exit 2 "exists and is not empty" -- "$MEDKD" --quiet synth --kind mri --preset tiny --cases 2 --out "$M"

# Damage a copy in several ways; every problem is reported with its file.
B="$SCRATCH/broken"
cp -r "$D" "$B"
cases=($(ls "$B/labelsTr" | sed 's/\.nii\.gz$//'))
rm "$B/imagesTr/${cases[0]}_0001.nii.gz"                                  # missing channel
truncate -s 300 "$B/imagesTr/${cases[1]}_0000.nii.gz"                     # truncated file
cp "$M/labelsTr/$(ls "$M/labelsTr" | head -n 1)" "$B/labelsTr/${cases[2]}.nii.gz"  # other grid
cp "$B/labelsTr/${cases[3]}.nii.gz" "$B/labelsTr/orphan.nii.gz"           # label without images
expect_exit 2 "has [0-9]+ problem" -- "$MEDKD" --quiet dataset check "$B"
expect_file_contains "$SCRATCH/stdout" "${cases[0]}_0001.nii.gz: missing channel 1"
expect_file_contains "$SCRATCH/stdout" "${cases[1]}_0000.nii.gz: .*(truncated|cannot|not a readable)"
expect_file_contains "$SCRATCH/stdout" "labelsTr/${cases[2]}.nii.gz: (size|geometry)"
expect_file_contains "$SCRATCH/stdout" "orphan.nii.gz: label without images"
expect_file_contains "$SCRATCH/stdout" "dataset.json: numTraining is 4"

printf '{"channel_names": ' > "$SCRATCH/json/dataset.json" 2>/dev/null || { mkdir -p "$SCRATCH/json"; printf '{"channel_names": ' > "$SCRATCH/json/dataset.json"; }
expect_exit 2 "problem" -- "$MEDKD" --quiet dataset check "$SCRATCH/json"
expect_file_contains "$SCRATCH/stdout" "dataset.json: not valid JSON"
expect_exit 2 "problem" -- "$MEDKD" --quiet dataset check "$SCRATCH/does-not-exist"
finish
