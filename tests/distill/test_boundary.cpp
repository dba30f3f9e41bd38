#include "medkd/distill/boundary.h"

#include <gtest/gtest.h>

#include <cmath>

#include "distill/kd_test_support.h"
#include "test_support.h"

using medkd::distill::boundary_band;
using medkd::distill::boundary_kd;
using medkd::testing::as_student;
using medkd::testing::error_of;
using medkd::testing::expect_student_gradient_only;
using medkd::testing::values;

namespace {

torch::Tensor mask(std::initializer_list<int> bits, std::vector<int64_t> shape) {
  return torch::tensor(std::vector<int>(bits), torch::kInt).to(torch::kBool).view(shape);
}

// Two rows of eight voxels ([1, 1, 2, 8]):
//   row 0: 0 0 0 0 1 1 1 1
//   row 1: 0 0 0 0 0 0 0 0
// Boundary voxels (a face neighbour with another label): row 0 x = 3..7 (x = 3|4 along the row,
// 4..7 above row 1), row 1 x = 4..7.
torch::Tensor two_row_label() {
  return torch::tensor({0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}, torch::kLong)
      .view({1, 1, 2, 8});
}

}  // namespace

TEST(BoundaryBand, ZeroWidthIsTheBoundaryVoxelsOnBothSides) {
  EXPECT_TRUE(
      torch::equal(boundary_band(two_row_label(), {1, 1}, 0), mask({0, 0, 0, 1, 1, 1, 1, 1,  //
                                                                    0, 0, 0, 0, 1, 1, 1, 1},
                                                                   {1, 1, 2, 8})));
}

TEST(BoundaryBand, ScalesDistancesByTheSpacingOfEachAxis) {
  // Spacing (y 3 mm, x 0.5 mm), band 1 mm: offsets of up to 2 voxels along x (2·0.5 = 1 mm, the
  // edge counts), none along y (3 mm). Row 0: x = 1..7; row 1: x = 2..7.
  EXPECT_TRUE(torch::equal(boundary_band(two_row_label(), {3.0, 0.5}, 1.0),
                           mask({0, 1, 1, 1, 1, 1, 1, 1,  //
                                 0, 0, 1, 1, 1, 1, 1, 1},
                                {1, 1, 2, 8})));
  // Spacing the other way round (y 0.5 mm, x 3 mm): offsets along y only, so each row gains the
  // other row's boundary: x = 3..7 in both.
  EXPECT_TRUE(torch::equal(boundary_band(two_row_label(), {0.5, 3.0}, 1.0),
                           mask({0, 0, 0, 1, 1, 1, 1, 1,  //
                                 0, 0, 0, 1, 1, 1, 1, 1},
                                {1, 1, 2, 8})));
}

TEST(BoundaryBand, UsesAEuclideanBallNotABox) {
  // One foreground voxel in the centre of a 3×3×3 volume, spacing 1 mm. Boundary: the centre and
  // its 6 face neighbours (7 voxels). A 1 mm band adds the face neighbours of those: every voxel
  // within city-block distance 2 of the centre, i.e. all but the 8 corners (19). The corners lie
  // √2 mm from the nearest boundary voxel.
  auto label = torch::zeros({1, 1, 3, 3, 3}, torch::kLong);
  label[0][0][1][1][1] = 1;
  EXPECT_EQ(boundary_band(label, {1, 1, 1}, 0).sum().item<int64_t>(), 7);
  const auto band = boundary_band(label, {1, 1, 1}, 1);
  EXPECT_EQ(band.sizes(), (std::vector<int64_t>{1, 1, 3, 3, 3}));
  EXPECT_EQ(band.scalar_type(), torch::kBool);
  EXPECT_EQ(band.sum().item<int64_t>(), 19);
  EXPECT_FALSE(band[0][0][0][0][0].item<bool>());  // a corner
  EXPECT_TRUE(band[0][0][0][1][0].item<bool>());   // an edge midpoint, 1 mm from a face neighbour
  // A 1.5 mm band reaches the corners too (√2 = 1.414 mm from the face neighbours).
  EXPECT_EQ(boundary_band(label, {1, 1, 1}, 1.5).sum().item<int64_t>(), 27);
}

TEST(BoundaryBand, TheImageBorderIsNotABoundary) {
  EXPECT_EQ(boundary_band(torch::ones({2, 1, 4, 5}, torch::kLong), {1, 1}, 2).sum().item<int64_t>(),
            0);
}

