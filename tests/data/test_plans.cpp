#include "medkd/data/plans.h"

#include <gtest/gtest.h>

#include <fstream>

#include "medkd/core/error.h"
#include "test_support.h"

using medkd::data::DatasetFingerprint;
using medkd::data::Plan;
using medkd::testing::TempDir;

namespace {

// `cases` identical cases of the standard synthetic PET/CT shape (96x96x64 at 2x2x3 mm).
DatasetFingerprint petct_fingerprint(int cases = 20) {
  DatasetFingerprint fingerprint;
  fingerprint.channel_names = {"CT", "PET"};
  fingerprint.label_values = {0, 1, 2};
  fingerprint.label_names = {"background", "tumour", "lymph_node"};
  medkd::data::IntensityStatistics ct;
  ct.count = 1000;
  ct.mean = 40;
  ct.std = 30;
  ct.percentile_00_5 = -60;
  ct.percentile_99_5 = 180;
  medkd::data::IntensityStatistics pet = ct;
  pet.mean = 6;
  fingerprint.foreground_intensities = {ct, pet};
  for (int i = 0; i < cases; ++i)
    fingerprint.cases.push_back(
        {"c" + std::to_string(i), {2, 2, 3}, {96, 96, 64}, {96, 96, 64}, 50});
  return fingerprint;
}

}  // namespace

TEST(Plan, TargetSpacingIsTheMedianPerAxis) {
  const auto target = medkd::data::target_spacing_for({{1, 1, 1}, {1, 2, 2}, {2, 2, 2}},
                                                      {{50, 50, 50}, {50, 50, 50}, {50, 50, 50}});
  EXPECT_EQ(target, (std::array<double, 3>{1, 2, 2}));
}

TEST(Plan, AnAnisotropicAxisGetsTheTenthPercentileOfItsSpacings) {
  std::vector<std::array<double, 3>> spacings;
  for (const double z : {2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0})
    spacings.push_back({0.5, 0.5, z});
  // z median 5 > 3 x 0.5 and 20 slices x 3 < 200 voxels in-plane: anisotropic.
  const std::vector<std::array<int64_t, 3>> thin(10, {200, 200, 20});
  const auto target = medkd::data::target_spacing_for(spacings, thin);
  // numpy.percentile([2, 4, 5, ...], 10): position 0.9 between 2 and 4 -> 3.8.
  EXPECT_DOUBLE_EQ(target[0], 0.5);
  EXPECT_DOUBLE_EQ(target[1], 0.5);
  EXPECT_NEAR(target[2], 3.8, 1e-12);

  // With as many slices as in-plane voxels the coarse axis keeps its median (nnU-Net requires
  // both anisotropic spacing and anisotropic voxel counts).
  const std::vector<std::array<int64_t, 3>> thick(10, {200, 200, 100});
  EXPECT_DOUBLE_EQ(medkd::data::target_spacing_for(spacings, thick)[2], 5.0);
}

TEST(Plan, TheAnisotropicAxisNeverGetsFinerThanTheOthers) {
  std::vector<std::array<double, 3>> spacings;
  for (const double z : {0.5, 0.5, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0})
    spacings.push_back({1.0, 1.0, z});
  const std::vector<std::array<int64_t, 3>> sizes(10, {200, 200, 20});
  EXPECT_NEAR(medkd::data::target_spacing_for(spacings, sizes)[2], 1.0 + 1e-5, 1e-12);
}

TEST(Plan, StandardSyntheticPetCtGetsTwoPatchesOf64x64x48) {
  const Plan plan = medkd::data::make_plan(petct_fingerprint());
  EXPECT_EQ(plan.dims, 3);
  EXPECT_EQ(plan.target_spacing, (std::array<double, 3>{2, 2, 3}));
  EXPECT_EQ(plan.median_shape, (std::array<int64_t, 3>{96, 96, 64}));
  EXPECT_EQ(plan.patch_size, (std::array<int64_t, 3>{64, 64, 48}));
  EXPECT_EQ(plan.patch_divisor, (std::array<int64_t, 3>{16, 16, 8}));
  EXPECT_EQ(plan.batch_size, 2);
  EXPECT_EQ(plan.num_classes(), 3);
  ASSERT_EQ(plan.normalization.size(), 2u);
  EXPECT_EQ(plan.normalization[0].scheme, "ct");
  EXPECT_EQ(plan.normalization[0].clip_low, -60);
  EXPECT_EQ(plan.normalization[0].clip_high, 180);
  EXPECT_EQ(plan.normalization[0].mean, 40);
  EXPECT_EQ(plan.normalization[0].std, 30);
  EXPECT_EQ(plan.normalization[1].scheme, "zscore");
}

