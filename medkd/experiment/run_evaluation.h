// Scoring one trained run of a study on one set of cases: its predictions written beside it and
// a summary.json in `medkd evaluate`'s schema, then read back as per-case metrics. A set's
// reference labels may use another label scheme than the dataset (a second subject labelled
// with tissue classes): a mapping merges the predicted labels into the set's before scoring.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "medkd/experiment/study_results.h"
#include "medkd/inference/predictor.h"
#include "medkd/io/dataset.h"

namespace medkd::experiment {

struct EvaluationSet {
  std::string name;                  // "cv" or a test set's name
  std::vector<io::CaseFiles> cases;  // channel files and the reference label of each case
  std::vector<int> labels;           // the set's foreground label values, scored
  std::map<int, int> mapping;        // predicted label -> set label; empty = the same labels
  std::string file_ending = ".nii.gz";
};

// The cases of a test folder pair (images/, labels/ of the dataset) and, when `mapping_file` is
// given, its mapping.json: {"labels": {"name": value, ...}, "from_dataset_labels":
// {"dataset value": set value, ...}}. Errors name the folder or file.
EvaluationSet read_test_set(const std::string& name, const io::Dataset& dataset,
                            const std::filesystem::path& images,
                            const std::filesystem::path& labels,
                            const std::filesystem::path& mapping_file);

// Predicts every case of `set` with the model of `run` into `folder` and writes
// folder/summary.json (atomically, last: its presence means the set is done).
void evaluate_run_on_set(const std::filesystem::path& run, const EvaluationSet& set,
                         const std::filesystem::path& folder,
                         const inference::PredictionSettings& settings, int threads, bool quiet);

// The per-case metrics in a summary.json: one entry per case and label, and label 0 with the
// case's mean over its labels (NaN values left out). Case ids are the reference file names
// without `file_ending`.
std::vector<CaseMetric> read_case_metrics(const std::filesystem::path& summary,
                                          const std::string& run, int fold, const std::string& set,
                                          const std::string& file_ending);

}  // namespace medkd::experiment
