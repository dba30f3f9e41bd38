// Focal loss (Lin et al., ICCV 2017), multi-class over a softmax:
//
//   FL = − α_t · (1 − p_t)^γ · log p_t,   p_t = softmax(logits)[target],
//
// averaged over voxels (N × spatial). γ = 0 without α is cross-entropy. Well-classified voxels
// (p_t near 1) are down-weighted, which is what small lesions in large volumes need.
//
// Differs from MONAI's FocalLoss, which by default applies a sigmoid per class and averages over
// the class axis too (a K times smaller value); ours matches the softmax Dice it is paired with.
#pragma once

#include <vector>

#include <torch/torch.h>

namespace medkd::losses {

struct FocalOptions {
  TORCH_ARG(double, gamma) = 2.0;
  // Class weights α. Empty: none (α_t = 1). One value a: background 1 − a, every other class a
  // (Lin et al.'s binary α, as MONAI generalises it). K values: one per class.
  TORCH_ARG(std::vector<double>, alpha) = std::vector<double>{};
};

// logits [N, K, *S], target class indices [N, 1, *S] -> scalar.
torch::Tensor focal_loss(const torch::Tensor& logits, const torch::Tensor& target,
                         const FocalOptions& options = {});

}  // namespace medkd::losses
