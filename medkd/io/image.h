// A medical image: voxel data as a tensor plus the geometry that places it in the patient.
//
// Data is [C, Z, Y, X] (channels first, x fastest in memory, as ITK stores voxels), one channel per
// modality. Geometry follows ITK: physical point = origin + direction * (index ⊙ spacing), with the
// index in (x, y, z) order; column j of `direction` is the physical direction of index axis j.
#pragma once

#include <torch/torch.h>

#include <array>
#include <string>

namespace medkd::io {

struct Geometry {
  std::array<double, 3> spacing{1.0, 1.0, 1.0};  // mm along x, y, z
  std::array<double, 3> origin{0.0, 0.0, 0.0};   // mm, physical position of voxel (0, 0, 0)
  std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};  // row-major 3x3

  // Empty when the two agree within `tolerance` (relative for spacing, mm for origin, absolute for
  // direction cosines); otherwise a description such as "spacing 1,1,2 vs 1,1,3".
  std::string difference(const Geometry& other, double tolerance = 1e-4) const;
  bool matches(const Geometry& other, double tolerance = 1e-4) const {
    return difference(other, tolerance).empty();
  }
};

// "1,1,2"-style formatting of a triple.
std::string format_triple(const std::array<double, 3>& v);

struct Image {
  torch::Tensor data;  // [C, Z, Y, X]
  Geometry geometry;

  int64_t channels() const { return data.size(0); }
  // Size in ITK's (x, y, z) order.
  std::array<int64_t, 3> size_xyz() const { return {data.size(3), data.size(2), data.size(1)}; }
  bool is_integer() const { return !data.is_floating_point(); }
};

// "96x96x48" for the (x, y, z) size.
std::string format_size(const std::array<int64_t, 3>& size_xyz);

}  // namespace medkd::io
