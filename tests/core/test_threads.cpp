#include "medkd/core/threads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "medkd/core/error.h"
#include "medkd/core/rng.h"

TEST(Threads, ParallelForVisitsEveryIndexOnce) {
  std::vector<std::atomic<int>> visits(100);
  medkd::core::parallel_for(100, 3, [&](int64_t i) { visits[i]++; });
  for (const auto& v : visits) EXPECT_EQ(v.load(), 1);
}

TEST(Threads, ParallelForRethrowsTheFirstError) {
  EXPECT_THROW(medkd::core::parallel_for(10, 2,
                                         [](int64_t i) {
                                           if (i == 3) throw medkd::Error("case 3 is broken");
                                         }),
               medkd::Error);
}

TEST(Threads, SettingThreadsChangesLibTorch) {
  const int before = medkd::core::num_threads();
  medkd::core::set_num_threads(1);
  EXPECT_EQ(medkd::core::num_threads(), 1);
  medkd::core::set_num_threads(0);
  EXPECT_EQ(medkd::core::num_threads(), medkd::core::hardware_threads());
  medkd::core::set_num_threads(before);
  EXPECT_THROW(medkd::core::set_num_threads(-1), medkd::Error);
}

TEST(Rng, SameSeedGivesTheSameStreamAndChildrenDiffer) {
  medkd::core::Rng a(7), b(7);
  EXPECT_EQ(a.uniform(), b.uniform());
  medkd::core::Rng c0 = medkd::core::Rng(7).child(0), c1 = medkd::core::Rng(7).child(1);
  EXPECT_NE(c0.uniform(), c1.uniform());
  EXPECT_EQ(medkd::core::Rng(7).child(1).uniform(), medkd::core::Rng(7).child(1).uniform());
}
