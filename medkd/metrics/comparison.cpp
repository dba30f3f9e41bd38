#include "medkd/metrics/comparison.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "medkd/core/error.h"
#include "medkd/core/json_file.h"
#include "medkd/inference/predictor.h"
#include "medkd/io/checkpoint.h"
#include "medkd/models/model_summary.h"
#include "medkd/models/registry.h"

namespace medkd::metrics {
namespace fs = std::filesystem;
namespace {

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd out;
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) {
      sum += v;
      ++out.count;
    }
  if (out.count == 0) return {NAN, NAN, 0};
  out.mean = sum / double(out.count);
  double squares = 0;
  for (double v : values)
    if (std::isfinite(v)) squares += (v - out.mean) * (v - out.mean);
  out.std = out.count > 1 ? std::sqrt(squares / double(out.count - 1)) : 0.0;
  return out;
}

double metric_of(const nlohmann::json& summary, const std::string& label, const std::string& key,
                 const fs::path& file) {
  const nlohmann::json* block = nullptr;
  if (label == "foreground") {
    MEDKD_CHECK(summary.contains("foreground_mean"), file.string(), ": no foreground_mean");
    block = &summary["foreground_mean"];
  } else {
    MEDKD_CHECK(summary.contains("mean") && summary["mean"].contains(label), file.string(),
                ": no label ", label, " in its mean");
    block = &summary["mean"][label];
  }
  MEDKD_CHECK(block->contains(key), file.string(), ": no ", key, " for label ", label);
  const auto& value = (*block)[key];
  return value.is_number() ? value.get<double>() : NAN;  // null: both masks empty everywhere
}

// Per-case Dice of one summary, by the reference file's name.
std::vector<std::pair<std::string, double>> case_dice(const fs::path& file,
                                                      const std::string& label) {
  const nlohmann::json summary = core::read_json_file(file);
  MEDKD_CHECK(summary.contains("metric_per_case") && summary["metric_per_case"].is_array(),
              file.string(), ": no metric_per_case (not a summary of `medkd evaluate`)");
  std::vector<std::pair<std::string, double>> cases;
  for (const auto& c : summary["metric_per_case"]) {
    MEDKD_CHECK(c.contains("reference_file") && c.contains("metrics"), file.string(),
                ": a case without reference_file or metrics");
    const auto& metrics = c["metrics"];
    double dice = NAN;
    if (label == "foreground") {
      double sum = 0;
      int count = 0;
      for (const auto& [name, values] : metrics.items())
        if (values.contains("Dice") && values["Dice"].is_number()) {
          sum += values["Dice"].get<double>();
          ++count;
        }
      if (count > 0) dice = sum / count;
    } else {
      MEDKD_CHECK(metrics.contains(label), file.string(), ": no label ", label, " in case ",
                  c["reference_file"].get<std::string>());
      const auto& value = metrics[label]["Dice"];
      dice = value.is_number() ? value.get<double>() : NAN;
    }
    cases.emplace_back(fs::path(c["reference_file"].get<std::string>()).filename().string(), dice);
  }
  return cases;
}

std::string format(const MeanStd& m, int digits, bool with_std) {
  if (m.count == 0) return "nan";
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << m.mean;
  if (with_std) out << " ± " << m.std;
  return out.str();
}

// A p-value with three significant digits; "-" on the baseline, "nan" where undefined.
std::string p_value_cell(const std::optional<PairedTest>& test) {
  if (!test) return "-";
  if (std::isnan(test->p_value)) return "nan";
  std::ostringstream out;
  out << std::setprecision(3) << test->p_value;
  return out.str();
}

}  // namespace

PairedDice paired_case_dice(const std::vector<ComparedRun>& baseline,
                            const std::vector<ComparedRun>& row, const std::string& label) {
  MEDKD_CHECK(baseline.size() == row.size(), "paired comparison: the baseline has ",
              baseline.size(), " run(s) and the other row ", row.size(),
              "; pair them run by run (one per seed)");
  PairedDice paired;
  for (size_t r = 0; r < baseline.size(); ++r) {
    const auto base_cases = case_dice(baseline[r].summary, label);
    const auto row_cases = case_dice(row[r].summary, label);
    for (const auto& [name, dice] : base_cases) {
      const auto it = std::find_if(row_cases.begin(), row_cases.end(),
                                   [&](const auto& c) { return c.first == name; });
      MEDKD_CHECK(it != row_cases.end(), row[r].summary.string(), ": no case ", name, ", which ",
                  baseline[r].summary.string(), " has");
      paired.baseline.push_back(dice);
      paired.row.push_back(it->second);
    }
  }
  return paired;
}

