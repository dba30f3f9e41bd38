// Channel-wise knowledge distillation (CWD): each channel is turned into a distribution over
// space, and the student's is pulled towards the teacher's.
//
// Shu, Liu, Gao, Yan & Shen, "Channel-wise knowledge distillation for dense prediction", ICCV 2021.
#pragma once

#include <torch/torch.h>

#include "medkd/distill/term_registry.h"

namespace medkd::distill {

// For every sample n and channel c, φ(y_{n,c}) = softmax over all voxels of y_{n,c} / T, and
//   channel_wise = T² / (N·C) · Σ_{n,c} KL(φ(teacher_{n,c}) ‖ φ(student_{n,c})),
// with the KL summed over space: Σ_v q_v (log q_v − log p_v). Unlike pixel_kl the softmax runs
// over space, so a channel's spatial pattern is what is matched, not the class mix at a voxel.
//
// student, teacher: [N, C, *S] (2 or 3 spatial axes), the same shape; DESIGN's default applies it
// to the logits with T = 4 (and weight 3). Temperature T > 0. Returns a scalar. Throws
// medkd::Error naming both shapes when they differ.
torch::Tensor channel_wise(const torch::Tensor& student, const torch::Tensor& teacher,
                           double temperature);

// The `channel_wise` distillation term (term_registry.h).
TermEntry channel_wise_term_entry();

}  // namespace medkd::distill
