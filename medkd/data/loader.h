// The training data loader: worker threads sample and augment patches into batches ahead of the
// training loop, holding at most `prefetch` batches at a time.
//
// Batch b is built from its own generator, Rng(seed).child(b), whichever worker builds it, and
// batches are handed out in order b = 0, 1, 2, ...: a run is reproducible from its seed for any
// number of workers. Each sample of a batch takes a case uniformly at random, then a patch
// (sampler.h; whether it is foreground-centred is drawn per sample, so the fraction holds exactly
// on average at any batch size, where nnU-Net's per-batch rounding gives 1 in 2 at batch size 2)
// and augments it (augment.h).
//
// The loader measures how long next() blocks, so the trainer can log the fraction of step time
// spent waiting for data: near 0 means the workers keep up, near 1 means training is input-bound.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "medkd/data/augment.h"
#include "medkd/data/preprocessed_case.h"
#include "medkd/data/sampler.h"

namespace medkd::data {

struct LoaderOptions {
  int64_t batch_size = 2;
  int workers = 2;   // 0: batches are built in the calling thread, inside next()
  int prefetch = 4;  // batches claimed ahead of the one next() returns, >= 1
  uint64_t seed = 0;
  PatchSamplerOptions sampler;
  AugmentOptions augment;
  bool augment_enabled = true;  // false: patches as sampled (validation, debugging)

  void validate() const;  // medkd::Error naming the option and the value
};

struct Batch {
  int64_t index = 0;                  // b: the position in the loader's sequence
  torch::Tensor image;                // [N, C, Z, Y, X] or [N, C, Y, X] float32
  torch::Tensor label;                // [N, 1, Z, Y, X] or [N, 1, Y, X] int64
  std::vector<std::string> case_ids;  // N ids, for logs
};

// Time spent blocked in next() against the time since the statistics window opened (the first
// next() after construction or reset_statistics()) to the end of the latest next().
struct LoaderStatistics {
  int64_t batches = 0;
  double wait_seconds = 0;
  double elapsed_seconds = 0;
  double wait_fraction() const { return elapsed_seconds > 0 ? wait_seconds / elapsed_seconds : 0; }
};

// Builds batch `index` exactly as the loader's workers do (deterministic in seed and index).
Batch build_batch(const std::vector<std::shared_ptr<const PreprocessedCase>>& cases,
                  const LoaderOptions& options, int64_t index);

class DataLoader {
 public:
  // Starts the workers. `cases` must be non-empty, each with an image and a label.
  DataLoader(std::vector<std::shared_ptr<const PreprocessedCase>> cases, LoaderOptions options);
  // Stops the workers; a batch under construction is finished and discarded.
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // The next batch in order, blocking until it is ready. An exception thrown while building it is
  // rethrown here; the following call moves on to the next batch.
  Batch next();

  LoaderStatistics statistics() const;
  double wait_fraction() const { return statistics().wait_fraction(); }
  // Opens a new statistics window, e.g. after the first batch, whose wait includes start-up.
  void reset_statistics();

  // Batches taken up by workers so far (built, being built or delivered): at most the number
  // delivered plus `prefetch`.
  int64_t batches_claimed() const;

  const LoaderOptions& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };
  void work();

  const std::vector<std::shared_ptr<const PreprocessedCase>> cases_;
  const LoaderOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable slot_claimable_;  // workers wait: the prefetch window is full
  std::condition_variable slot_ready_;      // next() waits: its batch is not built yet
  bool stopping_ = false;
  int64_t next_to_claim_ = 0;
  int64_t next_to_deliver_ = 0;
  std::map<int64_t, Slot> ready_;  // finished batches by index, possibly out of order

  bool window_open_ = false;
  Clock::time_point window_start_;
  Clock::time_point last_return_;
  LoaderStatistics statistics_;

  std::vector<std::thread> workers_;  // last member: started after everything above exists
};

}  // namespace medkd::data
