// Swin UNETR (Hatamizadeh et al., "Swin UNETR: Swin Transformers for Semantic Segmentation of Brain
// Tumors in MRI Images", BrainLes 2021), for 2-D and 3-D input, as MONAI builds it
// (monai/networks/nets/swin_unetr.py: SwinTransformer, BasicLayer, SwinTransformerBlock,
// WindowAttention, PatchMerging, compute_mask, window_partition/reverse, get_window_size) with the
// UNETR blocks of medkd/nn/unetr_blocks.h. Layer names are MONAI's attribute names, so that a MONAI
// state dict maps onto ours key for key (`swinViT.layers1.0.blocks.1.attn.qkv.weight`).
//
// Encoder: a Swin Transformer v1 (Liu et al., ICCV 2021): patch embedding (a 2^D convolution with
// stride 2, to f = feature_size channels), then four stages of `depths[i]` blocks at width f·2^i,
// each block window attention over 7^D windows with a learned relative position bias
// (alternate blocks shift the windows by 3 and mask attention across the wrap-around), followed
// by patch merging (2^D neighbours concatenated, layer-normed, projected to twice the width).
// Where a feature map is no larger than the window along an axis, the window shrinks to the map
// and that axis is not shifted (MONAI's get_window_size); maps that are not a multiple of the
// window are zero-padded after norm1 (padded tokens take part in attention, as in MONAI). The five
// outputs (embedding and four stages) are layer-normed over channels without parameters when
// `normalize` is set. Decoder: residual conv blocks on the input and on each output, and a U-Net
// decoder of transposed convolutions back to full resolution.
//
// Reproduced MONAI details that a state dict depends on: the relative position index is the
// persistent buffer `relative_position_index` of the 7^D window, and for a shrunk window of n
// tokens its top-left n×n block is used (as MONAI does); masked attention entries get -100;
// `downsample: merging` (MONAI's default, "the PatchMerging of v0.9.0") concatenates the 3-D
// neighbours in MONAI's order, which lists (0,1,0) and (0,0,1) twice and never (1,1,0) or (0,1,1);
// `mergingv2` takes all eight. Dropout and stochastic depth are 0 (MONAI's defaults).
//
// feature_size: MONAI requires a multiple of 12; only each stage width f·2^i being divisible by
// its head count is needed (f % 3 == 0 for the default heads 3, 6, 12, 24), and that is what we
// check, so that smaller students can be built.
//
// Taps (f = feature_size, stride relative to the input):
//   enc.0  encoder1 on the input                    f     1
//   enc.1  encoder2 on the patch embedding          f     2
//   enc.2  encoder3 on stage 1                      2f    4
//   enc.3  encoder4 on stage 2                      4f    8
//   enc.4  stage 3 output (the skip of decoder5)    8f    16
//   enc.5  encoder10 on stage 4 (= bottleneck)      16f   32
//   dec.0  decoder5 … dec.4 decoder1 (= dec.last)   8f, 4f, 2f, f, f at strides 16, 8, 4, 2, 1
//   logits                                          K     1
//
// Input [N, in_channels, *S] with every spatial size a multiple of 32; output [N, K, *S].
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "medkd/models/segmentation_model.h"
#include "medkd/nn/conv_blocks.h"
#include "medkd/nn/layers.h"
#include "medkd/nn/unetr_blocks.h"

namespace medkd::models {

// MONAI's `downsample`: "merging" (v0.9.0 order, the default) or "mergingv2".
enum class PatchMergingMode { kMerging, kMergingV2 };

// {2, 2, 2, 2} and {3, 6, 12, 24}, the paper's and MONAI's. (Functions, not braced defaults: GCC
// 12 warns falsely about an initializer_list inlined into every options constructor.)
std::vector<int64_t> default_swin_depths();
std::vector<int64_t> default_swin_num_heads();

struct SwinUNETROptions {
  SwinUNETROptions(int spatial_dims, int64_t in_channels, int64_t num_classes)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_classes);
  // 48: the paper's BraTS and BTCV models and MONAI's pretrained weights (MONAI's own default is
  // 24).
  TORCH_ARG(int64_t, feature_size) = 48;
  TORCH_ARG(std::vector<int64_t>, depths) = default_swin_depths();
  TORCH_ARG(std::vector<int64_t>, num_heads) = default_swin_num_heads();
  TORCH_ARG(nn::NormKind, norm) = nn::NormKind::kInstance;
  TORCH_ARG(bool, normalize) = true;
  TORCH_ARG(PatchMergingMode, downsample) = PatchMergingMode::kMerging;
  // The attention window edge, in tokens (the shift is half of it, rounded down). MONAI's SwinUNETR
  // fixes 7 (its SwinTransformer takes any); a window that divides the stage-1 map avoids padding:
  // a 32³ patch has a 16³ stage-1 map, which 7 pads to 21³ (2.3× the tokens) and 4 does not pad.
  // State dicts carry the window in their bias tables, so MONAI weights need 7.
  TORCH_ARG(int64_t, window_size) = 7;
  // The registry name that name() reports: presets such as swin_unetr_light build this class.
  TORCH_ARG(std::string, registry_name) = "swin_unetr";
};

