#include "medkd/data/label_perturbation.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"

using medkd::data::LabelPerturbationOptions;

namespace {

medkd::io::Image cube() {
  medkd::io::Image image{torch::zeros({1, 8, 8, 8}, torch::kUInt8), {}};
  image.data.index_put_(
      {0, torch::indexing::Slice(2, 5), torch::indexing::Slice(2, 5), torch::indexing::Slice(2, 5)},
      2);
  return image;
}

}  // namespace

TEST(LabelPerturbation, NoPerturbationReturnsTheSameMap) {
  LabelPerturbationOptions none;
  none.max_shift = 0;
  none.dilate_probability = none.erode_probability = 0;
  medkd::core::Rng rng(1);
  const auto out = medkd::data::perturb_labels(cube(), none, rng);
  EXPECT_TRUE(torch::equal(out.data, cube().data));
  EXPECT_EQ(out.data.scalar_type(), torch::kUInt8);
}

TEST(LabelPerturbation, DilationGrowsACubeByItsFaces) {
  LabelPerturbationOptions grow;
  grow.max_shift = 0;
  grow.dilate_probability = 1;
  grow.erode_probability = 0;
  medkd::core::Rng rng(1);
  const auto out = medkd::data::perturb_labels(cube(), grow, rng);
  // 3x3x3 plus one 3x3 layer on each of the 6 faces.
  EXPECT_EQ((out.data == 2).sum().item<int64_t>(), 27 + 6 * 9);
}

TEST(LabelPerturbation, ErosionShrinksACubeToItsCentre) {
  LabelPerturbationOptions shrink;
  shrink.max_shift = 0;
  shrink.dilate_probability = 0;
  shrink.erode_probability = 1;
  medkd::core::Rng rng(1);
  const auto out = medkd::data::perturb_labels(cube(), shrink, rng);
  EXPECT_EQ((out.data == 2).sum().item<int64_t>(), 1);
}

TEST(LabelPerturbation, ShiftsMoveWithoutWrappingAndKeepTheVolume) {
  LabelPerturbationOptions shift;
  shift.max_shift = 2;
  shift.dilate_probability = shift.erode_probability = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    medkd::core::Rng rng(seed);
    const auto out = medkd::data::perturb_labels(cube(), shift, rng);
    EXPECT_EQ((out.data == 2).sum().item<int64_t>(), 27);  // the cube never reaches the border
  }
}

TEST(LabelPerturbation, DroppingRemovesTheStructureAndBadOptionsAreRejected) {
  LabelPerturbationOptions drop;
  drop.drop_probability = 1;
  medkd::core::Rng rng(1);
  EXPECT_EQ(medkd::data::perturb_labels(cube(), drop, rng).data.sum().item<int64_t>(), 0);
  LabelPerturbationOptions bad;
  bad.dilate_probability = 1.5;
  EXPECT_THROW(bad.validate(), medkd::Error);
}
