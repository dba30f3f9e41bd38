// `medkd train`: one model on one fold of an nnU-Net-style dataset.
//
// A run folder holds everything needed to continue or use the model:
//   config.yaml          the recipe as given
//   plans.json           preprocessing plan (also inside every checkpoint)
//   fingerprint.json     the dataset fingerprint the plan came from
//   splits.json          the cross-validation folds
//   checkpoint_last.pt   written atomically at the end of every epoch (weights, optimiser,
//                        schedule position, early-stopping state, random state)
//   checkpoint_best.pt   the epoch with the best validation Dice
//   training_log.csv     epoch, lr, train_loss, val_dice, seconds, data_wait_fraction
//   preprocessed/        cache of preprocessed cases (unless --cache points elsewhere)
// --resume continues from checkpoint_last.pt exactly: the same batches, the same updates, so
// an interrupted run ends with the weights an uninterrupted one would have had (on CPU).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "medkd/train/train_config.h"

namespace medkd::train {

struct TrainOptions {
  std::filesystem::path dataset;
  std::filesystem::path config;  // optional with resume (the run's config.yaml is used)
  std::filesystem::path out;
  std::filesystem::path cache;  // default: out/preprocessed
  int fold = 0;                 // -1: train on every case, no validation
  bool resume = false;
  torch::Device device = torch::kCPU;
  bool amp = false;  // bfloat16 autocast on CUDA
  int threads = 0;
  bool quiet = false;
  // Stop (as if interrupted, after writing the checkpoint) once this many epochs have run in
  // this call; 0 = run to the end. Lets tests and schedulers split a run across processes.
  int64_t max_epochs_this_call = 0;
};

struct TrainResult {
  int64_t epochs_completed = 0;
  double best_val_dice = 0;
  bool stopped_early = false;
};

TrainResult train(const TrainOptions& options);

}  // namespace medkd::train
