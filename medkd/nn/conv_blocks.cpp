#include "medkd/nn/conv_blocks.h"

#include "medkd/core/error.h"

namespace medkd::nn {
namespace {

void check_spatial_dims(int spatial_dims) {
  MEDKD_CHECK(spatial_dims == 2 || spatial_dims == 3, "spatial_dims must be 2 or 3, got ",
              spatial_dims);
}

// Max pooling as a module, so that a Sequential can hold it.
class MaxPoolImpl : public torch::nn::Module {
 public:
  explicit MaxPoolImpl(std::vector<int64_t> stride) : stride_(std::move(stride)) {}
  torch::Tensor forward(const torch::Tensor& x) { return max_pool(x, stride_, stride_); }

 private:
  std::vector<int64_t> stride_;
};
TORCH_MODULE(MaxPool);

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

torch::nn::AnyModule make_conv(int spatial_dims, int64_t in_channels, int64_t out_channels,
                               const std::vector<int64_t>& kernel_size,
                               const std::vector<int64_t>& stride, bool bias) {
  MEDKD_CHECK(in_channels >= 1 && out_channels >= 1, "conv channels must be >= 1, got ",
              in_channels, " -> ", out_channels);
  const auto kernel = per_axis(kernel_size, spatial_dims, "kernel_size");
  for (int64_t k : kernel) MEDKD_CHECK(k % 2 == 1, "kernel_size must be odd, got ", k);
  std::vector<int64_t> padding;
  for (int64_t k : kernel) padding.push_back(k / 2);
  return torch::nn::AnyModule(Conv(ConvOptions(spatial_dims, in_channels, out_channels, kernel)
                                       .stride(per_axis(stride, spatial_dims, "stride"))
                                       .padding(padding)
                                       .bias(bias)));
}

torch::nn::AnyModule make_transposed_conv(int spatial_dims, int64_t in_channels,
                                          int64_t out_channels, const std::vector<int64_t>& stride,
                                          bool bias) {
  const auto strides = per_axis(stride, spatial_dims, "stride");
  return torch::nn::AnyModule(Conv(ConvOptions(spatial_dims, in_channels, out_channels, strides)
                                       .stride(strides)
                                       .bias(bias)
                                       .transposed(true)));
}

torch::nn::AnyModule make_max_pool(int spatial_dims, const std::vector<int64_t>& stride) {
  return torch::nn::AnyModule(MaxPool(per_axis(stride, spatial_dims, "stride")));
}

torch::nn::AnyModule make_norm(NormKind kind, int spatial_dims, int64_t channels) {
  check_spatial_dims(spatial_dims);
  return torch::nn::AnyModule(
      Norm(NormOptions(kind == NormKind::kBatch ? NormType::kBatch : NormType::kInstance, channels)));
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
