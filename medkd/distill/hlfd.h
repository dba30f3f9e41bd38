// The loss functions of HLFD, Hierarchical Layer-selective Feedback Distillation:
// importance-map distillation between selected layers (feature terms) and prediction-map
// distillation of projected decoder taps (pixel terms).
//
// Gorade, Mittal, Jha & Bagci, "Rethinking intermediate layers design in knowledge distillation
// for kidney and liver tumor segmentation", ISBI 2024 (code:
// github.com/vangorade/RethinkingKD_ISBI24).
//
// These are pure tensor functions; the caller picks the taps, creates the projections (learned
// 1×1 adapters, or the authors' fresh untrained 1×1 convs) and weights the terms. The whole loss
// of DESIGN §5 is assembled from them as
//
//   L         = λ·L_pixel + β·L_feature,               λ = 0.1, β = 0.9
//   L_feature = 0.5·UFD + 0.5·IFD
//     UFD = ufd(student enc.0, {teacher enc.1, enc.2, enc.3})
//     IFD = ifd({student enc.1, enc.2, enc.3}, teacher bottleneck)
//   L_pixel   = 0.5·UPD + 0.5·IPD
//     UPD: u = unify_decoder(teacher middle decoder taps);
//          projection adapter:      UPD = pmd(project(student first decoder tap → u.size(1)), u)
//          projection fresh_random: UPD = pmd(student first decoder tap,
//                                             project(u → channels of that tap))
//          (DESIGN §5: the teacher side is projected, as the authors' code does)
//     IPD = Σ_i pmd(project(student decoder tap i → K classes), teacher logits)
//          (projection on the student side in both modes)
//   with pmd's T = 4.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "medkd/distill/term_registry.h"

namespace medkd::distill {

// Importance-map distillation:
//   imd(s, t) = mean_n Σ_space (at(resize(s → size of t), p = 4) − at(t, p = 4))²,
// at() as in kd_ops.h. Note the sum over space (attention_transfer takes the mean).
// student: [N, C_s, *S_s]; teacher: [N, C_t, *S_t] (same N and number of spatial axes; channel
// counts and sizes may differ). Returns a scalar. Every function here throws medkd::Error naming
// the shapes involved when batch sizes or numbers of spatial axes differ, or a list is empty.
torch::Tensor imd(const torch::Tensor& student, const torch::Tensor& teacher);

// Unifies the teacher's middle taps for UFD: every tensor is resized to the smallest spatial size
// among them (per axis, the minimum over the taps: for nested encoder stages, the deepest tap's
// size), they are concatenated on channels in the order given, and the result is resized to
// `target` (the student's early tap size). teacher_middle: non-empty, each [N, C_i, *S_i] with
// the same N and number of spatial axes. Returns [N, Σ C_i, *target].
torch::Tensor unify_middle(const std::vector<torch::Tensor>& teacher_middle,
                           at::IntArrayRef target);

// Unified feature distillation: imd(student_early, unify_middle(teacher_middle, size of
// student_early)); both maps already share a spatial size, so imd does not resize.
torch::Tensor ufd(const torch::Tensor& student_early,
                  const std::vector<torch::Tensor>& teacher_middle);

// Intermediate feature distillation: Σ_i imd(student_intermediates[i], teacher_bottleneck), every
// student tap resized to the bottleneck's size. student_intermediates: non-empty.
torch::Tensor ifd(const std::vector<torch::Tensor>& student_intermediates,
                  const torch::Tensor& teacher_bottleneck);

// Unifies the teacher's middle decoder taps for UPD: every tensor resized to the largest spatial
// size among them (per axis, the maximum over the taps), concatenated on channels in the order
// given. teacher_decoder: non-empty, each [N, C_i, *S_i]. Returns [N, Σ C_i, *S_max].
torch::Tensor unify_decoder(const std::vector<torch::Tensor>& teacher_decoder);

// Prediction-map distillation: pmd(y, t) = pixel_kl(resize(y → size of t), t, T).
// y_projected: [N, C, *S_y], already projected to t's channel count C; t: [N, C, *S_t]. A
// different C is an error naming both shapes.
torch::Tensor pmd(const torch::Tensor& y_projected, const torch::Tensor& teacher,
                  double temperature = 4);

// The `hlfd` distillation term (term_registry.h).
TermEntry hlfd_term_entry();

}  // namespace medkd::distill
