// Convolutional building blocks shared by the CNN models, for 2-D and 3-D alike.
//
// Layers are made by factories that take `spatial_dims` (2 or 3), so a network is written once
// and never as a 2-D/3-D pair (MONAI's `Conv[Conv.CONV, spatial_dims]`). Kernel sizes and strides
// are given per axis, in tensor order ([Y, X] or [Z, Y, X]), which is what anisotropic 3-D
// networks need (no pooling along a thick-slice z axis).
//
// ConvNormAct is nnU-Net's ConvDropoutNormReLU without dropout: conv -> norm -> nonlin, with the
// same attribute names (`conv`, `norm`, `nonlin`); StackedConvBlocks is nnU-Net's block of the
// same name (`convs`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medkd/nn/layers.h"

namespace medkd::nn {

enum class NormKind { kInstance, kBatch };
enum class ActivationKind { kLeakyRelu, kRelu };

// "instance" | "batch"; anything else is a medkd::Error listing the valid names.
NormKind parse_norm(const std::string& name);
// "leaky_relu" | "relu".
ActivationKind parse_activation(const std::string& name);
std::string to_string(NormKind kind);
std::string to_string(ActivationKind kind);

// Conv{2,3}d with "same" padding (kernel / 2 per axis; kernels must be odd).
torch::nn::AnyModule make_conv(int spatial_dims, int64_t in_channels, int64_t out_channels,
                               const std::vector<int64_t>& kernel_size,
                               const std::vector<int64_t>& stride, bool bias);
// ConvTranspose{2,3}d with kernel = stride, which exactly undoes a pooling by `stride`.
torch::nn::AnyModule make_transposed_conv(int spatial_dims, int64_t in_channels,
                                          int64_t out_channels, const std::vector<int64_t>& stride,
                                          bool bias);
// MaxPool{2,3}d with kernel = stride.
torch::nn::AnyModule make_max_pool(int spatial_dims, const std::vector<int64_t>& stride);
// InstanceNorm{2,3}d (affine, no running statistics, as nnU-Net) or BatchNorm{2,3}d.
torch::nn::AnyModule make_norm(NormKind kind, int spatial_dims, int64_t channels);
// LeakyReLU (slope 0.01, nnU-Net's default) or ReLU, both in place: they always follow a norm
// whose output nothing else holds.
torch::nn::AnyModule make_activation(ActivationKind kind);

struct ConvNormActOptions {
  ConvNormActOptions(int spatial_dims, int64_t in_channels, int64_t out_channels)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  // Per axis, or one value for all axes.
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(std::vector<int64_t>, stride) = {1};
  TORCH_ARG(NormKind, norm) = NormKind::kInstance;
  TORCH_ARG(ActivationKind, activation) = ActivationKind::kLeakyRelu;
  // nnU-Net keeps the bias even before a norm; we do too, so parameter counts match its models.
  TORCH_ARG(bool, bias) = true;
};

// conv -> norm -> nonlin. [N, in, *S] -> [N, out, *S / stride]
class ConvNormActImpl : public torch::nn::Module {
 public:
  explicit ConvNormActImpl(const ConvNormActOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  ConvNormActOptions options;

 private:
  torch::nn::AnyModule conv_, norm_, nonlin_;
};
TORCH_MODULE(ConvNormAct);

// `num_convs` ConvNormAct blocks; only the first changes channels and applies `stride`.
class StackedConvBlocksImpl : public torch::nn::Module {
 public:
  StackedConvBlocksImpl(int64_t num_convs, const ConvNormActOptions& first);
  torch::Tensor forward(const torch::Tensor& x) { return convs_->forward(x); }

 private:
  torch::nn::Sequential convs_;
};
TORCH_MODULE(StackedConvBlocks);

}  // namespace medkd::nn
