#include "medkd/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace medkd::train {

double PolySchedule::lr_at(int64_t step) const {
  const double progress =
      std::clamp(double(step) / double(std::max<int64_t>(1, total_steps)), 0.0, 1.0);
  return initial_lr * std::pow(1.0 - progress, exponent);
}

bool EarlyStopping::update(double value) {
  if (std::isfinite(value) && value > best_ + min_delta_) {
    best_ = value;
    checks_since_best_ = 0;
    return true;
  }
  ++checks_since_best_;
  return false;
}

}  // namespace medkd::train
