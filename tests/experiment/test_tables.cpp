#include "medkd/experiment/tables.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "medkd/core/error.h"

using medkd::experiment::CaseMetric;
using medkd::experiment::make_tables;
using medkd::experiment::results_csv;
using medkd::experiment::RunSummary;
using medkd::experiment::StudyResults;
using medkd::experiment::Table;
using medkd::experiment::tables_markdown;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Row = std::vector<std::string>;

void add_dice(StudyResults& study, const std::string& run, const std::string& set, int fold,
              const std::vector<std::string>& cases, const std::vector<double>& dice,
              const std::vector<double>& hd95) {
  for (size_t i = 0; i < cases.size(); ++i)
    study.metrics.push_back({run, fold, set, cases[i], 1, dice[i], dice[i] - 0.1, hd95[i], 1.0});
}

// Two folds, test cases a, b, c; validation cases t1, t2 (fold 0) and t3 (fold 1). The distilled
// run is the student plus per-case differences −0.01, 0.03, 0.04 (fold 0) and 0.02, 0.05, 0.08
// (fold 1) on the test set, so that every |difference| is distinct.
StudyResults tiny_study() {
  StudyResults study;
  study.name = "Tiny study";
  study.description = "Two folds, three cases.";
  study.report_label = 1;
  study.label_name = "tumour";
  study.folds = 2;
  study.test_sets = {"test"};
  study.label_names = {"background", "tumour"};

  RunSummary teacher;
  teacher.name = teacher.role = "teacher";
  teacher.architecture = "swin_unetr";
  teacher.params_millions = 10;
  teacher.gflops = 50;
  teacher.train_minutes = 12.5;
  RunSummary student;
  student.name = student.role = "student";
  student.architecture = "unet";
  student.params_millions = 1.25;
  student.gflops = 6.25;
  student.train_minutes = kNaN;
  RunSummary distilled = student;
  distilled.name = distilled.role = "distilled";
  distilled.ablation = "teacher subset";
  distilled.teachers = {"teacher"};
  distilled.method = "pixel_kl";
  distilled.baseline = "student";
  distilled.train_minutes = 20;
  study.runs = {teacher, student, distilled};

  const std::vector<std::string> test_cases = {"a", "b", "c"};
  add_dice(study, "teacher", "test", 0, test_cases, {0.90, 0.80, 0.70}, {2, 4, kNaN});
  add_dice(study, "teacher", "test", 1, test_cases, {0.92, 0.82, 0.72}, {3, 5, 7});
  add_dice(study, "student", "test", 0, test_cases, {0.70, 0.60, 0.50}, {5, 5, 5});
  add_dice(study, "student", "test", 1, test_cases, {0.74, 0.64, 0.54}, {5, 5, 5});
  add_dice(study, "distilled", "test", 0, test_cases, {0.69, 0.63, 0.54}, {5, 5, 5});
  add_dice(study, "distilled", "test", 1, test_cases, {0.76, 0.69, 0.62}, {5, 5, 5});

  add_dice(study, "teacher", "cv", 0, {"t1", "t2"}, {0.9, 0.7}, {1, 1});
  add_dice(study, "teacher", "cv", 1, {"t3"}, {0.6}, {1});
  add_dice(study, "student", "cv", 0, {"t1", "t2"}, {0.5, 0.7}, {1, 1});
  add_dice(study, "student", "cv", 1, {"t3"}, {0.4}, {1});
  add_dice(study, "distilled", "cv", 0, {"t1", "t2"}, {0.6, kNaN}, {1, kNaN});
  add_dice(study, "distilled", "cv", 1, {"t3"}, {0.55}, {1});
  return study;
}

Table table_titled(const std::vector<Table>& tables, const std::string& title) {
  for (const auto& table : tables)
    if (table.title == title) return table;
  throw std::runtime_error("no table titled " + title);
}

Row row_of(const Table& table, const std::string& first_cell) {
  for (const auto& row : table.rows)
    if (!row.empty() && row[0] == first_cell) return row;
  return {};
}

std::vector<std::string> titles(const std::vector<Table>& tables) {
  std::vector<std::string> out;
  for (const auto& table : tables) out.push_back(table.title);
  return out;
}
}  // namespace

