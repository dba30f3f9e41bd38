#include "medkd/nn/unetr_blocks.h"

#include "medkd/core/error.h"

namespace medkd::nn {

MonaiConvImpl::MonaiConvImpl(int spatial_dims, int64_t in_channels, int64_t out_channels,
                             int64_t kernel_size, int64_t stride, bool bias, bool transposed) {
  MEDKD_CHECK(!transposed || kernel_size == stride,
              "transposed MONAI convolutions here have kernel = stride, got kernel ", kernel_size,
              " and stride ", stride);
  // MONAI's get_padding: (k - s + 1) / 2, rounded down; its get_output_padding is then 0 for the
  // transposed case (k = s).
  const int64_t padding = transposed ? 0 : (kernel_size - stride + 1) / 2;
  conv = register_module("conv",
                         Conv(ConvOptions(spatial_dims, in_channels, out_channels, {kernel_size})
                                  .stride({stride})
                                  .padding({padding})
                                  .bias(bias)
                                  .transposed(transposed)));
}

Norm make_monai_norm(NormKind kind, int64_t channels) {
  if (kind == NormKind::kBatch) return Norm(NormOptions(NormType::kBatch, channels));
  return Norm(NormOptions(NormType::kInstance, channels).affine(false));
}

UnetResBlockImpl::UnetResBlockImpl(int spatial_dims, int64_t in_channels, int64_t out_channels,
                                   NormKind norm, bool residual_)
    : residual(residual_) {
  conv1 = register_module("conv1",
                          MonaiConv(spatial_dims, in_channels, out_channels, 3, 1, false, false));
  conv2 = register_module("conv2",
                          MonaiConv(spatial_dims, out_channels, out_channels, 3, 1, false, false));
  norm1 = register_module("norm1", make_monai_norm(norm, out_channels));
  norm2 = register_module("norm2", make_monai_norm(norm, out_channels));
  // UnetResBlock projects the residual only when the channels change (all strides here are 1).
  if (residual && in_channels != out_channels) {
    conv3 = register_module("conv3",
                            MonaiConv(spatial_dims, in_channels, out_channels, 1, 1, false, false));
    norm3 = register_module("norm3", make_monai_norm(norm, out_channels));
  }
}

torch::Tensor UnetResBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = torch::leaky_relu(norm1->forward(conv1->forward(x)), 0.01);
  out = norm2->forward(conv2->forward(out));
  if (residual) out = out + (conv3 ? norm3->forward(conv3->forward(x)) : x);
  return torch::leaky_relu(out, 0.01);
}

UnetrBasicBlockImpl::UnetrBasicBlockImpl(int spatial_dims, int64_t in_channels,
                                         int64_t out_channels, NormKind norm, bool res_block) {
  layer = register_module("layer",
                          UnetResBlock(spatial_dims, in_channels, out_channels, norm, res_block));
}

UnetrPrUpBlockImpl::UnetrPrUpBlockImpl(int spatial_dims, int64_t in_channels, int64_t out_channels,
                                       int64_t num_layer, NormKind norm, bool conv_block,
                                       bool res_block) {
  const auto up = [&](int64_t in) {
    return MonaiConv(spatial_dims, in, out_channels, 2, 2, false, true);
  };
  transp_conv_init = register_module("transp_conv_init", up(in_channels));
  for (int64_t i = 0; i < num_layer; ++i) {
    if (conv_block) {
      torch::nn::Sequential block(up(out_channels), UnetResBlock(spatial_dims, out_channels,
                                                                 out_channels, norm, res_block));
      blocks->push_back(block);
      up_blocks_.push_back(block);
    } else {
      auto block = up(out_channels);
      blocks->push_back(block);
      plain_ups_.push_back(block);
    }
  }
  register_module("blocks", blocks);
}

torch::Tensor UnetrPrUpBlockImpl::forward(torch::Tensor x) {
  x = transp_conv_init->forward(x);
  for (auto& block : up_blocks_) x = block->forward(x);
  for (auto& block : plain_ups_) x = block->forward(x);  // only one of the two is non-empty
  return x;
}

UnetrUpBlockImpl::UnetrUpBlockImpl(int spatial_dims, int64_t in_channels, int64_t out_channels,
                                   NormKind norm, bool res_block) {
  transp_conv = register_module(
      "transp_conv", MonaiConv(spatial_dims, in_channels, out_channels, 2, 2, false, true));
  conv_block = register_module(
      "conv_block", UnetResBlock(spatial_dims, 2 * out_channels, out_channels, norm, res_block));
}

torch::Tensor UnetrUpBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& skip) {
  torch::Tensor up = transp_conv->forward(x);  // [N, out, *2S]
  return conv_block->forward(
      torch::cat({up, skip}, /*dim=*/1));  // [N, 2·out, *2S] -> [N, out, *2S]
}

UnetOutBlockImpl::UnetOutBlockImpl(int spatial_dims, int64_t in_channels, int64_t out_channels) {
  conv = register_module(
      "conv", MonaiConv(spatial_dims, in_channels, out_channels, 1, 1, /*bias=*/true, false));
}

MLPBlockImpl::MLPBlockImpl(int64_t hidden_size, int64_t mlp_dim) {
  linear1 = register_module("linear1", Linear(hidden_size, mlp_dim));
  linear2 = register_module("linear2", Linear(mlp_dim, hidden_size));
}

torch::Tensor MLPBlockImpl::forward(const torch::Tensor& x) {
  return linear2->forward(torch::gelu(linear1->forward(x)));
}

}  // namespace medkd::nn
