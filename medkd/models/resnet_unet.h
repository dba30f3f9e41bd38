// U-Net with a ResNet-18/34 encoder, as segmentation_models_pytorch builds it
// (`smp.Unet(encoder_name="resnet34")`, smp 0.3; He et al., CVPR 2016; Ronneberger et al., MICCAI
// 2015), for 2-D and 3-D input (3-D uses cubic kernels everywhere).
//
// Encoder: torchvision's ResNet without avgpool/fc (resnet_encoder.h), five feature maps at strides
// 2, 4, 8, 16, 32. Decoder: smp's UnetDecoder with five DecoderBlocks, each: nearest upsampling ×2
// -> concatenation with the encoder feature of that resolution (none for the last block, which
// reaches full resolution; smp drops the identity "feature" of the input) -> conv3-BN-ReLU ->
// conv3-BN-ReLU (convs without bias, as smp's Conv2dReLU with batch norm). Head: smp's
// SegmentationHead, a 3×3 conv with bias to `num_classes`.
//
// Layer names follow smp: encoder.conv1, encoder.bn1, encoder.layer1.0.conv1, …,
// encoder.layer2.0.downsample.{0,1}; decoder.blocks.{i}.conv1.{0 conv, 1 BN},
// decoder.blocks.{i}.conv2.{0,1}; segmentation_head.0. Initialisation follows the references too:
// encoder as torchvision (Kaiming normal, fan_out), decoder as smp's initialize_decoder (Kaiming
// uniform, fan_in, ReLU) and head as initialize_head (Xavier uniform, zero bias).
//
// Parameters, 2-D, in_channels 3, one class: smp Unet resnet34 24,436,369 and resnet18 14,328,209
// (the counts are in tests/models/test_resnet_unet.cpp).
//
// Input [N, in_channels, (Z,) Y, X] with every spatial size divisible by 32; output logits
// [N, num_classes, (Z,) Y, X].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medkd/models/resnet_encoder.h"
#include "medkd/models/segmentation_model.h"

namespace medkd::models {

// smp's Unet default decoder_channels.
std::vector<int64_t> default_resnet_unet_decoder_channels();  // {256, 128, 64, 32, 16}

struct ResNetUNetOptions {
  ResNetUNetOptions(int spatial_dims, int64_t in_channels, int64_t num_classes)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_classes);
  // 18 or 34 (smp's default encoder is resnet34).
  TORCH_ARG(int64_t, depth) = 34;
  // Widths of layer1 … layer4 (torchvision's {64, 128, 256, 512}); smaller for tests.
  TORCH_ARG(std::vector<int64_t>, encoder_channels) = default_resnet_channels();
  // Output channels of the five decoder blocks, coarsest first.
  TORCH_ARG(std::vector<int64_t>, decoder_channels) = default_resnet_unet_decoder_channels();
};

// smp's DecoderBlock: upsample ×2 (nearest), concatenate the skip, two conv3-BN-ReLU.
// [N, in, *S], skip [N, skip, *2S] -> [N, out, *2S]
class ResNetUNetDecoderBlockImpl : public torch::nn::Module {
 public:
  ResNetUNetDecoderBlockImpl(int spatial_dims, int64_t in_channels, int64_t skip_channels,
                             int64_t out_channels);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& skip);

 private:
  torch::nn::Sequential conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(ResNetUNetDecoderBlock);

class ResNetUNetImpl : public SegmentationModelImpl {
 public:
  explicit ResNetUNetImpl(const ResNetUNetOptions& options);

  torch::Tensor forward(torch::Tensor x) override;  // [N, C_in, *S] -> [N, K, *S]
  // enc.0 … enc.4 (strides 2 … 32), dec.0 … dec.4 (strides 16 … 1, decoder_channels), logits.
  std::vector<TapSpec> tap_specs() const override { return tap_specs_; }
  std::string name() const override { return "resnet_unet"; }

  ResNetUNetOptions options;

 private:
  std::unique_ptr<ResNetEncoder> encoder_;
  std::vector<ResNetUNetDecoderBlock> blocks_;  // coarsest first
  nn::Conv head_{nullptr};
  std::vector<TapSpec> tap_specs_;
};
TORCH_MODULE(ResNetUNet);

// The keys of ModelConfig::options that resnet_unet reads: depth, encoder_channels,
// decoder_channels.
std::vector<std::string> resnet_unet_option_keys();
// Typed options from a config; a key of the wrong type is a medkd::Error naming it. Value ranges
// are checked by the constructor.
ResNetUNetOptions resnet_unet_options_from_config(const ModelConfig& config);

}  // namespace medkd::models
