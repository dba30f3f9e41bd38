#include "medkd/distill/hint.h"

#include <gtest/gtest.h>

#include "distill/kd_test_support.h"
#include "test_support.h"

using medkd::distill::hint;
using medkd::testing::as_student;
using medkd::testing::error_of;
using medkd::testing::expect_student_gradient_only;
using medkd::testing::values;

TEST(Hint, IsZeroForEqualFeatures) {
  const auto t = torch::randn({2, 4, 3, 3, 3});
  EXPECT_EQ(hint(t.clone(), t).item<double>(), 0);
}

TEST(Hint, IsTheMeanSquaredError) {
  // (1 − 0)² and (3 − 0)²: (1 + 9)/2 = 5, in 2-D and 3-D.
  EXPECT_NEAR(
      hint(values({1, 3}, {1, 1, 1, 2}), torch::zeros({1, 1, 1, 2}, torch::kDouble)).item<double>(),
      5, 1e-12);
  EXPECT_NEAR(hint(values({1, 3}, {1, 1, 1, 1, 2}), torch::zeros({1, 1, 1, 1, 2}, torch::kDouble))
                  .item<double>(),
              5, 1e-12);
}

TEST(Hint, ResizesTheStudentToTheTeacherSize) {
  // 2 on one voxel -> (2, 2) against (0, 1): (4 + 1)/2 = 2.5.
  EXPECT_NEAR(hint(values({2}, {1, 1, 1, 1}), values({0, 1}, {1, 1, 1, 2})).item<double>(), 2.5,
              1e-12);
}

TEST(Hint, OnlyTheStudentGetsAGradient) {
  const auto s = as_student(values({1, 3}, {1, 1, 1, 2}));
  const auto t = torch::zeros({1, 1, 1, 2}, torch::kDouble);
  expect_student_gradient_only(hint(s, t), s, t);
}

TEST(Hint, AChannelMismatchIsAnErrorNamingBothShapes) {
  const std::string message = error_of([] {
    hint(torch::ones({1, 8, 4, 4}), torch::ones({1, 16, 4, 4}));
  });
  EXPECT_NE(message.find("projected student [1, 8, 4, 4] and teacher [1, 16, 4, 4]"),
            std::string::npos)
      << message;
}
