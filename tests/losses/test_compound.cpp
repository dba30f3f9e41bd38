#include "medkd/losses/compound.h"

#include <gtest/gtest.h>

#include <cmath>

#include "medkd/core/error.h"
#include "medkd/losses/loss_registry.h"
#include "test_support.h"

namespace losses = medkd::losses;

namespace {

constexpr double kSmooth = 1e-5;

// The four-voxel example of test_dice.cpp and test_focal.cpp: foreground probabilities 0.25,
// 0.5, 0.5, 0.75 and target 0, 0, 0, 1.
torch::Tensor sample_logits() {
  const double third = std::log(1.0 / 3.0), three = std::log(3.0);
  return torch::tensor({0.0, 0.0, 0.0, 0.0, third, 0.0, 0.0, three}, torch::kDouble)
      .view({1, 2, 4});
}
torch::Tensor sample_target() { return torch::tensor({0, 0, 0, 1}, torch::kLong).view({1, 1, 4}); }

const double kDiceLoss =
    1 - ((1.5 + kSmooth) / (3 + kSmooth) + (3.5 + kSmooth) / (5 + kSmooth)) / 2;
const double kForegroundDiceLoss = 1 - (1.5 + kSmooth) / (3 + kSmooth);
const double kFocal = (2 * 0.0625 * -std::log(0.75) + 2 * 0.25 * -std::log(0.5)) / 4;
const double kCrossEntropy = (-2 * std::log(0.75) - 2 * std::log(0.5)) / 4;

double value_of(const losses::SegmentationLoss& loss) {
  return loss(sample_logits(), sample_target()).item<double>();
}

losses::SegmentationLoss from_yaml(const std::string& yaml) {
  return losses::make_segmentation_loss(losses::loss_config_from_yaml(YAML::Load(yaml)));
}

using medkd::testing::error_of;

}  // namespace

TEST(CompoundLosses, DiceFocalIsDicePlusFocal) {
  EXPECT_NEAR(losses::dice_focal_loss(sample_logits(), sample_target()).item<double>(),
              kDiceLoss + kFocal, 1e-12);  // 0.4 + 0.0956
}

TEST(CompoundLosses, FocalDiceHalfAveragesTheTwo) {
  EXPECT_NEAR(losses::focal_dice_half_loss(sample_logits(), sample_target()).item<double>(),
              0.5 * kDiceLoss + 0.5 * kFocal, 1e-12);
}

TEST(CompoundLosses, DiceCeLeavesTheBackgroundOutOfDiceLikeNnUNet) {
  EXPECT_NEAR(losses::dice_ce_loss(sample_logits(), sample_target()).item<double>(),
              kForegroundDiceLoss + kCrossEntropy, 1e-12);  // 0.5 + 0.4904
  EXPECT_NEAR(losses::cross_entropy_loss(sample_logits(), sample_target()).item<double>(),
              kCrossEntropy, 1e-12);
}

TEST(CompoundLosses, PerfectPredictionHasNearZeroLossAndGradientsAreFinite) {
  const auto target = torch::tensor({0, 1, 2, 2, 1, 0, 0, 0}, torch::kLong).view({1, 1, 2, 2, 2});
  const auto perfect = 30 * losses::one_hot(target, 3, torch::kFloat);
  for (const char* type : {"dice_focal", "focal_dice_half", "dice_ce"}) {
    const auto loss = from_yaml(std::string("{type: ") + type + "}");
    EXPECT_LT(loss(perfect, target).item<double>(), 1e-5) << type;
    auto logits = torch::randn({1, 3, 2, 2, 2}, torch::requires_grad());
    loss(logits, target).backward();
    EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>()) << type;
  }
}

