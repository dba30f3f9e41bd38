// Attention transfer (AT): the student learns where the teacher's features are strong, through
// channel-pooled, L2-normalised spatial attention maps.
//
// Zagoruyko & Komodakis, "Paying more attention to attention: improving the performance of
// convolutional neural networks via attention transfer", ICLR 2017.
#pragma once

#include <torch/torch.h>

#include "medkd/distill/term_registry.h"

namespace medkd::distill {

// attention_transfer = mean_{n, space} (at(resize(s → size of t), p) − at(t, p))²,
// at() as in kd_ops.h (mean over channels of |F|^p, L2-normalised over space per sample).
// The paper's β/2 factor and its sum over layer pairs are the caller's (term weight, tap list).
//
// student: [N, C_s, *S_s]; teacher: [N, C_t, *S_t] (2 or 3 spatial axes, the same number; channel
// counts may differ since at() pools the channels). p > 0, default 2 as in the paper. Throws
// medkd::Error naming both shapes when the batch size or the number of spatial axes differ.
torch::Tensor attention_transfer(const torch::Tensor& student, const torch::Tensor& teacher,
                                 double p = 2);

// The `attention_transfer` distillation term (term_registry.h).
TermEntry attention_transfer_term_entry();

}  // namespace medkd::distill
