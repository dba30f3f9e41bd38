// Mobile U-Net: a MobileNetV2 encoder (Sandler et al., "MobileNetV2: Inverted Residuals and Linear
// Bottlenecks", CVPR 2018) with a light U-Net decoder of depthwise-separable convolutions, for 2-D
// and 3-D input. The lightweight student that the KD review (review-kd-lightweight-medical-
// segmentation, §3, ref. [11]: a "student model based on Mobile U-Net" for spinal images) cites.
// There is no single reference Mobile U-Net; this is the design:
//
// Encoder: torchvision's mobilenet_v2 `features`, layer for layer and with its names.
//   features.0        conv3 stride 2 (no bias) -> BN -> ReLU6, 32 channels       (.0 conv, .1 BN)
//   features.1 … 17   inverted residual blocks, the paper's Table 2 (t, c, n, s): (1,16,1,1)
//                     (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1).
//                     Each: 1×1 expand to t·in -> BN -> ReLU6 (absent for t = 1), 3×3
//                     depthwise (stride s on the first of the n repeats) -> BN -> ReLU6, 1×1
//                     linear projection -> BN, plus the input when stride 1 and in == out
//                     (features.i.conv.{0.0, 0.1, 1.0, 1.1, 2, 3}; for t = 1 {0.0, 0.1, 1, 2})
//   features.18       1×1 conv to 1280 -> BN -> ReLU6 (kept by default, as smp's mobilenet_v2
//                     encoder keeps it; `last_conv: false` drops it and the bottleneck is the
//                     320-channel features.17)
// `width` is the paper's width multiplier, applied as torchvision does: every width (32, Table 2's
// c) times `width`, rounded to a multiple of 8 (never below 8, nor below 90% of the product), and
// the 1280 only ever widened (× max(1, width)). With width 1, in_channels 3 and the last conv the
// encoder has torchvision's 2,223,872 parameters (mobilenet_v2's 3,504,872 less the 1,281,000 of
// its classifier).
//
// Stages (smp's split of `features`): enc.0 = features[0:2] (stride 2, 16), enc.1 = [2:4] (4, 24),
// enc.2 = [4:7] (8, 32), enc.3 = [7:14] (16, 96), enc.4 = [14:] (32, 1280 or 320); widths at
// width 1.
//
// Decoder: smp's U-Net decoder layout with MobileNet (V1, Howard et al. 2017, Fig. 3) layers in
// place of full convolutions. Five blocks, coarsest first; block i: nearest upsampling ×2 ->
// concatenation with enc.(3-i) (none for the last block, which reaches full resolution) -> two
// depthwise-separable convs, each depthwise 3×3 -> BN -> ReLU6 -> pointwise 1×1 -> BN -> ReLU6
// (convs without bias). Its widths mirror the encoder by default: {96, 32, 24, 16, 16} at width 1
// (enc.3 … enc.0's widths, then enc.0's again). Head: a 1×1 conv with bias. Every conv is
// initialised as torchvision's MobileNetV2 does (Kaiming normal, fan_out; zero bias).
//
// Names: features.*, decoder.blocks.{i}.conv{1,2}.{depthwise,pointwise}.{0 conv, 1 BN},
// segmentation_head.0.
//
// Taps: enc.0 … enc.4 (above), dec.0 … dec.4 (strides 16, 8, 4, 2, 1; decoder widths; dec.last
// the full-resolution one, before the head), logits.
//
// Input [N, in_channels, (Z,) Y, X] with every spatial size divisible by 32; output logits
// [N, num_classes, (Z,) Y, X].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medkd/models/segmentation_model.h"
#include "medkd/nn/layers.h"

namespace medkd::models {

struct MobileUNetOptions {
  MobileUNetOptions(int spatial_dims, int64_t in_channels, int64_t num_classes)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_classes);
  // The width multiplier (torchvision's width_mult), > 0.
  TORCH_ARG(double, width) = 1.0;
  // Keep features.18, the 1×1 conv to 1280 channels, as the bottleneck.
  TORCH_ARG(bool, last_conv) = true;
  // Output channels of the five decoder blocks, coarsest first; empty mirrors the encoder.
  TORCH_ARG(std::vector<int64_t>, decoder_channels) = std::vector<int64_t>{};
};

// torchvision's _make_divisible: `value` rounded to the nearest multiple of `divisor`, at least
// `divisor`, and raised by one step where rounding lost more than 10%.
int64_t make_divisible(double value, int64_t divisor = 8);

// torchvision's Conv2dNormActivation with ReLU6: conv without bias (.0) -> BN (.1) -> ReLU6. A
// module of its own rather than a Sequential, because a Sequential cannot hold a Sequential.
// [N, in, *S] -> [N, out, *S / stride]
class ConvNormReLU6Impl : public torch::nn::Module {
 public:
  ConvNormReLU6Impl(int spatial_dims, int64_t in_channels, int64_t out_channels, int64_t kernel,
                    int64_t stride = 1, int64_t groups = 1);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  nn::Conv conv_{nullptr};
  nn::Norm norm_{nullptr};
};
TORCH_MODULE(ConvNormReLU6);

// torchvision's InvertedResidual. [N, in, *S] -> [N, out, *S / stride]
class InvertedResidualImpl : public torch::nn::Module {
 public:
  InvertedResidualImpl(int spatial_dims, int64_t in_channels, int64_t out_channels, int64_t stride,
                       int64_t expand_ratio);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential conv_{nullptr};
  bool residual_;
};
TORCH_MODULE(InvertedResidual);

// Depthwise 3×3 -> BN -> ReLU6 -> pointwise 1×1 -> BN -> ReLU6. [N, in, *S] -> [N, out, *S]
class SeparableConvImpl : public torch::nn::Module {
 public:
  SeparableConvImpl(int spatial_dims, int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ConvNormReLU6 depthwise_{nullptr}, pointwise_{nullptr};
};
TORCH_MODULE(SeparableConv);

// A decoder block: upsample ×2 (nearest), concatenate the skip (if any), two separable convs.
// [N, in, *S], skip [N, skip, *2S] -> [N, out, *2S]
class MobileUNetDecoderBlockImpl : public torch::nn::Module {
 public:
  MobileUNetDecoderBlockImpl(int spatial_dims, int64_t in_channels, int64_t skip_channels,
                             int64_t out_channels);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& skip);

 private:
  SeparableConv conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(MobileUNetDecoderBlock);

class MobileUNetImpl : public SegmentationModelImpl {
 public:
  explicit MobileUNetImpl(const MobileUNetOptions& options);

  torch::Tensor forward(torch::Tensor x) override;  // [N, C_in, *S] -> [N, K, *S]
  std::vector<TapSpec> tap_specs() const override { return tap_specs_; }
  std::string name() const override { return "mobile_unet"; }

  MobileUNetOptions options;

 private:
  torch::nn::Sequential features_{nullptr};
  std::vector<size_t> stage_ends_;  // enc.s is the output of features[stage_ends_[s] - 1]
  std::vector<MobileUNetDecoderBlock> blocks_;  // coarsest first
  nn::Conv head_{nullptr};
  std::vector<TapSpec> tap_specs_;
};
TORCH_MODULE(MobileUNet);

// The keys of ModelConfig::options that mobile_unet reads: width, last_conv, decoder_channels.
std::vector<std::string> mobile_unet_option_keys();
MobileUNetOptions mobile_unet_options_from_config(const ModelConfig& config);

}  // namespace medkd::models
