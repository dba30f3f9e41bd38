#include "medkd/metrics/surface.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "medkd/core/rng.h"

using medkd::metrics::Grid3;

namespace {

std::vector<uint8_t> box(const Grid3& g, std::array<int64_t, 3> lo, std::array<int64_t, 3> hi) {
  std::vector<uint8_t> m(g.voxels(), 0);
  for (int64_t z = lo[2]; z <= hi[2]; ++z)
    for (int64_t y = lo[1]; y <= hi[1]; ++y)
      for (int64_t x = lo[0]; x <= hi[0]; ++x) m[g.index(x, y, z)] = 1;
  return m;
}

// Directed surface distances by brute force over all pairs of surface voxels.
std::vector<double> brute_directed(const std::vector<uint8_t>& from, const std::vector<uint8_t>& to,
                                   const Grid3& g) {
  std::vector<double> out;
  for (int64_t i = 0; i < g.voxels(); ++i) {
    if (!from[i]) continue;
    double best = INFINITY;
    for (int64_t j = 0; j < g.voxels(); ++j) {
      if (!to[j]) continue;
      const int64_t xi = i % g.size[0], yi = (i / g.size[0]) % g.size[1],
                    zi = i / (g.size[0] * g.size[1]);
      const int64_t xj = j % g.size[0], yj = (j / g.size[0]) % g.size[1],
                    zj = j / (g.size[0] * g.size[1]);
      const double dx = (xi - xj) * g.spacing[0], dy = (yi - yj) * g.spacing[1],
                   dz = (zi - zj) * g.spacing[2];
      best = std::min(best, std::sqrt(dx * dx + dy * dy + dz * dz));
    }
    out.push_back(best);
  }
  return out;
}

}  // namespace

TEST(Surface, ACubeHasAllButItsCentreOnTheSurface) {
  Grid3 g;
  g.size = {5, 5, 5};
  const auto s = medkd::metrics::surface_voxels(box(g, {1, 1, 1}, {3, 3, 3}), g);
  EXPECT_EQ(std::count(s.begin(), s.end(), 1), 26);
  EXPECT_EQ(s[g.index(2, 2, 2)], 0);
}

TEST(Surface, VoxelsOnTheImageBorderAreSurface) {
  Grid3 g;
  g.size = {3, 3, 3};
  const auto s = medkd::metrics::surface_voxels(std::vector<uint8_t>(27, 1), g);
  EXPECT_EQ(std::count(s.begin(), s.end(), 1), 26);  // all but the centre
}

TEST(Surface, SingleSliceImagesIgnoreTheFlatAxis) {
  Grid3 g;
  g.size = {5, 5, 1};
  const auto s = medkd::metrics::surface_voxels(box(g, {1, 1, 0}, {3, 3, 0}), g);
  EXPECT_EQ(std::count(s.begin(), s.end(), 1), 8);  // a 3x3 square: its ring
}

TEST(Surface, PercentileInterpolatesLinearly) {
  EXPECT_DOUBLE_EQ(medkd::metrics::percentile({4, 1, 3, 2}, 50), 2.5);
  EXPECT_NEAR(medkd::metrics::percentile({1, 2, 3, 4}, 95), 3.85, 1e-12);
  EXPECT_DOUBLE_EQ(medkd::metrics::percentile({7}, 95), 7);
  EXPECT_TRUE(std::isnan(medkd::metrics::percentile({}, 95)));
}

TEST(Surface, CubeShiftedByOneVoxelAlongTheThickAxis) {
  // Worked by hand in docs/metrics.md: 3x3x3 cubes, spacing 1 x 1 x 2 mm, shifted by one slice.
  // Each direction has 16 distances of 0, one of 1 mm and nine of 2 mm.
  Grid3 g;
  g.size = {10, 10, 10};
  g.spacing = {1, 1, 2};
  const auto ref = box(g, {3, 3, 3}, {5, 5, 5});
  const auto pred = box(g, {3, 3, 4}, {5, 5, 6});
  const auto d = medkd::metrics::surface_distances(pred, ref, g);
  ASSERT_EQ(d.pred_to_ref.size(), 26u);
  ASSERT_EQ(d.ref_to_pred.size(), 26u);
  const auto m = medkd::metrics::surface_metrics(d);
  EXPECT_DOUBLE_EQ(m.hd95, 2.0);
  EXPECT_NEAR(m.assd, 38.0 / 52.0, 1e-12);
}

TEST(Surface, SurfaceDistancesMatchBruteForceOnRandomMasks) {
  medkd::core::Rng rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    Grid3 g;
    g.size = {rng.integer(3, 8), rng.integer(3, 8), rng.integer(2, 6)};
    g.spacing = {rng.uniform(0.4, 1.5), rng.uniform(0.4, 1.5), rng.uniform(1.0, 4.0)};
    std::vector<uint8_t> a(g.voxels()), b(g.voxels());
    for (auto& v : a) v = rng.bernoulli(0.3);
    for (auto& v : b) v = rng.bernoulli(0.3);
    a[0] = b[g.voxels() - 1] = 1;
    const auto d = medkd::metrics::surface_distances(a, b, g, 2);
    const auto sa = medkd::metrics::surface_voxels(a, g), sb = medkd::metrics::surface_voxels(b, g);
    const auto expected_ab = brute_directed(sa, sb, g), expected_ba = brute_directed(sb, sa, g);
    ASSERT_EQ(d.pred_to_ref.size(), expected_ab.size());
    ASSERT_EQ(d.ref_to_pred.size(), expected_ba.size());
    for (size_t i = 0; i < expected_ab.size(); ++i)
      EXPECT_NEAR(d.pred_to_ref[i], expected_ab[i], 1e-9);
    for (size_t i = 0; i < expected_ba.size(); ++i)
      EXPECT_NEAR(d.ref_to_pred[i], expected_ba[i], 1e-9);
  }
}
