// When a distillation term counts: a per-step factor on its weight.
//
// While a student still predicts background everywhere, a KL towards a teacher that is itself
// unsure of small lesions pulls it further towards background; ramping the distillation terms in
// lets the segmentation loss find the foreground first. mdistiller ramps its KD loss by
// min(epoch / warmup, 1) (mdistiller/distillers/DKD.py, 20 of 240 epochs by default); medkd does
// the same per step, with an optional late start and a decay:
//
//   factor(t) = 0                                      t < start
//             = min((t − start) / warmup, 1) · d(t)    otherwise (no ramp when warmup = 0)
//   d(t)      = 1 without decay; with decay, from the end of the ramp to the end of the run,
//               u = (t − start − warmup) / (T − start − warmup) in [0, 1]:
//               linear  1 − (1 − final)·u
//               cosine  final + (1 − final)·(1 + cos(π·u)) / 2
//
// `start` and `warmup` are steps (whole numbers >= 1) or fractions of the run's T steps (values
// in (0, 1)); 0 means none. In YAML, on a loss entry or as the run's `kd_schedule` default:
//   schedule: {warmup: 0.1, start: 0, decay: cosine, final: 0.2}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace medkd::distill {

enum class KdDecay { kNone, kLinear, kCosine };

struct KdSchedule {
  double start = 0;   // steps (>= 1) or a fraction of the run (< 1); 0 = from the first step
  double warmup = 0;  // steps (>= 1) or a fraction of the run (< 1); 0 = full weight at once
  KdDecay decay = KdDecay::kNone;
  double final_factor = 0;  // where a decay ends, in [0, 1]

  // The factor at optimiser step `step` (0-based) of a run of `total_steps` steps.
  double factor(int64_t step, int64_t total_steps) const;
  // True when the factor is 1 at every step.
  bool is_constant() const;
  // "none", or e.g. "warmup 0.1, decay cosine to 0.2", for logs and --list-terms.
  std::string describe() const;
};

// The schedule keys and their meaning, for --list-terms and error messages.
struct KdScheduleKey {
  std::string key, default_value, meaning;
};
const std::vector<KdScheduleKey>& kd_schedule_keys();

// Reads a `schedule:` mapping over `base` (keys it does not give keep base's values). Errors
// name `where` ("kd.yaml: loss 'pixel_kl' schedule") and the valid keys.
KdSchedule parse_kd_schedule(const YAML::Node& node, const KdSchedule& base,
                             const std::string& where);

}  // namespace medkd::distill
