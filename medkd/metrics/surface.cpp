#include "medkd/metrics/surface.h"

#include <algorithm>
#include <cmath>

#include "medkd/core/error.h"

namespace medkd::metrics {

std::vector<uint8_t> surface_voxels(const std::vector<uint8_t>& mask, const Grid3& grid) {
  MEDKD_CHECK(int64_t(mask.size()) == grid.voxels(), "surface: mask has ", mask.size(),
              " voxels, grid has ", grid.voxels());
  const int64_t nx = grid.size[0], ny = grid.size[1], nz = grid.size[2];
  std::vector<uint8_t> surface(mask.size(), 0);
  for (int64_t z = 0; z < nz; ++z) {
    for (int64_t y = 0; y < ny; ++y) {
      for (int64_t x = 0; x < nx; ++x) {
        const int64_t i = grid.index(x, y, z);
        if (!mask[i]) continue;
        // A face neighbour outside the image counts as background, except along axes of size 1.
        const bool border = (nx > 1 && (x == 0 || x == nx - 1)) ||
                            (ny > 1 && (y == 0 || y == ny - 1)) ||
                            (nz > 1 && (z == 0 || z == nz - 1));
        const bool next_to_background = (x > 0 && !mask[i - 1]) || (x + 1 < nx && !mask[i + 1]) ||
                                        (y > 0 && !mask[i - nx]) || (y + 1 < ny && !mask[i + nx]) ||
                                        (z > 0 && !mask[i - nx * ny]) ||
                                        (z + 1 < nz && !mask[i + nx * ny]);
        surface[i] = border || next_to_background;
      }
    }
  }
  return surface;
}

namespace {

struct Box {
  std::array<int64_t, 3> lo{INT64_MAX, INT64_MAX, INT64_MAX};
  std::array<int64_t, 3> hi{-1, -1, -1};  // inclusive
  bool empty() const { return hi[0] < 0; }
};

void extend(Box& box, const std::vector<uint8_t>& mask, const Grid3& grid) {
  for (int64_t z = 0; z < grid.size[2]; ++z)
    for (int64_t y = 0; y < grid.size[1]; ++y)
      for (int64_t x = 0; x < grid.size[0]; ++x)
        if (mask[grid.index(x, y, z)]) {
          const std::array<int64_t, 3> p{x, y, z};
          for (int a = 0; a < 3; ++a) {
            box.lo[a] = std::min(box.lo[a], p[a]);
            box.hi[a] = std::max(box.hi[a], p[a]);
          }
        }
}

std::vector<uint8_t> crop(const std::vector<uint8_t>& mask, const Grid3& grid, const Box& box,
                          const Grid3& cropped) {
  std::vector<uint8_t> out(cropped.voxels());
  for (int64_t z = 0; z < cropped.size[2]; ++z)
    for (int64_t y = 0; y < cropped.size[1]; ++y)
      for (int64_t x = 0; x < cropped.size[0]; ++x)
        out[cropped.index(x, y, z)] = mask[grid.index(x + box.lo[0], y + box.lo[1], z + box.lo[2])];
  return out;
}

// Distances from each surface voxel of `from` to the nearest voxel of `to_surface`.
std::vector<double> directed(const std::vector<uint8_t>& from_surface,
                             const std::vector<uint8_t>& to_surface, const Grid3& grid,
                             int threads) {
  const std::vector<double> squared = squared_distance_transform(to_surface, grid, threads);
  std::vector<double> out;
  for (size_t i = 0; i < from_surface.size(); ++i)
    if (from_surface[i]) out.push_back(std::sqrt(squared[i]));
  return out;
}

}  // namespace

SurfaceDistances surface_distances(const std::vector<uint8_t>& pred,
                                   const std::vector<uint8_t>& ref, const Grid3& grid,
                                   int threads) {
  const std::vector<uint8_t> pred_surface = surface_voxels(pred, grid);
  const std::vector<uint8_t> ref_surface = surface_voxels(ref, grid);
  Box box;
  extend(box, pred_surface, grid);
  extend(box, ref_surface, grid);
  MEDKD_CHECK(!box.empty(), "surface distances need two non-empty masks");
  Grid3 cropped;
  cropped.spacing = grid.spacing;
  for (int a = 0; a < 3; ++a) cropped.size[a] = box.hi[a] - box.lo[a] + 1;
  const auto p = crop(pred_surface, grid, box, cropped);
  const auto r = crop(ref_surface, grid, box, cropped);
  MEDKD_CHECK(std::any_of(p.begin(), p.end(), [](uint8_t v) { return v; }) &&
                  std::any_of(r.begin(), r.end(), [](uint8_t v) { return v; }),
              "surface distances need two non-empty masks");
  return {directed(p, r, cropped, threads), directed(r, p, cropped, threads)};
}

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const double position = q / 100.0 * double(values.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, values.size() - 1);
  const double fraction = position - double(below);
  return values[below] + fraction * (values[above] - values[below]);
}

SurfaceMetrics surface_metrics(const SurfaceDistances& d) {
  SurfaceMetrics m;
  m.hd95 = std::max(percentile(d.pred_to_ref, 95.0), percentile(d.ref_to_pred, 95.0));
  double sum = 0;
  for (double v : d.pred_to_ref) sum += v;
  for (double v : d.ref_to_pred) sum += v;
  m.assd = sum / double(d.pred_to_ref.size() + d.ref_to_pred.size());
  return m;
}

}  // namespace medkd::metrics
