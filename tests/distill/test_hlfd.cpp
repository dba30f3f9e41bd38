#include "medkd/distill/hlfd.h"

#include <gtest/gtest.h>

#include <cmath>

#include "distill/kd_test_support.h"
#include "test_support.h"

using medkd::distill::ifd;
using medkd::distill::imd;
using medkd::distill::pmd;
using medkd::distill::ufd;
using medkd::distill::unify_decoder;
using medkd::distill::unify_middle;
using medkd::testing::as_student;
using medkd::testing::error_of;
using medkd::testing::expect_student_gradient_only;
using medkd::testing::values;

namespace {

torch::Tensor ones(std::vector<int64_t> shape) { return torch::ones(shape, torch::kDouble); }

void expect_values(const torch::Tensor& actual, std::vector<double> expected) {
  const torch::Tensor flat = actual.reshape({-1});
  ASSERT_EQ(flat.numel(), static_cast<int64_t>(expected.size())) << actual.sizes();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(flat[static_cast<int64_t>(i)].item<double>(), expected[i], 1e-12) << "at " << i;
}

}  // namespace

TEST(HlfdImd, IsZeroForEqualFeatures) {
  const auto t = torch::randn({2, 3, 4, 4});
  EXPECT_NEAR(imd(t.clone(), t).item<double>(), 0, 1e-12);
}

