#include "medkd/distill/kd_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_support.h"

using medkd::distill::KdDecay;
using medkd::distill::KdSchedule;
using medkd::distill::parse_kd_schedule;
using medkd::testing::error_of;

namespace {

KdSchedule parse(const std::string& text) {
  return parse_kd_schedule(YAML::Load(text), {}, "kd.yaml: loss 'pixel_kl' schedule");
}

}  // namespace

TEST(KdSchedule, WithoutKeysTheFactorIsOneAtEveryStep) {
  const KdSchedule none = parse("{}");
  EXPECT_TRUE(none.is_constant());
  EXPECT_EQ(none.describe(), "none");
  for (int64_t step : {0, 1, 50, 99}) EXPECT_EQ(none.factor(step, 100), 1.0);
}

TEST(KdSchedule, AWarmupInStepsRampsLinearlyFromZero) {
  const KdSchedule s = parse("{warmup: 20}");
  EXPECT_EQ(s.factor(0, 100), 0.0);
  EXPECT_DOUBLE_EQ(s.factor(5, 100), 0.25);
  EXPECT_DOUBLE_EQ(s.factor(10, 100), 0.5);
  EXPECT_EQ(s.factor(20, 100), 1.0);
  EXPECT_EQ(s.factor(99, 100), 1.0);
}

TEST(KdSchedule, AFractionBelowOneCountsInShareOfTheRun) {
  // 0.1 of 200 steps = 20 steps of ramp after a start at 0.25 · 200 = 50.
  const KdSchedule s = parse("{start: 0.25, warmup: 0.1}");
  EXPECT_EQ(s.factor(49, 200), 0.0);
  EXPECT_EQ(s.factor(50, 200), 0.0);
  EXPECT_DOUBLE_EQ(s.factor(60, 200), 0.5);
  EXPECT_EQ(s.factor(70, 200), 1.0);
}

TEST(KdSchedule, ALateStartWithoutWarmupSwitchesTheTermOnAtOnce) {
  const KdSchedule s = parse("{start: 30}");
  EXPECT_EQ(s.factor(29, 100), 0.0);
  EXPECT_EQ(s.factor(30, 100), 1.0);
}

TEST(KdSchedule, LinearAndCosineDecaysEndAtTheFinalFactor) {
  // Ramp over 10 steps, then from step 10 to 110 down to 0.2.
  const KdSchedule linear = parse("{warmup: 10, decay: linear, final: 0.2}");
  EXPECT_EQ(linear.decay, KdDecay::kLinear);
  EXPECT_EQ(linear.factor(10, 110), 1.0);
  EXPECT_DOUBLE_EQ(linear.factor(60, 110), 0.6);  // halfway: 1 − 0.8 · 0.5
  EXPECT_DOUBLE_EQ(linear.factor(110, 110), 0.2);
  const KdSchedule cosine = parse("{warmup: 10, decay: cosine, final: 0.2}");
  EXPECT_DOUBLE_EQ(cosine.factor(60, 110), 0.6);  // cos(π/2) = 0: 0.2 + 0.8 · 0.5
  // A quarter of the way: 0.2 + 0.8 · (1 + cos(π/4)) / 2 = 0.882843.
  EXPECT_NEAR(cosine.factor(35, 110), 0.2 + 0.8 * (1 + std::cos(M_PI / 4)) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(cosine.factor(110, 110), 0.2);
  // During the ramp the decay has not begun.
  EXPECT_DOUBLE_EQ(cosine.factor(5, 110), 0.5);
}

TEST(KdSchedule, AnEntrysScheduleOverridesTheRunsDefaultKeyByKey) {
  const KdSchedule run = parse("{warmup: 0.1, decay: cosine}");
  const KdSchedule entry =
      parse_kd_schedule(YAML::Load("{start: 5}"), run, "kd.yaml: loss 'pixel_kl' schedule");
  EXPECT_EQ(entry.start, 5);
  EXPECT_EQ(entry.warmup, 0.1);
  EXPECT_EQ(entry.decay, KdDecay::kCosine);
  EXPECT_EQ(entry.describe(), "start 5, warmup 0.1, decay cosine to 0");
}

TEST(KdSchedule, MisspeltKeysAndBadValuesAreErrorsNamingTheKeyAndTheValidOnes) {
  std::string m = error_of([] { parse("{warmpu: 10}"); });
  EXPECT_NE(m.find("kd.yaml: loss 'pixel_kl' schedule"), std::string::npos) << m;
  EXPECT_NE(m.find("warmpu"), std::string::npos) << m;
  EXPECT_NE(m.find("start, warmup, decay, final"), std::string::npos) << m;
  m = error_of([] { parse("{warmup: -1}"); });
  EXPECT_NE(m.find("warmup must be a number >= 0"), std::string::npos) << m;
  m = error_of([] { parse("{warmup: 2.5}"); });
  EXPECT_NE(m.find("whole number"), std::string::npos) << m;
  m = error_of([] { parse("{decay: exponential}"); });
  EXPECT_NE(m.find("none, linear or cosine"), std::string::npos) << m;
  m = error_of([] { parse("{decay: linear, final: 1.5}"); });
  EXPECT_NE(m.find("[0, 1]"), std::string::npos) << m;
  m = error_of([] { parse("{final: 0.5}"); });
  EXPECT_NE(m.find("needs a decay"), std::string::npos) << m;
  m = error_of([] { parse("[1, 2]"); });
  EXPECT_NE(m.find("must be a mapping"), std::string::npos) << m;
}
