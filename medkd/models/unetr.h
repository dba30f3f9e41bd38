// UNETR (Hatamizadeh et al., "UNETR: Transformers for 3D Medical Image Segmentation", WACV 2022),
// for 2-D and 3-D input, as MONAI builds it (monai/networks/nets/unetr.py with its ViT,
// PatchEmbeddingBlock, TransformerBlock, SABlock, MLPBlock and the UNETR blocks of
// medkd/nn/unetr_blocks.h). Layer names are MONAI's attribute names, so that a MONAI state dict
// maps onto ours key for key.
//
// Encoder: the input is cut into 16^D patches, each projected to `hidden_size` (a linear layer on
// the flattened patch, "perceptron", or a strided convolution, "conv"), a learned position
// embedding is added, and `num_layers` pre-norm transformer blocks follow (multi-head
// self-attention, then a GELU MLP of width `mlp_dim`). Decoder: encoder1 (a residual conv block
// on the input itself) and three token grids, taken after transformer blocks k·L/4 + 1 (k = 1, 2,
// 3; 1-based) and up-projected by transposed convolutions to strides 8, 4 and 2 (encoder4, 3, 2),
// are the skips of a U-Net decoder that starts from the final, layer-normed token grid at stride
// 16. With MONAI's L = 12 these are its hidden_states_out[3], [6], [9], the outputs of blocks 4, 7
// and 10: the paper names z3, z6, z9, but MONAI's indices are what its trained weights expect.
//
// Taps (f = feature_size, stride relative to the input):
//   enc.0  encoder1 on the input               f        1
//   enc.1  encoder2 (block L/4 + 1, up ×8)     2f       2
//   enc.2  encoder3 (block L/2 + 1, up ×4)     4f       4
//   enc.3  encoder4 (block 3L/4 + 1, up ×2)    8f       8
//   enc.4  final token grid (= bottleneck)     hidden   16   (the patch size)
//   dec.0  decoder5                            8f       8
//   dec.1  decoder4                            4f       4
//   dec.2  decoder3                            2f       2
//   dec.3  decoder2 (= dec.last)               f        1
//   logits                                     K        1
//
// Not built, unlike MONAI 1.4 and 1.5: their TransformerBlock (since MONAI PR #7715) creates a
// cross-attention layer and its norm in every block even without cross-attention (MONAI issue
// #8845), 2,361,600 parameters per block at hidden_size 768 that never take part in the
// computation and would get no gradient. Counts here are those of MONAI ≤ 1.3 and of MONAI with
// that fix (PR #8848). Dropout is fixed at 0, MONAI's default.
//
// Input: [N, in_channels, *img_size] exactly (the position embedding has one entry per patch of
// img_size); img_size must be a multiple of 16 on every axis. Output: [N, num_classes, *img_size].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medkd/models/segmentation_model.h"
#include "medkd/nn/conv_blocks.h"
#include "medkd/nn/layers.h"
#include "medkd/nn/unetr_blocks.h"

namespace medkd::models {

// How UNETR's patch embedding projects a patch (MONAI's proj_type, formerly pos_embed): a linear
// layer on the flattened patch, ordered (patch voxels, channel) as MONAI's Rearrange does, or a
// convolution with kernel = stride = patch. Both have in_channels · 16^D · hidden + hidden
// parameters; their weights are laid out differently.
enum class PatchProjection { kPerceptron, kConv };

// {96}: the crop of the paper's BTCV experiments and of MONAI's examples.
std::vector<int64_t> default_unetr_img_size();

struct UNETROptions {
  UNETROptions(int spatial_dims, int64_t in_channels, int64_t num_classes)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_classes);
  // Input size, per axis in tensor order or one value for all; multiples of 16.
  TORCH_ARG(std::vector<int64_t>, img_size) = default_unetr_img_size();
  // Defaults: MONAI's UNETR and the paper (ViT-B/16: 768 wide, 12 layers, 12 heads, MLP 3072).
  TORCH_ARG(int64_t, feature_size) = 16;
  TORCH_ARG(int64_t, hidden_size) = 768;
  TORCH_ARG(int64_t, mlp_dim) = 3072;
  TORCH_ARG(int64_t, num_heads) = 12;
  TORCH_ARG(int64_t, num_layers) = 12;
  // The paper's linear projection of flattened patches; current MONAI defaults to "conv" (same
  // parameter count).
  TORCH_ARG(PatchProjection, pos_embed) = PatchProjection::kPerceptron;
  TORCH_ARG(nn::NormKind, norm) = nn::NormKind::kInstance;
  // UnetResBlock (true) or UnetBasicBlock (false) in every conv block.
  TORCH_ARG(bool, res_block) = true;
  // Whether encoder2..4 follow each extra up-projection with a conv block.
  TORCH_ARG(bool, conv_block) = true;
  TORCH_ARG(bool, qkv_bias) = false;
};