TEST(Plan, TwoDPlansUseWholeSlicesAndALargerBatch) {
  medkd::data::PlanOptions options;
  options.dims = 2;
  const Plan plan = medkd::data::make_plan(petct_fingerprint(), options);
  EXPECT_EQ(plan.patch_size, (std::array<int64_t, 3>{96, 96, 1}));
  // Budget 2 x 64 x 64 x 48 voxels / 96^2 per slice = 42 slices, under the 5 % cap of 64.
  EXPECT_EQ(plan.batch_size, 42);
  // Slices are never resampled along z.
  EXPECT_EQ(plan.spacing_for({0.7, 0.7, 5.0})[2], 5.0);
}

TEST(Plan, SmallDatasetsCapTheBatchButKeepTheMinimum) {
  medkd::data::PlanOptions options;
  options.dims = 2;
  // 2 cases x 96 x 96 x 64 voxels x 5 % = 6.4 slices of 96 x 96.
  EXPECT_EQ(medkd::data::make_plan(petct_fingerprint(2), options).batch_size, 6);
  EXPECT_EQ(medkd::data::make_plan(petct_fingerprint(1)).batch_size, 2);
}

TEST(Plan, OptionsOverrideTheDerivedValues) {
  medkd::data::PlanOptions options;
  options.patch_size = std::array<int64_t, 3>{32, 32, 32};
  options.batch_size = 5;
  options.target_spacing = std::array<double, 3>{1.5, 1.5, 1.5};
  options.image_resampling = "linear";
  options.label_resampling = "nearest";
  const Plan plan = medkd::data::make_plan(petct_fingerprint(), options);
  EXPECT_EQ(plan.patch_size, (std::array<int64_t, 3>{32, 32, 32}));
  EXPECT_EQ(plan.batch_size, 5);
  EXPECT_EQ(plan.target_spacing, (std::array<double, 3>{1.5, 1.5, 1.5}));
  EXPECT_EQ(plan.median_shape, (std::array<int64_t, 3>{128, 128, 128}));
  EXPECT_EQ(plan.image_resampling, medkd::data::ImageInterpolation::kLinear);
  EXPECT_EQ(plan.label_resampling, medkd::data::LabelInterpolation::kNearest);
}

TEST(Plan, CtWithoutForegroundVoxelsIsAnError) {
  auto fingerprint = petct_fingerprint();
  fingerprint.foreground_intensities[0].count = 0;
  EXPECT_THROW(medkd::data::make_plan(fingerprint), medkd::Error);
}

TEST(Plan, JsonRoundTripKeepsEveryField) {
  TempDir dir;
  const Plan plan = medkd::data::make_plan(petct_fingerprint());
  medkd::data::save_plan(plan, dir / "plans.json");
  const Plan loaded = medkd::data::load_plan(dir / "plans.json");
  EXPECT_EQ(medkd::data::plan_to_json(loaded).dump(), medkd::data::plan_to_json(plan).dump());
  EXPECT_EQ(loaded.preprocessing_hash(), plan.preprocessing_hash());
  EXPECT_EQ(loaded.normalization[0].mean, 40);
  EXPECT_EQ(loaded.label_names[2], "lymph_node");
}

TEST(Plan, TheCacheHashFollowsPreprocessingButNotPatchOrBatch) {
  const Plan plan = medkd::data::make_plan(petct_fingerprint());
  Plan other_batch = plan;
  other_batch.batch_size = 7;
  other_batch.patch_size = {32, 32, 32};
  EXPECT_EQ(other_batch.preprocessing_hash(), plan.preprocessing_hash());
  Plan other_spacing = plan;
  other_spacing.target_spacing[2] = 2.5;
  EXPECT_NE(other_spacing.preprocessing_hash(), plan.preprocessing_hash());
  Plan other_norm = plan;
  other_norm.normalization[0].clip_high = 181;
  EXPECT_NE(other_norm.preprocessing_hash(), plan.preprocessing_hash());
  EXPECT_EQ(plan.preprocessing_hash().size(), 16u);
}

TEST(Plan, LoadingABrokenPlanNamesTheFileAndTheKey) {
  TempDir dir;
  auto json = medkd::data::plan_to_json(medkd::data::make_plan(petct_fingerprint()));
  json.erase("patch_size");
  std::ofstream(dir / "plans.json") << json.dump();
  try {
    medkd::data::load_plan(dir / "plans.json");
    FAIL() << "expected an error";
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("plans.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("patch_size"), std::string::npos) << e.what();
  }
  json = medkd::data::plan_to_json(medkd::data::make_plan(petct_fingerprint()));
  json["channels"][1]["scheme"] = "minmax";
  std::ofstream(dir / "plans.json") << json.dump();
  EXPECT_THROW(medkd::data::load_plan(dir / "plans.json"), medkd::Error);
}
