#include "medkd/distill/kd_ops.h"

#include <gtest/gtest.h>

#include <cmath>

#include "distill/kd_test_support.h"
#include "test_support.h"

using medkd::distill::attention_map;
using medkd::distill::interpolate_channels;
using medkd::distill::resize_to;
using medkd::testing::error_of;
using medkd::testing::values;

namespace {

void expect_values(const torch::Tensor& actual, std::vector<double> expected, double tolerance) {
  const torch::Tensor flat = actual.reshape({-1}).to(torch::kDouble);
  ASSERT_EQ(flat.numel(), static_cast<int64_t>(expected.size())) << actual.sizes();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(flat[static_cast<int64_t>(i)].item<double>(), expected[i], tolerance) << "at " << i;
}

}  // namespace

TEST(ResizeTo, ReturnsTheSameTensorWhenTheSizeAlreadyMatches) {
  const auto x = torch::rand({1, 2, 3, 4});
  EXPECT_TRUE(resize_to(x, {3, 4}).is_same(x));
}

TEST(ResizeTo, UpsamplesBilinearlyWithoutAlignedCorners) {
  // Width 2 -> 4, align_corners = false: output j samples (j + 0.5)·2/4 − 0.5 = −0.25 (clamped to
  // 0), 0.25, 0.75, 1.25 (clamped to the last voxel): 1, 0.75·1 + 0.25·3, 0.25·1 + 0.75·3, 3.
  // (align_corners = true would give 1, 1.667, 2.333, 3.)
  expect_values(resize_to(values({1, 3}, {1, 1, 1, 2}), {1, 4}), {1, 1.5, 2.5, 3}, 1e-12);
  // The same along the last axis of a 3-D volume (trilinear).
  const auto volume = resize_to(values({1, 3}, {1, 1, 1, 1, 2}), {1, 1, 4});
  EXPECT_EQ(volume.sizes(), (std::vector<int64_t>{1, 1, 1, 1, 4}));
  expect_values(volume, {1, 1.5, 2.5, 3}, 1e-12);
}

TEST(ResizeTo, DownsamplesByInterpolatingBetweenVoxelCentres) {
  // Width 4 -> 2: positions 0.5 and 2.5, the means of voxels (0, 1) and (2, 3).
  expect_values(resize_to(values({0, 2, 4, 8}, {1, 1, 1, 4}), {1, 2}), {1, 6}, 1e-12);
}

TEST(ResizeTo, AWrongNumberOfSpatialAxesIsAnErrorNamingTheShapes) {
  const std::string message = error_of([] { resize_to(torch::zeros({1, 2, 3, 4}), {3, 4, 5}); });
  EXPECT_NE(message.find("[1, 2, 3, 4]"), std::string::npos) << message;
  EXPECT_NE(message.find("[3, 4, 5]"), std::string::npos) << message;
}

TEST(AttentionMap, IsTheL2NormalisedChannelMeanOfSquares) {
  // Channels (1, 3) at voxel 0 and (−2, 0) at voxel 1: mean_c F² = (1 + 9)/2 = 5 and (4 + 0)/2 = 2;
  // L2 norm √29 -> 5/√29 = 0.928477, 2/√29 = 0.371391.
  const auto f = values({1, -2, 3, 0}, {1, 2, 1, 2});
  const auto at = attention_map(f, 2);
  EXPECT_EQ(at.sizes(), (std::vector<int64_t>{1, 2}));
  expect_values(at, {5 / std::sqrt(29.0), 2 / std::sqrt(29.0)}, 1e-12);
}

TEST(AttentionMap, TakesTheAbsoluteValueBeforeAnOddPower) {
  // p = 3: mean_c |F|³ = (1 + 27)/2 = 14 and (8 + 0)/2 = 4 -> (14, 4)/√212 = (0.961524, 0.274721).
  // A signed power would give (14, −4)/√212.
  expect_values(attention_map(values({1, -2, 3, 0}, {1, 2, 1, 2}), 3),
                {14 / std::sqrt(212.0), 4 / std::sqrt(212.0)}, 1e-12);
}

TEST(AttentionMap, FlattensEachSampleOfAVolume) {
  const auto at = attention_map(torch::ones({2, 3, 2, 2, 2}, torch::kDouble), 2);
  EXPECT_EQ(at.sizes(), (std::vector<int64_t>{2, 8}));
  expect_values(at[1], std::vector<double>(8, 1 / std::sqrt(8.0)), 1e-12);
}

TEST(AttentionMap, AllZeroFeaturesGiveZerosNotNaN) {
  expect_values(attention_map(torch::zeros({1, 2, 1, 3}), 2), {0, 0, 0}, 0);
}

TEST(AttentionMap, ANonPositivePowerOrAFlatTensorIsAnError) {
  std::string message = error_of([] { attention_map(torch::ones({1, 1, 2, 2}), 0); });
  EXPECT_NE(message.find("p must be > 0, got 0"), std::string::npos) << message;
  message = error_of([] { attention_map(torch::ones({2, 3}), 2); });
  EXPECT_NE(message.find("2 or 3 spatial axes, got [2, 3]"), std::string::npos) << message;
}

TEST(InterpolateChannels, UpsamplesTheChannelAxisLinearlyAsFInterpolateWould) {
  // 2 -> 4 channels: output channel j samples (j + 0.5)·2/4 − 0.5 = −0.25 -> 0, 0.25, 0.75,
  // 1.25 -> 1, i.e. c0, 0.75·c0 + 0.25·c1, 0.25·c0 + 0.75·c1, c1 at every voxel.
  // Voxel 0: c = (0, 4) -> 0, 1, 3, 4; voxel 1: c = (10, 20) -> 10, 12.5, 17.5, 20.
  const auto out = interpolate_channels(values({0, 10, 4, 20}, {1, 2, 1, 2}), 4);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{1, 4, 1, 2}));
  expect_values(out, {0, 10, 1, 12.5, 3, 17.5, 4, 20}, 1e-12);  // channel-major
}

TEST(InterpolateChannels, DownsamplesBetweenChannelCentres) {
  // 4 -> 2: positions 0.5 and 2.5 -> (1 + 2)/2, (3 + 5)/2; also in 3-D.
  expect_values(interpolate_channels(values({1, 2, 3, 5}, {1, 4, 1, 1, 1}), 2), {1.5, 4}, 1e-12);
  // 2 -> 3: positions −1/6 -> 0, 0.5, 7/6 -> 1: c0, the mean, c1.
  expect_values(interpolate_channels(values({2, 4}, {1, 2, 1, 1}), 3), {2, 3, 4}, 1e-12);
}

TEST(InterpolateChannels, IsTheIdentityForEqualChannelCounts) {
  const auto x = torch::rand({2, 3, 2, 2});
  EXPECT_TRUE(interpolate_channels(x, 3).is_same(x));
}

TEST(InterpolateChannels, AZeroChannelCountIsAnErrorNamingTheShape) {
  const std::string message = error_of([] { interpolate_channels(torch::ones({1, 2, 2, 2}), 0); });
  EXPECT_NE(message.find("got 0 for [1, 2, 2, 2]"), std::string::npos) << message;
}
