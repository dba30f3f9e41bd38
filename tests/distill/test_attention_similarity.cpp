#include "medkd/distill/attention_similarity.h"

#include <gtest/gtest.h>

#include <cmath>

#include "distill/kd_test_support.h"
#include "test_support.h"

using medkd::distill::attention_similarity;
using medkd::distill::ChannelMatch;
using medkd::distill::parse_channel_match;
using medkd::testing::as_student;
using medkd::testing::error_of;
using medkd::testing::expect_student_gradient_only;
using medkd::testing::values;

TEST(AttentionSimilarity, IsZeroWhenStudentEqualsTeacherInBothModes) {
  const auto t = torch::randn({2, 3, 2, 3});
  EXPECT_NEAR(attention_similarity(t.clone(), t, ChannelMatch::kInterpolate).item<double>(), 0,
              1e-12);
  EXPECT_NEAR(attention_similarity(t.clone(), t, ChannelMatch::kAttentionMap).item<double>(), 0,
              1e-12);
}

TEST(AttentionSimilarity, GradientIsFiniteEvenWhereTheDifferenceVanishes) {
  // The L2 norm of a zero vector has no derivative; the loss must not turn it into NaN.
  const auto t = torch::randn({1, 2, 2, 2});
  auto s = as_student(t);
  attention_similarity(s, t).backward();
  ASSERT_TRUE(s.grad().defined());
  EXPECT_TRUE(torch::isfinite(s.grad()).all().item<bool>()) << s.grad();
}

TEST(AttentionSimilarity, InterpolateModeMatchesTheHandComputedExample) {
  // Two samples, one voxel each ([2, C, 1, 1]); the student has 2 channels, the teacher 3.
  // Channels 2 -> 3 by linear interpolation: (c0, (c0 + c1)/2, c1).
  //   sample 0: student (2, 4) -> (2, 3, 4), L1 9 -> (2/9, 3/9, 4/9);
  //             teacher (1, 1, 1) -> (1/3, 1/3, 1/3); difference (−1/9, 0, 1/9), L2 √2/9
  //   sample 1: student (1, 1) -> (1, 1, 1) -> (1/3, 1/3, 1/3) = teacher: 0
  //   mean over the batch: √2/18 = 0.078567.
  const auto s = values({2, 4, 1, 1}, {2, 2, 1, 1});
  const auto t = torch::ones({2, 3, 1, 1}, torch::kDouble);
  EXPECT_NEAR(attention_similarity(s, t, ChannelMatch::kInterpolate).item<double>(),
              std::sqrt(2.0) / 18, 1e-12);
}

TEST(AttentionSimilarity, AttentionMapModeComparesChannelEnergies) {
  // Student [1, 2, 1, 2]: channels (−1, 0) and (1, 2) -> Σ_c F² per voxel = (2, 4), L1 6 ->
  // (1/3, 2/3). Teacher [1, 3, 1, 2], ones -> (3, 3) -> (1/2, 1/2).
  // Difference (−1/6, 1/6), L2 √2/6 = 0.235702.
  const auto s = values({-1, 0, 1, 2}, {1, 2, 1, 2});
  const auto t = torch::ones({1, 3, 1, 2}, torch::kDouble);
  EXPECT_NEAR(attention_similarity(s, t, ChannelMatch::kAttentionMap).item<double>(),
              std::sqrt(2.0) / 6, 1e-12);
  // The same in 3-D.
  EXPECT_NEAR(attention_similarity(s.view({1, 2, 1, 1, 2}), t.view({1, 3, 1, 1, 2}),
                                   ChannelMatch::kAttentionMap)
                  .item<double>(),
              std::sqrt(2.0) / 6, 1e-12);
}

