#include "medkd/losses/deep_supervision.h"

#include <numeric>

#include "medkd/core/error.h"
#include "medkd/data/resampling.h"

namespace medkd::losses {
namespace {

std::vector<double> normalised(std::vector<double> weights) {
  for (double w : weights) MEDKD_CHECK(w >= 0, "deep supervision: weights must be >= 0, got ", w);
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  MEDKD_CHECK(total > 0, "deep supervision: the weights sum to 0");
  for (double& w : weights) w /= total;
  return weights;
}

}  // namespace

std::vector<double> deep_supervision_weights(size_t outputs) {
  MEDKD_CHECK(outputs >= 1, "deep supervision needs at least one output");
  std::vector<double> weights(outputs);
  for (size_t i = 0; i < outputs; ++i) weights[i] = 1.0 / static_cast<double>(1ULL << i);
  return normalised(weights);
}

torch::Tensor downsample_target(const torch::Tensor& target, c10::IntArrayRef size) {
  MEDKD_CHECK(target.dim() >= 3 && target.size(1) == 1 &&
                  static_cast<int64_t>(size.size()) == target.dim() - 2,
              "deep supervision: target [N, 1, *spatial] ", target.sizes(),
              " cannot be brought to spatial size ", size);
  if (target.sizes().slice(2) == size) return target;
  for (size_t axis = 0; axis < size.size(); ++axis)
    MEDKD_CHECK(size[axis] >= 1 && size[axis] <= target.size(2 + axis),
                "deep supervision: a head of spatial size ", size, " is larger than the target ",
                target.sizes());
  // Nearest-exact by index selection: class indices are copied, never interpolated.
  torch::Tensor out = target;
  for (size_t axis = 0; axis < size.size(); ++axis) {
    const int64_t dim = 2 + int64_t(axis);
    out = out.index_select(
        dim, data::nearest_source_indices(out.size(dim), size[axis]).to(out.device()));
  }
  return out;  // [N, 1, *size]
}

DeepSupervisionLoss::DeepSupervisionLoss(SegmentationLoss loss, std::vector<double> weights)
    : loss_(std::move(loss)), weights_(weights.empty() ? weights : normalised(weights)) {
  MEDKD_CHECK(loss_, "deep supervision: no loss given");
}

torch::Tensor DeepSupervisionLoss::operator()(const std::vector<torch::Tensor>& outputs,
                                              const torch::Tensor& target) const {
  MEDKD_CHECK(!outputs.empty(), "deep supervision: no outputs given");
  MEDKD_CHECK(weights_.empty() || weights_.size() == outputs.size(),
              "deep supervision: ", weights_.size(), " weights for ", outputs.size(), " outputs");
  const auto weights = weights_.empty() ? deep_supervision_weights(outputs.size()) : weights_;
  torch::Tensor total;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (weights[i] == 0) continue;
    MEDKD_CHECK(outputs[i].dim() == target.dim(), "deep supervision: output ", i, " ",
                outputs[i].sizes(), " and target ", target.sizes(), " differ in rank");
    const torch::Tensor term =
        weights[i] * loss_(outputs[i], downsample_target(target, outputs[i].sizes().slice(2)));
    total = total.defined() ? total + term : term;
  }
  return total;
}

}  // namespace medkd::losses
