#include "medkd/losses/focal.h"

#include "medkd/core/error.h"
#include "medkd/losses/dice.h"

namespace medkd::losses {

torch::Tensor focal_loss(const torch::Tensor& logits, const torch::Tensor& target,
                         const FocalOptions& options) {
  const torch::Tensor indices = check_segmentation_target(logits, target, "focal");
  const int64_t classes = logits.size(1);
  MEDKD_CHECK(options.gamma() >= 0, "focal: gamma must be >= 0, got ", options.gamma());
  const auto& alpha = options.alpha();
  MEDKD_CHECK(alpha.empty() || alpha.size() == 1 || static_cast<int64_t>(alpha.size()) == classes,
              "focal: alpha needs 1 or ", classes, " values (one per class), got ", alpha.size());
  for (double a : alpha) MEDKD_CHECK(a >= 0, "focal: alpha must be >= 0, got ", a);
  MEDKD_CHECK(alpha.size() != 1 || alpha[0] <= 1, "focal: a single alpha must be in [0, 1], got ",
              alpha.empty() ? 0.0 : alpha[0]);

  const torch::Tensor scores =
      logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat);
  const torch::Tensor log_pt = torch::log_softmax(scores, 1).gather(1, indices);  // [N, 1, *S]
  const torch::Tensor pt = log_pt.exp();
  torch::Tensor loss = -torch::pow((1 - pt).clamp_min(0), options.gamma()) * log_pt;
  if (!alpha.empty()) {
    std::vector<double> per_class = alpha;
    if (alpha.size() == 1) {
      per_class.assign(classes, alpha[0]);
      per_class[0] = 1 - alpha[0];
    }
    const torch::Tensor weights = torch::tensor(per_class, scores.options());   // [K]
    loss = loss * weights.index_select(0, indices.flatten()).view_as(indices);  // α_t
  }
  return loss.mean();
}

}  // namespace medkd::losses