TEST(Tables, AreMadeInThePapersOrderLeavingOutEmptyOnes) {
  // One foreground label: no per-label table.
  EXPECT_EQ(
      titles(make_tables(tiny_study())),
      (std::vector<std::string>{"Test set: test", "Cross-validation (validation folds)", "Teachers",
                                "Ablation: teacher subset", "Paired tests against the baseline",
                                "Distilled students against their teachers"}));
}

TEST(Tables, TestSetCellsAreTheMeanAndSampleStdOfTheFoldMeans) {
  const Table table = table_titled(make_tables(tiny_study()), "Test set: test");
  EXPECT_EQ(table.header, (Row{"Method", "Role", "Network", "Params (M)", "GFLOPs", "Dice", "mIoU",
                               "HD95 (mm)", "Train (min)"}));
  ASSERT_EQ(table.rows.size(), 3u);
  // Teacher Dice: fold means 0.80 and 0.82, std = √(0.01² + 0.01²) = 0.0141. HD95 of fold 0
  // leaves out case c's NaN: (2 + 4) / 2 = 3, fold 1 (3 + 5 + 7) / 3 = 5, std √2 = 1.41.
  EXPECT_EQ(table.rows[0], (Row{"teacher", "teacher", "swin_unetr", "10.000", "50.00",
                                "0.810 ± 0.014", "0.710 ± 0.014", "4.0 ± 1.4", "12.5"}));
  // Student: fold means 0.60 and 0.64; its training time is unknown.
  EXPECT_EQ(table.rows[1], (Row{"student", "student", "unet", "1.250", "6.25", "0.620 ± 0.028",
                                "0.520 ± 0.028", "5.0 ± 0.0", "–"}));
  EXPECT_EQ(table.rows[2][5], "0.655 ± 0.049");  // fold means 0.62 and 0.69
  EXPECT_NE(table.note.find("tumour (label 1)"), std::string::npos);
  EXPECT_NE(table.note.find("3 cases"), std::string::npos);
  EXPECT_NE(table.note.find("2 folds' models"), std::string::npos);
}

TEST(Tables, CrossValidationHasOneColumnPerFoldAndLeavesOutNaNCases) {
  const Table table =
      table_titled(make_tables(tiny_study()), "Cross-validation (validation folds)");
  EXPECT_EQ(table.header, (Row{"Method", "fold 0", "fold 1", "mean ± std"}));
  // (0.9 + 0.7) / 2 = 0.8 and 0.6: std = √(0.1² + 0.1²) = 0.141.
  EXPECT_EQ(row_of(table, "teacher"), (Row{"teacher", "0.800", "0.600", "0.700 ± 0.141"}));
  // Case t2 of fold 0 has no Dice: fold 0 is case t1 alone.
  EXPECT_EQ(row_of(table, "distilled"), (Row{"distilled", "0.600", "0.550", "0.575 ± 0.035"}));
}

TEST(Tables, AnAblationListsItsBaselineFirstWithTheDiceDifference) {
  const Table table = table_titled(make_tables(tiny_study()), "Ablation: teacher subset");
  EXPECT_EQ(table.header, (Row{"Method", "Teachers", "KD method", "Dice", "ΔDice vs baseline",
                               "p (t-test)", "p (Wilcoxon)"}));
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0], (Row{"student", "–", "–", "0.620 ± 0.028", "–", "–", "–"}));
  // ΔDice = 0.655 − 0.620; the p-values are those of the paired tests on the test set.
  EXPECT_EQ(table.rows[1],
            (Row{"distilled", "teacher", "pixel_kl", "0.655 ± 0.049", "+0.035", "0.161", "0.250"}));
}

