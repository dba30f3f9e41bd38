// The tables of a finished study in the layouts of the papers it reproduces (Teach-Former's
// Table 1, the HLFD / Teach-Former ablations), made from its per-case metrics, and the two files
// `medkd experiment` writes from them: tables.md and results.csv.
//
// How a cell is aggregated:
//  - A model is one fold's network of a run, or one (fold, seed) of a run trained per seed. Its
//    score on a set is the mean, over its cases, of the CaseMetric with label ==
//    results.report_label; NaN values (HD95 of an empty mask, Dice where both masks are empty)
//    are left out, and a model without any value has no score.
//  - The cell is the mean ± sample standard deviation (n − 1) over the run's models that have a
//    score: "0.810 ± 0.014". With one such model it is the mean alone; with none it is "nan".
//  - Decimals: Dice and mIoU 3, HD95 (mm) 1, Params (M) 3, GFLOPs 2, minutes 1, ΔDice 3 with its
//    sign; p-values have 3 significant digits and " *" when p < 0.05. "–" marks a cell that does
//    not apply (no teachers, no baseline, unknown training time); "nan" a value that is undefined.
//  - ΔDice vs the baseline (ablation tables) is the run's mean over models minus the baseline's.
//  - Paired tests first average each case's Dice over the run's models (seeds, and fold models on
//    a test set; NaN values left out), so that no case counts twice, then pair the run and its
//    baseline by case id on one set; a pair with a NaN is left out and n counts the pairs used.
//    Each comparison adds a percentile bootstrap 95% interval of the mean difference over cases
//    (5,000 resamples, fixed seed), the minimum detectable effect at 80% power, and a paired
//    t-test over seeds (each seed's mean over cases). Holm's correction is over the runs
//    compared on the same set.
//
// The tables, in order (a table without rows is left out):
//  0. "Primary comparison" (when results.primary names a run): that run's rows of table 6.
//  1. "Test set: NAME" for each test set: Method | Role | Network | Params (M) | GFLOPs | Dice |
//     mIoU | HD95 (mm) | Train (min), one row per run evaluated on that set.
//  2. "Cross-validation (validation folds)": Method | fold F … | mean ± std, Dice on set "cv"
//     (a fold's value is the mean over its seeds' models), one column per fold with metrics.
//  3. "Per label: test set NAME" (first test set, only with more than one foreground label):
//     Method | one Dice column per label name | foreground.
//  4. "Teachers": Teacher | Epochs | Best / Last validation Dice | Gain, last quarter | Converged
//     | Student alone | Gate: Δ (margin) | Gate, from the curves and results.gate (one row per
//     gate check of the teacher, or one without a gate).
//  5. "Ablation: GROUP" for each distinct RunSummary::ablation: Method | Teachers | KD method |
//     Dice | ΔDice vs baseline | p (t-test) | p (Wilcoxon), the baselines the group's runs
//     reference first, then the group's runs.
//  6. "Paired tests against the baseline": Run | Baseline | Comparison (primary, secondary or –)
//     | Set | n | mean ΔDice | 95% CI | p (t-test) | p (Wilcoxon) | p Holm (t) | MDE (80%) |
//     seeds: ΔDice | seeds: p (t), for each run with a baseline on every test set and "cv".
//  7. "Distilled students against their teachers": Run | Params (M) | Teachers' mean Params (M) |
//     Compression (×) | Dice | Best teacher's Dice | Dice kept (%) ("–" when the best teacher
//     failed its gate against the run's student), one row per distilled run.
// Tables 3, 5 and 7 are of the first test set; a study without test sets uses "cv" instead.
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

// results.csv: the header run,role,fold,seed,set,case,label,label_name,dice,iou,hd95,assd and one
// row per CaseMetric, in order (seed empty for a model that is not one of several seeds). Label 0
// (the foreground mean) is written as "foreground" in both label columns; NaN as an empty cell;
// other numbers in their shortest form that reads back exactly. Text containing , " or a line break
// is quoted ("" for a quote). Throws medkd::Error for a metric of a run that is not in results.runs
// (its role would be unknown).
std::string results_csv(const StudyResults& results);

}  // namespace medkd::experiment
