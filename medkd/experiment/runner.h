// `medkd experiment`: runs a study (study_config.h) and writes its results.
//
//   OUT/study.yaml                 the recipe as given, and OUT/budget (the budget applied)
//   OUT/data/NAME/                 a generated dataset (synth, colin27), made once
//   OUT/preprocessed/              the preprocessed cases, shared by every run
//   OUT/runs/RUN/fold-F/           a run folder of `medkd train` / `medkd distill`
//                                  (fold-F-seed-S/ for a run trained per seed), plus
//       ../fold-F.yaml             the run's own recipe, made from the study
//       experiment.json            the recipe's stamp, and whether training finished
//       predictions/SET/           label maps of the set's cases and summary.json
//   OUT/results.csv                one row per model × set × case × label
//   OUT/tables.md                  the papers' tables, paired tests
//   OUT/report.html                one self-contained page: charts, curves, overlays
//
// Every teacher trains first, then every student, then (after the teacher gate) every distilled
// run; within a role in the recipe's order, fold by fold and seed by seed. A run folder whose
// experiment.json carries the stamp of the run's current recipe (and, for distilled runs, of its
// teachers') and says finished is reused; one that did not finish is resumed from its last epoch
// (train's --resume), so an interruption loses at most one epoch; one made from another recipe
// is trained again.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "medkd/experiment/study_config.h"

namespace medkd::experiment {

struct ExperimentOptions {
  std::filesystem::path config;
  std::filesystem::path out;
  std::string budget;    // an entry of the recipe's budgets; "" = the recipe's own values
  bool dry_run = false;  // list the work and its estimated cost; train nothing
  torch::Device device = torch::kCPU;
  bool amp = false;
  int threads = 0;
  bool quiet = false;
};

// Runs (or, with dry_run, lists) the study. Errors are medkd::Errors naming the file or run.
void run_experiment(const ExperimentOptions& options);

}  // namespace medkd::experiment