std::vector<ComparisonLine> compare_models(const std::vector<ComparisonRow>& rows,
                                           const std::string& label, const std::string& baseline) {
  const auto base = std::find_if(rows.begin(), rows.end(),
                                 [&](const ComparisonRow& r) { return r.name == baseline; });
  if (!baseline.empty() && base == rows.end()) {
    std::vector<std::string> names;
    for (const auto& r : rows) names.push_back(r.name);
    throw Error(str("baseline '", baseline, "' is not a row (rows: ", join_names(names), ")"));
  }
  std::vector<ComparisonLine> lines;
  for (const auto& row : rows) {
    MEDKD_CHECK(!row.runs.empty(), "row '", row.name, "' has no runs");
    ComparisonLine line;
    line.name = row.name;
    // Size and cost from the first run: every run of a row is the same network.
    const auto loaded = inference::load_trained_model(row.runs.front().model, torch::kCPU);
    const auto& p = loaded.plan.patch_size;  // (x, y, z)
    const std::vector<int64_t> spatial = loaded.plan.dims == 2
                                             ? std::vector<int64_t>{p[1], p[0]}
                                             : std::vector<int64_t>{p[2], p[1], p[0]};
    models::ModelConfig config =
        models::model_config_from_json(io::read_checkpoint_metadata(loaded.checkpoint)["model"]);
    const auto summary = models::summarize_model(models::default_model_registry(), config, spatial);
    line.architecture = config.name;
    line.params_millions = double(summary.complexity.params) / 1e6;
    line.gflops = summary.complexity.flops() / 1e9;
    std::vector<double> dice, iou, hd95;
    for (const auto& run : row.runs) {
      const nlohmann::json s = core::read_json_file(run.summary);
      dice.push_back(metric_of(s, label, "Dice", run.summary));
      iou.push_back(metric_of(s, label, "IoU", run.summary));
      hd95.push_back(metric_of(s, label, "HD95", run.summary));
    }
    line.dice = mean_std(dice);
    line.iou = mean_std(iou);
    line.hd95 = mean_std(hd95);
    if (!baseline.empty() && row.name != baseline) {
      const PairedDice paired = paired_case_dice(base->runs, row.runs, label);
      line.t_test = paired_t_test(paired.row, paired.baseline);
      line.wilcoxon = wilcoxon_signed_rank(paired.row, paired.baseline);
    }
    lines.push_back(line);
  }
  return lines;
}

std::string comparison_table(const std::vector<ComparisonLine>& lines, bool markdown) {
  bool repeated = false, tested = false;
  for (const auto& l : lines) {
    repeated |= l.dice.count > 1;
    tested |= l.t_test.has_value();
  }
  std::ostringstream out;
  const auto cell = [&](const MeanStd& m, int digits) { return format(m, digits, repeated); };
  if (markdown) {
    out << "| model | network | Params (M) | GFLOPs | Dice | IoU | HD95 (mm) |"
        << (tested ? " p (t-test) | p (Wilcoxon) |" : "") << "\n"
        << "|---|---|---:|---:|---:|---:|---:|" << (tested ? "---:|---:|" : "") << "\n";
    for (const auto& l : lines) {
      out << "| " << l.name << " | " << l.architecture << " | " << std::fixed
          << std::setprecision(3) << l.params_millions << " | " << std::setprecision(2) << l.gflops
          << " | " << cell(l.dice, 3) << " | " << cell(l.iou, 3) << " | " << cell(l.hd95, 1)
          << " |";
      if (tested) out << ' ' << p_value_cell(l.t_test) << " | " << p_value_cell(l.wilcoxon) << " |";
      out << '\n';
    }
    return out.str();
  }
  const int w = repeated ? 16 : 9;
  int name_width = 12, network_width = 10;
  for (const auto& l : lines) {
    name_width = std::max(name_width, int(l.name.size()) + 2);
    network_width = std::max(network_width, int(l.architecture.size()) + 2);
  }
  out << std::left << std::setw(name_width) << "model" << std::setw(network_width) << "network"
      << std::right << std::setw(11) << "Params (M)" << std::setw(10) << "GFLOPs" << std::setw(w)
      << "Dice" << std::setw(w) << "IoU" << std::setw(w + 2) << "HD95 (mm)";
  if (tested) out << std::setw(12) << "p t-test" << std::setw(12) << "p Wilcoxon";
  out << '\n';
  for (const auto& l : lines) {
    out << std::left << std::setw(name_width) << l.name << std::setw(network_width)
        << l.architecture << std::right << std::fixed << std::setprecision(3) << std::setw(11)
        << l.params_millions << std::setprecision(2) << std::setw(10) << l.gflops << std::setw(w)
        << cell(l.dice, 3) << std::setw(w) << cell(l.iou, 3) << std::setw(w + 2) << cell(l.hd95, 1);
    if (tested)
      out << std::setw(12) << p_value_cell(l.t_test) << std::setw(12) << p_value_cell(l.wilcoxon);
    out << '\n';
  }
  if (tested)
    out << "p: paired tests of per-case Dice against the baseline row, two-sided "
           "(docs/metrics.md)\n";
  return out.str();
}

}  // namespace medkd::metrics
