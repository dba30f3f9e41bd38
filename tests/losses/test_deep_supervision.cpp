#include "medkd/losses/deep_supervision.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/losses/compound.h"
#include "medkd/losses/dice.h"

namespace losses = medkd::losses;

TEST(DeepSupervision, WeightsHalveFromOutputToOutputAndSumToOne) {
  const auto weights = losses::deep_supervision_weights(3);
  ASSERT_EQ(weights.size(), 3u);
  EXPECT_DOUBLE_EQ(weights[0], 4.0 / 7);
  EXPECT_DOUBLE_EQ(weights[1], 2.0 / 7);
  EXPECT_DOUBLE_EQ(weights[2], 1.0 / 7);
  EXPECT_EQ(losses::deep_supervision_weights(1), std::vector<double>{1.0});
}

TEST(DeepSupervision, TargetsAreDownsampledByNearestVoxelCentre) {
  // Halving 0 1 2 3 keeps the voxels whose centres the coarse centres fall on: 1 and 3.
  const auto line = torch::tensor({0, 1, 2, 3}, torch::kUInt8).view({1, 1, 4});
  const auto half = losses::downsample_target(line, {2});
  EXPECT_EQ(half.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(half, torch::tensor({1, 3}, torch::kUInt8).view({1, 1, 2})));

  const auto image = torch::arange(16, torch::kLong).view({1, 1, 4, 4});
  EXPECT_TRUE(torch::equal(losses::downsample_target(image, {2, 2}),
                           torch::tensor({5, 7, 13, 15}, torch::kLong).view({1, 1, 2, 2})));
  // Anisotropic heads (z not pooled) work the same way.
  const auto volume = torch::arange(32, torch::kLong).view({1, 1, 2, 4, 4});
  EXPECT_EQ(losses::downsample_target(volume, {2, 2, 2}).sizes(),
            (std::vector<int64_t>{1, 1, 2, 2, 2}));
  EXPECT_TRUE(losses::downsample_target(image, {4, 4}).is_same(image));
  EXPECT_THROW(losses::downsample_target(image, {8, 8}), medkd::Error);
}

TEST(DeepSupervision, LossIsTheWeightedSumOverHeads) {
  torch::manual_seed(3);
  const std::vector<torch::Tensor> outputs = {
      torch::randn({2, 3, 4, 4}), torch::randn({2, 3, 2, 2}), torch::randn({2, 3, 1, 1})};
  const auto target = torch::randint(0, 3, {2, 1, 4, 4}, torch::kLong);
  const losses::SegmentationLoss dice = [](const torch::Tensor& logits, const torch::Tensor& t) {
    return losses::soft_dice_loss(logits, t);
  };
  double expected = 0;
  const auto weights = losses::deep_supervision_weights(3);
  for (size_t i = 0; i < 3; ++i)
    expected += weights[i] *
                dice(outputs[i], losses::downsample_target(target, outputs[i].sizes().slice(2)))
                    .item<double>();
  EXPECT_NEAR(losses::DeepSupervisionLoss(dice)(outputs, target).item<double>(), expected, 1e-6);

  // Explicit weights are normalised; a zero weight drops its head (nnU-Net v2 drops the coarsest).
  const double first_two =
      (2 * dice(outputs[0], target).item<double>() +
       dice(outputs[1], losses::downsample_target(target, {2, 2})).item<double>()) /
      3;
  EXPECT_NEAR(losses::DeepSupervisionLoss(dice, {2, 1, 0})(outputs, target).item<double>(),
              first_two, 1e-6);
}

TEST(DeepSupervision, PerfectPredictionsAtEveryScaleGiveNearZeroLoss) {
  const auto target = torch::tensor({0, 1, 1, 0, 2, 2, 0, 1}, torch::kLong).view({1, 1, 8});
  std::vector<torch::Tensor> outputs;
  for (int64_t size : {8, 4, 2})
    outputs.push_back(25 *
                      losses::one_hot(losses::downsample_target(target, {size}), 3, torch::kFloat));
  const auto loss = losses::DeepSupervisionLoss(
      [](const torch::Tensor& l, const torch::Tensor& t) { return losses::dice_ce_loss(l, t); });
  EXPECT_LT(loss(outputs, target).item<double>(), 1e-5);
}

TEST(DeepSupervision, GradientsReachEveryHead) {
  std::vector<torch::Tensor> outputs = {torch::randn({1, 2, 4, 4}, torch::requires_grad()),
                                        torch::randn({1, 2, 2, 2}, torch::requires_grad())};
  const auto target = torch::randint(0, 2, {1, 1, 4, 4}, torch::kUInt8);
  losses::DeepSupervisionLoss loss(
      [](const torch::Tensor& l, const torch::Tensor& t) { return losses::dice_focal_loss(l, t); });
  loss(outputs, target).backward();
  for (const auto& output : outputs) {
    EXPECT_TRUE(torch::isfinite(output.grad()).all().item<bool>());
    EXPECT_GT(output.grad().abs().sum().item<double>(), 0);
  }
}

TEST(DeepSupervision, WeightCountMustMatchTheOutputs) {
  losses::DeepSupervisionLoss loss(
      [](const torch::Tensor& l, const torch::Tensor& t) { return losses::soft_dice_loss(l, t); },
      {1, 1});
  try {
    loss({torch::randn({1, 2, 4})}, torch::zeros({1, 1, 4}, torch::kLong));
    FAIL();
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 weights for 1 outputs"), std::string::npos) << e.what();
  }
  EXPECT_THROW(losses::DeepSupervisionLoss(nullptr), medkd::Error);
  EXPECT_THROW(losses::DeepSupervisionLoss(
                   [](const torch::Tensor& l, const torch::Tensor&) { return l.sum(); }, {0, 0}),
               medkd::Error);
}
