# `medkd evaluate` end to end on synthetic labels: identical, perturbed, and every bad input.
source "$(dirname "$0")/lib.sh"
D="$SCRATCH/data"
"$MEDKD" --quiet synth --kind petct --preset tiny --cases 3 --seed 5 --out "$D" >/dev/null

# Identical label maps: Dice 1, HD95 0, for every label present.
expect_exit 0 "foreground mean +1\.0000" -- "$MEDKD" --quiet evaluate --pred "$D/labelsTr" --ref "$D/labelsTr" \
  --dataset-json "$D/dataset.json" --out "$SCRATCH/same/summary.json"
expect_file_contains "$SCRATCH/same/summary.json" '"metric_per_case"'
expect_file_contains "$SCRATCH/same/summary.json" '"foreground_mean"'
expect_file_contains "$SCRATCH/same/summary.csv" '^case,label,Dice,IoU,RVD,HD95,ASSD,TP,FP,FN,TN,n_pred,n_ref$'

# A perturbed copy scores below 1 and the summary is complete.
"$MEDKD" --quiet labels perturb --in "$D/labelsTr" --out "$SCRATCH/perturbed" --seed 3 --max-shift 1 >/dev/null
expect_exit 0 "wrote" -- "$MEDKD" --quiet evaluate --pred "$SCRATCH/perturbed" --ref "$D/labelsTr" \
  --labels 1,2 --out "$SCRATCH/perturbed.json" --csv "$SCRATCH/perturbed-table.csv"
[ -f "$SCRATCH/perturbed-table.csv" ] || fail "--csv was not written"
if grep -q '"Dice": 1.0,' "$SCRATCH/perturbed.json" && ! grep -q '"Dice": 0\.' "$SCRATCH/perturbed.json"; then
  fail "a perturbed copy should not be perfect"
fi

# Bad inputs: exit 2 and one line naming the file or option.
mkdir -p "$SCRATCH/partial"
first=$(ls "$D/labelsTr" | head -n 1)
cp "$D/labelsTr/$first" "$SCRATCH/partial/"
expect_exit 2 "no prediction for 2 reference case" -- "$MEDKD" --quiet evaluate --pred "$SCRATCH/partial" --ref "$D/labelsTr" --out "$SCRATCH/x.json"
[ ! -e "$SCRATCH/x.json" ] || fail "a failed evaluation wrote its output"

"$MEDKD" --quiet synth --kind petct --preset tiny --cases 3 --seed 5 --spacing 1,1,5 --out "$SCRATCH/other" >/dev/null
expect_exit 2 "geometry differs" -- "$MEDKD" --quiet evaluate --pred "$SCRATCH/other/labelsTr" --ref "$D/labelsTr" --out "$SCRATCH/x.json"

mkdir -p "$SCRATCH/float"
for f in "$D"/labelsTr/*.nii.gz; do
  case_id=$(basename "$f" .nii.gz)
  cp "$D/imagesTr/${case_id}_0001.nii.gz" "$SCRATCH/float/$case_id.nii.gz"   # PET in SUV: fractional
done
expect_exit 2 "not an integer label map" -- "$MEDKD" --quiet evaluate --pred "$SCRATCH/float" --ref "$D/labelsTr" --out "$SCRATCH/x.json"

expect_exit 2 "--ref .* is not a folder" -- "$MEDKD" evaluate --pred "$D/labelsTr" --ref "$SCRATCH/none" --out "$SCRATCH/x.json"
expect_exit 2 "--labels must be" -- "$MEDKD" evaluate --pred "$D/labelsTr" --ref "$D/labelsTr" --labels 1,x --out "$SCRATCH/x.json"
finish
