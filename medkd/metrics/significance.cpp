#include "medkd/metrics/significance.h"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "medkd/core/error.h"

namespace medkd::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// a − b over the pairs where both are numbers.
std::vector<double> paired_differences(const std::vector<double>& a, const std::vector<double>& b,
                                       const char* test) {
  MEDKD_CHECK(a.size() == b.size(), test, ": the two models have ", a.size(), " and ", b.size(),
              " scores; a paired test needs one score of each per case");
  std::vector<double> d;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isnan(a[i]) && !std::isnan(b[i])) d.push_back(a[i] - b[i]);
  }
  return d;
}

double mean_of(const std::vector<double>& v) {
  return v.empty() ? kNaN : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

// P(W+ ≤ w) under the null hypothesis for ranks 1..n without ties: each of the 2^n sign patterns
// is equally likely, so count the subsets of {1..n} with rank sum ≤ w.
double exact_signed_rank_cdf(int64_t n, double w) {
  const int64_t max_sum = n * (n + 1) / 2;
  std::vector<double> subsets(max_sum + 1, 0.0);  // subsets[s]: subsets of {1..k} summing to s
  subsets[0] = 1;
  for (int64_t k = 1; k <= n; ++k) {
    for (int64_t s = max_sum; s >= k; --s) subsets[s] += subsets[s - k];
  }
  double at_most = 0;
  for (int64_t s = 0; s <= max_sum && double(s) <= w; ++s) at_most += subsets[s];
  return at_most / std::ldexp(1.0, int(n));
}

}  // namespace

PairedTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> d = paired_differences(a, b, "paired t-test");
  PairedTest result;
  result.n = int64_t(d.size());
  result.mean_difference = mean_of(d);
  result.statistic = result.p_value = kNaN;
  if (result.n < 2) return result;
  double squares = 0;
  for (double x : d) squares += (x - result.mean_difference) * (x - result.mean_difference);
  const double sd = std::sqrt(squares / double(result.n - 1));
  if (!(sd > 0)) return result;
  result.statistic = result.mean_difference / (sd / std::sqrt(double(result.n)));
  const boost::math::students_t_distribution<double> t(double(result.n - 1));
  result.p_value = 2 * boost::math::cdf(boost::math::complement(t, std::abs(result.statistic)));
  return result;
}

PairedTest wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d = paired_differences(a, b, "Wilcoxon signed-rank test");
  PairedTest result;
  result.mean_difference = mean_of(d);
  d.erase(std::remove(d.begin(), d.end(), 0.0), d.end());
  result.n = int64_t(d.size());
  result.statistic = result.p_value = kNaN;
  if (d.empty()) return result;

  // Average ranks of |d|; tie_term collects Σ(t³ − t) over groups of t tied values.
  std::vector<size_t> order(d.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t i, size_t j) { return std::abs(d[i]) < std::abs(d[j]); });
  double positive_ranks = 0, tie_term = 0;
  for (size_t first = 0; first < order.size();) {
    size_t last = first;
    while (last + 1 < order.size() && std::abs(d[order[last + 1]]) == std::abs(d[order[first]]))
      ++last;
    const double rank = (double(first) + double(last)) / 2 + 1;  // ranks are 1-based
    const double tied = double(last - first + 1);
    tie_term += tied * tied * tied - tied;
    for (size_t k = first; k <= last; ++k) {
      if (d[order[k]] > 0) positive_ranks += rank;
    }
    first = last + 1;
  }
  const double n = double(result.n);
  const double rank_total = n * (n + 1) / 2;
  result.statistic = std::min(positive_ranks, rank_total - positive_ranks);

  result.exact = result.n <= 50 && tie_term == 0;
  if (result.exact) {
    result.p_value = std::min(1.0, 2 * exact_signed_rank_cdf(result.n, result.statistic));
  } else {
    const double variance = n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48;
    if (!(variance > 0)) return result;
    const double z = (result.statistic - rank_total / 2) / std::sqrt(variance);
    result.p_value = std::min(
        1.0, 2 * boost::math::cdf(boost::math::normal_distribution<double>(), -std::abs(z)));
  }
  return result;
}

Interval bootstrap_mean_interval(const std::vector<double>& values, int resamples, uint64_t seed,
                                 double level) {
  MEDKD_CHECK(resamples >= 1, "bootstrap: resamples must be at least 1, got ", resamples);
  MEDKD_CHECK(level > 0 && level < 1, "bootstrap: level must lie in (0, 1), got ", level);
  std::vector<double> x;
  for (double v : values)
    if (!std::isnan(v)) x.push_back(v);
  if (x.size() < 2) return {kNaN, kNaN};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, x.size() - 1);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (auto& mean : means) {
    double sum = 0;
    for (size_t i = 0; i < x.size(); ++i) sum += x[pick(rng)];
    mean = sum / double(x.size());
  }
  std::sort(means.begin(), means.end());
  const auto quantile = [&](double q) {
    const double at = q * double(means.size() - 1);
    const size_t below = size_t(std::floor(at));
    const size_t above = std::min(below + 1, means.size() - 1);
    return means[below] + (at - double(below)) * (means[above] - means[below]);
  };
  return {quantile((1 - level) / 2), quantile((1 + level) / 2)};
}

std::vector<double> holm_adjusted(const std::vector<double>& p_values) {
  std::vector<size_t> order;
  for (size_t i = 0; i < p_values.size(); ++i)
    if (!std::isnan(p_values[i])) order.push_back(i);
  std::sort(order.begin(), order.end(),
            [&](size_t i, size_t j) { return p_values[i] < p_values[j]; });
  std::vector<double> adjusted(p_values.size(), kNaN);
  const double m = double(order.size());
  double running = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    running = std::max(running, std::min(1.0, (m - double(k)) * p_values[order[k]]));
    adjusted[order[k]] = running;
  }
  return adjusted;
}

double minimum_detectable_effect(double sd, int64_t n, double alpha, double power) {
  if (n < 2 || std::isnan(sd)) return kNaN;
  const boost::math::students_t_distribution<double> t(double(n - 1));
  return (boost::math::quantile(t, 1 - alpha / 2) + boost::math::quantile(t, power)) * sd /
         std::sqrt(double(n));
}

double sample_sd(const std::vector<double>& values) {
  std::vector<double> x;
  for (double v : values)
    if (!std::isnan(v)) x.push_back(v);
  if (x.size() < 2) return kNaN;
  const double mean = mean_of(x);
  double squares = 0;
  for (double v : x) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / double(x.size() - 1));
}

}  // namespace medkd::metrics
