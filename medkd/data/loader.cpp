#include "medkd/data/loader.h"

#include <utility>

#include "medkd/core/error.h"
#include "medkd/core/rng.h"

namespace medkd::data {

void LoaderOptions::validate() const {
  MEDKD_CHECK(batch_size >= 1, "batch_size must be >= 1, got ", batch_size);
  MEDKD_CHECK(workers >= 0, "loader workers must be >= 0, got ", workers);
  MEDKD_CHECK(prefetch >= 1, "loader prefetch must be >= 1, got ", prefetch);
  sampler.validate();
  augment.validate();
}

Batch build_batch(const std::vector<std::shared_ptr<const PreprocessedCase>>& cases,
                  const LoaderOptions& options, int64_t index) {
  MEDKD_CHECK(!cases.empty(), "the data loader needs at least one case");
  torch::NoGradGuard no_grad;
  const core::Rng batch_rng = core::Rng(options.seed).child(static_cast<uint64_t>(index));
  Batch batch;
  batch.index = index;
  std::vector<torch::Tensor> images, labels;
  for (int64_t i = 0; i < options.batch_size; ++i) {
    // One stream per sample, so that a sample does not depend on how many draws the one before
    // it made (which varies with the augmentations that fired).
    core::Rng rng = batch_rng.child(static_cast<uint64_t>(i));
    const PreprocessedCase& source = *cases[rng.integer(0, static_cast<int64_t>(cases.size()) - 1)];
    Patch patch = sample_patch(source, options.sampler, rng);
    if (options.augment_enabled)
      augment(patch.image, patch.label, options.augment, options.sampler.dims, rng);
    images.push_back(patch.image);
    labels.push_back(patch.label.to(torch::kInt64));
    batch.case_ids.push_back(source.id);
  }
  batch.image = torch::stack(images);  // [N, C, *spatial]
  batch.label = torch::stack(labels);  // [N, 1, *spatial]
  return batch;
}

DataLoader::DataLoader(std::vector<std::shared_ptr<const PreprocessedCase>> cases,
                       LoaderOptions options)
    : cases_(std::move(cases)), options_(std::move(options)) {
  options_.validate();
  MEDKD_CHECK(!cases_.empty(), "the data loader needs at least one case");
  for (const auto& source : cases_) {
    MEDKD_CHECK(source != nullptr, "the data loader was given a null case");
    MEDKD_CHECK(source->image.defined() && source->image.dim() == 4, "case ", source->id,
                ": image must be [C, Z, Y, X]");
    MEDKD_CHECK(source->label.defined(), "case ", source->id, " has no label to train on");
    MEDKD_CHECK(source->image.size(0) == cases_.front()->image.size(0), "case ", source->id,
                " has ", source->image.size(0), " channels, case ", cases_.front()->id, " has ",
                cases_.front()->image.size(0));
  }
  try {
    for (int w = 0; w < options_.workers; ++w) workers_.emplace_back([this] { work(); });
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    slot_claimable_.notify_all();
    for (auto& worker : workers_) worker.join();
    throw;
  }
}

DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  // Workers only ever block on slot_claimable_, whose condition includes stopping_, so none can
  // stay asleep however full the prefetch window is.
  slot_claimable_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void DataLoader::work() {
  torch::NoGradGuard no_grad;  // grad mode is per thread
  while (true) {
    int64_t index = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      slot_claimable_.wait(
          lock, [&] { return stopping_ || next_to_claim_ < next_to_deliver_ + options_.prefetch; });
      if (stopping_) return;
      index = next_to_claim_++;
    }
    Slot slot;
    try {
      slot.batch = build_batch(cases_, options_, index);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      ready_.emplace(index, std::move(slot));
    }
    slot_ready_.notify_all();
  }
}

Batch DataLoader::next() {
  const Clock::time_point entered = Clock::now();
  Slot slot;
  if (workers_.empty()) {
    int64_t index = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      index = next_to_deliver_++;
    }
    try {
      slot.batch = build_batch(cases_, options_, index);
    } catch (...) {
      slot.error = std::current_exception();
    }
  } else {
    std::unique_lock<std::mutex> lock(mutex_);
    slot_ready_.wait(lock, [&] { return ready_.count(next_to_deliver_) > 0; });
    auto node = ready_.extract(next_to_deliver_);
    slot = std::move(node.mapped());
    ++next_to_deliver_;
  }
  slot_claimable_.notify_all();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const Clock::time_point now = Clock::now();
    if (!window_open_) {
      window_open_ = true;
      window_start_ = entered;
    }
    statistics_.batches += 1;
    statistics_.wait_seconds += std::chrono::duration<double>(now - entered).count();
    last_return_ = now;
  }
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

LoaderStatistics DataLoader::statistics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  LoaderStatistics out = statistics_;
  out.elapsed_seconds =
      window_open_ ? std::chrono::duration<double>(last_return_ - window_start_).count() : 0.0;
  return out;
}

int64_t DataLoader::batches_claimed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return workers_.empty() ? next_to_deliver_ : next_to_claim_;
}

void DataLoader::reset_statistics() {
  std::lock_guard<std::mutex> lock(mutex_);
  window_open_ = false;
  statistics_ = LoaderStatistics{};
}

}  // namespace medkd::data
