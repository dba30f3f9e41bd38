// `medkd distill`: trains a student from frozen teachers, L = w_seg · L_seg + Σ_k w_k · L_k.
//
// Teachers are run folders (or checkpoints) of `medkd train`, any models of the zoo; they must
// share one plan (channels, spacing, normalisation, labels: the same preprocessing hash), which
// the student then trains on. Teachers run in eval mode under torch::InferenceMode. The loop,
// checkpoints, resume, logs and progress are the trainer's (training_loop.h); the run folder is
// a training run folder plus
//   distill_state.pt     the resumable state: student, adapters, optimiser (every epoch)
//   teachers.json        the teachers' names, checkpoints and models
// and checkpoint_last.pt / checkpoint_best.pt hold the student alone, so `medkd predict`,
// `evaluate` and `models` use a distilled student exactly like a trained one. training_log.csv
// has one column per loss term.
#pragma once

#include "medkd/train/trainer.h"

namespace medkd::train {

struct DistillOptions {
  std::filesystem::path config;   // optional with resume (the run's config.yaml is used)
  std::filesystem::path dataset;  // overrides the config's `dataset`
  TrainOptions run;               // out, cache, fold, resume, device, amp, threads, quiet, …
  // The recipe's student without its distillation terms: the baseline for the same recipe, with
  // the teachers' plan and the same loss, budget and seed, so it ends exactly where
  // `medkd train` of that student ends. Teachers are read for their plan only. A resumed run
  // keeps the mode it started with.
  bool student_alone = false;
};

TrainResult distill(const DistillOptions& options);

}  // namespace medkd::train