TEST(AttentionSimilarity, ResizesTheStudentOnlyWhenSizesDiffer) {
  // Student 2 on one voxel -> (2, 2) on the teacher's 1×2 -> (1/2, 1/2); teacher (1, 3) ->
  // (1/4, 3/4). Difference (1/4, −1/4), L2 √2/4 = 0.353553, in 2-D and 3-D.
  EXPECT_NEAR(
      attention_similarity(values({2}, {1, 1, 1, 1}), values({1, 3}, {1, 1, 1, 2})).item<double>(),
      std::sqrt(2.0) / 4, 1e-12);
  EXPECT_NEAR(attention_similarity(values({2}, {1, 1, 1, 1, 1}), values({1, 3}, {1, 1, 1, 1, 2}))
                  .item<double>(),
              std::sqrt(2.0) / 4, 1e-12);
}

TEST(AttentionSimilarity, OnlyTheStudentGetsAGradientInBothModes) {
  const auto t = torch::ones({1, 3, 1, 2}, torch::kDouble);
  const auto s = as_student(values({-1, 0, 1, 2}, {1, 2, 1, 2}));
  expect_student_gradient_only(attention_similarity(s, t, ChannelMatch::kInterpolate), s, t);
  const auto s2 = as_student(values({-1, 0, 1, 2}, {1, 2, 1, 2}));
  expect_student_gradient_only(attention_similarity(s2, t, ChannelMatch::kAttentionMap), s2, t);
}

TEST(AttentionSimilarity, ParsesTheChannelMatchNames) {
  EXPECT_EQ(parse_channel_match("interpolate"), ChannelMatch::kInterpolate);
  EXPECT_EQ(parse_channel_match("attention_map"), ChannelMatch::kAttentionMap);
  const std::string message = error_of([] { parse_channel_match("adapter"); });
  EXPECT_NE(message.find("unknown channel_match 'adapter' (valid: interpolate, attention_map)"),
            std::string::npos)
      << message;
}

TEST(AttentionSimilarity, ADifferentBatchIsAnErrorNamingBothShapes) {
  const std::string message = error_of([] {
    attention_similarity(torch::ones({2, 4, 3, 3}), torch::ones({3, 4, 3, 3}));
  });
  EXPECT_NE(message.find("student [2, 4, 3, 3] and teacher [3, 4, 3, 3]"), std::string::npos)
      << message;
}

TEST(AttentionSimilarity, TheL2NormalisationIsScaleFreeUnlikeThePapersL1) {
  using medkd::distill::SimilarityNorm;
  // Attention maps (2, 4) and (3, 3) as in the example above. L2: (2, 4)/√20 = (0.447214,
  // 0.894427) and (1, 1)/√2 = (0.707107, 0.707107); difference (−0.259893, 0.187320), L2
  // norm 0.320364.
  const auto s = values({-1, 0, 1, 2}, {1, 2, 1, 2});
  const auto t = torch::ones({1, 3, 1, 2}, torch::kDouble);
  const double expected = std::hypot(2 / std::sqrt(20.0) - 1 / std::sqrt(2.0),
                                     4 / std::sqrt(20.0) - 1 / std::sqrt(2.0));
  EXPECT_NEAR(
      attention_similarity(s, t, ChannelMatch::kAttentionMap, SimilarityNorm::kL2).item<double>(),
      expected, 1e-12);
  EXPECT_NEAR(expected, 0.320364, 1e-6);
  // On a 16³ map the paper's L1 form shrinks by ~1/√4096 while L2 keeps its size.
  const auto big_s = torch::rand({1, 2, 16, 16, 16}, torch::kDouble);
  const auto big_t = torch::rand({1, 2, 16, 16, 16}, torch::kDouble).pow(3);
  const double l1 =
      attention_similarity(big_s, big_t, ChannelMatch::kAttentionMap, SimilarityNorm::kL1)
          .item<double>();
  const double l2 =
      attention_similarity(big_s, big_t, ChannelMatch::kAttentionMap, SimilarityNorm::kL2)
          .item<double>();
  EXPECT_LT(l1, 0.05);
  EXPECT_GT(l2, 10 * l1);
}
