// Deep supervision (Lee et al. 2015; nnU-Net): one segmentation loss on the full-resolution
// logits and on each coarser auxiliary head, against the target brought to that head's size.
//
// nnU-Net weights output i (0 = full resolution) by 1/2^i and normalises the weights to sum 1, so
// the coarsest heads, which only guide the early decoder, never dominate. (nnU-Net v2 also sets
// the coarsest head's weight to 0; pass explicit weights to do that.) Targets are downsampled by
// nearest neighbour at voxel centres (PyTorch's "nearest-exact", as nnU-Net v2 does), so a
// stride-2 head sees every second voxel starting from the second.
#pragma once

#include <functional>
#include <vector>

#include <torch/torch.h>

namespace medkd::losses {

// A segmentation loss: logits [N, K, *S] and target class indices [N, 1, *S] -> scalar.
using SegmentationLoss =
    std::function<torch::Tensor(const torch::Tensor& logits, const torch::Tensor& target)>;

// 1, 1/2, 1/4, … for `outputs` outputs, normalised to sum 1.
std::vector<double> deep_supervision_weights(size_t outputs);

// Class indices [N, 1, *S] -> [N, 1, *size] by nearest neighbour (same dtype); returned as is if
// the size already matches.
torch::Tensor downsample_target(const torch::Tensor& target, c10::IntArrayRef size);

class DeepSupervisionLoss {
 public:
  // `weights`: one per output, finest first, normalised to sum 1; empty = 1/2^i.
  explicit DeepSupervisionLoss(SegmentationLoss loss, std::vector<double> weights = {});

  // `outputs`: {logits, ds.1, ds.2, …} as SegmentationModelImpl::forward_with_deep_supervision
  // returns them; `target` at the resolution of outputs[0].
  torch::Tensor operator()(const std::vector<torch::Tensor>& outputs,
                           const torch::Tensor& target) const;

 private:
  SegmentationLoss loss_;
  std::vector<double> weights_;
};

}  // namespace medkd::losses
