#include "medkd/metrics/overlap.h"

#include <cmath>

namespace medkd::metrics {

double dice(const ConfusionCounts& c) {
  const int64_t denominator = 2 * c.tp + c.fp + c.fn;
  if (denominator == 0) return NAN;
  return 2.0 * double(c.tp) / double(denominator);
}

double iou(const ConfusionCounts& c) {
  const int64_t denominator = c.tp + c.fp + c.fn;
  if (denominator == 0) return NAN;
  return double(c.tp) / double(denominator);
}

double relative_volume_difference(const ConfusionCounts& c) {
  if (c.n_ref() == 0) return NAN;
  return double(c.n_pred() - c.n_ref()) / double(c.n_ref());
}

}  // namespace medkd::metrics
