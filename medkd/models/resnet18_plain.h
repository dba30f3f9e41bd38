// The HLFD student: a plain ResNet-18 segmenter without a decoder (Gorade et al., "Rethinking
// Intermediate Layers design in Knowledge Distillation for Kidney and Liver Tumor Segmentation",
// ISBI 2024, arXiv 2311.16700), for 2-D and 3-D input.
//
// The paper distils "from a teacher UNet++ model to a student ResNet18 model" and moves the
// teacher's pixel-level predictions "to interpolated student representations" / "interpolated
// student maps" (§2.2); it gives no further layer detail. The layers below follow the authors'
// code (github.com/vangorade/RethinkingKD_ISBI24, networks/resnet18.py, class Resnet18, which
// their train_kd.py uses as the student):
//   - the encoder is torchvision's resnet18 without avgpool and fc: conv1, bn1, ReLU, max pool,
//     layer1 … layer4 (resnet_encoder.h), with its attribute names;
//   - the output is `last_conv`, a 1×1 conv (with bias) from layer4 to the classes, bilinearly
//     upsampled (align_corners=True) from stride 32 to the input size: there is no decoder;
//   - the student's "decoder" representations s_d5, s_d4, s_d3, s_d2 are the encoder stages
//     layer3, layer2, layer1 and the stem, each bilinearly upsampled (align_corners=True) to the
//     input size. They are taps dec.0 … dec.3 here (coarsest source first, as the code numbers
//     them), computed only when asked for.
// What we had to interpret: the code repeats a 1-channel input three times to fit the 3-channel
// torchvision conv1 (x = cat([x, x, x])); here conv1 takes `in_channels` directly, which spans the
// same functions (the repeat is linear) with 3,136 (64·7·7) stem weights per input channel. In 3-D
// the kernels are cubic and the upsampling trilinear. `encoder_channels` (torchvision's widths by
// default) exists only so that tests can build a small network.
//
// Parameters, 2-D, in_channels 3, 2 classes (the code's num_classes=2): 11,176,512 (torchvision
// resnet18 less fc) + 1,026 (last_conv) = 11,177,538.
//
// Taps: enc.0 stem [c0, stride 2], enc.1 … enc.4 layer1 … layer4 [c0, c1, c2, c3; strides 4 …
// 32] (the code's s_e1 … s_e5); dec.0 … dec.3 [c2, c1, c0, c0; stride 1] (s_d5 … s_d2, so
// dec.last is the upsampled stem); logits.
//
// Input [N, in_channels, (Z,) Y, X] with every spatial size divisible by 32; output logits
// [N, num_classes, (Z,) Y, X].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medkd/models/resnet_encoder.h"
#include "medkd/models/segmentation_model.h"

namespace medkd::models {

struct ResNet18PlainOptions {
  ResNet18PlainOptions(int spatial_dims, int64_t in_channels, int64_t num_classes)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_classes);
  // Widths of layer1 … layer4 (torchvision's {64, 128, 256, 512}).
  TORCH_ARG(std::vector<int64_t>, encoder_channels) = default_resnet_channels();
};

class ResNet18PlainImpl : public SegmentationModelImpl {
 public:
  explicit ResNet18PlainImpl(const ResNet18PlainOptions& options);

  torch::Tensor forward(torch::Tensor x) override;  // [N, C_in, *S] -> [N, K, *S]
  std::vector<TapSpec> tap_specs() const override { return tap_specs_; }
  std::string name() const override { return "resnet18_plain"; }

  ResNet18PlainOptions options;

 private:
  std::unique_ptr<ResNetEncoder> encoder_;
  nn::Conv last_conv_{nullptr};
  std::vector<TapSpec> tap_specs_;
};
TORCH_MODULE(ResNet18Plain);

// The keys of ModelConfig::options that resnet18_plain reads: encoder_channels.
std::vector<std::string> resnet18_plain_option_keys();
ResNet18PlainOptions resnet18_plain_options_from_config(const ModelConfig& config);

}  // namespace medkd::models
