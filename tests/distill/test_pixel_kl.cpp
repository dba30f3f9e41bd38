#include "medkd/distill/pixel_kl.h"

#include <gtest/gtest.h>

#include <cmath>

#include "distill/kd_test_support.h"
#include "test_support.h"

using medkd::distill::pixel_kl;
using medkd::testing::as_student;
using medkd::testing::error_of;
using medkd::testing::expect_student_gradient_only;
using medkd::testing::values;

namespace {

const double kLn2 = std::log(2.0), kLn3 = std::log(3.0);

// Two voxels, two classes, shape [1, K = 2, 1, 2] (channel-major: c0 of both voxels, then c1).
// With T = 2, logits (0, 2·ln 3) soften to (0, ln 3): probabilities (1/4, 3/4); (0, 0) gives
// (1/2, 1/2).
//   voxel 0: teacher (0, 2 ln 3) -> q = (1/4, 3/4); student (0, 0) -> p = (1/2, 1/2)
//            KL = 1/4·ln(1/2) + 3/4·ln(3/2) = 3/4·ln 3 − ln 2 = 0.130812
//   voxel 1: teacher (0, 0) -> q = (1/2, 1/2); student (0, 2 ln 3) -> p = (1/4, 3/4)
//            KL = 1/2·ln 2 + 1/2·ln(2/3) = ln 2 − 1/2·ln 3 = 0.143841
//   pixel_kl = T²·mean = 4·(1/4·ln 3)/2 = 1/2·ln 3 = 0.549306
torch::Tensor student_logits(std::vector<int64_t> shape = {1, 2, 1, 2}) {
  return values({0, 0, 0, 2 * kLn3}, shape);
}
torch::Tensor teacher_logits(std::vector<int64_t> shape = {1, 2, 1, 2}) {
  return values({0, 0, 2 * kLn3, 0}, shape);
}
const double kVoxel0Kl = 0.75 * kLn3 - kLn2;
const double kVoxel1Kl = kLn2 - 0.5 * kLn3;

}  // namespace

TEST(PixelKl, IsZeroWhenStudentAndTeacherAgree) {
  EXPECT_NEAR(pixel_kl(teacher_logits(), teacher_logits(), 2).item<double>(), 0, 1e-15);
  const auto logits = torch::randn({2, 3, 2, 2, 2});
  EXPECT_NEAR(pixel_kl(logits, logits.clone(), 1).item<double>(), 0, 1e-6);
}

TEST(PixelKl, MatchesTheHandComputedTwoVoxelExample) {
  EXPECT_NEAR(pixel_kl(student_logits(), teacher_logits(), 2).item<double>(), 0.5 * kLn3, 1e-12);
  // The same two voxels as a [1, 2, 1, 1, 2] volume.
  EXPECT_NEAR(
      pixel_kl(student_logits({1, 2, 1, 1, 2}), teacher_logits({1, 2, 1, 1, 2}), 2).item<double>(),
      0.5 * kLn3, 1e-12);
}

TEST(PixelKl, TheTeacherIsTheReferenceDistribution) {
  // The two-voxel example is symmetric under swapping student and teacher; one voxel is not.
  // Voxel 0 alone: KL(q ‖ p) = 3/4·ln 3 − ln 2, T²·KL = 0.523248; the reverse KL(p ‖ q) =
  // ln 2 − 1/2·ln 3 would give 0.575364.
  EXPECT_NEAR(
      pixel_kl(values({0, 0}, {1, 2, 1, 1}), values({0, 2 * kLn3}, {1, 2, 1, 1}), 2).item<double>(),
      4 * kVoxel0Kl, 1e-12);
}

