# `medkd data colin27` end to end on the real Debian packages: the nnU-Net layout, the cross-subject
# folder, `medkd dataset check` on the result, and one-line errors with exit 2 for bad options.
source "$(dirname "$0")/lib.sh"
TEMPLATES=/usr/share/mricron/templates
SECOND=/usr/share/doc/insighttoolkit5-examples/examples/Data

# Without the packages the command must say which one to install; nothing else can be checked.
if [ ! -f "$TEMPLATES/aal.nii.gz" ] || [ ! -f "$SECOND/KmeansTest_T1UCharRaw.nii.gz" ]; then
  expect_exit 2 "install (mricron-data|insighttoolkit5-examples)" -- "$MEDKD" --quiet data colin27 --out "$SCRATCH/none"
  echo "mricron-data or insighttoolkit5-examples not installed: only the error was checked"
  finish
  exit 0
fi

D="$SCRATCH/colin"
expect_exit 0 "4 training \+ 2 test blocks" -- "$MEDKD" --quiet data colin27 --out "$D"
expect_file_contains "$D/dataset.json" '"0": "T1"'
expect_file_contains "$D/dataset.json" '"rest_of_brain": 8'
expect_file_contains "$D/dataset.json" '"numTraining": 4'
[ "$(ls "$D/imagesTr" | wc -l)" -eq 4 ] || fail "imagesTr should hold 4 files"
[ "$(ls "$D/labelsTr" | wc -l)" -eq 4 ] || fail "labelsTr should hold 4 files"
[ "$(ls "$D/imagesTs" | wc -l)" -eq 2 ] || fail "imagesTs should hold 2 files"
[ -f "$D/imagesTs/colin27_b01_0000.nii.gz" ] || fail "block 1 should be a test block"
[ -f "$D/crosssubject/imagesTs/kmeanstest_t1_0000.nii.gz" ] || fail "cross-subject image missing"
[ -f "$D/crosssubject/labelsTs/kmeanstest_t1.nii.gz" ] || fail "cross-subject label missing"
expect_file_contains "$D/crosssubject/mapping.json" '"from_dataset_labels"'
expect_file_contains "$D/crosssubject/mapping.json" '"8": 2'
expect_exit 0 "OK" -- "$MEDKD" --quiet dataset check "$D"
expect_exit 0 "spacing +1,1,1" -- "$MEDKD" image info "$D/imagesTr/colin27_b00_0000.nii.gz"
expect_exit 0 "size +[0-9]+x[0-9]+x16" -- "$MEDKD" image info "$D/labelsTr/colin27_b00.nii.gz"
expect_exit 0 "max 8" -- "$MEDKD" image info --values "$D/labelsTs/colin27_b01.nii.gz"
# The second subject keeps its 2 x 2 x 3 mm voxels, reordered to Colin27's axes.
expect_exit 0 "spacing +2,3,2" -- "$MEDKD" image info "$D/crosssubject/imagesTs/kmeanstest_t1_0000.nii.gz"
expect_exit 0 "max 2" -- "$MEDKD" image info --values "$D/crosssubject/labelsTs/kmeanstest_t1.nii.gz"

A="$SCRATCH/aal"
expect_exit 0 "" -- "$MEDKD" --quiet data colin27 --labels aal --block-slices 24 --gap 2 --out "$A"
expect_file_contains "$A/dataset.json" '"Precentral_L": 1'
expect_file_contains "$A/dataset.json" '"Vermis_10": 116'
expect_file_contains "$A/dataset.json" '"rest_of_brain": 117'
expect_file_contains "$A/crosssubject/mapping.json" '"117": 2'
expect_exit 0 "OK" -- "$MEDKD" --quiet dataset check "$A"

H="$SCRATCH/hemisphere"
expect_exit 0 "6 training \+ 6 test blocks" -- "$MEDKD" --quiet data colin27 --split hemisphere --out "$H"
[ -z "$(ls "$H/imagesTr" | grep -v '^colin27_left_')" ] || fail "training blocks should be left"
[ -z "$(ls "$H/imagesTs" | grep -v '^colin27_right_')" ] || fail "test blocks should be right"
expect_exit 0 "OK" -- "$MEDKD" --quiet dataset check "$H"

expect_exit 2 "exists and is not empty" -- "$MEDKD" --quiet data colin27 --out "$D"
expect_exit 0 "" -- "$MEDKD" --quiet data colin27 --out "$D" --overwrite
expect_exit 2 "--labels must be merged or aal" -- "$MEDKD" --quiet data colin27 --labels lobes --out "$SCRATCH/x"
expect_exit 2 "--split must be blocks or hemisphere" -- "$MEDKD" --quiet data colin27 --split random --out "$SCRATCH/x"
expect_exit 2 "--block-slices must be between" -- "$MEDKD" --quiet data colin27 --block-slices 0 --out "$SCRATCH/x"
expect_exit 2 "--gap must be between" -- "$MEDKD" --quiet data colin27 --gap -1 --out "$SCRATCH/x"
expect_exit 2 "cannot be used with --split hemisphere" -- "$MEDKD" --quiet data colin27 --labels aal --split hemisphere --out "$SCRATCH/x"
expect_exit 2 "missing .*ch2bet.nii.gz: install mricron-data" -- "$MEDKD" --quiet data colin27 --templates "$SCRATCH/nowhere" --out "$SCRATCH/x"
expect_exit 2 "install insighttoolkit5-examples" -- "$MEDKD" --quiet data colin27 --second-subject "$SCRATCH/nowhere" --out "$SCRATCH/x"
expect_exit 2 "--block-slices .* leave" -- "$MEDKD" --quiet data colin27 --block-slices 200 --out "$SCRATCH/x"
expect_exit 2 "--out" -- "$MEDKD" --quiet data colin27
expect_exit 2 "" -- "$MEDKD" --quiet data
[ ! -e "$SCRATCH/x" ] || fail "a failed command left $SCRATCH/x behind"
expect_exit 0 "Layout of --out" -- "$MEDKD" data colin27 --help
finish