// MONAI's get_window_size: per axis, the window and shift for a feature map of `sizes`; an axis
// no larger than the window gets a window of its size and no shift.
std::pair<std::vector<int64_t>, std::vector<int64_t>> swin_window_and_shift(
    const std::vector<int64_t>& sizes, const std::vector<int64_t>& window,
    const std::vector<int64_t>& shift);

// MONAI's compute_mask: for a padded map of `padded` sizes cut into windows of `window` after a
// cyclic shift by `shift`, the additive mask [windows, n, n]: 0 between tokens of the same region
// of the unshifted map, -100 between tokens that the shift brought together.
torch::Tensor swin_attention_mask(const std::vector<int64_t>& padded,
                                  const std::vector<int64_t>& window,
                                  const std::vector<int64_t>& shift,
                                  const torch::Device& device = torch::kCPU);

// Window multi-head self-attention with a relative position bias (MONAI's WindowAttention).
// [windows, n, C] (and a mask [mask windows, n, n]) -> [windows, n, C]
class WindowAttentionImpl : public torch::nn::Module {
 public:
  WindowAttentionImpl(int64_t dim, int64_t num_heads, std::vector<int64_t> window_size);
  torch::Tensor forward(const torch::Tensor& windows, const torch::Tensor& mask = {});

  int64_t num_heads;
  std::vector<int64_t> window_size;
  torch::Tensor relative_position_bias_table;  // [prod(2w - 1), heads]
  torch::Tensor relative_position_index;       // [prod(w), prod(w)], int64
  nn::Linear qkv{nullptr}, proj{nullptr};
};
TORCH_MODULE(WindowAttention);

// norm1 -> (shifted) window attention -> residual; norm2 -> MLP (4× wide) -> residual.
// [N, *S, C] -> [N, *S, C]; `mask` is the stage's mask, used only by shifted blocks.
class SwinTransformerBlockImpl : public torch::nn::Module {
 public:
  SwinTransformerBlockImpl(int64_t dim, int64_t num_heads, std::vector<int64_t> window_size,
                           std::vector<int64_t> shift_size);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);

  std::vector<int64_t> window_size, shift_size;
  nn::Norm norm1{nullptr}, norm2{nullptr};
  WindowAttention attn{nullptr};
  nn::MLPBlock mlp{nullptr};
};
TORCH_MODULE(SwinTransformerBlock);

// 2^D neighbours concatenated -> norm -> reduction (no bias). [N, *S, C] -> [N, *S/2, 2C]
class PatchMergingImpl : public torch::nn::Module {
 public:
  PatchMergingImpl(int64_t dim, int spatial_dims, PatchMergingMode mode);
  torch::Tensor forward(const torch::Tensor& x);

  nn::Linear reduction{nullptr};
  nn::Norm norm{nullptr};

 private:
  std::vector<std::vector<int64_t>> offsets_;  // per neighbour, per axis: 0 or 1
};
TORCH_MODULE(PatchMerging);

// One stage (MONAI's BasicLayer): `depth` blocks alternating plain and shifted windows, then
// patch merging. [N, C, *S] -> [N, 2C, *S/2]
class BasicLayerImpl : public torch::nn::Module {
 public:
  BasicLayerImpl(int64_t dim, int64_t depth, int64_t num_heads, int spatial_dims,
                 PatchMergingMode mode, int64_t window = 7);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::ModuleList blocks;
  PatchMerging downsample{nullptr};

 private:
  std::vector<SwinTransformerBlock> blocks_;
  std::vector<int64_t> window_size_, shift_size_;
};
TORCH_MODULE(BasicLayer);

class SwinUNETRImpl : public SegmentationModelImpl {
 public:
  explicit SwinUNETRImpl(const SwinUNETROptions& options);

  torch::Tensor forward(torch::Tensor x) override;  // [N, C_in, *S] -> [N, K, *S]
  std::vector<TapSpec> tap_specs() const override { return tap_specs_; }
  std::string name() const override { return options.registry_name(); }

  SwinUNETROptions options;

 private:
  // The Swin Transformer's five outputs: [N, f·2^i, *S / 2^(i+1)] for i = 0..4 (i = 0 being the
  // patch embedding), layer-normed over channels if options.normalize().
  std::vector<torch::Tensor> swin_features(const torch::Tensor& x);

  nn::Conv patch_embed_proj_{nullptr};
  std::vector<BasicLayer> layers_;
  std::vector<nn::Norm> proj_out_;  // parameter-free layer norms over channels
  nn::UnetrBasicBlock encoder1_{nullptr}, encoder2_{nullptr}, encoder3_{nullptr},
      encoder4_{nullptr}, encoder10_{nullptr};
  nn::UnetrUpBlock decoder5_{nullptr}, decoder4_{nullptr}, decoder3_{nullptr}, decoder2_{nullptr},
      decoder1_{nullptr};
  nn::UnetOutBlock out_{nullptr};
  std::vector<TapSpec> tap_specs_;
};
TORCH_MODULE(SwinUNETR);

// The keys of ModelConfig::options that swin_unetr reads: feature_size, depths, num_heads, norm,
// normalize, downsample, window_size.
std::vector<std::string> swin_unetr_option_keys();
// Typed options from a config; `registry_name` is config.name. A key of the wrong type or an
// unknown name is a medkd::Error naming it; ranges are checked by the constructor.
SwinUNETROptions swin_unetr_options_from_config(const ModelConfig& config);

}  // namespace medkd::models
