#include "medkd/metrics/overlap.h"

#include <gtest/gtest.h>

#include <cmath>

using medkd::metrics::ConfusionCounts;

TEST(Overlap, DiceAndIoUFollowTheirDefinitions) {
  const ConfusionCounts c{18, 9, 9, 964};
  EXPECT_DOUBLE_EQ(medkd::metrics::dice(c), 36.0 / 54.0);
  EXPECT_DOUBLE_EQ(medkd::metrics::iou(c), 0.5);
  EXPECT_DOUBLE_EQ(medkd::metrics::relative_volume_difference(c), 0.0);
}

TEST(Overlap, RelativeVolumeDifferenceIsSigned) {
  EXPECT_DOUBLE_EQ(medkd::metrics::relative_volume_difference({5, 0, 5, 0}), -0.5);
  EXPECT_DOUBLE_EQ(medkd::metrics::relative_volume_difference({10, 5, 0, 0}), 0.5);
}

TEST(Overlap, EmptyMasksFollowTheDocumentedRules) {
  const ConfusionCounts both_empty{0, 0, 0, 100};
  EXPECT_TRUE(std::isnan(medkd::metrics::dice(both_empty)));
  EXPECT_TRUE(std::isnan(medkd::metrics::iou(both_empty)));
  EXPECT_TRUE(std::isnan(medkd::metrics::relative_volume_difference(both_empty)));
  const ConfusionCounts missed{0, 0, 7, 93};
  EXPECT_EQ(medkd::metrics::dice(missed), 0.0);
  EXPECT_EQ(medkd::metrics::relative_volume_difference(missed), -1.0);
  const ConfusionCounts spurious{0, 7, 0, 93};
  EXPECT_EQ(medkd::metrics::iou(spurious), 0.0);
  EXPECT_TRUE(std::isnan(medkd::metrics::relative_volume_difference(spurious)));
}
