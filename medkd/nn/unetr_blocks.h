// The blocks that MONAI's UNETR and Swin UNETR share (monai/networks/blocks/unetr_block.py,
// dynunet_block.py and mlp.py), for 2-D and 3-D alike, with MONAI's attribute names so that a
// MONAI state dict maps onto ours key for key.
//
// What MONAI's get_conv_layer() builds matters for parameter counts: every convolution of these
// blocks has no bias (its default bias=False) except the 1×1 output head, and `norm: instance`
// is InstanceNorm without affine parameters (MONAI's Norm factory default), while `norm: batch`
// is BatchNorm with affine parameters and running statistics. Each convolution is wrapped in
// MONAI's `Convolution` (an nn.Sequential whose only child is `conv`), hence keys such as
// `encoder1.layer.conv1.conv.weight`.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "medkd/nn/conv_blocks.h"
#include "medkd/nn/layers.h"

namespace medkd::nn {

// MONAI's `Convolution` with conv_only (or without act, norm and dropout): one `conv` child.
// Plain: kernel k, stride s, padding (k - s + 1) / 2 (MONAI's get_padding). Transposed: kernel =
// stride, no padding, which exactly multiplies the size by the stride.
class MonaiConvImpl : public torch::nn::Module {
 public:
  MonaiConvImpl(int spatial_dims, int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                int64_t stride, bool bias, bool transposed);
  torch::Tensor forward(const torch::Tensor& x) { return conv->forward(x); }

  Conv conv{nullptr};
};
TORCH_MODULE(MonaiConv);

// InstanceNorm without affine parameters, or BatchNorm, as MONAI's get_norm_layer() builds them.
Norm make_monai_norm(NormKind kind, int64_t channels);

// MONAI's UnetResBlock (`residual` true) or UnetBasicBlock (false), stride 1, kernel 3:
//   conv1 -> norm1 -> lrelu -> conv2 -> norm2 [+ residual] -> lrelu
// The residual path is conv3 (1×1) -> norm3 when the channel count changes, the identity
// otherwise. LeakyReLU slope 0.01. [N, in, *S] -> [N, out, *S]
class UnetResBlockImpl : public torch::nn::Module {
 public:
  UnetResBlockImpl(int spatial_dims, int64_t in_channels, int64_t out_channels, NormKind norm,
                   bool residual);
  torch::Tensor forward(const torch::Tensor& x);

  MonaiConv conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  Norm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  bool residual;
};
TORCH_MODULE(UnetResBlock);

// MONAI's UnetrBasicBlock: a UnetResBlock (or UnetBasicBlock) under the name `layer`.
class UnetrBasicBlockImpl : public torch::nn::Module {
 public:
  UnetrBasicBlockImpl(int spatial_dims, int64_t in_channels, int64_t out_channels, NormKind norm,
                      bool res_block);
  torch::Tensor forward(const torch::Tensor& x) { return layer->forward(x); }

  UnetResBlock layer{nullptr};
};
TORCH_MODULE(UnetrBasicBlock);

// MONAI's UnetrPrUpBlock, UNETR's projection of a token grid up to a finer resolution:
// transp_conv_init (×2), then `num_layer` blocks, each a ×2 transposed conv followed (with
// conv_block) by a UnetResBlock/UnetBasicBlock, held as blocks.{i}.0 and blocks.{i}.1.
// [N, in, *S] -> [N, out, *S · 2^(num_layer + 1)]
class UnetrPrUpBlockImpl : public torch::nn::Module {
 public:
  UnetrPrUpBlockImpl(int spatial_dims, int64_t in_channels, int64_t out_channels, int64_t num_layer,
                     NormKind norm, bool conv_block, bool res_block);
  torch::Tensor forward(torch::Tensor x);

  MonaiConv transp_conv_init{nullptr};
  torch::nn::ModuleList blocks;

 private:
  // The entries of `blocks`, typed: with conv_block (up-conv, conv block) pairs, else up-convs.
  std::vector<torch::nn::Sequential> up_blocks_;
  std::vector<MonaiConv> plain_ups_;
};
TORCH_MODULE(UnetrPrUpBlock);

// MONAI's UnetrUpBlock: transp_conv (×2, in -> out), concatenation with the skip (out channels),
// conv_block (2·out -> out). [N, in, *S], skip [N, out, *2S] -> [N, out, *2S]
class UnetrUpBlockImpl : public torch::nn::Module {
 public:
  UnetrUpBlockImpl(int spatial_dims, int64_t in_channels, int64_t out_channels, NormKind norm,
                   bool res_block);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& skip);

  MonaiConv transp_conv{nullptr};
  UnetResBlock conv_block{nullptr};
};
TORCH_MODULE(UnetrUpBlock);

// MONAI's MLPBlock (the transformer MLP of ViT and Swin): linear1 -> GELU (exact, nn.GELU()) ->
// linear2. [..., hidden] -> [..., hidden]
class MLPBlockImpl : public torch::nn::Module {
 public:
  MLPBlockImpl(int64_t hidden_size, int64_t mlp_dim);
  torch::Tensor forward(const torch::Tensor& x);

  Linear linear1{nullptr}, linear2{nullptr};
};
TORCH_MODULE(MLPBlock);

// MONAI's UnetOutBlock: a 1×1 convolution with bias to the logits (`conv.conv`).
class UnetOutBlockImpl : public torch::nn::Module {
 public:
  UnetOutBlockImpl(int spatial_dims, int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x) { return conv->forward(x); }

  MonaiConv conv{nullptr};
};
TORCH_MODULE(UnetOutBlock);

}  // namespace medkd::nn
