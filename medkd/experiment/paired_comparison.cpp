#include "medkd/experiment/paired_comparison.h"

#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "medkd/core/error.h"

namespace medkd::experiment {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Each case's Dice (report label) on one set, averaged over the run's models that scored it
// (seeds, and fold models on a test set), NaN values left out; NaN when none has a value.
std::map<std::string, double> case_dice(const StudyResults& results, const std::string& run,
                                        const std::string& set) {
  std::map<std::string, std::pair<double, int>> sums;
  std::set<std::tuple<std::string, int, int>> seen;
  for (const auto& metric : results.metrics) {
    if (metric.run != run || metric.set != set || metric.label != results.report_label) continue;
    MEDKD_CHECK(seen.insert({metric.case_id, metric.fold, metric.seed}).second, "run \"",
                metric.run, "\" has two Dice values of case \"", metric.case_id, "\" (fold ",
                metric.fold, ", set \"", set, "\", label ", metric.label, ")");
    auto& sum = sums[metric.case_id];
    if (!std::isnan(metric.dice)) {
      sum.first += metric.dice;
      ++sum.second;
    }
  }
  std::map<std::string, double> out;
  for (const auto& [id, sum] : sums) out[id] = sum.second ? sum.first / sum.second : kNaN;
  return out;
}

// Per seed, the run's mean Dice over the set's cases (each case averaged over the seed's fold
// models first). Empty for a run not trained per seed.
std::map<int, double> seed_dice(const StudyResults& results, const std::string& run,
                                const std::string& set) {
  std::map<int, std::map<std::string, std::pair<double, int>>> sums;  // seed -> case -> sum
  for (const auto& metric : results.metrics) {
    if (metric.run != run || metric.set != set || metric.label != results.report_label ||
        metric.seed < 0 || std::isnan(metric.dice))
      continue;
    auto& sum = sums[metric.seed][metric.case_id];
    sum.first += metric.dice;
    ++sum.second;
  }
  std::map<int, double> out;
  for (const auto& [seed, cases] : sums) {
    double total = 0;
    for (const auto& [id, sum] : cases) total += sum.first / sum.second;
    out[seed] = total / double(cases.size());
  }
  return out;
}

}  // namespace

Comparison compare(const StudyResults& results, const std::string& run, const std::string& baseline,
                   const std::string& set) {
  const auto a = case_dice(results, run, set), b = case_dice(results, baseline, set);
  std::vector<double> x, y, d;
  for (const auto& [id, dice] : a) {
    const auto match = b.find(id);
    if (match == b.end()) continue;
    x.push_back(dice);
    y.push_back(match->second);
    if (!std::isnan(dice) && !std::isnan(match->second)) d.push_back(dice - match->second);
  }
  Comparison c;
  c.t_test = metrics::paired_t_test(x, y);
  c.wilcoxon = metrics::wilcoxon_signed_rank(x, y);
  c.interval = metrics::bootstrap_mean_interval(d, kBootstrapResamples, kBootstrapSeed);
  c.detectable = metrics::minimum_detectable_effect(metrics::sample_sd(d), int64_t(d.size()));
  const auto sa = seed_dice(results, run, set), sb = seed_dice(results, baseline, set);
  std::vector<double> px, py;
  for (const auto& [seed, dice] : sa)
    if (sb.count(seed)) {
      px.push_back(dice);
      py.push_back(sb.at(seed));
    }
  c.seeds = metrics::paired_t_test(px, py);
  return c;
}

}  // namespace medkd::experiment
