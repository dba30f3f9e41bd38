// The layers every network of the zoo is built from, for 2-D and 3-D alike, and that count their
// own cost.
//
// Each layer does what its LibTorch counterpart does (same parameter names, shapes and default
// initialisation, so checkpoints and parameter counts match PyTorch models), and one thing more:
// while a ComplexityCounter (nn/complexity.h) is active on the thread, it records its
// multiply-accumulates for the input it was given and returns a zero tensor of the right shape
// without computing anything. That is how `medkd models` reports the MACs of a 2×128³ Swin UNETR in
// seconds (the time of allocating its activations): the network's own forward() is the shape
// propagation.
//
// Models use these instead of torch::nn::Conv3d, torch::nn::Linear, torch::layer_norm,
// torch::matmul for attention, and so on. The counter also watches the ATen calls made during a
// count, so a heavy op that bypasses this file is an error rather than a silent undercount.
//
// Kernel sizes, strides, paddings and dilations are per axis in tensor order ([Y, X] or [Z, Y, X]);
// a single value is repeated over the axes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace medkd::nn {

// Checks that `spatial_dims` is 2 or 3 and `values` has one entry per axis (or a single entry,
// which is repeated), each >= 1; returns the per-axis values. `what` names the argument in the
// error.
std::vector<int64_t> per_axis(const std::vector<int64_t>& values, int spatial_dims,
                              const std::string& what);

struct ConvOptions {
  ConvOptions(int spatial_dims, int64_t in_channels, int64_t out_channels,
              std::vector<int64_t> kernel_size)
      : spatial_dims_(spatial_dims),
        in_channels_(in_channels),
        out_channels_(out_channels),
        kernel_size_(std::move(kernel_size)) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, kernel_size);
  TORCH_ARG(std::vector<int64_t>, stride) = {1};
  TORCH_ARG(std::vector<int64_t>, padding) = {0};
  TORCH_ARG(std::vector<int64_t>, dilation) = {1};
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(bool, bias) = true;
  // A transposed convolution (weight [in, out / groups, *kernel], as PyTorch stores it).
  TORCH_ARG(bool, transposed) = false;
  TORCH_ARG(std::vector<int64_t>, output_padding) = {0};
};

// Conv{2,3}d or ConvTranspose{2,3}d. Parameters `weight` and (with bias) `bias`.
class ConvImpl : public torch::nn::Module {
 public:
  explicit ConvImpl(const ConvOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  // PyTorch's default: weight Kaiming-uniform with a = √5, bias U(±1/√fan_in).
  void reset_parameters();
  // Output spatial sizes for input spatial sizes (tensor order).
  std::vector<int64_t> output_size(const std::vector<int64_t>& input_size) const;

  ConvOptions options;  // per-axis vectors already expanded
  torch::Tensor weight, bias;
};
TORCH_MODULE(Conv);

// y = x Wᵀ + b over the last axis. Parameters `weight` [out, in] and `bias` [out].
class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features, bool with_bias = true);
  torch::Tensor forward(const torch::Tensor& x);
  void reset_parameters();

  int64_t in_features, out_features;
  torch::Tensor weight, bias;
};
TORCH_MODULE(Linear);

enum class NormType {
  kInstance,       // per sample and channel over space; affine; no running statistics (nnU-Net)
  kBatch,          // running statistics (buffers running_mean, running_var, num_batches_tracked)
  kLayer,          // over the last axis (transformer tokens [..., C])
  kLayerChannels,  // over the channel axis of [N, C, *spatial] (ConvNeXt's channels_first)
  kGroup,          // GroupNorm with `groups` groups
};

struct NormOptions {
  NormOptions(NormType type, int64_t channels) : type_(type), channels_(channels) {}
  TORCH_ARG(NormType, type);
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, groups) = 1;   // kGroup
  TORCH_ARG(double, eps) = 1e-5;    // LayerNorm and the rest alike, PyTorch's defaults
  TORCH_ARG(double, momentum) = 0.1;  // kBatch
  TORCH_ARG(bool, affine) = true;     // parameters `weight` (ones) and `bias` (zeros)
};

class NormImpl : public torch::nn::Module {
 public:
  explicit NormImpl(const NormOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  NormOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(Norm);

// Pooling over the spatial axes of [N, C, *spatial] (2 or 3 of them).
torch::Tensor max_pool(const torch::Tensor& x, const std::vector<int64_t>& kernel,
                       const std::vector<int64_t>& stride, const std::vector<int64_t>& padding = {0});
torch::Tensor avg_pool(const torch::Tensor& x, const std::vector<int64_t>& kernel,
                       const std::vector<int64_t>& stride, const std::vector<int64_t>& padding = {0});

// softmax(scale · q kᵀ + bias) v for q [..., N, d], k [..., M, d], v [..., M, e]; `bias`
// (optional) broadcasts to [..., N, M] (relative position bias, attention masks). The two
// products are counted; the softmax is not. `owner` names the module in the per-layer report.
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        double scale, const torch::Tensor& bias = {},
                        const torch::nn::Module* owner = nullptr);

// A batched matrix product a b ([..., n, k] × [..., k, m]) that is counted, for the rare model
// that multiplies activations outside attention().
torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b,
                     const torch::nn::Module* owner = nullptr);

}  // namespace medkd::nn
