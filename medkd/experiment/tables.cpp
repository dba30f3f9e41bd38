#include "medkd/experiment/tables.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "medkd/core/error.h"
#include "medkd/experiment/paired_comparison.h"
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

// One trained model of a run: its fold and, for runs trained per seed, its seed (−1 otherwise).
using Model = std::pair<int, int>;

// A run's score on a set, one entry per model that has one: the mean over the model's cases of
// the values that are not NaN.
std::map<Model, double> model_scores(const StudyResults& results, const std::string& run,
                                     const std::string& set, int label, Score score) {
  std::map<Model, std::pair<double, int>> sums;
  for (const auto& metric : results.metrics) {
    if (metric.run != run || metric.set != set || metric.label != label || metric.fold < 0)
      continue;
    const double value = score_of(metric, score);
    if (std::isnan(value)) continue;
    auto& sum = sums[{metric.fold, metric.seed}];
    sum.first += value;
    ++sum.second;
  }
  std::map<Model, double> means;
  for (const auto& [model, sum] : sums) means[model] = sum.first / sum.second;
  return means;
}

std::vector<double> values_of(const std::map<Model, double>& scores) {
  std::vector<double> values;
  for (const auto& [model, value] : scores) values.push_back(value);
  return values;
}

OverFolds report_score(const StudyResults& results, const std::string& run, const std::string& set,
                       Score score) {
  return over_folds(values_of(model_scores(results, run, set, results.report_label, score)));
}

