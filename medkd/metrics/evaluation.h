// Segmentation evaluation in nnU-Net's summary.json schema, extended with surface distances.
//
// Per case and label: Dice, IoU, RVD, HD95 and ASSD (mm), TP, FP, FN, TN, n_pred, n_ref. Per label:
// the mean over cases, NaN values left out (cases where both masks are empty, counted separately);
// foreground_mean: the mean over labels of the per-label means. Definitions: docs/metrics.md.
//
// SegmentationEvaluator is stateful like MONAI's metrics (update, compute, reset);
// evaluate_folders() is what `medkd evaluate` runs.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medkd/io/image.h"
#include "medkd/metrics/overlap.h"

namespace medkd::metrics {

struct LabelMetrics {
  double dice = 0, iou = 0, rvd = 0, hd95 = 0, assd = 0;
  ConfusionCounts counts;
};

// Metrics of one label for one case: `pred` and `ref` are integer label maps [1, Z, Y, X] (or
// [Z, Y, X]) on the same grid; `spacing` in mm (x, y, z).
LabelMetrics evaluate_label(const torch::Tensor& pred, const torch::Tensor& ref, int label,
                            const std::array<double, 3>& spacing, int threads = 1);

struct CaseResult {
  std::string prediction_file;
  std::string reference_file;
  std::map<int, LabelMetrics> labels;
};

// Mean of each metric over the cases in which it is defined.
struct MeanMetrics {
  double dice = 0, iou = 0, rvd = 0, hd95 = 0, assd = 0;
  double tp = 0, fp = 0, fn = 0, tn = 0, n_pred = 0, n_ref = 0;
};

struct EvaluationSummary {
  std::vector<CaseResult> cases;
  std::map<int, MeanMetrics> mean;
  MeanMetrics foreground_mean;
  std::map<int, int> both_empty_cases;  // label -> cases where prediction and reference are empty
};

class SegmentationEvaluator {
 public:
  // `labels`: the foreground label values to evaluate (background 0 is never evaluated).
  explicit SegmentationEvaluator(std::vector<int> labels, int threads = 1);

  // Evaluates one case. Throws medkd::Error naming the files if the grids differ (size, spacing,
  // origin, direction beyond `tolerance`) or a label map is not integer.
  void update(const io::Image& pred, const io::Image& ref, const std::string& prediction_file,
              const std::string& reference_file, double tolerance = 1e-4);
  // Adds an already computed case (results from several evaluators can be merged this way).
  void add(CaseResult result);
  EvaluationSummary compute() const;
  void reset() { cases_.clear(); }

  const std::vector<int>& labels() const { return labels_; }

 private:
  std::vector<int> labels_;
  int threads_;
  std::vector<CaseResult> cases_;
};

// nnU-Net's summary.json layout (NaN written as null), plus "both_empty_cases" per label.
nlohmann::ordered_json summary_to_json(const EvaluationSummary& summary);
// One row per case and label: case, label, Dice, IoU, RVD, HD95, ASSD, TP, FP, FN, TN, n_pred,
// n_ref.
std::string summary_to_csv(const EvaluationSummary& summary);
// A plain-text table of the per-label means, for the terminal.
std::string summary_table(const EvaluationSummary& summary,
                          const std::map<int, std::string>& names);

struct EvaluateFoldersOptions {
  std::filesystem::path pred_dir;
  std::filesystem::path ref_dir;
  std::filesystem::path dataset_json;  // optional: labels to evaluate and the file ending
  std::vector<int> labels;             // optional: overrides dataset.json; empty = all present
  double tolerance = 1e-4;
  int threads = 0;
  bool quiet = false;
};

struct FolderEvaluation {
  EvaluationSummary summary;
  std::map<int, std::string> label_names;        // from dataset.json, if given
  std::vector<std::string> ignored_predictions;  // predictions without a reference
};

// Pairs every reference file with the prediction of the same name. A missing prediction, a
// geometry mismatch or a non-integer label file is a medkd::Error naming the file.
FolderEvaluation evaluate_folders(const EvaluateFoldersOptions& options);

}  // namespace medkd::metrics
