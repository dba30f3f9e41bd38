// Tensor helpers shared by the knowledge-distillation loss functions of medkd::distill: checks,
// precision, spatial resizing, channel interpolation and the attention map of Zagoruyko &
// Komodakis that attention transfer and HLFD both build on.
//
// Every distillation function takes tensors [N, C, *spatial] with 2 or 3 spatial axes (2-D and
// 3-D models alike). Student tensors carry gradients; teacher tensors are used as given (the
// caller runs teachers under InferenceMode), never detached or re-attached here.
#pragma once

#include <string>

#include <torch/torch.h>

namespace medkd::distill {

// Throws medkd::Error unless `x` is a floating-point tensor [N, C, *spatial] with 2 or 3 spatial
// axes and no empty axis. `term` names the loss, `what` the argument ("student logits"), so the
// message reads "pixel_kl: student logits must be [N, C, *spatial] with 2 or 3 spatial axes, got
// [2, 3]".
void check_feature_map(const torch::Tensor& x, const std::string& term, const std::string& what);

// Throws medkd::Error unless student and teacher have the same batch size and the same number of
// spatial axes (channels and spatial sizes may differ); names both shapes.
void check_same_batch_and_rank(const torch::Tensor& student, const torch::Tensor& teacher,
                               const std::string& term);

// Half and bfloat16 (AMP) -> float32, so that sums over a volume and softmaxes keep their
// precision; float32 and float64 are returned as they are.
torch::Tensor to_loss_precision(const torch::Tensor& x);

// x [N, C, *S] -> [N, C, *spatial] by bilinear (2 spatial axes) or trilinear (3) interpolation,
// align_corners = false (PyTorch's default, as DESIGN's `resize`). Returned as is when the size
// already matches, so equal sizes never pay for (or blur through) an interpolation.
torch::Tensor resize_to(const torch::Tensor& x, at::IntArrayRef spatial);

// Class indices [N, 1, *S_l] -> [N, 1, *size] by nearest-exact index selection (no blending of
// class indices); returned as is when the size already matches.
torch::Tensor resize_label(const torch::Tensor& label, at::IntArrayRef size);

// Attention map of Zagoruyko & Komodakis (ICLR 2017, "Paying more attention to attention"),
// DESIGN's at(F):
//   at(F) = normalize_L2_over_space( mean_c |F_c|^p ),
// f [N, C, *S] -> [N, prod(S)]. The L2 norm is taken per sample and clamped below at 1e-12, as
// torch.nn.functional.normalize does, so an all-zero map stays zero instead of NaN. We take |F|
// before the power so that odd p is well defined (for the even p = 2 and 4 that AT and HLFD use it
// changes nothing); p must be > 0.
torch::Tensor attention_map(const torch::Tensor& f, double p);

// x [N, C, *S] -> [N, channels, *S] by linear interpolation along the channel axis with
// align_corners = false, exactly as F.interpolate(mode="linear") on the channel axis of each
// voxel would: output channel j samples input position (j + 0.5)·C/channels − 0.5, clamped to
// [0, C − 1]. Returned as is when C == channels.
torch::Tensor interpolate_channels(const torch::Tensor& x, int64_t channels);

}  // namespace medkd::distill
