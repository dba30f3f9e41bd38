// Pixel-wise (voxel-wise) knowledge distillation: the temperature-softened KL divergence between
// the teacher's and the student's class distributions at every voxel.
//
// Hinton, Vinyals & Dean, "Distilling the knowledge in a neural network", 2015, applied per voxel
// as Teach-Former's pixel-wise distillation and HLFD's / EMKD's prediction-map distillation.
#pragma once

#include <torch/torch.h>

#include "medkd/distill/term_registry.h"

namespace medkd::distill {

// KL(teacher ‖ student) per voxel, averaged over voxels and the batch, times T²:
//   pixel_kl = T² · mean_{n, voxels} Σ_k q_k (log q_k − log p_k),
//   q = softmax(teacher_logits / T), p = softmax(student_logits / T), softmax over channels.
// The T² keeps the gradient's scale independent of T (Hinton et al.). Log-probabilities come from
// log_softmax, never log(softmax), so confident teachers do not produce log 0.
//
// student_logits, teacher_logits: [N, K, *S] (2 or 3 spatial axes, K >= 2), the same shape.
// temperature: T > 0 (DESIGN: 1 for Teach-Former, 4 in the HLFD and EMKD recipes).
// voxel_weights: optional [N, 1, *S], >= 0 (any real or bool dtype). With weights the mean
// becomes Σ w·kl / Σ w over voxels and batch; when Σ w = 0 the result is 0 (still connected to
// the student's graph, with a zero gradient), so an empty edge or body set is not NaN.
// Returns a float32 scalar (float64 for float64 inputs). Throws medkd::Error naming both shapes
// when the logits differ in shape or the weights are not [N, 1, *S], and on K < 2, T <= 0 or a
// negative weight.
torch::Tensor pixel_kl(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                       double temperature, const torch::Tensor& voxel_weights = {});

// pixel_kl with every voxel's contribution scaled by `voxel_weights` ([N, 1, *S'], resized to the
// logits' size) while keeping the plain mean's normaliser: T² · Σ w·kl / voxels. What
// multi_teacher: confidence uses.
torch::Tensor weighted_pixel_kl(const torch::Tensor& student_logits,
                                const torch::Tensor& teacher_logits, double temperature,
                                const torch::Tensor& voxel_weights);

// Where a foreground-aware pixel_kl finds the foreground: nowhere (the plain mean), the label
// (class > 0), the teacher's prediction (argmax > 0), or either.
enum class KlForeground { kNone, kLabel, kTeacher, kUnion };

// [N, 1, *S] bool: the foreground voxels at the logits' size. `target` [N, 1, *S'] int labels
// (resized nearest to S when S' differs), teacher_logits [N, K, *S]. An undefined target (a patch
// of an unlabelled image) takes the teacher's prediction whatever `source` says.
torch::Tensor kl_foreground_mask(KlForeground source, const torch::Tensor& target,
                                 const torch::Tensor& teacher_logits);

// Foreground-aware pixel KL: with tumours at 0.06% of the voxels a plain mean is almost all about
// background, so foreground and background voxels are averaged separately and mixed:
//   w_f · T²·mean_{fg} kl + (1 − w_f) · T²·mean_{bg} kl,
// each mean weighted by `voxel_weights` when given ([N, 1, *S], multi_teacher: confidence).
// When the batch has no foreground (or no background) voxel, the other set's mean alone.
// foreground: [N, 1, *S] bool or 0/1; foreground_weight w_f in [0, 1].
torch::Tensor balanced_pixel_kl(const torch::Tensor& student_logits,
                                const torch::Tensor& teacher_logits, double temperature,
                                const torch::Tensor& foreground, double foreground_weight,
                                const torch::Tensor& voxel_weights = {});

// The `pixel_kl` distillation term (term_registry.h).
TermEntry pixel_kl_term_entry();

}  // namespace medkd::distill
