// The tables of a finished study in the layouts of the papers it reproduces (Teach-Former's
// Table 1, the HLFD / Teach-Former ablations), made from its per-case metrics, and the two files
// `medkd experiment` writes from them: tables.md and results.csv.
//
// How a cell is aggregated:
//  - A run's score on a set for one fold is the mean, over that fold's cases, of the CaseMetric
//    with label == results.report_label; NaN values (HD95 of an empty mask, Dice where both masks
//    are empty) are left out, and a fold without any value has no score.
//  - The cell is the mean ± sample standard deviation (n − 1) over the folds that have a score:
//    "0.810 ± 0.014". With one such fold it is the mean alone; with none it is "nan".
//  - Decimals: Dice and mIoU 3, HD95 (mm) 1, Params (M) 3, GFLOPs 2, minutes 1, ΔDice 3 with its
//    sign; p-values have 3 significant digits and " *" when p < 0.05. "–" marks a cell that does
//    not apply (no teachers, no baseline, unknown training time); "nan" a value that is undefined.
//  - ΔDice vs the baseline (ablation tables) is the run's mean over folds minus the baseline's.
//  - Paired tests pair the run's and its baseline's per-case Dice (label report_label) by
//    (fold, case id) on one set; a pair with a NaN is left out by the tests themselves
//    (medkd/metrics/significance.h), and n is the number of pairs used.
//
// The tables, in order (a table without rows is left out):
//  1. "Test set: NAME" for each test set: Method | Role | Network | Params (M) | GFLOPs | Dice |
//     mIoU | HD95 (mm) | Train (min), one row per run evaluated on that set.
//  2. "Cross-validation (validation folds)": Method | fold 0 | … | mean ± std, Dice on set "cv".
//  3. "Per label: test set NAME" (first test set, only with more than one foreground label):
//     Method | one Dice column per label name | foreground.
//  4. "Ablation: GROUP" for each distinct RunSummary::ablation: Method | Teachers | KD method |
//     Dice | ΔDice vs baseline | p (t-test) | p (Wilcoxon), the baselines the group's runs
//     reference first, then the group's runs.
//  5. "Paired tests against the baseline": Run | Baseline | Set | n | mean ΔDice | p (t-test) |
//     p (Wilcoxon), for each run with a baseline on every test set and "cv" (a set where no case
//     of the two runs matches is left out).
//  6. "Distilled students against their teachers": Run | Params (M) | Teachers' mean Params (M) |
//     Compression (×) | Dice | Best teacher's Dice | Share kept (%), one row per distilled run.
// Tables 3, 4 and 6 are of the first test set; a study without test sets uses "cv" instead.
#pragma once

#include <string>
#include <vector>

#include "medkd/experiment/study_results.h"

namespace medkd::experiment {

// The tables of a study, in the papers' layouts, from its per-case metrics (see above).
// Throws medkd::Error naming both runs when a run's baseline or one of its teachers is not a run
// of the study, and naming the run and case when a run has two Dice values of one case (same
// fold, set and label) to pair.
std::vector<Table> make_tables(const StudyResults& results);

// tables.md: "# name", the description, then each of results.tables as "## title", its note and
// a Markdown table ("|" inside a cell escaped). Throws medkd::Error for a row whose number of
// cells differs from the header's.
std::string tables_markdown(const StudyResults& results);

// results.csv: the header run,role,fold,set,case,label,label_name,dice,iou,hd95,assd and one row
// per CaseMetric, in order. Label 0 (the foreground mean) is written as "foreground" in both label
// columns; NaN as an empty cell; other numbers in their shortest form that reads back exactly.
// Text containing , " or a line break is quoted ("" for a quote). Throws medkd::Error for a metric
// of a run that is not in results.runs (its role would be unknown).
std::string results_csv(const StudyResults& results);

}  // namespace medkd::experiment
