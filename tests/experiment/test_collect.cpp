#include "medkd/experiment/collect.h"

#include <gtest/gtest.h>

#include <cmath>

#include "medkd/core/atomic_file.h"
#include "test_support.h"

using medkd::testing::TempDir;

TEST(TrainingCurve, ReadsRowsWhoseLastCellsAreEmpty) {
  // Epochs without validation leave val_dice and val_foreground_fraction empty; a distillation's
  // gradient ratio is empty on epochs that measured none, and it is the last column.
  TempDir dir;
  const auto log = dir / "training_log.csv";
  medkd::core::write_text_file(log,
                               "epoch,lr,train_loss,val_dice,seconds,data_wait_fraction,val_"
                               "foreground_fraction,kd_grad_ratio\n"
                               "1,0.001,0.9,,2.5,0.1,,\n"
                               "2,0.0005,0.7,0.42,2.5,0.1,0.01,0.8\n");
  double seconds = 0;
  const auto points = medkd::experiment::read_training_curve(log, &seconds);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_TRUE(std::isnan(points[0].val_dice));
  EXPECT_DOUBLE_EQ(points[1].val_dice, 0.42);
  EXPECT_DOUBLE_EQ(seconds, 5.0);
  // A row that really lacks cells is still an error naming the file.
  medkd::core::write_text_file(log, "epoch,lr,train_loss,val_dice,seconds\n1,0.001\n");
  EXPECT_NE(medkd::testing::error_of([&] {
              medkd::experiment::read_training_curve(log, nullptr);
            }).find("a row with 2 cells under a header of 5"),
            std::string::npos);
}
