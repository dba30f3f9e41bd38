#include "medkd/io/image.h"

#include <cmath>
#include <sstream>

namespace medkd::io {

std::string format_triple(const std::array<double, 3>& v) {
  std::ostringstream out;
  out << v[0] << ',' << v[1] << ',' << v[2];
  return out.str();
}

std::string format_size(const std::array<int64_t, 3>& size_xyz) {
  std::ostringstream out;
  out << size_xyz[0] << 'x' << size_xyz[1] << 'x' << size_xyz[2];
  return out.str();
}

std::string Geometry::difference(const Geometry& other, double tolerance) const {
  std::ostringstream out;
  auto add = [&](const std::string& what) {
    if (out.tellp() > 0) out << "; ";
    out << what;
  };
  for (int i = 0; i < 3; ++i) {
    const double scale = std::max({1.0, std::abs(spacing[i]), std::abs(other.spacing[i])});
    if (std::abs(spacing[i] - other.spacing[i]) > tolerance * scale) {
      add("spacing " + format_triple(spacing) + " vs " + format_triple(other.spacing));
      break;
    }
  }
  // Origins are compared in voxels of the coarser spacing: a tolerance of 1e-4 voxel is far
  // below anything a resampling would produce, yet above float rounding in file headers.
  for (int i = 0; i < 3; ++i) {
    const double voxel = std::max(std::abs(spacing[i]), std::abs(other.spacing[i]));
    if (std::abs(origin[i] - other.origin[i]) > tolerance * std::max(1.0, voxel) * 10) {
      add("origin " + format_triple(origin) + " vs " + format_triple(other.origin));
      break;
    }
  }
  for (int i = 0; i < 9; ++i) {
    if (std::abs(direction[i] - other.direction[i]) > tolerance * 10) {
      std::ostringstream d;
      d << "direction differs (element " << i << ": " << direction[i] << " vs "
        << other.direction[i] << ")";
      add(d.str());
      break;
    }
  }
  return out.str();
}

}  // namespace medkd::io
