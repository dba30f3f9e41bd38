// 3D UX-Net, a large-kernel ConvNet with the layout of a hierarchical transformer (Lee et al.,
// "3D UX-Net: A Large Kernel Volumetric ConvNet Modernizing Hierarchical Transformer for Medical
// Image Segmentation", ICLR 2023), for 3-D and 2-D input. Teach-Former (Hossain et al.) uses it as
// student S3.
//
// Layer names and counts follow the authors' code, github.com/MASILab/3DUX-Net
// (networks/UXNet_3D/network_backbone.py, class UXNET, and uxnet_encoder.py in the version with
// 7³ depthwise kernels and grouped pointwise convs), with MONAI's UnetrBasicBlock, UnetrUpBlock and
// UnetOutBlock (medkd/nn/unetr_blocks.h) for the decoder:
//
//   uxnet_3d: a stem (conv 7, stride 2, padding 3 -> channels-first layer norm, eps 1e-6), three
//     downsampling layers (layer norm -> conv 2, stride 2), four stages of ux_blocks and a layer
//     norm per stage output (norm0..norm3): feat_size channels at strides 2, 4, 8, 16. A ux_block
//     is depthwise conv k (dwconv) -> layer norm over channels (eps 1e-6) -> 1×1 conv to 4·dim
//     with groups = dim (pwconv1) -> GELU -> 1×1 conv back to dim with groups = dim (pwconv2) ->
//     layer scale gamma -> residual. The grouped 1×1 convs are the reference's: each channel
//     expands to its own 4 channels and folds back, rather than ConvNeXt's full pointwise MLP.
//   encoder1..encoder5: UNETR-style residual conv blocks (two conv 3 without bias, norm,
//     LeakyReLU 0.01, a 1×1 conv on the residual when the width changes) on the input and on the
//     four stage outputs: feat_size[0] at stride 1, feat_size[1..3] at strides 2, 4, 8,
//     hidden_size at stride 16.
//   decoder5..decoder2: transposed conv 2 (stride 2, no bias), concatenation with the skip, a
//     residual block; decoder1: a residual block at full resolution; out: a 1×1 conv with bias.
//
// The reference builds the output block for 48 input channels whatever feat_size[0] is (so any
// other width fails at run time); here it always follows feat_size[0], which is the same layer for
// the default (teacher) configuration. The reference's UXNET also ignores its
// layer_scale_init_value argument (it passes 1e-6 to the encoder); here the option is used.
// Stochastic depth (drop_path_rate 0 in the reference) is left out.
//
// Parameter counts (pinned in tests/models/test_ux_net.cpp): UXNET(in_chans=1, out_chans=13,
// depths=[2,2,2,2], feat_size=[48,96,192,384], hidden_size=768) has 53,006,461 (the paper's
// 53.0 M); the ux_net_light preset (feat_size [16, 32, 64, 128], hidden_size 256) 6,009,565.
//
// Input [N, in_channels, (Z,) Y, X] with every spatial size divisible by 16; output logits
// [N, num_classes, (Z,) Y, X]. Taps: enc.0..enc.4 (encoder1..encoder5: feat_size[0..3] and
// hidden_size at strides 1, 2, 4, 8, 16; enc.4 is the bottleneck), dec.0..dec.4 (decoder5..
// decoder1: feat_size[3..0] at strides 8, 4, 2, 1, then decoder1's feat_size[0] at stride 1, which
// is dec.last), logits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medkd/models/segmentation_model.h"
#include "medkd/nn/conv_blocks.h"

namespace medkd::models {

// {2, 2, 2, 2} and {48, 96, 192, 384}, the reference's defaults. (Functions, not braced
// defaults: GCC 12 warns falsely about an initializer_list inlined into every constructor.)
std::vector<int64_t> default_ux_net_depths();
std::vector<int64_t> default_ux_net_feat_size();

struct UXNetOptions {
  UXNetOptions(int spatial_dims, int64_t in_channels, int64_t num_classes)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_classes);
  // ux_blocks per stage, four stages.
  TORCH_ARG(std::vector<int64_t>, depths) = default_ux_net_depths();
  // Channels of the four stages (strides 2, 4, 8, 16).
  TORCH_ARG(std::vector<int64_t>, feat_size) = default_ux_net_feat_size();
  // Channels of encoder5, the bottleneck.
  TORCH_ARG(int64_t, hidden_size) = 768;
  // Depthwise kernel of the ux_blocks (7 in the reference; an earlier version used 13).
  TORCH_ARG(int64_t, kernel_size) = 7;
  // Initial layer scale gamma; 0 builds no gamma, as the reference.
  TORCH_ARG(double, layer_scale_init_value) = 1e-6;
  // MONAI's norm_name for the decoder blocks: instance (no affine parameters, MONAI's default)
  // or batch.
  TORCH_ARG(nn::NormKind, norm) = nn::NormKind::kInstance;
  // Residual decoder blocks (UnetResBlock) or plain ones (UnetBasicBlock).
  TORCH_ARG(bool, res_block) = true;
  // What name() reports: the registry entry the model was made from (a preset names itself).
  TORCH_ARG(std::string, registry_name) = "ux_net";
};

class UXNetImpl : public SegmentationModelImpl {
 public:
  explicit UXNetImpl(const UXNetOptions& options);

  torch::Tensor forward(torch::Tensor x) override;  // [N, C_in, *S] -> [N, K, *S]
  std::vector<TapSpec> tap_specs() const override { return tap_specs_; }
  std::string name() const override { return options.registry_name(); }

  UXNetOptions options;

 private:
  // uxnet_3d
  std::vector<torch::nn::Sequential> downsample_layers_;  // the stem first
  std::vector<torch::nn::Sequential> stages_;
  std::vector<torch::nn::AnyModule> stage_norms_;  // norm0..norm3
  // The UNETR-style decoder.
  std::vector<torch::nn::AnyModule> encoders_;  // encoder1..encoder5
  std::vector<torch::nn::AnyModule> decoders_;  // decoder5..decoder2 (up blocks)
  torch::nn::AnyModule decoder1_, out_;
  std::vector<TapSpec> tap_specs_;
};
TORCH_MODULE(UXNet);

// The keys of ModelConfig::options that ux_net reads: depths, feat_size, hidden_size, kernel_size,
// layer_scale_init_value, norm, res_block.
std::vector<std::string> ux_net_option_keys();
// Typed options from a config; `registry_name` is config.name. A key of the wrong type is a
// medkd::Error naming it; value ranges are checked by the UXNet constructor.
UXNetOptions ux_net_options_from_config(const ModelConfig& config);

}  // namespace medkd::models
