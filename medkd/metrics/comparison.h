// A Teach-Former-style comparison table of trained models: parameters and GFLOPs of each network
// and its test metrics (Dice, IoU, HD95) from `medkd evaluate` summaries, as mean ± std over
// repeated runs (seeds) of the same row.
//
//   model                      Params (M)   GFLOPs   Dice            IoU             HD95 (mm)
//   teacher (unet 16-128)           1.402    12.00   0.476 ± 0.071   ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

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
};

// `label`: a label value of the summaries ("1") or "foreground" (their foreground mean).
// Errors (a missing file, a summary without the label) are medkd::Errors naming the file.
std::vector<ComparisonLine> compare_models(const std::vector<ComparisonRow>& rows,
                                           const std::string& label);

// The table as aligned text, or as a Markdown table.
std::string comparison_table(const std::vector<ComparisonLine>& lines, bool markdown);

}  // namespace medkd::metrics
