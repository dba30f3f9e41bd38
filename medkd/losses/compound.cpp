#include "medkd/losses/compound.h"

namespace medkd::losses {

torch::Tensor dice_focal_loss(const torch::Tensor& logits, const torch::Tensor& target,
                              const DiceFocalOptions& options) {
  return options.dice_weight() * soft_dice_loss(logits, target, options.dice()) +
         options.focal_weight() * focal_loss(logits, target, options.focal());
}

DiceFocalOptions focal_dice_half_options() {
  return DiceFocalOptions().dice_weight(0.5).focal_weight(0.5);
}

torch::Tensor focal_dice_half_loss(const torch::Tensor& logits, const torch::Tensor& target) {
  return dice_focal_loss(logits, target, focal_dice_half_options());
}

torch::Tensor cross_entropy_loss(const torch::Tensor& logits, const torch::Tensor& target) {
  const torch::Tensor indices = check_segmentation_target(logits, target, "cross-entropy");
  const torch::Tensor scores =
      logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat);
  return torch::nll_loss_nd(torch::log_softmax(scores, 1), indices.squeeze(1));
}

torch::Tensor dice_ce_loss(const torch::Tensor& logits, const torch::Tensor& target,
                           const DiceCeOptions& options) {
  return options.dice_weight() * soft_dice_loss(logits, target, options.dice()) +
         options.ce_weight() * losses::cross_entropy_loss(logits, target);
}

}  // namespace medkd::losses
