// Checkpoints: everything needed to continue a run exactly (weights, optimiser moments, schedule
// position, early-stopping state, random state) plus the metadata that makes a model usable on
// its own (model config, plan), in one file written atomically.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace medkd::io {

struct TrainingState {
  int64_t epoch = 0;            // epochs completed
  int64_t step = 0;             // optimiser steps completed
  double best_metric = -1e300;  // best validation metric so far
  int checks_since_best = 0;    // early-stopping counter
  std::string torch_rng_state;  // CPU generator state (bytes)
};

// Writes `path` atomically. `optimizer` may be null (exported models carry weights only).
void save_checkpoint(const std::filesystem::path& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* optimizer, const TrainingState& state,
                     const nlohmann::json& metadata);

// Loads weights (and the optimiser, if given) into the caller's objects, which must have the
// architecture the checkpoint was written from; returns the training state.
TrainingState load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                              torch::optim::Optimizer* optimizer);

// The metadata stored with save_checkpoint, without touching weights.
nlohmann::json read_checkpoint_metadata(const std::filesystem::path& path);

// The CPU generator's state as bytes, and back (for exact resumption of weight init and dropout).
std::string capture_torch_rng_state();
void restore_torch_rng_state(const std::string& state);

}  // namespace medkd::io
