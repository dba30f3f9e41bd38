#include "medkd/losses/focal.h"

#include <gtest/gtest.h>

#include <cmath>

#include "medkd/core/error.h"
#include "medkd/losses/dice.h"

using medkd::losses::focal_loss;
using medkd::losses::FocalOptions;

namespace {

// Four voxels, foreground probabilities 0.25, 0.5, 0.5, 0.75, target 0, 0, 0, 1: the probability
// of the true class p_t is 0.75, 0.5, 0.5, 0.75.
torch::Tensor sample_logits() {
  const double third = std::log(1.0 / 3.0), three = std::log(3.0);
  return torch::tensor({0.0, 0.0, 0.0, 0.0, third, 0.0, 0.0, three}, torch::kDouble)
      .view({1, 2, 4});  // [N, K, X]
}
torch::Tensor sample_target() { return torch::tensor({0, 0, 0, 1}, torch::kLong).view({1, 1, 4}); }

// −(1 − p)^γ log p for one voxel.
double focal_term(double p, double gamma) { return -std::pow(1 - p, gamma) * std::log(p); }

}  // namespace

TEST(Focal, MatchesTheHandComputedMeanOverVoxels) {
  // γ = 2: (2·0.0625·0.287682 + 2·0.25·0.693147) / 4 = 0.0956336
  const double expected = (2 * focal_term(0.75, 2) + 2 * focal_term(0.5, 2)) / 4;
  EXPECT_NEAR(expected, 0.0956336, 1e-6);
  EXPECT_NEAR(focal_loss(sample_logits(), sample_target()).item<double>(), expected, 1e-12);
}

TEST(Focal, GammaZeroIsCrossEntropy) {
  const double cross_entropy = (-2 * std::log(0.75) - 2 * std::log(0.5)) / 4;
  EXPECT_NEAR(focal_loss(sample_logits(), sample_target(), FocalOptions().gamma(0)).item<double>(),
              cross_entropy, 1e-12);
}

TEST(Focal, ScalarAlphaWeighsBackgroundByOneMinusAlpha) {
  const double expected =
      (0.75 * (focal_term(0.75, 2) + 2 * focal_term(0.5, 2)) + 0.25 * focal_term(0.75, 2)) / 4;
  EXPECT_NEAR(
      focal_loss(sample_logits(), sample_target(), FocalOptions().alpha({0.25})).item<double>(),
      expected, 1e-12);
}

TEST(Focal, PerClassAlphaWeighsEachVoxelByItsTrueClass) {
  const double expected =
      (2.0 * (focal_term(0.75, 2) + 2 * focal_term(0.5, 2)) + 3.0 * focal_term(0.75, 2)) / 4;
  EXPECT_NEAR(
      focal_loss(sample_logits(), sample_target(), FocalOptions().alpha({2.0, 3.0})).item<double>(),
      expected, 1e-12);
}

TEST(Focal, PerfectConfidentPredictionHasNearZeroLoss) {
  const auto target = torch::tensor({2, 1, 0, 0}, torch::kUInt8).view({1, 1, 2, 2});
  const auto logits = 20 * medkd::losses::one_hot(target, 3, torch::kFloat);
  EXPECT_LT(focal_loss(logits, target).item<double>(), 1e-12);
}

TEST(Focal, GradientsAreFinite) {
  auto logits = torch::randn({2, 3, 4, 4, 4}, torch::requires_grad());
  const auto target = torch::randint(0, 3, {2, 1, 4, 4, 4}, torch::kLong);
  focal_loss(logits, target).backward();
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
  EXPECT_GT(logits.grad().abs().sum().item<double>(), 0);
}

TEST(Focal, AlphaOfTheWrongLengthIsAnError) {
  try {
    focal_loss(sample_logits(), sample_target(), FocalOptions().alpha({1, 2, 3}));
    FAIL();
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("alpha needs 1 or 2 values (one per class), got 3"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(focal_loss(sample_logits(), sample_target(), FocalOptions().gamma(-1)),
               medkd::Error);
}