TEST(Tables, PairedTestsAverageEachCaseOverTheFoldModelsBeforePairing) {
  const Table table = table_titled(make_tables(tiny_study()), "Paired tests against the baseline");
  EXPECT_EQ(table.header,
            (Row{"Run", "Baseline", "Comparison", "Set", "n", "mean ΔDice", "95% CI", "p (t-test)",
                 "p (Wilcoxon)", "p Holm (t)", "MDE (80%)", "seeds: ΔDice", "seeds: p (t)"}));
  ASSERT_EQ(table.rows.size(), 2u);
  // Test set: each case's Dice is the mean of its two fold models, so a: 0.725 − 0.720 = 0.005,
  // b: 0.66 − 0.62 = 0.04, c: 0.58 − 0.52 = 0.06 (3 cases, not 6 pairs). Mean 0.035, sd 0.02784,
  // t = 2.1776 with 2 degrees of freedom, for which p = 1 − t/√(t² + 2) = 0.1613. Wilcoxon: all
  // three positive, W = 0, p = 2 · 1/8. MDE: (t_{0.975,2} + t_{0.8,2}) · sd/√3 = (4.3027 +
  // 1.0607) · 0.02784 / √3 = 0.086. One run per set: Holm leaves p as it is.
  const Row test = table.rows[0];
  EXPECT_EQ((Row{test[0], test[1], test[2], test[3], test[4], test[5]}),
            (Row{"distilled", "student", "–", "test", "3", "+0.035"}));
  EXPECT_EQ((Row{test[7], test[8], test[9], test[10], test[11], test[12]}),
            (Row{"0.161", "0.250", "0.161", "0.086", "–", "–"}));
  // The bootstrap interval lies within the smallest and largest difference and holds the mean.
  EXPECT_EQ(test[6].front(), '[');
  const double low = std::stod(test[6].substr(1)), high = std::stod(test[6].substr(8));
  EXPECT_GE(low, 0.005);
  EXPECT_LT(low, 0.035);
  EXPECT_GT(high, 0.035);
  EXPECT_LE(high, 0.06);
  // Validation folds: each case is scored once; t2's pair is left out (NaN), d = 0.1 and 0.15:
  // t = 0.125 / (0.0354 / √2) = 5 with 1 degree of freedom, p = 1 − (2/π) atan 5 = 0.1257;
  // Wilcoxon W = 0, p = 2 · 1/4.
  const Row cv = table.rows[1];
  EXPECT_EQ((Row{cv[3], cv[4], cv[5], cv[7], cv[8]}), (Row{"cv", "2", "+0.125", "0.126", "0.500"}));
  EXPECT_NE(table.note.find("* marks p < 0.05"), std::string::npos);
}

TEST(Tables, SeedsAreAveragedPerCaseAndTestedOnTheirOwn) {
  StudyResults study = tiny_study();
  study.seeds = 2;
  // Seed 1 of each student: the seed-0 Dice (the study's) plus 0.02 (student) or 0.04
  // (distilled) on every test case.
  std::vector<CaseMetric> more;
  for (auto& m : study.metrics) {
    if (m.run == "teacher") continue;
    m.seed = 0;
    CaseMetric other = m;
    other.seed = 1;
    if (m.set == "test") other.dice += m.run == "student" ? 0.02 : 0.04;
    more.push_back(other);
  }
  study.metrics.insert(study.metrics.end(), more.begin(), more.end());
  const auto tables = make_tables(study);
  const Table table = table_titled(tables, "Paired tests against the baseline");
  // Per case, the distilled − student difference is the seed-0 one plus (0.04 − 0.02) / 2.
  EXPECT_EQ(table.rows[0][4], "3");
  EXPECT_EQ(table.rows[0][5], "+0.045");
  // Over seeds: seed 0 differs by 0.035, seed 1 by 0.055: two seeds, t = 0.045 / (0.01414 / √2)
  // = 4.5 with 1 degree of freedom, p = 1 − (2/π) atan 4.5 = 0.139.
  EXPECT_EQ(table.rows[0][11], "+0.045 (n 2)");
  EXPECT_EQ(table.rows[0][12], "0.139");
  // The test-set cell is over the 4 student models (2 folds × 2 seeds).
  EXPECT_NE(table_titled(tables, "Test set: test").note.find("4 models, 2 seeds per fold"),
            std::string::npos);
  EXPECT_EQ(row_of(table_titled(tables, "Test set: test"), "student")[5], "0.630 ± 0.026");
}