// MONAI's SABlock: multi-head self-attention over all tokens, qkv (one linear for the three,
// laid out (qkv, head, width) as MONAI's Rearrange reads it) and out_proj. [N, T, hidden]
class SelfAttentionBlockImpl : public torch::nn::Module {
 public:
  SelfAttentionBlockImpl(int64_t hidden_size, int64_t num_heads, bool qkv_bias);
  torch::Tensor forward(const torch::Tensor& x);

  nn::Linear qkv{nullptr}, out_proj{nullptr};
  int64_t num_heads;
};
TORCH_MODULE(SelfAttentionBlock);

// MONAI's TransformerBlock without cross-attention: x + attn(norm1(x)), then + mlp(norm2(x)).
class TransformerBlockImpl : public torch::nn::Module {
 public:
  TransformerBlockImpl(int64_t hidden_size, int64_t mlp_dim, int64_t num_heads, bool qkv_bias);
  torch::Tensor forward(torch::Tensor x);

  nn::MLPBlock mlp{nullptr};
  nn::Norm norm1{nullptr}, norm2{nullptr};
  SelfAttentionBlock attn{nullptr};
};
TORCH_MODULE(TransformerBlock);

class UNETRImpl : public SegmentationModelImpl {
 public:
  explicit UNETRImpl(const UNETROptions& options);

  torch::Tensor forward(torch::Tensor x) override;  // [N, C_in, *img_size] -> [N, K, *img_size]
  std::vector<TapSpec> tap_specs() const override { return tap_specs_; }
  std::string name() const override { return "unetr"; }

  // The transformer blocks (0-based) whose outputs feed encoder2, encoder3 and encoder4.
  const std::vector<int64_t>& skip_blocks() const { return skip_blocks_; }

  UNETROptions options;

 private:
  // [N, T, hidden] -> [N, hidden, *grid] (MONAI's proj_feat).
  torch::Tensor tokens_to_grid(const torch::Tensor& tokens) const;
  // [N, C, *img_size] -> [N, T, hidden], position embedding added.
  torch::Tensor embed_patches(const torch::Tensor& x);

  std::vector<int64_t> grid_;  // tokens per axis, img_size / 16
  std::vector<int64_t> skip_blocks_;
  torch::Tensor position_embeddings_;  // [1, T, hidden]
  nn::Conv patch_conv_{nullptr};
  nn::Linear patch_linear_{nullptr};
  std::vector<TransformerBlock> blocks_;
  nn::Norm vit_norm_{nullptr};
  nn::UnetrBasicBlock encoder1_{nullptr};
  nn::UnetrPrUpBlock encoder2_{nullptr}, encoder3_{nullptr}, encoder4_{nullptr};
  nn::UnetrUpBlock decoder5_{nullptr}, decoder4_{nullptr}, decoder3_{nullptr}, decoder2_{nullptr};
  nn::UnetOutBlock out_{nullptr};
  std::vector<TapSpec> tap_specs_;
};
TORCH_MODULE(UNETR);

// The keys of ModelConfig::options that unetr reads: img_size, feature_size, hidden_size,
// mlp_dim, num_heads, num_layers, pos_embed, norm, res_block, conv_block, qkv_bias.
std::vector<std::string> unetr_option_keys();
// Typed options from a config (`img_size` takes one integer or one per axis). A key of the wrong
// type or an unknown name is a medkd::Error naming it; ranges are checked by the constructor.
UNETROptions unetr_options_from_config(const ModelConfig& config);

}  // namespace medkd::models
