#include "medkd/data/resampling.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"

using medkd::data::ImageInterpolation;
using medkd::data::LabelInterpolation;

TEST(Resampling, NewSizeIsRoundedExtentOverTargetSpacing) {
  using medkd::data::resampled_size;
  const std::array<int64_t, 3> expected{80, 80, 36};
  EXPECT_EQ(resampled_size({100, 100, 30}, {0.8, 0.8, 3.0}, {1.0, 1.0, 2.5}), expected);
  // Halves round to even, as numpy.round does in nnU-Net: 2.5 -> 2, 3.5 -> 4.
  const std::array<int64_t, 3> halves{2, 4, 1};
  EXPECT_EQ(resampled_size({5, 7, 1}, {1, 1, 1}, {2, 2, 5}), halves);
}

TEST(Resampling, AConstantImageStaysConstantAtTheRequestedSize) {
  const torch::Tensor image = torch::full({2, 5, 6, 7}, 3.5f);  // [C, Z, Y, X]
  for (const auto interpolation : {ImageInterpolation::kLinear, ImageInterpolation::kCubic}) {
    for (const std::array<int64_t, 3> size :
         {std::array<int64_t, 3>{13, 4, 9}, std::array<int64_t, 3>{3, 11, 2}}) {
      const torch::Tensor out = medkd::data::resample_image(image, size, interpolation);
      ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, size[2], size[1], size[0]}));
      EXPECT_NEAR(out.min().item<float>(), 3.5f, 1e-5) << to_string(interpolation);
      EXPECT_NEAR(out.max().item<float>(), 3.5f, 1e-5) << to_string(interpolation);
    }
  }
}

TEST(Resampling, LinearDownsamplingByTwoAveragesNeighbourPairs) {
  // Along x: 0 2 4 6 -> centres at 0.5 and 2.5 in input voxels -> 1 and 5.
  const torch::Tensor image = torch::tensor({0.f, 2.f, 4.f, 6.f}).reshape({1, 1, 1, 4});
  const torch::Tensor out =
      medkd::data::resample_image(image, {2, 1, 1}, ImageInterpolation::kLinear);
  EXPECT_FLOAT_EQ(out[0][0][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(out[0][0][0][1].item<float>(), 5.0f);
}

TEST(Resampling, NearestLabelUpsamplingRepeatsEveryVoxelAndKeepsTheValues) {
  const torch::Tensor label =
      torch::tensor({0, 1, 2, 1, 0, 2, 2, 1}, torch::kUInt8).reshape({1, 2, 2, 2});
  const torch::Tensor out =
      medkd::data::resample_label(label, {4, 4, 4}, LabelInterpolation::kNearest, 3);
  const torch::Tensor expected =
      label.repeat_interleave(2, 1).repeat_interleave(2, 2).repeat_interleave(2, 3);
  EXPECT_EQ(out.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(out, expected));
  // An odd factor still yields only values that were there.
  const torch::Tensor odd =
      medkd::data::resample_label(label, {3, 5, 7}, LabelInterpolation::kNearest, 3);
  const torch::Tensor values = std::get<0>(torch::_unique(odd.to(torch::kLong)));
  EXPECT_TRUE(torch::equal(values, torch::tensor({0, 1, 2}, torch::kLong)));
}

TEST(Resampling, LinearOneHotKeepsABigCubesLabel) {
  torch::Tensor label = torch::zeros({1, 16, 16, 16}, torch::kUInt8);
  label.slice(1, 4, 12).slice(2, 4, 12).slice(3, 4, 12).fill_(2);  // 8^3 cube of class 2
  const torch::Tensor out =
      medkd::data::resample_label(label, {24, 24, 24}, LabelInterpolation::kLinearOneHot, 3);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 24, 24, 24}));
  // The cube spans voxels 6..17 at 1.5x: all class 2, nothing else, nothing of class 1.
  EXPECT_TRUE((out.slice(1, 6, 18).slice(2, 6, 18).slice(3, 6, 18) == 2).all().item<bool>());
  EXPECT_EQ((out == 2).sum().item<int64_t>(), 12 * 12 * 12);
  EXPECT_EQ((out == 1).sum().item<int64_t>(), 0);
}

TEST(Resampling, CubicIsBicubicInPlaneAndLinearAlongZ) {
  // A ramp along z is reproduced exactly in the interior by the linear z step.
  const torch::Tensor z = torch::arange(4, torch::kFloat32).reshape({1, 4, 1, 1});
  const torch::Tensor image = z.expand({1, 4, 3, 3}).contiguous();
  const torch::Tensor out =
      medkd::data::resample_image(image, {3, 3, 8}, ImageInterpolation::kCubic);
  // Output slice k has its centre at input z = (k + 0.5) / 2 - 0.5.
  EXPECT_NEAR(out[0][3][1][1].item<float>(), 1.25f, 1e-5);
  EXPECT_NEAR(out[0][4][1][1].item<float>(), 1.75f, 1e-5);
}

TEST(Resampling, BadArgumentsAreErrors) {
  EXPECT_THROW(
      medkd::data::resample_image(torch::zeros({2, 2, 2}), {1, 1, 1}, ImageInterpolation::kLinear),
      medkd::Error);
  EXPECT_THROW(medkd::data::resample_label(torch::zeros({1, 2, 2, 2}), {1, 1, 1},
                                           LabelInterpolation::kNearest, 2),
               medkd::Error);
  EXPECT_THROW(medkd::data::parse_image_interpolation("quintic", "image_resampling"), medkd::Error);
}