TEST(PixelKl, TemperatureOneIsThePlainKlDivergence) {
  // T = 1: voxel 0 q = (1/10, 9/10), p = (1/2, 1/2): KL = 0.1·ln 0.2 + 0.9·ln 1.8 = 0.368064;
  // voxel 1 q = (1/2, 1/2), p = (1/10, 9/10): KL = 0.5·ln 5 + 0.5·ln(5/9) = ln(5/3) = 0.510826;
  // mean 0.439445 (no T² factor to speak of).
  const double expected = (0.1 * std::log(0.2) + 0.9 * std::log(1.8) + std::log(5.0 / 3.0)) / 2;
  EXPECT_NEAR(pixel_kl(student_logits(), teacher_logits(), 1).item<double>(), expected, 1e-12);
  EXPECT_NEAR(expected, 0.439445, 1e-6);
}

TEST(PixelKl, VoxelWeightsGiveAWeightedMean) {
  // Weights (1, 0): only voxel 0, T²·KL0 = 3·ln 3 − 4·ln 2 = 0.523248.
  EXPECT_NEAR(
      pixel_kl(student_logits(), teacher_logits(), 2, values({1, 0}, {1, 1, 1, 2})).item<double>(),
      4 * kVoxel0Kl, 1e-12);
  // Weights (3, 1): 4·(3·KL0 + KL1)/4 = 7/4·ln 3 − 2·ln 2 = 0.536277.
  EXPECT_NEAR(
      pixel_kl(student_logits(), teacher_logits(), 2, values({3, 1}, {1, 1, 1, 2})).item<double>(),
      1.75 * kLn3 - 2 * kLn2, 1e-12);
  // A boolean mask works as 0/1 weights.
  const auto mask = torch::tensor({false, true}).view({1, 1, 1, 2});
  EXPECT_NEAR(pixel_kl(student_logits(), teacher_logits(), 2, mask).item<double>(), 4 * kVoxel1Kl,
              1e-12);
}

TEST(PixelKl, AllZeroWeightsGiveZeroAndAZeroGradient) {
  auto student = as_student(student_logits());
  const auto loss = pixel_kl(student, teacher_logits(), 2, torch::zeros({1, 1, 1, 2}));
  EXPECT_EQ(loss.item<double>(), 0);
  loss.backward();
  ASSERT_TRUE(student.grad().defined());
  EXPECT_EQ(student.grad().abs().sum().item<double>(), 0);
}

TEST(PixelKl, OnlyTheStudentGetsAGradient) {
  const auto student = as_student(student_logits());
  const auto teacher = teacher_logits();
  expect_student_gradient_only(pixel_kl(student, teacher, 2), student, teacher);
  // Raising the student's class-1 logit at voxel 0 moves p towards the teacher's q = 3/4.
  EXPECT_LT(student.grad()[0][1][0][0].item<double>(), 0);
}

TEST(PixelKl, HalfPrecisionLogitsAreComputedInFloat) {
  const auto loss =
      pixel_kl(student_logits().to(torch::kHalf), teacher_logits().to(torch::kHalf), 2);
  EXPECT_EQ(loss.scalar_type(), torch::kFloat);
  EXPECT_NEAR(loss.item<double>(), 0.5 * kLn3, 2e-3);
}

TEST(PixelKl, BadShapesAreErrorsNamingBothShapes) {
  std::string message = error_of([] {
    pixel_kl(torch::zeros({1, 2, 3, 3}), torch::zeros({1, 3, 3, 3}), 1);
  });
  EXPECT_NE(message.find("student logits [1, 2, 3, 3] and teacher logits [1, 3, 3, 3]"),
            std::string::npos)
      << message;
  message = error_of([] {
    pixel_kl(torch::zeros({1, 2, 3, 3}), torch::zeros({1, 2, 3, 3}), 1, torch::ones({1, 2, 3, 3}));
  });
  EXPECT_NE(message.find("voxel weights [1, 2, 3, 3] must be [N, 1, *S] for logits [1, 2, 3, 3]"),
            std::string::npos)
      << message;
  message = error_of([] {
    pixel_kl(torch::zeros({1, 2, 1, 2}), torch::zeros({1, 2, 1, 2}), 1,
             values({1, -1}, {1, 1, 1, 2}));
  });
  EXPECT_NE(message.find("voxel weights must be >= 0"), std::string::npos) << message;
  message = error_of([] { pixel_kl(torch::zeros({1, 1, 2, 2}), torch::zeros({1, 1, 2, 2}), 1); });
  EXPECT_NE(message.find("at least 2 classes"), std::string::npos) << message;
  message = error_of([] { pixel_kl(torch::zeros({1, 2, 2, 2}), torch::zeros({1, 2, 2, 2}), 0); });
  EXPECT_NE(message.find("temperature must be > 0, got 0"), std::string::npos) << message;
  message = error_of([] { pixel_kl(torch::zeros({2, 4}), torch::zeros({2, 4}), 1); });
  EXPECT_NE(message.find("student logits must be [N, C, *spatial] with 2 or 3 spatial axes, got "
                         "[2, 4]"),
            std::string::npos)
      << message;
}

