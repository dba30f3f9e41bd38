#include "medkd/metrics/significance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "medkd/core/error.h"

using medkd::metrics::paired_t_test;
using medkd::metrics::wilcoxon_signed_rank;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Student's sleep data (Cushny & Peebles 1905, as in R's `sleep`): extra hours of sleep of ten
// patients under two drugs. R: t.test(extra ~ group, data = sleep, paired = TRUE) gives
// t = -4.0621, df = 9, p-value = 0.002833, mean difference -1.58.
const std::vector<double> kDrug1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
const std::vector<double> kDrug2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};

// Hollander & Wolfe (1973), depression scale before (y) and after (x) treatment, R's
// wilcox.test(x, y, paired = TRUE, alternative = "greater") example: V = 40, p = 0.01953, so the
// two-sided exact p is 0.0390625 (10 of the 512 sign patterns have W− ≤ 5, counted twice).
const std::vector<double> kAfter = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
const std::vector<double> kBefore = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};
}  // namespace

TEST(PairedTTest, ReproducesStudentsSleepData) {
  const auto r = paired_t_test(kDrug1, kDrug2);
  EXPECT_EQ(r.n, 10);
  EXPECT_NEAR(r.mean_difference, -1.58, 1e-12);
  EXPECT_NEAR(r.statistic, -4.0621, 5e-5);
  EXPECT_NEAR(r.p_value, 0.002833, 5e-7);
}

TEST(PairedTTest, IsSymmetricInTheOrderOfTheModels) {
  const auto ab = paired_t_test(kDrug1, kDrug2);
  const auto ba = paired_t_test(kDrug2, kDrug1);
  EXPECT_DOUBLE_EQ(ab.statistic, -ba.statistic);
  EXPECT_DOUBLE_EQ(ab.p_value, ba.p_value);
}

TEST(PairedTTest, LeavesOutPairsWithANaNScore) {
  std::vector<double> a = kDrug1, b = kDrug2;
  a.push_back(kNaN);
  b.push_back(9.0);
  a.insert(a.begin(), 5.0);
  b.insert(b.begin(), kNaN);
  const auto r = paired_t_test(a, b);
  EXPECT_EQ(r.n, 10);
  EXPECT_NEAR(r.p_value, 0.002833, 5e-7);
}

TEST(PairedTTest, IsUndefinedWithoutSpreadOrWithOnePair) {
  EXPECT_TRUE(std::isnan(paired_t_test({1, 2, 3}, {1, 2, 3}).p_value));
  EXPECT_TRUE(std::isnan(paired_t_test({1, 2, 3}, {0, 1, 2}).p_value));
  EXPECT_TRUE(std::isnan(paired_t_test({0.5}, {0.25}).p_value));
  EXPECT_DOUBLE_EQ(paired_t_test({0.5}, {0.25}).mean_difference, 0.25);
}

TEST(PairedTTest, RejectsScoresOfDifferentLengths) {
  EXPECT_THROW(paired_t_test({1, 2}, {1}), medkd::Error);
}

TEST(WilcoxonSignedRank, ReproducesHollanderAndWolfeExactly) {
  const auto r = wilcoxon_signed_rank(kAfter, kBefore);
  EXPECT_EQ(r.n, 9);
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.statistic, 5.0);  // W+ = 40, W− = 5
  EXPECT_NEAR(r.p_value, 20.0 / 512.0, 1e-12);
}

// Darwin's Zea mays data (Fisher 1935), cross- minus self-fertilised heights in eighths of an
// inch, the example of scipy.stats.wilcoxon: statistic 24, exact two-sided p = 0.041259765625
// (= 2 · 676 / 32768).
TEST(WilcoxonSignedRank, ReproducesDarwinsMaizeData) {
  const std::vector<double> d = {6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75};
  const auto r = wilcoxon_signed_rank(d, std::vector<double>(d.size(), 0.0));
  EXPECT_EQ(r.n, 15);
  EXPECT_DOUBLE_EQ(r.statistic, 24.0);
  EXPECT_NEAR(r.p_value, 0.041259765625, 1e-12);
}

// With ties the normal approximation is used. d = {1, 2, 2, -3, 4, 5}: ranks 1, 2.5, 2.5, 4, 5,
// 6; W− = 4; variance 6·7·13/24 − (2³ − 2)/48 = 22.625; z = (4 − 10.5)/√22.625.
TEST(WilcoxonSignedRank, UsesTheTieCorrectedNormalApproximationWithTies) {
  const auto r = wilcoxon_signed_rank({1, 2, 2, -3, 4, 5}, {0, 0, 0, 0, 0, 0});
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.statistic, 4.0);
  const double z = (4.0 - 10.5) / std::sqrt(22.625);
  EXPECT_NEAR(r.p_value, std::erfc(std::abs(z) / std::sqrt(2.0)), 1e-12);
  EXPECT_NEAR(r.p_value, 0.17177, 5e-5);
}

