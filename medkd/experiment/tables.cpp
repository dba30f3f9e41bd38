#include "medkd/experiment/tables.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "medkd/core/error.h"
#include "medkd/metrics/significance.h"

namespace medkd::experiment {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kNotApplicable = "–";
constexpr const char* kCrossValidation = "cv";
constexpr double kSignificance = 0.05;

enum class Score { kDice, kIou, kHd95 };

double score_of(const CaseMetric& metric, Score score) {
  switch (score) {
    case Score::kDice:
      return metric.dice;
    case Score::kIou:
      return metric.iou;
    case Score::kHd95:
      return metric.hd95;
  }
  return kNaN;
}

// ---- numbers as text ----

std::string fixed(double value, int decimals) {
  if (std::isnan(value)) return "nan";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// "+0.035", "-0.120"; a difference that rounds to zero is "+0.000", never "-0.000".
std::string signed_fixed(double value, int decimals) {
  if (std::isnan(value)) return "nan";
  std::string text = fixed(std::abs(value), decimals);
  const bool rounds_to_zero = text.find_first_not_of("0.") == std::string::npos;
  return (value < 0 && !rounds_to_zero ? "-" : "+") + text;
}

std::string p_value_cell(double p) {
  if (std::isnan(p)) return "nan";
  char text[64];
  std::snprintf(text, sizeof text, "%#.3g", p);
  return std::string(text) + (p < kSignificance ? " *" : "");
}

// Mean ± sample std over the folds that have a score.
struct OverFolds {
  double mean = kNaN, std = kNaN;
  int folds = 0;
};

OverFolds over_folds(const std::vector<double>& fold_scores) {
  OverFolds out;
  double sum = 0;
  for (double score : fold_scores)
    if (!std::isnan(score)) {
      sum += score;
      ++out.folds;
    }
  if (out.folds == 0) return out;
  out.mean = sum / out.folds;
  if (out.folds < 2) return out;
  double squares = 0;
  for (double score : fold_scores)
    if (!std::isnan(score)) squares += (score - out.mean) * (score - out.mean);
  out.std = std::sqrt(squares / (out.folds - 1));
  return out;
}

std::string mean_std_cell(const OverFolds& value, int decimals) {
  if (value.folds == 0) return "nan";
  if (value.folds < 2) return fixed(value.mean, decimals);
  return fixed(value.mean, decimals) + " ± " + fixed(value.std, decimals);
}

// ---- reading the study ----

// The folds the tables have columns for: the study's, or more if a metric names a later fold.
int fold_count(const StudyResults& results) {
  int folds = results.folds;
  for (const auto& metric : results.metrics) folds = std::max(folds, metric.fold + 1);
  return folds;
}

// A run's score on a set, one entry per fold: the mean over the fold's cases of the values that
// are not NaN; NaN for a fold without any.
std::vector<double> fold_scores(const StudyResults& results, const std::string& run,
                                const std::string& set, int label, Score score) {
  const int folds = fold_count(results);
  std::vector<double> sums(folds, 0.0);
  std::vector<int> counts(folds, 0);
  for (const auto& metric : results.metrics) {
    if (metric.run != run || metric.set != set || metric.label != label || metric.fold < 0)
      continue;
    const double value = score_of(metric, score);
    if (std::isnan(value)) continue;
    sums[metric.fold] += value;
    ++counts[metric.fold];
  }
  std::vector<double> means(folds, kNaN);
  for (int fold = 0; fold < folds; ++fold)
    if (counts[fold] > 0) means[fold] = sums[fold] / counts[fold];
  return means;
}

OverFolds report_score(const StudyResults& results, const std::string& run, const std::string& set,
                       Score score) {
  return over_folds(fold_scores(results, run, set, results.report_label, score));
}

bool has_metrics(const StudyResults& results, const std::string& run, const std::string& set) {
  return std::any_of(results.metrics.begin(), results.metrics.end(),
                     [&](const CaseMetric& m) { return m.run == run && m.set == set; });
}

// Distinct cases of a set that have a metric of the reported label.
size_t case_count(const StudyResults& results, const std::string& set) {
  std::set<std::string> cases;
  for (const auto& metric : results.metrics)
    if (metric.set == set && metric.label == results.report_label) cases.insert(metric.case_id);
  return cases.size();
}

const RunSummary* find_run(const StudyResults& results, const std::string& name) {
  for (const auto& run : results.runs)
    if (run.name == name) return &run;
  return nullptr;
}

std::vector<std::string> run_names(const StudyResults& results) {
  std::vector<std::string> names;
  for (const auto& run : results.runs) names.push_back(run.name);
  return names;
}

// Baselines and teachers must be runs of the study: the tables compare against them.
void check_references(const StudyResults& results) {
  for (const auto& run : results.runs) {
    MEDKD_CHECK(run.baseline.empty() || find_run(results, run.baseline), "run \"", run.name,
                "\" is tested against baseline \"", run.baseline,
                "\", which is not a run of the study (runs: ", join_names(run_names(results)), ")");
    for (const auto& teacher : run.teachers)
      MEDKD_CHECK(find_run(results, teacher), "run \"", run.name, "\" names teacher \"", teacher,
                  "\", which is not a run of the study (runs: ", join_names(run_names(results)),
                  ")");
  }
}

// The set that tables 3, 4 and 6 are of.
std::string headline_set(const StudyResults& results) {
  return results.test_sets.empty() ? kCrossValidation : results.test_sets.front();
}

std::string set_in_words(const std::string& set) {
  return set == kCrossValidation ? "the validation folds (\"cv\")" : "test set \"" + set + "\"";
}

// "tumour (label 1)" or "foreground (mean over the foreground labels)".
std::string label_in_words(const StudyResults& results) {
  if (results.report_label == 0)
    return (results.label_name.empty() ? std::string("foreground") : results.label_name) +
           " (each case's mean over the foreground labels)";
  const std::string name = results.label_name.empty()
                               ? "label " + std::to_string(results.report_label)
                               : results.label_name;
  return name + " (label " + std::to_string(results.report_label) + ")";
}

std::string folds_in_words(const StudyResults& results) {
  const int folds = fold_count(results);
  return std::to_string(folds) + (folds == 1 ? " fold's model" : " folds' models");
}

// The per-case Dice of a run and of its baseline on one set, matched by (fold, case id).
struct PairedDice {
  std::vector<double> run, baseline;
};

PairedDice paired_dice(const StudyResults& results, const std::string& run,
                       const std::string& baseline, const std::string& set) {
  std::map<std::pair<int, std::string>, double> run_dice, baseline_dice;
  for (const auto& metric : results.metrics) {
    if (metric.set != set || metric.label != results.report_label) continue;
    auto* dice = metric.run == run ? &run_dice : metric.run == baseline ? &baseline_dice : nullptr;
    if (!dice) continue;
    const bool first =
        dice->emplace(std::make_pair(metric.fold, metric.case_id), metric.dice).second;
    MEDKD_CHECK(first, "run \"", metric.run, "\" has two Dice values of case \"", metric.case_id,
                "\" (fold ", metric.fold, ", set \"", set, "\", label ", metric.label, ")");
  }
  PairedDice pairs;
  for (const auto& [key, dice] : run_dice) {
    const auto match = baseline_dice.find(key);
    if (match == baseline_dice.end()) continue;
    pairs.run.push_back(dice);
    pairs.baseline.push_back(match->second);
  }
  return pairs;
}

struct BaselineComparison {
  metrics::PairedTest t_test, wilcoxon;
};

BaselineComparison compare_with_baseline(const StudyResults& results, const RunSummary& run,
                                         const std::string& set) {
  const PairedDice pairs = paired_dice(results, run.name, run.baseline, set);
  return {metrics::paired_t_test(pairs.run, pairs.baseline),
          metrics::wilcoxon_signed_rank(pairs.run, pairs.baseline)};
}

std::string teachers_cell(const RunSummary& run) {
  return run.teachers.empty() ? kNotApplicable : join_names(run.teachers);
}

// ---- the tables ----

// Teach-Former Table 1: cost and accuracy of every run on one test set.
Table test_set_table(const StudyResults& results, const std::string& set) {
  Table table;
  table.title = "Test set: " + set;
  table.note = "Dice, mIoU and HD95 of " + label_in_words(results) + " on the " +
               std::to_string(case_count(results, set)) + " cases of " + set_in_words(set) +
               ": mean ± sample std over the " + folds_in_words(results) +
               " (each the mean over the cases, NaN values left out). GFLOPs: one forward pass "
               "of one patch. Train: wall time of training, mean over folds.";
  table.header = {"Method", "Role", "Network",   "Params (M)", "GFLOPs",
                  "Dice",   "mIoU", "HD95 (mm)", "Train (min)"};
  for (const auto& run : results.runs) {
    if (!has_metrics(results, run.name, set)) continue;
    table.rows.push_back(
        {run.name, run.role, run.architecture, fixed(run.params_millions, 3), fixed(run.gflops, 2),
         mean_std_cell(report_score(results, run.name, set, Score::kDice), 3),
         mean_std_cell(report_score(results, run.name, set, Score::kIou), 3),
         mean_std_cell(report_score(results, run.name, set, Score::kHd95), 1),
         std::isnan(run.train_minutes) ? kNotApplicable : fixed(run.train_minutes, 1)});
  }
  return table;
}

Table cross_validation_table(const StudyResults& results) {
  const int folds = fold_count(results);
  Table table;
  table.title = "Cross-validation (validation folds)";
  table.note = "Dice of " + label_in_words(results) +
               " on each fold's validation cases (the mean over the fold's cases, NaN values "
               "left out), then the mean ± sample std over the folds.";
  table.header = {"Method"};
  for (int fold = 0; fold < folds; ++fold) table.header.push_back("fold " + std::to_string(fold));
  table.header.push_back("mean ± std");
  for (const auto& run : results.runs) {
    if (!has_metrics(results, run.name, kCrossValidation)) continue;
    const std::vector<double> scores =
        fold_scores(results, run.name, kCrossValidation, results.report_label, Score::kDice);
    std::vector<std::string> row = {run.name};
    for (double score : scores) row.push_back(fixed(score, 3));
    row.push_back(mean_std_cell(over_folds(scores), 3));
    table.rows.push_back(std::move(row));
  }
  return table;
}

Table per_label_table(const StudyResults& results) {
  const std::string set = headline_set(results);
  Table table;
  table.title =
      set == kCrossValidation ? "Per label: cross-validation" : "Per label: test set " + set;
  table.note = "Dice of each label on " + set_in_words(set) + ": mean ± sample std over the " +
               folds_in_words(results) +
               " (each the mean over the cases, NaN values left out); foreground: each case's "
               "mean over the foreground labels.";
  table.header = {"Method"};
  for (size_t label = 1; label < results.label_names.size(); ++label)
    table.header.push_back(results.label_names[label]);
  table.header.push_back("foreground");
  for (const auto& run : results.runs) {
    if (!has_metrics(results, run.name, set)) continue;
    std::vector<std::string> row = {run.name};
    for (size_t label = 1; label <= results.label_names.size(); ++label) {
      const int value = label == results.label_names.size() ? 0 : int(label);  // foreground last
      row.push_back(
          mean_std_cell(over_folds(fold_scores(results, run.name, set, value, Score::kDice)), 3));
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

// HLFD / Teach-Former ablations: each variant of a group against the baseline it names.
std::vector<Table> ablation_tables(const StudyResults& results) {
  const std::string set = headline_set(results);
  std::vector<std::string> groups;
  for (const auto& run : results.runs)
    if (!run.ablation.empty() &&
        std::find(groups.begin(), groups.end(), run.ablation) == groups.end())
      groups.push_back(run.ablation);

  std::vector<Table> tables;
  for (const auto& group : groups) {
    Table table;
    table.title = "Ablation: " + group;
    table.note = "Dice of " + label_in_words(results) + " on " + set_in_words(set) +
                 ": mean ± sample std over the " + folds_in_words(results) +
                 ". ΔDice: the run's mean over folds minus its baseline's. p: paired t-test and "
                 "Wilcoxon signed-rank test of per-case Dice against the baseline (* p < 0.05).";
    table.header = {"Method",     "Teachers",    "KD method", "Dice", "ΔDice vs baseline",
                    "p (t-test)", "p (Wilcoxon)"};
    // The baselines first, so that every variant reads against a row above it.
    std::vector<const RunSummary*> rows;
    auto add = [&](const RunSummary* run) {
      if (std::find(rows.begin(), rows.end(), run) == rows.end()) rows.push_back(run);
    };
    for (const auto& run : results.runs)
      if (run.ablation == group && !run.baseline.empty()) add(find_run(results, run.baseline));
    for (const auto& run : results.runs)
      if (run.ablation == group) add(&run);

    for (const RunSummary* run : rows) {
      const OverFolds dice = report_score(results, run->name, set, Score::kDice);
      std::vector<std::string> row = {run->name, teachers_cell(*run),
                                      run->method.empty() ? kNotApplicable : run->method,
                                      mean_std_cell(dice, 3)};
      if (run->ablation != group || run->baseline.empty()) {
        row.insert(row.end(), 3, kNotApplicable);
      } else {
        const OverFolds baseline = report_score(results, run->baseline, set, Score::kDice);
        const BaselineComparison tests = compare_with_baseline(results, *run, set);
        row.push_back(signed_fixed(dice.mean - baseline.mean, 3));
        row.push_back(p_value_cell(tests.t_test.p_value));
        row.push_back(p_value_cell(tests.wilcoxon.p_value));
      }
      table.rows.push_back(std::move(row));
    }
    tables.push_back(std::move(table));
  }
  return tables;
}

Table paired_tests_table(const StudyResults& results) {
  Table table;
  table.title = "Paired tests against the baseline";
  table.note = "Per-case Dice of " + label_in_words(results) +
               " of each run against its baseline, cases matched by fold and case id; pairs "
               "with a NaN are left out and n counts the pairs used. Mean ΔDice: run − baseline "
               "over the pairs. p: two-sided paired t-test and Wilcoxon signed-rank test (exact "
               "for n ≤ 50 without ties), not corrected for multiple comparisons; * marks "
               "p < 0.05.";
  table.header = {"Run", "Baseline", "Set", "n", "mean ΔDice", "p (t-test)", "p (Wilcoxon)"};
  std::vector<std::string> sets = results.test_sets;
  sets.push_back(kCrossValidation);
  for (const auto& run : results.runs) {
    if (run.baseline.empty()) continue;
    for (const auto& set : sets) {
      const PairedDice pairs = paired_dice(results, run.name, run.baseline, set);
      if (pairs.run.empty()) continue;  // the set was not scored for both runs
      const auto t_test = metrics::paired_t_test(pairs.run, pairs.baseline);
      const auto wilcoxon = metrics::wilcoxon_signed_rank(pairs.run, pairs.baseline);
      table.rows.push_back({run.name, run.baseline, set, std::to_string(t_test.n),
                            signed_fixed(t_test.mean_difference, 3), p_value_cell(t_test.p_value),
                            p_value_cell(wilcoxon.p_value)});
    }
  }
  return table;
}

// How close do distilled students come to their teachers at a fraction of the parameters?
Table distilled_table(const StudyResults& results) {
  const std::string set = headline_set(results);
  Table table;
  table.title = "Distilled students against their teachers";
  table.note = "Dice of " + label_in_words(results) + " on " + set_in_words(set) +
               ": mean ± sample std over the " + folds_in_words(results) +
               ". Compression: the teachers' mean parameters over the student's. Dice kept: the "
               "student's mean Dice as a share of the best teacher's (the teacher with the "
               "highest mean Dice).";
  table.header = {"Run",
                  "Params (M)",
                  "Teachers' mean Params (M)",
                  "Compression (×)",
                  "Dice",
                  "Best teacher's Dice",
                  "Dice kept (%)"};
  for (const auto& run : results.runs) {
    if (run.role != "distilled") continue;
    const OverFolds dice = report_score(results, run.name, set, Score::kDice);
    std::vector<std::string> row = {run.name, fixed(run.params_millions, 3)};
    if (run.teachers.empty()) {
      row.insert(row.end(), {kNotApplicable, kNotApplicable, mean_std_cell(dice, 3), kNotApplicable,
                             kNotApplicable});
      table.rows.push_back(std::move(row));
      continue;
    }
    double teacher_params = 0;
    const RunSummary* best = nullptr;
    OverFolds best_dice;
    for (const auto& name : run.teachers) {
      const RunSummary* teacher = find_run(results, name);
      teacher_params += teacher->params_millions;
      const OverFolds teacher_dice = report_score(results, name, set, Score::kDice);
      if (!best || (!std::isnan(teacher_dice.mean) &&
                    (std::isnan(best_dice.mean) || teacher_dice.mean > best_dice.mean))) {
        best = teacher;
        best_dice = teacher_dice;
      }
    }
    teacher_params /= double(run.teachers.size());
    row.push_back(fixed(teacher_params, 3));
    row.push_back(run.params_millions > 0 ? fixed(teacher_params / run.params_millions, 1) : "nan");
    row.push_back(mean_std_cell(dice, 3));
    row.push_back(mean_std_cell(best_dice, 3) +
                  (run.teachers.size() > 1 ? " (" + best->name + ")" : ""));
    row.push_back(fixed(100.0 * dice.mean / best_dice.mean, 1));
    table.rows.push_back(std::move(row));
  }
  return table;
}

// ---- writing ----

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string markdown_row(const std::vector<std::string>& cells) {
  std::string line = "|";
  for (const auto& cell : cells) line += " " + markdown_cell(cell) + " |";
  return line + "\n";
}

std::string csv_text(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// Shortest text that reads back as the same double; NaN is an empty cell.
std::string csv_number(double value) {
  if (std::isnan(value)) return "";
  char text[64];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

}  // namespace

std::vector<Table> make_tables(const StudyResults& results) {
  check_references(results);
  std::vector<Table> tables;
  auto add = [&](Table table) {
    if (!table.rows.empty()) tables.push_back(std::move(table));
  };
  for (const auto& set : results.test_sets) add(test_set_table(results, set));
  add(cross_validation_table(results));
  if (results.label_names.size() > 2) add(per_label_table(results));
  for (auto& table : ablation_tables(results)) add(std::move(table));
  add(paired_tests_table(results));
  add(distilled_table(results));
  return tables;
}

std::string tables_markdown(const StudyResults& results) {
  std::string text = "# " + results.name + "\n\n";
  if (!results.description.empty()) text += results.description + "\n\n";
  for (const auto& table : results.tables) {
    text += "## " + table.title + "\n\n";
    if (!table.note.empty()) text += table.note + "\n\n";
    text += markdown_row(table.header);
    text += "|";
    for (size_t column = 0; column < table.header.size(); ++column) text += " --- |";
    text += "\n";
    for (const auto& row : table.rows) {
      MEDKD_CHECK(row.size() == table.header.size(), "table \"", table.title, "\": a row has ",
                  row.size(), " cells for ", table.header.size(), " columns");
      text += markdown_row(row);
    }
    text += "\n";
  }
  return text;
}

std::string results_csv(const StudyResults& results) {
  std::string text = "run,role,fold,set,case,label,label_name,dice,iou,hd95,assd\n";
  for (const auto& metric : results.metrics) {
    const RunSummary* run = find_run(results, metric.run);
    MEDKD_CHECK(run, "results.csv: a metric of run \"", metric.run,
                "\", which is not a run of the study (runs: ", join_names(run_names(results)), ")");
    std::string label = "foreground", label_name = "foreground";
    if (metric.label != 0) {
      label = std::to_string(metric.label);
      label_name = metric.label > 0 && size_t(metric.label) < results.label_names.size()
                       ? results.label_names[metric.label]
                       : "";
    }
    text += csv_text(metric.run) + "," + csv_text(run->role) + "," + std::to_string(metric.fold) +
            "," + csv_text(metric.set) + "," + csv_text(metric.case_id) + "," + label + "," +
            csv_text(label_name) + "," + csv_number(metric.dice) + "," + csv_number(metric.iou) +
            "," + csv_number(metric.hd95) + "," + csv_number(metric.assd) + "\n";
  }
  return text;
}

}  // namespace medkd::experiment
