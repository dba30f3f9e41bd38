// The ResNet-18/34 feature extractor (He et al., "Deep Residual Learning for Image Recognition",
// CVPR 2016) shared by the zoo's ResNet networks (resnet_unet, resnet18_plain), for 2-D and 3-D.
//
// It is torchvision's `resnet18` / `resnet34` without `avgpool` and `fc`, layer for layer and with
// torchvision's attribute names: conv1 (7×7, stride 2, no bias), bn1, ReLU, max pool 3×3 stride 2
// (padding 1), then layer1 … layer4 of basic blocks (`layerS.B.conv1`, `.bn1`, `.conv2`, `.bn2`,
// and `.downsample.0` (1×1 conv, stride 2) / `.downsample.1` (BN) where the shape changes). In 3-D
// every kernel is cubic (7×7×7 stem, 3×3×3 blocks). With the default widths and in_channels 3 it
// has torchvision's 11,176,512 (ResNet-18) or 21,284,672 (ResNet-34) parameters: the classifiers'
// 11,689,512 and 21,797,672 less the 512·1000 + 1000 of `fc`.
//
// The encoder is not a module of its own: it registers its layers on the network that owns it, so
// that the owner decides the prefix (smp's U-Net keeps them under `encoder.`, the HLFD student at
// the top level, both as their references do).
//
// Input [N, in_channels, *S] with S divisible by 32; the stage outputs are
//   stem   relu(bn1(conv1(x)))  [N, channels[0], *S/2]
//   layer1                      [N, channels[0], *S/4]   (after the max pool)
//   layer2                      [N, channels[1], *S/8]
//   layer3                      [N, channels[2], *S/16]
//   layer4                      [N, channels[3], *S/32]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medkd/nn/layers.h"

namespace medkd::models {

// torchvision's BasicBlock (expansion 1): conv3×3 (stride) -> BN -> ReLU -> conv3×3 -> BN, plus the
// input, or `downsample` (1×1 conv with the stride -> BN) of it where stride or channels change;
// ReLU after the sum. [N, in, *S] -> [N, channels, *S / stride]
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int spatial_dims, int64_t in_channels, int64_t channels, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  nn::Conv conv1_{nullptr}, conv2_{nullptr};
  nn::Norm bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential downsample_{nullptr};  // null when the identity fits
};
TORCH_MODULE(BasicBlock);

// torchvision's widths {64, 128, 256, 512} of layer1 … layer4 (the stem has layer1's).
std::vector<int64_t> default_resnet_channels();
// Basic blocks per layer: 18 -> {2, 2, 2, 2}, 34 -> {3, 4, 6, 3} (He et al. 2016, Table 1).
// Another depth is a medkd::Error naming `model` and the value.
std::vector<int64_t> resnet_blocks_per_layer(int64_t depth, const std::string& model);

class ResNetEncoder {
 public:
  static constexpr int64_t kTotalStride = 32;

  // Registers conv1, bn1, layer1 … layer4 on `owner`. `channels`: the widths of layer1 … layer4
  // (4 entries, each >= 1); errors name `model`.
  ResNetEncoder(torch::nn::Module& owner, const std::string& model, int spatial_dims,
                int64_t in_channels, int64_t depth, const std::vector<int64_t>& channels);

  // The five stage outputs, finest first (see the header comment).
  std::vector<torch::Tensor> forward(torch::Tensor x);
  // Channels of the five stage outputs: {c0, c0, c1, c2, c3}.
  std::vector<int64_t> stage_channels() const;
  // Strides of the five stage outputs: {2, 4, 8, 16, 32}.
  static std::vector<int64_t> stage_strides() { return {2, 4, 8, 16, 32}; }

 private:
  std::vector<int64_t> channels_;
  nn::Conv conv1_{nullptr};
  nn::Norm bn1_{nullptr};
  std::vector<torch::nn::Sequential> layers_;
};

}  // namespace medkd::models
