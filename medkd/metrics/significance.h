// Paired significance tests between two models scored on the same cases (Teach-Former reports
// paired t-tests between teacher, student and distilled student; the Wilcoxon signed-rank test
// is the rank-based alternative that does not assume normally distributed differences).
//
// Both take the per-case scores of model A and model B in the same case order. A pair in which
// either score is NaN (e.g. Dice where both masks are empty) is left out, and `n` says how many
// pairs were used. p-values are two-sided.
#pragma once

#include <cstdint>
#include <vector>

namespace medkd::metrics {

struct PairedTest {
  double statistic = 0;        // t (paired t-test) or W = min(W+, W−) (Wilcoxon)
  double p_value = 0;          // two-sided; NaN where the test is undefined (see each function)
  double mean_difference = 0;  // mean of a − b over the pairs used
  int64_t n = 0;               // pairs used (Wilcoxon: those with a non-zero difference)
  bool exact = false;          // Wilcoxon: exact null distribution (else the normal approximation)
};

// Student's paired t-test: t = mean(d) / (sd(d)/√n), d = a − b, n − 1 degrees of freedom.
// p is NaN for fewer than 2 pairs or when every difference is the same (sd = 0): then t is
// undefined (all equal) or infinite, and no p-value says anything useful.
// Throws medkd::Error when a and b differ in length.
PairedTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b);

// Wilcoxon signed-rank test on d = a − b. Zero differences are dropped (Wilcoxon's original
// rule, scipy's default), tied |d| get their average rank, and W = min(W+, W−). The p-value is
// exact (the distribution of the rank sum over all 2^n sign patterns) when n ≤ 50 and no |d| are
// tied; otherwise it comes from the normal approximation with the tie-corrected variance
// n(n+1)(2n+1)/24 − Σ(t³ − t)/48 and no continuity correction (scipy's defaults).
// p is NaN when no non-zero difference is left. Throws medkd::Error when the lengths differ.
PairedTest wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace medkd::metrics

namespace medkd::metrics {

// A percentile bootstrap interval of the mean of `values` (NaN entries left out): `resamples`
// resamples of the values with replacement, drawn from a generator seeded with `seed` so that a
// table is the same every time it is made; the interval holds the middle `level` of the
// resampled means (2.5th and 97.5th percentiles for 0.95, linear interpolation between order
// statistics). NaN bounds for fewer than 2 values. Throws medkd::Error for resamples < 1 or a
// level outside (0, 1).
struct Interval {
  double low = 0, high = 0;
};
Interval bootstrap_mean_interval(const std::vector<double>& values, int resamples = 5000,
                                 uint64_t seed = 20240601, double level = 0.95);

// Holm's step-down correction of a family of p-values: sorted ascending, the k-th smallest
// (k = 0, 1, …) becomes max over j ≤ k of min(1, (m − j)·p_j), so that the family-wise error rate
// stays at α whatever the dependence. NaN entries keep their NaN and are not counted in m.
// The adjusted values come back in the order given.
std::vector<double> holm_adjusted(const std::vector<double>& p_values);

// The smallest true mean difference that a two-sided paired t-test at level `alpha` would detect
// with probability `power`, given the standard deviation `sd` of the differences and n pairs:
// (t_{1−α/2, n−1} + t_{power, n−1}) · sd / √n (the usual approximation that ignores the far tail
// of the noncentral t). NaN for n < 2 or a NaN sd.
double minimum_detectable_effect(double sd, int64_t n, double alpha = 0.05, double power = 0.8);

// Sample standard deviation (n − 1) of the values that are not NaN; NaN for fewer than 2.
double sample_sd(const std::vector<double>& values);

}  // namespace medkd::metrics
