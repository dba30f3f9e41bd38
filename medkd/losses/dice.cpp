#include "medkd/losses/dice.h"

#include "medkd/core/error.h"

namespace medkd::losses {

torch::Tensor check_segmentation_target(const torch::Tensor& logits, const torch::Tensor& target,
                                        const std::string& loss) {
  MEDKD_CHECK(logits.dim() >= 3, loss, ": logits must be [N, K, *spatial], got ", logits.sizes());
  MEDKD_CHECK(logits.size(1) >= 2, loss, ": needs at least 2 classes (softmax over K), got logits ",
              logits.sizes());
  MEDKD_CHECK(target.dim() == logits.dim() && target.size(1) == 1 &&
                  target.size(0) == logits.size(0) &&
                  target.sizes().slice(2) == logits.sizes().slice(2),
              loss, ": target must be [N, 1, *spatial] matching logits ", logits.sizes(), ", got ",
              target.sizes());
  MEDKD_CHECK(c10::isIntegralType(target.scalar_type(), /*includeBool=*/false), loss,
              ": target must hold integer class indices, got ", target.scalar_type());
  torch::Tensor indices = target.to(torch::kLong);
  if (indices.numel() > 0) {
    const auto range = torch::aminmax(indices);
    const int64_t lo = std::get<0>(range).item<int64_t>();
    const int64_t hi = std::get<1>(range).item<int64_t>();
    MEDKD_CHECK(lo >= 0 && hi < logits.size(1), loss, ": target values must be in [0, ",
                logits.size(1), "), got [", lo, ", ", hi, "]");
  }
  return indices;
}

torch::Tensor one_hot(const torch::Tensor& target, int64_t num_classes, torch::ScalarType dtype) {
  auto sizes = target.sizes().vec();
  sizes[1] = num_classes;
  return torch::zeros(sizes, target.options().dtype(dtype))
      .scatter_(1, target.to(torch::kLong), 1.0);  // [N, K, *S]
}

torch::Tensor soft_dice(const torch::Tensor& logits, const torch::Tensor& target,
                        const SoftDiceOptions& options) {
  const torch::Tensor indices = check_segmentation_target(logits, target, "soft Dice");
  MEDKD_CHECK(options.smooth() >= 0, "soft Dice: smooth must be >= 0, got ", options.smooth());
  // Half-precision sums over a whole volume lose too much; Dice is always taken in float32.
  const torch::Tensor scores =
      logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat);
  torch::Tensor probs = torch::softmax(scores, 1);                              // [N, K, *S]
  torch::Tensor truth = one_hot(indices, logits.size(1), probs.scalar_type());  // [N, K, *S]
  if (!options.include_background()) {
    probs = probs.slice(1, 1);
    truth = truth.slice(1, 1);
  }
  std::vector<int64_t> axes;
  if (options.batch_dice()) axes.push_back(0);
  for (int64_t axis = 2; axis < logits.dim(); ++axis) axes.push_back(axis);
  const torch::Tensor intersection = (probs * truth).sum(axes);  // [N, K'] or [K']
  const torch::Tensor denominator = probs.sum(axes) + truth.sum(axes);
  return (2 * intersection + options.smooth()) / (denominator + options.smooth());
}

torch::Tensor soft_dice_loss(const torch::Tensor& logits, const torch::Tensor& target,
                             const SoftDiceOptions& options) {
  return 1 - soft_dice(logits, target, options).mean();
}

}  // namespace medkd::losses
