// The segmentation losses that training runs use: weighted sums of soft Dice with focal or
// cross-entropy.
//
//   dice_focal       Dice + focal             Teach-Former (Liu et al. 2024), Eq. 3
//   focal_dice_half  0.5·focal + 0.5·Dice     HLFD (Jiang et al. 2023)
//   dice_ce          Dice + cross-entropy     nnU-Net (Isensee et al. 2021), weights 1 and 1
//
// "Dice" is soft_dice_loss (1 − mean Dice, see dice.h), so every sum is 0 for a perfect, confident
// prediction. Inputs: logits [N, K, *S], target class indices [N, 1, *S].
#pragma once

#include <torch/torch.h>

#include "medkd/losses/dice.h"
#include "medkd/losses/focal.h"

namespace medkd::losses {

struct DiceFocalOptions {
  TORCH_ARG(SoftDiceOptions, dice) = SoftDiceOptions();
  TORCH_ARG(FocalOptions, focal) = FocalOptions();
  TORCH_ARG(double, dice_weight) = 1.0;
  TORCH_ARG(double, focal_weight) = 1.0;
};

// dice_weight · soft_dice_loss + focal_weight · focal_loss.
torch::Tensor dice_focal_loss(const torch::Tensor& logits, const torch::Tensor& target,
                              const DiceFocalOptions& options = {});

// HLFD's weighting of the same two terms.
DiceFocalOptions focal_dice_half_options();
// 0.5 · focal_loss + 0.5 · soft_dice_loss.
torch::Tensor focal_dice_half_loss(const torch::Tensor& logits, const torch::Tensor& target);

struct DiceCeOptions {
  // nnU-Net leaves the background out of its Dice term (do_bg=False); cross-entropy covers it.
  TORCH_ARG(SoftDiceOptions, dice) = SoftDiceOptions().include_background(false);
  TORCH_ARG(double, dice_weight) = 1.0;
  TORCH_ARG(double, ce_weight) = 1.0;
};

// Mean cross-entropy over voxels.
torch::Tensor cross_entropy_loss(const torch::Tensor& logits, const torch::Tensor& target);
// dice_weight · soft_dice_loss + ce_weight · cross_entropy_loss.
torch::Tensor dice_ce_loss(const torch::Tensor& logits, const torch::Tensor& target,
                           const DiceCeOptions& options = {});

}  // namespace medkd::losses
