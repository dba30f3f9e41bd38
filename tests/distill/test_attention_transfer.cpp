#include "medkd/distill/attention_transfer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "distill/kd_test_support.h"
#include "test_support.h"

using medkd::distill::attention_transfer;
using medkd::testing::as_student;
using medkd::testing::error_of;
using medkd::testing::expect_student_gradient_only;
using medkd::testing::values;

TEST(AttentionTransfer, IsZeroWhenTheAttentionMapsAgree) {
  const auto t = torch::randn({2, 3, 4, 4});
  EXPECT_NEAR(attention_transfer(t.clone(), t).item<double>(), 0, 1e-12);
  // Scaling the features or changing their sign leaves at() unchanged.
  EXPECT_NEAR(attention_transfer(-3 * t, t).item<double>(), 0, 1e-12);
}

TEST(AttentionTransfer, MatchesTheHandComputedTwoByTwoMaps) {
  // Student [[1, 0], [1, 0]]: squares (1, 0, 1, 0), L2 norm √2 -> (1/√2, 0, 1/√2, 0).
  // Teacher all ones (three channels; at() averages them): (1/2, 1/2, 1/2, 1/2).
  // Squared differences: (1/√2 − 1/2)² = 3/4 − 1/√2 twice and 1/4 twice; sum 2 − √2;
  // mean over the 4 voxels: (2 − √2)/4 = 0.146447.
  const double expected = (2 - std::sqrt(2.0)) / 4;
  EXPECT_NEAR(attention_transfer(values({1, 0, 1, 0}, {1, 1, 2, 2}),
                                 torch::ones({1, 3, 2, 2}, torch::kDouble))
                  .item<double>(),
              expected, 1e-12);
  // The same maps as a [1, 1, 1, 2, 2] volume.
  EXPECT_NEAR(attention_transfer(values({1, 0, 1, 0}, {1, 1, 1, 2, 2}),
                                 torch::ones({1, 3, 1, 2, 2}, torch::kDouble))
                  .item<double>(),
              expected, 1e-12);
}

TEST(AttentionTransfer, AveragesOverTheBatch) {
  // A second sample whose maps agree halves the loss.
  const auto s =
      torch::cat({values({1, 0, 1, 0}, {1, 1, 2, 2}), torch::ones({1, 1, 2, 2}, torch::kDouble)});
  EXPECT_NEAR(attention_transfer(s, torch::ones({2, 1, 2, 2}, torch::kDouble)).item<double>(),
              (2 - std::sqrt(2.0)) / 8, 1e-12);
}

TEST(AttentionTransfer, ResizesTheStudentToTheTeacherSize) {
  // Student (1, 3) on 1×2 -> bilinear to 1×4: (1, 1.5, 2.5, 3); squares (1, 2.25, 6.25, 9), L2
  // norm √126.125 = 11.230583 -> (0.089043, 0.200347, 0.556518, 0.801386). Teacher ones on 1×4:
  // 1/2 each. Mean of squared differences:
  // (0.410957² + 0.299653² + 0.056518² + 0.301386²)/4 = 0.088176.
  EXPECT_NEAR(
      attention_transfer(values({1, 3}, {1, 1, 1, 2}), torch::ones({1, 1, 1, 4}, torch::kDouble))
          .item<double>(),
      0.088176, 1e-6);
  // A constant student of any size matches a constant teacher.
  EXPECT_NEAR(attention_transfer(torch::full({1, 2, 1, 1, 1}, 5.0), torch::ones({1, 1, 2, 2, 2}))
                  .item<double>(),
              0, 1e-7);
}

TEST(AttentionTransfer, OnlyTheStudentGetsAGradient) {
  const auto s = as_student(values({1, 0, 1, 0}, {1, 1, 2, 2}));
  const auto t = torch::ones({1, 2, 2, 2}, torch::kDouble);
  expect_student_gradient_only(attention_transfer(s, t), s, t);
}

TEST(AttentionTransfer, ADifferentBatchOrRankIsAnErrorNamingBothShapes) {
  std::string message = error_of([] {
    attention_transfer(torch::ones({2, 1, 2, 2}), torch::ones({1, 1, 2, 2}));
  });
  EXPECT_NE(message.find("student [2, 1, 2, 2] and teacher [1, 1, 2, 2]"), std::string::npos)
      << message;
  message = error_of([] {
    attention_transfer(torch::ones({1, 1, 2, 2}), torch::ones({1, 1, 2, 2, 2}));
  });
  EXPECT_NE(message.find("student [1, 1, 2, 2] and teacher [1, 1, 2, 2, 2]"), std::string::npos)
      << message;
}

TEST(AttentionTransfer, TheSumReductionIsEmkdsAndScalesWithTheMapSize) {
  // The hand-computed 2×2 maps above: squared differences sum to 2 − √2 over the 4 voxels,
  // which EMKD's importance-map loss takes as it is (utils/loss_functions.py, imd).
  using medkd::distill::AtReduction;
  const auto s = values({1, 0, 1, 0}, {1, 1, 2, 2});
  const auto t = torch::ones({1, 3, 2, 2}, torch::kDouble);
  EXPECT_NEAR(attention_transfer(s, t, 2, AtReduction::kSum).item<double>(), 2 - std::sqrt(2.0),
              1e-12);
  EXPECT_NEAR(attention_transfer(s, t, 2, AtReduction::kSum).item<double>(),
              4 * attention_transfer(s, t, 2, AtReduction::kMean).item<double>(), 1e-12);
  // p = 4: squares of squares (1, 0, 1, 0) -> the same unit map; the teacher's stays uniform.
  EXPECT_NEAR(attention_transfer(s, t, 4, AtReduction::kSum).item<double>(), 2 - std::sqrt(2.0),
              1e-12);
  // Two unit vectors differ by at most 2 in L2: the sum stays in [0, 4] on any map size.
  const auto big_s = torch::rand({2, 4, 16, 16, 16}), big_t = torch::rand({2, 8, 16, 16, 16});
  const double big = attention_transfer(big_s, big_t, 4, AtReduction::kSum).item<double>();
  EXPECT_GT(big, 0);
  EXPECT_LE(big, 4);
}
