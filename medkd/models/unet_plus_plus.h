// UNet++ (Zhou et al., "UNet++: A Nested U-Net Architecture for Medical Image Segmentation",
// DLMIA 2018), for 2-D and 3-D input. The HLFD teacher (Gorade et al., ISBI 2024).
//
// Nodes X(i, j): level i (resolution 1/2^i), column j. The backbone X(i, 0) is a VGG block of the
// max-pooled (2×) X(i-1, 0) (the input for i = 0); every nested node is a VGG block of the
// concatenation [X(i, 0), …, X(i, j-1), up(X(i+1, j-1))] (the paper's dense skip pathways, Eq. 1),
// `up` a bilinear (3-D: trilinear) ×2 upsampling with align_corners=True. A VGG block is
// conv3 -> BN -> ReLU -> conv3 -> BN -> ReLU, convs with bias; node X(i, ·) has filters[i]
// channels. Head: a 1×1 conv (with bias) on X(0, L-1), L = len(filters). With `deep_supervision`,
// every X(0, j), j = 1 … L-1, gets its own 1×1 head (paper §2, "deep supervision").
//
// Layers and names follow the widely used PyTorch NestedUNet (github.com/4uiiurz1/
// pytorch-nested-unet, archs.py; the same network as bigmb's Nest-of-Unets NestedUNet that the
// HLFD code trains as its teacher, networks/NestedUNet.py): conv{i}_{j}.{conv1,bn1,conv2,bn2},
// `final` (or final1 … final{L-1} with deep supervision, final{L-1} giving the logits). The
// default filters {64, …, 1024} are bigmb's and HLFD's; 4uiiurz1 uses {32, …, 512}.
//
// Taps (DESIGN.md §4):
//   enc.i         X(i, 0), the backbone                                  [filters[i], stride 2^i]
//   dec.k         the last node of each level, coarsest first: X(L-2-k, k+1), so for five levels
//                 dec.0 … dec.3 = X(3,1), X(2,2), X(1,3), X(0,4); dec.last = X(0, L-1)
//   x{i}_{j}      the other nested nodes (x0_1, x1_1, …, named as the reference's variables):
//                 HLFD's code distils from some of them (its teacher "middle" list is
//                 X(2,0), X(1,1), X(3,0); its pixel-level list X(0,1), X(0,2), X(0,3)), while the
//                 paper's "middle layers" (§2.1: interpolated to the smallest and concatenated)
//                 map onto enc.1 … enc.3
//   logits        final{L-1}(X(0, L-1))
//   ds.m          with deep supervision, m = 1 … L-2: final{L-1-m}(X(0, L-1-m)), all at stride 1,
//                 ds.1 the head nearest the output (X(0, L-2)). The paper averages the heads'
//                 losses with equal weights; DeepSupervisionLoss weights 1/2^m unless told.
//
// Parameters, 2-D, in_channels 3, one class, no deep supervision: 9,163,329 with 4uiiurz1's
// filters {32, …, 512}, 36,629,633 with the default {64, …, 1024} (counted in
// tests/models/test_unet_plus_plus.cpp).
//
// Input [N, in_channels, (Z,) Y, X] with every spatial size divisible by 2^(L-1) (16 by default);
// output logits [N, num_classes, (Z,) Y, X].
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "medkd/models/segmentation_model.h"
#include "medkd/nn/layers.h"

namespace medkd::models {

// {64, 128, 256, 512, 1024}.
std::vector<int64_t> default_unet_plus_plus_filters();

struct UNetPlusPlusOptions {
  UNetPlusPlusOptions(int spatial_dims, int64_t in_channels, int64_t num_classes)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_classes);
  // Channels of the nodes of each level, finest first; its length L is the number of levels.
  TORCH_ARG(std::vector<int64_t>, filters) = default_unet_plus_plus_filters();
  TORCH_ARG(bool, deep_supervision) = false;
};

// The reference's VGGBlock: conv3 -> BN -> ReLU -> conv3 -> BN -> ReLU. [N, in, *S] -> [N, out, *S]
class VGGBlockImpl : public torch::nn::Module {
 public:
  VGGBlockImpl(int spatial_dims, int64_t in_channels, int64_t middle_channels,
               int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  nn::Conv conv1_{nullptr}, conv2_{nullptr};
  nn::Norm bn1_{nullptr}, bn2_{nullptr};
};
TORCH_MODULE(VGGBlock);

class UNetPlusPlusImpl : public SegmentationModelImpl {
 public:
  explicit UNetPlusPlusImpl(const UNetPlusPlusOptions& options);

  torch::Tensor forward(torch::Tensor x) override;  // [N, C_in, *S] -> [N, K, *S]
  std::vector<TapSpec> tap_specs() const override { return tap_specs_; }
  std::string name() const override { return "unet_plus_plus"; }

  UNetPlusPlusOptions options;

 private:
  // The tap name of node X(level, column).
  std::string node_tap(size_t level, size_t column) const;

  std::map<std::pair<size_t, size_t>, VGGBlock> nodes_;  // (level, column) -> conv{level}_{column}
  std::vector<nn::Conv> heads_;  // heads_[j - 1] on X(0, j); only the last without supervision
  std::vector<TapSpec> tap_specs_;
};
TORCH_MODULE(UNetPlusPlus);

// The keys of ModelConfig::options that unet_plus_plus reads: filters, deep_supervision.
std::vector<std::string> unet_plus_plus_option_keys();
UNetPlusPlusOptions unet_plus_plus_options_from_config(const ModelConfig& config);

}  // namespace medkd::models
