// Exact Euclidean distance transform on an anisotropic 3-D grid.
//
// Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions" (Theory of Computing,
// 2012): the squared distance separates into one 1-D lower envelope of parabolas per axis, so the
// transform is exact (not a chamfer approximation) and linear in the number of voxels. Spacing
// enters each 1-D pass as the physical position of the samples, which keeps it exact for
// anisotropic voxels.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace medkd::metrics {

// Grid layout shared by the metric code: voxels in [Z, Y, X] order (x fastest), sizes and spacing
// given in (x, y, z) order like ITK.
struct Grid3 {
  std::array<int64_t, 3> size{1, 1, 1};    // x, y, z
  std::array<double, 3> spacing{1, 1, 1};  // mm
  int64_t voxels() const { return size[0] * size[1] * size[2]; }
  int64_t index(int64_t x, int64_t y, int64_t z) const { return (z * size[1] + y) * size[0] + x; }
};

// Squared distance in mm² from every voxel to the nearest voxel with features[i] != 0; +infinity
// everywhere when there is no feature voxel. `threads` = 0 uses LibTorch's thread count.
std::vector<double> squared_distance_transform(const std::vector<uint8_t>& features,
                                               const Grid3& grid, int threads = 1);

}  // namespace medkd::metrics
