// Training patches cut from preprocessed cases: 3-D boxes, or 2-D axial slices of 3-D volumes for
// 2-D networks (`dims: 2`).
//
// As in nnU-Net, a fraction of the patches (a third by default) is centred on a foreground voxel of
// a randomly chosen class: small structures would otherwise be seen so rarely that a network learns
// to predict background everywhere. The rest are placed uniformly at random. A volume smaller than
// the patch along an axis is centred in the patch and zero-padded (image 0 is the normalised mean
// intensity, label 0 is background).
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>

#include "medkd/core/rng.h"
#include "medkd/data/preprocessed_case.h"

namespace medkd::data {

struct PatchSamplerOptions {
  int dims = 3;                                   // 3: boxes, 2: axial slices
  std::array<int64_t, 3> patch_size{64, 64, 64};  // (x, y, z) voxels; z is ignored for dims 2
  double foreground_fraction = 1.0 / 3.0;         // probability of a foreground-centred patch

  void validate() const;  // medkd::Error naming the option and the value
};

struct Patch {
  torch::Tensor image;                 // [C, Z, Y, X] float32, or [C, Y, X] for dims 2
  torch::Tensor label;                 // [1, Z, Y, X] uint8, or [1, Y, X] for dims 2
  bool centred_on_foreground = false;  // false also when the case had no foreground to centre on
};

// Draws one patch: foreground-centred with probability `foreground_fraction`, else uniform.
Patch sample_patch(const PreprocessedCase& source, const PatchSamplerOptions& options,
                   core::Rng& rng);

// Draws one patch of the given kind. A foreground patch picks a class uniformly among those with
// recorded locations, then one of its locations, and places the patch so that the location is as
// close to the centre as the volume allows (the patch stays inside the volume where it fits). A
// case without any recorded foreground falls back to a uniform patch.
Patch sample_patch(const PreprocessedCase& source, const PatchSamplerOptions& options,
                   bool foreground, core::Rng& rng);

}  // namespace medkd::data
