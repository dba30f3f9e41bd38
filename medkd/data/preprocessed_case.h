// One case after plan-driven preprocessing: what training samples patches from and what
// prediction maps back to the original image grid.
//
// Produced by preprocessing.h (resample to the plan's target spacing, crop to the non-zero region,
// normalise each channel), cached on disk one file per case, consumed by sampler.h/loader.h.
#pragma once

#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

#include "medkd/io/image.h"

namespace medkd::data {

struct PreprocessedCase {
  std::string id;
  torch::Tensor image;  // [C, Z, Y, X] float32, normalised, at the target spacing, cropped
  torch::Tensor label;  // [1, Z, Y, X] uint8 class indices 0..K-1 (undefined for unlabelled cases)

  // Where the cropped, resampled volume came from, so predictions can be put back exactly:
  io::Geometry original_geometry;           // geometry of the input image
  std::array<int64_t, 3> original_size{};   // (x, y, z) voxels of the input image
  std::array<int64_t, 3> resampled_size{};  // (x, y, z) after resampling, before cropping
  std::array<int64_t, 3> crop_begin{};  // (x, y, z) first voxel of the crop in the resampled grid
  std::array<double, 3> spacing{};      // (x, y, z) mm of `image` (the plan's target spacing)

  // Up to a fixed number of voxel coordinates (z, y, x) per class index (index 0 = background is
  // left empty), sampled once at preprocessing so that foreground-centred patches are cheap.
  std::vector<std::vector<std::array<int64_t, 3>>> class_locations;
};

}  // namespace medkd::data
