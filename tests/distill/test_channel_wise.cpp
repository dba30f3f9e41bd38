#include "medkd/distill/channel_wise.h"

#include <gtest/gtest.h>

#include <cmath>

#include "distill/kd_test_support.h"
#include "test_support.h"

using medkd::distill::channel_wise;
using medkd::testing::as_student;
using medkd::testing::error_of;
using medkd::testing::expect_student_gradient_only;
using medkd::testing::values;

namespace {

const double kLn3 = std::log(3.0);

// One sample, two channels, two voxels ([1, 2, 1, 2], channel-major). With T = 2 each channel is
// a softmax over its two voxels:
//   channel 0: teacher (0, 2 ln 3) -> q = (1/4, 3/4); student (0, 0) -> p = (1/2, 1/2)
//              KL = 3/4·ln 3 − ln 2
//   channel 1: teacher (0, 0) -> q = (1/2, 1/2); student (0, 2 ln 3) -> p = (1/4, 3/4)
//              KL = ln 2 − 1/2·ln 3
//   channel_wise = T²/(N·C)·Σ KL = 4/2·(1/4·ln 3) = 1/2·ln 3 = 0.549306.
// (A softmax over channels instead, as pixel_kl takes, would see voxel 0 agree and voxel 1 give
// q = (3/4, 1/4) against p = (1/4, 3/4): 4·(1/2·ln 3)/2 = ln 3.)
torch::Tensor student(std::vector<int64_t> shape = {1, 2, 1, 2}) {
  return values({0, 0, 0, 2 * kLn3}, shape);
}
torch::Tensor teacher(std::vector<int64_t> shape = {1, 2, 1, 2}) {
  return values({0, 2 * kLn3, 0, 0}, shape);
}

}  // namespace

TEST(ChannelWise, IsZeroWhenStudentAndTeacherAgree) {
  EXPECT_NEAR(channel_wise(teacher(), teacher(), 4).item<double>(), 0, 1e-15);
  const auto logits = torch::randn({2, 3, 2, 3, 2});
  EXPECT_NEAR(channel_wise(logits, logits.clone(), 4).item<double>(), 0, 1e-6);
}

TEST(ChannelWise, MatchesTheHandComputedSoftmaxOverSpace) {
  EXPECT_NEAR(channel_wise(student(), teacher(), 2).item<double>(), 0.5 * kLn3, 1e-12);
  EXPECT_NEAR(channel_wise(student({1, 2, 1, 1, 2}), teacher({1, 2, 1, 1, 2}), 2).item<double>(),
              0.5 * kLn3, 1e-12);
}

TEST(ChannelWise, TheTeacherIsTheReferenceDistribution) {
  // The example above is symmetric under swapping student and teacher; one channel is not.
  // Channel 0 alone: KL(q ‖ p) = 3/4·ln 3 − ln 2, times T²/(N·C) = 4: 0.523248; the reverse
  // KL(p ‖ q) = ln 2 − 1/2·ln 3 would give 0.575364.
  EXPECT_NEAR(channel_wise(values({0, 0}, {1, 1, 1, 2}), values({0, 2 * kLn3}, {1, 1, 1, 2}), 2)
                  .item<double>(),
              3 * kLn3 - 4 * std::log(2.0), 1e-12);
}

TEST(ChannelWise, DividesBySamplesTimesChannels) {
  // A second sample on which student and teacher agree adds no KL but doubles N:
  // 4/(2·2)·(1/4·ln 3) = 1/4·ln 3 = 0.274653.
  const auto s = torch::cat({student(), teacher()});
  const auto t = torch::cat({teacher(), teacher()});
  EXPECT_NEAR(channel_wise(s, t, 2).item<double>(), 0.25 * kLn3, 1e-12);
}

TEST(ChannelWise, OnlyTheStudentGetsAGradient) {
  const auto s = as_student(student());
  const auto t = teacher();
  expect_student_gradient_only(channel_wise(s, t, 4), s, t);
}

TEST(ChannelWise, DifferentShapesAreAnErrorNamingBoth) {
  std::string message = error_of([] {
    channel_wise(torch::zeros({1, 2, 4, 4}), torch::zeros({1, 2, 4, 5}), 4);
  });
  EXPECT_NE(message.find("student [1, 2, 4, 4] and teacher [1, 2, 4, 5]"), std::string::npos)
      << message;
  message = error_of([] {
    channel_wise(torch::zeros({1, 2, 4, 4}), torch::zeros({1, 2, 4, 4}), -1);
  });
  EXPECT_NE(message.find("temperature must be > 0, got -1"), std::string::npos) << message;
}
