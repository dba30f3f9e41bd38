#include "medkd/metrics/distance_transform.h"

#include <limits>

#include "medkd/core/error.h"
#include "medkd/core/threads.h"

namespace medkd::metrics {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// One 1-D pass: out[i] = min_j ((i - j)·spacing)² + f[j] over the line. `vertices` and
// `boundaries` are scratch space of size n and n + 1. Samples with f = inf carry no parabola.
void lower_envelope(const double* f, double* out, int64_t n, double spacing, int64_t* vertices,
                    double* boundaries) {
  int64_t k = -1;  // index of the rightmost parabola in the envelope
  for (int64_t q = 0; q < n; ++q) {
    if (f[q] == kInf) continue;
    const double xq = q * spacing;
    double s = -kInf;
    while (k >= 0) {
      const double xv = vertices[k] * spacing;
      // Where the parabola from q overtakes the one from vertices[k].
      s = ((f[q] + xq * xq) - (f[vertices[k]] + xv * xv)) / (2.0 * (xq - xv));
      if (s > boundaries[k]) break;
      --k;
    }
    ++k;
    vertices[k] = q;
    boundaries[k] = k == 0 ? -kInf : s;
    boundaries[k + 1] = kInf;
  }
  if (k < 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = kInf;
    return;
  }
  int64_t j = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double x = i * spacing;
    while (boundaries[j + 1] < x) ++j;
    const double d = x - vertices[j] * spacing;
    out[i] = d * d + f[vertices[j]];
  }
}

// Runs the 1-D pass along `axis` (0 = x, 1 = y, 2 = z) for every line of the grid, in place.
void pass_along(std::vector<double>& values, const Grid3& grid, int axis, int threads) {
  const int64_t n = grid.size[axis];
  if (n == 1) return;
  const int64_t stride = axis == 0 ? 1 : axis == 1 ? grid.size[0] : grid.size[0] * grid.size[1];
  const int64_t lines = grid.voxels() / n;
  // Line l starts at: for axis x, l * nx; for y, (l / nx) * nx * ny + l % nx; for z, l.
  auto line_start = [&](int64_t l) -> int64_t {
    if (axis == 0) return l * n;
    if (axis == 1) return (l / grid.size[0]) * grid.size[0] * grid.size[1] + l % grid.size[0];
    return l;
  };
  const int workers = std::max(1, threads);
  const int64_t chunk = (lines + workers - 1) / workers;
  core::parallel_for(workers, workers, [&](int64_t w) {
    std::vector<double> f(n), out(n), boundaries(n + 1);
    std::vector<int64_t> vertices(n);
    const int64_t end = std::min(lines, (w + 1) * chunk);
    for (int64_t l = w * chunk; l < end; ++l) {
      const int64_t start = line_start(l);
      for (int64_t i = 0; i < n; ++i) f[i] = values[start + i * stride];
      lower_envelope(f.data(), out.data(), n, grid.spacing[axis], vertices.data(),
                     boundaries.data());
      for (int64_t i = 0; i < n; ++i) values[start + i * stride] = out[i];
    }
  });
}

}  // namespace

std::vector<double> squared_distance_transform(const std::vector<uint8_t>& features,
                                               const Grid3& grid, int threads) {
  MEDKD_CHECK(int64_t(features.size()) == grid.voxels(), "distance transform: ", features.size(),
              " voxels given for a grid of ", grid.voxels());
  if (threads <= 0) threads = core::num_threads();
  std::vector<double> values(features.size());
  for (size_t i = 0; i < features.size(); ++i) values[i] = features[i] ? 0.0 : kInf;
  for (int axis = 0; axis < 3; ++axis) pass_along(values, grid, axis, threads);
  return values;
}

}  // namespace medkd::metrics
