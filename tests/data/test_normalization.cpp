#include "medkd/data/normalization.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/data/plans.h"

using medkd::data::ChannelNormalization;

namespace {

torch::Tensor channel_of(std::vector<float> values) {
  const auto n = static_cast<int64_t>(values.size());
  return torch::tensor(values, torch::kFloat32).reshape({1, 1, n});  // [Z, Y, X]
}

std::vector<float> values_of(const torch::Tensor& t) {
  const torch::Tensor flat = t.reshape({-1}).contiguous();
  return {flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()};
}

}  // namespace

TEST(Normalization, SchemeIsChosenByChannelNameIgnoringCase) {
  using medkd::data::normalization_scheme_for_channel;
  EXPECT_EQ(normalization_scheme_for_channel("CT"), "ct");
  EXPECT_EQ(normalization_scheme_for_channel("ct"), "ct");
  EXPECT_EQ(normalization_scheme_for_channel("PET"), "zscore");
  EXPECT_EQ(normalization_scheme_for_channel("T2W"), "zscore");
  EXPECT_EQ(normalization_scheme_for_channel("ADC"), "zscore");
  EXPECT_EQ(normalization_scheme_for_channel("noNorm"), "none");
  EXPECT_EQ(normalization_scheme_for_channel("NONE"), "none");
  EXPECT_EQ(normalization_scheme_for_channel("CTA"), "zscore");
}

TEST(Normalization, CtClipsToThePercentilesThenUsesTheDatasetMeanAndStd) {
  ChannelNormalization ct;
  ct.scheme = "ct";
  ct.clip_low = -100;
  ct.clip_high = 200;
  ct.mean = 50;
  ct.std = 25;
  torch::Tensor channel = channel_of({-2000, 0, 100, 3000});
  medkd::data::normalize_channel(channel, ct);
  // (-100 - 50) / 25, (0 - 50) / 25, (100 - 50) / 25, (200 - 50) / 25
  const std::vector<float> expected{-6, -2, 2, 6};
  EXPECT_EQ(values_of(channel), expected);
}

TEST(Normalization, PetIsZScoredPerImageAndNeverClipped) {
  // A plan for CT + PET: only the CT channel gets dataset statistics and clipping.
  medkd::data::DatasetFingerprint fingerprint;
  fingerprint.channel_names = {"CT", "PET"};
  fingerprint.label_values = {0, 1};
  fingerprint.label_names = {"background", "tumour"};
  medkd::data::IntensityStatistics stats;
  stats.count = 10;
  stats.percentile_00_5 = 0;
  stats.percentile_99_5 = 1;
  stats.mean = 0.5;
  stats.std = 0.25;
  fingerprint.foreground_intensities = {stats, stats};
  fingerprint.cases.push_back({"a", {1, 1, 1}, {8, 8, 8}, {8, 8, 8}, 10});
  const auto plan = medkd::data::make_plan(fingerprint);
  ASSERT_EQ(plan.normalization[0].scheme, "ct");
  ASSERT_EQ(plan.normalization[1].scheme, "zscore");

  // SUV 0, 0, 0, 100: mean 25, std sqrt((3 * 25^2 + 75^2) / 4) = sqrt(1875).
  torch::Tensor pet = channel_of({0, 0, 0, 100});
  medkd::data::normalize_channel(pet, plan.normalization[1]);
  const double std = std::sqrt(1875.0);
  const auto out = values_of(pet);
  EXPECT_NEAR(out[0], -25 / std, 1e-5);
  EXPECT_NEAR(out[3], 75 / std, 1e-5);  // far above what CT clipping at 1 would allow
}

TEST(Normalization, ZScoreGivesMeanZeroAndStdOne) {
  torch::manual_seed(3);
  torch::Tensor image = torch::rand({2, 4, 5, 6}) * 300 + 40;  // [C, Z, Y, X]
  medkd::data::normalize_channels(image, {ChannelNormalization{}, ChannelNormalization{}});
  for (int64_t c = 0; c < 2; ++c) {
    EXPECT_NEAR(image[c].mean().item<double>(), 0.0, 1e-5);
    EXPECT_NEAR(image[c].std(/*unbiased=*/false).item<double>(), 1.0, 1e-5);
  }
}

TEST(Normalization, ZScoreOfAConstantImageIsZeroNotNaN) {
  torch::Tensor channel = torch::full({2, 2, 2}, 7.0f);
  medkd::data::normalize_channel(channel, ChannelNormalization{});
  EXPECT_EQ(channel.abs().max().item<float>(), 0.0f);
}

TEST(Normalization, NoneLeavesValuesAlone) {
  ChannelNormalization none;
  none.scheme = "none";
  torch::Tensor channel = channel_of({-5, 0, 1e6});
  medkd::data::normalize_channel(channel, none);
  const std::vector<float> expected{-5, 0, 1e6};
  EXPECT_EQ(values_of(channel), expected);
}

TEST(Normalization, AChannelCountMismatchIsAnError) {
  torch::Tensor image = torch::zeros({2, 1, 1, 1});
  EXPECT_THROW(medkd::data::normalize_channels(image, {ChannelNormalization{}}), medkd::Error);
  ChannelNormalization bad;
  bad.scheme = "minmax";
  EXPECT_THROW(bad.validate("test"), medkd::Error);
}