TEST(WilcoxonSignedRank, DropsZeroDifferencesAndNaNPairs) {
  std::vector<double> a = kAfter, b = kBefore;
  a.push_back(0.7);
  b.push_back(0.7);  // a zero difference
  a.push_back(kNaN);
  b.push_back(0.1);
  const auto r = wilcoxon_signed_rank(a, b);
  EXPECT_EQ(r.n, 9);
  EXPECT_NEAR(r.p_value, 20.0 / 512.0, 1e-12);
}

TEST(WilcoxonSignedRank, IsUndefinedWhenEveryDifferenceIsZero) {
  const auto r = wilcoxon_signed_rank({0.5, 0.25}, {0.5, 0.25});
  EXPECT_EQ(r.n, 0);
  EXPECT_TRUE(std::isnan(r.p_value));
}

TEST(WilcoxonSignedRank, GivesOneWhenThePositiveAndNegativeRanksBalance) {
  // Ranks 1, 2, 3 with signs +, +, −: W+ = 3 = W−, the centre of the distribution.
  const auto r = wilcoxon_signed_rank({1, 2, -3}, {0, 0, 0});
  EXPECT_DOUBLE_EQ(r.statistic, 3.0);
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
}

TEST(WilcoxonSignedRank, RejectsScoresOfDifferentLengths) {
  EXPECT_THROW(wilcoxon_signed_rank({1, 2}, {1}), medkd::Error);
}

TEST(BootstrapMeanInterval, IsTheSameEveryTimeAndHoldsTheMean) {
  const auto a = medkd::metrics::bootstrap_mean_interval(kDrug1, 2000, 7);
  const auto b = medkd::metrics::bootstrap_mean_interval(kDrug1, 2000, 7);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  const double mean = 0.75;  // of kDrug1
  EXPECT_LT(a.low, mean);
  EXPECT_GT(a.high, mean);
}

TEST(BootstrapMeanInterval, HasTheNormalWidthOnALargeSample) {
  // 400 values alternating ±1 (sd ≈ 1): the 95% interval of the mean is about ±1.96/√400.
  std::vector<double> values;
  for (int i = 0; i < 400; ++i) values.push_back(i % 2 ? 1.0 : -1.0);
  const auto ci = medkd::metrics::bootstrap_mean_interval(values, 4000, 1);
  EXPECT_NEAR(ci.low, -0.098, 0.015);
  EXPECT_NEAR(ci.high, 0.098, 0.015);
}

TEST(BootstrapMeanInterval, IsAPointForEqualValuesAndNaNForOne) {
  const auto point = medkd::metrics::bootstrap_mean_interval({0.25, 0.25, kNaN, 0.25});
  EXPECT_DOUBLE_EQ(point.low, 0.25);
  EXPECT_DOUBLE_EQ(point.high, 0.25);
  EXPECT_TRUE(std::isnan(medkd::metrics::bootstrap_mean_interval({0.5, kNaN}).low));
  EXPECT_THROW(medkd::metrics::bootstrap_mean_interval(kDrug1, 0), medkd::Error);
  EXPECT_THROW(medkd::metrics::bootstrap_mean_interval(kDrug1, 100, 1, 1.0), medkd::Error);
}

TEST(HolmAdjusted, MultipliesByTheRemainingCountAndStaysMonotone) {
  // Sorted: 0.01 × 3 = 0.03, 0.03 × 2 = 0.06, 0.04 × 1 = 0.04 → raised to 0.06; NaN not counted.
  const auto p = medkd::metrics::holm_adjusted({0.01, 0.04, 0.03, kNaN});
  ASSERT_EQ(p.size(), 4u);
  EXPECT_NEAR(p[0], 0.03, 1e-15);
  EXPECT_NEAR(p[1], 0.06, 1e-15);
  EXPECT_NEAR(p[2], 0.06, 1e-15);
  EXPECT_TRUE(std::isnan(p[3]));
  EXPECT_DOUBLE_EQ(medkd::metrics::holm_adjusted({0.6, 0.7})[0], 1.0);  // capped at 1
}

TEST(MinimumDetectableEffect, UsesTheQuantilesOfStudentsT) {
  // n = 10: t_{0.975, 9} = 2.262157, t_{0.8, 9} = 0.883404 (tables); sd 1 → 3.145561 / √10.
  EXPECT_NEAR(medkd::metrics::minimum_detectable_effect(1.0, 10), 0.994714, 2e-6);
  EXPECT_NEAR(medkd::metrics::minimum_detectable_effect(0.5, 10), 0.497357, 2e-6);
  EXPECT_TRUE(std::isnan(medkd::metrics::minimum_detectable_effect(1.0, 1)));
  EXPECT_NEAR(medkd::metrics::sample_sd({1, 2, 3, kNaN}), 1.0, 1e-15);
}
