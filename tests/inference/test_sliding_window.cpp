#include "medkd/inference/sliding_window.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"

using medkd::inference::SlidingWindowOptions;

TEST(SlidingWindow, WindowStartsCoverTheAxisWithHalfOverlap) {
  EXPECT_EQ(medkd::inference::window_starts(10, 4, 0.5), (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(medkd::inference::window_starts(4, 4, 0.5), (std::vector<int64_t>{0}));
  EXPECT_EQ(medkd::inference::window_starts(3, 8, 0.5), (std::vector<int64_t>{0}));
  const auto starts = medkd::inference::window_starts(11, 4, 0.5);
  EXPECT_EQ(starts.front(), 0);
  EXPECT_EQ(starts.back(), 7);
  for (size_t i = 1; i < starts.size(); ++i) EXPECT_LE(starts[i] - starts[i - 1], 2);
}

TEST(SlidingWindow, GaussianMapPeaksAtTheCentreWithSigmaAnEighthOfTheWindow) {
  const torch::Tensor map = medkd::inference::gaussian_importance_map({9, 17}, 0.125);
  EXPECT_EQ(map.sizes(), (std::vector<int64_t>{9, 17}));
  EXPECT_FLOAT_EQ(map[4][8].item<float>(), 1.0f);
  // One σ (17/8 = 2.125 voxels) from the centre along the second axis: exp(-1/2) of the peak,
  // checked between neighbouring voxels 2 and 3 away.
  EXPECT_NEAR(map[4][8 + 2].item<float>(), std::exp(-4.0 / (2 * 2.125 * 2.125)), 1e-6);
  EXPECT_GT(map.min().item<float>(), 0.0f);
}

TEST(SlidingWindow, AnIdentityNetworkReproducesItsInput) {
  const torch::Tensor image = torch::rand({2, 13, 10, 7});
  SlidingWindowOptions options;
  options.window = {6, 4, 4};
  options.batch_size = 3;
  const torch::Tensor out = medkd::inference::sliding_window(
      image, [](const torch::Tensor& x) { return x; }, options);
  EXPECT_EQ(out.sizes(), image.sizes());
  EXPECT_TRUE(torch::allclose(out, image, 1e-5, 1e-6));
}

TEST(SlidingWindow, ImagesSmallerThanTheWindowArePaddedAndCropped) {
  const torch::Tensor image = torch::rand({1, 3, 5});
  SlidingWindowOptions options;
  options.window = {8, 8};
  int calls = 0;
  const torch::Tensor out = medkd::inference::sliding_window(
      image,
      [&](const torch::Tensor& x) {
        ++calls;
        EXPECT_EQ(x.sizes(), (std::vector<int64_t>{1, 1, 8, 8}));
        return x * 2;
      },
      options);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(torch::allclose(out, image * 2));
}

TEST(SlidingWindow, MirroringOfAnEquivariantNetworkChangesNothing) {
  const torch::Tensor image = torch::rand({1, 1, 4, 6, 6});  // [B, C, Z, Y, X]
  auto network = [](const torch::Tensor& x) { return torch::cat({x, -x}, 1); };
  const auto mirrored = medkd::inference::with_mirroring(network, {0, 1, 2});
  EXPECT_TRUE(torch::allclose(mirrored(image), network(image)));
}

TEST(SlidingWindow, BadOptionsNameTheProblem) {
  SlidingWindowOptions options;
  options.window = {4, 4};
  EXPECT_THROW(options.validate(3), medkd::Error);
  options.overlap = 1.0;
  EXPECT_THROW(options.validate(2), medkd::Error);
}
