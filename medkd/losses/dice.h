// Soft Dice loss (Milletari et al., V-Net, 2016; nnU-Net's SoftDiceLoss) and the target checks
// shared by every segmentation loss of medkd.
//
// All segmentation losses take logits [N, K, *spatial] (K >= 2 classes, softmax over K) and a
// target of class indices [N, 1, *spatial] (any integer type, uint8 and int64 included), and
// return a scalar. They are stateless functions; loss_registry.h builds them from configs.
#pragma once

#include <string>

#include <torch/torch.h>

namespace medkd::losses {

// Checks that `target` is an integer tensor [N, 1, *spatial] matching `logits` [N, K, *spatial]
// with values in [0, K); returns it as int64. `loss` names the caller in the error message.
torch::Tensor check_segmentation_target(const torch::Tensor& logits, const torch::Tensor& target,
                                        const std::string& loss);

// Class indices [N, 1, *S] -> one-hot [N, K, *S] of `dtype`.
torch::Tensor one_hot(const torch::Tensor& target, int64_t num_classes, torch::ScalarType dtype);

struct SoftDiceOptions {
  // Added to numerator and denominator (nnU-Net and MONAI: 1e-5), so that a class absent from
  // both target and prediction scores Dice 1 instead of 0/0.
  TORCH_ARG(double, smooth) = 1e-5;
  // Pool the batch into one volume per class before taking Dice (nnU-Net's batch_dice): steadier
  // with small structures, but one sample's miss can hide behind another's hit.
  TORCH_ARG(bool, batch_dice) = false;
  // Whether class 0 counts in the mean (MONAI's default: yes; nnU-Net's dice_ce: no).
  TORCH_ARG(bool, include_background) = true;
};

// Soft Dice per class: (2·Σ p·g + smooth) / (Σ p + Σ g + smooth), p = softmax(logits) and g the
// one-hot target, sums over space (and the batch if batch_dice). Returns [N, K'] or, with
// batch_dice, [K'] (K' = K, or K - 1 without the background).
torch::Tensor soft_dice(const torch::Tensor& logits, const torch::Tensor& target,
                        const SoftDiceOptions& options = {});

// 1 − mean soft Dice over the classes (and samples): 0 for a perfect, confident prediction, near
// 1 for a useless one. (nnU-Net returns −Dice instead; the gradient is the same.)
torch::Tensor soft_dice_loss(const torch::Tensor& logits, const torch::Tensor& target,
                             const SoftDiceOptions& options = {});

}  // namespace medkd::losses
