#include "medkd/distill/affinity.h"

#include <gtest/gtest.h>

#include <cmath>

#include "distill/kd_test_support.h"
#include "test_support.h"

using medkd::distill::pairwise_affinity;
using medkd::distill::region_affinity;
using medkd::testing::as_student;
using medkd::testing::error_of;
using medkd::testing::expect_student_gradient_only;
using medkd::testing::values;

namespace {

// Pair-wise example on a 2×4 map, pool scale 0.5 -> a 1×2 grid of nodes, each the max over a
// 2×2 block (columns 0-1 and 2-3).
//   teacher, 2 channels: c0 has a 1 at (0, 0), c1 a 1 at (1, 3), zeros elsewhere
//     -> nodes (1, 0) and (0, 1): cosine 0.
//   student, 3 channels: c0 all ones, c1 a 1 at (1, 3), c2 zeros
//     -> nodes (1, 0, 0) and (1, 1, 0): cosine 1/√2.
//   (Average pooling would give student nodes (1, 0, 0), (1, 1/4, 0) instead.)
//   Σ_ij (a^t − a^s)² = 2·(1/√2)² = 1; / nodes² = 4; / N = 1 -> 0.25.
torch::Tensor pairwise_teacher(std::vector<int64_t> shape = {1, 2, 2, 4}) {
  return values({1, 0, 0, 0, 0, 0, 0, 0,   // c0
                 0, 0, 0, 0, 0, 0, 0, 1},  // c1
                shape);
}
torch::Tensor pairwise_student(std::vector<int64_t> shape = {1, 3, 2, 4}) {
  return values({1, 1, 1, 1, 1, 1, 1, 1,   // c0
                 0, 0, 0, 0, 0, 0, 0, 1,   // c1
                 0, 0, 0, 0, 0, 0, 0, 0},  // c2
                shape);
}

// Region example: one sample, 3 classes, 2 channels on 1×4 voxels, label (0, 0, 1, 1): class 2
// is absent.
//   student voxels (1, 0), (1, 0), (1, 1), (0, 1): prototypes (1, 0) and (1/2, 1);
//     cosine 1/2 / √(5/4) = 1/√5
//   teacher voxels (1, 0), (1, 0), (0, 1), (0, 1): prototypes (1, 0) and (0, 1): cosine 0
//   present pairs (0, 1) and (1, 0), each (1/√5)² = 1/5: mean 0.2.
//   (Keeping absent class 2 as a zero prototype and the diagonal would average the same 0.4 over
//   9 entries: 0.044.)
torch::Tensor region_student() { return values({1, 1, 1, 0, 0, 0, 1, 1}, {1, 2, 1, 4}); }
torch::Tensor region_teacher() { return values({1, 1, 0, 0, 0, 0, 1, 1}, {1, 2, 1, 4}); }
torch::Tensor region_label() {
  return torch::tensor({0, 0, 1, 1}, torch::kLong).view({1, 1, 1, 4});
}

// Three present classes on 1×3 voxels, label (0, 1, 2):
//   student prototypes (1, 0), (0, 1), (1, 1); teacher (1, 0), (0, 1), (1, 0)
//   pairs: (0, 1): 0 vs 0; (0, 2): 1/√2 vs 1 -> (1 − 1/√2)² = 3/2 − √2; (1, 2): 1/√2 vs 0 -> 1/2
//   mean over the 3 pairs (each counted as (i, j) and (j, i)): (2 − √2)/3 = 0.195262.
const double kThreeClassAffinity = (2 - std::sqrt(2.0)) / 3;

}  // namespace

TEST(PairwiseAffinity, IsZeroWhenTheNodeRelationsAgree) {
  const auto t = torch::randn({2, 3, 4, 4});
  EXPECT_NEAR(pairwise_affinity(t.clone(), t).item<double>(), 0, 1e-12);
  // Scaling the features keeps every cosine.
  EXPECT_NEAR(pairwise_affinity(2 * t, t).item<double>(), 0, 1e-10);
}

TEST(PairwiseAffinity, MatchesTheHandComputedMaxPooledGrid) {
  EXPECT_NEAR(pairwise_affinity(pairwise_student(), pairwise_teacher()).item<double>(), 0.25,
              1e-12);
  // As a volume with one slice: the z grid is max(1, floor(1·0.5)) = 1, the rest as in 2-D.
  EXPECT_NEAR(
      pairwise_affinity(pairwise_student({1, 3, 1, 2, 4}), pairwise_teacher({1, 2, 1, 2, 4}))
          .item<double>(),
      0.25, 1e-12);
}