TEST(PixelKl, TheForegroundAwareFormAveragesEachSetApartAndMixesThem) {
  using medkd::distill::balanced_pixel_kl;
  // Voxel 1 is foreground: w_f · T²·KL1 + (1 − w_f) · T²·KL0.
  const auto mask = torch::tensor({false, true}).view({1, 1, 1, 2});
  EXPECT_NEAR(balanced_pixel_kl(student_logits(), teacher_logits(), 2, mask, 0.5).item<double>(),
              0.5 * 4 * kVoxel1Kl + 0.5 * 4 * kVoxel0Kl, 1e-12);
  EXPECT_NEAR(balanced_pixel_kl(student_logits(), teacher_logits(), 2, mask, 0.8).item<double>(),
              0.8 * 4 * kVoxel1Kl + 0.2 * 4 * kVoxel0Kl, 1e-12);
  // Without foreground in the batch the background mean alone, at its own scale.
  EXPECT_NEAR(balanced_pixel_kl(student_logits(), teacher_logits(), 2,
                                torch::zeros({1, 1, 1, 2}, torch::kBool), 0.8)
                  .item<double>(),
              pixel_kl(student_logits(), teacher_logits(), 2).item<double>(), 1e-12);
  // With confidence weights (3, 1) each set keeps its voxel count as the normaliser.
  EXPECT_NEAR(balanced_pixel_kl(student_logits(), teacher_logits(), 2, mask, 0.5,
                                values({3, 1}, {1, 1, 1, 2}))
                  .item<double>(),
              0.5 * 4 * kVoxel1Kl + 0.5 * 3 * 4 * kVoxel0Kl, 1e-12);
}

TEST(PixelKl, TheForegroundComesFromTheLabelTheTeacherOrBoth) {
  using medkd::distill::kl_foreground_mask;
  using medkd::distill::KlForeground;
  // Teacher argmax: voxel 0 class 1, voxel 1 class 0. Label: voxel 1 is class 1.
  const auto label = torch::tensor({0, 1}, torch::kLong).view({1, 1, 1, 2});
  const auto t = teacher_logits();
  const auto as_vector = [](const torch::Tensor& m) {
    return std::vector<bool>{m.flatten()[0].item<bool>(), m.flatten()[1].item<bool>()};
  };
  EXPECT_EQ(as_vector(kl_foreground_mask(KlForeground::kLabel, label, t)),
            (std::vector<bool>{false, true}));
  EXPECT_EQ(as_vector(kl_foreground_mask(KlForeground::kTeacher, label, t)),
            (std::vector<bool>{true, false}));
  EXPECT_EQ(as_vector(kl_foreground_mask(KlForeground::kUnion, label, t)),
            (std::vector<bool>{true, true}));
  // An unlabelled patch (no target) takes the teacher's foreground.
  EXPECT_EQ(as_vector(kl_foreground_mask(KlForeground::kLabel, torch::Tensor(), t)),
            (std::vector<bool>{true, false}));
  // A label at twice the logits' size is resized (nearest) to it.
  const auto fine = torch::tensor({0, 0, 1, 1}, torch::kLong).view({1, 1, 1, 4});
  EXPECT_EQ(as_vector(kl_foreground_mask(KlForeground::kLabel, fine, t)),
            (std::vector<bool>{false, true}));
}
