// Attention transfer (AT): the student learns where the teacher's features are strong, through
// channel-pooled, L2-normalised spatial attention maps.
//
// Zagoruyko & Komodakis, "Paying more attention to attention: improving the performance of
// convolutional neural networks via attention transfer", ICLR 2017.
#pragma once

#include <torch/torch.h>

#include "medkd/distill/term_registry.h"

namespace medkd::distill {

// How the squared map difference is reduced over space.
//   mean  mean over the batch and space: Zagoruyko & Komodakis's code, CIRKD (losses/at.py) and
//         mdistiller (AT.py), which then need weights of 1,000–10,000
//   sum   sum over space, mean over the batch: EMKD's importance maps (EMKD
//         utils/loss_functions.py, imd), in [0, 4] whatever the map size (unit vectors)
enum class AtReduction { kMean, kSum };

// attention_transfer = reduce_{n, space} (at(resize(s → size of t), p) − at(t, p))²,
// at() as in kd_ops.h (mean over channels of |F|^p, L2-normalised over space per sample).
// The paper's β/2 factor and its sum over layer pairs are the caller's (term weight, tap list).
// At a 16³ tap the mean is 4,096× smaller than the sum.
//
// student: [N, C_s, *S_s]; teacher: [N, C_t, *S_t] (2 or 3 spatial axes, the same number; channel
// counts may differ since at() pools the channels). p > 0, default 2 as in the paper (EMKD uses
// 4). Throws medkd::Error naming both shapes when the batch size or the number of spatial axes
// differ.
torch::Tensor attention_transfer(const torch::Tensor& student, const torch::Tensor& teacher,
                                 double p = 2, AtReduction reduction = AtReduction::kMean);

// The `attention_transfer` distillation term (term_registry.h).
TermEntry attention_transfer_term_entry();

}  // namespace medkd::distill
