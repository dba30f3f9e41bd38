#include "medkd/data/loader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "medkd/core/error.h"

using medkd::data::DataLoader;
using medkd::data::LoaderOptions;
using medkd::data::PreprocessedCase;

namespace {

using Cases = std::vector<std::shared_ptr<const PreprocessedCase>>;

// Two-channel cases of different sizes with irregular intensities and a labelled box.
Cases make_cases() {
  Cases cases;
  const std::vector<std::vector<int64_t>> sizes{{6, 10, 12}, {9, 8, 8}, {4, 5, 6}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    auto c = std::make_shared<PreprocessedCase>();
    c->id = "case_" + std::to_string(i);
    const int64_t z = sizes[i][0], y = sizes[i][1], x = sizes[i][2];
    c->image =
        torch::sin(torch::arange(2 * z * y * x, torch::kFloat32) * (0.37 + i)).view({2, z, y, x});
    c->label = torch::zeros({1, z, y, x}, torch::kUInt8);
    c->label.index_put_({0, torch::indexing::Slice(1, 3), torch::indexing::Slice(2, 4),
                         torch::indexing::Slice(1, 3)},
                        1);
    c->class_locations = {{}, {{1, 2, 1}, {2, 3, 2}}};
    cases.push_back(c);
  }
  return cases;
}

LoaderOptions small_options(int workers) {
  LoaderOptions options;
  options.batch_size = 3;
  options.workers = workers;
  options.prefetch = 2;
  options.seed = 17;
  options.sampler.patch_size = {8, 6, 5};
  options.augment.noise_probability = 0.5;  // exercise the tensor generator
  options.augment.rotation_probability = 0.5;
  return options;
}

std::vector<medkd::data::Batch> first_batches(const LoaderOptions& options, int count) {
  DataLoader loader(make_cases(), options);
  std::vector<medkd::data::Batch> batches;
  for (int b = 0; b < count; ++b) batches.push_back(loader.next());
  return batches;
}

void expect_same(const std::vector<medkd::data::Batch>& a,
                 const std::vector<medkd::data::Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, b[i].index);
    EXPECT_EQ(a[i].case_ids, b[i].case_ids) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].image, b[i].image)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].label, b[i].label)) << "batch " << i;
  }
}

}  // namespace

TEST(DataLoader, BatchesHaveTheDocumentedShapesTypesAndOrder) {
  DataLoader loader(make_cases(), small_options(2));
  for (int64_t b = 0; b < 4; ++b) {
    const auto batch = loader.next();
    EXPECT_EQ(batch.index, b);
    EXPECT_EQ(batch.image.sizes(), (std::vector<int64_t>{3, 2, 5, 6, 8}));
    EXPECT_EQ(batch.label.sizes(), (std::vector<int64_t>{3, 1, 5, 6, 8}));
    EXPECT_EQ(batch.image.scalar_type(), torch::kFloat32);
    EXPECT_EQ(batch.label.scalar_type(), torch::kInt64);
    EXPECT_EQ(batch.case_ids.size(), 3u);
    EXPECT_TRUE(((batch.label == 0) | (batch.label == 1)).all().item<bool>());
  }
}

TEST(DataLoader, TwoDimensionalLoadersGiveBatchesOfSlices) {
  LoaderOptions options = small_options(1);
  options.sampler.dims = 2;
  DataLoader loader(make_cases(), options);
  const auto batch = loader.next();
  EXPECT_EQ(batch.image.sizes(), (std::vector<int64_t>{3, 2, 6, 8}));
  EXPECT_EQ(batch.label.sizes(), (std::vector<int64_t>{3, 1, 6, 8}));
}

TEST(DataLoader, TheSameSeedGivesTheSameBatches) {
  expect_same(first_batches(small_options(2), 6), first_batches(small_options(2), 6));
}

TEST(DataLoader, BatchesDoNotDependOnTheNumberOfWorkers) {
  const auto reference = first_batches(small_options(0), 8);
  expect_same(reference, first_batches(small_options(1), 8));
  expect_same(reference, first_batches(small_options(3), 8));
  LoaderOptions wide = small_options(3);
  wide.prefetch = 7;
  expect_same(reference, first_batches(wide, 8));
}

