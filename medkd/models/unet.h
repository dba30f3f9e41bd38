// U-Net as nnU-Net builds it (PlainConvUNet; Isensee et al., Nature Methods 2021; Ronneberger et
// al., MICCAI 2015), for 2-D and 3-D input.
//
// Encoder: one stage per entry of `channels`, each `blocks_per_stage` × (conv 3 -> norm ->
// LeakyReLU); every stage after the first halves the resolution, by a strided first conv (default)
// or by max pooling. Decoder: per level, a transposed conv (kernel = stride) back to the skip's
// resolution and channels, concatenation with the skip, `blocks_per_stage` conv blocks. Head: a
// 1×1 conv to `num_classes` logits. With `deep_supervision`, every decoder stage but the finest
// also gets a 1×1 head (taps ds.1 … ds.K-1, ds.j at the resolution of enc.j).
//
// Layer names follow nnU-Net's attributes: encoder.stages.{s}.{0|1}.convs.{b}.{conv,norm,nonlin},
// decoder.transpconvs.{i}, decoder.stages.{i}.convs.{b}.…, decoder.seg_layers.{i}. Unlike
// nnU-Net, heads are created only where used: without deep supervision seg_layers holds just the
// final head (seg_layers.0); with it, seg_layers.{i} is the head of decoder stage i and the last
// one is the final head.
//
// Anisotropic 3-D data: `pool_z` gives the z stride of each downsampling step (in-plane strides
// are always 2), so thin-slice volumes are not pooled along z until the in-plane resolution has
// caught up (nnU-Net plans do the same with per-axis pool kernels).
//
// Input [N, in_channels, (Z,) Y, X] with every spatial size divisible by the total stride of its
// axis; output logits [N, num_classes, (Z,) Y, X].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medkd/models/segmentation_model.h"
#include "medkd/nn/conv_blocks.h"

namespace medkd::models {

enum class Downsampling { kStridedConv, kMaxPool };

// {32, 64, 128, 256, 320}. (A function, not a braced default: GCC 12 warns falsely about an
// initializer_list inlined into every UNetOptions constructor.)
std::vector<int64_t> default_unet_channels();

struct UNetOptions {
  UNetOptions(int spatial_dims, int64_t in_channels, int64_t num_classes)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_classes);
  // Feature channels per resolution level, finest first; its length is the number of levels.
  // nnU-Net's rule min(32·2^level, 320) for five levels.
  TORCH_ARG(std::vector<int64_t>, channels) = default_unet_channels();
  TORCH_ARG(int64_t, blocks_per_stage) = 2;
  TORCH_ARG(int64_t, kernel_size) = 3;
  TORCH_ARG(nn::NormKind, norm) = nn::NormKind::kInstance;
  TORCH_ARG(nn::ActivationKind, activation) = nn::ActivationKind::kLeakyRelu;
  TORCH_ARG(Downsampling, downsampling) = Downsampling::kStridedConv;
  TORCH_ARG(bool, deep_supervision) = false;
  // 3-D only: the z stride of each downsampling step (channels.size() - 1 entries, each 1 or 2);
  // empty means 2 everywhere.
  TORCH_ARG(std::vector<int64_t>, pool_z) = std::vector<int64_t>{};
};

class UNetImpl : public SegmentationModelImpl {
 public:
  explicit UNetImpl(const UNetOptions& options);

  torch::Tensor forward(torch::Tensor x) override;  // [N, C_in, *S] -> [N, K, *S]
  std::vector<TapSpec> tap_specs() const override { return tap_specs_; }
  std::string name() const override { return "unet"; }

  // Per-axis stride of resolution level `level` relative to the input (tensor order).
  const std::vector<int64_t>& level_stride(size_t level) const { return level_strides_.at(level); }

  UNetOptions options;

 private:
  std::vector<torch::nn::Sequential> encoder_stages_;  // finest first
  std::vector<torch::nn::AnyModule> transpconvs_;      // coarsest first
  std::vector<nn::StackedConvBlocks> decoder_stages_;  // coarsest first
  std::vector<torch::nn::AnyModule> seg_layers_;       // the final head last
  std::vector<std::vector<int64_t>> level_strides_;    // cumulative, per level
  std::vector<TapSpec> tap_specs_;
};
TORCH_MODULE(UNet);

// The keys of ModelConfig::options that unet reads: channels, blocks_per_stage, kernel_size, norm,
// activation, downsampling, deep_supervision, pool_z.
std::vector<std::string> unet_option_keys();
// Typed options from a config (`pool_z` accepts booleans, true = 2, or strides). A key of the
// wrong type is a medkd::Error naming it; value ranges are checked by the UNet constructor.
UNetOptions unet_options_from_config(const ModelConfig& config);

}  // namespace medkd::models
