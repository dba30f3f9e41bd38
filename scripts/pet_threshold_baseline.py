#!/usr/bin/env python3
"""What thresholding PET alone reaches on a PET/CT dataset: the reference a network must beat.

    python3 scripts/pet_threshold_baseline.py DATASET [--split Ts|Tr] [--channel 1] [--label 1]

For every SUV threshold t (steps of 0.1) each case's mask is "PET >= t" over the whole volume;
its Dice against the label is computed per case with medkd evaluate's rules (both masks empty:
left out; one empty: 0). Two figures are printed:
  - the best single threshold for all cases and its mean Dice: an oracle that picked t on the
    very cases it is scored on, so an upper bound for any fixed threshold;
  - the mean over cases that have the label of each case's own best threshold: an upper bound for
    any thresholding that adapts to the case (SUVmax fractions and the like).
Standard library only (gzip, struct), so it runs wherever python3 does.
"""
import argparse
import array
import glob
import gzip
import os
import struct
import sys

STEP = 0.1
BINS = 400  # thresholds 0 .. 39.9 SUV


def read_nifti(path):
    data = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    if struct.unpack("<i", data[0:4])[0] != 348:
        sys.exit(f"{path}: not a little-endian NIfTI-1 file")
    dims = struct.unpack("<8h", data[40:56])
    datatype = struct.unpack("<h", data[70:72])[0]
    offset = int(struct.unpack("<f", data[108:112])[0])
    slope, intercept = struct.unpack("<2f", data[112:120])
    codes = {2: "B", 4: "h", 8: "i", 16: "f", 64: "d", 256: "b", 512: "H", 768: "I"}
    if datatype not in codes:
        sys.exit(f"{path}: unsupported NIfTI data type {datatype}")
    values = array.array(codes[datatype])
    count = dims[1] * dims[2] * dims[3]
    values.frombytes(data[offset:offset + count * values.itemsize])
    if slope not in (0.0, 1.0) or intercept != 0.0:
        return [v * slope + intercept for v in values]
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("--split", default="Ts", choices=["Ts", "Tr"])
    parser.add_argument("--channel", type=int, default=1, help="PET channel index (default 1)")
    parser.add_argument("--label", type=int, default=1, help="label value (default 1, tumour)")
    args = parser.parse_args()

    labels = sorted(glob.glob(os.path.join(args.dataset, f"labels{args.split}", "*.nii*")))
    if not labels:
        sys.exit(f"{args.dataset}: no labels{args.split}/ files")
    cases = []  # (id, label voxels per PET bin, other voxels per PET bin, label voxel count)
    for path in labels:
        case = os.path.basename(path).split(".nii")[0]
        ending = path[path.index(".nii"):]
        pet_path = os.path.join(args.dataset, f"images{args.split}", f"{case}_{args.channel:04d}{ending}")
        label, pet = read_nifti(path), read_nifti(pet_path)
        inside, outside = [0] * BINS, [0] * BINS
        for value, lab in zip(pet, label):
            b = min(BINS - 1, max(0, int(value / STEP)))
            (inside if lab == args.label else outside)[b] += 1
        cases.append((case, inside, outside, sum(inside)))

    def dice(inside, outside, reference, t):
        hit, extra = sum(inside[t:]), sum(outside[t:])
        return None if reference + hit + extra == 0 else 2 * hit / (reference + hit + extra)

    best = None
    for t in range(BINS):
        scores = [d for d in (dice(i, o, r, t) for _, i, o, r in cases) if d is not None]
        if scores and (best is None or sum(scores) / len(scores) > best[0]):
            best = (sum(scores) / len(scores), t * STEP, scores)
    print(f"best single threshold: SUV {best[1]:.1f}, mean Dice {best[0]:.4f} over {len(best[2])} "
          f"case(s): {', '.join(f'{d:.3f}' for d in best[2])}")
    own = [max(dice(i, o, r, t) for t in range(BINS)) for _, i, o, r in cases if r > 0]
    if own:
        print(f"best threshold per case (cases with the label): mean Dice {sum(own) / len(own):.4f}: "
              f"{', '.join(f'{d:.3f}' for d in own)}")


if __name__ == "__main__":
    main()
