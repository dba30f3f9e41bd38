// A run against its baseline on one set of a study, as the tables (tables.h) report it: per-case
// Dice paired by case id after averaging each case over each run's models (seeds, and fold
// models on a test set), so that no case counts twice; a bootstrap interval, the minimum
// detectable effect, and the same comparison over seeds.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "medkd/experiment/study_results.h"
#include "medkd/metrics/significance.h"

namespace medkd::experiment {

constexpr int kBootstrapResamples = 5000;
constexpr uint64_t kBootstrapSeed = 20240601;

// A run against its baseline on one set: per-case Dice paired by case id after averaging each
// case over each run's models, so that no case counts twice; and the same over seeds.
struct Comparison {
  metrics::PairedTest t_test, wilcoxon;
  metrics::Interval interval{
      std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::quiet_NaN()};  // case bootstrap of the mean difference
  double detectable =
      std::numeric_limits<double>::quiet_NaN();  // minimum detectable effect, 80% power
  metrics::PairedTest seeds;                     // paired t-test over seeds (n = seeds)
};

// Throws medkd::Error naming the run and case when a run has two Dice values of one case (same
// fold, seed, set and label).
Comparison compare(const StudyResults& results, const std::string& run, const std::string& baseline,
                   const std::string& set);

}  // namespace medkd::experiment