TEST(Tables, HolmCorrectsOverTheRunsOfASetAndThePrimaryComesFirst) {
  StudyResults study = tiny_study();
  RunSummary second = study.runs[2];
  second.name = "distilled twice";
  study.runs.push_back(second);
  // The same Dice as "distilled" on the test set, plus 0.001 on case a.
  for (const auto& m : std::vector<CaseMetric>(study.metrics))
    if (m.run == "distilled" && m.set == "test") {
      CaseMetric copy = m;
      copy.run = second.name;
      if (m.case_id == "a") copy.dice += 0.001;
      study.metrics.push_back(copy);
    }
  study.primary = "distilled";
  const auto tables = make_tables(study);
  EXPECT_EQ(titles(tables).front(), "Primary comparison");
  const Table primary = table_titled(tables, "Primary comparison");
  ASSERT_EQ(primary.rows.size(), 2u);  // the test set and cv
  EXPECT_EQ(primary.rows[0][2], "primary");
  const Table all = table_titled(tables, "Paired tests against the baseline");
  const Row first = row_of(all, "distilled"), twice = row_of(all, "distilled twice");
  EXPECT_EQ(twice[2], "secondary");
  // Two runs on the test set: the smaller p is doubled, the larger kept (and at least that).
  const double p1 = std::stod(first[7]), p2 = std::stod(twice[7]);
  const double holm1 = std::stod(first[9]), holm2 = std::stod(twice[9]);
  EXPECT_NEAR(std::min(holm1, holm2), 2 * std::min(p1, p2), 2e-3);
  EXPECT_NEAR(std::max(holm1, holm2), std::max(2 * std::min(p1, p2), std::max(p1, p2)), 2e-3);
}

TEST(Tables, TeachersShowConvergenceAndTheGateAndAFailedGateHidesDiceKept) {
  StudyResults study = tiny_study();
  medkd::experiment::TrainingCurve curve{"teacher", 0, {}};
  // Epochs 1 … 8, validation every other epoch: 0.2, 0.5, 0.6, 0.605. At 75% (epoch 6): 0.6.
  const double val[] = {kNaN, 0.2, kNaN, 0.5, kNaN, 0.6, kNaN, 0.605};
  for (int e = 0; e < 8; ++e) curve.points.push_back({e + 1, 1.0, val[e]});
  study.curves.push_back(curve);
  study.gate = {{"teacher", "student", 0.70, 0.53, 0.05}};
  Table table = table_titled(make_tables(study), "Teachers");
  EXPECT_EQ(table.rows[0], (Row{"teacher", "8", "0.605", "0.605", "+0.005", "yes", "student",
                                "+0.170 (0.050)", "passed"}));
  EXPECT_EQ(row_of(table_titled(make_tables(study), "Distilled students against their teachers"),
                   "distilled")[6],
            "80.9");
  study.gate[0].teacher_dice = 0.55;
  table = table_titled(make_tables(study), "Teachers");
  EXPECT_EQ(table.rows[0][8], "failed");
  EXPECT_EQ(row_of(table_titled(make_tables(study), "Distilled students against their teachers"),
                   "distilled")[6],
            "–");
}

TEST(Tables, DistilledStudentsAreComparedWithTheirTeachers) {
  const Table table =
      table_titled(make_tables(tiny_study()), "Distilled students against their teachers");
  ASSERT_EQ(table.rows.size(), 1u);
  // 10 M / 1.25 M = 8× fewer parameters; 0.655 / 0.810 = 80.9 % of the teacher's Dice.
  EXPECT_EQ(table.rows[0],
            (Row{"distilled", "1.250", "10.000", "8.0", "0.655 ± 0.049", "0.810 ± 0.014", "80.9"}));
}

TEST(Tables, TheBestOfSeveralTeachersIsNamed) {
  StudyResults study = tiny_study();
  RunSummary weaker = study.runs[0];
  weaker.name = "weaker teacher";
  weaker.params_millions = 5;
  study.runs.push_back(weaker);
  study.runs[2].teachers = {"weaker teacher", "teacher"};
  add_dice(study, "weaker teacher", "test", 0, {"a"}, {0.3}, {1});
  const Table table = table_titled(make_tables(study), "Distilled students against their teachers");
  // Mean parameters (5 + 10) / 2 = 7.5 M, 7.5 / 1.25 = 6×.
  EXPECT_EQ(table.rows[0], (Row{"distilled", "1.250", "7.500", "6.0", "0.655 ± 0.049",
                                "0.810 ± 0.014 (teacher)", "80.9"}));
}

TEST(Tables, PerLabelTableAppearsWithSeveralForegroundLabels) {
  StudyResults study = tiny_study();
  study.label_names = {"background", "tumour", "oedema"};
  for (int fold = 0; fold < 2; ++fold) {
    study.metrics.push_back({"teacher", fold, "test", "a", 2, 0.4 + 0.2 * fold, 0, 0, 0});
    study.metrics.push_back({"teacher", fold, "test", "a", 0, 0.5, 0, 0, 0});
  }
  const auto tables = make_tables(study);
  const Table table = table_titled(tables, "Per label: test set test");
  EXPECT_EQ(titles(tables)[2], "Per label: test set test");
  EXPECT_EQ(table.header, (Row{"Method", "tumour", "oedema", "foreground"}));
  // Oedema: folds 0.4 and 0.6, std = √(0.1² + 0.1²); foreground 0.5 in both folds.
  EXPECT_EQ(row_of(table, "teacher"),
            (Row{"teacher", "0.810 ± 0.014", "0.500 ± 0.141", "0.500 ± 0.000"}));
  EXPECT_EQ(row_of(table, "student"), (Row{"student", "0.620 ± 0.028", "nan", "nan"}));
}

