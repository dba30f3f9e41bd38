#include "medkd/distill/kd_ops.h"

#include <vector>

#include "medkd/core/error.h"
#include "medkd/data/resampling.h"
#include "medkd/nn/resample.h"

namespace medkd::distill {

namespace F = torch::nn::functional;

void check_feature_map(const torch::Tensor& x, const std::string& term, const std::string& what) {
  MEDKD_CHECK(x.defined(), term, ": ", what, " is an undefined tensor");
  MEDKD_CHECK(x.dim() == 4 || x.dim() == 5, term, ": ", what,
              " must be [N, C, *spatial] with 2 or 3 spatial axes, got ", x.sizes());
  MEDKD_CHECK(x.numel() > 0, term, ": ", what, " is empty: ", x.sizes());
  MEDKD_CHECK(x.is_floating_point(), term, ": ", what, " must be floating point, got ",
              x.scalar_type());
}

void check_same_batch_and_rank(const torch::Tensor& student, const torch::Tensor& teacher,
                               const std::string& term) {
  MEDKD_CHECK(student.dim() == teacher.dim() && student.size(0) == teacher.size(0), term,
              ": student ", student.sizes(), " and teacher ", teacher.sizes(),
              " must have the same batch size and number of spatial axes");
}

torch::Tensor to_loss_precision(const torch::Tensor& x) {
  if (x.scalar_type() == torch::kHalf || x.scalar_type() == torch::kBFloat16)
    return x.to(torch::kFloat);
  return x;
}

torch::Tensor resize_to(const torch::Tensor& x, at::IntArrayRef spatial) {
  MEDKD_CHECK((x.dim() == 4 || x.dim() == 5) && static_cast<int64_t>(spatial.size()) == x.dim() - 2,
              "resize: cannot bring ", x.sizes(), " to spatial size ", spatial,
              " (expected [N, C, *spatial] with 2 or 3 spatial axes and a size per axis)");
  if (x.sizes().slice(2) == spatial) return x;
  for (int64_t size : spatial)
    MEDKD_CHECK(size >= 1, "resize: spatial size must be positive, got ", spatial);
  return nn::resize(x, spatial.vec(), nn::Interpolation::kLinear);  // [N, C, *spatial]
}

torch::Tensor attention_map(const torch::Tensor& f, double p) {
  check_feature_map(f, "attention map", "feature map");
  MEDKD_CHECK(p > 0, "attention map: p must be > 0, got ", p);
  const torch::Tensor energy = to_loss_precision(f).abs().pow(p).mean(1);  // [N, *S]
  const torch::Tensor flat = energy.reshape({f.size(0), -1});              // [N, prod(S)]
  return flat / flat.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
}

torch::Tensor interpolate_channels(const torch::Tensor& x, int64_t channels) {
  MEDKD_CHECK(x.dim() >= 3, "interpolate channels: expected [N, C, *spatial], got ", x.sizes());
  MEDKD_CHECK(channels >= 1, "interpolate channels: channel count must be >= 1, got ", channels,
              " for ", x.sizes());
  if (x.size(1) == channels) return x;
  // Each voxel's channel vector becomes one 1-D signal of length C: [N·prod(S), 1, C].
  const torch::Tensor last = x.movedim(1, -1);  // [N, *S, C]
  std::vector<int64_t> out_sizes = last.sizes().vec();
  out_sizes.back() = channels;
  const torch::Tensor signals = last.reshape({-1, 1, x.size(1)});
  const torch::Tensor resized =
      F::interpolate(signals, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{channels})
                                  .mode(torch::kLinear)
                                  .align_corners(false));  // [N·prod(S), 1, channels]
  return resized.reshape(out_sizes).movedim(-1, 1);        // [N, channels, *S]
}

torch::Tensor resize_label(const torch::Tensor& label, at::IntArrayRef size) {
  torch::Tensor out = label;
  for (size_t axis = 0; axis < size.size(); ++axis) {
    const int64_t dim = 2 + static_cast<int64_t>(axis);
    if (out.size(dim) == size[axis]) continue;
    out = out.index_select(
        dim, data::nearest_source_indices(out.size(dim), size[axis]).to(out.device()));
  }
  return out;
}

}  // namespace medkd::distill
