#include "medkd/losses/dice.h"

#include <gtest/gtest.h>

#include <cmath>

#include "medkd/core/error.h"
#include "test_support.h"

using medkd::losses::soft_dice;
using medkd::losses::soft_dice_loss;
using medkd::losses::SoftDiceOptions;

namespace {

constexpr double kSmooth = 1e-5;

// Two classes, four voxels on a 2x2 image. The logits (0, log(p/(1-p))) give foreground
// probabilities p1 = 0.25, 0.5, 0.5, 0.75; the target is background, background, background,
// foreground. Hand counts:
//   class 1: Σ p·g = 0.75,              Σ p = 2, Σ g = 1  -> Dice (1.5 + s) / (3 + s)
//   class 0: Σ p·g = 0.75 + 0.5 + 0.5,  Σ p = 2, Σ g = 3  -> Dice (3.5 + s) / (5 + s)
torch::Tensor sample_logits() {
  const double third = std::log(1.0 / 3.0), three = std::log(3.0);
  return torch::tensor({0.0, 0.0, 0.0, 0.0, third, 0.0, 0.0, three}, torch::kDouble)
      .view({1, 2, 2, 2});  // [N, K, Y, X]
}
torch::Tensor sample_target(torch::ScalarType dtype = torch::kLong) {
  return torch::tensor({0, 0, 0, 1}, torch::kLong).view({1, 1, 2, 2}).to(dtype);
}
const double kForegroundDice = (1.5 + kSmooth) / (3 + kSmooth);
const double kBackgroundDice = (3.5 + kSmooth) / (5 + kSmooth);

using medkd::testing::error_of;

}  // namespace

TEST(SoftDice, PerClassDiceMatchesTheHandCount) {
  const auto dice = soft_dice(sample_logits(), sample_target());
  ASSERT_EQ(dice.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_NEAR(dice[0][0].item<double>(), kBackgroundDice, 1e-12);
  EXPECT_NEAR(dice[0][1].item<double>(), kForegroundDice, 1e-12);
}

TEST(SoftDice, LossIsOneMinusTheMeanOverClasses) {
  EXPECT_NEAR(soft_dice_loss(sample_logits(), sample_target()).item<double>(),
              1 - (kBackgroundDice + kForegroundDice) / 2, 1e-12);  // 0.4
  EXPECT_NEAR(
      soft_dice_loss(sample_logits(), sample_target(), SoftDiceOptions().include_background(false))
          .item<double>(),
      1 - kForegroundDice, 1e-12);  // 0.5
}

TEST(SoftDice, Uint8TargetGivesTheSameLoss) {
  EXPECT_NEAR(soft_dice_loss(sample_logits(), sample_target(torch::kUInt8)).item<double>(),
              soft_dice_loss(sample_logits(), sample_target()).item<double>(), 1e-15);
}

TEST(SoftDice, BatchDicePoolsTheSamplesBeforeDividing) {
  // Second sample: all background, p1 = 0.5 everywhere.
  const auto logits = torch::cat({sample_logits(), torch::zeros({1, 2, 2, 2}, torch::kDouble)});
  const auto target = torch::cat({sample_target(), torch::zeros({1, 1, 2, 2}, torch::kLong)});
  // Per sample: the second sample's foreground Dice is s / (2 + s) ~ 0, its background 4/6.
  const double per_sample = (kBackgroundDice + kForegroundDice + (4 + kSmooth) / (6 + kSmooth) +
                             kSmooth / (2 + kSmooth)) /
                            4;
  EXPECT_NEAR(soft_dice_loss(logits, target).item<double>(), 1 - per_sample, 1e-12);
  // Pooled: foreground Σp·g = 0.75, Σp = 4, Σg = 1; background Σp·g = 3.75, Σp = 4, Σg = 7.
  const double pooled = ((1.5 + kSmooth) / (5 + kSmooth) + (7.5 + kSmooth) / (11 + kSmooth)) / 2;
  const auto batch = soft_dice(logits, target, SoftDiceOptions().batch_dice(true));
  EXPECT_EQ(batch.sizes(), (std::vector<int64_t>{2}));
  EXPECT_NEAR(soft_dice_loss(logits, target, SoftDiceOptions().batch_dice(true)).item<double>(),
              1 - pooled, 1e-12);
}

TEST(SoftDice, PerfectConfidentPredictionHasNearZeroLoss) {
  const auto target = torch::tensor({0, 1, 2, 1, 0, 0}, torch::kLong).view({1, 1, 6});
  const auto logits = 30 * medkd::losses::one_hot(target, 3, torch::kFloat);  // [1, 3, 6]
  EXPECT_LT(soft_dice_loss(logits, target).item<double>(), 1e-5);
}

TEST(SoftDice, AClassAbsentFromTargetAndPredictionScoresOne) {
  const auto target = torch::zeros({1, 1, 4}, torch::kLong);
  auto logits = torch::zeros({1, 3, 4});
  logits.select(1, 0).fill_(40);  // class 0 everywhere, classes 1 and 2 nowhere
  const auto dice = soft_dice(logits, target);
  EXPECT_NEAR(dice[0][1].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(dice[0][2].item<double>(), 1.0, 1e-6);
}

TEST(SoftDice, GradientsAreFiniteAndPushTowardsTheTarget) {
  auto logits = sample_logits().clone().requires_grad_(true);
  soft_dice_loss(logits, sample_target()).backward();
  const auto grad = logits.grad();
  EXPECT_TRUE(torch::isfinite(grad).all().item<bool>());
  // Raising the foreground logit of the foreground voxel lowers the loss, and of a background
  // voxel raises it.
  EXPECT_LT(grad[0][1][1][1].item<double>(), 0);
  EXPECT_GT(grad[0][1][0][0].item<double>(), 0);
}

TEST(SoftDice, HalfPrecisionLogitsAreSummedInFloat) {
  const auto loss = soft_dice_loss(sample_logits().to(torch::kHalf), sample_target());
  EXPECT_EQ(loss.scalar_type(), torch::kFloat);
  EXPECT_NEAR(loss.item<double>(), 0.4, 1e-3);
}

TEST(SoftDice, BadTargetsAreErrorsNamingTheProblem) {
  std::string message = error_of([] {
    soft_dice_loss(sample_logits(), torch::zeros({1, 1, 2, 3}, torch::kLong));
  });
  EXPECT_NE(message.find("target must be [N, 1, *spatial] matching logits [1, 2, 2, 2], got "
                         "[1, 1, 2, 3]"),
            std::string::npos)
      << message;
  message = error_of([] { soft_dice_loss(sample_logits(), sample_target() * 2); });
  EXPECT_NE(message.find("target values must be in [0, 2), got [0, 2]"), std::string::npos)
      << message;
  message = error_of([] { soft_dice_loss(sample_logits(), sample_target().to(torch::kFloat)); });
  EXPECT_NE(message.find("integer class indices"), std::string::npos) << message;
  message = error_of([] {
    soft_dice_loss(torch::zeros({1, 1, 4}), torch::zeros({1, 1, 4}, torch::kLong));
  });
  EXPECT_NE(message.find("at least 2 classes"), std::string::npos) << message;
}
