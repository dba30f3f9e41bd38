// The epoch loop that `medkd train` and `medkd distill` share: batches from the threaded loader,
// the learning-rate schedule, one optimiser step per batch on whatever loss the caller computes,
// validation Dice, early stopping, atomic checkpoints, training_log.csv and exact resumption.
//
// What differs between the two commands is what is optimised and how a batch's loss is computed:
// train optimises the model alone on a segmentation loss; distill optimises the student and its
// adapters on the segmentation loss plus distillation terms that read frozen teachers. Both hand
// the loop a `step` function and the module whose parameters it updates.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medkd/data/loader.h"
#include "medkd/data/plans.h"
#include "medkd/data/preprocessing.h"
#include "medkd/io/dataset.h"
#include "medkd/models/segmentation_model.h"
#include "medkd/train/train_config.h"
#include "medkd/train/trainer.h"

namespace medkd::train {

using CaseList = std::vector<std::shared_ptr<const data::PreprocessedCase>>;

// The loss of one batch: `total` is minimised; `terms` are its parts for the log, one value per
// entry of TrainingLoop::term_names, in that order.
struct StepLoss {
  torch::Tensor total;
  std::vector<double> terms;
  // One value per entry of TrainingLoop::diagnostic_names, NaN where this step measured none;
  // the log holds each one's mean over the steps of the epoch that measured it.
  std::vector<double> diagnostics;
};

// Where a step stands in the run, and what else it draws.
struct StepContext {
  int64_t step = 0;         // optimiser steps completed before this one
  int64_t total_steps = 1;  // epochs × iterations_per_epoch
  // Patches of the unlabelled cases, drawn alongside the batch (undefined image without them).
  const data::Batch* unlabelled = nullptr;
};

struct TrainingLoop {
  TrainConfig config;
  data::Plan plan;
  CaseList train_cases, val_cases;
  // The network that is validated and exported (checkpoint_best.pt, and checkpoint_last.pt).
  models::SegmentationModel model{nullptr};
  // Every parameter the optimiser updates, and what the resumable checkpoint holds: `model`
  // itself, or a module holding the model and its distillation adapters.
  std::shared_ptr<torch::nn::Module> trained;
  // Where the resumable state of `trained` goes. When `trained` is the model, this is
  // checkpoint_last.pt; otherwise checkpoint_last.pt is also written with the model alone, so
  // `medkd predict` reads both kinds of run the same way.
  std::filesystem::path state_file;
  // Extra columns of training_log.csv (after train_loss), one per StepLoss::terms entry.
  std::vector<std::string> term_names;
  // Further columns after the validation ones, one per StepLoss::diagnostics entry.
  std::vector<std::string> diagnostic_names;
  // Cases without labels (a placeholder all-background label each) and how many of their
  // patches each step draws; foreground sampling does not apply to them.
  CaseList unlabelled_cases;
  int64_t unlabelled_batch_size = 0;
  // The loss of one batch, computed on `options.device` (batch tensors are still on the CPU).
  // Called with `trained` in training mode and autocast set up when options.amp applies.
  std::function<StepLoss(const data::Batch&, const StepContext&)> step;
  std::filesystem::path out;
  nlohmann::json metadata;  // stored with every checkpoint (model config, plan, fold, …)
  TrainOptions options;     // resume, device, amp, quiet, max_epochs_this_call
};

// Runs (or, with options.resume, continues) the loop until config.epochs or early stopping.
TrainResult run_training_loop(TrainingLoop& loop);

// The cases of one fold, preprocessed with `plan` into the cache (`cache`, or OUT/preprocessed):
// `fold` >= 0 reads or makes OUT/splits.json (config.folds folds, seeded) and validates on fold
// `fold`; -1 trains on every case. At most config.validation_max_cases validation cases (0 = all).
struct FoldCases {
  CaseList train, val;
};
FoldCases prepare_fold_cases(const io::Dataset& dataset, const data::Plan& plan,
                             const TrainConfig& config, const std::filesystem::path& out,
                             const std::filesystem::path& cache, int fold, int threads, bool quiet);

// Adam or SGD (config.optimizer) over `module`'s parameters, weight decay on weights only.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& module,
                                                        const OptimizerConfig& config);

}  // namespace medkd::train