TEST(DataLoader, DifferentSeedsGiveDifferentBatches) {
  LoaderOptions other = small_options(2);
  other.seed = 18;
  const auto a = first_batches(small_options(2), 2), b = first_batches(other, 2);
  EXPECT_FALSE(torch::equal(a[0].image, b[0].image));
  EXPECT_FALSE(torch::equal(a[0].image, a[1].image));  // and batches differ from each other
}

TEST(DataLoader, WorkersStayWithinThePrefetchBound) {
  LoaderOptions options = small_options(4);
  options.prefetch = 3;
  DataLoader loader(make_cases(), options);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LE(loader.batches_claimed(), 3);
  loader.next();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LE(loader.batches_claimed(), 4);
  EXPECT_GE(loader.batches_claimed(), 1);
}

TEST(DataLoader, DestructionDoesNotDeadlockWithAFullQueueOrBeforeAnyBatch) {
  {
    LoaderOptions options = small_options(4);
    options.prefetch = 1;
    DataLoader loader(make_cases(), options);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the queue fills, workers wait
  }
  {
    DataLoader loader(make_cases(), small_options(3));  // destroyed while workers are busy
  }
  {
    DataLoader loader(make_cases(), small_options(2));
    loader.next();
  }
  SUCCEED();
}

TEST(DataLoader, ErrorsInWorkersAreRethrownFromNext) {
  Cases cases = make_cases();
  auto broken = std::make_shared<PreprocessedCase>(*cases[0]);
  broken->id = "broken";
  broken->label = torch::zeros({1, 3, 3, 3}, torch::kUInt8);  // does not match the image
  for (int workers : {0, 2}) {
    LoaderOptions options = small_options(workers);
    DataLoader loader({broken}, options);
    try {
      loader.next();
      FAIL() << "expected medkd::Error";
    } catch (const medkd::Error& e) {
      EXPECT_NE(std::string(e.what()).find("broken"), std::string::npos) << e.what();
    }
    EXPECT_THROW(loader.next(), medkd::Error);  // and the loader keeps going
  }
}

TEST(DataLoader, WaitStatisticsCoverTheCallsSinceTheLastReset) {
  DataLoader loader(make_cases(), small_options(1));
  EXPECT_EQ(loader.statistics().batches, 0);
  EXPECT_EQ(loader.wait_fraction(), 0.0);
  for (int b = 0; b < 3; ++b) {
    loader.next();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a "training step"
  }
  loader.next();
  const auto statistics = loader.statistics();
  EXPECT_EQ(statistics.batches, 4);
  EXPECT_GE(statistics.elapsed_seconds, 0.06);  // three steps of at least 20 ms
  EXPECT_GE(statistics.wait_seconds, 0.0);
  EXPECT_LE(statistics.wait_seconds, statistics.elapsed_seconds);
  EXPECT_GE(statistics.wait_fraction(), 0.0);
  EXPECT_LE(statistics.wait_fraction(), 1.0);
  loader.reset_statistics();
  EXPECT_EQ(loader.statistics().batches, 0);
  EXPECT_EQ(loader.statistics().elapsed_seconds, 0.0);
  loader.next();
  EXPECT_EQ(loader.statistics().batches, 1);
}

TEST(DataLoader, BadOptionsAndInputsAreRejectedByName) {
  LoaderOptions options = small_options(1);
  options.batch_size = 0;
  EXPECT_THROW(DataLoader(make_cases(), options), medkd::Error);
  options = small_options(1);
  options.prefetch = 0;
  try {
    DataLoader loader(make_cases(), options);
    FAIL() << "expected medkd::Error";
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("prefetch"), std::string::npos) << e.what();
  }
  options = small_options(1);
  options.augment.gamma_probability = 2;
  EXPECT_THROW(DataLoader(make_cases(), options), medkd::Error);
  EXPECT_THROW(DataLoader(Cases{}, small_options(1)), medkd::Error);
  Cases mixed = make_cases();
  auto three_channels = std::make_shared<PreprocessedCase>(*mixed[1]);
  three_channels->image = torch::zeros({3, 9, 8, 8});
  mixed.push_back(three_channels);
  EXPECT_THROW(DataLoader(mixed, small_options(1)), medkd::Error);
}