TEST(LossRegistry, BuildsEveryTypeFromYamlWithItsDefaults) {
  EXPECT_NEAR(value_of(from_yaml("{type: dice}")), kDiceLoss, 1e-12);
  EXPECT_NEAR(value_of(from_yaml("{type: focal}")), kFocal, 1e-12);
  EXPECT_NEAR(value_of(from_yaml("{type: dice_focal}")), kDiceLoss + kFocal, 1e-12);
  EXPECT_NEAR(value_of(from_yaml("{type: focal_dice_half}")), 0.5 * (kDiceLoss + kFocal), 1e-12);
  EXPECT_NEAR(value_of(from_yaml("{type: dice_ce}")), kForegroundDiceLoss + kCrossEntropy, 1e-12);
  EXPECT_NEAR(value_of(from_yaml("{type: cross_entropy}")), kCrossEntropy, 1e-12);
  EXPECT_EQ(losses::default_loss_registry().types(),
            (std::vector<std::string>{"cross_entropy", "dice", "dice_ce", "dice_focal", "focal",
                                      "focal_dice_half"}));
}

TEST(LossRegistry, OptionsReachTheLoss) {
  EXPECT_NEAR(value_of(from_yaml("{type: dice, include_background: false}")), kForegroundDiceLoss,
              1e-12);
  EXPECT_NEAR(value_of(from_yaml("{type: focal, gamma: 0}")), kCrossEntropy, 1e-12);
  EXPECT_NEAR(value_of(from_yaml("{type: dice_focal, dice_weight: 2, focal_weight: 0.5, "
                                 "alpha: [1, 1]}")),
              2 * kDiceLoss + 0.5 * kFocal, 1e-12);
  EXPECT_NEAR(value_of(from_yaml("{type: dice_ce, include_background: true, ce_weight: 0}")),
              kDiceLoss, 1e-12);
  EXPECT_NEAR(value_of(from_yaml("{type: focal, alpha: 0.25}")),
              (0.75 * (0.0625 * -std::log(0.75) + 2 * 0.25 * -std::log(0.5)) +
               0.25 * 0.0625 * -std::log(0.75)) /
                  4,
              1e-12);
}

TEST(LossRegistry, CallerKeysAreLeftOutOfTheOptions) {
  const auto config = losses::loss_config_from_yaml(
      YAML::Load("{type: dice_focal, weight: 1.0, gamma: 1}"), {"weight"});
  EXPECT_EQ(config.type, "dice_focal");
  EXPECT_FALSE(config.options["weight"]);
  EXPECT_EQ(config.options["gamma"].as<double>(), 1.0);
  // Without declaring it, `weight` is an unknown key of the loss.
  const std::string message = error_of([] { from_yaml("{type: dice_focal, weight: 1.0}"); });
  EXPECT_NE(message.find("unknown option 'weight' for loss 'dice_focal' (valid: smooth, "
                         "batch_dice, include_background, gamma, alpha, dice_weight, "
                         "focal_weight)"),
            std::string::npos)
      << message;
}

TEST(LossRegistry, UnknownTypesAndBadValuesAreErrorsListingTheValidChoices) {
  std::string message = error_of([] { from_yaml("{type: dice_bce}"); });
  EXPECT_NE(message.find("unknown loss type 'dice_bce' (known: cross_entropy, dice, dice_ce, "
                         "dice_focal, focal, focal_dice_half)"),
            std::string::npos)
      << message;
  message = error_of([] { from_yaml("{type: focal, gamma: -1}"); });
  EXPECT_NE(message.find("'gamma' must be >= 0, got -1"), std::string::npos) << message;
  message = error_of([] { from_yaml("{type: dice, batch_dice: maybe}"); });
  EXPECT_NE(message.find("'batch_dice' must be true or false, got 'maybe'"), std::string::npos)
      << message;
  message = error_of([] { from_yaml("{type: focal, alpha: 1.5}"); });
  EXPECT_NE(message.find("single value must be in [0, 1]"), std::string::npos) << message;
  message = error_of([] { from_yaml("{type: cross_entropy, smooth: 1}"); });
  EXPECT_NE(message.find("(valid: none)"), std::string::npos) << message;
  message = error_of([] { losses::loss_config_from_yaml(YAML::Load("{gamma: 2}")); });
  EXPECT_NE(message.find("'type'"), std::string::npos) << message;
}
