#include "medkd/metrics/comparison.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "medkd/core/error.h"

namespace fs = std::filesystem;
using medkd::metrics::ComparedRun;
using medkd::metrics::ComparisonLine;
using medkd::metrics::paired_case_dice;

namespace {

// A summary of `medkd evaluate` with only what the paired comparison reads: per case the
// reference file and each label's Dice (NaN written as null, as evaluate does).
fs::path write_summary(const std::string& name,
                       const std::vector<std::pair<std::string, std::vector<double>>>& cases) {
  const fs::path dir = fs::temp_directory_path() / "medkd_test_comparison";
  fs::create_directories(dir);
  const fs::path file = dir / (name + ".json");
  std::ofstream out(file);
  out << "{\"metric_per_case\": [";
  for (size_t i = 0; i < cases.size(); ++i) {
    out << (i ? "," : "") << "{\"reference_file\": \"labelsTs/" << cases[i].first
        << "\", \"metrics\": {";
    for (size_t k = 0; k < cases[i].second.size(); ++k) {
      const double d = cases[i].second[k];
      out << (k ? "," : "") << "\"" << k + 1 << "\": {\"Dice\": ";
      if (std::isnan(d))
        out << "null";
      else
        out << d;
      out << "}";
    }
    out << "}}";
  }
  out << "]}";
  return file;
}

}  // namespace

TEST(ComparisonPairing, MatchesCasesByReferenceNameRunByRun) {
  // Run 2 of the row lists its cases in another order than the baseline's.
  const std::vector<ComparedRun> baseline = {
      {"b1", write_summary("base1", {{"a.nii.gz", {0.5}}, {"b.nii.gz", {0.25}}})},
      {"b2", write_summary("base2", {{"c.nii.gz", {0.75}}, {"d.nii.gz", {0.0}}})}};
  const std::vector<ComparedRun> row = {
      {"r1", write_summary("row1", {{"a.nii.gz", {0.625}}, {"b.nii.gz", {0.5}}})},
      {"r2", write_summary("row2", {{"d.nii.gz", {0.125}}, {"c.nii.gz", {0.875}}})}};
  const auto paired = paired_case_dice(baseline, row, "1");
  EXPECT_EQ(paired.baseline, (std::vector<double>{0.5, 0.25, 0.75, 0.0}));
  EXPECT_EQ(paired.row, (std::vector<double>{0.625, 0.5, 0.875, 0.125}));
}

TEST(ComparisonPairing, ForegroundIsEachCasesMeanOverLabelsWithADice) {
  const std::vector<ComparedRun> baseline = {
      {"b", write_summary("fg_base", {{"a.nii.gz", {0.5, NAN}}, {"b.nii.gz", {0.25, 0.75}}})}};
  const auto paired = paired_case_dice(baseline, baseline, "foreground");
  EXPECT_EQ(paired.baseline, (std::vector<double>{0.5, 0.5}));
}

TEST(ComparisonPairing, NamesTheSummaryThatLacksACase) {
  const std::vector<ComparedRun> baseline = {
      {"b", write_summary("miss_base", {{"a.nii.gz", {0.5}}, {"b.nii.gz", {0.25}}})}};
  const std::vector<ComparedRun> row = {{"r", write_summary("miss_row", {{"a.nii.gz", {0.5}}})}};
  try {
    paired_case_dice(baseline, row, "1");
    FAIL() << "a missing case was accepted";
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("miss_row.json: no case b.nii.gz"), std::string::npos)
        << e.what();
  }
}

TEST(ComparisonPairing, NeedsTheSameNumberOfRunsInBothRows) {
  const ComparedRun run{"b", write_summary("runs_base", {{"a.nii.gz", {0.5}}})};
  EXPECT_THROW(paired_case_dice({run, run}, {run}, "1"), medkd::Error);
}

TEST(ComparisonTable, ShowsPValueColumnsOnlyWhenABaselineWasTested) {
  ComparisonLine base;
  base.name = "alone";
  base.architecture = "unet";
  base.params_millions = 0.088;
  base.gflops = 0.8;
  base.dice = {0.5, 0, 1};
  base.iou = {0.4, 0, 1};
  base.hd95 = {10, 0, 1};
  ComparisonLine kd = base;
  kd.name = "kd";
  const std::string plain = medkd::metrics::comparison_table({base, kd}, true);
  EXPECT_EQ(plain.find("p (t-test)"), std::string::npos);
  kd.t_test = medkd::metrics::PairedTest{2.5, 0.0123456, 0.1, 4, false};
  kd.wilcoxon = medkd::metrics::PairedTest{0, 0.125, 0.1, 4, true};
  const std::string markdown = medkd::metrics::comparison_table({base, kd}, true);
  EXPECT_NE(markdown.find("| Dice | IoU | HD95 (mm) | p (t-test) | p (Wilcoxon) |"),
            std::string::npos);
  EXPECT_NE(markdown.find("| 10.0 | - | - |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| 0.0123 | 0.125 |"), std::string::npos) << markdown;
  const std::string text = medkd::metrics::comparison_table({base, kd}, false);
  EXPECT_NE(text.find("p Wilcoxon"), std::string::npos);
  EXPECT_NE(text.find("0.0123"), std::string::npos);
}
