#include "medkd/nn/conv_blocks.h"

#include "medkd/core/error.h"

namespace medkd::nn {
namespace {

// The LibTorch layer types of one dimensionality; the factories below are written once over it.
template <size_t D>
struct Layers;
template <>
struct Layers<2> {
  using Conv = torch::nn::Conv2d;
  using ConvOptions = torch::nn::Conv2dOptions;
  using ConvTranspose = torch::nn::ConvTranspose2d;
  using ConvTransposeOptions = torch::nn::ConvTranspose2dOptions;
  using MaxPool = torch::nn::MaxPool2d;
  using MaxPoolOptions = torch::nn::MaxPool2dOptions;
  using InstanceNorm = torch::nn::InstanceNorm2d;
  using InstanceNormOptions = torch::nn::InstanceNorm2dOptions;
  using BatchNorm = torch::nn::BatchNorm2d;
  using BatchNormOptions = torch::nn::BatchNorm2dOptions;
};
template <>
struct Layers<3> {
  using Conv = torch::nn::Conv3d;
  using ConvOptions = torch::nn::Conv3dOptions;
  using ConvTranspose = torch::nn::ConvTranspose3d;
  using ConvTransposeOptions = torch::nn::ConvTranspose3dOptions;
  using MaxPool = torch::nn::MaxPool3d;
  using MaxPoolOptions = torch::nn::MaxPool3dOptions;
  using InstanceNorm = torch::nn::InstanceNorm3d;
  using InstanceNormOptions = torch::nn::InstanceNorm3dOptions;
  using BatchNorm = torch::nn::BatchNorm3d;
  using BatchNormOptions = torch::nn::BatchNorm3dOptions;
};

void check_spatial_dims(int spatial_dims) {
  MEDKD_CHECK(spatial_dims == 2 || spatial_dims == 3, "spatial_dims must be 2 or 3, got ",
              spatial_dims);
}

template <size_t D>
torch::nn::AnyModule conv(int64_t in, int64_t out, const std::vector<int64_t>& kernel,
                          const std::vector<int64_t>& stride, bool bias) {
  std::vector<int64_t> padding;
  for (int64_t k : kernel) padding.push_back(k / 2);
  using L = Layers<D>;
  return torch::nn::AnyModule(typename L::Conv(typename L::ConvOptions(in, out, kernel)
                                                   .stride(stride)
                                                   .padding(torch::ExpandingArray<D>(padding))
                                                   .bias(bias)));
}

template <size_t D>
torch::nn::AnyModule transposed_conv(int64_t in, int64_t out, const std::vector<int64_t>& stride,
                                     bool bias) {
  using L = Layers<D>;
  return torch::nn::AnyModule(typename L::ConvTranspose(
      typename L::ConvTransposeOptions(in, out, stride).stride(stride).bias(bias)));
}

template <size_t D>
torch::nn::AnyModule max_pool(const std::vector<int64_t>& stride) {
  using L = Layers<D>;
  return torch::nn::AnyModule(typename L::MaxPool(typename L::MaxPoolOptions(stride)));
}

template <size_t D>
torch::nn::AnyModule norm(NormKind kind, int64_t channels) {
  using L = Layers<D>;
  if (kind == NormKind::kBatch)
    return torch::nn::AnyModule(typename L::BatchNorm(typename L::BatchNormOptions(channels)));
  return torch::nn::AnyModule(typename L::InstanceNorm(
      typename L::InstanceNormOptions(channels).affine(true).track_running_stats(false)));
}

}  // namespace

NormKind parse_norm(const std::string& name) {
  if (name == "instance") return NormKind::kInstance;
  if (name == "batch") return NormKind::kBatch;
  throw Error(str("unknown norm '", name, "' (valid: instance, batch)"));
}

ActivationKind parse_activation(const std::string& name) {
  if (name == "leaky_relu") return ActivationKind::kLeakyRelu;
  if (name == "relu") return ActivationKind::kRelu;
  throw Error(str("unknown activation '", name, "' (valid: leaky_relu, relu)"));
}

std::string to_string(NormKind kind) { return kind == NormKind::kBatch ? "batch" : "instance"; }

std::string to_string(ActivationKind kind) {
  return kind == ActivationKind::kRelu ? "relu" : "leaky_relu";
}

std::vector<int64_t> per_axis(const std::vector<int64_t>& values, int spatial_dims,
                              const std::string& what) {
  check_spatial_dims(spatial_dims);
  MEDKD_CHECK(values.size() == 1 || values.size() == static_cast<size_t>(spatial_dims), what,
              " needs 1 or ", spatial_dims, " values, got ", values.size());
  for (int64_t v : values) MEDKD_CHECK(v >= 1, what, " must be >= 1, got ", v);
  return values.size() == 1 ? std::vector<int64_t>(spatial_dims, values[0]) : values;
}

torch::nn::AnyModule make_conv(int spatial_dims, int64_t in_channels, int64_t out_channels,
                               const std::vector<int64_t>& kernel_size,
                               const std::vector<int64_t>& stride, bool bias) {
  MEDKD_CHECK(in_channels >= 1 && out_channels >= 1, "conv channels must be >= 1, got ",
              in_channels, " -> ", out_channels);
  const auto kernel = per_axis(kernel_size, spatial_dims, "kernel_size");
  for (int64_t k : kernel) MEDKD_CHECK(k % 2 == 1, "kernel_size must be odd, got ", k);
  const auto strides = per_axis(stride, spatial_dims, "stride");
  return spatial_dims == 2 ? conv<2>(in_channels, out_channels, kernel, strides, bias)
                           : conv<3>(in_channels, out_channels, kernel, strides, bias);
}

torch::nn::AnyModule make_transposed_conv(int spatial_dims, int64_t in_channels,
                                          int64_t out_channels, const std::vector<int64_t>& stride,
                                          bool bias) {
  const auto strides = per_axis(stride, spatial_dims, "stride");
  return spatial_dims == 2 ? transposed_conv<2>(in_channels, out_channels, strides, bias)
                           : transposed_conv<3>(in_channels, out_channels, strides, bias);
}

torch::nn::AnyModule make_max_pool(int spatial_dims, const std::vector<int64_t>& stride) {
  const auto strides = per_axis(stride, spatial_dims, "stride");
  return spatial_dims == 2 ? max_pool<2>(strides) : max_pool<3>(strides);
}

torch::nn::AnyModule make_norm(NormKind kind, int spatial_dims, int64_t channels) {
  check_spatial_dims(spatial_dims);
  return spatial_dims == 2 ? norm<2>(kind, channels) : norm<3>(kind, channels);
}

torch::nn::AnyModule make_activation(ActivationKind kind) {
  if (kind == ActivationKind::kRelu)
    return torch::nn::AnyModule(torch::nn::ReLU(torch::nn::ReLUOptions().inplace(true)));
  return torch::nn::AnyModule(
      torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.01).inplace(true)));
}

ConvNormActImpl::ConvNormActImpl(const ConvNormActOptions& options_) : options(options_) {
  conv_ = make_conv(options.spatial_dims(), options.in_channels(), options.out_channels(),
                    options.kernel_size(), options.stride(), options.bias());
  norm_ = make_norm(options.norm(), options.spatial_dims(), options.out_channels());
  nonlin_ = make_activation(options.activation());
  register_module("conv", conv_.ptr());
  register_module("norm", norm_.ptr());
  register_module("nonlin", nonlin_.ptr());
}

torch::Tensor ConvNormActImpl::forward(const torch::Tensor& x) {
  return nonlin_.forward(norm_.forward(conv_.forward(x)));
}

StackedConvBlocksImpl::StackedConvBlocksImpl(int64_t num_convs, const ConvNormActOptions& first) {
  MEDKD_CHECK(num_convs >= 1, "number of convolutions per stage must be >= 1, got ", num_convs);
  convs_->push_back(ConvNormAct(first));
  auto rest = first;
  rest.in_channels(first.out_channels()).stride({1});
  for (int64_t i = 1; i < num_convs; ++i) convs_->push_back(ConvNormAct(rest));
  register_module("convs", convs_);
}

}  // namespace medkd::nn
