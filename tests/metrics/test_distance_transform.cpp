#include "medkd/metrics/distance_transform.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "medkd/core/rng.h"

using medkd::metrics::Grid3;

namespace {

// Brute force over all pairs: the definition itself.
std::vector<double> brute_force(const std::vector<uint8_t>& features, const Grid3& g) {
  std::vector<double> out(features.size(), std::numeric_limits<double>::infinity());
  for (int64_t z = 0; z < g.size[2]; ++z)
    for (int64_t y = 0; y < g.size[1]; ++y)
      for (int64_t x = 0; x < g.size[0]; ++x)
        for (int64_t fz = 0; fz < g.size[2]; ++fz)
          for (int64_t fy = 0; fy < g.size[1]; ++fy)
            for (int64_t fx = 0; fx < g.size[0]; ++fx) {
              if (!features[g.index(fx, fy, fz)]) continue;
              const double dx = (x - fx) * g.spacing[0], dy = (y - fy) * g.spacing[1],
                           dz = (z - fz) * g.spacing[2];
              double& o = out[g.index(x, y, z)];
              o = std::min(o, dx * dx + dy * dy + dz * dz);
            }
  return out;
}

}  // namespace

TEST(DistanceTransform, SingleFeatureGivesSquaredPhysicalDistance) {
  Grid3 g;
  g.size = {4, 3, 5};
  g.spacing = {0.5, 1.0, 3.0};
  std::vector<uint8_t> f(g.voxels(), 0);
  f[g.index(1, 2, 0)] = 1;
  const auto d = medkd::metrics::squared_distance_transform(f, g);
  // (3, 0, 4) is 2 voxels (1 mm) in x, 2 voxels (2 mm) in y and 4 voxels (12 mm) in z away.
  EXPECT_DOUBLE_EQ(d[g.index(3, 0, 4)], 1.0 + 4.0 + 144.0);
  EXPECT_DOUBLE_EQ(d[g.index(1, 2, 0)], 0.0);
}

TEST(DistanceTransform, MatchesBruteForceOnRandomAnisotropicMasks) {
  medkd::core::Rng rng(3);
  for (int trial = 0; trial < 5; ++trial) {
    Grid3 g;
    g.size = {rng.integer(1, 7), rng.integer(1, 6), rng.integer(1, 5)};
    g.spacing = {rng.uniform(0.3, 2.0), rng.uniform(0.3, 2.0), rng.uniform(0.5, 5.0)};
    std::vector<uint8_t> f(g.voxels());
    for (auto& v : f) v = rng.bernoulli(0.15);
    f[0] = 1;
    const auto expected = brute_force(f, g);
    for (int threads : {1, 2}) {
      const auto d = medkd::metrics::squared_distance_transform(f, g, threads);
      for (size_t i = 0; i < d.size(); ++i)
        ASSERT_NEAR(d[i], expected[i], 1e-9) << "trial " << trial;
    }
  }
}

TEST(DistanceTransform, NoFeaturesGivesInfinity) {
  Grid3 g;
  g.size = {3, 2, 2};
  const auto d = medkd::metrics::squared_distance_transform(std::vector<uint8_t>(12, 0), g);
  for (double v : d) EXPECT_TRUE(std::isinf(v));
}
