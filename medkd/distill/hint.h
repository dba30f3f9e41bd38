// Hint learning: the student's (projected) intermediate features regress the teacher's.
//
// Romero, Ballas, Kahou, Chassang, Gatta & Bengio, "FitNets: hints for thin deep nets", ICLR 2015.
#pragma once

#include <torch/torch.h>

#include "medkd/distill/term_registry.h"

namespace medkd::distill {

// hint = mean over all elements of (resize(s_projected → size of t) − t)².
// The FitNets regressor (DESIGN: a learned 1×1 adapter) is the caller's: s_projected already has
// the teacher's channel count.
// s_projected: [N, C, *S_s]; teacher: [N, C, *S_t] (same N, C and number of spatial axes).
// Returns a scalar. Throws medkd::Error naming both shapes when N, C or the number of spatial
// axes differ.
torch::Tensor hint(const torch::Tensor& s_projected, const torch::Tensor& teacher);

// The `hint` distillation term (term_registry.h).
TermEntry hint_term_entry();

}  // namespace medkd::distill