TEST(PairwiseAffinity, RoundsTheNodeGridDown) {
  // 3×5 at scale 0.5 -> floor: a 1×2 grid (rounding up would give 2×3). Adaptive pooling windows:
  // all rows; columns 0-2 and 2-4. Teacher: c0 1 at (0, 0), c1 1 at (2, 4) -> nodes (1, 0) and
  // (0, 1); student: c0 ones, c1 1 at (2, 4), c2 zeros -> (1, 0, 0) and (1, 1, 0). As in the 2×4
  // example: 0.25.
  auto t = torch::zeros({1, 2, 3, 5}, torch::kDouble);
  t[0][0][0][0] = 1;
  t[0][1][2][4] = 1;
  auto s = torch::zeros({1, 3, 3, 5}, torch::kDouble);
  s[0][0].fill_(1);
  s[0][1][2][4] = 1;
  EXPECT_NEAR(pairwise_affinity(s, t).item<double>(), 0.25, 1e-12);
}

TEST(PairwiseAffinity, DividesByTheBatchSize) {
  const auto s = torch::cat({pairwise_student(), torch::zeros({1, 3, 2, 4}, torch::kDouble)});
  auto t = torch::cat({pairwise_teacher(), torch::zeros({1, 2, 2, 4}, torch::kDouble)});
  // Sample 1: all-zero nodes on both sides, cosine 0 everywhere: no difference. (0.25 + 0)/2.
  EXPECT_NEAR(pairwise_affinity(s, t).item<double>(), 0.125, 1e-12);
}

TEST(PairwiseAffinity, ResizesTheStudentGridToTheTeacherGrid) {
  // Student 4×8 -> 2×4 grid, constant -> resized to the teacher's 1×2 grid, still constant:
  // every cosine 1. Teacher cosines: 1 on the diagonal, 0 off it. Σ = 2·1² = 2; / 4 -> 0.5.
  EXPECT_NEAR(pairwise_affinity(torch::ones({1, 5, 4, 8}, torch::kDouble), pairwise_teacher())
                  .item<double>(),
              0.5, 1e-12);
}

TEST(PairwiseAffinity, OnlyTheStudentGetsAGradient) {
  const auto s = as_student(pairwise_student() + 0.5);
  const auto t = pairwise_teacher();
  expect_student_gradient_only(pairwise_affinity(s, t), s, t);
}

TEST(PairwiseAffinity, BadShapesAndScalesAreErrors) {
  std::string message = error_of([] {
    pairwise_affinity(torch::ones({2, 3, 4, 4}), torch::ones({1, 3, 4, 4}));
  });
  EXPECT_NE(message.find("student [2, 3, 4, 4] and teacher [1, 3, 4, 4]"), std::string::npos)
      << message;
  message = error_of([] {
    pairwise_affinity(torch::ones({1, 3, 4, 4}), torch::ones({1, 3, 4, 4}), 1.5);
  });
  EXPECT_NE(message.find("pool_scale must be in (0, 1], got 1.5"), std::string::npos) << message;
}

TEST(RegionAffinity, IsZeroWhenThePrototypeRelationsAgree) {
  const auto t = torch::randn({2, 3, 4, 4});
  const auto label = torch::randint(0, 3, {2, 1, 4, 4}, torch::kLong);
  EXPECT_NEAR(region_affinity(t.clone(), t, label, 3).item<double>(), 0, 1e-12);
}

TEST(RegionAffinity, MatchesTheHandComputedPrototypesAndSkipsAbsentClasses) {
  EXPECT_NEAR(region_affinity(region_student(), region_teacher(), region_label(), 3).item<double>(),
              0.2, 1e-12);
}

TEST(RegionAffinity, AveragesOverThePresentPairsOfThreeClasses) {
  const auto label = torch::tensor({0, 1, 2}, torch::kLong).view({1, 1, 1, 3});
  const auto s = values({1, 0, 1, 0, 1, 1}, {1, 2, 1, 3});
  const auto t = values({1, 0, 1, 0, 1, 0}, {1, 2, 1, 3});
  EXPECT_NEAR(region_affinity(s, t, label, 3).item<double>(), kThreeClassAffinity, 1e-12);
  // The same in 3-D, with a teacher of another channel count (a zero third channel).
  const auto t3 = torch::cat({t, torch::zeros({1, 1, 1, 3}, torch::kDouble)}, 1);
  EXPECT_NEAR(region_affinity(s.view({1, 2, 1, 1, 3}), t3.view({1, 3, 1, 1, 3}),
                              label.view({1, 1, 1, 1, 3}), 4)
                  .item<double>(),
              kThreeClassAffinity, 1e-12);
}