// The folds that have a metric, ascending.
std::vector<int> folds_present(const StudyResults& results) {
  std::set<int> folds;
  for (const auto& metric : results.metrics)
    if (metric.fold >= 0) folds.insert(metric.fold);
  return {folds.begin(), folds.end()};
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
  MEDKD_CHECK(results.primary.empty() || find_run(results, results.primary),
              "the primary comparison names run \"", results.primary,
              "\", which is not a run of the study (runs: ", join_names(run_names(results)), ")");
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

std::string models_in_words(const StudyResults& results) {
  const int folds = int(folds_present(results).size());
  std::string text = std::to_string(folds) + (folds == 1 ? " fold's model" : " folds' models");
  if (results.seeds > 1)
    text += " (students: " + std::to_string(folds * results.seeds) + " models, " +
            std::to_string(results.seeds) + " seeds per fold)";
  return text;
}

std::string teachers_cell(const RunSummary& run) {
  return run.teachers.empty() ? kNotApplicable : join_names(run.teachers);
}

std::string interval_cell(const metrics::Interval& interval) {
  if (std::isnan(interval.low)) return "nan";
  return "[" + signed_fixed(interval.low, 3) + ", " + signed_fixed(interval.high, 3) + "]";
}

// The gate check of a teacher and a student; nullptr when the study has none for them.
const GateCheck* gate_of(const StudyResults& results, const std::string& teacher,
                         const std::string& student) {
  for (const auto& check : results.gate)
    if (check.teacher == teacher && check.student == student) return &check;
  return nullptr;
}

// The student a run started from: for a distilled run, its baseline when that is a student.
std::string student_of(const StudyResults& results, const RunSummary& run) {
  const RunSummary* baseline = find_run(results, run.baseline);
  return baseline && baseline->role == "student" ? baseline->name : "";
}

// ---- the tables ----

// Teach-Former Table 1: cost and accuracy of every run on one test set.
Table test_set_table(const StudyResults& results, const std::string& set) {
  Table table;
  table.title = "Test set: " + set;
  table.note = "Dice, mIoU and HD95 of " + label_in_words(results) + " on the " +
               std::to_string(case_count(results, set)) + " cases of " + set_in_words(set) +
               ": mean ± sample std over the " + models_in_words(results) +
               " (each the mean over the cases, NaN values left out). GFLOPs: one forward pass "
               "of one patch. Train: wall time of training, mean over models.";
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
  const std::vector<int> folds = folds_present(results);
  Table table;
  table.title = "Cross-validation (validation folds)";
  table.note = "Dice of " + label_in_words(results) +
               " on each fold's validation cases (the mean over the fold's cases, NaN values "
               "left out" +
               (results.seeds > 1 ? ", then over a student's seeds" : std::string()) +
               "), then the mean ± sample std over the folds.";
  table.header = {"Method"};
  for (int fold : folds) table.header.push_back("fold " + std::to_string(fold));
  table.header.push_back("mean ± std");
  for (const auto& run : results.runs) {
    if (!has_metrics(results, run.name, kCrossValidation)) continue;
    std::map<int, std::pair<double, int>> by_fold;  // mean over the fold's seeds
    for (const auto& [model, score] :
         model_scores(results, run.name, kCrossValidation, results.report_label, Score::kDice)) {
      by_fold[model.first].first += score;
      ++by_fold[model.first].second;
    }
    std::vector<double> scores;
    for (int fold : folds)
      scores.push_back(by_fold.count(fold) ? by_fold[fold].first / by_fold[fold].second : kNaN);
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
               models_in_words(results) +
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
      row.push_back(mean_std_cell(
          over_folds(values_of(model_scores(results, run.name, set, value, Score::kDice))), 3));
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

// Has the teacher learnt what it can? From each teacher's validation curve; and the gate.
Table teachers_table(const StudyResults& results) {
  Table table;
  table.title = "Teachers";
  table.note =
      "Validation Dice during training (each fold's curve; the mean over folds). Gain: the "
      "validation Dice at the end minus that at 75% of the epochs; a teacher counts as converged "
      "when the last quarter of its training gained less than 0.01. Gate: the teacher's "
      "validation Dice (" +
      label_in_words(results) +
      ", validation cases) minus that of the student trained alone, which must be at least the "
      "margin before any distillation trains.";
  table.header = {"Teacher",
                  "Epochs",
                  "Best validation Dice",
                  "Last validation Dice",
                  "Gain, last quarter",
                  "Converged",
                  "Student alone",
                  "Gate: Δ (margin)",
                  "Gate"};
  for (const auto& run : results.runs) {
    if (run.role != "teacher") continue;
    double best = kNaN, last = kNaN, gain = kNaN;
    int64_t epochs = 0;
    int curves = 0;
    for (const auto& curve : results.curves) {
      if (curve.run != run.name) continue;
      std::vector<std::pair<int64_t, double>> points;
      for (const auto& p : curve.points)
        if (!std::isnan(p.val_dice)) points.emplace_back(p.epoch, p.val_dice);
      if (curve.points.empty() || points.empty()) continue;
      const int64_t end = curve.points.back().epoch;
      epochs = std::max(epochs, end);
      double curve_best = points.front().second, at_three_quarters = kNaN;
      for (const auto& [epoch, dice] : points) {
        curve_best = std::max(curve_best, dice);
        if (4 * epoch <= 3 * end) at_three_quarters = dice;
      }
      const auto add = [&](double& sum, double v) { sum = std::isnan(sum) ? v : sum + v; };
      add(best, curve_best);
      add(last, points.back().second);
      add(gain, points.back().second - at_three_quarters);
      ++curves;
    }
    if (curves > 0) {
      best /= curves;
      last /= curves;
      gain /= curves;
    }
    std::vector<std::string> row = {run.name,
                                    curves ? std::to_string(epochs) : kNotApplicable,
                                    curves ? fixed(best, 3) : kNotApplicable,
                                    curves ? fixed(last, 3) : kNotApplicable,
                                    std::isnan(gain) ? kNotApplicable : signed_fixed(gain, 3),
                                    std::isnan(gain) ? "unknown"
                                    : gain < 0.01    ? "yes"
                                                     : "no"};
    bool gated = false;
    for (const auto& check : results.gate) {
      if (check.teacher != run.name) continue;
      std::vector<std::string> gate_row = row;
      gate_row.push_back(check.student);
      gate_row.push_back(signed_fixed(check.teacher_dice - check.student_dice, 3) + " (" +
                         fixed(check.margin, 3) + ")");
      gate_row.push_back(check.passed() ? "passed" : "failed");
      table.rows.push_back(std::move(gate_row));
      gated = true;
    }
    if (!gated) {
      row.insert(row.end(), 3, kNotApplicable);
      table.rows.push_back(std::move(row));
    }
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
                 ": mean ± sample std over the " + models_in_words(results) +
                 ". ΔDice: the run's mean over its models minus its baseline's. p: paired t-test "
                 "and Wilcoxon signed-rank test of per-case Dice (each case averaged over a "
                 "run's models) against the baseline, uncorrected (* p < 0.05).";
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
        const Comparison tests = compare(results, run->name, run->baseline, set);
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

// Every run with a baseline, on every set: the evidence, with Holm's correction over the runs
// compared on a set. With `primary_only`, the primary comparison alone (on every set).
Table paired_tests_table(const StudyResults& results, bool primary_only) {
  Table table;
  table.title = primary_only ? "Primary comparison" : "Paired tests against the baseline";
  table.note =
      "Per-case Dice of " + label_in_words(results) +
      " of a run against its baseline. Each case's Dice is first averaged over the run's models "
      "(seeds, and the fold models on a test set), so that no case counts twice; n counts the "
      "cases paired (a pair with a NaN is left out). Mean ΔDice: run − baseline; 95% CI: "
      "percentile bootstrap over cases (" +
      std::to_string(kBootstrapResamples) +
      " resamples, fixed seed). p: two-sided paired t-test and Wilcoxon signed-rank test (exact "
      "for n ≤ 50 without ties); Holm: corrected over the runs of this table on the same set; * "
      "marks p < 0.05. MDE: the smallest true difference a paired t-test at 0.05 would detect "
      "with 80% power, from the observed SD of the differences. Seeds: the paired t-test of each "
      "seed's mean Dice (n = seeds).";
  if (!results.primary.empty())
    table.note += " The study declared \"" + results.primary +
                  "\" against its baseline as its primary comparison before the test set was "
                  "scored; the other runs are secondary.";
  table.header = {"Run",        "Baseline",     "Comparison",  "Set",          "n",
                  "mean ΔDice", "95% CI",       "p (t-test)",  "p (Wilcoxon)", "p Holm (t)",
                  "MDE (80%)",  "seeds: ΔDice", "seeds: p (t)"};
  std::vector<std::string> sets = results.test_sets;
  sets.push_back(kCrossValidation);
  for (const auto& set : sets) {
    std::vector<const RunSummary*> runs;
    std::vector<Comparison> comparisons;
    for (const auto& run : results.runs) {
      if (run.baseline.empty() || !has_metrics(results, run.name, set) ||
          !has_metrics(results, run.baseline, set))
        continue;
      runs.push_back(&run);
      comparisons.push_back(compare(results, run.name, run.baseline, set));
    }
    std::vector<double> p;
    for (const auto& c : comparisons) p.push_back(c.t_test.p_value);
    const std::vector<double> holm = metrics::holm_adjusted(p);
    for (size_t i = 0; i < runs.size(); ++i) {
      const bool primary = runs[i]->name == results.primary;
      if (primary_only && !primary) continue;
      const Comparison& c = comparisons[i];
      const bool seeded = c.seeds.n > 0;
      table.rows.push_back(
          {runs[i]->name, runs[i]->baseline,
           results.primary.empty() ? kNotApplicable
           : primary               ? "primary"
                                   : "secondary",
           set, std::to_string(c.t_test.n), signed_fixed(c.t_test.mean_difference, 3),
           interval_cell(c.interval), p_value_cell(c.t_test.p_value),
           p_value_cell(c.wilcoxon.p_value), p_value_cell(holm[i]), fixed(c.detectable, 3),
           seeded
               ? signed_fixed(c.seeds.mean_difference, 3) + " (n " + std::to_string(c.seeds.n) + ")"
               : kNotApplicable,
           seeded ? p_value_cell(c.seeds.p_value) : kNotApplicable});
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
               ": mean ± sample std over the " + models_in_words(results) +
               ". Compression: the teachers' mean parameters over the student's. Dice kept: the "
               "student's mean Dice as a share of the best teacher's (the teacher with the "
               "highest mean Dice); \"–\" when that teacher is below the gate (its validation "
               "Dice less than the gate's margin above the student trained alone's), where a "
               "share would say nothing.";
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
    const GateCheck* gate = gate_of(results, best->name, student_of(results, run));
    row.push_back(fixed(teacher_params, 3));
    row.push_back(run.params_millions > 0 ? fixed(teacher_params / run.params_millions, 1) : "nan");
    row.push_back(mean_std_cell(dice, 3));
    row.push_back(mean_std_cell(best_dice, 3) +
                  (run.teachers.size() > 1 ? " (" + best->name + ")" : ""));
    row.push_back(gate && !gate->passed() ? kNotApplicable
                                          : fixed(100.0 * dice.mean / best_dice.mean, 1));
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
  if (!results.primary.empty()) add(paired_tests_table(results, true));
  for (const auto& set : results.test_sets) add(test_set_table(results, set));
  add(cross_validation_table(results));
  if (results.label_names.size() > 2) add(per_label_table(results));
  add(teachers_table(results));
  for (auto& table : ablation_tables(results)) add(std::move(table));
  add(paired_tests_table(results, false));
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
  std::string text = "run,role,fold,seed,set,case,label,label_name,dice,iou,hd95,assd\n";
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
            "," + (metric.seed >= 0 ? std::to_string(metric.seed) : std::string()) + "," +
            csv_text(metric.set) + "," + csv_text(metric.case_id) + "," + label + "," +
            csv_text(label_name) + "," + csv_number(metric.dice) + "," + csv_number(metric.iou) +
            "," + csv_number(metric.hd95) + "," + csv_number(metric.assd) + "\n";
  }
  return text;
}

}  // namespace medkd::experiment
