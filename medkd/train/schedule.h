// Learning-rate schedules and early stopping.
//
// Poly: lr(t) = lr0 · (1 − t / T)^0.9 (nnU-Net), stepped per iteration or per epoch.
#pragma once

#include <cstdint>
#include <string>

namespace medkd::train {

struct PolySchedule {
  double initial_lr = 1e-3;
  double exponent = 0.9;
  int64_t total_steps = 1;

  double lr_at(int64_t step) const;
};

// Stops when the monitored value (validation Dice, higher is better) has not improved for
// `patience` consecutive checks. Its state is saved in checkpoints so that resuming continues
// the count.
class EarlyStopping {
 public:
  explicit EarlyStopping(int patience = 40, double min_delta = 0.0)
      : patience_(patience), min_delta_(min_delta) {}
  // Records a value; returns true if it is the best so far.
  bool update(double value);
  bool should_stop() const { return patience_ > 0 && checks_since_best_ >= patience_; }
  double best() const { return best_; }
  int checks_since_best() const { return checks_since_best_; }
  void restore(double best, int checks_since_best) {
    best_ = best;
    checks_since_best_ = checks_since_best;
  }

 private:
  int patience_;
  double min_delta_;
  double best_ = -1e300;
  int checks_since_best_ = 0;
};

}  // namespace medkd::train