TEST(RegionAffinity, ResizesTheLabelByNearestNeighbourToEachFeature) {
  // The label at twice the width, (0, 0, 0, 0, 1, 1, 1, 1): nearest-exact to width 4 picks
  // voxels 1, 3, 5, 7 -> (0, 0, 1, 1). A teacher at twice the width (each voxel repeated) has the
  // same prototypes. Both give the 0.2 of the 1×4 example.
  const auto wide_label = torch::tensor({0, 0, 0, 0, 1, 1, 1, 1}, torch::kLong).view({1, 1, 1, 8});
  EXPECT_NEAR(region_affinity(region_student(), region_teacher(), wide_label, 3).item<double>(),
              0.2, 1e-12);
  const auto wide_teacher = region_teacher().repeat_interleave(2, 3);  // [1, 2, 1, 8]
  EXPECT_NEAR(region_affinity(region_student(), wide_teacher, wide_label, 3).item<double>(), 0.2,
              1e-12);
}

TEST(RegionAffinity, PicksTheLabelVoxelNearestToEachFeatureVoxelCentre) {
  // Label (0, 0, 1, 1, 1, 1) at width 6 -> width 4: centres (i + 0.5)·1.5 -> voxels 0, 2, 3, 5:
  // (0, 1, 1, 1). (PyTorch's legacy "nearest", floor(i·1.5) = 0, 1, 3, 4, would give (0, 0, 1, 1).)
  //   student prototypes (1, 0) and the mean of (1, 0), (1, 1), (0, 1) = (2/3, 2/3): cosine 1/√2
  //   teacher prototypes (1, 0) and the mean of (1, 0), (0, 1), (0, 1) = (1/3, 2/3): cosine 1/√5
  //   (1/√2 − 1/√5)² = 0.7 − 2/√10 = 0.067544.
  const auto label = torch::tensor({0, 0, 1, 1, 1, 1}, torch::kLong).view({1, 1, 1, 6});
  EXPECT_NEAR(region_affinity(region_student(), region_teacher(), label, 2).item<double>(),
              0.7 - 2 / std::sqrt(10.0), 1e-12);
}

TEST(RegionAffinity, AveragesOverSamplesWithAtLeastTwoPresentClasses) {
  // Sample 1 has two classes and agreeing features: it counts, with 0 -> (0.2 + 0)/2 = 0.1.
  auto s = torch::cat({region_student(), region_teacher()});
  auto t = torch::cat({region_teacher(), region_teacher()});
  auto label = torch::cat({region_label(), region_label()});
  EXPECT_NEAR(region_affinity(s, t, label, 3).item<double>(), 0.1, 1e-12);
  // Sample 1 has only class 0: no pair to compare; it is left out of the mean -> 0.2.
  label = torch::cat({region_label(), torch::zeros({1, 1, 1, 4}, torch::kLong)});
  s = torch::cat({region_student(), region_student()});
  EXPECT_NEAR(region_affinity(s, t, label, 3).item<double>(), 0.2, 1e-12);
}

TEST(RegionAffinity, ASingleClassEverywhereGivesZeroWithAZeroGradient) {
  auto s = as_student(region_student());
  const auto loss =
      region_affinity(s, region_teacher(), torch::zeros({1, 1, 1, 4}, torch::kLong), 3);
  EXPECT_EQ(loss.item<double>(), 0);
  loss.backward();
  ASSERT_TRUE(s.grad().defined());
  EXPECT_EQ(s.grad().abs().sum().item<double>(), 0);
}

TEST(RegionAffinity, OnlyTheStudentGetsAGradient) {
  const auto s = as_student(region_student());
  const auto t = region_teacher();
  expect_student_gradient_only(region_affinity(s, t, region_label(), 3), s, t);
}

TEST(RegionAffinity, BadLabelsAreErrorsNamingTheShapesOrValues) {
  std::string message = error_of([] {
    region_affinity(torch::ones({1, 2, 4, 4}), torch::ones({1, 2, 4, 4}),
                    torch::zeros({2, 1, 4, 4}, torch::kLong), 2);
  });
  EXPECT_NE(message.find("label must be [N, 1, *spatial] for student [1, 2, 4, 4] and teacher "
                         "[1, 2, 4, 4], got [2, 1, 4, 4]"),
            std::string::npos)
      << message;
  message =
      error_of([] { region_affinity(region_student(), region_teacher(), region_label() * 3, 3); });
  EXPECT_NE(message.find("label values must be in [0, 3), got [0, 3]"), std::string::npos)
      << message;
  message = error_of([] {
    region_affinity(region_student(), region_teacher(), region_label().to(torch::kFloat), 3);
  });
  EXPECT_NE(message.find("integer class indices"), std::string::npos) << message;
  message = error_of([] {
    region_affinity(torch::ones({1, 2, 4, 4}), torch::ones({1, 2, 4, 4, 4}),
                    torch::zeros({1, 1, 4, 4}, torch::kLong), 2);
  });
  EXPECT_NE(message.find("student [1, 2, 4, 4] and teacher [1, 2, 4, 4, 4]"), std::string::npos)
      << message;
}
