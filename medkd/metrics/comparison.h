// A Teach-Former-style comparison table of trained models: parameters and GFLOPs of each network
// and its test metrics (Dice, IoU, HD95) from `medkd evaluate` summaries, as mean ± std over
// repeated runs (seeds) of the same row.
//
//   model                      Params (M)   GFLOPs   Dice            IoU             HD95 (mm)
//   teacher (unet 16-128)           1.402    12.00   0.476 ± 0.071   ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "medkd/metrics/significance.h"

namespace medkd::metrics {

// One run of a row: a run folder (or checkpoint) of `medkd train` / `medkd distill` and the
// summary.json that `medkd evaluate` wrote for its predictions.
struct ComparedRun {
  std::filesystem::path model;
  std::filesystem::path summary;
};

struct ComparisonRow {
  std::string name;
  std::vector<ComparedRun> runs;  // one per seed; their metrics are averaged
};

struct MeanStd {
  double mean = 0, std = 0;  // sample standard deviation; 0 for one run; NaN where undefined
  int64_t count = 0;         // runs with a defined value
};

struct ComparisonLine {
  std::string name;
  std::string architecture;  // registry name of the first run's model
  double params_millions = 0;
  double gflops = 0;  // one sample of the plan's patch size
  MeanStd dice, iou, hd95;
  // Against the baseline row (when one is named; not on the baseline itself): paired tests of
  // per-case Dice, case by case within each run, over the runs of both rows.
  std::optional<PairedTest> t_test, wilcoxon;
};

// The paired per-case Dice of two rows: run i of `row` against run i of `baseline`, cases
// matched by their reference file's name. Both rows need the same number of runs and every case
// of a baseline run in the other row's run. `label` as in compare_models ("foreground": each
// case's mean over the labels with a Dice). Errors name the file or row.
struct PairedDice {
  std::vector<double> baseline, row;  // one entry per (run, case), in the same order
};
PairedDice paired_case_dice(const std::vector<ComparedRun>& baseline,
                            const std::vector<ComparedRun>& row, const std::string& label);

// `label`: a label value of the summaries ("1") or "foreground" (their foreground mean).
// `baseline`: empty, or the name of a row that every other row is tested against (paired t-test
// and Wilcoxon signed-rank test on per-case Dice).
// Errors (a missing file, a summary without the label, an unknown baseline) are medkd::Errors
// naming the file or row.
std::vector<ComparisonLine> compare_models(const std::vector<ComparisonRow>& rows,
                                           const std::string& label,
                                           const std::string& baseline = "");

// The table as aligned text, or as a Markdown table; with p-value columns where any line has
// tests.
std::string comparison_table(const std::vector<ComparisonLine>& lines, bool markdown);

}  // namespace medkd::metrics