TEST(HlfdImd, SumsTheSquaredDifferenceOverSpace) {
  // Student (1, 0): |F|⁴ = (1, 0) -> at (1, 0). Teacher (1, 1) -> (1/√2, 1/√2).
  // Σ_space: (1 − 1/√2)² + 1/2 = 2 − √2 = 0.585786 (a mean over space would give half).
  EXPECT_NEAR(imd(values({1, 0}, {1, 1, 1, 2}), ones({1, 1, 1, 2})).item<double>(),
              2 - std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(imd(values({1, 0}, {1, 1, 1, 1, 2}), ones({1, 1, 1, 1, 2})).item<double>(),
              2 - std::sqrt(2.0), 1e-12);
}

TEST(HlfdImd, UsesTheFourthPowerAndAveragesOverTheBatch) {
  // Sample 0: student (2, 1) -> |F|⁴ = (16, 1) -> (16, 1)/√257; teacher (1/√2, 1/√2).
  //   Σ (a − b)² = |a|² + |b|² − 2a·b = 2 − 2·17/(√257·√2) = 2 − 17·√(2/257) = 0.500324
  //   (with p = 2 it would be 2 − 10/√34 = 0.285014).
  // Sample 1: student (1, 1) = teacher: 0. Mean over the batch: 0.250162.
  const auto s = values({2, 1, 1, 1}, {2, 1, 1, 2});
  EXPECT_NEAR(imd(s, ones({2, 1, 1, 2})).item<double>(), (2 - 17 * std::sqrt(2.0 / 257)) / 2,
              1e-12);
}

TEST(HlfdImd, ResizesTheStudentToTheTeacherSize) {
  // A constant student on one voxel becomes constant on the teacher's 2×2: the maps agree.
  EXPECT_NEAR(
      imd(torch::full({1, 2, 1, 1}, 3.0, torch::kDouble), ones({1, 4, 2, 2})).item<double>(), 0,
      1e-12);
}

TEST(HlfdImd, OnlyTheStudentGetsAGradient) {
  const auto s = as_student(values({2, 1}, {1, 1, 1, 2}));
  const auto t = ones({1, 3, 1, 2});
  expect_student_gradient_only(imd(s, t), s, t);
}

TEST(HlfdImd, ADifferentBatchIsAnErrorNamingBothShapes) {
  const std::string message = error_of([] {
    imd(torch::ones({1, 2, 2, 2}), torch::ones({2, 2, 2, 2}));
  });
  EXPECT_NE(message.find("student [1, 2, 2, 2] and teacher [2, 2, 2, 2]"), std::string::npos)
      << message;
}

TEST(HlfdUnifyMiddle, ResizesToTheSmallestSizeThenConcatenatesThenResizesToTheTarget) {
  // a = (0, 0, 4, 4) on 1×4, b = (1, 2) on 1×2. Smallest: 1×2.
  //   a -> 1×2: positions 0.5 and 2.5: (0, 4); b unchanged.
  //   -> target 1×4 (positions −0.25 -> 0, 0.25, 0.75, 1.25 -> 1):
  //      a: (0, 1, 3, 4)   (straight to 1×4 it would have stayed (0, 0, 4, 4))
  //      b: (1, 1.25, 1.75, 2)
  const auto unified =
      unify_middle({values({0, 0, 4, 4}, {1, 1, 1, 4}), values({1, 2}, {1, 1, 1, 2})}, {1, 4});
  EXPECT_EQ(unified.sizes(), (std::vector<int64_t>{1, 2, 1, 4}));
  expect_values(unified[0][0], {0, 1, 3, 4});
  expect_values(unified[0][1], {1, 1.25, 1.75, 2});
}

TEST(HlfdUnifyMiddle, StacksEveryTapsChannelsInOrder) {
  const auto unified =
      unify_middle({torch::full({2, 2, 4, 4, 4}, 1.0), torch::full({2, 3, 2, 2, 2}, 2.0),
                    torch::full({2, 5, 8, 8, 8}, 3.0)},
                   {8, 8, 8});
  EXPECT_EQ(unified.sizes(), (std::vector<int64_t>{2, 10, 8, 8, 8}));
  EXPECT_NEAR(unified.slice(1, 0, 2).min().item<float>(), 1, 1e-6);
  EXPECT_NEAR(unified.slice(1, 0, 2).max().item<float>(), 1, 1e-6);
  EXPECT_NEAR(unified.slice(1, 2, 5).min().item<float>(), 2, 1e-6);
  EXPECT_NEAR(unified.slice(1, 2, 5).max().item<float>(), 2, 1e-6);
  EXPECT_NEAR(unified.slice(1, 5, 10).min().item<float>(), 3, 1e-6);
  EXPECT_NEAR(unified.slice(1, 5, 10).max().item<float>(), 3, 1e-6);
}

TEST(HlfdUnifyMiddle, EmptyListsAndMixedBatchesAreErrors) {
  std::string message = error_of([] { unify_middle({}, {2, 2}); });
  EXPECT_NE(message.find("no teacher middle tap given"), std::string::npos) << message;
  message = error_of([] {
    unify_middle({torch::ones({1, 2, 4, 4}), torch::ones({2, 2, 2, 2})}, {2, 2});
  });
  EXPECT_NE(
      message.find("teacher middle tap[1] [2, 2, 2, 2] and teacher middle tap[0] [1, 2, 4, 4]"),
      std::string::npos)
      << message;
  message = error_of([] { unify_middle({torch::ones({1, 2, 4, 4})}, {2, 2, 2}); });
  EXPECT_NE(message.find("target size [2, 2, 2] does not match the spatial axes of [1, 2, 4, 4]"),
            std::string::npos)
      << message;
}

TEST(HlfdUnifyDecoder, ResizesToTheLargestSizeAndConcatenates) {
  // a = (1, 2) on 1×2 -> 1×4: (1, 1.25, 1.75, 2); b = (0, 0, 4, 4) already 1×4, unchanged.
  const auto unified =
      unify_decoder({values({1, 2}, {1, 1, 1, 2}), values({0, 0, 4, 4}, {1, 1, 1, 4})});
  EXPECT_EQ(unified.sizes(), (std::vector<int64_t>{1, 2, 1, 4}));
  expect_values(unified[0][0], {1, 1.25, 1.75, 2});
  expect_values(unified[0][1], {0, 0, 4, 4});
}

TEST(HlfdUnifyDecoder, TakesTheLargestSizePerAxis) {
  // 2×8 and 4×4 -> 4×8; in 3-D, 1×4×4 and 2×2×2 -> 2×4×4.
  EXPECT_EQ(unify_decoder({torch::ones({1, 1, 2, 8}), torch::ones({1, 3, 4, 4})}).sizes(),
            (std::vector<int64_t>{1, 4, 4, 8}));
  EXPECT_EQ(unify_decoder({torch::ones({2, 2, 1, 4, 4}), torch::ones({2, 1, 2, 2, 2})}).sizes(),
            (std::vector<int64_t>{2, 3, 2, 4, 4}));
}

TEST(HlfdUfd, ComparesTheStudentEarlyTapWithTheUnifiedMiddleTaps) {
  // Constant teacher taps unify to a constant 1×4 map: at() = (1/2, 1/2, 1/2, 1/2).
  // Student (1, 0, 0, 0): at() = (1, 0, 0, 0); Σ (a − b)² = 1/4 + 3·1/4 = 1.
  const std::vector<torch::Tensor> middle{torch::full({1, 2, 1, 4}, 3.0, torch::kDouble),
                                          torch::full({1, 1, 1, 2}, 5.0, torch::kDouble)};
  EXPECT_NEAR(ufd(values({1, 0, 0, 0}, {1, 1, 1, 4}), middle).item<double>(), 1, 1e-12);
  EXPECT_NEAR(ufd(torch::full({1, 4, 1, 4}, 2.0, torch::kDouble), middle).item<double>(), 0, 1e-12);
  // (A one-hot map is a stationary point of at(): scaling its one non-zero voxel changes nothing,
  // and |F|⁴ is flat at 0. The gradient check uses a map with two non-zero voxels.)
  const auto s = as_student(values({2, 1, 0, 0}, {1, 1, 1, 4}));
  expect_student_gradient_only(ufd(s, middle), s, middle[0]);
}

TEST(HlfdIfd, SumsImdOverTheStudentTaps) {
  // (1, 0) against ones: 2 − √2 (see SumsTheSquaredDifferenceOverSpace); a constant student tap
  // on one voxel resizes to a constant: 0. Sum 2 − √2.
  const auto bottleneck = ones({1, 2, 1, 2});
  EXPECT_NEAR(ifd({values({1, 0}, {1, 1, 1, 2}), torch::full({1, 3, 1, 1}, 7.0, torch::kDouble)},
                  bottleneck)
                  .item<double>(),
              2 - std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(
      ifd({values({1, 0}, {1, 1, 1, 2}), values({0, 1}, {1, 1, 1, 2})}, bottleneck).item<double>(),
      2 * (2 - std::sqrt(2.0)), 1e-12);
  EXPECT_NEAR(ifd({ones({1, 1, 1, 2}), ones({1, 5, 1, 1})}, bottleneck).item<double>(), 0, 1e-12);
  const auto s = as_student(values({2, 1}, {1, 1, 1, 2}));  // not one-hot: see HlfdUfd
  expect_student_gradient_only(ifd({s}, bottleneck), s, bottleneck);
  const std::string message = error_of([&] { ifd({}, bottleneck); });
  EXPECT_NE(message.find("no student intermediate tap given"), std::string::npos) << message;
}

TEST(HlfdPmd, ResizesThenTakesPixelKl) {
  // One student voxel (0, 2 ln 3) stretched over the teacher's two voxels, both (0, 0).
  // T = 2: p = (1/4, 3/4), q = (1/2, 1/2): KL = 1/2·ln(4/3) per voxel; T²·mean = 2·ln(4/3) =
  // 0.575364.
  const auto y = values({0, 2 * std::log(3.0)}, {1, 2, 1, 1});
  const auto t = torch::zeros({1, 2, 1, 2}, torch::kDouble);
  EXPECT_NEAR(pmd(y, t, 2).item<double>(), 2 * std::log(4.0 / 3.0), 1e-12);
  // Default T = 4: p = softmax(0, ln 3/2) = (1, √3)/(1 + √3), so
  // KL = 1/2·ln(1/4 / (p0·p1)) = 1/2·ln((2 + √3)/(2√3)) and 16·KL = 8·ln((2 + √3)/(2√3)) =
  // 0.596037.
  const double sqrt3 = std::sqrt(3.0);
  EXPECT_NEAR(pmd(y, t).item<double>(), 8 * std::log((2 + sqrt3) / (2 * sqrt3)), 1e-12);
  EXPECT_NEAR(pmd(t.clone(), t).item<double>(), 0, 1e-15);
  const auto s = as_student(y);
  expect_student_gradient_only(pmd(s, t), s, t);
}

TEST(HlfdPmd, AChannelMismatchIsAnErrorNamingBothShapes) {
  const std::string message = error_of([] {
    pmd(torch::ones({1, 3, 2, 2}), torch::ones({1, 2, 4, 4}));
  });
  EXPECT_NE(message.find("projected student [1, 3, 2, 2] and teacher [1, 2, 4, 4]"),
            std::string::npos)
      << message;
}
