// Overlap metrics of one label: confusion counts, Dice, IoU and relative volume difference.
// Definitions and empty-mask rules: docs/metrics.md (DESIGN.md §7).
#pragma once

#include <cstdint>

namespace medkd::metrics {

struct ConfusionCounts {
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  int64_t n_pred() const { return tp + fp; }
  int64_t n_ref() const { return tp + fn; }
};

// 2|P∩G| / (|P| + |G|); NaN when both masks are empty, 0 when exactly one is.
double dice(const ConfusionCounts& c);
// |P∩G| / |P∪G|; same empty rules as Dice.
double iou(const ConfusionCounts& c);
// (|P| − |G|) / |G|, signed; NaN when the reference is empty.
double relative_volume_difference(const ConfusionCounts& c);

}  // namespace medkd::metrics
