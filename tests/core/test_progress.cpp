#include "medkd/core/progress.h"

#include <gtest/gtest.h>

#include <sstream>

using medkd::core::ProgressBar;
using medkd::core::ProgressOptions;

TEST(Progress, PlainModePrintsCountsRateAndEta) {
  std::ostringstream out;
  {
    ProgressOptions options;
    options.line_interval_seconds = 0;  // a line per step
    ProgressBar bar("train", 4, options, out, false);
    bar.advance(1, "loss 0.5");
    bar.advance(1);
  }
  const std::string text = out.str();
  EXPECT_NE(text.find("train 1/4 (25%)"), std::string::npos) << text;
  EXPECT_NE(text.find("it/s ETA"), std::string::npos) << text;
  EXPECT_NE(text.find("loss 0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("2/4 (50%)"), std::string::npos) << text;
  EXPECT_NE(text.find("elapsed"), std::string::npos) << text;  // final line from the destructor
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(Progress, TerminalModeRedrawsOneLine) {
  std::ostringstream out;
  ProgressOptions options;
  options.redraw_interval_seconds = 0;
  ProgressBar bar("eval", 2, options, out, true);
  bar.advance();
  bar.advance();
  bar.finish();
  const std::string text = out.str();
  EXPECT_NE(text.find("\reval [############"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

TEST(Progress, QuietPrintsNothing) {
  std::ostringstream out;
  {
    ProgressOptions options;
    options.quiet = true;
    options.line_interval_seconds = 0;
    ProgressBar bar("x", 3, options, out, false);
    bar.advance(3);
    EXPECT_EQ(bar.done(), 3);
  }
  EXPECT_TRUE(out.str().empty());
}

TEST(Progress, DurationsAreFormattedAsClockTime) {
  EXPECT_EQ(medkd::core::format_duration(5), "0:05");
  EXPECT_EQ(medkd::core::format_duration(125), "2:05");
  EXPECT_EQ(medkd::core::format_duration(3725), "1:02:05");
  EXPECT_EQ(medkd::core::format_duration(NAN), "?");
}