TEST(Tables, AOneFoldCellHasNoStd) {
  StudyResults study = tiny_study();
  study.folds = 1;
  std::vector<CaseMetric> fold_zero;
  for (const auto& metric : study.metrics)
    if (metric.fold == 0) fold_zero.push_back(metric);
  study.metrics = fold_zero;
  const auto tables = make_tables(study);
  EXPECT_EQ(row_of(table_titled(tables, "Test set: test"), "teacher")[5], "0.800");
  EXPECT_EQ(table_titled(tables, "Cross-validation (validation folds)").header,
            (Row{"Method", "fold 0", "mean ± std"}));
  EXPECT_NE(table_titled(tables, "Test set: test").note.find("1 fold's model"), std::string::npos);
}

TEST(Tables, AnUnknownBaselineIsAnErrorNamingBothRuns) {
  StudyResults study = tiny_study();
  study.runs[2].baseline = "nobody";
  try {
    make_tables(study);
    FAIL() << "expected medkd::Error";
  } catch (const medkd::Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("\"distilled\""), std::string::npos) << message;
    EXPECT_NE(message.find("\"nobody\""), std::string::npos) << message;
  }
}

TEST(TablesMarkdown, WritesTitleDescriptionNotesAndEscapesPipes) {
  StudyResults study;
  study.name = "Tiny study";
  study.description = "Two folds.";
  study.tables = {{"First", "A note.", {"Method", "Dice"}, {{"a|b", "0.500"}}},
                  {"Second", "", {"x"}, {{"1"}}}};
  EXPECT_EQ(tables_markdown(study),
            "# Tiny study\n\nTwo folds.\n\n"
            "## First\n\nA note.\n\n| Method | Dice |\n| --- | --- |\n| a\\|b | 0.500 |\n\n"
            "## Second\n\n| x |\n| --- |\n| 1 |\n\n");
}

TEST(TablesMarkdown, RendersTheTablesOfAStudy) {
  StudyResults study = tiny_study();
  study.tables = make_tables(study);
  const std::string markdown = tables_markdown(study);
  EXPECT_EQ(markdown.rfind("# Tiny study\n\nTwo folds, three cases.\n\n## Test set: test\n\n", 0),
            0u);
  EXPECT_NE(markdown.find("| distilled | student | – | test | 3 | +0.035 | ["), std::string::npos)
      << markdown;
}

TEST(TablesMarkdown, ARowOfTheWrongWidthIsAnError) {
  StudyResults study;
  study.tables = {{"Broken", "", {"a", "b"}, {{"only one"}}}};
  EXPECT_THROW(tables_markdown(study), medkd::Error);
}

TEST(ResultsCsv, QuotesNamesWritesLabelZeroAsForegroundAndLeavesNoSeedEmpty) {
  StudyResults study;
  study.label_names = {"background", "liver, left lobe"};
  RunSummary run;
  run.name = "unet \"small\"";
  run.role = "student";
  study.runs = {run};
  study.metrics = {{run.name, 1, "test", "case,1", 1, 0.5, 0.25, kNaN, 1.5},
                   {run.name, 1, "test", "case,1", 0, 0.75, 0.6, 2, 0.125, 3}};
  EXPECT_EQ(
      results_csv(study),
      "run,role,fold,seed,set,case,label,label_name,dice,iou,hd95,assd\n"
      "\"unet \"\"small\"\"\",student,1,,test,\"case,1\",1,\"liver, left lobe\",0.5,0.25,,1.5\n"
      "\"unet \"\"small\"\"\",student,1,3,test,\"case,1\",foreground,foreground,0.75,0.6,2,"
      "0.125\n");
}

TEST(ResultsCsv, AMetricOfAnUnknownRunIsAnError) {
  StudyResults study = tiny_study();
  study.metrics[0].run = "ghost";
  EXPECT_THROW(results_csv(study), medkd::Error);
}
