#include "medkd/train/splits.h"

#include <gtest/gtest.h>

#include <set>

#include "medkd/core/error.h"
#include "medkd/train/schedule.h"
#include "test_support.h"

namespace {
std::vector<std::string> ids(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("case_" + std::to_string(i));
  return out;
}
}  // namespace

TEST(Splits, EveryCaseIsValidatedExactlyOnce) {
  const auto splits = medkd::train::make_splits(ids(12), 5, 7);
  ASSERT_EQ(splits.size(), 5u);
  std::multiset<std::string> validated;
  for (const auto& f : splits) {
    validated.insert(f.val.begin(), f.val.end());
    EXPECT_EQ(f.train.size() + f.val.size(), 12u);
    for (const auto& v : f.val) EXPECT_EQ(std::count(f.train.begin(), f.train.end(), v), 0);
  }
  EXPECT_EQ(validated.size(), 12u);
  EXPECT_EQ(std::set<std::string>(validated.begin(), validated.end()).size(), 12u);
}

TEST(Splits, SameSeedSameSplitsWhateverTheInputOrder) {
  auto reversed = ids(9);
  std::reverse(reversed.begin(), reversed.end());
  const auto a = medkd::train::make_splits(ids(9), 3, 1),
             b = medkd::train::make_splits(reversed, 3, 1);
  for (int f = 0; f < 3; ++f) EXPECT_EQ(a[f].val, b[f].val);
  const auto c = medkd::train::make_splits(ids(9), 3, 2);
  bool differ = false;
  for (int f = 0; f < 3; ++f) differ |= a[f].val != c[f].val;
  EXPECT_TRUE(differ);
}

TEST(Splits, AreSavedAndReusedAndAChangedDatasetIsAnError) {
  medkd::testing::TempDir dir;
  const auto first = medkd::train::load_or_create_splits(dir / "splits.json", ids(6), 3, 1);
  const auto again = medkd::train::load_or_create_splits(dir / "splits.json", ids(6), 3, 99);
  EXPECT_EQ(first[2].val, again[2].val);
  EXPECT_THROW(medkd::train::load_or_create_splits(dir / "splits.json", ids(7), 3, 1),
               medkd::Error);
  EXPECT_THROW(medkd::train::make_splits(ids(2), 5, 1), medkd::Error);
}

TEST(Schedule, PolyDecaysFromTheInitialRateToZero) {
  medkd::train::PolySchedule poly{0.01, 0.9, 100};
  EXPECT_DOUBLE_EQ(poly.lr_at(0), 0.01);
  EXPECT_NEAR(poly.lr_at(50), 0.01 * std::pow(0.5, 0.9), 1e-15);
  EXPECT_DOUBLE_EQ(poly.lr_at(100), 0.0);
}

TEST(EarlyStopping, StopsAfterPatienceChecksWithoutImprovement) {
  medkd::train::EarlyStopping stop(2);
  EXPECT_TRUE(stop.update(0.5));
  EXPECT_FALSE(stop.update(0.4));
  EXPECT_FALSE(stop.should_stop());
  EXPECT_FALSE(stop.update(0.5));
  EXPECT_TRUE(stop.should_stop());
  EXPECT_DOUBLE_EQ(stop.best(), 0.5);
}