TEST(BoundaryBand, BadArgumentsAreErrorsNamingTheValues) {
  std::string message = error_of([] { boundary_band(two_row_label(), {1, 1, 1}, 1); });
  EXPECT_NE(message.find("3 spacing values for label [1, 1, 2, 8] with 2 spatial axes"),
            std::string::npos)
      << message;
  message = error_of([] { boundary_band(two_row_label(), {1, 0}, 1); });
  EXPECT_NE(message.find("spacing must be positive, got 0"), std::string::npos) << message;
  message = error_of([] { boundary_band(two_row_label(), {1, 1}, -1); });
  EXPECT_NE(message.find("band_mm must be >= 0, got -1"), std::string::npos) << message;
  message = error_of([] { boundary_band(torch::zeros({1, 2, 4, 4}, torch::kLong), {1, 1}, 1); });
  EXPECT_NE(message.find("got [1, 2, 4, 4]"), std::string::npos) << message;
}

namespace {

// Three voxels in a row, label (0, 0, 1): voxels 1 and 2 are the edge (band 0), voxel 0 the body.
//   body voxel 0:  student (0, 2 ln 3), teacher (0, 0); T = 2: p = (1/4, 3/4), q = (1/2, 1/2),
//                  KL = ln 2 − 1/2·ln 3; T²·KL = 4·ln 2 − 2·ln 3 = 0.575364
//   edge voxels:   student (0, 0), teacher (0, 2 ln 3): p = (1/2, 1/2), q = (1/4, 3/4),
//                  KL = 3/4·ln 3 − ln 2; T²·mean = 3·ln 3 − 4·ln 2 = 0.523248
const double kLn2 = std::log(2.0), kLn3 = std::log(3.0);
torch::Tensor kd_student() { return values({0, 0, 0, 2 * kLn3, 0, 0}, {1, 2, 1, 3}); }
torch::Tensor kd_teacher() { return values({0, 0, 0, 0, 2 * kLn3, 2 * kLn3}, {1, 2, 1, 3}); }
torch::Tensor kd_label() { return torch::tensor({0, 0, 1}, torch::kLong).view({1, 1, 1, 3}); }

}  // namespace

TEST(BoundaryKd, WeightsTheEdgeAndBodyKlSeparately) {
  // 2·0.523248 + 0.5·0.575364 = 1.334178.
  const double edge = 3 * kLn3 - 4 * kLn2, body = 4 * kLn2 - 2 * kLn3;
  EXPECT_NEAR(
      boundary_kd(kd_student(), kd_teacher(), kd_label(), {1, 1}, 0, 2, 0.5, 2).item<double>(),
      2 * edge + 0.5 * body, 1e-12);
  EXPECT_NEAR(
      boundary_kd(kd_student(), kd_teacher(), kd_label(), {1, 1}, 0, 1, 0, 2).item<double>(), edge,
      1e-12);
  // A band wide enough to cover every voxel leaves an empty body, which contributes 0.
  EXPECT_NEAR(
      boundary_kd(kd_student(), kd_teacher(), kd_label(), {1, 1}, 5, 1, 1, 2).item<double>(),
      (2 * (0.75 * kLn3 - kLn2) + (kLn2 - 0.5 * kLn3)) * 4 / 3, 1e-12);
}

TEST(BoundaryKd, IsZeroWhenStudentAndTeacherAgree) {
  const auto logits = torch::randn({1, 3, 2, 3, 3});
  const auto label = torch::randint(0, 3, {1, 1, 2, 3, 3}, torch::kLong);
  EXPECT_NEAR(boundary_kd(logits.clone(), logits, label, {2, 1, 1}, 1, 2, 1, 1).item<double>(), 0,
              1e-6);
}

TEST(BoundaryKd, OnlyTheStudentGetsAGradient) {
  const auto s = as_student(kd_student());
  const auto t = kd_teacher();
  expect_student_gradient_only(boundary_kd(s, t, kd_label(), {1, 1}, 0, 2, 0.5, 2), s, t);
}

TEST(BoundaryKd, ALabelOfAnotherSizeIsAnErrorNamingBothShapes) {
  const std::string message = error_of([] {
    boundary_kd(torch::zeros({1, 2, 4, 4}), torch::zeros({1, 2, 4, 4}),
                torch::zeros({1, 1, 4, 5}, torch::kLong), {1, 1}, 1, 1, 1, 1);
  });
  EXPECT_NE(message.find("label must be [N, 1, *spatial] matching student logits [1, 2, 4, 4], got "
                         "[1, 1, 4, 5]"),
            std::string::npos)
      << message;
}
